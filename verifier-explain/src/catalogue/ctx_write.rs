//! A write to a context field the program may only read, rewritten as the helper that changes
//! what the field describes: in TC, `skb->len = n;` (trimming or growing the frame) is
//! `bpf_skb_change_tail(skb, n, 0);`. Other fields (a sock_ops address, which no helper
//! rewrites) keep the decision: what the write was meant to achieve.

use super::words::{Ctx, replace};
use crate::evidence::Fix;

/// One field whose write has a helper: in programs of `program_type`, `ctx->field = value;`
/// (the field at offset `off` of the context) becomes `call` with `{ctx}` and `{value}`
/// filled in.
struct FieldHelper {
    /// The program type (aya's name).
    program_type: &'static str,
    /// The field's name in the context structure.
    field: &'static str,
    /// Its offset, as the verifier's message gives it.
    off: i64,
    /// The call that does what the write meant, with `{ctx}` and `{value}`.
    call: &'static str,
    /// What the call does, for the summary.
    does: &'static str,
}

/// The writes that have a helper (each loaded on 6.18 with the replacement).
const FIELD_HELPERS: &[FieldHelper] = &[FieldHelper {
    program_type: "SchedClassifier",
    field: "len",
    off: 0,
    call: "bpf_skb_change_tail({ctx}, {value}, 0)",
    does: "trims or grows the frame to that length (packet pointers taken before it must be \
           loaded and checked again after it)",
}];

/// The fix that calls the helper for the written field, when the faulting line is the plain
/// assignment `ctx->field = value;` of a field in [`FIELD_HELPERS`].
pub(crate) fn field_write_fix(c: &Ctx<'_>, ctx: &str) -> Option<Fix> {
    let program_type = c.facts.program_type?;
    let off = c.field("off=")?;
    let entry = FIELD_HELPERS
        .iter()
        .find(|f| f.program_type == program_type && f.off == off)?;
    let line = c.line()?;
    let text = c.line_source()?;
    let (value, comment) = assigned_value(&text, ctx, entry.field)?;
    let call = entry.call.replace("{ctx}", ctx).replace("{value}", &value);
    Some(replace(
        format!(
            "Do not assign {ctx}->{}: call {} instead, which {}.",
            entry.field, call, entry.does
        ),
        Some(line),
        format!("{call};{comment}"),
    ))
}

/// The value a line assigns to `ctx->field` as a whole statement, and the line's trailing
/// comment (kept in the rewritten line): `skb->len = 64; // x` gives `64` and ` // x`.
fn assigned_value(line: &str, ctx: &str, field: &str) -> Option<(String, String)> {
    let (code, comment) = match line.split_once("//") {
        Some((code, comment)) => (code, format!(" //{comment}")),
        None => (line, String::new()),
    };
    let value = code
        .trim()
        .strip_prefix(&format!("{ctx}->{field} ="))?
        .strip_suffix(';')?
        .trim();
    (!value.is_empty() && !value.contains('=')).then(|| (value.to_string(), comment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_assignment_of_the_field_is_read() {
        assert_eq!(
            assigned_value("\t\tskb->len = 64; // <- here", "skb", "len"),
            Some(("64".into(), " // <- here".into()))
        );
        assert_eq!(
            assigned_value("skb->len = n - 4;", "skb", "len"),
            Some(("n - 4".into(), String::new()))
        );
        assert_eq!(assigned_value("if (x) skb->len = 64;", "skb", "len"), None);
        assert_eq!(assigned_value("skb->len = a = 3;", "skb", "len"), None);
        assert_eq!(assigned_value("skb->lenx = 3;", "skb", "len"), None);
    }
}
