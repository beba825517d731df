//! Unit tests with synthetic BTF: the encodings clang does not produce (old-style bitfields,
//! 64-bit enums, `__int128`), kernel types (`struct in_addr`, nested spin locks, data
//! sections), and malformed input.

use serde_json::json;

use super::*;

/// Builds BTF by hand, little-endian.
struct B {
    types: Vec<u8>,
    strs: Vec<u8>,
    next: u32,
}

const INT: u32 = 1;
const PTR: u32 = 2;
const ARRAY: u32 = 3;
const STRUCT: u32 = 4;
const UNION: u32 = 5;
const ENUM: u32 = 6;
const FWD: u32 = 7;
const TYPEDEF: u32 = 8;
const CONST: u32 = 10;
const FUNC_PROTO: u32 = 13;
const VAR: u32 = 14;
const DATASEC: u32 = 15;
const FLOAT: u32 = 16;
const ENUM64: u32 = 19;

const SIGNED: u32 = 1;
const CHAR: u32 = 2;
const BOOL: u32 = 4;

impl B {
    fn new() -> B {
        B {
            types: Vec::new(),
            strs: vec![0],
            next: 1,
        }
    }

    fn s(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let off = self.strs.len() as u32;
        self.strs.extend_from_slice(name.as_bytes());
        self.strs.push(0);
        off
    }

    fn raw(
        &mut self,
        name: &str,
        kind: u32,
        flag: bool,
        vlen: u32,
        size_type: u32,
        extra: &[u32],
    ) -> u32 {
        let name_off = self.s(name);
        let info = (u32::from(flag) << 31) | (kind << 24) | vlen;
        for w in [name_off, info, size_type].iter().chain(extra) {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        self.next += 1;
        self.next - 1
    }

    fn int(&mut self, name: &str, size: u32, enc: u32) -> u32 {
        self.int_bits(name, size, enc, 0, size * 8)
    }

    fn int_bits(&mut self, name: &str, size: u32, enc: u32, offset: u32, bits: u32) -> u32 {
        self.raw(
            name,
            INT,
            false,
            0,
            size,
            &[(enc << 24) | (offset << 16) | bits],
        )
    }

    fn typedef(&mut self, name: &str, t: u32) -> u32 {
        self.raw(name, TYPEDEF, false, 0, t, &[])
    }

    fn array(&mut self, elem: u32, n: u32) -> u32 {
        self.raw("", ARRAY, false, 0, 0, &[elem, elem, n])
    }

    fn record(
        &mut self,
        kind: u32,
        name: &str,
        size: u32,
        flag: bool,
        members: &[(&str, u32, u32)],
    ) -> u32 {
        let mut extra = Vec::new();
        for (n, t, off) in members {
            extra.extend([self.s(n), *t, *off]);
        }
        self.raw(name, kind, flag, members.len() as u32, size, &extra)
    }

    fn strukt(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        self.record(STRUCT, name, size, false, members)
    }

    /// Members as (name, type, bit offset, bitfield size) with kind_flag set.
    fn strukt_kf(&mut self, name: &str, size: u32, members: &[(&str, u32, u32, u32)]) -> u32 {
        let packed: Vec<(&str, u32, u32)> = members
            .iter()
            .map(|(n, t, off, bits)| (*n, *t, (bits << 24) | off))
            .collect();
        self.record(STRUCT, name, size, true, &packed)
    }

    fn enumeration(&mut self, name: &str, size: u32, signed: bool, values: &[(&str, i64)]) -> u32 {
        let mut extra = Vec::new();
        for (n, v) in values {
            extra.extend([self.s(n), *v as u32]);
        }
        self.raw(name, ENUM, signed, values.len() as u32, size, &extra)
    }

    fn enum64(&mut self, name: &str, size: u32, signed: bool, values: &[(&str, i64)]) -> u32 {
        let mut extra = Vec::new();
        for (n, v) in values {
            extra.extend([self.s(n), *v as u64 as u32, ((*v as u64) >> 32) as u32]);
        }
        self.raw(name, ENUM64, signed, values.len() as u32, size, &extra)
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xeb9fu16.to_le_bytes());
        out.push(1);
        out.push(0);
        for w in [
            24u32,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strs.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strs);
        out
    }

