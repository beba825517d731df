//! `xdpdbg map dump`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use bpf_maps::typed::Filter;
use bpf_maps::{kind, read};
use serde_json::json;

/// Options of `xdpdbg map dump`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  xdpdbg map dump 42\n  xdpdbg map dump counts --per-cpu\n  \
xdpdbg map dump fdb --where 'value.ifindex=7' --json\n\n\
Filters: FIELD=V, FIELD!=V, FIELD>V, FIELD<V, FIELD>=V, FIELD<=V; prefix key. or value.\n\
Per-CPU values are shown summed over CPUs; --per-cpu adds every CPU's copy."
)]
pub struct Args {
    /// The map: id, pinned path or unique name
    map: String,
    /// Only entries matching this filter (repeatable: all must match)
    #[arg(long = "where", value_name = "FILTER")]
    filters: Vec<String>,
    /// Show each CPU's copy of per-CPU values too
    #[arg(long)]
    per_cpu: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let filters = args
        .filters
        .iter()
        .map(|f| Filter::parse(f).with_context(|| format!("in filter `{f}`")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (map, schema) = super::open(&args.map)?;
    for (f, text) in filters.iter().zip(&args.filters) {
        f.check(schema.key.as_ref(), schema.value.as_ref())
            .with_context(|| format!("in filter `{text}`"))?;
    }
    let entries = read::read_all(&map)?;
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, stdout);
    let matching = entries
        .iter()
        .map(|(k, v)| schema.entry_json(k, v, args.per_cpu))
        .filter(|e| filters.iter().all(|f| f.matches(&e["key"], &e["value"])));
    let (key_type, value_type) = schema.type_names();
    if args.json {
        let head = json!({
            "id": map.info.id,
            "name": map.info.name,
            "type": kind::type_name(map.info.map_type),
            "key_type": key_type,
            "value_type": value_type,
            "per_cpu": schema.per_cpu(),
        });
        write!(
            out,
            "{{\"map\":{head},\"method\":\"{}\",\"guarantee\":{},\"entries\":[",
            entries.method.name(),
            serde_json::to_string(entries.method.guarantee())?
        )?;
        if filters.is_empty() && !args.per_cpu {
            // The fast path: each entry written straight from its bytes.
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                schema.write_entry_json(&mut out, k, v)?;
            }
        } else {
            for (i, e) in matching.enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut out, &e)?;
            }
        }
        out.write_all(b"]}\n")?;
    } else {
        let mut n = 0usize;
        for e in matching {
            writeln!(
                out,
                "{} => {}",
                super::compact(&e["key"]),
                super::compact(&e["value"])
            )?;
            if let Some(cpus) = e.get("per_cpu").and_then(|c| c.as_array()) {
                for (cpu, v) in cpus.iter().enumerate() {
                    writeln!(out, "    cpu{cpu}: {}", super::compact(v))?;
                }
            }
            n += 1;
        }
        writeln!(
            out,
            "# {n} of {} entries of map {} ({}: {} => {}), read {}",
            entries.len(),
            map.info.id,
            map.info.name,
            key_type,
            value_type,
            entries.method.name()
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
