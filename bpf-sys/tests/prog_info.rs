//! Full program info, run-time statistics and the link walk against the real kernel (needs
//! root).

use aya_obj::generated::{bpf_insn, bpf_prog_type};
use bpf_sys::{LinkFd, ProgFd, ProgLoad, TestRun, enable_stats, link_ids};

fn insn(code: u8, imm: i32) -> bpf_insn {
    // SAFETY: bpf_insn is plain integers; all-zero is a valid value.
    let mut insn: bpf_insn = unsafe { std::mem::zeroed() };
    insn.code = code;
    insn.imm = imm;
    insn
}

/// `r0 = XDP_PASS; exit`.
fn xdp_pass() -> ProgFd {
    let insns = [insn(0xb7, 2), insn(0x95, 0)];
    ProgFd::load(&ProgLoad {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_XDP as u32,
        insns: &insns,
        license: "GPL",
        name: "info_test",
        ..Default::default()
    })
    .map_err(|(e, log)| format!("{e}\n{log}"))
    .unwrap()
}

#[test]
fn full_info_has_the_jit_image_and_load_metadata() {
    testkit::privilege::require_root(
        "loading eBPF programs, enabling statistics and reading raw JIT addresses",
    );
    let prog = xdp_pass();
    let short = prog.info().unwrap();
    let full = prog.full_info().unwrap();
    assert_eq!(full.id, short.id);
    assert_eq!(full.name, "info_test");
    assert_eq!(full.tag, short.tag);
    assert_eq!(full.xlated_insns, 2);
    assert_eq!(full.created_by_uid, 0);
    assert!(full.load_time_ns > 0);
    assert!(full.gpl_compatible);
    // JITed (bpf_jit_enable=1 here): one function, with a real address for root.
    assert_eq!(full.jited_ksyms.len(), 1, "{full:?}");
    assert_eq!(full.jited_func_lens.len(), 1);
    assert!(full.jited_func_lens[0] > 0 && full.jited_len >= full.jited_func_lens[0]);
    assert!(!full.addresses_hidden(), "root sees raw JIT addresses");
    assert!(
        full.jited_ksyms[0] >= 0xffff_0000_0000_0000,
        "{:#x}",
        full.jited_ksyms[0]
    );
    // Loaded without BTF: no function or line records, and no BTF id.
    assert_eq!(full.btf_id, 0);
    assert!(full.func_info.is_empty() && full.line_info.is_empty());
    assert!(full.jited_line_info.is_empty());
}

#[test]
fn statistics_count_runs_only_while_enabled() {
    testkit::privilege::require_root(
        "loading eBPF programs, enabling statistics and reading raw JIT addresses",
    );
    let prog = xdp_pass();
    let packet = [0u8; 64];
    let run = |repeat| {
        prog.test_run(TestRun {
            data_in: Some(&packet),
            repeat,
            ..Default::default()
        })
        .unwrap()
    };
    let before = prog.run_stats().unwrap();
    let stats = enable_stats().expect("BPF_ENABLE_STATS");
    run(1000);
    let during = prog.run_stats().unwrap();
    assert!(
        during.run_cnt >= before.run_cnt + 1000,
        "{before:?} -> {during:?}"
    );
    assert!(during.run_time_ns > before.run_time_ns);
    drop(stats);
    run(1000);
    let after = prog.run_stats().unwrap();
    // Counters never go back; they stop only if nobody else (another process's stats fd, the
    // sysctl) keeps statistics on, which this test cannot know, so it does not assert it.
    assert!(after.run_cnt >= during.run_cnt);
}

#[test]
fn every_link_on_the_system_can_be_read() {
    testkit::privilege::require_root(
        "loading eBPF programs, enabling statistics and reading raw JIT addresses",
    );
    for id in link_ids() {
        let id = id.unwrap();
        match LinkFd::from_id(id) {
            Ok(link) => {
                let info = link.info().unwrap();
                assert_eq!(info.id, id);
            }
            // Freed since the walk saw it, or not yet fully created (another test attaching).
            Err(e) if e.errno() == libc::ENOENT || e.errno() == libc::EAGAIN => {}
            Err(e) => panic!("link {id}: {e}"),
        }
    }
}
