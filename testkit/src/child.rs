//! Stopping child processes (daemons, servers, measured commands) on every path out of a test
//! or benchmark.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How a [`terminate`]d child ended.
#[derive(Debug, Clone, Copy)]
pub struct Terminated {
    /// Its exit status.
    pub status: ExitStatus,
    /// Whether it outlived the grace period and was killed with SIGKILL.
    pub killed: bool,
}

/// Sends `child` SIGTERM (unless it already exited), waits up to `grace` for it to exit, then
/// kills it with SIGKILL; reaps it either way.
pub fn terminate(child: &mut Child, grace: Duration) -> std::io::Result<Terminated> {
    if child.try_wait()?.is_none() {
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Terminated {
                status,
                killed: false,
            });
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Ok(Terminated {
                status: child.wait()?,
                killed: true,
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A child killed with SIGKILL and reaped when dropped (a server, a measured command), so a
/// failing test or benchmark leaves no process behind.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl KillOnDrop {
    /// The child, for its pipes or its pid.
    pub fn child(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn sigterm_stops_a_child_that_obeys_it() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let end = terminate(&mut child, Duration::from_secs(5)).unwrap();
        assert!(!end.killed);
        assert!(!end.status.success());
    }

    #[test]
    fn sigkill_follows_when_sigterm_is_ignored() {
        let mut child = Command::new("sh")
            .args(["-c", "trap '' TERM; while :; do sleep 0.1; done"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let end = terminate(&mut child, Duration::from_millis(200)).unwrap();
        assert!(end.killed);
    }
}
