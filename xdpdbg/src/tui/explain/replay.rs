//! The verifier's state along the failing path, replayed from what the log printed.
//!
//! The log prints, with each instruction, the registers and stack slots it read or wrote (kernel
//! 6.x) and, where the verifier went back to a branch it had put aside, the whole state
//! (`from X to Y: ...`). Starting from the program's first state (`0: R1=ctx() R10=fp0`) and
//! applying those, step after step, gives what the verifier knew before each step. Calls are
//! followed as the verifier does: a helper call leaves r1-r5 uninitialised, a call to a
//! subprogram opens a frame holding the arguments, its `exit` returns r0 to the caller.
//!
//! What the log does not print cannot be replayed: the state before the faulting instruction
//! is the parser's own (exact); elsewhere it is as good as the log's deltas.

use std::collections::BTreeMap;

use verifier_explain::explain::insn;
use verifier_explain::log::SPILLED;
use verifier_explain::log::{PathStep, PrintedState, RegState, SlotState};

use super::data::Program;

/// One call frame's registers and stack slots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameState {
    /// Registers with a value, by number.
    pub regs: BTreeMap<u8, RegState>,
    /// Stack slots the log mentioned, by offset from the frame pointer.
    pub slots: BTreeMap<i64, SlotState>,
}

/// Every frame's state, as the replay goes.
#[derive(Debug, Clone, Default)]
struct Machine {
    frames: BTreeMap<u32, FrameState>,
}

impl Machine {
    fn new(initial: &PrintedState) -> Self {
        let mut m = Machine::default();
        m.reset_to(initial);
        m
    }

    fn frame(&mut self, f: u32) -> &mut FrameState {
        self.frames.entry(f).or_default()
    }

    fn reg(&self, frame: u32, reg: u8) -> Option<&RegState> {
        self.frames.get(&frame)?.regs.get(&reg)
    }

    fn set(&mut self, st: &PrintedState) {
        for r in st.regs.iter().filter(|r| r.reg != SPILLED) {
            self.frame(r.frame).regs.insert(r.reg, r.clone());
        }
        for s in &st.slots {
            self.frame(s.frame).slots.insert(s.off, s.clone());
        }
    }

    /// A complete state: the frames it mentions are replaced, deeper ones are gone.
    fn reset_to(&mut self, st: &PrintedState) {
        let mentioned: Vec<u32> = st
            .regs
            .iter()
            .map(|r| r.frame)
            .chain(st.slots.iter().map(|s| s.frame))
            .chain([st.frame])
            .collect();
        let deepest = mentioned.iter().copied().max().unwrap_or(0);
        self.frames.retain(|&f, _| f <= deepest);
        for f in mentioned {
            self.frames.insert(f, FrameState::default());
        }
        self.set(st);
    }

    fn clobber_args(&mut self, frame: u32) {
        let regs = &mut self.frame(frame).regs;
        for r in 1..=5 {
            regs.remove(&r);
        }
    }

    fn step(&mut self, s: &PathStep) {
        let f = s.frame;
        let text = s.text.trim();
        if insn::is_call(text) {
            if insn::helper_name(text).is_some() {
                self.clobber_args(f);
            } else {
                // A call to a subprogram: the callee starts with the arguments and its own fp.
                let mut callee = FrameState::default();
                for r in 1..=5u8 {
                    if let Some(mut v) = self.reg(f, r).cloned() {
                        v.frame = f.saturating_add(1);
                        callee.regs.insert(r, v);
                    }
                }
                callee.regs.insert(
                    10,
                    RegState {
                        reg: 10,
                        frame: f.saturating_add(1),
                        type_name: "fp".into(),
                        off: Some(0),
                        text: "fp0".into(),
                        ..RegState::default()
                    },
                );
                self.frames.insert(f.saturating_add(1), callee);
            }
        }
        let printed = PrintedState {
            frame: f,
            regs: s.regs.clone(),
            slots: s.slots.clone(),
            extras: Vec::new(),
        };
        self.set(&printed);
        if text == "exit" && f > 0 {
            let r0 = self.frames.remove(&f).and_then(|mut c| c.regs.remove(&0));
            self.clobber_args(f - 1);
            if let Some(mut r0) = r0 {
                r0.frame = f - 1;
                self.frame(f - 1).regs.insert(0, r0);
            }
        }
    }

    /// Applies the full state printed when the verifier came back to the branch that step
    /// `i` continues, if it printed one. Returns whether it did.
    fn enter(&mut self, p: &Program, i: usize) -> bool {
        let path = &p.summary.path;
        let (Some(prev), Some(cur)) = (i.checked_sub(1).and_then(|j| path.get(j)), path.get(i))
        else {
            return false;
        };
        match p.branch_states.get(&(prev.idx, cur.idx)) {
            Some(st) => {
                self.reset_to(st);
                true
            }
            None => false,
        }
    }
}

