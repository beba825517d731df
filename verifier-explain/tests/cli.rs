//! The `verifier-explain` command as users run it: exit codes, human and JSON output, logs from
//! files and stdin, the log alone, bad input, Rust objects, and the library entry for aya users.

use std::io::Write as _;
use std::process::Output;

use testkit::binary::Binary;
use testkit::fixture::{object_file, object_path as path};

/// The binary under test, without colours.
fn bin() -> Binary {
    Binary::new(env!("CARGO_BIN_EXE_verifier-explain")).env("NO_COLOR", "1")
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    match stdin {
        Some(input) => bin().run_with_stdin(args, input),
        None => bin().run(args),
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The 1-based line of `fixture` marked `// <- rejected here`, and of its first line with `needle`.
fn lines_of(fixture: &str, needle: &str) -> (u32, u32) {
    let f = fixtures::get(fixture).unwrap();
    let at = f
        .source
        .lines()
        .position(|l| l.contains(needle))
        .expect("the needle is in the source");
    (f.fault_line.expect("a marked line"), at as u32 + 1)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

/// The verifier log of a rejected fixture, as `--print-log` prints it.
fn captured_log(name: &str) -> String {
    let obj = object_file(name);
    let out = run(&[path(&obj), "--print-log"], None);
    let all = String::from_utf8_lossy(&out.stdout).to_string();
    let start = all.find("--- verifier log of").expect("the log is printed");
    let log = &all[start..];
    log[log.find('\n').unwrap() + 1..].to_string()
}

#[test]
fn help_has_examples_and_exit_codes() {
    let o = run(&["--help"], None);
    assert!(o.status.success());
    let t = text(&o);
    assert!(
        t.contains("Examples:") && t.contains("--log -") && t.contains("Exit status"),
        "{t}"
    );
    for code in [
        "3  --log: the log is empty",
        "4  --log: the log ends before",
        "5  --log: the input is not",
        "6  the object has no BTF",
    ] {
        assert!(t.contains(code), "--help lacks `{code}`: {t}");
    }
}

#[test]
fn a_rejection_is_explained_with_line_variables_and_fix() {
    testkit::privilege::require_bpf();
    let obj = object_file("map_lookup_no_null_check");
    let o = run(&[path(&obj)], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("error null-dereference [Register Type Safety]"),
        "{t}"
    );
    let (fault, lookup) = lines_of("map_lookup_no_null_check", "bpf_map_lookup_elem(");
    assert!(
        t.contains(&format!("map_lookup_no_null_check.bpf.c:{fault}:")),
        "{t}"
    );
    assert!(
        t.contains("*count += 1;"),
        "the snippet shows the line: {t}"
    );
    assert!(t.contains("r0    count"), "r0 is named as `count`: {t}");
    assert!(
        t.contains(&format!("the lookup at line {lookup} can fail")),
        "{t}"
    );
    assert!(t.contains("if (!count)"), "the fix uses the name: {t}");
    assert!(!t.contains('\u{1b}'), "no color with NO_COLOR: {t:?}");
}

#[test]
fn json_follows_the_documented_schema() {
    testkit::privilege::require_bpf();
    let obj = object_file("packet_no_bounds_check");
    let o = run(&[path(&obj), "--json"], None);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["schema_version"], 1);
    let p = &v["programs"][0];
    assert_eq!(p["verdict"], "rejected");
    assert_eq!(p["program_type"], "Xdp");
    let e = &p["explanation"];
    assert_eq!(e["id"], "packet-out-of-bounds");
    assert_eq!(e["category"], "Memory Safety");
    assert_eq!(
        e["location"]["line"],
        lines_of("packet_no_bounds_check", "h_proto").0
    );
    assert_eq!(e["location"]["found_by"], "dwarf");
    assert_eq!(e["operands"][0]["operand"], "r1");
    assert_eq!(e["operands"][0]["variable"]["name"], "eth");
    assert_eq!(e["operands"][0]["variable"]["type"], "struct ethhdr *");
    assert!(
        e["fix"]["code"]
            .as_str()
            .unwrap()
            .contains("(void *)(eth + 1) >"),
        "the whole header is checked: {e}"
    );
    assert_eq!(e["fix"]["placement"], "insert-before");
    assert!(e["fix"]["decide"].is_null());
    assert!(p["limits"][0]["limit"] == 1_000_000);
}

#[test]
fn an_accepted_object_reports_its_stats_and_limits() {
    testkit::privilege::require_bpf();
    let obj = object_file("xdp_count");
    let o = run(&[path(&obj), "--json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    let p = &v["programs"][0];
    assert_eq!(p["verdict"], "accepted");
    assert!(p["stats"]["processed_insns"].as_u64().unwrap() > 0);
    assert!(p["stats"]["insns"].as_u64().unwrap() > 0);
    let names: Vec<&str> = p["limits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"processed instructions"), "{names:?}");
    // States and stack depth come from the verifier's own statistics, not an estimate.
    let stats = &p["stats"];
    assert!(stats["peak_states"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["total_states"].as_u64().unwrap() >= stats["peak_states"].as_u64().unwrap());
    assert!(stats["verification_time_usec"].is_u64(), "{stats}");
    let depth = stats["stack_depth"].as_array().unwrap();
    assert!(
        !depth.is_empty() && depth.iter().all(|d| d.as_u64().unwrap() <= 512),
        "{stats}"
    );
    assert_eq!(stats["stack_depth_estimated"], serde_json::json!([]));
    assert!(
        names.contains(&"stack of one function (bytes)"),
        "{names:?}"
    );
    let o = run(&[path(&obj)], None);
    assert!(
        text(&o).contains("accepted") && text(&o).contains("limits:"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("states: peak"), "{}", text(&o));
    let o = run(&[path(&obj), "--print-log"], None);
    let processed = format!("processed {} insns", stats["processed_insns"]);
    assert!(text(&o).contains(&processed), "{}", text(&o));
}

#[test]
fn a_captured_log_with_the_object_names_variables_from_stdin() {
    testkit::privilege::require_bpf();
    let log = captured_log("map_lookup_no_null_check");
    let obj = object_file("map_lookup_no_null_check");
    let o = run(&[path(&obj), "--log", "-", "--json"], Some(log.as_bytes()));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = json(&o);
    let e = &v["programs"][0]["explanation"];
    assert_eq!(
        v["programs"][0]["program"], "map_lookup_no_null_check",
        "found by matching instructions"
    );
    assert_eq!(e["id"], "null-dereference");
    assert_eq!(e["operands"][0]["variable"]["name"], "count");
    assert_eq!(e["location"]["found_by"], "dwarf");
}

#[test]
fn the_log_alone_says_what_is_lost() {
    testkit::privilege::require_bpf();
    let log = captured_log("packet_no_bounds_check");
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(log.as_bytes()).unwrap();
    let o = run(&["--log", path(&file)], None);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("error packet-out-of-bounds"), "{t}");
    assert!(
        t.contains(&format!(
            "packet_no_bounds_check.bpf.c:{}",
            lines_of("packet_no_bounds_check", "h_proto").0
        )),
        "line from the log's comment: {t}"
    );
    assert!(t.contains("explained from the log alone"), "{t}");
    assert!(t.contains("no variable"), "{t}");
}

#[test]
fn a_truncated_log_is_explained_as_far_as_it_goes() {
    testkit::privilege::require_bpf();
    let log = captured_log("map_lookup_no_null_check");
    // Keep the tail only, cut in the middle of an instruction line, as a rotated kernel log
    // buffer would.
    let at = log.find("\n3: (").expect("instruction 3 is in the log");
    let cut = &log[at - 5..];
    let o = run(&["--log", "-"], Some(cut.as_bytes()));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("null-dereference"), "{t}");
    assert!(t.contains("truncated"), "{t}");
    // Nothing at all: no error in the log, reported as such, no panic.
    let o = run(&["--log", "-"], Some(b"garbage\n\x00\xff\n0: (\n"));
    assert!(o.status.code().is_some(), "{}", text(&o));
}

#[test]
fn bad_input_gets_a_clear_error_and_exit_2() {
    let mut not_elf = tempfile::NamedTempFile::new().unwrap();
    not_elf.write_all(b"hello, not an object").unwrap();
    let o = run(&[path(&not_elf)], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("not an ELF"), "{}", text(&o));
    let o = run(&["/nonexistent/prog.o"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("cannot read /nonexistent/prog.o"),
        "{}",
        text(&o)
    );
    let o = run(&[], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("give an object"), "{}", text(&o));
    let host = run(&["/bin/true"], None);
    assert_eq!(host.status.code(), Some(2));
    assert!(text(&host).contains("not for BPF"), "{}", text(&host));
}

#[test]
fn an_unknown_program_lists_the_real_ones() {
    testkit::privilege::require_bpf();
    let obj = object_file("packet_no_bounds_check");
    let o = run(&[path(&obj), "--prog", "nope"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("packet_no_bounds_check"), "{}", text(&o));
}

#[test]
fn a_rust_object_from_aya_ebpf_is_explained() {
    testkit::privilege::require_bpf();
    let obj = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/rust/packet_no_bounds_check/packet_no_bounds_check.bpf.o"
    );
    let o = run(&[obj, "--json"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = json(&o);
    let e = &v["programs"][0]["explanation"];
    assert_eq!(e["id"], "packet-out-of-bounds");
    assert!(
        e["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("src/main.rs")
    );
    assert_eq!(e["location"]["line"], 29);
    assert_eq!(e["operands"][0]["variable"]["name"], "eth");
    assert!(
        e["fix"]["code"]
            .as_str()
            .unwrap()
            .contains("eth as usize + 14 > ctx.data_end()"),
        "{e}"
    );
    let ok = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/rust/packet_bounds_checked/packet_bounds_checked.bpf.o"
    );
    let o = run(&[ok], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn aya_users_turn_a_load_error_into_an_explanation() {
    testkit::privilege::require_bpf();
    let f = fixtures::get("map_lookup_no_null_check").unwrap();
    let mut ebpf = aya::EbpfLoader::new()
        .verifier_log_level(aya::VerifierLogLevel::VERBOSE)
        .load(f.object)
        .unwrap();
    let prog: &mut aya::programs::Xdp = ebpf
        .program_mut("map_lookup_no_null_check")
        .unwrap()
        .try_into()
        .unwrap();
    let err = prog.load().expect_err("the fixture is rejected");
    let e = verifier_explain::explain_load_error(f.object, "map_lookup_no_null_check", &err)
        .expect("a verifier rejection");
    assert_eq!(e.id, "null-dereference");
    assert_eq!(e.location.as_ref().map(|l| l.line), f.fault_line);
    assert_eq!(
        e.operands[0].variable.as_ref().map(|v| v.name.as_str()),
        Some("count")
    );
}

#[test]
fn an_old_kernels_back_edge_is_explained_at_the_loop() {
    // Kernels before 5.3 refuse every backward jump in check_cfg, before any instruction is
    // walked. This kernel accepts the fixture's bounded loop, so the log is the one a 5.x kernel
    // prints, with the object's real backward jump.
    let f = fixtures::get("back_edge").expect("the back_edge fixture");
    let debug = verifier_explain::debuginfo::DebugInfo::parse(f.object).unwrap();
    let layout = debug.layout("back_edge").unwrap();
    let (from, to) = (0..layout.len())
        .find_map(|i| {
            let b = debug.instruction(layout.address(i)?)?;
            let off = i16::from_le_bytes([b[2], b[3]]);
            let is_jump = b[0] & 7 == 5 || b[0] & 7 == 6;
            (is_jump && off < 0 && b[0] != 0x85)
                .then(|| (i, (i64::from(i) + i64::from(off) + 1) as u32))
        })
        .expect("the fixture has a loop");
    let log = format!(
        "back-edge from insn {from} to {to}\nprocessed 0 insns (limit 131072), stack depth 0\n"
    );
    let obj = object_file("back_edge");
    let o = run(&[path(&obj), "--log", "-", "--json"], Some(log.as_bytes()));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = json(&o);
    let e = &v["programs"][0]["explanation"];
    assert_eq!(e["id"], "back-edge");
    assert_eq!(e["location"]["line"], f.fault_line.expect("marked"), "{e}");
    assert!(
        e["fix"]["summary"].as_str().unwrap().contains("bpf_loop"),
        "{e}"
    );
}

#[test]
fn a_log_without_a_verdict_is_not_an_acceptance() {
    // Empty: exit 3, and the message says what to capture.
    let o = run(&["--log", "-"], Some(b""));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("the log is empty"), "{}", text(&o));
    let o = run(&["--log", "-"], Some(b"\n\n  \n"));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    // Cut before the verdict (instructions, then nothing): exit 4.
    let cut = "func#0 @0\n0: R1=ctx() R10=fp0\n\
               0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() R2=pkt(r=0)\n\
               1: (61) r3 = *(u32 *)(r1 +4)          ; R1=ctx() R3=pkt_end()\n";
    let o = run(&["--log", "-"], Some(cut.as_bytes()));
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("ends before the verifier's verdict"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("accepted"), "{}", text(&o));
}

#[test]
fn a_log_of_a_real_rejection_cut_before_its_error_proves_nothing() {
    testkit::privilege::require_bpf();
    let log = captured_log("map_lookup_no_null_check");
    let at = log
        .find("R0 invalid mem access")
        .expect("the error is in the log");
    let o = run(&["--log", "-"], Some(&log.as_bytes()[..at]));
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
}

#[test]
fn what_is_not_a_log_is_said_so_and_not_echoed() {
    // Random bytes (fixed, so the test is repeatable).
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let o = run(&["--log", "-"], Some(&noise));
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("not a verifier log"), "{t}");
    assert!(!t.contains("rejected"), "{t}");
    assert!(t.len() < 400, "the input is echoed back: {t}");
    // Text, but nothing a verifier prints.
    let o = run(&["--log", "-"], Some(b"hello, world\nthis is a README\n"));
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("not a verifier log"), "{}", text(&o));
}

#[test]
fn libbpf_lines_after_the_log_are_not_the_verifiers_message() {
    let log = "libbpf: prog 'count': BPF program load failed: Permission denied\n\
               libbpf: prog 'count': -- BEGIN PROG LOAD LOG --\n\
               0: R1=ctx() R10=fp0\n\
               0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() R2=pkt(r=0)\n\
               1: (71) r3 = *(u8 *)(r2 +12)\n\
               invalid access to packet, off=12 size=1, R2(id=0,off=12,r=0)\n\
               R2 offset is outside of the packet\n\
               processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n\
               -- END PROG LOAD LOG --\n\
               libbpf: prog 'count': failed to load: -13\n\
               libbpf: failed to load object 'count.bpf.o'\n\
               Error: failed to load object file\n\
               Warning: bpftool is now running in libbpf strict mode and has more stringent requirements about BPF programs.\n";
    let o = run(&["--log", "-", "--json"], Some(log.as_bytes()));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = json(&o);
    let message = &v["programs"][0]["explanation"]["message"];
    assert_eq!(
        message,
        &serde_json::json!([
            "invalid access to packet, off=12 size=1, R2(id=0,off=12,r=0)",
            "R2 offset is outside of the packet"
        ]),
        "{v}"
    );
    assert_eq!(
        v["programs"][0]["explanation"]["id"],
        "packet-out-of-bounds"
    );
}

#[test]
fn an_object_without_btf_is_told_to_rebuild_with_g() {
    testkit::privilege::require_bpf();
    // The fixture with its BTF and DWARF stripped: what `clang -O2 -target bpf` without -g
    // gives. Its `.maps` section cannot be read without BTF.
    let f = fixtures::get("map_lookup_no_null_check").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let with = dir.path().join("with.o");
    let without = dir.path().join("without.o");
    std::fs::write(&with, f.object).unwrap();
    let strip = std::process::Command::new("llvm-objcopy")
        .args([
            "--remove-section=.BTF",
            "--remove-section=.BTF.ext",
            "--strip-debug",
        ])
        .arg(&with)
        .arg(&without)
        .status();
    if !strip.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: llvm-objcopy is not installed");
        return;
    }
    let o = run(&[without.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("no BTF") && t.contains("clang -g"), "{t}");
    assert!(!t.contains("Verifier Internal Error"), "{t}");
}

#[test]
fn a_loader_refusal_is_not_called_a_verifier_error() {
    testkit::privilege::require_bpf();
    // The kfunc fixture, its kfunc renamed (same length, every occurrence) to one the kernel
    // does not have: libbpf and this tool's loader both refuse it before the verifier runs.
    let f = fixtures::get("kfunc_dynptr_slice").unwrap();
    let mut bytes = f.object.to_vec();
    let (from, to) = (b"bpf_dynptr_slice", b"bpf_dynptr_slicz");
    let mut i = 0;
    while let Some(at) = bytes[i..].windows(from.len()).position(|w| w == from) {
        bytes[i + at..i + at + to.len()].copy_from_slice(to);
        i += at + to.len();
    }
    let mut obj = tempfile::NamedTempFile::new().unwrap();
    obj.write_all(&bytes).unwrap();
    let o = run(&[path(&obj)], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("bpf_dynptr_slicz") && t.contains("not found in the kernel's BTF"),
        "{t}"
    );
    assert!(t.contains("the loader refused the object"), "{t}");
    assert!(!t.contains("Verifier Internal Error"), "{t}");
}
