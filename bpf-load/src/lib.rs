//! Loading an eBPF object's programs with the verifier's log turned all the way up.
//!
//! This is the layer every tool of the project loads objects through when it wants the
//! verifier's word: `verifier-explain` (to explain rejections), `switch-ctl check` (to verify
//! the data plane), the tests of the fixtures. It sits on [`bpf_sys`] and aya; it has no
//! opinion on what the log means.
//!
//! Every program is loaded once with the statistics only, which costs the verifier nothing and
//! gives the verdict and, for an accepted program, its states and stack depth. Each rejected
//! program is then loaded once more, alone, for its verbose log (see [`load_object`]). Both
//! loads are this crate's own `BPF_PROG_LOAD` ([`bpf_sys::ProgFd::load_logged`]) of the
//! instructions aya-obj prepares, in one buffer large enough for the whole log.

mod aya_input;
mod elf_copy;
mod externs;
mod object;
mod object_btf;
mod section;

use bpf_sys::{LogLevel, LogRequest};
use serde::Serialize;

use object::Prepared;

/// Why an object could not be tried at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The environment lacks a capability or feature.
    #[error(transparent)]
    Environment(#[from] preflight::Error),
    /// The bytes are not a loadable eBPF object (not an ELF, no programs, a bad relocation...).
    #[error("cannot load the object: {0}")]
    Object(String),
    /// `--prog` named a program the object does not have.
    #[error("the object has no program `{wanted}`; it has: {available}")]
    NoSuchProgram {
        /// The name asked for.
        wanted: String,
        /// The names it has.
        available: String,
    },
}

/// Who loads the programs: the verifier's verdict depends on the loader's capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Privileges {
    /// The calling process's capabilities (normally full root).
    #[default]
    Current,
    /// CAP_BPF without CAP_PERFMON and CAP_SYS_ADMIN, as a service with the least privileges
    /// would load it: the verifier then refuses, among others, reads of uninitialised stack.
    BpfOnly,
}

/// Statistics of an accepted program, from the kernel's program info.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AcceptedStats {
    /// Instructions the verifier processed (all paths), out of [`COMPLEXITY_LIMIT`].
    pub verified_insns: u64,
    /// The program's size after the verifier's rewrites, in instructions.
    pub xlated_insns: u64,
    /// The program's size as loaded, in instructions (8-byte slots).
    pub loaded_insns: u64,
}

/// The first size of a verbose log's buffer; it grows, once, to the log's true size.
const VERBOSE_LOG_SIZE: usize = 16 << 20;
/// The largest verbose log kept whole. A complexity rejection's level-2 log is close to a
/// gigabyte, which is why those are loaded at level 1 (tens of MB); past this size the log's
/// end is kept, which holds the error.
pub const MAX_LOG_SIZE: usize = 256 << 20;

/// The verifier's limit on processed instructions (BPF_COMPLEXITY_LIMIT_INSNS).
pub const COMPLEXITY_LIMIT: u64 = 1_000_000;

impl std::fmt::Display for AcceptedStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} instructions verified", self.verified_insns)
    }
}

/// What the verifier said about one program.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// The program loaded.
    Accepted {
        /// The verifier's statistics (displayed as `18 instructions verified`).
        stats: AcceptedStats,
        /// The verifier's statistics log: `processed N insns ... peak_states N`, `stack depth`.
        log: String,
    },
    /// The verifier (or the kernel) refused it.
    Rejected {
        /// The error the load returned, e.g. `Permission denied (os error 13)`.
        errno: String,
        /// The verifier's own error: the lines after the last instruction, before the statistics.
        message: String,
        /// The verifier log: level 2 (level 1 for complexity rejections), whole unless it is
        /// larger than [`MAX_LOG_SIZE`], when its end is kept.
        log: String,
        /// Whether the log lost its start for being larger than [`MAX_LOG_SIZE`].
        truncated: bool,
    },
    /// This tool cannot load the program: its type needs an attach target or a struct_ops map,
    /// or libbpf does not know its section either.
    Unsupported {
        /// Why.
        reason: String,
    },
}

