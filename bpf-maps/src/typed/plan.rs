//! A type's JSON form compiled once into a flat list of steps, for writing millions of values.
//!
//! [`View`] walks the layout tree for every value it writes: it matches on kinds and forms,
//! looks members up, and goes through serde for every number and name. A [`JsonPlan`] does that
//! walk once: the member names, braces and commas become literal text, and each scalar becomes
//! one step reading a fixed offset (integers, MAC and IP addresses). Writing a value is then a
//! loop over a few steps appending to one buffer. Whatever has no step of its own (enums,
//! floats, pointers, `char` text, bitfields, long arrays) is written by [`View`] from where it
//! lies, so the plan writes exactly what [`View`] writes, which writes exactly what
//! [`super::TypeRef::decode`] returns (a test checks both for any bytes).

use std::io::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use super::decode::{self, load, read_bits, sign_extend, sub};
use super::error::TypeError;
use super::readable::{Form, write_mac};
use super::stream::View;
use super::type_tree::{IntInfo, Kind, Node, Record};

/// Arrays longer than this are written by [`View`] rather than unrolled into steps.
const MAX_UNROLLED: usize = 64;

/// Literal text up to this long is kept in its step.
const SHORT: usize = 16;

/// One step of a plan.
#[derive(Debug)]
enum Step {
    /// Literal text: `plan.text[start..end]`.
    Text { start: usize, end: usize },
    /// Short literal text, `text[..len]`, copied as a whole array (no call to `memcpy`).
    Short { text: [u8; SHORT], len: usize },
    /// An unsigned integer of 1, 2, 4 or 8 bytes in the machine's order.
    Unsigned { offset: usize, size: usize },
    /// Any other integer of 1, 2, 4 or 8 bytes: signed, big-endian or `_Bool`.
    Int {
        offset: usize,
        size: usize,
        info: IntInfo,
    },
    /// Six bytes as `02:1a:b0:00:00:01` (the quotes are text steps).
    Mac { offset: usize },
    /// Four bytes as `198.18.0.1`.
    Ipv4 { offset: usize },
    /// Sixteen bytes as `fd00:198:18::1`.
    Ipv6 { offset: usize },
    /// A bitfield of the record at `start..start + len`.
    Bits {
        start: usize,
        len: usize,
        bit_offset: u64,
        bits: u32,
        node: Arc<Node>,
    },
    /// Anything else, written by [`View`].
    Node {
        offset: usize,
        node: Arc<Node>,
        form: Form,
    },
}

/// A type's JSON form compiled into steps: made once with [`super::TypeRef::json_plan`], then
/// [`JsonPlan::write`] appends the compact JSON of any number of values to a buffer, exactly as
/// `serde_json` writes what [`super::TypeRef::decode`] returns.
#[derive(Debug)]
pub struct JsonPlan {
    size: usize,
    c_name: String,
    text: Vec<u8>,
    steps: Vec<Step>,
}

impl JsonPlan {
    /// Compiles the plan of `root` seen in `form`, written between the literal texts `before`
    /// and `after`.
    pub(crate) fn new(root: &Arc<Node>, form: &Form, before: &[u8], after: &[u8]) -> Self {
        let mut plan = Self {
            size: root.size,
            c_name: root.c_name.clone(),
            text: Vec::new(),
            steps: Vec::new(),
        };
        plan.text(before);
        plan.node(root, form, 0);
        plan.text(after);
        for step in &mut plan.steps {
            if let Step::Text { start, end } = *step
                && end - start <= SHORT
            {
                let mut text = [0; SHORT];
                text[..end - start].copy_from_slice(&plan.text[start..end]);
                *step = Step::Short {
                    text,
                    len: end - start,
                };
            }
        }
        plan
    }

    /// The size of the values it writes, in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Appends the JSON of `bytes` (exactly the type's size) to `out`.
    pub fn write(&self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), TypeError> {
        if bytes.len() != self.size {
            return Err(TypeError::SizeMismatch {
                c_name: self.c_name.clone(),
                expected: self.size,
                got: bytes.len(),
            });
        }
        for step in &self.steps {
            match step {
                Step::Text { start, end } => out.extend_from_slice(&self.text[*start..*end]),
                Step::Short { text, len } => {
                    let at = out.len();
                    out.extend_from_slice(text);
                    out.truncate(at + len);
                }
                Step::Unsigned { offset, size } => {
                    write_u64(out, load(sub(bytes, *offset, *size), false) as u64);
                }
                Step::Int { offset, size, info } => {
                    let raw = load(sub(bytes, *offset, *size), info.big_endian);
                    if info.is_bool && raw <= 1 {
                        out.extend_from_slice(if raw == 1 { b"true" } else { b"false" });
                    } else if info.signed {
                        let v = sign_extend(raw, *size as u32 * 8) as i64;
                        if v < 0 {
                            out.push(b'-');
                        }
                        write_u64(out, v.unsigned_abs());
                    } else {
                        write_u64(out, raw as u64);
                    }
                }
                Step::Mac { offset } => write_mac(sub(bytes, *offset, 6), out),
                Step::Ipv4 { offset } => {
                    if let Ok(b) = <[u8; 4]>::try_from(sub(bytes, *offset, 4)) {
                        write_display(out, Ipv4Addr::from(b));
                    }
                }
                Step::Ipv6 { offset } => {
                    if let Ok(b) = <[u8; 16]>::try_from(sub(bytes, *offset, 16)) {
                        write_display(out, Ipv6Addr::from(b));
                    }
                }
                Step::Bits {
                    start,
                    len,
                    bit_offset,
                    bits,
                    node,
                } => {
                    let raw = read_bits(sub(bytes, *start, *len), *bit_offset, *bits);
                    write_json(out, &decode::scalar(node, raw.into(), *bits));
                }
                Step::Node { offset, node, form } => write_json(
                    out,
                    &View {
                        node,
                        form,
                        bytes: sub(bytes, *offset, node.size),
                    },
                ),
            }
        }
        Ok(())
    }

