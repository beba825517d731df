//! `xdpdbg top` profiling the switch while it forwards (modes `fast-top` and `fast-top-stats`),
//! run-time statistics alone (`fast-stats`), and what they cost the forwarding.
//!
//! In those modes the release `xdpdbg top --prog <p1's XDP program> --duration <D> --json`
//! (`--stats` added in `fast-top-stats`) runs from before the generator starts until after the
//! measurement window ends: default sampling rate, samples mode. Its JSON must hold samples of
//! the program, so the mode fails instead of measuring a profiler that saw nothing.
//!
//! In `fast-stats` the benchmark itself holds `BPF_ENABLE_STATS` through the measurement, with
//! no profiler: the cost of the statistics alone.
//!
//! In every fast-path mode the program's run-time statistics (`run_cnt`) are read before and
//! after: they must move only when the mode turns them on (`fast-top-stats`), so a baseline
//! measured while something else held `BPF_ENABLE_STATS` fails loudly too. With statistics on,
//! the kernel's own time per run of the program comes out of the same counters.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, ensure};
use bpf_sys::{ProgFd, RunStats, StatsFd};
use netlab::Lab;
use serde_json::Value;
use testkit::bench::stats::{median, min_max, per_round_ratios};
use testkit::bench::table::{Align, Table};
use testkit::child::KillOnDrop;

use crate::INGRESS_PORT;
use crate::config::Mode;

/// The longest the profiler may take to open its perf events (and statistics) before the
/// generator starts.
const STARTUP: Duration = Duration::from_secs(10);
/// Time given after that to list and symbolize the programs.
const SETTLE: Duration = Duration::from_millis(500);
/// Sampling continues this long after the window ends.
const TAIL: Duration = Duration::from_millis(500);
/// The target: profiling at the default sampling rate costs under 3 % of the rate.
const TARGET_LOSS: f64 = 0.03;

/// Whether `mode` runs `xdpdbg top`, and with `--stats`.
fn profiled(mode: Mode) -> Option<bool> {
    match mode {
        Mode::FastTop => Some(false),
        Mode::FastTopStats => Some(true),
        _ => None,
    }
}

/// Whether run-time statistics are on in `mode`.
fn stats_on(mode: Mode) -> bool {
    mode == Mode::FastStats || profiled(mode) == Some(true)
}

/// Whether `mode` needs the `xdpdbg` binary.
pub fn needs_xdpdbg(mode: Mode) -> bool {
    profiled(mode).is_some()
}

/// The `xdpdbg` binary: `$XDPDBG_BIN`, else `target/release/xdpdbg` next to this benchmark. It
/// must have the `top` subcommand.
pub fn find_xdpdbg() -> Result<PathBuf> {
    let hint = "build it with `cargo build --release -p xdpdbg`, point XDPDBG_BIN at an xdpdbg \
                binary, or leave fast-top and fast-top-stats out of SWITCH_BENCH_MODES";
    let path = match std::env::var_os("XDPDBG_BIN") {
        Some(p) => PathBuf::from(p),
        None => testkit::binary::Binary::in_target_dir("xdpdbg")
            .path()
            .to_path_buf(),
    };
    ensure!(
        path.is_file(),
        "the xdpdbg binary {} does not exist: {hint}",
        path.display()
    );
    let out = Command::new(&path)
        .args(["top", "--help"])
        .output()
        .with_context(|| format!("running {}", path.display()))?;
    ensure!(
        out.status.success(),
        "{} has no `top` subcommand: {hint}. It said: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(path)
}

/// The id of the XDP program attached to the ingress port, from `ip -d -j link show` in the
/// switch's namespace.
fn ingress_xdp_prog(lab: &Lab) -> Result<u32> {
    let out = lab.exec_ok(
        "sw",
        &["ip", "-d", "-j", "link", "show", "dev", INGRESS_PORT],
    )?;
    let v: Value = serde_json::from_str(&out).context("ip -j link show printed no JSON")?;
    let xdp = &v[0]["xdp"];
    xdp["prog"]["id"]
        .as_u64()
        .or_else(|| {
            xdp["attached"]
                .as_array()?
                .iter()
                .find_map(|a| a["prog"]["id"].as_u64())
        })
        .map(|id| id as u32)
        .with_context(|| format!("no XDP program on {INGRESS_PORT}: {out}"))
}

/// A fast-path measurement watched: p1's program's statistics, and `xdpdbg top` when the mode
/// profiles.
pub struct Watch {
    prog_id: u32,
    prog: ProgFd,
    before: RunStats,
    stats: bool,
    profiler: Option<Profiler>,
    /// `fast-stats`: statistics held by the benchmark itself.
    _stats_fd: Option<StatsFd>,
}

/// What a watched measurement saw.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    /// Samples `xdpdbg top` charged to the program (None: not profiled).
    pub samples: Option<u64>,
    /// The kernel's time per run of the program (None: statistics were off, as they must be
    /// without `--stats`).
    pub ns_per_run: Option<f64>,
}

