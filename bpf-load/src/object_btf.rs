//! The object's own BTF (`.BTF`), read type by type and rewritten the way libbpf rewrites it
//! before the kernel sees it: the `.ksyms` and `.kconfig` sections of extern declarations
//! emptied and the externs made static (the kernel accepts neither), new strings appended.

use std::collections::HashMap;

use super::elf_copy::{Error, u32_of};

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_ENUM: u32 = 6;
const KIND_FUNC: u32 = 12;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_ENUM64: u32 = 19;
/// `BTF_INT_BOOL` in an INT's encoding.
const INT_BOOL: u32 = 4;

/// One type: where it lies in the type section and its common fields.
#[derive(Debug, Clone, Copy)]
struct Type {
    offset: usize,
    kind: u32,
    name_off: u32,
    vlen: u32,
    size_or_type: u32,
    /// Bytes after the 12-byte common part.
    extra: usize,
}

/// How a `.kconfig` value is stored, from its BTF type (libbpf's `kcfg_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KconfigType {
    /// `bool`: y is 1, n is 0.
    Bool,
    /// `enum libbpf_tristate`: y is 1, m is 2, n is 0.
    Tristate,
    /// A `char`: the letter itself.
    Char,
    /// An integer of the type's size.
    Int,
    /// A `char[N]`: a string.
    CharArray,
}

/// An extern the object declares in `.ksyms` or `.kconfig`.
#[derive(Debug, Clone)]
pub(crate) struct Extern {
    /// Its name (a kernel function, a kernel variable or `CONFIG_...`).
    pub name: String,
    /// Whether it is declared in `.kconfig` (otherwise `.ksyms`).
    pub kconfig: bool,
    /// Whether it is a function (a kfunc).
    pub is_func: bool,
    /// A `.kconfig` value's size in bytes.
    pub size: u32,
    /// A `.kconfig` value's kind.
    pub kconfig_type: Option<KconfigType>,
}

/// The object's BTF, parsed enough to rewrite it.
pub(crate) struct ObjectBtf {
    data: Vec<u8>,
    little: bool,
    hdr_len: usize,
    types_start: usize,
    strings_start: usize,
    str_len: usize,
    /// Index = type id - 1.
    types: Vec<Type>,
}

impl ObjectBtf {
    /// Parses `.BTF`'s header and walks its types.
    pub fn parse(data: &[u8], little: bool) -> Result<Self, Error> {
        let field = |at: usize| -> Result<usize, Error> {
            data.get(at..at + 4)
                .map(|b| u32_of(little, b) as usize)
                .ok_or_else(|| "truncated BTF".to_string())
        };
        let hdr_len = field(4)?;
        let (type_off, type_len) = (field(8)?, field(12)?);
        let (str_off, str_len) = (field(16)?, field(20)?);
        let types_start = hdr_len + type_off;
        let strings_start = hdr_len + str_off;
        if strings_start + str_len != data.len() || types_start + type_len > strings_start {
            return Err("the BTF's strings are not at the end of .BTF, after its types".into());
        }
        let mut types = Vec::new();
        let mut at = types_start;
        while at + 12 <= types_start + type_len {
            let info = field(at + 4)? as u32;
            let (kind, vlen) = ((info >> 24) & 0x1f, info & 0xffff);
            let extra = match kind {
                KIND_INT | KIND_VAR | 17 => 4,
                KIND_ARRAY => 12,
                4 | 5 | KIND_DATASEC | KIND_ENUM64 => 12 * vlen as usize,
                KIND_ENUM | 13 => 8 * vlen as usize,
                _ => 0,
            };
            types.push(Type {
                offset: at,
                kind,
                name_off: field(at)? as u32,
                vlen,
                size_or_type: field(at + 8)? as u32,
                extra,
            });
            at += 12 + extra;
        }
        Ok(Self {
            data: data.to_vec(),
            little,
            hdr_len,
            types_start,
            strings_start,
            str_len,
            types,
        })
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32_of(self.little, &self.data[at..at + 4])
    }

    fn ty(&self, id: u32) -> Option<&Type> {
        self.types.get((id as usize).checked_sub(1)?)
    }

    /// The string at `off` in the string table.
    pub fn string_at(&self, off: usize) -> Option<String> {
        let s = self
            .data
            .get(self.strings_start + off..self.strings_start + self.str_len)?;
        let end = s.iter().position(|&b| b == 0)?;
        String::from_utf8(s[..end].to_vec()).ok()
    }

    /// The size of type `id`, following typedefs and qualifiers.
    fn size_of(&self, id: u32, depth: u32) -> Option<u32> {
        let t = self.ty(id)?;
        if depth > 32 {
            return None;
        }
        match t.kind {
            KIND_PTR => Some(8),
            KIND_ARRAY => {
                let elem = self.u32_at(t.offset + 12);
                let count = self.u32_at(t.offset + 20);
                Some(self.size_of(elem, depth + 1)? * count)
            }
            8..=11 | 18 | KIND_VAR => self.size_of(t.size_or_type, depth + 1),
            _ => Some(t.size_or_type),
        }
    }

