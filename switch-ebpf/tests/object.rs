//! The embedded data plane keeps its debug information, its Rust mirror matches its BTF, and
//! this kernel's verifier accepts every program.

use bpf_maps::typed::Types;
use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
use std::mem::{offset_of, size_of};
use switch_ebpf::types::{FDB_LAST_PASSED_OFFSET, FdbEntry, FdbKey, PortConfig, PortCounters};

const PROGRAMS: [&str; 3] = [
    switch_ebpf::programs::XDP,
    switch_ebpf::programs::XDP_FRAGS,
    switch_ebpf::programs::TC,
];

#[test]
fn object_has_programs_maps_btf_and_dwarf() {
    let obj = object::File::parse(switch_ebpf::SWITCH).unwrap();
    for section in [
        ".BTF",
        ".BTF.ext",
        ".debug_info",
        ".debug_line",
        ".maps",
        "xdp",
        "xdp.frags",
        "classifier",
    ] {
        assert!(obj.section_by_name(section).is_some(), "{section} missing");
    }
    let symbols: Vec<&str> = obj.symbols().filter_map(|s| s.name().ok()).collect();
    let maps = [
        switch_ebpf::maps::FDB,
        switch_ebpf::maps::PORTS,
        switch_ebpf::maps::TX_PORTS,
        switch_ebpf::maps::COUNTERS,
    ];
    for name in PROGRAMS.into_iter().chain(maps) {
        assert!(symbols.contains(&name), "symbol {name} missing");
    }
}

#[test]
fn the_rust_mirror_matches_the_btf() {
    let obj = object::File::parse(switch_ebpf::SWITCH).unwrap();
    let btf = obj.section_by_name(".BTF").unwrap().data().unwrap();
    let types = Types::from_bytes(btf).unwrap();
    let check = |c_name: &str, size: usize, fields: &[(&str, usize)]| {
        let t = types.get(types.find(c_name).unwrap()).unwrap();
        assert_eq!(t.size(), size, "size of {c_name}");
        for (field, offset) in fields {
            assert_eq!(t.field(field).unwrap().offset, *offset, "{c_name}.{field}");
        }
    };
    check(
        "struct fdb_key",
        size_of::<FdbKey>(),
        &[
            ("bridge", offset_of!(FdbKey, bridge)),
            ("mac", offset_of!(FdbKey, mac)),
        ],
    );
    check(
        "struct fdb_entry",
        size_of::<FdbEntry>(),
        &[
            ("ifindex", offset_of!(FdbEntry, ifindex)),
            ("flags", offset_of!(FdbEntry, flags)),
            ("last_passed_ns", FDB_LAST_PASSED_OFFSET as usize),
        ],
    );
    assert_eq!(
        offset_of!(FdbEntry, last_passed_ns),
        FDB_LAST_PASSED_OFFSET as usize
    );
    check(
        "struct port_config",
        size_of::<PortConfig>(),
        &[
            ("bridge", offset_of!(PortConfig, bridge)),
            ("flags", offset_of!(PortConfig, flags)),
            ("slot", offset_of!(PortConfig, slot)),
            ("refresh_ms", offset_of!(PortConfig, refresh_ms)),
        ],
    );
    check(
        "struct port_counters",
        size_of::<PortCounters>(),
        &[
            ("fast_packets", offset_of!(PortCounters, fast_packets)),
            ("fast_bytes", offset_of!(PortCounters, fast_bytes)),
            ("dropped", offset_of!(PortCounters, dropped)),
            ("passed", offset_of!(PortCounters, passed)),
        ],
    );
}

/// Loads one XDP variant and the TC program from a fresh copy of the object. The two XDP
/// variants cannot share one load: the kernel lets a devmap serve programs of one kind only
/// (with or without frags), fixed by the first program that uses it.
fn load_variant(xdp: &str) {
    let mut ebpf = aya::Ebpf::load(switch_ebpf::SWITCH).unwrap();
    let prog: &mut aya::programs::Xdp = ebpf.program_mut(xdp).unwrap().try_into().unwrap();
    prog.load()
        .unwrap_or_else(|e| panic!("{xdp} rejected: {e:?}"));
    let tc: &mut aya::programs::SchedClassifier = ebpf
        .program_mut(switch_ebpf::programs::TC)
        .unwrap()
        .try_into()
        .unwrap();
    tc.load()
        .unwrap_or_else(|e| panic!("switch_tc rejected: {e:?}"));
}

#[test]
fn the_verifier_accepts_every_program() {
    testkit::privilege::require_bpf();
    load_variant(switch_ebpf::programs::XDP);
    load_variant(switch_ebpf::programs::XDP_FRAGS);
}
