//! One module per `xdpdbg` subcommand.

pub mod doctor;
pub mod explain;
pub mod lab;
pub mod map;
