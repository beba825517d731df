//! FDB ageing under the fast path, end to end: the paper's map-exclusion race, under stress.
//!
//! With a 2 s ageing time, h1 and h2 ping each other every 10 ms for 10 s. The fast path
//! carries the frames, so the bridge sees only the one frame per MAC per refresh interval
//! (500 ms) the data plane passes to it; only those keep its entries alive. Meanwhile a chaos
//! thread makes the bridge run its ageing every 150-450 ms (setting `ageing_time` runs the
//! bridge's FDB garbage collection at once), so the bridge ages its entries at arbitrary
//! moments, racing the data plane claiming refresh frames. The assertions: no active entry
//! ever ages out (the bridge has both entries at the end; the data plane never missed either
//! MAC), and h3 never receives a single frame addressed to h1 or h2: nothing was flooded.
//! Then the traffic stops and the idle entries age out of the bridge and of the fast path on
//! the bridge's own ageing time.
//!
//! (An operator's `bridge fdb del` is not ageing: it stands until the next frame, with the
//! plain bridge's flood; `tests/fdb.rs` tests it.)

mod common;

use common::{Daemon, mac, parse_mac, passed};
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The learned (dynamic) entries of br0, as "mac port" lines.
fn learned(lab: &netlab::Lab) -> String {
    let out = lab
        .exec_ok("sw", &["bridge", "fdb", "show", "br", "br0"])
        .expect("bridge fdb show runs");
    out.lines()
        .filter(|l| !l.contains("permanent") && !l.contains("static"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A raw packet socket in `host`'s namespace that sees every frame its eth0 receives.
fn sniffer(lab: &netlab::Lab, host: &str) -> OwnedFd {
    lab.run_in(host, || {
        let proto = (libc::ETH_P_ALL as u16).to_be() as i32;
        // SAFETY: plain socket(2) call; the result is checked before being owned.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, proto) };
        assert!(fd >= 0, "cannot open a packet socket");
        // SAFETY: fd is a fresh, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 100_000,
        };
        // SAFETY: setsockopt with a valid timeval of the right size.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                size_of::<libc::timeval>() as u32,
            )
        };
        assert_eq!(rc, 0, "cannot set a receive timeout");
        fd
    })
    .expect("enter the host namespace")
}

/// Counts frames whose destination is one of `macs` until `stop`.
fn count_flooded(fd: OwnedFd, macs: Vec<[u8; 6]>, stop: Arc<AtomicBool>) -> u64 {
    let mut flooded = 0;
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: recv into a buffer we own, of the length given.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n >= 6 && macs.iter().any(|m| buf[..6] == m[..]) {
            flooded += 1;
        }
    }
    flooded
}

/// The daemon's control files and pins are readable and writable by root only.
fn assert_root_only(daemon: &Daemon) {
    use std::os::unix::fs::PermissionsExt as _;
    let (pin_dir, run_dir) = daemon.dirs();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&run_dir), 0o700, "{}", run_dir.display());
    assert_eq!(mode(&run_dir.join("status.json")), 0o600);
    assert_eq!(mode(&pin_dir), 0o700, "{}", pin_dir.display());
    for pin in std::fs::read_dir(&pin_dir).unwrap() {
        let pin = pin.unwrap().path();
        assert_eq!(
            mode(&pin) & 0o077,
            0,
            "{} is readable by others",
            pin.display()
        );
    }
}

#[test]
fn no_active_entry_ever_ages_out_and_idle_ones_do() {
    let lab = common::build(netlab::LabSpec::new(3).bridge_nf_call(false).ipv6(false));
    common::set_ageing_time(&lab, 200); // 2 s
    let daemon = Daemon::start(&lab, &[]);
    assert_root_only(&daemon);

    let (mac1, mac2) = (mac(&lab, "h1"), mac(&lab, "h2"));
    // Teach the bridge both MACs, and let the fast path see them.
    assert_eq!(lab.ping("h1", "h2", 3).expect("ping runs").received, 3);
    let before1 = daemon.counters("p1");
    let before2 = daemon.counters("p2");

    let stop = Arc::new(AtomicBool::new(false));
    let sniff = sniffer(&lab, "h3");
    let watcher = {
        let (stop, macs) = (stop.clone(), vec![parse_mac(&mac1), parse_mac(&mac2)]);
        std::thread::spawn(move || count_flooded(sniff, macs, stop))
    };
    // The chaos: the bridge ages its entries at arbitrary moments while they are busy.
    let chaos = {
        let (stop, netns) = (stop.clone(), lab.switch_netns().to_string());
        std::thread::spawn(move || {
            let mut ageing_runs = 0;
            let mut step = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let ok = netlab::netns::command(&netns, "ip")
                    .args(["link", "set", "br0", "type", "bridge", "ageing_time", "200"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                ageing_runs += u32::from(ok);
                step += 1;
                std::thread::sleep(Duration::from_millis(150 + (step * 97) % 300));
            }
            ageing_runs
        })
    };
    let ping = lab
        .exec(
            "h1",
            &["ping", "-q", "-i", "0.01", "-w", "10", "198.18.0.2"],
        )
        .expect("ping runs");
    stop.store(true, Ordering::Relaxed);
    let ageing_runs = chaos.join().expect("the chaos thread");
    let flooded = watcher.join().expect("the sniffer thread");
    let stats = netlab::PingStats::parse(&String::from_utf8_lossy(&ping.stdout))
        .expect("ping prints statistics");

    assert!(
        ageing_runs >= 20,
        "the chaos ran the bridge's ageing only {ageing_runs} times"
    );
    assert!(
        stats.transmitted >= 500,
        "ping sent only {}",
        stats.transmitted
    );
    assert_eq!(
        stats.received, stats.transmitted,
        "ping lost replies while the entries were being raced"
    );
    assert_eq!(
        flooded, 0,
        "h3 received {flooded} frames addressed to h1 or h2: an active entry was aged out"
    );
    let after1 = daemon.counters("p1");
    let after2 = daemon.counters("p2");
    // Every echo request took the fast path, but for h1's one frame per refresh interval
    // that went to the bridge to refresh its entry (about 20 in 10 s).
    let refreshed = passed(&after1, "refresh") - passed(&before1, "refresh");
    assert!(
        after1.fast_packets - before1.fast_packets + refreshed >= stats.transmitted as u64,
        "the fast path did not carry the pings: {after1:?}"
    );
    assert!(
        (10..=60).contains(&refreshed),
        "10 s at a 500 ms refresh interval should pass about 20 of h1's frames to the bridge,          not {refreshed}"
    );
    for (after, before) in [(&after1, &before1), (&after2, &before2)] {
        for reason in ["source", "fdb_miss"] {
            let missed = passed(after, reason) - passed(before, reason);
            assert_eq!(
                missed, 0,
                "the data plane missed an active entry ({reason})"
            );
        }
    }
    let table = learned(&lab);
    assert!(
        table.contains(&mac1) && table.contains(&mac2),
        "after 10 s of fast-path traffic (5 ageing times) the bridge lost an entry:\n{table}"
    );

    // Idle now: both entries go on the bridge's ageing time (2 s; the bridge checks at most
    // every ageing time), from the bridge and from the fast path.
    let entries = || daemon.status().bridges[0].fdb_entries;
    let busy = entries();
    let deadline = Instant::now() + Duration::from_secs(12);
    loop {
        let table = learned(&lab);
        if !table.contains(&mac1) && !table.contains(&mac2) && entries() + 2 <= busy {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "idle entries did not age out within 12 s:\n{table}\nfast path: {} entries",
            entries()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
