//! What the privileged integration tests share: root checks and loading fixtures.

#![allow(dead_code)] // each test binary uses its own subset

use std::os::fd::AsFd;

use bpf_sys::{MapFd, ProgFd};

/// Fails with a clear message unless running as root.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests load eBPF programs and need root (CAP_BPF); run them with sudo"
    );
}

/// Loads fixture `name` and its XDP program `program` (not attached), as root.
pub fn load_xdp(name: &str, program: &str) -> (aya::Ebpf, ProgFd) {
    require_root();
    let fixture = fixtures::get(name).unwrap_or_else(|| panic!("no fixture {name}"));
    let mut ebpf = aya::Ebpf::load(fixture.object).expect("fixture loads");
    let xdp: &mut aya::programs::Xdp = ebpf.program_mut(program).unwrap().try_into().unwrap();
    xdp.load().expect("the verifier accepts the fixture");
    let prog = ProgFd::from_fd(xdp.fd().unwrap().as_fd().try_clone_to_owned().unwrap());
    (ebpf, prog)
}

/// A file descriptor of map `name` of a loaded object.
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
    MapFd::from_fd(data.fd().as_fd().try_clone_to_owned().unwrap())
}
