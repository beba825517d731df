//! BTF commands: load BTF into the kernel, fetch a loaded BTF object's raw bytes by id.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use aya_obj::generated::{bpf_btf_info, bpf_cmd};

use super::log::{LogRequest, VerifierLog, load_with_log};
use super::syscall::{bpf_fd, fd_by_id, obj_info, zeroed};
use super::{Op, Result};

/// The raw bytes of the BTF object with this id (the same format as an ELF `.BTF` section).
pub fn btf_data(btf_id: u32) -> Result<Vec<u8>> {
    let fd = fd_by_id(
        Op("BPF_BTF_GET_FD_BY_ID"),
        bpf_cmd::BPF_BTF_GET_FD_BY_ID,
        btf_id,
    )?;
    let op = Op("BPF_OBJ_GET_INFO_BY_FD");
    // SAFETY: bpf_btf_info is plain integers; all-zero is valid.
    let mut info: bpf_btf_info = unsafe { std::mem::zeroed() };
    obj_info(op, fd.as_raw_fd(), &mut info)?;
    let mut data = vec![0u8; info.btf_size as usize];
    // SAFETY: as above.
    info = unsafe { std::mem::zeroed() };
    info.btf = data.as_mut_ptr() as u64;
    info.btf_size = data.len() as u32;
    obj_info(op, fd.as_raw_fd(), &mut info)?;
    data.truncate(info.btf_size as usize);
    Ok(data)
}

/// A BTF object loaded into the kernel, owned through a file descriptor.
#[derive(Debug)]
pub struct BtfFd(OwnedFd);

impl BtfFd {
    /// Loads BTF (the bytes of an ELF `.BTF` section, after any fixups) with `BPF_BTF_LOAD`,
    /// returning the kernel's BTF verifier log with the result.
    pub fn load(data: &[u8], request: LogRequest) -> (Result<Self>, VerifierLog) {
        load_with_log(request, |log: &mut [u8]| {
            let mut attr = zeroed();
            // SAFETY: writing plain integers into the BPF_BTF_LOAD member of a zeroed union.
            let a = unsafe { &mut attr.__bindgen_anon_7 };
            a.btf = data.as_ptr() as u64;
            a.btf_size = data.len() as u32;
            if !log.is_empty() {
                a.btf_log_level = request.level.0;
                a.btf_log_buf = log.as_mut_ptr() as u64;
                a.btf_log_size = log.len() as u32;
            }
            let result = bpf_fd(Op("BPF_BTF_LOAD"), bpf_cmd::BPF_BTF_LOAD, &mut attr).map(Self);
            // SAFETY: the kernel writes btf_log_true_size back into the same member.
            let true_size = unsafe { attr.__bindgen_anon_7.btf_log_true_size };
            (result, true_size)
        })
    }
}

impl AsFd for BtfFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
