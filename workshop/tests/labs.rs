//! Every lab, as an attendee would meet it (needs root; real kernel, real packets): `lab start`,
//! then `lab check` fails (exit 1) for the reason the lab is about; the solution applied, `lab
//! check` passes (exit 0); `lab down` leaves no namespace, program or pin behind. Edits that only
//! please the verifier (return XDP_PASS, delete the logic) must not pass.

use std::path::Path;
use std::process::Output;

use testkit::binary::{Binary, describe};

fn lab() -> Binary {
    Binary::new(env!("CARGO_BIN_EXE_lab"))
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `lab ARGS --dir DIR` (the --dir only where the subcommand takes one).
fn run(args: &[&str], dir: &Path) -> Output {
    let mut argv: Vec<&str> = args.to_vec();
    if args[0] != "down" {
        argv.extend(["--dir", dir.to_str().expect("a UTF-8 temporary path")]);
    }
    lab().run(&argv)
}

/// The project binaries labs 5 to 8 drive must sit next to `lab`, as a workspace build leaves
/// them.
fn require_tools() {
    for tool in ["xdpdbg", "switch-ctl"] {
        let b = Binary::new(
            Path::new(env!("CARGO_BIN_EXE_lab"))
                .parent()
                .expect("target/<profile>")
                .join(tool),
        );
        assert!(
            b.exists(),
            "{} is missing: build it first (cargo build -p xdpdbg -p switch-ctl, or cargo test --workspace)",
            b.path().display()
        );
    }
}

/// What lab `n` leaves on the machine: its namespaces, the program it attached, the switch
/// daemon of lab 8, and pins under /sys/fs/bpf naming the lab.
fn leftovers(n: u8) -> Vec<String> {
    let prefix = format!("xl-ws{n}-");
    let mut left: Vec<String> = testkit::lab::namespaces()
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    // Labs 1 to 4 load their programs in the checker's process only; 5 to 7 attach one.
    let attached = match n {
        5 => Some("slow_filter"),
        6 => Some("guard"),
        7 => Some("flows"),
        _ => None,
    };
    for id in bpf_sys::prog_ids().flatten() {
        if let Ok(info) = bpf_sys::ProgFd::from_id(id).and_then(|p| p.info())
            && Some(info.name.as_str()) == attached
        {
            left.push(format!("program {} ({id})", info.name));
        }
    }
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains("switch-ctl") && cmdline.contains(&prefix) {
            left.push(format!("process {}", cmdline.trim()));
        }
    }
    left
}

/// The entries of a bpffs folder (the switch daemon pins its maps under
/// /sys/fs/bpf/switch-ctl/<namespace tag>/).
fn pins(dir: &str) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect()
}

