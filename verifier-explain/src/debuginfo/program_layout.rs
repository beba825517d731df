//! The instruction layout of a loaded program: which ELF function, section and offset each
//! instruction index the kernel reports comes from.
//!
//! The loader (aya-obj's `FunctionLinker`, libbpf's `bpf_object__reloc_code`) builds a program as
//! its function followed by every subprogram it references, each appended at its first
//! reference and immediately walked for references of its own (depth first). A reference is a
//! `BPF_CALL` with `src_reg == BPF_PSEUDO_CALL` (pc-relative, or relocated against a symbol in
//! another code section) or an `ld_imm64` relocated against code or carrying
//! `BPF_PSEUDO_FUNC` (a callback, e.g. for `bpf_loop`). Each function appears once.

use std::collections::HashMap;

use serde::Serialize;

use super::{Code, CodeSection, DebugInfoError, FunctionSymbol, InsnAddr};

/// One function of a laid-out program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaidOutFunction {
    /// The function's symbol name.
    pub name: String,
    /// Index of its first instruction in the loaded program.
    pub start: u32,
    /// Its length in 8-byte instruction slots.
    pub len: u32,
    /// Index of the ELF section it is in.
    pub section: usize,
    /// Name of that section (`xdp`, `.text`, ...).
    pub section_name: String,
    /// Byte offset of its first instruction in that section.
    pub section_offset: u64,
}

/// A program as the loader lays it out: its functions in order, without gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramLayout {
    /// The program's name.
    pub program: String,
    /// Its functions in load order; the first is the program's own function.
    pub functions: Vec<LaidOutFunction>,
}

impl ProgramLayout {
    /// Where instruction `idx` of the loaded program lies in the ELF.
    pub fn address(&self, idx: u32) -> Option<InsnAddr> {
        let f = self.function_at(idx)?;
        Some(InsnAddr {
            section: f.section,
            offset: f.section_offset + u64::from(idx - f.start) * 8,
        })
    }

    /// The function instruction `idx` belongs to.
    pub fn function_at(&self, idx: u32) -> Option<&LaidOutFunction> {
        let after = self.functions.partition_point(|f| f.start <= idx);
        let f = self.functions.get(after.checked_sub(1)?)?;
        (idx - f.start < f.len).then_some(f)
    }

    /// The number of instruction slots in the loaded program.
    pub fn len(&self) -> u32 {
        self.functions.last().map_or(0, |f| f.start + f.len)
    }

    /// Whether the program has no instructions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The instruction index in the loaded program of the slot at `addr`, if the program
    /// includes that function.
    pub fn index_of(&self, addr: InsnAddr) -> Option<u32> {
        self.functions.iter().find_map(|f| {
            let rel = addr.offset.checked_sub(f.section_offset)?;
            let slot = u32::try_from(rel / 8).ok()?;
            (f.section == addr.section && slot < f.len).then_some(f.start + slot)
        })
    }
}

/// `BPF_JMP | BPF_CALL | BPF_K`.
const CALL: u8 = 0x85;
/// `BPF_LD | BPF_IMM | BPF_DW`: the first slot of a 64-bit immediate load.
const LD_IMM64: u8 = 0x18;
/// `src_reg` of a call to a BPF function rather than a helper.
const BPF_PSEUDO_CALL: u8 = 1;
/// `src_reg` of an `ld_imm64` that loads a function's address.
const BPF_PSEUDO_FUNC: u8 = 4;

/// A decoded instruction slot.
pub(crate) struct Slot {
    pub(crate) code: u8,
    pub(crate) src_reg: u8,
    pub(crate) dst_reg: u8,
    pub(crate) off: i16,
    pub(crate) imm: i32,
}

/// Decodes an 8-byte instruction slot in the object's byte order.
pub(crate) fn decode(bytes: [u8; 8], little_endian: bool) -> Slot {
    let [code, regs, o0, o1, i0, i1, i2, i3] = bytes;
    if little_endian {
        Slot {
            code,
            dst_reg: regs & 0x0f,
            src_reg: regs >> 4,
            off: i16::from_le_bytes([o0, o1]),
            imm: i32::from_le_bytes([i0, i1, i2, i3]),
        }
    } else {
        Slot {
            code,
            dst_reg: regs >> 4,
            src_reg: regs & 0x0f,
            off: i16::from_be_bytes([o0, o1]),
            imm: i32::from_be_bytes([i0, i1, i2, i3]),
        }
    }
}

