//! Compare-and-swap against real maps in the kernel (needs root: CAP_BPF).

use aya_obj::generated::{BPF_F_MMAPABLE, bpf_map_type};
use bpf_maps::cas::{Atomicity, Cas, CasError, FieldRef, Outcome};
use bpf_sys::{MapCreate, MapFd};

use testkit::privilege::require_bpf;

fn map(map_type: bpf_map_type, key_size: u32, value_size: u32, flags: u32) -> MapFd {
    MapFd::create(&MapCreate {
        map_type: map_type as u32,
        name: "xdpdbg_test",
        key_size,
        value_size,
        max_entries: 16,
        flags,
        inner_map: None,
    })
    .expect("creating a test map")
}

fn value(a: u64, b: u64) -> Vec<u8> {
    [a.to_ne_bytes(), b.to_ne_bytes()].concat()
}

fn read(map: &MapFd, key: &[u8]) -> Option<(u64, u64)> {
    let mut v = [0u8; 16];
    map.lookup(key, &mut v, 0).unwrap().then(|| {
        (
            u64::from_ne_bytes(v[..8].try_into().unwrap()),
            u64::from_ne_bytes(v[8..].try_into().unwrap()),
        )
    })
}

const SECOND: FieldRef = FieldRef {
    offset: 8,
    width: 8,
};

#[test]
fn hash_swap_mismatch_absent_and_delete() {
    require_bpf();
    let m = map(bpf_map_type::BPF_MAP_TYPE_HASH, 4, 16, 0);
    let key = 7u32.to_ne_bytes();
    m.update(&key, &value(1, 100), bpf_sys::ANY).unwrap();
    let handle = MapFd::from_id(m.info().unwrap().id).unwrap();
    let cas = Cas::new(handle, None).unwrap();
    assert_eq!(cas.atomicity(), Atomicity::AtomicField);

    assert_eq!(
        cas.compare_and_swap(&key, SECOND, 100, 200).unwrap(),
        Outcome::Swapped
    );
    assert_eq!(read(&m, &key), Some((1, 200)));
    assert_eq!(
        cas.compare_and_swap(&key, SECOND, 100, 300).unwrap(),
        Outcome::Mismatch { observed: 200 }
    );
    assert_eq!(read(&m, &key), Some((1, 200)), "a mismatch writes nothing");
    assert_eq!(
        cas.compare_and_swap(&9u32.to_ne_bytes(), SECOND, 0, 1)
            .unwrap(),
        Outcome::Absent
    );

    // 4-byte field: the low half of the second u64 on little-endian.
    let low = FieldRef {
        offset: 8,
        width: 4,
    };
    assert_eq!(
        cas.compare_and_swap(&key, low, 200, 201).unwrap(),
        Outcome::Swapped
    );
    assert_eq!(read(&m, &key), Some((1, 201)));

    assert_eq!(
        cas.compare_and_delete(&key, SECOND, 5, u64::MAX).unwrap(),
        Outcome::Mismatch { observed: 201 }
    );
    assert!(
        read(&m, &key).is_some(),
        "a failed conditional delete keeps the entry"
    );
    assert_eq!(
        cas.compare_and_delete(&key, SECOND, 201, u64::MAX).unwrap(),
        Outcome::Swapped
    );
    assert_eq!(read(&m, &key), None);
}

#[test]
fn bad_arguments_are_refused_before_anything_runs() {
    require_bpf();
    let m = map(bpf_map_type::BPF_MAP_TYPE_HASH, 4, 16, 0);
    let cas = Cas::new(m, None).unwrap();
    let key = 1u32.to_ne_bytes();
    let err = |r: Result<Outcome, CasError>| r.unwrap_err().to_string();
    assert!(err(cas.compare_and_swap(&[0; 8], SECOND, 0, 1)).contains("4-byte keys"));
    assert!(
        err(cas.compare_and_swap(
            &key,
            FieldRef {
                offset: 12,
                width: 8
            },
            0,
            1
        ))
        .contains("outside the 16-byte value")
    );
    assert!(
        err(cas.compare_and_swap(
            &key,
            FieldRef {
                offset: 0,
                width: 2
            },
            0,
            1
        ))
        .contains("4- and 8-byte")
    );
    assert!(
        err(cas.compare_and_swap(
            &key,
            FieldRef {
                offset: 4,
                width: 8
            },
            0,
            1
        ))
        .contains("not aligned")
    );
    assert!(err(cas.compare_and_replace(&key, SECOND, 0, &[0; 16])).contains("bpf_spin_lock"));
}

#[test]
fn arrays_swap_but_cannot_delete() {
    require_bpf();
    let m = map(bpf_map_type::BPF_MAP_TYPE_ARRAY, 4, 16, 0);
    let key = 3u32.to_ne_bytes();
    m.update(&key, &value(0, 5), bpf_sys::ANY).unwrap();
    let cas = Cas::new(MapFd::from_id(m.info().unwrap().id).unwrap(), None).unwrap();
    assert_eq!(
        cas.compare_and_swap(&key, SECOND, 5, 6).unwrap(),
        Outcome::Swapped
    );
    assert_eq!(read(&m, &key), Some((0, 6)));
    let e = cas.compare_and_delete(&key, SECOND, 6, 0).unwrap_err();
    assert!(e.to_string().contains("cannot be deleted"), "{e}");
}

