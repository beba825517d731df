//! Which processes hold each program: a scan of `/proc/*/fd` and `/proc/*/fdinfo`.
//!
//! A process owns a program when it holds a file descriptor of the program itself
//! (`anon_inode:bpf-prog`, whose fdinfo says `prog_id:`) or of a link that attaches it
//! (`anon_inode:bpf_link`, whose fdinfo also says `prog_id:`). Programs kept alive only by a pin
//! on bpffs, by an attachment without a link (netlink XDP, tc, `PERF_EVENT_IOC_SET_BPF`) or by
//! another program (tail-call maps) have no owner here. Processes that exit during the scan, and
//! processes whose `/proc` entries we may not read, are skipped.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// How a process holds a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// A file descriptor of the program.
    ProgFd,
    /// A file descriptor of a link attaching the program.
    LinkFd,
}

/// A process that holds a program.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Owner {
    /// The process id.
    pub pid: u32,
    /// Its command name (`/proc/PID/comm`).
    pub comm: String,
    /// The file descriptor.
    pub fd: u32,
    /// Whether it is the program's fd or a link's.
    pub hold: Hold,
}

/// Every owner of every program, by program id, from one scan of `/proc`.
pub fn scan() -> BTreeMap<u32, Vec<Owner>> {
    scan_root(Path::new("/proc"))
}

fn scan_root(proc: &Path) -> BTreeMap<u32, Vec<Owner>> {
    let mut owners: BTreeMap<u32, Vec<Owner>> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(proc) else {
        return owners;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
            continue;
        };
        let mut comm = None;
        for fd in fds.flatten() {
            let Some(num) = fd.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let hold = match target.to_str() {
                Some("anon_inode:bpf-prog") => Hold::ProgFd,
                Some("anon_inode:bpf_link") => Hold::LinkFd,
                _ => continue,
            };
            let Ok(info) = std::fs::read_to_string(dir.join("fdinfo").join(num.to_string())) else {
                continue;
            };
            let Some(prog_id) = fdinfo_prog_id(&info) else {
                continue;
            };
            let comm = comm
                .get_or_insert_with(|| {
                    std::fs::read_to_string(dir.join("comm"))
                        .map(|c| c.trim_end().to_string())
                        .unwrap_or_default()
                })
                .clone();
            owners.entry(prog_id).or_default().push(Owner {
                pid,
                comm,
                fd: num,
                hold,
            });
        }
    }
    owners
}

/// The `prog_id:` field of a program's or a link's fdinfo.
fn fdinfo_prog_id(fdinfo: &str) -> Option<u32> {
    fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("prog_id:"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prog_id_from_program_and_link_fdinfo() {
        let prog = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nprog_type:\t6\n\
                    prog_jited:\t1\nprog_tag:\tde47b1d5a8b3a2b4\nmemlock:\t4096\nprog_id:\t42\n";
        assert_eq!(fdinfo_prog_id(prog), Some(42));
        let link = "pos:\t0\nflags:\t02000000\nlink_type:\txdp\nlink_id:\t3\n\
                    prog_tag:\tde47b1d5a8b3a2b4\nprog_id:\t7\nifindex:\t2\n";
        assert_eq!(fdinfo_prog_id(link), Some(7));
        assert_eq!(fdinfo_prog_id("pos:\t0\n"), None);
    }
}
