//! Named network namespaces (the ones `ip netns` manages under /run/netns).
//!
//! These are the building blocks of a [`Lab`](crate::Lab), usable on their own: create and
//! delete a namespace, run a command or a closure inside it.

use crate::{Error, tool};
use nix::sched::{CloneFlags, setns};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Where `ip netns` keeps the namespaces' bind mounts.
pub const NETNS_RUN_DIR: &str = "/run/netns";
/// Where `ip netns exec` finds per-namespace files that replace those in /etc (e.g. `hosts`).
pub const NETNS_ETC_DIR: &str = "/etc/netns";

/// The bind mount that keeps namespace `name` alive.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(NETNS_RUN_DIR).join(name)
}

/// Whether namespace `name` exists.
pub fn exists(name: &str) -> bool {
    path(name).exists()
}

/// Creates namespace `name` with its loopback up.
pub fn add(name: &str) -> Result<(), Error> {
    tool::ip(&["netns", "add", name])?;
    tool::ip(&["-n", name, "link", "set", "lo", "up"])?;
    Ok(())
}

/// The processes whose network namespace is `name`.
pub fn pids(name: &str) -> Result<Vec<i32>, Error> {
    let out = tool::ip(&["netns", "pids", name])?;
    Ok(out
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// Kills every process inside `name`, then deletes it and its /etc/netns files.
///
/// Killing first matters: a namespace with processes in it outlives its bind mount, and so do
/// its interfaces. Deleting a namespace that does not exist is not an error.
pub fn delete(name: &str) -> Result<(), Error> {
    if exists(name) {
        let survivors = kill_all(name);
        if !survivors.is_empty() {
            return Err(Error::ProcessesSurvived {
                netns: name.into(),
                pids: survivors,
            });
        }
        if let Err(e) = tool::ip(&["netns", "delete", name])
            && exists(name)
        {
            return Err(e);
        }
    }
    let etc = PathBuf::from(NETNS_ETC_DIR).join(name);
    match std::fs::remove_dir_all(&etc) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
            action: "removing",
            path: etc,
            err,
        }),
        _ => Ok(()),
    }
}

/// SIGKILLs the processes in `name` (never this process) and waits up to 5 s for them to go.
/// Returns those still there.
fn kill_all(name: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pids: Vec<i32> = pids(name)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| *p != me)
            .collect();
        if pids.is_empty() || Instant::now() > deadline {
            return pids;
        }
        for pid in pids {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes a file that `ip netns exec` shows as `/etc/<file>` inside namespace `name`.
pub fn set_etc_file(name: &str, file: &str, contents: &str) -> Result<(), Error> {
    let dir = PathBuf::from(NETNS_ETC_DIR).join(name);
    let io = |action, path: &PathBuf| {
        let path = path.clone();
        move |err| Error::Io { action, path, err }
    };
    std::fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
    let target = dir.join(file);
    std::fs::write(&target, contents).map_err(io("writing", &target))
}

/// A command that runs `program` inside namespace `name` (through `ip netns exec`, so
/// /etc/netns files and a namespace-local /sys apply).
pub fn command(name: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", name]).arg(program);
    cmd
}

/// Runs `f` on a thread that has entered namespace `name`, and returns what it returns.
///
/// Only the network namespace changes (sockets, interfaces, /proc/sys/net); the thread ends when
/// `f` does, so the caller's threads never change namespace. A panic in `f` is passed on.
pub fn run_in<R, F>(name: &str, f: F) -> Result<R, Error>
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    let ns_path = path(name);
    let file = std::fs::File::open(&ns_path).map_err(|err| Error::Io {
        action: "opening network namespace",
        path: ns_path.clone(),
        err,
    })?;
    std::thread::scope(|scope| {
        let thread = scope.spawn(move || {
            setns(&file, CloneFlags::CLONE_NEWNET).map_err(|errno| Error::EnterNamespace {
                path: ns_path,
                errno,
            })?;
            Ok(f())
        });
        match thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
