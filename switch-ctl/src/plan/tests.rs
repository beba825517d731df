use super::*;
use crate::netlink::{BridgeAttrs, PortAttrs};

fn bridge(ifindex: u32, name: &str) -> Link {
    Link {
        ifindex,
        name: name.into(),
        kind: Some("bridge".into()),
        master: None,
        admin_up: true,
        promisc: false,
        oper_up: true,
        mtu: 1500,
        mac: Some([2, 0, 0, 0, 0, ifindex as u8]),
        xdp_prog_id: None,
        bridge: Some(BridgeAttrs {
            ageing_time_cs: 30000,
            vlan_filtering: false,
            nf_call: false,
            stp_state: 0,
            fdb_n_learned: None,
            fdb_max_learned: None,
        }),
        port: None,
    }
}

fn port(ifindex: u32, name: &str, master: u32) -> Link {
    Link {
        ifindex,
        name: name.into(),
        kind: Some("veth".into()),
        master: Some(master),
        admin_up: true,
        promisc: false,
        oper_up: true,
        mtu: 1500,
        mac: Some([2, 0, 0, 0, 1, ifindex as u8]),
        xdp_prog_id: None,
        bridge: None,
        port: Some(PortAttrs {
            state: PortState::Forwarding,
            hairpin: false,
            isolated: false,
            locked: false,
            mab: false,
            learning: true,
            backup_port: None,
        }),
    }
}

fn kernel(links: Vec<Link>) -> Kernel {
    Kernel {
        links: links.into_iter().map(|l| (l.ifindex, l)).collect(),
        ..Kernel::default()
    }
}

fn options(bridges: Selection) -> Options {
    Options {
        bridges,
        default_mode: Requested::Auto,
        overrides: vec![],
        allow_netfilter: false,
    }
}

const NONE_OURS: &dyn Fn(u32) -> bool = &|_| false;

#[test]
fn a_selected_bridge_gets_its_ports_with_their_flags() {
    let mut p2 = port(4, "p2", 2);
    if let Some(attrs) = &mut p2.port {
        attrs.hairpin = true;
        attrs.isolated = true;
        attrs.state = PortState::Blocking;
    }
    let k = kernel(vec![
        bridge(2, "br0"),
        port(3, "p1", 2),
        p2,
        port(5, "q1", 9),
    ]);
    let plan = plan(
        &k,
        &options(Selection::Named(vec!["br0".into()])),
        NONE_OURS,
    );
    assert_eq!(plan.bridges.len(), 1);
    assert!(plan.accelerated(2));
    assert_eq!(plan.bridges[0].ageing_time_ms, 300_000);
    assert_eq!(plan.ports.len(), 2, "q1 belongs to no selected bridge");
    let p1 = &plan.ports[&3];
    assert_eq!(p1.mode, Some(Mode::Tc), "auto on a veth is tc");
    assert_eq!(
        p1.flags,
        port_flags::FORWARDING | port_flags::UP | port_flags::EGRESS
    );
    let p2 = &plan.ports[&4];
    assert_eq!(
        p2.flags & port_flags::FORWARDING,
        0,
        "blocking is not forwarding"
    );
    assert_ne!(p2.flags & port_flags::HAIRPIN, 0);
    assert_ne!(p2.flags & port_flags::ISOLATED, 0);
}

