//! Reading the verifier's disassembly: which registers and stack slots an instruction uses,
//! where it jumps, and what it writes.

/// An operand of an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// A register, r0-r10 (w registers are their lower halves).
    Reg(u8),
    /// A stack slot at fp+offset (offset negative).
    Slot(i64),
}

/// Registers (`rN`/`wN` tokens) in `text`, in order of appearance, without repeats.
pub fn registers(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut regs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'_';
        if starts_word && (bytes[i] == b'r' || bytes[i] == b'w') {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let end = i + 1 + digits;
            let ends_word = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
            if digits > 0
                && digits <= 2
                && ends_word
                && let Ok(n) = text[i + 1..end].parse::<u8>()
                && n <= 10
                && !regs.contains(&n)
            {
                regs.push(n);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    regs
}

/// The register an instruction overwrites without reading (`rN = ...`), if any.
pub fn plain_destination(text: &str) -> Option<u8> {
    let t = text.trim();
    let rest = t.strip_prefix('r').or_else(|| t.strip_prefix('w'))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = rest[digits.len()..].trim_start();
    if after.starts_with("= ") || after == "=" {
        digits.parse().ok()
    } else {
        None
    }
}

/// The register an instruction writes (`rN = ...`, `rN += ...`, `wN <<= ...`), if any.
pub fn destination(text: &str) -> Option<u8> {
    let t = text.trim();
    let rest = t.strip_prefix('r').or_else(|| t.strip_prefix('w'))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = rest[digits.len()..].trim_start();
    let op_end = after.find(' ').unwrap_or(after.len());
    let op = &after[..op_end];
    (op.ends_with('=') && op != "==" && !op.is_empty())
        .then(|| digits.parse().ok())
        .flatten()
}

/// The memory operand `(rN +off)` of a load or store, as (register, offset).
pub fn memory_operand(text: &str) -> Option<(u8, i64)> {
    let open = text.find("(r")?;
    let inner = &text[open + 1..];
    let close = inner.find(')')?;
    let inner = &inner[..close];
    let (reg, off) = inner.split_once(' ').unwrap_or((inner, "+0"));
    let reg = reg.strip_prefix('r')?.parse().ok()?;
    let off = off.trim().trim_start_matches('+').parse().ok()?;
    Some((reg, off))
}

/// The size in bytes of a load or store (`*(u32 *)`).
#[allow(dead_code)] // the grammar of loads and stores, tested below; no caller yet
pub fn access_size(text: &str) -> Option<u64> {
    let start = text.find("*(u")? + 3;
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse::<u64>().ok().map(|bits| bits / 8)
}

/// Whether the instruction is a conditional jump.
pub fn is_conditional(text: &str) -> bool {
    text.trim_start().starts_with("if ")
}

/// Whether the instruction calls a helper or subprogram.
pub fn is_call(text: &str) -> bool {
    text.trim_start().starts_with("call ")
}

/// The helper a `call bpf_xxx#N` instruction calls.
pub fn helper_name(text: &str) -> Option<&str> {
    let name = text.trim().strip_prefix("call ")?;
    let name = name.split('#').next()?.trim();
    (!name.is_empty() && !name.starts_with("pc")).then_some(name)
}

/// The target of a jump at `idx` (`goto pc+N` jumps to idx + N + 1).
pub fn jump_target(idx: u32, text: &str) -> Option<u32> {
    let pos = text.find("goto pc")?;
    let off: i64 = text[pos + 7..]
        .split_whitespace()
        .next()?
        .trim_start_matches('+')
        .parse()
        .ok()?;
    u32::try_from(i64::from(idx).checked_add(off)?.checked_add(1)?).ok()
}

/// What the instruction uses: registers read (not a plain destination), and the stack slot of a
/// frame-pointer access.
pub fn uses(text: &str) -> Vec<Use> {
    let t = text.trim();
    let mut out = Vec::new();
    if t == "exit" {
        return vec![Use::Reg(0)];
    }
    let dst = plain_destination(t);
    let mem = memory_operand(t);
    let rhs = t.split_once('=').map_or("", |(_, rhs)| rhs);
    for r in registers(t) {
        if Some(r) == dst && !registers(rhs).contains(&r) {
            continue;
        }
        if r == 10 {
            continue;
        }
        out.push(Use::Reg(r));
    }
    if let Some((10, off)) = mem {
        out.push(Use::Slot(off));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_of_common_instructions() {
        assert_eq!(uses("r0 = *(u8 *)(r2 +12)"), vec![Use::Reg(2)]);
        assert_eq!(
            uses("*(u32 *)(r10 -4) = r1"),
            vec![Use::Reg(1), Use::Slot(-4)]
        );
        assert_eq!(uses("r1 += r2"), vec![Use::Reg(1), Use::Reg(2)]);
        assert_eq!(
            uses("if r3 > r2 goto pc+29"),
            vec![Use::Reg(3), Use::Reg(2)]
        );
        assert_eq!(uses("exit"), vec![Use::Reg(0)]);
        assert_eq!(uses("r2 = r10"), vec![]);
        assert_eq!(uses("r1 = r10"), vec![]);
        assert_eq!(uses("r0 = *(u8 *)(r0 +12)"), vec![Use::Reg(0)]);
        assert_eq!(memory_operand("r0 = *(u8 *)(r2 +12)"), Some((2, 12)));
        assert_eq!(memory_operand("*(u64 *)(r10 -16) = r1"), Some((10, -16)));
        assert_eq!(access_size("r0 = *(u16 *)(r2 +12)"), Some(2));
        assert_eq!(jump_target(5, "if r3 > r2 goto pc+29"), Some(35));
        assert_eq!(jump_target(9, "goto pc-5"), Some(5));
        assert_eq!(
            helper_name("call bpf_map_lookup_elem#1"),
            Some("bpf_map_lookup_elem")
        );
        assert_eq!(destination("r1 += 14"), Some(1));
        assert_eq!(destination("if r1 == 0x0 goto pc+2"), None);
        assert_eq!(plain_destination("w0 = 1"), Some(0));
    }
}
