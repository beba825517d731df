//! The netlink layer against a real bridge: a netlab lab (hosts h1, h2 around br0 with ports
//! p1, p2 in the switch namespace), torn down when each test ends, however it ends.

use std::{future::Future, time::Duration};

use switch_ctl::netlink::{
    Event, Events, FdbEntry, FdbKind, Link, Netlink, PortState, parse_mac,
    xdp_features::{self, FeatureEvent, FeatureWatch},
};

const WAIT: Duration = Duration::from_secs(5);

/// A lab with `hosts` hosts.
fn lab(hosts: usize) -> netlab::Lab {
    testkit::lab::build(netlab::LabSpec::new(hosts))
}

/// Runs `test` on a current-thread tokio runtime inside the lab's switch namespace.
fn in_switch<F: Future<Output = ()>>(lab: &netlab::Lab, test: impl FnOnce() -> F + Send) {
    lab.run_in(netlab::SWITCH_NODE, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(test())
    })
    .expect("the switch namespace can be entered");
}

/// Runs `argv` in the switch namespace.
fn sw(lab: &netlab::Lab, argv: &[&str]) -> String {
    lab.exec_ok(netlab::SWITCH_NODE, argv)
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
}

/// The link called `name`.
async fn link(netlink: &Netlink, name: &str) -> Link {
    let links = netlink.links().await.expect("link dump");
    links
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no link {name}"))
}

/// Waits for the first event `wanted` accepts; fails after WAIT, listing what came.
async fn wait_for(events: &mut Events, what: &str, wanted: impl Fn(&Event) -> bool) -> Event {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        while let Some(event) = events.next().await {
            if wanted(&event) {
                return event;
            }
            seen.push(event);
        }
        panic!("the event connection closed")
    })
    .await;
    found.unwrap_or_else(|_| panic!("no event {what} within {WAIT:?}; seen: {seen:#?}"))
}

/// Fails if an event `unwanted` accepts comes within `quiet`.
async fn expect_none(events: &mut Events, quiet: Duration, unwanted: impl Fn(&Event) -> bool) {
    let _ = tokio::time::timeout(quiet, async {
        while let Some(event) = events.next().await {
            assert!(!unwanted(&event), "unexpected event {event:?}");
        }
    })
    .await;
}

fn is_link(event: &Event, ifindex: u32, check: impl Fn(&Link) -> bool) -> bool {
    matches!(event, Event::Link(l) if l.ifindex == ifindex && check(l))
}

fn fdb_entry(entries: &[FdbEntry], mac: [u8; 6]) -> Option<&FdbEntry> {
    entries.iter().find(|e| e.mac == mac)
}

#[test]
fn links_show_the_bridge_and_its_ports() {
    let lab = &lab(2);
    in_switch(lab, || async move {
        let (netlink, _events) = Netlink::open().await.unwrap();
        let br0 = link(&netlink, "br0").await;
        assert_eq!(br0.kind.as_deref(), Some("bridge"));
        let bridge = br0.bridge.as_ref().expect("bridge attributes");
        assert_eq!(bridge.ageing_time_cs, 30_000, "the default 300 s");
        assert!(br0.admin_up && br0.port.is_none() && br0.master.is_none());
        for name in ["p1", "p2"] {
            let port = link(&netlink, name).await;
            assert_eq!(port.kind.as_deref(), Some("veth"));
            assert_eq!(port.master, Some(br0.ifindex), "{port:?}");
            assert!(
                port.admin_up && port.oper_up && port.mac.is_some(),
                "{port:?}"
            );
            assert_eq!(port.xdp_prog_id, None);
            let attrs = port.port.as_ref().expect("bridge port attributes");
            assert_eq!(attrs.state, PortState::Forwarding);
            assert!(attrs.learning && !attrs.hairpin && !attrs.isolated && !attrs.locked);
            assert_eq!(netlink.link(port.ifindex).await.unwrap(), Some(port));
        }
        assert_eq!(netlink.link(999_999).await.unwrap(), None);
        let json = serde_json::to_value(link(&netlink, "p1").await).unwrap();
        assert_eq!(json["port"]["state"], "forwarding");
    });
}

