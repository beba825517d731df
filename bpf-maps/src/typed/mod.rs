//! Typed eBPF map keys and values: decoding bytes to JSON and encoding text to bytes with BTF.
//!
//! A map created with BTF names the types of its key and value (`btf_key_type_id`,
//! `btf_value_type_id`). [`Types::from_bytes`] parses the BTF (the bytes `BPF_OBJ_GET_INFO_BY_FD`
//! returns for the map's BTF object, or an ELF object's `.BTF` section), [`Types::get`] lays out
//! one type, and the resulting [`TypeRef`] decodes and encodes:
//!
//! ```no_run
//! # fn demo(btf: &[u8], key_type_id: u32, key: &[u8]) -> Result<(), bpf_maps::typed::TypeError> {
//! use bpf_maps::typed::Types;
//! let types = Types::from_bytes(btf)?;
//! let key_type = types.get(key_type_id)?;                 // struct fdb_key
//! let shown = key_type.decode(key)?;                      // {"mac":"02:1a:b0:00:00:01","vlan":10}
//! let bytes = key_type.encode(&shown.to_string())?;       // back to the same bytes
//! let edited = key_type.encode_onto("vlan=20", &bytes)?;  // only the VLAN changes
//! # Ok(()) }
//! ```
//!
//! Maps without BTF are read and written as raw bytes with [`hex`] and [`parse_hex`].
//!
//! # Decoding
//!
//! [`TypeRef::decode`] turns bytes (exactly [`TypeRef::size`] of them) into a JSON value:
//!
//! - integers are JSON numbers (signed ones may be negative); integers wider than 64 bits
//!   (`__int128`) are hex strings (`"0x0000…"`);
//! - integers declared through `__be16`, `__be32` or `__be64` are stored in network byte order
//!   and shown in host order (a `__be16 port` holding 8080 shows `8080`);
//! - `_Bool` is `true` or `false` (a byte other than 0 or 1 shows as its number);
//! - enums show the enumerator's name, or the number when no enumerator has that value;
//! - `float` and `double` are JSON numbers; NaN and infinities are the strings `"nan"`, `"inf"`,
//!   `"-inf"` (a NaN with an unusual payload shows its raw bits as hex, so it round-trips);
//! - pointers are hex strings (`"0xffff888012345678"`);
//! - `char` arrays holding printable text followed only by NUL bytes (or filling the array
//!   exactly) are strings; other `char` arrays, and all other arrays, are JSON arrays;
//! - structs and unions are objects with their members in declaration order; an anonymous
//!   struct or union member's fields are flattened into the parent object; a union shows every
//!   member (each a view of the same bytes);
//! - bitfields are decoded from their bits, in both BTF encodings (the bitfield size in the
//!   member's offset when the struct's `kind_flag` is set, or an integer type with a narrower
//!   bit width and bit offset otherwise);
//! - padding is ignored;
//! - members whose type the kernel manages (`struct bpf_spin_lock`, `bpf_res_spin_lock`,
//!   `bpf_timer`, `bpf_wq`, `bpf_task_work`, `bpf_list_head`, `bpf_list_node`, `bpf_rb_root`,
//!   `bpf_rb_node`, `bpf_refcount`, and arrays of them) are **omitted**; userspace cannot read or
//!   write them meaningfully. Such a type on its own (or as an array element) shows as `{}`.
//!   [`TypeRef::spin_lock_offset`] says where a spin lock lies, for `BPF_F_LOCK`.
//! - a data section (`.bss`, `.data` maps) is an object of its variables.
//!
//! # Readable forms
//!
//! Some bytes are shown as addresses rather than numbers. The choice depends on the type and the
//! member's name (compared in lowercase; for a whole key or value there is no name):
//!
//! | shown as | when |
//! |---|---|
//! | MAC `"02:1a:b0:00:00:01"` | an array of 6 one-byte unsigned integers whose member name contains `mac`, `hwaddr`, `lladdr` or `ether`, or is one of `h_source`, `h_dest`, `addr`, `src`, `dst`, `saddr`, `daddr`, `sha`, `tha`, `haddr`; or whose typedef name contains `mac`, `hwaddr`, `lladdr` or `ether` |
//! | IPv4 `"198.18.0.1"` | `struct in_addr`, always; a 4-byte unsigned integer (`__u32`, `__be32`, `unsigned int`, ...) whose member name has no `6` in it and contains `addr` or has an `_`-separated word among `ip`, `ipv4`, `ip4`, `sip`, `dip`, `srcip`, `dstip`, `vip`, `nexthop`, `gateway`, `gw`, `netmask` (so `saddr`, `src_ip`, `ip_dst`, `gw` match; `skip`, `saddr6` do not); a whole key or value of type `__be32` |
//! | IPv6 `"fd00:198:18::1"` | `struct in6_addr`, always; a 16-byte array (16 × 1-byte, 8 × 2-byte or 4 × 4-byte unsigned integers) whose member name contains `ip6`, `ipv6`, `addr6`, `v6`, `in6` or `6addr`, or matches the IPv4 name rule (a 16-byte field cannot hold an IPv4 address); or whose typedef name contains one of those parts |
//! | each element | an array of such things (`__be32 backend_addrs[4]`, `__u8 macs[8][6]`) whose elements match the rule with the array member's name |
//!
//! Addresses are always the bytes in memory, in order (network byte order), whatever the
//! integer type: a `__u32 src_ip` copied from a packet shows as the packet's address.
//! Bitfields never take a readable form.
//!
//! # Encoding
//!
//! [`TypeRef::encode`] builds a whole key or value from text; [`TypeRef::encode_onto`] applies
//! the text onto existing bytes. The text may be:
//!
//! - exactly what decoding prints (its JSON), or any JSON: objects for structs and unions,
//!   arrays for arrays, strings or numbers for scalars;
//! - `field=value[,field=value...]` edits, with paths through nested members and array indexes
//!   (`vlan=10`, `hops[1].addr=198.18.0.2,name=eth1`). Values are bare text (up to the next
//!   comma) or JSON (`name="a, b"`, `bytes=[1,2,3,4]`, `hops[0]={"weight":3}`);
//! - for a scalar key or value, the bare value: `42`, `-1`, `0x2a`, `0b101`, `0o52`,
//!   `PORT_FORWARDING`, `true`, `198.18.0.1`, `02:1a:b0:00:00:01`, `fd00::1`, or text for a
//!   `char` array.
//!
//! Integers accept decimal (negative only for signed types), and `0x`, `0o`, `0b` literals,
//! which for signed types may also give the bit pattern (`0xffffffff` is -1 for an `int`).
//! Every value is checked against the BTF: unknown field names (the error lists the fields
//! that exist), values out of range for the width (bitfields included), JSON of the wrong kind,
//! wrong array lengths, text too long for a `char` array, malformed MAC and IP addresses,
//! unknown enumerator names, and kernel-managed members. Omitted struct members are zero
//! with `encode` and kept from the base with `encode_onto`; padding likewise. Writing a `char`
//! array clears the rest of it. A union may be given several members only when they agree
//! byte for byte (as decoding prints them); otherwise it is an error naming both, and the same
//! goes for edits that set the same bits twice with different values.
//!
//! For every value whose padding is zero, `encode(&decode(bytes)?.to_string())` gives `bytes`
//! back.
//!
//! # Fields and filters
//!
//! [`TypeRef::field`] resolves a path to a [`Field`]: its offset, size, bitfield position and
//! kind, with [`Field::read_int`]/[`Field::write_int`]/[`Field::parse_int`]/[`Field::format`]
//! for working on single integer fields (compare-and-swap). [`Filter`] selects entries by
//! their decoded key and value.

