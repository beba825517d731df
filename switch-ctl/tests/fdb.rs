//! The bridge's FDB stays the bridge's own under the fast path, end to end.
//!
//! The daemon only reads the FDB; the bridge keeps it from real frames (one frame per source
//! MAC per refresh interval is passed to it). So, with the fast path carrying the traffic:
//! the learning limit (`fdb_max_learned`) limits and `fdb_n_learned` equals the plain
//! bridge's after the same traffic; an operator's `bridge fdb del` and flush of busy entries
//! stand until a real frame relearns them (as learned entries); sticky, static and
//! extern_learn entries keep their flags.

mod common;

use common::{Daemon, addr, build, mac, passed, sw};
use netlab::{Lab, LabSpec, SWITCH_NODE};
use std::future::Future;
use std::time::Duration;
use switch_ctl::netlink::{BridgeAttrs, Netlink};

/// A lab of 3 quiet hosts ([`silence_hosts`]), bridge netfilter off, and a 2 s ageing time
/// (refresh frames every 500 ms).
fn lab3() -> Lab {
    let lab = build(LabSpec::new(3).bridge_nf_call(false).ipv6(false));
    silence_hosts(&lab);
    common::set_ageing_time(&lab, 200);
    lab
}

/// Keeps the hosts quiet unless a test makes them talk, so that no frame teaches the bridge a
/// MAC behind the test's back: IPv6 off (no router solicitations or MLD reports) and
/// permanent neighbour entries for each other (no ARP).
fn silence_hosts(lab: &Lab) {
    for host in lab.hosts() {
        common::run(
            lab,
            &host.name,
            &["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
        );
        for other in lab.hosts().iter().filter(|o| o.name != host.name) {
            let ip = other.ipv4.to_string();
            common::run(
                lab,
                &host.name,
                &[
                    "ip",
                    "neigh",
                    "replace",
                    &ip,
                    "lladdr",
                    &other.mac,
                    "dev",
                    &host.ifname,
                    "nud",
                    "permanent",
                ],
            );
        }
    }
}

/// Runs `f` with a fresh rtnetlink connection inside the lab's switch namespace.
fn in_switch<R: Send, F: Future<Output = R>>(lab: &Lab, f: impl FnOnce() -> F + Send) -> R {
    lab.run_in(SWITCH_NODE, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(f())
    })
    .expect("the switch namespace can be entered")
}

/// The bridge's own attributes, as the kernel reports them now.
fn bridge_attrs(lab: &Lab) -> BridgeAttrs {
    let bridge = lab.bridge().to_string();
    in_switch(lab, || async move {
        let (netlink, _events) = Netlink::open().await.expect("rtnetlink opens");
        let links = netlink.links().await.expect("link dump");
        links
            .into_iter()
            .find(|l| l.name == bridge)
            .and_then(|l| l.bridge)
            .expect("the bridge reports its attributes")
    })
}

/// How many entries the bridge counts as learned (IFLA_BR_FDB_N_LEARNED).
fn n_learned(lab: &Lab) -> u32 {
    bridge_attrs(lab)
        .fdb_n_learned
        .expect("this kernel (6.8+) reports fdb_n_learned")
}

/// `ip link set br0 type bridge fdb_max_learned N`, over rtnetlink (iproute2 6.1 lacks it).
fn set_max_learned(lab: &Lab, max: u32) {
    use rtnetlink::LinkUnspec;
    use rtnetlink::packet_route::link::{InfoBridge, InfoData, InfoKind};
    let bridge = lab.bridge().to_string();
    in_switch(lab, || async move {
        let (connection, handle, _) = rtnetlink::new_connection().expect("rtnetlink opens");
        tokio::spawn(connection);
        let (netlink, _events) = Netlink::open().await.expect("rtnetlink opens");
        let links = netlink.links().await.expect("link dump");
        let index = links
            .iter()
            .find(|l| l.name == bridge)
            .expect("the bridge exists")
            .ifindex;
        let message =
            rtnetlink::LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::Bridge)
                .index(index)
                .set_info_data(InfoData::Bridge(vec![InfoBridge::FdbMaxLearned(max)]))
                .build();
        // RTM_NEWLINK on the existing bridge, as `ip link set ... type bridge` sends
        // (RTM_SETLINK ignores IFLA_LINKINFO).
        handle
            .link()
            .change(message)
            .execute()
            .await
            .expect("fdb_max_learned is set");
    });
    assert_eq!(bridge_attrs(lab).fdb_max_learned, Some(max));
}

/// The bridge's entry for `mac` as `bridge -d fdb show` prints it (flags included), None
/// when it has none.
fn fdb_line(lab: &Lab, mac: &str) -> Option<String> {
    sw(lab, &["bridge", "-d", "fdb", "show", "br", "br0"])
        .lines()
        .find(|l| l.starts_with(mac))
        .map(str::to_string)
}