/// One program's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct LoadOutcome {
    /// The program's name (its function name in the source).
    pub program: String,
    /// The program type, as aya names it (e.g. `Xdp`, `SchedClassifier`).
    pub program_type: String,
    /// What the verifier said.
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl LoadOutcome {
    /// Whether the program loaded.
    pub fn accepted(&self) -> bool {
        matches!(self.verdict, Verdict::Accepted { .. })
    }
}

/// The verifier's error lines in a log: the lines after the last instruction it printed, less
/// its statistics and its level-2 bookkeeping (precision backtracking, state pruning). The first
/// pass logs at [`LogLevel::STATS`], which prints no instructions: there every line but the
/// statistics is the error.
fn error_message(log: &str) -> String {
    const NOT_THE_ERROR: [&str; 9] = [
        "processed ",
        "verification time ",
        "stack depth ",
        "mark_precise: ",
        "last_idx ",
        "regs=",
        "parent didn't have regs",
        "propagating ",
        "from ",
    ];
    let lines: Vec<&str> = log.lines().collect();
    let after_insns = lines
        .iter()
        .rposition(|l| is_instruction(l))
        .map_or(0, |i| i + 1);
    let message: Vec<&str> = lines[after_insns..]
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .filter(|l| !NOT_THE_ERROR.iter().any(|p| l.starts_with(p)))
        .collect();
    if message.is_empty() {
        "(the verifier printed no message)".into()
    } else {
        message.join("\n")
    }
}

/// Whether a log line is an instruction as the verifier prints it (`12: (71) r0 = ...`).
fn is_instruction(line: &str) -> bool {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && line[digits..].starts_with(": (")
}

/// Loads every program of the object (or only `only`) into the kernel, each with a verbose
/// verifier log, and reports each outcome. Loaded programs are unloaded when this returns.
pub fn load_object(bytes: &[u8], only: Option<&str>) -> Result<Vec<LoadOutcome>, LoadError> {
    load_object_as(bytes, only, Privileges::Current)
}

/// [`load_object`], with the given privileges. [`Privileges::BpfOnly`] loads from a thread whose
/// effective capabilities lack CAP_PERFMON and CAP_SYS_ADMIN (capabilities are per thread), so
/// the rest of the process keeps its own.
pub fn load_object_as(
    bytes: &[u8],
    only: Option<&str>,
    privileges: Privileges,
) -> Result<Vec<LoadOutcome>, LoadError> {
    preflight::require_capabilities(&[preflight::Capability::Bpf])?;
    match privileges {
        Privileges::Current => load_in_passes(bytes, only),
        Privileges::BpfOnly => std::thread::scope(|s| {
            s.spawn(|| {
                use caps::{CapSet, Capability};
                for cap in [Capability::CAP_PERFMON, Capability::CAP_SYS_ADMIN] {
                    caps::drop(None, CapSet::Effective, cap).map_err(|e| {
                        LoadError::Object(format!("cannot drop {cap} for a bpf-only load: {e}"))
                    })?;
                }
                load_in_passes(bytes, only)
            })
            .join()
            .unwrap_or_else(|_| Err(LoadError::Object("the loading thread panicked".into())))
        }),
    }
}

/// Whether a verifier message is a complexity rejection, whose level-2 log would be huge.
fn is_complexity(message: &str) -> bool {
    message.contains("BPF program is too large") || message.contains("too many states")
}

/// Loads every selected program, each in two passes: statistics first, then the verbose log of
/// each rejected program, at level 2 in general but level 1 (instructions, states at branches)
/// for complexity rejections, whose level-2 log is close to a gigabyte.
fn load_in_passes(bytes: &[u8], only: Option<&str>) -> Result<Vec<LoadOutcome>, LoadError> {
    let prepared = Prepared::new(bytes)?;
    let mut names = prepared.program_names();
    if let Some(wanted) = only {
        if !names.iter().any(|n| n == wanted) {
            return Err(LoadError::NoSuchProgram {
                wanted: wanted.into(),
                available: names.join(", "),
            });
        }
        names.retain(|n| n == wanted);
    }
    Ok(names
        .into_iter()
        .map(|name| verify(&prepared, name))
        .collect())
}

