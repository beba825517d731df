//! The one place that calls bpf(2).

use std::os::fd::{FromRawFd, OwnedFd};

use aya_obj::generated::{bpf_attr, bpf_cmd};

use super::{Op, Result, SysError};

/// Runs one bpf(2) command and returns its non-negative result.
pub(crate) fn bpf(op: Op, cmd: bpf_cmd, attr: &mut bpf_attr) -> Result<i64> {
    // SAFETY: `attr` is a fully initialised (zeroed, then filled) bpf_attr that outlives the
    // call, and the size passed is its real size; every pointer stored inside it by the callers
    // points to a live buffer of the length they also store.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr as *mut bpf_attr,
            std::mem::size_of::<bpf_attr>(),
        )
    };
    if ret < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        Err(SysError::new(op, errno))
    } else {
        Ok(ret)
    }
}

/// Runs a command that returns a new file descriptor and takes ownership of it.
pub(crate) fn bpf_fd(op: Op, cmd: bpf_cmd, attr: &mut bpf_attr) -> Result<OwnedFd> {
    let fd = bpf(op, cmd, attr)?;
    // SAFETY: on success these commands return a new file descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// A zeroed `bpf_attr`, as the kernel requires unused fields to be zero.
pub(crate) fn zeroed() -> bpf_attr {
    // SAFETY: bpf_attr is a plain C union of integers and arrays; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

/// Fetches `BPF_OBJ_GET_INFO_BY_FD` into `info` (a map, program or BTF info struct).
pub(crate) fn obj_info<T>(op: Op, fd: i32, info: &mut T) -> Result<()> {
    let mut attr = zeroed();
    attr.info.bpf_fd = fd as u32;
    attr.info.info_len = std::mem::size_of::<T>() as u32;
    attr.info.info = info as *mut T as u64;
    bpf(op, bpf_cmd::BPF_OBJ_GET_INFO_BY_FD, &mut attr).map(drop)
}

/// Walks one of the `BPF_*_GET_NEXT_ID` id spaces.
pub(crate) fn next_id(op: Op, cmd: bpf_cmd, start: u32) -> Result<Option<u32>> {
    let mut attr = zeroed();
    attr.__bindgen_anon_6.__bindgen_anon_1.start_id = start;
    match bpf(op, cmd, &mut attr) {
        // SAFETY: the kernel wrote next_id into the member we filled; a plain integer.
        Ok(_) => Ok(Some(unsafe { attr.__bindgen_anon_6.next_id })),
        Err(e) if e.errno() == libc::ENOENT => Ok(None),
        Err(e) => Err(e),
    }
}

/// Iterates over one id space (maps, programs, ...) in increasing order, stopping at the first
/// error. Objects freed during the walk simply do not appear.
pub(crate) fn ids(op: Op, cmd: bpf_cmd) -> impl Iterator<Item = Result<u32>> {
    let mut cur = Some(0u32);
    std::iter::from_fn(move || {
        let start = cur?;
        let next = next_id(op, cmd, start).transpose();
        cur = match &next {
            Some(Ok(id)) => Some(*id),
            _ => None,
        };
        next
    })
}

/// Turns an id into a file descriptor with one of the `BPF_*_GET_FD_BY_ID` commands.
pub(crate) fn fd_by_id(op: Op, cmd: bpf_cmd, id: u32) -> Result<OwnedFd> {
    let mut attr = zeroed();
    attr.__bindgen_anon_6.__bindgen_anon_1.map_id = id;
    bpf_fd(op, cmd, &mut attr)
}

/// A NUL-padded kernel name field as a Rust string.
pub(crate) fn c_name(raw: &[std::ffi::c_char]) -> String {
    let bytes: Vec<u8> = raw
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
