//! Reconstructing the path that led to the error, in bounded memory.
//!
//! The verifier explores paths depth first: at a branch it pushes one side on a stack and goes
//! on with the other; when a path ends (exit, or pruned as `safe`) it pops the most recent push
//! and prints `from X to Y:` (X is the instruction that pushed it). Because the stack is LIFO,
//! everything pushed after that state has already been popped and explored, so X lies on the
//! path explored last, and that path after X will never be needed again. The failing path is
//! therefore a single stack of events: a pop of X cuts the stack back to the most recent
//! occurrence of X not consumed by an earlier pop, and the branch carries on from there.
//!
//! Each event keeps its raw text only; states are parsed at the end, for the final path alone.
//! Memory is bounded by a byte budget: past it the oldest half of the path is dropped (the
//! result then says its beginning was cut). Level-1 logs need no help (the kernel rewinds the
//! log when a path ends, so it already shows one path), and 5.x level-2 logs, which print no
//! `from` line, are handled by finding the jump whose target the next instruction is.

use super::state::{RegState, SlotState, for_each_item, parse_state, reg_number, slot_offset};
use super::summary::{PathStep, StateLine};
use std::collections::BTreeMap;

/// Instruction indices below this get an occurrence counter (the kernel's limit is 1M).
const COUNT_CAP: usize = 1 << 20;
/// How far back to look for a pusher when there is no counter to say it is there.
const SEARCH_WINDOW: usize = 1 << 13;
/// Events such searches may scan in all (a hostile log must not make them quadratic).
const SEARCH_BUDGET: u64 = 1 << 26;
/// Default byte budget for the path being explored (text and event records; the vectors'
/// spare capacity can double the memory used).
pub(crate) const DEFAULT_BUDGET: usize = 32 << 20;
/// The longest path reported (its tail is kept).
pub(crate) const MAX_STEPS: usize = 100_000;
/// At most this many registers and slots are decoded into the reported path (its tail is
/// kept): a decoded register takes a few hundred bytes, and old kernels print every register
/// at every step.
pub(crate) const MAX_PATH_STATES: usize = 25_000;
/// How far back to walk for the registers before the error.
const MAX_STATE_WALK: usize = MAX_STEPS;
/// Stack slots reported before the error (a 512-byte frame has 64).
const MAX_SLOTS_BEFORE: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Insn,
    State,
}

/// One instruction or state line on the path. Text lives in the builder's arena.
#[derive(Debug, Clone, Copy)]
struct Event {
    kind: Kind,
    /// The state is complete for its frame (a popped branch, a call's frames): nothing older
    /// is needed to know the frame's registers.
    full: bool,
    /// A pop has already returned to this instruction.
    consumed: bool,
    opcode: u8,
    idx: u32,
    frame: u32,
    text: u64,
    text_len: u32,
    delta: u64,
    delta_len: u32,
}

/// The path under exploration.
pub(crate) struct PathBuilder {
    events: Vec<Event>,
    arena: Vec<u8>,
    /// Absolute offset of `arena[0]`.
    base: u64,
    /// Unconsumed occurrences of each instruction index on the path.
    counts: Vec<u32>,
    lost_prefix: bool,
    budget: usize,
    /// What remains of [`SEARCH_BUDGET`].
    search_left: u64,
}

