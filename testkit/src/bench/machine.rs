//! The machine a benchmark ran on, for its report's heading.

/// The running kernel's release (`/proc/sys/kernel/osrelease`), `?` when unreadable.
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "?".into(), |s| s.trim().into())
}

/// How many CPUs this process may use (0 when unknown).
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// `<n> CPUs, kernel <release>`, as every report's heading starts.
pub fn summary() -> String {
    format!("{} CPUs, kernel {}", cpus(), kernel_release())
}
