//! Compare-and-swap on one pinned core: `Cas` on a hash map (syscall program) and on a
//! `BPF_F_MMAPABLE` array, against a plain (non-atomic) lookup + update pair of syscalls.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use aya_obj::generated::{BPF_F_MMAPABLE, bpf_map_type};
use bpf_maps::cas::{Cas, FieldRef, Outcome};
use bpf_sys::{MapCreate, MapFd};
use testkit::bench::rounds::rotation;
use testkit::bench::stats::{median, min_max, per_round_ratios};
use testkit::bench::table::{Align, Table};

const CAS_TARGET_OPS: f64 = 300_000.0;
const CAS_KEYS: u32 = 1024;
const FIELD: FieldRef = FieldRef {
    offset: 0,
    width: 8,
};

fn create(name: &str, map_type: bpf_map_type, flags: u32) -> MapFd {
    let map = MapFd::create(&MapCreate {
        map_type: map_type as u32,
        name,
        key_size: 4,
        value_size: 8,
        max_entries: CAS_KEYS,
        flags,
        inner_map: None,
    })
    .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    for k in 0..CAS_KEYS {
        map.update(&k.to_ne_bytes(), &0u64.to_ne_bytes(), bpf_sys::ANY)
            .unwrap();
    }
    map
}

/// One way of doing "if the value is `expected`, make it `desired`".
enum Variant {
    Cas(Cas),
    LookupUpdate(MapFd),
}

impl Variant {
    fn op(&self, key: &[u8; 4], expected: u64, desired: u64) {
        match self {
            Variant::Cas(c) => {
                let o = c.compare_and_swap(key, FIELD, expected, desired).unwrap();
                assert_eq!(o, Outcome::Swapped);
            }
            Variant::LookupUpdate(m) => {
                let mut v = [0u8; 8];
                assert!(m.lookup(key, &mut v, 0).unwrap());
                assert_eq!(u64::from_ne_bytes(v), expected);
                m.update(key, &desired.to_ne_bytes(), bpf_sys::ANY).unwrap();
            }
        }
    }
}

struct Bench {
    label: &'static str,
    variant: Variant,
    /// What each key holds now (this thread is the only writer).
    values: Vec<u64>,
    rates: Vec<f64>,
}

impl Bench {
    fn round(&mut self, length: Duration) -> f64 {
        let start = Instant::now();
        let mut ops = 0u64;
        let mut k = 0u32;
        loop {
            for _ in 0..1000 {
                let v = self.values[k as usize];
                self.variant.op(&k.to_ne_bytes(), v, v + 1);
                self.values[k as usize] = v + 1;
                k = (k + 1) % CAS_KEYS;
            }
            ops += 1000;
            let e = start.elapsed();
            if e >= length {
                let rate = ops as f64 / e.as_secs_f64();
                self.rates.push(rate);
                return rate;
            }
        }
    }
}

/// Runs the compare-and-swap comparison over `rounds` interleaved rounds of `length` each;
/// returns its section of the report.
pub fn cas_bench(rounds: usize, length: Duration) -> String {
    let cpu = nix::sched::sched_getcpu().unwrap_or(0);
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).expect("cpu in range");
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
        .expect("pinning the benchmark thread");
    eprintln!("cas: pinned to CPU {cpu}");

    let hash = create("bench_cas_hash", bpf_map_type::BPF_MAP_TYPE_HASH, 0);
    let array = create(
        "bench_cas_mmap",
        bpf_map_type::BPF_MAP_TYPE_ARRAY,
        BPF_F_MMAPABLE,
    );
    let plain = create("bench_cas_plain", bpf_map_type::BPF_MAP_TYPE_HASH, 0);
    let hash_cas = Cas::new(hash, None).expect("Cas on a hash map");
    let array_cas = Cas::new(array, None).expect("Cas on an mmapable array");
    let atomicity = [hash_cas.atomicity(), array_cas.atomicity()];
    let mut benches = [
        Bench {
            label: "lookup + update syscalls, hash (baseline, not atomic)",
            variant: Variant::LookupUpdate(plain),
            values: vec![0; CAS_KEYS as usize],
            rates: vec![],
        },
        Bench {
            label: "`Cas`, hash map (syscall program, BPF_PROG_RUN)",
            variant: Variant::Cas(hash_cas),
            values: vec![0; CAS_KEYS as usize],
            rates: vec![],
        },
        Bench {
            label: "`Cas`, BPF_F_MMAPABLE array (native atomics)",
            variant: Variant::Cas(array_cas),
            values: vec![0; CAS_KEYS as usize],
            rates: vec![],
        },
    ];
    eprintln!("cas: atomicity {atomicity:?}");
    // Warm-up, not recorded.
    for b in &mut benches {
        b.round(Duration::from_millis(200));
        b.rates.clear();
    }
    let n = benches.len();
    for round in 0..rounds {
        for k in rotation(round, n) {
            let b = &mut benches[k];
            let rate = b.round(length);
            eprintln!("cas: round {} {:55} {rate:12.0} ops/s", round + 1, b.label);
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Compare-and-swap on one pinned core\n\n8-byte values, 4-byte keys, {CAS_KEYS} keys \
         in turn, every swap verified to succeed; {:.1} s per round.\n",
        length.as_secs_f64()
    );
    let mut table = Table::new(&[
        ("method", Align::Left),
        ("median ops/s", Align::Right),
        ("min–max ops/s", Align::Right),
        ("vs baseline (median of per-round ratios)", Align::Right),
    ]);
    let base = &benches[0].rates;
    for b in &benches {
        let (lo, hi) = min_max(&b.rates);
        // Paired per round, as for the dump.
        let per_round = per_round_ratios(&b.rates, base);
        table.row([
            b.label.to_string(),
            format!("{:.0}", median(&b.rates)),
            format!("{lo:.0}–{hi:.0}"),
            format!("{:.2}x", median(&per_round)),
        ]);
    }
    out.push_str(&table.to_string());
    let hash_rate = median(&benches[1].rates);
    let _ = writeln!(
        out,
        "\nSyscall-program path: **{hash_rate:.0} CAS/s** (target ≥ {CAS_TARGET_OPS:.0}: {})",
        if hash_rate >= CAS_TARGET_OPS {
            "met"
        } else {
            "MISSED"
        }
    );
    out
}
