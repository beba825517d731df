//! The BTF type tree: resolving BTF types into sizes, member offsets, bitfields and readable forms.
//!
//! The tree is built once per [`super::TypeRef`]; decoding and encoding only walk it. Every
//! number taken from the BTF is checked here (members inside their struct, array sizes without
//! overflow, no type containing itself), so the walkers can index without further checks.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use btf_rs::{Btf, Type};

use super::error::TypeError;
use super::readable::{self, Form};

/// Largest type laid out: the kernel caps map values at `KMALLOC_MAX_SIZE` (4 MiB with 4 KiB
/// pages), and this bounds what `encode` allocates.
pub(crate) const MAX_SIZE: usize = 64 << 20;
/// Largest number of values one decode may produce.
const MAX_WEIGHT: u64 = 1 << 24;
/// Deepest nesting of structs and arrays.
const MAX_DEPTH: usize = 64;
/// Longest chain of typedefs and qualifiers.
const MAX_HOPS: usize = 64;

/// Structs the kernel manages inside map values; they are never decoded or written.
const MANAGED: &[&str] = &[
    "bpf_spin_lock",
    "bpf_res_spin_lock",
    "bpf_timer",
    "bpf_wq",
    "bpf_task_work",
    "bpf_list_head",
    "bpf_list_node",
    "bpf_rb_root",
    "bpf_rb_node",
    "bpf_refcount",
];

/// BTF's integer encoding bits that `btf-rs` does not expose: (bit offset, bit count).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntBits {
    pub offset: u32,
    pub bits: u32,
}

/// The parsed BTF and what this module adds to it.
pub(crate) struct Inner {
    pub btf: Btf,
    /// Integer encodings by type id.
    pub ints: HashMap<u32, IntBits>,
    /// The highest type id.
    pub last: u32,
}

/// One laid-out type.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Size in bytes.
    pub size: usize,
    /// The name as C would write it (`struct fdb_entry`, `__be32`, `__u8[6]`).
    pub c_name: String,
    pub kind: Kind,
    /// A readable form the type implies whatever its member name (`struct in_addr`).
    pub intrinsic: Form,
    /// How many values decoding produces, roughly; bounds the work.
    pub weight: u64,
}

/// What a node is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Int(IntInfo),
    Float,
    Ptr,
    Enum(EnumInfo),
    Array {
        elem: Arc<Node>,
        len: usize,
    },
    Record(Record),
    /// A kernel-managed struct such as `bpf_spin_lock` (its bare name).
    Managed(String),
}

/// An integer's encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntInfo {
    pub signed: bool,
    pub is_bool: bool,
    /// C `char` (arrays of it may hold text).
    pub is_char: bool,
    /// Declared through `__be16`, `__be32` or `__be64`: stored in network byte order.
    pub big_endian: bool,
}

/// An enum's values.
#[derive(Debug, Clone)]
pub(crate) struct EnumInfo {
    pub signed: bool,
    /// Enumerators with their values as bit patterns of the enum's width.
    pub values: Vec<(String, u64)>,
}

/// A struct, union or data section.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub union: bool,
    pub members: Vec<Member>,
}

/// One member of a record.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// Empty for anonymous structs and unions, whose members are flattened into the parent.
    pub name: String,
    /// Offset in bits from the start of the record.
    pub bit_offset: u64,
    /// `Some(bits)` for bitfields.
    pub bit_size: Option<u32>,
    pub node: Arc<Node>,
    /// The readable form chosen from the member's name and type.
    pub form: Form,
}

