//! Text and JSON values to bytes, following a layout tree and checking every field.

use serde_json::Value;

use super::decode::{load, store};
use super::error::TypeError;
use super::field::{self, Seg};
use super::readable::{self, Form};
use super::type_tree::{Kind, Node, Record, width_mask};

/// What the user wrote, before it meets the type.
pub(crate) enum Input {
    /// One value for the whole type.
    Whole(Value),
    /// `field=value` edits.
    Edits(Vec<(Vec<Seg>, Value)>),
}

/// Whether text for this node is a single scalar-like value (not fields or elements).
fn takes_scalar_text(node: &Node, form: &Form) -> bool {
    match &node.kind {
        Kind::Record(_) => matches!(form, Form::Ipv4 | Form::Ipv6),
        Kind::Array { elem, .. } => {
            matches!(form, Form::Mac | Form::Ipv6)
                || matches!(&elem.kind, Kind::Int(i) if i.is_char && elem.size == 1)
        }
        _ => true,
    }
}

fn syntax(node: &Node, reason: impl Into<String>) -> TypeError {
    TypeError::BadSyntax {
        c_name: node.c_name.clone(),
        reason: reason.into(),
    }
}

/// Reads input text: JSON, `field=value[,field=value...]`, or a bare scalar.
pub(crate) fn parse_input(node: &Node, form: &Form, text: &str) -> Result<Input, TypeError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(syntax(
            node,
            "the input is empty; give JSON, field=value pairs, or a number",
        ));
    }
    let first = t.as_bytes()[0];
    let json = || serde_json::from_str::<Value>(t);
    if takes_scalar_text(node, form) && !matches!(first, b'{' | b'[' | b'"') {
        // Bare scalars: numbers, names, addresses, text. Scalars take strings everywhere.
        if t.contains('=') && matches!(node.kind, Kind::Record(_)) {
            return edits(node, t).map(Input::Edits);
        }
        return Ok(Input::Whole(Value::String(t.to_string())));
    }
    match first {
        b'{' | b'"' => json()
            .map(Input::Whole)
            .map_err(|e| syntax(node, format!("it is not valid JSON: {e}"))),
        b'[' => match json() {
            Ok(v) => Ok(Input::Whole(v)),
            Err(e) if !looks_like_edit(t) => {
                Err(syntax(node, format!("it is not valid JSON: {e}")))
            }
            Err(_) => edits(node, t).map(Input::Edits),
        },
        _ => {
            if !t.contains('=') {
                if let Ok(v) = json() {
                    return Ok(Input::Whole(v));
                }
                return Err(syntax(
                    node,
                    format!(
                        "`{t}` is neither JSON nor field=value pairs; write for example \
                         `{}` or a JSON object",
                        example(node)
                    ),
                ));
            }
            edits(node, t).map(Input::Edits)
        }
    }
}

/// `[3]=...` or `[3].x=...`: an edit on an array rather than a JSON array.
fn looks_like_edit(t: &str) -> bool {
    let rest = t[1..].trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let after = rest[digits..].trim_start();
    after.starts_with(']')
        && matches!(
            after[1..].trim_start().bytes().next(),
            Some(b'=' | b'.' | b'[')
        )
}

/// An example edit for messages.
fn example(node: &Node) -> String {
    match &node.kind {
        Kind::Record(r) => match r.names().first() {
            Some(n) => format!("{n}=1"),
            None => "{}".to_string(),
        },
        Kind::Array { .. } => "[0]=1".to_string(),
        _ => "42".to_string(),
    }
}

