//! Scopes and variables from `.debug_info`: which variables are declared around an instruction
//! and where each one lives there (register, stack slot, constant...).
//!
//! At parse time every concrete scope (function, inlined call, lexical block) and its variables
//! are read once, with their location lists turned into [`Place`]s; per code section a table of
//! non-overlapping segments names the innermost scope, so a query is a binary search plus a walk
//! up the scope chain.
//!
//! BPF specifics: DWARF registers 0..=10 are r0..r10 and the frame base is r10. clang up to at
//! least 18 describes stack slots relative to the bottom of the frame (`DW_OP_fbreg +8` or
//! `DW_OP_breg10 +4` for `r10 - 16` in a 24-byte frame: LLVM's BPF backend did not override
//! `getFrameIndexReference`, fixed in llvm-project PR 204722), so a non-negative offset is
//! rebased by the function's frame size, measured from its instructions (the lowest `r10`
//! offset they use, rounded up to 8). Negative offsets are taken as `r10`-relative already.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;

use super::lines::{InlinedCall, UnitFiles};
use super::program_layout::decode;
use super::relocate::{DebugSections, split_range};
use super::{Code, DebugInfoError, InsnAddr, dwarf_error};

/// A source variable (or parameter) at an instruction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    /// Its name in the source.
    pub name: String,
    /// Its type, written the C way (`struct ethhdr *`, `__u32`, `void *`), when known.
    pub type_name: Option<String>,
    /// What its type is underneath typedefs and qualifiers: its size and whether it is an
    /// aggregate (struct, union, array), when known.
    pub layout: Option<TypeLayout>,
    /// The function it belongs to (an inlined function's own name when inlined).
    pub function: String,
    /// Whether that function is inlined here.
    pub inlined: bool,
    /// Whether it is a formal parameter.
    pub parameter: bool,
    /// The file that declares it.
    pub decl_file: Option<PathBuf>,
    /// The line that declares it.
    pub decl_line: Option<u32>,
    /// Where its value is at this instruction.
    pub place: Place,
}

/// A type underneath its typedefs and qualifiers: what `sizeof` gives and how it is
/// initialised (`= 0` for a number or pointer, `= {}` for an aggregate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TypeLayout {
    /// `sizeof` the type, in bytes, when DWARF says.
    pub size: Option<u64>,
    /// Whether it is a struct, union or array (else a number, enum or pointer).
    pub aggregate: bool,
}

/// Where a variable's value is at one instruction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Place {
    /// In register rN (0..=10).
    Register(u8),
    /// In memory at fp+N (the stack slot `fp-16` is `Stack(-16)`).
    Stack(i64),
    /// Not stored anywhere, but it equals rN + offset (for r10: an address on the stack).
    RegisterPlus {
        /// The register.
        reg: u8,
        /// What to add to it.
        offset: i64,
    },
    /// A known constant.
    Constant(i64),
    /// The compiler dropped it here.
    OptimizedOut,
    /// A location this crate cannot express, described in words.
    Unknown(String),
}

/// Where a variable lives over its scope.
#[derive(Debug, Clone)]
enum Location {
    /// No location at all: optimized out everywhere.
    None,
    /// The same place wherever the scope is.
    Everywhere(Place),
    /// Places per address range: (section, start, end, place), sorted by section and start.
    List(Vec<(usize, u64, u64, Place)>),
}

#[derive(Debug, Clone)]
struct VarDecl {
    name: String,
    type_name: Option<String>,
    layout: Option<TypeLayout>,
    parameter: bool,
    decl_file: Option<PathBuf>,
    decl_line: Option<u32>,
    location: Location,
    /// The abstract DIE it instantiates, for inlined and out-of-line copies.
    origin: Option<usize>,
}

