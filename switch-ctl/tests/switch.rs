//! The concealed switch in real labs: each test builds a lab (hosts h1, h2, ... in their own
//! namespaces, wired to ports p1, p2, ... of br0 in the switch namespace), runs `switch-ctl run`
//! there, changes the bridge with the ordinary tools, and checks what really happens to
//! traffic: pings and iperf3 across the bridge, the fast path's per-port counters before and
//! after, interface counters at the receivers, and what stays attached to the ports.
//!
//! Needs root. Labs and daemons are removed however a test ends (see `common`).

mod common;

use std::collections::BTreeSet;

use common::*;
use netlab::{LabSpec, SWITCH_NODE};
use switch_ctl::mode::Mode;
use switch_ebpf::types::fdb_flags;

/// A MAC address no host uses, and an address of the lab's subnet that h1 maps to it.
const GHOST_MAC: &str = "02:1a:b0:00:00:99";
const GHOST_IP: &str = "198.18.0.99";

/// Makes h1 send its frames for [`GHOST_IP`] to [`GHOST_MAC`].
/// Adds GHOST_MAC as a static entry on `port` and waits until the fast path's FDB holds it
/// there, flagged static.
fn add_static_ghost(d: &Daemon, lab: &netlab::Lab, port_name: &str) {
    sw(
        lab,
        &[
            "bridge", "fdb", "add", GHOST_MAC, "dev", port_name, "master", "static",
        ],
    );
    let ifindex = port(&d.status(), port_name).unwrap().ifindex;
    wait_until(
        "the static entry is in the fast path's FDB",
        WAIT,
        || d.fdb_entry(GHOST_MAC) == Some((ifindex, fdb_flags::STATIC)),
        || {
            format!(
                "entry: {:?}\ndaemon log:\n{}",
                d.fdb_entry(GHOST_MAC),
                d.log()
            )
        },
    );
}

fn h1_knows_the_ghost(lab: &netlab::Lab) {
    run(
        lab,
        "h1",
        &[
            "ip",
            "neigh",
            "replace",
            GHOST_IP,
            "lladdr",
            GHOST_MAC,
            "dev",
            "eth0",
            "nud",
            "permanent",
        ],
    );
}

/// Pings 5 times from `from` to host `to` and checks that every echo request took the
/// fast path of `in_port` and every reply the fast path of `back_port`.
fn assert_fast_both_ways(
    daemon: &mut Daemon<'_>,
    lab: &netlab::Lab,
    from: &str,
    to: &str,
    in_port: &str,
    back_port: &str,
) {
    let target = addr(lab, to);
    daemon.wait_fast(from, &target, in_port);
    let (a, b) = (daemon.counters(in_port), daemon.counters(back_port));
    let stats = ping(lab, from, &target, 5);
    assert_eq!(stats.received, 5, "ping {from} -> {to}: {stats:?}");
    let (a2, b2) = (daemon.counters(in_port), daemon.counters(back_port));
    assert!(
        a2.fast_packets >= a.fast_packets + 5,
        "the echo requests {from} -> {to} did not all take {in_port}'s fast path: {a:?} -> {a2:?}"
    );
    assert!(
        b2.fast_packets >= b.fast_packets + 5,
        "the echo replies {to} -> {from} did not all take {back_port}'s fast path: {b:?} -> {b2:?}"
    );
}

/// How many echo requests the "not in the fast path" checks send.
const MANY: u64 = 100;

/// Sends [`MANY`] echo requests from `from` to `target` at once, and checks that the fast
/// path of `in_port` passed every one to the bridge for `reason` and forwarded none of them (it
/// may forward a few frames of the lab's own background unicast meanwhile, such as ARP probes
/// and their answers, hence the slack). Returns the ping statistics.
fn assert_passed_to_bridge(
    daemon: &Daemon<'_>,
    lab: &netlab::Lab,
    from: &str,
    target: &str,
    in_port: &str,
    reason: &str,
) -> netlab::PingStats {
    let c = daemon.counters(in_port);
    let stats = ping_many(lab, from, target, MANY as u32);
    let c2 = daemon.counters(in_port);
    assert!(
        passed(&c2, reason) >= passed(&c, reason) + MANY,
        "{in_port} did not pass the {MANY} frames {from} -> {target} to the bridge as \
         `{reason}`: {c:?} -> {c2:?}"
    );
    let fast = c2.fast_packets - c.fast_packets;
    assert!(
        fast < MANY / 10,
        "{in_port}'s fast path forwarded {fast} frames while {from} sent {MANY} to {target} that \
         it must leave to the bridge: {c:?} -> {c2:?}"
    );
    stats
}

#[test]
fn run_without_privileges_fails_with_a_clear_message() {
    testkit::privilege::require_root(NEEDS_ROOT);
    require_tool("setpriv", "util-linux");
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_switch-ctl"))
        .args(["run", "--bridge", "br0"])
        .output()
        .expect("setpriv runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("run it as root") && stderr.contains("CAP_BPF"),
        "{stderr}"
    );
}

