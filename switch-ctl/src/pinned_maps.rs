//! The data plane's maps, typed and opened from their pins: by the daemon after loading the
//! programs, and by `status` (and tests) from any process, with or without a daemon running.
//!
//! Pins live on a bpffs, and a bpffs is seen only by the mount namespaces it is mounted in:
//! `ip netns exec` gives each process a private mount namespace with a fresh /sys (so a daemon
//! started that way pins into a bpffs of its own, gone with it), and so may a service manager.
//! Map ids are global, so the daemon records them in its status file (under /run, which every
//! mount namespace shares): [`PinnedMaps::open`] falls back to them when the pins are not
//! visible here, and [`restore_pins`] pins the same maps again in this mount namespace, so a
//! restarted daemon adopts them and `switch-ctl stop` finds them.
//!
//! What they hold is handed out as plain data (FDB entries, summed counters): the layers above
//! (FDB mirroring, ageing, status) never see a map handle's details.

use crate::daemon_dirs::DaemonDirs;
use aya::maps::{Array, HashMap as BpfHashMap, MapData, PerCpuArray};
use std::collections::BTreeMap;
use std::path::PathBuf;
use switch_ebpf::maps;
use switch_ebpf::types::{FdbEntry, FdbKey, PortConfig, PortCounters};

/// A pinned map that could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The pin could not be opened.
    #[error("cannot open pinned map {}", path.display())]
    Pin {
        /// The pin.
        path: PathBuf,
        /// Why.
        #[source]
        source: aya::maps::MapError,
    },
    /// The pin could not be opened for batch reads and compare-and-swap.
    #[error("cannot open pinned map {}", path.display())]
    Raw {
        /// The pin.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<bpf_maps::MapError>,
    },
    /// The pinned map is not of a type aya knows.
    #[error("unexpected map type")]
    UnknownType(#[source] aya::maps::MapError),
    /// The pinned map is not of the type the data plane declares.
    #[error(transparent)]
    WrongType(aya::maps::MapError),
    /// A recorded map id could not be opened (the map is gone, or it is another map now).
    #[error("map {name} (id {id}) is gone: {detail}")]
    Id {
        /// The map's name in the data plane.
        name: &'static str,
        /// The recorded id.
        id: u32,
        /// What was found instead.
        detail: String,
    },
    /// A map could not be pinned again.
    #[error("cannot pin map {name} at {}", path.display())]
    Repin {
        /// The map's name in the data plane.
        name: &'static str,
        /// The pin.
        path: PathBuf,
        /// Why.
        #[source]
        source: bpf_sys::SysError,
    },
    /// Neither the pins nor recorded ids are there.
    #[error("no pins at {} and no map ids recorded", path.display())]
    Nowhere {
        /// The pin directory looked at.
        path: PathBuf,
    },
}

/// The data plane's maps, by their names in the object.
pub const NAMES: [&str; 5] = [
    maps::FDB,
    maps::PORTS,
    maps::TX_PORTS,
    maps::COUNTERS,
    maps::FDB_GENERATION,
];

/// The ids of the data plane's maps, by name: global, unlike pins (see the module docs).
pub type MapIds = BTreeMap<String, u32>;

/// The ids of the maps pinned under `dirs`, for the status file.
pub fn pinned_ids(dirs: &DaemonDirs) -> MapIds {
    NAMES
        .iter()
        .filter_map(|name| {
            let map = bpf_sys::MapFd::from_pin(&dirs.map_pin(name)).ok()?;
            Some((name.to_string(), map.info().ok()?.id))
        })
        .collect()
}

/// The map `name` recorded as `ids[name]`, checked to still be that map.
fn by_id(ids: &MapIds, name: &'static str) -> Result<bpf_sys::MapFd, OpenError> {
    let id = *ids.get(name).ok_or(OpenError::Id {
        name,
        id: 0,
        detail: "no id recorded".into(),
    })?;
    let gone = |detail: String| OpenError::Id { name, id, detail };
    let map = bpf_sys::MapFd::from_id(id).map_err(|e| gone(e.to_string()))?;
    let info = map.info().map_err(|e| gone(e.to_string()))?;
    // The kernel never reuses an id while the map lives, but a freed map's id may come back
    // for another map: the name tells.
    if info.name != name {
        return Err(gone(format!("id {id} is now map `{}`", info.name)));
    }
    Ok(map)
}

/// Pins again, under `dirs`, the maps recorded in `ids` whose pins this mount namespace does
/// not have. Maps that are gone are skipped (a map no attached program uses dies with its
/// pins: the devmap of a daemon whose ports all ran in TC mode). Returns how many it pinned.
pub fn restore_pins(dirs: &DaemonDirs, ids: &MapIds) -> Result<usize, OpenError> {
    let mut pinned = 0;
    for name in NAMES {
        let path = dirs.map_pin(name);
        if path.exists() {
            continue;
        }
        let Ok(map) = by_id(ids, name) else {
            continue;
        };
        map.pin(&path)
            .map_err(|source| OpenError::Repin { name, path, source })?;
        pinned += 1;
    }
    Ok(pinned)
}