struct Profiler {
    child: KillOnDrop,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
    stats: bool,
    shown: String,
}

impl Watch {
    /// Starts watching (the program attached to p1 must be the switch's); in a profiled mode,
    /// starts `xdpdbg top` for the warm-up and `window`, and gives it time to start.
    pub fn start(
        lab: &Lab,
        mode: Mode,
        xdpdbg: Option<&Path>,
        warmup: Duration,
        window: Duration,
    ) -> Result<Self> {
        let prog_id = ingress_xdp_prog(lab)?;
        let prog = ProgFd::from_id(prog_id)
            .with_context(|| format!("opening program {prog_id} (p1's XDP program)"))?;
        let profiler = match profiled(mode) {
            Some(stats) => {
                let bin = xdpdbg.context("no xdpdbg binary")?;
                let mut p = Profiler::start(bin, prog_id, stats, SETTLE + warmup + window + TAIL)?;
                p.wait_ready()?;
                std::thread::sleep(SETTLE);
                Some(p)
            }
            None => None,
        };
        let stats_fd = if mode == Mode::FastStats {
            Some(bpf_sys::enable_stats().context("turning on run-time statistics")?)
        } else {
            None
        };
        let before = prog
            .run_stats()
            .context("reading p1's program's statistics")?;
        Ok(Self {
            prog_id,
            prog,
            before,
            stats: stats_on(mode),
            profiler,
            _stats_fd: stats_fd,
        })
    }

    /// Ends the watch once the window is over: waits for `xdpdbg top` and checks what it saw,
    /// and that statistics were on exactly when the mode asked for them.
    pub fn finish(self) -> Result<Watched> {
        let after = self
            .prog
            .run_stats()
            .context("reading p1's program's statistics")?;
        let runs = after.run_cnt - self.before.run_cnt;
        let stats = self.stats;
        let samples = match self.profiler {
            Some(p) => Some(p.finish(self.prog_id)?),
            None => None,
        };
        let ns_per_run = if stats {
            ensure!(
                runs > 0,
                "statistics were meant to be on but program {} counted no run",
                self.prog_id
            );
            Some((after.run_time_ns - self.before.run_time_ns) as f64 / runs as f64)
        } else {
            ensure!(
                runs == 0,
                "program {} counted {runs} runs with statistics meant to be off: something else \
                 holds BPF_ENABLE_STATS (or kernel.bpf_stats_enabled is 1), which would slow this \
                 mode; run the benchmark when nothing else does",
                self.prog_id
            );
            None
        };
        Ok(Watched {
            samples,
            ns_per_run,
        })
    }
}

impl Profiler {
    fn start(bin: &Path, prog_id: u32, stats: bool, duration: Duration) -> Result<Self> {
        let mut cmd = Command::new(bin);
        let duration = format!("{}ms", duration.as_millis());
        let id = prog_id.to_string();
        cmd.args(["top", "--prog", &id, "--duration", &duration, "--json"]);
        if stats {
            cmd.arg("--stats");
        }
        let shown = format!(
            "xdpdbg top --prog {id} --duration {duration} --json{}",
            if stats { " --stats" } else { "" }
        );
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = read_all(child.stdout.take().context("stdout is piped")?);
        let stderr = read_all(child.stderr.take().context("stderr is piped")?);
        Ok(Self {
            child: KillOnDrop(child),
            stdout,
            stderr,
            stats,
            shown,
        })
    }

