//! `map list`: every map on the system, with who holds it and where it is pinned.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{MapError, OpenMap, kind, read};
use bpf_sys::{MapFd, ProgFd};

/// One map as `map list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MapSummary {
    /// Map id.
    pub id: u32,
    /// Map name.
    pub name: String,
    /// Map type name (`hash`, `percpu_array`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes (per CPU for per-CPU maps).
    pub value_size: u32,
    /// Entries present (arrays: always `max_entries`); `None` when they cannot be counted.
    pub entries: Option<u64>,
    /// Capacity.
    pub max_entries: u32,
    /// Creation flags by name.
    pub flags: Vec<String>,
    /// Kernel memory charged to the map, in bytes (`memlock` in fdinfo).
    pub memory_bytes: Option<u64>,
    /// True when syscall writes are blocked (`BPF_MAP_FREEZE`).
    pub frozen: bool,
    /// BTF id, when the map has type information.
    pub btf_id: Option<u32>,
    /// Programs using the map.
    pub programs: Vec<Holder>,
    /// Processes holding a file descriptor to it.
    pub processes: Vec<Holder>,
    /// Paths where it is pinned.
    pub pinned: Vec<PathBuf>,
}

/// A program or process that holds a map.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Holder {
    /// Program id or process id.
    pub id: u32,
    /// Program name or process command.
    pub name: String,
}

/// Lists every map on the system. Maps freed during the walk are left out.
pub fn list() -> Result<Vec<MapSummary>, MapError> {
    let programs = programs_by_map();
    let processes = processes_by_map();
    let pins = pins_by_map();
    let mut out = Vec::new();
    for id in bpf_sys::map_ids() {
        let id = id?;
        let Ok(fd) = MapFd::from_id(id) else { continue };
        let Ok(info) = fd.info() else { continue };
        let map = OpenMap { fd, info };
        let fdinfo = fdinfo(map.fd.as_fd().as_raw_fd());
        let mut procs = processes.get(&id).cloned().unwrap_or_default();
        procs.retain(|h| h.id != std::process::id());
        out.push(MapSummary {
            id,
            name: map.info.name.clone(),
            kind: kind::type_name(map.info.map_type),
            key_size: map.info.key_size,
            value_size: map.info.value_size,
            entries: read::count(&map).ok(),
            max_entries: map.info.max_entries,
            flags: kind::flag_names(map.info.flags),
            memory_bytes: fdinfo.get("memlock").and_then(|v| v.parse().ok()),
            frozen: fdinfo.get("frozen").is_some_and(|v| v == "1"),
            btf_id: (map.info.btf_id != 0).then_some(map.info.btf_id),
            programs: programs.get(&id).cloned().unwrap_or_default(),
            processes: procs,
            pinned: pins.get(&id).cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The `key: value` lines of `/proc/self/fdinfo/<fd>`.
pub fn fdinfo(fd: i32) -> HashMap<String, String> {
    fdinfo_at(&Path::new("/proc/self/fdinfo").join(fd.to_string()))
}

fn fdinfo_at(path: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn programs_by_map() -> HashMap<u32, Vec<Holder>> {
    let mut by_map: HashMap<u32, Vec<Holder>> = HashMap::new();
    for id in bpf_sys::prog_ids().map_while(Result::ok) {
        let Ok(info) = ProgFd::from_id(id).and_then(|p| p.info()) else {
            continue;
        };
        for map in info.map_ids {
            by_map.entry(map).or_default().push(Holder {
                id,
                name: info.name.clone(),
            });
        }
    }
    by_map
}

fn processes_by_map() -> HashMap<u32, Vec<Holder>> {
    let mut by_map: HashMap<u32, Vec<Holder>> = HashMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return by_map;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let comm = std::fs::read_to_string(p.path().join("comm"))
            .unwrap_or_default()
            .trim()
            .to_string();
        for fd in fds.flatten() {
            let is_map =
                std::fs::read_link(fd.path()).is_ok_and(|t| t.as_os_str() == "anon_inode:bpf-map");
            if !is_map {
                continue;
            }
            let info = fdinfo_at(&p.path().join("fdinfo").join(fd.file_name()));
            if let Some(id) = info.get("map_id").and_then(|v| v.parse().ok()) {
                let holders = by_map.entry(id).or_default();
                if !holders.iter().any(|h| h.id == pid) {
                    holders.push(Holder {
                        id: pid,
                        name: comm.clone(),
                    });
                }
            }
        }
    }
    by_map
}

/// Every bpffs mount point (from /proc/self/mounts).
pub fn bpffs_mounts() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, path, fstype) = (f.next()?, f.next()?, f.next()?);
            (fstype == "bpf").then(|| PathBuf::from(path))
        })
        .collect()
}

fn pins_by_map() -> HashMap<u32, Vec<PathBuf>> {
    let mut by_map: HashMap<u32, Vec<PathBuf>> = HashMap::new();
    let mut stack = bpffs_mounts();
    let mut budget = 100_000;
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            budget -= 1;
            if budget == 0 {
                return by_map;
            }
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => {
                    let Ok(fd) = bpf_sys::obj_get(&path) else {
                        continue;
                    };
                    let info = fdinfo(fd.as_raw_fd());
                    if let Some(id) = info.get("map_id").and_then(|v| v.parse().ok()) {
                        by_map.entry(id).or_default().push(path);
                    }
                }
                _ => {}
            }
        }
    }
    by_map
}
