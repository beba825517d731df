//! The data plane as the daemon drives it: the loaded programs, the pinned maps, and the
//! programs attached to ports.
//!
//! Maps are pinned in the daemon's [`DaemonDirs`]; programs are attached the device-owned way
//! (IFLA_XDP for XDP, a clsact filter for TC), so both outlive the daemon and a daemon killed
//! with -9 leaves forwarding working. The next daemon reuses the maps (aya opens existing
//! pins) and attaches its own programs over the old ones (an XDP replace is atomic; TC is
//! detached and attached again, frames meanwhile going to the bridge). A program is ours when
//! it is one of the switch's programs and uses our pinned `fdb` map. [`DataPlane::teardown`]
//! and [`detach_leftovers`] remove everything.
//!
//! What it knows comes out as plain data ([`DataPlane::attached`], [`DataPlane::slots`], the
//! ports that failed from [`DataPlane::apply`]); the daemon turns that into its status.

use crate::daemon_dirs::{CreateDirError, DaemonDirs};
use crate::mode::Mode;
use crate::netlink::{Netlink, NetlinkError};
use crate::pinned_maps::{self, MapIds, PinnedMaps};
use crate::plan::{Plan, PortPlan};
use aya::maps::{DevMap, MapData, MapError, PerCpuValues};
use aya::programs::tc::{self, NlOptions, TcAttachOptions, TcAttachType};
use aya::programs::{ProgramError, SchedClassifier, Xdp};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::fd::{AsFd as _, AsRawFd as _};
use std::path::PathBuf;
use switch_ebpf::types::{PORTS_MAX, PortConfig, PortCounters};
use switch_ebpf::{maps, programs};

