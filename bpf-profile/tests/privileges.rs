//! Faults a user meets, on the real kernel: JIT and kernel addresses hidden from a process
//! without CAP_SYSLOG, perf refused without CAP_PERFMON, events this machine lacks, rates above
//! the kernel's limit; and attach points of a real XDP link, in a private network namespace.
//! Each fault must come back as a typed error that says how to fix it, and no kernel setting
//! may change. Needs root (the test drops capabilities in one thread only).

use std::os::fd::AsFd;

use bpf_profile::attach::AttachPoint;
use bpf_profile::inventory::Inventory;
use bpf_profile::kallsyms::{KallsymsError, KernelSymbols};
use bpf_profile::owners::Hold;
use bpf_profile::sampler::{Event, EventChoice, Sampler, SamplerConfig, SamplerError};
use bpf_profile::symbols::{ProgramSymbols, SymbolError};
use bpf_sys::ProgFd;
use caps::{CapSet, Capability};

fn sysctl(name: &str) -> i64 {
    std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Runs `f` on a thread of its own that has first dropped `drop` from its effective
/// capabilities (capabilities are per thread, so the rest of the process keeps them).
fn without<T: Send>(drop: &[Capability], f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            for cap in drop {
                caps::drop(None, CapSet::Effective, *cap).expect("drop a capability");
            }
            f()
        })
        .join()
        .expect("the thread does not panic")
    })
}

fn prog_id(ebpf: &aya::Ebpf) -> u32 {
    let xdp: &aya::programs::Xdp = ebpf.program("hot_spot").unwrap().try_into().unwrap();
    let fd = xdp.fd().unwrap().as_fd().try_clone_to_owned().unwrap();
    ProgFd::from_fd(fd).info().unwrap().id
}

/// Runs `f` on a thread in a network namespace of its own (its `lo` is the only interface
/// there); the namespace goes when the thread ends.
fn in_private_netns(f: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: unshare with CLONE_NEWNET moves only this thread to a new namespace.
            let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
            assert_eq!(
                rc,
                0,
                "unshare(CLONE_NEWNET): {}",
                std::io::Error::last_os_error()
            );
            f();
        })
        .join()
        .unwrap();
    });
}

#[test]
fn hidden_addresses_are_a_typed_error_with_the_fix() {
    testkit::privilege::require_root(
        "loading eBPF programs, opening perf events and dropping capabilities in a thread",
    );
    let ebpf = testkit::fixture::load_xdp("hot_spot", "hot_spot").0;
    let id = prog_id(&ebpf);
    // The kernel shows raw addresses to readers with CAP_SYSLOG, or to anyone when
    // kptr_restrict is 0 and perf_event_paranoid at most 1.
    let shown_anyway = sysctl("kptr_restrict") == 0 && sysctl("perf_event_paranoid") <= 1;
    let before = (sysctl("kptr_restrict"), sysctl("perf_event_paranoid"));
    let (symbols, kallsyms) = without(&[Capability::CAP_SYSLOG], || {
        // The fd must be opened by this thread: the kernel checks the opener's credentials.
        let info = ProgFd::from_id(id).unwrap().full_info().unwrap();
        (
            ProgramSymbols::build(&info).map(|_| ()),
            KernelSymbols::load().map(|_| ()),
        )
    });
    if shown_anyway {
        symbols.expect("addresses are shown with kptr_restrict=0 and paranoid<=1");
        kallsyms.expect("idem");
    } else {
        let e = symbols.unwrap_err();
        eprintln!("{e}");
        assert!(
            matches!(e, SymbolError::AddressesHidden { id: i } if i == id),
            "{e}"
        );
        assert!(e.to_string().contains("kptr_restrict=0"), "{e}");
        let e = kallsyms.unwrap_err();
        eprintln!("{e}");
        assert!(matches!(e, KallsymsError::AddressesHidden), "{e}");
        assert!(e.to_string().contains("run as root"), "{e}");
    }
    assert_eq!(
        before,
        (sysctl("kptr_restrict"), sysctl("perf_event_paranoid"))
    );
}

#[test]
fn perf_refused_is_a_typed_error_with_the_fix() {
    testkit::privilege::require_root(
        "loading eBPF programs, opening perf events and dropping capabilities in a thread",
    );
    let paranoid = sysctl("perf_event_paranoid");
    let result = without(
        &[Capability::CAP_PERFMON, Capability::CAP_SYS_ADMIN],
        || Sampler::open(SamplerConfig::default()).map(|s| s.event()),
    );
    if paranoid <= 0 {
        // Everyone may sample every CPU: nothing to refuse.
        result.expect("sampling is open to everyone with perf_event_paranoid <= 0");
    } else {
        let e = result.unwrap_err();
        eprintln!("{e}");
        assert!(
            matches!(e, SamplerError::NotPermitted { paranoid: Some(p), .. } if i64::from(p) == paranoid),
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.contains("CAP_PERFMON") && text.contains("perf_event_paranoid"),
            "{text}"
        );
    }
    assert_eq!(sysctl("perf_event_paranoid"), paranoid, "left as found");
}

