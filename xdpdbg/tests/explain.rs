//! `xdpdbg explain`, run as a user would on real fixtures: the programs are loaded into the
//! kernel for real (needs root: CAP_BPF) and the explorer is driven headless.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use testkit::binary::{Binary, describe as text};
use testkit::fixture::{object_file as object, object_path as path};
use testkit::privilege::require_bpf;

fn xdpdbg(args: &[&str]) -> Output {
    Binary::new(env!("CARGO_BIN_EXE_xdpdbg"))
        .env("NO_COLOR", "1")
        .run(args)
}

/// The last screen after `keys`, 160x50.
fn screen(obj: &Path, keys: &str) -> String {
    let o = xdpdbg(&[
        "explain",
        obj.to_str().unwrap(),
        "--headless",
        "--keys",
        keys,
        "--size",
        "160x50",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = String::from_utf8(o.stdout).expect("UTF-8 screen");
    if std::env::var_os("XDPDBG_TUI_SHOW").is_some() {
        eprintln!("--- after {keys}\n{s}");
    }
    s
}

/// Every screen of a headless run, with the key that led to it.
fn frames(obj: &Path, keys: &str) -> Vec<(String, String)> {
    let out: PathBuf = std::env::temp_dir().join(format!(
        "xdpdbg-explain-{}-{}.txt",
        std::process::id(),
        keys.replace(' ', "_")
    ));
    let o = xdpdbg(&[
        "explain",
        obj.to_str().unwrap(),
        "--headless",
        "--keys",
        keys,
        "--size",
        "160x50",
        "--frames-out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let all = std::fs::read_to_string(&out).expect("reading the screens");
    std::fs::remove_file(&out).ok();
    all.split("=== frame ")
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (head, screen) = f.split_once(" ===\n").expect("a frame header");
            let label = head.split_once(": ").map_or(head, |(_, l)| l);
            (label.to_string(), screen.to_string())
        })
        .collect()
}

/// The right pane of a screen, its title first: each line from where its border begins.
fn right_pane(screen: &str) -> String {
    screen
        .lines()
        .filter_map(|l| {
            l.split_once("┐┌")
                .or_else(|| l.split_once("││"))
                .map(|(_, r)| r.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The selected listing row (it starts with `│>`).
fn selected_row(screen: &str) -> &str {
    screen
        .lines()
        .find(|l| l.starts_with("│>"))
        .unwrap_or_else(|| panic!("no selected row:\n{screen}"))
}

#[test]
fn the_packet_fault_shows_its_line_instruction_and_eth() {
    require_bpf();
    let obj = object("packet_no_bounds_check");
    let s = screen(obj.path(), "e");
    // The faulting instruction, selected and marked, under its source line.
    let row = selected_row(&s);
    assert!(row.contains('✗'), "{row}");
    assert!(row.contains("1: r2 = *(u8 *)(r1 +12)"), "{row}");
    assert!(row.contains("← rejected here"), "{row}");
    let lines: Vec<&str> = s.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("│>")).unwrap();
    assert!(
        lines[at - 1].contains(&format!(
            "packet_no_bounds_check.bpf.c:{}",
            marked("packet_no_bounds_check")
        )) && lines[at - 1].contains("if (eth->h_proto == bpf_htons(ETH_P_ARP))"),
        "the source line right above the fault:\n{s}"
    );
    // The source line is printed once, not per instruction.
    assert_eq!(
        s.matches(&format!(
            "packet_no_bounds_check.bpf.c:{}  if",
            marked("packet_no_bounds_check")
        ))
        .count(),
        1,
        "{s}"
    );
    // Registers named as variables, with the verifier's state and its meaning.
    let right = right_pane(&s);
    assert!(
        right.contains("state before 1: r2 = *(u8 *)(r1 +12) · step 2 of 2"),
        "{right}"
    );
    let r1 = right
        .lines()
        .find(|l| l.starts_with("r1 "))
        .unwrap_or_else(|| panic!("no r1 in the register pane:\n{right}"));
    assert!(
        r1.contains("eth (struct ethhdr *)") && r1.contains("pkt(r=0)"),
        "{r1}"
    );
    assert!(right.contains("no bytes are proven in bounds"), "{right}");
    // The explanation.
    assert!(s.contains("packet-out-of-bounds · Memory Safety"), "{s}");
    assert!(
        s.contains(&format!("fix (line {})", marked("packet_no_bounds_check"))),
        "{s}"
    );
    // The processed counts: both instructions of the path once.
    assert!(s.contains("│ • 1 0: r1 = *(u32 *)(r1 +0)"), "{s}");
}

#[test]
fn the_history_of_r0_shows_the_lookup() {
    require_bpf();
    let obj = object("map_lookup_no_null_check");
    let s = screen(obj.path(), "e h 0");
    let right = right_pane(&s);
    assert!(
        right.contains("history of r0 · 1 change on the failing path"),
        "{right}"
    );
    let call = right
        .lines()
        .find(|l| l.contains("call bpf_map_lookup_elem#1"))
        .unwrap_or_else(|| panic!("no lookup step in the history:\n{right}"));
    assert!(
        call.contains("insn 6") && call.contains(&format!("line {}", lookup_line())),
        "{call}"
    );
    assert!(
        right.contains("map_value_or_null(id=1,map=seen,ks=4,vs=8)"),
        "{right}"
    );
    assert!(right.contains("may be NULL"), "{right}");

    // At the fault the register pane names `count` with the explanation's words.
    let s = screen(obj.path(), "e");
    let right = right_pane(&s);
    let r0 = right.lines().find(|l| l.starts_with("r0 ")).unwrap();
    assert!(r0.contains("count (__u64 *)"), "{r0}");
    assert!(
        right.contains(&format!("the lookup at line {} can fail", lookup_line())),
        "{right}"
    );
    // `h` again hides the history; `1` shows r1's: written by the ctx load, the map pointer.
    let s = screen(obj.path(), "e h h 1");
    let right = right_pane(&s);
    assert!(right.contains("history of r1"), "{right}");
    assert!(right.contains("map_ptr(map=seen,ks=4,vs=8)"), "{right}");
}

#[test]
fn n_and_p_move_along_the_path() {
    require_bpf();
    let obj = object("map_lookup_no_null_check");
    let f = frames(obj.path(), "e p p n home p end n");
    let labels: Vec<&str> = f.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        ["start", "e", "p", "p", "n", "home", "p", "end", "n"]
    );
    let title = |i: usize| {
        right_pane(&f[i].1)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        title(1).contains("state before 7: r1 = *(u64 *)(r0 +0) · step 7 of 7"),
        "{}",
        title(1)
    );
    assert!(
        title(2).contains("state before 6: call bpf_map_lookup_elem#1 · step 6 of 7"),
        "{}",
        title(2)
    );
    assert!(selected_row(&f[2].1).contains("6: call bpf_map_lookup_elem#1"));
    // The ld_imm64 at 4 takes two slots: the step before the call is instruction 4.
    assert!(
        title(3).contains("state before 4: r1 = 0x") && title(3).contains("step 5 of 7"),
        "{}",
        title(3)
    );
    assert!(title(4).contains("step 6 of 7"), "{}", title(4));
    // Before the call, r2 points at `ifindex` on the stack.
    let regs = right_pane(&f[4].1);
    assert!(regs.contains("r2  &ifindex  fp-4"), "{regs}");
    assert!(regs.contains("fp-8   ifindex (__u32)  mmmm????"), "{regs}");
    // At the first instruction p says so; off the path (instruction 11) n goes nowhere new.
    assert!(title(5).contains("step 1 of 7"), "{}", title(5));
    assert!(f[6].1.contains("at the start of the path"), "{}", f[6].1);
    assert!(right_pane(&f[7].1).contains("instruction 11 is not on the failing path"));
    assert!(title(8).contains("step 7 of 7"), "{}", title(8));
}

#[test]
fn an_accepted_object_says_so() {
    require_bpf();
    let obj = object("xdp_pass");
    let s = screen(obj.path(), "e");
    assert!(s.contains("xdp_pass (Xdp) · accepted"), "{s}");
    assert!(s.contains("xdp_pass was accepted by the verifier"), "{s}");
    assert!(
        s.contains("this program was not rejected: there is no error to go to"),
        "{s}"
    );
}

#[test]
fn json_is_the_verifier_explain_report() {
    require_bpf();
    let obj = object("packet_no_bounds_check");
    let o = xdpdbg(&["explain", path(&obj), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a rejection exits 1:\n{}",
        text(&o)
    );
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let bytes = fixtures::get("packet_no_bounds_check").unwrap().object;
    let want = serde_json::to_value(
        verifier_explain::explain_object(bytes, &Default::default()).expect("explained"),
    )
    .unwrap();
    assert_eq!(got["schema_version"], want["schema_version"]);
    let (g, w) = (&got["programs"][0], &want["programs"][0]);
    for key in [
        "program",
        "program_type",
        "verdict",
        "errno",
        "explanation",
        "limits",
    ] {
        assert_eq!(g[key], w[key], "{key}");
    }
    assert_eq!(g["explanation"]["id"], "packet-out-of-bounds");
}

#[test]
fn bad_input_is_a_usage_error() {
    require_bpf();
    let mut junk = tempfile::NamedTempFile::new().unwrap();
    junk.write_all(b"this is not an ELF file\n").unwrap();
    for mode in [&["--headless"][..], &["--json"]] {
        let mut args = vec!["explain", path(&junk)];
        args.extend_from_slice(mode);
        let o = xdpdbg(&args);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not an ELF file"), "{err}");
        assert!(o.stdout.is_empty(), "{}", text(&o));
    }
    let obj = object("packet_no_bounds_check");
    let o = xdpdbg(&["explain", path(&obj), "--prog", "nope", "--headless"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("has no program `nope`"),
        "{}",
        text(&o)
    );
    // Not a terminal, not headless: no TUI, and a pointer to what works.
    let o = xdpdbg(&["explain", path(&obj)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--headless") && err.contains("verifier-explain"),
        "{err}"
    );
    let o = xdpdbg(&["explain", path(&obj), "--headless", "--keys", "e warp"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown key `warp`"));
}

#[test]
fn a_captured_log_is_explained_without_loading() {
    require_bpf();
    let obj = object("packet_no_bounds_check");
    let bytes = fixtures::get("packet_no_bounds_check").unwrap().object;
    let report = verifier_explain::load_object(bytes, None).expect("loaded");
    let verifier_explain::Verdict::Rejected { log, .. } = &report[0].verdict else {
        panic!("the fixture is rejected");
    };
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(log.as_bytes()).unwrap();
    let log_path = file.path().to_str().unwrap();
    // With the object: exact lines and names.
    let o = xdpdbg(&[
        "explain",
        path(&obj),
        "--log",
        log_path,
        "--headless",
        "--keys",
        "e",
        "--size",
        "160x40",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(selected_row(&s).contains("1: r2 = *(u8 *)(r1 +12)"), "{s}");
    assert!(right_pane(&s).contains("eth (struct ethhdr *)"), "{s}");
    // Alone: lines from the log's comments, no names.
    let o = xdpdbg(&[
        "explain",
        "--log",
        log_path,
        "--headless",
        "--keys",
        "e",
        "--size",
        "160x40",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("if (eth->h_proto == bpf_htons(ETH_P_ARP))"),
        "{s}"
    );
    assert!(s.contains("packet-out-of-bounds"), "{s}");
    assert!(!right_pane(&s).contains("eth ("), "{s}");
}

/// The line a fixture marks `// <- rejected here`.
fn marked(name: &str) -> u32 {
    fixtures::get(name)
        .unwrap()
        .fault_line
        .expect("a marked line")
}

/// The line of `map_lookup_no_null_check` that calls bpf_map_lookup_elem.
fn lookup_line() -> u32 {
    let f = fixtures::get("map_lookup_no_null_check").unwrap();
    f.source
        .lines()
        .position(|l| l.contains("bpf_map_lookup_elem("))
        .unwrap() as u32
        + 1
}
