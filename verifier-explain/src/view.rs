//! What an explorer of a report reads beyond the [`Report`](crate::Report) itself, in one
//! place: xdpdbg's explain screen is built on this module alone.
//!
//! - The parsed log of a program ([`ProgramReport::summary`](crate::ProgramReport::summary)):
//!   its instructions ([`LogSummary::insns`]), the failing path ([`LogSummary::path`], one
//!   [`PathStep`] per instruction), the processing histogram, the source comments and the
//!   statistics.
//! - The verifier's registers and stack slots at any step of that path: [`Replay::before`]
//!   gives the [`FrameState`] (each register a [`RegState`], each slot a [`SlotState`]) the
//!   verifier had there, and [`Replay`] steps through the path for a register's history.
//! - The program's source and variables: [`DebugInfo`] (parsed once per object) and the
//!   program's [`ProgramLayout`] map an instruction index to its [`SourceLoc`] and the
//!   [`Variable`]s alive there; [`variable_in_register`] and [`variable_in_slot`] say which of
//!   them a register or stack slot holds.
//! - The words for a state: [`describe`] and [`describe_slot`] (what the explanation says of
//!   an operand, e.g. `a packet pointer with 14 bytes proven in bounds`), with [`Hints`].
//!
//! ```
//! use verifier_explain::view::{Replay, describe, Hints};
//!
//! let log = "0: R1=ctx() R10=fp0\n\
//!            0: (61) r2 = *(u32 *)(r1 +0)          ; R2=pkt(r=0)\n\
//!            1: (71) r3 = *(u8 *)(r2 +12)\n\
//!            invalid access to packet, off=12 size=1, R2(id=0,off=12,r=0)\n";
//! let report = verifier_explain::explain_log(log.as_bytes(), None, None)?;
//! let summary = report.programs[0].summary().expect("a log");
//! let (_frame, state) = Replay::before(&summary.path, 1).expect("step 1");
//! let r2 = &state.regs[&2];
//! assert_eq!(r2.type_name, "pkt");
//! println!("r2 is {}", describe(Some(r2), &Hints::default()));
//! # Ok::<(), verifier_explain::Error>(())
//! ```

pub use crate::debuginfo::{
    DebugInfo, ProgramLayout, SourceLoc, Variable, variable_in_register, variable_in_slot,
};
pub use crate::explain::knowledge::{Hints, describe, describe_slot};
pub use crate::log::{FrameState, LogSummary, PathStep, RegState, Replay, SlotState};