impl VarDecl {
    fn place_at(&self, addr: InsnAddr) -> Option<&Place> {
        match &self.location {
            Location::None => None,
            Location::Everywhere(place) => Some(place),
            Location::List(entries) => {
                let key = (addr.section, addr.offset);
                let after = entries.partition_point(|e| (e.0, e.1) <= key);
                entries[..after]
                    .iter()
                    .rev()
                    .take_while(|e| e.0 == addr.section)
                    .find(|e| addr.offset < e.2)
                    .map(|e| &e.3)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    Function,
    Inlined,
    Block,
}

/// What the instructions of a concrete function say about its stack frame.
#[derive(Debug, Clone, Copy, Default)]
struct Frame {
    /// The DWARF register `DW_OP_fbreg` is relative to (10 for BPF).
    base_register: Option<u16>,
    /// Bytes of stack the function uses below r10.
    size: u64,
}

#[derive(Debug)]
struct Scope {
    kind: ScopeKind,
    /// The function this scope belongs to (for an inlined call, the inlined function).
    function: String,
    inlined: bool,
    call: Option<InlinedCall>,
    parent: Option<usize>,
    depth: u32,
    ranges: Vec<(usize, u64, u64)>,
    vars: Vec<VarDecl>,
    frame: Frame,
    /// The abstract subprogram this scope instantiates (unit-relative DIE offset).
    origin: Option<usize>,
}

/// A stretch of a section whose innermost scope is `scope`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: u64,
    end: u64,
    scope: usize,
}

/// Every concrete scope of the object, with a per-section index.
#[derive(Debug, Default)]
pub(crate) struct Scopes {
    scopes: Vec<Scope>,
    segments: HashMap<usize, Vec<Segment>>,
    /// Work done so far (ranges, location entries, DIEs), to refuse hostile sizes.
    budget_used: usize,
}

/// The most ranges, location entries and DIEs read in total.
const MAX_WORK: usize = 1 << 24;
/// The deepest chain of type modifiers followed when naming a type.
const MAX_TYPE_DEPTH: u8 = 10;
/// The most DIEs read when listing the children of one DIE.
const MAX_CHILDREN: usize = 4096;
/// The most DIEs read to name one type.
const MAX_TYPE_DIES: u32 = 256;
/// The most `DW_AT_abstract_origin` / `DW_AT_specification` hops followed.
const MAX_ORIGIN_HOPS: u8 = 4;
/// The most operations of one location expression looked at.
const MAX_OPS: usize = 32;

type Slice<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;
type Die<'a> = gimli::DebuggingInformationEntry<Slice<'a>>;

/// What reading one unit needs at hand.
struct UnitReader<'a, 'u> {
    dwarf: &'u gimli::Dwarf<Slice<'a>>,
    /// The raw `.debug_rnglists` and `.debug_loclists`, to resolve list indexes safely.
    rnglists: &'a [u8],
    loclists: &'a [u8],
    unit: &'u gimli::Unit<Slice<'a>>,
    files: &'u UnitFiles,
    code: &'u Code,
    type_names: HashMap<usize, Option<String>>,
    type_layouts: HashMap<usize, Option<TypeLayout>>,
    /// DIEs the type name being built may still read (a hostile type graph could branch
    /// exponentially within [`MAX_TYPE_DEPTH`]).
    type_budget: Cell<u32>,
    /// DIEs read to name types since the last [`UnitReader::take_type_work`].
    type_work: usize,
}

impl Scopes {
    /// The number of concrete scopes.
    pub(crate) fn len(&self) -> usize {
        self.scopes.len()
    }

    fn spend(&mut self, n: usize) -> Result<(), DebugInfoError> {
        self.budget_used = self.budget_used.saturating_add(n);
        if self.budget_used > MAX_WORK {
            return Err(DebugInfoError::Malformed(
                "the debug information is unreasonably large".to_string(),
            ));
        }
        Ok(())
    }

    /// Reads the concrete scopes and variables of one unit.
    pub(crate) fn add_unit<'a>(
        &mut self,
        dwarf: &gimli::Dwarf<Slice<'a>>,
        debug: &'a DebugSections,
        unit: &gimli::Unit<Slice<'a>>,
        files: &UnitFiles,
        code: &Code,
    ) -> Result<(), DebugInfoError> {
        let mut reader = UnitReader {
            dwarf,
            rnglists: debug.get(".debug_rnglists"),
            loclists: debug.get(".debug_loclists"),
            unit,
            files,
            code,
            type_names: HashMap::new(),
            type_layouts: HashMap::new(),
            type_budget: Cell::new(0),
            type_work: 0,
        };
        let first_new = self.scopes.len();
        // For each depth on the path to the current DIE: the scope its children belong to.
        let mut parents: Vec<Option<usize>> = Vec::new();
        let mut cursor = unit.entries();
        while let Some(entry) = cursor.next_dfs().map_err(dwarf_error)? {
            self.spend(1)?;
            let depth = usize::try_from(entry.depth()).map_err(|_| {
                DebugInfoError::Malformed("DWARF: a DIE above its unit".to_string())
            })?;
            parents.truncate(depth);
            let parent = parents.last().copied().flatten();
            let this = match entry.tag() {
                gimli::DW_TAG_subprogram => self.function_scope(&mut reader, entry, parent)?,
                gimli::DW_TAG_inlined_subroutine => match parent {
                    Some(parent) => self.inlined_scope(&mut reader, entry, parent)?,
                    None => None,
                },
                gimli::DW_TAG_lexical_block => match parent {
                    Some(parent) => self
                        .block_scope(&mut reader, entry, parent)?
                        .or(Some(parent)),
                    None => None,
                },
                gimli::DW_TAG_variable | gimli::DW_TAG_formal_parameter => {
                    if let Some(parent) = parent {
                        let frame = self.scopes.get(parent).map(|s| s.frame).unwrap_or_default();
                        let var = self.var_decl(&mut reader, entry, frame)?;
                        if let Some(scope) = self.scopes.get_mut(parent) {
                            scope.vars.push(var);
                        }
                    }
                    None
                }
                _ => None,
            };
            // Pad in case a broken unit skipped a level, so indexes stay depths.
            while parents.len() < depth {
                parents.push(None);
            }
            parents.push(this);
        }
        for id in first_new..self.scopes.len() {
            self.add_abstract_vars(&mut reader, id)?;
        }
        Ok(())
    }

    fn new_scope(&mut self, scope: Scope) -> usize {
        self.scopes.push(scope);
        self.scopes.len() - 1
    }

    fn function_scope(
        &mut self,
        reader: &mut UnitReader<'_, '_>,
        entry: &Die<'_>,
        parent: Option<usize>,
    ) -> Result<Option<usize>, DebugInfoError> {
        let ranges = self.ranges(reader, entry)?;
        if ranges.is_empty() {
            // A declaration or an abstract instance: not code.
            return Ok(None);
        }
        let frame = Frame {
            base_register: frame_base_register(entry),
            size: frame_size(reader.code, &ranges),
        };
        let depth = parent
            .and_then(|p| self.scopes.get(p))
            .map_or(0, |p| p.depth + 1);
        let scope = Scope {
            kind: ScopeKind::Function,
            function: reader
                .name(entry)
                .unwrap_or_else(|| "<unknown>".to_string()),
            inlined: false,
            call: None,
            parent,
            depth,
            ranges,
            vars: Vec::new(),
            frame,
            origin: unit_ref(entry, gimli::DW_AT_abstract_origin),
        };
        Ok(Some(self.new_scope(scope)))
    }

    fn inlined_scope(
        &mut self,
        reader: &mut UnitReader<'_, '_>,
        entry: &Die<'_>,
        parent: usize,
    ) -> Result<Option<usize>, DebugInfoError> {
        let ranges = self.ranges(reader, entry)?;
        let Some(outer) = self.scopes.get(parent) else {
            return Ok(None);
        };
        if ranges.is_empty() {
            return Ok(Some(parent));
        }
        let function = reader
            .name(entry)
            .unwrap_or_else(|| "<unknown>".to_string());
        let call = InlinedCall {
            function: function.clone(),
            call_file: udata(entry, gimli::DW_AT_call_file)
                .and_then(|i| reader.files.path(i))
                .map(PathBuf::from)
                .unwrap_or_default(),
            call_line: udata_u32(entry, gimli::DW_AT_call_line).unwrap_or(0),
            call_column: udata_u32(entry, gimli::DW_AT_call_column).unwrap_or(0),
        };
        let scope = Scope {
            kind: ScopeKind::Inlined,
            function,
            inlined: true,
            call: Some(call),
            parent: Some(parent),
            depth: outer.depth + 1,
            ranges,
            vars: Vec::new(),
            frame: outer.frame,
            origin: unit_ref(entry, gimli::DW_AT_abstract_origin),
        };
        Ok(Some(self.new_scope(scope)))
    }

    fn block_scope(
        &mut self,
        reader: &mut UnitReader<'_, '_>,
        entry: &Die<'_>,
        parent: usize,
    ) -> Result<Option<usize>, DebugInfoError> {
        let ranges = self.ranges(reader, entry)?;
        let Some(outer) = self.scopes.get(parent) else {
            return Ok(None);
        };
        if ranges.is_empty() {
            return Ok(None);
        }
        let scope = Scope {
            kind: ScopeKind::Block,
            function: outer.function.clone(),
            inlined: outer.inlined,
            call: None,
            parent: Some(parent),
            depth: outer.depth + 1,
            ranges,
            vars: Vec::new(),
            frame: outer.frame,
            origin: None,
        };
        Ok(Some(self.new_scope(scope)))
    }

    /// The code ranges of a DIE (`DW_AT_low_pc`/`DW_AT_high_pc` or `DW_AT_ranges`), as
    /// (section, start, end) within code sections.
    fn ranges(
        &mut self,
        reader: &UnitReader<'_, '_>,
        entry: &Die<'_>,
    ) -> Result<Vec<(usize, u64, u64)>, DebugInfoError> {
        let (dwarf, unit) = (reader.dwarf, reader.unit);
        let mut raw = Vec::new();
        if let Some(value) = entry.attr_value(gimli::DW_AT_ranges) {
            let offset = match value {
                gimli::AttributeValue::DebugRngListsIndex(index) => Some(gimli::RangeListsOffset(
                    list_offset(reader.rnglists, reader, unit.rnglists_base.0, index.0)?,
                )),
                gimli::AttributeValue::RangeListsRef(raw) => {
                    Some(dwarf.ranges_offset_from_raw(unit, raw))
                }
                _ => None,
            };
            if let Some(offset) = offset {
                let mut list = dwarf.ranges(unit, offset).map_err(dwarf_error)?;
                while let Some(range) = list.next().map_err(dwarf_error)? {
                    self.spend(1)?;
                    raw.push((range.begin, range.end));
                }
            }
        } else if let Some(low) = entry.attr_value(gimli::DW_AT_low_pc) {
            let low = dwarf.attr_address(unit, low).map_err(dwarf_error)?;
            let high = match entry.attr_value(gimli::DW_AT_high_pc) {
                Some(gimli::AttributeValue::Udata(size)) => low.map(|l| l.wrapping_add(size)),
                Some(value) => dwarf.attr_address(unit, value).map_err(dwarf_error)?,
                None => None,
            };
            if let (Some(low), Some(high)) = (low, high) {
                raw.push((low, high));
            }
        }
        let mut ranges: Vec<(usize, u64, u64)> = raw
            .into_iter()
            .filter_map(|(begin, end)| split_range(begin, end))
            .filter(|(section, ..)| reader.code.section(*section).is_some())
            .collect();
        ranges.sort_unstable();
        Ok(ranges)
    }

    fn var_decl(
        &mut self,
        reader: &mut UnitReader<'_, '_>,
        entry: &Die<'_>,
        frame: Frame,
    ) -> Result<VarDecl, DebugInfoError> {
        let mut decl = reader.declaration(entry);
        self.spend(reader.take_type_work())?;
        decl.parameter = entry.tag() == gimli::DW_TAG_formal_parameter;
        decl.location = self.location(reader, entry, frame)?;
        Ok(decl)
    }

    fn location(
        &mut self,
        reader: &UnitReader<'_, '_>,
        entry: &Die<'_>,
        frame: Frame,
    ) -> Result<Location, DebugInfoError> {
        let encoding = reader.unit.encoding();
        if let Some(value) = entry.attr_value(gimli::DW_AT_location) {
            let offset = match value {
                gimli::AttributeValue::Exprloc(expr) => {
                    return Ok(Location::Everywhere(place(expr, encoding, frame)));
                }
                gimli::AttributeValue::LocationListsRef(offset) => Some(offset),
                gimli::AttributeValue::DebugLocListsIndex(index) => {
                    let base = reader.unit.loclists_base.0;
                    let raw = list_offset(reader.loclists, reader, base, index.0)?;
                    Some(gimli::LocationListsOffset(raw))
                }
                _ => None,
            };
            let Some(offset) = offset else {
                return Ok(Location::Everywhere(Place::Unknown(
                    "a location in a form this tool does not read".to_string(),
                )));
            };
            let mut list = reader
                .dwarf
                .locations(reader.unit, offset)
                .map_err(dwarf_error)?;
            let mut entries = Vec::new();
            while let Some(item) = list.next().map_err(dwarf_error)? {
                self.spend(1)?;
                let Some((section, start, end)) = split_range(item.range.begin, item.range.end)
                else {
                    continue;
                };
                if reader.code.section(section).is_none() {
                    continue;
                }
                entries.push((section, start, end, place(item.data, encoding, frame)));
            }
            entries.sort_by_key(|e| (e.0, e.1));
            return Ok(if entries.is_empty() {
                Location::None
            } else {
                Location::List(entries)
            });
        }
        if let Some(value) = entry.attr_value(gimli::DW_AT_const_value) {
            let place = match value {
                gimli::AttributeValue::Sdata(v) => Place::Constant(v),
                gimli::AttributeValue::Data1(v) => Place::Constant(i64::from(v)),
                gimli::AttributeValue::Data2(v) => Place::Constant(i64::from(v)),
                gimli::AttributeValue::Data4(v) => Place::Constant(i64::from(v)),
                gimli::AttributeValue::Data8(v) | gimli::AttributeValue::Udata(v) => {
                    Place::Constant(v as i64)
                }
                gimli::AttributeValue::Block(bytes) => {
                    Place::Unknown(format!("a constant of {} bytes", bytes.len()))
                }
                _ => Place::Unknown("a constant in a form this tool does not read".to_string()),
            };
            return Ok(Location::Everywhere(place));
        }
        Ok(Location::None)
    }

    /// Gives an instance of an abstract function (inlined or out of line) the variables its
    /// abstract DIE declares that the instance omits (optimized out), in declaration order.
    fn add_abstract_vars(
        &mut self,
        reader: &mut UnitReader<'_, '_>,
        id: usize,
    ) -> Result<(), DebugInfoError> {
        let Some(origin) = self.scopes.get(id).and_then(|s| s.origin) else {
            return Ok(());
        };
        let Some(origin_die) = reader.entry(origin) else {
            return Ok(());
        };
        let (offsets, read) = reader.children(&origin_die, false, |child| {
            matches!(
                child.tag(),
                gimli::DW_TAG_variable | gimli::DW_TAG_formal_parameter
            )
            .then(|| child.offset().0)
        });
        self.spend(read)?;
        let mut declared = Vec::new();
        for offset in offsets {
            let Some(entry) = reader.entry(offset) else {
                continue;
            };
            let mut decl = reader.declaration(&entry);
            self.spend(reader.take_type_work())?;
            decl.parameter = entry.tag() == gimli::DW_TAG_formal_parameter;
            decl.origin = Some(offset);
            declared.push(decl);
        }
        let Some(scope) = self.scopes.get_mut(id) else {
            return Ok(());
        };
        let mut present: HashMap<usize, VarDecl> = HashMap::new();
        let mut others = Vec::new();
        for var in scope.vars.drain(..) {
            match var.origin {
                Some(o) if !present.contains_key(&o) => {
                    present.insert(o, var);
                }
                _ => others.push(var),
            }
        }
        let mut vars = Vec::new();
        for decl in declared {
            let origin = decl.origin.unwrap_or(usize::MAX);
            vars.push(present.remove(&origin).unwrap_or(decl));
        }
        let mut rest: Vec<VarDecl> = present.into_values().collect();
        rest.sort_by_key(|v| v.origin);
        vars.extend(rest);
        vars.extend(others);
        scope.vars = vars;
        Ok(())
    }

    /// Builds the per-section segment index once all units are in.
    pub(crate) fn finish(&mut self) {
        let mut by_section: BTreeMap<usize, Vec<(u64, u64, u32, usize)>> = BTreeMap::new();
        for (id, scope) in self.scopes.iter().enumerate() {
            for &(section, start, end) in &scope.ranges {
                by_section
                    .entry(section)
                    .or_default()
                    .push((start, end, scope.depth, id));
            }
        }
        self.segments = by_section
            .into_iter()
            .map(|(section, intervals)| (section, segments(intervals)))
            .collect();
    }

    /// The scopes around `addr`, innermost first.
    fn chain(&self, addr: InsnAddr) -> Vec<&Scope> {
        let mut out = Vec::new();
        let Some(segments) = self.segments.get(&addr.section) else {
            return out;
        };
        let after = segments.partition_point(|s| s.start <= addr.offset);
        let Some(segment) = after.checked_sub(1).and_then(|i| segments.get(i)) else {
            return out;
        };
        if addr.offset >= segment.end {
            return out;
        }
        let mut next = Some(segment.scope);
        let mut seen = HashSet::new();
        while let Some(id) = next {
            if !seen.insert(id) {
                break;
            }
            let Some(scope) = self.scopes.get(id) else {
                break;
            };
            out.push(scope);
            next = scope.parent;
        }
        out
    }

    /// The innermost function at `addr` and the inline chain, innermost first.
    pub(crate) fn function_and_inline_chain(
        &self,
        addr: InsnAddr,
    ) -> (Option<String>, Vec<InlinedCall>) {
        let chain = self.chain(addr);
        let function = chain.first().map(|s| s.function.clone());
        let inlined = chain
            .iter()
            .filter(|s| s.kind == ScopeKind::Inlined)
            .filter_map(|s| s.call.clone())
            .collect();
        (function, inlined)
    }

    /// The variables of the scopes around `addr`, innermost first: those with a place there,
    /// or with `all`, every one (optimized out where it has no place).
    pub(crate) fn variables(&self, addr: InsnAddr, all: bool) -> Vec<Variable> {
        let mut out = Vec::new();
        for scope in self.chain(addr) {
            for var in &scope.vars {
                let place = match var.place_at(addr) {
                    Some(place) => place.clone(),
                    None if all => Place::OptimizedOut,
                    None => continue,
                };
                out.push(Variable {
                    name: var.name.clone(),
                    type_name: var.type_name.clone(),
                    layout: var.layout,
                    function: scope.function.clone(),
                    inlined: scope.inlined,
                    parameter: var.parameter,
                    decl_file: var.decl_file.clone(),
                    decl_line: var.decl_line,
                    place,
                });
            }
        }
        out
    }
}

/// Splits possibly nested intervals (start, end, depth, id) into non-overlapping segments, each
/// naming the deepest interval covering it.
fn segments(mut intervals: Vec<(u64, u64, u32, usize)>) -> Vec<Segment> {
    intervals.retain(|i| i.0 < i.1);
    let mut points: Vec<u64> = intervals.iter().flat_map(|i| [i.0, i.1]).collect();
    points.sort_unstable();
    points.dedup();
    let mut by_start = intervals.clone();
    by_start.sort_unstable_by_key(|i| i.0);
    let mut by_end = intervals;
    by_end.sort_unstable_by_key(|i| i.1);
    let (mut next_start, mut next_end) = (0, 0);
    let mut active: BTreeMap<(u32, usize), usize> = BTreeMap::new();
    let mut out: Vec<Segment> = Vec::new();
    for pair in points.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        while let Some(i) = by_end.get(next_end).filter(|i| i.1 <= from) {
            if let Some(count) = active.get_mut(&(i.2, i.3)) {
                *count -= 1;
                if *count == 0 {
                    active.remove(&(i.2, i.3));
                }
            }
            next_end += 1;
        }
        while let Some(i) = by_start.get(next_start).filter(|i| i.0 <= from) {
            *active.entry((i.2, i.3)).or_insert(0) += 1;
            next_start += 1;
        }
        let Some((&(_, scope), _)) = active.iter().next_back() else {
            continue;
        };
        match out.last_mut() {
            Some(last) if last.end == from && last.scope == scope => last.end = to,
            _ => out.push(Segment {
                start: from,
                end: to,
                scope,
            }),
        }
    }
    out
}

