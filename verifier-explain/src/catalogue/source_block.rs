//! Where a line sits in the source's blocks, read from the text alone: whether code put before
//! it must be one block (the line is the body of an `if` without braces), and which loop holds
//! it (so that a fix may leave with `break`). Lines are looked up by number through `text`,
//! which returns `None` past the file.

/// Whether code put at line `line` must be one block: `Some(true)` when the line is the body
/// of an `if`, `else` or loop without braces, `Some(false)` when it follows a statement or opens
/// a block, `None` when the line before it is neither (a statement continued, a macro).
pub(crate) fn needs_block(text: impl Fn(u32) -> Option<String>, line: u32) -> Option<bool> {
    let before = (1..line)
        .rev()
        .filter_map(&text)
        .map(|t| t.trim().to_string())
        .find(|t| {
            !t.is_empty() && !t.starts_with("//") && !t.starts_with("/*") && !t.starts_with('*')
        })?;
    if before.ends_with('{')
        || before.ends_with(';')
        || before.ends_with('}')
        || before.ends_with("*/")
    {
        Some(false)
    } else if before.ends_with(')') || before.ends_with("else") {
        Some(true)
    } else {
        None
    }
}

/// The loop whose body holds line `line`: the nearest less indented line above it that is a
/// loop header (`for`, `while`, `do`), with its number and text. `None` when a `switch` or the
/// function's own level comes first (a `break` there would not leave a loop).
pub(crate) fn enclosing_loop(
    text: impl Fn(u32) -> Option<String>,
    line: u32,
) -> Option<(u32, String)> {
    let indent = |t: &str| t.len() - t.trim_start().len();
    let mut depth = indent(&text(line)?);
    for l in (line.saturating_sub(200).max(1)..line).rev() {
        let t = text(l)?;
        if t.trim().is_empty() || indent(&t) >= depth {
            continue;
        }
        depth = indent(&t);
        let s = t.trim_start();
        if ["for ", "for(", "while ", "while(", "do ", "do{"]
            .iter()
            .any(|k| s.starts_with(k))
            || s == "do"
        {
            return Some((l, t));
        }
        if depth == 0 || s.starts_with("switch") {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "int f(int n)\n{\n\tint s = 0;\n\tfor (int i = 0; i < n; i++) {\n\t\tif (i > 3)\n\t\t\ts += i;\n\t\ts++;\n\t}\n\tswitch (n) {\n\tcase 1:\n\t\ts--;\n\t}\n\treturn s;\n}\n";

    fn text(l: u32) -> Option<String> {
        SOURCE
            .lines()
            .nth(usize::try_from(l).ok()?.checked_sub(1)?)
            .map(str::to_string)
    }

    #[test]
    fn an_unbraced_if_body_needs_a_block() {
        assert_eq!(needs_block(text, 6), Some(true));
        assert_eq!(needs_block(text, 7), Some(false));
        assert_eq!(needs_block(text, 5), Some(false));
    }

    #[test]
    fn the_enclosing_loop_is_found_by_indentation() {
        assert_eq!(enclosing_loop(text, 6).map(|(l, _)| l), Some(4));
        assert_eq!(enclosing_loop(text, 7).map(|(l, _)| l), Some(4));
        // A switch is not a loop, and the function's body is no loop either.
        assert_eq!(enclosing_loop(text, 11), None);
        assert_eq!(enclosing_loop(text, 13), None);
    }
}
