//! Streaming parser of eBPF verifier logs.
//!
//! [`LogSummary::parse`] reads a log of any size (a million-instruction rejection at log level
//! 2 is close to a gigabyte) in one pass and bounded memory, and returns what an explanation
//! needs: the error and the instruction it concerns, the registers and stack slots just before
//! it, the path that led there (reconstructed across the verifier's branch pops), a histogram
//! of processed instructions, the source comments, the statistics and the kernel 7.3+
//! structured block. It reads the formats of kernels 5.x to 7.3 (registers as
//! [`RegState`], stack slots as [`SlotState`]) and never fails on odd input: lines it does not
//! understand are counted and skipped.
//!
//! Memory stays bounded whatever the log's size: the path under exploration keeps 32 MB of
//! text (the oldest half goes past that), the reported path at most 100 000 steps and 25 000
//! decoded registers and slots (its tail is kept, and [`LogSummary::path_truncated`] says so),
//! the instruction and comment maps 32 MB, the error 64 lines. Measured on a 2 GB generated
//! level-2 log: about 90 MB peak RSS (docs/benchmarks.md).
//!
//! ```
//! use verifier_explain::log::LogSummary;
//!
//! let log = "0: R1=ctx() R10=fp0\n\
//!            0: (61) r1 = *(u32 *)(r1 +0)          ; R1=pkt(r=0)\n\
//!            1: (71) r2 = *(u8 *)(r1 +12)\n\
//!            invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)\n\
//!            R1 offset is outside of the packet\n\
//!            processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
//! let summary = LogSummary::parse_str(log);
//! let error = summary.error.expect("rejected");
//! assert_eq!(error.idx, Some(1));
//! assert_eq!(error.message[1], "R1 offset is outside of the packet");
//! assert_eq!(summary.regs_before_error[0].range, Some(0));
//! ```

mod diagnostics;
pub(crate) mod insn;
mod line;
mod path;
mod replay;
mod state;
mod summary;

pub use diagnostics::Diagnostics;
pub use replay::{FrameState, Replay};
#[cfg(test)]
pub(crate) use state::parse_state;
pub use state::{PrintedState, RegState, SPILLED, SlotState};
pub use summary::{ErrorSite, LogSummary, PathStep, SourceComment, StateLine, Stats};