#[test]
fn netfilter_vlan_filtering_and_a_down_bridge_keep_a_bridge_slow() {
    let mut k = kernel(vec![bridge(2, "br0"), port(3, "p1", 2)]);
    k.netfilter = vec!["bridge-nf-call-iptables"];
    let all = options(Selection::All);
    let p = plan(&k, &all, NONE_OURS);
    assert!(!p.accelerated(2));
    assert!(
        p.bridges[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("--allow-netfilter")
    );
    assert_eq!(p.ports[&3].mode, None);
    assert_eq!(p.ports[&3].flags & port_flags::EGRESS, 0);
    let allowed = Options {
        allow_netfilter: true,
        ..all.clone()
    };
    assert!(plan(&k, &allowed, NONE_OURS).accelerated(2));

    let mut k = kernel(vec![bridge(2, "br0"), port(3, "p1", 2)]);
    if let Some(b) = k.links.get_mut(&2).and_then(|l| l.bridge.as_mut()) {
        b.vlan_filtering = true;
    }
    assert!(
        plan(&k, &all, NONE_OURS).bridges[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("VLAN")
    );
    let mut k = kernel(vec![bridge(2, "br0")]);
    k.links.get_mut(&2).unwrap().admin_up = false;
    assert!(!plan(&k, &all, NONE_OURS).accelerated(2));
    let mut k = kernel(vec![bridge(2, "br0")]);
    k.links.get_mut(&2).unwrap().promisc = true;
    assert!(
        !plan(&k, &all, NONE_OURS).accelerated(2),
        "promiscuous bridge"
    );
    let mut k = kernel(vec![bridge(2, "br0")]);
    if let Some(b) = k.links.get_mut(&2).and_then(|l| l.bridge.as_mut()) {
        b.nf_call = true;
    }
    assert!(
        !plan(&k, &all, NONE_OURS).accelerated(2),
        "per-bridge nf_call"
    );
}

#[test]
fn someone_elses_xdp_program_is_left_alone_but_ours_is_not() {
    let mut p1 = port(3, "p1", 2);
    p1.xdp_prog_id = Some(77);
    let k = kernel(vec![bridge(2, "br0"), p1]);
    let all = options(Selection::All);
    let theirs = plan(&k, &all, NONE_OURS);
    assert_eq!(theirs.ports[&3].mode, None);
    assert!(theirs.ports[&3].reason.contains("id 77"));
    let ours = plan(&k, &all, &|id| id == 77);
    assert_eq!(ours.ports[&3].mode, Some(Mode::Tc));
}

#[test]
fn overrides_and_fdb_entries_follow_the_bridge() {
    let k = kernel(vec![bridge(2, "br0"), port(3, "p1", 2), port(4, "p2", 2)]);
    let opts = Options {
        overrides: vec!["p2=off".parse().unwrap()],
        ..options(Selection::All)
    };
    let p = plan(&k, &opts, NONE_OURS);
    assert_eq!(p.ports[&4].mode, None);
    let mac = [2, 0, 0, 0, 0, 9];
    let entry = |kind, vlan, locked| FdbEntry {
        mac,
        port: 3,
        bridge: Some(2),
        vlan,
        kind,
        locked,
        updated_cs: None,
    };
    let (key, egress, flags) = fdb_entry(&entry(FdbKind::Learned, None, false), &p).unwrap();
    assert_eq!((key, egress, flags), (FdbKey::new(2, mac), 3, 0));
    assert_eq!(
        fdb_entry(&entry(FdbKind::Static, None, false), &p)
            .unwrap()
            .2,
        fdb_flags::STATIC
    );
    assert_ne!(
        fdb_entry(&entry(FdbKind::Local, None, false), &p)
            .unwrap()
            .2
            & fdb_flags::LOCAL,
        0
    );
    assert_eq!(
        fdb_entry(&entry(FdbKind::Learned, Some(10), false), &p),
        None
    );
    assert_eq!(fdb_entry(&entry(FdbKind::Learned, None, true), &p), None);
    let other = FdbEntry {
        bridge: Some(8),
        ..entry(FdbKind::Learned, None, false)
    };
    assert_eq!(fdb_entry(&other, &p), None, "not an accelerated bridge");
}

#[test]
fn refresh_frames_come_four_times_per_ageing_time() {
    assert_eq!(refresh_interval_ms(300_000), 75_000);
    assert_eq!(refresh_interval_ms(2_000), 500);
    assert_eq!(refresh_interval_ms(10), 10);
    assert_eq!(
        refresh_interval_ms(0),
        0,
        "a bridge that does not age needs none"
    );
}

#[test]
fn firewall_chains_refuse_the_bridges_they_filter() {
    use crate::netlink::nftables::{BaseChain, ChainFamily};
    let chain = |family, devices: &[&str], rules| BaseChain {
        family,
        table: "t".into(),
        name: "c".into(),
        devices: devices.iter().map(|d| d.to_string()).collect(),
        rules,
        policy_drop: false,
    };
    let mut k = kernel(vec![bridge(1, "br0"), port(2, "p1", 1), port(3, "p2", 1)]);
    let accelerated =
        |k: &Kernel| plan(k, &options(Selection::All), &|_| false).bridges[0].accelerated;
    k.firewall = vec![
        chain(ChainFamily::Netdev, &["elsewhere"], 3),
        chain(ChainFamily::Bridge, &[], 0),
    ];
    assert!(
        accelerated(&k),
        "an empty accepting chain, a chain elsewhere"
    );
    k.firewall = vec![chain(ChainFamily::Netdev, &["p2"], 1)];
    assert!(!accelerated(&k));
    let reason = plan(&k, &options(Selection::All), &|_| false).bridges[0]
        .reason
        .clone()
        .unwrap();
    assert!(reason.contains("netdev t c (1 rules)"), "{reason}");
    k.firewall = vec![chain(ChainFamily::Bridge, &[], 2)];
    assert!(!accelerated(&k));
    let mut allow = options(Selection::All);
    allow.allow_netfilter = true;
    assert!(plan(&k, &allow, &|_| false).bridges[0].accelerated);
}