/// The round trips run one at a time: each compares the machine's bpffs before and after, and
/// the stress of lab 7 and the timing of lab 5 want the CPUs to themselves.
static ONE_LAB_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// [`leftovers`], waiting up to 10 s for the kernel to finish freeing what a removed namespace
/// held (network namespaces are cleaned up asynchronously, their devices' programs with them).
fn leftovers_after_cleanup(n: u8) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = leftovers(n);
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// start → check fails with `reason` → solution → check passes → down leaves nothing.
fn lab_round_trip(n: u8, reason: &str) {
    testkit::privilege::require_root("loading eBPF programs and building the labs' namespaces");
    let _alone = ONE_LAB_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if n >= 5 {
        require_tools();
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let work = dir.path().join(format!("lab{n:02}"));
    let n_s = n.to_string();

    let pins_before = (pins("/sys/fs/bpf"), pins("/sys/fs/bpf/switch-ctl"));
    let started = run(&["start", &n_s], &work);
    assert_eq!(
        code(&started),
        Some(0),
        "lab start {n}: {}",
        describe(&started)
    );

    let before = run(&["check", &n_s], &work);
    let before_down = || {
        let _ = lab().run(&["down", &n_s]);
    };
    if code(&before) != Some(1) || !stdout(&before).contains(reason) {
        before_down();
        panic!(
            "lab check {n} on the starting code should fail (exit 1) saying {reason:?}: {}",
            describe(&before)
        );
    }

    let applied = run(&["solution", &n_s, "--apply"], &work);
    if code(&applied) != Some(0) {
        before_down();
        panic!("lab solution {n} --apply: {}", describe(&applied));
    }
    let after = run(&["check", &n_s], &work);
    if code(&after) != Some(0) || !stdout(&after).contains("Solved!") {
        before_down();
        panic!(
            "lab check {n} on the solution should pass: {}",
            describe(&after)
        );
    }

    let down = lab().run(&["down", &n_s]);
    assert_eq!(code(&down), Some(0), "lab down {n}: {}", describe(&down));
    let mut left = leftovers_after_cleanup(n);
    let pins_after = (pins("/sys/fs/bpf"), pins("/sys/fs/bpf/switch-ctl"));
    left.extend(pins_after.0.difference(&pins_before.0).cloned());
    left.extend(pins_after.1.difference(&pins_before.1).cloned());
    assert!(left.is_empty(), "lab down {n} left: {left:?}");
}

#[test]
fn lab1_bounds_check() {
    lab_round_trip(1, "the kernel's verifier still rejects `drop_echo`");
}

#[test]
fn lab2_null_check() {
    lab_round_trip(2, "possibly NULL pointer dereferenced");
}

#[test]
fn lab3_loop() {
    lab_round_trip(3, "infinite loop detected");
}

#[test]
fn lab4_reference_leak() {
    lab_round_trip(4, "Unreleased reference");
}

#[test]
fn lab5_hot_line() {
    lab_round_trip(5, "it is not fast enough yet");
}

#[test]
fn lab6_live_map() {
    lab_round_trip(6, "h1's pings to h2 are still dropped");
}

#[test]
fn lab7_ageing_race() {
    lab_round_trip(7, "A live entry was lost");
}

#[test]
fn lab8_fast_path() {
    lab_round_trip(8, "no switch daemon serves the lab's namespace");
}

/// Starts lab `n` in a temporary folder, replaces `prog.bpf.c` with `edit(start)`, and returns
/// what `lab check` printed (it must exit 1).
fn check_edited(n: u8, edit: impl Fn(&str) -> String) -> String {
    testkit::privilege::require_root("loading eBPF programs");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let n_s = n.to_string();
    let started = run(&["start", &n_s], dir.path());
    assert_eq!(code(&started), Some(0), "{}", describe(&started));
    let src = dir.path().join("prog.bpf.c");
    let text = std::fs::read_to_string(&src).expect("the starting prog.bpf.c");
    std::fs::write(&src, edit(&text)).expect("writing the edit");
    let out = run(&["check", &n_s], dir.path());
    assert_eq!(
        code(&out),
        Some(1),
        "the edit must not pass: {}",
        describe(&out)
    );
    stdout(&out)
}

#[test]
fn returning_xdp_pass_does_not_solve_lab1() {
    let out = check_edited(1, |s| {
        s.replace(
            "\tif (udp->dest == bpf_htons(ECHO_PORT))\n\t\treturn XDP_DROP;\n",
            "",
        )
    });
    assert!(
        out.contains("the kernel's verifier accepts `drop_echo`"),
        "{out}"
    );
    assert!(
        out.contains(
            "a UDP datagram to port 7: your program returns XDP_PASS, it should return XDP_DROP"
        ),
        "{out}"
    );
}

/// The check verifier-explain suggests, pasted where it says, solves lab 1 (the page tells
/// attendees so).
#[test]
fn verifier_explains_suggested_fix_also_solves_lab1() {
    testkit::privilege::require_root("loading eBPF programs");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let started = run(&["start", "1"], dir.path());
    assert_eq!(code(&started), Some(0), "{}", describe(&started));
    let before = run(&["check", "1"], dir.path());
    let suggested = "if ((void *)(udp + 1) > data_end)";
    assert!(
        stdout(&before).contains(suggested),
        "the explanation no longer suggests {suggested:?}: {}",
        describe(&before)
    );
    let src = dir.path().join("prog.bpf.c");
    let text = std::fs::read_to_string(&src).expect("the starting prog.bpf.c");
    let read = "\tif (udp->dest == bpf_htons(ECHO_PORT))\n";
    assert!(text.contains(read), "{text}");
    std::fs::write(
        &src,
        text.replace(
            read,
            &format!("\t{suggested}\n\t\treturn XDP_PASS;\n{read}"),
        ),
    )
    .expect("writing the fix");
    let after = run(&["check", "1"], dir.path());
    assert_eq!(code(&after), Some(0), "{}", describe(&after));
    assert!(stdout(&after).contains("Solved!"), "{}", describe(&after));
}

#[test]
fn deleting_the_ring_buffer_logic_does_not_solve_lab4() {
    let out = check_edited(4, |s| {
        let start = s.find("\tstruct syn_event *e").expect("the reserve");
        let end = s.find("\tbpf_ringbuf_submit(e, 0);\n").expect("the submit");
        format!(
            "{}{}",
            &s[..start],
            &s[end + "\tbpf_ringbuf_submit(e, 0);\n".len()..]
        )
    });
    assert!(out.contains("no record reached the ring buffer"), "{out}");
}

#[test]
fn a_lab_that_was_not_started_is_a_setup_problem() {
    testkit::privilege::require_root("loading eBPF programs");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = run(&["check", "1"], &dir.path().join("nowhere"));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Run `lab start 1` first"),
        "{}",
        describe(&out)
    );
    let out = run(&["check", "1", "--json"], &dir.path().join("nowhere"));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("lab 1 was not started there"),
        "{json}"
    );
}

