//! The shape of C source lines as text: the code without comments and literals, brace depth,
//! whether a line is a statement of its own or the body of an `if` without braces, which loop
//! holds it. What the rewrites of the faulting source need to know before they put code at a
//! line. Lines are looked up by number through `text`, which returns `None` past the file.

/// Whether `c` may be part of a C identifier.
pub(crate) fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `text` is a C identifier (a name, not a number or an expression).
pub(crate) fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && text.chars().all(is_ident)
}

/// Whether the source's lines (read through `text` from line 1, the first 5,000 at most)
/// `#include` a header whose name contains `header` (`bpf_helpers.h`, `vmlinux.h`).
pub(crate) fn includes_header(text: impl Fn(u32) -> Option<String>, header: &str) -> bool {
    (1..=5000u32).map_while(text).any(|l| {
        let l = l.trim_start();
        l.starts_with('#') && l.contains("include") && l.contains(header)
    })
}

/// The code of a line without its `//` comment, its `/* */` comments and string or character
/// literals (each replaced by spaces, so byte positions stay).
pub(crate) fn code_only(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '/' if line[i..].starts_with("//") => {
                out.extend(std::iter::repeat_n(' ', line.len() - i));
                break;
            }
            '/' if line[i..].starts_with("/*") => {
                let end = line[i + 2..]
                    .find("*/")
                    .map_or(line.len(), |e| i + 2 + e + 2);
                out.extend(std::iter::repeat_n(' ', end - i));
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            '"' | '\'' => {
                let mut end = line.len();
                let mut escaped = false;
                for (j, d) in line[i + 1..].char_indices() {
                    match d {
                        '\\' if !escaped => escaped = true,
                        d if d == c && !escaped => {
                            end = i + 1 + j + 1;
                            break;
                        }
                        _ => escaped = false,
                    }
                }
                out.extend(std::iter::repeat_n(' ', end - i));
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The brace depth change of a line's code.
pub(crate) fn depth_change(line: &str) -> i32 {
    code_only(line)
        .chars()
        .map(|c| match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        })
        .sum()
}

/// Whether `code` starts with the word `word` (not a longer identifier: `format` does not start
/// with `for`).
fn starts_with_word(code: &str, word: &str) -> bool {
    code.strip_prefix(word)
        .is_some_and(|rest| !rest.starts_with(is_ident))
}

/// The code of the nearest line before line `n` that has any (blank and comment lines
/// skipped), trimmed.
fn previous_code(text: &dyn Fn(u32) -> Option<String>, n: u32) -> Option<String> {
    (1..n)
        .rev()
        .filter_map(text)
        .map(|l| code_only(&l).trim().to_string())
        .find(|l| {
            // The inner and last lines of a block comment (` * text`, ` */`) hold no code.
            !l.is_empty()
                && !l.starts_with("* ")
                && !l.starts_with("*/")
                && l != "*"
                && !l.starts_with("/*")
        })
}

/// Whether line `n` begins a statement: the line before it (skipping blank and comment lines)
/// ends one, and it does not continue another (`else`, `}`, a `case` label, a loop header).
/// Code inserted before such a line runs right before it.
pub(crate) fn starts_statement(text: &dyn Fn(u32) -> Option<String>, n: u32) -> bool {
    let Some(line) = text(n) else {
        return false;
    };
    let code = code_only(&line);
    let code = code.trim();
    let starts_ok = !code.is_empty()
        && !code.starts_with('}')
        && !code.starts_with('#')
        && !["for", "while", "do", "else", "case", "default"]
            .iter()
            .any(|k| starts_with_word(code, k));
    let after_statement = previous_code(text, n).is_none_or(|p| {
        p.ends_with(';') || p.ends_with('{') || p.ends_with('}') || p.starts_with('#')
    });
    starts_ok && after_statement
}

/// Whether line `n` is the unbraced body of an `if`, `else` or loop: the line before it ends
/// with `)` or `else` and it does not open a block itself.
pub(crate) fn unbraced_body(text: &dyn Fn(u32) -> Option<String>, n: u32) -> bool {
    let opens = text(n).is_some_and(|l| code_only(&l).trim().starts_with('{'));
    !opens
        && previous_code(text, n).is_some_and(|p| {
            let header = ["if", "while", "for", "} else if", "else if"]
                .iter()
                .any(|k| starts_with_word(&p, k));
            (p.ends_with(')') && header) || p.ends_with("else")
        })
}

/// Whether code put at line `line` must be one block: `Some(true)` when the line is the body
/// of an `if`, `else` or loop without braces ([`unbraced_body`]), `Some(false)` when it
/// follows a statement or opens a block, `None` when the line before it is neither (a
/// statement continued, a macro).
pub(crate) fn needs_block(text: impl Fn(u32) -> Option<String>, line: u32) -> Option<bool> {
    let before = previous_code(&text, line)?;
    if before.ends_with('{')
        || before.ends_with(';')
        || before.ends_with('}')
        || before.starts_with('#')
    {
        Some(false)
    } else if unbraced_body(&text, line) {
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
        let s = code_only(&t);
        let s = s.trim();
        if ["for", "while", "do"]
            .iter()
            .any(|k| starts_with_word(s, k))
        {
            return Some((l, t));
        }
        if depth == 0 || starts_with_word(s, "switch") {
            return None;
        }
    }
    None
}

/// The right-hand side of the last assignment to `name` on the lines `from..to` (its
/// declaration `struct iphdr *ip4 = data + 14;` or a plain `ip4 = ...;`), with its line; only
/// an assignment that ends on its own line.
pub(crate) fn last_assignment(
    text: &dyn Fn(u32) -> Option<String>,
    name: &str,
    from: u32,
    to: u32,
) -> Option<(u32, String)> {
    (from..to).rev().find_map(|n| {
        let code = code_only(&text(n)?);
        let found = code.match_indices(name).find_map(|(i, _)| {
            let before = code[..i].chars().next_back();
            if before.is_some_and(|c| is_ident(c) || c == '.' || c == '>') {
                return None;
            }
            let rest = code[i + name.len()..].trim_start();
            let rhs = rest.strip_prefix('=')?;
            if rhs.starts_with('=') {
                return None;
            }
            let (rhs, _) = rhs.split_once(';')?;
            Some(rhs.trim().to_string())
        })?;
        Some((n, found))
    })
}

/// The last line of the scope of a variable declared on line `decl_line`: where the block that
/// declares it closes (for a parameter, `parameter`, where the function's body closes).
pub(crate) fn scope_end(
    text: &dyn Fn(u32) -> Option<String>,
    decl_line: u32,
    parameter: bool,
) -> Option<u32> {
    let mut depth = 0i32;
    let mut opened = false;
    let mut n = decl_line;
    while let Some(line) = text(n) {
        depth += depth_change(&line);
        opened |= depth > 0;
        if depth < 0 || (parameter && opened && depth == 0) {
            return Some(n);
        }
        n += 1;
    }
    n.checked_sub(1)
}

/// `text` without what `sizeof(...)`, `__typeof__(...)` and `typeof(...)` hold (not evaluated).
pub(crate) fn evaluated(text: &str) -> String {
    let mut out = text.to_string();
    for key in ["sizeof", "__typeof__", "typeof"] {
        while let Some(at) = out
            .find(&format!("{key}("))
            .or_else(|| out.find(&format!("{key} (")))
        {
            let open = at + out[at..].find('(').unwrap_or(0);
            let mut depth = 0;
            let mut close = out.len();
            for (i, c) in out[open..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            close = open + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            out.replace_range(at..close, "0");
        }
    }
    out
}

/// The identifiers an expression uses as values: not field names after `->`/`.`, not names
/// called as functions or macros.
pub(crate) fn identifiers(expr: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut chars = expr.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !(c.is_alphabetic() || c == '_') {
            if c.is_ascii_digit() {
                while chars.peek().is_some_and(|&(_, d)| is_ident(d)) {
                    chars.next();
                }
            }
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if !is_ident(d) {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        let before = expr[..i].trim_end();
        let member = before.ends_with("->") || before.ends_with('.');
        let called = expr[end..].trim_start().starts_with('(');
        if !member && !called {
            found.push((i, expr[i..end].to_string()));
        }
    }
    found
}

/// The lines of `text` by number (1 is the first), as the rewrites read a source file.
#[cfg(test)]
pub(crate) fn numbered(text: &'static str) -> impl Fn(u32) -> Option<String> {
    move |n| {
        text.lines()
            .nth(usize::try_from(n).ok()?.checked_sub(1)?)
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::numbered as source;
    use super::*;

    #[test]
    fn comments_and_literals_are_blanked() {
        assert_eq!(code_only("a = \"{\"; // }"), "a =    ;     ");
        assert_eq!(depth_change("if (x) { /* } */"), 1);
    }

    #[test]
    fn statements_bodies_and_headers_are_told_apart() {
        let text = source(
            "{\n\t/*\n\t */\n\tx = 1;\n\tif (x)\n\t\ty = 2;\n\tformat = 3;\n\tfor (;;) {\n\t} else {\n\tbpf_printk(\"%d\",\n\t\tx);\n",
        );
        // After a block comment.
        assert!(starts_statement(&text, 4));
        assert!(starts_statement(&text, 5));
        assert!(!starts_statement(&text, 6));
        assert!(unbraced_body(&text, 6));
        assert!(starts_statement(&text, 7));
        assert!(!starts_statement(&text, 8));
        assert!(!starts_statement(&text, 9));
        assert!(!starts_statement(&text, 11));
        assert!(!unbraced_body(&text, 11));
    }

    #[test]
    fn an_unbraced_if_body_needs_a_block_and_loops_are_found_by_indentation() {
        let text = source(
            "int f(int n)\n{\n\tint s = 0;\n\tfor (int i = 0; i < n; i++) {\n\t\tif (i > 3)\n\t\t\ts += i;\n\t\ts++;\n\t}\n\tswitch (n) {\n\tcase 1:\n\t\ts--;\n\t}\n\treturn s;\n}\n",
        );
        assert_eq!(needs_block(&text, 6), Some(true));
        assert_eq!(needs_block(&text, 7), Some(false));
        assert_eq!(needs_block(&text, 5), Some(false));
        assert_eq!(enclosing_loop(&text, 6).map(|(l, _)| l), Some(4));
        assert_eq!(enclosing_loop(&text, 7).map(|(l, _)| l), Some(4));
        // A switch is not a loop, and the function's body is no loop either.
        assert_eq!(enclosing_loop(&text, 11), None);
        assert_eq!(enclosing_loop(&text, 13), None);
    }

    #[test]
    fn the_last_assignment_before_a_line_is_found() {
        let text = source(
            "\tstruct iphdr *ip4 = data + ETH_HLEN;\n\tif (ip4 == 0)\n\t\tip4 = data + 2;\n\tx = ip4->ttl;\n",
        );
        assert_eq!(
            last_assignment(&text, "ip4", 1, 4),
            Some((3, "data + 2".to_string()))
        );
        assert_eq!(
            last_assignment(&text, "ip4", 1, 3),
            Some((1, "data + ETH_HLEN".to_string()))
        );
        assert_eq!(last_assignment(&text, "ttl", 1, 4), None);
    }

    #[test]
    fn unevaluated_parts_and_members_are_not_inputs() {
        assert_eq!(
            evaluated("data + sizeof(*eth) + sizeof (struct x)"),
            "data + 0 + 0"
        );
        let ids: Vec<String> = identifiers("(void *)iph + iph->ihl * 4 + f(x) + 0x1fUL")
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        assert_eq!(ids, vec!["void", "iph", "iph", "x"]);
    }
}
