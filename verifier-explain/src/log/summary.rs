//! The streaming accumulator: one pass over a verifier log in bounded memory.
//!
//! Every line is classified ([`super::line`]); instruction lines (the bulk of a level-2 log)
//! cost a few comparisons, a histogram increment and an append to the path under exploration
//! ([`super::path`]). Everything else kept is bounded: the error lines, the structured block,
//! one entry per distinct instruction, and the path's byte budget.

use super::diagnostics::{Diagnostics, DiagnosticsBuilder};
use super::line::{self, Line, classify, trim};
use super::path::{DEFAULT_BUDGET, PathBuilder};
use super::replay::Replay;
use super::state::{PrintedState, RegState, SlotState, frame_of};
use memchr::memchr;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, BufRead};

/// Longer lines are cut to this many bytes (the kernel's own lines stay far below).
const MAX_LINE: usize = 1 << 20;
/// Instruction indices at or above this are not tracked (the kernel's limit is 1M).
const MAX_INSN_IDX: usize = 1 << 20;
/// Error lines kept.
const MAX_MESSAGE_LINES: usize = 64;
/// Characters kept per error line or comment.
const MAX_TEXT: usize = 4096;
/// Bytes of text kept in the instruction and comment maps together.
const MAX_MAP_TEXT: usize = 32 << 20;

/// The `; text @ file:line` comment printed before an instruction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceComment {
    /// The source text, trimmed (empty for `;  @ file.c:0`).
    pub text: String,
    /// The file, when the comment names one.
    pub file: Option<String>,
    /// The line, when the comment names one (0 happens).
    pub line: Option<u32>,
}

/// The verifier's statistics (log level 4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// `processed N insns`
    pub processed: Option<u64>,
    /// `(limit N)`
    pub limit: Option<u64>,
    /// `max_states_per_insn N`
    pub max_states_per_insn: Option<u64>,
    /// `total_states N`
    pub total_states: Option<u64>,
    /// `peak_states N`
    pub peak_states: Option<u64>,
    /// `mark_read N`
    pub mark_read: Option<u64>,
    /// `stack depth 288+256`: one entry per subprogram.
    pub stack_depth: Vec<u64>,
    /// `verification time N usec`
    pub verification_time_usec: Option<u64>,
}

/// One instruction of the failing path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PathStep {
    /// The instruction index.
    pub idx: u32,
    /// The opcode byte.
    pub opcode: u8,
    /// The disassembly, e.g. `if r3 > r2 goto pc+29`.
    pub text: String,
    /// The registers the log printed for this instruction (after `;`, or on the next line in
    /// older kernels): the values it read and wrote.
    pub regs: Vec<RegState>,
    /// The stack slots printed with it.
    pub slots: Vec<SlotState>,
    /// Whether [`Self::regs`] and [`Self::slots`] are the frame's whole state (a level-1
    /// jump prints it), not just what the instruction touched.
    pub full: bool,
    /// The call frame it ran in.
    pub frame: u32,
    /// The states the log printed on lines of their own just before this instruction, in
    /// order: the whole state where the verifier resumed a branch it had put aside (`from X
    /// to Y: ...`) or entered or left a call (`caller:`/`callee:`), or a partial one.
    pub entry: Vec<StateLine>,
}

/// A state printed on a line of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateLine {
    /// Whether it is complete for the frames it names: they hold nothing else.
    pub full: bool,
    /// The state.
    pub state: PrintedState,
}

/// Where and why the verifier failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorSite {
    /// The instruction being checked when the verifier failed: the last instruction line
    /// before the message, or the one the message names (`infinite loop detected at insn 3`,
    /// `back-edge from insn 5 to 2`); `None` when the message concerns the whole program
    /// (`combined stack size of 2 calls is 544. Too large`) or no instruction was printed.
    pub idx: Option<u32>,
    /// Its opcode, when the log showed the instruction.
    pub opcode: Option<u8>,
    /// Its disassembly, when the log showed the instruction.
    pub text: Option<String>,
    /// The error lines, e.g. `["invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)",
    /// "R1 offset is outside of the packet"]`; the structured block's title when the kernel
    /// printed only that.
    pub message: Vec<String>,
}