    fn types(&self) -> Types {
        Types::from_bytes(&self.bytes()).unwrap()
    }
}

fn le(v: u64, n: usize) -> Vec<u8> {
    v.to_le_bytes()[..n].to_vec()
}

#[test]
fn old_style_bitfields_use_the_integer_encoding() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, 0);
    let three = b.int_bits("unsigned int", 4, 0, 0, 3);
    let five_signed = b.int_bits("int", 4, SIGNED, 0, 5);
    // Bit offset inside the integer type, the oldest encoding.
    let shifted = b.int_bits("unsigned int", 4, 0, 4, 4);
    let s = b.strukt(
        "flags",
        8,
        &[
            ("a", three, 0),
            ("b", five_signed, 3),
            ("c", shifted, 4),
            ("rest", u32_, 32),
        ],
    );
    let t = b.types().get(s).unwrap();
    // a=5 (bits 0-2), b=-3 (bits 3-7), c=9 (bits 8-11), rest=7.
    let word: u32 = 5 | ((-3i32 as u32 & 0x1f) << 3) | (9 << 8);
    let mut bytes = le(u64::from(word), 4);
    bytes.extend(le(7, 4));
    let v = t.decode(&bytes).unwrap();
    assert_eq!(v, json!({"a": 5, "b": -3, "c": 9, "rest": 7}));
    assert_eq!(t.encode(&v.to_string()).unwrap(), bytes);
    let c = t.field("c").unwrap();
    assert_eq!(
        (c.offset, c.size, c.bit_offset, c.bit_size),
        (1, 1, Some(8), Some(4))
    );
    assert_eq!(c.read_int(&bytes).unwrap(), 9);
    let b_field = t.field("b").unwrap();
    assert!(b_field.signed);
    assert_eq!(b_field.format(b_field.read_int(&bytes).unwrap()), json!(-3));
    assert!(matches!(
        t.encode("b=16"),
        Err(TypeError::OutOfRange { .. })
    ));
    assert!(matches!(t.encode("a=8"), Err(TypeError::OutOfRange { .. })));
    assert_eq!(t.encode("b=-16").unwrap()[0], 0x80);
}

#[test]
fn kind_flag_bitfields_and_enum_bitfields() {
    let mut b = B::new();
    let u16_ = b.int("unsigned short", 2, 0);
    let i32_ = b.int("int", 4, SIGNED);
    let e = b.enumeration("color", 4, false, &[("RED", 0), ("GREEN", 1), ("BLUE", 2)]);
    // Unnamed `int :2;` padding is skipped.
    let s = b.strukt_kf(
        "bits",
        4,
        &[
            ("x", u16_, 0, 3),
            ("", i32_, 3, 2),
            ("color", e, 5, 2),
            ("neg", i32_, 7, 4),
            ("y", u16_, 16, 0),
        ],
    );
    let t = b.types().get(s).unwrap();
    let v = t.encode("x=7,color=BLUE,neg=-8,y=300").unwrap();
    assert_eq!(
        t.decode(&v).unwrap(),
        json!({"x": 7, "color": "BLUE", "neg": -8, "y": 300})
    );
    assert_eq!(t.field_names(), vec!["x", "color", "neg", "y"]);
    let color = t.field("color").unwrap();
    assert_eq!(color.kind, FieldKind::Enum);
    assert_eq!(color.parse_int("GREEN").unwrap(), 1);
    assert_eq!(color.format(3), json!(3));
    let mut edited = v.clone();
    color.write_int(&mut edited, 1).unwrap();
    assert_eq!(t.decode(&edited).unwrap()["color"], json!("GREEN"));
    assert!(matches!(
        color.write_int(&mut edited, 4),
        Err(TypeError::OutOfRange { .. })
    ));
    assert!(matches!(
        t.encode("color=PURPLE"),
        Err(TypeError::BadValue { .. })
    ));
    let msg = t.encode("color=PURPLE").unwrap_err().to_string();
    assert!(msg.contains("RED, GREEN, BLUE"), "{msg}");
}

