//! The values a program may return: the range the verifier's message allows, the value of each
//! program type that lets the packet, call or event go on (allow) and the one that refuses it
//! (deny), and the fix that returns an allowed value where the path's bad one was written.

use super::rewrite;
use super::words::{Ctx, replace};
use crate::evidence::{Fix, ScalarOrigin};

/// A return value as the source spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Value {
    /// The number.
    pub number: i64,
    /// How to write it (`1`, `SK_PASS`, `XDP_PASS`).
    pub spelled: &'static str,
}

/// What a program type returns to let things go on, and to refuse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdicts {
    /// The value that lets the packet, call or event go on.
    pub allow: Value,
    /// The value that refuses it (drop, deny), when the type has one.
    pub deny: Option<Value>,
}

const fn v(number: i64, spelled: &'static str) -> Value {
    Value { number, spelled }
}

/// The allow and deny values of a program type (aya's name for it, as the section gives it).
pub(crate) fn verdicts(program_type: &str) -> Option<Verdicts> {
    let (allow, deny) = match program_type {
        "CgroupSkb" | "CgroupSock" | "CgroupSockAddr" | "CgroupSockopt" | "CgroupSysctl"
        | "CgroupDevice" => (v(1, "1"), Some(v(0, "0"))),
        "SkLookup" | "SkMsg" | "SkSkb" => (v(1, "SK_PASS"), Some(v(0, "SK_DROP"))),
        "Xdp" => (v(2, "XDP_PASS"), Some(v(1, "XDP_DROP"))),
        "SchedClassifier" => (v(0, "TC_ACT_OK"), Some(v(2, "TC_ACT_SHOT"))),
        "Netfilter" => (v(1, "1"), Some(v(0, "0"))),
        "Lsm" => (v(0, "0"), Some(v(-1, "-1"))),
        "SocketFilter" => (v(-1, "-1"), Some(v(0, "0"))),
        _ => return None,
    };
    Some(Verdicts { allow, deny })
}

/// The range the verifier's message says the return value should have been in: `[0, 1]`
/// (recent kernels) or `(0x0; 0x1)` (5.x).
pub(crate) fn allowed_range(message: &[String]) -> Option<(i64, i64)> {
    let line = message.iter().find(|l| l.contains("should have been in"))?;
    let rest = line.split("should have been in").nth(1)?.trim();
    let inner = rest
        .strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .or_else(|| rest.strip_prefix('(').and_then(|r| r.split(')').next()))?;
    let mut parts = inner.split([',', ';']).map(|p| number(p.trim()));
    let (lo, hi) = (parts.next()??, parts.next()??);
    (lo <= hi).then_some((lo, hi))
}

/// A decimal or `0x` hexadecimal number, possibly negative.
fn number(text: &str) -> Option<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let n = match digits.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    Some(if neg { -n } else { n })
}

/// The value returned as the program's `int` sees it: a 32-bit pattern (`0xffffffff`) is
/// the negative number the source wrote (`-1`).
fn as_int(n: i64) -> i64 {
    match u32::try_from(n) {
        Ok(u) => i64::from(u as i32),
        Err(_) => n,
    }
}

/// The allowed value to return instead of `bad` (when known): the deny value for a negative
/// one (an errno written to refuse), else the allow value, when the range holds it; for a
/// program type without known verdicts, the range's only value. Also says which value it is.
fn choose(
    verdicts: Option<Verdicts>,
    range: (i64, i64),
    bad: Option<i64>,
) -> Option<(Value, &'static str)> {
    let within = |v: &Value| (range.0..=range.1).contains(&v.number);
    if let Some(vs) = verdicts {
        if bad.is_some_and(|b| as_int(b) < 0)
            && let Some(deny) = vs.deny.filter(within)
        {
            return Some((
                deny,
                "the value by which this program type refuses (drops, denies)",
            ));
        }
        if within(&vs.allow) {
            return Some((
                vs.allow,
                "the value by which this program type lets things go on (pass, allow)",
            ));
        }
    }
    (range.0 == range.1).then_some((
        Value {
            number: range.0,
            spelled: "",
        },
        "the only value allowed",
    ))
}