/// Splits `a.b=1, c[2]="x,y", d=[1,2]` into edits.
fn edits(node: &Node, t: &str) -> Result<Vec<(Vec<Seg>, Value)>, TypeError> {
    let mut out = Vec::new();
    let mut rest = t;
    loop {
        let Some(eq) = rest.find('=') else {
            return Err(syntax(
                node,
                format!("`{}` has no `=`; write field=value", rest.trim()),
            ));
        };
        let path_text = rest[..eq].trim();
        if let Some(comma) = path_text.find(',') {
            return Err(syntax(
                node,
                format!(
                    "`{}` has no `=`; write field=value",
                    path_text[..comma].trim()
                ),
            ));
        }
        let segs = field::parse_path(path_text)?;
        let after = rest[eq + 1..].trim_start();
        let (value, remaining) = match after.as_bytes().first() {
            Some(b'"' | b'[' | b'{') => {
                let mut stream = serde_json::Deserializer::from_str(after).into_iter::<Value>();
                match stream.next() {
                    Some(Ok(v)) => {
                        let used = stream.byte_offset();
                        (v, &after[used..])
                    }
                    Some(Err(e)) => {
                        return Err(syntax(
                            node,
                            format!("the value of `{path_text}` is not valid JSON: {e}"),
                        ));
                    }
                    None => (Value::String(String::new()), ""),
                }
            }
            _ => {
                let end = after.find(',').unwrap_or(after.len());
                (
                    Value::String(after[..end].trim().to_string()),
                    &after[end..],
                )
            }
        };
        out.push((segs, value));
        let remaining = remaining.trim_start();
        if remaining.is_empty() {
            return Ok(out);
        }
        let Some(next) = remaining.strip_prefix(',') else {
            return Err(syntax(
                node,
                format!(
                    "unexpected `{}` after the value of `{path_text}`; separate field=value \
                     pairs with commas",
                    remaining.chars().take(20).collect::<String>()
                ),
            ));
        };
        if next.trim().is_empty() {
            return Err(syntax(node, "nothing follows the last comma"));
        }
        rest = next;
    }
}

/// The output buffer, remembering which bits were written and by which path, so that two
/// inputs giving different values to the same bits are caught.
pub(crate) struct Writer {
    pub buf: Vec<u8>,
    mask: Vec<u8>,
    owner: Vec<u32>,
    paths: Vec<String>,
}

impl Writer {
    pub fn new(base: Vec<u8>) -> Self {
        let n = base.len();
        Writer {
            buf: base,
            mask: vec![0; n],
            owner: vec![0; n],
            paths: Vec::new(),
        }
    }

    fn path_id(&mut self, path: &str) -> u32 {
        if self.paths.last().map(String::as_str) != Some(path) {
            self.paths.push(path.to_string());
        }
        (self.paths.len() - 1) as u32
    }

    fn put_byte(&mut self, i: usize, value: u8, bits: u8, path: &str) -> Result<(), TypeError> {
        let Some(old) = self.buf.get(i).copied() else {
            return Ok(());
        };
        let written = self.mask[i] & bits;
        if written != 0 && (old ^ value) & written != 0 {
            let first = self.paths[self.owner[i] as usize].clone();
            return Err(TypeError::Conflict {
                first: display(&first),
                second: display(path),
            });
        }
        let id = self.path_id(path);
        self.buf[i] = (old & !bits) | (value & bits);
        self.mask[i] |= bits;
        self.owner[i] = id;
        Ok(())
    }

    /// Writes whole bytes at `off`.
    pub fn put(&mut self, off: usize, data: &[u8], path: &str) -> Result<(), TypeError> {
        for (i, &b) in data.iter().enumerate() {
            self.put_byte(off + i, b, 0xff, path)?;
        }
        Ok(())
    }

    /// Writes the low `bits` bits of `value` at `bit_offset`, numbered as BTF numbers them.
    pub fn put_bits(
        &mut self,
        bit_offset: u64,
        bits: u32,
        value: u64,
        path: &str,
    ) -> Result<(), TypeError> {
        for i in 0..u64::from(bits.min(64)) {
            let k = bit_offset.saturating_add(i);
            let Ok(byte) = usize::try_from(k / 8) else {
                return Ok(());
            };
            let (shift, src) = if cfg!(target_endian = "big") {
                (7 - (k % 8), u64::from(bits) - 1 - i)
            } else {
                (k % 8, i)
            };
            let bit = ((value >> src) & 1) as u8;
            self.put_byte(byte, bit << shift, 1 << shift, path)?;
        }
        Ok(())
    }
}

fn display(path: &str) -> String {
    if path.is_empty() {
        "(the whole value)".to_string()
    } else {
        path.to_string()
    }
}

