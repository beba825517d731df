//! Which network namespace a daemon serves, and entering it.
//!
//! A daemon serves exactly one network namespace: the one it was started in, or the one named
//! with `--netns` (a name under /var/run/netns, as `ip netns` makes them). It enters that
//! namespace before starting any thread, so every socket, attachment and sysctl read that
//! follows is in it. Mount namespaces are not touched, so pins under /sys/fs/bpf are shared with
//! the host and survive the daemon.

use anyhow::Context as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;

/// Moves the calling thread into the named network namespace. Call it before any other thread
/// exists: threads started later inherit it.
pub fn enter(name: &str) -> anyhow::Result<()> {
    let path = PathBuf::from("/var/run/netns").join(name);
    let file = std::fs::File::open(&path).with_context(|| {
        format!(
            "no network namespace `{name}` ({} cannot be opened); `ip netns list` shows them",
            path.display()
        )
    })?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .with_context(|| format!("cannot enter network namespace `{name}` (needs CAP_SYS_ADMIN)"))
}

/// A stable name for the current network namespace: `net-<inode>` of /proc/self/ns/net. It is
/// the same for every process in the namespace for as long as the namespace lives.
pub fn current_tag() -> anyhow::Result<String> {
    let meta = std::fs::metadata("/proc/thread-self/ns/net")
        .context("cannot read /proc/thread-self/ns/net")?;
    Ok(format!("net-{}", meta.ino()))
}
