//! Reading a map one batch at a time into buffers the caller reuses.

use std::collections::HashSet;

use super::{ReadMethod, check_dumpable, value_len};
use crate::{MapError, OpenMap, kind};
use bpf_sys::BatchRead;

/// The most entries one batch asks for (a bucket larger than this grows the batch).
const BATCH_ENTRIES: usize = 4096;

/// Errnos of a batch lookup the kernel does not have for this map type (before 5.6, or a type
/// without batch support; 524 is `ENOTSUPP`).
fn batch_unsupported(errno: i32) -> bool {
    matches!(errno, libc::EINVAL | libc::EOPNOTSUPP | 524)
}

/// Entries read together, as raw bytes, in buffers that the next read reuses.
#[derive(Debug, Clone)]
pub struct Batch {
    key_size: usize,
    value_len: usize,
    /// How many entries the buffers hold room for.
    capacity: usize,
    keys: Vec<u8>,
    values: Vec<u8>,
    len: usize,
    method: ReadMethod,
}

impl Batch {
    /// Empty buffers sized for one batch of `map`: at most 4,096 entries (fewer for smaller
    /// maps); a read grows them when one hash bucket holds more.
    pub fn for_map(map: &OpenMap) -> Result<Self, MapError> {
        Self::with_room(map, (map.info.max_entries as usize).clamp(1, BATCH_ENTRIES))
    }

    /// Empty buffers for `entries` entries of `map` (at least one); a read grows them when
    /// one hash bucket holds more.
    pub fn with_room(map: &OpenMap, entries: usize) -> Result<Self, MapError> {
        let (key_size, value_len) = (map.info.key_size as usize, value_len(map)?);
        let capacity = entries.max(1);
        Ok(Self {
            key_size,
            value_len,
            capacity,
            keys: vec![0; capacity * key_size],
            values: vec![0; capacity * value_len],
            len: 0,
            method: ReadMethod::PerElement,
        })
    }

    /// How many entries the buffers have room for now.
    pub fn room(&self) -> usize {
        self.capacity
    }

    /// Doubles the room, for a hash bucket that did not fit.
    fn grow(&mut self) {
        self.capacity *= 2;
        self.keys.resize(self.capacity * self.key_size, 0);
        self.values.resize(self.capacity * self.value_len, 0);
    }

    /// How many entries the last read put in.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the last read put none in.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How these entries were read, which decides what a reader may assume about them.
    pub fn method(&self) -> ReadMethod {
        self.method
    }

    /// Bytes per key.
    pub fn key_size(&self) -> usize {
        self.key_size
    }

    /// Bytes per value as read (see [`super::Entries::value_len`]).
    pub fn value_len(&self) -> usize {
        self.value_len
    }

    /// The keys, back to back.
    pub fn keys(&self) -> &[u8] {
        &self.keys[..self.len * self.key_size]
    }

    /// The values, back to back.
    pub fn values(&self) -> &[u8] {
        &self.values[..self.len * self.value_len]
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
        (0..self.len).map(|i| self.get(i))
    }
}

/// Where a walk over a map stands.
enum Walk {
    /// `BPF_MAP_LOOKUP_BATCH`; `cursor` is the kernel's opaque resume point.
    Batched {
        cursor: Vec<u8>,
        started: bool,
        /// Fall back to [`Walk::PerElement`] if the first call finds no batch support.
        may_fall_back: bool,
    },
    /// `BPF_MAP_GET_NEXT_KEY` and one lookup per element.
    PerElement {
        /// Keys already read, so a walk the kernel restarts does not repeat them.
        seen: HashSet<Vec<u8>>,
        prev: Option<Vec<u8>>,
        next: Vec<u8>,
        /// Bounds the walk even if entries churn forever under it.
        budget: u64,
    },
    Done,
}

/// Reads every entry of a map, one batch at a time, into a [`Batch`] the caller reuses: memory
/// stays that of one batch whatever the map's size.
///
/// Maps with batch lookups (hash and array families, Linux 5.6+) are read with
/// `BPF_MAP_LOOKUP_BATCH`; a hash map's batch holds whole buckets, each copied under its lock,
/// and grows when one bucket does not fit. Other maps are read element by element.
pub struct Reader<'m> {
    map: &'m OpenMap,
    walk: Walk,
    method: ReadMethod,
}

impl<'m> Reader<'m> {
    /// Starts reading `map`: in batches when its type has them, falling back to reading
    /// element by element if the kernel refuses the first batch.
    pub fn new(map: &'m OpenMap) -> Result<Self, MapError> {
        check_dumpable(map)?;
        if kind::has_batch(map.info.map_type) {
            Ok(Self::batched(map, true))
        } else {
            Ok(Self::per_element(map))
        }
    }

    /// Starts reading `map` with `BPF_MAP_LOOKUP_BATCH` only (no fallback).
    pub fn new_batched(map: &'m OpenMap) -> Result<Self, MapError> {
        check_dumpable(map)?;
        Ok(Self::batched(map, false))
    }

