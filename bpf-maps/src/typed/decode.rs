//! Bytes to JSON values, following a layout tree.

use serde_json::{Map, Value};

use super::readable::{self, Form};
use super::type_tree::{EnumInfo, IntInfo, Kind, Node, Record, width_mask};

/// The bytes `off..off+len`, or nothing when out of range (the layout makes that impossible).
pub(crate) fn sub(bytes: &[u8], off: usize, len: usize) -> &[u8] {
    off.checked_add(len)
        .and_then(|end| bytes.get(off..end))
        .unwrap_or(&[])
}

/// Loads up to 16 bytes as an unsigned integer: big-endian when `big_endian`, else in the
/// machine's order (maps hold values in the order of the kernel that runs them).
pub(crate) fn load(bytes: &[u8], big_endian: bool) -> u128 {
    // The common widths in the machine's order, without the byte loop (dumps load millions).
    if !big_endian {
        match bytes.len() {
            1 => return u128::from(bytes[0]),
            2 => return u128::from(u16::from_ne_bytes([bytes[0], bytes[1]])),
            4 => return u128::from(u32::from_ne_bytes(bytes.try_into().expect("4 bytes"))),
            8 => return u128::from(u64::from_ne_bytes(bytes.try_into().expect("8 bytes"))),
            _ => {}
        }
    }
    let bytes = &bytes[..bytes.len().min(16)];
    if big_endian || cfg!(target_endian = "big") {
        bytes.iter().fold(0, |v, &b| (v << 8) | u128::from(b))
    } else {
        bytes.iter().rev().fold(0, |v, &b| (v << 8) | u128::from(b))
    }
}

/// Stores the low `len` bytes of `value` (at most 16), the inverse of [`load`].
pub(crate) fn store(value: u128, len: usize, big_endian: bool) -> Vec<u8> {
    let len = len.min(16);
    let le = value.to_le_bytes();
    let mut out: Vec<u8> = le[..len].to_vec();
    if big_endian || cfg!(target_endian = "big") {
        out.reverse();
    }
    out
}

/// Reads `bits` bits (at most 64) starting `bit_offset` bits into `bytes`, numbered as BTF
/// numbers them on this machine (from the least significant bit on little-endian machines).
pub(crate) fn read_bits(bytes: &[u8], bit_offset: u64, bits: u32) -> u64 {
    let bit = |k: u64| -> u64 {
        let byte = usize::try_from(k / 8)
            .ok()
            .and_then(|i| bytes.get(i))
            .copied()
            .unwrap_or(0);
        let shift = if cfg!(target_endian = "big") {
            7 - (k % 8)
        } else {
            k % 8
        };
        u64::from(byte >> shift) & 1
    };
    let bits = bits.min(64);
    let mut v = 0u64;
    for i in 0..u64::from(bits) {
        let k = bit_offset.saturating_add(i);
        if cfg!(target_endian = "big") {
            v = (v << 1) | bit(k);
        } else {
            v |= bit(k) << i;
        }
    }
    v
}

/// Sign-extends the low `bits` bits of `raw`.
pub(crate) fn sign_extend(raw: u128, bits: u32) -> i128 {
    if bits == 0 || bits >= 128 {
        return raw as i128;
    }
    let shift = 128 - bits;
    ((raw << shift) as i128) >> shift
}

/// Decodes a whole node.
pub(crate) fn value(node: &Node, form: &Form, bytes: &[u8]) -> Value {
    match (form, &node.kind) {
        (Form::Mac, _) if bytes.len() == 6 => return Value::String(readable::format_mac(bytes)),
        (Form::Ipv4, _) if bytes.len() == 4 => {
            return Value::String(readable::format_ipv4(bytes));
        }
        (Form::Ipv6, _) if bytes.len() == 16 => {
            return Value::String(readable::format_ipv6(bytes));
        }
        _ => {}
    }
    match &node.kind {
        Kind::Int(info) => int(info, load(bytes, info.big_endian), node.size as u32 * 8),
        Kind::Enum(info) => enumeration(info, load(bytes, false), node.size as u32 * 8),
        Kind::Float => float(bytes),
        Kind::Ptr => Value::String(format!("{:#x}", load(bytes, false))),
        Kind::Array { elem, len } => {
            let elem_form = match form {
                Form::Each(inner) => inner.as_ref().clone(),
                _ => Form::Plain,
            };
            if let Kind::Int(i) = &elem.kind
                && i.is_char
                && elem.size == 1
                && elem_form == Form::Plain
                && let Some(text) = text(bytes)
            {
                return Value::String(text);
            }
            let values = (0..*len)
                .map(|i| value(elem, &elem_form, sub(bytes, i * elem.size, elem.size)))
                .collect();
            Value::Array(values)
        }
        Kind::Record(record) => {
            let mut map = Map::new();
            fields(record, bytes, &mut map);
            Value::Object(map)
        }
        Kind::Managed(_) => Value::Object(Map::new()),
    }
}

