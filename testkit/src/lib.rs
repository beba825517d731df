//! The workspace's test kit: what the integration tests and benchmarks of every crate share.
//!
//! Dev-only: crates take it as a `[dev-dependencies]` entry, never as a normal dependency. Each
//! module holds one concept:
//!
//! * [`privilege`]: root and capability checks that fail a test with what is missing and how
//!   to run it (a privileged test never passes silently without its privileges);
//! * [`tool`]: programs from the machine's packages that a test or benchmark runs;
//! * [`binary`]: running a workspace binary and capturing what it printed, with a timeout;
//! * [`child`]: stopping and reaping child processes on every path;
//! * [`fixture`]: loading the fixture eBPF programs and their maps;
//! * [`lab`]: building netlab labs and what tests run inside them;
//! * [`bench`]: benchmark rounds, statistics, environment knobs and markdown reports.
//!
//! Helpers here fail by panicking when only a test can call them; what benchmarks call returns
//! typed errors, so a benchmark can say what went wrong in its own words.

#![warn(missing_docs)]

pub mod bench;
pub mod binary;
pub mod child;
pub mod fixture;
pub mod lab;
pub mod privilege;
pub mod tool;
