//! Program commands: load (any type, syscall programs included), test runs, ids and info.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use aya_obj::generated::{bpf_cmd, bpf_insn, bpf_prog_info};

use super::syscall::{bpf, bpf_fd, c_name, fd_by_id, ids, obj_info, zeroed};
use super::{Op, Result, SysError};

/// The ids of every program on the system, in increasing order.
pub fn prog_ids() -> impl Iterator<Item = Result<u32>> {
    ids(Op("BPF_PROG_GET_NEXT_ID"), bpf_cmd::BPF_PROG_GET_NEXT_ID)
}

/// What `BPF_PROG_LOAD` needs.
#[derive(Debug, Clone, Copy)]
pub struct ProgLoad<'a> {
    /// The program type (`enum bpf_prog_type`).
    pub prog_type: u32,
    /// The instructions, with map references already resolved to file descriptors.
    pub insns: &'a [bpf_insn],
    /// The license string; GPL-only helpers need a GPL-compatible one.
    pub license: &'a str,
    /// Load flags (`BPF_F_SLEEPABLE`, ...).
    pub flags: u32,
    /// The name (at most 15 bytes are kept).
    pub name: &'a str,
}

/// A loaded program, owned through a file descriptor.
#[derive(Debug)]
pub struct ProgFd(OwnedFd);

/// What the kernel reports about a program (the parts this toolkit uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgInfo {
    /// The program's id.
    pub id: u32,
    /// The program type (`enum bpf_prog_type`).
    pub prog_type: u32,
    /// The name given at load.
    pub name: String,
    /// The program tag, as hex.
    pub tag: String,
    /// Ids of the maps the program uses.
    pub map_ids: Vec<u32>,
}

/// Input of one `BPF_PROG_TEST_RUN`.
#[derive(Debug, Default)]
pub struct TestRun<'a> {
    /// The context given to the program (`ctx_in`); for syscall programs it is copied back
    /// after the run. For XDP it is a `struct xdp_md`: live frames need one whose
    /// `ingress_ifindex` names the interface in the caller's network namespace (run the test
    /// from a thread inside that namespace), with `data` 0 and `data_end` the frame's length.
    pub ctx: Option<&'a mut [u8]>,
    /// Packet data in (XDP, TC, ...).
    pub data_in: Option<&'a [u8]>,
    /// Where the packet after the run goes.
    pub data_out: Option<&'a mut [u8]>,
    /// How many times to run (0 or 1: once; syscall programs take no repeat).
    pub repeat: u32,
    /// `BPF_F_TEST_*` flags (for example `BPF_F_TEST_XDP_LIVE_FRAMES`).
    pub flags: u32,
    /// Frames per batch with `BPF_F_TEST_XDP_LIVE_FRAMES` (0: the kernel's default, 64; at
    /// most 256). Must be 0 otherwise.
    pub batch_size: u32,
}

/// Output of one `BPF_PROG_TEST_RUN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value (of the last run).
    pub retval: u32,
    /// Average run time in nanoseconds, as the kernel measured it.
    pub duration_ns: u32,
    /// Bytes written to `data_out`.
    pub data_size_out: u32,
}

