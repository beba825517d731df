//! Scale benchmark of `xdpdbg top` (needs root): `cargo bench -p xdpdbg --bench top`.
//!
//! The target: with 1,000 programs loaded, the table refreshes every second using under
//! 2% of one core. Measured on the headless refresh loop (docs/top.md): `xdpdbg top --duration
//! 30s --interval 1s` refreshes the table every second exactly as the screen does, without
//! drawing, and samples every CPU at the default 999 Hz; its CPU time (user + system, every
//! thread) over wall time is the cost.
//!
//! Four variants, interleaved round by round (the order rotates every round), medians of the
//! rounds; the method is in docs/benchmarks.md:
//!
//! * the machine as it is (the baseline), samples mode (the default) and `--stats`;
//! * the same with 1,000 more programs loaded, samples mode and `--stats`.
//!
//! The programs are the `xdp_pass` fixture (2 instructions, with BTF and line info, so listing
//! them does the full work: info, BTF, line records, JIT symbols), loaded by a re-executed copy
//! of this benchmark that holds their file descriptors (not attached) while the variant runs and
//! exits after it; they go with it on every path (it dies with the benchmark,
//! `PR_SET_PDEATHSIG`), and the next variant starts only once they are gone. Before the rounds,
//! `xdpdbg top --once --json` must list every one of them, in both modes.
//!
//! Reported per variant: CPU in % of one core over the steady part (from 3 s after start to 1 s
//! before the end, the threads' `schedstat`), CPU per refresh, the whole run's CPU (`wait4`, start-up
//! and the final report included) and peak RSS; the 1,000-program variants also against the
//! baseline of the same round. Only the markdown report goes to stdout.
//!
//! Environment: `XDPDBG_BIN` (the binary; default: the `xdpdbg` cargo builds with this
//! benchmark, in the release profile), `XDPDBG_BENCH_ROUNDS` (default 5, at least 3),
//! `XDPDBG_TOP_BENCH_SECS` (length of a run, default 30, at least 6),
//! `XDPDBG_TOP_BENCH_PROGRAMS` (default 1000).
//!
//! The modules: `holder` (the process holding the extra programs), `measure` (one run of the
//! refresh loop and its CPU time), `report` (the markdown).

mod holder;
mod measure;
mod report;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use testkit::bench::{env, rounds};

use crate::holder::{HOLDER_ENV, Holder, holder};
use crate::measure::{Cost, run_top};

/// The variants, in the order of the report.
pub const VARIANTS: [Variant; 4] = [
    Variant {
        extra_programs: false,
        stats: false,
    },
    Variant {
        extra_programs: false,
        stats: true,
    },
    Variant {
        extra_programs: true,
        stats: false,
    },
    Variant {
        extra_programs: true,
        stats: true,
    },
];

/// One way of running the refresh loop.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// Whether the extra programs are loaded while it runs.
    pub extra_programs: bool,
    /// `--stats` (BPF_ENABLE_STATS) rather than samples alone.
    pub stats: bool,
}

impl Variant {
    fn args(self) -> &'static [&'static str] {
        if self.stats { &["--stats"] } else { &[] }
    }
}

/// The run's settings.
pub struct Config {
    /// The `xdpdbg` binary measured.
    pub bin: PathBuf,
    /// Interleaved rounds.
    pub rounds: usize,
    /// The length of one run (`--duration`).
    pub duration: Duration,
    /// How many extra programs the holder loads.
    pub programs: usize,
}

fn main() {
    if let Ok(n) = std::env::var(HOLDER_ENV) {
        holder(n.parse().expect("the holder's program count"));
    }
    // `cargo bench` passes `--bench`; a filter argument is not supported, nor needed.
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    testkit::privilege::check_root(
        "the xdpdbg top benchmark loads eBPF programs and samples every CPU",
    )?;
    let config = Config {
        bin: std::env::var_os("XDPDBG_BIN")
            .map_or_else(|| env!("CARGO_BIN_EXE_xdpdbg").into(), PathBuf::from),
        rounds: env::parse("XDPDBG_BENCH_ROUNDS", 5usize)?.max(3),
        duration: Duration::from_secs_f64(env::parse("XDPDBG_TOP_BENCH_SECS", 30f64)?.max(6.0)),
        programs: env::parse("XDPDBG_TOP_BENCH_PROGRAMS", 1000usize)?.max(1),
    };
    ensure!(
        config.bin.is_file(),
        "no xdpdbg binary at {} (build it with `cargo build --release -p xdpdbg` or set \
         XDPDBG_BIN)",
        config.bin.display()
    );
    let already = bpf_sys::prog_ids().filter(Result::is_ok).count();
    eprintln!(
        "top: {} programs loaded before the benchmark; {} rounds of {:?} per variant, {} extra \
         programs",
        already, config.rounds, config.duration, config.programs
    );
    check_listing(&config)?;

    let costs = rounds::try_interleaved(config.rounds, VARIANTS.len(), |round, k| {
        let variant = VARIANTS[k];
        let held = if variant.extra_programs {
            Some(Holder::start(config.programs)?)
        } else {
            None
        };
        let cost = run_top(&config.bin, config.duration, variant.args())
            .with_context(|| format!("round {}, {variant:?}", round + 1))?;
        if let Some(h) = held {
            h.stop()?;
        }
        eprintln!(
            "top: round {} {:?}: steady {:.2} % of one core, whole run {:.2} % ({:.2} s CPU), \
             peak RSS {:.1} MiB",
            round + 1,
            variant,
            cost.steady_cores * 100.0,
            cost.total_cores * 100.0,
            cost.total_cpu_s,
            cost.max_rss_mib
        );
        Ok::<Cost, anyhow::Error>(cost)
    })?;
    println!("{}", report::report(&config, already, &costs));
    Ok(())
}

/// Before the rounds: with the extra programs loaded, `xdpdbg top --once --json` (both modes)
/// must list every one of them.
fn check_listing(config: &Config) -> Result<()> {
    let held = Holder::start(config.programs)?;
    for extra in [&[][..], &["--stats"][..]] {
        let out = Command::new(&config.bin)
            .args(["top", "--once", "--json"])
            .args(extra)
            .output()
            .context("running xdpdbg top --once --json")?;
        ensure!(
            out.status.success(),
            "xdpdbg top --once --json {} failed: {}",
            extra.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let v: Value = serde_json::from_slice(&out.stdout).context("top --once printed no JSON")?;
        let listed = v["programs"].as_array().map_or(0, |ps| {
            ps.iter()
                .filter(|p| {
                    p["id"]
                        .as_u64()
                        .is_some_and(|id| held.ids.contains(&(id as u32)))
                })
                .count()
        });
        ensure!(
            listed == held.ids.len(),
            "xdpdbg top --once --json {} listed {listed} of the {} held programs",
            extra.join(" "),
            held.ids.len()
        );
        eprintln!(
            "top: --once --json {} lists all {} held programs",
            extra.join(" "),
            listed
        );
    }
    held.stop()
}
