//! `xdpdbg map watch`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bpf_maps::watch::Watch;
use xdpdbg::output;

use super::compact;

/// Options of `xdpdbg map watch`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  xdpdbg map watch counts\n  \
xdpdbg map watch fdb --interval 200ms --count 10 --json   # one JSON object per line\n\n\
Each reading is compared with the previous one: + added, - removed, ~ changed (with the rate\n\
of every integer field that moved). Stop with Ctrl-C.")]
pub struct Args {
    /// The map: id, pinned path or unique name
    map: String,
    /// Time between readings (ms, s, m suffixes)
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    interval: Duration,
    /// Stop after this many readings
    #[arg(long)]
    count: Option<u64>,
    /// One JSON object per reading, one per line
    #[arg(long)]
    json: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (n, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |i| text.split_at(i));
    let n: f64 = n
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 500ms or 2s"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit `{unit}`: use ms, s or m")),
    };
    if secs <= 0.0 {
        return Err("the interval must be positive".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (map, schema) = super::open(&args.map)?;
    let mut watch = Watch::new(&map, &schema).context("first reading")?;
    let mut n = 0u64;
    while args.count.is_none_or(|c| n < c) {
        std::thread::sleep(args.interval);
        let tick = watch.tick()?;
        n += 1;
        if args.json {
            println!("{}", serde_json::to_string(&tick)?);
            continue;
        }
        println!(
            "-- {:.2}s: {} entries, {} added, {} removed, {} changed",
            tick.elapsed.as_secs_f64(),
            tick.entries,
            tick.diff.added.len(),
            tick.diff.removed.len(),
            tick.diff.changed.len()
        );
        for e in &tick.diff.added {
            anstream::println!(
                "{} {} => {}",
                output::styled(output::OK, "+"),
                compact(&e["key"]),
                compact(&e["value"])
            );
        }
        for e in &tick.diff.removed {
            anstream::println!(
                "{} {}",
                output::styled(output::FAIL, "-"),
                compact(&e["key"])
            );
        }
        for r in &tick.rates {
            anstream::println!(
                "{} {} {}: {:+.1}/s",
                output::styled(output::WARN, "~"),
                compact(&r.key),
                if r.path.is_empty() { "value" } else { &r.path },
                r.per_second
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
