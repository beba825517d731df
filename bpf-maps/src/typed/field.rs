//! Field paths (`hops[2].addr`) and [`Field`], one resolved field of a key or value type.

use std::sync::Arc;

use serde_json::Value;

use super::decode::{self, read_bits, store, sub};
use super::encode::{self, Writer};
use super::error::TypeError;
use super::readable::Form;
use super::type_tree::{Kind, Node, width_mask};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// `.name`
    Name(String),
    /// `[index]`
    Index(usize),
}

fn bad_path(path: &str, reason: impl Into<String>) -> TypeError {
    TypeError::BadPath {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// Parses `a.b[2].c`, `[3]` or `[1][2].x`.
pub(crate) fn parse_path(text: &str) -> Result<Vec<Seg>, TypeError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(bad_path(t, "it is empty"));
    }
    let bytes = t.as_bytes();
    let mut segs = Vec::new();
    let mut i = 0;
    let mut need_name = false;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => {
                if need_name {
                    return Err(bad_path(t, "a `.` must be followed by a field name"));
                }
                let start = i + 1;
                let Some(close) = t[start..].find(']') else {
                    return Err(bad_path(t, "a `[` is not closed by `]`"));
                };
                let inner = t[start..start + close].trim();
                let index = inner.parse::<usize>().map_err(|_| {
                    bad_path(
                        t,
                        format!("`[{inner}]` is not an array index (a number from 0)"),
                    )
                })?;
                if inner.starts_with('+') {
                    return Err(bad_path(t, format!("`[{inner}]` is not an array index")));
                }
                segs.push(Seg::Index(index));
                i = start + close + 1;
            }
            b'.' => {
                if segs.is_empty() || need_name {
                    return Err(bad_path(t, "a `.` must be between two field names"));
                }
                need_name = true;
                i += 1;
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                if !segs.is_empty() && !need_name {
                    return Err(bad_path(t, "field names must be separated by `.`"));
                }
                let len = bytes[i..]
                    .iter()
                    .take_while(|b| **b == b'_' || b.is_ascii_alphanumeric())
                    .count();
                segs.push(Seg::Name(t[i..i + len].to_string()));
                need_name = false;
                i += len;
            }
            _ => {
                let c = t[i..].chars().next().unwrap_or('?');
                return Err(bad_path(
                    t,
                    format!(
                        "`{c}` cannot appear in a field path (names are letters, digits and _)"
                    ),
                ));
            }
        }
    }
    if need_name {
        return Err(bad_path(t, "it ends with `.`"));
    }
    Ok(segs)
}

/// Writes segments back as text.
pub(crate) fn path_string(segs: &[Seg]) -> String {
    let mut out = String::new();
    for s in segs {
        push(&mut out, s);
    }
    out
}

fn push(out: &mut String, seg: &Seg) {
    match seg {
        Seg::Name(n) => {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(n);
        }
        Seg::Index(i) => out.push_str(&format!("[{i}]")),
    }
}

/// Where a path leads.
pub(crate) struct Slot {
    pub node: Arc<Node>,
    pub form: Form,
    /// From the start of the whole key or value.
    pub bit_offset: u64,
    pub bit_size: Option<u32>,
}

/// Follows a path from the root of a type.
pub(crate) fn resolve(root: &Arc<Node>, root_form: &Form, segs: &[Seg]) -> Result<Slot, TypeError> {
    let mut node = root.clone();
    let mut form = root_form.clone();
    let mut bit_offset = 0u64;
    let mut bit_size = None;
    let mut path = String::new();
    for seg in segs {
        match seg {
            Seg::Name(name) => {
                let record = match (&node.kind, bit_size) {
                    (Kind::Record(r), None) => r,
                    _ => {
                        return Err(TypeError::NoFields {
                            path,
                            c_name: node.c_name.clone(),
                            name: name.clone(),
                        });
                    }
                };
                let Some(chain) = record.find(name) else {
                    return Err(TypeError::UnknownField {
                        path,
                        name: name.clone(),
                        c_name: node.c_name.clone(),
                        available: record.names_list(),
                    });
                };
                let mut next = None;
                for m in chain {
                    bit_offset = bit_offset.saturating_add(m.bit_offset);
                    next = Some(m);
                }
                let Some(m) = next else {
                    return Err(bad_path(&path, "internal: empty member chain"));
                };
                let (n, f, b) = (m.node.clone(), m.form.clone(), m.bit_size);
                node = n;
                form = f;
                bit_size = b;
            }
            Seg::Index(index) => {
                let Kind::Array { elem, len } = &node.kind else {
                    return Err(TypeError::NotAnArray {
                        path,
                        c_name: node.c_name.clone(),
                        index: *index,
                    });
                };
                if index >= len {
                    return Err(TypeError::IndexOutOfBounds {
                        path,
                        c_name: node.c_name.clone(),
                        index: *index,
                        len: *len,
                    });
                }
                let step = (*index as u64)
                    .saturating_mul(elem.size as u64)
                    .saturating_mul(8);
                bit_offset = bit_offset.saturating_add(step);
                form = match form {
                    Form::Each(inner) => *inner,
                    _ => Form::Plain,
                };
                node = elem.clone();
            }
        }
        push(&mut path, seg);
        if node.is_managed() {
            return Err(TypeError::KernelManaged {
                path,
                c_name: node.c_name.clone(),
            });
        }
    }
    Ok(Slot {
        node,
        form,
        bit_offset,
        bit_size,
    })
}

