//! The markdown report of the scale benchmark.

use std::fmt::Write as _;

use testkit::bench::machine;
use testkit::bench::stats::{median, min_max};
use testkit::bench::table::{Align, Table};

use crate::measure::{Cost, STEADY_FROM};
use crate::{Config, VARIANTS};

/// The target: the table refreshing every second with 1,000 programs loaded uses under
/// 2% of one core.
const TARGET_CORES: f64 = 0.02;

/// The report: a table of the variants, then the target's verdict.
pub fn report(config: &Config, already: usize, costs: &[Vec<Cost>]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## `xdpdbg top` at scale\n\n{}, {} interleaved rounds, medians. Each run: `xdpdbg top \
         --duration {}s --interval 1s` (the headless refresh loop: a table refresh every second, \
         perf samples on every CPU at 999 Hz, drained every few ms). {already} programs were \
         loaded on the machine before the benchmark; the extra programs are {} copies of the \
         `xdp_pass` fixture (with BTF and line info, not attached).\n",
        machine::summary(),
        config.rounds,
        config.duration.as_secs_f64(),
        config.programs,
    );
    let baseline = |stats: bool| {
        VARIANTS
            .iter()
            .position(|v| !v.extra_programs && v.stats == stats)
            .map(|i| &costs[i])
    };
    let mut table = Table::new(&[
        ("mode", Align::Left),
        ("extra programs", Align::Right),
        ("CPU, % of one core (steady)", Align::Right),
        ("min–max", Align::Right),
        ("CPU ms per refresh", Align::Right),
        ("more than without them (per round)", Align::Right),
        ("whole run, % of one core", Align::Right),
        ("peak RSS MiB", Align::Right),
    ]);
    let mut verdicts = String::new();
    for (variant, cost) in VARIANTS.iter().zip(costs) {
        let steady: Vec<f64> = cost.iter().map(|c| c.steady_cores * 100.0).collect();
        let (lo, hi) = min_max(&steady);
        let more = match (variant.extra_programs, baseline(variant.stats)) {
            (true, Some(base)) => {
                let diff: Vec<f64> = cost
                    .iter()
                    .zip(base)
                    .map(|(a, b)| (a.steady_cores - b.steady_cores) * 100.0)
                    .collect();
                format!("{:+.2} points", median(&diff))
            }
            _ => "–".into(),
        };
        let mode = if variant.stats {
            "`--stats`"
        } else {
            "samples (default)"
        };
        table.row([
            mode.to_string(),
            if variant.extra_programs {
                config.programs.to_string()
            } else {
                "0".into()
            },
            format!("{:.2} %", median(&steady)),
            format!("{lo:.2}–{hi:.2} %"),
            // One refresh a second: a core's share in % is 10 ms per refresh per point.
            format!("{:.1}", median(&steady) * 10.0),
            more,
            format!(
                "{:.2} %",
                median(
                    &cost
                        .iter()
                        .map(|c| c.total_cores * 100.0)
                        .collect::<Vec<_>>()
                )
            ),
            format!(
                "{:.1}",
                median(&cost.iter().map(|c| c.max_rss_mib).collect::<Vec<_>>())
            ),
        ]);
        if variant.extra_programs {
            let m = median(&steady);
            let _ = writeln!(
                verdicts,
                "Target, {mode}: with {} programs loaded, refreshing every second costs under \
                 {:.0} % of one core: **{m:.2} %** — {}.",
                config.programs,
                TARGET_CORES * 100.0,
                if m < TARGET_CORES * 100.0 {
                    "met"
                } else {
                    "MISSED"
                }
            );
        }
    }
    out.push_str(&table.to_string());
    let _ = writeln!(
        out,
        "\nSteady: the run time of every thread (`/proc/PID/task/TID/schedstat`, nanoseconds) from {} s after \
         start to 1 s before the end, over that wall time; CPU per refresh is the same time \
         divided by the refreshes in it (one a second: sampling and draining included). Whole \
         run: `wait4`'s rusage over the run's wall time, start-up (listing and symbolizing \
         every program, opening the perf events) and the final report included. \"More than \
         without them\": the median of per-round differences to the same mode without the extra \
         programs.\n",
        STEADY_FROM.as_secs()
    );
    out.push_str(&verdicts);
    out
}