    fn text(&mut self, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.extend_from_slice(text);
        let end = self.text.len();
        // Adjacent text joins the previous step.
        if let Some(Step::Text { end: last, .. }) = self.steps.last_mut()
            && *last == start
        {
            *last = end;
            return;
        }
        self.steps.push(Step::Text { start, end });
    }

    /// The steps of `node` (in `form`) lying at `offset`, following [`View`]'s rules.
    fn node(&mut self, node: &Arc<Node>, form: &Form, offset: usize) {
        match (form, node.size) {
            (Form::Mac, 6) => return self.quoted(Step::Mac { offset }),
            (Form::Ipv4, 4) => return self.quoted(Step::Ipv4 { offset }),
            (Form::Ipv6, 16) => return self.quoted(Step::Ipv6 { offset }),
            _ => {}
        }
        match &node.kind {
            Kind::Int(info) if matches!(node.size, 1 | 2 | 4 | 8) => {
                let size = node.size;
                if info.signed || info.is_bool || info.big_endian {
                    self.steps.push(Step::Int {
                        offset,
                        size,
                        info: *info,
                    });
                } else {
                    self.steps.push(Step::Unsigned { offset, size });
                }
            }
            Kind::Array { elem, len } if *len <= MAX_UNROLLED => {
                let elem_form = match form {
                    Form::Each(inner) => inner.as_ref(),
                    _ => &Form::Plain,
                };
                let text = matches!(&elem.kind, Kind::Int(i) if i.is_char && elem.size == 1)
                    && *elem_form == Form::Plain;
                if text {
                    return self.view(node, form, offset);
                }
                self.text(b"[");
                for i in 0..*len {
                    if i > 0 {
                        self.text(b",");
                    }
                    self.node(elem, elem_form, offset + i * elem.size);
                }
                self.text(b"]");
            }
            Kind::Record(record) => {
                self.text(b"{");
                self.fields(record, node.size, offset, &mut true);
                self.text(b"}");
            }
            _ => self.view(node, form, offset),
        }
    }

    /// The members of `record` (`size` bytes at `offset`) as `"name":value` pairs, anonymous
    /// members' fields flattened in, kernel-managed ones left out.
    fn fields(&mut self, record: &Record, size: usize, offset: usize, first: &mut bool) {
        for m in &record.members {
            if m.node.is_managed() {
                continue;
            }
            let inner = offset + (m.bit_offset / 8) as usize;
            if m.bit_size.is_none() && m.is_flattened() {
                if let Some(r) = m.node.record() {
                    self.fields(r, m.node.size, inner, first);
                }
                continue;
            }
            if !*first {
                self.text(b",");
            }
            *first = false;
            let mut name = Vec::new();
            write_json(&mut name, &m.name);
            self.text(&name);
            self.text(b":");
            match m.bit_size {
                Some(bits) => self.steps.push(Step::Bits {
                    start: offset,
                    len: size,
                    bit_offset: m.bit_offset,
                    bits,
                    node: m.node.clone(),
                }),
                None => self.node(&m.node, &m.form, inner),
            }
        }
    }

    fn quoted(&mut self, step: Step) {
        self.text(b"\"");
        self.steps.push(step);
        self.text(b"\"");
    }

    fn view(&mut self, node: &Arc<Node>, form: &Form, offset: usize) {
        self.steps.push(Step::Node {
            offset,
            node: node.clone(),
            form: form.clone(),
        });
    }
}

/// Appends `value` in decimal, as `serde_json` writes it (with the same `itoa`).
fn write_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

fn write_display(out: &mut Vec<u8>, value: impl std::fmt::Display) {
    // Writing to memory cannot fail.
    let _ = write!(out, "{value}");
}

fn write_json(out: &mut Vec<u8>, value: &impl serde::Serialize) {
    // Writing to memory cannot fail, and what is written here (decoded values, views of
    // layouts, names) has no serialization that fails: only strings, numbers, booleans, and
    // arrays and maps of them.
    let _ = serde_json::to_writer(out, value);
}
