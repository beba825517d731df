//! Loading what the explorer shows: the report of `verifier-explain`, and per program its log
//! parsed, its instructions listed with their source lines, and what the path replay needs.
//!
//! Everything is read before the terminal is taken over, so errors print normally.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use verifier_explain::view::{DebugInfo, LogSummary, ProgramLayout, Variable};
use verifier_explain::{Explanation, Options, Privileges, ProgramVerdict, Report, VerdictKind};

/// What to explain.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The eBPF object (optional with `log`).
    pub object: Option<PathBuf>,
    /// Only this program.
    pub program: Option<String>,
    /// A captured verifier log to explain instead of loading (`-` reads stdin).
    pub log: Option<PathBuf>,
    /// Who loads the programs.
    pub privileges: Privileges,
}

/// Why there is nothing to explore.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Neither an object nor a log was given.
    #[error(
        "give an object to load (xdpdbg explain prog.o) or a captured log (--log FILE); see --help"
    )]
    NothingToExplain,
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `verifier-explain` could not explain the object or log (not an ELF, no such program,
    /// missing capabilities...).
    #[error("{what}")]
    Explain {
        /// The object or log concerned.
        what: String,
        /// Why.
        #[source]
        source: verifier_explain::Error,
    },
}

impl LoadError {
    /// Whether the machine rather than the input is at fault (missing CAP_BPF, say).
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            LoadError::Explain {
                source: verifier_explain::Error::Load(verifier_explain::LoadError::Environment(_)),
                ..
            }
        )
    }
}

/// Everything the explorer shows: the report and each program's details.
pub struct Session {
    /// What was explained (the object's or the log's file name).
    pub name: String,
    /// The report, as `verifier-explain --json` prints it.
    pub report: Report,
    /// One per program of the report, in its order.
    pub programs: Vec<Program>,
}

/// One instruction of the listing.
#[derive(Debug, Clone)]
pub struct Insn {
    /// Its index in the loaded program.
    pub idx: u32,
    /// Its disassembly, as the verifier printed it.
    pub text: String,
    /// How many times the verifier processed it (the log's histogram).
    pub hits: u64,
    /// Whether it lies on the failing path.
    pub on_path: bool,
    /// Whether the verifier refused it.
    pub fault: bool,
    /// Its row in [`Program::rows`].
    pub row: usize,
}

/// One row of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A subprogram starts.
    Function(String),
    /// A source line, before the instructions attributed to it.
    Source {
        /// File name (without its directories).
        file: String,
        /// 1-based line.
        line: u32,
        /// The line's text, trimmed, when known.
        text: Option<String>,
    },
    /// An instruction: an index into [`Program::insns`].
    Insn(usize),
}

/// The object a program comes from, for lines and variable names.
pub struct Debug {
    /// The object's DWARF and BTF.
    pub info: Arc<DebugInfo>,
    /// The program's instruction layout.
    pub layout: ProgramLayout,
}

/// One program: its verdict, explanation, listing and failing path.
pub struct Program {
    /// Its name.
    pub name: String,
    /// Its type as aya names it (`Xdp`), when known.
    pub program_type: Option<String>,
    /// The verdict.
    pub verdict: VerdictKind,
    /// The load's error, for rejections.
    pub errno: Option<String>,
    /// Why it was not loaded.
    pub reason: Option<String>,
    /// For rejections: the explanation.
    pub explanation: Option<Explanation>,
    /// The limits, in one line (`processed instructions 2 of 1000000 (0.0%)`).
    pub limits: String,
    /// The parsed log (empty without one).
    pub summary: LogSummary,
    /// Whether there was a log at all.
    pub has_log: bool,
    /// The instructions the log shows, by index.
    pub insns: Vec<Insn>,
    /// The listing: source lines, subprogram starts and instructions.
    pub rows: Vec<Row>,
    /// The object, when there is one.
    pub debug: Option<Debug>,
}

impl Program {
    /// The position in [`Program::insns`] of instruction `idx`.
    pub fn insn_pos(&self, idx: u32) -> Option<usize> {
        self.insns.binary_search_by_key(&idx, |i| i.idx).ok()
    }

    /// The faulting instruction's index.
    pub fn fault(&self) -> Option<u32> {
        self.summary.error.as_ref().and_then(|e| e.idx)
    }

