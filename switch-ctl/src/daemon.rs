//! `switch-ctl run`: the event loop that keeps the fast path equal to the bridge.
//!
//! Start: claim the pid file, load the data plane (adopting pins of an earlier daemon), dump
//! links, XDP features and the FDB, apply. Then one task reacts to rtnetlink notifications
//! (links and ports within one event, FDB entries one by one), to xdp-features notifications,
//! and to a 100 ms tick (ageing, the netfilter sysctls, the status file). A netlink overrun
//! triggers a full resync. SIGTERM, SIGINT and SIGHUP stop it: every port is detached and every
//! pin removed, so the plain bridge forwards alone. `kill -9` leaves the pinned fast path
//! forwarding, and the next daemon adopts it.

use crate::ageing::{self, Ager, Removal};
use crate::dataplane::DataPlane;
use crate::layout::Layout;
use crate::netlink::xdp_features::{self, FeatureEvent, FeatureWatch};
use crate::netlink::{Event, Netlink};
use crate::plan::{self, Kernel, Options, Plan};
use crate::status::{self, BridgeStatus, DaemonStatus, PortStatus, Status};
use crate::{fdb, netfilter};
use anyhow::Context as _;
use futures::FutureExt as _;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switch_ebpf::types::{FdbKey, port_flags};
use tokio::signal::unix::{SignalKind, signal};

/// Runs the daemon in the current network namespace until a signal stops it.
pub fn run(options: Options, layout: Layout, netns: String) -> anyhow::Result<()> {
    use preflight::Capability;
    preflight::require_capabilities(&[Capability::Bpf, Capability::NetAdmin])
        .context("switch-ctl run loads eBPF programs and changes links: run it as root")?;
    claim_pid_file(&layout)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Installed before anything is attached, so a SIGTERM during start-up is not fatal.
        let mut signals = Signals::install()?;
        let mut daemon = Daemon::start(options, layout.clone(), netns).await?;
        // Whatever happens next (an error, a panic), the ports are detached on the way out.
        let served = AssertUnwindSafe(async {
            tokio::select! {
                resynced = daemon.resync() => resynced?,
                () = signals.wait() => return Ok(()),
            }
            daemon.serve(signals).await
        })
        .catch_unwind()
        .await;
        daemon.stop().await;
        match served {
            Ok(result) => result,
            Err(_) => anyhow::bail!("the daemon panicked; every port was detached"),
        }
    })
}

/// Writes our pid, refusing when a live daemon already serves this namespace.
fn claim_pid_file(layout: &Layout) -> anyhow::Result<()> {
    status::create_private_dir(&layout.run_dir)?;
    if let Some(pid) = std::fs::read_to_string(layout.pid_file())
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        && pid != std::process::id()
        && status::alive(pid)
    {
        anyhow::bail!(
            "a switch-ctl daemon (pid {pid}) already serves this network namespace; \
             `switch-ctl stop` stops it"
        );
    }
    std::fs::write(layout.pid_file(), format!("{}\n", std::process::id()))
        .context("cannot write the pid file")
}

struct Daemon {
    options: Options,
    layout: Layout,
    netlink: Netlink,
    events: crate::netlink::Events,
    features: tokio::sync::mpsc::UnboundedReceiver<FeatureEvent>,
    plane: Option<DataPlane>,
    ager: Ager,
    kernel: Kernel,
    plan: Plan,
    errors: BTreeMap<u32, String>,
    status: DaemonStatus,
    last_ageing: Instant,
    last_status: Instant,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn log(message: impl std::fmt::Display) {
    eprintln!("switch-ctl: {message}");
}

impl Daemon {
    async fn start(options: Options, layout: Layout, netns: String) -> anyhow::Result<Daemon> {
        let plane = DataPlane::open(&layout)?;
        let ager = Ager::new(plane.maps.fdb_raw.fd.try_clone()?)?;
        let (netlink, events) = Netlink::open()
            .await
            .context("cannot open rtnetlink sockets")?;
        let features = watch_features()?;
        let status = DaemonStatus {
            pid: std::process::id(),
            running: true,
            netns,
            pin_dir: layout.pin_dir.display().to_string(),
            started_unix: unix_now(),
            last_resync_unix: 0,
            resyncs: 0,
            overruns: 0,
            allow_netfilter: options.allow_netfilter,
        };
        let daemon = Daemon {
            options,
            layout,
            netlink,
            events,
            features,
            plane: Some(plane),
            ager,
            kernel: Kernel::default(),
            plan: Plan::default(),
            errors: BTreeMap::new(),
            status,
            last_ageing: Instant::now(),
            last_status: Instant::now(),
        };
        Ok(daemon)
    }

    fn plane(&mut self) -> &mut DataPlane {
        self.plane
            .as_mut()
            .expect("the data plane lives until stop")
    }

    /// Detaches every port, removes the pins and the runtime files.
    async fn stop(&mut self) {
        if let Some(plane) = self.plane.take() {
            plane.teardown(&self.netlink).await;
        }
        crate::dataplane::remove_pins(&self.layout);
        let _ = std::fs::remove_dir_all(&self.layout.run_dir);
    }

