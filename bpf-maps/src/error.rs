//! What can go wrong inspecting or changing a map.

use bpf_sys::SysError;

/// A map operation that could not be done, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// A bpf(2) command failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// No map matches the name, id or path given.
    #[error("no map matches `{0}`; `xdpdbg map list` shows the maps on this system")]
    NotFound(String),
    /// More than one map has this name.
    #[error("{count} maps are named `{name}` (ids {ids}); pick one by id")]
    Ambiguous {
        /// The name given.
        name: String,
        /// How many maps have it.
        count: usize,
        /// Their ids, comma-separated.
        ids: String,
    },
    /// The map's type does not support this operation.
    #[error("map {id} ({name}) is a {kind} map: {why}")]
    Unsupported {
        /// Map id.
        id: u32,
        /// Map name.
        name: String,
        /// Map type name.
        kind: String,
        /// Why the operation cannot work on it.
        why: String,
    },
    /// A key or value does not fit the map or its BTF.
    #[error("{0}")]
    Input(String),
    /// Reading a file (snapshot, fdinfo) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A snapshot file is not in a format this tool reads.
    #[error("{path}: not an xdpdbg snapshot ({why})")]
    BadSnapshot {
        /// The file.
        path: String,
        /// What was wrong.
        why: String,
    },
    /// A typed key or value could not be decoded or encoded.
    #[error(transparent)]
    Type(#[from] crate::typed::TypeError),
}