/// What a verifier log says, gathered in one streaming pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogSummary {
    /// `None` when the log shows no failure (an accepted program).
    pub error: Option<ErrorSite>,
    /// Every register of the faulting instruction's frame just before it executed: the last
    /// complete state on the path plus the changes printed since. Without a faulting
    /// instruction at the end of the path, the state at the path's end in the current frame.
    pub regs_before_error: Vec<RegState>,
    /// The stack slots of that frame, likewise (nearest the frame pointer first).
    pub slots_before_error: Vec<SlotState>,
    /// The path that led to the error, entry to fault, reconstructed across `from X to Y:`
    /// pops; its last step is the faulting instruction when known.
    pub path: Vec<PathStep>,
    /// The path's beginning is missing: the log starts mid-way, or the path was longer than
    /// 100 000 steps (or 25 000 decoded registers and slots, or the 32 MB kept while reading),
    /// or it branched off an instruction the log did not show.
    pub path_truncated: bool,
    /// Index = instruction index; how many times the log shows the verifier processing it.
    pub histogram: Vec<u64>,
    /// Every distinct instruction seen: index -> (opcode, disassembly). Includes the rows of the
    /// `Live regs before insn:` table recent kernels print, which list the whole program.
    pub insns: BTreeMap<u32, (u8, String)>,
    /// The source comment printed before each instruction (first seen).
    pub comments: BTreeMap<u32, SourceComment>,
    /// The verifier's statistics.
    pub stats: Stats,
    /// The kernel 7.3+ structured block.
    pub diagnostics: Option<Diagnostics>,
    /// The log looks cut: it starts mid-way (first instruction after 0 with no `func#0`), or
    /// ends mid-line, or ends with neither an error nor statistics.
    pub truncated: bool,
    /// Bytes read.
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines not understood (and not part of the error message); they are skipped.
    pub skipped_lines: u64,
}

impl LogSummary {
    /// Reads a whole log from `reader`. Memory stays bounded whatever the log's size: the path
    /// under exploration has a byte budget and every other structure a fixed cap.
    pub fn parse<R: BufRead>(mut reader: R) -> io::Result<LogSummary> {
        let mut acc = Accumulator::new(DEFAULT_BUDGET);
        loop {
            let chunk = match reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            let len = chunk.len();
            acc.feed(chunk);
            reader.consume(len);
        }
        Ok(acc.finish())
    }

    /// Parses a log held in memory.
    pub fn parse_str(log: &str) -> LogSummary {
        Self::parse_bytes(log.as_bytes())
    }

    /// Parses a log held in memory, as bytes (it need not be UTF-8).
    pub fn parse_bytes(log: &[u8]) -> LogSummary {
        let mut acc = Accumulator::new(DEFAULT_BUDGET);
        acc.feed(log);
        acc.finish()
    }
}

/// What the next indented state line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Caller,
    Callee,
    Returning,
    ToCaller,
}

struct Accumulator {
    carry: Vec<u8>,
    bytes: u64,
    lines: u64,
    unknown: u64,
    histogram: Vec<u64>,
    seen: Vec<u64>,
    commented: Vec<u64>,
    map_text: usize,
    insns: BTreeMap<u32, (u8, String)>,
    comments: BTreeMap<u32, SourceComment>,
    pending_comment: Vec<u8>,
    has_pending_comment: bool,
    stats: Stats,
    saw_stats: bool,
    message: Vec<String>,
    last_insn: Option<u32>,
    path: PathBuilder,
    frame: u32,
    block: Block,
    path_ended: bool,
    diag: Option<DiagnosticsBuilder>,
    in_diag: bool,
    start_checked: bool,
    saw_header: bool,
    truncated_start: bool,
    last_terminated: bool,
    last_complete_stats: bool,
    /// Past libbpf's `-- END PROG LOAD LOG --`: what follows is libbpf's and the loader's
    /// words (`failed to load: -13`, `Error: failed to load object file`), not the verifier's.
    after_libbpf_end: bool,
}

fn lossy_capped(b: &[u8]) -> String {
    String::from_utf8_lossy(b.get(..b.len().min(MAX_TEXT)).unwrap_or(b)).into_owned()
}

fn parse_u64_token(t: &str) -> Option<u64> {
    t.trim_matches(|c: char| c == ',' || c == ')' || c == '(')
        .parse()
        .ok()
}