/// One program's two passes.
fn verify(prepared: &Prepared, program: String) -> LoadOutcome {
    let image = match prepared.program(&program) {
        Ok(image) => image,
        Err(unloadable) => {
            return LoadOutcome {
                program,
                program_type: unloadable.program_type.to_string(),
                verdict: Verdict::Unsupported {
                    reason: unloadable.reason,
                },
            };
        }
    };
    let program_type = image.kind.name.to_string();
    let stats_only = LogRequest::new(LogLevel::STATS).sized(64 << 10, VERBOSE_LOG_SIZE);
    let verdict = match prepared.load(&image, stats_only) {
        (Ok(prog), log) => {
            let info = prog.info().ok();
            Verdict::Accepted {
                stats: AcceptedStats {
                    verified_insns: info.as_ref().map_or(0, |i| i.verified_insns.into()),
                    xlated_insns: info.as_ref().map_or(0, |i| i.xlated_insns.into()),
                    loaded_insns: image.insn_count() as u64,
                },
                log: log.text,
            }
        }
        (Err(error), stats_log) => {
            // Without a word from the verifier, the kernel refused the load itself (an attach
            // type, a flag, BTF): the errno, in words, is all there is.
            let message = if stats_log.text.trim().is_empty() {
                error.to_string()
            } else {
                error_message(&stats_log.text)
            };
            let verbose = if is_complexity(&message) {
                LogRequest::new(LogLevel::BASIC | LogLevel::STATS).sized(MAX_LOG_SIZE, MAX_LOG_SIZE)
            } else {
                LogRequest::new(LogLevel::VERBOSE | LogLevel::STATS)
                    .sized(VERBOSE_LOG_SIZE, MAX_LOG_SIZE)
            };
            let (_, log) = prepared.load(&image, verbose);
            Verdict::Rejected {
                errno: std::io::Error::from_raw_os_error(error.errno()).to_string(),
                message,
                log: log.text,
                truncated: log.truncated,
            }
        }
    };
    LoadOutcome {
        program,
        program_type,
        verdict,
    }
}

/// The aya name of the program type an ELF section gives (`Xdp` for `xdp`), for logs explained
/// without loading.
pub fn program_type_of_section(section: &str) -> Option<&'static str> {
    section::type_name(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_is_what_follows_the_last_instruction() {
        let log = "0: R1=ctx() R10=fp0\n; return *(u8*)eth @ x.c:3\n\
                   1: (71) r0 = *(u8 *)(r2 +12)\ninvalid access to packet, off=12 size=1, R2(id=0,off=12,r=0)\n\
                   processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0\n";
        assert_eq!(
            error_message(log),
            "invalid access to packet, off=12 size=1, R2(id=0,off=12,r=0)"
        );
        let two_lines = "1: (71) r2 = *(u8 *)(r1 +12)\ninvalid access to packet\nR1 offset is outside of the packet\n\
                         verification time 52 usec\nstack depth 0\n";
        assert_eq!(
            error_message(two_lines),
            "invalid access to packet\nR1 offset is outside of the packet"
        );
    }

    #[test]
    fn a_renamed_section_keeps_its_line_info_and_kind() {
        // SEC("tc") is renamed for aya-obj in both its name tables: the kernel still gets the
        // program's BTF line info (the log's `;` source comments) and the type libbpf gives it.
        let f = fixtures::get("section_tc_no_bounds_check").unwrap();
        let outcomes = load_object(f.object, None).expect("needs CAP_BPF: run as root");
        assert_eq!(outcomes[0].program_type, "SchedClassifier");
        match &outcomes[0].verdict {
            Verdict::Rejected { log, message, .. } => {
                assert!(message.contains("invalid access to packet"), "{message}");
                assert!(log.contains("@ section_tc_no_bounds_check.bpf.c:"), "{log}");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn not_an_elf_is_a_clear_error() {
        match load_object(b"hello", None) {
            Err(LoadError::Object(msg)) => assert!(!msg.is_empty()),
            Err(LoadError::Environment(e)) => panic!("needs CAP_BPF: run as root ({e})"),
            other => panic!("expected an object error, got {other:?}"),
        }
    }
}