/// Pings `to` from `from` every 10 ms for `secs` seconds; returns (sent, received).
fn ping_for(lab: &Lab, from: &str, to: &str, secs: u32) -> (u32, u32) {
    let deadline = secs.to_string();
    let out = common::exec(
        lab,
        from,
        &[
            "ping",
            "-n",
            "-q",
            "-i",
            "0.01",
            "-w",
            &deadline,
            &addr(lab, to),
        ],
    );
    let stats = netlab::PingStats::parse(&String::from_utf8_lossy(&out.stdout))
        .expect("ping prints statistics");
    (stats.transmitted, stats.received)
}

/// The traffic of the learning-limit test: h1 and h2 talk for 3 s (six refresh intervals),
/// then h3, the third MAC, pings h1. Returns what the bridge then reports: fdb_n_learned and
/// which of h1, h2, h3 it has entries for.
fn limited_traffic(lab: &Lab) -> (u32, [bool; 3]) {
    // Whatever the lab's set-up taught the bridge goes: the traffic below is all it learns.
    sw(
        lab,
        &["ip", "link", "set", "br0", "type", "bridge", "fdb_flush"],
    );
    let (sent, received) = ping_for(lab, "h1", "h2", 3);
    assert!(
        sent >= 100 && received == sent,
        "h1 -> h2: {received}/{sent}"
    );
    let h3 = common::ping(lab, "h3", &addr(lab, "h1"), 3);
    assert_eq!(h3.received, 3, "h3 is forwarded even when not learned");
    let known = ["h1", "h2", "h3"].map(|h| fdb_line(lab, &mac(lab, h)).is_some());
    (n_learned(lab), known)
}

#[test]
fn the_learning_limit_limits_and_n_learned_equals_the_plain_bridges() {
    let plain = lab3();
    set_max_learned(&plain, 2);
    let expected = limited_traffic(&plain);
    assert_eq!(
        expected,
        (2, [true, true, false]),
        "the plain bridge learns two MACs and refuses the third"
    );

    let lab = lab3();
    set_max_learned(&lab, 2);
    let mut daemon = Daemon::start(&lab, &[]);
    daemon.wait_fast("h1", &addr(&lab, "h2"), "p1");
    let before = daemon.counters("p1");
    let seen = limited_traffic(&lab);
    let after = daemon.counters("p1");
    assert_eq!(
        seen,
        expected,
        "with the fast path, the bridge's learning differs from the plain bridge's \
         (fdb_n_learned, which of h1..h3 it knows)\n{}",
        sw(&lab, &["bridge", "-d", "fdb", "show", "br", "br0"])
    );
    let fast = after.fast_packets - before.fast_packets;
    let refresh = passed(&after, "refresh") - passed(&before, "refresh");
    assert!(fast >= 100, "the fast path carried only {fast} frames");
    assert!(
        (3..=20).contains(&refresh),
        "3 s at a 500 ms refresh interval should pass about 6 frames of h1 to the bridge, \
         not {refresh}"
    );
    assert_eq!(
        bridge_attrs(&lab).fdb_max_learned,
        Some(2),
        "the limit is untouched"
    );
}

/// Waits until the bridge and the fast path have `mac` (or not).
fn wait_known(daemon: &mut Daemon, lab: &Lab, mac: &str, known: bool) {
    common::wait_until(
        &format!("{mac} known to the bridge and the fast path: {known}"),
        common::WAIT,
        || fdb_line(lab, mac).is_some() == known && daemon.fdb_entry(mac).is_some() == known,
        || {
            format!(
                "bridge: {:?}, fast path: {:?}\n{}",
                fdb_line(lab, mac),
                daemon.fdb_entry(mac),
                daemon.log()
            )
        },
    );
}

/// After an operator removed h1's and h2's busy entries: they stay removed for a second (the
/// hosts are quiet), then a real frame from each makes the bridge learn them again, as learned
/// entries, and the fast path carries their traffic again.
fn removed_until_relearned(daemon: &mut Daemon, lab: &Lab, how: &str, learned: u32) {
    let (mac1, mac2) = (mac(lab, "h1"), mac(lab, "h2"));
    for m in [&mac1, &mac2] {
        assert_eq!(
            fdb_line(lab, m),
            None,
            "after {how}, the bridge has {m} again without a frame from it"
        );
        assert_eq!(
            daemon.fdb_entry(m),
            None,
            "after {how}, the fast path still forwards to {m}"
        );
    }
    assert!(n_learned(lab) <= learned - 2, "after {how}");
    let before = daemon.counters("p1");
    daemon.wait_fast("h1", &addr(lab, "h2"), "p1");
    for m in [&mac1, &mac2] {
        wait_known(daemon, lab, m, true);
        let line = fdb_line(lab, m).unwrap_or_default();
        assert!(
            !line.contains("static") && !line.contains("permanent"),
            "{m} came back as {line}"
        );
    }
    assert_eq!(
        n_learned(lab),
        learned,
        "after {how}, the relearned entries count as learned"
    );
    let after = daemon.counters("p1");
    assert!(
        passed(&after, "source") > passed(&before, "source"),
        "h1's first frame after {how} went to the bridge to be learned: {after:?}"
    );
}

