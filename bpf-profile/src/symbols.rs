//! From a JIT address to a program, subprogram and source line.
//!
//! Built from one program's full info and its BTF, exactly as the kernel describes the JIT
//! image: `jited_ksyms[i]` and `jited_func_lens[i]` give subprogram `i`'s address range,
//! `func_info[i]` and the BTF `FUNC` it names give its name, and inside a subprogram the last
//! `jited_line_info[k]` at or below an address picks `line_info[k]`: the file, line and column
//! of that line record and the source text BTF keeps for it (libbpf's
//! `bpf_prog_linfo__lfind_addr_func` does the same). Resolution is a line record, not an
//! instruction, and there is no inline chain.
//!
//! Programs without line info resolve to the subprogram only, and programs without BTF to the
//! subprogram's index (or the program as a whole): [`ProgramSymbols::resolution`] says which.

use std::sync::Arc;

use bpf_sys::{FullProgInfo, SysError, btf_data};
use serde::{Deserialize, Serialize};

/// How precisely samples in a program can be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The program as a whole: one JITed function and no BTF.
    Program,
    /// Subprograms (named from BTF when it has them), but no source lines: no line info.
    Function,
    /// Subprograms and source lines.
    Line,
}

/// Why a program's address map could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SymbolError {
    /// The kernel gave zeros for every JIT address.
    #[error(
        "program {id}: the kernel hides JIT addresses from this process: run as root (raw \
         kernel addresses need CAP_SYSLOG), or `sysctl kernel.kptr_restrict=0` together with \
         kernel.perf_event_paranoid at most 1 (the kernel requires both then)"
    )]
    AddressesHidden {
        /// The program.
        id: u32,
    },
    /// The program runs in the interpreter: there is no JIT image to map.
    #[error(
        "program {id} is not JITed (net.core.bpf_jit_enable=0?): its samples land in the \
         interpreter and cannot be placed in the program"
    )]
    NotJited {
        /// The program.
        id: u32,
    },
    /// The program's BTF could not be fetched.
    #[error("program {id}: cannot read its BTF (id {btf_id}): {source}")]
    Btf {
        /// The program.
        id: u32,
        /// The BTF object.
        btf_id: u32,
        /// The kernel's error.
        source: SysError,
    },
}

/// One source line record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceLine {
    /// The source file as the compiler named it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (0: none given).
    pub column: u32,
    /// The line's text, as BTF keeps it (may be empty).
    pub text: String,
}

/// One JITed subprogram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its name: from BTF, else the program's name for the main function and `subprog#N` for
    /// others.
    pub name: String,
    /// The first address of its JIT image.
    pub start: u64,
    /// The image's length in bytes.
    pub len: u32,
    /// `(JIT address, index into ProgramSymbols::lines)` of its line records, by address.
    line_starts: Vec<(u64, usize)>,
}

impl Function {
    /// True when `addr` is inside this function's image.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr - self.start < u64::from(self.len)
    }
}

/// Where an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    /// Index of the subprogram in [`ProgramSymbols::functions`].
    pub function: usize,
    /// Index of the line record in [`ProgramSymbols::lines`], at line resolution.
    pub line: Option<usize>,
    /// The subprogram.
    pub function_info: &'a Function,
    /// The line record, at line resolution.
    pub line_info: Option<&'a SourceLine>,
}

/// One program's address map.
#[derive(Debug, Clone)]
pub struct ProgramSymbols {
    /// The program's id.
    pub prog_id: u32,
    /// Its name.
    pub prog_name: String,
    /// Its tag.
    pub tag: String,
    resolution: Resolution,
    functions: Vec<Function>,
    lines: Vec<SourceLine>,
}

impl ProgramSymbols {
    /// Builds the map of a program, fetching its BTF from the kernel when it has one.
    ///
    /// Build it while the program is loaded: its BTF object may be freed with it. When the BTF
    /// is already gone (`ENOENT`), the map is built without it, at a lower
    /// [`resolution`](Self::resolution).
    pub fn build(info: &FullProgInfo) -> Result<Self, SymbolError> {
        let btf = match info.btf_id {
            0 => None,
            btf_id => match btf_data(btf_id) {
                Ok(data) => Some(data),
                Err(e) if e.errno() == libc::ENOENT => None,
                Err(source) => {
                    return Err(SymbolError::Btf {
                        id: info.id,
                        btf_id,
                        source,
                    });
                }
            },
        };
        Self::from_parts(info, btf.as_deref())
    }

