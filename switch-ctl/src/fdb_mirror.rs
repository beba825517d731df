//! Mirroring the bridge's FDB into the fast path's `fdb` map.
//!
//! The bridge's entries arrive from [`crate::netlink`] (its dump and notifications, decoded from
//! RTM_NEWNEIGH/RTM_DELNEIGH); this module decides what of them the fast path holds.
//!
//! Entries are written as the kernel reports them, one notification at a time, and compared
//! whole on a resync (at start and after a netlink overrun). A new entry starts with
//! `last_passed_ns = 0`, "no frame passed to the bridge yet": the data plane passes the first
//! frame from it to the bridge, which refreshes its entry (see [`crate::ageing`]).

use crate::netlink::FdbEntry as KernelEntry;
use crate::pinned_maps::PinnedMaps;
use crate::plan::{Plan, fdb_entry};
use aya::maps::MapError;
use std::collections::HashMap;
use switch_ebpf::types::{FdbEntry, FdbKey, fdb_flags};

/// What a resync changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResyncStats {
    /// Entries in the fast path afterwards.
    pub entries: usize,
    /// Entries written (new or changed).
    pub written: usize,
    /// Entries removed (no longer in the bridge).
    pub removed: usize,
}

/// Writes one entry unless the map already holds it (a moved MAC is rewritten), and tells the
/// data plane when it wrote.
pub fn upsert(maps: &mut PinnedMaps, key: FdbKey, port: u32, flags: u32) -> Result<bool, MapError> {
    let written = write(maps, key, port, flags)?;
    if written {
        maps.changed()?;
    }
    Ok(written)
}

/// [`upsert`] without telling the data plane (a resync tells it once after all its writes).
fn write(maps: &mut PinnedMaps, key: FdbKey, port: u32, flags: u32) -> Result<bool, MapError> {
    if let Ok(old) = maps.fdb.get(&key, 0)
        && old.ifindex == port
        && old.flags == flags
        && old.last_passed_ns != bpf_maps::cas::DYING
    {
        return Ok(false);
    }
    let entry = FdbEntry {
        ifindex: port,
        flags,
        last_passed_ns: 0,
    };
    match maps.fdb.insert(key, entry, 0) {
        Ok(()) => Ok(true),
        // The map is full (hosts can fill the bridge's FDB at will): this MAC stays with the
        // bridge, where a miss goes anyway.
        Err(MapError::SyscallError(e)) if e.io_error.raw_os_error() == Some(libc::E2BIG) => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// The fast-path entries the kernel's FDB calls for. Where one MAC has several entries in a
/// bridge, the bridge's own address wins (frames to it go up the stack).
pub fn desired(kernel: &[KernelEntry], plan: &Plan) -> HashMap<FdbKey, (u32, u32)> {
    let mut want: HashMap<FdbKey, (u32, u32)> = HashMap::new();
    for entry in kernel {
        if let Some((key, port, flags)) = fdb_entry(entry, plan) {
            let keep_old = want
                .get(&key)
                .is_some_and(|(_, f)| f & fdb_flags::LOCAL != 0);
            if !keep_old {
                want.insert(key, (port, flags));
            }
        }
    }
    want
}

/// Makes the map equal to the kernel's FDB.
pub fn resync(
    maps: &mut PinnedMaps,
    kernel: &[KernelEntry],
    plan: &Plan,
) -> Result<ResyncStats, MapError> {
    let want = desired(kernel, plan);
    let mut stats = ResyncStats::default();
    for (key, _) in maps.fdb_entries() {
        if !want.contains_key(&key) {
            let _ = maps.fdb.remove(&key);
            stats.removed += 1;
        }
    }
    if stats.removed > 0 {
        maps.changed()?;
    }
    for (key, (port, flags)) in &want {
        if write(maps, *key, *port, *flags)? {
            stats.written += 1;
        }
    }
    if stats.written > 0 {
        maps.changed()?;
    }
    stats.entries = want.len();
    Ok(stats)
}
