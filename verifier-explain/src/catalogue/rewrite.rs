//! Rewriting the faulting source line into its fixed form: the arguments of the call on it, a
//! size literal replaced by the buffer's `sizeof`, a comparison moved off the packet's end.
//! Each function returns `None` when the line does not have the expected shape, so a class
//! falls back to a fix in words.

use super::source_text::is_ident;

/// The arguments of the first call to `callee` (a name ending the text before `(`) on `line`,
/// with their byte ranges in the line.
fn call_args<'a>(line: &'a str, callee: &str) -> Option<Vec<(&'a str, std::ops::Range<usize>)>> {
    let open = line.find(&format!("{callee}("))? + callee.len();
    let mut args = Vec::new();
    let (mut depth, mut start) = (0i32, open + 1);
    for (i, ch) in line[open..].char_indices().map(|(i, c)| (i + open, c)) {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    args.push((line[start..i].trim(), start..i));
                    return Some(args);
                }
            }
            ',' if depth == 1 => {
                args.push((line[start..i].trim(), start..i));
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

/// The name of the call on `line` whose arguments include `arg` (a helper or kfunc name as
/// the source spells it), searching the identifiers followed by `(`.
fn callee_with_arg<'a>(line: &'a str, arg: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(p) = line[from..].find('(') {
        let at = from + p;
        let name_start = line[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let name = &line[name_start..at];
        if !name.is_empty()
            && call_args(line, name).is_some_and(|args| args.iter().any(|(a, _)| *a == arg))
        {
            return Some(name);
        }
        from = at + 1;
    }
    None
}

/// The buffer argument that goes with the size argument `size` (a literal or a variable) of a
/// call on `line`: the argument right before it (`bpf_skb_load_bytes(skb, off, buf, len)`,
/// `bpf_probe_read_kernel(buf, len, src)`), without a leading `&`.
pub(crate) fn buffer_for_size(line: &str, size: &str) -> Option<String> {
    let callee = callee_with_arg(line, size)?;
    let args = call_args(line, callee)?;
    let at = args.iter().position(|(a, _)| *a == size)?;
    let buf = args.get(at.checked_sub(1)?)?.0;
    let buf = buf.strip_prefix('&').unwrap_or(buf).trim();
    (!buf.is_empty() && !buf.starts_with(|c: char| c.is_ascii_digit())).then(|| buf.to_string())
}

/// `line` with the size argument written as the literal `size` replaced by the `sizeof` of
/// the buffer argument before it: `bpf_skb_load_bytes(skb, 0, hdr, 32)` becomes
/// `bpf_skb_load_bytes(skb, 0, hdr, sizeof(hdr))`.
pub(crate) fn size_literal_to_sizeof(line: &str, size: i64) -> Option<String> {
    let literal = size.to_string();
    let callee = callee_with_arg(line, &literal)?;
    let args = call_args(line, callee)?;
    let at = args.iter().position(|(a, _)| *a == literal)?;
    let buf = buffer_for_size(line, &literal)?;
    let range = args[at].1.clone();
    let lead =
        &line[range.clone()][..line[range.clone()].len() - line[range.clone()].trim_start().len()];
    Some(format!(
        "{}{lead}sizeof({buf}){}",
        &line[..range.start],
        &line[range.end..]
    ))
}

/// `line` with a comparison against `end - n` (arithmetic on the packet's end, which the
/// verifier refuses) turned into one against `end`: `if (data > data_end - sizeof(*eth))`
/// becomes `if (data + sizeof(*eth) > data_end)`.
pub(crate) fn move_arithmetic_off_end(line: &str, end: &str) -> Option<String> {
    let minus = line.find(&format!("{end} - "))?;
    // The subtrahend: up to the first `)` that closes a parenthesis opened before it.
    let b_start = minus + end.len() + 3;
    let mut depth = 0i32;
    let mut b_end = line.len();
    for (i, c) in line[b_start..].char_indices() {
        let rest = &line[b_start + i..];
        if depth == 0 && (rest.starts_with("||") || rest.starts_with("&&") || c == ';') {
            b_end = b_start + i;
            break;
        }
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                b_end = b_start + i;
                break;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    let b_end = b_start + line[b_start..b_end].trim_end().len();
    let subtrahend = line[b_start..b_end].trim();
    // The comparison operator before `end`, and the left side back to the unmatched `(`.
    let before = line[..minus].trim_end();
    let op = [">=", "<=", ">", "<"]
        .into_iter()
        .find(|op| before.ends_with(op))?;
    let lhs_end = before.len() - op.len();
    let mut depth = 0i32;
    let mut a_start = 0;
    for (i, c) in line[..lhs_end].char_indices().rev() {
        if depth == 0 && (line[..=i].ends_with("||") || line[..=i].ends_with("&&")) {
            a_start = i + 1;
            break;
        }
        match c {
            ')' => depth += 1,
            '(' if depth == 0 => {
                a_start = i + 1;
                break;
            }
            '(' => depth -= 1,
            _ => {}
        }
    }
    let lhs = line[a_start..lhs_end].trim();
    if lhs.is_empty() || subtrahend.is_empty() {
        return None;
    }
    Some(format!(
        "{}{lhs} + {subtrahend} {op} {end}{}",
        &line[..a_start],
        &line[b_end..]
    ))
}

/// `line` with the argument `old` of the call on it (an argument written exactly so) replaced
/// by `new`: `bpf_skb_load_bytes(skb, 0, s->head, len)` becomes `..., snap)`.
pub(crate) fn replace_argument(line: &str, old: &str, new: &str) -> Option<String> {
    let callee = callee_with_arg(line, old)?;
    let n = call_args(line, callee)?
        .iter()
        .position(|(a, _)| *a == old)?;
    replace_nth_argument(line, callee, n, new)
}

/// `line` with an atomic add or sub statement (`__sync_fetch_and_add(p, v);`, also
/// `__sync_fetch_and_sub`, `__atomic_fetch_add(p, v, order)`) turned into the plain
/// read-modify-write `*p += v;`. Only a whole statement is rewritten (its result unused).
pub(crate) fn atomic_to_plain(line: &str) -> Option<String> {
    let ops = [
        ("__sync_fetch_and_add", "+="),
        ("__sync_fetch_and_sub", "-="),
        ("__atomic_fetch_add", "+="),
        ("__atomic_fetch_sub", "-="),
        ("__sync_fetch_and_or", "|="),
        ("__sync_fetch_and_and", "&="),
    ];
    let trimmed = line.trim_start();
    let (name, op) = ops
        .iter()
        .find(|(name, _)| trimmed.starts_with(&format!("{name}(")))?;
    let args = call_args(line, name)?;
    let (ptr, value) = (args.first()?.0, args.get(1)?.0);
    let close = args.last()?.1.end;
    let rest = line[close + 1..].trim_start();
    let rest = rest.strip_prefix(';')?;
    let indent = &line[..line.len() - trimmed.len()];
    Some(format!("{indent}*{ptr} {op} {value};{rest}"))
}

/// `line` with the decimal number `n` (a whole token, not part of a longer number or name)
/// replaced by `with`: `if (len < 1 || len > 64)` becomes `if (len < 1 || len > sizeof(buf))`.
pub(crate) fn replace_number(line: &str, n: u64, with: &str) -> Option<String> {
    let token = n.to_string();
    let mut from = 0;
    while let Some(p) = line[from..].find(&token) {
        let at = from + p;
        let end = at + token.len();
        let before = line[..at].chars().next_back();
        let after = line[end..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return Some(format!("{}{with}{}", &line[..at], &line[end..]));
        }
        from = end;
    }
    None
}

/// Where the one `return ...;` statement of `line` is, outside any `//` comment: the byte
/// range from `return` to its `;`. `None` unless the line has exactly one `return`.
fn return_span(line: &str) -> Option<std::ops::Range<usize>> {
    let code = line.split("//").next().unwrap_or(line);
    let mut returns = code.match_indices("return").filter(|&(at, _)| {
        code[..at].chars().next_back().is_none_or(|c| !is_ident(c))
            && code[at + 6..].chars().next().is_none_or(|c| !is_ident(c))
    });
    let (start, _) = returns.next()?;
    if returns.next().is_some() {
        return None;
    }
    let mut depth = 0i32;
    for (i, ch) in code[start..].char_indices() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ';' if depth == 0 => return Some(start..start + i + 1),
            _ => {}
        }
    }
    None
}

