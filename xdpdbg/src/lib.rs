//! The xdpdbg toolkit's library: what its commands share that is not a library of its own.
//!
//! The toolkit is built on the workspace's libraries: `bpf-sys` (the bpf(2) layer aya lacks),
//! `bpf-maps` (typed map access, snapshots, compare-and-swap), `verifier-explain` (explanations
//! of verifier rejections) and `netlab` (labs). What stays here is the application's own:
//! [`tui`], the terminal screens (the map browser and the explorer of verifier rejections, on one
//! kit), and [`output`], how results are shown (color only on a terminal, or JSON).

pub mod output;
pub mod top;
pub mod tui;
