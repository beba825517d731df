//! `bpf_maps::typed` against the BTF of a real clang-compiled object: the `map_types` fixture,
//! whose maps use MACs, addresses, ports, enums, unions, bitfields, nested arrays of structs,
//! text, a bool, a signed integer and a spin lock.

use std::sync::OnceLock;

use bpf_maps::typed::{Field, FieldKind, Filter, TypeError, TypeRef, Types, hex, parse_hex};
use object::{Object as _, ObjectSection as _};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The fixture's `.BTF` section.
fn btf() -> &'static [u8] {
    static BTF: OnceLock<&'static [u8]> = OnceLock::new();
    BTF.get_or_init(|| {
        let f = fixtures::get("map_types").expect("the map_types fixture exists");
        let obj = object::File::parse(f.object).expect("the fixture is an ELF object");
        let section = obj.section_by_name(".BTF").expect("clang -g keeps .BTF");
        section.data().expect(".BTF has data")
    })
}

fn types() -> &'static Types {
    static TYPES: OnceLock<Types> = OnceLock::new();
    TYPES.get_or_init(|| Types::from_bytes(btf()).expect("clang's BTF parses"))
}

/// The id of `struct <name>`, found with btf-rs directly.
fn struct_id(name: &str) -> u32 {
    let btf = btf_rs::Btf::from_bytes(btf()).unwrap();
    let ids = btf.resolve_ids_by_name(name).unwrap();
    ids.into_iter()
        .find(|id| matches!(btf.resolve_type_by_id(*id), Ok(btf_rs::Type::Struct(_))))
        .unwrap_or_else(|| panic!("no struct {name} in the fixture's BTF"))
}

fn key() -> TypeRef {
    types().get(struct_id("fdb_key")).unwrap()
}

fn entry() -> TypeRef {
    types().get(struct_id("fdb_entry")).unwrap()
}

fn locked() -> TypeRef {
    types().get(struct_id("locked_counter")).unwrap()
}

/// A full `struct fdb_entry`, as decoding shows it.
fn sample() -> Value {
    json!({
        "addr": "198.18.0.1",
        "port": 8080,
        "addr6": "fd00:198:18::1",
        "state": "PORT_FORWARDING",
        "tag": {"as_u32": 0x0403_0201, "bytes": [1, 2, 3, 4]},
        "cookie": 0x0000_0002_0000_0001u64,
        "cookie_lo": 1,
        "cookie_hi": 2,
        "hops": [
            {"addr": "198.18.0.2", "weight": 1, "flags": 0},
            {"addr": "198.18.0.3", "weight": 2, "flags": 1},
            {"addr": "0.0.0.0", "weight": 0, "flags": 255}
        ],
        "prio": 5,
        "learned": 1,
        "age": 300,
        "reserved": 0,
        "name": "eth0",
        "is_static": true,
        "delta": -42,
        "src_ip": "10.0.0.1",
        "packets": 123_456_789
    })
}

/// Bytes of `struct fdb_entry` that are padding.
const ENTRY_PADDING: [usize; 8] = [22, 23, 47, 55, 63, 85, 86, 87];

#[test]
fn type_ids_from_names_and_map_definitions_agree() {
    let t = types();
    assert_eq!(t.find("struct fdb_entry").unwrap(), struct_id("fdb_entry"));
    assert_eq!(t.find("struct fdb_key").unwrap(), struct_id("fdb_key"));
    let (k, v) = t.map_types("fdb").unwrap();
    assert_eq!(k, Some(struct_id("fdb_key")));
    assert_eq!(v, Some(struct_id("fdb_entry")));
    let (k, v) = t.map_types("locked").unwrap();
    assert_eq!(t.get(k.unwrap()).unwrap().c_name(), "__u32");
    assert_eq!(v, Some(struct_id("locked_counter")));
    assert!(matches!(
        t.map_types("nope"),
        Err(TypeError::UnknownName { .. })
    ));
    assert_eq!(entry().c_name(), "struct fdb_entry");
    assert_eq!(entry().size(), 104);
    assert_eq!(key().size(), 8);
    assert_eq!(t.get(t.find("__be32").unwrap()).unwrap().c_name(), "__be32");
}

