//! Loads with the verifier's log against the real kernel (needs root).

use aya_obj::generated::{bpf_insn, bpf_prog_type};
use bpf_sys::{BtfFd, LogLevel, LogRequest, ProgFd, ProgLoad};
use testkit::privilege::require_bpf;

/// `r0 = imm` (BPF_ALU64 | BPF_MOV | BPF_K).
fn mov_r0(imm: i32) -> bpf_insn {
    // SAFETY: bpf_insn is plain integers; all-zero is a valid value.
    let mut insn: bpf_insn = unsafe { std::mem::zeroed() };
    insn.code = 0xb7;
    insn.imm = imm;
    insn
}

/// `exit`.
fn exit() -> bpf_insn {
    // SAFETY: as above.
    let mut insn: bpf_insn = unsafe { std::mem::zeroed() };
    insn.code = 0x95;
    insn
}

fn xdp(insns: &[bpf_insn]) -> ProgLoad<'_> {
    ProgLoad {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_XDP as u32,
        insns,
        license: "GPL",
        name: "log_test",
        ..Default::default()
    }
}

/// `n` moves into r0, then exit: a program whose level-2 log has a line per instruction.
fn long_program(n: usize) -> Vec<bpf_insn> {
    let mut insns: Vec<bpf_insn> = (0..n).map(|i| mov_r0(i as i32)).collect();
    insns.push(exit());
    insns
}

#[test]
fn an_accepted_program_keeps_its_statistics_log() {
    require_bpf();
    let insns = [mov_r0(2), exit()];
    let (prog, log) = ProgFd::load_logged(&xdp(&insns), LogRequest::new(LogLevel::STATS));
    let prog = prog.expect("r0 = 2; exit is a valid XDP program");
    assert!(
        log.text.contains("processed 2 insns"),
        "the statistics come back for an accepted program: {:?}",
        log.text
    );
    assert!(!log.truncated);
    let info = prog.info().unwrap();
    assert_eq!((info.verified_insns, info.xlated_insns), (2, 2));
}

#[test]
fn a_log_larger_than_the_first_buffer_comes_back_whole() {
    require_bpf();
    let insns = long_program(2000);
    let request = LogRequest::new(LogLevel::VERBOSE | LogLevel::STATS).sized(1024, 16 << 20);
    let (prog, log) = ProgFd::load_logged(&xdp(&insns), request);
    assert!(
        prog.is_ok(),
        "grown to its true size, the log no longer fails the load"
    );
    assert!(!log.truncated);
    assert!(
        log.text.starts_with("func#0") || log.text.starts_with("0: "),
        "the log starts at its start: {:?}",
        &log.text[..80.min(log.text.len())]
    );
    assert!(
        log.text.contains("1999: (b7) r0 = 1999"),
        "every instruction is there"
    );
    assert!(log.text.contains("processed 2001 insns"));
    assert_eq!(
        log.true_size,
        Some(log.text.len() + 1),
        "kernels since 6.4 report it"
    );
}

#[test]
fn a_log_past_the_largest_buffer_keeps_its_end() {
    require_bpf();
    let insns = long_program(2000);
    let request = LogRequest::new(LogLevel::VERBOSE | LogLevel::STATS).sized(4096, 4096);
    let (prog, log) = ProgFd::load_logged(&xdp(&insns), request);
    assert_eq!(
        prog.unwrap_err().errno(),
        libc::ENOSPC,
        "the kernel fails a load whose log does not fit, even an accepted one"
    );
    assert!(log.truncated);
    assert!(log.text.len() < 4096);
    assert!(
        log.text.contains("processed 2001 insns"),
        "the end of the log is kept: {:?}",
        log.text
    );
    assert!(log.true_size.is_some_and(|t| t > 4096));
}

#[test]
fn a_rejected_program_comes_back_with_its_error_and_log() {
    require_bpf();
    let insns = [exit()];
    let (prog, log) = ProgFd::load_logged(&xdp(&insns), LogRequest::new(LogLevel::VERBOSE));
    assert_eq!(prog.unwrap_err().errno(), libc::EACCES);
    assert!(log.text.contains("R0 !read_ok"), "{:?}", log.text);
    // Without a log, the same load fails the same way and returns no text.
    let (prog, log) = ProgFd::load_logged(&xdp(&insns), LogRequest::NONE);
    assert_eq!(prog.unwrap_err().errno(), libc::EACCES);
    assert!(log.text.is_empty());
}

#[test]
fn btf_loads_and_bad_btf_is_explained_by_the_kernel() {
    require_bpf();
    // The smallest BTF: one 32-bit `int`.
    let mut btf = Vec::new();
    btf.extend_from_slice(&0xeb9f_u16.to_le_bytes()); // magic
    btf.extend_from_slice(&[1, 0]); // version, flags
    for field in [24u32, 0, 16, 16, 5] {
        // hdr_len, type_off, type_len, str_off, str_len
        btf.extend_from_slice(&field.to_le_bytes());
    }
    for word in [1u32, 1 << 24, 4, 32] {
        // name_off, info (KIND_INT), size, encoding (32 bits)
        btf.extend_from_slice(&word.to_le_bytes());
    }
    btf.extend_from_slice(b"\0int\0");
    let (fd, _) = BtfFd::load(&btf, LogRequest::new(LogLevel::BASIC));
    fd.expect("a one-type BTF loads");

    btf[0] = 0; // break the magic
    let (fd, log) = BtfFd::load(&btf, LogRequest::new(LogLevel::BASIC));
    assert_eq!(fd.unwrap_err().errno(), libc::EINVAL);
    assert!(!log.text.is_empty(), "the kernel says what is wrong");
}