/// A short description of a JSON value's kind, for messages.
pub(crate) fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text \"{}\"", s.chars().take(40).collect::<String>()),
        Value::Array(a) if a.len() == 1 => "an array of 1 element".to_string(),
        Value::Array(a) => format!("an array of {} elements", a.len()),
        Value::Object(_) => "an object".to_string(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn wrong(node: &Node, path: &str, expected: impl Into<String>, got: &Value) -> TypeError {
    TypeError::WrongKind {
        path: path.to_string(),
        c_name: node.c_name.clone(),
        expected: expected.into(),
        got: kind_of(got),
    }
}

/// What a node takes, for messages.
fn expected(node: &Node, form: &Form) -> String {
    if !matches!(form, Form::Plain | Form::Each(_)) {
        return form.expected().to_string();
    }
    match &node.kind {
        Kind::Int(i) if i.is_bool => "true, false or an integer".to_string(),
        Kind::Int(_) => "an integer".to_string(),
        Kind::Enum(e) => format!("one of {} or an integer", enumerators(e)),
        Kind::Float => "a number".to_string(),
        Kind::Ptr => "an address like 0xffff888012345678".to_string(),
        Kind::Array { elem, len } => {
            if matches!(&elem.kind, Kind::Int(i) if i.is_char && elem.size == 1) {
                format!("text of at most {len} bytes, or an array of {len} integers")
            } else {
                format!("an array of {len} elements")
            }
        }
        Kind::Record(r) if r.union => "an object with one of the union's members".to_string(),
        Kind::Record(_) => "an object of fields".to_string(),
        Kind::Managed(_) => "nothing (the kernel manages it)".to_string(),
    }
}

fn enumerators(e: &super::type_tree::EnumInfo) -> String {
    let names: Vec<&str> = e.values.iter().map(|(n, _)| n.as_str()).collect();
    if names.is_empty() {
        "(no enumerators)".to_string()
    } else {
        names.join(", ")
    }
}

/// Writes `v` as `node` (seen in `form`) at byte `off`.
pub(crate) fn write(
    w: &mut Writer,
    node: &Node,
    form: &Form,
    v: &Value,
    off: usize,
    path: &str,
) -> Result<(), TypeError> {
    if let (Form::Mac | Form::Ipv4 | Form::Ipv6, Value::String(s)) = (form, v) {
        let bytes = readable::parse_form(form, s).ok_or_else(|| TypeError::BadValue {
            path: path.to_string(),
            c_name: node.c_name.clone(),
            text: s.clone(),
            expected: form.expected().to_string(),
        })?;
        return w.put(off, &bytes, path);
    }
    if matches!(form, Form::Ipv4) && !matches!(v, Value::Object(_)) {
        return Err(wrong(node, path, form.expected(), v));
    }
    match &node.kind {
        Kind::Int(_) | Kind::Enum(_) | Kind::Ptr => {
            let bits = node.size as u32 * 8;
            let raw = integer(node, v, bits, path)?;
            let big_endian = matches!(&node.kind, Kind::Int(i) if i.big_endian);
            w.put(off, &store(raw, node.size, big_endian), path)
        }
        Kind::Float => {
            let bytes = float(node, v, path)?;
            w.put(off, &bytes, path)
        }
        Kind::Array { elem, len } => {
            let elem_form = match form {
                Form::Each(inner) => inner.as_ref().clone(),
                _ => Form::Plain,
            };
            match v {
                Value::String(s) if matches!(&elem.kind, Kind::Int(i) if i.is_char && elem.size == 1) =>
                {
                    if s.len() > *len {
                        return Err(TypeError::BadValue {
                            path: path.to_string(),
                            c_name: node.c_name.clone(),
                            text: s.clone(),
                            expected: format!("text of at most {len} bytes (it has {})", s.len()),
                        });
                    }
                    let mut bytes = s.as_bytes().to_vec();
                    bytes.resize(*len, 0);
                    w.put(off, &bytes, path)
                }
                Value::Array(items) => {
                    if items.len() != *len {
                        return Err(TypeError::WrongKind {
                            path: path.to_string(),
                            c_name: node.c_name.clone(),
                            expected: format!(
                                "exactly {len} elements (to set some, write {}[i]=value)",
                                if path.is_empty() { "" } else { path }
                            ),
                            got: kind_of(v),
                        });
                    }
                    for (i, item) in items.iter().enumerate() {
                        let p = format!("{path}[{i}]");
                        write(w, elem, &elem_form, item, off + i * elem.size, &p)?;
                    }
                    Ok(())
                }
                _ => Err(wrong(node, path, expected(node, form), v)),
            }
        }
        Kind::Record(record) => match v {
            Value::Object(map) => write_record(w, node, record, map, off, path),
            _ => Err(wrong(node, path, expected(node, form), v)),
        },
        Kind::Managed(_) => match v {
            Value::Object(m) if m.is_empty() => Ok(()),
            _ => Err(TypeError::KernelManaged {
                path: path.to_string(),
                c_name: node.c_name.clone(),
            }),
        },
    }
}

fn write_record(
    w: &mut Writer,
    node: &Node,
    record: &Record,
    map: &serde_json::Map<String, Value>,
    off: usize,
    path: &str,
) -> Result<(), TypeError> {
    for key in map.keys() {
        match record.find(key) {
            Some(chain) => {
                let m = chain[chain.len() - 1];
                if m.node.is_managed() {
                    return Err(TypeError::KernelManaged {
                        path: join(path, key),
                        c_name: m.node.c_name.clone(),
                    });
                }
            }
            None => {
                return Err(TypeError::UnknownField {
                    path: path.to_string(),
                    name: key.clone(),
                    c_name: node.c_name.clone(),
                    available: record.names_list(),
                });
            }
        }
    }
    write_members(w, record, map, off, path)
}

fn write_members(
    w: &mut Writer,
    record: &Record,
    map: &serde_json::Map<String, Value>,
    off: usize,
    path: &str,
) -> Result<(), TypeError> {
    for m in &record.members {
        let start = off + (m.bit_offset / 8) as usize;
        if m.is_flattened() {
            if let Some(r) = m.node.record() {
                write_members(w, r, map, start, path)?;
            }
            continue;
        }
        let Some(v) = map.get(&m.name) else { continue };
        let p = join(path, &m.name);
        match m.bit_size {
            Some(bits) => {
                let raw = integer(&m.node, v, bits, &p)?;
                let abs = (off as u64 * 8).saturating_add(m.bit_offset);
                w.put_bits(abs, bits, raw as u64, &p)?;
            }
            None => write(w, &m.node, &m.form, v, start, &p)?,
        }
    }
    Ok(())
}

/// A parsed integer literal.
pub(crate) struct Literal {
    pub negative: bool,
    pub magnitude: u128,
    /// Written in hex, octal or binary: a bit pattern rather than a signed quantity.
    pub pattern: bool,
    /// Too large even for 128 bits (`magnitude` is then meaningless).
    pub overflow: bool,
}

/// Reads `42`, `-42`, `0x2a`, `0o52`, `0b101010`.
pub(crate) fn literal(text: &str) -> Option<Literal> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &t[2..]),
        Some("0o") => (8, &t[2..]),
        Some("0b") => (2, &t[2..]),
        _ => (10, t),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let parsed = u128::from_str_radix(digits, radix).ok();
    Some(Literal {
        negative,
        magnitude: parsed.unwrap_or(u128::MAX),
        pattern: radix != 10,
        overflow: parsed.is_none(),
    })
}