/// What can go wrong loading the data plane, configuring or attaching a port, or removing
/// what an earlier daemon left.
#[derive(Debug, thiserror::Error)]
pub enum DataPlaneError {
    /// bpffs is not mounted and cannot be.
    #[error("switch-ctl pins its maps on bpffs")]
    Bpffs(#[source] preflight::Error),
    /// The pin directory could not be created.
    #[error(transparent)]
    PinDir(#[from] CreateDirError),
    /// The object could not be loaded (maps created or reused from their pins).
    #[error("cannot load the switch's data plane (is `switch-ctl check` clean?)")]
    Load(#[source] aya::EbpfError),
    /// The embedded object lacks a program (a build problem).
    #[error("program {0} missing from the object")]
    MissingProgram(&'static str),
    /// The embedded object lacks a map (a build problem).
    #[error("map {0} missing from the object")]
    MissingMap(&'static str),
    /// The kernel's verifier refused a program.
    #[error("the verifier rejected {program}")]
    Rejected {
        /// The program.
        program: &'static str,
        /// The refusal.
        #[source]
        source: ProgramError,
    },
    /// A program operation failed.
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// A map operation failed.
    #[error(transparent)]
    Map(#[from] MapError),
    /// The pinned maps could not be opened.
    #[error(transparent)]
    Pins(#[from] pinned_maps::OpenError),
    /// A bpf(2) command failed.
    #[error(transparent)]
    Sys(#[from] bpf_sys::SysError),
    /// A port's per-CPU counters could not be zeroed (the number of possible CPUs could not
    /// be read).
    #[error(transparent)]
    PerCpu(std::io::Error),
    /// The devmap of redirect targets could not be written.
    #[error(transparent)]
    TxPorts(#[from] aya::maps::xdp::XdpMapError),
    /// The pinned FDB map of an earlier daemon has another capacity than asked for.
    #[error(
        "the fast path pinned at {pin} holds {pinned} FDB entries, not the {wanted} asked for: \
         run `switch-ctl stop` (which removes it) and start again, or pass --fdb-entries {pinned}"
    )]
    FdbEntries {
        /// The pin.
        pin: String,
        /// Its capacity.
        pinned: u32,
        /// The capacity asked for.
        wanted: u32,
    },
    /// Every counter slot is taken.
    #[error("all {PORTS_MAX} counter slots are in use")]
    SlotsFull,
    /// XDP could not be attached to a port.
    #[error("cannot attach XDP ({mode}) to {port}")]
    AttachXdp {
        /// The mode.
        mode: Mode,
        /// The port's name.
        port: String,
        /// The kernel's refusal.
        #[source]
        source: NetlinkError,
    },
    /// The TC filter could not be attached to a port.
    #[error("cannot attach TC ingress to {port}")]
    AttachTc {
        /// The port's name.
        port: String,
        /// Why.
        #[source]
        source: ProgramError,
    },
    /// A netlink request failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
}

/// The clsact filter priority of the TC fast path (ASCII "SW").
const TC_PRIORITY: u16 = 0x5357;

/// The loaded data plane of one daemon.
pub struct DataPlane {
    dirs: DaemonDirs,
    ebpf: aya::Ebpf,
    xdp_program: &'static str,
    /// The typed maps.
    pub maps: PinnedMaps,
    tx_ports: DevMap<MapData>,
    tx_ports_raw: bpf_sys::MapFd,
    /// Attached ports: mode and name (a TC filter is found by the port's name).
    attachments: BTreeMap<u32, (Mode, String)>,
    slots: HashMap<u32, u32>,
    program_ids: HashSet<u32>,
    /// Program ids once found to be ours (ids are never reused; an earlier daemon's program
    /// may be gone by the time a notification about it is read).
    known_ours: std::cell::RefCell<HashSet<u32>>,
    fdb_map_id: u32,
}

impl DataPlane {
    /// Loads the programs with the maps pinned under `dirs` (reusing pins that exist), the FDB
    /// map holding `fdb_entries` entries. The maps of `previous` (ids an earlier daemon
    /// recorded) are pinned again first where this mount namespace lacks their pins, and so
    /// adopted too; ids of maps that are gone are ignored.
    pub fn open(
        dirs: &DaemonDirs,
        previous: &MapIds,
        fdb_entries: u32,
    ) -> Result<DataPlane, DataPlaneError> {
        preflight::ensure_bpffs(preflight::BPFFS_DEFAULT).map_err(DataPlaneError::Bpffs)?;
        dirs.create_pin_dir()?;
        if !previous.is_empty() {
            let _ = pinned_maps::restore_pins(dirs, previous);
        }
        // An adopted FDB map keeps its size (the attached programs use it): a different size
        // needs the old fast path gone first.
        let fdb_pin = dirs.map_pin(maps::FDB);
        if let Ok(pinned) = bpf_sys::MapFd::from_pin(&fdb_pin).and_then(|m| m.info())
            && pinned.max_entries != fdb_entries
        {
            return Err(DataPlaneError::FdbEntries {
                pin: fdb_pin.display().to_string(),
                pinned: pinned.max_entries,
                wanted: fdb_entries,
            });
        }
        let mut loader = aya::EbpfLoader::new();
        loader.map_max_entries(maps::FDB, fdb_entries);
        let pins: Vec<(&str, PathBuf)> = pinned_maps::NAMES
            .iter()
            .map(|n| (*n, dirs.map_pin(n)))
            .collect();
        for (name, pin) in &pins {
            loader.map_pin_path(name, pin.as_path());
        }
        let mut ebpf = loader
            .load(switch_ebpf::SWITCH)
            .map_err(DataPlaneError::Load)?;
        // The two XDP variants cannot share the devmap: a kernel with frags support always gets
        // the frags variant, so a pinned devmap always meets the variant that created it.
        let xdp_program = if preflight::require_feature(preflight::Feature::XdpFrags).is_ok() {
            programs::XDP_FRAGS
        } else {
            programs::XDP
        };
        let mut program_ids = HashSet::new();
        {
            let xdp: &mut Xdp = program(&mut ebpf, xdp_program)?;
            xdp.load().map_err(|source| DataPlaneError::Rejected {
                program: xdp_program,
                source,
            })?;
            program_ids.insert(xdp.info()?.id());
        }
        {
            let tc: &mut SchedClassifier = program(&mut ebpf, programs::TC)?;
            tc.load().map_err(|source| DataPlaneError::Rejected {
                program: programs::TC,
                source,
            })?;
            program_ids.insert(tc.info()?.id());
        }
        let maps = PinnedMaps::from_pins(dirs)?;
        let tx_ports = ebpf
            .take_map(maps::TX_PORTS)
            .ok_or(DataPlaneError::MissingMap(maps::TX_PORTS))?
            .try_into()?;
        let tx_ports_raw = bpf_sys::MapFd::from_pin(&dirs.map_pin(maps::TX_PORTS))?;
        let fdb_map_id = maps.fdb_raw.info.id;
        let mut plane = DataPlane {
            dirs: dirs.clone(),
            ebpf,
            xdp_program,
            maps,
            tx_ports,
            tx_ports_raw,
            attachments: BTreeMap::new(),
            slots: HashMap::new(),
            program_ids,
            known_ours: Default::default(),
            fdb_map_id,
        };
        plane.recover_slots();
        Ok(plane)
    }

    /// Whether program `id` is ours: this daemon's, or an earlier daemon's of this namespace
    /// (one of the switch's programs using the same pinned `fdb` map).
    pub fn is_ours(&self, id: u32) -> bool {
        if self.program_ids.contains(&id) || self.known_ours.borrow().contains(&id) {
            return true;
        }
        let ours = uses_map(id, self.fdb_map_id);
        if ours {
            self.known_ours.borrow_mut().insert(id);
        }
        ours
    }

    /// The mode each port is attached in.
    pub fn attached(&self) -> BTreeMap<u32, Mode> {
        self.attachments
            .iter()
            .map(|(i, (m, _))| (*i, *m))
            .collect()
    }

    /// The counter slot of each configured port.
    pub fn slots(&self) -> &HashMap<u32, u32> {
        &self.slots
    }

    /// Reads back the slots of ports configured by an earlier daemon.
    fn recover_slots(&mut self) {
        for (ifindex, config) in self.maps.ports.iter().enumerate() {
            if let Ok(config) = config
                && config.bridge != 0
            {
                self.slots.insert(ifindex as u32, config.slot);
            }
        }
    }

    /// Makes maps and attachments follow `plan`. Returns the ports that failed, with the
    /// reason (a port can vanish mid-operation; the next event brings the plan up to date).
    pub async fn apply(&mut self, netlink: &Netlink, plan: &Plan) -> Vec<(u32, DataPlaneError)> {
        let mut failed = Vec::new();
        // Ports that left (or whose fast path is off) are detached first, then unconfigured.
        let stale: Vec<u32> = self
            .attachments
            .iter()
            .filter(|(i, (m, _))| plan.ports.get(i).and_then(|p| p.mode) != Some(*m))
            .map(|(i, _)| *i)
            .collect();
        for ifindex in stale {
            if let Some((mode, name)) = self.attachments.remove(&ifindex) {
                detach(netlink, ifindex, &name, mode).await;
            }
        }
        let gone: Vec<u32> = self
            .slots
            .keys()
            .filter(|i| !plan.ports.contains_key(i))
            .copied()
            .collect();
        for ifindex in gone {
            self.unconfigure(ifindex);
        }
        for port in plan.ports.values() {
            // A renamed port keeps its filter; its new name is what detaching needs.
            if let Some((_, name)) = self.attachments.get_mut(&port.ifindex) {
                name.clone_from(&port.name);
            }
            if let Err(e) = self.configure(port) {
                failed.push((port.ifindex, e));
                continue;
            }
            if let Some(mode) = port.mode
                && !self.attachments.contains_key(&port.ifindex)
            {
                match self.attach(netlink, port.ifindex, &port.name, mode).await {
                    Ok(()) => {
                        self.attachments
                            .insert(port.ifindex, (mode, port.name.clone()));
                    }
                    Err(e) => failed.push((port.ifindex, e)),
                }
            }
        }
        failed
    }

    /// Writes a port's configuration (and its devmap slot), giving it a counter slot.
    fn configure(&mut self, port: &PortPlan) -> Result<(), DataPlaneError> {
        let (ifindex, flags) = (port.ifindex, port.flags);
        let slot = match self.slots.get(&ifindex) {
            Some(slot) => *slot,
            None => {
                let used: HashSet<u32> = self.slots.values().copied().collect();
                let Some(slot) = (0..PORTS_MAX).find(|s| !used.contains(s)) else {
                    return Err(DataPlaneError::SlotsFull);
                };
                let cpus = bpf_sys::possible_cpus().map_err(DataPlaneError::PerCpu)?;
                let zero = vec![PortCounters::default(); cpus];
                let zero = PerCpuValues::try_from(zero).map_err(DataPlaneError::PerCpu)?;
                self.maps.counters.set(slot, zero, 0)?;
                self.slots.insert(ifindex, slot);
                slot
            }
        };
        let config = PortConfig {
            bridge: port.bridge,
            flags,
            slot,
            refresh_ms: port.refresh_ms,
        };
        // Every event re-applies the whole plan: only a changed port costs syscalls.
        if self.maps.port(ifindex) == config {
            return Ok(());
        }
        use switch_ebpf::types::port_flags::{EGRESS, XDP_XMIT};
        if flags & (EGRESS | XDP_XMIT) == EGRESS | XDP_XMIT {
            self.tx_ports.set(ifindex, ifindex, None, 0)?;
        } else {
            self.clear_tx(ifindex);
        }
        self.maps.ports.set(ifindex, config, 0)?;
        self.maps.changed()?;
        Ok(())
    }

    fn clear_tx(&self, ifindex: u32) {
        // ENOENT (nothing there) is the expected case.
        let _ = self.tx_ports_raw.delete(&ifindex.to_ne_bytes());
    }

    /// Removes a port from the fast path's tables.
    fn unconfigure(&mut self, ifindex: u32) {
        self.clear_tx(ifindex);
        let _ = self.maps.ports.set(ifindex, PortConfig::default(), 0);
        let _ = self.maps.changed();
        self.slots.remove(&ifindex);
    }

    /// Attaches the port's fast path, over whatever of ours is attached there.
    async fn attach(
        &mut self,
        netlink: &Netlink,
        ifindex: u32,
        name: &str,
        mode: Mode,
    ) -> Result<(), DataPlaneError> {
        match mode {
            Mode::Xdp | Mode::XdpGeneric => {
                let generic = mode == Mode::XdpGeneric;
                // A program of ours in the other mode would stay attached beside this one.
                let _ = netlink.set_xdp(ifindex, None, !generic).await;
                let xdp: &mut Xdp = program(&mut self.ebpf, self.xdp_program)?;
                let fd = xdp.fd()?.as_fd().as_raw_fd();
                netlink
                    .set_xdp(ifindex, Some(fd), generic)
                    .await
                    .map_err(|source| DataPlaneError::AttachXdp {
                        mode,
                        port: name.into(),
                        source,
                    })?;
            }
            Mode::Tc => {
                // Ours from an earlier daemon would run twice: it goes first.
                let _ = tc::qdisc_detach_program(name, TcAttachType::Ingress, programs::TC);
                // Fails when the qdisc exists; a real failure shows in the attach below.
                let _ = tc::qdisc_add_clsact(name);
                let classifier: &mut SchedClassifier = program(&mut self.ebpf, programs::TC)?;
                let options = TcAttachOptions::Netlink(NlOptions {
                    priority: TC_PRIORITY,
                    ..NlOptions::default()
                });
                let id = classifier
                    .attach_with_options(name, TcAttachType::Ingress, options)
                    .map_err(|source| DataPlaneError::AttachTc {
                        port: name.into(),
                        source,
                    })?;
                // The filter belongs to the device; dropping our handle would remove it.
                std::mem::forget(classifier.take_link(id)?);
            }
        }
        Ok(())
    }

    /// Removes programs of ours that this daemon did not attach, or attached in another mode:
    /// what an earlier daemon left (killed with -9, or run with other options), on ports that
    /// left the bridge meanwhile too. Called at every resync.
    pub async fn sweep(&self, netlink: &Netlink, links: &[&crate::netlink::Link]) {
        for link in links {
            let mode = self.attachments.get(&link.ifindex).map(|(m, _)| *m);
            // A port attached in XDP mode here had the old program replaced by attach().
            let xdp_here = matches!(mode, Some(Mode::Xdp | Mode::XdpGeneric));
            if let Some(id) = link.xdp_prog_id
                && !xdp_here
                && !self.program_ids.contains(&id)
                && self.is_ours(id)
            {
                for generic in [false, true] {
                    let _ = netlink.set_xdp(link.ifindex, None, generic).await;
                }
                eprintln!(
                    "switch-ctl: removed a stale XDP fast path from {}",
                    link.name
                );
            }
            if mode != Some(Mode::Tc)
                && tc::qdisc_detach_program(&link.name, TcAttachType::Ingress, programs::TC).is_ok()
            {
                eprintln!(
                    "switch-ctl: removed a stale TC fast path from {}",
                    link.name
                );
            }
        }
    }

    /// Detaches every port, unconfigures them, and removes every pin. The bridge forwards on
    /// its own afterwards.
    pub async fn teardown(mut self, netlink: &Netlink) {
        // Unconfigured first: a program that cannot be detached (its port renamed or gone
        // mid-way) then passes every frame to the bridge.
        let configured: Vec<u32> = self.slots.keys().copied().collect();
        for ifindex in configured {
            self.unconfigure(ifindex);
        }
        for (ifindex, (mode, name)) in std::mem::take(&mut self.attachments) {
            detach(netlink, ifindex, &name, mode).await;
        }
        self.dirs.remove_pins();
    }
}

/// Detaches our program from one port (the port may be gone already).
async fn detach(netlink: &Netlink, ifindex: u32, name: &str, mode: Mode) {
    match mode {
        Mode::Xdp | Mode::XdpGeneric => {
            let _ = netlink
                .set_xdp(ifindex, None, mode == Mode::XdpGeneric)
                .await;
        }
        Mode::Tc => {
            let _ = tc::qdisc_detach_program(name, TcAttachType::Ingress, programs::TC);
        }
    }
}

/// Whether program `id` is one of the switch's XDP or TC programs and uses map `map_id`.
fn uses_map(id: u32, map_id: u32) -> bool {
    let Ok(info) = bpf_sys::ProgFd::from_id(id).and_then(|p| p.info()) else {
        return false;
    };
    info.name.starts_with("switch_") && info.map_ids.contains(&map_id)
}

/// Detaches what a daemon killed with -9 left on the ports of this namespace (XDP programs
/// and TC filters of ours, found by their use of the pinned `fdb` map), and removes its pins.
pub async fn detach_leftovers(
    netlink: &Netlink,
    dirs: &DaemonDirs,
) -> Result<usize, DataPlaneError> {
    let map_id = match bpf_sys::MapFd::from_pin(&dirs.map_pin(maps::FDB)) {
        Ok(map) => Some(map.info()?.id),
        Err(_) => None,
    };
    let mut detached = 0;
    for link in netlink.links().await? {
        if let (Some(map_id), Some(id)) = (map_id, link.xdp_prog_id)
            && uses_map(id, map_id)
        {
            for generic in [false, true] {
                let _ = netlink.set_xdp(link.ifindex, None, generic).await;
            }
            detached += 1;
        }
        if tc::qdisc_detach_program(&link.name, TcAttachType::Ingress, programs::TC).is_ok() {
            detached += 1;
        }
    }
    dirs.remove_pins();
    Ok(detached)
}

/// Program `name` of the loaded object, as its type.
fn program<'a, T>(ebpf: &'a mut aya::Ebpf, name: &'static str) -> Result<&'a mut T, DataPlaneError>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = ProgramError>,
{
    let p = ebpf
        .program_mut(name)
        .ok_or(DataPlaneError::MissingProgram(name))?;
    Ok(p.try_into()?)
}
