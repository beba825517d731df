//! Applying the relocations of the `.debug_*` sections, so that DWARF addresses name code.
//!
//! In a relocatable BPF object every code section starts at address 0 and the DWARF refers to
//! code through `R_BPF_64_ABS64` / `R_BPF_64_ABS32` relocations against section or function
//! symbols (the addend sits in the relocated bytes: `.rel`, not `.rela`). Applying them with a
//! distinct synthetic base per code section ([`base`]) makes every DWARF address name one
//! section and offset ([`split`]). Relocations against non-code sections (`.debug_str`,
//! `.debug_line`, map and global symbols) use base 0, as a linker would for a single object.

use std::collections::HashMap;

use object::{Object as _, ObjectSection as _, ObjectSymbol as _};

use super::{Code, DebugInfoError, InsnAddr};

/// `R_BPF_64_ABS64`: a 64-bit absolute address.
const R_BPF_64_ABS64: u32 = 2;
/// `R_BPF_64_ABS32`: a 32-bit absolute address.
const R_BPF_64_ABS32: u32 = 3;

/// The synthetic address of byte 0 of the code section with ELF index `section`.
pub(crate) fn base(section: usize) -> u64 {
    (section as u64) << 32
}

/// The code address a synthetic DWARF address stands for.
pub(crate) fn split(address: u64) -> InsnAddr {
    InsnAddr {
        section: (address >> 32) as usize,
        offset: address & 0xffff_ffff,
    }
}

/// A synthetic address range `[begin, end)` as a section and offsets, if it lies in one section.
pub(crate) fn split_range(begin: u64, end: u64) -> Option<(usize, u64, u64)> {
    let start = split(begin);
    if end <= begin || end - begin > 0xffff_ffff + 1 - start.offset {
        return None;
    }
    Some((start.section, start.offset, start.offset + (end - begin)))
}

/// The `.debug_*` sections of an object with their relocations applied, by section name.
#[derive(Debug, Default)]
pub(crate) struct DebugSections {
    sections: HashMap<String, Vec<u8>>,
}

impl DebugSections {
    /// The bytes of the section called `name`, empty when there is none.
    pub(crate) fn get(&self, name: &str) -> &[u8] {
        self.sections.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Copies every `.debug_*` section and applies its relocations.
pub(crate) fn relocated_debug_sections(
    file: &object::File<'_>,
    code: &Code,
) -> Result<DebugSections, DebugInfoError> {
    let mut out = DebugSections::default();
    for section in file.sections() {
        let Ok(name) = section.name() else { continue };
        if !name.starts_with(".debug_") || out.sections.contains_key(name) {
            continue;
        }
        let mut data = section
            .uncompressed_data()
            .map_err(|e| DebugInfoError::Malformed(format!("section `{name}`: {e}")))?
            .into_owned();
        for (offset, reloc) in section.relocations() {
            apply(file, code, name, &mut data, offset, &reloc)?;
        }
        out.sections.insert(name.to_string(), data);
    }
    Ok(out)
}

fn apply(
    file: &object::File<'_>,
    code: &Code,
    section: &str,
    data: &mut [u8],
    offset: u64,
    reloc: &object::Relocation,
) -> Result<(), DebugInfoError> {
    let object::RelocationFlags::Elf { r_type } = reloc.flags() else {
        return Ok(());
    };
    let size = match r_type.0 {
        R_BPF_64_ABS64 => 8,
        R_BPF_64_ABS32 => 4,
        // R_BPF_NONE and types that never point at code in debug sections.
        _ => return Ok(()),
    };
    let object::RelocationTarget::Symbol(symbol_index) = reloc.target() else {
        return Ok(());
    };
    let bad =
        |what: String| DebugInfoError::Malformed(format!("relocation in `{section}`: {what}"));
    let symbol = file
        .symbol_by_index(symbol_index)
        .map_err(|_| bad(format!("symbol {} does not exist", symbol_index.0)))?;
    let symbol_base = match symbol.section_index() {
        Some(s) if code.section(s.0).is_some() => base(s.0),
        _ => 0,
    };
    let place = usize::try_from(offset)
        .ok()
        .and_then(|start| Some(start..start.checked_add(size)?))
        .and_then(|range| data.get_mut(range))
        .ok_or_else(|| bad(format!("offset {offset:#x} is outside the section")))?;
    let little = file.is_little_endian();
    let addend = if reloc.has_implicit_addend() {
        read(place, little)
    } else {
        reloc.addend() as u64
    };
    let value = symbol_base
        .wrapping_add(symbol.address())
        .wrapping_add(addend);
    write(place, value, little);
    Ok(())
}

fn read(place: &[u8], little: bool) -> u64 {
    let mut bytes = [0u8; 8];
    let n = place.len().min(8);
    if little {
        bytes[..n].copy_from_slice(&place[..n]);
        u64::from_le_bytes(bytes)
    } else {
        bytes[8 - n..].copy_from_slice(&place[..n]);
        u64::from_be_bytes(bytes)
    }
}

fn write(place: &mut [u8], value: u64, little: bool) {
    let n = place.len().min(8);
    if little {
        place[..n].copy_from_slice(&value.to_le_bytes()[..n]);
    } else {
        place[..n].copy_from_slice(&value.to_be_bytes()[8 - n..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_inverts_base() {
        assert_eq!(
            split(base(7) + 0x48),
            InsnAddr {
                section: 7,
                offset: 0x48
            }
        );
        assert_eq!(split_range(base(3) + 8, base(3) + 24), Some((3, 8, 24)));
        assert_eq!(split_range(base(3) + 8, base(3) + 8), None);
        assert_eq!(split_range(base(3) + 8, base(4) + 8), None);
    }

    #[test]
    fn reads_and_writes_both_byte_orders() {
        let mut place = [0u8; 4];
        write(&mut place, 0x1122_3344, true);
        assert_eq!(place, [0x44, 0x33, 0x22, 0x11]);
        assert_eq!(read(&place, true), 0x1122_3344);
        write(&mut place, 0x1122_3344, false);
        assert_eq!(place, [0x11, 0x22, 0x33, 0x44]);
        assert_eq!(read(&place, false), 0x1122_3344);
    }
}