mod decode;
mod encode;
mod error;
mod field;
mod filter;
mod hex;
mod plan;
mod readable;
mod stream;
mod type_tree;

use std::fmt;
use std::sync::Arc;

use btf_rs::Type;
use serde_json::Value;

pub use error::TypeError;
pub use field::{Field, FieldKind};
pub use filter::Filter;
pub use hex::{hex, parse_hex};
pub use plan::JsonPlan;
pub use stream::View;

use encode::{Input, Writer};
use readable::Form;
use type_tree::{Builder, Inner, Kind, Node};

/// Parsed BTF. Cloning is cheap (the data is shared).
#[derive(Clone)]
pub struct Types {
    inner: Arc<Inner>,
}

impl fmt::Debug for Types {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Types")
            .field("last_type_id", &self.inner.last)
            .finish_non_exhaustive()
    }
}

impl Types {
    /// Parses raw BTF: what the kernel returns for a map's BTF object, or an ELF `.BTF`
    /// section.
    pub fn from_bytes(raw: &[u8]) -> Result<Types, TypeError> {
        let (ints, last) = type_tree::scan(raw)?;
        let btf = btf_rs::Btf::from_bytes(raw).map_err(|e| TypeError::MalformedBtf {
            reason: e.to_string(),
        })?;
        Ok(Types {
            inner: Arc::new(Inner { btf, ints, last }),
        })
    }

    /// The highest type id in the BTF (ids run from 1).
    pub fn last_type_id(&self) -> u32 {
        self.inner.last
    }