/// What kind of data a [`Field`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// An integer (decoded as a JSON number, or a hex string when wider than 64 bits).
    Int,
    /// `_Bool`.
    Bool,
    /// An enum (decoded as the enumerator's name).
    Enum,
    /// `float` or `double`.
    Float,
    /// A pointer (decoded as a hex string).
    Pointer,
    /// A MAC address (`02:1a:b0:00:00:01`).
    Mac,
    /// An IPv4 address (`198.18.0.1`).
    Ipv4,
    /// An IPv6 address (`fd00:198:18::1`).
    Ipv6,
    /// A `char` array (decoded as text when it holds text).
    Text,
    /// Any other array.
    Array,
    /// A struct (or a data section).
    Struct,
    /// A union.
    Union,
}

fn kind_of(node: &Node, form: &Form) -> FieldKind {
    match form {
        Form::Mac => return FieldKind::Mac,
        Form::Ipv4 => return FieldKind::Ipv4,
        Form::Ipv6 => return FieldKind::Ipv6,
        Form::Plain | Form::Each(_) => {}
    }
    match &node.kind {
        Kind::Int(i) if i.is_bool => FieldKind::Bool,
        Kind::Int(_) => FieldKind::Int,
        Kind::Enum(_) => FieldKind::Enum,
        Kind::Float => FieldKind::Float,
        Kind::Ptr => FieldKind::Pointer,
        Kind::Array { elem, .. } => match &elem.kind {
            Kind::Int(i) if i.is_char && elem.size == 1 => FieldKind::Text,
            _ => FieldKind::Array,
        },
        Kind::Record(r) if r.union => FieldKind::Union,
        Kind::Record(_) | Kind::Managed(_) => FieldKind::Struct,
    }
}

/// One field of a key or value type, found by [`super::TypeRef::field`].
///
/// Offsets count from the start of the whole key or value. For a bitfield, `offset` and `size`
/// give the bytes the bits lie in, and `bit_offset`/`bit_size` the bits themselves (numbered as
/// BTF numbers them: from the least significant bit of the first byte on little-endian
/// machines).
///
/// The "raw" integers of [`Field::read_int`], [`Field::parse_int`], [`Field::write_int`] and
/// [`Field::format`] are the field's memory as a native-endian unsigned integer of `size` bytes,
/// zero-extended (for a bitfield: its bits, right-aligned). So for a `__be16 port` holding 8080
/// the raw value is `8080u16.swap_bytes()` on x86, the same word a compare-and-swap on the
/// memory sees; [`Field::format`] turns it back into `8080`.
#[derive(Clone)]
pub struct Field {
    /// The path, normalized (`hops[2].addr`).
    pub path: String,
    /// Byte offset from the start of the key or value.
    pub offset: usize,
    /// Size in bytes (for a bitfield: the bytes its bits span).
    pub size: usize,
    /// For a bitfield: offset in bits from the start of the key or value.
    pub bit_offset: Option<u32>,
    /// For a bitfield: its width in bits.
    pub bit_size: Option<u32>,
    /// A signed integer or enum.
    pub signed: bool,
    /// What it holds.
    pub kind: FieldKind,
    /// Its C type (`__be32`, `struct hop[3]`, `enum port_state`).
    pub c_name: String,
    node: Arc<Node>,
    form: Form,
    abs_bit: u64,
    root_size: usize,
}

impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Field")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .field("size", &self.size)
            .field("bit_offset", &self.bit_offset)
            .field("bit_size", &self.bit_size)
            .field("signed", &self.signed)
            .field("kind", &self.kind)
            .field("c_name", &self.c_name)
            .finish_non_exhaustive()
    }
}

impl Field {
    pub(crate) fn new(path: String, slot: Slot, root_size: usize) -> Field {
        let (offset, size, bit_offset, bit_size) = match slot.bit_size {
            Some(bits) => {
                let first = slot.bit_offset / 8;
                let within = slot.bit_offset % 8;
                let span = (within + u64::from(bits)).div_ceil(8);
                (
                    first as usize,
                    span as usize,
                    u32::try_from(slot.bit_offset).ok(),
                    Some(bits),
                )
            }
            None => ((slot.bit_offset / 8) as usize, slot.node.size, None, None),
        };
        let signed = match &slot.node.kind {
            Kind::Int(i) => i.signed,
            Kind::Enum(e) => e.signed,
            _ => false,
        };
        Field {
            path,
            offset,
            size,
            bit_offset,
            bit_size,
            signed,
            kind: kind_of(&slot.node, &slot.form),
            c_name: slot.node.c_name.clone(),
            node: slot.node,
            form: slot.form,
            abs_bit: slot.bit_offset,
            root_size,
        }
    }

