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

use std::path::{Path, PathBuf};

/// The directories of one daemon.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Map pins.
    pub pin_dir: PathBuf,
    /// Runtime files: pid and status.
    pub run_dir: PathBuf,
}

impl Layout {
    /// The default layout for the namespace tagged `tag`.
    pub fn for_namespace(tag: &str) -> Layout {
        Layout {
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
}
