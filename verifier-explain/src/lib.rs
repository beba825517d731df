//! Explains eBPF verifier rejections.
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

pub mod debuginfo;
mod load;

pub use load::{LoadError, LoadOutcome, Verdict, load_object};
