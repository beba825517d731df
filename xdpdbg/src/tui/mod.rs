//! The toolkit's terminal screens, on one kit.
//!
//! - [`kit`]: what every screen shares: the event loop and its terminal guard, headless runs
//!   and their key-script grammar, the theme, navigation. Its doc says how to add a screen.
//! - [`maps`]: `xdpdbg map`, the browser of every map on the system.
//! - [`explain`]: `xdpdbg explain`, the explorer of a verifier rejection at source level.
//! - [`top`]: `xdpdbg top`, every loaded program live, and one program's profile down to its
//!   source lines.
//!
//! Each screen is a folder of its own code only, split like bpftop: `state` (everything shown
//! and every change), `events` (keys to changes), `draw` (the state rendered), `data` (what it
//! reads), and its `mod.rs` implementing [`kit::Screen`].

pub mod explain;
pub mod kit;
pub mod maps;
pub mod top;
