//! The DWARF line table, indexed per code section: address -> file, line and column.
//!
//! The function and the inline chain of a [`SourceLoc`] come from the scope tree
//! (`variables.rs`); this module owns the rows and the unit's file names.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::relocate::split_range;
use super::{Code, DebugInfoError, InsnAddr, dwarf_error};

/// A source position, as precise as the debug information allows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceLoc {
    /// The source file; absolute when the compilation directory allows.
    pub file: PathBuf,
    /// 1-based line; 0 when the compiler attributed the instruction to no line.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub column: u32,
    /// The innermost function at this instruction, inlined functions included.
    pub function: String,
    /// Where each inlined function enclosing this instruction was called from, innermost first.
    pub inlined: Vec<InlinedCall>,
}

impl SourceLoc {
    /// The position in the program's own source. A row in library code (an aya-ebpf helper,
    /// core) moves out to the innermost inlined call made from the program's source, the line
    /// its author wrote: `SOURCES.insert(&si, ...)` rather than the helper call inside aya-ebpf's
    /// `HashMap::insert`. The inline chain keeps only the calls outside that one; `outermost`
    /// names the function the chain ends in. Without such a call the row is kept.
    pub(crate) fn in_own_source(mut self, outermost: impl FnOnce() -> String) -> SourceLoc {
        if !is_library_file(&self.file) {
            return self;
        }
        let Some(i) = self
            .inlined
            .iter()
            .position(|c| !is_library_file(&c.call_file))
        else {
            return self;
        };
        let call = self.inlined[i].clone();
        self.file = call.call_file;
        self.line = call.call_line;
        self.column = call.call_column;
        self.function = match self.inlined.get(i + 1) {
            Some(caller) => caller.function.clone(),
            None => outermost(),
        };
        self.inlined.drain(..=i);
        self
    }
}

/// Whether `file` is library code rather than the program's own source: Rust's `core`
/// (`/rustc/<commit>/library/...`, or a toolchain's `lib/rustlib/src`) and crates cargo
/// downloaded (`/cargo/registry/...` as remapped, or `~/.cargo/registry/...`).
pub(crate) fn is_library_file(file: &Path) -> bool {
    let path = file.to_string_lossy();
    path.starts_with("/rustc/")
        || path.starts_with("/cargo/registry/")
        || path.contains("/.cargo/registry/")
        || path.contains("/lib/rustlib/src/")
}

/// One level of inlining: the inlined function and where it was called from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InlinedCall {
    /// The function that was inlined.
    pub function: String,
    /// The file of the call.
    pub call_file: PathBuf,
    /// The line of the call.
    pub call_line: u32,
    /// The column of the call (0 when unknown).
    pub call_column: u32,
}

/// One line-table row: the position in effect from `offset` on.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// Byte offset in the section.
    pub(crate) offset: u64,
    /// Index into [`LineTable::file`].
    pub(crate) file: u32,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// A contiguous run of rows in one section, `[start, end)`.
#[derive(Debug)]
struct Sequence {
    start: u64,
    end: u64,
    /// Sorted by offset; several rows may share an offset (the last one is in effect).
    rows: Vec<Row>,
}

/// Every line-table row of the object, per code section.
#[derive(Debug, Default)]
pub(crate) struct LineTable {
    files: Vec<PathBuf>,
    file_ids: HashMap<PathBuf, u32>,
    sections: HashMap<usize, Vec<Sequence>>,
    /// Rows read so far.
    rows: usize,
}

/// The most rows the table holds; more means a hostile or broken object.
const MAX_ROWS: usize = 1 << 24;

impl LineTable {
    /// Whether no code has line information.
    pub(crate) fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// The path of file `id`.
    pub(crate) fn file(&self, id: u32) -> &Path {
        self.files
            .get(id as usize)
            .map_or(Path::new(""), PathBuf::as_path)
    }

    fn intern(&mut self, path: &Path) -> u32 {
        if let Some(id) = self.file_ids.get(path) {
            return *id;
        }
        let id = self.files.len() as u32;
        self.files.push(path.to_path_buf());
        self.file_ids.insert(path.to_path_buf(), id);
        id
    }

