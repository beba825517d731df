//! The data plane as the daemon drives it: the loaded programs, the pinned maps, and the
//! programs attached to ports.
//!
//! Maps are pinned under the daemon's [`Layout`]; programs are attached the device-owned way
//! (IFLA_XDP for XDP, a clsact filter for TC), so both outlive the daemon and a daemon killed
//! with -9 leaves forwarding working. The next daemon reuses the maps (aya opens existing
//! pins) and attaches its own programs over the old ones (an XDP replace is atomic; TC is
//! detached and attached again, frames meanwhile going to the bridge). A program is ours when
//! it is one of the switch's programs and uses our pinned `fdb` map. [`DataPlane::teardown`]
//! and [`detach_leftovers`] remove everything.

use crate::layout::Layout;
use crate::mode::Mode;
use crate::netlink::Netlink;
use crate::plan::Plan;
use anyhow::{Context as _, bail};
use aya::maps::{Array, DevMap, HashMap as BpfHashMap, MapData, PerCpuArray, PerCpuValues};
use aya::programs::tc::{self, NlOptions, TcAttachOptions, TcAttachType};
use aya::programs::{SchedClassifier, Xdp};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::fd::{AsFd as _, AsRawFd as _};
use std::path::PathBuf;
use switch_ebpf::types::{FdbEntry, FdbKey, PORTS_MAX, PortConfig, PortCounters};
use switch_ebpf::{maps, programs};

/// The clsact filter priority of the TC fast path (ASCII "SW").
const TC_PRIORITY: u16 = 0x5357;

/// The maps, typed, opened from their pins (by the daemon after loading, and by `status`).
pub struct Maps {
    /// MAC to port.
    pub fdb: BpfHashMap<MapData, FdbKey, FdbEntry>,
    /// The same map for whole-map batch reads and compare-and-swap (xdpdbg's layer).
    pub fdb_raw: bpf_maps::OpenMap,
    /// Port configuration by ifindex.
    pub ports: Array<MapData, PortConfig>,
    /// Per-CPU counters by port slot.
    pub counters: PerCpuArray<MapData, PortCounters>,
}

impl Maps {
    /// Opens the pinned maps of a daemon (running or not).
    pub fn from_pins(layout: &Layout) -> anyhow::Result<Maps> {
        let open = |name: &str| {
            let path = layout.map_pin(name);
            MapData::from_pin(&path)
                .with_context(|| format!("cannot open pinned map {}", path.display()))
                .and_then(|m| aya::maps::Map::from_map_data(m).context("unexpected map type"))
        };
        let fdb_pin = layout.map_pin(maps::FDB);
        Ok(Maps {
            fdb_raw: bpf_maps::open(&fdb_pin.to_string_lossy())
                .with_context(|| format!("cannot open pinned map {}", fdb_pin.display()))?,
            fdb: open(maps::FDB)?.try_into()?,
            ports: open(maps::PORTS)?.try_into()?,
            counters: open(maps::COUNTERS)?.try_into()?,
        })
    }

    /// A port's counters, summed over CPUs.
    pub fn counters(&self, slot: u32) -> anyhow::Result<PortCounters> {
        let mut sum = PortCounters::default();
        for c in self.counters.get(&slot, 0)?.iter() {
            sum.add(c);
        }
        Ok(sum)
    }

    /// The port configuration of `ifindex` (zeroed when it is not a fast-path port).
    pub fn port(&self, ifindex: u32) -> PortConfig {
        self.ports.get(&ifindex, 0).unwrap_or_default()
    }

    /// Every FDB entry in the fast path, read in batches (an empty list if the read fails).
    pub fn fdb_entries(&self) -> Vec<(FdbKey, FdbEntry)> {
        let Ok(entries) = bpf_maps::read::read_all(&self.fdb_raw) else {
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|(k, v)| Some((FdbKey::from_bytes(k)?, FdbEntry::from_bytes(v)?)))
            .collect()
    }
}