#[test]
fn events_and_rates_the_machine_lacks() {
    testkit::privilege::require_root(
        "loading eBPF programs, opening perf events and dropping capabilities in a thread",
    );
    let max = sysctl("perf_event_max_sample_rate");
    let only = |event| SamplerConfig {
        event: EventChoice::Only(event),
        ..SamplerConfig::default()
    };
    match Sampler::open(only(Event::Cycles)) {
        Ok(s) => assert_eq!(s.event(), Event::Cycles),
        Err(e @ SamplerError::Unsupported { .. }) => {
            eprintln!("{e}");
            let SamplerError::Unsupported { event, .. } = e else {
                unreachable!()
            };
            assert_eq!(event, Event::Cycles);
            let auto = Sampler::open(SamplerConfig::default()).unwrap();
            assert_eq!(
                auto.event(),
                Event::CpuClock,
                "auto falls back to cpu-clock"
            );
        }
        Err(e) => panic!("{e}"),
    }
    assert_eq!(
        Sampler::open(only(Event::CpuClock)).unwrap().event(),
        Event::CpuClock
    );
    let too_fast = SamplerConfig {
        frequency_hz: max as u64 + 1,
        ..SamplerConfig::default()
    };
    let e = Sampler::open(too_fast).unwrap_err();
    eprintln!("{e}");
    assert!(matches!(e, SamplerError::FrequencyTooHigh { .. }), "{e}");
    assert_eq!(sysctl("perf_event_max_sample_rate"), max, "left as found");
}

#[test]
fn an_xdp_link_names_its_interface_and_owner() {
    testkit::privilege::require_root(
        "loading eBPF programs, opening perf events and dropping capabilities in a thread",
    );
    // A thread in a network namespace of its own: its `lo` is the only interface touched.
    in_private_netns(|| {
        let mut ebpf = testkit::fixture::load_xdp("hot_spot", "hot_spot").0;
        let id = prog_id(&ebpf);
        let xdp: &mut aya::programs::Xdp =
            ebpf.program_mut("hot_spot").unwrap().try_into().unwrap();
        xdp.attach("lo", aya::programs::xdp::XdpMode::Skb)
            .expect("attach to this namespace's lo");
        let snapshot = Inventory::new().refresh().unwrap();
        let me = snapshot.programs.iter().find(|p| p.id == id).unwrap();
        assert_eq!(me.attachments.len(), 1, "{:?}", me.attachments);
        assert_eq!(
            me.attachments[0].point,
            AttachPoint::Interface {
                hook: "xdp".into(),
                ifindex: 1,
                ifname: Some("lo".into())
            }
        );
        let pid = std::process::id();
        for hold in [Hold::ProgFd, Hold::LinkFd] {
            assert!(
                me.owners.iter().any(|o| o.pid == pid && o.hold == hold),
                "{hold:?} in {:?}",
                me.owners
            );
        }
        // Dropping aya's object detaches and unloads; the namespace goes with the thread.
        drop(ebpf);
    });
}

#[test]
fn a_raw_tracepoint_link_names_its_tracepoint() {
    testkit::privilege::require_root(
        "loading eBPF programs, opening perf events and dropping capabilities in a thread",
    );
    let f = fixtures::get("count_switches").unwrap();
    let mut ebpf = aya::Ebpf::load(f.object).unwrap();
    let tp: &mut aya::programs::RawTracePoint = ebpf
        .program_mut("count_switches")
        .unwrap()
        .try_into()
        .unwrap();
    tp.load().unwrap();
    let fd = tp.fd().unwrap().as_fd().try_clone_to_owned().unwrap();
    let id = ProgFd::from_fd(fd).info().unwrap().id;
    tp.attach("sched_switch").expect("attach to sched_switch");
    let snapshot = Inventory::new().refresh().unwrap();
    let me = snapshot.programs.iter().find(|p| p.id == id).unwrap();
    assert_eq!(me.prog_type, "raw_tracepoint");
    assert_eq!(
        me.attachments.iter().map(|a| &a.point).collect::<Vec<_>>(),
        [&AttachPoint::Tracepoint {
            name: "sched_switch".into(),
            raw: true
        }]
    );
    drop(ebpf);
}

#[test]
fn xdp_attached_over_netlink_is_found_without_a_link() {
    testkit::privilege::require_root(
        "loading eBPF programs, opening perf events and dropping capabilities in a thread",
    );
    let object = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(object.path(), fixtures::get("hot_spot").unwrap().object).unwrap();
    // A network namespace of this thread's own; `ip`, started from it, attaches there.
    in_private_netns(|| {
        // iproute2 pins into the bpffs at /sys/fs/bpf (tc/globals): give it a bpffs of its
        // own in a private mount namespace, so nothing is left on the host's.
        let status = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg("mount -t bpf bpf /sys/fs/bpf && exec ip \"$@\"")
            .args(["ip", "link", "set", "dev", "lo", "xdpgeneric", "obj"])
            .arg(object.path())
            .args(["sec", "xdp"])
            .status()
            .expect("run unshare (util-linux) and ip (iproute2)");
        assert!(
            status.success(),
            "ip link set dev lo xdpgeneric obj ...: {status}"
        );
        let found = bpf_profile::netlink_xdp::attached().unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].ifname.as_str(), found[0].mode),
            ("lo", bpf_profile::netlink_xdp::XdpMode::Generic)
        );
        let snapshot = Inventory::new().refresh().unwrap();
        let me = snapshot
            .programs
            .iter()
            .find(|p| p.id == found[0].prog_id)
            .unwrap();
        assert_eq!(me.name, "hot_spot");
        assert_eq!(me.attachments.len(), 1, "{:?}", me.attachments);
        assert_eq!(me.attachments[0].link_id, None);
        assert_eq!(
            me.attachments[0].point,
            AttachPoint::Interface {
                hook: "xdp_generic".into(),
                ifindex: 1,
                ifname: Some("lo".into())
            }
        );
        assert!(me.owners.is_empty(), "ip has exited: {:?}", me.owners);
        // The namespace, its lo and the program go when this thread ends.
    });
}
