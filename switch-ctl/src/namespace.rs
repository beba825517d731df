//! Which network namespace a daemon serves, and entering it.
//!
//! A daemon serves exactly one network namespace: the one it was started in, or the one named
//! with `--netns` (a name under /var/run/netns, as `ip netns` makes them). It enters that
//! namespace before starting any thread, so every socket, attachment and sysctl read that
//! follows is in it. Mount namespaces are not touched: pins under /sys/fs/bpf are shared with
//! every process of the same mount namespace (a daemon started by `ip netns exec` has its own;
//! see [`crate::pinned_maps`] for how the others find its maps then).

use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;

/// A network namespace that could not be found, entered or named.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// No namespace of that name.
    #[error(
        "no network namespace `{name}` ({} cannot be opened); `ip netns list` shows them",
        path.display()
    )]
    Missing {
        /// The name given.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
        /// Why it could not be opened.
        #[source]
        source: std::io::Error,
    },
    /// The namespace exists but could not be entered.
    #[error("cannot enter network namespace `{name}` (needs CAP_SYS_ADMIN)")]
    Enter {
        /// The name given.
        name: String,
        /// The system's refusal.
        #[source]
        source: nix::Error,
    },
    /// The current namespace's identity could not be read.
    #[error("cannot read /proc/thread-self/ns/net")]
    Tag(#[source] std::io::Error),
}

/// Moves the calling thread into the named network namespace. Call it before any other thread
/// exists: threads started later inherit it.
pub fn enter(name: &str) -> Result<(), NamespaceError> {
    let path = PathBuf::from("/var/run/netns").join(name);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(source) => {
            return Err(NamespaceError::Missing {
                name: name.into(),
                path,
                source,
            });
        }
    };
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|source| {
        NamespaceError::Enter {
            name: name.into(),
            source,
        }
    })
}

/// A stable name for the current network namespace: `net-<inode>` of /proc/self/ns/net. It is
/// the same for every process in the namespace for as long as the namespace lives.
pub fn current_tag() -> Result<String, NamespaceError> {
    let meta = std::fs::metadata("/proc/thread-self/ns/net").map_err(NamespaceError::Tag)?;
    Ok(format!("net-{}", meta.ino()))
}
