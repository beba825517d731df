//! Map benchmarks (needs root): `cargo bench -p xdpdbg --bench map`.
//!
//! Two comparisons, each against its baseline in the same run, interleaved round by round (the
//! order rotates every round), median of the rounds; the method is in docs/benchmarks.md.
//!
//! * Dump: the `bench_fdb` fixture's `fdb` hash map filled with 1,000,000 entries, dumped as
//!   JSON by `xdpdbg map dump --json <ID>` and by `bpftool map dump id <ID> -j` (both to
//!   /dev/null), wall time and peak RSS of each process.
//! * Compare-and-swap on one pinned core: `Cas` on a hash map (syscall program) and on a
//!   `BPF_F_MMAPABLE` array, against a plain (non-atomic) lookup + update pair of syscalls.
//!
//! Nothing is pinned: every map and program lives only as long as this process holds its file
//! descriptor, so any exit (normal, panic, Ctrl-C) frees them. Child processes are killed and
//! reaped if the benchmark unwinds while they run. Only a markdown table goes to stdout;
//! progress goes to stderr.
//!
//! Environment: `XDPDBG_BIN` (the `xdpdbg` binary; default `target/release/xdpdbg` next to this
//! benchmark), `BPFTOOL` (default `bpftool`), `XDPDBG_BENCH_ROUNDS` (default 5, at least 3),
//! `XDPDBG_BENCH_SECS` (seconds per compare-and-swap round, default 1.5).
//!
//! The modules: `dump` (the dump comparison), `dump_json` (checking both dumps' JSON without
//! holding it), `spawner` (wall time and peak RSS of one command), `cas` (compare-and-swap).

mod cas;
mod dump;
mod dump_json;
mod spawner;

use std::fmt::Write as _;
use std::time::Duration;

use testkit::bench::{env, machine};

use crate::cas::cas_bench;
use crate::dump::dump_bench;
use crate::spawner::{SPAWN_ENV, spawner};

fn main() {
    if std::env::var_os(SPAWN_ENV).is_some() {
        spawner();
    }
    // `cargo bench` passes `--bench`; a filter argument is not supported, nor needed.
    if let Err(missing) =
        testkit::privilege::check_root("the map benchmarks load eBPF programs and create maps")
    {
        eprintln!("{missing}: run them as root");
        std::process::exit(1);
    }
    let rounds = env::parse_or_exit("XDPDBG_BENCH_ROUNDS", 5usize).max(3);
    let secs = env::parse_or_exit("XDPDBG_BENCH_SECS", 1.5f64).max(0.1);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "## Map benchmarks\n\n{}, {rounds} interleaved rounds, medians\n",
        machine::summary(),
    );

    dump_bench(rounds, &mut report);
    // On its own thread so the pinning does not leak into the dump part's children.
    let cas = std::thread::spawn(move || cas_bench(rounds, Duration::from_secs_f64(secs)))
        .join()
        .expect("the compare-and-swap benchmark panicked");
    report.push_str(&cas);
    println!("{report}");
}