/// The fix that returns an allowed value: the constant on the faulting `return` line is
/// replaced (`return 123;` -> `return 1;`), or, when that line returns a variable, the
/// constant the path assigned to it (`verdict = -EPERM;` -> `verdict = 0;`). `None` when the
/// range is not in the message, no allowed value can be chosen, or the value was computed
/// (a call's result, arithmetic): then which value each path returns is the user's decision.
pub(crate) fn return_fix(c: &Ctx<'_>) -> Option<Fix> {
    let range = allowed_range(c.message())?;
    let r0 = c.facts.reg(0);
    let bad = c
        .field("smin=")
        .filter(|&lo| c.field("smax=") == Some(lo))
        .or_else(|| r0.and_then(|r| r.value));
    let (value, role) = choose(c.facts.program_type.and_then(verdicts), range, bad)?;
    let spelled = if value.spelled.is_empty() {
        value.number.to_string()
    } else {
        value.spelled.to_string()
    };
    let others = match range {
        (lo, hi) if lo == hi => format!("{lo} is the only value allowed"),
        (lo, hi) => format!("the verifier allows {lo} to {hi}"),
    };
    let bad_words = bad.map_or(String::new(), |b| format!(" instead of {}", as_int(b)));
    let summary = format!(
        "Return {spelled}{bad_words} on this path: {spelled} is {role}; {others}, so choose \
         another value in that range if this path means something else."
    );
    let line = c.line()?;
    let fault = c.found.instruction.as_ref()?.index;
    let source = |n: u32| c.facts.source_line(fault, n);
    let origin = match c.facts.scalar_origin(0) {
        ScalarOrigin::Constant { idx, .. } => c.facts.line_of(idx).map(|(_, l, _)| l),
        _ => None,
    };
    let text = source(line)?;
    let returned = rewrite::returned_expression(&text);
    // A number, or a verdict name of this program type, whose value is not the bad one is
    // not the return the path took.
    let known = c.facts.program_type.and_then(verdicts);
    let value_of = |expr: &str| {
        number(expr).or_else(|| {
            known.and_then(|vs| {
                [Some(vs.allow), vs.deny]
                    .into_iter()
                    .flatten()
                    .find(|v| v.spelled == expr)
                    .map(|v| v.number)
            })
        })
    };
    let literal_is_bad = |expr: &str| match (value_of(expr), bad) {
        (Some(n), Some(b)) => n == as_int(b) || n == b,
        _ => true,
    };
    let direct = returned.as_deref().filter(|r| {
        is_constant(r) && literal_is_bad(r) && c.facts.in_scope_named(fault, r).is_none()
    });
    if direct.is_some() {
        let code = rewrite::replace_returned_expression(&text, &spelled)?;
        return Some(replace(summary, Some(line), code.trim_start().to_string()));
    }
    let Some(returned) = returned.filter(|r| c.facts.in_scope_named(fault, r).is_some()) else {
        // Not a `return` of a constant or a variable here (the line is the closing brace the
        // returns merge into, or a computed value): the one `return <the bad number>;` between
        // where the number was made and here is the one the path took.
        let bad = bad?;
        let mut returns = (origin?..=line).filter_map(|at| {
            let text = source(at)?;
            let expr = rewrite::returned_expression(&text)?;
            (number(&expr).is_some_and(|n| n == as_int(bad) || n == bad))
                .then(|| rewrite::replace_returned_expression(&text, &spelled))
                .flatten()
                .map(|code| (at, code))
        });
        let (at, code) = returns.next()?;
        if returns.next().is_some() {
            return None;
        }
        return Some(replace(summary, Some(at), code.trim_start().to_string()));
    };
    // `return verdict;`: the constant the path put in the variable, where it was assigned.
    // The constant's instruction may carry the line of the condition before the assignment
    // (the compiler gives it no line of its own): the one assignment of the variable from
    // there to the return is the one the path ran.
    let from = origin?;
    let mut assignments = (from..line).filter_map(|at| {
        let text = source(at)?;
        rewrite::replace_assigned_value(&text, &returned, &spelled).map(|code| (at, code))
    });
    let (at, code) = assignments.next()?;
    if assignments.next().is_some() {
        return None;
    }
    Some(replace(
        format!(
            "Assign {spelled} to `{returned}` here, the value this path returns{bad_words}: \
             {spelled} is {role}; {others}, so choose another value in that range if this path \
             means something else."
        ),
        Some(at),
        code.trim_start().to_string(),
    ))
}

/// Whether a returned expression is a constant: a number, a name in capitals (`XDP_ABORTED`,
/// `EPERM`), possibly negated or in parentheses.
fn is_constant(expr: &str) -> bool {
    let e = expr
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    let e = e.strip_prefix('-').unwrap_or(e).trim();
    !e.is_empty()
        && (e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && (e.starts_with(|c: char| c.is_ascii_digit())
                || e.chars().all(|c| !c.is_ascii_lowercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_read_from_both_message_forms() {
        let new = [
            "At program exit the register R0 has smin=123 smax=123 should have been in [0, 1]"
                .to_string(),
        ];
        assert_eq!(allowed_range(&new), Some((0, 1)));
        let old = [
            "At program exit the register R0 has value (0x7b; 0x0) should have been in (0x0; 0x1)"
                .to_string(),
        ];
        assert_eq!(allowed_range(&old), Some((0, 1)));
        let lsm = ["should have been in [-4095, 0]".to_string()];
        assert_eq!(allowed_range(&lsm), Some((-4095, 0)));
        assert_eq!(allowed_range(&["R0 !read_ok".to_string()]), None);
    }

    #[test]
    fn a_negative_value_is_read_as_a_refusal_and_others_as_allow() {
        let cg = verdicts("CgroupSkb");
        assert_eq!(
            choose(cg, (0, 3), Some(0xffff_ffff)).unwrap().0.spelled,
            "0"
        );
        assert_eq!(choose(cg, (0, 1), Some(123)).unwrap().0.spelled, "1");
        let lsm = verdicts("Lsm");
        assert_eq!(choose(lsm, (-4095, 0), Some(1)).unwrap().0.number, 0);
        assert_eq!(choose(None, (0, 0), Some(5)).unwrap().0.number, 0);
        assert_eq!(choose(None, (0, 1), Some(5)), None);
    }

    #[test]
    fn constants_are_numbers_and_capitalised_names() {
        assert!(is_constant("123"));
        assert!(is_constant("-EPERM"));
        assert!(is_constant("(XDP_ABORTED)"));
        assert!(!is_constant("verdict"));
        assert!(!is_constant("f(x)"));
        assert!(!is_constant("a + 1"));
    }
}
