//! `xdpdbg map`: list, dump, edit, compare-and-swap, snapshot, diff and watch maps.

mod cas;
mod dump;
mod edit;
mod list;
mod snapshot;
mod watch;

use std::process::ExitCode;

use clap::Subcommand;

/// Exit status when a compare found another value (`cas`, conditional `set`/`delete`).
pub const EXIT_MISMATCH: u8 = 3;
/// Exit status when the key is not in the map.
pub const EXIT_ABSENT: u8 = 4;

const AFTER_HELP: &str = "\
MAP is a map id (42 or id:42), a pinned path (/sys/fs/bpf/...) or a unique map name.
KEY and VALUE use the notation `map dump` prints: JSON ('{\"bridge\":1,\"mac\":\"02:1a:b0:00:00:01\"}'),
field=value pairs (bridge=1,mac=02:1a:b0:00:00:01), a bare number, or hex bytes for maps without BTF.

Examples:
  xdpdbg map                      # the interactive browser
  xdpdbg map list
  xdpdbg map dump counts --where packets>100
  xdpdbg map get fdb 'bridge=1,mac=02:1a:b0:00:00:01'
  xdpdbg map set fdb 'bridge=1,mac=02:1a:b0:00:00:01' ifindex=7
  xdpdbg map cas entries 3 last_seen 1200 1500
  xdpdbg map delete entries 3 --if last_seen=1200
  xdpdbg map snapshot counts -o before.snap --format binary
  xdpdbg map diff before.snap counts
  xdpdbg map watch counts --interval 500ms

Exit status: 0 success, 1 error, 2 usage error, 3 a compare found another value,
4 the key is not in the map.";

/// Subcommands of `xdpdbg map`.
#[derive(Subcommand)]
#[command(after_help = AFTER_HELP)]
pub enum MapCommand {
    /// Every map on the system: type, sizes, entries, memory, holders, pins
    List(list::Args),
    /// Every entry, decoded with the map's BTF
    Dump(dump::Args),
    /// One entry
    Get(edit::GetArgs),
    /// Create or change one entry (checked against the BTF before writing)
    Set(edit::SetArgs),
    /// Delete one entry, optionally only if a field still holds a value
    Delete(edit::DeleteArgs),
    /// Compare-and-swap one field, atomically against eBPF writers
    Cas(cas::Args),
    /// Save the map to a file (JSON or compact binary) for `map diff`
    Snapshot(snapshot::Args),
    /// Compare two snapshots, or a snapshot with the live map
    Diff(snapshot::DiffArgs),
    /// Live view of entries added, removed and changed, with rates
    Watch(watch::Args),
}

/// Runs one `xdpdbg map` subcommand.
pub fn run(command: MapCommand) -> anyhow::Result<ExitCode> {
    match command {
        MapCommand::List(a) => list::run(&a),
        MapCommand::Dump(a) => dump::run(&a),
        MapCommand::Get(a) => edit::get(&a),
        MapCommand::Set(a) => edit::set(&a),
        MapCommand::Delete(a) => edit::delete(&a),
        MapCommand::Cas(a) => cas::run(&a),
        MapCommand::Snapshot(a) => snapshot::run(&a),
        MapCommand::Diff(a) => snapshot::diff(&a),
        MapCommand::Watch(a) => watch::run(&a),
    }
}

/// `xdpdbg map` alone: the interactive browser.
pub fn browse() -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "the interactive map browser is not built yet; use `xdpdbg map list` and `xdpdbg map dump`"
    )
}

/// Opens MAP with its schema, with the map named in any error.
fn open(spec: &str) -> anyhow::Result<(xdpdbg::maps::OpenMap, xdpdbg::maps::Schema)> {
    use anyhow::Context as _;
    let map = xdpdbg::maps::open(spec).with_context(|| format!("opening map `{spec}`"))?;
    let schema = xdpdbg::maps::Schema::of(&map)
        .with_context(|| format!("reading the BTF of map {}", map.info.id))?;
    Ok((map, schema))
}

/// Compact one-line JSON for human output.
fn compact(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
