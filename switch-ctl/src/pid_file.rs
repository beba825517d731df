//! The daemon's pid file: one daemon per network namespace, and whether it still runs.

use crate::daemon_dirs::{CreateDirError, DaemonDirs};

/// Why this process cannot become the namespace's daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The runtime directory could not be created.
    #[error(transparent)]
    RunDir(#[from] CreateDirError),
    /// A live daemon already serves this namespace.
    #[error(
        "a switch-ctl daemon (pid {pid}) already serves this network namespace; \
         `switch-ctl stop` stops it"
    )]
    Taken {
        /// The other daemon's pid.
        pid: u32,
    },
    /// The pid file could not be written.
    #[error("cannot write the pid file")]
    Write(#[source] std::io::Error),
}

/// Writes our pid, refusing when a live daemon already serves this namespace.
pub fn claim(dirs: &DaemonDirs) -> Result<(), ClaimError> {
    dirs.create_run_dir()?;
    if let Some(pid) = running_daemon(dirs)
        && pid != std::process::id()
    {
        return Err(ClaimError::Taken { pid });
    }
    std::fs::write(dirs.pid_file(), format!("{}\n", std::process::id())).map_err(ClaimError::Write)
}

/// The pid of the daemon serving these directories, if its pid file names a live process.
pub fn running_daemon(dirs: &DaemonDirs) -> Option<u32> {
    std::fs::read_to_string(dirs.pid_file())
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|pid| alive(*pid))
}

/// Whether process `pid` is alive.
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // kill(pid, 0) checks existence without sending anything; a zombie counts as gone.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
}
