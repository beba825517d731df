//! Loading an object's programs with the verifier's log turned all the way up.

use aya::programs::Program;
use aya::{EbpfLoader, VerifierLogLevel};
use serde::Serialize;

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
    },
    /// The verifier (or the kernel) refused it.
    Rejected {
        /// The error the load returned, e.g. `Permission denied (os error 13)`.
        errno: String,
        /// The verifier's own error: the lines after the last instruction, before the statistics.
        message: String,
        /// The whole verifier log.
        log: String,
    },
    /// This tool cannot load programs of this type yet (they need attach targets).
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

/// The verifier's error lines, as the log parser finds them (level-2 noise such as precision
/// backtracking and liveness lines left out).
fn error_message(log: &str) -> String {
    let lines = crate::log::LogSummary::parse_str(log)
        .error
        .map(|e| e.message)
        .unwrap_or_default();
    if lines.is_empty() {
        "(the verifier printed no message)".into()
    } else {
        lines.join("\n")
    }
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

/// Loads in two passes. The first has only statistics in the log, which costs the verifier
/// nothing; every rejected program is then loaded again alone for its verbose log: level 2
/// (every instruction with its state) in general, but level 1 (instructions, states at branches)
/// for complexity rejections, whose level-2 log takes the verifier minutes to write (aya retries
/// with a growing buffer, up to 16 MiB, re-verifying each time).
fn load_in_passes(bytes: &[u8], only: Option<&str>) -> Result<Vec<LoadOutcome>, LoadError> {
    let mut outcomes = load_all(bytes, only, VerifierLogLevel::STATS)?;
    for outcome in &mut outcomes {
        let Verdict::Rejected { message, .. } = &outcome.verdict else {
            continue;
        };
        let level = if is_complexity(message) {
            VerifierLogLevel::DEBUG | VerifierLogLevel::STATS
        } else {
            VerifierLogLevel::VERBOSE | VerifierLogLevel::STATS
        };
        if let Some(again) = load_all(bytes, Some(&outcome.program), level)?.pop()
            && matches!(again.verdict, Verdict::Rejected { .. })
        {
            *outcome = again;
        }
    }
    Ok(outcomes)
}

fn load_all(
    bytes: &[u8],
    only: Option<&str>,
    level: VerifierLogLevel,
) -> Result<Vec<LoadOutcome>, LoadError> {
    let mut ebpf = EbpfLoader::new()
        .verifier_log_level(level)
        .load(bytes)
        .map_err(|e| LoadError::Object(e.to_string()))?;
    let mut names: Vec<String> = ebpf.programs().map(|(n, _)| n.to_string()).collect();
    names.sort();
    if let Some(wanted) = only {
        if !names.iter().any(|n| n == wanted) {
            return Err(LoadError::NoSuchProgram {
                wanted: wanted.into(),
                available: names.join(", "),
            });
        }
        names.retain(|n| n == wanted);
    }
    let mut outcomes = Vec::new();
    for name in names {
        let Some(program) = ebpf.program_mut(&name) else {
            continue;
        };
        let program_type = format!("{:?}", program.prog_type());
        let result = match program {
            Program::Xdp(p) => Some(p.load()),
            Program::SchedClassifier(p) => Some(p.load()),
            Program::SocketFilter(p) => Some(p.load()),
            Program::CgroupSkb(p) => Some(p.load()),
            Program::KProbe(p) => Some(p.load()),
            Program::TracePoint(p) => Some(p.load()),
            Program::RawTracePoint(p) => Some(p.load()),
            Program::PerfEvent(p) => Some(p.load()),
            Program::SockOps(p) => Some(p.load()),
            Program::SkSkb(p) => Some(p.load()),
            Program::SkMsg(p) => Some(p.load()),
            Program::CgroupSysctl(p) => Some(p.load()),
            _ => None,
        };
        let verdict = match result {
            None => Verdict::Unsupported {
                reason: format!(
                    "{:?} programs need an attach target to load",
                    program.prog_type()
                ),
            },
            Some(Ok(())) => {
                let stats = program
                    .info()
                    .map(|i| AcceptedStats {
                        verified_insns: i.verified_instruction_count().unwrap_or(0).into(),
                        xlated_insns: (i.size_translated().unwrap_or(0) / 8).into(),
                        loaded_insns: 0,
                    })
                    .unwrap_or_default();
                Verdict::Accepted { stats }
            }
            Some(Err(aya::programs::ProgramError::LoadError {
                io_error,
                verifier_log,
            })) => {
                let log = verifier_log.to_string();
                Verdict::Rejected {
                    errno: io_error.to_string(),
                    message: error_message(&log),
                    log,
                }
            }
            Some(Err(other)) => Verdict::Rejected {
                errno: other.to_string(),
                message: other.to_string(),
                log: String::new(),
            },
        };
        outcomes.push(LoadOutcome {
            program: name,
            program_type,
            verdict,
        });
    }
    Ok(outcomes)
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
    fn not_an_elf_is_a_clear_error() {
        match load_object(b"hello", None) {
            Err(LoadError::Object(msg)) => assert!(!msg.is_empty()),
            Err(LoadError::Environment(e)) => panic!("needs CAP_BPF: run as root ({e})"),
            other => panic!("expected an object error, got {other:?}"),
        }
    }
}
