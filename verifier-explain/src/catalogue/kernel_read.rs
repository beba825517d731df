//! Reading kernel memory that a program holds as a plain number (an address a helper returned,
//! a pointer read from a map or from the context): every read `p->a.b` (or `p->a->b`) through
//! the pointer in its scope is rewritten into `BPF_CORE_READ(p, a.b)` when the program includes
//! `bpf_core_read.h`, else into a copy through bpf_probe_read_kernel(). A loop that walks a
//! chain of such pointers (`p = p->parent`) is given a constant bound, since the verifier cannot
//! see a chain read from kernel memory end. Each function returns `None` when the source does
//! not have a shape it knows (a write through the pointer, an index after the field), so the
//! class falls back to a fix in words.

use super::source_text::{
    code_only, depth_change, includes_header, is_ident, scope_end, starts_statement,
};
use std::collections::HashSet;
use std::ops::Range;

/// The most steps a loop that walks a chain of kernel pointers is given.
pub(crate) const CHAIN_BOUND: u32 = 64;

/// Where the pointer variable is declared.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope {
    /// Its declaration's line.
    pub decl_line: u32,
    /// Whether it is a parameter of the function (its scope is the whole body).
    pub parameter: bool,
}

/// The rewrite of every read through the pointer: one replacement per source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KernelReads {
    /// The first read on the faulting line as the source writes it (`tp->bytes_received`).
    pub first: String,
    /// The code replacing each line that reads through the pointer (the faulting line among
    /// them), by line.
    pub lines: Vec<(u32, String)>,
    /// The line of a loop that walks the pointer's chain and was given a bound.
    pub bounded_loop: Option<u32>,
}

/// One read through the pointer on a line: its byte range and its hops (`a.b` and `c` in
/// `p->a.b->c`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Site {
    range: Range<usize>,
    hops: Vec<String>,
}

/// The reads through `ptr` on `line`, or `None` when the line writes through it, indexes a
/// field or takes the address of a field further than one hop away.
fn sites(line: &str, ptr: &str) -> Option<Vec<Site>> {
    let code = code_only(line);
    let arrow = format!("{ptr}->");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(p) = code[from..].find(&arrow) {
        let at = from + p;
        from = at + arrow.len();
        let before = code[..at].trim_end();
        let prev = code[..at].chars().next_back();
        if prev.is_some_and(|c| is_ident(c) || c == '.')
            || code[..at].ends_with("->")
            || before.ends_with("->")
        {
            continue;
        }
        let mut hops = Vec::new();
        let mut end = at + ptr.len();
        while code[end..].starts_with("->") {
            let rest = &code[end + 2..];
            let len = rest
                .find(|c: char| !(is_ident(c) || c == '.'))
                .unwrap_or(rest.len());
            let hop = rest[..len].trim_end_matches('.');
            if hop.is_empty() || hop.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            hops.push(hop.to_string());
            end += 2 + hop.len();
        }
        let after = code[end..].trim_start();
        // An index, a call through the field or a write: not a plain read.
        let writes = (after.starts_with('=') && !after.starts_with("=="))
            || [
                "++", "--", "+=", "-=", "*=", "/=", "|=", "&=", "^=", "<<=", ">>=", "%=",
            ]
            .iter()
            .any(|op| after.starts_with(op))
            || before.ends_with("++")
            || before.ends_with("--");
        if writes || after.starts_with('[') || after.starts_with('(') {
            return None;
        }
        // Not evaluated (sizeof, typeof) or an address: nothing is read.
        let unevaluated = ["sizeof(", "typeof(", "__typeof__(", "__typeof("]
            .iter()
            .any(|k| before.ends_with(k));
        if unevaluated {
            continue;
        }
        if before.ends_with('&') && !before.ends_with("&&") {
            if hops.len() == 1 {
                continue;
            }
            return None;
        }
        found.push(Site {
            range: at..end,
            hops,
        });
    }
    Some(found)
}

/// A field path as part of a C identifier (`__sk_common.skc_family` -> `skc_family`).
fn last_field(hop: &str) -> &str {
    hop.rsplit('.').next().unwrap_or(hop)
}

