//! Classifying one line of a verifier log, cheaply and without allocating.
//!
//! Works on bytes: the log is ASCII apart from source comments, and validating UTF-8 on every
//! line would cost more than classifying it. The hot path is the instruction line
//! (`5: (2d) if r3 > r2 goto pc+29   ; R2=pkt_end() R3=pkt(off=14,r=14)`), recognised from
//! its first bytes.

use memchr::memchr;

/// What one line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// Empty or whitespace only.
    Blank,
    /// `5: (2d) if r3 > r2 goto pc+29   ; R2=...`
    Insn(Insn<'a>),
    /// `5: R1=ctx() R10=fp0`: the state before instruction `idx`.
    State { idx: u32, text: &'a [u8] },
    /// `9: safe`: the path was pruned at `idx`.
    Safe { idx: u32 },
    /// `from 28 to 30: R0=...` (a branch taken off the stack); `state` is `None` for
    /// `from 31 to 40: safe`.
    From {
        from: u32,
        to: u32,
        state: Option<&'a [u8]>,
    },
    /// `; if (data + 14 > end) @ xdp.c:31`, without the `;`.
    Comment(&'a [u8]),
    /// `func#0 @0`
    Func,
    /// `Live regs before insn:`
    LiveRegsHeader,
    /// A row of that table: `      0: .1........ (61) r1 = *(u32 *)(r1 +0)`.
    LiveRegsRow {
        idx: u32,
        opcode: u8,
        text: &'a [u8],
    },
    /// `caller:`
    Caller,
    /// `callee:`
    Callee,
    /// `returning from callee:`
    Returning,
    /// `to caller at 9:`
    ToCaller,
    /// An indented state line (after `caller:`, `callee:`..., or a 5.x branch state).
    IndentedState(&'a [u8]),
    /// `processed 18 insns (limit 1000000) max_states_per_insn 0 ...`
    Processed(&'a [u8]),
    /// `verification time 506 usec`
    VerificationTime(Option<u64>),
    /// `stack depth 288+256`, the text after `stack depth `.
    StackDepth(&'a [u8]),
    /// Level-2 noise: precision backtracking, stack liveness, SCC markers, loop states.
    Noise,
    /// `Verification failed: <Category>: <title>` (kernel 7.3+), the text after the prefix.
    DiagStart(&'a [u8]),
    /// Anything else (error messages among them).
    Other(&'a [u8]),
}

/// An instruction line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn<'a> {
    /// The instruction index.
    pub idx: u32,
    /// The opcode byte.
    pub opcode: u8,
    /// The disassembly, trimmed: `if r3 > r2 goto pc+29`.
    pub text: &'a [u8],
    /// What follows `;`: the registers and slots the instruction touched.
    pub delta: Option<&'a [u8]>,
    /// Level-1 logs append the taken branch's state to a jump: `10: (16) if w2 == 0x8 goto
    /// pc+3 14: R0=2 ...` gives `(14, "R0=2 ...")`.
    pub branch: Option<(u32, &'a [u8])>,
}

/// Parses leading decimal digits; returns the value and how many bytes they took.
pub(crate) fn parse_u32_prefix(b: &[u8]) -> Option<(u32, usize)> {
    let mut v: u32 = 0;
    let mut n = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
        n += 1;
    }
    (n > 0).then_some((v, n))
}

fn parse_u64_prefix(b: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    let mut n = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        n += 1;
    }
    (n > 0).then_some(v)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

pub(crate) fn trim(b: &[u8]) -> &[u8] {
    trim_end(trim_start(b))
}

pub(crate) fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or_default()
}

pub(crate) fn trim_end(b: &[u8]) -> &[u8] {
    // The kernel pads the disassembly with runs of spaces: skip them eight at a time.
    let mut end = b.len();
    while end >= 8 && b.get(end - 8..end) == Some(b"        ".as_slice()) {
        end -= 8;
    }
    while end > 0 && b.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
        end -= 1;
    }
    b.get(..end).unwrap_or_default()
}

/// `(61) rest` gives the opcode and `rest`.
fn opcode_and_text(b: &[u8]) -> Option<(u8, &[u8])> {
    match b {
        [b'(', h, l, b')', rest @ ..] => {
            let opcode = (hex_digit(*h)? << 4) | hex_digit(*l)?;
            match rest {
                [] => Some((opcode, rest)),
                [b' ', text @ ..] => Some((opcode, text)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Where the state printed after an instruction starts: the kernel pads the disassembly with
/// spaces and writes `;` (the disassembly itself never holds one). A `;` with no space before
/// it belongs to a state's `var_off=(0x0; 0xff)`, and then there is no separator before it.
fn delta_separator(b: &[u8]) -> Option<usize> {
    let semi = memchr(b';', b)?;
    (semi == 0 || b.get(semi - 1) == Some(&b' ')).then_some(semi)
}

/// Whether a state text starts like one (`R1=`, `frame1:`, `fp-8=`).
fn looks_like_state(b: &[u8]) -> bool {
    match b {
        [b'R', d, ..] if d.is_ascii_digit() => true,
        [b'f', b'r', b'a', b'm', b'e', d, ..] if d.is_ascii_digit() => true,
        [b'f', b'p', c, ..] if *c == b'-' || c.is_ascii_digit() => true,
        _ => false,
    }
}

/// A jump's disassembly followed by ` 14: R0=...` (level 1, the taken branch).
fn split_branch_state(text: &[u8]) -> Option<(&[u8], u32, &[u8])> {
    let mut from = 0;
    while let Some(rel) = text.get(from..).and_then(|t| memchr(b':', t)) {
        let colon = from + rel;
        from = colon + 1;
        let digits = text
            .get(..colon)?
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || colon < digits + 1 {
            continue;
        }
        let start = colon - digits;
        if text.get(start - 1) != Some(&b' ') || text.get(colon + 1) != Some(&b' ') {
            continue;
        }
        let state = text.get(colon + 2..)?;
        if !looks_like_state(state) {
            continue;
        }
        let (idx, _) = parse_u32_prefix(text.get(start..colon)?)?;
        return Some((trim_end(text.get(..start)?), idx, trim(state)));
    }
    None
}

fn is_jump_class(opcode: u8) -> bool {
    matches!(opcode & 0x07, 0x05 | 0x06)
}

/// Classifies one line (without its `\n`).
pub(crate) fn classify(line: &[u8]) -> Line<'_> {
    let Some(&first) = line.first() else {
        return Line::Blank;
    };
    match first {
        b'0'..=b'9' => classify_numbered(line),
        b';' => Line::Comment(line.get(1..).unwrap_or_default()),
        b'm' if line.starts_with(b"mark_precise:") => Line::Noise,
        b'f' => {
            if let Some(rest) = line.strip_prefix(b"from ") {
                classify_from(rest).unwrap_or(Line::Other(line))
            } else if line.starts_with(b"func#") {
                Line::Func
            } else {
                Line::Other(line)
            }
        }
        b' ' | b'\t' => classify_indented(line),
        b'(' if is_stack_liveness(line) => Line::Noise,
        b'c' if line.starts_with(b"caller:") => Line::Caller,
        b'c' if line.starts_with(b"callee:") => Line::Callee,
        b'c' if line.starts_with(b"cur state:") => Line::Noise,
        b'o' if line.starts_with(b"old state:") => Line::Noise,
        b'r' if line.starts_with(b"returning from callee:") => Line::Returning,
        b'r' if line.starts_with(b"regs=") => Line::Noise,
        b't' if line.starts_with(b"to caller at ") => Line::ToCaller,
        b'p' => {
            if line.starts_with(b"processed ") {
                Line::Processed(line)
            } else if line.starts_with(b"propagating ")
                || line.starts_with(b"parent didn't have regs")
                || line.starts_with(b"parent already had regs")
            {
                Line::Noise
            } else {
                Line::Other(line)
            }
        }
        b'l' if line.starts_with(b"last_idx ") => Line::Noise,
        b's' if line.starts_with(b"stack depth ") => {
            Line::StackDepth(line.get(b"stack depth ".len()..).unwrap_or_default())
        }
        b'v' if line.starts_with(b"verification time ") => Line::VerificationTime(
            parse_u64_prefix(line.get(b"verification time ".len()..).unwrap_or_default()),
        ),
        b'S' if line.starts_with(b"SCC ") => Line::Noise,
        b'L' if line.starts_with(b"Live regs before insn:") => Line::LiveRegsHeader,
        b'V' if line.starts_with(b"Verification failed:") => Line::DiagStart(trim(
            line.get(b"Verification failed:".len()..)
                .unwrap_or_default(),
        )),
        _ if trim(line).is_empty() => Line::Blank,
        _ => Line::Other(line),
    }
}

fn classify_numbered(line: &[u8]) -> Line<'_> {
    let Some((idx, n)) = parse_u32_prefix(line) else {
        return Line::Other(line);
    };
    let Some(rest) = line.get(n..).and_then(|r| r.strip_prefix(b":")) else {
        return Line::Other(line);
    };
    let Some(rest) = rest.strip_prefix(b" ") else {
        return Line::Other(line);
    };
    if let Some((opcode, body)) = opcode_and_text(rest) {
        let (text, delta) = match delta_separator(body) {
            Some(semi) => (
                body.get(..semi).unwrap_or_default(),
                Some(trim(body.get(semi + 1..).unwrap_or_default())),
            ),
            None => (body, None),
        };
        let mut insn = Insn {
            idx,
            opcode,
            text: trim_end(text),
            delta,
            branch: None,
        };
        if delta.is_none()
            && is_jump_class(opcode)
            && let Some((text, to, state)) = split_branch_state(insn.text)
        {
            insn.text = text;
            insn.branch = Some((to, state));
        }
        return Line::Insn(insn);
    }
    let body = trim(rest);
    if body == b"safe" {
        Line::Safe { idx }
    } else if looks_like_state(body) {
        Line::State { idx, text: body }
    } else {
        Line::Other(line)
    }
}

fn classify_from(rest: &[u8]) -> Option<Line<'_>> {
    let (from, n) = parse_u32_prefix(rest)?;
    let rest = rest.get(n..)?.strip_prefix(b" to ")?;
    let (to, n) = parse_u32_prefix(rest)?;
    let rest = rest.get(n..)?;
    let colon = memchr(b':', rest)?;
    let between = rest.get(..colon)?;
    if !(between.is_empty() || between.starts_with(b" (")) {
        return None;
    }
    let state = trim(rest.get(colon + 1..)?);
    Some(Line::From {
        from,
        to,
        state: (state != b"safe").then_some(state),
    })
}

/// `(0) frame 0 insn 5 +live -8`, `(8,14) live stack update done in 2 iterations`.
fn is_stack_liveness(line: &[u8]) -> bool {
    let Some(close) = memchr(b')', line) else {
        return false;
    };
    let inner = line.get(1..close).unwrap_or_default();
    !inner.is_empty()
        && inner.iter().all(|c| c.is_ascii_digit() || *c == b',')
        && line.get(close + 1) == Some(&b' ')
}

fn classify_indented(line: &[u8]) -> Line<'_> {
    let body = trim(line);
    if body.is_empty() {
        return Line::Blank;
    }
    if looks_like_state(body) {
        return Line::IndentedState(body);
    }
    if let Some(row) = live_regs_row(body) {
        return row;
    }
    Line::Other(line)
}

/// `0: .1........ (61) r1 = ...` or, with an SCC column, `1   1: .12....... (27) r1 *= 3`.
fn live_regs_row(body: &[u8]) -> Option<Line<'_>> {
    let (mut idx, mut n) = parse_u32_prefix(body)?;
    let mut rest = body.get(n..)?;
    if rest.first() == Some(&b' ') {
        let after = trim_start(rest);
        (idx, n) = parse_u32_prefix(after)?;
        rest = after.get(n..)?;
    }
    let rest = rest.strip_prefix(b": ")?;
    let space = memchr(b' ', rest)?;
    let live = rest.get(..space)?;
    if !live.iter().all(|c| *c == b'.' || c.is_ascii_digit()) {
        return None;
    }
    let (opcode, text) = opcode_and_text(rest.get(space + 1..)?)?;
    Some(Line::LiveRegsRow {
        idx,
        opcode,
        text: trim_end(text),
    })
}

/// A source comment: (`text`, `file`, `line`) from `; text @ file:line` (without the `;`).
pub(crate) fn split_comment(body: &[u8]) -> (&[u8], Option<&[u8]>, Option<u32>) {
    let body = body.strip_prefix(b" ").unwrap_or(body);
    let Some(at) = memchr::memmem::rfind(body, b" @ ") else {
        return (trim(body), None, None);
    };
    let text = trim(body.get(..at).unwrap_or_default());
    let loc = trim(body.get(at + 3..).unwrap_or_default());
    match memchr::memrchr(b':', loc) {
        Some(colon) => {
            let num = loc.get(colon + 1..).unwrap_or_default();
            match parse_u32_prefix(num) {
                Some((n, len)) if len == num.len() => {
                    (text, Some(loc.get(..colon).unwrap_or_default()), Some(n))
                }
                _ => (text, Some(loc), None),
            }
        }
        None => (text, Some(loc), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(line: &str) -> Insn<'_> {
        match classify(line.as_bytes()) {
            Line::Insn(i) => i,
            other => panic!("{line:?} is not an instruction: {other:?}"),
        }
    }

    #[test]
    fn instruction_lines() {
        let i = insn("5: (2d) if r3 > r2 goto pc+12         ; R2=pkt_end() R3=pkt(off=14,r=14)");
        assert_eq!((i.idx, i.opcode), (5, 0x2d));
        assert_eq!(i.text, b"if r3 > r2 goto pc+12");
        assert_eq!(i.delta, Some(&b"R2=pkt_end() R3=pkt(off=14,r=14)"[..]));
        let bare = insn("14: (71) r1 = *(u8 *)(r1 +23)");
        assert_eq!(
            (bare.idx, bare.text, bare.delta),
            (14, &b"r1 = *(u8 *)(r1 +23)"[..], None)
        );
        assert_eq!(insn("18: (95) exit").opcode, 0x95);
        let lvl1 = insn("10: (16) if w2 == 0x8 goto pc+3 14: R0=2 R1=pkt(r=14) R10=fp0");
        assert_eq!(lvl1.text, b"if w2 == 0x8 goto pc+3");
        assert_eq!(lvl1.branch, Some((14, &b"R0=2 R1=pkt(r=14) R10=fp0"[..])));
        let map = insn("4: (18) r1 = map[id:5][0]+0");
        assert_eq!(map.text, b"r1 = map[id:5][0]+0");
        assert_eq!(map.branch, None);
        let semi =
            insn("10: (56) if w1 != 0x3 goto pc+3 14: R1=scalar(var_off=(0x0; 0xff)) refs=2");
        assert_eq!(semi.delta, None);
        assert_eq!(
            semi.branch,
            Some((14, &b"R1=scalar(var_off=(0x0; 0xff)) refs=2"[..]))
        );
    }

    #[test]
    fn state_and_branch_lines() {
        assert_eq!(
            classify(b"0: R1=ctx() R10=fp0"),
            Line::State {
                idx: 0,
                text: b"R1=ctx() R10=fp0"
            }
        );
        assert_eq!(
            classify(b"9: frame1: R1=1 R10=fp0"),
            Line::State {
                idx: 9,
                text: b"frame1: R1=1 R10=fp0"
            }
        );
        assert_eq!(classify(b"9: safe"), Line::Safe { idx: 9 });
        assert_eq!(
            classify(b"from 12 to 18: R0=1 R10=fp0"),
            Line::From {
                from: 12,
                to: 18,
                state: Some(b"R0=1 R10=fp0")
            }
        );
        assert_eq!(
            classify(b"from 31 to 40: safe"),
            Line::From {
                from: 31,
                to: 40,
                state: None
            }
        );
        assert_eq!(
            classify(b"from 5 to 7 (speculative execution): R1=1"),
            Line::From {
                from: 5,
                to: 7,
                state: Some(b"R1=1")
            }
        );
        assert_eq!(
            classify(b" frame1: R1=1"),
            Line::IndentedState(b"frame1: R1=1")
        );
        assert_eq!(
            classify(b" R0_w=inv0 R10=fp0"),
            Line::IndentedState(b"R0_w=inv0 R10=fp0")
        );
    }

    #[test]
    fn noise_and_headers() {
        for noise in [
            "mark_precise: frame0: last_idx 4 first_idx 0 subseq_idx -1 ",
            "mark_precise: frame0: regs=r0 stack= before 2: (26) if w1 > 0x64 goto pc+1",
            "(0) frame 0 insn 5 +live -8,-16",
            "(8,14) live stack update done in 2 iterations",
            "SCC enter (1)",
            "last_idx 24 first_idx 12",
            "regs=4 stack=0 before 23: (bf) r2 = r10",
            "parent didn't have regs=4 stack=0 marks",
            "propagating r6",
            "cur state: R1=1 R10=fp0",
            "old state: R1=1 R10=fp0",
        ] {
            assert_eq!(classify(noise.as_bytes()), Line::Noise, "{noise}");
        }
        assert_eq!(classify(b"func#1 @9"), Line::Func);
        assert_eq!(classify(b"caller:"), Line::Caller);
        assert_eq!(classify(b"to caller at 9:"), Line::ToCaller);
        assert_eq!(
            classify(b"verification time 54 usec"),
            Line::VerificationTime(Some(54))
        );
        assert_eq!(classify(b"stack depth 0+8"), Line::StackDepth(b"0+8"));
        assert_eq!(
            classify(b"      1: .12....... (71) r1 = *(u8 *)(r1 +13)"),
            Line::LiveRegsRow {
                idx: 1,
                opcode: 0x71,
                text: b"r1 = *(u8 *)(r1 +13)"
            }
        );
        assert_eq!(
            classify(b"  1   2: .12....... (27) r1 *= 3"),
            Line::LiveRegsRow {
                idx: 2,
                opcode: 0x27,
                text: b"r1 *= 3"
            }
        );
        assert_eq!(
            classify(b"Verification failed: Memory Safety: bad"),
            Line::DiagStart(b"Memory Safety: bad")
        );
    }

    #[test]
    fn messages_are_other() {
        for m in [
            "invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)",
            "R1 offset is outside of the packet",
            "infinite loop detected at insn 1",
            "back-edge from insn 5 to 2",
            "12",
            "12:",
            "from x to y",
            "(x) y",
        ] {
            assert!(matches!(classify(m.as_bytes()), Line::Other(_)), "{m}");
        }
    }

    #[test]
    fn comments() {
        let (t, f, l) = split_comment(b" if (x) @ prog.c:31");
        assert_eq!((t, f, l), (&b"if (x)"[..], Some(&b"prog.c"[..]), Some(31)));
        let (t, f, l) = split_comment(b"  @ prog.c:0");
        assert_eq!((t, f, l), (&b""[..], Some(&b"prog.c"[..]), Some(0)));
        let (t, f, l) = split_comment(b" return 0;");
        assert_eq!((t, f, l), (&b"return 0;"[..], None, None));
        let (t, f, l) = split_comment(b" a @ b @ dir/x.c:7");
        assert_eq!((t, f, l), (&b"a @ b"[..], Some(&b"dir/x.c"[..]), Some(7)));
    }

    #[test]
    fn overflowing_numbers_are_not_instructions() {
        assert!(matches!(
            classify(b"99999999999: (07) r1 += 1"),
            Line::Other(_)
        ));
        assert!(matches!(classify(b"1: (zz) r1 += 1"), Line::Other(_)));
    }
}
