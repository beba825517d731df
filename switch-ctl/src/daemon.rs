//! `switch-ctl run`: the event loop that keeps the fast path equal to the bridge.
//!
//! Start: claim the pid file, load the data plane (adopting pins of an earlier daemon), dump
//! links, XDP features and the FDB, apply. Then one task reacts to rtnetlink notifications
//! (links and ports within one event, FDB entries one by one), to xdp-features notifications,
//! and to a 100 ms tick (ageing, the netfilter sysctls, the status file). A netlink overrun
//! triggers a full resync. SIGTERM, SIGINT and SIGHUP stop it: every port is detached and every
//! pin removed, so the plain bridge forwards alone. `kill -9` leaves the pinned fast path
//! forwarding, and the next daemon adopts it.

use crate::ageing::{AgeingError, Ager};
use crate::daemon_dirs::DaemonDirs;
use crate::dataplane::{DataPlane, DataPlaneError};
use crate::netlink::nftables;
use crate::netlink::xdp_features::{self, FeatureEvent, FeatureWatch};
use crate::netlink::{Event, Netlink, NetlinkError};
use crate::pid_file::{self, ClaimError};
use crate::plan::{self, Kernel, Options, Plan};
use crate::status::{self, BridgeStatus, DaemonStatus, PortStatus, Status};
use crate::{fdb_mirror, netfilter, pinned_maps};
use bpf_maps::cas::CasError;
use futures::FutureExt as _;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switch_ebpf::types::FdbKey;
use tokio::signal::unix::{SignalKind, signal};

