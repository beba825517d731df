//! The Rust mirror of `bpf/switch.h`: map keys and values as the data plane lays them out.
//!
//! Every type is `#[repr(C)]` with explicit padding, so its bytes are exactly the map's bytes
//! ([`aya::Pod`]); `tests/object.rs` checks sizes and field offsets against the object's BTF.

/// An ifindex at or above this is never in the fast path (the port arrays' size).
pub const IFINDEX_MAX: u32 = 65536;
/// How many ports can have counters (slots in the `counters` array).
pub const PORTS_MAX: u32 = 1024;
/// How many FDB entries the fast path holds unless `switch-ctl run --fdb-entries` says otherwise
/// (the object's `SWITCH_FDB_MAX`).
pub const FDB_MAX: u32 = 131_072;

/// `fdb` key: a MAC address within one bridge.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FdbKey {
    /// The bridge's ifindex.
    pub bridge: u32,
    /// The MAC address.
    pub mac: [u8; 6],
    /// Zero.
    pub pad: [u8; 2],
}

impl FdbKey {
    /// The key of `mac` in bridge `bridge`.
    pub fn new(bridge: u32, mac: [u8; 6]) -> Self {
        FdbKey {
            bridge,
            mac,
            pad: [0; 2],
        }
    }

    /// The key's bytes, as the map stores them.
    pub fn to_bytes(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&self.bridge.to_ne_bytes());
        b[4..10].copy_from_slice(&self.mac);
        b
    }

    /// The key in map bytes; None unless exactly 12 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let b: &[u8; 12] = b.try_into().ok()?;
        Some(FdbKey::new(
            u32::from_ne_bytes(b[..4].try_into().ok()?),
            b[4..10].try_into().ok()?,
        ))
    }
}

/// `fdb` value: where a MAC lives and when the fast path last let a frame from it go to the
/// bridge.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FdbEntry {
    /// The port the MAC lives behind.
    pub ifindex: u32,
    /// [`fdb_flags`].
    pub flags: u32,
    /// CLOCK_MONOTONIC nanoseconds: when the data plane last passed a frame from this MAC to the
    /// bridge so that the bridge refreshes its entry itself (0: not yet); `u64::MAX` (the
    /// tombstone) while it is being aged out.
    pub last_passed_ns: u64,
}

impl FdbEntry {
    /// The value in map bytes; None unless exactly 16 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let b: &[u8; 16] = b.try_into().ok()?;
        Some(FdbEntry {
            ifindex: u32::from_ne_bytes(b[..4].try_into().ok()?),
            flags: u32::from_ne_bytes(b[4..8].try_into().ok()?),
            last_passed_ns: u64::from_ne_bytes(b[8..].try_into().ok()?),
        })
    }
}

/// Byte offset of [`FdbEntry::last_passed_ns`] in the value (for compare-and-swap).
pub const FDB_LAST_PASSED_OFFSET: u32 = 8;

/// Bits of [`FdbEntry::flags`].
pub mod fdb_flags {
    /// The bridge's or a port's own address: frames to it go up the stack.
    pub const LOCAL: u32 = 1 << 0;
    /// Never ages: the data plane passes no refresh frames for it.
    pub const STATIC: u32 = 1 << 1;
}

/// `ports` value, indexed by ifindex.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortConfig {
    /// The bridge's ifindex; 0 for "not a port of an accelerated bridge".
    pub bridge: u32,
    /// [`port_flags`].
    pub flags: u32,
    /// The port's index in `counters`.
    pub slot: u32,
    /// One frame per source MAC per this many milliseconds goes to the bridge, which refreshes
    /// (or relearns) its FDB entry from it; 0: never (the bridge does not age).
    pub refresh_ms: u32,
}