#[test]
fn wide_integers_pointers_and_floats() {
    let mut b = B::new();
    let i128_ = b.int("__int128", 16, SIGNED);
    let u8_ = b.int("unsigned char", 1, 0);
    let ptr = b.raw("", PTR, false, 0, u8_, &[]);
    let f32_ = b.raw("float", FLOAT, false, 0, 4, &[]);
    let f64_ = b.raw("double", FLOAT, false, 0, 8, &[]);
    let s = b.strukt(
        "wide",
        48,
        &[
            ("big", i128_, 0),
            ("p", ptr, 128),
            ("f", f32_, 192),
            ("d", f64_, 256),
            ("flag", u8_, 320),
        ],
    );
    let t = b.types().get(s).unwrap();
    let v = t
        .encode(r#"{"big":"0x0102030405060708090a0b0c0d0e0f10","p":"0xffff888012345678","f":1.5,"d":-0.25}"#)
        .unwrap();
    let shown = t.decode(&v).unwrap();
    assert_eq!(shown["big"], json!("0x0102030405060708090a0b0c0d0e0f10"));
    assert_eq!(shown["p"], json!("0xffff888012345678"));
    assert_eq!(shown["f"], json!(1.5));
    assert_eq!(shown["d"], json!(-0.25));
    assert_eq!(t.encode(&shown.to_string()).unwrap(), v);
    assert_eq!(t.field("p").unwrap().kind, FieldKind::Pointer);
    assert_eq!(t.field("p").unwrap().c_name, "unsigned char *");

    let nan = t.encode("f=nan,d=-inf").unwrap();
    let shown = t.decode(&nan).unwrap();
    assert_eq!(
        (shown["f"].clone(), shown["d"].clone()),
        (json!("nan"), json!("-inf"))
    );
    assert_eq!(t.encode(&shown.to_string()).unwrap(), nan);
    // A NaN with a payload keeps its bits.
    let odd = t.encode("f=0x7fc00001").unwrap();
    assert_eq!(t.decode(&odd).unwrap()["f"], json!("0x7fc00001"));
    assert_eq!(t.encode(&t.decode(&odd).unwrap().to_string()).unwrap(), odd);
    assert!(matches!(
        t.encode("f=1e300"),
        Err(TypeError::OutOfRange { .. })
    ));
    assert!(matches!(t.encode("f=abc"), Err(TypeError::BadValue { .. })));
    assert!(matches!(
        t.encode("big=0x1000000000000000000000000000000000"),
        Err(TypeError::OutOfRange { .. })
    ));
    assert_eq!(
        t.decode(&t.encode("big=-1").unwrap()).unwrap()["big"],
        json!("0xffffffffffffffffffffffffffffffff")
    );
    assert!(matches!(
        t.field("big").unwrap().parse_int("1"),
        Err(TypeError::NotAnInteger { .. })
    ));
}

#[test]
fn enums_signed_and_64_bit() {
    let mut b = B::new();
    let e = b.enumeration("err", 4, true, &[("E_FAIL", -1), ("E_OK", 0)]);
    let e64 = b.enum64("big", 8, false, &[("HUGE", 1 << 40)]);
    let small = b.enumeration("small", 1, false, &[("ONE", 1)]);
    let s = b.strukt(
        "e",
        16,
        &[("e", e, 0), ("small", small, 32), ("big", e64, 64)],
    );
    let t = b.types().get(s).unwrap();
    let v = t.encode("e=E_FAIL,big=HUGE,small=ONE").unwrap();
    assert_eq!(&v[..4], &[0xff; 4]);
    assert_eq!(
        t.decode(&v).unwrap(),
        json!({"e": "E_FAIL", "small": "ONE", "big": "HUGE"})
    );
    let v = t.encode("e=-5,big=7,small=200").unwrap();
    assert_eq!(
        t.decode(&v).unwrap(),
        json!({"e": -5, "small": 200, "big": 7})
    );
    assert!(matches!(
        t.encode("small=256"),
        Err(TypeError::OutOfRange { .. })
    ));
    assert_eq!(t.c_name(), "struct e");
    assert_eq!(t.field("big").unwrap().c_name, "enum big");
}

#[test]
fn kernel_address_structs_and_top_level_forms() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, 0);
    let u16_ = b.int("unsigned short", 2, 0);
    let u8_ = b.int("unsigned char", 1, 0);
    let be32 = b.typedef("__be32", u32_);
    let be16 = b.typedef("__be16", u16_);
    let in_addr = b.strukt("in_addr", 4, &[("s_addr", be32, 0)]);
    let bytes16 = b.array(u8_, 16);
    let in6_u = b.record(UNION, "", 16, false, &[("u6_addr8", bytes16, 0)]);
    let in6 = b.strukt("in6_addr", 16, &[("in6_u", in6_u, 0)]);
    let mac_t = b.array(u8_, 6);
    let mac_typedef = b.typedef("mac_addr_t", mac_t);
    let s = b.strukt(
        "peer",
        32,
        &[
            ("v4", in_addr, 0),
            ("v6", in6, 32),
            ("hw", mac_typedef, 160),
            ("seq", be32, 224),
        ],
    );
    let types = b.types();

    let top = types.get(be32).unwrap();
    assert_eq!(top.decode(&[198, 18, 0, 1]).unwrap(), json!("198.18.0.1"));
    assert_eq!(top.encode("198.18.0.1").unwrap(), vec![198, 18, 0, 1]);
    assert_eq!(top.encode("\"198.18.0.1\"").unwrap(), vec![198, 18, 0, 1]);
    assert!(matches!(
        top.encode("198.18.0"),
        Err(TypeError::BadValue { .. })
    ));
    assert!(matches!(top.encode("5"), Err(TypeError::BadValue { .. })));
    let port = types.get(be16).unwrap();
    assert_eq!(port.decode(&[0x1f, 0x90]).unwrap(), json!(8080));
    assert_eq!(port.encode("8080").unwrap(), vec![0x1f, 0x90]);
    assert_eq!(
        types.get(in_addr).unwrap().decode(&[10, 0, 0, 1]).unwrap(),
        json!("10.0.0.1")
    );

    let t = types.get(s).unwrap();
    let v = t
        .encode("v4=10.0.0.1,v6=fd00::1,hw=02:00:00:00:00:09,seq=1")
        .unwrap();
    assert_eq!(
        t.decode(&v).unwrap(),
        json!({"v4": "10.0.0.1", "v6": "fd00::1", "hw": "02:00:00:00:00:09", "seq": 1})
    );
    assert_eq!(&v[28..32], &[0, 0, 0, 1]);
    assert_eq!(t.field("v6").unwrap().kind, FieldKind::Ipv6);
    assert_eq!(t.field("hw").unwrap().kind, FieldKind::Mac);
    // The struct can still be written field by field.
    let v2 = t.encode(r#"{"v4":{"s_addr":"10.0.0.2"}}"#).unwrap();
    assert_eq!(v2, t.encode("v4=10.0.0.2").unwrap());
    assert_eq!(t.field("v4.s_addr").unwrap().kind, FieldKind::Ipv4);
    assert!(matches!(
        t.encode("v6=fd00::zz"),
        Err(TypeError::BadValue { .. })
    ));
    assert!(matches!(
        t.encode("hw=02:00:00:00:00"),
        Err(TypeError::BadValue { .. })
    ));
}

