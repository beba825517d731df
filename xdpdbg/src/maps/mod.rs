//! Map inspection: find maps, read them whole, decode them with their BTF, and change them
//! safely.
//!
//! [`open`] finds a map by id, name or pinned path; [`read::read_all`] reads its entries with
//! batches where the kernel has them; [`Schema`] decodes and encodes keys and values with the
//! map's BTF; [`inventory::list`] lists every map with its holders and pins;
//! [`snapshot`] saves a map to a file and [`diff`] compares two readings.

pub mod consistent;
pub mod diff;
mod error;
pub mod inventory;
pub mod kind;
mod open;
pub mod read;
mod schema;
pub mod snapshot;
pub mod watch;

pub use error::MapError;
pub use open::{OpenMap, open};
pub use schema::Schema;