fn parse_processed(line: &str, stats: &mut Stats) {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    for (i, t) in tokens.iter().enumerate() {
        let next = || tokens.get(i + 1).and_then(|n| parse_u64_token(n));
        match *t {
            "processed" => stats.processed = next(),
            "(limit" => stats.limit = next(),
            "max_states_per_insn" => stats.max_states_per_insn = next(),
            "total_states" => stats.total_states = next(),
            "peak_states" => stats.peak_states = next(),
            "mark_read" => stats.mark_read = next(),
            "depth" if i > 0 && tokens.get(i - 1) == Some(&"stack") => {
                if let Some(d) = tokens.get(i + 1) {
                    stats.stack_depth = parse_stack_depth(d);
                }
            }
            _ => {}
        }
    }
}

fn parse_stack_depth(text: &str) -> Vec<u64> {
    text.trim()
        .split('+')
        .filter_map(parse_u64_token)
        .take(256)
        .collect()
}

/// Sets `idx`'s bit; whether it was clear. Indices past [`MAX_INSN_IDX`] are never new.
fn first_time(bits: &mut Vec<u64>, idx: u32) -> bool {
    let i = idx as usize;
    if i >= MAX_INSN_IDX {
        return false;
    }
    let word = i / 64;
    if word >= bits.len() {
        bits.resize(word + 1, 0);
    }
    let Some(w) = bits.get_mut(word) else {
        return false;
    };
    let bit = 1u64 << (i % 64);
    let new = *w & bit == 0;
    *w |= bit;
    new
}

/// The instruction a message names, for messages that name one.
fn named_insn(message: &str) -> Option<Option<u32>> {
    for prefix in [
        "infinite loop detected at insn ",
        "back-edge from insn ",
        "jump out of range from insn ",
        "unreachable insn ",
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return Some(line::parse_u32_prefix(rest.as_bytes()).map(|(n, _)| n));
        }
    }
    for whole_program in [
        "combined stack size of ",
        "the call stack of ",
        "tail_calls are not allowed when call stack",
    ] {
        if message.starts_with(whole_program) {
            return Some(None);
        }
    }
    None
}

impl Accumulator {
    fn new(budget: usize) -> Self {
        Accumulator {
            carry: Vec::new(),
            bytes: 0,
            lines: 0,
            unknown: 0,
            histogram: Vec::new(),
            seen: Vec::new(),
            commented: Vec::new(),
            map_text: 0,
            insns: BTreeMap::new(),
            comments: BTreeMap::new(),
            pending_comment: Vec::new(),
            has_pending_comment: false,
            stats: Stats::default(),
            saw_stats: false,
            message: Vec::new(),
            last_insn: None,
            path: PathBuilder::new(budget),
            frame: 0,
            block: Block::None,
            path_ended: false,
            diag: None,
            in_diag: false,
            start_checked: false,
            saw_header: false,
            truncated_start: false,
            last_terminated: true,
            last_complete_stats: false,
            after_libbpf_end: false,
        }
    }