/// What the verifier knew just before one step of the failing path.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The step, an index into the path.
    pub step: usize,
    /// The frame the step runs in.
    pub frame: u32,
    /// That frame's registers and stack slots.
    pub state: FrameState,
    /// True when this is the parser's state before the faulting instruction (exact), false
    /// for a replay of what the log printed.
    pub exact: bool,
}

/// The state before step `k` of `p`'s failing path.
pub fn before(p: &Program, k: usize) -> Option<Snapshot> {
    let path = &p.summary.path;
    let target = path.get(k)?;
    if k + 1 == path.len() && p.fault() == Some(target.idx) {
        let s = &p.summary;
        let mut state = FrameState::default();
        for r in s.regs_before_error.iter().filter(|r| r.reg != SPILLED) {
            state.regs.insert(r.reg, r.clone());
        }
        for sl in &s.slots_before_error {
            state.slots.insert(sl.off, sl.clone());
        }
        return Some(Snapshot {
            step: k,
            frame: target.frame,
            state,
            exact: true,
        });
    }
    let mut m = Machine::new(&p.initial);
    for (i, s) in path.iter().enumerate().take(k + 1) {
        m.enter(p, i);
        if i < k {
            m.step(s);
        }
    }
    Some(Snapshot {
        step: k,
        frame: target.frame,
        state: m.frames.remove(&target.frame).unwrap_or_default(),
        exact: false,
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
    let mut m = Machine::new(&p.initial);
    let mut out = Vec::new();
    if let Some(r) = m.reg(0, reg) {
        out.push(Change {
            step: None,
            idx: 0,
            state: Some(r.clone()),
            cause: Cause::Entry,
        });
    }
    for (i, s) in path.iter().enumerate() {
        let f = s.frame;
        let before = m.reg(f, reg).map(|r| r.text.clone());
        if m.enter(p, i) {
            let now = m.reg(f, reg);
            if now.map(|r| &r.text) != before.as_ref() {
                out.push(Change {
                    step: Some(i),
                    idx: s.idx,
                    state: now.cloned(),
                    cause: Cause::Branch,
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

#[cfg(test)]
mod tests {
    use super::*;
    use verifier_explain::log::parse_state;

    fn step(idx: u32, text: &str, delta: &str) -> PathStep {
        framed(0, idx, text, delta)
    }

    fn framed(frame: u32, idx: u32, text: &str, delta: &str) -> PathStep {
        let st = parse_state(delta);
        PathStep {
            idx,
            opcode: 0,
            text: text.into(),
            regs: st.regs,
            slots: st.slots,
            frame,
        }
    }

    fn texts(state: &FrameState) -> Vec<String> {
        state
            .regs
            .values()
            .map(|r| format!("r{}={}", r.reg, r.text))
            .collect()
    }

    #[test]
    fn helper_calls_clobber_arguments_and_subprograms_get_frames() {
        let mut m = Machine::new(&parse_state("R1=ctx() R10=fp0"));
        m.step(&step(0, "r2 = r10", "R2=fp0 R10=fp0"));
        m.step(&step(
            1,
            "call bpf_map_lookup_elem#1",
            "R0=map_value_or_null(id=1)",
        ));
        let f0 = m.frames[&0].clone();
        assert_eq!(texts(&f0), ["r0=map_value_or_null(id=1)", "r10=fp0"]);

        let mut m = Machine::new(&parse_state("R1=ctx() R10=fp0"));
        m.step(&step(0, "r1 = 5", "R1=5"));
        m.step(&step(1, "call pc+3", ""));
        assert_eq!(texts(&m.frames[&1]), ["r1=5", "r10=fp0"]);
        m.step(&framed(1, 5, "r0 = 7", "frame1: R0=7"));
        m.step(&framed(1, 6, "exit", ""));
        assert!(!m.frames.contains_key(&1));
        assert_eq!(texts(&m.frames[&0]), ["r0=7", "r10=fp0"]);
    }

    #[test]
    fn full_states_replace_frames() {
        let mut m = Machine::new(&parse_state("R1=ctx() R10=fp0"));
        m.step(&step(0, "r2 = 1", "R2=1"));
        m.reset_to(&parse_state("R1=pkt(r=14) R10=fp0"));
        assert_eq!(texts(&m.frames[&0]), ["r1=pkt(r=14)", "r10=fp0"]);
    }
}