/// The `return ...;` statement on `line` (its comment left out) preceded by `stmt` in a block,
/// as code that replaces the line: a line that is only the return becomes
/// `{\n\tstmt\n\treturn x;\n}`, a return after other code on the line (`if (!ok) return 0;`)
/// becomes `{ stmt return x; }` in place. Returns the return statement and the code (without
/// the line's indentation), or `None` unless the line has exactly one `return`.
pub(crate) fn block_before_return(line: &str, stmt: &str) -> Option<(String, String)> {
    let span = return_span(line)?;
    let code = line.split("//").next().unwrap_or(line);
    let ret = code[span.clone()].to_string();
    let (before, after) = (&code[..span.start], &code[span.end..]);
    let out = if before.trim().is_empty() && after.trim().is_empty() {
        let body: Vec<String> = stmt.lines().map(|l| format!("\t{l}")).collect();
        format!("{{\n{}\n\t{ret}\n}}", body.join("\n"))
    } else {
        let stmt = stmt.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        format!("{before}{{ {stmt} {ret} }}{}", after.trim_end())
            .trim_start()
            .to_string()
    };
    Some((ret, out))
}

/// The expression the one `return` of `line` returns (`123` in `return 123; // x`).
pub(crate) fn returned_expression(line: &str) -> Option<String> {
    let span = return_span(line)?;
    let expr = line[span.start + 6..span.end - 1].trim();
    (!expr.is_empty()).then(|| expr.to_string())
}

