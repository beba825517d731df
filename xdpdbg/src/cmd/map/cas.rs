//! `xdpdbg map cas`, and the field comparisons `set --if` and `delete --if` share with it.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use bpf_maps::cas::{Cas, FieldRef, Outcome};
use bpf_maps::typed::Field;
use bpf_maps::{OpenMap, Schema};
use serde_json::json;
use xdpdbg::output;

use super::{EXIT_ABSENT, EXIT_MISMATCH};

/// Options of `xdpdbg map cas`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  xdpdbg map cas entries 3 last_seen 1200 1500\n  \
xdpdbg map cas fdb 'bridge=1,mac=02:1a:b0:00:00:01' ifindex 7 9 --json\n  \
xdpdbg map cas 42 0 @8:8 0x10 0x20        # a map without BTF: @OFFSET:WIDTH\n\n\
Atomic against eBPF programs writing the same field: the swap runs in the kernel as one\n\
compare-exchange (4- and 8-byte fields), under the value's bpf_spin_lock when it has one (any\n\
integer field), or with CPU atomics on mmapable arrays. Per-CPU maps are refused.\n\n\
Exit status: 0 swapped, 3 the field held another value (nothing written), 4 no such key, 1 error."
)]
pub struct Args {
    /// The map: id, pinned path or unique name
    map: String,
    /// The entry's key
    key: String,
    /// The field to compare and set (a path such as `stats.packets`, or @OFFSET:WIDTH)
    field: String,
    /// The value the field must hold
    expected: String,
    /// The value to put in it
    new: String,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// A field of the map's value, resolved for a compare.
pub struct Target {
    /// Where it is.
    pub at: FieldRef,
    /// Its BTF description, when the map has BTF.
    pub field: Option<Field>,
    /// How the user named it.
    pub name: String,
}

impl Target {
    /// Resolves FIELD against the value type (or @OFFSET:WIDTH without BTF).
    pub fn resolve(schema: &Schema, path: &str) -> anyhow::Result<Self> {
        if let Some(raw) = path.strip_prefix('@') {
            let (off, width) = raw
                .split_once(':')
                .context("a raw field is written @OFFSET:WIDTH, for example @8:8")?;
            return Ok(Self {
                at: FieldRef {
                    offset: off.parse().context("OFFSET must be a number")?,
                    width: width.parse().context("WIDTH must be a number")?,
                },
                field: None,
                name: path.to_string(),
            });
        }
        let Some(value) = &schema.value else {
            bail!(
                "this map has no BTF, so fields have no names; give the field as @OFFSET:WIDTH \
                 (for example @0:8)"
            );
        };
        let field = value.field(path)?;
        if field.bit_size.is_some() {
            bail!("`{path}` is a bitfield; atomic compare-and-swap works on whole integers only");
        }
        if !field.is_integer() {
            bail!(
                "`{path}` is {}, not an integer; compare-and-swap takes an integer field",
                field.c_name
            );
        }
        Ok(Self {
            at: FieldRef {
                offset: field.offset as u32,
                width: field.size as u32,
            },
            field: Some(field),
            name: path.to_string(),
        })
    }

    /// Parses a value for this field (its notation, checked against its width).
    pub fn parse(&self, text: &str) -> anyhow::Result<u64> {
        match &self.field {
            Some(f) => Ok(f.parse_int(text)?),
            None => {
                let t = text.trim();
                let n = match t.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16),
                    None => t.parse(),
                }
                .with_context(|| format!("`{text}` is not a number"))?;
                if self.at.width < 8 && n >> (8 * self.at.width) != 0 {
                    bail!("{n} does not fit in {} bytes", self.at.width);
                }
                Ok(n)
            }
        }
    }

    /// The field's value in the map's notation.
    pub fn show(&self, raw: u64) -> serde_json::Value {
        match &self.field {
            Some(f) => f.format(raw),
            None => json!(raw),
        }
    }
}

/// Prepares compare-and-swap on an open map (loads the small program bound to it).
pub fn prepare(map: &OpenMap, schema: &Schema) -> anyhow::Result<Cas> {
    let lock = schema
        .value
        .as_ref()
        .and_then(|t| t.spin_lock_offset())
        .map(|o| o as u32);
    Ok(Cas::new(map.fd.try_clone()?, lock)?)
}

/// Prints an outcome and returns the exit status it means.
pub fn report(
    outcome: Outcome,
    target: &Target,
    expected: u64,
    done: &str,
    cas: &Cas,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let (status, code, observed) = match outcome {
        Outcome::Swapped => ("swapped", ExitCode::SUCCESS, None),
        Outcome::Mismatch { observed } => {
            ("mismatch", ExitCode::from(EXIT_MISMATCH), Some(observed))
        }
        Outcome::Absent => ("absent", ExitCode::from(EXIT_ABSENT), None),
    };
    if as_json {
        output::json(&json!({
            "outcome": status,
            "field": target.name,
            "expected": target.show(expected),
            "observed": observed.map(|o| target.show(o)),
            "atomicity": cas.atomicity().describe(),
        }))?;
    } else {
        match outcome {
            Outcome::Swapped => println!("{done}"),
            Outcome::Mismatch { observed } => println!(
                "not done: {} is {}, not {}",
                target.name,
                target.show(observed),
                target.show(expected)
            ),
            Outcome::Absent => println!("not done: the key is not in the map"),
        }
    }
    Ok(code)
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (map, schema) = super::open(&args.map)?;
    let key = schema.encode_key(&args.key).context("in KEY")?;
    let target = Target::resolve(&schema, &args.field)?;
    let expected = target.parse(&args.expected).context("in EXPECTED")?;
    let new = target.parse(&args.new).context("in NEW")?;
    let cas = prepare(&map, &schema)?;
    let outcome = cas.compare_and_swap(&key, target.at, expected, new)?;
    let done = format!(
        "swapped: {} was {}, is now {}",
        target.name,
        target.show(expected),
        target.show(new)
    );
    report(outcome, &target, expected, &done, &cas, args.json)
}