impl<'a> UnitReader<'a, '_> {
    fn string(&self, value: gimli::AttributeValue<Slice<'_>>) -> Option<String> {
        let s = self.dwarf.attr_string(self.unit, value).ok()?;
        Some(s.to_string_lossy().into_owned())
    }

    fn entry(&self, offset: usize) -> Option<Die<'a>> {
        self.unit.entry(gimli::UnitOffset(offset)).ok()
    }

    /// An attribute of `entry`, or of the DIEs it refers to through `DW_AT_abstract_origin`
    /// or `DW_AT_specification`.
    fn inherited<T>(&self, entry: &Die<'_>, get: impl Fn(&Die<'_>) -> Option<T>) -> Option<T> {
        if let Some(v) = get(entry) {
            return Some(v);
        }
        let mut next = unit_ref(entry, gimli::DW_AT_abstract_origin)
            .or_else(|| unit_ref(entry, gimli::DW_AT_specification));
        for _ in 0..MAX_ORIGIN_HOPS {
            let die = self.entry(next?)?;
            if let Some(v) = get(&die) {
                return Some(v);
            }
            next = unit_ref(&die, gimli::DW_AT_abstract_origin)
                .or_else(|| unit_ref(&die, gimli::DW_AT_specification));
        }
        None
    }

    fn name(&self, entry: &Die<'_>) -> Option<String> {
        self.inherited(entry, |die| {
            die.attr_value(gimli::DW_AT_name)
                .or_else(|| die.attr_value(gimli::DW_AT_linkage_name))
                .and_then(|v| self.string(v))
        })
        .map(|n| unescape_linker_name(&n))
    }

    /// Name, type and declaration of a variable DIE (location left empty).
    fn declaration(&mut self, entry: &Die<'_>) -> VarDecl {
        let type_offset = self.inherited(entry, |die| unit_ref(die, gimli::DW_AT_type));
        let type_name = type_offset.and_then(|t| self.type_name(t));
        let layout = type_offset.and_then(|t| self.type_layout(t));
        VarDecl {
            name: self.name(entry).unwrap_or_else(|| "<unnamed>".to_string()),
            type_name,
            layout,
            parameter: false,
            decl_file: self
                .inherited(entry, |die| udata(die, gimli::DW_AT_decl_file))
                .and_then(|i| self.files.path(i))
                .map(PathBuf::from),
            decl_line: self.inherited(entry, |die| udata_u32(die, gimli::DW_AT_decl_line)),
            location: Location::None,
            origin: unit_ref(entry, gimli::DW_AT_abstract_origin),
        }
    }

    /// The DIEs type naming read since the last call.
    fn take_type_work(&mut self) -> usize {
        std::mem::take(&mut self.type_work)
    }

    fn type_name(&mut self, offset: usize) -> Option<String> {
        if let Some(name) = self.type_names.get(&offset) {
            return name.clone();
        }
        self.type_budget.set(MAX_TYPE_DIES);
        let name = self.type_name_at(offset, 0);
        self.type_work += (MAX_TYPE_DIES - self.type_budget.get()) as usize;
        self.type_names.insert(offset, name.clone());
        name
    }

    /// The C spelling of the type at `offset`.
    fn type_name_at(&self, offset: usize, depth: u8) -> Option<String> {
        let budget = self.type_budget.get();
        if depth > MAX_TYPE_DEPTH || budget == 0 {
            return Some("...".to_string());
        }
        self.type_budget.set(budget - 1);
        let die = self.entry(offset)?;
        let name = || {
            die.attr_value(gimli::DW_AT_name)
                .and_then(|v| self.string(v))
        };
        let inner = || match unit_ref(&die, gimli::DW_AT_type) {
            Some(t) => self.type_name_at(t, depth + 1),
            None => Some("void".to_string()),
        };
        let tagged = |keyword: &str| {
            Some(format!(
                "{keyword} {}",
                name().unwrap_or_else(|| "<anonymous>".to_string())
            ))
        };
        let qualified = |qualifier: &str| {
            let inner = inner()?;
            Some(if inner.ends_with('*') {
                format!("{inner} {qualifier}")
            } else {
                format!("{qualifier} {inner}")
            })
        };
        match die.tag() {
            gimli::DW_TAG_base_type | gimli::DW_TAG_typedef | gimli::DW_TAG_unspecified_type => {
                name()
            }
            gimli::DW_TAG_structure_type => tagged("struct"),
            gimli::DW_TAG_union_type => tagged("union"),
            gimli::DW_TAG_enumeration_type => tagged("enum"),
            gimli::DW_TAG_class_type => tagged("class"),
            gimli::DW_TAG_const_type => qualified("const"),
            gimli::DW_TAG_volatile_type => qualified("volatile"),
            gimli::DW_TAG_restrict_type => qualified("restrict"),
            gimli::DW_TAG_atomic_type => qualified("_Atomic"),
            gimli::DW_TAG_pointer_type | gimli::DW_TAG_reference_type => {
                let sigil = if die.tag() == gimli::DW_TAG_pointer_type {
                    "*"
                } else {
                    "&"
                };
                let target = unit_ref(&die, gimli::DW_AT_type).and_then(|t| self.entry(t));
                if let Some(target) = target.filter(|t| t.tag() == gimli::DW_TAG_subroutine_type) {
                    let (ret, params) = self.signature(&target, depth + 1);
                    return Some(format!("{ret} ({sigil})({params})"));
                }
                let inner = inner()?;
                Some(if inner.ends_with('*') {
                    format!("{inner}{sigil}")
                } else {
                    format!("{inner} {sigil}")
                })
            }
            gimli::DW_TAG_array_type => {
                let element = inner()?;
                Some(format!("{element}{}", self.dimensions(&die)))
            }
            gimli::DW_TAG_subroutine_type => {
                let (ret, params) = self.signature(&die, depth);
                Some(format!("{ret} ({params})"))
            }
            _ => name(),
        }
    }

    fn type_layout(&mut self, offset: usize) -> Option<TypeLayout> {
        if let Some(layout) = self.type_layouts.get(&offset) {
            return *layout;
        }
        self.type_budget.set(MAX_TYPE_DIES);
        let layout = self.type_layout_at(offset, 0);
        self.type_work += (MAX_TYPE_DIES - self.type_budget.get()) as usize;
        self.type_layouts.insert(offset, layout);
        layout
    }

    /// The size and kind of the type at `offset`, seen through typedefs and qualifiers.
    fn type_layout_at(&self, offset: usize, depth: u8) -> Option<TypeLayout> {
        let budget = self.type_budget.get();
        if depth > MAX_TYPE_DEPTH || budget == 0 {
            return None;
        }
        self.type_budget.set(budget - 1);
        let die = self.entry(offset)?;
        let size = udata(&die, gimli::DW_AT_byte_size);
        let leaf = |aggregate| Some(TypeLayout { size, aggregate });
        match die.tag() {
            gimli::DW_TAG_typedef
            | gimli::DW_TAG_const_type
            | gimli::DW_TAG_volatile_type
            | gimli::DW_TAG_restrict_type
            | gimli::DW_TAG_atomic_type => {
                self.type_layout_at(unit_ref(&die, gimli::DW_AT_type)?, depth + 1)
            }
            gimli::DW_TAG_base_type | gimli::DW_TAG_enumeration_type => leaf(false),
            gimli::DW_TAG_pointer_type | gimli::DW_TAG_reference_type => Some(TypeLayout {
                // BPF pointers are 64-bit; clang leaves the size out.
                size: size.or(Some(8)),
                aggregate: false,
            }),
            gimli::DW_TAG_structure_type | gimli::DW_TAG_union_type | gimli::DW_TAG_class_type => {
                leaf(true)
            }
            gimli::DW_TAG_array_type => {
                let element = unit_ref(&die, gimli::DW_AT_type)
                    .and_then(|t| self.type_layout_at(t, depth + 1))
                    .and_then(|l| l.size);
                let (counts, _) = self.children(&die, true, |child| {
                    (child.tag() == gimli::DW_TAG_subrange_type).then(|| {
                        udata(child, gimli::DW_AT_count).or_else(|| {
                            udata(child, gimli::DW_AT_upper_bound).map(|u| u.saturating_add(1))
                        })
                    })
                });
                let count = (!counts.is_empty())
                    .then(|| {
                        counts
                            .iter()
                            .try_fold(1u64, |n, c| c.and_then(|c| n.checked_mul(c)))
                    })
                    .flatten();
                Some(TypeLayout {
                    size: size.or_else(|| element?.checked_mul(count?)),
                    aggregate: true,
                })
            }
            _ => None,
        }
    }

    /// The children of `die` (depth 1 only), as read by `f`, and how many DIEs that read. With
    /// `charge`, every DIE read comes out of the type-naming budget.
    fn children<T>(
        &self,
        die: &Die<'_>,
        charge: bool,
        mut f: impl FnMut(&Die<'_>) -> Option<T>,
    ) -> (Vec<T>, usize) {
        let mut out = Vec::new();
        let Ok(mut cursor) = self.unit.entries_at_offset(die.offset()) else {
            return (out, 0);
        };
        let mut seen = 0usize;
        while let Ok(Some(entry)) = cursor.next_dfs() {
            seen += 1;
            if seen > MAX_CHILDREN || entry.depth() < 0 || (entry.depth() == 0 && seen > 1) {
                break;
            }
            if charge {
                let budget = self.type_budget.get();
                if budget == 0 {
                    break;
                }
                self.type_budget.set(budget - 1);
            }
            if entry.depth() == 1
                && let Some(v) = f(entry)
            {
                out.push(v);
            }
        }
        (out, seen)
    }

    /// `[N][M]` for an array type's subranges.
    fn dimensions(&self, die: &Die<'_>) -> String {
        let (dims, _) = self.children(die, true, |child| {
            (child.tag() == gimli::DW_TAG_subrange_type).then(|| {
                udata(child, gimli::DW_AT_count)
                    .or_else(|| udata(child, gimli::DW_AT_upper_bound).map(|u| u.saturating_add(1)))
            })
        });
        if dims.is_empty() {
            return "[]".to_string();
        }
        dims.iter()
            .map(|d| d.map_or_else(|| "[]".to_string(), |n| format!("[{n}]")))
            .collect()
    }

    /// Return type and parameter list of a subroutine type.
    fn signature(&self, die: &Die<'_>, depth: u8) -> (String, String) {
        let ret = match unit_ref(die, gimli::DW_AT_type) {
            Some(t) => self
                .type_name_at(t, depth + 1)
                .unwrap_or_else(|| "?".to_string()),
            None => "void".to_string(),
        };
        let (params, _) = self.children(die, true, |child| match child.tag() {
            gimli::DW_TAG_formal_parameter => Some(
                unit_ref(child, gimli::DW_AT_type)
                    .and_then(|t| self.type_name_at(t, depth + 1))
                    .unwrap_or_else(|| "?".to_string()),
            ),
            gimli::DW_TAG_unspecified_parameters => Some("...".to_string()),
            _ => None,
        });
        (ret, params.join(", "))
    }
}

