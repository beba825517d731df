//! One run of the headless refresh loop, `xdpdbg top --duration D --interval 1s`, and the CPU
//! time it used: over the steady part (the threads' `/proc/PID/task/TID/schedstat` from after
//! start-up to shortly before the end) and over the whole run (`wait4`'s rusage, start-up included).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use testkit::child::KillOnDrop;

/// When the steady part starts: after start-up (listing and symbolizing every program, opening
/// the perf events) and the first refreshes.
pub const STEADY_FROM: Duration = Duration::from_secs(3);
/// The steady part ends this long before the run does (the final report is not in it).
const STEADY_UNTIL_END: Duration = Duration::from_secs(1);

/// What one run cost.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    /// CPU time (user + system) over wall time in the steady part: 1.0 is one core.
    pub steady_cores: f64,
    /// The same over the whole run, start-up and the final report included.
    pub total_cores: f64,
    /// CPU time of the whole run, seconds.
    pub total_cpu_s: f64,
    /// Peak RSS, MiB.
    pub max_rss_mib: f64,
}

/// Nanoseconds every thread of process `pid` has run (sum of the first field of each
/// `/proc/PID/task/TID/schedstat`: the scheduler's exact run time, user and system). `xdpdbg
/// top` keeps its threads for the whole run, so none of its time is missed.
fn cpu_s(pid: u32) -> Result<f64> {
    let dir = format!("/proc/{pid}/task");
    let mut ns = 0u64;
    for task in std::fs::read_dir(&dir).with_context(|| format!("reading {dir}"))? {
        let path = task?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // the thread just exited
        };
        ns += text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .with_context(|| format!("unexpected {}: {text:?}", path.display()))?;
    }
    Ok(ns as f64 / 1e9)
}

/// Runs `xdpdbg top --duration <duration> --interval 1s` (plus `extra` arguments) and measures
/// it. Its output (the profile of every program) goes to /dev/null; it must exit 0.
pub fn run_top(bin: &Path, duration: Duration, extra: &[&str]) -> Result<Cost> {
    ensure!(
        duration > STEADY_FROM + STEADY_UNTIL_END + Duration::from_secs(1),
        "the run is too short to have a steady part"
    );
    let length = format!("{}ms", duration.as_millis());
    let start = Instant::now();
    let mut child = KillOnDrop(
        Command::new(bin)
            .args(["top", "--duration", &length, "--interval", "1s"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?,
    );
    let pid = child.child().id();
    let stderr = child.child().stderr.take().context("stderr is piped")?;
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());

    std::thread::sleep(STEADY_FROM.saturating_sub(start.elapsed()));
    let (a, a_at) = (cpu_s(pid)?, Instant::now());
    std::thread::sleep((duration - STEADY_UNTIL_END).saturating_sub(start.elapsed()));
    let (b, b_at) = (cpu_s(pid)?, Instant::now());

    let mut status = 0;
    // SAFETY: rusage is plain integers; all-zero is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our unreaped child; status and usage point to live locals.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if r == pid as libc::pid_t {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            bail!("wait4: {e}");
        }
    }
    let wall = start.elapsed().as_secs_f64();
    // Reaped by wait4: KillOnDrop must not signal or wait for the pid again.
    std::mem::forget(child);
    let err = stderr.join().unwrap_or_default();
    ensure!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "xdpdbg top {} failed (wait status {status}): {}",
        extra.join(" "),
        err.trim()
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let total = secs(usage.ru_utime) + secs(usage.ru_stime);
    Ok(Cost {
        steady_cores: (b - a) / (b_at - a_at).as_secs_f64(),
        total_cores: total / wall,
        total_cpu_s: total,
        max_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    })
}