#[test]
fn mmapable_arrays_use_native_atomics() {
    require_bpf();
    let m = map(bpf_map_type::BPF_MAP_TYPE_ARRAY, 4, 16, BPF_F_MMAPABLE);
    let key = 2u32.to_ne_bytes();
    m.update(&key, &value(0, 40), bpf_sys::ANY).unwrap();
    let cas = Cas::new(MapFd::from_id(m.info().unwrap().id).unwrap(), None).unwrap();
    assert_eq!(cas.atomicity(), Atomicity::Mmap);
    assert_eq!(
        cas.compare_and_swap(&key, SECOND, 40, 41).unwrap(),
        Outcome::Swapped
    );
    assert_eq!(
        read(&m, &key),
        Some((0, 41)),
        "the syscall view sees the mmap write"
    );
    assert_eq!(
        cas.compare_and_swap(&key, SECOND, 40, 42).unwrap(),
        Outcome::Mismatch { observed: 41 }
    );
    assert_eq!(
        cas.compare_and_swap(&99u32.to_ne_bytes(), SECOND, 0, 1)
            .unwrap(),
        Outcome::Absent
    );
}

#[test]
fn per_cpu_maps_are_refused_with_the_reason() {
    require_bpf();
    let m = map(bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH, 4, 16, 0);
    let e = Cas::new(m, None).err().expect("per-CPU maps are refused");
    assert!(e.to_string().contains("per-CPU"), "{e}");
}

/// The `locked` map of fixture `map_types`: `struct locked_counter { bpf_spin_lock lock; __u32
/// generation; __u64 packets; }`, whose XDP program adds to `packets` under the lock.
fn locked_fixture() -> (
    aya::Ebpf,
    std::sync::Arc<bpf_sys::ProgFd>,
    MapFd,
    bpf_maps::typed::TypeRef,
) {
    let (ebpf, prog) = testkit::fixture::load_xdp("map_types", "map_types");
    let map = testkit::fixture::map(&ebpf, "locked");
    let info = map.info().unwrap();
    let types =
        bpf_maps::typed::Types::from_bytes(&bpf_sys::btf_data(info.btf_id).unwrap()).unwrap();
    let value = types.get(info.btf_value_type_id).unwrap();
    (ebpf, std::sync::Arc::new(prog), map, value)
}

#[test]
fn spin_lock_values_swap_under_the_lock_without_losing_program_updates() {
    let (_ebpf, prog, map, value) = locked_fixture();
    let lock = value
        .spin_lock_offset()
        .expect("the value holds a bpf_spin_lock") as u32;
    let generation = value.field("generation").unwrap();
    let at = FieldRef {
        offset: generation.offset as u32,
        width: generation.size as u32,
    };
    let cas = Cas::new(MapFd::from_id(map.info().unwrap().id).unwrap(), Some(lock)).unwrap();
    assert_eq!(cas.atomicity(), Atomicity::SpinLock { lock_offset: lock });

    const RUNS: u32 = 200_000;
    let traffic = {
        let prog = prog.clone();
        std::thread::spawn(move || {
            let frame = [0u8; 64];
            for _ in 0..RUNS / 1000 {
                prog.test_run(bpf_sys::TestRun {
                    data_in: Some(&frame),
                    repeat: 1000,
                    ..bpf_sys::TestRun::default()
                })
                .unwrap();
            }
        })
    };
    let key = 0u32.to_ne_bytes();
    let mut swaps = 0u64;
    while !traffic.is_finished() || swaps < 1000 {
        match cas.compare_and_swap(&key, at, swaps, swaps + 1).unwrap() {
            Outcome::Swapped => swaps += 1,
            other => panic!("nobody else writes generation, yet {other:?}"),
        }
    }
    traffic.join().unwrap();

    let mut raw = vec![0u8; value.size()];
    map.lookup(&key, &mut raw, bpf_sys::F_LOCK).unwrap();
    let decoded = value.decode(&raw).unwrap();
    assert_eq!(decoded["generation"], swaps, "every swap landed");
    assert_eq!(
        decoded["packets"], RUNS as u64,
        "the program's locked increments were never overwritten by the swaps"
    );

    // A whole-value replace only if generation still holds what we expect.
    let new = value
        .encode_onto(&format!("generation={},packets=7", swaps + 10), &raw)
        .unwrap();
    assert_eq!(
        cas.compare_and_replace(&key, at, 12345, &new).unwrap(),
        Outcome::Mismatch { observed: swaps }
    );
    assert_eq!(
        cas.compare_and_replace(&key, at, swaps, &new).unwrap(),
        Outcome::Swapped
    );
    map.lookup(&key, &mut raw, bpf_sys::F_LOCK).unwrap();
    let decoded = value.decode(&raw).unwrap();
    assert_eq!(
        (decoded["generation"].clone(), decoded["packets"].clone()),
        (serde_json::json!(swaps + 10), serde_json::json!(7))
    );

    // Under the lock, narrow fields work too; unaligned or outside ones do not.
    assert!(
        cas.compare_and_swap(
            &key,
            FieldRef {
                offset: at.offset,
                width: 2
            },
            (swaps + 10) & 0xffff,
            1
        )
        .is_ok()
    );
    assert!(
        cas.compare_and_swap(
            &key,
            FieldRef {
                offset: 0,
                width: 4
            },
            0,
            1
        )
        .is_err(),
        "the lock itself is never touched"
    );
}