#[test]
fn nested_spin_lock_is_found_and_left_alone() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, 0);
    let u64_ = b.int("unsigned long long", 8, 0);
    let lock = b.strukt("bpf_spin_lock", 4, &[("val", u32_, 0)]);
    let inner = b.strukt("guarded", 8, &[("generation", u32_, 0), ("lock", lock, 32)]);
    let s = b.strukt("locked", 16, &[("packets", u64_, 0), ("g", inner, 64)]);
    let types = b.types();
    let t = types.get(s).unwrap();
    assert_eq!(t.spin_lock_offset(), Some(12));
    let mut base = t.encode("packets=5,g.generation=2").unwrap();
    base[12] = 0xaa;
    assert_eq!(
        t.decode(&base).unwrap(),
        json!({"packets": 5, "g": {"generation": 2}})
    );
    let edited = t.encode_onto("g.generation=3", &base).unwrap();
    assert_eq!(edited[12], 0xaa, "the lock's bytes are kept");
    assert!(matches!(
        t.field("g.lock"),
        Err(TypeError::KernelManaged { .. })
    ));
    assert!(matches!(
        t.encode("g.lock.val=1"),
        Err(TypeError::KernelManaged { .. })
    ));
    assert!(matches!(
        t.encode(r#"{"g":{"lock":{}}}"#),
        Err(TypeError::KernelManaged { .. })
    ));
    let lock_only = types.get(lock).unwrap();
    assert_eq!(lock_only.decode(&[1, 2, 3, 4]).unwrap(), json!({}));
    assert_eq!(lock_only.spin_lock_offset(), Some(0));
    assert_eq!(types.get(inner).unwrap().field_names(), vec!["generation"]);
}