/// `line` with the expression its one `return` returns replaced by `new`, the rest of the line
/// (its comment) kept: `return 123; // x` becomes `return 1; // x`.
pub(crate) fn replace_returned_expression(line: &str, new: &str) -> Option<String> {
    let span = return_span(line)?;
    Some(format!(
        "{}return {new};{}",
        &line[..span.start],
        &line[span.end..]
    ))
}

/// `line` with the value assigned to `var` (`var = x;` or a declaration `int var = x;`)
/// replaced by `new`: `verdict = -EPERM;` becomes `verdict = 0;`. `None` unless the line
/// assigns `var` exactly once with a plain `=`.
pub(crate) fn replace_assigned_value(line: &str, var: &str, new: &str) -> Option<String> {
    let code = line.split("//").next().unwrap_or(line);
    let mut found = code.match_indices(var).filter(|&(at, _)| {
        let rest = code[at + var.len()..].trim_start();
        code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c) && c != '.' && c != '>')
            && code[at + var.len()..]
                .chars()
                .next()
                .is_none_or(|c| !is_ident(c))
            && rest.starts_with('=')
            && !rest.starts_with("==")
    });
    let (at, _) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    let eq = at + var.len() + code[at + var.len()..].find('=')?;
    let semi = eq + code[eq..].find(';')?;
    Some(format!("{} {new}{}", &line[..=eq], &line[semi..]))
}

/// The argument at position `n` (0-based) of the first call to `callee` on `line`, as
/// written (trimmed).
pub(crate) fn nth_argument(line: &str, callee: &str, n: usize) -> Option<String> {
    let args = call_args(line, callee)?;
    let (arg, _) = args.get(n)?;
    (!arg.is_empty()).then(|| arg.to_string())
}

/// `line` with the argument at position `n` (0-based) of the first call to `callee` replaced
/// by `new`: `bpf_map_update_elem(&m, sk, &v, 0)` with n = 1 and `&sk` becomes
/// `bpf_map_update_elem(&m, &sk, &v, 0)`.
pub(crate) fn replace_nth_argument(
    line: &str,
    callee: &str,
    n: usize,
    new: &str,
) -> Option<String> {
    let args = call_args(line, callee)?;
    let (_, range) = args.get(n)?.clone();
    let text = &line[range.clone()];
    let lead = &text[..text.len() - text.trim_start().len()];
    Some(format!(
        "{}{lead}{new}{}",
        &line[..range.start],
        &line[range.end..]
    ))
}

/// The declaration `line` with the declarator of `name` given the initialiser `init`:
/// `__u64 arg1;` becomes `__u64 arg1 = 0;`, `char buf[16], *p;` becomes
/// `char buf[16] = {}, *p;`. `None` when `name` is not declared there without an initialiser.
pub(crate) fn initialise_declarator(line: &str, name: &str, init: &str) -> Option<String> {
    let code_end = line.find("//").unwrap_or(line.len());
    let (at, _) = line[..code_end].match_indices(name).find(|(at, _)| {
        !line[..*at].chars().next_back().is_some_and(is_ident)
            && !line[at + name.len()..].chars().next().is_some_and(is_ident)
    })?;
    // A declaration: a type before the name, nothing but array dimensions after it.
    let before = line[..at].trim_end();
    if before.is_empty()
        || before.ends_with([';', '(', '=', '{', '}'])
        || before.ends_with("return")
    {
        return None;
    }
    let mut end = at + name.len();
    while line[end..].trim_start().starts_with('[') {
        let open = end + line[end..].find('[')?;
        end = open + line[open..].find(']')? + 1;
    }
    let rest = line[end..].trim_start();
    if !(rest.starts_with(';') || rest.starts_with(',')) {
        return None;
    }
    Some(format!("{} = {init}{}", &line[..end], &line[end..]))
}