/// The failing path, decoded.
pub(crate) struct Reconstructed {
    pub steps: Vec<PathStep>,
    pub regs: Vec<RegState>,
    pub slots: Vec<SlotState>,
    /// The path's beginning is missing (memory budget, step cap, or a pop to an instruction
    /// that was not seen).
    pub truncated: bool,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `if r3 > r2 goto pc+29` at `idx` jumps to `idx + 1 + 29`.
fn jump_target(idx: u32, text: &[u8]) -> Option<u32> {
    let at = memchr::memmem::find(text, b"goto pc")?;
    let rest = text.get(at + b"goto pc".len()..)?;
    let (neg, digits) = match rest.first()? {
        b'+' => (false, rest.get(1..)?),
        b'-' => (true, rest.get(1..)?),
        _ => return None,
    };
    let (off, _) = super::line::parse_u32_prefix(digits)?;
    let off = i64::from(off);
    let target = i64::from(idx) + 1 + if neg { -off } else { off };
    u32::try_from(target).ok()
}

/// The bytes at absolute offset `start` of an arena that begins at `base`.
fn arena_slice(arena: &[u8], base: u64, start: u64, len: u32) -> &[u8] {
    let Some(off) = start.checked_sub(base) else {
        return &[];
    };
    let Ok(off) = usize::try_from(off) else {
        return &[];
    };
    arena
        .get(off..off.saturating_add(len as usize))
        .unwrap_or_default()
}

/// The last of `events` within the search window that matches, charging what it scans to
/// `budget` (once spent, nothing more is searched).
fn search_back(
    events: &[Event],
    budget: &mut u64,
    matches: impl Fn(&Event) -> bool,
) -> Option<usize> {
    let window = (SEARCH_WINDOW as u64).min(*budget) as usize;
    let lo = events.len().saturating_sub(window);
    let tail = events.get(lo..)?;
    let found = tail.iter().rposition(matches);
    let scanned = found.map_or(tail.len(), |p| tail.len() - p);
    *budget = budget.saturating_sub(scanned as u64);
    found.map(|p| p + lo)
}

/// A conditional jump (it can push a branch): JMP/JMP32 class, not `ja`, `call` or `exit`.
fn is_conditional_jump(opcode: u8) -> bool {
    matches!(opcode & 0x07, 0x05 | 0x06) && !matches!(opcode & 0xf0, 0x00 | 0x80 | 0x90)
}

impl PathBuilder {
    pub(crate) fn new(budget: usize) -> Self {
        PathBuilder {
            events: Vec::new(),
            arena: Vec::new(),
            base: 0,
            counts: Vec::new(),
            lost_prefix: false,
            budget: budget.max(1024),
            search_left: SEARCH_BUDGET,
        }
    }

    fn append(&mut self, bytes: &[u8]) -> (u64, u32) {
        let start = self.base + self.arena.len() as u64;
        let len = bytes.len().min(u32::MAX as usize);
        self.arena
            .extend_from_slice(bytes.get(..len).unwrap_or_default());
        (start, len as u32)
    }

    fn slice(&self, start: u64, len: u32) -> &[u8] {
        arena_slice(&self.arena, self.base, start, len)
    }

    fn count_inc(&mut self, idx: u32) {
        let i = idx as usize;
        if i >= COUNT_CAP {
            return;
        }
        if i >= self.counts.len() {
            self.counts
                .resize((i + 1).next_power_of_two().min(COUNT_CAP), 0);
        }
        if let Some(c) = self.counts.get_mut(i) {
            *c = c.saturating_add(1);
        }
    }

    fn count_dec(&mut self, idx: u32) {
        if let Some(c) = self.counts.get_mut(idx as usize) {
            *c = c.saturating_sub(1);
        }
    }

    /// An instruction line; `delta` is the state printed with it.
    pub(crate) fn insn(&mut self, idx: u32, opcode: u8, frame: u32, text: &[u8], delta: &[u8]) {
        let (t, tl) = self.append(text);
        let (d, dl) = self.append(delta);
        self.events.push(Event {
            kind: Kind::Insn,
            full: false,
            consumed: false,
            opcode,
            idx,
            frame,
            text: t,
            text_len: tl,
            delta: d,
            delta_len: dl,
        });
        self.count_inc(idx);
        self.enforce_budget();
    }

    /// A state line. A partial one right after an instruction that printed no state is that
    /// instruction's state (older kernels print it on its own line); otherwise it stands alone.
    /// A `full` one is complete for its frame and also stands alone.
    pub(crate) fn state(&mut self, idx: u32, frame: u32, text: &[u8], full: bool) {
        if let Some(last) = self.events.last()
            && !full
            && last.kind == Kind::Insn
            && last.delta_len == 0
            && last.frame == frame
        {
            let (d, dl) = self.append(text);
            if let Some(last) = self.events.last_mut() {
                last.delta = d;
                last.delta_len = dl;
            }
            self.enforce_budget();
            return;
        }
        let (t, tl) = self.append(text);
        self.events.push(Event {
            kind: Kind::State,
            full,
            consumed: false,
            opcode: 0,
            idx,
            frame,
            text: t,
            text_len: tl,
            delta: t,
            delta_len: 0,
        });
        self.enforce_budget();
    }

    /// Marks the last instruction's own state complete (a level-1 jump that carries the taken
    /// branch's whole state).
    pub(crate) fn insn_state_is_full(&mut self) {
        if let Some(last) = self.events.last_mut()
            && last.kind == Kind::Insn
        {
            last.full = true;
        }
    }

