//! Whole-object reports: every program's verdict, statistics, limits and explanation, as the
//! CLI prints them and `--json` serialises them (schema in `docs/verifier-explain.md`).

use std::sync::Arc;

use crate::debuginfo::{DebugInfo, DebugInfoError, ProgramLayout};
use crate::evidence::Source;
use crate::explain::{self, Explanation};
use crate::log::LogSummary;
use bpf_load::{self as load, COMPLEXITY_LIMIT, LoadError, LoadOutcome, Privileges, Verdict};
use serde::Serialize;

/// The version of the JSON schema; bumped only on incompatible changes (fields are only added).
pub const SCHEMA_VERSION: u32 = 1;

/// The BPF stack limit of a call chain, in bytes.
pub(crate) const STACK_LIMIT: u64 = 512;

/// Why an explanation could not be produced at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Loading the object failed before any program reached the verifier.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The object's ELF or debug information is unusable.
    #[error(transparent)]
    DebugInfo(#[from] DebugInfoError),
    /// Reading the log failed.
    #[error("cannot read the log: {0}")]
    Io(#[from] std::io::Error),
    /// The log holds nothing: no instruction, no error, no statistics.
    #[error(
        "the log is empty: it holds no verdict to explain (capture the loader's whole output, \
         e.g. `bpftool -d prog load prog.o /sys/fs/bpf/p 2>&1`, or let verifier-explain load \
         the object itself)"
    )]
    EmptyLog,
    /// The log stops before the verifier's verdict: neither an error nor the statistics that
    /// close an accepted program's log.
    #[error(
        "the log ends before the verifier's verdict (no error and no `processed N insns` line \
         after {lines} lines): it was cut, so it proves neither acceptance nor rejection; \
         capture the whole log (a larger log buffer, or `bpftool -d prog load`)"
    )]
    NoVerdict {
        /// The lines the log has.
        lines: u64,
    },
    /// The input is not a verifier log.
    #[error("this is not a verifier log: {why}")]
    NotALog {
        /// What gave it away.
        why: String,
    },
    /// The loader refused an object that has no BTF, which is what `clang` leaves out
    /// without `-g`: maps declared in `.maps` (and CO-RE, kfuncs, line info) need it.
    #[error(
        "the object has no BTF (it was compiled without -g), and the loader refused it: \
         {message}; rebuild it with `clang -g -O2 -target bpf`"
    )]
    NoBtf {
        /// The loader's words.
        message: String,
    },
}

/// A report on an object (or a log).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// One entry per program.
    pub programs: Vec<ProgramReport>,
    /// The object's debug information, parsed once for the whole report.
    #[serde(skip)]
    debug: Option<Arc<DebugInfo>>,
}

impl Report {
    /// The object's debug information (ELF, DWARF, BTF line info), as the report parsed it, so
    /// an explorer does not parse it again; `None` for a log explained without its object.
    pub fn debug_info(&self) -> Option<&Arc<DebugInfo>> {
        self.debug.as_ref()
    }

    /// Whether any program was rejected.
    pub fn any_rejected(&self) -> bool {
        self.programs
            .iter()
            .any(|p| p.verdict.kind() == VerdictKind::Rejected)
    }
}

/// What happened to a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    /// The verifier accepted it.
    Accepted,
    /// The verifier or the loader refused it.
    Rejected,
    /// This tool could not load it (it needs an attach target).
    NotLoaded,
}

/// One program's report: its name, its type and what happened to it.
#[derive(Debug, Clone)]
pub struct ProgramReport {
    /// The program's name.
    pub program: String,
    /// Its type as aya names it, when known.
    pub program_type: Option<String>,
    /// What happened to it, with what each outcome carries.
    pub verdict: ProgramVerdict,
}