/// Fits a literal into `bits` bits: the bit pattern, or the allowed range as text.
pub(crate) fn fit(lit: &Literal, bits: u32, signed: bool) -> Result<u128, (String, String)> {
    let bits = bits.clamp(1, 128);
    let max_u = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let max_pos = max_u >> 1;
    let range = || {
        if signed {
            (format!("-{}", max_pos + 1), max_pos.to_string())
        } else {
            ("0".to_string(), max_u.to_string())
        }
    };
    if lit.overflow {
        return Err(range());
    }
    if lit.negative && lit.magnitude != 0 {
        if !signed || lit.magnitude > max_pos + 1 {
            return Err(range());
        }
        return Ok(0u128.wrapping_sub(lit.magnitude) & max_u);
    }
    let limit = if signed && !lit.pattern {
        max_pos
    } else {
        max_u
    };
    if lit.magnitude > limit {
        return Err(range());
    }
    Ok(lit.magnitude)
}

/// The bit pattern (`bits` wide) of an integer-like node's value.
pub(crate) fn integer(node: &Node, v: &Value, bits: u32, path: &str) -> Result<u128, TypeError> {
    let (signed, is_bool) = match &node.kind {
        Kind::Int(i) => (i.signed, i.is_bool),
        Kind::Enum(e) => (e.signed, false),
        Kind::Ptr => (false, false),
        _ => return Err(wrong(node, path, expected(node, &Form::Plain), v)),
    };
    let bad = |text: &str| TypeError::BadValue {
        path: path.to_string(),
        c_name: node.c_name.clone(),
        text: text.to_string(),
        expected: expected(node, &Form::Plain),
    };
    let lit = match v {
        Value::Bool(b) if is_bool => {
            return Ok(u128::from(*b));
        }
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Literal {
                    negative: false,
                    magnitude: u128::from(u),
                    pattern: false,
                    overflow: false,
                }
            } else if let Some(i) = n.as_i64() {
                Literal {
                    negative: i < 0,
                    magnitude: u128::from(i.unsigned_abs()),
                    pattern: false,
                    overflow: false,
                }
            } else {
                return Err(TypeError::BadValue {
                    path: path.to_string(),
                    c_name: node.c_name.clone(),
                    text: n.to_string(),
                    expected: "an integer (write large ones as a 0x hex string)".to_string(),
                });
            }
        }
        Value::String(s) => {
            let t = s.trim();
            if let Kind::Enum(e) = &node.kind
                && let Some((_, val)) = e.values.iter().find(|(name, _)| name == t)
            {
                return Ok(u128::from(*val) & u128::from(width_mask(bits)));
            }
            if is_bool {
                match t.to_ascii_lowercase().as_str() {
                    "true" => return Ok(1),
                    "false" => return Ok(0),
                    _ => {}
                }
            }
            literal(t).ok_or_else(|| bad(t))?
        }
        _ => return Err(wrong(node, path, expected(node, &Form::Plain), v)),
    };
    fit(&lit, bits, signed).map_err(|(min, max)| TypeError::OutOfRange {
        path: path.to_string(),
        c_name: node.c_name.clone(),
        value: match v {
            Value::String(s) => s.trim().to_string(),
            other => other.to_string(),
        },
        min,
        max,
    })
}