#[test]
fn status_without_a_daemon_exits_3_with_a_message() {
    let lab = lab(1);
    let ns = lab.switch_netns();
    let out = switch_ctl(&["status", "--netns", ns]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        stdout.contains("no switch-ctl daemon") && stdout.contains("switch-ctl run"),
        "{stdout}"
    );
    let out = switch_ctl(&["status", "--netns", ns, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(json["daemon"].is_null(), "{json}");
    // stop without a daemon is not an error
    let out = switch_ctl(&["stop", "--netns", ns]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no switch-ctl daemon"));
    // a namespace that does not exist is a clear error
    let out = switch_ctl(&["status", "--netns", "xl-no-such-namespace"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no network namespace"),
        "{out:?}"
    );
}

#[test]
fn auto_mode_fast_paths_ping_tcp_and_udp_without_checksum_errors() {
    let lab = lab(2);
    let mut d = Daemon::start(&lab, &[]);
    let status = d.status();
    assert!(status.daemon.running);
    let bridge = &status.bridges[0];
    assert!(bridge.accelerated, "{bridge:#?}");
    for p in &bridge.ports {
        assert_eq!(
            p.mode,
            Some(Mode::Tc),
            "auto must pick tc on a veth: {p:#?}"
        );
    }
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");

    let h2 = addr(&lab, "h2");
    let csum = |node| {
        let s = snmp(&lab, node);
        ["Tcp.InCsumErrors", "Udp.InCsumErrors", "Tcp.InErrs"].map(|k| {
            *s.get(k)
                .unwrap_or_else(|| panic!("no {k} in {node}'s /proc/net/snmp"))
        })
    };
    let csum_before = (csum("h1"), csum("h2"));

    // TCP, with the hosts' default offloads (TSO, checksum offload): GSO frames of partial
    // checksums cross the TC fast path.
    let tx_before = link_stats(&lab, "h1", "eth0").tx_packets;
    let fast_before = d.counters("p1").fast_packets;
    let report = {
        let _server = iperf3_server(&lab, "h2");
        iperf3(&lab, "h1", &h2, &["-t", "2"])
    };
    let received = report["end"]["sum_received"]["bytes"].as_u64().unwrap();
    assert!(
        received > 50 << 20,
        "TCP moved only {received} bytes in 2 s"
    );
    let sent_frames = link_stats(&lab, "h1", "eth0").tx_packets - tx_before;
    let fast = d.counters("p1").fast_packets - fast_before;
    assert!(
        fast * 10 >= sent_frames * 9,
        "the fast path carried only {fast} of the {sent_frames} frames h1 sent during iperf3 TCP"
    );
    assert_eq!(
        (csum("h1"), csum("h2")),
        csum_before,
        "checksum errors ([TcpInCsumErrors, UdpInCsumErrors, TcpInErrs] of h1, h2) after TCP"
    );

    // UDP.
    let udp_before = snmp(&lab, "h2");
    let fast_before = d.counters("p1").fast_packets;
    let report = {
        let _server = iperf3_server(&lab, "h2");
        iperf3(
            &lab,
            "h1",
            &h2,
            &["-u", "-b", "200M", "-l", "1400", "-t", "1"],
        )
    };
    let datagrams = report["end"]["sum"]["packets"]
        .as_u64()
        .unwrap_or_else(|| panic!("no datagram count in {report:#}"));
    assert!(datagrams > 1000, "iperf3 sent only {datagrams} datagrams");
    let udp_after = snmp(&lab, "h2");
    let delta = |k: &str| udp_after[k] - udp_before[k];
    // Datagrams that reached the socket layer passed the checksum check; a full receive
    // buffer (RcvbufErrors) is no checksum problem.
    let good = delta("Udp.InDatagrams") + delta("Udp.RcvbufErrors");
    assert!(
        good * 10 >= datagrams * 9,
        "h2 took only {good} of {datagrams} datagrams (InCsumErrors +{}, InErrors +{})",
        delta("Udp.InCsumErrors"),
        delta("Udp.InErrors")
    );
    let fast = d.counters("p1").fast_packets - fast_before;
    assert!(
        fast * 10 >= datagrams * 9,
        "the fast path carried only {fast} of the {datagrams} datagrams"
    );
    assert_eq!(
        (csum("h1"), csum("h2")),
        csum_before,
        "checksum errors ([TcpInCsumErrors, UdpInCsumErrors, TcpInErrs] of h1, h2) after UDP"
    );
}

/// Sets (Some) or clears (None) the master of link `port` with rtnetlink, from the switch
/// namespace.
fn set_controller(lab: &netlab::Lab, port: u32, controller: Option<u32>) {
    use rtnetlink::LinkUnspec;
    let result = lab
        .run_in(SWITCH_NODE, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(async {
                let (connection, handle, _) = rtnetlink::new_connection()?;
                tokio::spawn(connection);
                let message = match controller {
                    Some(bridge) => LinkUnspec::new_with_index(port).controller(bridge),
                    None => LinkUnspec::new_with_index(port).nocontroller(),
                };
                handle
                    .link()
                    .set(message.build())
                    .execute()
                    .await
                    .map_err(std::io::Error::other)
            })
        })
        .expect("the switch namespace can be entered");
    result.unwrap_or_else(|e| panic!("rtnetlink: setting the master of {port}: {e}"));
}

/// After `how` removed p3 from the bridge: the status drops it within [`WAIT`]. (Whether the
/// fast path leaves the port too: `a_port_that_leaves_the_bridge_keeps_no_fast_path`.)
fn expect_p3_gone(d: &mut Daemon<'_>, how: &str) {
    let (_, took) = d.wait_for(&format!("p3 gone from the status after `{how}`"), |s| {
        port(s, "p3").is_none()
    });
    eprintln!("`{how}`: p3 left the status in {took:?}");
}

/// After `how` added p3 to the bridge: the status shows it attached within [`WAIT`] and
/// traffic through it takes the fast path both ways.
fn expect_p3_back(d: &mut Daemon<'_>, lab: &netlab::Lab, how: &str) {
    let (_, took) = d.wait_for(&format!("p3 attached after `{how}`"), |s| attached(s, "p3"));
    eprintln!("`{how}`: p3 attached in {took:?}");
    assert_fast_both_ways(d, lab, "h1", "h3", "p1", "p3");
}

#[test]
fn ports_added_and_removed_with_ip_brctl_and_rtnetlink_are_followed() {
    let lab = lab(3);
    let mut d = Daemon::start(&lab, &[]);
    assert_fast_both_ways(&mut d, &lab, "h1", "h3", "p1", "p3");

    sw(&lab, &["ip", "link", "set", "dev", "p3", "nomaster"]);
    expect_p3_gone(&mut d, "ip link set dev p3 nomaster");
    assert_eq!(ping_many(&lab, "h1", &addr(&lab, "h3"), 5).received, 0);
    sw(&lab, &["ip", "link", "set", "dev", "p3", "master", "br0"]);
    expect_p3_back(&mut d, &lab, "ip link set dev p3 master br0");

    require_tool("brctl", "bridge-utils");
    sw(&lab, &["brctl", "delif", "br0", "p3"]);
    expect_p3_gone(&mut d, "brctl delif br0 p3");
    sw(&lab, &["brctl", "addif", "br0", "p3"]);
    expect_p3_back(&mut d, &lab, "brctl addif br0 p3");

    let status = d.status();
    let bridge = status.bridges[0].ifindex;
    let p3 = port(&status, "p3").unwrap().ifindex;
    set_controller(&lab, p3, None);
    expect_p3_gone(&mut d, "rtnetlink: p3 without controller");
    set_controller(&lab, p3, Some(bridge));
    expect_p3_back(&mut d, &lab, "rtnetlink: p3 controller br0");

    // A port deleted, and a new one (a new ifindex) in its place.
    sw(&lab, &["ip", "link", "del", "dev", "p3"]);
    expect_p3_gone(&mut d, "ip link del dev p3");
    let h3 = lab.host("h3").unwrap();
    sw(
        &lab,
        &[
            "ip", "link", "add", "p3", "type", "veth", "peer", "name", "eth0", "netns", &h3.netns,
        ],
    );
    run(
        &lab,
        "h3",
        &["ip", "link", "set", "eth0", "address", &h3.mac, "up"],
    );
    let v4 = format!("{}/24", h3.ipv4);
    run(&lab, "h3", &["ip", "addr", "add", &v4, "dev", "eth0"]);
    sw(
        &lab,
        &["ip", "link", "set", "dev", "p3", "master", "br0", "up"],
    );
    expect_p3_back(&mut d, &lab, "ip link add p3 (new veth) master br0");
    let new_p3 = port(&d.status(), "p3").unwrap().ifindex;
    assert_ne!(new_p3, p3, "the new p3 should have a new ifindex");
}

#[test]
fn a_port_that_leaves_the_bridge_keeps_no_fast_path() {
    let lab = lab(2);
    let mut d = Daemon::start(&lab, &[]);
    sw(&lab, &["ip", "link", "set", "dev", "p2", "nomaster"]);
    d.wait_for("p2 gone from the status", |s| port(s, "p2").is_none());
    wait_until(
        "the fast path leaves p2",
        WAIT,
        || attachments(&lab, "p2").is_empty(),
        || {
            format!(
                "on p2:\n{}\ndaemon log:\n{}",
                attachments(&lab, "p2"),
                d.log()
            )
        },
    );
    let exit = d.terminate();
    assert!(exit.success(), "{exit}");
    assert_eq!(all_attachments(&lab), "", "left after the daemon stopped");
}

#[test]
fn a_static_fdb_entry_is_fast_pathed() {
    let lab = lab(3);
    let mut d = Daemon::start(&lab, &[]);
    // h1's address is learned on p1 and mirrored (the fast path checks sources).
    d.wait_fast("h1", &addr(&lab, "h2"), "p1");
    h1_knows_the_ghost(&lab);

    // Unknown: the bridge floods frames to the ghost to h2 and h3.
    let (r2, r3) = (
        link_stats(&lab, "h2", "eth0"),
        link_stats(&lab, "h3", "eth0"),
    );
    assert_passed_to_bridge(&d, &lab, "h1", GHOST_IP, "p1", "fdb_miss");
    assert!(link_stats(&lab, "h2", "eth0").rx_packets >= r2.rx_packets + MANY);
    assert!(link_stats(&lab, "h3", "eth0").rx_packets >= r3.rx_packets + MANY);

    // Static on p2: in the fast path, and frames to it go to h2 only.
    let entries = d.status().bridges[0].fdb_entries;
    add_static_ghost(&d, &lab, "p2");
    let now = d.status().bridges[0].fdb_entries;
    assert!(now > entries, "fdb_entries {entries} -> {now}");
    let (c, r2, r3) = (
        d.counters("p1"),
        link_stats(&lab, "h2", "eth0"),
        link_stats(&lab, "h3", "eth0"),
    );
    assert_eq!(ping_many(&lab, "h1", GHOST_IP, MANY as u32).received, 0);
    let c2 = d.counters("p1");
    assert!(
        c2.fast_packets >= c.fast_packets + MANY
            && passed(&c2, "fdb_miss") == passed(&c, "fdb_miss"),
        "frames to a static entry must take the fast path: {c:?} -> {c2:?}"
    );
    let (got2, got3) = (
        link_stats(&lab, "h2", "eth0").rx_packets - r2.rx_packets,
        link_stats(&lab, "h3", "eth0").rx_packets - r3.rx_packets,
    );
    assert!(got2 >= MANY, "h2 received {got2} of the {MANY} frames");
    // h3 sees only the lab's background multicast, not the frames.
    assert!(
        got3 < MANY / 2,
        "h3 received {got3} frames: the ghost's frames were flooded"
    );

    // Deleted: gone from the fast path, flooded again.
    sw(
        &lab,
        &[
            "bridge", "fdb", "del", GHOST_MAC, "dev", "p2", "master", "static",
        ],
    );
    wait_until(
        "the static entry leaves the fast path's FDB",
        WAIT,
        || d.fdb_entry(GHOST_MAC).is_none(),
        || format!("entry: {:?}", d.fdb_entry(GHOST_MAC)),
    );
    assert_passed_to_bridge(&d, &lab, "h1", GHOST_IP, "p1", "fdb_miss");
}

#[test]
fn traffic_follows_a_mac_that_moves_to_another_port() {
    let lab = lab(3);
    let mut d = Daemon::start(&lab, &[]);
    let h2_ip = addr(&lab, "h2");
    let h2_mac = mac(&lab, "h2");
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");
    let p3 = port(&d.status(), "p3").unwrap().ifindex;

    // h2 goes away; h3 takes over its MAC and its address (as a migrated VM would).
    run(&lab, "h2", &["ip", "link", "set", "eth0", "down"]);
    run(&lab, "h3", &["ip", "link", "set", "eth0", "down"]);
    run(
        &lab,
        "h3",
        &["ip", "link", "set", "eth0", "address", &h2_mac, "up"],
    );
    run(&lab, "h3", &["ip", "addr", "flush", "dev", "eth0"]);
    run(
        &lab,
        "h3",
        &["ip", "addr", "add", &format!("{h2_ip}/24"), "dev", "eth0"],
    );
    d.wait_for("p3 up again", |s| has_flag(s, "p3", "up"));

    // h1 still sends to h2's MAC: the frames must now leave through p3.
    d.wait_fast("h1", &h2_ip, "p1");
    let entry = d.fdb_entry(&h2_mac);
    assert_eq!(
        entry.map(|e| e.0),
        Some(p3),
        "h2's MAC should live behind p3 now"
    );
    let (c1, c2, c3) = (d.counters("p1"), d.counters("p2"), d.counters("p3"));
    let stats = ping(&lab, "h1", &h2_ip, 5);
    assert_eq!(stats.received, 5, "{stats:?}");
    let (n1, n2, n3) = (d.counters("p1"), d.counters("p2"), d.counters("p3"));
    assert!(n1.fast_packets >= c1.fast_packets + 5, "{c1:?} -> {n1:?}");
    assert!(
        n3.fast_packets >= c3.fast_packets + 5,
        "the replies come from p3 now: {c3:?} -> {n3:?}"
    );
    assert_eq!(n2.fast_packets, c2.fast_packets, "p2 is down");
}

/// Puts p2 in STP state `state` with `set` and checks that the fast path stops forwarding to
/// it at once, then brings it back to forwarding.
fn stop_forwarding_to_p2(d: &mut Daemon<'_>, lab: &netlab::Lab, state: &str, set: &[&str]) {
    let h2 = addr(lab, "h2");
    sw(lab, set);
    let (_, took) = d.wait_for(
        &format!("p2 not forwarding after `{}`", set.join(" ")),
        |s| port(s, "p2").is_some() && !has_flag(s, "p2", "forwarding"),
    );
    eprintln!("p2 {state}: the fast path knew in {took:?}");
    let stats = assert_passed_to_bridge(d, lab, "h1", &h2, "p1", "egress_state");
    assert_eq!(
        stats.received, 0,
        "a port in state {state} forwards nothing"
    );
    sw(
        lab,
        &[
            "ip",
            "link",
            "set",
            "p2",
            "type",
            "bridge_slave",
            "state",
            "3",
        ],
    );
    d.wait_for("p2 forwarding again", |s| has_flag(s, "p2", "forwarding"));
    assert_fast_both_ways(d, lab, "h1", "h2", "p1", "p2");
}

/// Without STP (labs have stp_state 0, and STP in a network namespace other than the first is
/// the kernel's), the bridge turns a port set to blocking (4) straight back to forwarding; the
/// states that stick are learning (2), listening (1) and disabled (0).
#[test]
fn a_port_that_stops_forwarding_stops_the_fast_path_at_once() {
    let lab = lab(2);
    let mut d = Daemon::start(&lab, &[]);
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");
    stop_forwarding_to_p2(
        &mut d,
        &lab,
        "learning",
        &[
            "ip",
            "link",
            "set",
            "p2",
            "type",
            "bridge_slave",
            "state",
            "2",
        ],
    );
    stop_forwarding_to_p2(
        &mut d,
        &lab,
        "disabled",
        &["bridge", "link", "set", "dev", "p2", "state", "0"],
    );
}

#[test]
fn isolated_ports_do_not_talk_to_each_other() {
    let lab = lab(3);
    let mut d = Daemon::start(&lab, &[]);
    let (h2, h3) = (addr(&lab, "h2"), addr(&lab, "h3"));
    d.wait_fast("h1", &h2, "p1");
    d.wait_fast("h1", &h3, "p1");

    sw(
        &lab,
        &["bridge", "link", "set", "dev", "p1", "isolated", "on"],
    );
    sw(
        &lab,
        &["bridge", "link", "set", "dev", "p2", "isolated", "on"],
    );
    d.wait_for("p1 and p2 isolated", |s| {
        has_flag(s, "p1", "isolated") && has_flag(s, "p2", "isolated")
    });
    let stats = assert_passed_to_bridge(&d, &lab, "h1", &h2, "p1", "isolated");
    assert_eq!(stats.received, 0, "h1 <-> h2 are isolated");
    // h3's port is not isolated: h1 <-> h3 works, in the fast path.
    assert_fast_both_ways(&mut d, &lab, "h1", "h3", "p1", "p3");

    sw(
        &lab,
        &["bridge", "link", "set", "dev", "p2", "isolated", "off"],
    );
    d.wait_for("p2 not isolated", |s| {
        port(s, "p2").is_some() && !has_flag(s, "p2", "isolated")
    });
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");
}

#[test]
fn hairpin_sends_frames_back_through_their_port() {
    let lab = lab(2);
    let mut d = Daemon::start(&lab, &[]);
    d.wait_fast("h1", &addr(&lab, "h2"), "p1");
    // A MAC behind p1 itself: frames from h1 to it would have to leave by p1.
    add_static_ghost(&d, &lab, "p1");
    h1_knows_the_ghost(&lab);

    // h1 sees only the lab's background multicast, not its frames.
    let rx = link_stats(&lab, "h1", "eth0").rx_packets;
    assert_passed_to_bridge(&d, &lab, "h1", GHOST_IP, "p1", "same_port");
    let rx2 = link_stats(&lab, "h1", "eth0").rx_packets;
    assert!(
        rx2 - rx < MANY / 2,
        "without hairpin no frame goes back to h1 ({} came)",
        rx2 - rx
    );

    sw(
        &lab,
        &["bridge", "link", "set", "dev", "p1", "hairpin", "on"],
    );
    d.wait_for("p1 hairpin", |s| has_flag(s, "p1", "hairpin"));
    let (c, rx) = (d.counters("p1"), link_stats(&lab, "h1", "eth0").rx_packets);
    ping_many(&lab, "h1", GHOST_IP, MANY as u32);
    let (c2, rx2) = (d.counters("p1"), link_stats(&lab, "h1", "eth0").rx_packets);
    assert!(
        c2.fast_packets >= c.fast_packets + MANY,
        "with hairpin the fast path sends the frames back: {c:?} -> {c2:?}"
    );
    assert!(
        rx2 - rx >= MANY,
        "h1 got only {} of its {MANY} frames back",
        rx2 - rx
    );
}

#[test]
fn a_locked_port_leaves_its_frames_to_the_bridge() {
    let lab = lab(2);
    let mut d = Daemon::start(&lab, &[]);
    let h2 = addr(&lab, "h2");
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");

    sw(
        &lab,
        &["bridge", "link", "set", "dev", "p1", "locked", "on"],
    );
    d.wait_for("p1 locked", |s| has_flag(s, "p1", "locked"));
    assert_passed_to_bridge(&d, &lab, "h1", &h2, "p1", "ingress_state");

    sw(
        &lab,
        &["bridge", "link", "set", "dev", "p1", "locked", "off"],
    );
    d.wait_for("p1 unlocked", |s| {
        port(s, "p1").is_some() && !has_flag(s, "p1", "locked")
    });
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");
}

/// Everything of the fast path on the lab's ports (XDP programs and TC filters), as text.
fn all_attachments(lab: &netlab::Lab) -> String {
    lab.hosts()
        .iter()
        .map(|h| attachments(lab, &h.port))
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until nothing of the switch is left: no attachment on the ports, no pins, no runtime
/// directory, and none of `programs` loaded.
fn expect_nothing_left(
    lab: &netlab::Lab,
    dirs: &(std::path::PathBuf, std::path::PathBuf),
    programs: &BTreeSet<u32>,
) {
    let (pin_dir, run_dir) = dirs;
    assert_eq!(all_attachments(lab), "", "attachments left on the ports");
    assert!(!pin_dir.exists(), "{} is left", pin_dir.display());
    assert!(!run_dir.exists(), "{} is left", run_dir.display());
    wait_until(
        "the switch's programs are unloaded",
        WAIT,
        || !programs.iter().any(|id| program_exists(*id)),
        || {
            let left: Vec<_> = programs.iter().filter(|id| program_exists(**id)).collect();
            format!("still loaded: {left:?}")
        },
    );
}

#[test]
fn a_daemon_killed_with_9_leaves_forwarding_working_and_is_adopted() {
    let lab = lab(3);
    let args = ["--mode", "p3=xdp-generic"];
    let mut d = Daemon::start(&lab, &args);
    assert_eq!(
        port(&d.status(), "p3").unwrap().mode,
        Some(Mode::XdpGeneric)
    );
    let h2 = addr(&lab, "h2");
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");
    let dirs = d.dirs();
    assert!(dirs.0.is_dir() && dirs.1.is_dir(), "{dirs:?}");
    let mut programs: BTreeSet<u32> = program_ids(&all_attachments(&lab)).into_iter().collect();
    assert!(programs.len() >= 2, "{}", all_attachments(&lab));

    // kill -9: the pinned fast path keeps forwarding, and status says the daemon is gone.
    d.kill9();
    let status = d.status();
    assert!(!status.daemon.running, "{:#?}", status.daemon);
    let c = d.counters("p1");
    assert_eq!(ping(&lab, "h1", &h2, 5).received, 5);
    let c2 = d.counters("p1");
    assert!(
        c2.fast_packets >= c.fast_packets + 5,
        "no fast path after kill -9: {c:?} -> {c2:?}"
    );

    // A new daemon adopts it: the counters continue.
    d.restart();
    let status = d.wait_attached(&["p1", "p2", "p3"]);
    assert_eq!(status.daemon.pid, d.pid());
    let c3 = d.counters("p1");
    assert!(
        c3.fast_packets >= c2.fast_packets,
        "the counters restarted: {c2:?} -> {c3:?}"
    );
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");
    programs.extend(program_ids(&all_attachments(&lab)));
    let attached_now = all_attachments(&lab);
    assert_eq!(
        attached_now
            .lines()
            .filter(|l| l.contains("switch_tc"))
            .count(),
        2,
        "one TC filter on p1 and one on p2, no leftover of the first daemon:\n{attached_now}"
    );
    assert_eq!(
        attached_now.matches("prog/xdp").count(),
        1,
        "{attached_now}"
    );

    // SIGTERM: nothing is left behind, and the bridge forwards alone.
    let exit = d.terminate();
    assert!(exit.success(), "the daemon exited with {exit} on SIGTERM");
    expect_nothing_left(&lab, &dirs, &programs);
    assert!(d.try_status().is_none(), "a status is left");
    assert_eq!(ping(&lab, "h1", &h2, 3).received, 3);

    // kill -9, then `switch-ctl stop` removes what the daemon left.
    d.restart();
    d.wait_attached(&["p1", "p2", "p3"]);
    let dirs = d.dirs();
    let programs: BTreeSet<u32> = program_ids(&all_attachments(&lab)).into_iter().collect();
    d.kill9();
    let out = switch_ctl(&["stop", "--netns", lab.switch_netns()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("removed the fast path"), "{stdout}");
    expect_nothing_left(&lab, &dirs, &programs);
    assert_eq!(ping(&lab, "h1", &h2, 3).received, 3);
}

#[test]
fn a_restarted_daemon_adopts_xdp_ports_without_detaching_them() {
    let lab = lab(2);
    let mut d = Daemon::start(&lab, &["--mode", "p2=xdp-generic"]);
    d.kill9();
    let before = d.log();
    d.restart();
    d.wait_attached(&["p1", "p2"]);
    // The flap, when it happens, comes within milliseconds of the adoption.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = d.log();
    let after = &log[before.len()..];
    assert!(
        !after.contains("detached"),
        "the restarted daemon detached an adopted port:\n{after}"
    );
}

#[test]
fn bridge_netfilter_is_refused_unless_allowed() {
    let lab = build(LabSpec::new(2).bridge_nf_call(true));
    let mut d = Daemon::spawn(&lab, &[]);
    let (status, _) = d.wait_for_within("br0 and its ports in the status", START, |s| {
        s.daemon.running && port(s, "p1").is_some() && port(s, "p2").is_some()
    });
    let bridge = &status.bridges[0];
    assert!(!bridge.accelerated, "{bridge:#?}");
    let reason = bridge.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("netfilter"), "{reason}");
    for p in &bridge.ports {
        assert_eq!(p.mode, None, "{p:#?}");
    }
    assert_eq!(all_attachments(&lab), "");
    let h2 = addr(&lab, "h2");
    assert_eq!(ping(&lab, "h1", &h2, 3).received, 3);

    // The sysctls are followed while the daemon runs.
    let set_nf = |value: &str| {
        lab.run_in(SWITCH_NODE, || {
            for family in ["iptables", "ip6tables", "arptables"] {
                let path = format!("/proc/sys/net/bridge/bridge-nf-call-{family}");
                std::fs::write(&path, value).unwrap_or_else(|e| panic!("{path}: {e}"));
            }
        })
        .unwrap();
    };
    set_nf("0");
    d.wait_for("br0 accelerated once bridge netfilter is off", |s| {
        s.bridges[0].accelerated && attached(s, "p1") && attached(s, "p2")
    });
    set_nf("1");
    d.wait_for(
        "br0 not accelerated once bridge netfilter is on again",
        |s| !s.bridges[0].accelerated && port(s, "p1").is_some_and(|p| p.mode.is_none()),
    );
    assert_eq!(
        all_attachments(&lab),
        "",
        "the fast path must leave the ports when bridge netfilter comes on"
    );

    // --allow-netfilter: accelerated anyway.
    let exit = d.terminate();
    assert!(exit.success(), "{exit}");
    d.restart_with(&["--allow-netfilter"]);
    let status = d.wait_attached(&["p1", "p2"]);
    assert!(status.daemon.allow_netfilter);
    assert!(status.bridges[0].accelerated, "{:#?}", status.bridges[0]);
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");
}

#[test]
fn a_port_with_someone_elses_xdp_program_is_left_alone() {
    let lab = lab(3);
    let fixture = fixtures::get("xdp_pass").expect("the xdp_pass fixture");
    let dir = tempfile::tempdir().unwrap();
    let object = dir.path().join("xdp_pass.o");
    std::fs::write(&object, fixture.object).unwrap();
    sw(
        &lab,
        &[
            "ip",
            "link",
            "set",
            "dev",
            "p3",
            "xdpgeneric",
            "obj",
            object.to_str().unwrap(),
            "sec",
            "xdp",
        ],
    );
    let foreign = program_ids(&attachments(&lab, "p3"));
    assert_eq!(foreign.len(), 1, "{}", attachments(&lab, "p3"));

    let mut d = Daemon::spawn(&lab, &[]);
    let status = d.wait_attached(&["p1", "p2"]);
    let p3 = port(&status, "p3").expect("p3 is listed");
    assert_eq!(p3.mode, None, "{p3:#?}");
    assert!(
        p3.reason.contains("another XDP program") && p3.reason.contains(&foreign[0].to_string()),
        "{p3:#?}"
    );
    assert_eq!(
        program_ids(&attachments(&lab, "p3")),
        foreign,
        "p3's program was touched:\n{}",
        attachments(&lab, "p3")
    );
    // Frames to p3 are left to the bridge, which delivers them.
    d.wait_fast("h1", &addr(&lab, "h2"), "p1");
    let h3 = addr(&lab, "h3");
    let stats = assert_passed_to_bridge(&d, &lab, "h1", &h3, "p1", "egress_state");
    assert_eq!(stats.received as u64, MANY, "{stats:?}");

    let exit = d.terminate();
    assert!(exit.success(), "{exit}");
    assert_eq!(
        program_ids(&attachments(&lab, "p3")),
        foreign,
        "stopping the daemon removed someone else's program"
    );
}

#[test]
fn ports_without_a_fast_path_are_not_reported_attached() {
    let lab = lab(2);
    let mut d = Daemon::spawn(&lab, &["--mode", "p2=off"]);
    let status = d.wait_attached(&["p1"]);
    let p2 = port(&status, "p2").expect("p2 is listed");
    assert_eq!(p2.mode, None, "{p2:#?}");
    assert_eq!(attachments(&lab, "p2"), "");
    assert!(
        !p2.attached,
        "p2 has no fast path but is reported attached: {p2:#?}"
    );
}

/// Turns GRO on for every host's interface: the bridge's ports can then take redirected XDP
/// frames (the peers run NAPI).
fn gro_on(lab: &netlab::Lab) {
    require_tool("ethtool", "ethtool");
    for h in lab.hosts() {
        run(lab, &h.name, &["ethtool", "-K", "eth0", "gro", "on"]);
    }
}

/// Waits until every port is attached in native XDP and can take redirected frames.
fn wait_xdp(d: &mut Daemon<'_>, ports: &[&str]) {
    d.wait_for_within("every port in native XDP with xdp-xmit", START, |s| {
        ports.iter().all(|p| {
            attached(s, p)
                && port(s, p).unwrap().mode == Some(Mode::Xdp)
                && has_flag(s, p, "xdp-xmit")
        })
    });
}

#[test]
fn xdp_mode_redirects_only_to_ports_whose_peer_runs_napi() {
    let lab = lab(2);
    gro_on(&lab);
    let mut d = Daemon::spawn(&lab, &["--default-mode", "xdp"]);
    wait_xdp(&mut d, &["p1", "p2"]);
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");

    // GRO off behind p2: p2 can no longer take XDP frames; they go to the bridge.
    run(&lab, "h2", &["ethtool", "-K", "eth0", "gro", "off"]);
    d.wait_for("p2 without xdp-xmit", |s| {
        port(s, "p2").is_some() && !has_flag(s, "p2", "xdp-xmit")
    });
    let h2 = addr(&lab, "h2");
    let stats = assert_passed_to_bridge(&d, &lab, "h1", &h2, "p1", "egress_state");
    assert_eq!(stats.received as u64, MANY, "{stats:?}");
}

#[test]
fn xdp_mode_carries_jumbo_frames_at_mtu_9000() {
    let lab = build(LabSpec::new(2).mtu(9000).bridge_nf_call(false));
    gro_on(&lab);
    let mut d = Daemon::spawn(&lab, &["--default-mode", "xdp"]);
    wait_xdp(&mut d, &["p1", "p2"]);
    let on_p1 = attachments(&lab, "p1");
    assert!(
        on_p1.contains("switch_xdp_frag"),
        "jumbo frames need the xdp.frags program: {on_p1}"
    );
    let h2 = addr(&lab, "h2");
    d.wait_fast("h1", &h2, "p1");
    let (c, r) = (d.counters("p1"), d.counters("p2"));
    let stats = ping_with(&lab, "h1", &h2, 5, &["-s", "8000", "-M", "do"]);
    assert_eq!(stats.received, 5, "{stats:?}");
    let (c2, r2) = (d.counters("p1"), d.counters("p2"));
    assert!(c2.fast_packets >= c.fast_packets + 5, "{c:?} -> {c2:?}");
    assert!(
        c2.fast_bytes >= c.fast_bytes + 5 * 8000,
        "the fast path carried {} bytes for five 8000-byte pings",
        c2.fast_bytes - c.fast_bytes
    );
    assert!(r2.fast_packets >= r.fast_packets + 5, "{r:?} -> {r2:?}");
    assert!(r2.fast_bytes >= r.fast_bytes + 5 * 8000, "{r:?} -> {r2:?}");
}

#[test]
fn flooding_follows_the_bridges_flood_flags() {
    let lab = lab(3);
    let mut d = Daemon::start(&lab, &[]);
    d.wait_fast("h1", &addr(&lab, "h2"), "p1");
    h1_knows_the_ghost(&lab);

    // Unknown unicast goes to the bridge, which floods it to h2 and not to p3 (flood off).
    sw(
        &lab,
        &["bridge", "link", "set", "dev", "p3", "flood", "off"],
    );
    let (r2, r3) = (
        link_stats(&lab, "h2", "eth0"),
        link_stats(&lab, "h3", "eth0"),
    );
    assert_passed_to_bridge(&d, &lab, "h1", GHOST_IP, "p1", "fdb_miss");
    assert!(link_stats(&lab, "h2", "eth0").rx_packets >= r2.rx_packets + MANY);
    let got3 = link_stats(&lab, "h3", "eth0").rx_packets - r3.rx_packets;
    assert!(
        got3 < MANY / 2,
        "h3 received {got3} flooded frames with flood off"
    );

    // Broadcast too, with bcast_flood off on p3.
    sw(
        &lab,
        &["bridge", "link", "set", "dev", "p3", "bcast_flood", "off"],
    );
    let (c, r2, r3) = (
        d.counters("p1"),
        link_stats(&lab, "h2", "eth0"),
        link_stats(&lab, "h3", "eth0"),
    );
    let count = MANY.to_string();
    exec(
        &lab,
        "h1",
        &[
            "ping",
            "-b",
            "-q",
            "-c",
            &count,
            "-i",
            "0.01",
            "-W",
            "0.3",
            "198.18.0.255",
        ],
    );
    let c2 = d.counters("p1");
    assert!(
        passed(&c2, "multicast") >= passed(&c, "multicast") + MANY,
        "broadcasts go to the bridge: {c:?} -> {c2:?}"
    );
    assert!(link_stats(&lab, "h2", "eth0").rx_packets >= r2.rx_packets + MANY);
    let got3 = link_stats(&lab, "h3", "eth0").rx_packets - r3.rx_packets;
    assert!(
        got3 < MANY / 2,
        "h3 received {got3} broadcasts with bcast_flood off"
    );
}

#[test]
fn a_full_fast_path_fdb_leaves_further_macs_to_the_bridge() {
    let lab = lab(3);
    // Two entries: the bridge has at least four of its own (br0's and its ports' addresses)
    // and three hosts' MACs, so the map is full and some hosts' MACs are left out.
    let mut d = Daemon::start(&lab, &["--fdb-entries", "2"]);
    let ns = lab.switch_netns().to_string();
    for (from, to) in [("h1", "h2"), ("h2", "h3"), ("h3", "h1")] {
        assert_eq!(ping(&lab, from, &addr(&lab, to), 3).received, 3);
    }
    let status = d.status();
    assert_eq!(status.daemon.fdb_capacity, 2, "{:#?}", status.daemon);
    assert_eq!(status.bridges[0].fdb_entries, 2, "{:#?}", status.bridges);
    let out = switch_ctl(&["status", "--netns", &ns]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("fast-path FDB: 2 of 2 entries: full") && text.contains("--fdb-entries"),
        "{text}"
    );

    // A host whose MAC is not in the fast path: the bridge forwards all its frames.
    let host = lab
        .hosts()
        .iter()
        .find(|h| d.fdb_entry(&h.mac).is_none())
        .expect("a host MAC outside a 2-entry fast path")
        .clone();
    let peer = if host.name == "h1" { "h2" } else { "h1" };
    let c = d.counters(&host.port);
    assert_eq!(
        ping_many(&lab, &host.name, &addr(&lab, peer), MANY as u32).received,
        MANY as u32
    );
    let c2 = d.counters(&host.port);
    assert_eq!(
        c2.fast_packets, c.fast_packets,
        "{}'s frames took the fast path",
        host.name
    );
    assert!(
        passed(&c2, "source") >= passed(&c, "source") + MANY,
        "{}'s frames were not passed as unknown sources: {c:?} -> {c2:?}",
        host.name
    );

    // A killed daemon's map keeps its size: another size is refused, saying what to do.
    d.kill9();
    let out = switch_ctl(&[
        "run",
        "--netns",
        &ns,
        "--bridge",
        "br0",
        "--fdb-entries",
        "8",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("holds 2 FDB entries, not the 8") && stderr.contains("switch-ctl stop"),
        "{stderr}"
    );
    let out = switch_ctl(&["stop", "--netns", &ns]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn fdb_entries_out_of_range_is_a_usage_error() {
    for bad in ["0", "many", "16777217"] {
        let out = switch_ctl(&["run", "--bridge", "br0", "--fdb-entries", bad]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--fdb-entries {bad}: {stderr}");
        assert!(stderr.contains("--fdb-entries"), "{stderr}");
    }
}

/// One-way traffic (h2 ignores echo requests), so each CPU's pair cache holds h1 → h2 and every
/// frame after the first is decided from it: a change of the egress port must still apply to
/// the very next frames (the daemon moves `fdb_generation` on every write).
#[test]
fn a_cached_pair_stops_when_the_egress_port_stops_forwarding() {
    let lab = lab(2);
    let mut d = Daemon::start(&lab, &[]);
    assert_fast_both_ways(&mut d, &lab, "h1", "h2", "p1", "p2");
    run(
        &lab,
        "h2",
        &["sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1"],
    );
    let h2 = addr(&lab, "h2");
    let one_way = |d: &Daemon<'_>| {
        let c = d.counters("p1");
        assert_eq!(ping_many(&lab, "h1", &h2, MANY as u32).received, 0);
        (c, d.counters("p1"))
    };
    let (c, c2) = one_way(&d);
    assert!(
        c2.fast_packets >= c.fast_packets + MANY,
        "one-way frames must take the fast path: {c:?} -> {c2:?}"
    );

    sw(&lab, &["bridge", "link", "set", "dev", "p2", "state", "0"]);
    d.wait_for("p2 disabled", |s| {
        port(s, "p2").is_some() && !has_flag(s, "p2", "forwarding")
    });
    let (c, c2) = one_way(&d);
    assert_eq!(
        c2.fast_packets, c.fast_packets,
        "a cached decision outlived p2's state change: {c:?} -> {c2:?}"
    );
    assert!(
        passed(&c2, "egress_state") >= passed(&c, "egress_state") + MANY,
        "{c:?} -> {c2:?}"
    );

    sw(&lab, &["bridge", "link", "set", "dev", "p2", "state", "3"]);
    d.wait_for("p2 forwarding again", |s| has_flag(s, "p2", "forwarding"));
    let (c, c2) = one_way(&d);
    assert!(
        c2.fast_packets >= c.fast_packets + MANY,
        "p2 forwards again, the fast path does not: {c:?} -> {c2:?}"
    );
}
