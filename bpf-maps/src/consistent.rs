//! Whole-map consistent snapshots of counters, for programs that use `bpf_maps/snapshot.h`.
//!
//! The program reaches its counters through an outer array of two maps. [`take`] reads the
//! quiet spare, swaps the slots (the kernel waits for programs still using the old active map
//! before the update returns), then reads the old active map, quiet now. Counters only add up,
//! so the sum of both readings is exact at the instant of the swap: every increment made before
//! it and none after. The header explains the program's side.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd};

use super::read::{Entries, ReadMethod};
use super::{MapError, OpenMap, Schema, read};
use bpf_sys::MapFd;

const ACTIVE: u32 = 0;
const SPARE: u32 = 1;

/// Puts the pair's two maps into the outer array's slots (the loader does this once).
pub fn install(outer: &MapFd, a: &MapFd, b: &MapFd) -> Result<(), MapError> {
    for (slot, inner) in [(ACTIVE, a), (SPARE, b)] {
        let fd = inner.as_fd().as_raw_fd() as u32;
        outer.update(&slot.to_ne_bytes(), &fd.to_ne_bytes(), bpf_sys::ANY)?;
    }
    Ok(())
}

/// A consistent snapshot: the summed entries and the map they have the shape of.
pub struct Consistent {
    /// The map that was active until the swap (its info and schema describe the entries).
    pub map: OpenMap,
    /// Its schema.
    pub schema: Schema,
    /// Both maps' entries, summed (method [`ReadMethod::Consistent`]).
    pub entries: Entries,
}

/// Takes a consistent snapshot through the outer array `outer`.
///
/// Only one snapshot of the same pair may run at a time: an advisory lock on
/// `/run/xdpdbg/consistent-<outer id>.lock` makes concurrent callers wait.
pub fn take(outer: &OpenMap) -> Result<Consistent, MapError> {
    if outer.info.map_type != aya_obj::generated::bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS as u32
        || outer.info.max_entries != 2
    {
        return Err(MapError::Input(format!(
            "map {} ({}) is not a snapshot pair: a consistent snapshot needs the outer \
             array_of_maps with two slots that bpf_maps/snapshot.h declares",
            outer.info.id, outer.info.name
        )));
    }
    let _lock = lock(outer.info.id)?;
    let slot = |s: u32| -> Result<OpenMap, MapError> {
        let mut id = [0u8; 4];
        if !outer.fd.lookup(&s.to_ne_bytes(), &mut id, 0)? {
            return Err(MapError::Input(format!(
                "slot {s} of map {} is empty: the loader must install both maps of the pair \
                 (bpf_maps::consistent::install)",
                outer.info.id
            )));
        }
        let fd = MapFd::from_id(u32::from_ne_bytes(id))?;
        let info = fd.info()?;
        Ok(OpenMap { fd, info })
    };
    let active = slot(ACTIVE)?;
    let spare = slot(SPARE)?;
    let quiet = read::read_all(&spare)?;
    outer.fd.update(
        &ACTIVE.to_ne_bytes(),
        &(spare.fd.as_fd().as_raw_fd() as u32).to_ne_bytes(),
        bpf_sys::ANY,
    )?;
    outer.fd.update(
        &SPARE.to_ne_bytes(),
        &(active.fd.as_fd().as_raw_fd() as u32).to_ne_bytes(),
        bpf_sys::ANY,
    )?;
    let drained = read::read_all(&active)?;
    let schema = Schema::of(&active)?;
    let entries = add(&schema, &drained, &quiet)?;
    Ok(Consistent {
        map: active,
        schema,
        entries,
    })
}

fn lock(id: u32) -> Result<nix::fcntl::Flock<std::fs::File>, MapError> {
    let dir = std::path::Path::new("/run/xdpdbg");
    let io = |source| MapError::Io {
        what: "locking /run/xdpdbg for a consistent snapshot".into(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let file = std::fs::File::create(dir.join(format!("consistent-{id}.lock"))).map_err(io)?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| io(e.into()))
}

/// Adds two readings of maps of the same shape, key by key.
fn add(schema: &Schema, a: &Entries, b: &Entries) -> Result<Entries, MapError> {
    let mut sums: Vec<(Vec<u8>, Vec<u8>)> =
        a.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
    let index: HashMap<Vec<u8>, usize> = sums
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.clone(), i))
        .collect();
    for (k, v) in b.iter() {
        match index.get(k) {
            Some(&i) => sums[i].1 = add_value(schema, &sums[i].1, v)?,
            None => sums.push((k.to_vec(), v.to_vec())),
        }
    }
    let mut out = Entries {
        key_size: a.key_size,
        value_len: a.value_len,
        keys: Vec::new(),
        values: Vec::new(),
        method: ReadMethod::Consistent,
    };
    for (k, v) in sums {
        out.keys.extend(k);
        out.values.extend(v);
    }
    Ok(out)
}

fn add_value(schema: &Schema, a: &[u8], b: &[u8]) -> Result<Vec<u8>, MapError> {
    let value_size = schema.value_size();
    let slot = if schema.per_cpu().is_some() {
        read::slot_size(value_size)
    } else {
        value_size
    };
    let mut out = a.to_vec();
    for (i, (x, y)) in a.chunks(slot).zip(b.chunks(slot)).enumerate() {
        let (x, y) = (&x[..value_size], &y[..value_size]);
        let summed = match &schema.value {
            Some(t) => {
                let s = super::schema::sum(&t.decode(x)?, &t.decode(y)?);
                t.encode(&s.to_string())?
            }
            None if value_size.is_multiple_of(8) => x
                .chunks(8)
                .zip(y.chunks(8))
                .flat_map(|(p, q)| {
                    let p = u64::from_ne_bytes(p.try_into().expect("8 bytes"));
                    let q = u64::from_ne_bytes(q.try_into().expect("8 bytes"));
                    p.wrapping_add(q).to_ne_bytes()
                })
                .collect(),
            None => {
                return Err(MapError::Input(
                    "summing the pair needs BTF, or values made of 8-byte counters".into(),
                ));
            }
        };
        out[i * slot..i * slot + value_size].copy_from_slice(&summed);
    }
    Ok(out)
}
