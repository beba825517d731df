//! What to measure: the forwarding modes, the receivers, and the environment's knobs.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use testkit::bench::env;
use testkit::tool::check_tool;

use crate::profiler;

/// A way frames cross the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bridge,
    BridgeNf,
    Fast,
    /// The fast path with static FDB entries (no refresh frames); not run by default.
    FastStatic,
    /// The fast path with run-time statistics on (BPF_ENABLE_STATS); not run by default.
    FastStats,
    /// The fast path profiled by `xdpdbg top` (samples); not run by default.
    FastTop,
    /// The fast path profiled by `xdpdbg top --stats`; not run by default.
    FastTopStats,
    /// The fast path as a default install gets it: `--default-mode auto`, TC on veths.
    FastAuto,
    Redirect,
    /// The raw redirect after reading the Ethernet header: the floor of any switch.
    RedirectRead,
}

impl Mode {
    pub const ALL: [Mode; 10] = [
        Mode::Bridge,
        Mode::BridgeNf,
        Mode::Fast,
        Mode::FastStatic,
        Mode::FastStats,
        Mode::FastTop,
        Mode::FastTopStats,
        Mode::FastAuto,
        Mode::Redirect,
        Mode::RedirectRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Bridge => "bridge",
            Mode::BridgeNf => "bridge-nf",
            Mode::Fast => "fast",
            Mode::FastStatic => "fast-static",
            Mode::FastStats => "fast-stats",
            Mode::FastTop => "fast-top",
            Mode::FastTopStats => "fast-top-stats",
            Mode::FastAuto => "fast-auto",
            Mode::Redirect => "redirect",
            Mode::RedirectRead => "redirect-read",
        }
    }

    /// Whether the mode forwards through the `switch-ctl run` daemon.
    pub fn runs_daemon(self) -> bool {
        matches!(
            self,
            Mode::Fast | Mode::FastStatic | Mode::FastStats | Mode::FastTop | Mode::FastTopStats
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::Bridge => "plain bridge, nf-call=0",
            Mode::BridgeNf => "plain bridge, nf-call=1 (default, no rules)",
            Mode::Fast => "fast path (`switch-ctl run --default-mode xdp`)",
            Mode::FastStatic => "fast path, static FDB entries",
            Mode::FastStats => "fast path, run-time statistics on (BPF_ENABLE_STATS)",
            Mode::FastTop => "fast path, profiled by `xdpdbg top` (samples)",
            Mode::FastTopStats => "fast path, profiled by `xdpdbg top --stats`",
            Mode::FastAuto => "fast path, default install (`--default-mode auto`: tc on veths)",
            Mode::Redirect => "raw devmap redirect p1→p2 (ceiling)",
            Mode::RedirectRead => "raw redirect after reading the Ethernet header",
        }
    }
}

/// A path TCP takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tcp {
    Bridge,
    Auto,
}

impl Tcp {
    pub fn name(self) -> &'static str {
        match self {
            Tcp::Bridge => "tcp-bridge",
            Tcp::Auto => "tcp-auto",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tcp::Bridge => "plain bridge, nf-call=0",
            Tcp::Auto => "switch (`switch-ctl run --default-mode auto`)",
        }
    }
}

/// What counts the frames on h2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    Xdp,
    Tc,
}

impl Receiver {
    pub fn name(self) -> &'static str {
        match self {
            Receiver::Xdp => "xdp",
            Receiver::Tc => "tc",
        }
    }
}

/// The run's configuration, from the environment.
pub struct Config {
    pub rounds: usize,
    pub window: Duration,
    pub tcp_secs: u32,
    pub modes: Vec<Mode>,
    pub tcp: Vec<Tcp>,
    pub receivers: Vec<Receiver>,
    /// The generator's CPU and the forwarder's (the ingress port's NAPI thread).
    pub gen_cpu: usize,
    pub fwd_cpu: usize,
    pub switch_ctl: Option<PathBuf>,
    /// The profiler of the `fast-top` modes.
    pub xdpdbg: Option<PathBuf>,
    /// The generator's fixed offered load in frames per second (`SWITCH_BENCH_PACE_MPPS`), or
    /// `None` to offer as much as it can (the saturating method).
    pub pace_pps: Option<f64>,
}