#[test]
fn port_flag_changes_arrive_as_complete_link_events() {
    let lab = &lab(2);
    in_switch(lab, || async move {
        let (netlink, mut events) = Netlink::open().await.unwrap();
        let p1 = link(&netlink, "p1").await.ifindex;
        let p1_port = |check: fn(&switch_ctl::netlink::PortAttrs) -> bool| {
            move |e: &Event| is_link(e, p1, |l| l.port.as_ref().is_some_and(check))
        };
        // `bridge link set` changes are announced only in AF_BRIDGE RTM_NEWLINK messages.
        sw(
            lab,
            &["bridge", "link", "set", "dev", "p1", "hairpin", "on"],
        );
        wait_for(&mut events, "hairpin on", p1_port(|p| p.hairpin)).await;
        sw(
            lab,
            &["bridge", "link", "set", "dev", "p1", "isolated", "on"],
        );
        wait_for(
            &mut events,
            "isolated on",
            p1_port(|p| p.isolated && p.hairpin),
        )
        .await;
        sw(lab, &["bridge", "link", "set", "dev", "p1", "locked", "on"]);
        wait_for(&mut events, "locked on", p1_port(|p| p.locked)).await;
        sw(lab, &["bridge", "link", "set", "dev", "p1", "state", "0"]);
        let event = wait_for(
            &mut events,
            "state disabled",
            p1_port(|p| p.state == PortState::Disabled),
        )
        .await;
        let Event::Link(p1_link) = event else {
            unreachable!()
        };
        assert_eq!(p1_link.name, "p1");
        assert!(
            p1_link.master.is_some() && p1_link.kind.as_deref() == Some("veth"),
            "complete: {p1_link:?}"
        );

        sw(lab, &["ip", "link", "set", "p2", "nomaster"]);
        let p2 = link(&netlink, "p2").await.ifindex;
        wait_for(&mut events, "p2 removed", |e| {
            *e == Event::PortRemoved { ifindex: p2 }
        })
        .await;
        let p2_now = netlink.link(p2).await.unwrap().expect("p2 still exists");
        assert_eq!((p2_now.master, p2_now.port), (None, None));

        sw(lab, &["ip", "link", "del", "p2"]);
        wait_for(&mut events, "p2 deleted", |e| {
            *e == Event::LinkRemoved { ifindex: p2 }
        })
        .await;
    });
}

#[test]
fn static_entries_in_dump_and_events() {
    let lab = &lab(2);
    in_switch(lab, || async move {
        let (netlink, mut events) = Netlink::open().await.unwrap();
        let (br0, p1) = (
            link(&netlink, "br0").await.ifindex,
            link(&netlink, "p1").await.ifindex,
        );
        let mac = parse_mac("02:00:00:00:00:01").unwrap();
        sw(
            lab,
            &[
                "bridge",
                "fdb",
                "add",
                "02:00:00:00:00:01",
                "dev",
                "p1",
                "master",
                "static",
            ],
        );
        let added = wait_for(
            &mut events,
            "static entry",
            |e| matches!(e, Event::Fdb(f) if f.mac == mac),
        )
        .await;
        let Event::Fdb(entry) = added else {
            unreachable!()
        };
        assert_eq!(
            (entry.port, entry.bridge, entry.kind),
            (p1, Some(br0), FdbKind::Static)
        );

        let fdb = netlink.fdb().await.unwrap();
        assert_eq!(fdb_entry(&fdb, mac).map(|e| e.kind), Some(FdbKind::Static));
        // The ports' own addresses are the bridge's local entries; multicast "self" entries
        // of a port's own address list (no master) are not bridge entries.
        let own = link(&netlink, "p1").await.mac.unwrap();
        assert_eq!(fdb_entry(&fdb, own).map(|e| e.kind), Some(FdbKind::Local));
        let self_only = parse_mac("33:33:00:00:00:01").unwrap();
        assert!(
            sw(lab, &["bridge", "fdb", "show", "dev", "p1"])
                .contains("33:33:00:00:00:01 self permanent")
        );
        assert!(fdb_entry(&fdb, self_only).is_none(), "{fdb:#?}");
        assert!(fdb.iter().all(|e| e.bridge == Some(br0)));

        sw(
            lab,
            &[
                "bridge",
                "fdb",
                "del",
                "02:00:00:00:00:01",
                "dev",
                "p1",
                "master",
            ],
        );
        let removed = wait_for(
            &mut events,
            "removal",
            |e| matches!(e, Event::FdbRemoved(f) if f.mac == mac),
        )
        .await;
        assert!(
            matches!(removed, Event::FdbRemoved(f) if f.port == p1 && f.kind == FdbKind::Static)
        );
        assert!(fdb_entry(&netlink.fdb().await.unwrap(), mac).is_none());
    });
}