/// What happened to a program, with what each outcome carries: a rejection always has its
/// explanation, an accepted program its parsed log, a program not loaded its reason.
#[derive(Debug, Clone)]
pub enum ProgramVerdict {
    /// The verifier accepted it.
    Accepted {
        /// The verifier's statistics.
        stats: ProgramStats,
        /// The verifier's whole log, when this tool loaded the program (`--print-log`).
        log: Option<String>,
        /// The log, parsed: for tools that show it, so they need not parse it again.
        summary: Box<LogSummary>,
    },
    /// The verifier or the loader refused it.
    Rejected {
        /// The load's error (`Permission denied (os error 13)`), when this tool loaded it.
        errno: Option<String>,
        /// The verifier's statistics, as far as known.
        stats: ProgramStats,
        /// The explanation.
        explanation: Box<Explanation>,
        /// The verifier's whole log, when this tool loaded the program.
        log: Option<String>,
        /// The log, parsed (none when the loader refused the object before the verifier ran).
        summary: Option<Box<LogSummary>>,
    },
    /// This tool could not load it (it needs an attach target).
    NotLoaded {
        /// Why.
        reason: String,
    },
}

impl ProgramVerdict {
    /// The verdict without its details.
    pub fn kind(&self) -> VerdictKind {
        match self {
            ProgramVerdict::Accepted { .. } => VerdictKind::Accepted,
            ProgramVerdict::Rejected { .. } => VerdictKind::Rejected,
            ProgramVerdict::NotLoaded { .. } => VerdictKind::NotLoaded,
        }
    }
}

impl PartialEq<VerdictKind> for ProgramVerdict {
    fn eq(&self, other: &VerdictKind) -> bool {
        self.kind() == *other
    }
}

impl ProgramReport {
    /// The verifier's statistics (empty for a program not loaded).
    pub fn stats(&self) -> Option<&ProgramStats> {
        match &self.verdict {
            ProgramVerdict::Accepted { stats, .. } | ProgramVerdict::Rejected { stats, .. } => {
                Some(stats)
            }
            ProgramVerdict::NotLoaded { .. } => None,
        }
    }

    /// How close the program is to each verifier limit, as far as its statistics tell.
    pub fn limits(&self) -> Vec<Limit> {
        self.stats().map(limits_of).unwrap_or_default()
    }

    /// For rejections: the explanation.
    pub fn explanation(&self) -> Option<&Explanation> {
        match &self.verdict {
            ProgramVerdict::Rejected { explanation, .. } => Some(explanation),
            _ => None,
        }
    }

    /// The verifier's whole log, when this tool loaded the program.
    pub fn log(&self) -> Option<&str> {
        match &self.verdict {
            ProgramVerdict::Accepted { log, .. } | ProgramVerdict::Rejected { log, .. } => {
                log.as_deref()
            }
            ProgramVerdict::NotLoaded { .. } => None,
        }
    }

    /// The log, parsed, when there was one.
    pub fn summary(&self) -> Option<&LogSummary> {
        match &self.verdict {
            ProgramVerdict::Accepted { summary, .. } => Some(summary),
            ProgramVerdict::Rejected { summary, .. } => summary.as_deref(),
            ProgramVerdict::NotLoaded { .. } => None,
        }
    }
}

/// The `--json` form: every field present, null where the verdict has none (the schema of
/// `docs/verifier-explain.md`, unchanged since reports were a struct of optional fields).
impl Serialize for ProgramReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            program: &'a str,
            program_type: Option<&'a str>,
            verdict: VerdictKind,
            errno: Option<&'a str>,
            stats: &'a ProgramStats,
            limits: Vec<Limit>,
            explanation: Option<&'a Explanation>,
            reason: Option<&'a str>,
        }
        let none = ProgramStats::default();
        let (errno, reason) = match &self.verdict {
            ProgramVerdict::Rejected { errno, .. } => (errno.as_deref(), None),
            ProgramVerdict::NotLoaded { reason } => (None, Some(reason.as_str())),
            ProgramVerdict::Accepted { .. } => (None, None),
        };
        Flat {
            program: &self.program,
            program_type: self.program_type.as_deref(),
            verdict: self.verdict.kind(),
            errno,
            stats: self.stats().unwrap_or(&none),
            limits: self.limits(),
            explanation: self.explanation(),
            reason,
        }
        .serialize(serializer)
    }
}

