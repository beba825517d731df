//! A small, typed layer over the bpf(2) commands that aya 0.14 lacks.
//!
//! aya loads and attaches programs; this crate adds what it cannot do: enumerate every map
//! and program on the system, read full map/program/BTF info, batch map reads, freeze,
//! `BPF_F_LOCK` lookups and updates, loading and running `BPF_PROG_TYPE_SYSCALL` programs, and
//! loading any program with the verifier's log at the level and size the caller chooses, kept
//! whether the program is accepted or not ([`ProgFd::load_logged`]); a program's full info
//! with its JIT function and line tables ([`ProgFd::full_info`]), run-time statistics
//! ([`enable_stats`]) and every link with its target ([`link_ids`], [`LinkFd::info`]).
//! Every command is one function building a zeroed `bpf_attr` from `aya_obj::generated` (the
//! uapi types are never hand-written), and every failure is a [`SysError`] that names the
//! command and explains the kernel's errno in words.

mod btf;
mod error;
mod link;
mod log;
mod map;
mod prog;
mod prog_full;
mod stats;
mod syscall;

pub use btf::{BtfFd, btf_data};
pub use error::{Op, SysError};
pub use link::{LinkFd, LinkInfo, LinkTarget, PerfEventTarget, link_ids};
pub use log::{KERNEL_MAX_LOG_SIZE, LogLevel, LogRequest, VerifierLog};
pub use map::{BatchRead, MapCreate, MapFd, MapInfo, map_ids, obj_get};
pub use prog::{ProgBtf, ProgFd, ProgInfo, ProgLoad, TestRun, TestRunResult, prog_ids};
pub use prog_full::{FullProgInfo, FuncInfo, LineInfo, RunStats};
pub use stats::{StatsFd, enable_stats};

/// The result type of every bpf(2) command.
pub type Result<T> = std::result::Result<T, SysError>;

/// Flag for lookups and updates that take the value's `struct bpf_spin_lock` (`BPF_F_LOCK`).
pub const F_LOCK: u64 = aya_obj::generated::BPF_F_LOCK as u64;
/// Update flag: create or replace (`BPF_ANY`).
pub const ANY: u64 = aya_obj::generated::BPF_ANY as u64;
/// Update flag: create only; fails with `EEXIST` when the key exists (`BPF_NOEXIST`).
pub const NOEXIST: u64 = aya_obj::generated::BPF_NOEXIST as u64;
/// Update flag: replace only; fails with `ENOENT` when the key is absent (`BPF_EXIST`).
pub const EXIST: u64 = aya_obj::generated::BPF_EXIST as u64;

/// The number of possible CPUs, which sizes every per-CPU value buffer.
///
/// Read from `/sys/devices/system/cpu/possible` (for example `0-1` or `0,2-3`), as the kernel
/// copies one value per *possible* CPU, not per online one.
pub fn possible_cpus() -> std::io::Result<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible")?;
    parse_cpu_list(text.trim()).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unexpected /sys/devices/system/cpu/possible: {text:?}"),
        )
    })
}

fn parse_cpu_list(text: &str) -> Option<usize> {
    let mut max = None;
    for part in text.split(',') {
        let last = match part.split_once('-') {
            Some((_, hi)) => hi.trim().parse::<usize>().ok()?,
            None => part.trim().parse::<usize>().ok()?,
        };
        max = Some(max.map_or(last, |m: usize| m.max(last)));
    }
    max.map(|m| m + 1)
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0-1"), Some(2));
        assert_eq!(parse_cpu_list("0,2-3"), Some(4));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("x"), None);
    }
}
