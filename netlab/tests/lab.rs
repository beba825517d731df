//! Privileged integration tests: real namespaces, real veths, real packets.

use netlab::{Lab, LabSpec, netns};
use std::path::Path;

/// Asserts that nothing of the lab is left: no namespace, no /etc/netns files, no state file.
fn assert_gone(id: &str, namespaces: &[String]) {
    for ns in namespaces {
        assert!(!netns::exists(ns), "namespace {ns} left behind");
        assert!(
            !Path::new(netns::NETNS_ETC_DIR).join(ns).exists(),
            "/etc/netns/{ns} left behind"
        );
    }
    let listed = testkit::lab::namespaces();
    assert!(
        !listed.contains(&format!("xl-{id}-")),
        "ip netns list still shows {id}: {listed}"
    );
    assert!(
        !Path::new(netlab::STATE_DIR)
            .join(format!("{id}.json"))
            .exists()
    );
}

fn root_veths() -> String {
    let out = std::process::Command::new("ip")
        .args(["-o", "link", "show", "type", "veth"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn hosts_ping_each_other_across_the_bridge() {
    testkit::privilege::require_lab();
    let lab = LabSpec::new(3).build().unwrap();
    for (from, to) in [("h1", "h2"), ("h1", "h3"), ("h3", "h2")] {
        let stats = lab.ping(from, to, 3).unwrap();
        assert_eq!(
            (stats.transmitted, stats.received),
            (3, 3),
            "{from} -> {to}"
        );
    }
    // Names resolve inside the lab through its /etc/netns hosts file.
    let out = lab
        .exec_ok("h2", &["ping", "-4", "-n", "-c", "1", "-W", "1", "h3"])
        .unwrap();
    assert!(out.contains("198.18.0.3"), "{out}");
    // IPv6 works too.
    let v6 = lab.host("h1").unwrap().ipv6.unwrap().to_string();
    lab.exec_ok("h3", &["ping", "-n", "-c", "1", "-W", "1", &v6])
        .unwrap();
    // The bridge really learned the hosts' MACs on their ports.
    let fdb = lab
        .exec_ok("sw", &["bridge", "fdb", "show", "br", "br0"])
        .unwrap();
    for h in lab.hosts() {
        assert!(
            fdb.lines()
                .any(|l| l.starts_with(&h.mac) && l.contains(&format!("dev {} ", h.port))),
            "{} not learned on {}: {fdb}",
            h.mac,
            h.port
        );
    }
}

#[test]
fn closures_run_inside_the_namespace() {
    testkit::privilege::require_lab();
    let lab = LabSpec::new(2).build().unwrap();
    let h1 = lab.host("h1").unwrap().ipv4;
    // The address exists only inside h1, so binding it proves where the closure ran.
    let bound = lab
        .run_in("h1", || std::net::UdpSocket::bind((h1, 0)).map(|_| ()))
        .unwrap();
    assert!(bound.is_ok(), "{bound:?}");
    assert!(
        std::net::UdpSocket::bind((h1, 0)).is_err(),
        "address visible outside the lab"
    );
    // UDP from h1 to a socket bound in h2 crosses the bridge.
    let h2 = lab.host("h2").unwrap().ipv4;
    let receiver = lab
        .run_in("h2", || std::net::UdpSocket::bind((h2, 9999)))
        .unwrap()
        .unwrap();
    receiver
        .set_read_timeout(Some(std::time::Duration::from_secs(3)))
        .unwrap();
    lab.run_in("h1", || {
        let s = std::net::UdpSocket::bind((h1, 0)).unwrap();
        s.send_to(b"across", (h2, 9999)).unwrap();
    })
    .unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = receiver.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"across");
    assert_eq!(from.ip(), std::net::IpAddr::V4(h1));
}

#[test]
fn a_panic_halfway_leaves_nothing_behind() {
    testkit::privilege::require_lab();
    let veths_before = root_veths();
    let mut seen = None;
    let mut straggler = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let lab = LabSpec::new(3).build().unwrap();
        seen = Some((lab.id().to_string(), lab.info().namespaces()));
        assert_eq!(lab.ping("h1", "h3", 1).unwrap().received, 1);
        // A process still running inside the lab must not keep a namespace alive.
        let child = lab
            .command("h2", "sleep")
            .unwrap()
            .arg("600")
            .spawn()
            .unwrap();
        straggler = Some(child);
        panic!("halfway through the lab's life");
    }));
    assert!(result.is_err());
    let (id, namespaces) = seen.expect("the lab was built");
    assert_gone(&id, &namespaces);
    let status = straggler.unwrap().wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the process inside the lab was not killed by the teardown"
    );
    assert_eq!(
        root_veths(),
        veths_before,
        "a link appeared in the root namespace"
    );
}

