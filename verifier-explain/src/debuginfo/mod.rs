//! What a compiled eBPF object says about its own code: where each instruction of a loaded program
//! came from in the ELF, its source line, and which source variables live where.
//!
//! A BPF object is relocatable: every program sits in its own section (`xdp`, `tc`, ...) and its
//! subprograms in `.text`, all starting at address 0, and the DWARF sections refer to code through
//! relocations against those sections. [`DebugInfo::parse`] applies the relocations with a
//! distinct base per code section, indexes the line table and every scope and variable once, and
//! answers queries by [`InsnAddr`] (section index and byte offset) in logarithmic time.
//!
//! The kernel numbers a program's instructions as the loader laid them out (the program's
//! function, then each called subprogram); [`DebugInfo::layout`] replays that layout so a
//! verifier log's instruction index maps back to an [`InsnAddr`].
//!
//! ```no_run
//! use verifier_explain::debuginfo::DebugInfo;
//!
//! let bytes = std::fs::read("prog.bpf.o")?;
//! let info = DebugInfo::parse(&bytes)?;
//! let layout = info.layout("xdp_prog")?;
//! if let Some(addr) = layout.address(12) {
//!     if let Some(loc) = info.source_at(addr) {
//!         println!("{}:{}", loc.file.display(), loc.line);
//!     }
//!     for var in info.variables_at(addr) {
//!         println!("{} is in {:?}", var.name, var.place);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod btf_lines;
mod lines;
mod members;
mod program_layout;
mod relocate;
mod variables;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
use serde::Serialize;

pub use lines::{InlinedCall, SourceLoc};
pub use program_layout::{LaidOutFunction, ProgramLayout};
pub use variables::{Place, TypeLayout, Variable, variable_in_register, variable_in_slot};

/// Why an object's debug information cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DebugInfoError {
    /// The bytes are not an ELF file.
    #[error("not an ELF file: {0}")]
    NotElf(String),
    /// An ELF file for another machine than BPF.
    #[error("an ELF file for {machine}, not for BPF")]
    NotBpf {
        /// The machine the file is for, e.g. `X86_64`.
        machine: String,
    },
    /// The object has no program sections (executable sections other than `.text`).
    #[error("the object has no eBPF programs")]
    NoPrograms,
    /// The program asked for is not in the object.
    #[error("the object has no program `{wanted}`; it has: {available}")]
    NoSuchProgram {
        /// The name asked for.
        wanted: String,
        /// The names it has, comma separated.
        available: String,
    },
    /// The DWARF, BTF, symbols or relocations are inconsistent; says what was wrong.
    #[error("malformed object: {0}")]
    Malformed(String),
}

/// An instruction's place in the ELF file: the section it is in and its byte offset there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct InsnAddr {
    /// Index of the ELF section (as in `readelf -S`).
    pub section: usize,
    /// Byte offset of the instruction in that section (a multiple of 8).
    pub offset: u64,
}

/// One function symbol (`STT_FUNC`) in a code section.
#[derive(Debug, Clone)]
pub(crate) struct FunctionSymbol {
    pub(crate) name: String,
    /// Byte offset in the section.
    pub(crate) offset: u64,
    /// Size in bytes (a multiple of 8, within the section).
    pub(crate) size: u64,
}

/// What a relocation in a code section points at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeRelocation {
    /// Section of the symbol, when it has one.
    pub(crate) target_section: Option<usize>,
    /// The symbol's value (its offset in its section).
    pub(crate) symbol_value: u64,
    /// Whether the symbol is a function (`STT_FUNC`) rather than a section or other symbol.
    pub(crate) symbol_is_function: bool,
}

/// An executable section: a program section or a text section with subprograms.
#[derive(Debug)]
pub(crate) struct CodeSection {
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) data: Vec<u8>,
    /// A program section (not `.text*`): each function in it is a program.
    pub(crate) is_program: bool,
    /// Function symbols sorted by offset.
    pub(crate) functions: Vec<FunctionSymbol>,
    /// Relocations by the byte offset of the instruction they patch.
    pub(crate) relocations: BTreeMap<u64, CodeRelocation>,
}

