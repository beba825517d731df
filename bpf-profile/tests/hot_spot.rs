//! The acceptance test of the profiler, on the real kernel: the `hot_spot` fixture runs under
//! BPF_PROG_RUN on one thread while every CPU is sampled; at least 90% of the program's samples
//! must land on the lines its source marks `// hot:`, and the time inside the helper must be
//! charged to the line that calls it (`// hot: helper`). Needs root.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bpf_profile::attribute::Attributor;
use bpf_profile::inventory::Inventory;
use bpf_profile::kallsyms::KernelSymbols;
use bpf_profile::profile::{Profile, ProgramProfile};
use bpf_profile::sampler::{Sampler, SamplerConfig};
use bpf_profile::stats::{self, Reading, StatsGuard};
use bpf_profile::symbols::{ProgramSymbols, Resolution};
use bpf_sys::{ProgFd, TestRun};

/// The 1-based lines of code that end with a comment starting with `marker` (comment-only
/// lines, such as the fixture's header, do not count).
fn marked_lines(source: &str, marker: &str) -> Vec<u32> {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//") && l.contains(marker))
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

/// Runs `prog` with BPF_PROG_RUN on this thread until `stop`, counting runs.
fn drive(prog: &ProgFd, stop: &AtomicBool, runs: &AtomicU64) {
    let packet = [0u8; 64];
    while !stop.load(Ordering::Relaxed) {
        prog.test_run(TestRun {
            data_in: Some(&packet),
            repeat: 2000,
            ..Default::default()
        })
        .expect("BPF_PROG_RUN");
        runs.fetch_add(2000, Ordering::Relaxed);
    }
}

fn line_samples(p: &ProgramProfile, file_suffix: &str, lines: &[u32]) -> u64 {
    p.functions
        .iter()
        .flat_map(|f| &f.lines)
        .filter(|l| l.file.ends_with(file_suffix) && lines.contains(&l.line))
        .map(|l| l.samples)
        .sum()
}

#[test]
fn samples_land_on_the_hot_lines_and_helper_time_on_its_caller() {
    testkit::privilege::require_root(
        "loading an eBPF program, enabling run-time statistics and sampling every CPU",
    );
    let source = fixtures::get("hot_spot").unwrap().source;
    let hot = marked_lines(source, "// hot:");
    let helper_line = marked_lines(source, "// hot: helper");
    assert!(
        hot.len() >= 3 && helper_line.len() == 1,
        "{hot:?} {helper_line:?}"
    );

    let (_ebpf, prog) = testkit::fixture::load_xdp("hot_spot", "hot_spot");
    let info = prog.full_info().unwrap();
    let syms = ProgramSymbols::build(&info).expect("symbols of hot_spot");
    assert_eq!(syms.resolution(), Resolution::Line);
    let names: Vec<&str> = syms.functions().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["hot_spot", "store"], "subprogram names from BTF");
    assert!(
        syms.lines()
            .iter()
            .any(|l| l.text.contains("bpf_csum_diff")),
        "BTF keeps the source text of the lines"
    );

    let kernel = KernelSymbols::load().expect("kernel symbols");
    let mut attributor = Attributor::new(Some(kernel));
    attributor.add_program(Arc::new(syms));

    // A higher rate than the default (still far below perf_event_max_sample_rate) so that a
    // busy shared machine, where this thread gets a fraction of a CPU, still gives enough
    // samples in a few seconds.
    let config = SamplerConfig {
        frequency_hz: 4999,
        ..SamplerConfig::default()
    };
    let mut sampler = Sampler::open(config).expect("sampling every CPU");
    let mut profile = Profile::new();
    let stop = AtomicBool::new(false);
    let runs = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| drive(&prog, &stop, &runs));
        // Until the program has enough samples to judge 90%, or a minute at most.
        while profile.program_samples(info.id) < 1500 && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(50));
            sampler.drain(|r| profile.record(&r, &attributor));
        }
        stop.store(true, Ordering::Relaxed);
    });
    sampler.drain(|r| profile.record(&r, &attributor));
    let report = profile.report(
        &attributor,
        sampler.event(),
        sampler.frequency_hz(),
        start.elapsed(),
        sampler.cpus().len() as u32,
    );
    drop(sampler);
    eprintln!(
        "{} runs; {}",
        runs.load(Ordering::Relaxed),
        serde_json::to_string_pretty(&report).unwrap()
    );

    let p = report
        .programs
        .iter()
        .find(|p| p.id == info.id)
        .expect("the program got samples");
    assert!(
        p.samples >= 1000,
        "too few samples to judge ({}); the program ran {} times",
        p.samples,
        runs.load(Ordering::Relaxed)
    );
    let on_hot = line_samples(p, "hot_spot.bpf.c", &hot);
    let share = on_hot as f64 / p.samples as f64;
    assert!(
        share >= 0.90,
        "only {:.1}% of {} samples on the hot lines {hot:?}",
        share * 100.0,
        p.samples
    );

    // Helper time: charged to the calling line, under the helper's kernel name.
    let helper_total: u64 = p
        .helpers
        .iter()
        .filter(|h| h.name.contains("csum"))
        .map(|h| h.samples)
        .sum();
    assert!(
        helper_total * 20 >= p.samples,
        "bpf_csum_diff should take a good part of the time: {:?}",
        p.helpers
    );
    let on_helper_line: u64 = p
        .functions
        .iter()
        .flat_map(|f| &f.lines)
        .filter(|l| l.line == helper_line[0])
        .flat_map(|l| &l.helpers)
        .filter(|h| h.name.contains("csum"))
        .map(|h| h.samples)
        .sum();
    assert_eq!(
        on_helper_line, helper_total,
        "every csum sample is charged to line {}",
        helper_line[0]
    );
    assert!(report.samples.total >= report.samples.in_programs);
    assert!(report.folded().contains(&format!(":{};", helper_line[0])));
}