/// The offset an index into `.debug_rnglists` / `.debug_loclists` stands for, read with
/// checked arithmetic (the offsets table follows the header at `base`).
fn list_offset(
    section: &[u8],
    reader: &UnitReader<'_, '_>,
    base: usize,
    index: usize,
) -> Result<usize, DebugInfoError> {
    let bad = || DebugInfoError::Malformed("DWARF: a list index outside its table".to_string());
    let word = usize::from(reader.unit.encoding().format.word_size()).min(8);
    let at = index
        .checked_mul(word)
        .and_then(|o| o.checked_add(base))
        .ok_or_else(bad)?;
    let bytes = section
        .get(at..at.checked_add(word).ok_or_else(bad)?)
        .ok_or_else(bad)?;
    let mut raw = [0u8; 8];
    let value = if reader.code.little_endian {
        raw[..word].copy_from_slice(bytes);
        u64::from_le_bytes(raw)
    } else {
        raw[8 - word..].copy_from_slice(bytes);
        u64::from_be_bytes(raw)
    };
    usize::try_from(value)
        .ok()
        .and_then(|v| v.checked_add(base))
        .ok_or_else(bad)
}

fn unit_ref(die: &Die<'_>, name: gimli::DwAt) -> Option<usize> {
    match die.attr_value(name)? {
        gimli::AttributeValue::UnitRef(offset) => Some(offset.0),
        _ => None,
    }
}