impl ProgFd {
    /// Loads a program; on rejection, returns the verifier's log alongside the error.
    pub fn load(spec: &ProgLoad<'_>) -> std::result::Result<Self, (SysError, String)> {
        let license = CString::new(spec.license).map_err(|_| {
            (
                SysError::new(Op("BPF_PROG_LOAD"), libc::EINVAL),
                String::new(),
            )
        })?;
        let attempt = |log: &mut Vec<u8>, level: u32| {
            let mut attr = zeroed();
            // SAFETY: writing plain integers into the BPF_PROG_LOAD member of a zeroed union.
            let a = unsafe { &mut attr.__bindgen_anon_3 };
            a.prog_type = spec.prog_type;
            a.insn_cnt = spec.insns.len() as u32;
            a.insns = spec.insns.as_ptr() as u64;
            a.license = license.as_ptr() as u64;
            a.prog_flags = spec.flags;
            for (dst, src) in a.prog_name.iter_mut().zip(spec.name.bytes().take(15)) {
                *dst = src as std::ffi::c_char;
            }
            if level > 0 {
                a.log_level = level;
                a.log_size = log.len() as u32;
                a.log_buf = log.as_mut_ptr() as u64;
            }
            bpf_fd(Op("BPF_PROG_LOAD"), bpf_cmd::BPF_PROG_LOAD, &mut attr)
        };
        let mut none = Vec::new();
        match attempt(&mut none, 0) {
            Ok(fd) => Ok(Self(fd)),
            Err(first) => {
                // Load again with a log, only to explain the failure.
                let mut log = vec![0u8; 1 << 20];
                let _ = attempt(&mut log, 1);
                let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                Err((first, String::from_utf8_lossy(&log[..end]).into_owned()))
            }
        }
    }

    /// Opens the program with this id.
    pub fn from_id(id: u32) -> Result<Self> {
        fd_by_id(
            Op("BPF_PROG_GET_FD_BY_ID"),
            bpf_cmd::BPF_PROG_GET_FD_BY_ID,
            id,
        )
        .map(Self)
    }

    /// Wraps a file descriptor that refers to a program (for example one aya loaded).
    pub fn from_fd(fd: OwnedFd) -> Self {
        Self(fd)
    }

    /// The program's id, name, type, tag and map ids.
    pub fn info(&self) -> Result<ProgInfo> {
        let op = Op("BPF_OBJ_GET_INFO_BY_FD");
        // SAFETY: bpf_prog_info is plain integers; all-zero is valid.
        let mut info: bpf_prog_info = unsafe { std::mem::zeroed() };
        obj_info(op, self.0.as_raw_fd(), &mut info)?;
        let mut map_ids = vec![0u32; info.nr_map_ids as usize];
        if !map_ids.is_empty() {
            let nr = info.nr_map_ids;
            // SAFETY: as above.
            info = unsafe { std::mem::zeroed() };
            info.nr_map_ids = nr;
            info.map_ids = map_ids.as_mut_ptr() as u64;
            obj_info(op, self.0.as_raw_fd(), &mut info)?;
            map_ids.truncate(info.nr_map_ids.min(nr) as usize);
        }
        Ok(ProgInfo {
            id: info.id,
            prog_type: info.type_,
            name: c_name(&info.name),
            tag: info.tag.iter().map(|b| format!("{b:02x}")).collect(),
            map_ids,
        })
    }

    /// Runs the program once (or `repeat` times) with `BPF_PROG_TEST_RUN`.
    pub fn test_run(&self, run: TestRun<'_>) -> Result<TestRunResult> {
        let mut attr = zeroed();
        // SAFETY: the union was zeroed; we fill its BPF_PROG_TEST_RUN member with integers.
        let t = unsafe { &mut attr.test };
        t.prog_fd = self.0.as_raw_fd() as u32;
        t.repeat = run.repeat;
        t.flags = run.flags;
        t.batch_size = run.batch_size;
        if let Some(ctx) = run.ctx {
            t.ctx_in = ctx.as_mut_ptr() as u64;
            t.ctx_size_in = ctx.len() as u32;
        }
        if let Some(data) = run.data_in {
            t.data_in = data.as_ptr() as u64;
            t.data_size_in = data.len() as u32;
        }
        if let Some(out) = run.data_out {
            t.data_out = out.as_mut_ptr() as u64;
            t.data_size_out = out.len() as u32;
        }
        bpf(
            Op("BPF_PROG_TEST_RUN"),
            bpf_cmd::BPF_PROG_TEST_RUN,
            &mut attr,
        )?;
        // SAFETY: the kernel wrote its results into the same member; plain integers.
        let t = unsafe { attr.test };
        Ok(TestRunResult {
            retval: t.retval,
            duration_ns: t.duration,
            data_size_out: t.data_size_out,
        })
    }
}

impl AsFd for ProgFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
