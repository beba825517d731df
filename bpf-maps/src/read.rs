//! Reading every entry of a map: batched where the kernel can, element by element otherwise.

mod pipeline;
mod reader;

use super::{MapError, OpenMap, kind};

pub use pipeline::stream;
pub use reader::{Batch, Reader};

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
///
/// This holds the whole map in memory; [`stream`] and [`Reader`] read it one batch at a time.
pub fn read_all(map: &OpenMap) -> Result<Entries, MapError> {
    collect(Reader::new(map)?, map)
}

/// Reads every entry with `BPF_MAP_LOOKUP_BATCH`, growing the batch on `ENOSPC`.
pub fn read_batched(map: &OpenMap) -> Result<Entries, MapError> {
    collect(Reader::new_batched(map)?, map)
}

/// Reads every entry with `BPF_MAP_GET_NEXT_KEY` and one lookup each.
///
/// Keys deleted during the walk are skipped; when the walk restarts (the kernel does so when
/// the current key was deleted) keys already read are not read twice.
pub fn read_per_element(map: &OpenMap) -> Result<Entries, MapError> {
    collect(Reader::new_per_element(map)?, map)
}

/// Every batch of `reader`, back to back.
fn collect(mut reader: Reader<'_>, map: &OpenMap) -> Result<Entries, MapError> {
    let mut batch = Batch::for_map(map)?;
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    while reader.read_into(&mut batch)? {
        keys.extend_from_slice(batch.keys());
        values.extend_from_slice(batch.values());
    }
    Ok(Entries {
        key_size: batch.key_size(),
        value_len: batch.value_len(),
        keys,
        values,
        method: reader.method(),
    })
}

/// Counts the entries, reusing the buffers of one batch (for listings of big maps).
pub fn count(map: &OpenMap) -> Result<u64, MapError> {
    if kind::is_array(map.info.map_type) {
        return Ok(map.info.max_entries as u64);
    }
    let mut reader = Reader::new(map)?;
    let mut batch = Batch::for_map(map)?;
    let mut n = 0u64;
    while reader.read_into(&mut batch)? {
        n += batch.len() as u64;
    }
    Ok(n)
}
