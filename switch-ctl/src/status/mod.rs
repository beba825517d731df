//! `switch-ctl status`: what the daemon decided (from its status file) and what the fast path
//! is doing (live, from the pinned maps).
//!
//! The daemon rewrites `status.json` (mode 0600, in a 0700 directory: root only) after every
//! change and at least every second. `status` reads it, checks that the daemon's pid is alive, and adds
//! counters and FDB sizes read from the pins, so it works after `kill -9` too: the fast path is
//! still forwarding then, and the status says so.
//!
//! This module is the model (what a status is); [`write()`] and [`read()`] store it (the reader
//! fills in the live parts from [`crate::pinned_maps`]); [`render()`] shows it to people.

mod file;
mod render;

pub use file::{StatusError, read, recorded, write};
pub use render::render;

use crate::mode::{Mode, Requested};
use crate::pinned_maps::MapIds;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switch_ebpf::types::{PassReason, PortCounters};

/// The whole status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// The daemon itself.
    pub daemon: DaemonStatus,
    /// Every selected bridge.
    pub bridges: Vec<BridgeStatus>,
    /// How the reader found the fast path's maps (filled in by the reader).
    #[serde(default)]
    pub maps: MapsAccess,
}

/// How `status` reached the fast path's maps, for its FDB sizes and counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapsAccess {
    /// Not looked at (the daemon's own copy of the status).
    #[default]
    NotRead,
    /// Through their pins.
    Pins,
    /// Through the map ids the daemon recorded: its pins are in a mount namespace this process
    /// does not see.
    Ids,
    /// Not found: FDB sizes and counters are unknown (not zero).
    Unavailable {
        /// Why.
        reason: String,
        /// What to do.
        hint: String,
    },
}

/// The daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// Its pid.
    pub pid: u32,
    /// Whether that pid is alive (filled in by the reader).
    pub running: bool,
    /// The network namespace tag it serves.
    pub netns: String,
    /// Where its pins are.
    pub pin_dir: String,
    /// When it started (Unix seconds).
    pub started_unix: u64,
    /// When it last resynced everything from the kernel (Unix seconds).
    pub last_resync_unix: u64,
    /// How many full resyncs (start, netlink overruns).
    pub resyncs: u64,
    /// How many netlink overruns (ENOBUFS) forced a resync.
    pub overruns: u64,
    /// Whether bridges with bridge netfilter are accelerated anyway.
    pub allow_netfilter: bool,
    /// The ids of the data plane's maps, by name: `status` and `stop` open them by id when the
    /// pins are not visible from their mount namespace, and `xdpdbg map ID` shows them.
    #[serde(default)]
    pub map_ids: MapIds,
    /// How many FDB entries the fast path holds, all bridges together (`--fdb-entries`; filled
    /// in by the reader from the map; 0: not read). MACs past it stay with the bridge.
    #[serde(default)]
    pub fdb_capacity: u32,
}

/// One bridge.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BridgeStatus {
    /// Its name.
    pub name: String,
    /// Its ifindex.
    pub ifindex: u32,
    /// Whether its ports get a fast path.
    pub accelerated: bool,
    /// Why not.
    pub reason: Option<String>,
    /// Its ageing time.
    pub ageing_time_ms: u64,
    /// FDB entries of this bridge in the fast path (filled in by the reader).
    pub fdb_entries: usize,
    /// Its ports.
    pub ports: Vec<PortStatus>,
}

/// One port.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortStatus {
    /// Its name.
    pub name: String,
    /// Its ifindex.
    pub ifindex: u32,
    /// The mode asked for.
    pub requested: Requested,
    /// The mode in use (None: no fast path).
    pub mode: Option<Mode>,
    /// Why.
    pub reason: String,
    /// Whether the fast path is attached now.
    pub attached: bool,
    /// The last attach error, if any.
    pub error: Option<String>,
    /// The port's flags as the data plane sees them (forwarding, up, hairpin, ...).
    pub flags: Vec<String>,
    /// Its counter slot.
    pub slot: Option<u32>,
    /// Its counters (filled in by the reader).
    pub counters: Option<Counters>,
}

/// A port's counters, summed over CPUs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Frames forwarded by the fast path.
    pub fast_packets: u64,
    /// Their bytes.
    pub fast_bytes: u64,
    /// Frames passed to the bridge, by reason.
    pub passed: BTreeMap<String, u64>,
    /// Frames dropped.
    pub dropped: u64,
}

impl From<PortCounters> for Counters {
    fn from(c: PortCounters) -> Self {
        Counters {
            fast_packets: c.fast_packets,
            fast_bytes: c.fast_bytes,
            passed: PassReason::ALL
                .iter()
                .zip(c.passed)
                .map(|(r, n)| (r.name().to_string(), n))
                .collect(),
            dropped: c.dropped,
        }
    }
}

/// The names of the bits of `port_flags`.
pub fn flag_names(flags: u32) -> Vec<String> {
    use switch_ebpf::types::port_flags::*;
    [
        (FORWARDING, "forwarding"),
        (UP, "up"),
        (HAIRPIN, "hairpin"),
        (ISOLATED, "isolated"),
        (LOCKED, "locked"),
        (XDP_XMIT, "xdp-xmit"),
        (EGRESS, "egress"),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| name.to_string())
    .collect()
}
