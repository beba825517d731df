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
    /// One `u64` the control plane increments after every write to [`FDB`] or [`PORTS`]: the
    /// data plane's per-CPU [`PAIR_CACHE`] entries filled under an older value are stale.
    pub const FDB_GENERATION: &str = "fdb_generation";
    /// Per CPU, the last forwarded frame's addresses and decision (not pinned: a new load
    /// starts empty).
    pub const PAIR_CACHE: &str = "pair_cache";
}

/// The forwarding benchmark's programs (`bpf/bench.bpf.c`, embedded as [`BENCH`]); not part of
/// the switch. Used by `switch-ctl/benches/forward.rs`.
pub mod bench {
    /// XDP generator, run with `BPF_PROG_RUN` and `BPF_F_TEST_XDP_LIVE_FRAMES`: returns
    /// `XDP_TX`, so each frame leaves through the interface it was run on, unchanged; paced
    /// by [`GEN_PACE`], it sends bursts on a schedule and waits in between.
    pub const GENERATOR: &str = "bench_gen";
    /// Array with one entry of six `u64`s, the generator's pacing: `interval_ns` between
    /// bursts (0: unpaced), `burst` (frames per burst), `next_ns`, `left` (in the current
    /// burst), the frames `sent` while paced, and the bursts that started `late` (over an
    /// interval behind: the schedule restarted).
    pub const GEN_PACE: &str = "bench_gen_pace";
    /// XDP receiver: counts the benchmark's frames per CPU and drops them.
    pub const RX_XDP: &str = "bench_rx_xdp";
    /// The same receiver at tc ingress (for a sink with GRO on and no XDP program).
    pub const RX_TC: &str = "bench_rx_tc";
    /// XDP redirect of every frame through [`TX_PORT`]: the forwarding ceiling.
    pub const REDIRECT: &str = "bench_redirect";
    /// [`REDIRECT`] after reading the frame's Ethernet header: the floor of any switch.
    pub const REDIRECT_READ: &str = "bench_redirect_read";
    /// Per-CPU array of `u64`: slot [`SLOT_MATCHED`] counts the benchmark's frames (dropped),
    /// slot [`SLOT_OTHER`] everything else (passed).
    pub const RX_COUNT: &str = "bench_rx_count";
    /// The receiver's counter slot for the benchmark's frames.
    pub const SLOT_MATCHED: u32 = 0;
    /// The receiver's counter slot for other frames.
    pub const SLOT_OTHER: u32 = 1;
    /// Devmap with one entry (key 0): the egress port of [`REDIRECT`].
    pub const TX_PORT: &str = "bench_tx_port";
    /// The UDP destination port the receivers count (frames to other ports are passed).
    pub const UDP_PORT: u16 = 9;
}
