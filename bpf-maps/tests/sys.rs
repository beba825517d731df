//! The bpf(2) layer against the real kernel (needs root).

use aya_obj::generated::bpf_map_type;
use bpf_sys::{MapCreate, MapFd, ProgFd};

use testkit::privilege::require_bpf;

fn hash(name: &str) -> MapFd {
    MapFd::create(&MapCreate {
        map_type: bpf_map_type::BPF_MAP_TYPE_HASH as u32,
        name,
        key_size: 4,
        value_size: 8,
        max_entries: 1024,
        flags: 0,
        inner_map: None,
    })
    .unwrap()
}

#[test]
fn ids_info_and_errors_that_explain_the_errno() {
    require_bpf();
    let m = hash("sys_test_ids");
    let info = m.info().unwrap();
    assert_eq!(
        (info.name.as_str(), info.key_size, info.value_size),
        ("sys_test_ids", 4, 8)
    );
    let ids: Vec<u32> = bpf_sys::map_ids().collect::<Result<_, _>>().unwrap();
    assert!(ids.contains(&info.id), "the new map is listed");
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids come in increasing order"
    );

    let e = MapFd::from_id(u32::MAX).unwrap_err();
    assert_eq!(e.errno(), libc::ENOENT);
    assert!(
        e.to_string()
            .contains("BPF_MAP_GET_FD_BY_ID failed: ENOENT"),
        "{e}"
    );
    assert!(e.to_string().contains("no object has this id"), "{e}");

    let e = m.update(&1u32.to_ne_bytes(), &[0; 8], 1 << 20).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.explanation().contains("wrong size"), "{e}");

    m.update(&1u32.to_ne_bytes(), &7u64.to_ne_bytes(), bpf_sys::ANY)
        .unwrap();
    let e = m
        .update(&1u32.to_ne_bytes(), &7u64.to_ne_bytes(), bpf_sys::NOEXIST)
        .unwrap_err();
    assert_eq!(e.errno(), libc::EEXIST);
    m.freeze().unwrap();
    let e = m
        .update(&2u32.to_ne_bytes(), &7u64.to_ne_bytes(), bpf_sys::ANY)
        .unwrap_err();
    assert_eq!(e.errno(), libc::EPERM);
    assert!(e.to_string().contains("frozen"), "{e}");
    let mut v = [0u8; 8];
    assert!(
        m.lookup(&1u32.to_ne_bytes(), &mut v, 0).unwrap(),
        "frozen maps still read"
    );
    assert_eq!(u64::from_ne_bytes(v), 7);
}

#[test]
fn batches_walk_the_whole_map() {
    require_bpf();
    let m = hash("sys_test_batch");
    for k in 0..1000u32 {
        m.update(
            &k.to_ne_bytes(),
            &(k as u64 * 3).to_ne_bytes(),
            bpf_sys::ANY,
        )
        .unwrap();
    }
    let mut cursor = [0u8; 8];
    let mut started = false;
    let (mut keys, mut values) = (vec![0u8; 4 * 64], vec![0u8; 8 * 64]);
    let mut seen = std::collections::HashMap::new();
    loop {
        let r = match m.lookup_batch((&mut cursor, started), &mut keys, &mut values, 64, 0) {
            Ok(r) => r,
            Err(e) if e.errno() == libc::ENOSPC => panic!("a bucket larger than 64: {e}"),
            Err(e) => panic!("{e}"),
        };
        started = true;
        for i in 0..r.count {
            let k = u32::from_ne_bytes(keys[i * 4..i * 4 + 4].try_into().unwrap());
            let v = u64::from_ne_bytes(values[i * 8..i * 8 + 8].try_into().unwrap());
            assert!(seen.insert(k, v).is_none(), "key {k} came twice");
        }
        if r.done {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(seen.iter().all(|(k, v)| *v == *k as u64 * 3));

    let mut next = [0u8; 4];
    let mut n = 0;
    let mut prev: Option<[u8; 4]> = None;
    while m
        .next_key(prev.as_ref().map(|p| &p[..]), &mut next)
        .unwrap()
    {
        n += 1;
        prev = Some(next);
    }
    assert_eq!(n, 1000);
    let mut v = [0u8; 8];
    assert!(m.lookup_and_delete(&5u32.to_ne_bytes(), &mut v).unwrap());
    assert_eq!(u64::from_ne_bytes(v), 15);
    assert!(!m.delete(&5u32.to_ne_bytes()).unwrap(), "already gone");
}

#[test]
fn program_info_names_its_maps_and_btf_comes_back_whole() {
    let (_ebpf, prog) = testkit::fixture::load_xdp("xdp_count", "xdp_count");
    let info = prog.info().unwrap();
    assert_eq!(info.name, "xdp_count");
    assert_eq!(info.tag.len(), 16);
    assert_eq!(info.map_ids.len(), 1);
    assert!(bpf_sys::prog_ids().any(|id| id.unwrap() == info.id));

    let map = MapFd::from_id(info.map_ids[0]).unwrap().info().unwrap();
    assert_eq!(map.name, "counts");
    let btf = bpf_sys::btf_data(map.btf_id).unwrap();
    let types = bpf_maps::typed::Types::from_bytes(&btf).unwrap();
    assert_eq!(
        types.get(map.btf_value_type_id).unwrap().c_name(),
        "struct counters"
    );

    // `exit` without setting R0: the verifier refuses, and the log says why.
    // SAFETY: bpf_insn is plain integers; zero then the opcode is a valid instruction.
    let mut exit: aya_obj::generated::bpf_insn = unsafe { std::mem::zeroed() };
    exit.code = 0x95;
    let e = ProgFd::load(&bpf_sys::ProgLoad {
        prog_type: aya_obj::generated::bpf_prog_type::BPF_PROG_TYPE_XDP as u32,
        insns: &[exit],
        license: "GPL",
        flags: 0,
        name: "empty",
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.0.errno(), libc::EACCES, "{}", e.0);
    assert!(
        e.1.contains("R0 !read_ok"),
        "the verifier log comes back: {}",
        e.1
    );
}
