//! Bridge-family firewalls: nftables `bridge` tables (ebtables-nft makes them), `netdev` chains
//! on the bridge or its ports. A bridge whose frames such chains filter is not accelerated
//! (the fast path would bypass them), with the reason in status, unless `--allow-netfilter`;
//! the daemon follows rules as they are added and removed.

mod common;

use common::{Daemon, addr, attached, mac, ping, require_tool, sw};
use netlab::Lab;
use switch_ctl::status::Status;

fn refused(s: &Status, what: &str) -> bool {
    let b = &s.bridges[0];
    !b.accelerated
        && b.reason.as_deref().is_some_and(|r| r.contains(what))
        && b.ports.iter().all(|p| p.mode.is_none())
}

fn accelerated(s: &Status) -> bool {
    s.bridges[0].accelerated && attached(s, "p1") && attached(s, "p2")
}

/// No fast path is attached to either port.
fn assert_detached(lab: &Lab) {
    for port in ["p1", "p2"] {
        assert_eq!(common::attachments(lab, port), "", "{port}");
    }
}

#[test]
fn ebtables_rules_refuse_acceleration_and_are_followed() {
    require_tool("ebtables", "ebtables");
    let lab = common::lab(2);
    let mut d = Daemon::start(&lab, &[]);
    let h2 = addr(&lab, "h2");
    d.wait_fast("h1", &h2, "p1");

    let mac1 = mac(&lab, "h1");
    sw(
        &lab,
        &["ebtables", "-A", "FORWARD", "-s", &mac1, "-j", "DROP"],
    );
    let (status, _) = d.wait_for("ebtables rule refuses acceleration", |s| {
        refused(s, "bridge filter FORWARD (1 rules)")
    });
    let reason = status.bridges[0].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("--allow-netfilter") && reason.contains("ebtables"),
        "{reason}"
    );
    assert_detached(&lab);
    assert_eq!(
        ping(&lab, "h1", &h2, 2).received,
        0,
        "the bridge enforces the ebtables rule (the fast path would have bypassed it)"
    );

    sw(&lab, &["ebtables", "-F", "FORWARD"]);
    d.wait_for("an empty accepting chain filters nothing", accelerated);
    d.wait_fast("h1", &h2, "p1");

    sw(&lab, &["ebtables", "-P", "FORWARD", "DROP"]);
    d.wait_for("a chain dropping by policy refuses acceleration", |s| {
        refused(s, "bridge filter FORWARD (policy drop)")
    });
    assert_detached(&lab);
    sw(&lab, &["ebtables", "-P", "FORWARD", "ACCEPT"]);
    d.wait_for("policy accept again", accelerated);
}

#[test]
fn nftables_chains_on_its_ports_refuse_acceleration_and_others_do_not() {
    require_tool("nft", "nftables");
    let lab = common::lab(2);
    sw(
        &lab,
        &[
            "ip", "link", "add", "other0", "type", "veth", "peer", "name", "other1",
        ],
    );
    let mut d = Daemon::start(&lab, &[]);
    let h2 = addr(&lab, "h2");

    // A netdev chain on a device outside the bridge changes nothing.
    sw(
        &lab,
        &[
            "nft",
            "add table netdev elsewhere; add chain netdev elsewhere in { type filter hook \
             ingress device other0 priority 0; }; add rule netdev elsewhere in counter",
        ],
    );
    std::thread::sleep(common::WAIT / 2);
    assert!(accelerated(&d.status()), "{:#?}", d.status().bridges);

    // On a port it does.
    sw(
        &lab,
        &[
            "nft",
            "add table netdev guard; add chain netdev guard in { type filter hook ingress \
             device p2 priority 0; }; add rule netdev guard in counter",
        ],
    );
    d.wait_for("a netdev chain on p2 refuses acceleration", |s| {
        refused(s, "netdev guard in (1 rules)")
    });
    assert_detached(&lab);
    sw(&lab, &["nft", "delete table netdev guard"]);
    d.wait_for("the chain is gone", accelerated);

    // A bridge-family table of nft's own.
    let mac1 = mac(&lab, "h1");
    let rule = format!(
        "add table bridge fw; add chain bridge fw guarded {{ type filter hook forward priority 0; \
         }}; add rule bridge fw guarded ether saddr {mac1} drop"
    );
    sw(&lab, &["nft", &rule]);
    d.wait_for("a bridge-family chain refuses acceleration", |s| {
        refused(s, "bridge fw guarded (1 rules)")
    });
    assert_eq!(
        ping(&lab, "h1", &h2, 2).received,
        0,
        "the bridge enforces it"
    );

    // --allow-netfilter: accelerated anyway (and the rule is bypassed, as documented).
    let exit = d.terminate();
    assert!(exit.success(), "{exit}");
    d.restart_with(&["--allow-netfilter"]);
    let status = d.wait_attached(&["p1", "p2"]);
    assert!(status.bridges[0].accelerated, "{:#?}", status.bridges[0]);
    sw(&lab, &["nft", "delete table bridge fw"]);
    d.wait_fast("h1", &h2, "p1");
}