    async fn serve(&mut self, mut signals: Signals) -> anyhow::Result<()> {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.events.next() => match event {
                    Some(event) => self.on_event(event).await?,
                    None => anyhow::bail!("the rtnetlink connection closed"),
                },
                Some(event) = self.features.recv() => self.on_features(event).await?,
                _ = tick.tick() => self.on_tick().await?,
                () = signals.wait() => break,
            }
        }
        log("stopping: detaching every port and removing the pins");
        Ok(())
    }

    /// Reads everything again from the kernel and applies it.
    async fn resync(&mut self) -> anyhow::Result<()> {
        let links = self.netlink.links().await.context("link dump failed")?;
        self.kernel.links = links.into_iter().map(|l| (l.ifindex, l)).collect();
        self.kernel.features = xdp_features::dump().unwrap_or_else(|e| {
            log(format!(
                "cannot read xdp-features ({e}); XDP redirects stay off"
            ));
            Default::default()
        });
        self.kernel.netfilter = netfilter::active_hooks();
        self.replan().await;
        let links: Vec<_> = self.kernel.links.values().collect();
        let plane = self.plane.as_ref().expect("the data plane lives");
        plane.sweep(&self.netlink, &links).await;
        let entries = self.netlink.fdb().await.context("FDB dump failed")?;
        let plan = self.plan.clone();
        let stats = fdb::resync(&mut self.plane().maps, &entries, &plan)?;
        self.status.resyncs += 1;
        self.status.last_resync_unix = unix_now();
        log(format!(
            "resync: {} bridges, {} ports, {} FDB entries in the fast path ({} written, {} removed)",
            self.plan.bridges.len(),
            self.plan.ports.len(),
            stats.entries,
            stats.written,
            stats.removed
        ));
        self.write_status();
        Ok(())
    }

    /// Recomputes the plan and applies it to ports. Returns whether the set of accelerated
    /// bridges changed (the FDB then needs a resync).
    async fn replan(&mut self) -> bool {
        let plane = self.plane.as_ref().expect("the data plane lives");
        let plan = plan::plan(&self.kernel, &self.options, &|id| plane.is_ours(id));
        let accelerated = |p: &Plan| -> Vec<u32> {
            p.bridges
                .iter()
                .filter(|b| b.accelerated)
                .map(|b| b.ifindex)
                .collect()
        };
        let changed = accelerated(&plan) != accelerated(&self.plan);
        let before = self.plane().attached();
        let netlink = self.netlink.clone();
        let failed = self.plane().apply(&netlink, &plan).await;
        let after = self.plane().attached();
        for (ifindex, mode) in &after {
            if before.get(ifindex) != Some(mode) {
                log(format!("attached {} ({mode})", port_name(&plan, *ifindex)));
            }
        }
        for ifindex in before.keys().filter(|i| !after.contains_key(i)) {
            log(format!("detached {}", port_name(&self.plan, *ifindex)));
        }
        self.errors = failed.into_iter().collect();
        for (ifindex, error) in &self.errors {
            log(format!("port {}: {error}", port_name(&plan, *ifindex)));
        }
        self.plan = plan;
        changed
    }

    async fn on_event(&mut self, event: Event) -> anyhow::Result<()> {
        match event {
            Event::Link(link) => {
                if !self.kernel.features.contains_key(&link.ifindex)
                    && let Ok(all) = xdp_features::dump()
                {
                    self.kernel.features = all;
                }
                self.kernel.links.insert(link.ifindex, link);
                self.relink().await?;
            }
            Event::LinkRemoved { ifindex } => {
                self.kernel.links.remove(&ifindex);
                self.kernel.features.remove(&ifindex);
                self.relink().await?;
            }
            Event::PortRemoved { ifindex } => {
                match self.netlink.link(ifindex).await? {
                    Some(link) => self.kernel.links.insert(ifindex, link),
                    None => self.kernel.links.remove(&ifindex),
                };
                self.relink().await?;
            }
            Event::Fdb(entry) => {
                if let Some((key, port, flags)) = plan::fdb_entry(&entry, &self.plan) {
                    fdb::upsert(&mut self.plane().maps, key, port, flags)?;
                }
            }
            Event::FdbRemoved(entry) => self.on_fdb_removed(&entry).await?,
            Event::Overrun => {
                self.status.overruns += 1;
                log("netlink overrun (ENOBUFS): resyncing everything");
                self.resync().await?;
            }
        }
        Ok(())
    }

    /// After a link change: replan, and resync the FDB if bridges changed acceleration.
    async fn relink(&mut self) -> anyhow::Result<()> {
        if self.replan().await {
            self.resync().await?;
        } else {
            self.write_status();
        }
        Ok(())
    }

    async fn on_fdb_removed(&mut self, entry: &crate::netlink::FdbEntry) -> anyhow::Result<()> {
        let bridge = entry.bridge.unwrap_or(entry.port);
        let key = FdbKey::new(bridge, entry.mac);
        let Ok(current) = self.plane().maps.fdb.get(&key, 0) else {
            return Ok(());
        };
        if current.ifindex != entry.port {
            return Ok(()); // the MAC has moved on; this removal is about the old port
        }
        // Static and local entries (STATIC in the map) simply go: Ager::removed does that too.
        let usable = self.plan.ports.get(&entry.port).is_some_and(|p| {
            let need = port_flags::FORWARDING | port_flags::UP;
            p.bridge == bridge && p.flags & need == need
        });
        let now = ageing::now_ns();
        let plane = self.plane.as_mut().expect("the data plane lives");
        match self.ager.removed(&mut plane.maps, key, usable, now)? {
            Removal::Removed => {}
            Removal::Relearn { port } => {
                if let Err(e) = self.netlink.fdb_add_dynamic(port, entry.mac).await {
                    log(format!("cannot put an active FDB entry back: {e}"));
                }
            }
        }
        Ok(())
    }

    async fn on_features(&mut self, event: FeatureEvent) -> anyhow::Result<()> {
        match event {
            FeatureEvent::Changed { ifindex, features } => {
                self.kernel.features.insert(ifindex, features);
            }
            FeatureEvent::Removed { ifindex } => {
                self.kernel.features.remove(&ifindex);
            }
            FeatureEvent::Overrun => {
                self.kernel.features = xdp_features::dump().unwrap_or_default();
            }
        }
        self.relink().await
    }

    async fn on_tick(&mut self) -> anyhow::Result<()> {
        let hooks = netfilter::active_hooks();
        if hooks != self.kernel.netfilter {
            log(format!("bridge netfilter hooks now: {hooks:?}"));
            self.kernel.netfilter = hooks;
            self.relink().await?;
        }
        let shortest = self
            .plan
            .bridges
            .iter()
            .filter(|b| b.accelerated && b.ageing_time_ms > 0)
            .map(|b| b.ageing_time_ms)
            .min()
            .unwrap_or(300_000);
        if self.last_ageing.elapsed() >= ageing::tick_period(shortest) {
            self.last_ageing = Instant::now();
            let plan = &self.plan;
            let ageing_ms = |bridge: u32| plan.bridge(bridge).map_or(0, |b| b.ageing_time_ms);
            let plane = self.plane.as_ref().expect("the data plane lives");
            let due = self.ager.due(&plane.maps, ageing_ms, ageing::now_ns());
            for (port, mac) in due {
                if let Err(e) = self.netlink.fdb_use(port, mac).await {
                    log(format!("cannot refresh an FDB entry in the bridge: {e}"));
                }
            }
        }
        if self.last_status.elapsed() >= Duration::from_secs(1) {
            self.write_status();
        }
        Ok(())
    }

    fn write_status(&mut self) {
        self.last_status = Instant::now();
        let plane = self.plane.as_ref().expect("the data plane lives");
        let attached = plane.attached();
        let slots = plane.slots();
        let bridges = self
            .plan
            .bridges
            .iter()
            .map(|b| BridgeStatus {
                name: b.name.clone(),
                ifindex: b.ifindex,
                accelerated: b.accelerated,
                reason: b.reason.clone(),
                ageing_time_ms: b.ageing_time_ms,
                fdb_entries: 0,
                ports: self
                    .plan
                    .ports
                    .values()
                    .filter(|p| p.bridge == b.ifindex)
                    .map(|p| PortStatus {
                        name: p.name.clone(),
                        ifindex: p.ifindex,
                        requested: p.requested,
                        mode: p.mode,
                        reason: p.reason.clone(),
                        attached: p.mode.is_some() && attached.get(&p.ifindex) == p.mode.as_ref(),
                        error: self.errors.get(&p.ifindex).cloned(),
                        flags: status::flag_names(p.flags),
                        slot: slots.get(&p.ifindex).copied(),
                        counters: None,
                    })
                    .collect(),
            })
            .collect();
        let status = Status {
            daemon: self.status.clone(),
            bridges,
        };
        if let Err(e) = status::write(&self.layout, &status) {
            log(format!("cannot write the status file: {e:#}"));
        }
    }
}

/// SIGTERM, SIGINT and SIGHUP: each stops the daemon.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
            _ = self.hup.recv() => {}
        }
    }
}

fn port_name(plan: &Plan, ifindex: u32) -> String {
    plan.ports
        .get(&ifindex)
        .map_or_else(|| format!("ifindex {ifindex}"), |p| p.name.clone())
}

/// Follows xdp-features notifications in a thread (the socket is blocking).
fn watch_features() -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<FeatureEvent>> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    match FeatureWatch::open() {
        Ok(mut watch) => {
            std::thread::Builder::new()
                .name("xdp-features".into())
                .spawn(move || {
                    while let Ok(event) = watch.next() {
                        if tx.send(event).is_err() {
                            break;
                        }
                    }
                })
                .context("cannot start the xdp-features thread")?;
        }
        Err(e) => log(format!(
            "cannot follow xdp-features ({e}); XDP redirect targets are read at resync only"
        )),
    }
    Ok(rx)
}
