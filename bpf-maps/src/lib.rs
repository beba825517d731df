//! eBPF maps from userspace: find them, read them whole, decode them with their BTF, snapshot
//! and compare them, and change them without racing the programs that write them.
//!
//! This is the map library that the `xdpdbg` toolkit and the switch daemon share; it sits on
//! [`bpf_sys`] (the bpf(2) layer) and carries no terminal or DWARF code.
//!
//! - [`open`] finds a map by id, name or pinned path; [`inventory::list`] lists every map with
//!   its holders and pins;
//! - [`read::read_all`] reads its entries with batches where the kernel has them;
//!   [`read::Reader`] reads them one batch at a time, and [`read::stream`] does so on a second
//!   thread while the caller consumes the previous batch (memory stays flat for any map size);
//! - [`typed`] decodes and encodes keys and values with BTF, and [`Schema`] binds it to one map;
//! - [`snapshot`] saves a map to a file, [`diff`] compares two readings, [`watch`] follows
//!   changes, [`consistent`] takes whole-map consistent snapshots of cooperating programs;
//! - [`cas`] makes compare-and-swap and conditional deletes atomic against eBPF writers.
//!
//! Cooperating eBPF programs include the C headers in `include/bpf_maps/` (`ageing.h`, the
//! race-free ageing protocol; `snapshot.h`, double-buffered counters); [`include_dir`] gives
//! their folder to build scripts.

pub mod cas;
pub mod consistent;
pub mod diff;
mod error;
pub mod inventory;
pub mod kind;
mod open;
pub mod read;
mod schema;
pub mod snapshot;
pub mod typed;
pub mod watch;

pub use error::MapError;
pub use open::{OpenMap, open};
pub use schema::{EntryWriter, Schema};

/// The folder holding the C headers for cooperating eBPF programs (`bpf_maps/ageing.h`,
/// `bpf_maps/snapshot.h`): pass it to clang with `-I`.
pub fn include_dir() -> &'static std::path::Path {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/include"))
}

/// The library's own eBPF objects, built from `bpf/*.bpf.c` by the build script.
mod objects {
    include!(concat!(env!("OUT_DIR"), "/objects.rs"));
}
