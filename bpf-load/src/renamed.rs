//! Objects whose program sections aya-obj does not know (`SEC("tc")`, `SEC("tcx/ingress")`,
//! `SEC("netfilter")`...), opened anyway: aya-obj refuses a section name it cannot parse while
//! it parses the object, so those sections are renamed in a copy of the ELF before aya sees it.
//!
//! A section's name lives in two places that must stay in step: the ELF's section-name table
//! (`.shstrtab`), where aya-obj reads it, and the BTF string table, where `.BTF.ext` names the
//! section its line info, function info and CO-RE relocations belong to. Both tables get the new
//! names appended (each table is copied to the end of the file and its section header pointed
//! at the copy, so no other byte moves), the renamed sections and the `.BTF.ext` records point
//! at them, and nothing else changes: instructions, relocations, symbols and section indices
//! stay as the compiler wrote them. The new name is `classifier/<old name>`, which aya-obj
//! parses; what the program really is comes from the old name, through libbpf's table
//! ([`crate::section`]).

use std::borrow::Cow;
use std::collections::HashMap;

use object::{Object as _, ObjectSection as _, SectionKind};

/// An object ready for aya-obj, with each program section's name as the compiler wrote it.
pub(crate) struct Renamed<'a> {
    /// The ELF, renamed where needed.
    pub bytes: Cow<'a, [u8]>,
    /// The original name of every section, by section index.
    pub names: HashMap<usize, String>,
}

/// What went wrong rewriting the ELF (a shape this module does not handle).
type Error = String;

/// The name aya-obj gets for a program section it would refuse.
fn alias(name: &str) -> String {
    format!("classifier/{name}")
}

/// Renames the program sections aya-obj cannot parse; borrows the bytes when none need it.
pub(crate) fn for_aya(bytes: &[u8]) -> Result<Renamed<'_>, Error> {
    let elf = object::File::parse(bytes).map_err(|e| format!("not an ELF object: {e}"))?;
    let mut names = HashMap::new();
    let mut renamed = Vec::new();
    for section in elf.sections() {
        let Ok(name) = section.name() else { continue };
        names.insert(section.index().0, name.to_string());
        let is_program =
            section.kind() == SectionKind::Text && section.size() > 0 && !name.starts_with(".text");
        if is_program && name.parse::<aya_obj::ProgramSection>().is_err() {
            renamed.push((section.index().0, name.to_string()));
        }
    }
    if renamed.is_empty() {
        return Ok(Renamed {
            bytes: Cow::Borrowed(bytes),
            names,
        });
    }
    let mut out = Elf::new(bytes.to_vec())?;
    // The section-name table: the old one, then the new names.
    let shstrndx = out.u16_at(0x3e) as usize;
    let mut shstrtab = out.section_data(shstrndx)?.to_vec();
    for (index, name) in &renamed {
        let offset = u32::try_from(shstrtab.len()).map_err(|_| "section names too large")?;
        shstrtab.extend_from_slice(alias(name).as_bytes());
        shstrtab.push(0);
        out.set_u32(out.header(*index) as usize, offset);
    }
    out.move_section(shstrndx, &shstrtab)?;
    if let (Some(btf), Some(ext)) = (find(&out, &names, ".BTF"), find(&out, &names, ".BTF.ext")) {
        rename_in_btf(&mut out, btf, ext, &renamed)?;
    }
    Ok(Renamed {
        bytes: Cow::Owned(out.bytes),
        names,
    })
}

fn find(elf: &Elf, names: &HashMap<usize, String>, wanted: &str) -> Option<usize> {
    names
        .iter()
        .find(|(i, n)| n.as_str() == wanted && **i < elf.section_count())
        .map(|(i, _)| *i)
}

