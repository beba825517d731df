//! FDB ageing under a fast path, race-free.
//!
//! The bridge refreshes an entry only for frames it handles itself, so entries kept busy by the
//! fast path would age out of the bridge (and flood). Two rules keep the bridge true:
//!
//! 1. **Refresh.** Each tick, every learned entry whose `last_seen_ns` the data plane advanced
//!    since the last refresh, and whose last refresh is a quarter of the ageing time old, is
//!    refreshed in the bridge with `NTF_USE` (no notification, the bridge's timer restarts).
//!    An entry idle in the fast path is left to the bridge's own ageing_time.
//! 2. **Removal.** When the bridge removes a learned entry (its ageing, or an operator), the
//!    daemon decides whether the fast path still uses it, against the data plane refreshing
//!    the same entry at the same moment (the paper's map-exclusion problem). It ages the entry
//!    out of the map with a compare-and-swap on `last_seen_ns` ([`bpf_maps::cas::Cas::age_out`],
//!    the protocol of `bpf_maps/ageing.h`): the swap succeeds only if the data plane has not
//!    refreshed the entry since it was read; then the tombstone makes the data plane treat the
//!    entry as a miss. If the swap fails, or the entry was stamped within the last
//!    [`RELEARN_WINDOW_NS`], the entry is active: it is put back into the bridge (as the bridge would relearn it on the
//!    next frame) and stays in the map. No active entry is ever aged out.

use crate::pinned_maps::PinnedMaps;
use bpf_maps::cas::{Cas, CasError, FieldRef, Outcome};
use std::collections::HashMap;
use std::time::Duration;
use switch_ebpf::types::{FDB_LAST_SEEN_OFFSET, FdbKey, fdb_flags};

/// CLOCK_MONOTONIC in nanoseconds: the clock the data plane stamps with
/// (`bpf_ktime_get_coarse_ns`, the same clock in coarser steps).
pub fn now_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always available");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// How often the ager looks at the map, for a bridge with this ageing time: an eighth of it,
/// between 100 ms and 1 s.
pub fn tick_period(ageing_time_ms: u64) -> Duration {
    Duration::from_millis((ageing_time_ms / 8).clamp(100, 1000))
}

/// What to do with an entry the bridge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// It is gone from the fast path too.
    Removed,
    /// The fast path still uses it: put it back into the bridge on this port.
    Relearn {
        /// The port it lives behind.
        port: u32,
    },
}

/// The ager: remembers what it last told the bridge.
pub struct Ager {
    cas: Cas,
    /// Per entry: the `last_seen_ns` at the last refresh, and when that refresh was sent.
    refreshed: HashMap<FdbKey, (u64, u64)>,
}

/// A removed entry stamped this recently is in use by the fast path now (three refresh periods
/// of the data plane).
pub const RELEARN_WINDOW_NS: u64 = 3 * switch_ebpf::types::REFRESH_NS;

const LAST_SEEN: FieldRef = FieldRef {
    offset: FDB_LAST_SEEN_OFFSET,
    width: 8,
};

impl Ager {
    /// An ager for the `fdb` map behind `map`.
    pub fn new(map: bpf_sys::MapFd) -> Result<Ager, CasError> {
        Ok(Ager {
            cas: Cas::new(map, None)?,
            refreshed: HashMap::new(),
        })
    }

    /// The entries to refresh in the bridge now, as (port, MAC). `ageing_ms` gives each
    /// bridge's ageing time (0: the bridge does not age).
    pub fn due(
        &mut self,
        maps: &PinnedMaps,
        ageing_ms: impl Fn(u32) -> u64,
        now: u64,
    ) -> Vec<(u32, [u8; 6])> {
        let mut due = Vec::new();
        let entries = maps.fdb_entries();
        let live: std::collections::HashSet<FdbKey> = entries.iter().map(|(k, _)| *k).collect();
        self.refreshed.retain(|k, _| live.contains(k));
        for (key, entry) in entries {
            let seen = entry.last_seen_ns;
            let ageing_ns = ageing_ms(key.bridge) * 1_000_000;
            if entry.flags & fdb_flags::STATIC != 0
                || seen == 0
                || seen == bpf_maps::cas::DYING
                || ageing_ns == 0
            {
                continue;
            }
            let (last_seen, sent) = self.refreshed.get(&key).copied().unwrap_or((0, 0));
            if seen > last_seen && now.saturating_sub(sent) >= ageing_ns / 4 {
                self.refreshed.insert(key, (seen, now));
                due.push((entry.ifindex, key.mac));
            }
        }
        due
    }

    /// Decides, race-free, about a learned entry the bridge removed. `port_usable` says
    /// whether the entry's port is still an up, forwarding port of its bridge.
    pub fn removed(
        &mut self,
        maps: &mut PinnedMaps,
        key: FdbKey,
        port_usable: bool,
        now: u64,
    ) -> Result<Removal, CasError> {
        self.refreshed.remove(&key);
        let Ok(entry) = maps.fdb.get(&key, 0) else {
            return Ok(Removal::Removed);
        };
        let seen = entry.last_seen_ns;
        if entry.flags & fdb_flags::STATIC != 0 || !port_usable || seen == bpf_maps::cas::DYING {
            let _ = maps.fdb.remove(&key);
            return Ok(Removal::Removed);
        }
        let relearn = Removal::Relearn {
            port: entry.ifindex,
        };
        // Proof that the fast path forwards from this MAC right now: a stamp from the last few
        // refresh periods. An older one may be a flush or an STP topology change the bridge
        // meant; the compare-and-swap below decides those.
        if seen != 0 && now.saturating_sub(seen) < RELEARN_WINDOW_NS {
            return Ok(relearn);
        }
        Ok(match self.cas.age_out(&key.to_bytes(), LAST_SEEN, seen)? {
            Outcome::Swapped | Outcome::Absent => Removal::Removed,
            Outcome::Mismatch { .. } => relearn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_period_is_an_eighth_of_the_ageing_time_within_bounds() {
        assert_eq!(tick_period(300_000), Duration::from_secs(1));
        assert_eq!(tick_period(2_000), Duration::from_millis(250));
        assert_eq!(tick_period(0), Duration::from_millis(100));
    }

    #[test]
    fn key_bytes_follow_the_c_layout() {
        let key = FdbKey::new(7, [1, 2, 3, 4, 5, 6]);
        let b = key.to_bytes();
        assert_eq!(&b[..4], &7u32.to_ne_bytes());
        assert_eq!(&b[4..10], &[1, 2, 3, 4, 5, 6]);
        assert_eq!(b.len(), std::mem::size_of::<FdbKey>());
        assert_eq!(FdbKey::from_bytes(&b), Some(key));
    }
}