#[test]
fn keys_decode_with_readable_macs() {
    let k = key();
    let bytes = [0x02, 0x1a, 0xb0, 0, 0, 1, 10, 0];
    let v = k.decode(&bytes).unwrap();
    assert_eq!(v, json!({"mac": "02:1a:b0:00:00:01", "vlan": 10}));
    assert_eq!(
        v.to_string(),
        r#"{"mac":"02:1a:b0:00:00:01","vlan":10}"#,
        "member order is kept"
    );
    assert_eq!(k.encode(&v.to_string()).unwrap(), bytes);
    assert_eq!(k.encode("mac=02:1a:b0:00:00:01,vlan=10").unwrap(), bytes);
    assert_eq!(k.encode("mac=02-1A-B0-00-00-01, vlan=0xa").unwrap(), bytes);
    assert_eq!(
        k.encode("vlan=10,mac=\"02:1a:b0:00:00:01\"").unwrap(),
        bytes
    );
    assert_eq!(
        k.encode(r#"{"vlan":10,"mac":[2,26,176,0,0,1]}"#).unwrap(),
        bytes
    );
    assert_eq!(k.encode("vlan=10").unwrap(), [0, 0, 0, 0, 0, 0, 10, 0]);
    assert_eq!(
        k.encode_onto("vlan=20", &bytes).unwrap(),
        [0x02, 0x1a, 0xb0, 0, 0, 1, 20, 0]
    );
}

#[test]
fn values_decode_every_kind_of_member() {
    let e = entry();
    let bytes = e.encode(&sample().to_string()).unwrap();
    // Spot checks of the memory layout clang chose.
    assert_eq!(
        &bytes[0..4],
        &[198, 18, 0, 1],
        "__be32 addr in network order"
    );
    assert_eq!(
        &bytes[4..6],
        &[0x1f, 0x90],
        "__be16 port 8080 in network order"
    );
    assert_eq!(&bytes[6..8], &[0xfd, 0x00]);
    assert_eq!(&bytes[24..28], &2u32.to_ne_bytes(), "PORT_FORWARDING");
    assert_eq!(&bytes[28..32], &[1, 2, 3, 4]);
    assert_eq!(&bytes[32..40], &0x0000_0002_0000_0001u64.to_ne_bytes());
    assert_eq!(&bytes[48..52], &[198, 18, 0, 3], "hops[1].addr");
    assert_eq!(bytes[63], 0, "hop padding stays zero");
    let bits = u32::from_ne_bytes(bytes[64..68].try_into().unwrap());
    assert_eq!(bits, 5 | (1 << 3) | (300 << 4));
    assert_eq!(&bytes[68..73], b"eth0\0");
    assert_eq!(bytes[84], 1);
    assert_eq!(&bytes[88..92], &(-42i32).to_ne_bytes());
    assert_eq!(
        &bytes[92..96],
        &[10, 0, 0, 1],
        "__u32 src_ip as the packet's bytes"
    );
    assert_eq!(&bytes[96..104], &123_456_789u64.to_ne_bytes());
    for p in ENTRY_PADDING {
        assert_eq!(bytes[p], 0, "padding byte {p}");
    }
    let shown = e.decode(&bytes).unwrap();
    assert_eq!(shown, sample());
    assert_eq!(
        shown.to_string(),
        sample().to_string(),
        "member order is kept"
    );
    assert_eq!(
        e.encode(&serde_json::to_string_pretty(&shown).unwrap())
            .unwrap(),
        bytes
    );
}

#[test]
fn edits_reach_nested_members_and_keep_the_rest() {
    let e = entry();
    let base = e.encode(&sample().to_string()).unwrap();
    let edited = e
        .encode_onto(
            "hops[2].addr=198.18.0.9, age=7, state=PORT_BLOCKING, name=\"br, 0\", tag.bytes[0]=9",
            &base,
        )
        .unwrap();
    let mut want = sample();
    want["hops"][2]["addr"] = json!("198.18.0.9");
    want["age"] = json!(7);
    want["state"] = json!("PORT_BLOCKING");
    want["name"] = json!("br, 0");
    want["tag"] = json!({"as_u32": 0x0403_0209, "bytes": [9, 2, 3, 4]});
    assert_eq!(e.decode(&edited).unwrap(), want);
    // A JSON object onto a base changes only what it names.
    let edited = e
        .encode_onto(r#"{"hops":[{},{"weight":9},{}],"cookie_hi":3}"#, &base)
        .unwrap();
    let shown = e.decode(&edited).unwrap();
    assert_eq!(
        shown["hops"][1],
        json!({"addr": "198.18.0.3", "weight": 9, "flags": 1})
    );
    assert_eq!(shown["cookie"], json!(0x0000_0003_0000_0001u64));
    assert_eq!(shown["packets"], json!(123_456_789));
    // The same edits from zero leave everything else zero.
    let fresh = e.encode("age=7,hops[1].weight=9").unwrap();
    let shown = e.decode(&fresh).unwrap();
    assert_eq!(shown["age"], json!(7));
    assert_eq!(shown["hops"][1]["weight"], json!(9));
    assert_eq!(shown["packets"], json!(0));
    assert_eq!(shown["state"], json!("PORT_DISABLED"));
    assert_eq!(shown["name"], json!(""));
    assert_eq!(shown["is_static"], json!(false));
}

#[test]
fn field_paths_give_offsets_sizes_and_bits() {
    let e = entry();
    /// (path, offset, size, bit offset, bit size, kind)
    type Case = (
        &'static str,
        usize,
        usize,
        Option<u32>,
        Option<u32>,
        FieldKind,
    );
    let cases: &[Case] = &[
        ("addr", 0, 4, None, None, FieldKind::Ipv4),
        ("port", 4, 2, None, None, FieldKind::Int),
        ("addr6", 6, 16, None, None, FieldKind::Ipv6),
        ("state", 24, 4, None, None, FieldKind::Enum),
        ("tag", 28, 4, None, None, FieldKind::Union),
        ("tag.bytes[2]", 30, 1, None, None, FieldKind::Int),
        ("cookie", 32, 8, None, None, FieldKind::Int),
        ("cookie_hi", 36, 4, None, None, FieldKind::Int),
        ("hops", 40, 24, None, None, FieldKind::Array),
        ("hops[1]", 48, 8, None, None, FieldKind::Struct),
        ("hops[1].weight", 52, 2, None, None, FieldKind::Int),
        ("hops[2].addr", 56, 4, None, None, FieldKind::Ipv4),
        ("prio", 64, 1, Some(512), Some(3), FieldKind::Int),
        ("learned", 64, 1, Some(515), Some(1), FieldKind::Int),
        ("age", 64, 2, Some(516), Some(12), FieldKind::Int),
        ("reserved", 66, 2, Some(528), Some(16), FieldKind::Int),
        ("name", 68, 16, None, None, FieldKind::Text),
        ("is_static", 84, 1, None, None, FieldKind::Bool),
        ("delta", 88, 4, None, None, FieldKind::Int),
        ("src_ip", 92, 4, None, None, FieldKind::Ipv4),
        ("packets", 96, 8, None, None, FieldKind::Int),
    ];
    for (path, offset, size, bit_offset, bit_size, kind) in cases {
        let f = e.field(path).unwrap();
        assert_eq!(
            (f.offset, f.size, f.bit_offset, f.bit_size, f.kind),
            (*offset, *size, *bit_offset, *bit_size, *kind),
            "{path}"
        );
        assert_eq!(&f.path, path);
    }
    assert!(e.field("delta").unwrap().signed);
    assert!(!e.field("age").unwrap().signed);
    assert_eq!(e.field("port").unwrap().c_name, "__be16");
    assert_eq!(e.field("hops").unwrap().c_name, "struct hop[3]");
    assert!(
        e.field(" hops[ 1 ] . weight ").is_err(),
        "no spaces between segments"
    );
    assert_eq!(key().field("mac").unwrap().kind, FieldKind::Mac);
    assert_eq!(key().field("mac[5]").unwrap().offset, 5);
}

#[test]
fn fields_read_write_and_format_raw_integers() {
    let e = entry();
    let mut bytes = e.encode(&sample().to_string()).unwrap();
    let port: Field = e.field("port").unwrap();
    let raw = port.read_int(&bytes).unwrap();
    assert_eq!(
        raw,
        u64::from(u16::from_ne_bytes([0x1f, 0x90])),
        "memory as a native integer"
    );
    assert_eq!(port.format(raw), json!(8080));
    assert_eq!(port.parse_int("8080").unwrap(), raw);

    let age = e.field("age").unwrap();
    assert_eq!(age.read_int(&bytes).unwrap(), 300);
    age.write_int(&mut bytes, 4095).unwrap();
    assert_eq!(e.decode(&bytes).unwrap()["age"], json!(4095));
    assert_eq!(
        e.decode(&bytes).unwrap()["learned"],
        json!(1),
        "neighbours untouched"
    );
    assert!(matches!(
        age.write_int(&mut bytes, 4096),
        Err(TypeError::OutOfRange { .. })
    ));
    assert!(matches!(
        age.parse_int("4096"),
        Err(TypeError::OutOfRange { .. })
    ));

    let state = e.field("state").unwrap();
    assert_eq!(state.parse_int("PORT_BLOCKING").unwrap(), 3);
    assert_eq!(state.format(1), json!("PORT_LEARNING"));
    assert_eq!(state.format(9), json!(9));
    let delta = e.field("delta").unwrap();
    assert_eq!(delta.parse_int("-1").unwrap(), 0xffff_ffff);
    assert_eq!(delta.format(0xffff_fffe), json!(-2));
    let addr = e.field("addr").unwrap();
    assert_eq!(
        addr.format(addr.parse_int("198.18.0.7").unwrap()),
        json!("198.18.0.7")
    );
    assert_eq!(
        e.field("hops[1]").unwrap().decode(&bytes).unwrap()["weight"],
        json!(2)
    );
    assert!(matches!(
        e.field("hops").unwrap().read_int(&bytes),
        Err(TypeError::NotAnInteger { .. })
    ));
    assert!(matches!(
        e.field("name").unwrap().parse_int("x"),
        Err(TypeError::NotAnInteger { .. })
    ));
    assert!(matches!(
        port.read_int(&bytes[1..]),
        Err(TypeError::SizeMismatch { .. })
    ));
    assert_eq!(
        key().field("mac").unwrap().format(
            key()
                .field("mac")
                .unwrap()
                .parse_int("02:00:00:00:00:01")
                .unwrap()
        ),
        json!("02:00:00:00:00:01")
    );
}

#[test]
fn spin_locks_are_located_and_omitted() {
    let l = locked();
    assert_eq!(l.spin_lock_offset(), Some(0));
    assert_eq!(entry().spin_lock_offset(), None);
    let mut bytes = l.encode("generation=7,packets=9").unwrap();
    assert_eq!(&bytes[0..4], &[0; 4]);
    bytes[0] = 1;
    assert_eq!(
        l.decode(&bytes).unwrap(),
        json!({"generation": 7, "packets": 9})
    );
    assert_eq!(l.field_names(), vec!["generation", "packets"]);
    assert_eq!(
        l.encode_onto("packets=10", &bytes).unwrap()[0],
        1,
        "the lock word is kept"
    );
    for bad in ["lock=1", r#"{"lock":{"val":1}}"#] {
        let e = l.encode(bad).unwrap_err();
        assert!(matches!(e, TypeError::KernelManaged { .. }), "{bad}: {e}");
        assert!(e.to_string().contains("struct bpf_spin_lock"), "{e}");
    }
    assert!(matches!(
        l.field("lock"),
        Err(TypeError::KernelManaged { .. })
    ));
}

#[test]
fn filters_select_entries() {
    let k = key().decode(&[0x02, 0x1a, 0xb0, 0, 0, 1, 10, 0]).unwrap();
    let v = sample();
    let yes = [
        "key.mac=02:1a:b0:00:00:01",
        "mac=02:1A:B0:00:00:01",
        "vlan=10",
        "key.vlan<=10",
        "value.state=PORT_FORWARDING",
        "state!=PORT_BLOCKING",
        "hops[1].addr=198.18.0.3",
        "addr6=fd00:198:18:0::1",
        "delta<0",
        "delta>=-42",
        "age>299",
        "packets>1e3",
        "name=eth0",
        "is_static=true",
        "tag.bytes=[1,2,3,4]",
        "tag.as_u32=0x04030201",
        "port=8080",
        "src_ip=10.0.0.1",
    ];
    for f in yes {
        assert!(Filter::parse(f).unwrap().matches(&k, &v), "{f}");
        Filter::parse(f)
            .unwrap()
            .check(Some(&key()), Some(&entry()))
            .unwrap();
    }
    let no = [
        "vlan=11",
        "key.vlan>10",
        "state=PORT_BLOCKING",
        "delta>0",
        "name=eth1",
        "value.vlan=10",
        "nope=1",
    ];
    for f in no {
        assert!(!Filter::parse(f).unwrap().matches(&k, &v), "{f}");
    }
    let e = Filter::parse("value.nope=1")
        .unwrap()
        .check(Some(&key()), Some(&entry()))
        .unwrap_err();
    assert!(matches!(e, TypeError::BadFilter { .. }));
    assert!(e.to_string().contains("addr, port, addr6"), "{e}");
    assert!(
        Filter::parse("key.vlan=1")
            .unwrap()
            .check(Some(&key()), None)
            .is_ok()
    );
    assert!(
        Filter::parse("hops[3].addr=1")
            .unwrap()
            .check(None, Some(&entry()))
            .is_err()
    );
}

#[test]
fn hex_is_the_raw_form() {
    let bytes = key().encode("mac=02:1a:b0:00:00:01,vlan=10").unwrap();
    assert_eq!(hex(&bytes), "02 1a b0 00 00 01 0a 00");
    assert_eq!(parse_hex(&hex(&bytes)).unwrap(), bytes);
    assert_eq!(parse_hex("0x021ab00000010a00").unwrap(), bytes);
    assert_eq!(parse_hex("021ab00000010a00").unwrap(), bytes);
    assert!(matches!(parse_hex("02 1"), Err(TypeError::BadHex { .. })));
}

/// Asserts the error's variant and that its message contains `needle`.
fn fails(result: Result<Vec<u8>, TypeError>, check: fn(&TypeError) -> bool, needle: &str) {
    match result {
        Ok(b) => panic!(
            "expected an error containing {needle:?}, got bytes {}",
            hex(&b)
        ),
        Err(e) => {
            assert!(check(&e), "wrong variant: {e:?}");
            assert!(e.to_string().contains(needle), "{needle:?} not in: {e}");
        }
    }
}

#[test]
fn every_bad_input_is_a_clear_error() {
    use TypeError as E;
    let e = entry();
    let k = key();
    let base = e.encode(&sample().to_string()).unwrap();

    fails(
        e.encode("vlann=1"),
        |e| matches!(e, E::UnknownField { .. }),
        "its fields are: addr, port, addr6, state, tag, cookie, cookie_lo, cookie_hi, hops, prio",
    );
    fails(
        e.encode(r#"{"nope":1}"#),
        |e| matches!(e, E::UnknownField { .. }),
        "no field `nope`",
    );
    fails(
        e.encode("hops[0].nope=1"),
        |e| matches!(e, E::UnknownField { .. }),
        "struct hop",
    );
    fails(
        k.encode("vlan=65536"),
        |e| matches!(e, E::OutOfRange { .. }),
        "0 to 65535",
    );
    fails(
        k.encode("vlan=-1"),
        |e| matches!(e, E::OutOfRange { .. }),
        "0 to 65535",
    );
    fails(
        e.encode("delta=2147483648"),
        |e| matches!(e, E::OutOfRange { .. }),
        "-2147483648 to 2147483647",
    );
    fails(
        e.encode("prio=8"),
        |e| matches!(e, E::OutOfRange { .. }),
        "0 to 7",
    );
    fails(
        e.encode("port=70000"),
        |e| matches!(e, E::OutOfRange { .. }),
        "`port`",
    );
    fails(
        e.encode("hops[0].flags=256"),
        |e| matches!(e, E::OutOfRange { .. }),
        "`hops[0].flags`",
    );
    fails(
        k.encode("vlan=abc"),
        |e| matches!(e, E::BadValue { .. }),
        "an integer",
    );
    fails(
        k.encode("vlan=1.5"),
        |e| matches!(e, E::BadValue { .. }),
        "`1.5`",
    );
    fails(
        k.encode(r#"{"vlan":1.5}"#),
        |e| matches!(e, E::BadValue { .. }),
        "an integer",
    );
    fails(
        k.encode(r#"{"vlan":[1]}"#),
        |e| matches!(e, E::WrongKind { .. }),
        "an array of 1 element",
    );
    fails(
        k.encode(r#"{"vlan":true}"#),
        |e| matches!(e, E::WrongKind { .. }),
        "the boolean true",
    );
    fails(
        e.encode(r#"{"hops":5}"#),
        |e| matches!(e, E::WrongKind { .. }),
        "an array of 3 elements",
    );
    fails(
        e.encode(r#"{"hops":[{},{}]}"#),
        |e| matches!(e, E::WrongKind { .. }),
        "exactly 3 elements",
    );
    fails(
        e.encode(r#"{"tag":7}"#),
        |e| matches!(e, E::WrongKind { .. }),
        "union",
    );
    fails(
        e.encode("42"),
        |e| matches!(e, E::WrongKind { .. }),
        "an object of fields",
    );
    fails(
        e.encode("[1,2]"),
        |e| matches!(e, E::WrongKind { .. }),
        "an object",
    );
    fails(
        k.encode("mac=02:1a:b0:00:00"),
        |e| matches!(e, E::BadValue { .. }),
        "a MAC address like",
    );
    fails(
        k.encode("mac=02:1a:b0:00:00:0g"),
        |e| matches!(e, E::BadValue { .. }),
        "`mac`",
    );
    fails(
        k.encode(r#"{"mac":5}"#),
        |e| matches!(e, E::WrongKind { .. }),
        "`mac`",
    );
    fails(
        e.encode("addr=300.1.1.1"),
        |e| matches!(e, E::BadValue { .. }),
        "an IPv4 address like",
    );
    fails(
        e.encode("addr=1"),
        |e| matches!(e, E::BadValue { .. }),
        "an IPv4 address",
    );
    fails(
        e.encode(r#"{"addr":1}"#),
        |e| matches!(e, E::WrongKind { .. }),
        "an IPv4 address",
    );
    fails(
        e.encode("addr6=fd00:::1"),
        |e| matches!(e, E::BadValue { .. }),
        "an IPv6 address like",
    );
    fails(
        e.encode("src_ip=10.0.0"),
        |e| matches!(e, E::BadValue { .. }),
        "`src_ip`",
    );
    fails(
        e.encode("state=PORT_UP"),
        |e| matches!(e, E::BadValue { .. }),
        "PORT_DISABLED, PORT_LEARNING, PORT_FORWARDING, PORT_BLOCKING",
    );
    fails(
        e.encode("name=abcdefghijklmnopq"),
        |e| matches!(e, E::BadValue { .. }),
        "at most 16 bytes (it has 17)",
    );
    fails(
        e.encode("is_static=maybe"),
        |e| matches!(e, E::BadValue { .. }),
        "true, false",
    );
    fails(
        e.encode("is_static=256"),
        |e| matches!(e, E::OutOfRange { .. }),
        "0 to 255",
    );
    fails(
        e.encode("hops[3].addr=1.2.3.4"),
        |e| matches!(e, E::IndexOutOfBounds { .. }),
        "indexes run from 0 to 2",
    );
    fails(
        e.encode("packets[0]=1"),
        |e| matches!(e, E::NotAnArray { .. }),
        "not an array",
    );
    fails(
        e.encode("packets.x=1"),
        |e| matches!(e, E::NoFields { .. }),
        "has no fields",
    );
    fails(
        e.encode("prio.x=1"),
        |e| matches!(e, E::NoFields { .. }),
        "`prio`",
    );
    fails(
        e.encode("hops[x].addr=1"),
        |e| matches!(e, E::BadPath { .. }),
        "not an array index",
    );
    fails(
        e.encode(".age=1"),
        |e| matches!(e, E::BadPath { .. }),
        "between two field names",
    );
    fails(e.encode(""), |e| matches!(e, E::BadSyntax { .. }), "empty");
    fails(
        e.encode("   "),
        |e| matches!(e, E::BadSyntax { .. }),
        "empty",
    );
    fails(
        e.encode("{"),
        |e| matches!(e, E::BadSyntax { .. }),
        "not valid JSON",
    );
    fails(
        e.encode("age"),
        |e| matches!(e, E::BadSyntax { .. }),
        "neither JSON nor field=value",
    );
    fails(
        e.encode("age=1,"),
        |e| matches!(e, E::BadSyntax { .. }),
        "last comma",
    );
    fails(
        e.encode("age=1,prio"),
        |e| matches!(e, E::BadSyntax { .. }),
        "no `=`",
    );
    fails(
        e.encode("hops=[1,2"),
        |e| matches!(e, E::BadSyntax { .. }),
        "not valid JSON",
    );
    fails(
        e.encode("name=\"a\" x"),
        |e| matches!(e, E::BadSyntax { .. }),
        "separate field=value pairs with commas",
    );
    fails(
        e.encode("age=1,age=2"),
        |e| matches!(e, E::Conflict { .. }),
        "`age` and `age`",
    );
    fails(
        e.encode(r#"{"tag":{"as_u32":1,"bytes":[2,0,0,0]}}"#),
        |e| matches!(e, E::Conflict { .. }),
        "`tag.as_u32` and `tag.bytes[0]`",
    );
    fails(
        e.encode(r#"{"cookie":1,"cookie_lo":2}"#),
        |e| matches!(e, E::Conflict { .. }),
        "`cookie` and `cookie_lo`",
    );
    fails(
        e.encode_onto("age=1", &base[1..]),
        |e| matches!(e, E::SizeMismatch { .. }),
        "104 bytes, but 103",
    );
    assert!(matches!(
        e.decode(&base[..103]),
        Err(E::SizeMismatch {
            expected: 104,
            got: 103,
            ..
        })
    ));
    assert!(matches!(e.field("nope"), Err(E::UnknownField { .. })));
    assert!(matches!(types().get(0), Err(E::Unsupported { .. })));
    let last = types().last_type_id();
    assert!(matches!(
        types().get(last + 1),
        Err(E::UnknownTypeId { .. })
    ));
    let func = (1..=last).find(|id| {
        types()
            .get(*id)
            .is_err_and(|e| e.to_string().contains("functions have no bytes"))
    });
    assert!(
        func.is_some(),
        "the fixture's BTF has function types, which cannot be laid out"
    );
    for bad in ["", "x", "x=", "==1", "a!b", "vlan>x"] {
        assert!(Filter::parse(bad).is_err() || bad == "x=", "{bad}");
    }
    assert!(matches!(
        Types::from_bytes(&btf()[..100]),
        Err(E::MalformedBtf { .. })
    ));
}

fn zero_padding(mut bytes: Vec<u8>) -> Vec<u8> {
    for p in ENTRY_PADDING {
        bytes[p] = 0;
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoding_then_encoding_gives_the_bytes_back(raw in proptest::collection::vec(any::<u8>(), 104)) {
        let e = entry();
        let bytes = zero_padding(raw.clone());
        let shown = e.decode(&bytes).unwrap();
        prop_assert_eq!(e.encode(&shown.to_string()).unwrap(), bytes);
        // Onto the original, even padding garbage survives.
        prop_assert_eq!(e.encode_onto(&shown.to_string(), &raw).unwrap(), raw);
    }

    #[test]
    fn keys_and_locked_values_round_trip(k in proptest::collection::vec(any::<u8>(), 8), mut l in proptest::collection::vec(any::<u8>(), 16)) {
        let shown = key().decode(&k).unwrap();
        prop_assert_eq!(key().encode(&shown.to_string()).unwrap(), k);
        let shown = locked().decode(&l).unwrap();
        prop_assert_eq!(locked().encode_onto(&shown.to_string(), &l).unwrap(), l.clone());
        l[..4].fill(0);
        prop_assert_eq!(locked().encode(&shown.to_string()).unwrap(), l);
    }

    #[test]
    fn random_bytes_never_panic_the_parser(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Types::from_bytes(&raw);
        let mut with_magic = vec![0x9f, 0xeb, 1, 0, 24, 0, 0, 0];
        with_magic.extend(&raw);
        let _ = Types::from_bytes(&with_magic);
    }

    #[test]
    fn damaged_btf_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), fill in any::<u8>()) {
        let mut raw = btf().to_vec();
        for (at, b) in edits {
            let i = at % raw.len();
            raw[i] = b;
        }
        if let Ok(types) = Types::from_bytes(&raw) {
            for id in 0..=types.last_type_id() + 1 {
                let Ok(t) = types.get(id) else { continue };
                if t.size() > 4096 {
                    continue;
                }
                let bytes = vec![fill; t.size()];
                if let Ok(v) = t.decode(&bytes) {
                    let _ = t.encode(&v.to_string());
                }
                let _ = t.encode("a=1,b[2].c=0x10");
                let _ = t.field("a[1].b");
                let _ = t.spin_lock_offset();
            }
        }
    }

    #[test]
    fn random_text_never_panics(text in ".{0,64}", ascii in "[ -~]{0,64}") {
        for t in [&text, &ascii] {
            for ty in [entry(), key(), locked()] {
                let _ = ty.encode(t);
                let _ = ty.encode_onto(t, &vec![0; ty.size()]);
                let _ = ty.field(t);
                if let Ok(f) = ty.field("hops[1].addr").or_else(|_| ty.field("vlan")).or_else(|_| ty.field("packets")) {
                    let _ = f.parse_int(t);
                }
            }
            let _ = parse_hex(t);
            if let Ok(f) = Filter::parse(t) {
                let _ = f.matches(&sample(), &sample());
                let _ = f.check(Some(&key()), Some(&entry()));
            }
        }
    }

    #[test]
    fn structured_text_never_panics(
        path in "(addr|port|hops|tag|name|state|mac|vlan|age|x)(\\[[0-9]{1,2}\\])?(\\.(addr|weight|bytes|as_u32|y))?",
        value in "(-?[0-9]{1,40}|0x[0-9a-f]{0,40}|\"[a-z:.]{0,20}\"|\\[[0-9,]{0,12}\\]|[a-zA-Z_:.0-9]{0,20}|\\{\\}|true)",
    ) {
        let text = format!("{path}={value}");
        for ty in [entry(), key()] {
            let _ = ty.encode(&text);
        }
        let _ = Filter::parse(&text).map(|f| f.matches(&sample(), &sample()));
    }
}

proptest::proptest! {
    /// The streaming view (used by large dumps) writes exactly what `decode` returns, for any
    /// bytes, in every type of the fixture.
    #[test]
    fn the_streaming_view_writes_what_decode_returns(seed in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        for t in [key(), entry(), locked()] {
            let bytes: Vec<u8> = (0..t.size()).map(|i| seed.get(i).copied().unwrap_or(i as u8)).collect();
            let streamed = serde_json::to_string(&t.view(&bytes).unwrap()).unwrap();
            let decoded = serde_json::to_string(&t.decode(&bytes).unwrap()).unwrap();
            proptest::prop_assert_eq!(streamed, decoded);
        }
    }
}

proptest::proptest! {
    /// The compiled plan (used by `xdpdbg map dump`) writes exactly what `decode` returns, for
    /// any bytes, in every type of the fixture: readable forms, enums, unions, flattened
    /// members, bitfields, text, bools and signed numbers included.
    #[test]
    fn the_compiled_plan_writes_what_decode_returns(seed in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        for t in [key(), entry(), locked()] {
            let bytes: Vec<u8> = (0..t.size()).map(|i| seed.get(i).copied().unwrap_or(i as u8)).collect();
            // Also with every byte 0 or 1: bools, enumerators and small numbers.
            let bits: Vec<u8> = bytes.iter().map(|b| b & 1).collect();
            for bytes in [bytes, bits] {
                let mut planned = Vec::new();
                t.json_plan().write(&bytes, &mut planned).unwrap();
                let decoded = serde_json::to_string(&t.decode(&bytes).unwrap()).unwrap();
                proptest::prop_assert_eq!(String::from_utf8(planned).unwrap(), decoded);
            }
        }
    }
}

#[test]
fn the_compiled_plan_refuses_bytes_of_another_size() {
    let mut out = Vec::new();
    let err = key().json_plan().write(&[0; 3], &mut out).unwrap_err();
    assert!(
        matches!(
            err,
            TypeError::SizeMismatch {
                expected: 8,
                got: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(out.is_empty(), "nothing written");
}
