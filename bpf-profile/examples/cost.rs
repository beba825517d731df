//! What the profiler's parts cost on this machine (needs root; loads 1,000 trivial XDP programs
//! and the `hot_spot` fixture, all freed on exit):
//! - refreshing an [`Inventory`] of 1,000 programs (the first refresh reads every program's
//!   full info; later ones read counters only), and the `/proc` owner scan alone;
//! - the time per run of a trivial program and of `hot_spot`, with statistics off, on
//!   (`BPF_ENABLE_STATS`), and while sampling every CPU at the default 999 Hz (best of five
//!   `BPF_PROG_RUN`s each, as the kernel measures them).
//!
//! ```sh
//! cargo build --release -p bpf-profile --example cost && sudo target/release/examples/cost
//! ```

use std::os::fd::AsFd;
use std::time::Instant;

use aya_obj::generated::{bpf_insn, bpf_prog_type};
use bpf_profile::inventory::Inventory;
use bpf_profile::sampler::{Sampler, SamplerConfig};
use bpf_profile::stats::StatsGuard;
use bpf_sys::{ProgFd, ProgLoad, TestRun};

fn insn(code: u8, imm: i32) -> bpf_insn {
    // SAFETY: bpf_insn is plain integers; all-zero is a valid value.
    let mut insn: bpf_insn = unsafe { std::mem::zeroed() };
    insn.code = code;
    insn.imm = imm;
    insn
}

/// The best of five runs' average time per run, in ns.
fn per_run(prog: &ProgFd, repeat: u32) -> u32 {
    let packet = [0u8; 64];
    (0..5)
        .map(|_| {
            prog.test_run(TestRun {
                data_in: Some(&packet),
                repeat,
                ..Default::default()
            })
            .expect("BPF_PROG_RUN")
            .duration_ns
        })
        .min()
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let insns = [insn(0xb7, 2), insn(0x95, 0)];
    let spec = ProgLoad {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_XDP as u32,
        insns: &insns,
        license: "GPL",
        name: "cost",
        ..Default::default()
    };
    let progs = (0..1000)
        .map(|_| ProgFd::load(&spec).map_err(|(e, _)| e))
        .collect::<Result<Vec<_>, _>>()?;

    let mut inventory = Inventory::new();
    for round in 0..4 {
        let t = Instant::now();
        let snapshot = inventory.refresh()?;
        let what = if round == 0 { "first" } else { "next" };
        println!(
            "{what} inventory refresh: {} programs in {:?}",
            snapshot.programs.len(),
            t.elapsed()
        );
    }
    let t = Instant::now();
    let owned = bpf_profile::owners::scan().len();
    println!(
        "owner scan alone: {owned} programs owned, {:?}",
        t.elapsed()
    );

    let f = fixtures::get("hot_spot").ok_or("no hot_spot fixture")?;
    let mut ebpf = aya::Ebpf::load(f.object)?;
    let xdp: &mut aya::programs::Xdp = ebpf
        .program_mut("hot_spot")
        .ok_or("no hot_spot program")?
        .try_into()?;
    xdp.load()?;
    let hot = ProgFd::from_fd(xdp.fd()?.as_fd().try_clone_to_owned()?);
    for (name, prog, repeat) in [("trivial", &progs[0], 1_000_000), ("hot_spot", &hot, 2000)] {
        let off = per_run(prog, repeat);
        let stats = StatsGuard::enable()?;
        let on = per_run(prog, repeat);
        drop(stats);
        let sampler = Sampler::open(SamplerConfig::default())?;
        let sampled = per_run(prog, repeat);
        let event = sampler.event().name();
        drop(sampler);
        println!(
            "{name}: {off} ns per run; statistics on: {on} ns; sampling ({event}, 999 Hz): \
             {sampled} ns"
        );
    }
    Ok(())
}