/// `name`, or `name_2`, `name_3`... whichever is not used yet (and mark it used).
fn fresh(used: &mut HashSet<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

/// The expression that reads `site` through bpf_probe_read_kernel(), one statement expression
/// per hop: `({ __typeof__(p->a) p_a; bpf_probe_read_kernel(&p_a, sizeof(p_a), &p->a); p_a; })`.
fn probe_read_expr(ptr: &str, site: &Site) -> String {
    let (mut base, mut typed) = (ptr.to_string(), ptr.to_string());
    for hop in &site.hops {
        typed = format!("{typed}->{hop}");
        let local = format!("{ptr}_{}", last_field(hop));
        let addr = if base == ptr {
            format!("&{base}->{hop}")
        } else {
            format!("&({base})->{hop}")
        };
        base = format!(
            "({{ __typeof__({typed}) {local}; bpf_probe_read_kernel(&{local}, sizeof({local}), {addr}); {local}; }})"
        );
    }
    base
}

/// How a rewritten read copies the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader<'a> {
    /// `BPF_CORE_READ(p, a, b)` (the program includes bpf_core_read.h).
    Core,
    /// bpf_probe_read_kernel() into a copy on the stack.
    ProbeKernel,
    /// bpf_skb_load_bytes() of the whole header from the packet of the context `ctx` into a
    /// copy on the stack (a field may be a bit-field, which has no address), the field then
    /// read from the copy: the pointer's value, as a number, is the packet offset of what it
    /// points to (a bcc-style cursor that starts at 0). A failed load returns `fail` (a copy
    /// made inside an expression is left as the helper leaves it on failure: zeroed).
    SkbLoad {
        /// The context parameter's name.
        ctx: &'a str,
        /// What the program returns when the packet is too short.
        fail: &'a str,
    },
}

/// The expression that reads `site` (through `ptr`) inside an expression: a statement
/// expression per hop, `({ __typeof__(p->a) p_a; bpf_probe_read_kernel(&p_a, sizeof(p_a),
/// &p->a); p_a; })`. `None` for a packet read of more than one hop (the packet holds no
/// pointers).
fn read_expr(ptr: &str, site: &Site, reader: Reader<'_>) -> Option<String> {
    match reader {
        Reader::Core => Some(format!("BPF_CORE_READ({ptr}, {})", site.hops.join(", "))),
        Reader::ProbeKernel => Some(probe_read_expr(ptr, site)),
        Reader::SkbLoad { ctx, .. } => {
            let [hop] = site.hops.as_slice() else {
                return None;
            };
            let local = format!("{ptr}_copy");
            Some(format!(
                "({{ __typeof__(*{ptr}) {local}; bpf_skb_load_bytes({ctx}, (long){ptr}, &{local}, sizeof({local})); {local}; }}).{hop}"
            ))
        }
    }
}

/// The statements that copy what `site` reads through `ptr` into new locals before a
/// statement, one local per hop (`p->a->b`: `p_a`, then `p_b` read through `p_a`), and the
/// last local.
fn copy_into(ptr: &str, site: &Site, used: &mut HashSet<String>) -> (String, String) {
    let (mut base, mut typed) = (ptr.to_string(), ptr.to_string());
    let mut code = Vec::new();
    for hop in &site.hops {
        typed = format!("{typed}->{hop}");
        let local = fresh(used, format!("{ptr}_{}", last_field(hop)));
        code.push(format!(
            "__typeof__({typed}) {local};\nbpf_probe_read_kernel(&{local}, sizeof({local}), &{base}->{hop});"
        ));
        base = local;
    }
    (code.join("\n"), base)
}

/// The statements that copy the header `ptr` stands for out of the packet of `ctx` into the
/// new local `local` before a statement.
fn copy_header(ptr: &str, local: &str, ctx: &str, fail: &str) -> String {
    format!(
        "__typeof__(*{ptr}) {local};\nif (bpf_skb_load_bytes({ctx}, (long){ptr}, &{local}, sizeof({local})) < 0)\n\treturn {fail};"
    )
}

