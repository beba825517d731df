//! One module per `xdpdbg` subcommand.

pub mod doctor;
pub mod explain;
pub mod headless;
pub mod lab;
pub mod map;
pub mod top;
