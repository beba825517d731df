//! Loads `xdpdbg_cas` bound to one target map.
//!
//! aya cannot load `BPF_PROG_TYPE_SYSCALL` programs, so the object is parsed and relocated with
//! aya-obj and loaded through [`bpf_sys`]: the `.rodata` constants (`value_size`,
//! `lock_offset`) go into a frozen read-only array, which lets the verifier treat them as
//! constants and check every access against the real value layout.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, AsRawFd};

use aya_obj::generated::{BPF_F_RDONLY_PROG, BPF_F_SLEEPABLE, bpf_map_type, bpf_prog_type};

use super::CasError;
use bpf_sys::{MapCreate, MapFd, ProgFd, ProgLoad};

const PROGRAM: &str = "xdpdbg_cas";
/// `lock_offset` when the value holds no `bpf_spin_lock` (`CAS_NO_LOCK`).
const NO_LOCK: u32 = u32::MAX;

/// The loaded program and the read-only data it references (kept open while it lives).
pub(super) struct Loaded {
    pub(super) prog: ProgFd,
    _rodata: Option<MapFd>,
}

pub(super) fn load(
    target: &MapFd,
    value_size: u32,
    lock_offset: Option<u32>,
) -> Result<Loaded, CasError> {
    let mut obj = aya_obj::Object::parse(crate::objects::MAP_CAS)
        .map_err(|e| CasError::Object(e.to_string()))?;
    let value_size_bytes = value_size.to_ne_bytes();
    let lock_bytes = lock_offset.unwrap_or(NO_LOCK).to_ne_bytes();
    obj.patch_map_data(HashMap::from([
        ("value_size", (&value_size_bytes[..], true)),
        ("lock_offset", (&lock_bytes[..], true)),
    ]))
    .map_err(|e| CasError::Object(e.to_string()))?;

    let maps: HashMap<String, aya_obj::Map> = obj.maps.drain().collect();
    let mut rodata = None;
    let mut fds = Vec::new();
    for (name, map) in &maps {
        let fd = if name == "target" {
            target.as_fd().as_raw_fd()
        } else if name.starts_with(".rodata") {
            let data = map.data();
            let created = MapFd::create(&MapCreate {
                map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY as u32,
                name: "xdpdbg_cas.ro",
                key_size: 4,
                value_size: data.len() as u32,
                max_entries: 1,
                flags: BPF_F_RDONLY_PROG,
                inner_map: None,
            })?;
            created.update(&0u32.to_ne_bytes(), data, bpf_sys::ANY)?;
            created.freeze()?;
            let raw = created.as_fd().as_raw_fd();
            rodata = Some(created);
            raw
        } else {
            return Err(CasError::Object(format!(
                "unexpected map `{name}` in {PROGRAM}"
            )));
        };
        fds.push((name.as_str(), fd, map));
    }
    let text_sections: HashSet<usize> = obj.functions.keys().map(|(s, _)| *s).collect();
    obj.relocate_maps(fds.into_iter(), &text_sections)
        .map_err(|e| CasError::Object(e.to_string()))?;
    let function = obj
        .functions
        .values()
        .find(|f| f.name == PROGRAM)
        .ok_or_else(|| CasError::Object(format!("{PROGRAM} missing from its object")))?;
    let prog = ProgFd::load(&ProgLoad {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_SYSCALL as u32,
        insns: &function.instructions,
        license: "Dual MIT/GPL",
        flags: BPF_F_SLEEPABLE,
        name: PROGRAM,
        ..Default::default()
    })
    .map_err(|(error, log)| CasError::Load { error, log })?;
    Ok(Loaded {
        prog,
        _rodata: rodata,
    })
}