/// Lays out `program`; `None` when there is no such program.
pub(crate) fn build(code: &Code, program: &str) -> Option<Result<ProgramLayout, DebugInfoError>> {
    let (section, main) = code
        .sections
        .iter()
        .filter(|s| s.is_program)
        .find_map(|s| {
            s.functions
                .iter()
                .find(|f| f.name == program)
                .map(|f| (s, f))
        })?;
    Some(link(code, program, section, main))
}

/// One function being walked: where it is and how far the walk got.
struct Walk<'a> {
    section: &'a CodeSection,
    function: &'a FunctionSymbol,
    next_slot: u64,
}

fn link(
    code: &Code,
    program: &str,
    section: &CodeSection,
    main: &FunctionSymbol,
) -> Result<ProgramLayout, DebugInfoError> {
    let mut functions = Vec::new();
    let mut linked: HashMap<(usize, u64), u32> = HashMap::new();
    let mut total: u32 = 0;
    append(&mut functions, &mut linked, &mut total, section, main)?;
    let mut stack = vec![Walk {
        section,
        function: main,
        next_slot: 0,
    }];
    // The loader recurses into a callee as soon as it appends it; an explicit stack does the
    // same without recursion depth limits.
    while let Some(top) = stack.last_mut() {
        if top.next_slot >= top.function.size / 8 {
            stack.pop();
            continue;
        }
        let offset = top.function.offset + top.next_slot * 8;
        top.next_slot += 1;
        let (caller_section, caller) = (top.section, top.function);
        let Some((target_section, target)) = callee(code, caller_section, offset)? else {
            continue;
        };
        let callee_section = code.section(target_section).ok_or_else(|| {
            bad_target(caller_section, caller, offset, target_section, target, code)
        })?;
        let callee = callee_section
            .functions
            .iter()
            .find(|f| f.offset == target)
            .ok_or_else(|| {
                bad_target(caller_section, caller, offset, target_section, target, code)
            })?;
        if linked.contains_key(&(target_section, target)) {
            continue;
        }
        append(
            &mut functions,
            &mut linked,
            &mut total,
            callee_section,
            callee,
        )?;
        stack.push(Walk {
            section: callee_section,
            function: callee,
            next_slot: 0,
        });
    }
    Ok(ProgramLayout {
        program: program.to_string(),
        functions,
    })
}

fn append(
    functions: &mut Vec<LaidOutFunction>,
    linked: &mut HashMap<(usize, u64), u32>,
    total: &mut u32,
    section: &CodeSection,
    function: &FunctionSymbol,
) -> Result<(), DebugInfoError> {
    let len = u32::try_from(function.size / 8)
        .ok()
        .filter(|len| total.checked_add(*len).is_some())
        .ok_or_else(|| {
            DebugInfoError::Malformed(format!(
                "function `{}` makes the program too long",
                function.name
            ))
        })?;
    linked.insert((section.index, function.offset), *total);
    functions.push(LaidOutFunction {
        name: function.name.clone(),
        start: *total,
        len,
        section: section.index,
        section_name: section.name.clone(),
        section_offset: function.offset,
    });
    *total += len;
    Ok(())
}

fn bad_target(
    section: &CodeSection,
    caller: &FunctionSymbol,
    offset: u64,
    target_section: usize,
    target: u64,
    code: &Code,
) -> DebugInfoError {
    let target_name = code
        .section(target_section)
        .map_or_else(|| format!("section {target_section}"), |s| s.name.clone());
    DebugInfoError::Malformed(format!(
        "`{}` at {}+{offset:#x} calls {target_name}+{target:#x}, which is not the start of a function",
        caller.name, section.name
    ))
}