#[test]
fn data_sections_are_objects_of_variables() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, 0);
    let c = b.int("char", 1, SIGNED);
    let name = b.array(c, 8);
    let v1 = b.raw("counter", VAR, false, 0, u32_, &[1]);
    let v2 = b.raw("label", VAR, false, 0, name, &[1]);
    let sec = b.raw(".bss", DATASEC, false, 2, 12, &[v1, 0, 4, v2, 4, 8]);
    let t = b.types().get(sec).unwrap();
    assert_eq!(t.c_name(), "datasec .bss");
    let v = t.encode("counter=3,label=hi").unwrap();
    assert_eq!(t.decode(&v).unwrap(), json!({"counter": 3, "label": "hi"}));
}

#[test]
fn qualifiers_typedef_names_and_lookups() {
    let mut b = B::new();
    let u8_ = b.int("unsigned char", 1, 0);
    let u8t = b.typedef("__u8", u8_);
    let cu8 = b.raw("", CONST, false, 0, u8t, &[]);
    let arr = b.array(cu8, 6);
    let arr2 = b.array(arr, 4);
    let s = b.strukt("macs", 24, &[("macs", arr2, 0)]);
    let fwd = b.raw("later", FWD, false, 0, 0, &[]);
    let types = b.types();
    assert_eq!(types.get(arr2).unwrap().c_name(), "__u8[4][6]");
    assert_eq!(types.get(cu8).unwrap().c_name(), "__u8");
    let t = types.get(s).unwrap();
    let v = t.encode(r#"macs[1]=02:00:00:00:00:01"#).unwrap();
    assert_eq!(t.decode(&v).unwrap()["macs"][1], json!("02:00:00:00:00:01"));
    assert_eq!(t.field("macs[1]").unwrap().kind, FieldKind::Mac);
    assert_eq!(t.field("macs[1][2]").unwrap().offset, 8);
    assert_eq!(types.find("struct macs").unwrap(), s);
    assert_eq!(types.find("__u8").unwrap(), u8t);
    assert!(matches!(
        types.find("struct nope"),
        Err(TypeError::UnknownName { .. })
    ));
    assert!(matches!(
        types.find("union macs"),
        Err(TypeError::UnknownName { .. })
    ));
    assert!(matches!(types.get(fwd), Err(TypeError::Unsupported { .. })));
}

#[test]
fn unions_reject_disagreeing_members() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, 0);
    let u8_ = b.int("unsigned char", 1, 0);
    let bytes = b.array(u8_, 4);
    let u = b.record(
        UNION,
        "u",
        4,
        false,
        &[("word", u32_, 0), ("bytes", bytes, 0)],
    );
    let t = b.types().get(u).unwrap();
    let v = t.encode(r#"{"bytes":[1,2,3,4]}"#).unwrap();
    let shown = t.decode(&v).unwrap();
    assert_eq!(t.encode(&shown.to_string()).unwrap(), v);
    let e = t.encode(r#"{"word":1,"bytes":[9,9,9,9]}"#).unwrap_err();
    assert!(matches!(e, TypeError::Conflict { .. }), "{e}");
    assert!(e.to_string().contains("`word` and `bytes[0]`"), "{e}");
    assert!(matches!(
        t.encode("word=1,word=2"),
        Err(TypeError::Conflict { .. })
    ));
    assert_eq!(t.encode("word=1,word=1").unwrap(), le(1, 4));
}

#[test]
fn size_and_shape_limits() {
    let mut b = B::new();
    let u8_ = b.int("unsigned char", 1, 0);
    let u32_ = b.int("unsigned int", 4, 0);
    let many = b.array(u8_, 1 << 25);
    let huge = b.array(u32_, 1 << 30);
    let overflow = b.array(huge, u32::MAX);
    let empty = b.array(u32_, 0);
    let s = b.strukt("flex", 4, &[("n", u32_, 0), ("data", empty, 32)]);
    let types = b.types();
    assert!(matches!(
        types.get(many),
        Err(TypeError::Unsupported { .. })
    ));
    assert!(matches!(
        types.get(huge),
        Err(TypeError::Unsupported { .. })
    ));
    assert!(types.get(overflow).is_err());
    let t = types.get(s).unwrap();
    assert_eq!(
        t.decode(&[1, 0, 0, 0]).unwrap(),
        json!({"n": 1, "data": []})
    );
    assert_eq!(t.encode(r#"{"n":1,"data":[]}"#).unwrap(), vec![1, 0, 0, 0]);
    assert!(matches!(
        t.field("data[0]"),
        Err(TypeError::IndexOutOfBounds { .. })
    ));
}

#[test]
fn nesting_and_self_reference_are_bounded() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, 0);
    // 100 structs, each holding the next.
    let first = b.next;
    for i in 0..100 {
        let t = if i == 99 { u32_ } else { first + i + 1 };
        b.strukt(&format!("s{i}"), 4, &[("x", t, 0)]);
    }
    // A struct containing an array of itself.
    let selfish = b.next;
    let arr = selfish + 1;
    b.strukt("selfish", 8, &[("me", arr, 0)]);
    b.array(selfish, 1);
    // A typedef loop.
    let loop_a = b.next;
    b.typedef("a", loop_a + 1);
    b.typedef("b", loop_a);
    // A linked list through a pointer is fine.
    let node = b.next;
    let ptr = node + 1;
    b.strukt("node", 8, &[("next", ptr, 0)]);
    b.raw("", PTR, false, 0, node, &[]);
    let types = b.types();
    let deep = types.get(first).unwrap_err();
    assert!(deep.to_string().contains("nests more than"), "{deep}");
    assert!(types.get(first + 50).is_ok());
    assert!(matches!(
        types.get(selfish),
        Err(TypeError::MalformedBtf { .. })
    ));
    assert!(matches!(
        types.get(loop_a),
        Err(TypeError::MalformedBtf { .. })
    ));
    let list = types.get(node).unwrap();
    assert_eq!(list.field("next").unwrap().c_name, "struct node *");
    assert_eq!(
        list.decode(&le(0x1000, 8)).unwrap(),
        json!({"next": "0x1000"})
    );
}

#[test]
fn malformed_members_are_reported() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, 0);
    let u8_ = b.int("unsigned char", 1, 0);
    let arr = b.array(u8_, 3);
    let past = b.strukt("past", 4, &[("x", u32_, 8)]);
    let wide = b.strukt_kf("wide", 4, &[("x", u32_, 0, 33)]);
    let arr_bits = b.strukt_kf("arrbits", 4, &[("x", arr, 0, 3)]);
    let unaligned = b.strukt("unaligned", 8, &[("a", arr, 3)]);
    let dangling = b.strukt("dangling", 4, &[("x", 999, 0)]);
    let proto = b.raw("", FUNC_PROTO, false, 0, 0, &[]);
    let types = b.types();
    for (id, needle) in [
        (past, "extends past the end"),
        (wide, "33 bits wide"),
        (arr_bits, "not an integer"),
        (unaligned, "byte boundary"),
        (dangling, "999"),
        (proto, "functions have no bytes"),
        (0, "void"),
    ] {
        let e = types.get(id).unwrap_err().to_string();
        assert!(e.contains(needle), "{id}: {e}");
    }
    assert!(matches!(
        types.get(10_000),
        Err(TypeError::UnknownTypeId { id: 10_000, .. })
    ));
}

