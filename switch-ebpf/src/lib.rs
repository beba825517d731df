//! The concealed switch's XDP data plane, compiled from C by this crate's build script.
//!
//! [`SWITCH`] is the object built from `bpf/switch.bpf.c` (`clang -O2 -g -target bpf`, with BTF
//! and DWARF); its XDP program is [`PROGRAM`]. The types shared with the control plane are in
//! `bpf/switch.h`.

include!(concat!(env!("OUT_DIR"), "/objects.rs"));

/// The name of the XDP program inside [`SWITCH`].
pub const PROGRAM: &str = "switch_xdp";

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
