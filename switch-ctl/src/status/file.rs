//! The status file: written by the daemon, read (with live counters) by `switch-ctl status`.

use super::{Counters, MapsAccess, Status};
use crate::daemon_dirs::{CreateDirError, DaemonDirs};
use crate::pid_file;
use crate::pinned_maps::{Found, PinnedMaps};
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

/// Reads the status file as the daemon wrote it (no live parts). Ok(None): no daemon ever ran
/// here (or the last one stopped cleanly).
pub fn recorded(dirs: &DaemonDirs) -> Result<Option<Status>, StatusError> {
    let path = dirs.status_file();
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StatusError::Read { path, source }),
    };
    match serde_json::from_slice(&text) {
        Ok(status) => Ok(Some(status)),
        Err(source) => Err(StatusError::Parse { path, source }),
    }
}

/// What to do when the maps cannot be found.
const UNAVAILABLE_HINT: &str = "the daemon's pins are not visible from this mount namespace \
    (`ip netns exec` and service managers give processes their own /sys) and its maps could not \
    be opened by id: run `switch-ctl status` as root (opening a map by id needs CAP_SYS_ADMIN), \
    or in the daemon's mount namespace (`nsenter -t PID -m switch-ctl status`)";

/// Reads the status file and fills in the live parts. Ok(None): no daemon ever ran here (or
/// the last one stopped cleanly).
pub fn read(dirs: &DaemonDirs) -> Result<Option<Status>, StatusError> {
    let Some(mut status) = recorded(dirs)? else {
        return Ok(None);
    };
    status.daemon.running = pid_file::alive(status.daemon.pid);
    let maps = match PinnedMaps::open(dirs, &status.daemon.map_ids) {
        Ok((maps, found)) => {
            status.maps = match found {
                Found::Pins => MapsAccess::Pins,
                Found::Ids => MapsAccess::Ids,
            };
            maps
        }
        Err(e) => {
            status.maps = MapsAccess::Unavailable {
                reason: e.to_string(),
                hint: UNAVAILABLE_HINT.into(),
            };
            return Ok(Some(status));
        }
    };
    let entries = maps.fdb_entries();
    status.daemon.fdb_capacity = maps.fdb_raw.info.max_entries;
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
    Ok(Some(status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{DaemonStatus, render};

    #[test]
    fn maps_that_cannot_be_found_are_reported_not_zeroed() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = DaemonDirs {
            pin_dir: tmp.path().join("pins"),
            run_dir: tmp.path().join("run"),
        };
        let status = Status {
            daemon: DaemonStatus {
                pid: std::process::id(),
                running: true,
                netns: "net-1".into(),
                pin_dir: dirs.pin_dir.display().to_string(),
                started_unix: 0,
                last_resync_unix: 0,
                resyncs: 1,
                overruns: 0,
                allow_netfilter: false,
                // An id no map has (or, unprivileged, one that cannot be opened).
                map_ids: [("fdb".to_string(), u32::MAX)].into(),
                fdb_capacity: 0,
            },
            bridges: Vec::new(),
            maps: MapsAccess::NotRead,
        };
        write(&dirs, &status).unwrap();
        let read = read(&dirs).unwrap().unwrap();
        let MapsAccess::Unavailable { reason, hint } = &read.maps else {
            panic!("maps found: {:?}", read.maps);
        };
        assert!(reason.contains("fdb"), "{reason}");
        assert!(hint.contains("nsenter"), "{hint}");
        assert!(render(&read).contains("NOT FOUND"), "{}", render(&read));
    }
}