impl CodeSection {
    /// The function whose bytes contain `offset`.
    pub(crate) fn function_containing(&self, offset: u64) -> Option<&FunctionSymbol> {
        let after = self.functions.partition_point(|f| f.offset <= offset);
        let f = self.functions.get(after.checked_sub(1)?)?;
        (offset < f.offset.saturating_add(f.size)).then_some(f)
    }

    /// The 8 bytes of the instruction slot at `offset`.
    pub(crate) fn slot(&self, offset: u64) -> Option<[u8; 8]> {
        let start = usize::try_from(offset).ok()?;
        let bytes = self.data.get(start..start.checked_add(8)?)?;
        bytes.try_into().ok()
    }
}

/// The object's code sections, sorted by section index, and its byte order.
#[derive(Debug)]
pub(crate) struct Code {
    pub(crate) sections: Vec<CodeSection>,
    pub(crate) little_endian: bool,
}

impl Code {
    /// The code section with ELF index `index`.
    pub(crate) fn section(&self, index: usize) -> Option<&CodeSection> {
        self.sections
            .binary_search_by_key(&index, |s| s.index)
            .ok()
            .and_then(|i| self.sections.get(i))
    }

    /// The function whose bytes contain `addr`.
    pub(crate) fn function_at(&self, addr: InsnAddr) -> Option<&FunctionSymbol> {
        self.section(addr.section)?.function_containing(addr.offset)
    }
}

/// Everything the object says about its code, indexed for queries by instruction address.
///
/// It owns its data; queries take `&self` and are cheap (binary searches), apart from
/// [`DebugInfo::source_line`], which reads a source file once and caches it.
pub struct DebugInfo {
    code: Code,
    lines: lines::LineTable,
    scopes: variables::Scopes,
    members: members::StructMembers,
    btf: btf_lines::BtfLines,
    sources: Mutex<HashMap<PathBuf, Option<Arc<Vec<String>>>>>,
}

impl fmt::Debug for DebugInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugInfo")
            .field("programs", &self.programs())
            .field(
                "code_sections",
                &self
                    .code
                    .sections
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("has_dwarf", &self.has_dwarf())
            .field("has_btf_lines", &self.has_btf_lines())
            .field("scopes", &self.scopes.len())
            .finish()
    }
}

/// The largest source file [`DebugInfo::source_line`] reads.
const MAX_SOURCE_BYTES: u64 = 64 << 20;