fn udata(die: &Die<'_>, name: gimli::DwAt) -> Option<u64> {
    match die.attr_value(name)? {
        gimli::AttributeValue::FileIndex(v) => Some(v),
        value => value.udata_value(),
    }
}

fn udata_u32(die: &Die<'_>, name: gimli::DwAt) -> Option<u32> {
    udata(die, name).and_then(|v| u32::try_from(v).ok())
}

/// The register of a `DW_AT_frame_base` of the form `DW_OP_regN`.
fn frame_base_register(die: &Die<'_>) -> Option<u16> {
    let gimli::AttributeValue::Exprloc(expr) = die.attr_value(gimli::DW_AT_frame_base)? else {
        return None;
    };
    let bytes = expr.0.slice();
    // DW_OP_reg0..DW_OP_reg31 are single bytes 0x50..=0x6f.
    match bytes {
        [op] if (0x50..=0x6f).contains(op) => Some(u16::from(op - 0x50)),
        _ => None,
    }
}

/// `BPF_ALU64 | BPF_ADD | BPF_K`.
const ADD64_IMM: u8 = 0x07;
/// `BPF_ALU64 | BPF_MOV | BPF_X`.
const MOV64_REG: u8 = 0xbf;
/// Instruction classes that access memory through `dst_reg`/`src_reg` + `off`.
const CLASS_LDX: u8 = 0x01;
const CLASS_ST: u8 = 0x02;
const CLASS_STX: u8 = 0x03;

