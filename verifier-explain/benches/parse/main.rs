//! Verifier log parsing speed and memory: `cargo bench -p verifier-explain --bench parse`.
//!
//! Generates a realistic level-2 verifier log into a temporary file, streaming (it is never held
//! in memory): a 3000-instruction program; instruction lines with register deltas, source
//! comments and precision-backtracking bursts; in the first half, depth-first exploration with
//! branch pops (full states) and pruned branches; in the second half, one path going round a
//! loop until the complexity limit, so the path under exploration outgrows the parser's
//! memory budget. It then
//! times two things in fresh child processes, interleaved round by round with the order
//! rotating (the method is in docs/benchmarks.md):
//!
//! * `LogSummary::parse(BufReader<File>)`, and
//! * the baseline: the same file read through a `BufReader` with every line found by `memchr`
//!   (the floor any line-by-line parser pays).
//!
//! Each child reports its own time (the read, not process start-up) and its peak RSS (`VmHWM`
//! from `/proc/self/status`), so generating the file does not count. The file is read once
//! before the rounds so both variants find it in the page cache. Only a markdown table goes to
//! stdout; progress goes to stderr.
//!
//! To keep the generated log (for a profiler, say): `<bench binary> {CHILD_ARG} generate <path>`
//! with `CHILD_ARG` as below; `... parse <path>` then parses it once.
//!
//! Environment: `VERIFIER_EXPLAIN_BENCH_MB` (size of the generated log in MiB, default 512),
//! `VERIFIER_EXPLAIN_BENCH_ROUNDS` (default 5, at least 3), `VERIFIER_EXPLAIN_BENCH_LOG` (a
//! real log to measure as well, e.g. one captured from a million-instruction rejection).

//!
//! The modules: `generate` (the generated log), `child` (the measuring child process).

mod child;
mod generate;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use testkit::bench::stats::{median, min_max, per_round_ratios};
use testkit::bench::table::{Align, Table};
use testkit::bench::{env, machine, rounds};

use crate::child::{CHILD_ARG, child, run_child};
use crate::generate::generate;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb = env::parse_or_exit("VERIFIER_EXPLAIN_BENCH_MB", 512u64).max(1);
    if args.get(1).map(String::as_str) == Some(CHILD_ARG) {
        let (Some(variant), Some(path)) = (args.get(2), args.get(3)) else {
            eprintln!("usage: {CHILD_ARG} parse|lines|generate <path>");
            std::process::exit(2);
        };
        if variant == "generate" {
            generate(Path::new(path), mb << 20).expect("writing the generated log");
        } else {
            child(variant, Path::new(path));
        }
        return;
    }
    let rounds = env::parse_or_exit("VERIFIER_EXPLAIN_BENCH_ROUNDS", 5usize).max(3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let generated = dir.path().join("level2.log");
    eprintln!(
        "generating a {mb} MiB level-2 log in {}",
        generated.display()
    );
    let t = Instant::now();
    let size = generate(&generated, mb << 20).expect("writing the generated log");
    eprintln!("  {} bytes in {:.1} s", size, t.elapsed().as_secs_f64());

    let mut report = String::new();
    let _ = writeln!(
        report,
        "## Verifier log parsing\n\n{}, {rounds} interleaved rounds, medians\n",
        machine::summary(),
    );
    let mut table = Table::new(&[
        ("log", Align::Left),
        ("size MiB", Align::Right),
        ("variant", Align::Left),
        ("median MiB/s", Align::Right),
        ("min–max MiB/s", Align::Right),
        ("median peak RSS MiB", Align::Right),
        ("parse / baseline time", Align::Right),
    ]);
    let mut notes = String::new();
    bench_file(
        "generated level 2",
        &generated,
        rounds,
        &mut table,
        &mut notes,
    );
    if let Ok(real) = std::env::var("VERIFIER_EXPLAIN_BENCH_LOG") {
        let name = Path::new(&real)
            .file_name()
            .map_or_else(|| real.clone(), |n| n.to_string_lossy().into_owned());
        bench_file(
            &format!("`{name}`"),
            Path::new(&real),
            rounds,
            &mut table,
            &mut notes,
        );
    }
    report.push_str(&table.to_string());
    println!("{report}\nWhat was parsed:\n\n{notes}");
}

/// Measures `path` with both variants over `rounds` interleaved rounds; adds a row per
/// variant to `table` and what was parsed to `notes`.
fn bench_file(label: &str, path: &Path, rounds: usize, table: &mut Table, notes: &mut String) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mb = size as f64 / f64::from(1 << 20);
    eprintln!("{label}: {mb:.0} MiB, warming the page cache");
    let warm = run_child("lines", path);
    eprintln!("  {}", warm.what);
    let variants = ["parse", "lines"];
    let samples = rounds::interleaved(rounds, variants.len(), |round, v| {
        let s = run_child(variants[v], path);
        eprintln!(
            "  round {round} {:>5}: {:.3} s, {:.0} MiB/s, peak RSS {} MiB",
            variants[v],
            s.secs,
            mb / s.secs,
            s.hwm_kib / 1024
        );
        s
    });
    let secs: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| s.iter().map(|x| x.secs).collect())
        .collect();
    let ratios = per_round_ratios(&secs[0], &secs[1]);
    let what = samples[0]
        .last()
        .map(|s| s.what.clone())
        .unwrap_or_default();
    eprintln!("  parsed: {what}");
    for v in 0..variants.len() {
        let rates: Vec<f64> = secs[v].iter().map(|s| mb / s).collect();
        let (lo, hi) = min_max(&rates);
        let hwm: Vec<f64> = samples[v]
            .iter()
            .map(|s| s.hwm_kib as f64 / 1024.0)
            .collect();
        let variant = if v == 0 {
            "`LogSummary::parse(BufReader<File>)`"
        } else {
            "baseline: `BufReader` + `memchr` lines"
        };
        let ratio = if v == 0 {
            format!("{:.2}", median(&ratios))
        } else {
            "1".to_string()
        };
        table.row([
            label.to_string(),
            format!("{mb:.0}"),
            variant.to_string(),
            format!("{:.0}", median(&rates)),
            format!("{lo:.0}–{hi:.0}"),
            format!("{:.0}", median(&hwm)),
            ratio,
        ]);
    }
    let _ = writeln!(notes, "* {label}: {what}");
}