impl Node {
    /// The record, if this is a struct or union.
    pub fn record(&self) -> Option<&Record> {
        match &self.kind {
            Kind::Record(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the kernel manages this (a managed struct, or an array of them).
    pub fn is_managed(&self) -> bool {
        match &self.kind {
            Kind::Managed(_) => true,
            Kind::Array { elem, .. } => elem.is_managed(),
            _ => false,
        }
    }

    /// Integer-like nodes: what bitfields and integer fields may be.
    pub fn is_integer_like(&self) -> bool {
        matches!(self.kind, Kind::Int(_) | Kind::Enum(_))
    }
}

impl Member {
    /// Anonymous struct or union members, whose fields belong to the parent.
    pub fn is_flattened(&self) -> bool {
        self.name.is_empty()
    }
}

impl Record {
    /// Names usable on this record, with anonymous members' names flattened in, in order.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names(&self, out: &mut Vec<String>) {
        for m in &self.members {
            if m.is_flattened() {
                if let Some(r) = m.node.record() {
                    r.collect_names(out);
                }
            } else if !m.node.is_managed() {
                out.push(m.name.clone());
            }
        }
    }

    /// Finds a member by name, looking into anonymous members. Returns the chain of members
    /// from this record down to the named one.
    pub fn find(&self, name: &str) -> Option<Vec<&Member>> {
        for m in &self.members {
            if m.is_flattened() {
                if let Some(mut chain) = m.node.record().and_then(|r| r.find(name)) {
                    chain.insert(0, m);
                    return Some(chain);
                }
            } else if m.name == name {
                return Some(vec![m]);
            }
        }
        None
    }

    /// The flattened names as one comma-separated list for messages.
    pub fn names_list(&self) -> String {
        let names = self.names();
        if names.is_empty() {
            "(none)".to_string()
        } else {
            names.join(", ")
        }
    }
}

fn malformed(reason: impl Into<String>) -> TypeError {
    TypeError::MalformedBtf {
        reason: reason.into(),
    }
}

/// Checks the header and walks the type section, collecting integer encodings.
///
/// `btf-rs` parses the rest; this walk exists because it does not expose an integer's bit
/// offset and width, which old-style bitfields need, and to give clear errors first.
pub(crate) fn scan(raw: &[u8]) -> Result<(HashMap<u32, IntBits>, u32), TypeError> {
    if raw.len() < 24 {
        return Err(malformed(format!(
            "it is {} bytes long, shorter than the 24-byte BTF header",
            raw.len()
        )));
    }
    let little = match [raw[0], raw[1]] {
        [0x9f, 0xeb] => true,
        [0xeb, 0x9f] => false,
        [a, b] => {
            return Err(malformed(format!(
                "it starts with {a:02x} {b:02x}, not the BTF magic 0xeb9f"
            )));
        }
    };
    let u32_at = |off: usize| -> Option<u32> {
        let b: [u8; 4] = raw.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    if raw[2] != 1 {
        return Err(malformed(format!(
            "BTF version {} is not supported (only version 1 exists)",
            raw[2]
        )));
    }
    if raw[3] != 0 {
        return Err(malformed(format!("unknown header flags {:#x}", raw[3])));
    }
    let field = |off| u32_at(off).map(u64::from).unwrap_or(0);
    let (hdr_len, type_off, type_len, str_off, str_len) =
        (field(4), field(8), field(12), field(16), field(20));
    let len = raw.len() as u64;
    if hdr_len < 24 || hdr_len > len {
        return Err(malformed(format!(
            "header length {hdr_len} is not between 24 and the data's {len} bytes"
        )));
    }
    let types_start = hdr_len + type_off;
    let types_end = types_start + type_len;
    let strs_start = hdr_len + str_off;
    let strs_end = strs_start + str_len;
    if types_end > len {
        return Err(malformed(format!(
            "the type section (bytes {types_start}..{types_end}) runs past the end ({len} bytes)"
        )));
    }
    if strs_end > len {
        return Err(malformed(format!(
            "the string section (bytes {strs_start}..{strs_end}) runs past the end ({len} bytes)"
        )));
    }
    if str_len == 0 || raw.get(strs_start as usize) != Some(&0) {
        return Err(malformed(
            "the string section must start with an empty string (a NUL byte)",
        ));
    }
    if type_len % 4 != 0 {
        return Err(malformed(format!(
            "the type section's length {type_len} is not a multiple of 4"
        )));
    }

    let mut ints = HashMap::new();
    let mut pos = types_start as usize;
    let end = types_end as usize;
    let mut id: u32 = 0;
    while pos < end {
        id = id
            .checked_add(1)
            .ok_or_else(|| malformed("too many types"))?;
        let info =
            u32_at(pos + 4).ok_or_else(|| malformed(format!("type {id} is cut off at the end")))?;
        let kind = (info >> 24) & 0x1f;
        let vlen = (info & 0xffff) as usize;
        let extra = match kind {
            1 | 14 | 17 => 4,
            2 | 7..=12 | 16 | 18 => 0,
            3 => 12,
            4 | 5 | 15 | 19 => vlen * 12,
            6 | 13 => vlen * 8,
            other => {
                return Err(malformed(format!(
                    "type {id} has unknown kind {other}; this BTF is newer than xdpdbg \
                     understands"
                )));
            }
        };
        if kind == 1 {
            let data = u32_at(pos + 12)
                .ok_or_else(|| malformed(format!("integer type {id} is cut off at the end")))?;
            ints.insert(
                id,
                IntBits {
                    offset: (data >> 16) & 0xff,
                    bits: data & 0xff,
                },
            );
        }
        pos = pos
            .checked_add(12 + extra)
            .ok_or_else(|| malformed("type section overflows"))?;
    }
    if pos != end {
        return Err(malformed(format!(
            "type {id} runs past the end of the type section"
        )));
    }
    Ok((ints, id))
}

/// Builds layout nodes from BTF ids, sharing nodes by id.
pub(crate) struct Builder<'a> {
    inner: &'a Inner,
    memo: HashMap<u32, Arc<Node>>,
    active: HashSet<u32>,
}

/// What following typedefs and qualifiers found.
struct Chain {
    /// The concrete type's id and type.
    id: u32,
    ty: Type,
    /// The first typedef's name, if any.
    name: Option<String>,
    /// A `__be16`, `__be32` or `__be64` typedef was on the way.
    big_endian: bool,
}

fn kind_name(ty: &Type) -> &'static str {
    ty.name()
}

impl<'a> Builder<'a> {
    pub fn new(inner: &'a Inner) -> Self {
        Builder {
            inner,
            memo: HashMap::new(),
            active: HashSet::new(),
        }
    }

