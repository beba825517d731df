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
    /// The interactive browser (what `xdpdbg map` alone opens), with a headless mode
    Tui(TuiArgs),
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
        MapCommand::Tui(a) => tui(&a),
    }
}

/// `xdpdbg map` alone: the interactive browser.
pub fn browse() -> anyhow::Result<ExitCode> {
    xdpdbg::tui::run(xdpdbg::tui::TuiOptions::default())?;
    Ok(ExitCode::SUCCESS)
}

/// Options of `xdpdbg map tui`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  xdpdbg map tui --refresh 500\n  \
xdpdbg map tui --headless-keys '/ text:counts enter' --size 100x30\n\n\
Keys: arrows/j/k move, Enter opens, / search, f filter, e edit, d delete (asks y/n), r refresh,\n\
p pause, ? help, Esc back, q quit. Headless mode plays key names and prints the final screen.")]
pub struct TuiArgs {
    /// Refresh period in milliseconds
    #[arg(long, default_value_t = xdpdbg::tui::DEFAULT_REFRESH_MS)]
    refresh: u64,
    /// Play these keys without a terminal and print the final screen (for tests and demos)
    #[arg(long, value_name = "KEYS")]
    headless_keys: Option<String>,
    /// Screen size in headless mode, WIDTHxHEIGHT
    #[arg(long, default_value = "120x40", requires = "headless_keys")]
    size: String,
    /// In headless mode, write every screen to this file instead
    #[arg(long, requires = "headless_keys")]
    frames_out: Option<std::path::PathBuf>,
}

fn tui(args: &TuiArgs) -> anyhow::Result<ExitCode> {
    let headless = match &args.headless_keys {
        Some(keys) => {
            let (width, height) = xdpdbg::tui::parse_size(&args.size)?;
            Some(xdpdbg::tui::Headless {
                keys: xdpdbg::tui::parse_keys(keys)?,
                width,
                height,
                frames_out: args.frames_out.clone(),
            })
        }
        None => None,
    };
    xdpdbg::tui::run(xdpdbg::tui::TuiOptions {
        refresh_ms: args.refresh,
        headless,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Opens MAP with its schema, with the map named in any error.
fn open(spec: &str) -> anyhow::Result<(bpf_maps::OpenMap, bpf_maps::Schema)> {
    use anyhow::Context as _;
    let map = bpf_maps::open(spec).with_context(|| format!("opening map `{spec}`"))?;
    let schema = bpf_maps::Schema::of(&map)
        .with_context(|| format!("reading the BTF of map {}", map.info.id))?;
    Ok((map, schema))
}

/// Compact one-line JSON for human output.
fn compact(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