/// The function (section index, byte offset) the slot at `offset` calls or references, if any.
fn callee(
    code: &Code,
    section: &CodeSection,
    offset: u64,
) -> Result<Option<(usize, u64)>, DebugInfoError> {
    let Some(bytes) = section.slot(offset) else {
        return Ok(None);
    };
    let insn = decode(bytes, code.little_endian);
    let is_call =
        insn.code == CALL && insn.src_reg == BPF_PSEUDO_CALL && insn.dst_reg == 0 && insn.off == 0;
    // Only relocations against code matter here; the others (maps, globals) are data.
    let relocation = section.relocations.get(&offset).and_then(|r| {
        let target = r.target_section?;
        code.section(target).map(|_| (r, target))
    });
    if let Some((r, target_section)) = relocation {
        let target = if r.symbol_is_function {
            Some(r.symbol_value)
        } else if is_call {
            // Against the section symbol: the immediate is the pc-relative slot count.
            r.symbol_value
                .checked_add_signed((i64::from(insn.imm) + 1) * 8)
        } else {
            // An ld_imm64 against the section symbol: the immediate is a byte offset.
            r.symbol_value.checked_add_signed(i64::from(insn.imm))
        };
        let target = target.ok_or_else(|| {
            DebugInfoError::Malformed(format!(
                "the reference at {}+{offset:#x} points before its section",
                section.name
            ))
        })?;
        return Ok(Some((target_section, target)));
    }
    if section
        .relocations
        .get(&offset)
        .is_some_and(|r| r.target_section.is_none())
    {
        // Against an undefined symbol: an extern (a kfunc) the loader resolves in the kernel,
        // not code of this object.
        return Ok(None);
    }
    let pc_relative = is_call || (insn.code == LD_IMM64 && insn.src_reg == BPF_PSEUDO_FUNC);
    if !pc_relative {
        return Ok(None);
    }
    let target = offset
        .checked_add_signed((i64::from(insn.imm) + 1) * 8)
        .ok_or_else(|| {
            DebugInfoError::Malformed(format!(
                "the call at {}+{offset:#x} jumps before its section",
                section.name
            ))
        })?;
    Ok(Some((section.index, target)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::CodeRelocation;
    use super::*;

    fn insn(code: u8, src: u8, imm: i32) -> [u8; 8] {
        let i = imm.to_le_bytes();
        [code, src << 4, 0, 0, i[0], i[1], i[2], i[3]]
    }

    const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

    fn function(name: &str, offset: u64, slots: u64) -> FunctionSymbol {
        FunctionSymbol {
            name: name.to_string(),
            offset,
            size: slots * 8,
        }
    }

    /// `main` in `xdp` calls `f0` in `.text` through a relocation; `f0` loads `f1`'s address
    /// (BPF_PSEUDO_FUNC, pc-relative) and calls `f2`; `f1` calls `f2`.
    fn code(f0_call_imm: i32) -> Code {
        let xdp = [insn(CALL, BPF_PSEUDO_CALL, -1), EXIT].concat();
        let text = [
            insn(LD_IMM64, BPF_PSEUDO_FUNC, 3),
            [0; 8],
            insn(CALL, BPF_PSEUDO_CALL, f0_call_imm),
            EXIT,
            insn(CALL, BPF_PSEUDO_CALL, 1),
            EXIT,
            EXIT,
        ]
        .concat();
        let mut relocations = BTreeMap::new();
        relocations.insert(
            0,
            CodeRelocation {
                target_section: Some(2),
                symbol_value: 0,
                symbol_is_function: false,
            },
        );
        Code {
            sections: vec![
                CodeSection {
                    index: 1,
                    name: "xdp".to_string(),
                    data: xdp,
                    is_program: true,
                    functions: vec![function("main", 0, 2)],
                    relocations,
                },
                CodeSection {
                    index: 2,
                    name: ".text".to_string(),
                    data: text,
                    is_program: false,
                    functions: vec![
                        function("f0", 0, 4),
                        function("f1", 32, 2),
                        function("f2", 48, 1),
                    ],
                    relocations: BTreeMap::new(),
                },
            ],
            little_endian: true,
        }
    }

    #[test]
    fn callees_are_appended_depth_first_once() {
        let layout = build(&code(3), "main").unwrap().unwrap();
        let got: Vec<_> = layout
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.start, f.len))
            .collect();
        assert_eq!(
            got,
            vec![("main", 0, 2), ("f0", 2, 4), ("f1", 6, 2), ("f2", 8, 1)]
        );
        assert!(build(&code(3), "f0").is_none(), "f0 is no program");
    }

    #[test]
    fn a_call_into_the_middle_of_a_function_is_malformed() {
        // f0's call now lands on slot 5 (f1's exit), not a function start.
        let err = build(&code(2), "main").unwrap().unwrap_err();
        assert!(
            err.to_string()
                .contains("calls .text+0x28, which is not the start of a function"),
            "{err}"
        );
    }
}