/// `line` with every read through one of `ptrs` rewritten, or `None` when it has none or one
/// the rewrite does not know. `statement` says whether the line begins a statement, where
/// declarations may go before it (a single-hop read then becomes a local copied before it).
fn rewrite_line(
    line: &str,
    ptrs: &[&str],
    reader: Reader<'_>,
    statement: bool,
    used: &mut HashSet<String>,
) -> Option<Option<String>> {
    let mut found = Vec::new();
    for ptr in ptrs {
        found.extend(sites(line, ptr)?.into_iter().map(|s| (*ptr, s)));
    }
    if found.is_empty() {
        return Some(None);
    }
    found.sort_by_key(|(_, s)| s.range.start);
    let mut text = line.trim_start().to_string();
    let shift = line.len() - text.len();
    let mut before = Vec::new();
    let locals = match reader {
        Reader::Core => false,
        Reader::ProbeKernel => statement,
        Reader::SkbLoad { .. } => statement && found.iter().all(|(_, s)| s.hops.len() == 1),
    };
    // A packet header is copied once per line, before the reads of its fields.
    let mut headers: Vec<(&str, String)> = Vec::new();
    if let (true, Reader::SkbLoad { ctx, fail }) = (locals, reader) {
        for (ptr, _) in &found {
            if headers.iter().all(|(p, _)| p != ptr) {
                let local = fresh(used, format!("{ptr}_copy"));
                headers.push((ptr, local));
            }
        }
        for (ptr, local) in &headers {
            before.push(copy_header(ptr, local, ctx, fail));
        }
    }
    // Names are given in the line's order; the text is changed from its end.
    let mut replacements = Vec::new();
    for (ptr, site) in &found {
        let range = site.range.start - shift..site.range.end - shift;
        let header = headers.iter().find(|(p, _)| p == ptr);
        let new = match header {
            Some((_, local)) => format!("{local}.{}", site.hops[0]),
            None if locals => {
                let (code, local) = copy_into(ptr, site, used);
                before.push(code);
                local
            }
            None => read_expr(ptr, site, reader)?,
        };
        replacements.push((range, new));
    }
    for (range, new) in replacements.into_iter().rev() {
        text.replace_range(range, &new);
    }
    before.push(text);
    Some(Some(before.join("\n")))
}

/// The parts of a loop header `keyword (...)` starting `line`: the byte ranges of what its
/// parentheses hold, split at their top-level `;`, and the position of its closing `)`.
fn header(line: &str, keyword: &str) -> Option<(Vec<Range<usize>>, usize)> {
    let code = code_only(line);
    let start = code.find(keyword)?;
    if !code[..start].trim().is_empty() {
        return None;
    }
    let open = start + keyword.len() + code[start + keyword.len()..].find('(')?;
    if !code[start + keyword.len()..open].trim().is_empty() {
        return None;
    }
    let (mut depth, mut parts, mut from) = (0i32, Vec::new(), open + 1);
    for (i, c) in code[open..].char_indices().map(|(i, c)| (i + open, c)) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    parts.push(from..i);
                    return Some((parts, i));
                }
            }
            ';' if depth == 1 => {
                parts.push(from..i);
                from = i + 1;
            }
            _ => {}
        }
    }
    None
}

/// The three clauses of a `for (a; b; c)` header on `line`, with the byte ranges of `a`, `b`
/// and `c` and of the text after the closing parenthesis.
fn for_clauses(line: &str) -> Option<[Range<usize>; 4]> {
    let (mut parts, close) = header(line, "for")?;
    parts.push(close + 1..line.len());
    parts.try_into().ok()
}

/// The condition of a `while (cond)` header on `line` and the range of the text after it.
fn while_condition(line: &str) -> Option<(Range<usize>, Range<usize>)> {
    let (parts, close) = header(line, "while")?;
    let [cond] = <[Range<usize>; 1]>::try_from(parts).ok()?;
    // `} while (x);` ends a do-while: not a header.
    let rest = code_only(&line[close + 1..]);
    (!rest.trim().starts_with(';')).then_some((cond, close + 1..line.len()))
}