    fn resolve(&self, id: u32) -> Result<Type, TypeError> {
        if id > self.inner.last {
            return Err(TypeError::UnknownTypeId {
                id,
                last: self.inner.last,
            });
        }
        self.inner
            .btf
            .resolve_type_by_id(id)
            .map_err(|e| malformed(format!("type {id}: {e}")))
    }

    fn name_of(&self, ty: &dyn btf_rs::BtfType) -> Result<String, TypeError> {
        self.inner
            .btf
            .resolve_name(ty)
            .map_err(|e| malformed(format!("a type's name: {e}")))
    }

    /// Follows typedefs, const, volatile, restrict and type tags.
    fn follow(&self, id: u32) -> Result<Chain, TypeError> {
        let mut id = id;
        let mut name = None;
        let mut big_endian = false;
        for _ in 0..MAX_HOPS {
            let ty = self.resolve(id)?;
            let next = match &ty {
                Type::Typedef(t) => {
                    let n = self.name_of(t)?;
                    big_endian |= matches!(n.as_str(), "__be16" | "__be32" | "__be64");
                    name.get_or_insert(n);
                    t.get_type_id_or(id)
                }
                Type::Const(t) | Type::Volatile(t) | Type::Restrict(t) => t.get_type_id_or(id),
                Type::TypeTag(t) => btf_rs::BtfType::get_type_id(t).unwrap_or(id),
                Type::Var(v) => btf_rs::BtfType::get_type_id(v).unwrap_or(id),
                _ => {
                    return Ok(Chain {
                        id,
                        ty,
                        name,
                        big_endian,
                    });
                }
            };
            if next == id {
                break;
            }
            id = next;
        }
        Err(malformed(format!(
            "type {id} is part of a typedef or qualifier chain longer than {MAX_HOPS} or a loop"
        )))
    }

