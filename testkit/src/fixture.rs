//! The fixture eBPF programs (the `fixtures` crate): loaded into the kernel with aya, their
//! maps as file descriptors, or their objects in files for a command line.

use std::io::Write as _;
use std::os::fd::AsFd;

use bpf_sys::{MapFd, ProgFd};

use crate::privilege::{self, Capability};

/// The fixture called `name`; panics if there is none.
#[track_caller]
pub fn get(name: &str) -> &'static fixtures::Fixture {
    fixtures::get(name).unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Loads fixture `name`'s object: its maps are created, its programs not loaded. Needs CAP_BPF.
#[track_caller]
pub fn load(name: &str) -> aya::Ebpf {
    privilege::require_capabilities(&[Capability::Bpf], "loading a fixture's eBPF object");
    aya::Ebpf::load(get(name).object)
        .unwrap_or_else(|e| panic!("fixture {name} does not load: {e}"))
}

/// Loads fixture `name` and its XDP program `program` (not attached). Needs CAP_BPF.
#[track_caller]
pub fn load_xdp(name: &str, program: &str) -> (aya::Ebpf, ProgFd) {
    let mut ebpf = load(name);
    let xdp: &mut aya::programs::Xdp = ebpf
        .program_mut(program)
        .unwrap_or_else(|| panic!("fixture {name} has no program {program}"))
        .try_into()
        .unwrap_or_else(|e| panic!("{program} of fixture {name} is not XDP: {e}"));
    xdp.load()
        .unwrap_or_else(|e| panic!("the verifier rejects {program} of fixture {name}: {e}"));
    let fd = xdp
        .fd()
        .expect("a loaded program has a file descriptor")
        .as_fd()
        .try_clone_to_owned()
        .expect("duplicating the program's file descriptor");
    (ebpf, ProgFd::from_fd(fd))
}

/// A file descriptor of map `name` of a loaded object (a hash map, an array, their per-CPU
/// kinds, or an array of maps).
#[track_caller]
pub fn map(ebpf: &aya::Ebpf, name: &str) -> MapFd {
    use aya::maps::Map;
    let data = match ebpf.map(name).unwrap_or_else(|| panic!("no map {name}")) {
        Map::HashMap(d)
        | Map::Array(d)
        | Map::PerCpuArray(d)
        | Map::PerCpuHashMap(d)
        | Map::ArrayOfMaps(d) => d,
        other => panic!("map {name} is of an unexpected kind: {other:?}"),
    };
    MapFd::from_fd(
        data.fd()
            .as_fd()
            .try_clone_to_owned()
            .expect("duplicating the map's file descriptor"),
    )
}

/// Fixture `name`'s object in a temporary `.o` file (removed when dropped), for a command that
/// takes a path.
#[track_caller]
pub fn object_file(name: &str) -> tempfile::NamedTempFile {
    let fixture = get(name);
    let mut file = tempfile::Builder::new()
        .suffix(".o")
        .tempfile()
        .expect("a temporary file");
    file.write_all(fixture.object)
        .expect("writing the fixture's object");
    file
}

/// The path of an [`object_file`], as a command-line argument.
pub fn object_path(file: &tempfile::NamedTempFile) -> &str {
    file.path().to_str().expect("a UTF-8 temporary path")
}