    /// Starts reading `map` with `BPF_MAP_GET_NEXT_KEY` and one lookup per element.
    ///
    /// Keys deleted during the walk are skipped; when the walk restarts (the kernel does so
    /// when the current key was deleted) keys already read are not read twice, which takes
    /// memory for every key read.
    pub fn new_per_element(map: &'m OpenMap) -> Result<Self, MapError> {
        check_dumpable(map)?;
        Ok(Self::per_element(map))
    }

    fn batched(map: &'m OpenMap, may_fall_back: bool) -> Self {
        let method = if kind::batch_is_per_bucket(map.info.map_type) {
            ReadMethod::BatchPerBucket
        } else {
            ReadMethod::BatchPerElement
        };
        Self {
            map,
            walk: Walk::Batched {
                cursor: vec![0; (map.info.key_size as usize).max(8)],
                started: false,
                may_fall_back,
            },
            method,
        }
    }

    fn per_element(map: &'m OpenMap) -> Self {
        Self {
            map,
            walk: Walk::PerElement {
                seen: HashSet::new(),
                prev: None,
                next: vec![0; map.info.key_size as usize],
                budget: 4 * u64::from(map.info.max_entries) + 1024,
            },
            method: ReadMethod::PerElement,
        }
    }

    /// How the entries are read. A batched read may turn into [`ReadMethod::PerElement`] at
    /// the first [`Reader::read_into`], when the kernel has no batch lookups for the map.
    pub fn method(&self) -> ReadMethod {
        self.method
    }

    /// Reads the next entries into `batch` (made by [`Batch::for_map`] for this map),
    /// replacing what it held. Returns `false`, with `batch` empty, once every entry was read.
    pub fn read_into(&mut self, batch: &mut Batch) -> Result<bool, MapError> {
        batch.len = 0;
        loop {
            let fell_back = match &mut self.walk {
                Walk::Done => return Ok(false),
                Walk::Batched {
                    cursor,
                    started,
                    may_fall_back,
                } => match read_batch(self.map, cursor, *started, batch) {
                    Ok(done) => {
                        *started = true;
                        *may_fall_back = false;
                        batch.method = self.method;
                        if done {
                            self.walk = Walk::Done;
                        }
                        if batch.len > 0 {
                            return Ok(true);
                        }
                        false
                    }
                    Err(MapError::Sys(e)) if *may_fall_back && batch_unsupported(e.errno()) => true,
                    Err(e) => return Err(e),
                },
                Walk::PerElement {
                    seen,
                    prev,
                    next,
                    budget,
                } => {
                    let done = read_elements(self.map, seen, prev, next, budget, batch)?;
                    batch.method = ReadMethod::PerElement;
                    if done {
                        self.walk = Walk::Done;
                    }
                    if batch.len > 0 {
                        return Ok(true);
                    }
                    false
                }
            };
            if fell_back {
                *self = Self::per_element(self.map);
            }
        }
    }
}

/// One `BPF_MAP_LOOKUP_BATCH` into `batch`, growing it on `ENOSPC` (one bucket holds more
/// than it has room for) and retrying the same bucket. Returns whether the walk is over.
fn read_batch(
    map: &OpenMap,
    cursor: &mut [u8],
    started: bool,
    batch: &mut Batch,
) -> Result<bool, MapError> {
    loop {
        match map.fd.lookup_batch(
            (cursor, started),
            &mut batch.keys,
            &mut batch.values,
            batch.capacity,
            0,
        ) {
            Ok(BatchRead { count, done }) => {
                batch.len = count;
                return Ok(done);
            }
            Err(e) if e.errno() == libc::ENOSPC => batch.grow(),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Fills `batch` by walking keys with `BPF_MAP_GET_NEXT_KEY`. Returns whether the walk is
/// over.
fn read_elements(
    map: &OpenMap,
    seen: &mut HashSet<Vec<u8>>,
    prev: &mut Option<Vec<u8>>,
    next: &mut [u8],
    budget: &mut u64,
    batch: &mut Batch,
) -> Result<bool, MapError> {
    let (key_size, value_len) = (batch.key_size, batch.value_len);
    while batch.len < batch.capacity {
        if !map.fd.next_key(prev.as_deref(), next)? {
            return Ok(true);
        }
        *budget = budget.saturating_sub(1);
        if *budget == 0 {
            return Ok(true);
        }
        let i = batch.len;
        let value = &mut batch.values[i * value_len..(i + 1) * value_len];
        if seen.insert(next.to_vec()) && map.fd.lookup(next, value, 0)? {
            batch.keys[i * key_size..(i + 1) * key_size].copy_from_slice(next);
            batch.len += 1;
        }
        match prev {
            Some(p) => p.copy_from_slice(next),
            None => *prev = Some(next.to_vec()),
        }
    }
    Ok(false)
}