    /// The C name of a type, without laying it out (used for pointer targets).
    pub fn c_name_of(&self, id: u32, depth: usize) -> String {
        if depth > 8 {
            return "...".to_string();
        }
        let Ok(ty) = self.resolve(id) else {
            return format!("<type {id}>");
        };
        let named = |prefix: &str, t: &dyn btf_rs::BtfType| match self.name_of(t) {
            Ok(n) if !n.is_empty() => format!("{prefix}{n}"),
            _ => format!("{prefix}<anonymous>"),
        };
        match &ty {
            Type::Void => "void".to_string(),
            Type::Int(t) => named("", t),
            Type::Float(t) => named("", t),
            Type::Typedef(t) => named("", t),
            Type::Struct(t) => named("struct ", t),
            Type::Union(t) => named("union ", t),
            Type::Enum(t) => named("enum ", t),
            Type::Enum64(t) => named("enum ", t),
            Type::Fwd(t) => named(if t.is_union() { "union " } else { "struct " }, t),
            Type::Datasec(t) => named("datasec ", t),
            Type::Ptr(t) => format!("{} *", self.c_name_of(t.get_type_id_or(0), depth + 1)),
            Type::Array(a) => {
                let elem = self.c_name_of(btf_rs::BtfType::get_type_id(a).unwrap_or(0), depth + 1);
                array_name(&elem, a.len())
            }
            Type::Const(t) | Type::Volatile(t) | Type::Restrict(t) => {
                self.c_name_of(t.get_type_id_or(0), depth + 1)
            }
            Type::TypeTag(t) => {
                self.c_name_of(btf_rs::BtfType::get_type_id(t).unwrap_or(0), depth + 1)
            }
            Type::Var(t) => self.c_name_of(btf_rs::BtfType::get_type_id(t).unwrap_or(0), depth + 1),
            Type::FuncProto(_) | Type::Func(_) => "function".to_string(),
            other => kind_name(other).to_string(),
        }
    }

    /// Lays out type `id`.
    pub fn node(&mut self, id: u32, depth: usize) -> Result<Arc<Node>, TypeError> {
        if let Some(n) = self.memo.get(&id) {
            return Ok(n.clone());
        }
        if depth > MAX_DEPTH {
            return Err(TypeError::Unsupported {
                what: format!("type id {id}"),
                reason: format!("it nests more than {MAX_DEPTH} levels deep"),
            });
        }
        if !self.active.insert(id) {
            return Err(malformed(format!(
                "type {id} contains itself, which no C type can"
            )));
        }
        let built = self.build(id, depth);
        self.active.remove(&id);
        let node = Arc::new(built?);
        if node.size > MAX_SIZE {
            return Err(TypeError::Unsupported {
                what: format!("{} (type id {id})", node.c_name),
                reason: format!(
                    "it is {} bytes, larger than the {MAX_SIZE} bytes any map key or value can be",
                    node.size
                ),
            });
        }
        if node.weight > MAX_WEIGHT {
            return Err(TypeError::Unsupported {
                what: format!("{} (type id {id})", node.c_name),
                reason: format!(
                    "it holds more than {MAX_WEIGHT} values; read it as raw hex bytes instead"
                ),
            });
        }
        self.memo.insert(id, node.clone());
        Ok(node)
    }