/// Bits of [`PortConfig::flags`].
pub mod port_flags {
    /// STP state forwarding.
    pub const FORWARDING: u32 = 1 << 0;
    /// Link up (admin and carrier).
    pub const UP: u32 = 1 << 1;
    /// Hairpin: frames may leave through the port they came in on.
    pub const HAIRPIN: u32 = 1 << 2;
    /// Isolated: no forwarding to other isolated ports.
    pub const ISOLATED: u32 = 1 << 3;
    /// Locked (or MAB): every frame goes to the bridge.
    pub const LOCKED: u32 = 1 << 4;
    /// Takes XDP-redirected frames (`NETDEV_XDP_ACT_NDO_XMIT`).
    pub const XDP_XMIT: u32 = 1 << 5;
    /// The control plane lets fast-path frames out of this port.
    pub const EGRESS: u32 = 1 << 6;
}

/// Why a frame went to the bridge, as counted in [`PortCounters::passed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassReason {
    /// 01:80:c2:00:00:0x (STP, LACP, ...).
    LinkLocal,
    /// Multicast and broadcast.
    Multicast,
    /// The ingress port is not forwarding, or is locked.
    IngressState,
    /// The source MAC is unknown, on another port, or being aged: the bridge learns it.
    Source,
    /// Unknown unicast: the bridge floods it.
    FdbMiss,
    /// For the bridge itself.
    Local,
    /// The egress is the ingress port and hairpin is off.
    SamePort,
    /// Both ports are isolated.
    Isolated,
    /// The egress port is not in the bridge, not forwarding, down, or cannot take the frame.
    EgressState,
    /// The source MAC's frame of the refresh interval: the bridge refreshes its entry from it.
    Refresh,
}

impl PassReason {
    /// Every reason, in the order of the counters array.
    pub const ALL: [PassReason; 10] = [
        PassReason::LinkLocal,
        PassReason::Multicast,
        PassReason::IngressState,
        PassReason::Source,
        PassReason::FdbMiss,
        PassReason::Local,
        PassReason::SamePort,
        PassReason::Isolated,
        PassReason::EgressState,
        PassReason::Refresh,
    ];

    /// A short name, as `switch-ctl status` shows it.
    pub fn name(self) -> &'static str {
        match self {
            PassReason::LinkLocal => "link_local",
            PassReason::Multicast => "multicast",
            PassReason::IngressState => "ingress_state",
            PassReason::Source => "source",
            PassReason::FdbMiss => "fdb_miss",
            PassReason::Local => "local",
            PassReason::SamePort => "same_port",
            PassReason::Isolated => "isolated",
            PassReason::EgressState => "egress_state",
            PassReason::Refresh => "refresh",
        }
    }
}

/// `counters` value (per CPU), indexed by the port's slot.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortCounters {
    /// Frames forwarded by the fast path.
    pub fast_packets: u64,
    /// Their bytes.
    pub fast_bytes: u64,
    /// Frames dropped (shorter than an Ethernet header).
    pub dropped: u64,
    /// Frames passed to the bridge, by [`PassReason`].
    pub passed: [u64; 10],
}

impl PortCounters {
    /// Adds `other` (for summing per-CPU values).
    pub fn add(&mut self, other: &PortCounters) {
        self.fast_packets += other.fast_packets;
        self.fast_bytes += other.fast_bytes;
        self.dropped += other.dropped;
        for (a, b) in self.passed.iter_mut().zip(other.passed) {
            *a += b;
        }
    }

    /// Frames passed to the bridge, all reasons.
    pub fn passed_total(&self) -> u64 {
        self.passed.iter().sum()
    }
}

// SAFETY: each type is repr(C), made of integers and byte arrays with explicit padding fields,
// so every bit pattern is valid and there are no uninitialised bytes.
unsafe impl aya::Pod for FdbKey {}
// SAFETY: as above.
unsafe impl aya::Pod for FdbEntry {}
// SAFETY: as above.
unsafe impl aya::Pod for PortConfig {}
// SAFETY: as above.
unsafe impl aya::Pod for PortCounters {}