/// Whether a loop condition already has a constant bound (`i < MAX`, `n <= 16`).
fn has_constant_bound(cond: &str) -> bool {
    let code = code_only(cond);
    ["<=", "<"].iter().any(|op| {
        code.match_indices(op).any(|(i, _)| {
            let rhs = code[i + op.len()..].trim_start();
            let rhs = rhs.trim_start_matches('=').trim_start();
            let word: String = rhs.chars().take_while(|&c| is_ident(c)).collect();
            !word.is_empty()
                && (word.starts_with(|c: char| c.is_ascii_digit())
                    || word
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()))
        })
    })
}

/// Whether `line` assigns the pointer from a read through itself (`p = p->parent`), the step
/// of a walk along a chain.
fn walks_chain(line: &str, ptr: &str) -> bool {
    let code = code_only(line);
    code.match_indices(&format!("{ptr} =")).any(|(i, m)| {
        let owned = code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c) && c != '.' && c != '>');
        let rest = code[i + m.len()..].trim_start();
        owned && !rest.starts_with('=') && rest.contains(&format!("{ptr}->"))
    })
}

/// The line of the loop header enclosing line `n` (the nearest `for`/`while` whose block is
/// still open at `n`), searching no further up than `first`.
fn enclosing_loop(text: &dyn Fn(u32) -> Option<String>, n: u32, first: u32) -> Option<u32> {
    let mut depth = 0i32;
    for l in (first..n).rev() {
        let line = text(l)?;
        depth += depth_change(&line);
        if depth > 0 {
            // The block opened on this line (or on a `{` line after a header) encloses `n`.
            let header = if code_only(&line).trim() == "{" {
                l.checked_sub(1)?
            } else {
                l
            };
            let h = text(header)?;
            return (for_clauses(&h).is_some() || while_condition(&h).is_some()).then_some(header);
        }
    }
    None
}

/// `line` (a `for` or `while` header) given a bound of [`CHAIN_BOUND`] steps on a counter
/// named after `ptr`, or `None` when its condition already has a constant bound or its shape
/// is not a plain header.
fn bound_loop(line: &str, ptr: &str) -> Option<String> {
    let counter = format!("{ptr}_depth");
    if let Some([init, cond, step, rest]) = for_clauses(line) {
        let c = line[cond.clone()].trim();
        if has_constant_bound(c) {
            return None;
        }
        let guard = if c.is_empty() {
            format!("{counter} < {CHAIN_BOUND}")
        } else {
            format!("{counter} < {CHAIN_BOUND} && ({c})")
        };
        let s = line[step].trim();
        let step = if s.is_empty() {
            format!("{counter}++")
        } else {
            format!("{counter}++, {s}")
        };
        let i = line[init].trim();
        let tail = &line[rest];
        return Some(if i.is_empty() {
            format!("for (int {counter} = 0; {guard}; {step}){tail}")
        } else {
            format!("int {counter} = 0;\nfor ({i}; {guard}; {step}){tail}")
        });
    }
    let (cond, rest) = while_condition(line)?;
    let c = line[cond].trim();
    if has_constant_bound(c) {
        return None;
    }
    Some(format!(
        "for (int {counter} = 0; {counter} < {CHAIN_BOUND} && ({c}); {counter}++){}",
        &line[rest]
    ))
}