/// The bytes of stack below r10 a function's instructions use, rounded up to 8: the deepest
/// `r10 + off` accessed directly or taken as an address (`rX = r10; rX += off`).
pub(crate) fn frame_size(code: &Code, ranges: &[(usize, u64, u64)]) -> u64 {
    let mut deepest: i64 = 0;
    for &(section, start, end) in ranges {
        let Some(section) = code.section(section) else {
            continue;
        };
        let mut holds_fp = [false; 16];
        let mut offset = start;
        while offset < end {
            let Some(bytes) = section.slot(offset) else {
                break;
            };
            offset += 8;
            let insn = decode(bytes, code.little_endian);
            let dst = usize::from(insn.dst_reg & 0x0f);
            match insn.code & 0x07 {
                CLASS_LDX if insn.src_reg == 10 => deepest = deepest.min(i64::from(insn.off)),
                CLASS_ST | CLASS_STX if insn.dst_reg == 10 => {
                    deepest = deepest.min(i64::from(insn.off));
                }
                _ => {}
            }
            if insn.code == ADD64_IMM && holds_fp[dst] {
                deepest = deepest.min(i64::from(insn.imm));
            }
            holds_fp[dst] = insn.code == MOV64_REG && insn.src_reg == 10;
        }
    }
    deepest.unsigned_abs().div_ceil(8) * 8
}

/// A stack slot named by an r10- or frame-base-relative offset (see the module docs).
fn stack_offset(offset: i64, frame: Frame) -> Option<i64> {
    if offset < 0 {
        return Some(offset);
    }
    let size = i64::try_from(frame.size).ok()?;
    let slot = offset.checked_sub(size)?;
    (slot < 0).then_some(slot)
}

fn register(r: gimli::Register) -> Option<u8> {
    u8::try_from(r.0).ok().filter(|r| *r <= 10)
}

