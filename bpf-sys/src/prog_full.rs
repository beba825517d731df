//! A program's full info: run-time statistics, load metadata, and the JIT image's function and
//! line tables that map a kernel address back to a subprogram and a source line.

use std::os::fd::{AsFd, AsRawFd};

use aya_obj::generated::{bpf_func_info, bpf_line_info, bpf_prog_info};

use super::prog::ProgFd;
use super::syscall::{c_name, obj_info};
use super::{Op, Result};

/// The run-time counters of a program (`bpf_prog_info.run_time_ns` and friends).
///
/// The kernel only advances `run_time_ns` and `run_cnt` while run-time statistics are enabled
/// (`BPF_ENABLE_STATS`, see [`crate::enable_stats`], or the `kernel.bpf_stats_enabled` sysctl);
/// they keep their values when statistics are turned off again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunStats {
    /// Total time spent running the program, in nanoseconds.
    pub run_time_ns: u64,
    /// How many times the program ran.
    pub run_cnt: u64,
    /// Runs skipped because the program was already running on the same CPU (tracing programs).
    pub recursion_misses: u64,
}

/// One `bpf_func_info` record: where a subprogram starts and its BTF `FUNC` type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncInfo {
    /// The subprogram's first instruction, in the verifier's (xlated) program.
    pub insn_off: u32,
    /// The BTF type id of the subprogram's `FUNC`, in the program's BTF ([`FullProgInfo::btf_id`]).
    pub type_id: u32,
}

/// One `bpf_line_info` record: the source position of the instructions from `insn_off` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInfo {
    /// The first instruction the record covers, in the xlated program.
    pub insn_off: u32,
    /// Offset of the source file's name in the program BTF's string section.
    pub file_name_off: u32,
    /// Offset of the source line's text in the program BTF's string section.
    pub line_off: u32,
    /// The line number (upper 22 bits) and column (lower 10 bits), as the kernel packs them.
    pub line_col: u32,
}

impl LineInfo {
    /// The 1-based source line number.
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }

    /// The 1-based column (0 when the compiler gave none).
    pub fn column(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

/// Everything `BPF_OBJ_GET_INFO_BY_FD` tells about a program, arrays included.
///
/// The JIT addresses ([`jited_ksyms`](Self::jited_ksyms),
/// [`jited_line_info`](Self::jited_line_info)) are real kernel addresses only for callers the
/// kernel trusts with them (`bpf_dump_raw_ok`: CAP_SYSLOG-equivalent and `kernel.kptr_restrict`
/// allowing it); otherwise the kernel fills them with zeros, which
/// [`addresses_hidden`](Self::addresses_hidden) reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FullProgInfo {
    /// The program's id.
    pub id: u32,
    /// The program type (`enum bpf_prog_type`).
    pub prog_type: u32,
    /// The name given at load (at most 15 bytes).
    pub name: String,
    /// The program tag, as hex.
    pub tag: String,
    /// Run-time counters.
    pub stats: RunStats,
    /// When the program was loaded, in nanoseconds since boot (`CLOCK_BOOTTIME`).
    pub load_time_ns: u64,
    /// The user id of the process that loaded it.
    pub created_by_uid: u32,
    /// Id of the program's BTF, 0 when it has none.
    pub btf_id: u32,
    /// Whether the program's license is GPL-compatible.
    pub gpl_compatible: bool,
    /// Instructions the verifier processed (kernels since 5.16).
    pub verified_insns: u32,
    /// Size of the verifier's rewritten program in instructions.
    pub xlated_insns: u32,
    /// Size of the JIT image in bytes (0 when not JITed).
    pub jited_len: u32,
    /// Ids of the maps the program uses.
    pub map_ids: Vec<u32>,
    /// The start address of each subprogram's JIT image, in subprogram order.
    pub jited_ksyms: Vec<u64>,
    /// The length in bytes of each subprogram's JIT image, in the same order.
    pub jited_func_lens: Vec<u32>,
    /// One record per subprogram, in the same order (empty without BTF).
    pub func_info: Vec<FuncInfo>,
    /// The line records (empty without BTF line info).
    pub line_info: Vec<LineInfo>,
    /// The JIT address where each line record's code starts, one per [`line_info`](Self::line_info)
    /// record (empty when not JITed).
    pub jited_line_info: Vec<u64>,
}

impl FullProgInfo {
    /// True when the program is JITed but the kernel hid its addresses (all zero), as it does
    /// for callers without the right to see raw kernel pointers.
    pub fn addresses_hidden(&self) -> bool {
        !self.jited_ksyms.is_empty() && self.jited_ksyms.iter().all(|&a| a == 0)
    }
}