    /// Adds the rows of one unit's line program.
    pub(crate) fn add_unit<R: gimli::Reader>(
        &mut self,
        unit: &gimli::Unit<R>,
        files: &UnitFiles,
        code: &Code,
    ) -> Result<(), DebugInfoError> {
        let Some(program) = unit.line_program.clone() else {
            return Ok(());
        };
        refuse_unrepresentable_advances(program.header())?;
        let mut rows = program.rows();
        // (address, file, line, column) of the rows of the current sequence.
        let mut pending: Vec<(u64, u32, u32, u32)> = Vec::new();
        while let Some((_, row)) = rows.next_row().map_err(dwarf_error)? {
            self.rows += 1;
            if self.rows > MAX_ROWS {
                return Err(DebugInfoError::Malformed(format!(
                    "the line table has more than {MAX_ROWS} rows"
                )));
            }
            if row.end_sequence() {
                let rows = std::mem::take(&mut pending);
                self.add_sequence(rows, row.address(), code);
                continue;
            }
            let file = match files.path(row.file_index()) {
                Some(path) => self.intern(path),
                None => self.intern(Path::new("")),
            };
            let line = row
                .line()
                .map_or(0, |l| u32::try_from(l.get()).unwrap_or(u32::MAX));
            let column = match row.column() {
                gimli::ColumnType::LeftEdge => 0,
                gimli::ColumnType::Column(c) => u32::try_from(c.get()).unwrap_or(u32::MAX),
            };
            pending.push((row.address(), file, line, column));
        }
        Ok(())
    }

    fn add_sequence(&mut self, rows: Vec<(u64, u32, u32, u32)>, end: u64, code: &Code) {
        let Some(&(begin, ..)) = rows.first() else {
            return;
        };
        let Some((section, start, end)) = split_range(begin, end) else {
            return;
        };
        if code.section(section).is_none() {
            return;
        }
        let base = begin - start;
        let mut rows: Vec<Row> = rows
            .into_iter()
            .filter(|&(address, ..)| address >= begin && address - base < end)
            .map(|(address, file, line, column)| Row {
                offset: address - base,
                file,
                line,
                column,
            })
            .collect();
        // Addresses only grow within a sequence; a stable sort keeps a broken one usable.
        rows.sort_by_key(|r| r.offset);
        self.sections
            .entry(section)
            .or_default()
            .push(Sequence { start, end, rows });
    }

    /// Sorts the sequences once all units are in.
    pub(crate) fn finish(&mut self) {
        for sequences in self.sections.values_mut() {
            sequences.sort_by_key(|s| s.start);
        }
    }

    fn sequence_at(&self, addr: InsnAddr) -> Option<&Sequence> {
        let sequences = self.sections.get(&addr.section)?;
        let after = sequences.partition_point(|s| s.start <= addr.offset);
        // Sequences do not overlap in sane objects; look back a little in case they do.
        sequences[..after]
            .iter()
            .rev()
            .take(8)
            .find(|s| addr.offset < s.end)
    }

    /// The row in effect at `addr`: the last one at or before it in its sequence.
    pub(crate) fn row_at(&self, addr: InsnAddr) -> Option<&Row> {
        let sequence = self.sequence_at(addr)?;
        let after = sequence.rows.partition_point(|r| r.offset <= addr.offset);
        sequence.rows.get(after.checked_sub(1)?)
    }

    /// The row with a nonzero line nearest to `addr` in the same function: the closest one
    /// before it, else the closest one after it.
    pub(crate) fn nearest_nonzero_row(&self, addr: InsnAddr, code: &Code) -> Option<&Row> {
        let sequence = self.sequence_at(addr)?;
        let (lo, hi) = code
            .function_at(addr)
            .map_or((sequence.start, sequence.end), |f| {
                (f.offset, f.offset.saturating_add(f.size))
            });
        let after = sequence.rows.partition_point(|r| r.offset <= addr.offset);
        let (before, later) = sequence.rows.split_at(after);
        before
            .iter()
            .rev()
            .take_while(|r| r.offset >= lo)
            .find(|r| r.line != 0)
            .or_else(|| {
                later
                    .iter()
                    .take_while(|r| r.offset < hi)
                    .find(|r| r.line != 0)
            })
    }
}

/// Refuses a line program that advances the line by `i64::MIN`, which gimli negates (an
/// overflow) while running the program.
fn refuse_unrepresentable_advances<R: gimli::Reader>(
    header: &gimli::LineProgramHeader<R>,
) -> Result<(), DebugInfoError> {
    let mut instructions = header.instructions();
    while let Some(instruction) = instructions.next_instruction(header).map_err(dwarf_error)? {
        if matches!(instruction, gimli::LineInstruction::AdvanceLine(i64::MIN)) {
            return Err(DebugInfoError::Malformed(
                "DWARF: a line table advances the line by -2^63".to_string(),
            ));
        }
    }
    Ok(())
}

