//! The verifier's state along the failing path, replayed from what the log printed.
//!
//! The log prints, with each instruction, the registers and stack slots it read or wrote (kernel
//! 6.x); on lines of their own, the whole state where the verifier resumed a branch it had put
//! aside (`from X to Y: ...`) or entered a call; and at the start, the program's first state
//! (`0: R1=ctx() R10=fp0`). The log parser attaches those lines to the step they precede
//! ([`PathStep::entry`](super::PathStep::entry)), so each occurrence of a branch in a loop gets its own state. Applying
//! them step after step gives what the verifier knew before each step.
//!
//! The verifier also changes registers it does not print, and the replay does the same:
//! - a helper call leaves r0-r5 uninitialised (r0 then holds a result, if not void); a call to a subprogram opens a frame holding
//!   the arguments, and its `exit` returns r0 to the caller;
//! - a packet bounds check proves the range for every packet pointer with the same id, not
//!   only the compared one;
//! - a NULL check makes every copy of the pointer (same id) a pointer, or NULL;
//! - a conditional jump narrows every scalar linked to the compared one (same id).
//!
//! A test replays real logs and checks, at every instruction, that the registers it reads but
//! does not write were printed with the value the replay gave them before it.
//!
//! [`LogSummary::regs_before_error`](super::LogSummary::regs_before_error) comes from this replay
//! when the path is whole.

use std::collections::BTreeMap;

use super::insn;
use super::state::{PrintedState, RegState, SPILLED, SlotState};
use super::summary::PathStep;

/// One call frame's registers and stack slots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameState {
    /// Registers with a value, by number.
    pub regs: BTreeMap<u8, RegState>,
    /// Stack slots the log mentioned, by offset from the frame pointer.
    pub slots: BTreeMap<i64, SlotState>,
}

/// Every frame's state, replayed step by step along a path.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    frames: BTreeMap<u32, FrameState>,
}

impl Replay {
    /// The state before step `k` of `path`: every step before it applied, and the state
    /// lines printed just before it. Returns the frame step `k` runs in and that frame's state.
    pub fn before(path: &[PathStep], k: usize) -> Option<(u32, FrameState)> {
        let target = path.get(k)?;
        let mut m = Replay::default();
        for (i, s) in path.iter().enumerate().take(k + 1) {
            m.enter(s);
            if i < k {
                m.step(s);
            }
        }
        Some((
            target.frame,
            m.frames.remove(&target.frame).unwrap_or_default(),
        ))
    }

    /// Frame `f`'s state, if the replay has one.
    pub fn frame(&self, f: u32) -> Option<&FrameState> {
        self.frames.get(&f)
    }

    fn frame_mut(&mut self, f: u32) -> &mut FrameState {
        self.frames.entry(f).or_default()
    }

    /// Register `reg` of frame `frame`, if it holds a value.
    pub fn reg(&self, frame: u32, reg: u8) -> Option<&RegState> {
        self.frames.get(&frame)?.regs.get(&reg)
    }

