//! `xdpdbg top`, the real binary on the real kernel: the `hot_spot` fixture runs under
//! BPF_PROG_RUN on a thread of the test while the tool samples every CPU. The table, the
//! profile (headless and through a real terminal in tmux), the JSON outputs, the flame graph and
//! the Prometheus endpoint must all find the program and its hot lines (read from the
//! fixture's `// hot:` markers). Needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bpf_sys::{ProgFd, TestRun};
use testkit::child::KillOnDrop;

/// What these tests need root for.
const PURPOSE: &str = "xdpdbg top lists every program, samples every CPU with perf and \
    switches run-time statistics on";

/// One test at a time: each drives the fixture on a CPU of this 2-CPU machine, and the
/// figures of one must not be shared with another's load.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn xdpdbg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xdpdbg"))
}

fn run(args: &[&str]) -> Output {
    xdpdbg().args(args).output().expect("xdpdbg runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The 1-based lines of code of the fixture's source that end with a `// hot:` comment.
fn hot_lines() -> Vec<u32> {
    let source = testkit::fixture::get("hot_spot").source;
    let lines: Vec<u32> = source
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//") && l.contains("// hot:"))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    assert!(
        lines.len() >= 3,
        "the fixture marks its hot lines: {lines:?}"
    );
    lines
}

/// The `hot_spot` fixture, loaded and run with BPF_PROG_RUN on a thread until dropped.
struct Driven {
    id: u32,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _ebpf: aya::Ebpf,
}

impl Driven {
    fn start() -> Self {
        testkit::privilege::require_root(PURPOSE);
        let (ebpf, prog) = testkit::fixture::load_xdp("hot_spot", "hot_spot");
        let id = prog.info().unwrap().id;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || drive(&prog, &stop))
        };
        Self {
            id,
            stop,
            thread: Some(thread),
            _ebpf: ebpf,
        }
    }
}

impl Drop for Driven {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn drive(prog: &ProgFd, stop: &AtomicBool) {
    let packet = [0u8; 64];
    while !stop.load(Ordering::Relaxed) {
        prog.test_run(TestRun {
            data_in: Some(&packet),
            repeat: 2000,
            ..Default::default()
        })
        .expect("BPF_PROG_RUN");
    }
}

/// The row of program `id` in a `--once --json` table.
fn json_row(table: &serde_json::Value, id: u32) -> serde_json::Value {
    table["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("program {id} is in the table: {table:#}"))
        .clone()
}

#[test]
fn headless_table_shows_the_running_program_with_its_cpu() {
    let _one = serial();
    let driven = Driven::start();
    let out = run(&[
        "top",
        "--interval",
        "1s",
        "--headless",
        "--keys",
        "wait:1500",
        "--size",
        "200x50",
    ]);
    let screen = text(&out.stdout);
    assert!(out.status.success(), "{screen}{}", text(&out.stderr));
    assert!(screen.contains("mode: samples"), "{screen}");
    assert!(screen.contains("CPU % = the program's share"), "{screen}");
    let row = screen
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '│' || c.is_whitespace()))
        .find(|l| l.contains(" hot_spot ") && l.starts_with(&format!("{} ", driven.id)))
        .unwrap_or_else(|| panic!("program {} on the table:\n{screen}", driven.id));
    let cpu: f64 = row
        .split_whitespace()
        .next_back()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("the row ends with CPU %: {row}"));
    assert!(cpu > 0.0, "{row}");
    assert!(
        row.contains(" - "),
        "no run counts without statistics: {row}"
    );
}

