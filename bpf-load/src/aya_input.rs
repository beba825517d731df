//! The ELF aya gets: the object as the compiler wrote it, changed, in a copy, only where aya-obj
//! would refuse it and libbpf would not.
//!
//! - **Program sections aya-obj does not know** (`SEC("tc")`, `SEC("tcx/ingress")`,
//!   `SEC("netfilter")`...): aya-obj refuses a section name it cannot parse while it parses the
//!   object, so such a section `S` is renamed `classifier/S`. A section's name lives in two
//!   places that must stay in step: the ELF's section-name table (`.shstrtab`), where aya-obj
//!   reads it, and the BTF string table, where `.BTF.ext` names the section its line info,
//!   function info and CO-RE relocations belong to. Both get the new name; what the program
//!   really is comes from the old name, through libbpf's table ([`crate::section`]).
//! - **Externs** (`__ksym` kfuncs and variables, `__kconfig` values): aya-obj cannot size their
//!   BTF sections and cannot relocate their instructions. They are resolved as libbpf resolves
//!   them ([`crate::externs`]), their instructions patched in place, their relocations dropped,
//!   and their BTF rewritten as libbpf rewrites it ([`crate::object_btf`]).
//!
//! Rewritten tables are copied to the end of the file and their section headers pointed at the
//! copies; nothing else moves: instruction counts, symbols and section indices stay as the
//! compiler wrote them, so the DWARF and instruction layout read from the original still hold.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use bpf_sys::MapFd;
use object::{Object as _, ObjectSection as _, ObjectSymbol as _, SectionKind};

use super::elf_copy::{ElfCopy, Error};
use super::externs::{self, Patch};
use super::object_btf::ObjectBtf;

/// `SHT_REL`.
const SHT_REL: u32 = 9;

/// An object ready for aya-obj, with each section's name as the compiler wrote it.
pub(crate) struct AyaInput<'a> {
    /// The ELF, changed where needed.
    pub bytes: Cow<'a, [u8]>,
    /// The original name of every section, by section index.
    pub names: HashMap<usize, String>,
    /// The `.kconfig` map the patched instructions point at, kept open while they load.
    pub kconfig_map: Option<MapFd>,
}

/// The name aya-obj gets for a program section it would refuse.
fn alias(name: &str) -> String {
    format!("classifier/{name}")
}

/// Prepares `bytes` for aya-obj; borrows them when nothing needs changing.
pub(crate) fn for_aya(bytes: &[u8]) -> Result<AyaInput<'_>, Error> {
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
    let btf_index = names.iter().find(|(_, n)| *n == ".BTF").map(|(i, _)| *i);
    let ext_index = names
        .iter()
        .find(|(_, n)| *n == ".BTF.ext")
        .map(|(i, _)| *i);
    let btf = match btf_index {
        Some(i) => {
            let data = elf
                .section_by_index(object::SectionIndex(i))
                .and_then(|s| s.data());
            let data = data.map_err(|e| format!("cannot read .BTF: {e}"))?;
            Some(ObjectBtf::parse(data, elf.is_little_endian())?)
        }
        None => None,
    };
    let externs = btf.as_ref().map(ObjectBtf::externs).unwrap_or_default();
    if renamed.is_empty() && externs.is_empty() {
        return Ok(AyaInput {
            bytes: Cow::Borrowed(bytes),
            names,
            kconfig_map: None,
        });
    }
    if !externs.is_empty() && !elf.is_little_endian() {
        return Err("externs in big-endian objects are not supported".into());
    }
    // Extern symbols, by symbol index.
    let weak: HashSet<String> = elf
        .symbols()
        .filter(|s| s.is_undefined() && s.is_weak())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect();
    let resolved = externs::resolve(&externs, &|name| weak.contains(name))?;
    let extern_symbols: HashMap<usize, Patch> = elf
        .symbols()
        .filter(|s| s.is_undefined())
        .filter_map(|s| Some((s.index().0, *resolved.patches.get(s.name().ok()?)?)))
        .collect();

    let mut out = ElfCopy::new(bytes.to_vec())?;
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
    patch_externs(&mut out, &extern_symbols)?;
    if let (Some(btf), Some(btf_index)) = (&btf, btf_index) {
        let aliases: Vec<String> = renamed.iter().map(|(_, n)| alias(n)).collect();
        let (new_btf, offsets) = btf.rewritten(&aliases);
        if let Some(ext_index) = ext_index {
            let by_old_name: HashMap<&str, u32> = renamed
                .iter()
                .filter_map(|(_, n)| Some((n.as_str(), *offsets.get(&alias(n))?)))
                .collect();
            rename_in_btf_ext(&mut out, btf, ext_index, &by_old_name)?;
        }
        out.move_section(btf_index, &new_btf)?;
    }
    Ok(AyaInput {
        bytes: Cow::Owned(out.bytes),
        names,
        kconfig_map: resolved.kconfig_map,
    })
}