    fn build(&mut self, id: u32, depth: usize) -> Result<Node, TypeError> {
        let chain = self.follow(id)?;
        let unsupported = |reason: &str| TypeError::Unsupported {
            what: format!("type id {id} ({})", kind_name(&chain.ty)),
            reason: reason.to_string(),
        };
        let mut node = match &chain.ty {
            Type::Void => {
                return Err(unsupported(
                    "it is void, which has no bytes; the map may have no BTF type for this part",
                ));
            }
            Type::Int(t) => {
                let size = t.size();
                if size == 0 || size > 16 {
                    return Err(malformed(format!(
                        "integer type {} is {size} bytes; integers are 1 to 16 bytes",
                        chain.id
                    )));
                }
                let name = self.name_of(t)?;
                Node {
                    size,
                    c_name: name.clone(),
                    kind: Kind::Int(IntInfo {
                        signed: t.is_signed(),
                        is_bool: t.is_bool(),
                        is_char: t.is_char() || name == "char",
                        big_endian: false,
                    }),
                    intrinsic: Form::Plain,
                    weight: 1,
                }
            }
            Type::Float(t) => {
                let size = t.size();
                if size == 0 || size > 16 {
                    return Err(malformed(format!(
                        "float type {} is {size} bytes; floats are 2 to 16 bytes",
                        chain.id
                    )));
                }
                Node {
                    size,
                    c_name: self.name_of(t)?,
                    kind: Kind::Float,
                    intrinsic: Form::Plain,
                    weight: 1,
                }
            }
            Type::Ptr(_) => Node {
                size: 8,
                c_name: self.c_name_of(chain.id, 0),
                kind: Kind::Ptr,
                intrinsic: Form::Plain,
                weight: 1,
            },
            Type::Enum(e) => {
                let size = e.size();
                let values = e
                    .members
                    .iter()
                    .map(|m| {
                        // 32-bit values; a signed enum's negative ones extend to its width.
                        let v = if e.is_signed() {
                            m.val() as i32 as i64 as u64
                        } else {
                            u64::from(m.val())
                        };
                        Ok((self.name_of(m)?, v))
                    })
                    .collect::<Result<Vec<_>, TypeError>>()?;
                self.enum_node(
                    chain.id,
                    size,
                    e.is_signed(),
                    self.c_name_of(chain.id, 0),
                    values,
                )?
            }
            Type::Enum64(e) => {
                let size = e.size();
                let values = e
                    .members
                    .iter()
                    .map(|m| Ok((self.name_of(m)?, m.val())))
                    .collect::<Result<Vec<_>, TypeError>>()?;
                self.enum_node(
                    chain.id,
                    size,
                    e.is_signed(),
                    self.c_name_of(chain.id, 0),
                    values,
                )?
            }
            Type::Array(a) => {
                let elem_id = btf_rs::BtfType::get_type_id(a).unwrap_or(0);
                let elem = self.node(elem_id, depth + 1)?;
                let len = a.len();
                let size = elem.size.checked_mul(len).ok_or_else(|| {
                    malformed(format!("array type {} has an overflowing size", chain.id))
                })?;
                let weight = elem
                    .weight
                    .max(1)
                    .saturating_mul(len as u64)
                    .saturating_add(1);
                Node {
                    size,
                    c_name: array_name(&elem.c_name, len),
                    kind: Kind::Array { elem, len },
                    intrinsic: Form::Plain,
                    weight,
                }
            }
            Type::Struct(s) | Type::Union(s) => {
                let union = matches!(chain.ty, Type::Union(_));
                let bare = self.name_of(s)?;
                let c_name = self.c_name_of(chain.id, 0);
                if !union && MANAGED.contains(&bare.as_str()) {
                    Node {
                        size: s.size(),
                        c_name,
                        kind: Kind::Managed(bare),
                        intrinsic: Form::Plain,
                        weight: 1,
                    }
                } else {
                    let mut raw = Vec::with_capacity(s.members.len());
                    for m in &s.members {
                        let name = self.name_of(m)?;
                        let type_id = btf_rs::BtfType::get_type_id(m).unwrap_or(0);
                        raw.push((name, type_id, u64::from(m.bit_offset()), m.bitfield_size()));
                    }
                    let record = self.record(union, s.size(), &c_name, raw, depth)?;
                    let intrinsic = readable::intrinsic_form(&bare, union, s.size());
                    self.record_node(s.size(), c_name, record, intrinsic)
                }
            }
            Type::Datasec(d) => {
                let c_name = self.c_name_of(chain.id, 0);
                let mut raw = Vec::with_capacity(d.variables.len());
                for v in &d.variables {
                    let var_id = btf_rs::BtfType::get_type_id(v).unwrap_or(0);
                    let var = self.resolve(var_id)?;
                    let Type::Var(var) = var else {
                        return Err(malformed(format!(
                            "{c_name} lists type {var_id}, which is not a variable"
                        )));
                    };
                    let name = self.name_of(&var)?;
                    let type_id = btf_rs::BtfType::get_type_id(&var).unwrap_or(0);
                    raw.push((name, type_id, u64::from(v.offset()) * 8, None));
                }
                let record = self.record(false, d.size(), &c_name, raw, depth)?;
                self.record_node(d.size(), c_name, record, Form::Plain)
            }
            Type::Fwd(_) => {
                return Err(TypeError::Unsupported {
                    what: self.c_name_of(chain.id, 0),
                    reason: "this BTF only declares it (a forward declaration) and holds no \
                             layout for it"
                        .to_string(),
                });
            }
            Type::Func(_) | Type::FuncProto(_) => {
                return Err(unsupported(
                    "functions have no bytes; pass the id of a map's key or value type",
                ));
            }
            _ => {
                return Err(unsupported(
                    "this kind of type has no bytes; pass the id of a map's key or value type",
                ));
            }
        };
        if let Some(name) = chain.name
            && node.c_name != name
        {
            node.c_name = name;
        }
        if chain.big_endian
            && let Kind::Int(info) = &mut node.kind
        {
            info.big_endian = true;
        }
        Ok(node)
    }

