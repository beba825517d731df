//! An object made ready for the verifier as aya would load it, with each program's final
//! instructions at hand, so that this crate loads them itself with the log it wants.
//!
//! aya creates the maps (every kind, with their BTF, initial data and freezing). The object is
//! then parsed a second time with aya-obj and prepared the way aya prepares it: its BTF fixed
//! up and loaded, CO-RE relocations applied against the running kernel, map references
//! pointed at aya's maps, subprograms linked, unsupported helpers sanitised. Only the last step
//! differs: aya's loader keeps no log of an accepted program and retries a rejected one up to
//! ten times at its 16 MiB cap (re-verifying it each time), while [`Prepared::load`] issues one
//! `BPF_PROG_LOAD` with the log and buffer the caller asks for.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, AsRawFd, RawFd};

use aya::maps::{Map, MapData};
use aya::{Ebpf, EbpfLoader};
use aya_obj::Object;
use bpf_sys::{BtfFd, LogRequest, ProgBtf, ProgFd, ProgLoad, SysError, VerifierLog};

use super::LoadError;
use super::aya_input;
use super::section::{self, Kind, Unloadable};

/// The object, its maps created and its programs relocated, ready to load.
pub(crate) struct Prepared {
    /// Owns the maps the programs refer to.
    _maps: Ebpf,
    obj: Object,
    btf: Option<BtfFd>,
    /// Every section's name as the compiler wrote it (aya-obj may have seen another, see
    /// [`aya_input`]), by index: a program's kind comes from it.
    section_names: HashMap<usize, String>,
    /// The `.kconfig` map the programs' instructions point at.
    _kconfig_map: Option<bpf_sys::MapFd>,
}

/// One program ready for `BPF_PROG_LOAD`: its instructions with every subprogram linked in.
pub(crate) struct ProgramImage<'a> {
    /// Its kind, from its section.
    pub kind: Kind,
    spec: ProgLoad<'a>,
    func_info: Vec<u8>,
    func_info_rec_size: u32,
    line_info: Vec<u8>,
    line_info_rec_size: u32,
}

impl ProgramImage<'_> {
    /// The program's size, in instructions (8-byte slots).
    pub fn insn_count(&self) -> usize {
        self.spec.insns.len()
    }
}

impl Prepared {
    /// Creates the object's maps and prepares its programs.
    pub fn new(bytes: &[u8]) -> Result<Self, LoadError> {
        let object_error = |e: &dyn std::fmt::Display| LoadError::Object(e.to_string());
        let input = aya_input::for_aya(bytes).map_err(|e| object_error(&e))?;
        let bytes = &input.bytes[..];
        let maps = EbpfLoader::new()
            .load(bytes)
            .map_err(|e| object_error(&e))?;
        let mut obj = Object::parse(bytes).map_err(|e| object_error(&e))?;
        let features = aya::features();
        let btf = match features.btf() {
            Some(btf_features) => match obj.fixup_and_sanitize_btf(btf_features) {
                // As aya does, a program goes on without BTF when the kernel refuses it: aya's
                // own load of the same BTF above already failed for the programs that need it.
                Ok(Some(btf)) => BtfFd::load(&btf.to_bytes(), LogRequest::NONE).0.ok(),
                Ok(None) => None,
                Err(e) => return Err(object_error(&e)),
            },
            None => None,
        };
        if let Ok(kernel_btf) = aya::Btf::from_sys_fs() {
            obj.relocate_btf(&kernel_btf)
                .map_err(|e| object_error(&e))?;
        }
        let text_sections: HashSet<usize> = obj.functions.keys().map(|(s, _)| *s).collect();
        let fds: Vec<(String, RawFd)> = obj
            .maps
            .keys()
            .filter_map(|name| {
                let fd = map_data(maps.map(name)?).fd().as_fd().as_raw_fd();
                Some((name.clone(), fd))
            })
            .collect();
        // `relocate_maps` rewrites the functions while it reads the maps: give it copies.
        let map_objs: Vec<(String, RawFd, aya_obj::Map)> = fds
            .into_iter()
            .filter_map(|(name, fd)| {
                let map = obj.maps.get(&name)?.clone();
                Some((name, fd, map))
            })
            .collect();
        obj.relocate_maps(
            map_objs.iter().map(|(n, fd, m)| (n.as_str(), *fd, m)),
            &text_sections,
        )
        .map_err(|e| object_error(&e))?;
        obj.relocate_calls(&text_sections)
            .map_err(|e| object_error(&e))?;
        obj.sanitize_functions(features);
        Ok(Self {
            _maps: maps,
            obj,
            btf,
            section_names: input.names,
            _kconfig_map: input.kconfig_map,
        })
    }