fn zeroed_info() -> bpf_prog_info {
    // SAFETY: bpf_prog_info is plain integers and arrays of integers; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

impl ProgFd {
    /// The run-time counters alone: one `BPF_OBJ_GET_INFO_BY_FD` with no arrays, the cheapest
    /// way to poll a program.
    pub fn run_stats(&self) -> Result<RunStats> {
        let mut info = zeroed_info();
        obj_info(Op("BPF_OBJ_GET_INFO_BY_FD"), self.as_fd_raw(), &mut info)?;
        Ok(RunStats {
            run_time_ns: info.run_time_ns,
            run_cnt: info.run_cnt,
            recursion_misses: info.recursion_misses,
        })
    }

    /// The program's full info, arrays included, in two `BPF_OBJ_GET_INFO_BY_FD` calls: the first
    /// learns how many records of each kind there are, the second fetches them into buffers of
    /// that size.
    ///
    /// JIT addresses are real only when the process that *opened this descriptor* may see raw
    /// kernel addresses (CAP_SYSLOG, or `kernel.kptr_restrict=0` with
    /// `kernel.perf_event_paranoid` at most 1); see [`FullProgInfo::addresses_hidden`].
    pub fn full_info(&self) -> Result<FullProgInfo> {
        let op = Op("BPF_OBJ_GET_INFO_BY_FD");
        let fd = self.as_fd_raw();
        let mut first = zeroed_info();
        obj_info(op, fd, &mut first)?;

        let mut map_ids = vec![0u32; first.nr_map_ids as usize];
        let mut jited_ksyms = vec![0u64; first.nr_jited_ksyms as usize];
        let mut jited_func_lens = vec![0u32; first.nr_jited_func_lens as usize];
        let mut func_info = vec![
            bpf_func_info {
                insn_off: 0,
                type_id: 0
            };
            first.nr_func_info as usize
        ];
        let zero_line = bpf_line_info {
            insn_off: 0,
            file_name_off: 0,
            line_off: 0,
            line_col: 0,
        };
        let mut line_info = vec![zero_line; first.nr_line_info as usize];
        let mut jited_line_info = vec![0u64; first.nr_jited_line_info as usize];

        let mut info = zeroed_info();
        info.nr_map_ids = map_ids.len() as u32;
        info.map_ids = map_ids.as_mut_ptr() as u64;
        info.nr_jited_ksyms = jited_ksyms.len() as u32;
        info.jited_ksyms = jited_ksyms.as_mut_ptr() as u64;
        info.nr_jited_func_lens = jited_func_lens.len() as u32;
        info.jited_func_lens = jited_func_lens.as_mut_ptr() as u64;
        info.nr_func_info = func_info.len() as u32;
        info.func_info_rec_size = std::mem::size_of::<bpf_func_info>() as u32;
        info.func_info = func_info.as_mut_ptr() as u64;
        info.nr_line_info = line_info.len() as u32;
        info.line_info_rec_size = std::mem::size_of::<bpf_line_info>() as u32;
        info.line_info = line_info.as_mut_ptr() as u64;
        info.nr_jited_line_info = jited_line_info.len() as u32;
        info.jited_line_info_rec_size = std::mem::size_of::<u64>() as u32;
        info.jited_line_info = jited_line_info.as_mut_ptr() as u64;
        obj_info(op, fd, &mut info)?;

        // The program cannot change while we hold its fd, but never trust a count to grow.
        map_ids.truncate(info.nr_map_ids as usize);
        jited_ksyms.truncate(info.nr_jited_ksyms as usize);
        jited_func_lens.truncate(info.nr_jited_func_lens as usize);
        func_info.truncate(info.nr_func_info as usize);
        line_info.truncate(info.nr_line_info as usize);
        jited_line_info.truncate(info.nr_jited_line_info as usize);

        Ok(FullProgInfo {
            id: info.id,
            prog_type: info.type_,
            name: c_name(&info.name),
            tag: info.tag.iter().map(|b| format!("{b:02x}")).collect(),
            stats: RunStats {
                run_time_ns: info.run_time_ns,
                run_cnt: info.run_cnt,
                recursion_misses: info.recursion_misses,
            },
            load_time_ns: info.load_time,
            created_by_uid: info.created_by_uid,
            btf_id: info.btf_id,
            gpl_compatible: info.gpl_compatible() != 0,
            verified_insns: info.verified_insns,
            xlated_insns: info.xlated_prog_len / 8,
            jited_len: info.jited_prog_len,
            map_ids,
            jited_ksyms,
            jited_func_lens,
            func_info: func_info
                .iter()
                .map(|f| FuncInfo {
                    insn_off: f.insn_off,
                    type_id: f.type_id,
                })
                .collect(),
            line_info: line_info
                .iter()
                .map(|l| LineInfo {
                    insn_off: l.insn_off,
                    file_name_off: l.file_name_off,
                    line_off: l.line_off,
                    line_col: l.line_col,
                })
                .collect(),
            jited_line_info,
        })
    }

    fn as_fd_raw(&self) -> i32 {
        self.as_fd().as_raw_fd()
    }
}