    fn is_open_insn(e: &Event, idx: u32) -> bool {
        e.kind == Kind::Insn && e.idx == idx && !e.consumed
    }

    /// `from X to Y`: back to the most recent unconsumed occurrence of X.
    pub(crate) fn pop(&mut self, from: u32) {
        let found = if (from as usize) < COUNT_CAP {
            // The counter says whether it is there; if it is, everything scanned past is
            // dropped, so the scans cost no more than the appends did.
            if self.counts.get(from as usize).copied().unwrap_or(0) == 0 {
                None
            } else {
                self.events
                    .iter()
                    .rposition(|e| Self::is_open_insn(e, from))
            }
        } else {
            search_back(&self.events, &mut self.search_left, |e| {
                Self::is_open_insn(e, from)
            })
        };
        self.return_to(found);
    }

    /// A 5.x level-2 log went on at `to` after a path ended, without a `from` line: back to
    /// the most recent unconsumed jump that branches to `to`.
    pub(crate) fn implicit_pop(&mut self, to: u32) {
        let (arena, base) = (&self.arena, self.base);
        let found = search_back(&self.events, &mut self.search_left, |e| {
            e.kind == Kind::Insn
                && !e.consumed
                && is_conditional_jump(e.opcode)
                && (e.idx.checked_add(1) == Some(to)
                    || jump_target(e.idx, arena_slice(arena, base, e.text, e.text_len)) == Some(to))
        });
        self.return_to(found);
    }

    fn return_to(&mut self, found: Option<usize>) {
        match found {
            Some(pos) => {
                self.truncate_after(pos);
                if let Some(e) = self.events.get_mut(pos) {
                    e.consumed = true;
                    let idx = e.idx;
                    self.count_dec(idx);
                }
            }
            None => {
                // The pusher is not on the path we kept: its beginning is unknown.
                self.events.clear();
                self.arena.clear();
                self.counts.clear();
                self.lost_prefix = true;
            }
        }
    }

    /// Keeps `events[..=pos]`.
    fn truncate_after(&mut self, pos: usize) {
        if pos + 1 >= self.events.len() {
            return;
        }
        for i in pos + 1..self.events.len() {
            if let Some(&e) = self.events.get(i)
                && e.kind == Kind::Insn
                && !e.consumed
            {
                self.count_dec(e.idx);
            }
        }
        self.events.truncate(pos + 1);
        if let Some(last) = self.events.last() {
            let end =
                (last.text + u64::from(last.text_len)).max(last.delta + u64::from(last.delta_len));
            let keep = end.saturating_sub(self.base);
            if let Ok(keep) = usize::try_from(keep) {
                self.arena.truncate(keep);
            }
        }
    }

    fn enforce_budget(&mut self) {
        let used = self.arena.len() + self.events.len() * std::mem::size_of::<Event>();
        if used <= self.budget {
            return;
        }
        let n = (self.events.len() / 2).max(1);
        self.lost_prefix = true;
        if n >= self.events.len() {
            self.events.clear();
            self.arena.clear();
            self.counts.clear();
            return;
        }
        for i in 0..n {
            if let Some(&e) = self.events.get(i)
                && e.kind == Kind::Insn
                && !e.consumed
            {
                self.count_dec(e.idx);
            }
        }
        let new_start = self.events.get(n).map_or(self.base, |e| e.text);
        let cut = usize::try_from(new_start.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.arena.len());
        self.arena.drain(..cut);
        self.base += cut as u64;
        self.events.drain(..n);
    }

