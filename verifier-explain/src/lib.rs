//! Explains eBPF verifier rejections at source level.
//!
//! The verifier's log says which instruction it refused and what it knew about each register
//! there. This crate maps that back to the program's source: the exact line (from the DWARF
//! line table or BTF line info of that instruction), the source variables the registers and
//! stack slots hold (from DWARF location lists, inlined functions and parameters included), what
//! the verifier knew about them in words, the branches that led there, and a concrete fix with
//! the program's own names. Every rejection gets a stable ID from the catalogue of error
//! classes ([`classes`]; one page each in `docs/catalogue/`).
//!
//! ```no_run
//! let bytes = std::fs::read("prog.o")?;
//! let report = verifier_explain::explain_object(&bytes, &Default::default())?;
//! for p in &report.programs {
//!     if let Some(e) = p.explanation() {
//!         println!("{}: {} at {:?}: {}", p.program, e.id, e.location.as_ref().map(|l| l.line), e.fix.summary);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The public API: [`explain_object`] (load with the verifier's log, then explain),
//! [`explain_log`] (a log captured elsewhere), [`explain_load_error`] (an aya load error), the
//! [`Report`] they return (one [`ProgramReport`] per program, whose [`ProgramVerdict`] carries
//! what each outcome has, the [`Explanation`] of a rejection among it), [`render::human`] for
//! people, and [`view`]: what an explorer (xdpdbg's TUI) reads beyond the report. [`log`],
//! [`debuginfo`] and [`explain`] expose the parser, the debug information and the parts of an
//! explanation that the report and the view are made of.
//!
//! Layers, bottom first; each imports only the layers below it (`tests/layers.rs` checks):
//! [`log`] (parse: the streaming log parser, its line and instruction-text grammar, the path
//! and its replay), [`debuginfo`] (the program's model: ELF, DWARF, BTF line info, the
//! loader's instruction layout), `evidence` (the facts about one rejection and the parts of
//! an explanation), `catalogue` (the error classes: each one entry with its ID, category,
//! message matcher, cause and fix), [`explain`] (the explanation: operands, path, hot lines,
//! the words for a verifier state), `report` (a whole object, loaded through the `bpf-load`
//! crate), [`render`] (text for people) and [`view`] (for explorers).

mod catalogue;
pub mod debuginfo;
mod evidence;
pub mod explain;
pub mod log;
pub mod render;
mod report;
pub mod view;

/// Loading an object with the verifier's log, from the `bpf-load` crate.
pub use bpf_load::{LoadError, Privileges, Verdict, load_object};
pub use catalogue::{Category, ClassInfo, classes};
pub use explain::Explanation;
pub use report::{
    Error, Limit, Options, ProgramReport, ProgramStats, ProgramVerdict, Report, SCHEMA_VERSION,
    VerdictKind, explain_load_error, explain_log, explain_object,
};
