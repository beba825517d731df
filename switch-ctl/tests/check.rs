//! `switch-ctl check` on this machine.

#[test]
fn check_passes_and_reports_the_verifier_verdict() {
    assert!(
        nix_is_root(),
        "switch-ctl check loads a program and may mount bpffs: run the tests as root"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switch-ctl"))
        .args(["check", "--json"])
        .output()
        .unwrap();
    let lines: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dp = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["check"] == "data plane")
        .unwrap();
    assert_eq!(dp["ok"], true, "{dp}");
    assert!(
        dp["detail"]
            .as_str()
            .unwrap()
            .contains("instructions verified")
    );
    assert!(out.status.success(), "{lines:#}");
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}