    /// Builds the map from a program's info and its raw BTF (`None`: the program has none).
    /// BTF that cannot be parsed is treated as absent.
    pub fn from_parts(info: &FullProgInfo, btf: Option<&[u8]>) -> Result<Self, SymbolError> {
        if info.jited_ksyms.is_empty() {
            return Err(SymbolError::NotJited { id: info.id });
        }
        if info.addresses_hidden() {
            return Err(SymbolError::AddressesHidden { id: info.id });
        }
        let parsed = btf.and_then(|b| btf_rs::Btf::from_bytes(b).ok());
        let strings = btf.and_then(string_section);
        let mut functions: Vec<Function> = info
            .jited_ksyms
            .iter()
            .zip(&info.jited_func_lens)
            .enumerate()
            .map(|(i, (&start, &len))| {
                let btf_name = info
                    .func_info
                    .get(i)
                    .zip(parsed.as_ref())
                    .and_then(|(f, btf)| match btf.resolve_type_by_id(f.type_id).ok()? {
                        btf_rs::Type::Func(func) => btf.resolve_name(&func).ok(),
                        _ => None,
                    });
                let name = btf_name.unwrap_or_else(|| {
                    if i == 0 {
                        info.name.clone()
                    } else {
                        format!("subprog#{i}")
                    }
                });
                Function {
                    name,
                    start,
                    len,
                    line_starts: Vec::new(),
                }
            })
            .collect();

        let mut lines: Vec<SourceLine> = Vec::new();
        let have_lines = strings.is_some()
            && !info.line_info.is_empty()
            && info.line_info.len() == info.jited_line_info.len();
        if let Some(strings) = strings.filter(|_| have_lines) {
            let mut index = std::collections::HashMap::new();
            for (rec, &addr) in info.line_info.iter().zip(&info.jited_line_info) {
                let line = SourceLine {
                    file: string_at(strings, rec.file_name_off),
                    line: rec.line(),
                    column: rec.column(),
                    text: string_at(strings, rec.line_off).trim().to_string(),
                };
                let k = *index.entry(line.clone()).or_insert_with(|| {
                    lines.push(line);
                    lines.len() - 1
                });
                if let Some(f) = functions.iter_mut().find(|f| f.contains(addr)) {
                    f.line_starts.push((addr, k));
                }
            }
            for f in &mut functions {
                // Stable: records at the same address keep their order, and the last one wins.
                f.line_starts.sort_by_key(|&(addr, _)| addr);
            }
        }
        let resolution = if !lines.is_empty() {
            Resolution::Line
        } else if functions.len() > 1 || (parsed.is_some() && !info.func_info.is_empty()) {
            Resolution::Function
        } else {
            Resolution::Program
        };
        Ok(Self {
            prog_id: info.id,
            prog_name: info.name.clone(),
            tag: info.tag.clone(),
            resolution,
            functions,
            lines,
        })
    }

    /// How precisely addresses resolve.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// The JITed subprograms, in the kernel's order (the main program first).
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// The distinct line records (empty below line resolution).
    pub fn lines(&self) -> &[SourceLine] {
        &self.lines
    }

    /// True when `addr` is inside one of the program's JIT images.
    pub fn contains(&self, addr: u64) -> bool {
        self.functions.iter().any(|f| f.contains(addr))
    }

    /// Where `addr` is, if inside the program.
    pub fn resolve(&self, addr: u64) -> Option<Location<'_>> {
        let (i, f) = self
            .functions
            .iter()
            .enumerate()
            .find(|(_, f)| f.contains(addr))?;
        let after = f.line_starts.partition_point(|&(start, _)| start <= addr);
        let line = after.checked_sub(1).map(|j| f.line_starts[j].1);
        Some(Location {
            function: i,
            line,
            function_info: f,
            line_info: line.map(|k| &self.lines[k]),
        })
    }
}

/// A shared, immutable address map.
pub type SharedSymbols = Arc<ProgramSymbols>;

