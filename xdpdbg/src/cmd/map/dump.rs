//! `xdpdbg map dump`.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::process::ExitCode;

use anyhow::Context as _;
use bpf_maps::read::{self, Batch, ReadMethod};
use bpf_maps::typed::Filter;
use bpf_maps::{EntryWriter, OpenMap, Schema, kind};
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
    let (key_type, value_type) = schema.type_names();
    let mut dump = Dump {
        args,
        schema: &schema,
        filters: &filters,
        entry: schema.entry_writer(),
        // Entries straight from their bytes, unless they must be decoded to be filtered or
        // shown per CPU.
        direct: filters.is_empty()
            && if args.json {
                !args.per_cpu
            } else {
                schema.per_cpu().is_none()
            },
        // Straight to the file descriptor: whole batches are written at once, and stdout's own
        // line buffering would only scan them for newlines.
        out: std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map(File::from)
            .context("duplicating stdout")?,
        buf: Vec::with_capacity(1 << 20),
        started: false,
        read: 0,
        shown: 0,
    };
    // One batch in memory at a time (two in flight): read on one thread, written on this one.
    let method = read::stream(&map, |batch| {
        if !dump.started {
            dump.start(&map, &key_type, &value_type, batch.method())?;
        }
        dump.batch(batch)
    })?;
    if !dump.started {
        dump.start(&map, &key_type, &value_type, method)?;
    }
    if args.json {
        dump.buf.extend_from_slice(b"]}\n");
    } else {
        writeln!(
            dump.buf,
            "# {} of {} entries of map {} ({}: {} => {}), read {}",
            dump.shown,
            dump.read,
            map.info.id,
            map.info.name,
            key_type,
            value_type,
            method.name()
        )?;
    }
    dump.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A dump being written: entries are formatted into `buf`, written out once per batch.
struct Dump<'a> {
    args: &'a Args,
    schema: &'a Schema,
    filters: &'a [Filter],
    entry: EntryWriter<'a>,
    /// Entries written from their bytes rather than decoded first.
    direct: bool,
    out: File,
    buf: Vec<u8>,
    /// Whether the JSON head is written.
    started: bool,
    /// Entries read.
    read: usize,
    /// Entries written.
    shown: usize,
}

impl Dump<'_> {
    /// The JSON head, which names how the entries are read (known from the first batch).
    fn start(
        &mut self,
        map: &OpenMap,
        key_type: &str,
        value_type: &str,
        method: ReadMethod,
    ) -> anyhow::Result<()> {
        self.started = true;
        if !self.args.json {
            return Ok(());
        }
        let head = json!({
            "id": map.info.id,
            "name": map.info.name,
            "type": kind::type_name(map.info.map_type),
            "key_type": key_type,
            "value_type": value_type,
            "per_cpu": self.schema.per_cpu(),
        });
        write!(
            self.buf,
            "{{\"map\":{head},\"method\":\"{}\",\"guarantee\":{},\"entries\":[",
            method.name(),
            serde_json::to_string(method.guarantee())?
        )?;
        Ok(())
    }

    /// Formats one batch and writes it out.
    fn batch(&mut self, batch: &Batch) -> anyhow::Result<()> {
        self.read += batch.len();
        for (k, v) in batch.iter() {
            if self.direct {
                self.direct_entry(k, v);
            } else {
                self.decoded_entry(k, v)?;
            }
        }
        self.flush()
    }

    /// An entry written straight from its bytes.
    fn direct_entry(&mut self, key: &[u8], value: &[u8]) {
        let buf = &mut self.buf;
        if self.args.json {
            if self.shown > 0 {
                buf.push(b',');
            }
            self.entry.write_entry(key, value, buf);
        } else {
            self.entry.write_key(key, buf);
            buf.extend_from_slice(b" => ");
            self.entry.write_value(value, buf);
            buf.push(b'\n');
        }
        self.shown += 1;
    }

    /// An entry decoded first, to be filtered or shown per CPU.
    fn decoded_entry(&mut self, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
        let e = self.schema.entry_json(key, value, self.args.per_cpu);
        if !self
            .filters
            .iter()
            .all(|f| f.matches(&e["key"], &e["value"]))
        {
            return Ok(());
        }
        if self.args.json {
            if self.shown > 0 {
                self.buf.push(b',');
            }
            serde_json::to_writer(&mut self.buf, &e)?;
        } else {
            writeln!(
                self.buf,
                "{} => {}",
                super::compact(&e["key"]),
                super::compact(&e["value"])
            )?;
            if let Some(cpus) = e.get("per_cpu").and_then(|c| c.as_array()) {
                for (cpu, v) in cpus.iter().enumerate() {
                    writeln!(self.buf, "    cpu{cpu}: {}", super::compact(v))?;
                }
            }
        }
        self.shown += 1;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}