#[test]
fn once_json_in_both_modes_and_samples_agree_with_statistics() {
    let _one = serial();
    let driven = Driven::start();
    let out = run(&["top", "--once", "--json", "--interval", "2s"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(table["mode"], "samples");
    let row = json_row(&table, driven.id);
    assert_eq!(row["name"], "hot_spot");
    assert_eq!(row["type"], "xdp");
    assert!(
        row["run_cnt"].is_null() && row["runs_per_sec"].is_null(),
        "{row}"
    );
    assert!(row["cpu_percent"].as_f64().unwrap() > 0.0, "{row}");
    let pid = format!("{} ", std::process::id());
    assert!(
        row["owners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o.as_str().unwrap().starts_with(&pid)),
        "this test process owns it: {row}"
    );

    let out = run(&["top", "--once", "--json", "--stats", "--interval", "2s"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(table["mode"], "stats");
    let row = json_row(&table, driven.id);
    assert!(row["run_cnt"].as_u64().unwrap() > 0, "{row}");
    assert!(row["runs_per_sec"].as_f64().unwrap() > 0.0, "{row}");
    assert!(row["avg_run_ns"].as_f64().unwrap() > 0.0, "{row}");
    let stats = row["cpu_percent_stats"].as_f64().unwrap();
    let samples = row["cpu_percent_samples"].as_f64().unwrap();
    eprintln!("hot_spot: CPU % from statistics {stats:.2}, from samples {samples:.2}");
    assert_eq!(row["cpu_percent"], row["cpu_percent_stats"]);
    // The same two seconds seen both ways: within a fifth of each other (docs/top.md gives
    // the measured agreement).
    assert!(
        (stats - samples).abs() <= 0.2 * stats.max(samples) + 1.0,
        "statistics {stats:.2}% and samples {samples:.2}% disagree: {row}"
    );
}

#[test]
fn prog_opens_on_the_profile_with_the_hot_lines_on_top() {
    let _one = serial();
    let driven = Driven::start();
    let hot = hot_lines();
    let id = driven.id.to_string();
    let out = run(&[
        "top",
        "--prog",
        &id,
        "--interval",
        "500ms",
        "--headless",
        "--keys",
        "wait:2500",
        "--size",
        "160x60",
    ]);
    let screen = text(&out.stdout);
    assert!(out.status.success(), "{screen}{}", text(&out.stderr));
    assert!(
        screen.contains(&format!("profile of program {id} hot_spot")),
        "{screen}"
    );
    assert!(screen.contains("resolution: line"), "{screen}");
    assert!(
        !screen.contains("records lost"),
        "samples are read during the wait: {screen}"
    );
    let ranked: Vec<u32> = screen
        .lines()
        .skip_while(|l| !l.contains("HOT LINES"))
        .skip(1)
        .take_while(|l| l.contains("hot_spot.bpf.c:"))
        .map(|l| {
            let at = l.find("hot_spot.bpf.c:").unwrap() + "hot_spot.bpf.c:".len();
            l[at..].split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect();
    assert!(ranked.len() >= 3, "hot lines listed:\n{screen}");
    assert!(
        ranked[..3].iter().all(|l| hot.contains(l)),
        "the three hottest lines {:?} are marked hot in the fixture ({hot:?}):\n{screen}",
        &ranked[..3]
    );
    assert!(
        screen.contains("bpf_csum_diff"),
        "the helper is listed:\n{screen}"
    );
}

#[test]
fn duration_json_puts_nine_tenths_of_the_samples_on_the_hot_lines() {
    let _one = serial();
    let driven = Driven::start();
    let hot = hot_lines();
    let id = driven.id.to_string();
    // A higher rate than the default (far below perf_event_max_sample_rate) so that on a busy
    // shared machine, where the driving thread gets a fraction of a CPU, two seconds still
    // give enough samples to judge.
    let out = run(&[
        "top",
        "--duration",
        "2s",
        "--json",
        "--prog",
        &id,
        "--frequency",
        "4999",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema_version"], 1);
    let programs = report["programs"].as_array().unwrap();
    assert_eq!(programs.len(), 1, "--prog keeps that program only");
    let p = &programs[0];
    assert_eq!(p["id"], driven.id);
    assert_eq!(p["resolution"], "line");
    let samples = p["samples"].as_u64().unwrap();
    assert!(samples >= 200, "too few samples to judge: {p}");
    let on_hot: u64 = p["functions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["lines"].as_array().unwrap())
        .filter(|l| {
            l["file"].as_str().unwrap().ends_with("hot_spot.bpf.c")
                && hot.contains(&(l["line"].as_u64().unwrap() as u32))
        })
        .map(|l| l["samples"].as_u64().unwrap())
        .sum();
    let share = on_hot as f64 / samples as f64;
    eprintln!(
        "{:.1}% of {samples} samples on the hot lines",
        share * 100.0
    );
    assert!(share >= 0.9, "{:.1}% on {hot:?}: {p:#}", share * 100.0);
}

#[test]
fn a_program_unloaded_mid_sample_keeps_its_profile_until_then() {
    let _one = serial();
    let driven = Driven::start();
    let id = driven.id.to_string();
    let child = xdpdbg()
        .args([
            "top",
            "--duration",
            "3s",
            "--interval",
            "300ms",
            "--json",
            "--prog",
            &id,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    drop(driven);
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("program {id} was unloaded while it was sampled")),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &report["programs"][0];
    assert_eq!(p["id"].to_string(), id, "{report:#}");
    assert!(
        p["samples"].as_u64().unwrap() > 0,
        "samples until the unload: {p}"
    );
}

#[test]
fn hidden_kernel_addresses_are_explained_per_program() {
    let _one = serial();
    testkit::tool::require_tool("setpriv", "util-linux");
    let driven = Driven::start();
    let kptr = std::fs::read_to_string("/proc/sys/kernel/kptr_restrict").unwrap();
    // Root without CAP_SYSLOG (and kernel.perf_event_paranoid above 1, as on Debian) is not
    // shown raw kernel addresses: JIT addresses read as zero.
    let out = Command::new("setpriv")
        .args(["--bounding-set", "-syslog", "--inh-caps", "-syslog", "--"])
        .arg(env!("CARGO_BIN_EXE_xdpdbg"))
        .args(["top", "--once", "--json", "--interval", "300ms"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = json_row(&table, driven.id);
    let note = row["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("hides JIT addresses") && note.contains("kptr_restrict"),
        "the row says why its samples cannot be placed, and what to do: {row}"
    );
    assert!(row["cpu_percent_samples"].is_null(), "{row}");
    assert_eq!(
        kptr,
        std::fs::read_to_string("/proc/sys/kernel/kptr_restrict").unwrap(),
        "kptr_restrict is left as found"
    );
}

#[test]
fn flamegraph_writes_an_svg_with_the_function() {
    let _one = serial();
    let driven = Driven::start();
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("hot.svg");
    let id = driven.id.to_string();
    let out = run(&[
        "top",
        "--duration",
        "2s",
        "--prog",
        &id,
        "--flamegraph",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = std::fs::read_to_string(&svg).expect("the SVG is written");
    assert!(
        body.starts_with("<?xml") && body.contains("<svg"),
        "not an SVG"
    );
    assert!(body.trim_end().ends_with("</svg>"), "the SVG is complete");
    assert!(body.contains("hot_spot"), "the function's frames are in it");
    assert!(body.contains("hot_spot.bpf.c:"), "so are its lines");
}

fn scrape(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics server");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

#[test]
fn prometheus_endpoint_serves_program_and_line_metrics() {
    let _one = serial();
    let driven = Driven::start();
    let mut child = KillOnDrop(
        xdpdbg()
            .args([
                "top",
                "--prometheus",
                "127.0.0.1:0",
                "--interval",
                "500ms",
                "--duration",
                "60s",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.strip_suffix("/metrics\n"))
        .unwrap_or_else(|| panic!("the address on stderr: {line}"))
        .to_string();
    let id = format!("id=\"{}\"", driven.id);
    let start = Instant::now();
    let mut body = String::new();
    while start.elapsed() < Duration::from_secs(30) {
        body = scrape(&addr);
        if body
            .lines()
            .any(|l| l.starts_with("xdpdbg_top_line_samples_total{") && l.contains(&id))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    let has = |metric: &str| {
        body.lines()
            .any(|l| l.starts_with(metric) && l.contains(&id) && l.contains("name=\"hot_spot\""))
    };
    for metric in [
        "xdpdbg_top_program_cpu_percent{",
        "xdpdbg_top_program_samples_total{",
        "xdpdbg_top_line_samples_total{",
    ] {
        assert!(has(metric), "{metric} of program {id}:\n{body}");
    }
    assert!(
        body.contains("# TYPE xdpdbg_top_program_cpu_percent gauge"),
        "{body}"
    );
}

/// A tmux session, killed on every way out.
struct Tmux(String);

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux").args(args).output().expect("tmux runs")
    }
    fn capture(&self) -> String {
        text(&self.cmd(&["capture-pane", "-p", "-t", &self.0]).stdout)
    }
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }
    /// Waits until the pane shows `what`; returns the pane.
    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let pane = self.capture();
            if pane.contains(what) || start.elapsed() > Duration::from_secs(20) {
                return pane;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-session", "-t", &self.0]);
    }
}

#[test]
fn tui_in_a_real_terminal_selects_profiles_and_restores_the_terminal() {
    let _one = serial();
    testkit::tool::require_tool("tmux", "tmux");
    let driven = Driven::start();
    let name = format!("xdpdbg-top-test-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_xdpdbg");
    let tmux = Tmux(name.clone());
    let shell = format!("{bin} top --interval 500ms; echo top-exited-$?; sleep 60");
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        "160",
        "-y",
        "40",
        &shell,
    ]);
    assert!(out.status.success(), "tmux: {}", text(&out.stderr));
    let pane = tmux.wait_for("mode:");
    assert!(pane.contains("xdpdbg top"), "{pane}");
    // Filter on the program's id, then open it.
    let id = driven.id.to_string();
    tmux.keys(&["/"]);
    tmux.keys(&["-l", &id]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("matching");
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_for("HOT LINES");
    assert!(
        pane.contains(&format!("profile of program {id} hot_spot")),
        "{pane}"
    );
    assert!(pane.contains("hot_spot.bpf.c:"), "{pane}");
    tmux.keys(&["Escape"]);
    let pane = tmux.wait_for("programs 1 of");
    assert!(pane.contains("hot_spot"), "back on the table: {pane}");
    tmux.keys(&["q"]);
    let pane = tmux.wait_for("top-exited-");
    assert!(pane.contains("top-exited-0"), "exited cleanly: {pane}");
    let alt = tmux.cmd(&["display-message", "-p", "-t", &name, "#{alternate_on}"]);
    assert_eq!(
        text(&alt.stdout).trim(),
        "0",
        "the alternate screen is left"
    );
    assert!(
        !pane.contains("HOT LINES"),
        "the screen is restored: {pane}"
    );
}

#[test]
fn bad_input_and_missing_privileges_exit_with_clear_messages() {
    let _one = serial();
    let out = run(&["top", "--once", "--prog", "no_such_prog_x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no loaded program is named `no_such_prog_x`"),
        "{err}"
    );
    let out = run(&["top", "--once", "--prog", "4000000000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no loaded program has id"));
    let out = run(&["top", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--json goes with --once"));
    let out = run(&["top", "--once", "--interval", "soon"]);
    assert_eq!(out.status.code(), Some(2));

    // Without privileges: a clear message naming what is missing, and no setting changed.
    testkit::privilege::require_root(PURPOSE);
    let sysctl = |n: &str| std::fs::read_to_string(format!("/proc/sys/kernel/{n}")).unwrap();
    let before = (sysctl("perf_event_paranoid"), sysctl("bpf_stats_enabled"));
    let out = xdpdbg()
        .args(["top", "--once", "--stats"])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("run as root"), "{err}");
    assert_eq!(
        before,
        (sysctl("perf_event_paranoid"), sysctl("bpf_stats_enabled"))
    );
}