    fn set(&mut self, st: &PrintedState) {
        for r in st.regs.iter().filter(|r| r.reg != SPILLED) {
            self.frame_mut(r.frame).regs.insert(r.reg, r.clone());
        }
        for s in &st.slots {
            self.frame_mut(s.frame).slots.insert(s.off, s.clone());
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

    /// Forgets the caller-saved registers r0-r5 (`first` 1 keeps r0).
    fn clobber(&mut self, frame: u32, first: u8) {
        let regs = &mut self.frame_mut(frame).regs;
        for r in first..=5 {
            regs.remove(&r);
        }
    }

    /// Applies the state lines printed before step `s`. Returns whether any did.
    pub fn enter(&mut self, s: &PathStep) -> bool {
        for line in &s.entry {
            if line.full {
                self.reset_to(&line.state);
            } else {
                self.set(&line.state);
            }
        }
        !s.entry.is_empty()
    }

    /// Applies step `s`: its call or return, what it printed, and what the verifier changed
    /// without printing.
    pub fn step(&mut self, s: &PathStep) {
        let f = s.frame;
        let text = s.text.trim();
        if insn::is_call(text) {
            if insn::helper_name(text).is_some() {
                // r0-r5 are lost; r0 holds the result, printed with the call unless void.
                self.clobber(f, 0);
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
        if s.full {
            self.reset_to(&printed);
        } else {
            let before: Vec<Option<RegState>> = printed
                .regs
                .iter()
                .map(|r| self.reg(r.frame, r.reg).cloned())
                .collect();
            self.set(&printed);
            for (old, new) in before.iter().zip(&printed.regs) {
                self.propagate(old.as_ref(), new, insn::is_conditional(text));
            }
        }
        if text == "exit" && f > 0 {
            let r0 = self.frames.remove(&f).and_then(|mut c| c.regs.remove(&0));
            self.clobber(f - 1, 1);
            if let Some(mut r0) = r0 {
                r0.frame = f - 1;
                self.frame_mut(f - 1).regs.insert(0, r0);
            }
        }
    }

    /// Gives the registers and spilled slots linked to `new` (same id) what the verifier gave
    /// them when `new` changed from `old`.
    fn propagate(&mut self, old: Option<&RegState>, new: &RegState, conditional: bool) {
        let this = (new.frame, new.reg);
        let Some(link) = Link::of(old, new, conditional) else {
            return;
        };
        let update = |r: &RegState| link.apply(r);
        for (&frame, state) in &mut self.frames {
            for (&n, reg) in &mut state.regs {
                if (frame, n) != this
                    && let Some(mut v) = update(reg)
                {
                    v.reg = n;
                    v.frame = frame;
                    *reg = v;
                }
            }
            for slot in state.slots.values_mut() {
                if let Some(spilled) = &slot.spilled
                    && let Some(mut v) = update(spilled)
                {
                    v.reg = SPILLED;
                    v.frame = frame;
                    slot.text = v.text.clone();
                    slot.spilled = Some(v);
                }
            }
        }
    }
}

/// How a change to one register reaches the others with the same id.
enum Link {
    /// find_good_pkt_pointers: every packet pointer with this id gets the proven range.
    PacketRange {
        kind: String,
        id: Option<u32>,
        range: i64,
    },
    /// mark_ptr_or_null_regs: every copy of the checked pointer becomes what it became.
    NullCheck { id: Option<u32>, became: RegState },
    /// sync_linked_regs: scalars with the same id share the narrowed bounds.
    LinkedScalars { id: Option<u32>, became: RegState },
}

impl Link {
    fn of(old: Option<&RegState>, new: &RegState, conditional: bool) -> Option<Self> {
        if new.type_name.starts_with("pkt")
            && !new.type_name.starts_with("pkt_end")
            && let Some(range) = new.range
            && old.is_none_or(|o| o.range != Some(range))
        {
            return Some(Link::PacketRange {
                kind: new.type_name.clone(),
                id: new.id,
                range,
            });
        }
        if let Some(old) = old
            && old.or_null
            && old.id.is_some()
            && !new.or_null
        {
            return Some(Link::NullCheck {
                id: old.id,
                became: new.clone(),
            });
        }
        (conditional && new.type_name == "scalar" && new.id.is_some()).then(|| {
            Link::LinkedScalars {
                id: new.id,
                became: new.clone(),
            }
        })
    }

    /// What `r` becomes, if it is linked.
    fn apply(&self, r: &RegState) -> Option<RegState> {
        match self {
            Link::PacketRange { kind, id, range } => {
                (r.type_name == *kind && r.id == *id && r.range.is_some_and(|have| have < *range))
                    .then(|| with_range(r, *range))
            }
            Link::NullCheck { id, became } => (r.or_null && r.id == *id).then(|| became.clone()),
            Link::LinkedScalars { id, became } => {
                (r.type_name == "scalar" && r.id == *id && r.text != became.text)
                    .then(|| became.clone())
            }
        }
    }
}

/// `r` with its packet range (`r=`) set to `range`.
fn with_range(r: &RegState, range: i64) -> RegState {
    let text = &r.text;
    let new_text = match text
        .find("r=")
        .filter(|&i| i > 0 && matches!(&text[i - 1..i], "(" | ","))
    {
        Some(i) => {
            let end = text[i + 2..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(text.len(), |e| i + 2 + e);
            format!("{}r={range}{}", &text[..i], &text[end..])
        }
        None => match text.strip_suffix("()") {
            Some(head) => format!("{head}(r={range})"),
            None => match text.strip_suffix(')') {
                Some(head) => format!("{head},r={range})"),
                None => format!("{text}(r={range})"),
            },
        },
    };
    let mut out = RegState::parse(&format!("R{}={new_text}", r.reg.min(10)), r.frame)
        .unwrap_or_else(|| r.clone());
    out.reg = r.reg;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::parse_state;

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
            ..PathStep::default()
        }
    }

    fn machine(initial: &str) -> Replay {
        let mut m = Replay::default();
        m.reset_to(&parse_state(initial));
        m
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
        let mut m = machine("R1=ctx() R10=fp0");
        m.step(&step(0, "r2 = r10", "R2=fp0 R10=fp0"));
        m.step(&step(
            1,
            "call bpf_map_lookup_elem#1",
            "R0=map_value_or_null(id=1)",
        ));
        let f0 = m.frames[&0].clone();
        assert_eq!(texts(&f0), ["r0=map_value_or_null(id=1)", "r10=fp0"]);

        let mut m = machine("R1=ctx() R10=fp0");
        m.step(&step(0, "r1 = 5", "R1=5"));
        m.step(&step(1, "call pc+3", ""));
        assert_eq!(texts(&m.frames[&1]), ["r1=5", "r10=fp0"]);
        m.step(&framed(1, 5, "r0 = 7", "frame1: R0=7"));
        m.step(&framed(1, 6, "exit", ""));
        assert!(!m.frames.contains_key(&1));
        assert_eq!(texts(&m.frames[&0]), ["r0=7", "r10=fp0"]);
    }

    #[test]
    fn checks_reach_the_copies_the_log_does_not_print() {
        // A NULL check makes every copy of the pointer a pointer.
        let mut m = machine("R1=ctx() R10=fp0");
        m.step(&step(
            0,
            "call bpf_map_lookup_elem#1",
            "R0=map_value_or_null(id=1,map=m,ks=4,vs=8)",
        ));
        m.step(&step(
            1,
            "r6 = r0",
            "R0=map_value_or_null(id=1,map=m,ks=4,vs=8) R6=map_value_or_null(id=1,map=m,ks=4,vs=8)",
        ));
        m.step(&step(
            2,
            "if r0 == 0x0 goto pc+3",
            "R0=map_value(map=m,ks=4,vs=8)",
        ));
        assert_eq!(m.frames[&0].regs[&6].text, "map_value(map=m,ks=4,vs=8)");
        assert!(!m.frames[&0].regs[&6].or_null);

        // A bounds check proves the range for every packet pointer with the same id, spilled
        // ones included.
        let mut m = machine("R1=ctx() R10=fp0");
        m.step(&step(0, "r2 = *(u32 *)(r1 +0)", "R2=pkt(r=0)"));
        m.step(&step(
            1,
            "*(u64 *)(r10 -8) = r2",
            "R2=pkt(r=0) R10=fp0 fp-8=pkt(r=0)",
        ));
        m.step(&step(2, "r3 = r2", "R3=pkt(r=0)"));
        m.step(&step(3, "r3 += 14", "R3=pkt(off=14,r=0)"));
        m.step(&step(
            4,
            "if r3 > r1 goto pc+9",
            "R1=pkt_end() R3=pkt(off=14,r=14)",
        ));
        assert_eq!(m.frames[&0].regs[&2].text, "pkt(r=14)");
        assert_eq!(m.frames[&0].regs[&2].range, Some(14));
        assert_eq!(m.frames[&0].slots[&-8].text, "pkt(r=14)");

        // A jump narrows the scalars linked to the compared one.
        let mut m = machine("R1=ctx() R10=fp0");
        m.step(&step(0, "r2 = r1", "R1=scalar(id=3) R2=scalar(id=3)"));
        m.step(&step(
            1,
            "if r2 > 0x7 goto pc+4",
            "R2=scalar(id=3,smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))",
        ));
        assert_eq!(m.frames[&0].regs[&1].umax, Some(7));
        assert_eq!(m.frames[&0].regs[&1].reg, 1);
    }

    #[test]
    fn the_state_before_the_error_has_the_ranges_the_log_did_not_print() {
        // 6.18: the bounds check on r3 proves 14 bytes for r1 too, which is never printed.
        let log = "0: R1=ctx() R10=fp0\n\
            0: (b4) w0 = 2                        ; R0=2\n\
            1: (61) r2 = *(u32 *)(r1 +4)          ; R1=ctx() R2=pkt_end()\n\
            2: (61) r1 = *(u32 *)(r1 +0)          ; R1=pkt(r=0)\n\
            3: (bf) r3 = r1                       ; R1=pkt(r=0) R3=pkt(r=0)\n\
            4: (07) r3 += 14                      ; R3=pkt(off=14,r=0)\n\
            5: (2d) if r3 > r2 goto pc+4          ; R2=pkt_end() R3=pkt(off=14,r=14)\n\
            6: (71) r1 = *(u8 *)(r1 +23)\n\
            invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14)\n\
            R1 offset is outside of the packet\n\
            processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
        let summary = crate::log::LogSummary::parse_str(log);
        let r1 = summary
            .regs_before_error
            .iter()
            .find(|r| r.reg == 1)
            .unwrap();
        assert_eq!((r1.type_name.as_str(), r1.range), ("pkt", Some(14)));
        let r0 = summary
            .regs_before_error
            .iter()
            .find(|r| r.reg == 0)
            .unwrap();
        assert_eq!(r0.value, Some(2));
    }

    #[test]
    fn full_states_replace_frames() {
        let mut m = machine("R1=ctx() R10=fp0");
        m.step(&step(0, "r2 = 1", "R2=1"));
        m.reset_to(&parse_state("R1=pkt(r=14) R10=fp0"));
        assert_eq!(texts(&m.frames[&0]), ["r1=pkt(r=14)", "r10=fp0"]);
    }
}

/// The replay against the kernel's own words, on real logs.
#[cfg(test)]
mod against_real_logs {
    use super::*;
    use crate::log::LogSummary;

    /// Every register an instruction reads without writing is printed after it with the
    /// value it had before; where the replay disagrees, it got that value wrong.
    fn mismatches(summary: &LogSummary) -> (usize, Vec<String>) {
        let mut m = Replay::default();
        let (mut checked, mut wrong) = (0, Vec::new());
        for s in &summary.path {
            m.enter(s);
            let text = s.text.trim();
            let skip = insn::is_conditional(text)
                || insn::is_call(text)
                || text == "exit"
                || text.starts_with("lock")
                || text.contains("atomic")
                || s.full;
            if !skip {
                let written = insn::destination(text);
                for r in insn::registers(text) {
                    if Some(r) == written {
                        continue;
                    }
                    let Some(printed) = s.regs.iter().find(|p| p.reg == r && p.frame == s.frame)
                    else {
                        continue;
                    };
                    let Some(replayed) = m.reg(s.frame, r) else {
                        // Not printed since the start of a log that lost its beginning.
                        if !summary.path_truncated {
                            wrong.push(format!("insn {} `{text}`: r{r} unknown", s.idx));
                        }
                        continue;
                    };
                    checked += 1;
                    // A move or a spill links the source to its copy: it gives the source an
                    // id, which is printed after the instruction only.
                    let is_move_source = (insn::plain_destination(text).is_some()
                        || text.starts_with('*'))
                        && (text.ends_with(&format!(" r{r}")) || text.ends_with(&format!(" w{r}")));
                    let norm = |t: &str| {
                        let t = t.strip_prefix('P').unwrap_or(t);
                        if is_move_source {
                            without_id(t)
                        } else {
                            t.to_string()
                        }
                    };
                    let replayed = Some(norm(&replayed.text));
                    if replayed.as_deref() != Some(norm(&printed.text).as_str()) {
                        wrong.push(format!(
                            "insn {} `{text}`: r{r} replayed {replayed:?}, printed {:?}",
                            s.idx, printed.text
                        ));
                    }
                }
            }
            m.step(s);
        }
        (checked, wrong)
    }

    /// `scalar(id=3,smin=0)` without its `id=`.
    fn without_id(t: &str) -> String {
        let mut out = String::new();
        let mut rest = t;
        while let Some(i) = rest.find("id=") {
            let boundary = i == 0 || matches!(&rest[i - 1..i], "(" | ",");
            out.push_str(&rest[..i]);
            let after = &rest[i..];
            if !boundary {
                out.push_str("id=");
                rest = &after[3..];
                continue;
            }
            let end = after.find([',', ')']).unwrap_or(after.len());
            rest = &after[end..];
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            }
        }
        out.push_str(rest);
        out
    }

    /// Every rejected fixture, loaded for real (needs root), with its level-2 log.
    #[test]
    fn registers_read_match_the_kernel_on_every_fixture() {
        preflight::require_capabilities(&[preflight::Capability::Bpf])
            .expect("this test loads the fixtures and needs CAP_BPF: run it as root");
        let (mut total, mut failures) = (0, Vec::new());
        // Complexity rejections are loaded at level 1, which prints no per-instruction state.
        let level2 = |f: &&fixtures::Fixture| f.explains.is_some_and(|id| id != "complexity-limit");
        for f in fixtures::ALL.iter().filter(level2) {
            let Ok(outcomes) = bpf_load::load_object(f.object, None) else {
                continue; // refused by the loader: no log
            };
            for o in &outcomes {
                let log = match &o.verdict {
                    bpf_load::Verdict::Accepted { log, .. }
                    | bpf_load::Verdict::Rejected { log, .. } => log,
                    bpf_load::Verdict::Unsupported { .. } => continue,
                };
                if !log.contains("R10=fp0") {
                    continue;
                }
                let (checked, wrong) = mismatches(&LogSummary::parse_str(log));
                total += checked;
                failures.extend(wrong.into_iter().map(|w| format!("{}: {w}", f.name)));
            }
        }
        assert!(total > 100, "only {total} registers checked");
        assert!(
            failures.is_empty(),
            "{} of {total} wrong:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn registers_read_match_what_the_kernel_printed() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../verifier-explain/tests/corpus/logs"
        );
        let mut total = 0;
        let mut failures = Vec::new();
        for entry in std::fs::read_dir(dir).expect("the log corpus") {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // Level-2 logs of 6.x kernels print what each instruction touched.
            if !name.starts_with("6.") || !name.ends_with(".log") || name.contains("level1") {
                continue;
            }
            let summary = LogSummary::parse_str(&std::fs::read_to_string(&path).unwrap());
            let (checked, wrong) = mismatches(&summary);
            total += checked;
            failures.extend(wrong.into_iter().map(|w| format!("{name}: {w}")));
        }
        assert!(total > 50, "only {total} registers checked");
        assert!(
            failures.is_empty(),
            "{} of {total} wrong:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
