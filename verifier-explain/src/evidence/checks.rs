//! Checks that exist but do not constrain the value used: the shapes in which a program has a
//! bounds check the verifier saw, yet the access is refused. Each is read from the failing path:
//! the value that reached the refused access is followed back to where it was made, and
//! compared with what the path's conditional jumps tested.

use super::Facts;
use crate::log::insn;
use crate::log::{PathStep, RegState};

/// How an existing check failed to constrain the value used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckShape {
    /// The value was checked, then read again from memory, and the second read was used: the
    /// check bounded the first read only.
    Reread {
        /// The line of the check.
        check_line: Option<u32>,
        /// The line that read the value again.
        reread_line: Option<u32>,
        /// The variable or expression read (as the source names it), if known.
        what: Option<String>,
    },
    /// The check bounds one operand of a sum, and the sum is used: the other operand has no
    /// bound, so neither has the sum.
    SumOperand {
        /// The line of the addition.
        add_line: Option<u32>,
        /// The operand the path checked.
        checked: Option<String>,
        /// The operand with no bound.
        unchecked: Option<String>,
    },
    /// The index is checked on both sides and the source is right, but the compiler folded
    /// the index into the address as a subtraction (`&a[64 - ttl]` becomes `a + 64 - ttl`):
    /// the variable part of the offset is negative, which the verifier refuses even though
    /// the final address is inside the object.
    FoldedSubtraction {
        /// The line of the check.
        check_line: Option<u32>,
        /// The line whose index the compiler folded.
        index_line: Option<u32>,
        /// The index as the source writes it (`hop` in `&h->seen[hop]`), if found.
        index: Option<String>,
    },
    /// A copy of the value was checked (or clamped), and the original, never checked, is
    /// what the helper gets.
    CopyChecked {
        /// The checked copy's variable, if named.
        checked: Option<String>,
        /// The original's variable, if named.
        used: Option<String>,
    },
    /// A helper's size is checked, but the check allows more than the buffer holds.
    LooseSize {
        /// The line of the check.
        check_line: Option<u32>,
        /// The largest size the check lets through.
        allowed: u64,
        /// The size variable, if named.
        size: Option<String>,
    },
}

/// The shape of the existing check that did not constrain the value used at the fault, if
/// the path shows one. `size` is the size the verifier's message says a helper was given.
pub(crate) fn shape(facts: &Facts<'_>, size: Option<i64>) -> Option<CheckShape> {
    let path = &facts.summary.path;
    let fault = path.len().checked_sub(1)?;
    if insn::is_call(&path[fault].text) {
        return size
            .and_then(|size| loose_size(facts, size))
            .or_else(|| copy_checked(facts));
    }
    let (add, scalar) = pointer_add(path, fault)?;
    if path[add].text.contains(" -= ")
        && let Some(folded) = folded_subtraction(facts, add, scalar, fault)
    {
        return Some(folded);
    }
    let (origin, reg) = origin(path, add, scalar)?;
    let text = path[origin].text.trim();
    if let Some((_, rhs)) = text.split_once(" = ")
        && rhs.starts_with("*(")
    {
        return reread(facts, origin, rhs);
    }
    sum_operand(facts, origin, reg)
}

/// The last `rP += rS` before `fault` that adds a scalar register to a pointer: its position
/// and the scalar's register.
fn pointer_add(path: &[PathStep], fault: usize) -> Option<(usize, u8)> {
    (0..fault).rev().find_map(|i| {
        let t = path[i].text.trim();
        let (lhs, rhs) = t.split_once(" += ").or_else(|| t.split_once(" -= "))?;
        let dst = *insn::registers(lhs).first()?;
        let src = *insn::registers(rhs).first()?;
        let pointer = |r: &RegState| r.reg == dst && r.type_name != "scalar";
        path[i].regs.iter().any(pointer).then_some((i, src))
    })
}