/// Seconds since the bridge updated `mac`, from `bridge -s fdb show` ("used U/UPDATED").
fn updated_secs_by_iproute(lab: &netlab::Lab, mac: &str) -> u32 {
    let out = sw(lab, &["bridge", "-s", "fdb", "show", "br", "br0"]);
    let line = out
        .lines()
        .find(|l| l.starts_with(mac))
        .unwrap_or_else(|| panic!("{mac} not in {out}"));
    let used = line
        .split_whitespace()
        .skip_while(|w| *w != "used")
        .nth(1)
        .expect("used U/UPDATED");
    used.split('/')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a number of seconds")
}

#[test]
fn dynamic_entries_use_and_delete() {
    let lab = &lab(2);
    in_switch(lab, || async move {
        let (netlink, mut events) = Netlink::open().await.unwrap();
        let p1 = link(&netlink, "p1").await.ifindex;
        let (text, mac) = ("02:00:00:00:00:05", parse_mac("02:00:00:00:00:05").unwrap());
        let this_mac =
            |e: &Event| matches!(e, Event::Fdb(f) | Event::FdbRemoved(f) if f.mac == mac);

        netlink.fdb_add_dynamic(p1, mac).await.unwrap();
        let added = wait_for(&mut events, "dynamic entry", this_mac).await;
        assert!(
            matches!(added, Event::Fdb(ref f) if f.kind == FdbKind::Learned && f.port == p1),
            "{added:?}"
        );

        tokio::time::sleep(Duration::from_millis(2100)).await;
        let aged = fdb_entry(&netlink.fdb().await.unwrap(), mac)
            .unwrap()
            .updated_cs
            .unwrap();
        assert!(aged >= 200, "{aged} cs after 2.1 s");
        assert!(updated_secs_by_iproute(lab, text) >= 2);

        netlink.fdb_use(p1, mac).await.unwrap();
        let fresh = fdb_entry(&netlink.fdb().await.unwrap(), mac)
            .unwrap()
            .clone();
        assert!(fresh.updated_cs.unwrap() < 50, "refreshed: {fresh:?}");
        assert_eq!((fresh.kind, fresh.port), (FdbKind::Learned, p1));
        assert_eq!(updated_secs_by_iproute(lab, text), 0);
        expect_none(&mut events, Duration::from_secs(1), this_mac).await;

        netlink.fdb_delete(p1, mac).await.unwrap();
        let removed = wait_for(&mut events, "removal", this_mac).await;
        assert!(matches!(removed, Event::FdbRemoved(_)), "{removed:?}");
        netlink
            .fdb_delete(p1, mac)
            .await
            .expect("deleting a missing entry is fine");
        assert!(fdb_entry(&netlink.fdb().await.unwrap(), mac).is_none());
        let err = netlink.fdb_add_dynamic(999_999, mac).await.unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENODEV), "{err}");
    });
}

#[test]
fn an_overflowing_event_socket_reports_overrun() {
    let lab = &lab(1);
    let batch = tempfile::NamedTempFile::new().unwrap();
    let lines: String = (0..3000)
        .map(|i: u32| {
            let [_, _, a, b] = i.to_be_bytes();
            format!("fdb add 02:00:00:01:{a:02x}:{b:02x} dev p1 master static\n")
        })
        .collect();
    std::fs::write(batch.path(), lines).unwrap();
    let batch = batch.path().to_str().unwrap();
    in_switch(lab, || async move {
        let (netlink, mut events) = Netlink::open_with_buffer(64 << 10).await.unwrap();
        // The runtime is blocked while the burst comes: nothing reads the socket.
        sw(lab, &["bridge", "-batch", batch]);
        wait_for(&mut events, "overrun", |e| *e == Event::Overrun).await;
        // What was queued before the overrun is dropped (the resync shows it); the stream
        // goes on with what comes after, and a full dump is whole.
        let gone = parse_mac("02:00:00:01:00:00").unwrap();
        sw(
            lab,
            &[
                "bridge",
                "fdb",
                "del",
                "02:00:00:01:00:00",
                "dev",
                "p1",
                "master",
            ],
        );
        let next = tokio::time::timeout(WAIT, events.next()).await;
        assert!(
            matches!(next, Ok(Some(Event::FdbRemoved(ref f))) if f.mac == gone),
            "the first event after the overrun is the deletion that followed it: {next:?}"
        );
        let statics = netlink
            .fdb()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == FdbKind::Static)
            .count();
        assert_eq!(statics, 2999);
    });
}