/// Decodes a record's members into `map`, flattening anonymous members.
fn fields(record: &Record, bytes: &[u8], map: &mut Map<String, Value>) {
    for m in &record.members {
        if m.node.is_managed() {
            continue;
        }
        if let Some(bits) = m.bit_size {
            map.insert(
                m.name.clone(),
                scalar(&m.node, read_bits(bytes, m.bit_offset, bits).into(), bits),
            );
            continue;
        }
        let start = (m.bit_offset / 8) as usize;
        let inner = sub(bytes, start, m.node.size);
        if m.is_flattened() {
            if let Some(r) = m.node.record() {
                fields(r, inner, map);
            }
            continue;
        }
        map.insert(m.name.clone(), value(&m.node, &m.form, inner));
    }
}

/// Formats an integer-like node's value given as `bits` raw bits.
pub(crate) fn scalar(node: &Node, raw: u128, bits: u32) -> Value {
    match &node.kind {
        Kind::Int(info) => int(info, raw, bits),
        Kind::Enum(info) => enumeration(info, raw, bits),
        _ => Value::Null,
    }
}

fn int(info: &IntInfo, raw: u128, bits: u32) -> Value {
    if info.is_bool && raw <= 1 {
        return Value::Bool(raw == 1);
    }
    if bits > 64 {
        let digits = bits.div_ceil(4) as usize;
        return Value::String(format!("{raw:#0width$x}", width = digits + 2));
    }
    if info.signed {
        Value::from(sign_extend(raw, bits) as i64)
    } else {
        Value::from(raw as u64)
    }
}

fn enumeration(info: &EnumInfo, raw: u128, bits: u32) -> Value {
    let mask = width_mask(bits);
    let raw = raw as u64 & mask;
    if let Some((name, _)) = info.values.iter().find(|(_, v)| v & mask == raw) {
        return Value::String(name.clone());
    }
    if info.signed {
        Value::from(sign_extend(u128::from(raw), bits) as i64)
    } else {
        Value::from(raw)
    }
}

fn float(bytes: &[u8]) -> Value {
    let v = match bytes.len() {
        4 => {
            let raw = load(bytes, false) as u32;
            let f = f32::from_bits(raw);
            if f.is_nan() && raw != f32::NAN.to_bits() {
                return Value::String(format!("{raw:#010x}"));
            }
            f64::from(f)
        }
        8 => {
            let raw = load(bytes, false) as u64;
            let f = f64::from_bits(raw);
            if f.is_nan() && raw != f64::NAN.to_bits() {
                return Value::String(format!("{raw:#018x}"));
            }
            f
        }
        n => {
            return Value::String(format!(
                "{:#0width$x}",
                load(bytes, false),
                width = n * 2 + 2
            ));
        }
    };
    if v.is_nan() {
        Value::String("nan".into())
    } else if v.is_infinite() {
        Value::String(if v > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// The text in a `char` array, when it holds printable text followed only by NUL bytes.
fn text(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    if bytes[end..].iter().any(|&b| b != 0) {
        return None;
    }
    let s = std::str::from_utf8(&bytes[..end]).ok()?;
    if s.chars().any(char::is_control) {
        return None;
    }
    Some(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_bytes() {
        assert_eq!(load(&[1, 2], true), 0x0102);
        if cfg!(target_endian = "little") {
            assert_eq!(load(&[1, 2], false), 0x0201);
            assert_eq!(read_bits(&[0b1010_0000, 0b0000_0001], 5, 4), 0b1101);
        }
        assert_eq!(store(0x0102, 2, true), vec![1, 2]);
        assert_eq!(load(&store(0xdead_beef, 4, false), false), 0xdead_beef);
        assert_eq!(sign_extend(0b111, 3), -1);
        assert_eq!(sign_extend(0b011, 3), 3);
        assert_eq!(read_bits(&[], 100, 64), 0);
    }

    #[test]
    fn texts() {
        assert_eq!(text(b"eth0\0\0\0\0").as_deref(), Some("eth0"));
        assert_eq!(text(b"abcd").as_deref(), Some("abcd"));
        assert_eq!(text(b"\0\0").as_deref(), Some(""));
        assert_eq!(text(b"eth0\0x\0\0"), None);
        assert_eq!(text(b"a\x01\0\0"), None);
        assert_eq!(text(b"\xff\0"), None);
    }
}