/// How [`PinnedMaps::open`] found the maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Through their pins, in this mount namespace.
    Pins,
    /// Through the ids the daemon recorded (its pins are not visible here).
    Ids,
}

/// The maps, typed, opened from their pins.
pub struct PinnedMaps {
    /// MAC to port.
    pub fdb: BpfHashMap<MapData, FdbKey, FdbEntry>,
    /// The same map for whole-map batch reads and compare-and-swap (the bpf-maps layer).
    pub fdb_raw: bpf_maps::OpenMap,
    /// Port configuration by ifindex.
    pub ports: Array<MapData, PortConfig>,
    /// Per-CPU counters by port slot.
    pub counters: PerCpuArray<MapData, PortCounters>,
    /// The generation of `fdb` and `ports` (see [`PinnedMaps::changed`]).
    pub generation: Array<MapData, u64>,
}

impl PinnedMaps {
    /// Opens the maps of a daemon (running or not): from their pins if this mount namespace
    /// sees them, else from the ids the daemon recorded.
    pub fn open(dirs: &DaemonDirs, ids: &MapIds) -> Result<(PinnedMaps, Found), OpenError> {
        match PinnedMaps::from_pins(dirs) {
            Ok(maps) => Ok((maps, Found::Pins)),
            Err(_) if !ids.is_empty() => Ok((PinnedMaps::from_ids(ids)?, Found::Ids)),
            Err(_) => Err(OpenError::Nowhere {
                path: dirs.pin_dir.clone(),
            }),
        }
    }

    /// Opens the maps recorded in `ids`.
    pub fn from_ids(ids: &MapIds) -> Result<PinnedMaps, OpenError> {
        let open = |name: &'static str| -> Result<aya::maps::Map, OpenError> {
            use std::os::fd::AsFd as _;
            let map = by_id(ids, name)?;
            let fd = map
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| OpenError::Id {
                    name,
                    id: ids[name],
                    detail: e.to_string(),
                })?;
            let data = MapData::from_fd(fd).map_err(|source| OpenError::Pin {
                path: PathBuf::from(format!("id:{}", ids[name])),
                source,
            })?;
            aya::maps::Map::from_map_data(data).map_err(OpenError::UnknownType)
        };
        let fdb = by_id(ids, maps::FDB)?;
        let info = fdb.info().map_err(|e| OpenError::Id {
            name: maps::FDB,
            id: ids[maps::FDB],
            detail: e.to_string(),
        })?;
        PinnedMaps::typed(bpf_maps::OpenMap { fd: fdb, info }, open)
    }

    /// Opens the pinned maps of a daemon (running or not).
    pub fn from_pins(dirs: &DaemonDirs) -> Result<PinnedMaps, OpenError> {
        let open = |name: &str| {
            let path = dirs.map_pin(name);
            let data =
                MapData::from_pin(&path).map_err(|source| OpenError::Pin { path, source })?;
            aya::maps::Map::from_map_data(data).map_err(OpenError::UnknownType)
        };
        let fdb_pin = dirs.map_pin(maps::FDB);
        let fdb_raw =
            bpf_maps::open(&fdb_pin.to_string_lossy()).map_err(|source| OpenError::Raw {
                path: fdb_pin.clone(),
                source: Box::new(source),
            })?;
        PinnedMaps::typed(fdb_raw, open)
    }

    /// The daemon's maps as typed aya maps, each opened by `open` (from a pin or an id).
    fn typed(
        fdb_raw: bpf_maps::OpenMap,
        open: impl Fn(&'static str) -> Result<aya::maps::Map, OpenError>,
    ) -> Result<PinnedMaps, OpenError> {
        Ok(PinnedMaps {
            fdb_raw,
            fdb: open(maps::FDB)?.try_into().map_err(OpenError::WrongType)?,
            ports: open(maps::PORTS)?
                .try_into()
                .map_err(OpenError::WrongType)?,
            counters: open(maps::COUNTERS)?
                .try_into()
                .map_err(OpenError::WrongType)?,
            generation: open(maps::FDB_GENERATION)?
                .try_into()
                .map_err(OpenError::WrongType)?,
        })
    }

    /// Tells the data plane that `fdb` or `ports` changed: call after every write to either.
    /// The data plane caches, per CPU, the decision for the last frame it forwarded, under the
    /// generation it read before its lookups; incrementing the generation makes every such
    /// decision stale, so the next frame is decided from the maps again.
    pub fn changed(&mut self) -> Result<(), aya::maps::MapError> {
        let now = self.generation.get(&0, 0)?;
        self.generation.set(0, now.wrapping_add(1), 0)
    }

    /// A port's counters, summed over CPUs.
    pub fn counters(&self, slot: u32) -> Result<PortCounters, aya::maps::MapError> {
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