/// Follows `reg` back from step `before` through shifts, multiplications and copies to the
/// step that made its value (a load or a sum): that step's position and the register it wrote.
fn origin(path: &[PathStep], before: usize, mut reg: u8) -> Option<(usize, u8)> {
    let mut end = before;
    for _ in 0..8 {
        let i = (0..end)
            .rev()
            .find(|&i| insn::destination(&path[i].text) == Some(reg))?;
        let t = path[i].text.trim();
        let transparent = [" <<= ", " *= ", " &= ", " >>= "]
            .iter()
            .any(|op| t.contains(op));
        if transparent {
            end = i;
            continue;
        }
        if let Some((_, rhs)) = t.split_once(" = ")
            && !rhs.starts_with("*(")
            && let [src] = insn::registers(rhs)[..]
        {
            reg = src;
            end = i;
            continue;
        }
        return Some((i, reg));
    }
    None
}

/// A load (`*(u32 *)(r6 +0)`) whose same memory was loaded earlier on the path and that
/// earlier value compared by a conditional jump.
fn reread(facts: &Facts<'_>, at: usize, memory: &str) -> Option<CheckShape> {
    let path = &facts.summary.path;
    let first = (0..at).rev().find(|&i| {
        path[i]
            .text
            .split_once(" = ")
            .is_some_and(|(_, rhs)| rhs.trim() == memory)
    })?;
    let loaded = insn::destination(&path[first].text)?;
    let check = (first + 1..at).find(|&i| is_branch_on(&path[i], loaded))?;
    let line = |i: usize| facts.line_of(path[i].idx).map(|(_, l, _)| l);
    let what = facts
        .var_in_reg(path[first + 1].idx, loaded)
        .map(|v| v.name)
        .or_else(|| expression_on_line(facts, path[at].idx));
    Some(CheckShape::Reread {
        check_line: line(check),
        reread_line: line(at),
        what,
    })
}

/// A sum (`w2 += w1`) one of whose operands a conditional jump bounded.
fn sum_operand(facts: &Facts<'_>, at: usize, reg: u8) -> Option<CheckShape> {
    let path = &facts.summary.path;
    let t = path[at].text.trim();
    let (lhs, rhs) = t.split_once(" += ")?;
    let dst = *insn::registers(lhs).first()?;
    let src = *insn::registers(rhs).first()?;
    if dst != reg {
        return None;
    }
    // The operand a jump bounded, and the other one: the added register's state is printed
    // with the addition; the destination's state before it is what last wrote it.
    let bounded = |r: u8, upto: usize| {
        (0..upto)
            .rev()
            .find(|&i| is_branch_on(&path[i], r) || insn::destination(&path[i].text) == Some(r))
            .is_some_and(|i| is_branch_on(&path[i], r))
    };
    let (checked, unchecked) = match (bounded(src, at), bounded(dst, at)) {
        (true, false) => (src, dst),
        (false, true) => (dst, src),
        _ => return None,
    };
    let name = |r: u8| {
        facts
            .var_in_reg(path[at].idx, r)
            .or_else(|| facts.trace(r, at).map(|(v, _)| v))
            .map(|v| v.name)
    };
    Some(CheckShape::SumOperand {
        add_line: facts.line_of(path[at].idx).map(|(_, l, _)| l),
        checked: name(checked),
        unchecked: name(unchecked),
    })
}

/// A pointer minus a checked scalar (`r0 -= r1`, r1 in [33, 64]) accessed at a constant offset
/// at least the scalar's maximum (`*(u8 *)(r0 +64)`): every address is at or after the object's
/// start, so the check was right and the compiler's arithmetic is what the verifier refuses.
fn folded_subtraction(facts: &Facts<'_>, sub: usize, reg: u8, fault: usize) -> Option<CheckShape> {
    let path = &facts.summary.path;
    let check = (0..sub).rev().find(|&i| is_branch_on(&path[i], reg))?;
    let umax = path[check].regs.iter().find(|r| r.reg == reg)?.umax?;
    let access = path[fault].text.trim();
    let off: u64 = access
        .split(" +")
        .nth(1)?
        .split(')')
        .next()?
        .trim()
        .parse()
        .ok()?;
    if umax > off {
        return None;
    }
    let line = |i: usize| facts.line_of(path[i].idx).map(|(_, l, _)| l);
    Some(CheckShape::FoldedSubtraction {
        check_line: line(check),
        index_line: line(sub),
        index: expression_on_line(facts, path[sub].idx),
    })
}

