//! The xdpdbg toolkit's library.
//!
//! It holds what the `xdpdbg` commands share and what other tools of the project reuse:
//! [`output`] decides how results are shown (human tables with color only on a terminal, or
//! JSON for scripts). The bpf(2) layer that aya lacks (syscall programs, batch map operations,
//! full program info) lands here with the map and profiling commands.

pub mod cas;
pub mod maps;
pub mod output;
pub mod sys;
pub mod tui;
pub mod typed;

/// The library's own eBPF objects, built from `bpf/*.bpf.c` by the build script.
mod objects {
    include!(concat!(env!("OUT_DIR"), "/objects.rs"));
}