/// The loaded data plane of one daemon.
pub struct DataPlane {
    layout: Layout,
    ebpf: aya::Ebpf,
    xdp_program: &'static str,
    /// The typed maps.
    pub maps: Maps,
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
    /// Loads the programs with the maps pinned under `layout` (reusing pins that exist).
    pub fn open(layout: &Layout) -> anyhow::Result<DataPlane> {
        preflight::ensure_bpffs(preflight::BPFFS_DEFAULT)
            .context("switch-ctl pins its maps on bpffs")?;
        crate::status::create_private_dir(&layout.pin_dir)?;
        let mut loader = aya::EbpfLoader::new();
        let names = [maps::FDB, maps::PORTS, maps::TX_PORTS, maps::COUNTERS];
        let pins: Vec<(&str, PathBuf)> = names.iter().map(|n| (*n, layout.map_pin(n))).collect();
        for (name, pin) in &pins {
            loader.map_pin_path(name, pin.as_path());
        }
        let mut ebpf = loader
            .load(switch_ebpf::SWITCH)
            .context("cannot load the switch's data plane (is `switch-ctl check` clean?)")?;
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
            xdp.load()
                .with_context(|| format!("the verifier rejected {xdp_program}"))?;
            program_ids.insert(xdp.info()?.id());
        }
        {
            let tc: &mut SchedClassifier = program(&mut ebpf, programs::TC)?;
            tc.load().context("the verifier rejected switch_tc")?;
            program_ids.insert(tc.info()?.id());
        }
        let take = |ebpf: &mut aya::Ebpf, name: &str| {
            ebpf.take_map(name)
                .with_context(|| format!("map {name} missing from the object"))
        };
        let maps = Maps::from_pins(layout)?;
        let tx_ports = take(&mut ebpf, maps::TX_PORTS)?.try_into()?;
        let tx_ports_raw = bpf_sys::MapFd::from_pin(&layout.map_pin(maps::TX_PORTS))?;
        let fdb_map_id = maps.fdb_raw.info.id;
        let mut plane = DataPlane {
            layout: layout.clone(),
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
    pub async fn apply(&mut self, netlink: &Netlink, plan: &Plan) -> Vec<(u32, String)> {
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
            if let Err(e) = self.configure(port.ifindex, port.bridge, port.flags) {
                failed.push((port.ifindex, format!("{e:#}")));
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
                    Err(e) => failed.push((port.ifindex, format!("{e:#}"))),
                }
            }
        }
        failed
    }

    /// Writes a port's configuration (and its devmap slot), giving it a counter slot.
    fn configure(&mut self, ifindex: u32, bridge: u32, flags: u32) -> anyhow::Result<()> {
        let slot = match self.slots.get(&ifindex) {
            Some(slot) => *slot,
            None => {
                let used: HashSet<u32> = self.slots.values().copied().collect();
                let Some(slot) = (0..PORTS_MAX).find(|s| !used.contains(s)) else {
                    bail!("all {PORTS_MAX} counter slots are in use");
                };
                let zero = vec![PortCounters::default(); bpf_sys::possible_cpus()?];
                self.maps
                    .counters
                    .set(slot, PerCpuValues::try_from(zero)?, 0)?;
                self.slots.insert(ifindex, slot);
                slot
            }
        };
        let config = PortConfig {
            bridge,
            flags,
            slot,
            pad: 0,
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
        self.slots.remove(&ifindex);
    }

    /// Attaches the port's fast path, over whatever of ours is attached there.
    async fn attach(
        &mut self,
        netlink: &Netlink,
        ifindex: u32,
        name: &str,
        mode: Mode,
    ) -> anyhow::Result<()> {
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
                    .with_context(|| format!("cannot attach XDP ({mode}) to {name}"))?;
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
                    .with_context(|| format!("cannot attach TC ingress to {name}"))?;
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
        remove_pins(&self.layout);
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
pub async fn detach_leftovers(netlink: &Netlink, layout: &Layout) -> anyhow::Result<usize> {
    let map_id = match bpf_sys::MapFd::from_pin(&layout.map_pin(maps::FDB)) {
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
    remove_pins(layout);
    Ok(detached)
}

/// Removes a daemon's pins (maps and any leftover links). Links whose pin goes and which no
/// process holds are detached by the kernel.
pub fn remove_pins(layout: &Layout) {
    let _ = std::fs::remove_dir_all(&layout.pin_dir);
    // The per-daemon directory's parent stays unless empty.
    if let Some(parent) = layout.pin_dir.parent() {
        let _ = std::fs::remove_dir(parent);
    }
}

fn program<'a, T>(ebpf: &'a mut aya::Ebpf, name: &str) -> anyhow::Result<&'a mut T>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = aya::programs::ProgramError>,
{
    let p = ebpf
        .program_mut(name)
        .with_context(|| format!("program {name} missing from the object"))?;
    Ok(p.try_into()?)
}