/// The file names of one unit's line program, as full paths, by DWARF file index.
#[derive(Debug, Default)]
pub(crate) struct UnitFiles {
    paths: HashMap<u64, PathBuf>,
}

impl UnitFiles {
    /// Resolves every file of the unit's line program against its directories and the
    /// compilation directory.
    pub(crate) fn new<R: gimli::Reader>(dwarf: &gimli::Dwarf<R>, unit: &gimli::Unit<R>) -> Self {
        let mut paths = HashMap::new();
        let Some(program) = &unit.line_program else {
            return UnitFiles { paths };
        };
        let header = program.header();
        let comp_dir = unit
            .comp_dir
            .as_ref()
            .and_then(|d| d.to_string_lossy().ok())
            .map(|d| PathBuf::from(d.as_ref()))
            .unwrap_or_default();
        let count = header.file_names().len() as u64;
        // DWARF 5 numbers files from 0, earlier versions from 1.
        for index in 0..=count {
            let Some(file) = header.file(index) else {
                continue;
            };
            let string = |value| {
                dwarf
                    .attr_string(unit, value)
                    .ok()
                    .and_then(|s| s.to_string_lossy().ok().map(|s| s.into_owned()))
            };
            let Some(name) = string(file.path_name()) else {
                continue;
            };
            let mut path = comp_dir.clone();
            if let Some(dir) = file.directory(header).and_then(string) {
                path.push(dir);
            }
            path.push(name);
            paths.insert(index, normalize(&path));
        }
        UnitFiles { paths }
    }

    /// The path of file `index`.
    pub(crate) fn path(&self, index: u64) -> Option<&Path> {
        self.paths.get(&index).map(PathBuf::as_path)
    }
}

/// Removes `.` and `dir/..` components lexically (the file system is not consulted).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                match last {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    Some(Component::RootDir) => {}
                    _ => out.push(".."),
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_removes_dot_and_dotdot() {
        assert_eq!(
            normalize(Path::new("/work/fixtures/../xdpdbg/./include/a.h")),
            PathBuf::from("/work/xdpdbg/include/a.h")
        );
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(normalize(Path::new("../a/../b")), PathBuf::from("../b"));
    }

    #[test]
    fn a_row_in_library_code_moves_to_the_programs_own_call() {
        let call = |function: &str, file: &str, line| InlinedCall {
            function: function.into(),
            call_file: PathBuf::from(file),
            call_line: line,
            call_column: 13,
        };
        let main = "fixtures/rust/realworld/x/prog/src/main.rs";
        // aya-ebpf's bindings, inlined into its HashMap::insert, inlined into the program.
        let in_aya = SourceLoc {
            file: PathBuf::from(
                "/cargo/registry/src/index/aya-ebpf-bindings-0.2.0/src/x86_64/helpers.rs",
            ),
            line: 24,
            column: 5,
            function: "bpf_map_update_elem".into(),
            inlined: vec![
                call(
                    "bpf_map_update_elem",
                    "/cargo/registry/src/index/aya-ebpf-0.2.1/src/lib.rs",
                    184,
                ),
                call("insert", main, 97),
                call("try_xdp_firewall", main, 64),
            ],
        };
        let own = in_aya.in_own_source(|| "xdp_firewall".into());
        assert_eq!(
            (own.file.to_str(), own.line, own.column),
            (Some(main), 97, 13)
        );
        assert_eq!(own.function, "try_xdp_firewall");
        assert_eq!(own.inlined, vec![call("try_xdp_firewall", main, 64)]);

        // The outermost call: the function is the one the chain ends in.
        let core = SourceLoc {
            file: PathBuf::from("/rustc/abc/library/core/src/ptr/mod.rs"),
            line: 10,
            column: 1,
            function: "read".into(),
            inlined: vec![call("read", main, 30)],
        };
        let own = core.in_own_source(|| "prog".into());
        assert_eq!((own.line, own.function.as_str()), (30, "prog"));
        assert!(own.inlined.is_empty());

        // The program's own code, and a C header, stay where they are.
        for file in [main, "/usr/include/linux/bpf.h"] {
            let loc = SourceLoc {
                file: PathBuf::from(file),
                line: 18,
                column: 14,
                function: "f".into(),
                inlined: vec![call("f", main, 40)],
            };
            assert_eq!(loc.clone().in_own_source(|| "g".into()), loc);
        }
    }
}
