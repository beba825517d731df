//! What is known about a lab, kept in a file so other processes (the `xdpdbg lab` commands) find
//! it again.

use crate::{Error, Host};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Where lab state files live (a tmpfs: a reboot removes labs and their state together).
pub const STATE_DIR: &str = "/run/netlab";

/// Every namespace a lab creates starts with this.
pub const NAMESPACE_PREFIX: &str = "xl-";

/// Everything about one lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabInfo {
    /// The lab's id; its namespaces are `xl-<id>-sw`, `xl-<id>-h1`, ...
    pub id: String,
    /// The bridge's name inside the switch namespace.
    pub bridge: String,
    /// The switch namespace.
    pub switch_netns: String,
    /// The bridge's own address, if it has one.
    pub bridge_ipv4: Option<Ipv4Addr>,
    /// The hosts, in order.
    pub hosts: Vec<Host>,
    /// The process that tears the lab down when it ends; `None` for a detached lab.
    pub owner_pid: Option<u32>,
    /// When it was built (seconds since the Unix epoch).
    pub created_unix: u64,
    /// Tells this lab from a later one of the same name.
    pub token: u64,
}

impl LabInfo {
    /// Every namespace of the lab, hosts first, the switch last.
    pub fn namespaces(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| h.netns.clone())
            .chain(std::iter::once(self.switch_netns.clone()))
            .collect()
    }

    /// Whether the lab belongs to a process that no longer exists (it was killed before it
    /// could tear the lab down).
    pub fn is_stale(&self) -> bool {
        self.owner_pid
            .is_some_and(|pid| !PathBuf::from(format!("/proc/{pid}")).exists())
    }

    fn path(id: &str) -> PathBuf {
        PathBuf::from(STATE_DIR).join(format!("{id}.json"))
    }

    /// Writes the state file of a new lab, failing if a lab of that name exists already.
    pub(crate) fn create(&self) -> Result<(), Error> {
        std::fs::create_dir_all(STATE_DIR).map_err(|err| Error::Io {
            action: "creating",
            path: STATE_DIR.into(),
            err,
        })?;
        let path = Self::path(&self.id);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => self.save(),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(Error::AlreadyExists(self.id.clone()))
            }
            Err(err) => Err(Error::Io {
                action: "creating",
                path,
                err,
            }),
        }
    }

    /// Replaces the state file.
    pub(crate) fn save(&self) -> Result<(), Error> {
        let io = |action, path: PathBuf| move |err| Error::Io { action, path, err };
        std::fs::create_dir_all(STATE_DIR).map_err(io("creating", STATE_DIR.into()))?;
        let path = Self::path(&self.id);
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(self).expect("lab info serializes");
        std::fs::write(&tmp, json).map_err(io("writing", tmp.clone()))?;
        std::fs::rename(&tmp, &path).map_err(io("renaming", tmp))
    }

    pub(crate) fn load(id: &str) -> Result<Self, Error> {
        let path = Self::path(id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::UnknownLab(id.into()));
            }
            Err(err) => {
                return Err(Error::Io {
                    action: "reading",
                    path,
                    err,
                });
            }
        };
        serde_json::from_slice(&bytes).map_err(|err| Error::CorruptState { path, err })
    }

    pub(crate) fn remove(id: &str) {
        let _ = std::fs::remove_file(Self::path(id));
    }
}

/// Every lab with a state file, sorted by id.
pub fn list_labs() -> Result<Vec<LabInfo>, Error> {
    let entries = match std::fs::read_dir(STATE_DIR) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(Error::Io {
                action: "listing",
                path: STATE_DIR.into(),
                err,
            });
        }
    };
    let mut labs = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".json") {
            match LabInfo::load(id) {
                Ok(info) => labs.push(info),
                // Removed meanwhile by its owner (not a lab any more), or corrupt (its
                // namespaces then count as orphans, see `remove_corrupt_states`).
                Err(Error::UnknownLab(_) | Error::CorruptState { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    labs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(labs)
}
