//! The verifier's state at any step of the failing path, and a register's history along it,
//! from the log parser's replay ([`verifier_explain::view::Replay`]).

use verifier_explain::view::{FrameState, RegState, Replay};

use super::data::Program;

/// What the verifier knew just before one step of the failing path.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The step, an index into the path.
    pub step: usize,
    /// The frame the step runs in.
    pub frame: u32,
    /// That frame's registers and stack slots.
    pub state: FrameState,
    /// Whether this is the faulting instruction, whose operands the explanation describes.
    pub at_fault: bool,
}

/// The state before step `k` of `p`'s failing path.
pub fn before(p: &Program, k: usize) -> Option<Snapshot> {
    let path = &p.summary.path;
    let (frame, state) = Replay::before(path, k)?;
    Some(Snapshot {
        step: k,
        frame,
        state,
        at_fault: k + 1 == path.len() && path.get(k).map(|s| s.idx) == p.fault(),
    })
}

/// How a register came to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The state the program starts with.
    Entry,
    /// The step's instruction (or the call it made).
    Step,
    /// The verifier came back to a branch it had put aside, with this state.
    Branch,
}

/// One change of a register on the failing path.
#[derive(Debug, Clone)]
pub struct Change {
    /// The path step (an index into the path); `None` for the entry state.
    pub step: Option<usize>,
    /// The instruction.
    pub idx: u32,
    /// The register's new state; `None` when it no longer holds a value.
    pub state: Option<RegState>,
    /// What changed it.
    pub cause: Cause,
}

/// Every change of register `reg` along the failing path, in the frame each step runs in.
pub fn history(p: &Program, reg: u8) -> Vec<Change> {
    let path = &p.summary.path;
    let mut m = Replay::default();
    let mut out = Vec::new();
    for (i, s) in path.iter().enumerate() {
        let f = s.frame;
        let before = m.reg(f, reg).map(|r| r.text.clone());
        if m.enter(s) {
            let now = m.reg(f, reg);
            if now.map(|r| &r.text) != before.as_ref() {
                // The program's first state, or one the verifier resumed from.
                let cause = if i == 0 { Cause::Entry } else { Cause::Branch };
                out.push(Change {
                    step: (i > 0).then_some(i),
                    idx: s.idx,
                    state: now.cloned(),
                    cause,
                });
            }
        }
        let before = m.reg(f, reg).map(|r| r.text.clone());
        m.step(s);
        let now = m.reg(f, reg);
        if now.map(|r| &r.text) != before.as_ref() {
            out.push(Change {
                step: Some(i),
                idx: s.idx,
                state: now.cloned(),
                cause: Cause::Step,
            });
        }
    }
    out
}