    /// Lays out type `type_id`, following typedefs and qualifiers.
    pub fn get(&self, type_id: u32) -> Result<TypeRef, TypeError> {
        if type_id == 0 {
            return Err(TypeError::Unsupported {
                what: "type id 0 (void)".to_string(),
                reason: "the map has no BTF type here; read it as raw hex bytes".to_string(),
            });
        }
        if type_id > self.inner.last {
            return Err(TypeError::UnknownTypeId {
                id: type_id,
                last: self.inner.last,
            });
        }
        let root = Builder::new(&self.inner).node(type_id, 0)?;
        let form = readable::form_for(&root, None);
        Ok(TypeRef {
            types: self.clone(),
            id: type_id,
            root,
            form,
        })
    }

    /// Finds a type id by its C name: `struct fdb_entry`, `union u`, `enum port_state`, or a
    /// typedef or base type name (`__u32`, `unsigned int`).
    pub fn find(&self, c_name: &str) -> Result<u32, TypeError> {
        let c_name = c_name.trim();
        let (want, name) = if let Some(n) = c_name.strip_prefix("struct ") {
            ("struct", n.trim())
        } else if let Some(n) = c_name.strip_prefix("union ") {
            ("union", n.trim())
        } else if let Some(n) = c_name.strip_prefix("enum ") {
            ("enum", n.trim())
        } else {
            ("", c_name)
        };
        let not_found = || TypeError::UnknownName {
            what: "type".to_string(),
            name: c_name.to_string(),
        };
        if name.is_empty() {
            return Err(not_found());
        }
        let ids =
            self.inner
                .btf
                .resolve_ids_by_name(name)
                .map_err(|e| TypeError::MalformedBtf {
                    reason: e.to_string(),
                })?;
        for id in ids {
            let Ok(ty) = self.inner.btf.resolve_type_by_id(id) else {
                continue;
            };
            let fits = matches!(
                (want, &ty),
                ("struct", Type::Struct(_))
                    | ("union", Type::Union(_))
                    | ("enum", Type::Enum(_) | Type::Enum64(_))
                    | ("", Type::Typedef(_) | Type::Int(_) | Type::Float(_))
            );
            if fits {
                return Ok(id);
            }
        }
        Err(not_found())
    }

    /// The key and value type ids of a map defined in an object file's `.maps` section
    /// (`__type(key, ...)`, `__type(value, ...)`); `None` for a side given only by size.
    pub fn map_types(&self, map_name: &str) -> Result<(Option<u32>, Option<u32>), TypeError> {
        let not_found = || TypeError::UnknownName {
            what: "map".to_string(),
            name: map_name.to_string(),
        };
        let btf = &self.inner.btf;
        let ids = btf.resolve_ids_by_name(map_name).map_err(|_| not_found())?;
        for id in ids {
            let Ok(Type::Var(var)) = btf.resolve_type_by_id(id) else {
                continue;
            };
            let Ok(Type::Struct(def)) = btf.resolve_chained_type(&var) else {
                continue;
            };
            let mut key = None;
            let mut value = None;
            for m in &def.members {
                let Ok(name) = btf.resolve_name(m) else {
                    continue;
                };
                let slot = match name.as_str() {
                    "key" => &mut key,
                    "value" => &mut value,
                    _ => continue,
                };
                if let Ok(Type::Ptr(p)) = btf.resolve_chained_type(m) {
                    *slot = btf_rs::BtfType::get_type_id(&p);
                }
            }
            return Ok((key, value));
        }
        Err(not_found())
    }
}

/// One laid-out type, ready to decode and encode. Cloning is cheap.
#[derive(Clone)]
pub struct TypeRef {
    types: Types,
    id: u32,
    root: Arc<Node>,
    form: Form,
}

impl fmt::Debug for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypeRef")
            .field("type_id", &self.id)
            .field("c_name", &self.root.c_name)
            .field("size", &self.root.size)
            .finish()
    }
}

impl TypeRef {
    /// The type id this was laid out from.
    pub fn type_id(&self) -> u32 {
        self.id
    }

    /// The BTF it comes from.
    pub fn types(&self) -> &Types {
        &self.types
    }

    /// Size in bytes.
    pub fn size(&self) -> usize {
        self.root.size
    }

    /// The name as C writes it: `struct fdb_entry`, `__u32`, `__u8[6]`.
    pub fn c_name(&self) -> String {
        self.root.c_name.clone()
    }

    /// The names of the top-level fields (anonymous members' fields included, kernel-managed
    /// ones left out); empty for non-structs.
    pub fn field_names(&self) -> Vec<String> {
        self.root.record().map(|r| r.names()).unwrap_or_default()
    }

    fn check_len(&self, len: usize) -> Result<(), TypeError> {
        if len == self.root.size {
            Ok(())
        } else {
            Err(TypeError::SizeMismatch {
                c_name: self.root.c_name.clone(),
                expected: self.root.size,
                got: len,
            })
        }
    }

