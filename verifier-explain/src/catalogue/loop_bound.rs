//! A loop whose condition bounds a variable in the source (`while (optdata <= 40)`) while the
//! compiled code loses that bound: the variable grows by amounts read at run time, the compiler
//! widens it or tests a copy, and the verifier sees an offset that may reach past 0xffff (and a
//! loop it cannot count). The rewrite gives the loop a constant trip count and bounds the variable
//! afresh at the top of every iteration, with a mask the compiler cannot fold away.

/// A `while` loop header's parts: the condition and the bound it sets on one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WhileBound {
    /// The whole condition, as written.
    pub condition: String,
    /// `<=` or `<`.
    pub op: &'static str,
    /// The constant the variable is compared with.
    pub limit: u64,
}

/// The bound `while (... var <= N ...) {` sets on `var`, when the header has that shape: the
/// comparison is the whole condition or one of its `&&` terms, `N` a decimal or hex literal.
pub(crate) fn while_bound(header: &str, var: &str) -> Option<WhileBound> {
    let t = header.trim();
    let inner = t.strip_prefix("while")?.trim_start().strip_suffix('{')?;
    let condition = inner.trim().strip_prefix('(')?.strip_suffix(')')?.trim();
    if condition.contains("||") {
        return None;
    }
    condition.split("&&").find_map(|term| {
        let term = term
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim();
        let (op, rest) = ["<=", "<"].into_iter().find_map(|op| {
            let (lhs, rhs) = term.split_once(op)?;
            (lhs.trim() == var && !rhs.starts_with('=')).then_some((op, rhs.trim()))
        })?;
        let limit = match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok()?,
            None => rest.parse().ok()?,
        };
        Some(WhileBound {
            condition: condition.to_string(),
            op,
            limit,
        })
    })
}

/// The header that replaces `while (cond) {`: a `for` loop counting at most as many
/// iterations as the bound allows values (each iteration is taken to move `var` on by at least
/// one), followed by a mask of `var` to the bound's bits, which the compiler cannot fold away.
pub(crate) fn bounded_loop(bound: &WhileBound, var: &str, counter: &str) -> String {
    let largest = if bound.op == "<" {
        bound.limit.saturating_sub(1)
    } else {
        bound.limit
    };
    let mask = u64::MAX >> largest.max(1).leading_zeros();
    format!(
        "for (int {counter} = 0; {counter} {} {}; {counter}++) {{\n\
         \tasm volatile(\"%0 &= {mask:#x}\" : \"+r\"({var}));",
        bound.op,
        if bound.condition.contains("&&") {
            format!("{} && ({})", bound.limit, bound.condition)
        } else {
            format!("{} && {}", bound.limit, bound.condition)
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_while_condition_bounds_its_variable() {
        let b = while_bound("\t\twhile (optdata <= 40) {", "optdata").expect("bound");
        assert_eq!((b.op, b.limit), ("<=", 40));
        assert_eq!(b.condition, "optdata <= 40");
        let b = while_bound("while (p && off < 0x40) {", "off").expect("bound");
        assert_eq!((b.op, b.limit), ("<", 64));
        assert_eq!(while_bound("while (off <= n) {", "off"), None);
        assert_eq!(while_bound("while (off <= 40 || x) {", "off"), None);
        assert_eq!(while_bound("for (;;) {", "off"), None);
        assert_eq!(while_bound("while (x <= 40) {", "off"), None);
    }

    #[test]
    fn the_loop_gets_a_trip_count_and_a_mask() {
        let b = while_bound("while (optdata <= 40) {", "optdata").expect("bound");
        assert_eq!(
            bounded_loop(&b, "optdata", "i"),
            "for (int i = 0; i <= 40 && optdata <= 40; i++) {\n\
             \tasm volatile(\"%0 &= 0x3f\" : \"+r\"(optdata));"
        );
        let b = while_bound("while (off < 64) {", "off").expect("bound");
        assert!(bounded_loop(&b, "off", "n").contains("%0 &= 0x3f"));
    }
}