/// Runs `lab ARGS` (no --dir) with `cwd` as the current folder.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    lab()
        .command()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running lab")
}

#[test]
fn lab_finds_the_lab_folder_from_inside_the_workshop_folder_and_never_nests_a_copy() {
    testkit::privilege::require_root("loading eBPF programs");
    let home = tempfile::tempdir().expect("a temporary folder");
    let workshop = home.path().join("ebpf-workshop");
    let lab01 = workshop.join("lab01");
    let started = run_in(home.path(), &["start", "1"]);
    assert_eq!(code(&started), Some(0), "{}", describe(&started));
    assert!(lab01.join("prog.bpf.c").exists(), "{}", describe(&started));

    for cwd in [&lab01, &workshop, &lab01.join("build")] {
        std::fs::create_dir_all(cwd).expect("the folder");
        let out = run_in(cwd, &["check", "1"]);
        assert_eq!(
            code(&out),
            Some(1),
            "from {}: {}",
            cwd.display(),
            describe(&out)
        );
        assert!(
            stdout(&out).contains("the kernel's verifier still rejects `drop_echo`"),
            "from {}: {}",
            cwd.display(),
            describe(&out)
        );
    }
    // Starting again from inside the lab's folder keeps the attendee's file there, and makes
    // no second ebpf-workshop/lab01 inside it.
    let again = run_in(&lab01, &["start", "1"]);
    assert_eq!(code(&again), Some(0), "{}", describe(&again));
    assert!(
        !lab01.join("ebpf-workshop").exists(),
        "{}",
        describe(&again)
    );

    // A folder made with --dir elsewhere: from inside it, lab says so instead of telling the
    // attendee to start the lab (which would nest a copy).
    let mine = home.path().join("my-lab");
    assert_eq!(code(&run(&["start", "1"], &mine)), Some(0));
    let out = run_in(&mine, &["check", "1"]);
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("you are inside it: add `--dir .`"),
        "{}",
        describe(&out)
    );
    assert!(!err.contains("lab start 1` first"), "{}", describe(&out));
    let out = run_in(&mine, &["check", "1", "--dir", "."]);
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
}

#[test]
fn json_check_report_says_what_is_wrong() {
    testkit::privilege::require_root("loading eBPF programs");
    let dir = tempfile::tempdir().expect("a temporary folder");
    assert_eq!(code(&run(&["start", "2"], dir.path())), Some(0));
    let out = run(&["check", "2", "--json"], dir.path());
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["solved"], false);
    assert_eq!(report["lab"], 2);
    let problem = &report["problems"][0];
    assert!(problem["what"].as_str().unwrap().contains("port_firewall"));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("null-dereference")
    );
}

#[test]
fn list_names_eight_labs_and_unknown_labs_are_usage_errors() {
    let out = lab().run(&["list", "--json"]);
    let labs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(labs.as_array().map(Vec::len), Some(8), "{}", describe(&out));
    for l in labs.as_array().unwrap() {
        let page = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(l["page"].as_str().unwrap());
        assert!(
            page.exists(),
            "lab {}'s page {} is missing",
            l["number"],
            page.display()
        );
    }
    let out = lab().run(&["solution", "9"]);
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
}

#[test]
fn ctrl_c_while_a_lab_is_set_up_leaves_nothing_behind() {
    use std::os::unix::process::ExitStatusExt as _;
    testkit::privilege::require_root("building the labs' namespaces");
    let _alone = ONE_LAB_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut interrupted = 0;
    // SIGINT at several moments of `lab start 6` (it takes about 0.2 s): while the network is
    // built, while the program is attached and its map filled, or after it finished.
    for delay_ms in [30u64, 60, 90, 120, 150, 200] {
        let mut child = lab()
            .command()
            .args(["start", "6", "--dir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("lab start 6 runs");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let status = child.wait().expect("lab start 6 ends");
        // Interrupted: it died of the signal, or an error stopped it first (the signal handler
        // removed the half-built network under it). Either way nothing may be left.
        if !status.success() {
            assert!(
                status.signal() == Some(libc_sigint()) || status.code() == Some(2),
                "lab start 6 after {delay_ms} ms: {status}"
            );
            interrupted += 1;
            let left = leftovers_after_cleanup(6);
            assert!(
                left.is_empty(),
                "SIGINT {delay_ms} ms into lab start 6 left: {left:?}"
            );
        } else {
            let down = lab().run(&["down", "6"]);
            assert_eq!(code(&down), Some(0), "{}", describe(&down));
        }
    }
    eprintln!("{interrupted} of 6 runs were interrupted while setting up");
}

fn libc_sigint() -> i32 {
    nix::sys::signal::Signal::SIGINT as i32
}