    /// Decodes bytes (exactly [`TypeRef::size`] of them) into JSON, as the
    /// [module documentation](self) describes.
    pub fn decode(&self, bytes: &[u8]) -> Result<Value, TypeError> {
        self.check_len(bytes.len())?;
        Ok(decode::value(&self.root, &self.form, bytes))
    }

    /// The bytes as a serializable view that writes the same JSON as [`TypeRef::decode`]
    /// without building it in memory (for dumping large maps).
    pub fn view<'a>(&'a self, bytes: &'a [u8]) -> Result<View<'a>, TypeError> {
        self.check_len(bytes.len())?;
        Ok(View {
            node: &self.root,
            form: &self.form,
            bytes,
        })
    }

    /// The JSON form of this type compiled once, for writing many values fast: it writes
    /// what [`TypeRef::view`] writes.
    pub fn json_plan(&self) -> JsonPlan {
        JsonPlan::new(&self.root, &self.form, b"", b"")
    }

    /// [`TypeRef::json_plan`] with literal text written before and after each value (a
    /// caller's own punctuation, at no extra cost).
    pub fn json_plan_between(&self, before: &str, after: &str) -> JsonPlan {
        JsonPlan::new(&self.root, &self.form, before.as_bytes(), after.as_bytes())
    }

    /// Builds a whole key or value from text; what the text leaves out is zero.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, TypeError> {
        let input = encode::parse_input(&self.root, &self.form, text)?;
        self.apply(input, vec![0; self.root.size])
    }

    /// Applies text (usually `field=value` edits) onto existing bytes; what the text leaves out
    /// keeps its value from `base`.
    pub fn encode_onto(&self, text: &str, base: &[u8]) -> Result<Vec<u8>, TypeError> {
        self.check_len(base.len())?;
        let input = encode::parse_input(&self.root, &self.form, text)?;
        self.apply(input, base.to_vec())
    }

    /// Builds a whole key or value from a JSON value; what it leaves out is zero.
    pub fn encode_value(&self, value: &Value) -> Result<Vec<u8>, TypeError> {
        self.apply(Input::Whole(value.clone()), vec![0; self.root.size])
    }

    /// Applies a JSON value onto existing bytes; what it leaves out keeps its value.
    pub fn encode_value_onto(&self, value: &Value, base: &[u8]) -> Result<Vec<u8>, TypeError> {
        self.check_len(base.len())?;
        self.apply(Input::Whole(value.clone()), base.to_vec())
    }

    fn apply(&self, input: Input, base: Vec<u8>) -> Result<Vec<u8>, TypeError> {
        let mut w = Writer::new(base);
        match input {
            Input::Whole(v) => encode::write(&mut w, &self.root, &self.form, &v, 0, "")?,
            Input::Edits(edits) => {
                for (segs, v) in edits {
                    let slot = field::resolve(&self.root, &self.form, &segs)?;
                    let path = field::path_string(&segs);
                    match slot.bit_size {
                        Some(bits) => {
                            let raw = encode::integer(&slot.node, &v, bits, &path)?;
                            w.put_bits(slot.bit_offset, bits, raw as u64, &path)?;
                        }
                        None => {
                            let off = (slot.bit_offset / 8) as usize;
                            encode::write(&mut w, &slot.node, &slot.form, &v, off, &path)?;
                        }
                    }
                }
            }
        }
        Ok(w.buf)
    }

    pub(crate) fn resolve(&self, segs: &[field::Seg]) -> Result<field::Slot, TypeError> {
        field::resolve(&self.root, &self.form, segs)
    }

    /// Resolves a field path (`vlan`, `hops[2].addr`, `tag.bytes[0]`, `[3]` for arrays).
    pub fn field(&self, path: &str) -> Result<Field, TypeError> {
        let segs = field::parse_path(path)?;
        let slot = self.resolve(&segs)?;
        Ok(Field::new(field::path_string(&segs), slot, self.root.size))
    }

    /// The byte offset of a `struct bpf_spin_lock` member (at the top level or in nested
    /// structs), for updates with `BPF_F_LOCK`.
    pub fn spin_lock_offset(&self) -> Option<usize> {
        fn find(node: &Node, base: u64) -> Option<u64> {
            match &node.kind {
                Kind::Managed(name) if name == "bpf_spin_lock" => Some(base),
                Kind::Record(r) => r
                    .members
                    .iter()
                    .filter(|m| m.bit_size.is_none())
                    .find_map(|m| find(&m.node, base + m.bit_offset)),
                _ => None,
            }
        }
        find(&self.root, 0).map(|bits| (bits / 8) as usize)
    }
}

#[cfg(test)]
mod tests;
