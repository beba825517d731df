//! The status file: written by the daemon, read (with live counters) by `switch-ctl status`.

use super::{Counters, Status};
use crate::daemon_dirs::{CreateDirError, DaemonDirs};
use crate::pid_file;
use crate::pinned_maps::PinnedMaps;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;

/// The status file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The runtime directory could not be created.
    #[error(transparent)]
    RunDir(#[from] CreateDirError),
    /// The status could not be serialized.
    #[error("cannot encode the status")]
    Encode(#[source] serde_json::Error),
    /// Writing the file failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading the file failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a status file.
    #[error("{} is not a status file", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// Writes the status file atomically, readable by root only.
pub fn write(dirs: &DaemonDirs, status: &Status) -> Result<(), StatusError> {
    dirs.create_run_dir()?;
    let json = serde_json::to_vec_pretty(status).map_err(StatusError::Encode)?;
    let tmp = dirs.run_dir.join("status.json.tmp");
    let failed = |path: &PathBuf| {
        let path = path.clone();
        move |source| StatusError::Write { path, source }
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(failed(&tmp))?;
    f.write_all(&json).map_err(failed(&tmp))?;
    std::fs::rename(&tmp, dirs.status_file()).map_err(failed(&dirs.status_file()))
}

/// Reads the status file and fills in the live parts. Ok(None): no daemon ever ran here (or
/// the last one stopped cleanly).
pub fn read(dirs: &DaemonDirs) -> Result<Option<Status>, StatusError> {
    let path = dirs.status_file();
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StatusError::Read { path, source }),
    };
    let mut status: Status = match serde_json::from_slice(&text) {
        Ok(status) => status,
        Err(source) => return Err(StatusError::Parse { path, source }),
    };
    status.daemon.running = pid_file::alive(status.daemon.pid);
    if let Ok(maps) = PinnedMaps::from_pins(dirs) {
        let entries = maps.fdb_entries();
        for bridge in &mut status.bridges {
            bridge.fdb_entries = entries
                .iter()
                .filter(|(k, _)| k.bridge == bridge.ifindex)
                .count();
            for port in &mut bridge.ports {
                port.counters = port
                    .slot
                    .and_then(|slot| maps.counters(slot).ok())
                    .map(Counters::from);
            }
        }
    }
    Ok(Some(status))
}
