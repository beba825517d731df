//! One module per `xdpdbg` subcommand.

pub mod doctor;
pub mod lab;
pub mod map;