/// The verifier's statistics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProgramStats {
    /// Instructions processed, over all paths.
    pub processed_insns: Option<u64>,
    /// Verifier states kept at once (peak) and in total.
    pub peak_states: Option<u64>,
    /// Total states created.
    pub total_states: Option<u64>,
    /// Most states on one instruction.
    pub max_states_per_insn: Option<u64>,
    /// Stack depth per function, in bytes, as the verifier printed it.
    pub stack_depth: Vec<u64>,
    /// Stack depth per function estimated from the instructions, when the log has none.
    pub stack_depth_estimated: Vec<u64>,
    /// The program's size, in instructions.
    pub insns: Option<u64>,
    /// Verification time, microseconds.
    pub verification_time_usec: Option<u64>,
}

/// A verifier limit and how much of it the program uses.
#[derive(Debug, Clone, Serialize)]
pub struct Limit {
    /// What is limited.
    pub name: &'static str,
    /// How much the program uses.
    pub used: u64,
    /// The limit.
    pub limit: u64,
    /// used / limit, in percent.
    pub percent: f64,
}

fn limit(name: &'static str, used: u64, limit: u64) -> Limit {
    Limit {
        name,
        used,
        limit,
        percent: used as f64 * 100.0 / limit as f64,
    }
}

/// Options for [`explain_object`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only this program.
    pub program: Option<String>,
    /// Who loads: the verdict may depend on it.
    pub privileges: Privileges,
}

/// Loads the object's programs into the kernel with the verifier's full log and explains every
/// rejection at source level.
pub fn explain_object(object: &[u8], options: &Options) -> Result<Report, Error> {
    let debug = Arc::new(DebugInfo::parse(object)?);
    let outcomes =
        match load::load_object_as(object, options.program.as_deref(), options.privileges) {
            Ok(o) => o,
            Err(LoadError::Object(message)) if !has_btf(object) => {
                return Err(Error::NoBtf { message });
            }
            Err(LoadError::Object(message)) => {
                // The loader refused the object before the verifier saw it (a map or CO-RE
                // relocation, say): that too is explained.
                let program = options
                    .program
                    .clone()
                    .unwrap_or_else(|| debug.programs().join(", "));
                return Ok(loader_rejection(program, message, object, debug));
            }
            Err(e) => return Err(e.into()),
        };
    let programs = outcomes
        .into_iter()
        .map(|o| program_report(o, &debug))
        .collect();
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        programs,
        debug: Some(debug),
    })
}

/// Whether the object carries BTF (a `.BTF` section), which `clang` emits only with `-g`.
fn has_btf(object: &[u8]) -> bool {
    use object::Object as _;
    object::File::parse(object).is_ok_and(|elf| elf.section_by_name(".BTF").is_some())
}

/// Why the start of an input shows it is not a verifier log (which is text), if it does.
fn not_text(head: &[u8]) -> Option<String> {
    if head.contains(&0) {
        return Some("it holds NUL bytes (binary data, not the text a verifier log is)".into());
    }
    if let Err(e) = std::str::from_utf8(head)
        && e.error_len().is_some()
    {
        return Some(format!(
            "byte {} is not UTF-8 text (binary data, not the text a verifier log is)",
            e.valid_up_to()
        ));
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x1b))
        .count();
    (control > 0).then(|| {
        format!(
            "it holds {control} control characters (binary data, not the text a verifier log is)"
        )
    })
}

/// Whether a parsed log shows nothing a verifier prints: no instruction, source comment,
/// statistics or structured diagnostics.
fn nothing_recognised(summary: &LogSummary) -> bool {
    summary.insns.is_empty()
        && summary.comments.is_empty()
        && summary.stats == Default::default()
        && summary.diagnostics.is_none()
}