    /// The failing path and the state before the faulting instruction `fault` (when it is the
    /// path's last instruction), in frame `current_frame` otherwise.
    pub(crate) fn finish(self, fault: Option<u32>, current_frame: u32) -> Reconstructed {
        let positions: Vec<usize> = self
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == Kind::Insn)
            .map(|(i, _)| i)
            .collect();
        let mut steps = Vec::new();
        let mut states = 0usize;
        for (j, &p) in positions.iter().enumerate().rev() {
            let Some(e) = self.events.get(p) else { break };
            if steps.len() >= MAX_STEPS || states >= MAX_PATH_STATES {
                break;
            }
            let parsed = parse_state(&String::from_utf8_lossy(self.slice(e.delta, e.delta_len)));
            // The state lines between the previous instruction and this one.
            let first = j
                .checked_sub(1)
                .and_then(|k| positions.get(k))
                .map_or(0, |&q| q + 1);
            let entry: Vec<StateLine> = self
                .events
                .get(first..p)
                .unwrap_or_default()
                .iter()
                .filter(|s| s.kind == Kind::State)
                .map(|s| StateLine {
                    full: s.full,
                    state: parse_state(&String::from_utf8_lossy(self.slice(s.text, s.text_len))),
                })
                .collect();
            states += parsed.regs.len() + parsed.slots.len();
            states += entry
                .iter()
                .map(|l| l.state.regs.len() + l.state.slots.len())
                .sum::<usize>();
            steps.push(PathStep {
                idx: e.idx,
                opcode: e.opcode,
                text: lossy(self.slice(e.text, e.text_len)),
                regs: parsed.regs,
                slots: parsed.slots,
                full: e.full,
                frame: e.frame,
                entry,
            });
        }
        steps.reverse();
        let cut = steps.len() < positions.len();

        let last = positions
            .last()
            .and_then(|&p| Some((p, self.events.get(p)?)));
        let (frame, end) = match last {
            Some((p, e)) if fault == Some(e.idx) => (e.frame, p),
            _ => (current_frame, self.events.len()),
        };
        let (regs, slots) = self.state_before(end, frame);
        Reconstructed {
            steps,
            regs,
            slots,
            truncated: self.lost_prefix || cut,
        }
    }