/// Appends the new names to the BTF string table and points the `.BTF.ext` records of the
/// renamed sections at them.
fn rename_in_btf(
    out: &mut Elf,
    btf_index: usize,
    ext_index: usize,
    renamed: &[(usize, String)],
) -> Result<(), Error> {
    let mut btf = out.section_data(btf_index)?.to_vec();
    let little = out.little;
    let field = |data: &[u8], at: usize| -> Result<u32, Error> {
        data.get(at..at + 4)
            .map(|b| u32_of(little, b))
            .ok_or_else(|| "truncated BTF".to_string())
    };
    let hdr_len = field(&btf, 4)? as usize;
    let str_off = field(&btf, 16)? as usize;
    let str_len = field(&btf, 20)? as usize;
    let strings_start = hdr_len + str_off;
    if strings_start + str_len != btf.len() {
        return Err("the BTF string table is not at the end of .BTF".into());
    }
    let string_at = |data: &[u8], off: usize| -> Option<String> {
        let s = data.get(strings_start + off..strings_start + str_len)?;
        let end = s.iter().position(|&b| b == 0)?;
        String::from_utf8(s[..end].to_vec()).ok()
    };
    // Old string offset of each renamed section's name -> offset of its new name.
    let mut new_offsets: HashMap<String, u32> = HashMap::new();
    for (_, name) in renamed {
        let offset = u32::try_from(btf.len() - strings_start).map_err(|_| "BTF too large")?;
        btf.extend_from_slice(alias(name).as_bytes());
        btf.push(0);
        new_offsets.insert(name.clone(), offset);
    }
    let new_len = u32::try_from(btf.len() - strings_start).map_err(|_| "BTF too large")?;
    out.put_u32(&mut btf, 20, new_len);

    let ext_offset = out.section_offset(ext_index);
    let ext = out.section_data(ext_index)?.to_vec();
    let ext_hdr_len = field(&ext, 4)? as usize;
    // func_info, line_info, and (when the header is long enough) CO-RE relocations: each a
    // record size, then per section its name, its record count and its records.
    let mut subsections = vec![(field(&ext, 8)?, field(&ext, 12)?)];
    subsections.push((field(&ext, 16)?, field(&ext, 20)?));
    if ext_hdr_len >= 32 {
        subsections.push((field(&ext, 24)?, field(&ext, 28)?));
    }
    for (off, len) in subsections {
        let (start, end) = (
            ext_hdr_len + off as usize,
            ext_hdr_len + (off + len) as usize,
        );
        if len == 0 {
            continue;
        }
        let rec_size = field(&ext, start)? as usize;
        let mut at = start + 4;
        while at + 8 <= end {
            let name_off = field(&ext, at)? as usize;
            let count = field(&ext, at + 4)? as usize;
            if let Some(new) = string_at(&btf, name_off).and_then(|n| new_offsets.get(&n)) {
                out.set_u32(ext_offset + at, *new);
            }
            at += 8 + count * rec_size;
        }
    }
    out.move_section(btf_index, &btf)
}

/// A `u32` in the given byte order.
fn u32_of(little: bool, b: &[u8]) -> u32 {
    let b: [u8; 4] = b[..4].try_into().expect("four bytes");
    if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    }
}

/// An ELF64 being rewritten (eBPF objects are ELF64, of either byte order).
struct Elf {
    bytes: Vec<u8>,
    little: bool,
}

impl Elf {
    fn new(bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() < 64 || bytes[4] != 2 {
            return Err("not an ELF64 object".into());
        }
        let little = bytes[5] == 1;
        Ok(Self { bytes, little })
    }

    fn u16_at(&self, at: usize) -> u16 {
        let b: [u8; 2] = self.bytes[at..at + 2].try_into().expect("two bytes");
        if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    }

    fn u64_at(&self, at: usize) -> u64 {
        let b: [u8; 8] = self.bytes[at..at + 8].try_into().expect("eight bytes");
        if self.little {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        }
    }

    fn put_u32(&self, data: &mut [u8], at: usize, value: u32) {
        let b = if self.little {
            value.to_le_bytes()
        } else {
            value.to_be_bytes()
        };
        data[at..at + 4].copy_from_slice(&b);
    }

    fn set_u32(&mut self, at: usize, value: u32) {
        let mut bytes = std::mem::take(&mut self.bytes);
        self.put_u32(&mut bytes, at, value);
        self.bytes = bytes;
    }

    fn set_u64(&mut self, at: usize, value: u64) {
        let b = if self.little {
            value.to_le_bytes()
        } else {
            value.to_be_bytes()
        };
        self.bytes[at..at + 8].copy_from_slice(&b);
    }

    fn section_count(&self) -> usize {
        self.u16_at(0x3c) as usize
    }

    /// The file offset of section `index`'s header.
    fn header(&self, index: usize) -> u64 {
        self.u64_at(0x28) + index as u64 * u64::from(self.u16_at(0x3a))
    }

    fn section_offset(&self, index: usize) -> usize {
        self.u64_at(self.header(index) as usize + 24) as usize
    }

    fn section_data(&self, index: usize) -> Result<&[u8], Error> {
        let header = self.header(index) as usize;
        let (offset, size) = (
            self.u64_at(header + 24) as usize,
            self.u64_at(header + 32) as usize,
        );
        self.bytes
            .get(offset..offset + size)
            .ok_or_else(|| format!("section {index} lies outside the file"))
    }

    /// Puts `data` at the end of the file (8-byte aligned) and points section `index` at it.
    fn move_section(&mut self, index: usize, data: &[u8]) -> Result<(), Error> {
        self.bytes.resize(self.bytes.len().next_multiple_of(8), 0);
        let offset = self.bytes.len() as u64;
        self.bytes.extend_from_slice(data);
        let header = self.header(index) as usize;
        self.set_u64(header + 24, offset);
        self.set_u64(header + 32, data.len() as u64);
        Ok(())
    }
}