#[test]
fn malformed_btf_is_an_error() {
    let mut b = B::new();
    let u32_ = b.int("unsigned int", 4, 0);
    b.strukt("s", 4, &[("x", u32_, 0)]);
    let good = b.bytes();
    assert!(Types::from_bytes(&good).is_ok());
    let mut cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "shorter than"),
        (good[..20].to_vec(), "shorter than"),
        (good[..good.len() - 1].to_vec(), "past the end"),
    ];
    let mut magic = good.clone();
    magic[0] = 0;
    cases.push((magic, "magic"));
    let mut version = good.clone();
    version[2] = 2;
    cases.push((version, "version"));
    let mut flags = good.clone();
    flags[3] = 1;
    cases.push((flags, "flags"));
    let mut hdr = good.clone();
    hdr[4] = 200;
    cases.push((hdr, "header length"));
    let mut kind = good.clone();
    kind[24 + 7] = 31 & 0x1f; // kind 31
    cases.push((kind, "unknown kind"));
    let mut strings = good.clone();
    let str_start = 24 + b.types.len();
    strings[str_start] = b'x';
    cases.push((strings, "string section"));
    let mut name = good.clone();
    name[24] = 3; // a name offset in the middle of a string
    cases.push((name, "malformed"));
    for (bytes, needle) in cases {
        let e = Types::from_bytes(&bytes).unwrap_err();
        assert!(matches!(e, TypeError::MalformedBtf { .. }), "{needle}: {e}");
        assert!(e.to_string().contains(needle), "{needle}: {e}");
    }
}

