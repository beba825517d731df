//! The data plane's maps, typed and opened from their pins: by the daemon after loading the
//! programs, and by `status` (and tests) from any process, with or without a daemon running.
//!
//! What they hold is handed out as plain data (FDB entries, summed counters): the layers above
//! (FDB mirroring, ageing, status) never see a map handle's details.

use crate::daemon_dirs::DaemonDirs;
use aya::maps::{Array, HashMap as BpfHashMap, MapData, PerCpuArray};
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
}

impl PinnedMaps {
    /// Opens the pinned maps of a daemon (running or not).
    pub fn from_pins(dirs: &DaemonDirs) -> Result<PinnedMaps, OpenError> {
        let open = |name: &str| {
            let path = dirs.map_pin(name);
            let data =
                MapData::from_pin(&path).map_err(|source| OpenError::Pin { path, source })?;
            aya::maps::Map::from_map_data(data).map_err(OpenError::UnknownType)
        };
        let fdb_pin = dirs.map_pin(maps::FDB);
        Ok(PinnedMaps {
            fdb_raw: bpf_maps::open(&fdb_pin.to_string_lossy()).map_err(|source| {
                OpenError::Raw {
                    path: fdb_pin.clone(),
                    source: Box::new(source),
                }
            })?,
            fdb: open(maps::FDB)?.try_into().map_err(OpenError::WrongType)?,
            ports: open(maps::PORTS)?
                .try_into()
                .map_err(OpenError::WrongType)?,
            counters: open(maps::COUNTERS)?
                .try_into()
                .map_err(OpenError::WrongType)?,
        })
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