    /// Waits until the profiler holds its perf events (and, with `--stats`, the statistics'
    /// file descriptor).
    fn wait_ready(&mut self) -> Result<()> {
        let pid = self.child.child().id();
        let deadline = std::time::Instant::now() + STARTUP;
        loop {
            let links: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .map(|d| {
                    d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                        .map(|l| l.to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let perf = links.iter().any(|l| l == "anon_inode:[perf_event]");
            let stats = !self.stats || links.iter().any(|l| l == "anon_inode:bpf-stats");
            if perf && stats {
                return Ok(());
            }
            if let Some(status) = self.child.child().try_wait()? {
                let err = std::mem::replace(&mut self.stderr, read_all(std::io::empty()));
                let err = err.join().unwrap_or_default();
                anyhow::bail!("{} exited ({status}) at start: {}", self.shown, err.trim());
            }
            ensure!(
                std::time::Instant::now() < deadline,
                "{} did not open its perf events{} within {STARTUP:?}",
                self.shown,
                if self.stats { " and statistics" } else { "" }
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the profile; returns the program's samples, which must be some.
    fn finish(mut self, prog_id: u32) -> Result<u64> {
        let status = self
            .child
            .child()
            .wait()
            .with_context(|| format!("waiting for {}", self.shown))?;
        let out = self.stdout.join().map_err(|_| anyhow!("reader panicked"))?;
        let err = self.stderr.join().map_err(|_| anyhow!("reader panicked"))?;
        ensure!(
            status.success(),
            "{} failed ({status}): {}",
            self.shown,
            err.trim()
        );
        let v: Value = serde_json::from_str(&out)
            .with_context(|| format!("{} printed no JSON: {out}", self.shown))?;
        let samples = v["programs"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["id"] == prog_id))
            .and_then(|p| p["samples"].as_u64())
            .unwrap_or(0);
        ensure!(
            samples > 0,
            "{} has no samples of program {prog_id}: the profiler saw nothing of the switch \
             (samples: {}; stderr: {})",
            self.shown,
            v["samples"],
            err.trim()
        );
        Ok(samples)
    }
}

fn read_all(mut pipe: impl std::io::Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    })
}

/// One round of one mode, as the cost report needs it.
pub struct Round {
    /// Frames per second at the receiver.
    pub pps: f64,
    /// Frames per second the generator offered.
    pub offered_pps: f64,
    /// CPU time of p1's NAPI thread per received frame.
    pub ns_per_frame: f64,
    /// What the watch saw.
    pub watched: Watched,
}

/// The cost of profiling: each profiled mode against `fast`, per round (empty unless both are
/// measured).
pub fn report(modes: &[Mode], rounds: &[Vec<Round>]) -> String {
    let of = |m: Mode| modes.iter().position(|&x| x == m).map(|i| &rounds[i]);
    let Some(fast) = of(Mode::Fast) else {
        return String::new();
    };
    let field = |rs: &[Round], f: fn(&Round) -> f64| -> Vec<f64> { rs.iter().map(f).collect() };
    let list = |xs: &[f64]| {
        xs.iter()
            .map(|x| format!("{:.1} %", x * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut table = Table::new(&[
        ("mode", Align::Left),
        ("median Mpps", Align::Right),
        ("rate vs fast: median", Align::Right),
        ("min–max", Align::Right),
        ("rounds", Align::Left),
        ("offered Mpps", Align::Right),
        ("NAPI ns/frame", Align::Right),
        ("ns/frame vs fast", Align::Right),
        ("ns/frame vs fast, min–max", Align::Right),
        ("samples of the program", Align::Right),
        ("kernel ns/run of the program", Align::Right),
    ]);
    let mut verdicts = String::new();
    for mode in [
        Mode::Fast,
        Mode::FastStats,
        Mode::FastTop,
        Mode::FastTopStats,
    ] {
        let Some(rs) = of(mode) else { continue };
        let rate = per_round_ratios(&field(rs, |r| r.pps), &field(fast, |r| r.pps));
        let (lo, hi) = min_max(&rate);
        let cost: Vec<f64> = field(rs, |r| r.ns_per_frame)
            .iter()
            .zip(field(fast, |r| r.ns_per_frame))
            .map(|(a, b)| a - b)
            .collect();
        let (cost_lo, cost_hi) = min_max(&cost);
        let cost_ratio = median(&per_round_ratios(
            &field(rs, |r| r.ns_per_frame),
            &field(fast, |r| r.ns_per_frame),
        ));
        let offered = median(&per_round_ratios(
            &field(rs, |r| r.offered_pps),
            &field(fast, |r| r.offered_pps),
        ));
        let samples: Vec<f64> = rs
            .iter()
            .filter_map(|r| r.watched.samples.map(|s| s as f64))
            .collect();
        let ns_run: Vec<f64> = rs.iter().filter_map(|r| r.watched.ns_per_run).collect();
        let or_dash = |xs: &[f64], f: &dyn Fn(f64) -> String| {
            if xs.is_empty() {
                "–".to_string()
            } else {
                f(median(xs))
            }
        };
        table.row([
            mode.label().to_string(),
            format!("{:.3}", median(&field(rs, |r| r.pps / 1e6))),
            format!("{:.1} %", median(&rate) * 100.0),
            format!("{:.1}–{:.1} %", lo * 100.0, hi * 100.0),
            list(&rate),
            format!("{:.2}", median(&field(rs, |r| r.offered_pps / 1e6))),
            format!("{:.0}", median(&field(rs, |r| r.ns_per_frame))),
            format!(
                "{:+.0} ({:+.1} %)",
                median(&cost),
                (cost_ratio - 1.0) * 100.0
            ),
            format!("{cost_lo:+.0} to {cost_hi:+.0}"),
            or_dash(&samples, &|m| format!("{m:.0}")),
            or_dash(&ns_run, &|m| format!("{m:.0}")),
        ]);
        if mode == Mode::FastStats {
            let _ = writeln!(
                verdicts,
                "Statistics alone (BPF_ENABLE_STATS, no profiler): **{:+.0} ns per frame** \
                 ({:+.1} %) of p1's NAPI thread's CPU time (median of per-round differences; \
                 the switch's program and the receiver's each run once per frame). The frame \
                 rate was {:.1} % of fast's, with the generator offering {:.1} % of what it \
                 offered in fast: the generator is an eBPF program too, timed by the same \
                 statistics, so in this lab the rate does not isolate the switch's cost; the \
                 CPU time per frame does.",
                median(&cost),
                (cost_ratio - 1.0) * 100.0,
                median(&rate) * 100.0,
                offered * 100.0
            );
        }
        if mode == Mode::FastTop {
            let loss = 1.0 - median(&rate);
            let _ = writeln!(
                verdicts,
                "Target: profiling at the default sampling rate costs under {:.0} % of the \
                 forwarding rate: **{:.1} %** lost (median of per-round ratios; negative: \
                 faster, within the noise; rounds {:.1} to {:.1} %) — {}. By CPU time per frame \
                 on the forwarder: {:+.1} %.",
                TARGET_LOSS * 100.0,
                loss * 100.0,
                (1.0 - hi) * 100.0,
                (1.0 - lo) * 100.0,
                crate::frame_rate::verdict(loss < TARGET_LOSS),
                (cost_ratio - 1.0) * 100.0
            );
        }
    }
    let mut out = String::from(
        "#### Profiling the switch with `xdpdbg top`\n\nEach mode is `fast` with `xdpdbg top \
         --prog <p1's XDP program> --duration <warm-up + window + 1 s> --json` running \
         through the measurement (default 999 Hz; `--stats` turns BPF_ENABLE_STATS on), or \
         with statistics alone (`fast-stats`: the benchmark holds BPF_ENABLE_STATS). Rate \
         ratios are per round against `fast`, then the median; ns/frame vs fast is the median \
         of per-round differences of the NAPI thread's CPU time per frame. Kernel ns/run: \
         `run_time_ns / run_cnt` of the switch's program over the measurement (statistics are \
         on only in the `--stats` and `fast-stats` modes, and checked off in the others).\n\n",
    );
    out.push_str(&table.to_string());
    out.push('\n');
    out.push_str(&verdicts);
    out.push('\n');
    out
}