#[test]
fn char_arrays_text_and_bytes() {
    let mut b = B::new();
    let c = b.int("char", 1, SIGNED);
    let c_flag = b.int("signed char", 1, SIGNED | CHAR);
    let boolean = b.int("_Bool", 1, BOOL);
    let name = b.array(c, 4);
    let tag = b.array(c_flag, 2);
    let s = b.strukt(
        "named",
        8,
        &[("name", name, 0), ("tag", tag, 32), ("on", boolean, 48)],
    );
    let t = b.types().get(s).unwrap();
    assert_eq!(
        t.decode(b"ab\0\0x\0\x01\0").unwrap(),
        json!({"name": "ab", "tag": "x", "on": true})
    );
    assert_eq!(
        t.decode(b"abcdxy\x02\0").unwrap(),
        json!({"name": "abcd", "tag": "xy", "on": 2})
    );
    let binary = t.decode(b"a\0b\xff\0\0\0\0").unwrap();
    assert_eq!(binary["name"], json!([97, 0, 98, -1]));
    assert_eq!(t.encode(&binary.to_string()).unwrap(), b"a\0b\xff\0\0\0\0");
    assert!(matches!(
        t.encode("name=abcde"),
        Err(TypeError::BadValue { .. })
    ));
    let base = t.encode("name=abcd").unwrap();
    assert_eq!(
        t.encode_onto("name=x", &base).unwrap(),
        b"x\0\0\0\0\0\0\0",
        "the rest is cleared"
    );
    assert!(matches!(
        t.encode("on=yes"),
        Err(TypeError::BadValue { .. })
    ));
    assert!(t.encode(r#"{"on":"2"}"#).is_ok());
    assert!(matches!(
        t.encode(r#"{"name":[1,2]}"#),
        Err(TypeError::WrongKind { .. })
    ));
    assert_eq!(t.field("name").unwrap().kind, FieldKind::Text);
}

#[test]
fn everything_can_be_shared_across_threads() {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<Types>();
    shared::<TypeRef>();
    shared::<Field>();
    shared::<Filter>();
    shared::<TypeError>();
}