/// Reads the configuration and checks the machine can run it.
pub fn config() -> Result<Config> {
    let rounds = env::parse("SWITCH_BENCH_ROUNDS", 5usize)?.max(3);
    let secs = env::parse("SWITCH_BENCH_SECS", 2.5f64)?.max(0.5);
    let tcp_secs = env::parse("SWITCH_BENCH_TCP_SECS", 5u32)?.max(2);
    let pace_mpps = env::parse("SWITCH_BENCH_PACE_MPPS", 0f64)?;
    ensure!(
        pace_mpps.is_finite() && (0.0..=10.0).contains(&pace_mpps),
        "SWITCH_BENCH_PACE_MPPS: {pace_mpps} is not a rate between 0 (unpaced) and 10 Mpps; \
         pick one below the slowest measured mode's capacity, e.g. 1.0"
    );
    let mut modes = Vec::new();
    let mut tcp = Vec::new();
    let wanted = std::env::var("SWITCH_BENCH_MODES").unwrap_or_else(|_| {
        "bridge,bridge-nf,fast,fast-auto,redirect,redirect-read,tcp-bridge,tcp-auto".into()
    });
    for name in wanted.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(m) = Mode::ALL.into_iter().find(|m| m.name() == name) {
            if !modes.contains(&m) {
                modes.push(m);
            }
        } else if let Some(t) = [Tcp::Bridge, Tcp::Auto]
            .into_iter()
            .find(|t| t.name() == name)
        {
            if !tcp.contains(&t) {
                tcp.push(t);
            }
        } else {
            bail!(
                "SWITCH_BENCH_MODES: unknown mode {name:?} (known: bridge, bridge-nf, fast, \
                 fast-static, fast-stats, fast-top, fast-top-stats, fast-auto, redirect, redirect-read, \
                 tcp-bridge, tcp-auto)"
            );
        }
    }
    ensure!(
        !modes.is_empty() || !tcp.is_empty(),
        "SWITCH_BENCH_MODES selects nothing"
    );
    let mut receivers = Vec::new();
    let wanted = std::env::var("SWITCH_BENCH_RECEIVER").unwrap_or_else(|_| "xdp,tc".into());
    for name in wanted.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let r = match name {
            "xdp" => Receiver::Xdp,
            "tc" => Receiver::Tc,
            other => bail!("SWITCH_BENCH_RECEIVER: unknown receiver {other:?} (xdp, tc)"),
        };
        if !receivers.contains(&r) {
            receivers.push(r);
        }
    }
    ensure!(
        !receivers.is_empty(),
        "SWITCH_BENCH_RECEIVER selects nothing"
    );

    let affinity = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .context("reading this process's CPU affinity")?;
    let cpus: Vec<usize> = (0..nix::sched::CpuSet::count())
        .filter(|&c| affinity.is_set(c).unwrap_or(false))
        .collect();
    ensure!(
        cpus.len() >= 2,
        "the benchmark needs two CPUs (one generates, one forwards); this process may use {cpus:?}"
    );

    let needs_daemon = modes.iter().any(|m| m.runs_daemon())
        || modes.contains(&Mode::FastAuto)
        || tcp.contains(&Tcp::Auto);
    let switch_ctl = if needs_daemon {
        Some(find_switch_ctl()?)
    } else {
        None
    };
    let xdpdbg = if modes.iter().any(|&m| profiler::needs_xdpdbg(m)) {
        Some(profiler::find_xdpdbg()?)
    } else {
        None
    };
    for tool in [
        ("ethtool", "ethtool"),
        ("bridge", "iproute2"),
        ("ping", "iputils-ping"),
    ] {
        check_tool(tool.0, tool.1)?;
    }
    if !tcp.is_empty() {
        check_tool("iperf3", "iperf3")?;
    }
    Ok(Config {
        rounds,
        window: Duration::from_secs_f64(secs),
        tcp_secs,
        modes,
        tcp,
        receivers,
        gen_cpu: cpus[0],
        fwd_cpu: cpus[1],
        switch_ctl,
        xdpdbg,
        pace_pps: (pace_mpps > 0.0).then_some(pace_mpps * 1e6),
    })
}

/// The daemon binary: `$SWITCH_CTL`, else the `switch-ctl` cargo built along with this
/// benchmark (same profile). It must have the `run` and `status` subcommands.
fn find_switch_ctl() -> Result<PathBuf> {
    let hint = "build it with `cargo build --release -p switch-ctl`, point SWITCH_CTL at a \
                switch-ctl binary, or leave the daemon's modes out with \
                SWITCH_BENCH_MODES=bridge,bridge-nf,redirect,tcp-bridge";
    let path = PathBuf::from(
        std::env::var_os("SWITCH_CTL").unwrap_or_else(|| env!("CARGO_BIN_EXE_switch-ctl").into()),
    );
    ensure!(
        path.is_file(),
        "the daemon binary {} does not exist: {hint}",
        path.display()
    );
    for sub in ["run", "status"] {
        let out = Command::new(&path)
            .args([sub, "--help"])
            .output()
            .with_context(|| format!("running {}", path.display()))?;
        ensure!(
            out.status.success(),
            "{} has no `{sub}` subcommand (the daemon is not in this build): {hint}. It said: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(path)
}