#[test]
fn inventory_and_rates_see_the_program() {
    testkit::privilege::require_root(
        "loading an eBPF program, enabling run-time statistics and sampling every CPU",
    );
    let (ebpf, prog) = testkit::fixture::load_xdp("hot_spot", "hot_spot");
    let id = prog.info().unwrap().id;
    let mut inventory = Inventory::new();
    let guard = StatsGuard::enable().expect("BPF_ENABLE_STATS");
    let first = inventory.refresh().expect("inventory");
    let me = first
        .programs
        .iter()
        .find(|p| p.id == id)
        .expect("our program is listed");
    assert_eq!(
        (me.prog_type.as_str(), me.name.as_str()),
        ("xdp", "hot_spot")
    );
    assert!(first.appeared.contains(&id));
    assert!(me.btf_id != 0);
    let pid = std::process::id();
    assert!(
        me.owners.iter().any(|o| o.pid == pid),
        "this process holds the program: {:?}",
        me.owners
    );
    let a = Reading::from_snapshot(&first);
    let packet = [0u8; 64];
    prog.test_run(TestRun {
        data_in: Some(&packet),
        repeat: 5000,
        ..Default::default()
    })
    .unwrap();
    let second = inventory.refresh().unwrap();
    assert!(!second.appeared.contains(&id), "seen before: not new");
    let b = Reading::from_snapshot(&second);
    let rates = stats::rates(&a, &b, bpf_profile::cpus::online().unwrap().len());
    let r = rates.iter().find(|r| r.id == id).unwrap();
    assert_eq!(r.status, stats::RateStatus::Measured);
    assert!(
        r.runs_per_sec > 0.0 && r.avg_run_ns.is_some_and(|ns| ns > 0.0),
        "{r:?}"
    );
    assert!(r.cpu_percent > 0.0 && r.cpu_percent <= 100.0, "{r:?}");
    drop(guard);
    // The snapshot outlives the program.
    drop(prog);
    drop(ebpf);
    let third = inventory.refresh().unwrap();
    assert!(third.vanished.contains(&id));
    assert!(inventory.info(id).is_some_and(|i| i.name == "hot_spot"));
}