impl DebugInfo {
    /// Reads an eBPF object: its code sections and function symbols, its DWARF (line table,
    /// scopes, variables and their locations) and its BTF line info.
    ///
    /// An object without DWARF or BTF is fine: the queries then return nothing. Errors: not an
    /// ELF, not for BPF, no programs, or debug information that is present but inconsistent.
    pub fn parse(elf: &[u8]) -> Result<DebugInfo, DebugInfoError> {
        let file = object::File::parse(elf).map_err(|e| DebugInfoError::NotElf(e.to_string()))?;
        if file.format() != object::BinaryFormat::Elf {
            return Err(DebugInfoError::NotElf(format!(
                "it is a {:?} file",
                file.format()
            )));
        }
        if file.architecture() != object::Architecture::Bpf {
            return Err(DebugInfoError::NotBpf {
                machine: machine_name(&file, elf),
            });
        }
        let code = read_code(&file)?;
        if !code.sections.iter().any(|s| s.is_program) {
            return Err(DebugInfoError::NoPrograms);
        }
        let debug = relocate::relocated_debug_sections(&file, &code)?;
        let endian = if code.little_endian {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let (lines, scopes, members) = read_dwarf(&debug, endian, &code)?;
        let btf = btf_lines::BtfLines::parse(&file, &code)?;
        Ok(DebugInfo {
            code,
            lines,
            scopes,
            members,
            btf,
            sources: Mutex::new(HashMap::new()),
        })
    }

    /// The member of the struct called `name` (`__sk_buff`, without `struct`) that holds byte
    /// `offset`, from DWARF.
    pub fn struct_member_at(&self, name: &str, offset: u64) -> Option<&str> {
        self.members.member_at(name, offset)
    }

    /// Whether the object has DWARF: `.debug_info` with a line table that covers code.
    pub fn has_dwarf(&self) -> bool {
        !self.lines.is_empty()
    }

    /// Whether the object has BTF line info (`.BTF.ext`) for its code.
    pub fn has_btf_lines(&self) -> bool {
        !self.btf.is_empty()
    }

    /// The names of the programs (functions in program sections), sorted, without duplicates.
    pub fn programs(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .code
            .sections
            .iter()
            .filter(|s| s.is_program)
            .flat_map(|s| s.functions.iter().map(|f| f.name.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// How the loader lays out `program`: its function first, then each subprogram it calls,
    /// appended at its first call, depth first (as aya and libbpf do).
    pub fn layout(&self, program: &str) -> Result<ProgramLayout, DebugInfoError> {
        program_layout::build(&self.code, program).ok_or_else(|| DebugInfoError::NoSuchProgram {
            wanted: program.to_string(),
            available: self.programs().join(", "),
        })?
    }

    /// The raw 8 bytes of the instruction slot at `addr`, as in the ELF (before relocation).
    pub fn instruction(&self, addr: InsnAddr) -> Option<[u8; 8]> {
        self.code.section(addr.section)?.slot(addr.offset)
    }

    /// The stack bytes a laid-out function's instructions use below r10, rounded up to 8 (the
    /// deepest `r10 + off` accessed or taken as an address), as the verifier counts its frame.
    pub fn stack_depth(&self, function: &LaidOutFunction) -> u64 {
        let end = function.section_offset + u64::from(function.len) * 8;
        variables::frame_size(
            &self.code,
            &[(function.section, function.section_offset, end)],
        )
    }

    /// The source position of the instruction at `addr`: the DWARF line-table row in effect
    /// there (the last row at or before it in its sequence), or without DWARF the BTF line info.
    ///
    /// `line` 0 means the compiler attributed the instruction to no particular line; see
    /// [`DebugInfo::source_near`] for the nearest real line.
    pub fn source_at(&self, addr: InsnAddr) -> Option<SourceLoc> {
        if let Some(row) = self.lines.row_at(addr) {
            return Some(self.source_loc(addr, row));
        }
        let row = self.btf.row_at(addr, &self.code)?;
        Some(SourceLoc {
            file: row.file.clone(),
            line: row.line,
            column: row.column,
            function: self.function_name(addr).unwrap_or_default(),
            inlined: Vec::new(),
        })
    }

    /// Like [`DebugInfo::source_at`], but when that row has line 0 it returns the nearest row
    /// with a real line in the same function: the closest one before `addr`, else after it.
    pub fn source_near(&self, addr: InsnAddr) -> Option<SourceLoc> {
        let exact = self.source_at(addr)?;
        if exact.line != 0 {
            return Some(exact);
        }
        match self.lines.nearest_nonzero_row(addr, &self.code) {
            Some(row) => {
                let mut loc = self.source_loc(addr, row);
                // The inline chain and function stay those of `addr` itself.
                loc.function = exact.function;
                loc.inlined = exact.inlined;
                Some(loc)
            }
            None => Some(exact),
        }
    }

    fn source_loc(&self, addr: InsnAddr, row: &lines::Row) -> SourceLoc {
        let (function, inlined) = self.scopes.function_and_inline_chain(addr);
        let loc = SourceLoc {
            file: self.lines.file(row.file).to_path_buf(),
            line: row.line,
            column: row.column,
            function: function
                .or_else(|| self.function_name(addr))
                .unwrap_or_default(),
            inlined,
        };
        loc.in_own_source(|| self.function_name(addr).unwrap_or_default())
    }

    fn function_name(&self, addr: InsnAddr) -> Option<String> {
        self.code.function_at(addr).map(|f| f.name.clone())
    }

    /// Every variable whose location covers `addr`, innermost scope first (in declaration order
    /// within a scope). Constants and values the compiler can rebuild count as covering.
    pub fn variables_at(&self, addr: InsnAddr) -> Vec<Variable> {
        self.scopes.variables(addr, false)
    }

    /// Every variable declared in the scopes enclosing `addr` (not globals), innermost first,
    /// with [`Place::OptimizedOut`] for those that have no location there.
    pub fn variables_in_scope(&self, addr: InsnAddr) -> Vec<Variable> {
        self.scopes.variables(addr, true)
    }

    /// The text of line `line` (1-based) of `file`, without its line end, read from disk once
    /// and cached (a relative path, from an object built with `-fdebug-prefix-map`, resolves
    /// against the current directory). When the file cannot be read, the line text BTF line
    /// info embedded for that line, if any. `None` if neither has it.
    pub fn source_line(&self, file: &Path, line: u32) -> Option<String> {
        let index = usize::try_from(line.checked_sub(1)?).ok()?;
        let lines = {
            let mut cache = match self.sources.lock() {
                Ok(cache) => cache,
                Err(poisoned) => poisoned.into_inner(),
            };
            cache
                .entry(file.to_path_buf())
                .or_insert_with(|| read_source(file).map(Arc::new))
                .clone()
        };
        match lines {
            Some(lines) => lines.get(index).cloned(),
            None => self.btf.line_text(file, line).map(str::to_string),
        }
    }
}

fn read_source(file: &Path) -> Option<Vec<String>> {
    use std::io::Read as _;
    let f = std::fs::File::open(file).ok()?;
    let mut bytes = Vec::new();
    f.take(MAX_SOURCE_BYTES).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(
        text.split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect(),
    )
}

/// A readable name for the machine an ELF file is for.
fn machine_name(file: &object::File<'_>, elf: &[u8]) -> String {
    match file.architecture() {
        object::Architecture::Unknown => {
            // e_machine sits at byte 18 of the ELF header, in the file's byte order.
            let raw = elf.get(18..20).map(|b| {
                if file.is_little_endian() {
                    u16::from_le_bytes([b[0], b[1]])
                } else {
                    u16::from_be_bytes([b[0], b[1]])
                }
            });
            match raw {
                Some(m) => format!("machine {m:#x}"),
                None => "an unknown machine".to_string(),
            }
        }
        arch => format!("{arch:?}"),
    }
}

/// Reads the executable sections, their function symbols and the relocations of their code.
fn read_code(file: &object::File<'_>) -> Result<Code, DebugInfoError> {
    let mut sections = Vec::new();
    for section in file.sections() {
        let object::SectionFlags::Elf { sh_flags, sh_type } = section.flags() else {
            continue;
        };
        if sh_flags.0 & object::elf::SHF_EXECINSTR.0 == 0 || sh_type == object::elf::SHT_NOBITS {
            continue;
        }
        let name = String::from_utf8_lossy(section.name_bytes().map_err(malformed)?).into_owned();
        let data = section.data().map_err(malformed)?.to_vec();
        let index = section.index().0;
        let mut relocations = BTreeMap::new();
        for (offset, reloc) in section.relocations() {
            let object::RelocationTarget::Symbol(symbol) = reloc.target() else {
                continue;
            };
            let Ok(symbol) = file.symbol_by_index(symbol) else {
                return Err(DebugInfoError::Malformed(format!(
                    "a relocation in section `{name}` at {offset:#x} names symbol {} which does not exist",
                    symbol.0
                )));
            };
            relocations.insert(
                offset,
                CodeRelocation {
                    target_section: symbol.section_index().map(|s| s.0),
                    symbol_value: symbol.address(),
                    symbol_is_function: is_function(&symbol),
                },
            );
        }
        sections.push(CodeSection {
            index,
            is_program: !name.starts_with(".text"),
            name,
            data,
            functions: Vec::new(),
            relocations,
        });
    }
    sections.sort_by_key(|s| s.index);

    for symbol in file.symbols() {
        if !is_function(&symbol) {
            continue;
        }
        let Some(section_index) = symbol.section_index() else {
            continue;
        };
        let Ok(pos) = sections.binary_search_by_key(&section_index.0, |s| s.index) else {
            continue;
        };
        let Some(section) = sections.get_mut(pos) else {
            continue;
        };
        let name = String::from_utf8_lossy(symbol.name_bytes().map_err(malformed)?).into_owned();
        if name.is_empty() {
            continue;
        }
        section.functions.push(FunctionSymbol {
            name,
            offset: symbol.address(),
            size: symbol.size(),
        });
    }
    for section in &mut sections {
        clamp_functions(section);
    }
    Ok(Code {
        sections,
        little_endian: file.is_little_endian(),
    })
}

/// Sorts a section's functions and makes their extents sane: 8-byte aligned, inside the
/// section, not overlapping the next function; a size of 0 extends to the next function.
fn clamp_functions(section: &mut CodeSection) {
    let len = section.data.len() as u64;
    let functions = &mut section.functions;
    functions.retain(|f| f.offset % 8 == 0 && f.offset < len);
    functions.sort_by_key(|f| f.offset);
    functions.dedup_by_key(|f| f.offset);
    let starts: Vec<u64> = functions.iter().map(|f| f.offset).collect();
    for (i, f) in functions.iter_mut().enumerate() {
        let next = starts.get(i + 1).copied().unwrap_or(len);
        let end = if f.size == 0 {
            next
        } else {
            f.offset.saturating_add(f.size).min(next)
        };
        f.size = (end - f.offset) / 8 * 8;
    }
    functions.retain(|f| f.size > 0);
}

fn is_function(symbol: &object::Symbol<'_, '_>) -> bool {
    matches!(symbol.flags(), object::SymbolFlags::Elf { st_info, .. } if st_info.st_type() == object::elf::STT_FUNC)
}

fn malformed(e: object::Error) -> DebugInfoError {
    DebugInfoError::Malformed(e.to_string())
}

/// Reads every compilation unit's line table and scope tree.
fn read_dwarf(
    debug: &relocate::DebugSections,
    endian: gimli::RunTimeEndian,
    code: &Code,
) -> Result<(lines::LineTable, variables::Scopes, members::StructMembers), DebugInfoError> {
    let mut lines = lines::LineTable::default();
    let mut scopes = variables::Scopes::default();
    let mut members = members::StructMembers::default();
    if debug.get(".debug_info").is_empty() {
        return Ok((lines, scopes, members));
    }
    let dwarf = gimli::Dwarf::load(|id| {
        Ok::<_, DebugInfoError>(gimli::EndianSlice::new(debug.get(id.name()), endian))
    })?;
    let mut headers = dwarf.units();
    while let Some(header) = headers.next().map_err(dwarf_error)? {
        let unit = dwarf.unit(header).map_err(dwarf_error)?;
        let files = lines::UnitFiles::new(&dwarf, &unit);
        lines.add_unit(&unit, &files, code)?;
        scopes.add_unit(&dwarf, debug, &unit, &files, code)?;
        members.add_unit(&dwarf, &unit)?;
    }
    lines.finish();
    scopes.finish();
    Ok((lines, scopes, members))
}

fn dwarf_error(e: gimli::Error) -> DebugInfoError {
    DebugInfoError::Malformed(format!("DWARF: {e}"))
}
