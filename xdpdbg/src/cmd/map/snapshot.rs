//! `xdpdbg map snapshot` and `xdpdbg map diff`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use bpf_maps::diff::Diff;
use bpf_maps::snapshot::{Format, Snapshot};
use bpf_maps::{consistent, diff};
use serde_json::json;
use xdpdbg::output;

use super::compact;

/// Options of `xdpdbg map snapshot`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  xdpdbg map snapshot fdb -o fdb.json\n  \
xdpdbg map snapshot fdb -o fdb.snap --format binary\n  \
xdpdbg map snapshot stats --consistent -o stats.json   # outer map of bpf_maps/snapshot.h\n\n\
What a snapshot guarantees depends on how it could be read, and is written into it:\n\
  batch-per-bucket   hash maps: each bucket copied atomically under its lock\n\
  batch-per-element  arrays: element by element, no lock\n\
  per-element        other maps: key by key, no lock\n\
  consistent         --consistent: the whole map at one instant (programs using bpf_maps/snapshot.h)")]
pub struct Args {
    /// The map: id, pinned path or unique name
    map: String,
    /// Where to write it (default: JSON on standard output)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// File format
    #[arg(long, value_enum, default_value = "json")]
    format: FormatArg,
    /// Whole-map consistent snapshot through an outer map of bpf_maps/snapshot.h (swap and read)
    #[arg(long)]
    consistent: bool,
}

/// Options of `xdpdbg map diff`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  xdpdbg map diff before.json after.json\n  \
xdpdbg map diff before.snap fdb          # against the live map\n\n\
Exit status: 0 no difference, 1 differences (like diff(1)), 2 usage error or failure.")]
pub struct DiffArgs {
    /// The older reading: a snapshot file or a live map
    old: String,
    /// The newer reading: a snapshot file or a live map
    new: String,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Json,
    Binary,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Binary => Format::Binary,
    };
    let (map, schema) = super::open(&args.map)?;
    let (snapshot, schema) = if args.consistent {
        let taken_at = std::time::SystemTime::now();
        let c = consistent::take(&map)?;
        let snapshot = Snapshot::from_entries(&c.map.info, &c.schema, c.entries, taken_at);
        (snapshot, c.schema)
    } else {
        (Snapshot::take(&map, &schema)?, schema)
    };
    match &args.output {
        Some(path) => {
            snapshot.write(path, format, &schema)?;
            eprintln!(
                "{} entries of map {} ({}) written to {} ({})",
                snapshot.header.entries,
                snapshot.header.map_id,
                snapshot.header.map_name,
                path.display(),
                snapshot.header.method
            );
        }
        None => {
            if matches!(format, Format::Binary) {
                anyhow::bail!("the binary format needs a file: add -o FILE");
            }
            let tmp = tempfile::NamedTempFile::new()?;
            snapshot.write(tmp.path(), format, &schema)?;
            print!("{}", std::fs::read_to_string(tmp.path())?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A snapshot file, or a live map read now.
fn reading(spec: &str) -> anyhow::Result<Snapshot> {
    let path = Path::new(spec);
    if path.is_file() && !spec.starts_with("/sys/fs/bpf") {
        return Snapshot::load(path).with_context(|| format!("loading {spec}"));
    }
    let (map, schema) = super::open(spec)?;
    Ok(Snapshot::take(&map, &schema)?)
}

pub fn diff(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let result = (|| -> anyhow::Result<Diff> {
        let old = reading(&args.old)?;
        let new = reading(&args.new)?;
        let (o, n) = (&old.header, &new.header);
        if (o.key_size, o.value_size, o.value_len) != (n.key_size, n.value_size, n.value_len) {
            anyhow::bail!(
                "the readings have different shapes ({}B keys, {}B values vs {}B keys, {}B \
                 values): they are not of the same map",
                o.key_size,
                o.value_size,
                n.key_size,
                n.value_size
            );
        }
        let schema = new.schema()?;
        Ok(diff::diff(&old.entries, &new.entries, &schema))
    })();
    let d = match result {
        Ok(d) => d,
        Err(e) => {
            anstream::eprintln!("{}: {e:#}", output::styled(output::FAIL, "error"));
            return Ok(ExitCode::from(2));
        }
    };
    if args.json {
        output::json(&d)?;
    } else {
        for e in &d.added {
            anstream::println!(
                "{} {} => {}",
                output::styled(output::OK, "+"),
                compact(&e["key"]),
                compact(&e["value"])
            );
        }
        for e in &d.removed {
            anstream::println!(
                "{} {} => {}",
                output::styled(output::FAIL, "-"),
                compact(&e["key"]),
                compact(&e["value"])
            );
        }
        for c in &d.changed {
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| {
                    let name = if f.path.is_empty() { "value" } else { &f.path };
                    format!("{name}: {} -> {}", compact(&f.old), compact(&f.new))
                })
                .collect();
            anstream::println!(
                "{} {} {}",
                output::styled(output::WARN, "~"),
                compact(&c.key),
                fields.join(", ")
            );
        }
        if d.is_empty() {
            println!("no differences");
        } else {
            println!(
                "{}",
                json!({"added": d.added.len(), "removed": d.removed.len(), "changed": d.changed.len()})
            );
        }
    }
    Ok(if d.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
