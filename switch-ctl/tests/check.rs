//! `switch-ctl check` on this machine.

#[test]
fn check_passes_and_reports_the_verifier_verdict() {
    testkit::privilege::require_root("switch-ctl check loads a program and may mount bpffs");
    let out =
        testkit::binary::Binary::new(env!("CARGO_BIN_EXE_switch-ctl")).run(&["check", "--json"]);
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
