//! The fallback line table: BTF line info from `.BTF.ext`, for objects without DWARF lines.
//!
//! `.BTF.ext` lists, per code section (named by a `.BTF` string), records of
//! `{insn_off (bytes), file_name_off, line_off, line_col}`: a row wherever the line changes,
//! with the file name and the source line's text as `.BTF` strings and `line_col` packing
//! `line << 10 | column`. This is the layout libbpf and the kernel read
//! (`struct btf_ext_header`, `struct bpf_line_info`); it is parsed here with bounds checks on
//! every field.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use object::{Object as _, ObjectSection as _};

use super::lines::normalize;
use super::{Code, DebugInfoError, InsnAddr};

/// `BTF_MAGIC`, as stored by a little-endian producer.
const MAGIC_LE: [u8; 2] = [0x9f, 0xeb];
/// `BTF_MAGIC`, as stored by a big-endian producer.
const MAGIC_BE: [u8; 2] = [0xeb, 0x9f];
/// The size of `struct bpf_line_info`, the smallest record this reads.
const MIN_RECORD: usize = 16;

/// One line-info record: the source position from `offset` on.
#[derive(Debug, Clone)]
pub(crate) struct BtfRow {
    /// Byte offset in the section.
    pub(crate) offset: u64,
    pub(crate) file: PathBuf,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// BTF line info per code section, and the source text it embeds.
#[derive(Debug, Default)]
pub(crate) struct BtfLines {
    sections: HashMap<usize, Vec<BtfRow>>,
    texts: HashMap<(PathBuf, u32), String>,
}

/// Bounds-checked reads in one byte order.
struct Bytes<'a> {
    data: &'a [u8],
    little: bool,
}

impl Bytes<'_> {
    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn usize_at(&self, at: usize) -> Option<usize> {
        usize::try_from(self.u32_at(at)?).ok()
    }
}

fn malformed(what: &str) -> DebugInfoError {
    DebugInfoError::Malformed(format!("BTF: {what}"))
}

impl BtfLines {
    /// Reads `.BTF.ext` line info, if the object has it.
    pub(crate) fn parse(file: &object::File<'_>, code: &Code) -> Result<BtfLines, DebugInfoError> {
        let mut lines = BtfLines::default();
        let Some(ext) = file.section_by_name(".BTF.ext") else {
            return Ok(lines);
        };
        let ext = ext.data().map_err(|e| malformed(&e.to_string()))?;
        let btf = match file.section_by_name(".BTF") {
            Some(btf) => btf.data().map_err(|e| malformed(&e.to_string()))?,
            None => return Err(malformed(".BTF.ext without .BTF")),
        };
        let strings = Strings::parse(btf)?;
        let ext = Bytes {
            little: byte_order(ext).ok_or_else(|| malformed("bad .BTF.ext magic"))?,
            data: ext,
        };
        let header_len = ext
            .usize_at(4)
            .ok_or_else(|| malformed("short .BTF.ext header"))?;
        // line_info_off and line_info_len follow hdr_len, func_info_off and func_info_len.
        if header_len < 24 {
            return Ok(lines);
        }
        let (Some(off), Some(len)) = (ext.usize_at(16), ext.usize_at(20)) else {
            return Err(malformed("short .BTF.ext header"));
        };
        if len == 0 {
            return Ok(lines);
        }
        let start = header_len
            .checked_add(off)
            .ok_or_else(|| malformed("line info offset overflows"))?;
        let end = start
            .checked_add(len)
            .filter(|end| *end <= ext.data.len())
            .ok_or_else(|| malformed("line info outside .BTF.ext"))?;
        let info = Bytes {
            data: ext.data.get(start..end).unwrap_or(&[]),
            little: ext.little,
        };
        lines.read_line_info(&info, &strings, code)?;
        for rows in lines.sections.values_mut() {
            rows.sort_by_key(|r| r.offset);
        }
        Ok(lines)
    }