/// The source line of the first instruction that refers to symbol `name` (through a relocation),
/// with a snippet: where a missing map or function is used.
fn symbol_use(object: &[u8], debug: &DebugInfo, name: &str) -> Option<explain::SourceSpot> {
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
    let elf = object::File::parse(object).ok()?;
    for section in elf.sections() {
        for (offset, reloc) in section.relocations() {
            let object::RelocationTarget::Symbol(sym) = reloc.target() else {
                continue;
            };
            let Ok(sym) = elf.symbol_by_index(sym) else {
                continue;
            };
            if sym.name().ok() != Some(name) {
                continue;
            }
            let addr = crate::debuginfo::InsnAddr {
                section: section.index().0,
                offset,
            };
            let loc = debug.source_at(addr)?;
            let text = debug.source_line(&loc.file, loc.line).unwrap_or_default();
            return Some(explain::SourceSpot {
                file: loc.file.display().to_string(),
                line: loc.line,
                column: loc.column,
                function: Some(loc.function),
                inlined_from: Vec::new(),
                found_by: explain::LineSource::Dwarf,
                snippet: vec![explain::SnippetLine {
                    line: loc.line,
                    text,
                    fault: true,
                }],
            });
        }
    }
    None
}

fn loader_rejection(
    program: String,
    message: String,
    object: &[u8],
    debug: Arc<DebugInfo>,
) -> Report {
    let summary = LogSummary {
        error: Some(crate::log::ErrorSite {
            message: vec![message.clone()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut explanation = explain::explain(&summary, None, None);
    explanation
        .notes
        .retain(|n| !n.starts_with("explained from the log alone"));
    if explanation.id == "unknown" {
        // Not the verifier's words: the loader's, about the object.
        explanation.category = crate::catalogue::Category::ProgramStructure;
        explanation.title = "the loader refused the object before the verifier saw it";
        explanation.cause = format!(
            "the loader (which opens objects as libbpf does) could not prepare the object: \
             {message}"
        );
        explanation.fix.summary = "Fix what the loader names above in the object (a declaration, \
             a section name, an extern the kernel lacks): libbpf (`bpftool prog load`) refuses \
             the object for the same reason."
            .to_string();
    }
    // aya names the missing symbol: `symbol with name X not found`.
    if let Some(name) = message
        .split("symbol with name ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
    {
        explanation.location = symbol_use(object, &debug, name);
        explanation.fix.line = explanation.location.as_ref().map(|l| l.line);
        explanation.cause = format!(
            "the code uses `{name}`, which the object does not define: it is declared (extern?) \
             but no map of that name is in the object's maps sections."
        );
    }
    explanation
        .notes
        .push("the loader refused the object before the verifier ran".into());
    Report {
        schema_version: SCHEMA_VERSION,
        programs: vec![ProgramReport {
            program,
            program_type: None,
            verdict: ProgramVerdict::Rejected {
                errno: Some(message),
                stats: ProgramStats::default(),
                explanation: Box::new(explanation),
                log: None,
                summary: None,
            },
        }],
        debug: Some(debug),
    }
}

fn program_report(o: LoadOutcome, debug: &DebugInfo) -> ProgramReport {
    let layout = debug.layout(&o.program).ok();
    let estimated = layout
        .as_ref()
        .map(|l| estimate_stack(debug, l))
        .unwrap_or_default();
    match o.verdict {
        Verdict::Accepted { stats: info, log } => {
            let summary = LogSummary::parse_str(&log);
            let mut stats = stats_of(&summary, layout.as_ref(), estimated);
            stats.processed_insns = stats.processed_insns.or(Some(info.verified_insns));
            ProgramReport {
                program: o.program,
                program_type: Some(o.program_type),
                verdict: ProgramVerdict::Accepted {
                    stats,
                    log: Some(log),
                    summary: Box::new(summary),
                },
            }
        }
        Verdict::Rejected {
            errno,
            log,
            message,
            truncated,
        } => {
            let mut summary = LogSummary::parse_str(&log);
            if summary.error.is_none() {
                // No verifier log (an error before verification): explain the loader's words.
                summary.error = Some(crate::log::ErrorSite {
                    message: message.lines().map(str::to_string).collect(),
                    ..Default::default()
                });
            }
            let source = layout.as_ref().map(|layout| Source { debug, layout });
            let mut explanation = explain::explain(&summary, source, Some(&o.program_type));
            if truncated {
                explanation.notes.push(format!(
                    "the verifier's log was larger than {} MiB: only its end was kept, so the \
                     path and the hot lines start part-way",
                    load::MAX_LOG_SIZE >> 20
                ));
            }
            let stats = stats_of(&summary, layout.as_ref(), estimated);
            ProgramReport {
                program: o.program,
                program_type: Some(o.program_type),
                verdict: ProgramVerdict::Rejected {
                    errno: Some(errno),
                    stats,
                    explanation: Box::new(explanation),
                    log: Some(log),
                    summary: Some(Box::new(summary)),
                },
            }
        }
        Verdict::Unsupported { reason } => ProgramReport {
            program: o.program,
            program_type: Some(o.program_type),
            verdict: ProgramVerdict::NotLoaded { reason },
        },
    }
}

fn stats_of(
    summary: &LogSummary,
    layout: Option<&ProgramLayout>,
    estimated: Vec<u64>,
) -> ProgramStats {
    let s = &summary.stats;
    ProgramStats {
        processed_insns: s.processed,
        peak_states: s.peak_states,
        total_states: s.total_states,
        max_states_per_insn: s.max_states_per_insn,
        stack_depth: s.stack_depth.clone(),
        stack_depth_estimated: if s.stack_depth.is_empty() {
            estimated
        } else {
            Vec::new()
        },
        insns: layout.map(|l| u64::from(l.len())),
        verification_time_usec: s.verification_time_usec,
    }
}

fn limits_of(stats: &ProgramStats) -> Vec<Limit> {
    let mut limits = Vec::new();
    if let Some(p) = stats.processed_insns {
        limits.push(limit("processed instructions", p, COMPLEXITY_LIMIT));
    }
    if let Some(n) = stats.insns {
        limits.push(limit("program size (instructions)", n, COMPLEXITY_LIMIT));
    }
    if let Some(&deepest) = stats.stack_depth.iter().max() {
        limits.push(limit("stack of one function (bytes)", deepest, STACK_LIMIT));
    }
    limits
}

/// Per function, the stack bytes its instructions use (see [`DebugInfo::stack_depth`]).
fn estimate_stack(debug: &DebugInfo, layout: &ProgramLayout) -> Vec<u64> {
    layout
        .functions
        .iter()
        .map(|f| debug.stack_depth(f))
        .collect()
}

/// Explains a log captured elsewhere (bpftool -d, libbpf, aya, cilium/ebpf). With the object,
/// lines are exact and registers are named as variables; `program` picks the program the log
/// belongs to (by default the one whose instructions match the log best).
///
/// A log that cannot prove a verdict is an error, not an acceptance: [`Error::NotALog`] for
/// binary data or text with nothing a verifier prints, [`Error::EmptyLog`] for a log with
/// nothing in it, [`Error::NoVerdict`] for one cut before the verdict. Lines libbpf adds after
/// its `-- END PROG LOAD LOG --` are not the verifier's and are left out.
pub fn explain_log<R: std::io::BufRead>(
    mut log: R,
    object: Option<&[u8]>,
    program: Option<&str>,
) -> Result<Report, Error> {
    if let Some(why) = not_text(log.fill_buf()?) {
        return Err(Error::NotALog { why });
    }
    let summary = LogSummary::parse(log)?;
    match &summary.error {
        None if nothing_recognised(&summary) => return Err(Error::EmptyLog),
        None if summary.stats.processed.is_none() => {
            return Err(Error::NoVerdict {
                lines: summary.lines,
            });
        }
        Some(error)
            if nothing_recognised(&summary)
                && explain::explain(&summary, None, None).id == "unknown" =>
        {
            let first = error.message.first().map_or("", String::as_str);
            let first: String = first.chars().take(60).collect();
            return Err(Error::NotALog {
                why: format!(
                    "none of its {} lines is an instruction, a source comment, statistics or \
                     an error message the verifier prints (it starts `{first}`)",
                    summary.lines
                ),
            });
        }
        _ => {}
    }
    let debug = object.map(DebugInfo::parse).transpose()?.map(Arc::new);
    let mut notes = Vec::new();
    let (name, layout) = match &debug {
        None => (program.unwrap_or("(from the log)").to_string(), None),
        Some(d) => {
            let (name, layout, matched) = pick_program(d, &summary, program)?;
            if matched < 0.9 {
                notes.push(format!(
                    "only {:.0}% of the log's instructions match program `{name}` in the object: \
                     the log may come from another build, so lines and names may be wrong",
                    matched * 100.0
                ));
            }
            (name, Some(layout))
        }
    };
    let source = match (&debug, &layout) {
        (Some(debug), Some(layout)) => Some(Source { debug, layout }),
        _ => None,
    };
    let program_type = layout
        .as_ref()
        .and_then(program_type_of)
        .map(str::to_string);
    let estimated = match (&debug, &layout, summary.error.is_some()) {
        (Some(d), Some(l), true) => estimate_stack(d, l),
        _ => Vec::new(),
    };
    let stats = stats_of(&summary, layout.as_ref(), estimated);
    let verdict = if summary.error.is_some() {
        let mut explanation = explain::explain(&summary, source, program_type.as_deref());
        explanation.notes.extend(notes);
        ProgramVerdict::Rejected {
            errno: None,
            stats,
            explanation: Box::new(explanation),
            log: None,
            summary: Some(Box::new(summary)),
        }
    } else {
        ProgramVerdict::Accepted {
            stats,
            log: None,
            summary: Box::new(summary),
        }
    };
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        programs: vec![ProgramReport {
            program: name,
            program_type,
            verdict,
        }],
        debug,
    })
}

/// The program type (aya's name) that a program's ELF section gives it.
fn program_type_of(layout: &ProgramLayout) -> Option<&'static str> {
    let section = layout.functions.first()?.section_name.as_str();
    load::program_type_of_section(section)
}

/// The program whose instructions match the log's, with the share of matching opcodes.
fn pick_program(
    debug: &DebugInfo,
    summary: &LogSummary,
    wanted: Option<&str>,
) -> Result<(String, ProgramLayout, f64), Error> {
    let names = match wanted {
        Some(w) => vec![w.to_string()],
        None => debug.programs(),
    };
    let mut best: Option<(String, ProgramLayout, f64)> = None;
    for name in names {
        let layout = debug.layout(&name)?;
        let (mut seen, mut same) = (0u32, 0u32);
        for (&idx, (opcode, _)) in &summary.insns {
            seen += 1;
            let elf = layout.address(idx).and_then(|a| debug.instruction(a));
            if elf.is_some_and(|b| b[0] == *opcode) {
                same += 1;
            }
        }
        let score = if seen == 0 {
            1.0 // a log without instructions (an error before the walk) matches any program
        } else {
            f64::from(same) / f64::from(seen)
        };
        if best.as_ref().is_none_or(|b| score > b.2) {
            best = Some((name, layout, score));
        }
    }
    best.ok_or(Error::DebugInfo(DebugInfoError::NoPrograms))
}

/// Turns an aya load error into an explanation, for aya users:
///
/// ```no_run
/// # let bytes: &[u8] = &[];
/// # let mut ebpf = aya::Ebpf::load(bytes)?;
/// let prog: &mut aya::programs::Xdp = ebpf.program_mut("xdp_main").unwrap().try_into()?;
/// if let Err(e) = prog.load() {
///     if let Some(x) = verifier_explain::explain_load_error(bytes, "xdp_main", &e) {
///         eprintln!("{}: line {:?}: {}", x.id, x.location.map(|l| l.line), x.fix.summary);
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn explain_load_error(
    object: &[u8],
    program: &str,
    error: &aya::programs::ProgramError,
) -> Option<Explanation> {
    let aya::programs::ProgramError::LoadError { verifier_log, .. } = error else {
        return None;
    };
    let summary = LogSummary::parse_str(&verifier_log.to_string());
    let debug = DebugInfo::parse(object).ok();
    let layout = debug.as_ref().and_then(|d| d.layout(program).ok());
    let source = match (&debug, &layout) {
        (Some(debug), Some(layout)) => Some(Source { debug, layout }),
        _ => None,
    };
    let program_type = layout.as_ref().and_then(program_type_of);
    Some(explain::explain(&summary, source, program_type))
}
