//! `status`, `stop` and restart-adoption find the daemon's maps however the daemon and the CLI
//! were started.
//!
//! Each test starts the daemon one way, then, from the test's own mount namespace (the host's)
//! and from a fresh `ip netns exec` (a private mount namespace with its own /sys): status shows
//! live counters of the fast path carrying pings and the FDB size; the recorded map ids open
//! from anywhere (what `xdpdbg map ID` does); after `kill -9` the fast path keeps forwarding and
//! status still reads it; a daemon restarted the same way adopts the maps (counters continue);
//! after another `kill -9`, `switch-ctl stop` from the host removes every attachment.

mod common;

use common::{Daemon, SWITCH_CTL, addr, attachments};
use netlab::Lab;
use switch_ctl::status::{MapsAccess, Status};

/// `switch-ctl status --json` run through `ip netns exec` in the switch namespace: a private
/// mount namespace with a fresh /sys, like an operator's shell there.
fn status_via_ip_netns_exec(lab: &Lab) -> Status {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", lab.switch_netns(), SWITCH_CTL])
        .args(["status", "--json"])
        .output()
        .expect("ip netns exec runs");
    assert!(
        out.status.success(),
        "`ip netns exec NS switch-ctl status` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status prints JSON")
}

/// The fast-path packets of port p1 in `status`; panics if status has no counters.
fn fast_p1(status: &Status) -> u64 {
    let p1 = common::port(status, "p1").expect("p1 in the status");
    p1.counters
        .as_ref()
        .unwrap_or_else(|| panic!("status shows no counters for p1: {status:#?}"))
        .fast_packets
}

fn assert_found(status: &Status, how: &str) {
    assert!(
        matches!(status.maps, MapsAccess::Pins | MapsAccess::Ids),
        "status {how} did not find the maps: {:?}",
        status.maps
    );
    assert!(
        status.bridges[0].fdb_entries >= 2,
        "status {how} shows {} FDB entries",
        status.bridges[0].fdb_entries
    );
}

/// The whole round for a daemon started through the launcher `launcher` makes for the lab's
/// switch namespace.
/// `host` is how status run from the host's mount namespace should reach the maps.
fn maps_are_found_with(launcher: impl Fn(&str) -> Vec<String>, host_access: MapsAccess) {
    let lab = common::lab(3);
    let launcher = launcher(lab.switch_netns());
    let launcher: Vec<&str> = launcher.iter().map(String::as_str).collect();
    let mut daemon = Daemon::start_via(&lab, &launcher, &[]);
    daemon.wait_fast("h1", &addr(&lab, "h2"), "p1");

    // Status from the host's mount namespace and from another `ip netns exec`.
    let host = daemon.status();
    assert_found(&host, "from the host");
    assert_eq!(host.maps, host_access, "how status found the maps");
    let fast = fast_p1(&host);
    assert!(fast > 0, "the fast path carried the pings");
    let private = status_via_ip_netns_exec(&lab);
    assert_found(&private, "through ip netns exec");
    assert!(fast_p1(&private) >= fast);

    // The recorded ids open from any mount namespace (`xdpdbg map ID` opens them so).
    let ids = &host.daemon.map_ids;
    for name in switch_ctl::pinned_maps::NAMES {
        let id = ids
            .get(name)
            .unwrap_or_else(|| panic!("no id recorded for {name}: {ids:?}"));
        let map = bpf_maps::open(&format!("id:{id}")).expect("the map opens by id");
        assert_eq!(map.info.name, name);
    }

    // kill -9: the fast path keeps forwarding, and status still reads it.
    daemon.kill9();
    let stats = common::ping(&lab, "h1", &addr(&lab, "h2"), 3);
    assert_eq!(stats.received, 3);
    let after_kill = daemon.status();
    assert!(!after_kill.daemon.running);
    assert!(
        fast_p1(&after_kill) > fast,
        "after kill -9 status shows the fast path still forwarding"
    );

    // Restarted the same way, the daemon adopts the maps: the counters continue.
    let before_restart = fast_p1(&after_kill);
    daemon.restart();
    let ports = ["p1", "p2", "p3"];
    daemon.wait_attached(&ports);
    let adopted = daemon.status();
    // (The devmap is used by XDP programs only: with every port in TC mode it died with the
    // first daemon and its pins.)
    for name in ["fdb", "ports", "counters"] {
        assert_eq!(
            adopted.daemon.map_ids.get(name),
            host.daemon.map_ids.get(name),
            "the restarted daemon uses the same {name} map"
        );
    }
    assert!(
        fast_p1(&adopted) >= before_restart,
        "the counters were reset"
    );
    daemon.wait_fast("h1", &addr(&lab, "h2"), "p1");

    // Killed again, `switch-ctl stop` from the host removes what it left.
    daemon.kill9();
    let stop = common::switch_ctl(&["stop", "--netns", lab.switch_netns()]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    for port in ports {
        assert_eq!(
            attachments(&lab, port),
            "",
            "switch-ctl stop left a fast path on {port}: {}",
            String::from_utf8_lossy(&stop.stdout)
        );
    }
}

#[test]
fn started_with_ip_netns_exec() {
    // The daemon's bpffs is in its private mount namespace: status opens the maps by id.
    maps_are_found_with(
        |ns| vec!["ip".into(), "netns".into(), "exec".into(), ns.into()],
        MapsAccess::Ids,
    );
}

#[test]
fn started_with_nsenter() {
    maps_are_found_with(
        |ns| vec!["nsenter".into(), format!("--net=/run/netns/{ns}")],
        MapsAccess::Pins,
    );
}

#[test]
fn started_in_a_private_mount_namespace_with_its_own_bpffs() {
    // What a service manager with private mounts may give: a mount namespace of its own with a
    // bpffs no other process sees.
    maps_are_found_with(
        |ns| {
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                "mount -t bpf bpf /sys/fs/bpf && exec nsenter --net=/run/netns/\"$0\" \"$@\"",
                ns,
            ]
            .map(String::from)
            .to_vec()
        },
        MapsAccess::Ids,
    );
}