#[test]
fn a_failed_build_removes_what_it_created() {
    testkit::privilege::require_lab();
    // `lo` exists in every namespace, so adding a bridge by that name fails after the switch
    // namespace was created.
    let err = LabSpec::new(2)
        .name(format!("fail-{}", std::process::id()))
        .bridge("lo")
        .build();
    let err = err.expect_err("a bridge named lo cannot be created");
    assert!(err.to_string().contains("ip -n"), "{err}");
    let id = format!("fail-{}", std::process::id());
    assert_gone(
        &id,
        &[
            format!("xl-{id}-sw"),
            format!("xl-{id}-h1"),
            format!("xl-{id}-h2"),
        ],
    );
}

#[test]
fn parallel_labs_get_distinct_names_and_work() {
    testkit::privilege::require_lab();
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let lab = LabSpec::new(2).build().unwrap();
                    assert_eq!(lab.ping("h1", "h2", 2).unwrap().received, 2);
                    lab.id().to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "{ids:?}");
}

#[test]
fn names_are_exclusive_and_detached_labs_outlive_their_handle() {
    testkit::privilege::require_lab();
    let name = format!("det-{}", std::process::id());
    let lab = LabSpec::new(2).name(&name).build().unwrap();
    let dup = LabSpec::new(2).name(&name).build().unwrap_err();
    assert!(matches!(dup, netlab::Error::AlreadyExists(_)), "{dup}");
    let info = lab.detach().unwrap();
    assert_eq!(info.owner_pid, None);
    // Detached: still there after its handle is gone, found again by id.
    let reopened = Lab::open(&name).unwrap();
    assert_eq!(reopened.ping("h2", "h1", 1).unwrap().received, 1);
    assert!(netlab::list_labs().unwrap().iter().any(|l| l.id == name));
    drop(reopened);
    assert!(
        netns::exists(&format!("xl-{name}-sw")),
        "an opened lab must not vanish on drop"
    );
    Lab::open(&name).unwrap().teardown().unwrap();
    assert_gone(&name, &info.namespaces());
    assert!(matches!(
        Lab::open(&name),
        Err(netlab::Error::UnknownLab(_))
    ));
}

#[test]
fn options_reach_the_kernel() {
    testkit::privilege::require_lab();
    let lab = LabSpec::new(2)
        .bridge("brx")
        .mtu(9000)
        .bridge_address(true)
        .bridge_nf_call(false)
        .ipv6(false)
        .build()
        .unwrap();
    let nf = lab
        .run_in("sw", || {
            std::fs::read_to_string("/proc/sys/net/bridge/bridge-nf-call-iptables")
        })
        .unwrap()
        .unwrap();
    assert_eq!(nf.trim(), "0");
    let link = lab
        .exec_ok("h1", &["ip", "-o", "link", "show", "dev", "eth0"])
        .unwrap();
    assert!(link.contains("mtu 9000"), "{link}");
    // The bridge's own address answers, by name.
    lab.exec_ok("h2", &["ping", "-n", "-c", "1", "-W", "1", "sw"])
        .unwrap();
    // A jumbo frame crosses without fragmentation.
    lab.exec_ok(
        "h1",
        &[
            "ping",
            "-n",
            "-c",
            "1",
            "-W",
            "1",
            "-M",
            "do",
            "-s",
            "8972",
            "198.18.0.2",
        ],
    )
    .unwrap();
    assert!(lab.host("h1").unwrap().ipv6.is_none());
    let err = lab.exec("h9", &["true"]).unwrap_err();
    assert!(err.to_string().contains("sw, h1, h2"), "{err}");
}

#[test]
fn a_stale_handle_never_removes_a_new_lab_of_the_same_name() {
    testkit::privilege::require_lab();
    let name = format!("reuse-{}", std::process::id());
    let old = LabSpec::new(1).name(&name).build().unwrap();
    // Someone else removes it (as `xdpdbg lab down` would) and builds a new lab by that name.
    Lab::open(&name).unwrap().teardown().unwrap();
    let new = LabSpec::new(2).name(&name).build().unwrap();
    drop(old);
    assert!(
        netns::exists(&format!("xl-{name}-sw")),
        "the old handle removed the new lab"
    );
    assert_eq!(new.ping("h1", "h2", 1).unwrap().received, 1);
    let namespaces = new.info().namespaces();
    drop(new);
    assert_gone(&name, &namespaces);
}
