//! Where a daemon keeps its pins and its runtime files.
//!
//! ```text
//! /sys/fs/bpf/switch-ctl/<netns tag>/        map pins (bpffs): survive the daemon, so a
//!     fdb ports tx_ports counters            daemon killed with -9 leaves forwarding working
//! /run/switch-ctl/<netns tag>/   (0700)      runtime: pid, status.json (0600)
//! ```
//!
//! Programs are attached the device-owned way (IFLA_XDP, TC clsact filters), not as pinned
//! bpf_links: this kernel refuses to pin links.
//!
//! The netns tag ([`crate::namespace::current_tag`]) keeps daemons of different namespaces
//! apart.

use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

/// A directory that could not be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot create {}", path.display())]
pub struct CreateDirError {
    /// The directory.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// The directories of one daemon.
#[derive(Debug, Clone)]
pub struct DaemonDirs {
    /// Map pins.
    pub pin_dir: PathBuf,
    /// Runtime files: pid and status.
    pub run_dir: PathBuf,
}

impl DaemonDirs {
    /// The default directories for the namespace tagged `tag`.
    pub fn for_namespace(tag: &str) -> DaemonDirs {
        DaemonDirs {
            pin_dir: Path::new(preflight::BPFFS_DEFAULT)
                .join("switch-ctl")
                .join(tag),
            run_dir: Path::new("/run/switch-ctl").join(tag),
        }
    }

    /// The pin of map `name`.
    pub fn map_pin(&self, name: &str) -> PathBuf {
        self.pin_dir.join(name)
    }

    /// The daemon's pid file.
    pub fn pid_file(&self) -> PathBuf {
        self.run_dir.join("pid")
    }

    /// The daemon's last status.
    pub fn status_file(&self) -> PathBuf {
        self.run_dir.join("status.json")
    }

    /// Creates the pin directory (mode 0700).
    pub fn create_pin_dir(&self) -> Result<(), CreateDirError> {
        create_private_dir(&self.pin_dir)
    }

    /// Creates the runtime directory (mode 0700).
    pub fn create_run_dir(&self) -> Result<(), CreateDirError> {
        create_private_dir(&self.run_dir)
    }

    /// Removes the pins (maps and any leftover links). Links whose pin goes and which no
    /// process holds are detached by the kernel.
    pub fn remove_pins(&self) {
        let _ = std::fs::remove_dir_all(&self.pin_dir);
        // The per-daemon directory's parent stays unless empty.
        if let Some(parent) = self.pin_dir.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }

    /// Removes the runtime directory (pid and status files).
    pub fn remove_run_dir(&self) {
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

/// Creates `dir` (and parents) with mode 0700.
fn create_private_dir(dir: &Path) -> Result<(), CreateDirError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| CreateDirError {
            path: dir.to_path_buf(),
            source,
        })
}