/// The bytes of a float node's value.
fn float(node: &Node, v: &Value, path: &str) -> Result<Vec<u8>, TypeError> {
    let bad = |text: String| TypeError::BadValue {
        path: path.to_string(),
        c_name: node.c_name.clone(),
        text,
        expected: "a number (or nan, inf, -inf, or the raw bits as 0x hex)".to_string(),
    };
    let f = match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| bad(n.to_string()))?,
        Value::String(s) => {
            let t = s.trim();
            let lower = t.to_ascii_lowercase();
            if lower.starts_with("0x") {
                let lit = literal(t).ok_or_else(|| bad(t.to_string()))?;
                let raw = fit(&lit, node.size as u32 * 8, false).map_err(|(min, max)| {
                    TypeError::OutOfRange {
                        path: path.to_string(),
                        c_name: node.c_name.clone(),
                        value: t.to_string(),
                        min,
                        max,
                    }
                })?;
                return Ok(store(raw, node.size, false));
            }
            match lower.as_str() {
                "nan" => f64::NAN,
                "inf" | "+inf" | "infinity" => f64::INFINITY,
                "-inf" | "-infinity" => f64::NEG_INFINITY,
                _ => t
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| bad(t.to_string()))?,
            }
        }
        _ => return Err(wrong(node, path, "a number", v)),
    };
    match node.size {
        4 => {
            let narrow = f as f32;
            if f.is_finite() && narrow.is_infinite() {
                return Err(TypeError::OutOfRange {
                    path: path.to_string(),
                    c_name: node.c_name.clone(),
                    value: f.to_string(),
                    min: f32::MIN.to_string(),
                    max: f32::MAX.to_string(),
                });
            }
            Ok(store(u128::from(narrow.to_bits()), 4, false))
        }
        8 => Ok(store(u128::from(f.to_bits()), 8, false)),
        n => Err(TypeError::BadValue {
            path: path.to_string(),
            c_name: node.c_name.clone(),
            text: f.to_string(),
            expected: format!("the raw bits of this {n}-byte float as 0x hex"),
        }),
    }
}

/// Reads the raw integer (as memory holds it, zero-extended) back from bytes, for
/// [`super::Field`].
pub(crate) fn raw_of(bytes: &[u8]) -> u64 {
    load(bytes, false) as u64
}
