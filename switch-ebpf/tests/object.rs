//! The embedded data plane keeps its debug information and passes this kernel's verifier.

use object::{Object as _, ObjectSymbol as _};

#[test]
fn object_has_program_maps_btf_and_dwarf() {
    let obj = object::File::parse(switch_ebpf::SWITCH).unwrap();
    for section in [
        ".BTF",
        ".BTF.ext",
        ".debug_info",
        ".debug_line",
        ".maps",
        "xdp",
    ] {
        assert!(obj.section_by_name(section).is_some(), "{section} missing");
    }
    let symbols: Vec<&str> = obj.symbols().filter_map(|s| s.name().ok()).collect();
    for name in [
        switch_ebpf::PROGRAM,
        switch_ebpf::maps::FDB,
        switch_ebpf::maps::PORTS,
        switch_ebpf::maps::TX_PORTS,
        switch_ebpf::maps::COUNTERS,
    ] {
        assert!(symbols.contains(&name), "symbol {name} missing");
    }
}

#[test]
fn the_verifier_accepts_the_data_plane() {
    preflight::require_capabilities(&[preflight::Capability::Bpf])
        .expect("loading the program needs CAP_BPF: run the tests as root");
    let mut ebpf = aya::Ebpf::load(switch_ebpf::SWITCH).unwrap();
    let prog: &mut aya::programs::Xdp = ebpf
        .program_mut(switch_ebpf::PROGRAM)
        .unwrap()
        .try_into()
        .unwrap();
    prog.load().unwrap_or_else(|e| panic!("rejected: {e}"));
}