    /// Whether the field fits a 64-bit raw integer and is integer-like (integers, bools,
    /// enums, pointers, floats as their bits, IPv4 and MAC addresses).
    pub fn is_integer(&self) -> bool {
        self.size <= 8
            && matches!(
                self.kind,
                FieldKind::Int
                    | FieldKind::Bool
                    | FieldKind::Enum
                    | FieldKind::Float
                    | FieldKind::Pointer
                    | FieldKind::Ipv4
                    | FieldKind::Mac
            )
    }

    fn need_integer(&self) -> Result<(), TypeError> {
        if self.is_integer() {
            Ok(())
        } else {
            Err(TypeError::NotAnInteger {
                path: self.path.clone(),
                c_name: self.c_name.clone(),
            })
        }
    }

    fn check_len(&self, len: usize) -> Result<(), TypeError> {
        if len == self.root_size {
            Ok(())
        } else {
            Err(TypeError::SizeMismatch {
                c_name: format!("the value holding `{}`", self.path),
                expected: self.root_size,
                got: len,
            })
        }
    }

    /// Reads `text` as a value of this field (as `encode` would: numbers, enumerator names,
    /// `true`/`false`, addresses) and returns its raw integer.
    pub fn parse_int(&self, text: &str) -> Result<u64, TypeError> {
        self.need_integer()?;
        let t = text.trim();
        let v = if t.starts_with('"') {
            serde_json::from_str::<Value>(t).map_err(|e| TypeError::BadSyntax {
                c_name: self.c_name.clone(),
                reason: format!("`{t}` is not a valid JSON string: {e}"),
            })?
        } else {
            Value::String(t.to_string())
        };
        if let Some(bits) = self.bit_size {
            let raw = encode::integer(&self.node, &v, bits, &self.path)?;
            return Ok(raw as u64);
        }
        let mut w = Writer::new(vec![0; self.size]);
        encode::write(&mut w, &self.node, &self.form, &v, 0, &self.path)?;
        Ok(encode::raw_of(&w.buf))
    }

    /// Reads the field's raw integer out of the whole key or value.
    pub fn read_int(&self, bytes: &[u8]) -> Result<u64, TypeError> {
        self.need_integer()?;
        self.check_len(bytes.len())?;
        Ok(match self.bit_size {
            Some(bits) => read_bits(bytes, self.abs_bit, bits),
            None => encode::raw_of(sub(bytes, self.offset, self.size)),
        })
    }

    /// Writes a raw integer into the field inside the whole key or value.
    pub fn write_int(&self, bytes: &mut [u8], raw: u64) -> Result<(), TypeError> {
        self.need_integer()?;
        self.check_len(bytes.len())?;
        let bits = self.bit_size.unwrap_or(self.size as u32 * 8);
        if raw & !width_mask(bits) != 0 {
            return Err(TypeError::OutOfRange {
                path: self.path.clone(),
                c_name: self.c_name.clone(),
                value: format!("{raw:#x}"),
                min: "0".to_string(),
                max: format!("{:#x}", width_mask(bits)),
            });
        }
        let mut w = Writer::new(bytes.to_vec());
        match self.bit_size {
            Some(bits) => w.put_bits(self.abs_bit, bits, raw, &self.path)?,
            None => w.put(
                self.offset,
                &store(u128::from(raw), self.size, false),
                &self.path,
            )?,
        }
        bytes.copy_from_slice(&w.buf);
        Ok(())
    }

    /// Formats a raw integer as decoding shows this field (a number, an enumerator name, an
    /// address...).
    pub fn format(&self, raw: u64) -> Value {
        match self.bit_size {
            Some(bits) => decode::scalar(&self.node, u128::from(raw), bits),
            None => decode::value(
                &self.node,
                &self.form,
                &store(u128::from(raw), self.size, false),
            ),
        }
    }

    /// Decodes just this field out of the whole key or value.
    pub fn decode(&self, bytes: &[u8]) -> Result<Value, TypeError> {
        self.check_len(bytes.len())?;
        Ok(match self.bit_size {
            Some(bits) => decode::scalar(
                &self.node,
                u128::from(read_bits(bytes, self.abs_bit, bits)),
                bits,
            ),
            None => decode::value(&self.node, &self.form, sub(bytes, self.offset, self.size)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p = parse_path("hops[2].addr").unwrap();
        assert_eq!(
            p,
            vec![
                Seg::Name("hops".into()),
                Seg::Index(2),
                Seg::Name("addr".into())
            ]
        );
        assert_eq!(path_string(&p), "hops[2].addr");
        assert_eq!(
            path_string(&parse_path(" [1][ 2 ].x ").unwrap()),
            "[1][2].x"
        );
        for bad in [
            "", ".a", "a.", "a..b", "a[", "a[x]", "a[-1]", "a[+1]", "a b", "a-b", "a.[1]", "1a",
            "a]", "é",
        ] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }
}