/// The string section of raw BTF (`struct btf_header` from `aya_obj::generated` gives the
/// offsets of its fields).
fn string_section(btf: &[u8]) -> Option<&[u8]> {
    use aya_obj::generated::btf_header;
    let field = |offset: usize| -> Option<u32> {
        let bytes = btf.get(offset..offset + 4)?;
        Some(u32::from_ne_bytes(bytes.try_into().ok()?))
    };
    let hdr_len = field(std::mem::offset_of!(btf_header, hdr_len))? as usize;
    let str_off = field(std::mem::offset_of!(btf_header, str_off))? as usize;
    let str_len = field(std::mem::offset_of!(btf_header, str_len))? as usize;
    let start = hdr_len.checked_add(str_off)?;
    btf.get(start..start.checked_add(str_len)?)
}

fn string_at(strings: &[u8], offset: u32) -> String {
    let Some(rest) = strings.get(offset as usize..) else {
        return String::new();
    };
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_sys::{FuncInfo, LineInfo};

    /// A minimal BTF blob: header and a string section, no types.
    fn btf_with_strings(strings: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xeb9fu16.to_ne_bytes());
        b.push(1);
        b.push(0);
        for v in [24u32, 0, 0, 0, strings.len() as u32] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(strings);
        b
    }

    fn line(insn_off: u32, file: u32, text: u32, line: u32, col: u32) -> LineInfo {
        LineInfo {
            insn_off,
            file_name_off: file,
            line_off: text,
            line_col: line << 10 | col,
        }
    }

    fn info() -> FullProgInfo {
        FullProgInfo {
            id: 7,
            name: "prog".into(),
            jited_ksyms: vec![0xffff_ffff_a000_0000, 0xffff_ffff_a000_1000],
            jited_func_lens: vec![0x100, 0x40],
            ..Default::default()
        }
    }

    #[test]
    fn lines_pick_the_last_record_at_or_below() {
        // strings: "\0a.c\0x = 1;\0y = 2;\0ret;\0"
        let s = b"\0a.c\0x = 1;\0y = 2;\0ret;\0";
        let btf = btf_with_strings(s);
        let mut info = info();
        info.func_info = vec![FuncInfo {
            insn_off: 0,
            type_id: 0,
        }];
        let base = info.jited_ksyms[0];
        let sub = info.jited_ksyms[1];
        info.line_info = vec![
            line(0, 1, 5, 10, 2),
            line(3, 1, 12, 11, 0),
            line(5, 1, 12, 12, 0),
            line(9, 1, 19, 20, 1),
        ];
        // Two records share an address: the later one (line 12) wins.
        info.jited_line_info = vec![base, base + 0x20, base + 0x20, sub];
        let syms = ProgramSymbols::from_parts(&info, Some(&btf)).unwrap();
        assert_eq!(syms.resolution(), Resolution::Line);
        let at = |a| {
            syms.resolve(a)
                .map(|l| (l.function, l.line_info.map(|l| l.line)))
        };
        assert_eq!(at(base), Some((0, Some(10))));
        assert_eq!(at(base + 0x1f), Some((0, Some(10))));
        assert_eq!(at(base + 0x20), Some((0, Some(12))));
        assert_eq!(at(base + 0xff), Some((0, Some(12))));
        assert_eq!(at(base + 0x100), None);
        assert_eq!(at(sub + 1), Some((1, Some(20))));
        let l = syms.resolve(base).unwrap().line_info.unwrap();
        assert_eq!(
            (l.file.as_str(), l.text.as_str(), l.column),
            ("a.c", "x = 1;", 2)
        );
        // No BTF types: names fall back.
        assert_eq!(syms.functions()[0].name, "prog");
        assert_eq!(syms.functions()[1].name, "subprog#1");
    }

    #[test]
    fn fallbacks_and_errors() {
        let mut one = info();
        one.jited_ksyms.truncate(1);
        one.jited_func_lens.truncate(1);
        let syms = ProgramSymbols::from_parts(&one, None).unwrap();
        assert_eq!(syms.resolution(), Resolution::Program);
        let two = ProgramSymbols::from_parts(&info(), None).unwrap();
        assert_eq!(two.resolution(), Resolution::Function);
        let mut hidden = info();
        hidden.jited_ksyms = vec![0, 0];
        assert!(matches!(
            ProgramSymbols::from_parts(&hidden, None),
            Err(SymbolError::AddressesHidden { id: 7 })
        ));
        let mut interp = info();
        interp.jited_ksyms.clear();
        let err = ProgramSymbols::from_parts(&interp, None).unwrap_err();
        assert!(err.to_string().contains("not JITed"));
    }
}
