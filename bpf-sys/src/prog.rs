//! Program commands: load (any type, syscall programs included, with the verifier's log), test
//! runs, ids and info.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use aya_obj::generated::{bpf_cmd, bpf_insn, bpf_prog_info};

use super::log::{LogLevel, LogRequest, VerifierLog, load_with_log};
use super::syscall::{bpf, bpf_fd, c_name, fd_by_id, ids, obj_info, zeroed};
use super::{Op, Result, SysError};

/// The ids of every program on the system, in increasing order.
pub fn prog_ids() -> impl Iterator<Item = Result<u32>> {
    ids(Op("BPF_PROG_GET_NEXT_ID"), bpf_cmd::BPF_PROG_GET_NEXT_ID)
}

/// What `BPF_PROG_LOAD` needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProgLoad<'a> {
    /// The program type (`enum bpf_prog_type`).
    pub prog_type: u32,
    /// The attach type the program is verified for (`enum bpf_attach_type`); 0 when the type
    /// takes none.
    pub expected_attach_type: u32,
    /// The instructions, with map references already resolved to file descriptors.
    pub insns: &'a [bpf_insn],
    /// The license string; GPL-only helpers need a GPL-compatible one.
    pub license: &'a str,
    /// The kernel version kprobes were built for (ignored by kernels since 5.0).
    pub kern_version: u32,
    /// Load flags (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`, ...).
    pub flags: u32,
    /// The name (at most 15 bytes are kept; characters the kernel refuses are left out).
    pub name: &'a str,
    /// The program's BTF: with it the verifier knows the functions and prints source lines.
    pub btf: Option<ProgBtf<'a>>,
}

/// The BTF a program is loaded with: the loaded BTF object and the program's function and line
/// records (`bpf_func_info` and `bpf_line_info`, as the ELF's `.BTF.ext` holds them, with
/// instruction offsets relative to the program).
#[derive(Debug, Clone, Copy)]
pub struct ProgBtf<'a> {
    /// The loaded BTF object (`BPF_BTF_LOAD`).
    pub fd: BorrowedFd<'a>,
    /// `bpf_func_info` records, back to back.
    pub func_info: &'a [u8],
    /// The size of one `bpf_func_info` record (0: none given).
    pub func_info_rec_size: u32,
    /// `bpf_line_info` records, back to back.
    pub line_info: &'a [u8],
    /// The size of one `bpf_line_info` record (0: none given).
    pub line_info_rec_size: u32,
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
    /// Instructions the verifier processed when it loaded the program (kernels since 5.16).
    pub verified_insns: u32,
    /// The program's size after the verifier's rewrites, in instructions.
    pub xlated_insns: u32,
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
    ///
    /// The first attempt has no log, which costs the verifier nothing; only a rejected program
    /// is loaded again with a level-1 log, to explain the failure.
    pub fn load(spec: &ProgLoad<'_>) -> std::result::Result<Self, (SysError, String)> {
        let first = match Self::load_logged(spec, LogRequest::NONE) {
            (Ok(prog), _) => return Ok(prog),
            (Err(e), _) => e,
        };
        let (_, log) = Self::load_logged(spec, LogRequest::new(LogLevel::BASIC));
        Err((first, log.text))
    }

    /// Loads a program with the verifier's log at the level asked, and returns the log whether
    /// the program loaded or not.
    ///
    /// The log buffer starts at [`LogRequest::size`]. When the log does not fit, the kernel
    /// fails the load with `ENOSPC` (even for a program it accepts) and keeps the log's end;
    /// kernels since 6.4 also say how large the whole log is, and the load is then repeated
    /// once with a buffer of exactly that size, if [`LogRequest::max_size`] allows it (older
    /// kernels: the buffer grows 8-fold up to that size). A log that still does not fit is
    /// returned [`VerifierLog::truncated`], holding its end (since 6.4) or its start.
    pub fn load_logged(spec: &ProgLoad<'_>, request: LogRequest) -> (Result<Self>, VerifierLog) {
        let op = Op("BPF_PROG_LOAD");
        let Ok(license) = CString::new(spec.license) else {
            return (Err(SysError::new(op, libc::EINVAL)), VerifierLog::default());
        };
        let func_info = spec.btf.map(|b| (b.func_info, b.func_info_rec_size));
        let line_info = spec.btf.map(|b| (b.line_info, b.line_info_rec_size));
        let attempt = |log: &mut [u8]| {
            let mut attr = zeroed();
            // SAFETY: writing plain integers into the BPF_PROG_LOAD member of a zeroed union.
            let a = unsafe { &mut attr.__bindgen_anon_3 };
            a.prog_type = spec.prog_type;
            a.expected_attach_type = spec.expected_attach_type;
            a.insn_cnt = spec.insns.len() as u32;
            a.insns = spec.insns.as_ptr() as u64;
            a.license = license.as_ptr() as u64;
            a.kern_version = spec.kern_version;
            a.prog_flags = spec.flags;
            let name = spec
                .name
                .bytes()
                .filter(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.');
            for (dst, src) in a.prog_name.iter_mut().take(15).zip(name) {
                *dst = src as std::ffi::c_char;
            }
            if let Some(btf) = spec.btf {
                a.prog_btf_fd = btf.fd.as_raw_fd() as u32;
                if let Some((records, size)) = func_info.filter(|(_, size)| *size > 0) {
                    a.func_info = records.as_ptr() as u64;
                    a.func_info_rec_size = size;
                    a.func_info_cnt = records.len() as u32 / size;
                }
                if let Some((records, size)) = line_info.filter(|(_, size)| *size > 0) {
                    a.line_info = records.as_ptr() as u64;
                    a.line_info_rec_size = size;
                    a.line_info_cnt = records.len() as u32 / size;
                }
            }
            if request.level.0 > 0 && !log.is_empty() {
                a.log_level = request.level.0;
                a.log_size = log.len() as u32;
                a.log_buf = log.as_mut_ptr() as u64;
            }
            let result = bpf_fd(op, bpf_cmd::BPF_PROG_LOAD, &mut attr).map(Self);
            // SAFETY: the kernel writes log_true_size back into the same member (0 before 6.4).
            let true_size = unsafe { attr.__bindgen_anon_3.log_true_size };
            (result, true_size)
        };
        load_with_log(request, attempt)
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
            verified_insns: info.verified_insns,
            xlated_insns: info.xlated_prog_len / 8,
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
