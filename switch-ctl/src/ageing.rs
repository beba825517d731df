//! FDB ageing under a fast path, race-free, with the bridge as the only keeper of its FDB.
//!
//! The bridge refreshes an entry only for frames it handles itself, so entries kept busy by the
//! fast path would age out of the bridge (and flood). The daemon does not write the bridge's
//! FDB to prevent it (a refresh over netlink, `NTF_USE`, would turn learned entries into user
//! entries: out of `fdb_n_learned`, past `fdb_max_learned`, back after an operator's delete).
//! Instead the data plane lets the bridge see the traffic:
//!
//! 1. **Refresh, in the data plane.** Once per refresh interval
//!    ([`crate::plan::refresh_interval_ms`], a quarter of the bridge's ageing time), one frame
//!    from each source MAC goes to the bridge (`passed.refresh`). The entry's `last_passed_ns`
//!    says when the last one went; the CPU whose compare-and-swap from the old time lands
//!    passes the frame, the others forward. The bridge refreshes, relearns or moves the entry
//!    from that real frame exactly as without a fast path. An entry idle in the fast path gets
//!    no frames and ages on the bridge's own `ageing_time`.
//! 2. **Removal.** When the bridge removes an entry (its ageing, an operator's `bridge fdb del`
//!    or flush, a topology change), the fast path forgets it too, until a real frame makes the
//!    bridge learn it again. The daemon ages the entry out of the map with a compare-and-swap on
//!    `last_passed_ns` to the tombstone ([`bpf_maps::cas::Cas::age_out`], the protocol of
//!    `bpf_maps/ageing.h`), retried from the value it finds if the data plane passed a refresh
//!    frame meanwhile: once the tombstone is in, the data plane treats the entry as a miss
//!    (frames from the MAC go to the bridge, which learns it; frames to it are flooded by the
//!    bridge), and no claim of the data plane can land on an entry being deleted.

use crate::pinned_maps::PinnedMaps;
use bpf_maps::cas::{Cas, CasError, FieldRef, Outcome};
use switch_ebpf::types::{FDB_LAST_PASSED_OFFSET, FdbKey, fdb_flags};

/// How often [`Ager::removed`] retries a compare-and-swap the data plane keeps winning (it
/// claims an entry at most once per refresh interval, so a second try wins in practice).
const AGE_OUT_TRIES: usize = 16;

/// Why an entry could not be aged out of the fast path.
#[derive(Debug, thiserror::Error)]
pub enum AgeingError {
    /// The compare-and-swap program failed.
    #[error(transparent)]
    Cas(#[from] CasError),
    /// The data plane's pair caches could not be told (see [`PinnedMaps::changed`]).
    #[error("cannot tell the data plane that the FDB changed")]
    Changed(#[source] aya::maps::MapError),
    /// The data plane kept claiming the entry.
    #[error("the data plane won {AGE_OUT_TRIES} compare-and-swaps in a row on one FDB entry")]
    Contended,
}

/// The ager: removes entries the bridge removed from the fast path's map, race-free.
pub struct Ager {
    cas: Cas,
}

const LAST_PASSED: FieldRef = FieldRef {
    offset: FDB_LAST_PASSED_OFFSET,
    width: 8,
};

/// What [`Ager::removed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The entry is gone from the fast path.
    Removed,
    /// The map had no such entry.
    Absent,
}

impl Ager {
    /// An ager for the `fdb` map behind `map`.
    pub fn new(map: bpf_sys::MapFd) -> Result<Ager, CasError> {
        Ok(Ager {
            cas: Cas::new(map, None)?,
        })
    }

    /// Removes, race-free, an entry the bridge removed: static and local entries (which the
    /// data plane never claims) with a plain delete, the others through the tombstone.
    pub fn removed(&mut self, maps: &mut PinnedMaps, key: FdbKey) -> Result<Removal, AgeingError> {
        let Ok(entry) = maps.fdb.get(&key, 0) else {
            return Ok(Removal::Absent);
        };
        if entry.flags & fdb_flags::STATIC != 0 {
            let _ = maps.fdb.remove(&key);
            maps.changed().map_err(AgeingError::Changed)?;
            return Ok(Removal::Removed);
        }
        let mut expected = entry.last_passed_ns;
        for _ in 0..AGE_OUT_TRIES {
            match self.cas.age_out(&key.to_bytes(), LAST_PASSED, expected)? {
                Outcome::Swapped => {
                    maps.changed().map_err(AgeingError::Changed)?;
                    return Ok(Removal::Removed);
                }
                Outcome::Absent => return Ok(Removal::Absent),
                Outcome::Mismatch { observed } => expected = observed,
            }
        }
        Err(AgeingError::Contended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
