//! bpf(2) failures, with the kernel's errno explained for the command that failed.

use std::fmt;

/// The bpf(2) command that failed, in the kernel's own name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op(pub &'static str);

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A failed bpf(2) command: which one, the errno, and what it means for that command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{op} failed: {name} ({text}): {hint}", name = errno_name(*errno), text = std::io::Error::from_raw_os_error(*errno), hint = explain(*op, *errno))]
pub struct SysError {
    op: Op,
    errno: i32,
}

impl SysError {
    /// A failure of `op` with `errno`.
    pub fn new(op: Op, errno: i32) -> Self {
        Self { op, errno }
    }

    /// The command that failed.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The kernel's errno.
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// What the errno means for this command, in words.
    pub fn explanation(&self) -> &'static str {
        explain(self.op, self.errno)
    }
}

/// The symbolic name of an errno (`ENOENT`), as the kernel sources spell it.
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        524 => "ENOTSUPP",
        _ => "errno",
    }
}

/// What `errno` means when `op` returns it.
fn explain(op: Op, errno: i32) -> &'static str {
    let cmd = op.0;
    let map_elem = cmd.starts_with("BPF_MAP_") && cmd != "BPF_MAP_CREATE";
    match errno {
        libc::EPERM | libc::EACCES
            if cmd == "BPF_MAP_UPDATE_ELEM" || cmd == "BPF_MAP_DELETE_ELEM" =>
        {
            "the map refuses writes from syscalls (it is frozen or was created read-only for \
             userspace), or you lack CAP_BPF: run as root"
        }
        libc::EPERM | libc::EACCES => {
            "permission denied: run as root, or grant CAP_BPF (CAP_SYS_ADMIN on kernels before \
             5.8); some objects also need CAP_NET_ADMIN or CAP_PERFMON"
        }
        libc::ENOENT if cmd.ends_with("GET_FD_BY_ID") => {
            "no object has this id: it was never loaded or has been freed since"
        }
        libc::ENOENT if cmd == "BPF_OBJ_GET" => {
            "nothing is pinned at this path (is bpffs mounted there?)"
        }
        libc::ENOENT if cmd == "BPF_MAP_LOOKUP_BATCH" => "no more elements",
        libc::ENOENT if map_elem => "the key is not in the map",
        libc::EEXIST => "the key is already in the map and the update asked for a new one only",
        libc::E2BIG if cmd == "BPF_MAP_UPDATE_ELEM" => {
            "the map is full (max_entries reached) or the key is past the end of an array"
        }
        libc::E2BIG => "an argument is larger than the kernel supports",
        libc::ENOSPC if cmd == "BPF_MAP_LOOKUP_BATCH" => {
            "the buffer cannot hold one whole hash bucket; retry with a larger batch"
        }
        libc::ENOSPC => "no space left for the program's verifier log or the map",
        libc::EINVAL if cmd == "BPF_PROG_LOAD" => {
            "the verifier or the loader rejected the program: see its log"
        }
        libc::EINVAL if cmd == "BPF_MAP_FREEZE" => "this map type cannot be frozen",
        libc::EINVAL if map_elem => {
            "the kernel rejected the arguments: a key or value of the wrong size, or a flag this \
             map type does not take (BPF_F_LOCK needs a value holding a bpf_spin_lock)"
        }
        libc::EINVAL => "the kernel rejected the arguments for this command",
        libc::EBUSY if cmd == "BPF_MAP_FREEZE" => {
            "the map is already frozen or is mapped writable by some process"
        }
        libc::EBUSY => "the object is busy; retry",
        libc::EBADF => "the file descriptor is not a BPF object of the expected kind",
        libc::EOPNOTSUPP | 524 => "this map or program type does not support this operation",
        libc::ENOMEM => {
            "the kernel could not allocate memory (check RLIMIT_MEMLOCK on kernels \
                         before 5.11)"
        }
        libc::EFAULT => "the kernel could not read or write a buffer (a bug in this tool)",
        libc::ENOSYS => "this kernel has no bpf(2) or not this command: upgrade the kernel",
        libc::EINTR | libc::EAGAIN => "interrupted; retry",
        _ => "unexpected error from the kernel",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_command_errno_and_meaning() {
        let e = SysError::new(Op("BPF_MAP_GET_FD_BY_ID"), libc::ENOENT);
        let text = e.to_string();
        assert!(
            text.starts_with("BPF_MAP_GET_FD_BY_ID failed: ENOENT"),
            "{text}"
        );
        assert!(text.contains("no object has this id"), "{text}");
        let e = SysError::new(Op("BPF_MAP_LOOKUP_ELEM"), libc::ENOENT);
        assert!(e.to_string().contains("not in the map"));
        let e = SysError::new(Op("BPF_MAP_UPDATE_ELEM"), libc::E2BIG);
        assert!(e.to_string().contains("full"));
    }
}