/// Every read through one of `ptrs` in the scope of the first rewritten (see the module's
/// documentation), the faulting line `fault` among them; `text` gives a source line by number.
pub(crate) fn rewrite(
    text: &dyn Fn(u32) -> Option<String>,
    ptrs: &[&str],
    fault: u32,
    scope: Scope,
    reader: Reader<'_>,
) -> Option<KernelReads> {
    let ptr = *ptrs.first()?;
    let start = scope.decl_line.min(fault);
    let end = scope_end(text, start, scope.parameter)?.max(fault);
    let mut used = HashSet::new();
    let mut lines = Vec::new();
    let mut walk = None;
    for n in start..=end {
        let line = text(n)?;
        let statement = starts_statement(text, n);
        if let Some(code) = rewrite_line(&line, ptrs, reader, statement, &mut used)? {
            if walks_chain(&line, ptr) {
                walk.get_or_insert(n);
            }
            lines.push((n, code));
        }
    }
    let fault_line = text(fault)?;
    let first_site = sites(&fault_line, ptr)?.into_iter().next()?;
    let first = fault_line[first_site.range].to_string();
    // A walk along a chain of kernel pointers: the loop it steps gets a bound.
    let mut bounded_loop = None;
    if let Some(w) = walk.filter(|_| !matches!(reader, Reader::SkbLoad { .. })) {
        let header = if for_clauses(&text(w)?).is_some() {
            Some(w)
        } else {
            enclosing_loop(text, w, start)
        };
        if let Some(h) = header {
            let current = lines
                .iter()
                .find(|(n, _)| *n == h)
                .map(|(_, code)| code.clone());
            let header_text = current.unwrap_or_else(|| text(h).unwrap_or_default());
            // The header's own rewrite may have put copies before it: bound its last line.
            let (pre, last) = match header_text.rsplit_once('\n') {
                Some((pre, last)) => (Some(pre.to_string()), last.to_string()),
                None => (None, header_text.clone()),
            };
            if let Some(bounded) = bound_loop(&last, ptr) {
                let needs_line = bounded.contains('\n');
                if !needs_line || starts_statement(text, h) {
                    let code = match pre {
                        Some(p) => format!("{p}\n{bounded}"),
                        None => bounded,
                    };
                    lines.retain(|(n, _)| *n != h);
                    lines.push((h, code));
                    lines.sort_by_key(|(n, _)| *n);
                    bounded_loop = Some(h);
                }
            }
        }
    }
    Some(KernelReads {
        first,
        lines,
        bounded_loop,
    })
}

/// Whether BPF_CORE_READ() can read through a pointer of C type `type_name` in the source
/// `text` (lines `1..=last`): the program includes bpf_core_read.h, and the struct is one
/// CO-RE finds in the kernel by its name: defined with `preserve_access_index` (or under a
/// `#pragma clang attribute push` of it), or not defined in the file while vmlinux.h is
/// included. A struct of the program's own, without the attribute, may not exist in the
/// kernel: its fields are then read with the compiler's offsets (bpf_probe_read_kernel()).
pub(crate) fn co_re_type(text: &dyn Fn(u32) -> Option<String>, last: u32, type_name: &str) -> bool {
    let Some(name) = type_name
        .trim()
        .strip_prefix("struct ")
        .map(|t| t.trim_end_matches('*').trim())
    else {
        return false;
    };
    let lines: Vec<String> = (1..=last).map_while(text).collect();
    let includes = |header: &str| includes_header(text, header);
    if !includes("bpf_core_read.h") {
        return false;
    }
    let pragma = lines
        .iter()
        .any(|l| l.contains("#pragma clang attribute push") && l.contains("preserve_access_index"));
    let definition = lines.iter().position(|l| {
        let code = code_only(l);
        code.trim_start().starts_with(&format!("struct {name}"))
            && code[code.find(name).unwrap_or(0) + name.len()..]
                .trim_start()
                .starts_with('{')
    });
    match definition {
        Some(at) => {
            let start = u32::try_from(at + 1).unwrap_or(u32::MAX);
            let end = scope_end(text, start, true).unwrap_or(start);
            pragma
                || (start..=end)
                    .filter_map(text)
                    .any(|l| l.contains("preserve_access_index"))
        }
        None => includes("vmlinux.h"),
    }
}

/// Whether the source declares a bit-field named `field` (`__u8 ihl:4;`): it has no address
/// and no `__typeof__`, so neither a copy nor BPF_CORE_READ() reads it.
pub(crate) fn declares_bitfield(text: &dyn Fn(u32) -> Option<String>, field: &str) -> bool {
    (1..).map_while(text).any(|l| {
        let code = code_only(&l);
        code.match_indices(field).any(|(i, _)| {
            let before = code[..i].chars().next_back();
            let rest = code[i + field.len()..].trim_start();
            !before.is_some_and(is_ident)
                && rest
                    .strip_prefix(':')
                    .is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        })
    })
}

