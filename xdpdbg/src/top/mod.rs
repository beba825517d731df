//! What `xdpdbg top` measures, for its screen and for its headless outputs alike.
//!
//! - [`collector`]: one [`collector::Collector`] samples every CPU, walks the programs on a
//!   refresh period, keeps run-time statistics on while asked to, and turns both into a
//!   [`table::Table`] (one row per program) and [`bpf_profile::profile::ProfileReport`]s;
//! - [`table`]: the table's rows and their JSON form (`--once --json`), with the attach points
//!   and owners written out;
//! - [`source`]: a program's source file read from disk, when its path exists here;
//! - [`exposition`]: the table and a profile in the Prometheus text format (`--prometheus`);
//! - [`flame`]: a profile as a flame-graph SVG (`--flamegraph`).

pub mod collector;
pub mod exposition;
pub mod flame;
pub mod source;
pub mod table;