#[test]
fn an_operators_delete_and_flush_stand_until_a_real_frame_relearns() {
    let lab = lab3();
    let mut daemon = Daemon::start(&lab, &[]);
    let (mac1, mac2) = (mac(&lab, "h1"), mac(&lab, "h2"));

    // Only h1 and h2 talk from here on.
    sw(
        &lab,
        &["ip", "link", "set", "br0", "type", "bridge", "fdb_flush"],
    );
    daemon.wait_fast("h1", &addr(&lab, "h2"), "p1");
    let learned = n_learned(&lab);
    assert!(learned >= 2, "the bridge learned h1 and h2");
    for (m, port) in [(&mac1, "p1"), (&mac2, "p2")] {
        sw(&lab, &["bridge", "fdb", "del", m, "dev", port, "master"]);
    }
    removed_until_relearned(&mut daemon, &lab, "`bridge fdb del`", learned);

    daemon.wait_fast("h1", &addr(&lab, "h2"), "p1");
    let learned = n_learned(&lab);
    sw(
        &lab,
        &["ip", "link", "set", "br0", "type", "bridge", "fdb_flush"],
    );
    removed_until_relearned(&mut daemon, &lab, "a flush", learned);

    // Deleted under traffic, again and again: every entry the bridge has afterwards it learned
    // from a frame.
    let chaos = {
        let (netns, mac1, mac2) = (lab.switch_netns().to_string(), mac1.clone(), mac2.clone());
        std::thread::spawn(move || {
            for _ in 0..5 {
                std::thread::sleep(Duration::from_millis(200));
                for (m, port) in [(&mac1, "p1"), (&mac2, "p2")] {
                    let _ = netlab::netns::command(&netns, "bridge")
                        .args(["fdb", "del", m, "dev", port, "master"])
                        .stderr(std::process::Stdio::null())
                        .status();
                }
            }
        })
    };
    let before = daemon.counters("p1");
    let (sent, received) = ping_for(&lab, "h1", "h2", 2);
    chaos.join().expect("the chaos thread");
    assert_eq!(received, sent, "pings lost while entries were deleted");
    let after = daemon.counters("p1");
    assert!(after.fast_packets > before.fast_packets, "{after:?}");
    for m in [&mac1, &mac2] {
        assert!(fdb_line(&lab, m).is_some(), "{m} was not relearned");
    }
    assert_eq!(
        n_learned(&lab),
        learned,
        "relearned entries count as learned"
    );
}

#[test]
fn sticky_static_and_extern_learn_entries_keep_their_flags() {
    let lab = lab3();
    let (mac1, mac2, mac3) = (mac(&lab, "h1"), mac(&lab, "h2"), mac(&lab, "h3"));
    let mut daemon = Daemon::start(&lab, &[]);
    daemon.wait_fast("h1", &addr(&lab, "h2"), "p1");
    let fast = daemon.counters("p1").fast_packets;
    // A dynamic entry lives on frames: h1's sticky one, aged after 2 s, is kept by the traffic
    // that starts at once.
    for argv in [
        ["replace", &mac1, "dev", "p1", "master", "dynamic", "sticky"],
        ["replace", &mac2, "dev", "p2", "master", "static", ""],
        ["replace", &mac3, "dev", "p3", "master", "extern_learn", ""],
    ] {
        let argv: Vec<&str> = std::iter::once("bridge")
            .chain(std::iter::once("fdb"))
            .chain(argv.into_iter().filter(|a| !a.is_empty()))
            .collect();
        sw(&lab, &argv);
    }
    let lines = || [&mac1, &mac2, &mac3].map(|m| fdb_line(&lab, m));
    let before = lines();
    assert!(before.iter().all(Option::is_some), "{before:?}");
    assert!(before[0].as_ref().unwrap().contains("sticky"), "{before:?}");
    assert!(
        before[2].as_ref().unwrap().contains("extern_learn"),
        "{before:?}"
    );
    let (sent, received) = ping_for(&lab, "h1", "h2", 3);
    assert_eq!(received, sent, "h1 -> h2");
    for (from, to) in [("h2", "h3"), ("h3", "h1")] {
        let (sent, received) = ping_for(&lab, from, to, 1);
        assert_eq!(received, sent, "{from} -> {to}");
    }
    assert!(
        daemon.counters("p1").fast_packets > fast + 100,
        "the fast path carried the traffic"
    );
    assert_eq!(
        lines(),
        before,
        "the bridge's entries changed under fast-path traffic"
    );
}