/// Rewrites every instruction a relocation ties to an extern, and drops those relocations.
fn patch_externs(out: &mut ElfCopy, patches: &HashMap<usize, Patch>) -> Result<(), Error> {
    if patches.is_empty() {
        return Ok(());
    }
    for rel_index in 0..out.section_count() {
        let (sh_type, target) = out.section_type_and_info(rel_index);
        // Only relocations of instructions: `.rel.BTF` and `.rel.BTF.ext` name externs too.
        if sh_type != SHT_REL || !out.is_executable(target as usize) {
            continue;
        }
        let target_offset = out.section_offset(target as usize);
        let entries = out.section_data(rel_index)?.to_vec();
        let mut kept = Vec::with_capacity(entries.len());
        for entry in entries.chunks_exact(16) {
            let r_offset = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes")) as usize;
            let r_info = u64::from_le_bytes(entry[8..].try_into().expect("8 bytes"));
            match patches.get(&((r_info >> 32) as usize)) {
                Some(patch) => {
                    let at = target_offset + r_offset;
                    let end = (at + 16).min(out.bytes.len());
                    patch.apply(&mut out.bytes[at..end])?;
                }
                None => kept.extend_from_slice(entry),
            }
        }
        out.shrink_section(rel_index, &kept);
    }
    Ok(())
}

/// Points the `.BTF.ext` records of renamed sections at their new names.
fn rename_in_btf_ext(
    out: &mut ElfCopy,
    btf: &ObjectBtf,
    ext_index: usize,
    new_offsets: &HashMap<&str, u32>,
) -> Result<(), Error> {
    if new_offsets.is_empty() {
        return Ok(());
    }
    let little = out.little;
    let ext_offset = out.section_offset(ext_index);
    let ext = out.section_data(ext_index)?.to_vec();
    let field = |at: usize| -> Result<u32, Error> {
        ext.get(at..at + 4)
            .map(|b| super::elf_copy::u32_of(little, b))
            .ok_or_else(|| "truncated .BTF.ext".to_string())
    };
    let hdr_len = field(4)? as usize;
    // func_info, line_info, and (when the header is long enough) CO-RE relocations: each a
    // record size, then per section its name, its record count and its records.
    let mut subsections = vec![(field(8)?, field(12)?), (field(16)?, field(20)?)];
    if hdr_len >= 32 {
        subsections.push((field(24)?, field(28)?));
    }
    for (off, len) in subsections {
        if len == 0 {
            continue;
        }
        let (start, end) = (hdr_len + off as usize, hdr_len + (off + len) as usize);
        let rec_size = field(start)? as usize;
        let mut at = start + 4;
        while at + 8 <= end {
            let name_off = field(at)? as usize;
            let count = field(at + 4)? as usize;
            let name = btf.string_at(name_off);
            if let Some(new) = name.as_deref().and_then(|n| new_offsets.get(n)) {
                out.set_u32(ext_offset + at, *new);
            }
            at += 8 + count * rec_size;
        }
    }
    Ok(())
}
