//! Lab 8: accelerate a bridge with switch-ctl and watch the fast path. `lab start 8` builds
//! three hosts around br0 with bridge netfilter on (as a new namespace has it), so the daemon
//! first refuses and says why. The check asks `switch-ctl status --json`, then sends real pings
//! across the bridge and verifies the fast path's counters moved.

use std::process::Command;

use anyhow::Context as _;

use crate::catalogue::Lab;
use crate::lab_env;
use crate::report::{CheckReport, Findings, Problem};

const BRIDGE: &str = "br0";
const PINGS: u32 = 5;

/// Sets lab 8 up: three hosts around br0, bridge netfilter on.
pub fn start(lab: &Lab) -> anyhow::Result<String> {
    let net = lab_env::build(lab.number, 3, Some(true))?;
    net.detach()?;
    Ok(format!(
        "bridge {BRIDGE} runs in namespace {} with hosts h1, h2, h3; it is not accelerated yet",
        lab_env::netns(lab.number, "sw")
    ))
}

/// `switch-ctl status --json` for the lab's switch namespace; `None` when no daemon serves it.
fn status(number: u8) -> anyhow::Result<Option<serde_json::Value>> {
    let out = Command::new(lab_env::tool("switch-ctl"))
        .args(["status", "--json", "--netns", &lab_env::netns(number, "sw")])
        .output()
        .context(
            "running switch-ctl (build it with `cargo build -p switch-ctl`, or put it on the PATH)",
        )?;
    match out.status.code() {
        Some(0) => Ok(Some(
            serde_json::from_slice(&out.stdout).context("switch-ctl status --json")?,
        )),
        Some(3) => Ok(None),
        _ => anyhow::bail!(
            "switch-ctl status failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}

fn fast_packets(bridge: &serde_json::Value) -> u64 {
    bridge["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["counters"]["fast_packets"].as_u64())
        .sum()
}

fn bridge(status: &serde_json::Value) -> Option<&serde_json::Value> {
    status["bridges"]
        .as_array()?
        .iter()
        .find(|b| b["name"] == BRIDGE)
}

/// Checks lab 8 with real pings.
pub fn check(lab: &Lab) -> anyhow::Result<CheckReport> {
    let net = lab_env::require(lab.number)?;
    let sw = lab_env::netns(lab.number, "sw");
    let mut findings = Findings::default();
    let Some(before) = status(lab.number)? else {
        findings.fail(
            Problem::new(format!(
                "no switch daemon serves the lab's namespace {sw} yet"
            ))
            .hint(format!(
                "start it (and leave it running): switch-ctl run --netns {sw} --bridge {BRIDGE} &"
            )),
        );
        return Ok(findings.into_report(lab));
    };
    findings.pass(format!("a switch daemon serves {sw}"));
    let Some(br) = bridge(&before).filter(|b| b["accelerated"] == true) else {
        let reason = bridge(&before)
            .and_then(|b| b["reason"].as_str())
            .unwrap_or("the daemon does not follow br0 (was --bridge br0 given?)")
            .to_string();
        findings.fail(
            Problem::new(format!("{BRIDGE} is not accelerated: {reason}"))
                .hint(format!("`switch-ctl status --netns {sw}` says why; for bridge netfilter, turn the bridge-nf-call-* sysctls off in {sw} (ip netns exec {sw} sysctl -w net.bridge.bridge-nf-call-iptables=0 ...)")),
        );
        return Ok(findings.into_report(lab));
    };
    findings.pass(format!("{BRIDGE} is accelerated"));
    let count_before = fast_packets(br);
    let ping = net.ping("h1", "h2", PINGS)?;
    if ping.received == 0 {
        findings.fail(Problem::new(
            "h1 cannot ping h2 across the bridge (0 replies)",
        ));
        return Ok(findings.into_report(lab));
    }
    let after = status(lab.number)?.context("the switch daemon stopped during the check")?;
    let moved = bridge(&after)
        .map(fast_packets)
        .unwrap_or(0)
        .saturating_sub(count_before);
    if moved > 0 {
        findings.pass(format!(
            "{PINGS} pings from h1 to h2: the fast path forwarded {moved} packets (its counters moved from {count_before})"
        ));
    } else {
        findings.fail(
            Problem::new(format!(
                "{PINGS} pings crossed the bridge but the fast path's counters did not move: the slow path forwarded them"
            ))
            .hint(format!("look at the ports' modes in `switch-ctl status --netns {sw}`: a port in mode off is not accelerated")),
        );
    }
    Ok(findings.into_report(lab))
}

/// Stops the lab's switch daemon, if one runs.
pub fn stop_daemon(number: u8) -> anyhow::Result<bool> {
    if status(number).unwrap_or(None).is_none() {
        return Ok(false);
    }
    let out = Command::new(lab_env::tool("switch-ctl"))
        .args(["stop", "--netns", &lab_env::netns(number, "sw")])
        .output()
        .context("running switch-ctl stop")?;
    anyhow::ensure!(
        out.status.success(),
        "switch-ctl stop failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(true)
}
