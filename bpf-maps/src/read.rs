//! Reading every entry of a map: batched where the kernel can, element by element otherwise.

use std::collections::HashSet;

use super::{MapError, OpenMap, kind};
use bpf_sys::BatchRead;

/// How the entries were read, which decides what a reader may assume about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMethod {
    /// `BPF_MAP_LOOKUP_BATCH` on a hash map: each bucket copied whole under its lock.
    BatchPerBucket,
    /// `BPF_MAP_LOOKUP_BATCH` on an array: element by element, without a lock.
    BatchPerElement,
    /// `BPF_MAP_GET_NEXT_KEY` and a lookup per element.
    PerElement,
    /// Both buffers of an `bpf_maps/snapshot.h` pair, swapped and summed
    /// ([`super::consistent::take`]).
    Consistent,
}

impl ReadMethod {
    /// A stable name for JSON.
    pub fn name(&self) -> &'static str {
        match self {
            ReadMethod::BatchPerBucket => "batch-per-bucket",
            ReadMethod::BatchPerElement => "batch-per-element",
            ReadMethod::PerElement => "per-element",
            ReadMethod::Consistent => "consistent",
        }
    }

    /// The method [`ReadMethod::name`] names (snapshot files store the name).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            ReadMethod::BatchPerBucket,
            ReadMethod::BatchPerElement,
            ReadMethod::PerElement,
            ReadMethod::Consistent,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }

    /// What the read guarantees, in words.
    pub fn guarantee(&self) -> &'static str {
        match self {
            ReadMethod::BatchPerBucket => {
                "each hash bucket was copied atomically under its lock, so entries that share \
                 a bucket are consistent with each other; different buckets were read at \
                 different moments, and each value can still be torn by a program writing it \
                 without a lock"
            }
            ReadMethod::BatchPerElement | ReadMethod::PerElement => {
                "each element was copied on its own at a different moment, with no lock: a \
                 value being written by a program at that moment can be torn, and entries \
                 added or removed during the read may be missed"
            }
            ReadMethod::Consistent => {
                "whole-map consistent: the sum of both buffers at the instant of the swap, with \
                 every update a program made before it and none after (for counters whose \
                 fields only add up, written by programs using bpf_maps/snapshot.h)"
            }
        }
    }
}

/// Every entry of a map, as raw bytes.
#[derive(Debug, Clone)]
pub struct Entries {
    /// Bytes per key.
    pub key_size: usize,
    /// Bytes per value as read: `value_size`, or for per-CPU maps one 8-byte-rounded slot per
    /// possible CPU.
    pub value_len: usize,
    /// Keys, back to back.
    pub keys: Vec<u8>,
    /// Values, back to back.
    pub values: Vec<u8>,
    /// How they were read.
    pub method: ReadMethod,
}

impl Entries {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.keys.len().checked_div(self.key_size).unwrap_or(0)
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th entry's key and value.
    pub fn get(&self, i: usize) -> (&[u8], &[u8]) {
        (
            &self.keys[i * self.key_size..(i + 1) * self.key_size],
            &self.values[i * self.value_len..(i + 1) * self.value_len],
        )
    }

