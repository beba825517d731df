//! Explains eBPF verifier rejections at source level.
//!
//! Today this crate loads an object's programs into the kernel with the verifier's full log and
//! reports, per program, whether it was accepted, the verifier's statistics, and for a rejection
//! the verifier's own error line and log. Source-level explanations (the line, the variables the
//! registers hold, the cause and the fix) build on this.
//!
//! ```no_run
//! let bytes = std::fs::read("prog.o")?;
//! for outcome in verifier_explain::load_object(&bytes, None)? {
//!     println!("{}: {:?}", outcome.program, outcome.verdict);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod catalogue;
mod load;

pub use load::{
    AcceptedStats, COMPLEXITY_LIMIT, LoadError, LoadOutcome, Privileges, Verdict, load_object,
    load_object_as,
};