    /// The source line of instruction `idx` (the nearest real line when the compiler gave it
    /// none) as (file name, line), or the log's last comment without an object.
    pub fn line_of(&self, idx: u32) -> Option<(String, u32)> {
        match &self.debug {
            Some(d) => {
                let loc = d.info.source_near(d.layout.address(idx)?)?;
                (loc.line != 0).then(|| (file_name(&loc.file), loc.line))
            }
            None => {
                let (_, c) = self.summary.comments.range(..=idx).next_back()?;
                Some((short(c.file.as_deref()?), c.line.filter(|&l| l != 0)?))
            }
        }
    }

    /// The source text of instruction `idx`'s line, trimmed.
    pub fn text_of(&self, idx: u32) -> Option<String> {
        match &self.debug {
            Some(d) => {
                let loc = d.info.source_near(d.layout.address(idx)?)?;
                d.info
                    .source_line(&loc.file, loc.line)
                    .map(|t| t.trim().to_string())
            }
            None => {
                let (_, c) = self.summary.comments.range(..=idx).next_back()?;
                (!c.text.is_empty()).then(|| c.text.clone())
            }
        }
    }

    /// Every variable with a location at instruction `idx` (empty without an object).
    pub fn variables_at(&self, idx: u32) -> Vec<Variable> {
        self.debug
            .as_ref()
            .and_then(|d| Some(d.info.variables_at(d.layout.address(idx)?)))
            .unwrap_or_default()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

fn short(path: &str) -> String {
    file_name(Path::new(path))
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads the object (or reads the log) and prepares every program for exploring.
pub fn load(input: &Input) -> Result<Session, LoadError> {
    let object = input.object.as_deref().map(read).transpose()?;
    match &input.log {
        Some(log) => from_log(input, log, object),
        None => {
            let (Some(path), Some(bytes)) = (&input.object, object) else {
                return Err(LoadError::NothingToExplain);
            };
            from_object(input, path, &bytes)
        }
    }
}

fn from_object(input: &Input, path: &Path, bytes: &[u8]) -> Result<Session, LoadError> {
    let options = Options {
        program: input.program.clone(),
        privileges: input.privileges,
    };
    let what = path.display().to_string();
    let report =
        verifier_explain::explain_object(bytes, &options).map_err(|source| LoadError::Explain {
            what: what.clone(),
            source,
        })?;
    let programs = programs_of(&report, false);
    Ok(Session {
        name: file_name(path),
        report,
        programs,
    })
}

/// The explorer's programs of a report, with the debug information the report parsed (the
/// DWARF is read once). A log given on the command line is every program's log.
fn programs_of(report: &Report, from_log: bool) -> Vec<Program> {
    let info = report.debug_info();
    report
        .programs
        .iter()
        .map(|p| {
            let debug = info.and_then(|info| {
                Some(Debug {
                    info: Arc::clone(info),
                    layout: info.layout(&p.program).ok()?,
                })
            });
            let has_log = from_log || p.log().is_some_and(|l| !l.is_empty());
            program(p, p.summary().cloned().unwrap_or_default(), has_log, debug)
        })
        .collect()
}

fn from_log(input: &Input, log: &Path, object: Option<Vec<u8>>) -> Result<Session, LoadError> {
    let what = log.display().to_string();
    let explain_err = |source| LoadError::Explain {
        what: what.clone(),
        source,
    };
    // Streamed once: explain_log keeps the parsed log in the report.
    let reader: Box<dyn BufRead> = if log.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(log).map_err(|source| LoadError::Read {
            path: log.to_path_buf(),
            source,
        })?;
        Box::new(BufReader::new(file))
    };
    let report = verifier_explain::explain_log(reader, object.as_deref(), input.program.as_deref())
        .map_err(explain_err)?;
    let programs = programs_of(&report, true);
    let name = match &input.object {
        Some(o) => format!("{} (log {})", file_name(o), file_name(log)),
        None => format!("log {}", file_name(log)),
    };
    Ok(Session {
        name,
        report,
        programs,
    })
}

fn program(
    p: &verifier_explain::ProgramReport,
    summary: LogSummary,
    has_log: bool,
    debug: Option<Debug>,
) -> Program {
    let limits = p
        .limits()
        .iter()
        .map(|l| format!("{} {} of {} ({:.1}%)", l.name, l.used, l.limit, l.percent))
        .collect::<Vec<_>>()
        .join(", ");
    let mut program = Program {
        name: p.program.clone(),
        program_type: p.program_type.clone(),
        verdict: p.verdict.kind(),
        errno: match &p.verdict {
            ProgramVerdict::Rejected { errno, .. } => errno.clone(),
            _ => None,
        },
        reason: match &p.verdict {
            ProgramVerdict::NotLoaded { reason } => Some(reason.clone()),
            _ => None,
        },
        explanation: p.explanation().cloned(),
        limits,
        summary,
        has_log,
        insns: Vec::new(),
        rows: Vec::new(),
        debug,
    };
    listing(&mut program);
    program
}

/// Fills the instructions and the listing rows.
fn listing(p: &mut Program) {
    let on_path: HashSet<u32> = p.summary.path.iter().map(|s| s.idx).collect();
    let fault = p.fault();
    let mut insns = Vec::new();
    let mut rows = Vec::new();
    let mut last_line: Option<(PathBuf, u32)> = None;
    let mut last_comment: Option<(String, u32)> = None;
    for (&idx, (_, text)) in &p.summary.insns {
        // A subprogram's first instruction.
        if let Some(d) = &p.debug
            && let Some(f) = d.layout.function_at(idx)
            && f.start == idx
            && idx > 0
        {
            rows.push(Row::Function(f.name.clone()));
            last_line = None;
        }
        match &p.debug {
            Some(d) => {
                let loc = d.layout.address(idx).and_then(|a| d.info.source_at(a));
                // Line 0 (no particular line) belongs to the run before it.
                if let Some(loc) = loc.filter(|l| l.line != 0) {
                    let key = (loc.file.clone(), loc.line);
                    if last_line.as_ref() != Some(&key) {
                        rows.push(Row::Source {
                            file: file_name(&loc.file),
                            line: loc.line,
                            text: d
                                .info
                                .source_line(&loc.file, loc.line)
                                .map(|t| t.trim().to_string()),
                        });
                        last_line = Some(key);
                    }
                }
            }
            None => {
                if let Some(c) = p.summary.comments.get(&idx)
                    && let (Some(file), Some(line)) = (&c.file, c.line.filter(|&l| l != 0))
                {
                    let key = (file.clone(), line);
                    if last_comment.as_ref() != Some(&key) {
                        rows.push(Row::Source {
                            file: short(file),
                            line,
                            text: (!c.text.is_empty()).then(|| c.text.clone()),
                        });
                        last_comment = Some(key);
                    }
                }
            }
        }
        rows.push(Row::Insn(insns.len()));
        insns.push(Insn {
            idx,
            text: text.clone(),
            hits: p.summary.histogram.get(idx as usize).copied().unwrap_or(0),
            on_path: on_path.contains(&idx),
            fault: fault == Some(idx),
            row: rows.len() - 1,
        });
    }
    p.insns = insns;
    p.rows = rows;
}

/// Where a jump at `idx` goes, for the listing (`→ 8`): `goto pc+N` jumps to idx + N + 1.
pub fn jump_note(idx: u32, text: &str) -> Option<String> {
    let (_, rest) = text.split_once("goto pc")?;
    let off: i64 = rest
        .split_whitespace()
        .next()?
        .trim_start_matches('+')
        .parse()
        .ok()?;
    let target = i64::from(idx).checked_add(off)?.checked_add(1)?;
    u32::try_from(target).ok().map(|t| format!("→ {t}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_notes() {
        assert_eq!(
            jump_note(6, "if w1 == 0x608 goto pc+1").as_deref(),
            Some("→ 8")
        );
        assert_eq!(
            jump_note(19, "if r1 == 0x0 goto pc-16").as_deref(),
            Some("→ 4")
        );
        assert_eq!(jump_note(9, "goto pc+1").as_deref(), Some("→ 11"));
        assert_eq!(jump_note(0, "goto pc-5"), None);
        assert_eq!(jump_note(1, "goto pc+9223372036854775807"), None);
        assert_eq!(jump_note(1, "r1 = r2"), None);
    }
}

/// Building programs without a kernel, for the explorer's own tests.
#[cfg(test)]
pub(super) mod tests_support {
    use super::*;

    /// A program from a report entry and its log, without an object.
    pub fn program(p: &verifier_explain::ProgramReport, summary: LogSummary, log: &str) -> Program {
        super::program(p, summary, !log.is_empty(), None)
    }
}
