//! Whole-map consistent snapshots through `bpf_maps/snapshot.h` (needs root).
//!
//! The fixture `snapshot_counters` adds to two entries in every run, so a consistent snapshot
//! always shows them equal, and once traffic stops it shows exactly the runs made.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bpf_maps::{OpenMap, Schema, consistent};
use bpf_sys::TestRun;

fn packets(schema: &Schema, c: &consistent::Consistent) -> (u64, u64, u64) {
    let mut p = [0u64; 2];
    let mut bytes = 0;
    for (k, v) in c.entries.iter() {
        let key = u32::from_ne_bytes(k.try_into().unwrap()) as usize;
        let value = schema.decode_value(v);
        p[key] = value["packets"].as_u64().unwrap();
        if key == 0 {
            bytes = value["bytes"].as_u64().unwrap();
        }
    }
    (p[0], p[1], bytes)
}

#[test]
fn snapshots_are_consistent_under_traffic_and_exact_after() {
    let (ebpf, prog) = testkit::fixture::load_xdp("snapshot_counters", "snapshot_counters");
    let prog = Arc::new(prog);
    let outer = testkit::fixture::map(&ebpf, "stats");
    consistent::install(
        &outer,
        &testkit::fixture::map(&ebpf, "stats_a"),
        &testkit::fixture::map(&ebpf, "stats_b"),
    )
    .unwrap();
    let outer = OpenMap {
        info: outer.info().unwrap(),
        fd: outer,
    };

    const BATCHES: u64 = 200;
    const REPEAT: u32 = 500;
    let running = Arc::new(AtomicBool::new(true));
    let traffic = {
        let (prog, running) = (prog.clone(), running.clone());
        std::thread::spawn(move || {
            let frame = [0u8; 64];
            for _ in 0..BATCHES {
                prog.test_run(TestRun {
                    data_in: Some(&frame),
                    repeat: REPEAT,
                    ..TestRun::default()
                })
                .unwrap();
            }
            running.store(false, Ordering::SeqCst);
        })
    };

    let mut snapshots = 0;
    let mut last = 0;
    while running.load(Ordering::SeqCst) {
        let c = consistent::take(&outer).unwrap();
        let (first, second, bytes) = packets(&c.schema, &c);
        assert_eq!(first, second, "a snapshot split one program run");
        assert_eq!(bytes, 64 * first, "packets and bytes of one entry disagree");
        assert!(first >= last, "counters went backwards: {first} < {last}");
        last = first;
        snapshots += 1;
    }
    traffic.join().unwrap();
    let c = consistent::take(&outer).unwrap();
    let (first, second, _) = packets(&c.schema, &c);
    let runs = BATCHES * REPEAT as u64;
    assert_eq!(
        (first, second),
        (runs, runs),
        "the final snapshot must count every run"
    );
    assert!(
        snapshots > 10,
        "only {snapshots} snapshots were taken under traffic"
    );
    eprintln!("{snapshots} consistent snapshots under traffic; final count {first}");
}
