//! Forwarding benchmark of the concealed XDP switch (needs root):
//! `cargo bench -p switch-ctl --bench forward`.
//!
//! 60-byte UDP/IPv4 frames (64 on the wire) from h1 to h2 through the bridge of a netlab lab, in
//! four forwarding modes measured in the same run, interleaved round by round (the order rotates
//! every round):
//!
//! * `bridge`: the plain Linux bridge, `bridge-nf-call-{iptables,ip6tables,arptables}` = 0;
//! * `bridge-nf`: the plain bridge with nf-call = 1 (the kernel's default, no rules);
//! * `fast`: the switch's fast path: the `switch-ctl run` daemon, ports in mode `xdp`;
//! * `redirect`: the ceiling: an XDP program on p1 that redirects every frame to p2 through a
//!   one-entry devmap, deciding nothing.
//!
//! Plus TCP (iperf3, h1 to h2, default offloads) through the plain bridge (`tcp-bridge`) and
//! through the daemon in mode `auto` (`tcp-auto`).
//!
//! Method (docs/benchmarks.md has the long version): every measurement gets a fresh lab. The
//! generator is `bench_gen` (switch-ebpf's `bench.bpf.c`) run with `BPF_PROG_RUN` and
//! `BPF_F_TEST_XDP_LIVE_FRAMES` on h1's eth0, from a thread inside h1's namespace pinned to one
//! CPU: the program returns `XDP_TX`, so frames really leave eth0 towards the bridge port p1.
//! p1 gets NAPI (GRO on for the plain bridge; the XDP program otherwise), then threaded NAPI,
//! and its NAPI thread is pinned to the other CPU at nice -20. Frames are counted at the
//! receiver, h2's eth0: an XDP program that counts and drops them (`xdp`), or a tc ingress
//! program with GRO on (`tc`, the usual container interface); each receiver gets its own
//! interleaved set of rounds. Rate = receiver count over the measurement window; CPU cost = the
//! NAPI thread's run time (`/proc/PID/schedstat`) over the frames received. The fast path's own
//! counter (`switch-ctl status`) must account for every received frame.
//!
//! Everything is removed on every path: labs tear themselves down on drop and on signals, eBPF
//! programs and maps are released with their file descriptors, and the daemon is sent SIGTERM
//! by a drop guard (and by the kernel, `PR_SET_PDEATHSIG`, if this process dies). Nothing runs
//! or is attached outside the lab's namespaces.
//!
//! Only a markdown report goes to stdout; progress goes to stderr. The daemon's modes fail the
//! benchmark, with the reason, when the daemon is missing or does not attach; they are never
//! skipped silently.
//!
//! Environment:
//! * `SWITCH_CTL`: the daemon binary (default: the `switch-ctl` cargo builds with this bench);
//! * `SWITCH_BENCH_ROUNDS`: rounds (default 5, at least 3);
//! * `SWITCH_BENCH_SECS`: the window of a frame-rate measurement (default 2.5; after 0.5 s of
//!   warm-up);
//! * `SWITCH_BENCH_PACE_MPPS`: pace the generator to this many million frames per second
//!   (bursts of 64, one NAPI poll's worth; the generator waits inside its program between
//!   bursts), the same in every mode; 0 (the default) offers all it can. Paced below the
//!   slowest mode's capacity, no mode has a surplus, and the fast path's target is judged on
//!   the CPU cost per frame at that load;
//! * `SWITCH_BENCH_TCP_SECS`: iperf3 time of a TCP measurement (default 5);
//! * `SWITCH_BENCH_MODES`: a comma-separated subset of `bridge,bridge-nf,fast,redirect,
//!   tcp-bridge,tcp-auto` (default: all of them), plus `fast-static`, the fast path with static
//!   FDB entries (which skips the per-frame refresh check), `fast-auto`, the fast path of a
//!   default install (`--default-mode auto`: TC on the veth ports, GRO on p1 for its NAPI),
//!   `fast-stats` (run-time statistics on), and `fast-top` and `fast-top-stats`, the fast path
//!   while `xdpdbg top` profiles it (samples; `--stats`);
//! * `XDPDBG_BIN`: the profiler of the `fast-top` modes (default: `target/release/xdpdbg`,
//!   built with `cargo build --release -p xdpdbg`);
//! * `SWITCH_BENCH_RECEIVER`: `xdp`, `tc`, or both (default `xdp,tc`);
//! * `SWITCH_BENCH_DEBUG`: set to print the interfaces' statistics after each frame-rate
//!   measurement.
//!
//! The modules: `config` (modes and environment), `lab` (the lab and its NAPI thread), `cpu`
//! (pinning and CPU time), `ebpf` (the generator, receivers and redirect), `daemon` (the
//! `switch-ctl run` child), `frame_rate` and `tcp` (the measurements and their reports),
//! `profiler` (`xdpdbg top` during the fast-top modes, and what it costs).

mod config;
mod cpu;
mod daemon;
mod ebpf;
mod frame_rate;
mod lab;
mod profiler;
mod tcp;

use std::fmt::Write as _;

use anyhow::Result;
use testkit::bench::machine;

use crate::config::config;
use crate::frame_rate::frame_bench;
use crate::tcp::tcp_bench;

const BRIDGE: &str = "br0";
const INGRESS_PORT: &str = "p1";
const EGRESS_PORT: &str = "p2";

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported, nor needed.
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    testkit::privilege::check_root(
        "the forwarding benchmark builds network namespaces and attaches eBPF programs",
    )?;
    let config = config()?;
    eprintln!(
        "forward: generator on CPU {}, forwarder (p1's NAPI thread) on CPU {}, receivers {:?}, \
         {} rounds",
        config.gen_cpu, config.fwd_cpu, config.receivers, config.rounds
    );
    let mut report = String::new();
    let _ = writeln!(
        report,
        "## Switch forwarding benchmark\n\n{}, {} interleaved rounds, a fresh lab per \
         measurement\n",
        machine::summary(),
        config.rounds,
    );
    if !config.modes.is_empty() {
        for &receiver in &config.receivers {
            report.push_str(&frame_bench(&config, receiver)?);
        }
    }
    if !config.tcp.is_empty() {
        report.push_str(&tcp_bench(&config)?);
    }
    println!("{report}");
    Ok(())
}