/// A helper call refused for a size of `size` bytes, where the size register is a checked
/// variable whose largest value is that size: the check allows too much.
fn loose_size(facts: &Facts<'_>, size: i64) -> Option<CheckShape> {
    let size = u64::try_from(size).ok()?;
    let path = &facts.summary.path;
    let fault = path.len() - 1;
    let reg = facts.summary.regs_before_error.iter().find(|r| {
        (2..=5).contains(&r.reg)
            && r.type_name == "scalar"
            && r.value.is_none()
            && r.umax == Some(size)
    })?;
    // The jump that set that bound: the last branch on this register or a copy of it (same id).
    // The jump that set that bound: the last branch that left a scalar with exactly that
    // maximum (the size register itself, or the variable it was copied from).
    let check = (0..fault).rev().find(|&i| {
        let s = &path[i];
        s.text.trim_start().starts_with("if ")
            && s.regs
                .iter()
                .any(|r| r.type_name == "scalar" && r.umax == Some(size))
    })?;
    let size_name = facts
        .var_in_reg(path[fault].idx, reg.reg)
        .or_else(|| facts.trace(reg.reg, fault).map(|(v, _)| v))
        .map(|v| v.name);
    Some(CheckShape::LooseSize {
        check_line: facts.line_of(path[check].idx).map(|(_, l, _)| l),
        allowed: size,
        size: size_name,
    })
}

/// A helper argument register (r2-r5) without an upper bound whose value was copied, on the
/// path, into another register that is bounded at the call: the copy was checked or clamped,
/// the original is passed.
fn copy_checked(facts: &Facts<'_>) -> Option<CheckShape> {
    let path = &facts.summary.path;
    let fault = path.len() - 1;
    let regs = &facts.summary.regs_before_error;
    let unbounded = |r: &RegState| r.type_name == "scalar" && r.umax.is_none_or(|u| u > 1 << 16);
    let bounded = |r: &RegState| {
        r.type_name == "scalar" && (r.value.is_some() || r.umax.is_some_and(|u| u <= 1 << 16))
    };
    regs.iter()
        .filter(|r| (2..=5).contains(&r.reg) && unbounded(r))
        .find_map(|used| {
            let copy = path[..fault].iter().find_map(|s| {
                let (lhs, rhs) = s.text.trim().split_once(" = ")?;
                let (dst, src) = (*insn::registers(lhs).first()?, insn::registers(rhs));
                (src.len() == 1 && !rhs.contains('(') && src[0] == used.reg && dst != used.reg)
                    .then_some(dst)
            })?;
            regs.iter().find(|r| r.reg == copy && bounded(r))?;
            let name = |reg: u8| {
                facts
                    .var_in_reg(path[fault].idx, reg)
                    .or_else(|| facts.trace(reg, fault).map(|(v, _)| v))
                    .map(|v| v.name)
            };
            Some(CheckShape::CopyChecked {
                checked: name(copy),
                used: name(used.reg),
            })
        })
}

/// Whether `step` is a conditional jump testing register `reg` (`if w1 > 0x1f goto`).
fn is_branch_on(step: &PathStep, reg: u8) -> bool {
    let t = step.text.trim();
    t.starts_with("if ")
        && insn::registers(t.split(" goto").next().unwrap_or(t))
            .first()
            .is_some_and(|&r| r == reg)
}

/// The `a->b` or `a.b` expression inside `[...]` on the line of instruction `idx`, if any.
fn expression_on_line(facts: &Facts<'_>, idx: u32) -> Option<String> {
    let text = facts.text_of(idx)?;
    let open = text.find('[')?;
    let close = open + text[open..].find(']')?;
    Some(text[open + 1..close].trim().to_string()).filter(|e| !e.is_empty())
}
