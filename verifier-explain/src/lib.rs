//! Explains eBPF verifier rejections at source level.
//!
//! The verifier's log says which instruction it refused and what it knew about each register
//! there. This crate maps that back to the program's source: the exact line (from the DWARF
//! line table or BTF line info of that instruction), the source variables the registers and
//! stack slots hold (from DWARF location lists, inlined functions and parameters included), what
//! the verifier knew about them in words, the branches that led there, and a concrete fix with
//! the program's own names. Every rejection gets a stable ID from the [`catalogue`].
//!
//! ```no_run
//! let bytes = std::fs::read("prog.o")?;
//! let report = verifier_explain::explain_object(&bytes, &Default::default())?;
//! for p in &report.programs {
//!     if let Some(e) = &p.explanation {
//!         println!("{}: {} at {:?}: {}", p.program, e.id, e.location.as_ref().map(|l| l.line), e.fix.summary);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules, in data-flow order: [`load_object`] (the kernel load with a verbose log, from the `bpf-load` crate),
//! [`log`] (the streaming log parser), [`debuginfo`] (ELF, DWARF, BTF line info, instruction
//! layout), [`catalogue`] (error classes), [`explain`] (the explanation), [`report`] (a whole
//! object), [`render`] (text for people).

mod catalogue;
pub mod debuginfo;
mod evidence;
pub mod explain;
pub mod log;
pub mod render;
mod report;
pub mod view;

pub use bpf_load::{
    AcceptedStats, COMPLEXITY_LIMIT, LoadError, LoadOutcome, Privileges, Verdict, load_object,
    load_object_as,
};
pub use catalogue::Category;
pub use explain::Explanation;
pub use report::{
    Error, Limit, Options, ProgramReport, ProgramStats, ProgramVerdict, Report, SCHEMA_VERSION,
    VerdictKind, explain_load_error, explain_log, explain_object,
};