    /// Feeds the next chunk of the log; lines may span chunks.
    fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        let mut start = 0;
        while let Some(nl) = chunk.get(start..).and_then(|rest| memchr(b'\n', rest)) {
            let line = chunk.get(start..start + nl).unwrap_or_default();
            if self.carry.is_empty() {
                self.line(line, true);
            } else {
                self.push_carry(line);
                let carry = std::mem::take(&mut self.carry);
                self.line(&carry, true);
                self.carry = carry;
                self.carry.clear();
            }
            start += nl + 1;
        }
        if let Some(rest) = chunk.get(start..) {
            self.push_carry(rest);
        }
    }

    fn push_carry(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.carry.len());
        self.carry
            .extend_from_slice(bytes.get(..bytes.len().min(room)).unwrap_or_default());
    }

    fn line(&mut self, raw: &[u8], terminated: bool) {
        self.lines += 1;
        self.last_terminated = terminated;
        self.last_complete_stats = false;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = line.get(..line.len().min(MAX_LINE)).unwrap_or(line);
        // libbpf frames the verifier's log (`libbpf: prog 'x': -- BEGIN PROG LOAD LOG --`):
        // only what lies between its markers is the verifier's.
        if line.starts_with(b"libbpf: ") || line.starts_with(b"-- ") {
            if memchr::memmem::find(line, b"-- BEGIN PROG LOAD LOG --").is_some() {
                self.after_libbpf_end = false;
                self.message.clear();
                return;
            }
            if memchr::memmem::find(line, b"-- END PROG LOAD LOG --").is_some() {
                self.after_libbpf_end = true;
                return;
            }
        }
        if self.after_libbpf_end {
            return;
        }
        let kind = classify(line);
        if self.in_diag {
            if matches!(
                kind,
                Line::Processed(_) | Line::VerificationTime(_) | Line::StackDepth(_)
            ) {
                self.in_diag = false;
            } else {
                if let Some(d) = self.diag.as_mut() {
                    d.feed(&String::from_utf8_lossy(line));
                }
                return;
            }
        }
        match kind {
            Line::Insn(i) => self.insn(i),
            Line::State { idx, text } => {
                self.note_first_idx(idx);
                self.message.clear();
                let frame = frame_of(text);
                if self.path_ended {
                    self.path.implicit_pop(idx);
                    self.path.state(idx, frame, text, true);
                    self.path_ended = false;
                } else {
                    self.path.state(idx, frame, text, false);
                }
                self.frame = frame;
            }
            Line::Safe { .. } => {
                self.message.clear();
                self.path_ended = true;
            }
            Line::From { from, to, state } => {
                self.note_first_idx(to);
                self.message.clear();
                self.path.pop(from);
                match state {
                    Some(text) => {
                        let frame = frame_of(text);
                        self.path.state(to, frame, text, true);
                        self.frame = frame;
                        self.path_ended = false;
                    }
                    None => self.path_ended = true,
                }
            }
            Line::Comment(body) => {
                self.pending_comment.clear();
                self.pending_comment
                    .extend_from_slice(body.get(..body.len().min(MAX_TEXT)).unwrap_or(body));
                self.has_pending_comment = true;
            }
            Line::Func | Line::LiveRegsHeader => self.saw_header = true,
            Line::LiveRegsRow { idx, opcode, text } => self.remember_insn(idx, opcode, text),
            Line::Caller => self.block = Block::Caller,
            Line::Callee => self.block = Block::Callee,
            Line::Returning => {
                self.block = Block::Returning;
                self.path_ended = false;
            }
            Line::ToCaller => {
                self.block = Block::ToCaller;
                self.path_ended = false;
            }
            Line::IndentedState(text) => {
                let frame = frame_of(text);
                let idx = self.last_insn.unwrap_or(0);
                match std::mem::replace(&mut self.block, Block::None) {
                    Block::Caller => self.path.state(idx, frame, text, true),
                    Block::Callee | Block::ToCaller => {
                        self.path.state(idx, frame, text, true);
                        self.frame = frame;
                    }
                    Block::Returning => {}
                    Block::None => {
                        // A 5.x jump's fall-through state.
                        self.path.state(idx, frame, text, false);
                        self.frame = frame;
                    }
                }
            }
            Line::Processed(text) => {
                parse_processed(&String::from_utf8_lossy(text), &mut self.stats);
                self.saw_stats = true;
                self.last_complete_stats = memchr::memmem::find(text, b"mark_read ").is_some()
                    && text.last().is_some_and(u8::is_ascii_digit);
            }
            Line::VerificationTime(t) => {
                self.stats.verification_time_usec = t;
                self.saw_stats = true;
            }
            Line::StackDepth(text) => {
                self.stats.stack_depth = parse_stack_depth(&String::from_utf8_lossy(text));
                self.saw_stats = true;
            }
            Line::DiagStart(header) => {
                self.diag = Some(DiagnosticsBuilder::new(&String::from_utf8_lossy(header)));
                self.in_diag = true;
            }
            Line::Noise | Line::Blank => {}
            Line::Other(text) => {
                self.unknown += 1;
                let text = trim(text);
                if !text.is_empty() && self.message.len() < MAX_MESSAGE_LINES {
                    self.message.push(lossy_capped(text));
                }
            }
        }
    }

    fn note_first_idx(&mut self, idx: u32) {
        if !self.start_checked {
            self.start_checked = true;
            self.truncated_start = idx > 0 && !self.saw_header;
        }
    }

    fn remember_insn(&mut self, idx: u32, opcode: u8, text: &[u8]) {
        if self.map_text < MAX_MAP_TEXT && first_time(&mut self.seen, idx) {
            let text = lossy_capped(text);
            self.map_text += text.len() + 64;
            self.insns.insert(idx, (opcode, text));
        }
    }

    fn insn(&mut self, i: line::Insn<'_>) {
        self.note_first_idx(i.idx);
        if self.path_ended {
            self.path.implicit_pop(i.idx);
            self.path_ended = false;
        }
        let slot = i.idx as usize;
        if slot < MAX_INSN_IDX {
            if slot >= self.histogram.len() {
                self.histogram.resize(slot + 1, 0);
            }
            if let Some(h) = self.histogram.get_mut(slot) {
                *h += 1;
            }
        }
        self.remember_insn(i.idx, i.opcode, i.text);
        if self.has_pending_comment {
            self.has_pending_comment = false;
            if self.map_text < MAX_MAP_TEXT && first_time(&mut self.commented, i.idx) {
                let c = &self.pending_comment;
                let (text, file, line) = line::split_comment(c);
                self.map_text += c.len() + 96;
                self.comments.insert(
                    i.idx,
                    SourceComment {
                        text: lossy_capped(text),
                        file: file.map(lossy_capped),
                        line,
                    },
                );
            }
        }
        self.message.clear();
        self.block = Block::None;
        let (delta, full) = match (i.delta, i.branch) {
            (Some(d), _) => (d, false),
            (None, Some((_, state))) => (state, true),
            (None, None) => (&[][..], false),
        };
        if !delta.is_empty() {
            self.frame = frame_of(delta);
        }
        self.path.insn(i.idx, i.opcode, self.frame, i.text, delta);
        if full {
            self.path.insn_state_is_full();
        }
        self.last_insn = Some(i.idx);
        if i.opcode == 0x95 {
            self.path_ended = true;
        }
    }

    fn finish(mut self) -> LogSummary {
        if !self.carry.is_empty() {
            let carry = std::mem::take(&mut self.carry);
            self.line(&carry, false);
        }
        let diagnostics = self.diag.take().map(DiagnosticsBuilder::finish);
        let mut message = std::mem::take(&mut self.message);
        let has_error = !message.is_empty() || diagnostics.is_some();
        let idx = if has_error {
            message
                .iter()
                .find_map(|m| named_insn(m))
                .unwrap_or(self.last_insn)
        } else {
            None
        };
        if message.is_empty()
            && let Some(d) = diagnostics.as_ref()
        {
            message.push(format!("{}: {}", d.category, d.title));
        }
        let message_lines = message.len() as u64;
        let error = has_error.then(|| ErrorSite {
            idx,
            opcode: idx.and_then(|i| self.insns.get(&i).map(|(op, _)| *op)),
            text: idx.and_then(|i| self.insns.get(&i).map(|(_, t)| t.clone())),
            message,
        });
        let cut_end = self.lines > 0
            && ((!self.last_terminated && !self.last_complete_stats)
                || (!has_error && !self.saw_stats));
        let path = self.path.finish(idx, self.frame);
        // A whole path ending at the fault is replayed, with the changes the verifier made
        // without printing them; otherwise the latest mention of each register stands.
        let replayed = match path.steps.last() {
            Some(last) if !path.truncated && !self.truncated_start && idx == Some(last.idx) => {
                Replay::before(&path.steps, path.steps.len() - 1)
            }
            _ => None,
        };
        let (regs, slots) = match replayed {
            Some((_, state)) => (
                state.regs.into_values().collect(),
                state.slots.into_values().rev().collect(),
            ),
            None => (path.regs, path.slots),
        };
        LogSummary {
            error,
            regs_before_error: regs,
            slots_before_error: slots,
            path: path.steps,
            path_truncated: path.truncated || self.truncated_start,
            histogram: self.histogram,
            insns: self.insns,
            comments: self.comments,
            stats: self.stats,
            diagnostics,
            truncated: self.truncated_start || cut_end,
            bytes: self.bytes,
            lines: self.lines,
            skipped_lines: self.unknown.saturating_sub(message_lines),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKT: &str = "\
func#0 @0
Live regs before insn:
      0: .1........ (61) r1 = *(u32 *)(r1 +0)
      1: .1........ (71) r2 = *(u8 *)(r1 +12)
0: R1=ctx() R10=fp0
; void *data = (void *)(long)ctx->data; @ packet_no_bounds_check.bpf.c:11
0: (61) r1 = *(u32 *)(r1 +0)          ; R1=pkt(r=0)
; if (eth->h_proto == bpf_htons(ETH_P_ARP)) @ packet_no_bounds_check.bpf.c:15
1: (71) r2 = *(u8 *)(r1 +12)
invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)
R1 offset is outside of the packet
verification time 54 usec
stack depth 0
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
";

    #[test]
    fn each_step_keeps_the_state_lines_printed_before_it() {
        // The loop's branch is popped twice with different states: each occurrence keeps its own.
        let log = "0: R1=ctx() R10=fp0\n\
            0: (b7) r0 = 0                        ; R0=0\n\
            1: (07) r0 += 1                       ; R0=1\n\
            2: (a5) if r0 < 0x3 goto pc-2         ; R0=1\n\
            3: (95) exit\n\
            from 2 to 1: R0=1 R1=ctx() R10=fp0\n\
            1: (07) r0 += 1                       ; R0=2\n\
            2: (a5) if r0 < 0x3 goto pc-2         ; R0=2\n\
            3: (95) exit\n\
            from 2 to 1: R0=2 R1=ctx() R10=fp0\n\
            1: (07) r0 += 1                       ; R0=3\n\
            2: (71) r2 = *(u8 *)(r1 +99)\n\
            invalid bpf_context access off=99 size=1\n";
        let s = LogSummary::parse_str(log);
        let idxs: Vec<u32> = s.path.iter().map(|p| p.idx).collect();
        assert_eq!(idxs, [0, 1, 2, 1, 2, 1, 2]);
        assert!(
            !s.path[0].entry[0].full,
            "the first state is printed as a partial line"
        );
        assert_eq!(s.path[0].entry[0].state.regs[0].type_name, "ctx");
        let resumed: Vec<(bool, Option<i64>)> = [3, 5]
            .iter()
            .map(|&k| {
                let e = &s.path[k].entry[0];
                (e.full, e.state.regs[0].value)
            })
            .collect();
        assert_eq!(resumed, [(true, Some(1)), (true, Some(2))]);
        assert!(s.path[2].entry.is_empty());
    }

    #[test]
    fn a_small_rejection() {
        let s = LogSummary::parse_str(PKT);
        let e = s.error.as_ref().expect("an error");
        assert_eq!(e.idx, Some(1));
        assert_eq!(e.opcode, Some(0x71));
        assert_eq!(e.text.as_deref(), Some("r2 = *(u8 *)(r1 +12)"));
        assert_eq!(
            e.message,
            [
                "invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)",
                "R1 offset is outside of the packet"
            ]
        );
        assert_eq!(s.histogram, [1, 1]);
        assert_eq!(s.path.iter().map(|p| p.idx).collect::<Vec<_>>(), [0, 1]);
        let regs: Vec<(u8, &str)> = s
            .regs_before_error
            .iter()
            .map(|r| (r.reg, r.type_name.as_str()))
            .collect();
        assert_eq!(regs, [(1, "pkt"), (10, "fp")]);
        assert_eq!(s.comments.get(&1).and_then(|c| c.line), Some(15));
        assert_eq!(
            s.comments.get(&0).map(|c| c.text.as_str()),
            Some("void *data = (void *)(long)ctx->data;")
        );
        assert_eq!(s.stats.processed, Some(2));
        assert_eq!(s.stats.limit, Some(1_000_000));
        assert_eq!(s.stats.stack_depth, [0]);
        assert_eq!(s.stats.verification_time_usec, Some(54));
        assert!(!s.truncated);
        assert_eq!(s.skipped_lines, 0);
        assert_eq!(s.bytes, PKT.len() as u64);
        assert_eq!(s.lines, PKT.lines().count() as u64);
    }

    #[test]
    fn chunking_does_not_matter() {
        let whole = LogSummary::parse_str(PKT);
        for size in [1, 2, 7, 64] {
            let reader = io::BufReader::with_capacity(size, PKT.as_bytes());
            let parsed = LogSummary::parse(reader).expect("reading a slice");
            assert_eq!(parsed, whole, "chunks of {size}");
        }
    }

    #[test]
    fn cut_logs_are_flagged() {
        let cut_mid_line = &PKT[..PKT.find("R1 offset").unwrap_or(0) + 5];
        assert!(LogSummary::parse_str(cut_mid_line).truncated);
        let tail = &PKT[PKT.find("1: (71)").unwrap_or(0)..];
        let s = LogSummary::parse_str(tail);
        assert!(s.truncated, "starts at insn 1");
        assert_eq!(s.error.as_ref().and_then(|e| e.idx), Some(1));
        let head = &PKT[..PKT.find("invalid access").unwrap_or(0)];
        let s = LogSummary::parse_str(head);
        assert!(s.truncated, "no error, no stats");
        assert!(s.error.is_none());
        assert!(!LogSummary::parse_str("").truncated);
    }

    #[test]
    fn errors_naming_their_instruction_or_none() {
        let lp = LogSummary::parse_str(
            "1: (bc) w1 = w1\n2: (56) if w1 != 0x7 goto pc-2\n3: (95) exit\ninfinite loop detected at insn 1\ncur state: R1=1\nold state: R1=1\nprocessed 3 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0\n",
        );
        let e = lp.error.expect("an error");
        assert_eq!(e.idx, Some(1));
        assert_eq!(e.text.as_deref(), Some("w1 = w1"));
        assert_eq!(e.message, ["infinite loop detected at insn 1"]);
        let stack = LogSummary::parse_str(
            "0: (85) call pc+1\n1: (95) exit\ncombined stack size of 2 calls is 608. Too large\nverification time 5 usec\n",
        );
        assert_eq!(stack.error.and_then(|e| e.idx), None);
        let cfg = LogSummary::parse_str("back-edge from insn 5 to 2\n");
        assert_eq!(cfg.error.and_then(|e| e.idx), Some(5));
    }

    #[test]
    fn accepted_programs_have_no_error() {
        let s = LogSummary::parse_str(
            "0: R1=ctx() R10=fp0\n0: (b7) r0 = 2                        ; R0=2\n1: (95) exit\n(0) live stack update done in 1 iterations\nverification time 9 usec\nstack depth 0\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n",
        );
        assert!(s.error.is_none());
        assert!(!s.truncated);
        assert_eq!(s.regs_before_error.first().and_then(|r| r.value), Some(2));
    }

    #[test]
    fn hostile_logs_stay_bounded() {
        let mut log = String::from("0: (07) r1 += 1                       ; ");
        for i in 0..20_000 {
            log.push_str(&format!("R{}={i} fp-{}=mmmmmmmm ", i % 11, 8 * i));
        }
        log.push('\n');
        for _ in 0..20_000 {
            log.push_str("from 4000000 to 1: R1=1\n1: (07) r1 += 1\n");
        }
        log.push_str("boom\n");
        let s = LogSummary::parse_str(&log);
        assert_eq!(s.error.map(|e| e.message), Some(vec!["boom".to_string()]));
        assert!(
            s.path
                .iter()
                .all(|p| p.regs.len() <= 128 && p.slots.len() <= 1024)
        );
        assert!(s.slots_before_error.len() <= 1024);
        assert!(s.path_truncated, "the pushers of the pops were never seen");
        assert_eq!(s.histogram.get(1), Some(&20_000));
    }

    #[test]
    fn stats_lines() {
        let mut st = Stats::default();
        parse_processed(
            "processed 1000001 insns (limit 1000000) max_states_per_insn 4 total_states 14287 peak_states 14287 mark_read 0",
            &mut st,
        );
        assert_eq!(st.processed, Some(1_000_001));
        assert_eq!(
            (
                st.max_states_per_insn,
                st.total_states,
                st.peak_states,
                st.mark_read
            ),
            (Some(4), Some(14287), Some(14287), Some(0))
        );
        let mut old = Stats::default();
        parse_processed(
            "processed 12 insns (limit 131072), stack depth 0+8",
            &mut old,
        );
        assert_eq!((old.processed, old.limit), (Some(12), Some(131_072)));
        assert_eq!(old.stack_depth, [0, 8]);
    }
}
