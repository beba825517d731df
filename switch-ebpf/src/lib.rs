//! The concealed switch's data plane, compiled from C by this crate's build script.
//!
//! [`SWITCH`] is the object built from `bpf/switch.bpf.c` (`clang -O2 -g -target bpf`, with BTF
//! and DWARF); its programs are named in [`programs`], its maps in [`maps`]. The types shared
//! with the control plane (`bpf/switch.h`) are mirrored in [`types`], checked against the
//! object's BTF by this crate's tests.

include!(concat!(env!("OUT_DIR"), "/objects.rs"));

pub mod types;

/// The names of the programs inside [`SWITCH`]; all three make the same decision.
pub mod programs {
    /// XDP, one buffer per frame (MTU up to 3,506 on veth; kernel 5.15).
    pub const XDP: &str = "switch_xdp";
    /// XDP with multi-buffer frames (`xdp.frags`, jumbo MTUs; kernel 5.18).
    pub const XDP_FRAGS: &str = "switch_xdp_frags";
    /// TC clsact ingress: keeps checksum and GSO state (safe for container veths).
    pub const TC: &str = "switch_tc";
}

/// The names of the maps inside [`SWITCH`], as the control plane fills them.
pub mod maps {
    /// MAC (per bridge) to egress port.
    pub const FDB: &str = "fdb";
    /// Port ifindex to its bridge and flags.
    pub const PORTS: &str = "ports";
    /// The devmap frames are redirected through.
    pub const TX_PORTS: &str = "tx_ports";
    /// Per-port, per-CPU fast-path and pass counters.
    pub const COUNTERS: &str = "counters";
}