    /// Type `id` with typedefs and qualifiers peeled off.
    fn resolved(&self, id: u32) -> Option<(u32, &Type)> {
        let mut id = id;
        for _ in 0..32 {
            let t = self.ty(id)?;
            match t.kind {
                8..=11 | 18 | KIND_VAR => id = t.size_or_type,
                _ => return Some((id, t)),
            }
        }
        None
    }

    /// How a `.kconfig` variable of type `id` is stored, as libbpf decides it.
    fn kconfig_type(&self, id: u32) -> Option<KconfigType> {
        let (_, t) = self.resolved(id)?;
        match t.kind {
            KIND_INT => {
                let encoding = (self.u32_at(t.offset + 12) >> 24) & 0x0f;
                Some(if encoding & INT_BOOL != 0 {
                    KconfigType::Bool
                } else if t.size_or_type == 1 && encoding & 2 != 0 {
                    KconfigType::Char
                } else {
                    KconfigType::Int
                })
            }
            KIND_ENUM | KIND_ENUM64 => {
                let name = self.string_at(t.name_off as usize)?;
                Some(if name == "libbpf_tristate" {
                    KconfigType::Tristate
                } else {
                    KconfigType::Int
                })
            }
            KIND_ARRAY => {
                let elem = self.u32_at(t.offset + 12);
                let (_, e) = self.resolved(elem)?;
                (e.kind == KIND_INT && e.size_or_type == 1).then_some(KconfigType::CharArray)
            }
            _ => None,
        }
    }

    /// The DATASECs of externs (`.ksyms`, `.kconfig`): their type ids and their members'.
    fn extern_sections(&self) -> Vec<(usize, bool, Vec<u32>)> {
        self.types
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind == KIND_DATASEC)
            .filter_map(|(i, t)| {
                let name = self.string_at(t.name_off as usize)?;
                let kconfig = match name.as_str() {
                    ".kconfig" => true,
                    ".ksyms" => false,
                    _ => return None,
                };
                let members = (0..t.vlen as usize)
                    .map(|m| self.u32_at(t.offset + 12 + 12 * m))
                    .collect();
                Some((i, kconfig, members))
            })
            .collect()
    }

    /// Every extern the object declares.
    pub fn externs(&self) -> Vec<Extern> {
        let mut out = Vec::new();
        for (_, kconfig, members) in self.extern_sections() {
            for id in members {
                let Some(t) = self.ty(id) else { continue };
                let Some(name) = self.string_at(t.name_off as usize) else {
                    continue;
                };
                out.push(Extern {
                    name,
                    kconfig,
                    is_func: t.kind == KIND_FUNC,
                    size: self.size_of(id, 0).unwrap_or(0),
                    kconfig_type: if kconfig { self.kconfig_type(id) } else { None },
                });
            }
        }
        out
    }

    /// The BTF the kernel and aya accept, with `strings` appended to the string table (their
    /// offsets returned): each extern DATASEC becomes a `void *` (so no type id moves) and
    /// loses its members, and the externs' linkage becomes static.
    pub fn rewritten(&self, strings: &[String]) -> (Vec<u8>, HashMap<String, u32>) {
        let mut types = self.data[self.types_start..self.strings_start].to_vec();
        let put = |buf: &mut [u8], at: usize, v: u32| {
            let b = if self.little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            buf[at..at + 4].copy_from_slice(&b);
        };
        let mut cut: Vec<(usize, usize)> = Vec::new();
        for (index, _, members) in self.extern_sections() {
            let t = self.types[index];
            let at = t.offset - self.types_start;
            put(&mut types, at, 0);
            put(&mut types, at + 4, KIND_PTR << 24);
            put(&mut types, at + 8, 0);
            cut.push((at + 12, t.extra));
            for id in members {
                let Some(m) = self.ty(id) else { continue };
                let at = m.offset - self.types_start;
                match m.kind {
                    // BTF_FUNC_EXTERN -> BTF_FUNC_STATIC (the linkage is the vlen).
                    KIND_FUNC => put(&mut types, at + 4, KIND_FUNC << 24),
                    // BTF_VAR_GLOBAL_EXTERN -> BTF_VAR_STATIC.
                    KIND_VAR => put(&mut types, at + 12, 0),
                    _ => {}
                }
            }
        }
        cut.sort_unstable();
        for (at, len) in cut.into_iter().rev() {
            types.drain(at..at + len);
        }
        let mut table = self.data[self.strings_start..].to_vec();
        let mut offsets = HashMap::new();
        for s in strings {
            offsets.insert(s.clone(), table.len() as u32);
            table.extend_from_slice(s.as_bytes());
            table.push(0);
        }
        let mut out = self.data[..self.hdr_len].to_vec();
        put(&mut out, 8, 0);
        put(&mut out, 12, types.len() as u32);
        put(&mut out, 16, types.len() as u32);
        put(&mut out, 20, table.len() as u32);
        out.extend_from_slice(&types);
        out.extend_from_slice(&table);
        (out, offsets)
    }
}
