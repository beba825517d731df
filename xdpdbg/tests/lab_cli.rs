//! The `xdpdbg lab` and `xdpdbg doctor` commands, run as a user would run them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::binary::Binary;
use testkit::lab::namespaces;
use testkit::privilege::require_lab;

fn xdpdbg() -> Command {
    Binary::new(env!("CARGO_BIN_EXE_xdpdbg")).command()
}

/// Asserts that no namespace of lab `name` exists.
fn assert_no_lab(name: &str) {
    let listed = namespaces();
    assert!(!listed.contains(&format!("xl-{name}-")), "{listed}");
}

/// Removes the lab even if the test fails before it does.
struct Down(String);
impl Drop for Down {
    fn drop(&mut self) {
        let _ = xdpdbg().args(["lab", "down", &self.0]).output();
    }
}

#[test]
fn up_exec_list_down() {
    require_lab();
    let name = format!("cli-{}", std::process::id());
    let _down = Down(name.clone());
    let out = xdpdbg()
        .args(["lab", "up", "--name", &name, "--hosts", "3", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["id"], name.as_str());
    assert_eq!(info["hosts"].as_array().unwrap().len(), 3);
    assert_eq!(info["owner_pid"], serde_json::Value::Null);

    // The lab outlives `lab up`, and hosts reach each other by name.
    let ping = xdpdbg()
        .args([
            "lab", "exec", "--lab", &name, "h1", "--", "ping", "-4", "-c", "2", "-i", "0.2", "h3",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&ping.stdout);
    assert!(ping.status.success(), "{stdout}");
    assert!(stdout.contains("2 received"), "{stdout}");

    // exec passes the command's exit status on.
    let status = xdpdbg()
        .args([
            "lab", "exec", "--lab", &name, "sw", "--", "sh", "-c", "exit 7",
        ])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(7));

    // An unknown node is a clear error naming the real ones.
    let bad = xdpdbg()
        .args(["lab", "exec", "--lab", &name, "h9", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("no node `h9`") && stderr.contains("sw, h1, h2, h3"),
        "{stderr}"
    );

    let list = xdpdbg().args(["lab", "list", "--json"]).output().unwrap();
    let labs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(
        labs.as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == name.as_str())
    );

    let down = xdpdbg().args(["lab", "down", &name]).output().unwrap();
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert_no_lab(&name);
    let again = xdpdbg().args(["lab", "down", &name]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no lab named"));
}

/// Starts `xdpdbg lab up --hold` and returns once the lab is up.
#[allow(clippy::zombie_processes)] // the child is returned, and every caller waits for it
fn hold_lab(name: &str, hosts: u32) -> Child {
    let mut child = xdpdbg()
        .args([
            "lab",
            "up",
            "--hold",
            "--hosts",
            &hosts.to_string(),
            "--name",
            name,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = lines
            .next()
            .expect("xdpdbg exited before the lab was up")
            .unwrap();
        if line.contains("Ctrl-C") {
            return child;
        }
        assert!(Instant::now() < deadline, "lab up --hold did not get ready");
    }
}

/// `lab up --hold` keeps the lab while it runs; the signal tears it down.
fn held_lab_is_removed_on(signal: nix::sys::signal::Signal) {
    require_lab();
    let name = format!("hold-{}-{}", signal as i32, std::process::id());
    let _down = Down(name.clone());
    let mut child = hold_lab(&name, 2);
    assert!(namespaces().contains(&format!("xl-{name}-sw")));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(signal as i32),
        "xdpdbg should die of the signal after cleaning up"
    );
    assert_no_lab(&name);
}

#[test]
fn held_lab_is_removed_on_sigint() {
    held_lab_is_removed_on(nix::sys::signal::Signal::SIGINT);
}

#[test]
fn held_lab_is_removed_on_sigterm() {
    held_lab_is_removed_on(nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn stale_labs_of_killed_processes_are_collected() {
    require_lab();
    let name = format!("stale-{}", std::process::id());
    let _down = Down(name.clone());
    let mut child = hold_lab(&name, 1);
    // SIGKILL cannot be caught: the lab stays, owned by a dead process.
    child.kill().unwrap();
    child.wait().unwrap();
    let list = xdpdbg().args(["lab", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with(&name) && l.contains("dead")),
        "{text}"
    );
    let down = xdpdbg().args(["lab", "down", "--stale"]).output().unwrap();
    assert!(down.status.success());
    assert_no_lab(&name);
}

#[test]
fn doctor_reports_json_and_exit_status() {
    let out = xdpdbg().args(["doctor", "--json"]).output().unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = checks.as_array().unwrap();
    assert!(checks.iter().any(|c| c["name"] == "CAP_BPF"));
    let failed = checks.iter().any(|c| c["status"] == "fail");
    assert_eq!(out.status.code(), Some(if failed { 1 } else { 0 }));
}

#[test]
fn color_only_on_request_and_never_with_no_color() {
    let run = |envs: &[(&str, &str)]| {
        let mut cmd = xdpdbg();
        cmd.arg("doctor")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("NO_COLOR");
        cmd.envs(envs.iter().copied());
        cmd.output().unwrap().stdout.contains(&0x1b)
    };
    assert!(!run(&[]), "escape codes in piped output");
    assert!(
        run(&[("CLICOLOR_FORCE", "1")]),
        "forcing color has no effect"
    );
    assert!(
        !run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
        "NO_COLOR ignored"
    );
}

#[test]
fn help_has_examples() {
    for args in [
        &["--help"][..],
        &["lab", "exec", "--help"],
        &["lab", "up", "--help"],
    ] {
        let out = xdpdbg().args(args).output().unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Examples:"),
            "{args:?}"
        );
    }
}