    /// The programs' names, sorted.
    pub fn program_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.obj.programs.keys().cloned().collect();
        names.sort();
        names
    }

    /// The program called `name` (one of [`Self::program_names`]), ready to load, or why this
    /// tool cannot load it.
    pub fn program(&self, name: &str) -> Result<ProgramImage<'_>, Unloadable> {
        let unloadable = |program_type, reason: String| Unloadable {
            program_type,
            reason,
        };
        let (name, program) = self.obj.programs.get_key_value(name).ok_or_else(|| {
            unloadable("Unspecified", format!("the object has no program `{name}`"))
        })?;
        let section_name = self
            .section_names
            .get(&program.section_index)
            .map_or("", String::as_str);
        let kind = section::of(section_name)?;
        let function = self
            .obj
            .functions
            .get(&program.function_key())
            .ok_or_else(|| {
                unloadable(
                    kind.name,
                    format!("the object has no code for program `{name}`"),
                )
            })?;
        let license = program
            .license
            .to_str()
            .map_err(|_| unloadable(kind.name, format!("the license of `{name}` is not UTF-8")))?;
        let kern_version = program.kernel_version.unwrap_or_else(|| {
            aya::util::KernelVersion::current().map_or(0, aya::util::KernelVersion::code)
        });
        Ok(ProgramImage {
            kind,
            spec: ProgLoad {
                prog_type: kind.prog_type,
                expected_attach_type: kind.expected_attach_type,
                insns: &function.instructions,
                license,
                kern_version,
                flags: kind.flags,
                name,
                btf: None,
            },
            func_info: function.func_info.func_info_bytes(),
            func_info_rec_size: function.func_info_rec_size as u32,
            line_info: function.line_info.line_info_bytes(),
            line_info_rec_size: function.line_info_rec_size as u32,
        })
    }

    /// Loads the program with the log asked for. The program is unloaded when the returned
    /// descriptor drops.
    pub fn load(
        &self,
        image: &ProgramImage<'_>,
        request: LogRequest,
    ) -> (Result<ProgFd, SysError>, VerifierLog) {
        let btf = self.btf.as_ref().map(|fd| ProgBtf {
            fd: fd.as_fd(),
            func_info: &image.func_info,
            func_info_rec_size: image.func_info_rec_size,
            line_info: &image.line_info,
            line_info_rec_size: image.line_info_rec_size,
        });
        ProgFd::load_logged(&ProgLoad { btf, ..image.spec }, request)
    }
}

/// The map data behind any kind of aya map.
fn map_data(map: &Map) -> &MapData {
    match map {
        Map::Array(m)
        | Map::ArrayOfMaps(m)
        | Map::BloomFilter(m)
        | Map::CgroupArray(m)
        | Map::CgroupStorage(m)
        | Map::CgrpStorage(m)
        | Map::CpuMap(m)
        | Map::DevMap(m)
        | Map::DevMapHash(m)
        | Map::HashMap(m)
        | Map::HashOfMaps(m)
        | Map::InodeStorage(m)
        | Map::LpmTrie(m)
        | Map::LruHashMap(m)
        | Map::PerCpuArray(m)
        | Map::PerCpuCgroupStorage(m)
        | Map::PerCpuHashMap(m)
        | Map::PerCpuLruHashMap(m)
        | Map::PerfEventArray(m)
        | Map::ProgramArray(m)
        | Map::Queue(m)
        | Map::ReusePortSockArray(m)
        | Map::RingBuf(m)
        | Map::SockHash(m)
        | Map::SockMap(m)
        | Map::SkStorage(m)
        | Map::Stack(m)
        | Map::StackTraceMap(m)
        | Map::Unsupported(m)
        | Map::XskMap(m) => m,
    }
}