    fn read_line_info(
        &mut self,
        info: &Bytes<'_>,
        strings: &Strings<'_>,
        code: &Code,
    ) -> Result<(), DebugInfoError> {
        let record = info
            .usize_at(0)
            .filter(|r| *r >= MIN_RECORD)
            .ok_or_else(|| malformed("bad line info record size"))?;
        let mut at = 4;
        while at < info.data.len() {
            let (Some(name), Some(count)) = (info.usize_at(at), info.usize_at(at + 4)) else {
                return Err(malformed("truncated line info section header"));
            };
            at += 8;
            let size = count
                .checked_mul(record)
                .filter(|size| {
                    at.checked_add(*size)
                        .is_some_and(|end| end <= info.data.len())
                })
                .ok_or_else(|| malformed("line info records run past their section"))?;
            let section_name = strings.get(name)?;
            let section = code
                .sections
                .iter()
                .find(|s| s.name == section_name)
                .map(|s| s.index);
            for i in 0..count {
                let r = at + i * record;
                let (Some(insn_off), Some(file), Some(line_off), Some(line_col)) = (
                    info.u32_at(r),
                    info.usize_at(r + 4),
                    info.usize_at(r + 8),
                    info.u32_at(r + 12),
                ) else {
                    return Err(malformed("truncated line info record"));
                };
                let Some(section) = section else { continue };
                let file = normalize(Path::new(strings.get(file)?.as_ref()));
                let line = line_col >> 10;
                let text = strings.get(line_off)?;
                if line != 0 && !text.is_empty() {
                    self.texts
                        .entry((file.clone(), line))
                        .or_insert_with(|| text.into_owned());
                }
                self.sections.entry(section).or_default().push(BtfRow {
                    offset: u64::from(insn_off),
                    file,
                    line,
                    column: line_col & 0x3ff,
                });
            }
            at += size;
        }
        Ok(())
    }

    /// Whether no code has BTF line info.
    pub(crate) fn is_empty(&self) -> bool {
        self.sections.values().all(Vec::is_empty)
    }

    /// The record in effect at `addr`: the last one at or before it within its function.
    pub(crate) fn row_at(&self, addr: InsnAddr, code: &Code) -> Option<&BtfRow> {
        let rows = self.sections.get(&addr.section)?;
        let after = rows.partition_point(|r| r.offset <= addr.offset);
        let row = rows.get(after.checked_sub(1)?)?;
        let function_start = code.function_at(addr).map_or(0, |f| f.offset);
        (row.offset >= function_start).then_some(row)
    }

    /// The text BTF embeds for line `line` of `file`.
    pub(crate) fn line_text(&self, file: &Path, line: u32) -> Option<&str> {
        self.texts
            .get(&(file.to_path_buf(), line))
            .map(String::as_str)
    }
}

fn byte_order(data: &[u8]) -> Option<bool> {
    match data.get(..2)? {
        m if m == MAGIC_LE => Some(true),
        m if m == MAGIC_BE => Some(false),
        _ => None,
    }
}

/// The string section of `.BTF`.
struct Strings<'a> {
    data: &'a [u8],
}

impl<'a> Strings<'a> {
    fn parse(btf: &'a [u8]) -> Result<Strings<'a>, DebugInfoError> {
        let header = Bytes {
            little: byte_order(btf).ok_or_else(|| malformed("bad .BTF magic"))?,
            data: btf,
        };
        let (Some(header_len), Some(off), Some(len)) =
            (header.usize_at(4), header.usize_at(16), header.usize_at(20))
        else {
            return Err(malformed("short .BTF header"));
        };
        let data = header_len
            .checked_add(off)
            .and_then(|start| btf.get(start..start.checked_add(len)?))
            .ok_or_else(|| malformed("string section outside .BTF"))?;
        Ok(Strings { data })
    }

    fn get(&self, offset: usize) -> Result<Cow<'a, str>, DebugInfoError> {
        let rest = self
            .data
            .get(offset..)
            .ok_or_else(|| malformed("string offset outside the string section"))?;
        let end = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| malformed("unterminated string"))?;
        Ok(String::from_utf8_lossy(rest.get(..end).unwrap_or(&[])))
    }
}