impl KernelReads {
    /// The last field of every hop the rewritten reads go through (`skc_family` for
    /// `skp->__sk_common.skc_family`), read from the replaced lines.
    pub(crate) fn fields(&self, ptr: &str, text: &dyn Fn(u32) -> Option<String>) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|(n, _)| text(*n))
            .filter_map(|l| sites(&l, ptr))
            .flatten()
            .flat_map(|s| s.hops)
            .map(|h| last_field(&h).to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::source_text::numbered as source;

    #[test]
    fn reads_are_found_and_addresses_sizes_and_writes_are_not_reads() {
        let s = sites("x = p->a.b + q->p->c + sizeof(p->d); f(&p->e);", "p").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].hops, vec!["a.b"]);
        assert_eq!(sites("p->a = 1;", "p"), None);
        assert_eq!(sites("y = p->arr[2];", "p"), None);
        assert_eq!(sites("if (p->a == 1) // p->b", "p").unwrap().len(), 1);
        assert_eq!(sites("x = p->a->b;", "p").unwrap()[0].hops, vec!["a", "b"]);
    }

    #[test]
    fn a_read_becomes_core_read_or_a_probe_read_copy() {
        let mut used = HashSet::new();
        assert_eq!(
            rewrite_line(
                "\trx = tp->bytes; // x",
                &["tp"],
                Reader::Core,
                true,
                &mut used
            ),
            Some(Some("rx = BPF_CORE_READ(tp, bytes); // x".into()))
        );
        assert_eq!(
            rewrite_line(
                "x = t->real_parent->tgid;",
                &["t"],
                Reader::Core,
                true,
                &mut used
            ),
            Some(Some("x = BPF_CORE_READ(t, real_parent, tgid);".into()))
        );
        assert_eq!(
            rewrite_line("int f = s->c.fam;", &["s"], Reader::ProbeKernel, true, &mut used),
            Some(Some(
                "__typeof__(s->c.fam) s_fam;\nbpf_probe_read_kernel(&s_fam, sizeof(s_fam), &s->c.fam);\nint f = s_fam;"
                    .into()
            ))
        );
        assert_eq!(
            rewrite_line("n = t->parent->pid;", &["t"], Reader::ProbeKernel, true, &mut used),
            Some(Some(
                "__typeof__(t->parent) t_parent;\nbpf_probe_read_kernel(&t_parent, sizeof(t_parent), &t->parent);\n\
                 __typeof__(t->parent->pid) t_pid;\nbpf_probe_read_kernel(&t_pid, sizeof(t_pid), &t_parent->pid);\n\
                 n = t_pid;"
                    .into()
            ))
        );
        // The same field read again takes another local.
        assert!(
            rewrite_line(
                "g = s->c.fam;",
                &["s"],
                Reader::ProbeKernel,
                true,
                &mut used
            )
            .unwrap()
            .unwrap()
            .contains("s_fam_2")
        );
        assert_eq!(
            rewrite_line("if (x) y = p->a;", &["p"], Reader::ProbeKernel, false, &mut used),
            Some(Some(
                "if (x) y = ({ __typeof__(p->a) p_a; bpf_probe_read_kernel(&p_a, sizeof(p_a), &p->a); p_a; });"
                    .into()
            ))
        );
        assert_eq!(
            rewrite_line("y = 1;", &["p"], Reader::ProbeKernel, true, &mut used),
            Some(None)
        );
    }

    #[test]
    fn a_packet_header_is_copied_once_per_line_with_bpf_skb_load_bytes() {
        let mut used = HashSet::new();
        let reader = Reader::SkbLoad {
            ctx: "skb",
            fail: "0",
        };
        assert_eq!(
            rewrite_line("n = ip->ihl + ip->ttl + e->h;", &["ip", "e"], reader, true, &mut used),
            Some(Some(
                "__typeof__(*ip) ip_copy;\nif (bpf_skb_load_bytes(skb, (long)ip, &ip_copy, sizeof(ip_copy)) < 0)\n\treturn 0;\n\
                 __typeof__(*e) e_copy;\nif (bpf_skb_load_bytes(skb, (long)e, &e_copy, sizeof(e_copy)) < 0)\n\treturn 0;\n\
                 n = ip_copy.ihl + ip_copy.ttl + e_copy.h;"
                    .into()
            ))
        );
        assert_eq!(
            rewrite_line("} else if (ip->ttl)", &["ip"], reader, false, &mut used),
            Some(Some(
                "} else if (({ __typeof__(*ip) ip_copy; bpf_skb_load_bytes(skb, (long)ip, &ip_copy, sizeof(ip_copy)); ip_copy; }).ttl)"
                    .into()
            ))
        );
    }

    #[test]
    fn every_read_in_the_scope_is_rewritten() {
        let text = source(
            "int f(void *ctx)\n{\n\tstruct s *tp = get();\n\ta = tp->x;\n\tb = tp->y;\n}\n\
             int g(void)\n{\n\treturn tp->z;\n}\n",
        );
        let scope = Scope {
            decl_line: 3,
            parameter: false,
        };
        let r = rewrite(&text, &["tp"], 4, scope, Reader::Core).unwrap();
        assert_eq!(r.first, "tp->x");
        assert_eq!(
            r.lines,
            vec![
                (4, "a = BPF_CORE_READ(tp, x);".to_string()),
                (5, "b = BPF_CORE_READ(tp, y);".to_string())
            ]
        );
        assert_eq!(r.bounded_loop, None);
    }

    #[test]
    fn a_walk_along_a_chain_gets_a_bound() {
        let text = source(
            "{\n\tstruct t *pos = task;\n\tfor (; pos != end; pos = pos->parent) {\n\t\tx++;\n\t}\n}\n",
        );
        let scope = Scope {
            decl_line: 2,
            parameter: false,
        };
        let r = rewrite(&text, &["pos"], 3, scope, Reader::Core).unwrap();
        assert_eq!(r.bounded_loop, Some(3));
        assert_eq!(
            r.lines,
            vec![(
                3,
                "for (int pos_depth = 0; pos_depth < 64 && (pos != end); pos_depth++, pos = BPF_CORE_READ(pos, parent)) {"
                    .to_string()
            )]
        );
        let text = source(
            "{\n\tstruct t *pos = task;\n\twhile (pos) {\n\t\tn = pos->pid;\n\t\tpos = pos->parent;\n\t}\n}\n",
        );
        let r = rewrite(&text, &["pos"], 4, scope, Reader::Core).unwrap();
        assert_eq!(r.bounded_loop, Some(3));
        assert_eq!(
            r.lines[0],
            (
                3,
                "for (int pos_depth = 0; pos_depth < 64 && (pos); pos_depth++) {".to_string()
            )
        );
        assert_eq!(r.lines.len(), 3);
    }

    #[test]
    fn a_bounded_loop_keeps_its_bound() {
        assert_eq!(
            bound_loop("for (i = 0; i < MAX && p; i++, p = q) {", "p"),
            None
        );
        assert_eq!(
            bound_loop("for (i = 0; p; p = q) {", "p").as_deref(),
            Some("int p_depth = 0;\nfor (i = 0; p_depth < 64 && (p); p_depth++, p = q) {")
        );
        assert_eq!(bound_loop("} while (p);", "p"), None);
    }

    #[test]
    fn core_read_is_for_types_co_re_finds_in_the_kernel() {
        let text = source(
            "#include <bpf/bpf_core_read.h>\nstruct sock {\n\tint a;\n} __attribute__((preserve_access_index));\nstruct mine {\n\tint b;\n};\n",
        );
        assert!(co_re_type(&text, 7, "struct sock *"));
        assert!(!co_re_type(&text, 7, "struct mine *"));
        assert!(!co_re_type(&text, 7, "struct task_struct *"));
        let text = source("#include \"vmlinux.h\"\n#include <bpf/bpf_core_read.h>\n");
        assert!(co_re_type(&text, 2, "struct task_struct *"));
        assert!(!co_re_type(&text, 2, "u64"));
        let text = source("#include \"vmlinux.h\"\n");
        assert!(!co_re_type(&text, 1, "struct task_struct *"));
    }

    #[test]
    fn bit_fields_are_recognised() {
        let text = source("struct iphdr {\n\t__u8 ihl:4,\n\t\tversion : 4;\n\t__u8 tos;\n};\n");
        assert!(declares_bitfield(&text, "ihl"));
        assert!(declares_bitfield(&text, "version"));
        assert!(!declares_bitfield(&text, "tos"));
    }
}