/// The place a location expression describes.
fn place(expr: gimli::Expression<Slice<'_>>, encoding: gimli::Encoding, frame: Frame) -> Place {
    let mut ops = Vec::new();
    let mut iter = expr.operations(encoding);
    loop {
        match iter.next() {
            Ok(Some(op)) if ops.len() < MAX_OPS => ops.push(op),
            Ok(Some(_)) => return Place::Unknown("a long location expression".to_string()),
            Ok(None) => break,
            Err(e) => return Place::Unknown(format!("an unreadable location expression ({e})")),
        }
    }
    use gimli::Operation as Op;
    let unknown = |ops: &[Op<Slice<'_>>]| Place::Unknown(describe(ops));
    let stack = |offset: i64| match stack_offset(offset, frame) {
        Some(slot) => Place::Stack(slot),
        None => Place::Unknown(format!(
            "a stack slot {offset} bytes above the bottom of a {}-byte frame",
            frame.size
        )),
    };
    match ops.as_slice() {
        [] => Place::OptimizedOut,
        [Op::Register { register: r }] => match register(*r) {
            Some(r) => Place::Register(r),
            None => unknown(&ops),
        },
        [
            Op::RegisterOffset {
                register: r,
                offset,
                ..
            },
        ] if r.0 == 10 => stack(*offset),
        [Op::FrameOffset { offset }] if frame.base_register.unwrap_or(10) == 10 => stack(*offset),
        [
            Op::RegisterOffset {
                register: r,
                offset,
                ..
            },
            Op::StackValue,
        ] => match register(*r) {
            Some(10) => match stack_offset(*offset, frame) {
                Some(slot) => Place::RegisterPlus {
                    reg: 10,
                    offset: slot,
                },
                None => unknown(&ops),
            },
            Some(reg) => Place::RegisterPlus {
                reg,
                offset: *offset,
            },
            None => unknown(&ops),
        },
        [Op::UnsignedConstant { value }, Op::StackValue] => Place::Constant(*value as i64),
        [Op::SignedConstant { value }, Op::StackValue] => Place::Constant(*value),
        _ => unknown(&ops),
    }
}

/// Words for a location expression this crate does not map to a [`Place`].
fn describe(ops: &[gimli::Operation<Slice<'_>>]) -> String {
    use gimli::Operation as Op;
    let reg = |r: &gimli::Register| match register(*r) {
        Some(r) => format!("r{r}"),
        None => format!("DWARF register {}", r.0),
    };
    if ops
        .iter()
        .any(|op| matches!(op, Op::Address { .. } | Op::AddressIndex { .. }))
    {
        return "a global variable's memory".to_string();
    }
    if let [Op::EntryValue { .. }, ..] = ops {
        return "the value a register had on entry to the function".to_string();
    }
    if ops.iter().any(|op| matches!(op, Op::Piece { .. })) {
        let mut parts = Vec::new();
        let mut current: Option<String> = None;
        for op in ops {
            match op {
                Op::Register { register } => current = Some(reg(register)),
                Op::RegisterOffset {
                    register, offset, ..
                } => current = Some(format!("memory at {}{offset:+}", reg(register))),
                Op::FrameOffset { offset } => current = Some(format!("the frame base{offset:+}")),
                Op::UnsignedConstant { value } => current = Some(format!("{value}")),
                Op::SignedConstant { value } => current = Some(format!("{value}")),
                Op::Piece { size_in_bits, .. } => {
                    let what = current
                        .take()
                        .unwrap_or_else(|| "optimized out".to_string());
                    parts.push(format!("{} bits: {what}", size_in_bits));
                }
                _ => {}
            }
        }
        return format!("in pieces ({})", parts.join("; "));
    }
    let words: Vec<String> = ops
        .iter()
        .map(|op| match op {
            Op::Register { register } => reg(register),
            Op::RegisterOffset {
                register, offset, ..
            } => format!("{}{offset:+}", reg(register)),
            Op::FrameOffset { offset } => format!("fbreg{offset:+}"),
            Op::UnsignedConstant { value } => format!("{value}"),
            Op::SignedConstant { value } => format!("{value}"),
            Op::Deref { size, .. } => format!("deref({size})"),
            Op::PlusConstant { value } => format!("+{value}"),
            Op::StackValue => "value".to_string(),
            Op::ImplicitPointer { .. } => "pointer to another variable".to_string(),
            other => format!("{other:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap_or("?")
                .to_string(),
        })
        .collect();
    format!("computed as [{}]", words.join(", "))
}

/// The variable held in register `reg`, from a list [`super::DebugInfo::variables_at`] gave.
pub fn variable_in_register(vars: &[Variable], reg: u8) -> Option<&Variable> {
    vars.iter().find(|v| v.place == Place::Register(reg))
}

/// The variable in the 8-byte stack slot fp+`off`: the one starting there, else one starting
/// inside the slot (a `u32` at fp-4 lives in slot fp-8), else the larger stack variable (an
/// array or struct) the slot lies in.
pub fn variable_in_slot(vars: &[Variable], off: i64) -> Option<&Variable> {
    vars.iter()
        .find(|v| v.place == Place::Stack(off))
        .or_else(|| {
            vars.iter()
                .find(|v| matches!(v.place, Place::Stack(start) if start > off && start < off + 8))
        })
        .or_else(|| {
            vars.iter()
                .filter_map(|v| match v.place {
                    Place::Stack(start) if start <= off && off - start < 64 => Some((start, v)),
                    _ => None,
                })
                .max_by_key(|(start, _)| *start)
                .map(|(_, v)| v)
        })
}

/// A Rust generic's name as rustc wrote it. bpf-linker rewrites the characters BTF does not
/// allow in names as `_XX_` (their hex code), in the DWARF too:
/// `insert_3C_app_3A__3A_Key_2C__20_u32_3E_` is `insert<app::Key, u32>`. Only names holding an
/// escaped `<` or `::` are rewritten, so a C name that happens to contain `_20_` stays as it is.
fn unescape_linker_name(name: &str) -> String {
    if !name.contains("_3C_") && !name.contains("_3A__3A_") {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(pos) = rest.find('_') {
        out.push_str(&rest[..pos]);
        let escaped = rest
            .get(pos + 1..pos + 4)
            .filter(|e| e.ends_with('_'))
            .and_then(|e| u8::from_str_radix(&e[..2], 16).ok())
            .map(char::from)
            .filter(|c| "<>:, &*()[];'".contains(*c));
        match escaped {
            Some(c) => {
                out.push(c);
                rest = &rest[pos + 4..];
            }
            None => {
                out.push('_');
                rest = &rest[pos + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_intervals_become_innermost_segments() {
        // Function 0 covers [0, 100); block 1 covers [10, 20) and [40, 50); block 2 [12, 14).
        let got = segments(vec![
            (0, 100, 0, 0),
            (10, 20, 1, 1),
            (40, 50, 1, 1),
            (12, 14, 2, 2),
        ]);
        let got: Vec<_> = got.iter().map(|s| (s.start, s.end, s.scope)).collect();
        assert_eq!(
            got,
            vec![
                (0, 10, 0),
                (10, 12, 1),
                (12, 14, 2),
                (14, 20, 1),
                (20, 40, 0),
                (40, 50, 1),
                (50, 100, 0)
            ]
        );
    }

    #[test]
    fn gaps_between_functions_have_no_segment() {
        let got = segments(vec![(0, 8, 0, 0), (16, 24, 0, 1)]);
        let got: Vec<_> = got.iter().map(|s| (s.start, s.end, s.scope)).collect();
        assert_eq!(got, vec![(0, 8, 0), (16, 24, 1)]);
    }

    fn place_of(bytes: &[u8], frame_size: u64) -> Place {
        let encoding = gimli::Encoding {
            format: gimli::Format::Dwarf32,
            version: 5,
            address_size: 8,
        };
        let frame = Frame {
            base_register: Some(10),
            size: frame_size,
        };
        let expr = gimli::Expression(gimli::EndianSlice::new(bytes, gimli::RunTimeEndian::Little));
        place(expr, encoding, frame)
    }

    #[test]
    fn location_expressions_become_places() {
        assert_eq!(place_of(&[], 0), Place::OptimizedOut);
        assert_eq!(place_of(&[0x53], 0), Place::Register(3)); // DW_OP_reg3
        assert_eq!(place_of(&[0x7a, 0x04], 8), Place::Stack(-4)); // DW_OP_breg10 +4
        assert_eq!(place_of(&[0x91, 0x08], 24), Place::Stack(-16)); // DW_OP_fbreg +8
        assert_eq!(place_of(&[0x91, 0x70], 24), Place::Stack(-16)); // DW_OP_fbreg -16
        // DW_OP_breg6 +8, DW_OP_stack_value
        assert_eq!(
            place_of(&[0x76, 0x08, 0x9f], 0),
            Place::RegisterPlus { reg: 6, offset: 8 }
        );
        // DW_OP_breg10 +4, DW_OP_stack_value: the address fp-4.
        assert_eq!(
            place_of(&[0x7a, 0x04, 0x9f], 8),
            Place::RegisterPlus {
                reg: 10,
                offset: -4
            }
        );
        assert_eq!(place_of(&[0x10, 0x05, 0x9f], 0), Place::Constant(5)); // constu 5
        assert_eq!(place_of(&[0x11, 0x7d, 0x9f], 0), Place::Constant(-3)); // consts -3
        assert_eq!(place_of(&[0x30, 0x9f], 0), Place::Constant(0)); // lit0
        // A stack offset beyond the frame cannot be placed.
        assert!(matches!(place_of(&[0x7a, 0x10], 8), Place::Unknown(_)));
        // DW_OP_reg12 is no BPF register.
        assert!(matches!(place_of(&[0x5c], 0), Place::Unknown(_)));
        // DW_OP_reg1, DW_OP_piece 4, DW_OP_reg2, DW_OP_piece 4
        let Place::Unknown(pieces) = place_of(&[0x51, 0x93, 0x04, 0x52, 0x93, 0x04], 0) else {
            panic!("pieces are not one place");
        };
        assert_eq!(pieces, "in pieces (32 bits: r1; 32 bits: r2)");
        // DW_OP_breg6 +8, DW_OP_deref, DW_OP_stack_value
        let Place::Unknown(computed) = place_of(&[0x76, 0x08, 0x06, 0x9f], 0) else {
            panic!("a dereference is not a place");
        };
        assert_eq!(computed, "computed as [r6+8, deref(8), value]");
        // DW_OP_entry_value(DW_OP_reg1), DW_OP_stack_value
        let Place::Unknown(entry) = place_of(&[0xa3, 0x01, 0x51, 0x9f], 0) else {
            panic!("an entry value is not a place");
        };
        assert!(entry.contains("on entry"), "{entry}");
        // Truncated: DW_OP_breg6 without its offset.
        assert!(matches!(place_of(&[0x76], 0), Place::Unknown(_)));
    }

    fn code_of(insns: &[[u8; 8]]) -> Code {
        Code {
            sections: vec![super::super::CodeSection {
                index: 1,
                name: "xdp".to_string(),
                data: insns.concat(),
                is_program: true,
                functions: Vec::new(),
                relocations: BTreeMap::new(),
            }],
            little_endian: true,
        }
    }

    #[test]
    fn frame_size_is_the_deepest_r10_use_rounded_to_8() {
        // *(u32 *)(r10 - 20) = r1
        let store = [0x63, 0x1a, 0xec, 0xff, 0, 0, 0, 0];
        // r2 = r10; r2 += -36
        let mov = [0xbf, 0xa2, 0, 0, 0, 0, 0, 0];
        let add = [0x07, 0x02, 0, 0, 0xdc, 0xff, 0xff, 0xff];
        // r3 += -100 without r3 holding r10 first.
        let other = [0x07, 0x03, 0, 0, 0x9c, 0xff, 0xff, 0xff];
        let code = code_of(&[store]);
        assert_eq!(frame_size(&code, &[(1, 0, 8)]), 24);
        let code = code_of(&[store, mov, add, other]);
        assert_eq!(frame_size(&code, &[(1, 0, 32)]), 40);
        assert_eq!(frame_size(&code, &[(1, 24, 32)]), 0);
        assert_eq!(frame_size(&code, &[(2, 0, 32)]), 0);
    }

    #[test]
    fn stack_offsets_rebase_only_non_negative_ones() {
        let frame = Frame {
            base_register: Some(10),
            size: 24,
        };
        assert_eq!(stack_offset(8, frame), Some(-16));
        assert_eq!(stack_offset(4, frame), Some(-20));
        assert_eq!(stack_offset(-16, frame), Some(-16));
        assert_eq!(stack_offset(24, frame), None);
    }

    #[test]
    fn bpf_linker_escapes_in_rust_generic_names_are_undone() {
        assert_eq!(
            unescape_linker_name(
                "insert_3C_rw_xdp_struct_padding_map_key_3A__3A_SourceInfo_2C__20_u32_3E_"
            ),
            "insert<rw_xdp_struct_padding_map_key::SourceInfo, u32>"
        );
        // A name cut by the linker keeps its tail as it is.
        assert_eq!(
            unescape_linker_name("insert_3C_app_3A__3A_Key_2C__20__26_app_3_42d6cd6b"),
            "insert<app::Key, &app_3_42d6cd6b"
        );
        // C names are left alone.
        for name in ["ip_20_hdr", "__u32", "xdp_prog_", "a_3A_b"] {
            assert_eq!(unescape_linker_name(name), name);
        }
    }
}
