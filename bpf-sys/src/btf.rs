//! BTF commands: fetch a loaded BTF object's raw bytes by id.

use std::os::fd::AsRawFd;

use aya_obj::generated::{bpf_btf_info, bpf_cmd};

use super::syscall::{fd_by_id, obj_info};
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