/// The arguments of the first call to `callee` on `line`, as written (trimmed).
pub(crate) fn call_arguments(line: &str, callee: &str) -> Option<Vec<String>> {
    Some(
        call_args(line, callee)?
            .into_iter()
            .map(|(a, _)| a.to_string())
            .collect(),
    )
}

/// `line` with its call to `from` made a call to `to`, its arguments rearranged by `args`
/// (`None` when they do not fit): `return bpf_redirect_peer(39, 0);` becomes
/// `return bpf_redirect(39, 0);`. The callee must be a whole name (not the end of a longer one).
pub(crate) fn rewrite_call(
    line: &str,
    from: &str,
    to: &str,
    args: fn(&[&str]) -> Option<Vec<String>>,
) -> Option<String> {
    let start = line.find(&format!("{from}("))?;
    if line[..start]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
    {
        return None;
    }
    let old = call_args(line, from)?;
    let end = old.last()?.1.end + 1;
    let old: Vec<&str> = old.iter().map(|(a, _)| *a).collect();
    let old: Vec<&str> = if old == [""] { Vec::new() } else { old };
    let new = args(&old)?;
    Some(format!(
        "{}{to}({}){}",
        &line[..start],
        new.join(", "),
        &line[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_literal_becomes_the_buffers_sizeof() {
        assert_eq!(
            size_literal_to_sizeof("\tif (bpf_skb_load_bytes(skb, 0, hdr, 32) < 0)", 32).as_deref(),
            Some("\tif (bpf_skb_load_bytes(skb, 0, hdr, sizeof(hdr)) < 0)")
        );
        assert_eq!(
            size_literal_to_sizeof("bpf_probe_read_kernel(&buf, 64, src);", 64).as_deref(),
            Some("bpf_probe_read_kernel(&buf, sizeof(buf), src);")
        );
        assert_eq!(size_literal_to_sizeof("x = 32;", 32), None);
    }

    #[test]
    fn the_buffer_is_the_argument_before_the_size() {
        assert_eq!(
            buffer_for_size("bpf_skb_load_bytes(skb, 0, s->head, len);", "len").as_deref(),
            Some("s->head")
        );
        assert_eq!(buffer_for_size("f(len);", "len"), None);
    }

    #[test]
    fn an_atomic_add_becomes_a_plain_one() {
        assert_eq!(
            atomic_to_plain("\t__sync_fetch_and_add(seq, 1); // note").as_deref(),
            Some("\t*seq += 1; // note")
        );
        assert_eq!(atomic_to_plain("old = __sync_fetch_and_add(seq, 1);"), None);
    }

    #[test]
    fn a_call_argument_is_replaced_by_another() {
        assert_eq!(
            replace_argument("\tbpf_skb_load_bytes(skb, 0, s->head, len);", "len", "snap")
                .as_deref(),
            Some("\tbpf_skb_load_bytes(skb, 0, s->head, snap);")
        );
        assert_eq!(replace_argument("x = len;", "len", "snap"), None);
    }

    #[test]
    fn a_bound_is_replaced_as_a_whole_number() {
        assert_eq!(
            replace_number("if (len < 1 || len > 64)", 64, "sizeof(s->head)").as_deref(),
            Some("if (len < 1 || len > sizeof(s->head))")
        );
        assert_eq!(replace_number("if (x > 640 || y_64)", 64, "z"), None);
    }

    #[test]
    fn comparisons_move_off_the_packet_end() {
        assert_eq!(
            move_arithmetic_off_end("\tif (data > data_end - sizeof(*eth))", "data_end").as_deref(),
            Some("\tif (data + sizeof(*eth) > data_end)")
        );
        assert_eq!(
            move_arithmetic_off_end("if ((void *)p >= end - 4 || x)", "end").as_deref(),
            Some("if ((void *)p + 4 >= end || x)")
        );
        assert_eq!(
            move_arithmetic_off_end("n = data_end - data;", "data_end"),
            None
        );
    }

    #[test]
    fn a_return_gets_a_statement_before_it_in_a_block() {
        let (ret, code) =
            block_before_return("\t\treturn 0; // <- leak", "bpf_ringbuf_discard(e, 0);").unwrap();
        assert_eq!(ret, "return 0;");
        assert_eq!(code, "{\n\tbpf_ringbuf_discard(e, 0);\n\treturn 0;\n}");
        let (_, code) = block_before_return(
            "\tif (!ok) return f(a, b);",
            "if (sk)\n\tbpf_sk_release(sk);",
        )
        .unwrap();
        assert_eq!(
            code,
            "if (!ok) { if (sk) bpf_sk_release(sk); return f(a, b); }"
        );
        assert_eq!(block_before_return("x = returned;", "f();"), None);
        assert_eq!(
            block_before_return("if (a) return 1; else return 2;", "f();"),
            None
        );
    }

    #[test]
    fn a_returned_or_assigned_value_is_replaced() {
        assert_eq!(
            returned_expression("\treturn 123; // x").as_deref(),
            Some("123")
        );
        assert_eq!(
            replace_returned_expression("\treturn 123; // <- here", "1").as_deref(),
            Some("\treturn 1; // <- here")
        );
        assert_eq!(returned_expression("\treturn;"), None);
        assert_eq!(
            replace_assigned_value("\t\tverdict = -EPERM;", "verdict", "0").as_deref(),
            Some("\t\tverdict = 0;")
        );
        assert_eq!(
            replace_assigned_value("\tint rc = f(x); // y", "rc", "1").as_deref(),
            Some("\tint rc = 1; // y")
        );
        assert_eq!(replace_assigned_value("if (rc == 2)", "rc", "1"), None);
        assert_eq!(replace_assigned_value("s->rc = 2;", "rc", "1"), None);
    }

    #[test]
    fn an_argument_is_found_and_replaced_by_position() {
        let line = "\tbpf_perf_event_output(ctx, &events, 0, ctx, sizeof(*ctx)); // x";
        assert_eq!(
            nth_argument(line, "bpf_perf_event_output", 3).as_deref(),
            Some("ctx")
        );
        assert_eq!(
            replace_nth_argument(line, "bpf_perf_event_output", 3, "&copy").as_deref(),
            Some("\tbpf_perf_event_output(ctx, &events, 0, &copy, sizeof(*ctx)); // x")
        );
        assert_eq!(nth_argument(line, "bpf_perf_event_output", 5), None);
        assert_eq!(
            replace_nth_argument(line, "bpf_get_stackid", 0, "ctx"),
            None
        );
    }

    #[test]
    fn a_declarator_gets_an_initialiser() {
        assert_eq!(
            initialise_declarator("\t__u64 arg1;", "arg1", "0").as_deref(),
            Some("\t__u64 arg1 = 0;")
        );
        assert_eq!(
            initialise_declarator("char buf[16], *p; // note", "buf", "{}").as_deref(),
            Some("char buf[16] = {}, *p; // note")
        );
        assert_eq!(
            initialise_declarator("struct a *x, *p;", "p", "0").as_deref(),
            Some("struct a *x, *p = 0;")
        );
        assert_eq!(initialise_declarator("__u64 arg1 = 5;", "arg1", "0"), None);
        assert_eq!(initialise_declarator("arg1 = 5;", "arg1", "0"), None);
        assert_eq!(initialise_declarator("f(arg1);", "arg1", "0"), None);
    }
}

/// The end (byte index) of the postfix expression that starts at `from` in `line`: the member
/// accesses (`.x`, `->x`) and indexes (`[i]`) that follow, as far as they go.
fn postfix_end(line: &str, mut from: usize) -> usize {
    loop {
        let rest = &line[from..];
        let member = if rest.starts_with("->") {
            2
        } else if rest.starts_with('.') {
            1
        } else {
            0
        };
        if member > 0 {
            let name = rest[member..]
                .find(|ch: char| !is_ident(ch))
                .unwrap_or(rest.len() - member);
            if name == 0 {
                return from;
            }
            from += member + name;
        } else if rest.starts_with('[') {
            let mut depth = 0i32;
            let Some(close) = rest.char_indices().find_map(|(i, ch)| {
                match ch {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            }) else {
                return from;
            };
            from += close + 1;
        } else {
            return from;
        }
    }
}

/// Whether `text` ends with a cast to a pointer type (`(const void *)`): a `*` after it
/// dereferences rather than multiplies.
fn ends_with_pointer_cast(text: &str) -> bool {
    let Some(inner) = text.strip_suffix(')') else {
        return false;
    };
    let mut depth = 0i32;
    let open = inner.char_indices().rev().find_map(|(i, ch)| {
        match ch {
            ')' => depth += 1,
            '(' if depth == 0 => return Some(i),
            '(' => depth -= 1,
            _ => {}
        }
        None
    });
    open.is_some_and(|i| {
        let cast = inner[i + 1..].trim();
        cast.ends_with('*')
            && cast
                .chars()
                .all(|ch| is_ident(ch) || ch == '*' || ch == ' ')
    })
}

/// The reads of memory through the pointer `ptr` on `line`, each the whole expression as
/// written with its byte range: `ptr->field` with the members and indexes after it
/// (`sk->src_ip6[3]`), `ptr[i]`, and `*ptr` when `deref` is set. Assignments to them
/// (`ptr->f = v`, `+=`, `++`) and addresses taken of them (`&ptr->f`) are not reads.
pub(crate) fn pointer_reads(
    line: &str,
    ptr: &str,
    deref: bool,
) -> Vec<(String, std::ops::Range<usize>)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(p) = line[from..].find(ptr) {
        let at = from + p;
        from = at + ptr.len();
        let before = line[..at].trim_end();
        let after = &line[at + ptr.len()..];
        let bounded = !line[..at].ends_with(is_ident)
            && !after.starts_with(is_ident)
            && !line[..at].ends_with('.')
            && !line[..at].ends_with("->");
        if !bounded {
            continue;
        }
        // `*ptr`: a dereference when the `*` is no multiplication (nothing that ends an
        // operand before it).
        let star = deref && before.ends_with('*') && {
            let operand = before[..before.len() - 1].trim_end();
            let word = &operand[operand.rfind(|ch: char| !is_ident(ch)).map_or(0, |i| i + 1)..];
            ["return", "case", "else", "do"].contains(&word)
                || ends_with_pointer_cast(operand)
                || !operand.ends_with(|ch: char| is_ident(ch) || ch == ')' || ch == ']')
        };
        let (start, end) = if after.starts_with("->") || after.starts_with('[') {
            (at, postfix_end(line, at + ptr.len()))
        } else if star {
            (before.len() - 1, at + ptr.len())
        } else {
            continue;
        };
        let ahead = line[end..].trim_start();
        let written = (ahead.starts_with('=') && !ahead.starts_with("=="))
            || ["++", "--", "<<=", ">>="]
                .iter()
                .any(|op| ahead.starts_with(op))
            || (ahead.len() > 1 && "+-*/%&|^".contains(&ahead[..1]) && ahead[1..].starts_with('='));
        let prefix = line[..start].trim_end();
        let addressed = (prefix.ends_with('&') && !prefix.ends_with("&&"))
            || prefix.ends_with("++")
            || prefix.ends_with("--");
        if !written && !addressed {
            found.push((line[start..end].to_string(), start..end));
        }
    }
    found
}

/// The one read among `reads` that the column `column` (1-based, 0 when unknown) falls in, or
/// the only one when there is one (or all are the same expression).
pub(crate) fn read_at_column(
    reads: &[(String, std::ops::Range<usize>)],
    column: u32,
) -> Option<&(String, std::ops::Range<usize>)> {
    let col = usize::try_from(column).ok()?.checked_sub(1);
    col.and_then(|c| reads.iter().find(|(_, r)| r.contains(&c)))
        .or_else(|| {
            let first = reads.first()?;
            reads.iter().all(|(e, _)| *e == first.0).then_some(first)
        })
}

/// `line` with the bytes in `range` replaced by `new`.
pub(crate) fn splice(line: &str, range: std::ops::Range<usize>, new: &str) -> String {
    format!("{}{new}{}", &line[..range.start], &line[range.end..])
}

/// A GNU statement expression (clang accepts it with `-Wall -Werror`) whose value is the read
/// `expr` (`ctx->rbp`, `*reg`) copied with bpf_probe_read_kernel() into the local `local`: for
/// memory the verifier lets a program read only through that helper.
///
/// The local's type is `ty` when given (the pointee type without its qualifiers: a `const`
/// local could not be written by the helper), else `__typeof__(expr)`.
pub(crate) fn probe_read_expr(expr: &str, local: &str, ty: Option<&str>) -> String {
    let addr = match expr.strip_prefix('*') {
        Some(ptr) => ptr.trim().to_string(),
        None => format!("&{expr}"),
    };
    let ty = ty.map_or_else(|| format!("__typeof__({expr})"), str::to_string);
    format!(
        "({{ {ty} {local}; bpf_probe_read_kernel(&{local}, sizeof({local}), {addr}); {local}; }})"
    )
}

/// The type a pointer of C type `ty` points to, without `const` or `volatile`
/// (`const unsigned long *` -> `unsigned long`), when `ty` is a plain pointer type.
pub(crate) fn unqualified_pointee(ty: &str) -> Option<String> {
    let pointee = ty.trim().strip_suffix('*')?;
    if pointee.contains(['(', '[']) {
        return None;
    }
    let words: Vec<&str> = pointee
        .split_whitespace()
        .filter(|w| *w != "const" && *w != "volatile")
        .collect();
    (!words.is_empty()).then(|| words.join(" ").replace(" *", "*").replace('*', " *"))
}

/// A GNU statement expression whose value is the read `expr`, made in a local that
/// barrier_var() (bpf_helpers.h) pins: the compiler must do this read here, as written, and
/// cannot merge it with a read of another field on another branch. Without `helpers` (the
/// source has no bpf_helpers.h), the barrier is written out as the empty asm it stands for.
pub(crate) fn barrier_read_expr(expr: &str, local: &str, helpers: bool) -> String {
    let barrier = if helpers {
        format!("barrier_var({local})")
    } else {
        format!("asm volatile(\"\" : \"+r\"({local}))")
    };
    format!("({{ __typeof__({expr}) {local} = {expr}; {barrier}; {local}; }})")
}

/// `line`'s memory copy (`__builtin_memcpy(dst, src, n)`, or `memcpy`) whose source mentions
/// the pointer `ptr`, rewritten as the helper copy `bpf_probe_read_kernel(dst, n, src)`.
pub(crate) fn memcpy_to_probe_read(line: &str, ptr: &str) -> Option<String> {
    let callee = ["__builtin_memcpy", "memcpy"].into_iter().find(|c| {
        line.match_indices(&format!("{c}("))
            .any(|(i, _)| !line[..i].ends_with(is_ident))
    })?;
    let args = call_args(line, callee)?;
    let [(dst, _), (src, _), (n, last)] = args.as_slice() else {
        return None;
    };
    let mentions = src
        .match_indices(ptr)
        .any(|(i, _)| !src[..i].ends_with(is_ident) && !src[i + ptr.len()..].starts_with(is_ident));
    if !mentions {
        return None;
    }
    let start = line.find(&format!("{callee}("))?;
    Some(format!(
        "{}bpf_probe_read_kernel({dst}, {n}, {src}){}",
        &line[..start],
        &line[last.end + 1..]
    ))
}

#[cfg(test)]
mod context_read_tests {
    use super::*;

    #[test]
    fn reads_through_a_pointer_are_found_with_their_whole_expression() {
        let line = "\t__u32 addr = sk->src_ip6[3] + sk->family; // x";
        let reads: Vec<String> = pointer_reads(line, "sk", false)
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        assert_eq!(reads, ["sk->src_ip6[3]", "sk->family"]);
        assert_eq!(
            pointer_reads("\treturn *reg; // <- here", "reg", true)[0].0,
            "*reg"
        );
        // Writes, addresses and other names are no reads; a product is no dereference.
        assert!(
            pointer_reads(
                "sk->mark = 1; p = &sk->x; n = a * reg; task->x",
                "sk",
                false
            )
            .is_empty()
        );
        assert!(pointer_reads("n = a * reg;", "reg", true).is_empty());
        assert_eq!(pointer_reads("return *reg;", "reg", true)[0].0, "*reg");
        assert_eq!(
            pointer_reads("f((const void *)*reg);", "reg", true)[0].0,
            "*reg"
        );
        assert!(pointer_reads("n = (a + b) * reg;", "reg", true).is_empty());
        assert!(pointer_reads("ctx->len += 1;", "ctx", false).is_empty());
        assert!(pointer_reads("if (ctx->len == 1)", "ctx", false).len() == 1);
    }

    #[test]
    fn the_read_under_the_column_is_chosen() {
        let line = "x = ctx->a + ctx->b;";
        let reads = pointer_reads(line, "ctx", false);
        assert_eq!(
            read_at_column(&reads, 14).map(|r| r.0.as_str()),
            Some("ctx->b")
        );
        assert_eq!(read_at_column(&reads, 0), None);
        let one = pointer_reads("x = ctx->a;", "ctx", false);
        assert_eq!(
            read_at_column(&one, 0).map(|r| r.0.as_str()),
            Some("ctx->a")
        );
    }

    #[test]
    fn reads_become_statement_expressions() {
        assert_eq!(
            probe_read_expr("*reg", "reg_val", None),
            "({ __typeof__(*reg) reg_val; bpf_probe_read_kernel(&reg_val, sizeof(reg_val), reg); reg_val; })"
        );
        assert_eq!(
            probe_read_expr("args->common_pid", "common_pid_val", None),
            "({ __typeof__(args->common_pid) common_pid_val; bpf_probe_read_kernel(&common_pid_val, sizeof(common_pid_val), &args->common_pid); common_pid_val; })"
        );
        assert_eq!(
            barrier_read_expr("ctx->rbp", "rbp_val", true),
            "({ __typeof__(ctx->rbp) rbp_val = ctx->rbp; barrier_var(rbp_val); rbp_val; })"
        );
        assert_eq!(
            barrier_read_expr("ctx->rbp", "v", false),
            "({ __typeof__(ctx->rbp) v = ctx->rbp; asm volatile(\"\" : \"+r\"(v)); v; })"
        );
        assert_eq!(
            probe_read_expr("*arg", "arg_val", Some("unsigned long")),
            "({ unsigned long arg_val; bpf_probe_read_kernel(&arg_val, sizeof(arg_val), arg); arg_val; })"
        );
        assert_eq!(
            unqualified_pointee("const unsigned long *").as_deref(),
            Some("unsigned long")
        );
        assert_eq!(
            unqualified_pointee("const struct sock * const *").as_deref(),
            Some("struct sock *")
        );
        assert_eq!(unqualified_pointee("int"), None);
        let line = "\tx = ctx->a;";
        let (_, r) = &pointer_reads(line, "ctx", false)[0];
        assert_eq!(splice(line, r.clone(), "v"), "\tx = v;");
    }

    #[test]
    fn a_memcpy_from_the_context_becomes_a_helper_copy() {
        assert_eq!(
            memcpy_to_probe_read(
                "\t\t__builtin_memcpy(&d.daddr, args->daddr_v6 + 12, sizeof(d.daddr)); // x",
                "args"
            )
            .as_deref(),
            Some("\t\tbpf_probe_read_kernel(&d.daddr, sizeof(d.daddr), args->daddr_v6 + 12); // x")
        );
        assert_eq!(
            memcpy_to_probe_read("memcpy(buf, ctx, 8);", "ctx").as_deref(),
            Some("bpf_probe_read_kernel(buf, 8, ctx);")
        );
        assert_eq!(memcpy_to_probe_read("memcpy(buf, other, 8);", "ctx"), None);
        assert_eq!(memcpy_to_probe_read("x = ctx->a;", "ctx"), None);
    }

    #[test]
    fn a_call_is_renamed_with_its_arguments_rearranged() {
        fn same(a: &[&str]) -> Option<Vec<String>> {
            Some(a.iter().map(|s| s.to_string()).collect())
        }
        assert_eq!(
            rewrite_call(
                "\treturn bpf_redirect_peer(39, 0); // x",
                "bpf_redirect_peer",
                "bpf_redirect",
                same
            )
            .as_deref(),
            Some("\treturn bpf_redirect(39, 0); // x")
        );
        assert_eq!(
            rewrite_call(
                "my_bpf_redirect_peer(1, 0);",
                "bpf_redirect_peer",
                "bpf_redirect",
                same
            ),
            None
        );
        assert_eq!(
            call_arguments("bpf_probe_read(&eth, sizeof(eth), data);", "bpf_probe_read"),
            Some(vec!["&eth".into(), "sizeof(eth)".into(), "data".into()])
        );
    }
}
