//! The BPF filesystem, where maps and programs are pinned.

use crate::Error;
use crate::capability::{Capability, has_capability};
use nix::mount::{MsFlags, mount};
use std::fmt;
use std::path::Path;

/// Where the BPF filesystem is normally mounted.
pub const BPFFS_DEFAULT: &str = "/sys/fs/bpf";

/// `BPF_FS_MAGIC` from `<linux/magic.h>`.
const BPF_FS_MAGIC: i64 = 0xcafe_4a11;

/// What is found at the place the BPF filesystem should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum BpffsState {
    /// A BPF filesystem is mounted there.
    Mounted,
    /// The directory does not exist.
    Missing,
    /// Another filesystem (its magic number) is there.
    OtherFilesystem(i64),
}

impl fmt::Display for BpffsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BpffsState::Mounted => f.write_str("a BPF filesystem is mounted"),
            BpffsState::Missing => f.write_str("the directory does not exist"),
            BpffsState::OtherFilesystem(magic) => {
                write!(f, "another filesystem (magic {magic:#x}) is there")
            }
        }
    }
}

/// What is at `path`.
pub fn bpffs_state(path: impl AsRef<Path>) -> BpffsState {
    match nix::sys::statfs::statfs(path.as_ref()) {
        #[allow(clippy::unnecessary_cast)] // the field's type differs between architectures
        Ok(fs) if fs.filesystem_type().0 as i64 == BPF_FS_MAGIC => BpffsState::Mounted,
        #[allow(clippy::unnecessary_cast)]
        Ok(fs) => BpffsState::OtherFilesystem(fs.filesystem_type().0 as i64),
        Err(_) => BpffsState::Missing,
    }
}

/// Makes sure a BPF filesystem is mounted at `path`, mounting one if this process may.
///
/// Without CAP_SYS_ADMIN the error says exactly which command mounts it.
pub fn ensure_bpffs(path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let state = bpffs_state(path);
    if state == BpffsState::Mounted {
        return Ok(());
    }
    let display = path.display().to_string();
    if !has_capability(Capability::SysAdmin) {
        return Err(Error::BpffsMissing {
            path: display,
            state,
        });
    }
    if state == BpffsState::Missing {
        std::fs::create_dir_all(path).map_err(|e| Error::BpffsMount {
            path: display.clone(),
            errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })?;
    }
    mount(
        Some("bpf"),
        path,
        Some("bpf"),
        MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|errno| Error::BpffsMount {
        path: display,
        errno,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_directory_is_not_bpffs() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            bpffs_state(dir.path()),
            BpffsState::OtherFilesystem(_)
        ));
        assert_eq!(bpffs_state(dir.path().join("nope")), BpffsState::Missing);
    }

    #[test]
    fn missing_bpffs_error_says_how_to_mount() {
        let err = Error::BpffsMissing {
            path: "/sys/fs/bpf".into(),
            state: BpffsState::OtherFilesystem(0x6264_6573),
        };
        let msg = err.to_string();
        assert!(msg.contains("mount -t bpf bpf /sys/fs/bpf"), "{msg}");
    }

    /// Unmounts on drop, so a failing assertion leaves no mount behind.
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = nix::mount::umount(self.0);
        }
    }

    #[test]
    fn ensure_mounts_bpffs_where_there_is_none() {
        assert!(
            has_capability(Capability::SysAdmin),
            "this test mounts a filesystem: run it as root (CAP_SYS_ADMIN)"
        );
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("bpf");
        ensure_bpffs(&target).unwrap();
        let _guard = Unmount(&target);
        assert_eq!(bpffs_state(&target), BpffsState::Mounted);
        // A second call finds it mounted and does nothing.
        ensure_bpffs(&target).unwrap();
    }
}
