//! Pinning threads to CPUs, and the CPU time a thread or a CPU spent.

use anyhow::{Context, Result, ensure};

/// Pins thread `pid` (0: the calling thread) to CPU `cpu`.
pub fn pin(pid: i32, cpu: usize) -> Result<()> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu)?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(pid), &set)?;
    Ok(())
}

/// Nanoseconds `pid` has run on a CPU (first field of /proc/PID/schedstat).
pub fn cpu_ns(pid: i32) -> Result<u64> {
    let path = format!("/proc/{pid}/schedstat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("unexpected {path}: {text:?}"))
}

/// Nanoseconds CPU `cpu` spent on anything but idle, iowait and steal (from /proc/stat, in
/// clock ticks: 10 ms resolution).
pub fn cpu_busy_ns(cpu: usize) -> Result<u64> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let name = format!("cpu{cpu}");
    let fields: Vec<u64> = stat
        .lines()
        .find_map(|l| l.strip_prefix(&name)?.strip_prefix(' ').map(str::to_owned))
        .with_context(|| format!("no {name} line in /proc/stat"))?
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    ensure!(fields.len() >= 8, "short {name} line in /proc/stat");
    // user nice system idle iowait irq softirq steal
    let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6];
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Ok(busy * 1_000_000_000 / hz)
}
