//! `BPF_ENABLE_STATS`: run-time statistics for every program, on while a file descriptor lives.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use aya_obj::generated::{bpf_cmd, bpf_stats_type};

use super::syscall::{bpf_fd, zeroed};
use super::{Op, Result};

/// Proof that run-time statistics are on: the file descriptor `BPF_ENABLE_STATS` returned.
///
/// While at least one such descriptor is open anywhere on the system, the kernel measures every
/// program run (two clock reads per run) and fills `run_time_ns` and `run_cnt`; statistics go
/// off again when the last one closes. Dropping this value closes it.
#[derive(Debug)]
pub struct StatsFd(OwnedFd);

/// Turns run-time statistics on (`BPF_ENABLE_STATS` with `BPF_STATS_RUN_TIME`, Linux 5.8+)
/// until the returned descriptor is dropped. Needs CAP_SYS_ADMIN.
pub fn enable_stats() -> Result<StatsFd> {
    let mut attr = zeroed();
    attr.enable_stats.type_ = bpf_stats_type::BPF_STATS_RUN_TIME as u32;
    bpf_fd(Op("BPF_ENABLE_STATS"), bpf_cmd::BPF_ENABLE_STATS, &mut attr).map(StatsFd)
}

impl AsFd for StatsFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