    /// Iterates over (key, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// The kernel's stride for values laid out one after another (per-CPU copies, mmapable
/// arrays): the value size rounded up to 8 bytes.
pub fn slot_size(value_size: usize) -> usize {
    value_size.div_ceil(8) * 8
}

/// The number of possible CPUs, as a [`MapError`].
pub(crate) fn possible_cpus() -> Result<usize, MapError> {
    bpf_sys::possible_cpus().map_err(|source| MapError::Io {
        what: "reading /sys/devices/system/cpu/possible".into(),
        source,
    })
}

/// Bytes one lookup of this map returns: per-CPU maps return a slot per possible CPU.
pub fn value_len(map: &OpenMap) -> Result<usize, MapError> {
    let size = map.info.value_size as usize;
    if kind::is_per_cpu(map.info.map_type) {
        Ok(slot_size(size) * possible_cpus()?)
    } else {
        Ok(size)
    }
}

fn check_dumpable(map: &OpenMap) -> Result<(), MapError> {
    if kind::is_dumpable(map.info.map_type) {
        return Ok(());
    }
    Err(MapError::Unsupported {
        id: map.info.id,
        name: map.info.name.clone(),
        kind: kind::type_name(map.info.map_type),
        why: "its elements cannot be read with lookups from userspace".into(),
    })
}

/// Reads every entry, with batches when the kernel has them for this map type.
pub fn read_all(map: &OpenMap) -> Result<Entries, MapError> {
    check_dumpable(map)?;
    if kind::has_batch(map.info.map_type) {
        match read_batched(map) {
            Ok(e) => return Ok(e),
            // Kernels before 5.6, or types without batch support: fall back.
            Err(MapError::Sys(e)) if matches!(e.errno(), libc::EINVAL | libc::EOPNOTSUPP | 524) => {
            }
            Err(e) => return Err(e),
        }
    }
    read_per_element(map)
}

/// Reads every entry with `BPF_MAP_LOOKUP_BATCH`, growing the batch on `ENOSPC`.
pub fn read_batched(map: &OpenMap) -> Result<Entries, MapError> {
    let key_size = map.info.key_size as usize;
    let value_len = value_len(map)?;
    let mut keys = Vec::new();
    let mut values = Vec::new();
    batch_walk(map, value_len, |k, v| {
        keys.extend_from_slice(k);
        values.extend_from_slice(v);
    })?;
    let method = if kind::batch_is_per_bucket(map.info.map_type) {
        ReadMethod::BatchPerBucket
    } else {
        ReadMethod::BatchPerElement
    };
    Ok(Entries {
        key_size,
        value_len,
        keys,
        values,
        method,
    })
}

/// Walks the map in batches, handing each batch's keys and values (back to back) to `sink`.
fn batch_walk(
    map: &OpenMap,
    value_len: usize,
    mut sink: impl FnMut(&[u8], &[u8]),
) -> Result<(), MapError> {
    let key_size = map.info.key_size as usize;
    let mut count = (map.info.max_entries as usize).clamp(1, 4096);
    let mut cursor = vec![0u8; key_size.max(8)];
    let mut started = false;
    let mut keys = vec![0u8; count * key_size];
    let mut values = vec![0u8; count * value_len];
    loop {
        match map
            .fd
            .lookup_batch((&mut cursor, started), &mut keys, &mut values, count, 0)
        {
            Ok(BatchRead { count: got, done }) => {
                sink(&keys[..got * key_size], &values[..got * value_len]);
                started = true;
                if done {
                    return Ok(());
                }
            }
            Err(e) if e.errno() == libc::ENOSPC => {
                // One bucket holds more than `count` entries: retry the same bucket bigger.
                count *= 2;
                keys.resize(count * key_size, 0);
                values.resize(count * value_len, 0);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads every entry with `BPF_MAP_GET_NEXT_KEY` and one lookup each.
///
/// Keys deleted during the walk are skipped; when the walk restarts (the kernel does so when
/// the current key was deleted) keys already read are not read twice.
pub fn read_per_element(map: &OpenMap) -> Result<Entries, MapError> {
    check_dumpable(map)?;
    let key_size = map.info.key_size as usize;
    let value_len = value_len(map)?;
    let mut seen = HashSet::new();
    let mut keys = Vec::new();
    let mut values = Vec::new();
    let mut prev: Option<Vec<u8>> = None;
    let mut next = vec![0u8; key_size];
    let mut value = vec![0u8; value_len];
    // Bound the walk even if entries churn forever under it.
    let mut budget = 4 * map.info.max_entries as u64 + 1024;
    while map.fd.next_key(prev.as_deref(), &mut next)? {
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
        if seen.insert(next.clone()) && map.fd.lookup(&next, &mut value, 0)? {
            keys.extend_from_slice(&next);
            values.extend_from_slice(&value);
        }
        prev = Some(next.clone());
    }
    Ok(Entries {
        key_size,
        value_len,
        keys,
        values,
        method: ReadMethod::PerElement,
    })
}

/// Counts the entries, reusing small buffers (for listings of big maps).
pub fn count(map: &OpenMap) -> Result<u64, MapError> {
    if kind::is_array(map.info.map_type) {
        return Ok(map.info.max_entries as u64);
    }
    check_dumpable(map)?;
    let key_size = map.info.key_size as usize;
    if kind::has_batch(map.info.map_type) {
        let mut n = 0u64;
        match batch_walk(map, value_len(map)?, |k, _| {
            n += (k.len() / key_size.max(1)) as u64
        }) {
            Ok(()) => return Ok(n),
            Err(MapError::Sys(e)) if matches!(e.errno(), libc::EINVAL | libc::EOPNOTSUPP | 524) => {
            }
            Err(e) => return Err(e),
        }
    }
    Ok(read_per_element(map)?.len() as u64)
}
