//! `xdpdbg map get|set|delete`.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use bpf_maps::read;
use serde_json::json;
use xdpdbg::output;

use super::cas::{Target, prepare, report};
use super::{EXIT_ABSENT, compact};

/// Options of `xdpdbg map get`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  xdpdbg map get counts 0 --per-cpu\n  \
xdpdbg map get fdb '{\"bridge\":1,\"mac\":\"02:1a:b0:00:00:01\"}' --json\n\n\
Exit status: 0 found, 4 no such key, 1 error.")]
pub struct GetArgs {
    /// The map: id, pinned path or unique name
    map: String,
    /// The key
    key: String,
    /// Show each CPU's copy of a per-CPU value too
    #[arg(long)]
    per_cpu: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// Options of `xdpdbg map set`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  xdpdbg map set fdb 'bridge=1,mac=02:1a:b0:00:00:01' 'ifindex=7,flags=1'\n  \
xdpdbg map set counts 0 '{\"packets\":0,\"bytes\":0}'\n  \
xdpdbg map set sessions 5 state=2 --if state=1     # values with a bpf_spin_lock only\n\n\
VALUE replaces the fields it names; on an existing entry the others keep their values, on a new\n\
entry they are zero. Per-CPU maps get the value on every CPU. Everything is checked against the\n\
map's BTF before anything is written.\n\n\
Exit status: 0 written, 3 (--if) the field held another value, 4 (--replace) no such key, 1 error."
)]
pub struct SetArgs {
    /// The map: id, pinned path or unique name
    map: String,
    /// The key
    key: String,
    /// The value, or field=value edits
    value: String,
    /// Fail if the key exists
    #[arg(long, conflicts_with = "replace")]
    create: bool,
    /// Fail if the key does not exist
    #[arg(long)]
    replace: bool,
    /// Write only if FIELD still holds VALUE, atomically (values holding a bpf_spin_lock)
    #[arg(long = "if", value_name = "FIELD=VALUE")]
    condition: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// Options of `xdpdbg map delete`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  xdpdbg map delete fdb 'bridge=1,mac=02:1a:b0:00:00:01'\n  \
xdpdbg map delete entries 3 --if last_seen=1200\n\n\
With --if, the field is swapped to a tombstone (all ones unless --tombstone) and the entry deleted\n\
in one kernel call: atomic against writers that update the field with compare-and-swap and treat\n\
the tombstone as absent (include/bpf_maps/ageing.h). Writers that overwrite the value blindly can\n\
still lose a write made in the few instructions between the swap and the delete.\n\n\
Exit status: 0 deleted, 3 (--if) the field held another value, 4 no such key, 1 error."
)]
pub struct DeleteArgs {
    /// The map: id, pinned path or unique name
    map: String,
    /// The key
    key: String,
    /// Delete only if FIELD still holds VALUE
    #[arg(long = "if", value_name = "FIELD=VALUE")]
    condition: Option<String>,
    /// The marker written into FIELD before the delete (default: all ones)
    #[arg(long, requires = "condition")]
    tombstone: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

fn split_condition(c: &str) -> anyhow::Result<(&str, &str)> {
    c.split_once('=')
        .context("--if takes FIELD=VALUE, for example --if last_seen=1200")
}

pub fn get(args: &GetArgs) -> anyhow::Result<ExitCode> {
    let (map, schema) = super::open(&args.map)?;
    let key = schema.encode_key(&args.key).context("in KEY")?;
    let mut value = vec![0u8; read::value_len(&map)?];
    if !map.fd.lookup(&key, &mut value, 0)? {
        if args.json {
            output::json(&json!({ "key": schema.decode_key(&key), "found": false }))?;
        } else {
            eprintln!("no such key in map {} ({})", map.info.id, map.info.name);
        }
        return Ok(ExitCode::from(EXIT_ABSENT));
    }
    let e = schema.entry_json(&key, &value, args.per_cpu);
    if args.json {
        output::json(&e)?;
    } else {
        println!("{} => {}", compact(&e["key"]), compact(&e["value"]));
        if let Some(cpus) = e.get("per_cpu").and_then(|c| c.as_array()) {
            for (cpu, v) in cpus.iter().enumerate() {
                println!("    cpu{cpu}: {}", compact(v));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn set(args: &SetArgs) -> anyhow::Result<ExitCode> {
    let (map, schema) = super::open(&args.map)?;
    let key = schema.encode_key(&args.key).context("in KEY")?;
    let mut current = vec![0u8; read::value_len(&map)?];
    let exists = map.fd.lookup(&key, &mut current, 0)?;
    if args.replace && !exists {
        eprintln!(
            "no such key in map {} ({}); nothing written",
            map.info.id, map.info.name
        );
        return Ok(ExitCode::from(EXIT_ABSENT));
    }
    if args.create && exists {
        bail!(
            "the key is already in map {}; nothing written (drop --create to change it)",
            map.info.id
        );
    }
    let one_cpu = &current[..schema.value_size()];
    let new_one = if exists {
        schema.edit_value(&args.value, one_cpu)
    } else {
        schema.encode_value(&args.value)
    }
    .context("in VALUE")?;
    if let Some(cond) = &args.condition {
        let (field, expected) = split_condition(cond)?;
        let target = Target::resolve(&schema, field)?;
        let expected = target.parse(expected)?;
        let cas = prepare(&map, &schema)?;
        let outcome = cas.compare_and_replace(&key, target.at, expected, &new_one)?;
        return report(outcome, &target, expected, "written", &cas, args.json);
    }
    let flags = if args.create {
        bpf_sys::NOEXIST
    } else if args.replace {
        bpf_sys::EXIST
    } else {
        bpf_sys::ANY
    };
    map.fd.update(&key, &schema.replicate(&new_one), flags)?;
    let mut written = vec![0u8; current.len()];
    map.fd.lookup(&key, &mut written, 0)?;
    let e = schema.entry_json(&key, &written, false);
    if args.json {
        output::json(&e)?;
    } else {
        println!("{} => {}", compact(&e["key"]), compact(&e["value"]));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn delete(args: &DeleteArgs) -> anyhow::Result<ExitCode> {
    let (map, schema) = super::open(&args.map)?;
    let key = schema.encode_key(&args.key).context("in KEY")?;
    if let Some(cond) = &args.condition {
        let (field, expected) = split_condition(cond)?;
        let target = Target::resolve(&schema, field)?;
        let expected = target.parse(expected)?;
        let tombstone = match &args.tombstone {
            Some(t) => target.parse(t)?,
            None if target.at.width >= 8 => u64::MAX,
            None => (1u64 << (8 * target.at.width)) - 1,
        };
        let cas = prepare(&map, &schema)?;
        let outcome = cas.compare_and_delete(&key, target.at, expected, tombstone)?;
        return report(outcome, &target, expected, "deleted", &cas, args.json);
    }
    if bpf_maps::kind::is_array(map.info.map_type) {
        bail!(
            "map {} ({}) is an array: its entries always exist and cannot be deleted; \
             set the value to zero instead",
            map.info.id,
            map.info.name
        );
    }
    let deleted = map.fd.delete(&key)?;
    if args.json {
        output::json(&json!({ "key": schema.decode_key(&key), "deleted": deleted }))?;
    } else if deleted {
        println!("deleted");
    } else {
        eprintln!("no such key in map {} ({})", map.info.id, map.info.name);
    }
    Ok(if deleted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ABSENT)
    })
}
