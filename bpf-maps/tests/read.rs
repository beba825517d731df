//! Reading whole maps: one batch at a time, on a second thread, and all at once (needs root).

use std::collections::HashSet;

use aya_obj::generated::{BPF_F_NO_PREALLOC, bpf_map_type};
use bpf_maps::read::{self, Batch, ReadMethod, Reader};
use bpf_maps::{MapError, OpenMap};
use bpf_sys::{MapCreate, MapFd};

use testkit::privilege::require_bpf;

fn create(map_type: bpf_map_type, name: &str, key_size: u32, max: u32, flags: u32) -> OpenMap {
    let fd = MapFd::create(&MapCreate {
        map_type: map_type as u32,
        name,
        key_size,
        value_size: 8,
        max_entries: max,
        flags,
        inner_map: None,
    })
    .unwrap();
    let info = fd.info().unwrap();
    OpenMap { fd, info }
}

/// A hash map with `n` entries: key `k` holds `3k`.
fn hash(name: &str, max: u32, n: u32) -> OpenMap {
    let m = create(bpf_map_type::BPF_MAP_TYPE_HASH, name, 4, max, 0);
    for k in 0..n {
        m.fd.update(
            &k.to_ne_bytes(),
            &(u64::from(k) * 3).to_ne_bytes(),
            bpf_sys::ANY,
        )
        .unwrap();
    }
    m
}

fn pairs<'a>(entries: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Vec<(u32, u64)> {
    entries
        .map(|(k, v)| {
            (
                u32::from_ne_bytes(k.try_into().unwrap()),
                u64::from_ne_bytes(v.try_into().unwrap()),
            )
        })
        .collect()
}

#[test]
fn streamed_batches_hold_what_read_all_reads_in_the_same_order() {
    require_bpf();
    let m = hash("read_test_stream", 20_000, 10_000);
    let whole = read::read_all(&m).unwrap();
    assert_eq!(whole.method, ReadMethod::BatchPerBucket);
    assert_eq!(whole.len(), 10_000);

    let mut streamed = Vec::new();
    let mut sizes = Vec::new();
    let method = read::stream(&m, |batch| {
        assert_eq!(batch.method(), ReadMethod::BatchPerBucket);
        sizes.push(batch.len());
        streamed.extend(pairs(batch.iter()));
        Ok::<_, MapError>(())
    })
    .unwrap();
    assert_eq!(method, ReadMethod::BatchPerBucket);
    assert_eq!(streamed, pairs(whole.iter()), "same entries, same order");
    assert!(
        sizes.len() >= 3 && sizes.iter().all(|&n| n > 0 && n <= 4096),
        "batches of at most 4,096 entries: {sizes:?}"
    );
    assert!(streamed.iter().all(|&(k, v)| v == u64::from(k) * 3));
    assert_eq!(read::count(&m).unwrap(), 10_000);
}

#[test]
fn a_bucket_larger_than_the_batch_grows_it() {
    require_bpf();
    // 1,000 entries in 1,024 buckets: many buckets hold two or more.
    let m = hash("read_test_grow", 1024, 1000);
    let mut reader = Reader::new(&m).unwrap();
    let mut batch = Batch::with_room(&m, 1).unwrap();
    let mut keys = HashSet::new();
    while reader.read_into(&mut batch).unwrap() {
        for (k, _) in pairs(batch.iter()) {
            assert!(keys.insert(k), "key {k} came twice");
        }
    }
    assert_eq!(keys.len(), 1000);
    assert!(
        batch.room() >= 2,
        "a bucket of several entries made room ({})",
        batch.room()
    );
}

#[test]
fn maps_without_batches_are_read_element_by_element() {
    require_bpf();
    // LPM tries have no batch lookups: 4-byte prefix length, 4-byte address.
    let m = create(
        bpf_map_type::BPF_MAP_TYPE_LPM_TRIE,
        "read_test_lpm",
        8,
        64,
        BPF_F_NO_PREALLOC,
    );
    for i in 0..20u32 {
        let mut key = [0u8; 8];
        key[..4].copy_from_slice(&32u32.to_ne_bytes());
        key[4..].copy_from_slice(&[10, 0, 0, i as u8]);
        m.fd.update(&key, &u64::from(i).to_ne_bytes(), bpf_sys::ANY)
            .unwrap();
    }
    let mut values = Vec::new();
    let method = read::stream(&m, |batch| {
        assert_eq!(batch.method(), ReadMethod::PerElement);
        values.extend(
            batch
                .iter()
                .map(|(_, v)| u64::from_ne_bytes(v.try_into().unwrap())),
        );
        Ok::<_, MapError>(())
    })
    .unwrap();
    assert_eq!(method, ReadMethod::PerElement);
    values.sort_unstable();
    assert_eq!(values, (0..20).collect::<Vec<u64>>());
    assert_eq!(read::read_all(&m).unwrap().len(), 20);
    assert_eq!(read::count(&m).unwrap(), 20);
}

#[test]
fn empty_maps_stream_no_batch_and_name_their_method() {
    require_bpf();
    let m = hash("read_test_empty", 16, 0);
    let mut batches = 0;
    let method = read::stream(&m, |_| {
        batches += 1;
        Ok::<_, MapError>(())
    })
    .unwrap();
    assert_eq!((batches, method), (0, ReadMethod::BatchPerBucket));
    let array = create(bpf_map_type::BPF_MAP_TYPE_ARRAY, "read_test_array", 4, 5, 0);
    let whole = read::read_all(&array).unwrap();
    assert_eq!(
        (whole.len(), whole.method),
        (5, ReadMethod::BatchPerElement)
    );
}

#[test]
fn a_failing_consumer_stops_the_reader() {
    require_bpf();
    let m = hash("read_test_stop", 20_000, 10_000);
    let mut seen = 0;
    let err = read::stream(&m, |batch| {
        seen += batch.len();
        Err(MapError::Input("enough".into()))
    })
    .unwrap_err();
    assert!(
        matches!(err, MapError::Input(ref s) if s == "enough"),
        "{err}"
    );
    assert!(
        seen > 0 && seen <= 4096,
        "one batch was handed over ({seen})"
    );
}

#[test]
fn a_panicking_consumer_unwinds_without_leaving_the_reader_blocked() {
    require_bpf();
    let m = hash("read_test_panic", 20_000, 10_000);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read::stream(&m, |_| -> Result<(), MapError> { panic!("consumer bug") })
    }));
    assert!(outcome.is_err(), "the panic reaches the caller");
    assert_eq!(
        read::count(&m).unwrap(),
        10_000,
        "the map is still readable"
    );
}