/// Why the daemon could not start, or stopped other than by a signal.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Missing privileges.
    #[error("switch-ctl run loads eBPF programs and changes links: run it as root")]
    Privileges(#[source] preflight::Error),
    /// The pid file could not be claimed (another daemon serves the namespace).
    #[error(transparent)]
    PidFile(#[from] ClaimError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The signal handlers could not be installed.
    #[error(transparent)]
    Signals(std::io::Error),
    /// The data plane could not be loaded.
    #[error(transparent)]
    DataPlane(#[from] DataPlaneError),
    /// The `fdb` map's descriptor could not be duplicated for the ager.
    #[error(transparent)]
    AgerMap(std::io::Error),
    /// The compare-and-swap program behind ageing could not be loaded.
    #[error(transparent)]
    AgerLoad(#[from] CasError),
    /// Ageing an entry out of the fast path failed.
    #[error(transparent)]
    Ageing(#[from] AgeingError),
    /// The rtnetlink sockets could not be opened.
    #[error("cannot open rtnetlink sockets")]
    OpenNetlink(#[source] NetlinkError),
    /// The thread following xdp-features could not start.
    #[error("cannot start the xdp-features thread")]
    FeaturesThread(#[source] std::io::Error),
    /// Dumping the links failed.
    #[error("link dump failed")]
    LinkDump(#[source] NetlinkError),
    /// Dumping the FDB failed.
    #[error("FDB dump failed")]
    FdbDump(#[source] NetlinkError),
    /// Another netlink request failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// Writing the fast path's FDB failed.
    #[error(transparent)]
    FdbMap(#[from] aya::maps::MapError),
    /// The kernel closed the notification connection.
    #[error("the rtnetlink connection closed")]
    NetlinkClosed,
    /// The metrics socket could not be served.
    #[error("cannot serve metrics")]
    Metrics(#[source] std::io::Error),
    /// The event loop panicked (the ports were detached anyway).
    #[error("the daemon panicked; every port was detached")]
    Panicked,
}

/// Runs the daemon in the current network namespace until a signal stops it, with an FDB map
/// of `fdb_entries` entries. With `metrics` (a listening socket, bound wherever the caller
/// chose, before entering a namespace), it answers Prometheus scrapes there
/// ([`crate::metrics`]).
pub fn run(
    options: Options,
    dirs: DaemonDirs,
    netns: String,
    metrics: Option<std::net::TcpListener>,
    fdb_entries: u32,
) -> Result<(), DaemonError> {
    use preflight::Capability;
    preflight::require_capabilities(&[Capability::Bpf, Capability::NetAdmin])
        .map_err(DaemonError::Privileges)?;
    pid_file::claim(&dirs)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    runtime.block_on(async {
        // Installed before anything is attached, so a SIGTERM during start-up is not fatal.
        let mut signals = Signals::install().map_err(DaemonError::Signals)?;
        if let Some(listener) = metrics {
            let listener = listener
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(listener))
                .map_err(DaemonError::Metrics)?;
            tokio::spawn(crate::metrics::serve(listener, dirs.clone()));
        }
        let mut daemon = Daemon::start(options, dirs, netns, fdb_entries).await?;
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
            Err(_) => Err(DaemonError::Panicked),
        }
    })
}

/// A running daemon. It owns the loaded data plane from start to [`Daemon::stop`], which
/// consumes both.
struct Daemon {
    options: Options,
    dirs: DaemonDirs,
    netlink: Netlink,
    events: crate::netlink::Events,
    features: tokio::sync::mpsc::UnboundedReceiver<FeatureEvent>,
    plane: DataPlane,
    ager: Ager,
    kernel: Kernel,
    plan: Plan,
    errors: BTreeMap<u32, String>,
    status: DaemonStatus,
    last_status: Instant,
    /// The nf_tables ruleset generation `kernel.firewall` was read at.
    nft_generation: Option<u32>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn log(message: impl std::fmt::Display) {
    eprintln!("switch-ctl: {message}");
}

/// An error and its causes, `: `-separated (what `anyhow` prints with `{:#}`).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text += &format!(": {e}");
        cause = e.source();
    }
    text
}

impl Daemon {
    async fn start(
        options: Options,
        dirs: DaemonDirs,
        netns: String,
        fdb_entries: u32,
    ) -> Result<Daemon, DaemonError> {
        // A daemon killed with -9 recorded its maps' ids: their pins may be in a mount
        // namespace that died with it (`ip netns exec`), the maps live on in the attached
        // programs.
        let previous = status::recorded(&dirs)
            .ok()
            .flatten()
            .map(|s| s.daemon.map_ids)
            .unwrap_or_default();
        let plane = DataPlane::open(&dirs, &previous, fdb_entries)?;
        let fdb = plane
            .maps
            .fdb_raw
            .fd
            .try_clone()
            .map_err(DaemonError::AgerMap)?;
        let ager = Ager::new(fdb)?;
        let (netlink, events) = Netlink::open().await.map_err(DaemonError::OpenNetlink)?;
        let features = watch_features()?;
        let status = DaemonStatus {
            pid: std::process::id(),
            running: true,
            netns,
            pin_dir: dirs.pin_dir.display().to_string(),
            started_unix: unix_now(),
            last_resync_unix: 0,
            resyncs: 0,
            overruns: 0,
            allow_netfilter: options.allow_netfilter,
            map_ids: pinned_maps::pinned_ids(&dirs),
            fdb_capacity: fdb_entries,
        };
        let daemon = Daemon {
            options,
            dirs,
            netlink,
            events,
            features,
            plane,
            ager,
            kernel: Kernel::default(),
            plan: Plan::default(),
            errors: BTreeMap::new(),
            status,
            last_status: Instant::now(),
            nft_generation: None,
        };
        Ok(daemon)
    }

    /// Detaches every port, removes the pins and the runtime files.
    async fn stop(self) {
        self.plane.teardown(&self.netlink).await;
        self.dirs.remove_pins();
        self.dirs.remove_run_dir();
    }

    async fn serve(&mut self, mut signals: Signals) -> Result<(), DaemonError> {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.events.next() => match event {
                    Some(event) => self.on_event(event).await?,
                    None => return Err(DaemonError::NetlinkClosed),
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
    async fn resync(&mut self) -> Result<(), DaemonError> {
        let links = self.netlink.links().await.map_err(DaemonError::LinkDump)?;
        self.kernel.links = links.into_iter().map(|l| (l.ifindex, l)).collect();
        self.kernel.features = xdp_features::dump().unwrap_or_else(|e| {
            log(format!(
                "cannot read xdp-features ({e}); XDP redirects stay off"
            ));
            Default::default()
        });
        self.kernel.netfilter = netfilter::active_hooks();
        self.read_firewall();
        self.replan().await;
        let links: Vec<_> = self.kernel.links.values().collect();
        self.plane.sweep(&self.netlink, &links).await;
        let entries = self.netlink.fdb().await.map_err(DaemonError::FdbDump)?;
        let stats = fdb_mirror::resync(&mut self.plane.maps, &entries, &self.plan)?;
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
        let plane = &self.plane;
        let plan = plan::plan(&self.kernel, &self.options, &|id| plane.is_ours(id));
        let accelerated = |p: &Plan| -> Vec<u32> {
            p.bridges
                .iter()
                .filter(|b| b.accelerated)
                .map(|b| b.ifindex)
                .collect()
        };
        let changed = accelerated(&plan) != accelerated(&self.plan);
        let before = self.plane.attached();
        let failed = self.plane.apply(&self.netlink, &plan).await;
        let after = self.plane.attached();
        for (ifindex, mode) in &after {
            if before.get(ifindex) != Some(mode) {
                log(format!("attached {} ({mode})", port_name(&plan, *ifindex)));
            }
        }
        for ifindex in before.keys().filter(|i| !after.contains_key(i)) {
            log(format!("detached {}", port_name(&self.plan, *ifindex)));
        }
        self.errors = failed
            .into_iter()
            .map(|(ifindex, error)| (ifindex, with_causes(&error)))
            .collect();
        for (ifindex, error) in &self.errors {
            log(format!("port {}: {error}", port_name(&plan, *ifindex)));
        }
        self.plan = plan;
        changed
    }

    async fn on_event(&mut self, event: Event) -> Result<(), DaemonError> {
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
                    fdb_mirror::upsert(&mut self.plane.maps, key, port, flags)?;
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
    async fn relink(&mut self) -> Result<(), DaemonError> {
        if self.replan().await {
            self.resync().await?;
        } else {
            self.write_status();
        }
        Ok(())
    }

    async fn on_fdb_removed(
        &mut self,
        entry: &crate::netlink::FdbEntry,
    ) -> Result<(), DaemonError> {
        let bridge = entry.bridge.unwrap_or(entry.port);
        let key = FdbKey::new(bridge, entry.mac);
        let Ok(current) = self.plane.maps.fdb.get(&key, 0) else {
            return Ok(());
        };
        if current.ifindex != entry.port {
            return Ok(()); // the MAC has moved on; this removal is about the old port
        }
        // The bridge dropped it (ageing, an operator, a topology change): the fast path forgets
        // it too, until a real frame makes the bridge learn it again.
        self.ager.removed(&mut self.plane.maps, key)?;
        Ok(())
    }

    async fn on_features(&mut self, event: FeatureEvent) -> Result<(), DaemonError> {
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

    /// Reads the nf_tables chains that see bridged frames, and the ruleset generation they
    /// are from. Returns whether they changed.
    fn read_firewall(&mut self) -> bool {
        let generation = nftables::generation().ok();
        let chains = nftables::bridged_frame_chains().unwrap_or_else(|e| {
            if self.nft_generation.is_some() || generation.is_some() {
                log(format!("cannot read the nf_tables ruleset: {e}"));
            }
            Vec::new()
        });
        self.nft_generation = generation;
        let changed = chains != self.kernel.firewall;
        self.kernel.firewall = chains;
        changed
    }

    async fn on_tick(&mut self) -> Result<(), DaemonError> {
        let hooks = netfilter::active_hooks();
        if hooks != self.kernel.netfilter {
            log(format!("bridge netfilter hooks now: {hooks:?}"));
            self.kernel.netfilter = hooks;
            self.relink().await?;
        }
        // nf_tables has notifications, but its generation id is one cheap request: the ruleset
        // is read again only when it changed.
        if nftables::generation().ok() != self.nft_generation && self.read_firewall() {
            let filtering: Vec<_> = self
                .kernel
                .firewall
                .iter()
                .filter(|c| c.filters())
                .collect();
            log(format!(
                "nf_tables chains that see bridged frames now: {}",
                filtering.len()
            ));
            self.relink().await?;
        }
        if self.last_status.elapsed() >= Duration::from_secs(1) {
            self.write_status();
        }
        Ok(())
    }

    fn write_status(&mut self) {
        self.last_status = Instant::now();
        let attached = self.plane.attached();
        let slots = self.plane.slots();
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
            maps: status::MapsAccess::NotRead,
        };
        if let Err(e) = status::write(&self.dirs, &status) {
            log(format!("cannot write the status file: {}", with_causes(&e)));
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
    fn install() -> std::io::Result<Signals> {
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
fn watch_features() -> Result<tokio::sync::mpsc::UnboundedReceiver<FeatureEvent>, DaemonError> {
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
                .map_err(DaemonError::FeaturesThread)?;
        }
        Err(e) => log(format!(
            "cannot follow xdp-features ({e}); XDP redirect targets are read at resync only"
        )),
    }
    Ok(rx)
}