    fn enum_node(
        &self,
        id: u32,
        size: usize,
        signed: bool,
        c_name: String,
        values: Vec<(String, u64)>,
    ) -> Result<Node, TypeError> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(malformed(format!(
                "enum type {id} is {size} bytes; enums are 1, 2, 4 or 8 bytes"
            )));
        }
        let mask = width_mask(size as u32 * 8);
        let values = values.into_iter().map(|(n, v)| (n, v & mask)).collect();
        Ok(Node {
            size,
            c_name,
            kind: Kind::Enum(EnumInfo { signed, values }),
            intrinsic: Form::Plain,
            weight: 1,
        })
    }

    fn record_node(&self, size: usize, c_name: String, record: Record, intrinsic: Form) -> Node {
        let weight = record
            .members
            .iter()
            .fold(1u64, |w, m| w.saturating_add(m.node.weight));
        Node {
            size,
            c_name,
            kind: Kind::Record(record),
            intrinsic,
            weight,
        }
    }

    /// Lays out members given as (name, type id, bit offset, bitfield size).
    fn record(
        &mut self,
        union: bool,
        size: usize,
        c_name: &str,
        raw: Vec<(String, u32, u64, Option<u32>)>,
        depth: usize,
    ) -> Result<Record, TypeError> {
        let mut members = Vec::with_capacity(raw.len());
        let total_bits = (size as u64).saturating_mul(8);
        for (name, type_id, mut bit_offset, bitfield) in raw {
            let node = self.node(type_id, depth + 1)?;
            let shown = if name.is_empty() {
                "(anonymous)"
            } else {
                &name
            };
            let mut bit_size = bitfield.filter(|&b| b > 0);
            // Old-style bitfields: the member's integer type carries the width and offset.
            if bit_size.is_none()
                && let Ok(chain) = self.follow(type_id)
                && let Some(bits) = self.inner.ints.get(&chain.id)
            {
                let full = node.size as u64 * 8;
                if u64::from(bits.bits) < full || bits.offset != 0 {
                    bit_offset = bit_offset.saturating_add(u64::from(bits.offset));
                    bit_size = Some(bits.bits);
                }
            }
            if bit_size.is_none() && bit_offset % 8 != 0 {
                if node.is_integer_like() && node.size <= 8 {
                    bit_size = Some(node.size as u32 * 8);
                } else {
                    return Err(malformed(format!(
                        "member `{shown}` of {c_name} starts at bit {bit_offset}, which is not \
                         on a byte boundary"
                    )));
                }
            }
            if let Some(bits) = bit_size {
                if !node.is_integer_like() {
                    return Err(malformed(format!(
                        "member `{shown}` of {c_name} is a bitfield of {}, which is not an \
                         integer",
                        node.c_name
                    )));
                }
                if bits == 0 || bits > 64 || u64::from(bits) > node.size as u64 * 8 {
                    return Err(malformed(format!(
                        "bitfield `{shown}` of {c_name} is {bits} bits wide, which does not fit \
                         its type {}",
                        node.c_name
                    )));
                }
            }
            let width = match bit_size {
                Some(b) => u64::from(b),
                None => node.size as u64 * 8,
            };
            if bit_offset.saturating_add(width) > total_bits {
                return Err(malformed(format!(
                    "member `{shown}` of {c_name} (bits {bit_offset} to {}) extends past the \
                     end of its {size} bytes",
                    bit_offset.saturating_add(width)
                )));
            }
            if name.is_empty() && node.record().is_none() {
                // Unnamed padding bitfields (`int :3;`) carry no data.
                continue;
            }
            let form = if bit_size.is_some() {
                Form::Plain
            } else {
                readable::form_for(&node, Some(&name))
            };
            members.push(Member {
                name,
                bit_offset,
                bit_size,
                node,
                form,
            });
        }
        Ok(Record { union, members })
    }
}

/// `elem[len]`, with the new dimension before any the element already has.
fn array_name(elem: &str, len: usize) -> String {
    match elem.find('[') {
        Some(i) => format!("{}[{len}]{}", &elem[..i], &elem[i..]),
        None => format!("{elem}[{len}]"),
    }
}

/// All ones in the low `bits` bits.
pub(crate) fn width_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Small helper: the target id of pointer-like types, or a fallback.
trait TargetId {
    fn get_type_id_or(&self, fallback: u32) -> u32;
}

impl<T: btf_rs::BtfType> TargetId for T {
    fn get_type_id_or(&self, fallback: u32) -> u32 {
        self.get_type_id().unwrap_or(fallback)
    }
}
