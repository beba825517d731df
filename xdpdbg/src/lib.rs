//! The xdpdbg toolkit's library.
//!
//! It holds what the `xdpdbg` commands share and what other tools of the project reuse:
//! [`sys`] is the small bpf(2) layer aya lacks (the `bpf-sys` crate, re-exported: id walks, full
//! info, batch reads, freeze, syscall programs, test runs, loads with the verifier's log); [`typed`] decodes and encodes map keys and values with BTF;
//! [`maps`] opens, reads, lists, snapshots, diffs and watches maps; [`cas`] makes
//! compare-and-swap and conditional deletes atomic against eBPF writers; [`tui`] is the map
//! browser, [`tui::explain`] the explorer of verifier rejections; [`output`] decides how
//! results are shown (color only on a terminal, or JSON).

pub mod cas;
pub mod maps;
pub mod output;
pub use bpf_sys as sys;
pub mod tui;
pub mod typed;

/// The library's own eBPF objects, built from `bpf/*.bpf.c` by the build script.
mod objects {
    include!(concat!(env!("OUT_DIR"), "/objects.rs"));
}