/// The features of `port` in the switch namespace.
fn features_of(lab: &netlab::Lab, ifindex: u32) -> xdp_features::XdpFeatures {
    let all = lab
        .run_in(netlab::SWITCH_NODE, xdp_features::dump)
        .unwrap()
        .unwrap();
    *all.get(&ifindex)
        .unwrap_or_else(|| panic!("no features for {ifindex}: {all:?}"))
}

/// The next change of `ifindex`'s features, within WAIT.
fn next_change(watch: &mut FeatureWatch, ifindex: u32) -> xdp_features::XdpFeatures {
    let deadline = std::time::Instant::now() + WAIT;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match watch.next_timeout(Some(left)).unwrap() {
            Some(FeatureEvent::Changed {
                ifindex: i,
                features,
            }) if i == ifindex => return features,
            _ => {}
        }
    }
    panic!("no feature change for {ifindex} within {WAIT:?}")
}

#[test]
fn ndo_xmit_follows_the_peer() {
    let lab = &lab(1);
    let p1: u32 = sw(lab, &["cat", "/sys/class/net/p1/ifindex"])
        .trim()
        .parse()
        .unwrap();
    let mut watch = lab
        .run_in(netlab::SWITCH_NODE, FeatureWatch::open)
        .unwrap()
        .unwrap();

    let plain = features_of(lab, p1);
    assert!(
        plain.basic() && plain.redirect() && !plain.ndo_xmit(),
        "{:?}",
        plain.names()
    );

    // GRO on the peer gives it NAPI: p1 can take redirected frames.
    lab.exec_ok("h1", &["ethtool", "-K", "eth0", "gro", "on"])
        .unwrap();
    let with_gro = next_change(&mut watch, p1);
    assert!(
        with_gro.ndo_xmit() && with_gro.ndo_xmit_sg(),
        "{:?}",
        with_gro.names()
    );
    assert_eq!(features_of(lab, p1), with_gro);
    lab.exec_ok("h1", &["ethtool", "-K", "eth0", "gro", "off"])
        .unwrap();
    assert!(!next_change(&mut watch, p1).ndo_xmit());

    // So does a native XDP program on the peer; a generic one does not.
    let object = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(object.path(), fixtures::get("xdp_pass").unwrap().object).unwrap();
    let path = object.path().to_str().unwrap();
    let ip = |args: &[&str]| {
        let argv = [&["ip", "link", "set", "eth0"], args].concat();
        lab.exec_ok("h1", &argv)
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    };
    ip(&["xdpgeneric", "obj", path, "sec", "xdp"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !features_of(lab, p1).ndo_xmit(),
        "generic XDP gives the peer no NAPI"
    );
    ip(&["xdpgeneric", "off"]);
    ip(&["xdpdrv", "obj", path, "sec", "xdp"]);
    assert!(next_change(&mut watch, p1).ndo_xmit());
    ip(&["xdpdrv", "off"]);
    assert!(!next_change(&mut watch, p1).ndo_xmit());

    // A program on a port shows in its Link.
    sw(
        lab,
        &[
            "ip",
            "link",
            "set",
            "p1",
            "xdpgeneric",
            "obj",
            path,
            "sec",
            "xdp",
        ],
    );
    in_switch(lab, || async move {
        let (netlink, _) = Netlink::open().await.unwrap();
        assert!(link(&netlink, "p1").await.xdp_prog_id.is_some());
    });
}
