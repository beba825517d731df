//! Serializing decoded bytes straight to an output, without building `serde_json::Value`s.
//!
//! [`View`] follows exactly the rules of [`super::decode`] (a test checks that both give the same
//! JSON), but writes as it walks the layout: dumping a million entries allocates almost nothing
//! per entry.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::decode::{self, load, read_bits, sign_extend, sub};
use super::readable::{self, Form};
use super::type_tree::{Kind, Node, Record, width_mask};

/// Bytes seen through a layout, serializable as the JSON [`super::TypeRef::decode`] returns.
pub struct View<'a> {
    pub(crate) node: &'a Node,
    pub(crate) form: &'a Form,
    pub(crate) bytes: &'a [u8],
}

const PLAIN: &Form = &Form::Plain;

impl Serialize for View<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (node, bytes) = (self.node, self.bytes);
        match (self.form, &node.kind) {
            (Form::Mac, _) if bytes.len() == 6 => {
                return s.serialize_str(&readable::format_mac(bytes));
            }
            (Form::Ipv4, _) if bytes.len() == 4 => {
                return s.serialize_str(&readable::format_ipv4(bytes));
            }
            (Form::Ipv6, _) if bytes.len() == 16 => {
                return s.serialize_str(&readable::format_ipv6(bytes));
            }
            _ => {}
        }
        match &node.kind {
            Kind::Int(info) => {
                let raw = load(bytes, info.big_endian);
                let bits = node.size as u32 * 8;
                if info.is_bool && raw <= 1 {
                    s.serialize_bool(raw == 1)
                } else if bits > 64 {
                    decode::value(node, self.form, bytes).serialize(s)
                } else if info.signed {
                    s.serialize_i64(sign_extend(raw, bits) as i64)
                } else {
                    s.serialize_u64(raw as u64)
                }
            }
            Kind::Enum(info) => {
                let bits = node.size as u32 * 8;
                let mask = width_mask(bits);
                let raw = load(bytes, false) as u64 & mask;
                match info.values.iter().find(|(_, v)| v & mask == raw) {
                    Some((name, _)) => s.serialize_str(name),
                    None if info.signed => {
                        s.serialize_i64(sign_extend(u128::from(raw), bits) as i64)
                    }
                    None => s.serialize_u64(raw),
                }
            }
            Kind::Array { elem, len } => {
                let elem_form = match self.form {
                    Form::Each(inner) => inner.as_ref(),
                    _ => PLAIN,
                };
                if let Kind::Int(i) = &elem.kind
                    && i.is_char
                    && elem.size == 1
                    && *elem_form == Form::Plain
                {
                    // Text arrays follow decode's rules exactly; they are rare and short.
                    return decode::value(node, self.form, bytes).serialize(s);
                }
                let mut seq = s.serialize_seq(Some(*len))?;
                for i in 0..*len {
                    seq.serialize_element(&View {
                        node: elem,
                        form: elem_form,
                        bytes: sub(bytes, i * elem.size, elem.size),
                    })?;
                }
                seq.end()
            }
            Kind::Record(record) => {
                let mut map = s.serialize_map(None)?;
                fields(record, bytes, &mut map)?;
                map.end()
            }
            // Floats, pointers, kernel-managed structs: rare; reuse the decoder.
            _ => decode::value(node, self.form, bytes).serialize(s),
        }
    }
}

fn fields<M: SerializeMap>(record: &Record, bytes: &[u8], map: &mut M) -> Result<(), M::Error> {
    for m in &record.members {
        if m.node.is_managed() {
            continue;
        }
        if let Some(bits) = m.bit_size {
            let v = decode::scalar(&m.node, read_bits(bytes, m.bit_offset, bits).into(), bits);
            map.serialize_entry(&m.name, &v)?;
            continue;
        }
        let inner = sub(bytes, (m.bit_offset / 8) as usize, m.node.size);
        if m.is_flattened() {
            if let Some(r) = m.node.record() {
                fields(r, inner, map)?;
            }
            continue;
        }
        map.serialize_entry(
            &m.name,
            &View {
                node: &m.node,
                form: &m.form,
                bytes: inner,
            },
        )?;
    }
    Ok(())
}