    /// The registers and slots of `frame` after `events[..end]`: walks back, most recent
    /// mention first, until a state complete for the frame.
    fn state_before(&self, end: usize, frame: u32) -> (Vec<RegState>, Vec<SlotState>) {
        let mut regs: BTreeMap<u8, Option<RegState>> = BTreeMap::new();
        let mut slots: BTreeMap<i64, SlotState> = BTreeMap::new();
        let events = self.events.get(..end).unwrap_or_default();
        for e in events.iter().rev().take(MAX_STATE_WALK) {
            if e.frame != frame {
                continue;
            }
            let text = match e.kind {
                Kind::Insn => self.slice(e.delta, e.delta_len),
                Kind::State => self.slice(e.text, e.text_len),
            };
            if !text.is_empty() {
                // Only the items not known yet are decoded.
                let text = String::from_utf8_lossy(text);
                for_each_item(&text, |f, item| {
                    if f != frame {
                        return;
                    }
                    if let Some(n) = reg_number(item) {
                        if let std::collections::btree_map::Entry::Vacant(v) = regs.entry(n) {
                            v.insert(RegState::parse(item, f));
                        }
                    } else if let Some(off) = slot_offset(item)
                        && slots.len() < MAX_SLOTS_BEFORE
                        && let std::collections::btree_map::Entry::Vacant(v) = slots.entry(off)
                        && let Some(slot) = SlotState::parse(item, f)
                    {
                        v.insert(slot);
                    }
                });
            }
            if e.kind == Kind::Insn && e.opcode == 0x85 {
                // A call clobbers R0-R5: R0 holds the result, printed with the call unless the
                // helper is void (a subprogram's return prints the caller's whole state).
                for r in 0..=5 {
                    regs.entry(r).or_insert(None);
                }
            }
            if e.full {
                break;
            }
        }
        (
            regs.into_values().flatten().collect(),
            slots.into_values().rev().collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(p: &mut PathBuilder, idx: u32, opcode: u8, delta: &str) {
        p.insn(
            idx,
            opcode,
            0,
            format!("insn {idx}").as_bytes(),
            delta.as_bytes(),
        );
    }

    fn idxs(r: &Reconstructed) -> Vec<u32> {
        r.steps.iter().map(|s| s.idx).collect()
    }

    #[test]
    fn pop_returns_to_the_pusher() {
        let mut p = PathBuilder::new(DEFAULT_BUDGET);
        p.state(0, 0, b"R1=ctx() R10=fp0", true);
        for i in 0..6 {
            insn(&mut p, i, if i == 2 || i == 4 { 0x15 } else { 0x07 }, "");
        }
        insn(&mut p, 6, 0x95, "");
        p.pop(4);
        p.state(9, 0, b"R0=1 R10=fp0", true);
        insn(&mut p, 9, 0x95, "");
        p.pop(2);
        p.state(7, 0, b"R0=2 R10=fp0", true);
        insn(&mut p, 7, 0x71, "");
        let r = p.finish(Some(7), 0);
        assert_eq!(idxs(&r), [0, 1, 2, 7]);
        assert!(!r.truncated);
        let regs: Vec<(u8, Option<i64>)> = r.regs.iter().map(|r| (r.reg, r.value)).collect();
        assert_eq!(regs, [(0, Some(2)), (10, None)]);
    }

    #[test]
    fn loops_pop_the_most_recent_unconsumed_occurrence() {
        let mut p = PathBuilder::new(DEFAULT_BUDGET);
        for round in 0..3 {
            insn(&mut p, 1, 0x07, &format!("R1={round}"));
            insn(&mut p, 2, 0x55, "");
        }
        insn(&mut p, 3, 0x95, "");
        p.pop(2); // the third occurrence
        insn(&mut p, 5, 0x95, "");
        p.pop(2); // the second
        insn(&mut p, 6, 0x07, "");
        let r = p.finish(None, 0);
        assert_eq!(idxs(&r), [1, 2, 1, 2, 6]);
        assert_eq!(r.regs.first().and_then(|r| r.value), Some(1));
    }

    #[test]
    fn a_pop_to_an_unseen_instruction_loses_the_prefix() {
        let mut p = PathBuilder::new(DEFAULT_BUDGET);
        insn(&mut p, 1, 0x07, "");
        p.pop(99);
        insn(&mut p, 100, 0x07, "");
        let r = p.finish(None, 0);
        assert_eq!(idxs(&r), [100]);
        assert!(r.truncated);
    }

    #[test]
    fn separate_state_lines_attach_to_the_instruction() {
        let mut p = PathBuilder::new(DEFAULT_BUDGET);
        insn(&mut p, 0, 0xb7, "");
        p.state(1, 0, b"R0_w=inv0 R10=fp0", false);
        insn(&mut p, 1, 0x95, "");
        let r = p.finish(None, 0);
        assert_eq!(
            r.steps[0].regs.first().map(|r| r.type_name.as_str()),
            Some("scalar")
        );
        assert!(r.steps[1].regs.is_empty());
    }

    #[test]
    fn implicit_pops_find_the_jump() {
        let mut p = PathBuilder::new(DEFAULT_BUDGET);
        p.insn(0, 0x2d, 0, b"if r3 > r2 goto pc+4", b"");
        insn(&mut p, 1, 0x07, "");
        insn(&mut p, 2, 0x95, "");
        p.implicit_pop(5);
        insn(&mut p, 5, 0x07, "");
        let r = p.finish(None, 0);
        assert_eq!(idxs(&r), [0, 5]);
        assert_eq!(jump_target(10, b"goto pc-7"), Some(4));
        assert_eq!(jump_target(0, b"goto pc-7"), None);
    }

    #[test]
    fn calls_clobber_r1_to_r5_and_frames_are_separate() {
        let mut p = PathBuilder::new(DEFAULT_BUDGET);
        p.state(0, 0, b"R1=ctx() R6=ctx() R10=fp0", true);
        p.insn(
            1,
            0x85,
            0,
            b"call bpf_map_lookup_elem#1",
            b"R0=map_value_or_null(id=1)",
        );
        p.insn(2, 0x85, 0, b"call pc+5", b"");
        p.state(8, 1, b"frame1: R1=3 R10=fp0", true);
        p.insn(8, 0x07, 1, b"r1 += 1", b"frame1: R1=4");
        p.insn(9, 0x71, 1, b"r0 = *(u8 *)(r1 +0)", b"");
        let r = p.finish(Some(9), 0);
        let regs: Vec<(u8, u32)> = r.regs.iter().map(|r| (r.reg, r.frame)).collect();
        assert_eq!(regs, [(1, 1), (10, 1)]);
        assert_eq!(r.regs[0].value, Some(4));
    }

    #[test]
    fn the_budget_drops_the_oldest_half() {
        let mut p = PathBuilder::new(64 * 1024);
        for i in 0..100_000u32 {
            insn(&mut p, i % 50, 0x07, "R1=scalar(smin=0,smax=100)");
        }
        assert!(p.arena.len() + p.events.len() * std::mem::size_of::<Event>() <= 64 * 1024);
        let r = p.finish(None, 0);
        assert!(r.truncated);
        assert_eq!(r.steps.last().map(|s| s.idx), Some(99_999 % 50));
        assert!(r.steps.len() > 100);
    }
}
