//! The paper's ageing race, reproduced and solved (needs root).
//!
//! An XDP program (fixture `ageing_refresh`) refreshes entries' `last_seen` under traffic from
//! another thread (BPF_PROG_RUN on the second CPU) while an ager deletes stale entries. Each
//! round makes every entry stale, then lets traffic and ager run at once. The program records
//! every refresh that succeeded (`refreshed`), so an entry that is gone at the end of a round
//! although it was refreshed during the round is a live entry lost.
//!
//! With plain lookup-then-delete, entries are lost. With the compare-and-swap protocol
//! (`Cas::age_out`), none is, over thousands of rounds, while the ager still ages entries out
//! and still meets refreshes in the window (its swap fails instead of deleting).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use bpf_maps::cas::{Cas, DYING, FieldRef, Outcome};
use bpf_sys::{MapFd, ProgFd, TestRun};
use nix::time::{ClockId, clock_gettime};

const FLOWS: u32 = 8;
const LAST_SEEN: FieldRef = FieldRef {
    offset: 0,
    width: 8,
};

struct Rig {
    _ebpf: aya::Ebpf,
    prog: Arc<ProgFd>,
    entries: MapFd,
    refreshed: MapFd,
}

/// The races need both CPUs: one for traffic, one for the ager. Run in parallel with each other,
/// the two tests would take turns on the CPUs and the window would rarely open.
static ONE_RACE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rig() -> Rig {
    let (ebpf, prog) = testkit::fixture::load_xdp("ageing_refresh", "ageing_refresh");
    Rig {
        prog: Arc::new(prog),
        entries: testkit::fixture::map(&ebpf, "entries"),
        refreshed: testkit::fixture::map(&ebpf, "refreshed"),
        _ebpf: ebpf,
    }
}

fn now_ns() -> u64 {
    let t = clock_gettime(ClockId::CLOCK_MONOTONIC).unwrap();
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

fn last_seen(map: &MapFd, flow: u32) -> Option<u64> {
    let mut v = [0u8; 16];
    map.lookup(&flow.to_ne_bytes(), &mut v, 0)
        .unwrap()
        .then(|| u64::from_ne_bytes(v[..8].try_into().unwrap()))
}

#[derive(Debug, Default)]
struct Tally {
    rounds: u32,
    aged_out: u64,
    lost: u64,
    refreshed_in_window: u64,
}

/// Runs rounds until `enough` says stop; `age` ages one stale entry and says whether it deleted
/// it (`Some(true)`), found it refreshed (`Some(false)`), or found nothing (`None`).
fn race(
    rig: &Rig,
    max_rounds: u32,
    enough: impl Fn(&Tally) -> bool,
    age: impl Fn(u32, u64) -> Option<bool>,
) -> Tally {
    let barrier = Arc::new(Barrier::new(2));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (barrier, stop, done, prog) = (
            barrier.clone(),
            stop.clone(),
            done.clone(),
            rig.prog.clone(),
        );
        std::thread::spawn(move || {
            let mut frame = [0u8; 64];
            loop {
                barrier.wait();
                if done.load(Ordering::SeqCst) {
                    return;
                }
                'round: loop {
                    for flow in 0..FLOWS {
                        if stop.load(Ordering::Relaxed) {
                            break 'round;
                        }
                        frame[14..18].copy_from_slice(&flow.to_ne_bytes());
                        prog.test_run(TestRun {
                            data_in: Some(&frame),
                            repeat: 1,
                            ..TestRun::default()
                        })
                        .expect("BPF_PROG_RUN of the XDP program");
                    }
                }
                barrier.wait();
            }
        })
    };

    let mut tally = Tally::default();
    while tally.rounds < max_rounds && !enough(&tally) {
        for flow in 0..FLOWS {
            let stale = [1u64.to_ne_bytes(), 0u64.to_ne_bytes()].concat();
            rig.entries
                .update(&flow.to_ne_bytes(), &stale, bpf_sys::ANY)
                .unwrap();
            rig.refreshed
                .update(&flow.to_ne_bytes(), &0u64.to_ne_bytes(), bpf_sys::ANY)
                .unwrap();
        }
        let start = now_ns();
        stop.store(false, Ordering::SeqCst);
        barrier.wait();
        for flow in 0..FLOWS {
            match last_seen(&rig.entries, flow) {
                Some(seen) if seen < start => match age(flow, seen) {
                    Some(true) => tally.aged_out += 1,
                    Some(false) => tally.refreshed_in_window += 1,
                    None => {}
                },
                _ => {}
            }
        }
        stop.store(true, Ordering::SeqCst);
        barrier.wait();
        for flow in 0..FLOWS {
            let mut t = [0u8; 8];
            rig.refreshed
                .lookup(&flow.to_ne_bytes(), &mut t, 0)
                .unwrap();
            let refreshed_at = u64::from_ne_bytes(t);
            if last_seen(&rig.entries, flow).is_none() && refreshed_at >= start {
                tally.lost += 1;
            }
        }
        tally.rounds += 1;
    }
    done.store(true, Ordering::SeqCst);
    barrier.wait();
    traffic.join().unwrap();
    tally
}

#[test]
fn plain_lookup_then_delete_loses_live_entries() {
    let _alone = ONE_RACE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rig = rig();
    // At least 5,000 rounds; on a busy machine, more until the race shows (up to 200,000).
    let tally = race(
        &rig,
        200_000,
        |t| t.rounds >= 5_000 && t.lost > 0,
        |flow, _seen| Some(rig.entries.delete(&flow.to_ne_bytes()).unwrap()),
    );
    eprintln!("plain delete: {tally:?}");
    assert!(
        tally.aged_out > 0,
        "the ager never deleted anything: {tally:?}"
    );
    assert!(
        tally.lost > 0,
        "plain lookup-then-delete should lose entries refreshed between the read and the \
         delete; saw {tally:?}"
    );
}

#[test]
fn compare_and_swap_ageing_never_loses_a_live_entry() {
    let _alone = ONE_RACE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rig = rig();
    let cas = Cas::new(
        MapFd::from_id(rig.entries.info().unwrap().id).unwrap(),
        None,
    )
    .unwrap();
    // At least 20,000 rounds; on a busy machine (where the writer may rarely run inside the
    // window), more until the window has been hit (up to 200,000).
    let tally = race(
        &rig,
        200_000,
        |t| t.rounds >= 20_000 && t.refreshed_in_window > 0,
        |flow, seen| match cas.age_out(&flow.to_ne_bytes(), LAST_SEEN, seen).unwrap() {
            Outcome::Swapped => Some(true),
            Outcome::Mismatch { observed } => {
                assert_ne!(observed, DYING, "only this ager writes the tombstone");
                Some(false)
            }
            Outcome::Absent => None,
        },
    );
    eprintln!("compare-and-swap ageing: {tally:?}");
    assert!(tally.rounds >= 20_000, "{tally:?}");
    assert!(
        tally.aged_out > 0,
        "the ager never aged anything out: {tally:?}"
    );
    assert!(
        tally.refreshed_in_window > 0,
        "the race window was never hit, so this run proves nothing: {tally:?}"
    );
    assert_eq!(tally.lost, 0, "a live entry was aged out: {tally:?}");
}
