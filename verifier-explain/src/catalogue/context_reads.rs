//! Fixes written as code for reads of the program's context that the verifier refuses: a read
//! through a context pointer the compiler (or the program) moved, a field the program type
//! keeps for itself, a field of a sibling attach type. Each function returns `None` when the
//! faulting line does not have the shape it knows, and the class then leaves the fix to the
//! user as a decision.

use super::rewrite;
use super::source_text;
use super::words::{CauseFix, Ctx, replace};

/// Whether the program type's context is memory the kernel passes as it is (the saved
/// registers of a probe, a tracepoint's event record, a raw tracepoint's argument array), so
/// that bpf_probe_read_kernel() copies the same bytes a direct read would. Other types'
/// contexts (`__sk_buff`, `xdp_md`, `bpf_sock`) are rewritten by the verifier field by field:
/// a copy of their bytes would read something else.
fn context_is_memory(c: &Ctx<'_>) -> bool {
    matches!(
        c.facts.program_type,
        Some("KProbe" | "UProbe" | "TracePoint" | "RawTracePoint" | "RawTracePointWritable")
    )
}

/// A name for a local that holds a copy of `expr`: its last identifier with `_val`, made unique
/// among the variables in scope at the fault.
fn local_for(c: &Ctx<'_>, expr: &str) -> String {
    let last: String = expr
        .rsplit(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
        .find(|w| !w.is_empty() && !w.starts_with(|ch: char| ch.is_ascii_digit()))
        .unwrap_or("value")
        .to_string();
    unique_local(c, &format!("{last}_val"), expr)
}

/// `name`, or `name2`, `name3`...: the first that is neither a variable in scope at the fault
/// nor part of `expr` (the expression the local is declared next to).
fn unique_local(c: &Ctx<'_>, name: &str, expr: &str) -> String {
    let in_scope: Vec<String> = c
        .found
        .instruction
        .as_ref()
        .map(|i| c.facts.vars_in_scope(i.index))
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    let taken = |n: &str| in_scope.iter().any(|v| v == n) || expr.contains(n);
    let mut unique = name.to_string();
    let mut n = 2;
    while taken(&unique) {
        unique = format!("{name}{n}");
        n += 1;
    }
    unique
}

/// Whether the refused instruction loads from memory into a register (`r1 = *(u64 *)(r1 +0)`):
/// a read, which these fixes rewrite; a store is left to the user.
fn fault_is_load(c: &Ctx<'_>) -> bool {
    c.found.instruction.as_ref().is_some_and(|i| {
        i.text.trim().split_once(" = ").is_some_and(|(dst, src)| {
            dst.starts_with('r')
                && dst[1..].chars().all(|ch| ch.is_ascii_digit())
                && src.trim_start().starts_with("*(")
        })
    })
}

/// The member of the context struct (the type of `var`) that the moved pointer points at on
/// the failing path: the pointer's offset (the message's `off=`) plus the load's displacement,
/// named from DWARF.
fn moved_field<'c>(c: &'c Ctx<'_>, var: &crate::evidence::Variable) -> Option<&'c str> {
    let insn = c.found.instruction.as_ref()?;
    let (_, addr) = insn.text.split_once("*(")?;
    let (sign, disp) = match addr.split_once(" +") {
        Some((_, d)) => (1, d),
        None => (-1, addr.split_once(" -")?.1),
    };
    let digits: String = disp.chars().take_while(char::is_ascii_digit).collect();
    let disp: i64 = digits.parse().ok()?;
    let offset = c.field("off=")? + sign * disp;
    c.facts.member_at(var.type_name.as_deref()?, offset)
}

/// Whether the read `expr` is of `member` (`skb->priority`) or of an element or member of it
/// (`ctx->args[1]` of `ctx->args`).
fn reads_member(expr: &str, member: &str) -> bool {
    expr.strip_prefix(member).is_some_and(|rest| {
        rest.is_empty() || rest.starts_with(['[', '.']) || rest.starts_with("->")
    })
}

/// The source line nearest the fault (within 30 lines) that reads `wanted` (`skb->priority`)
/// through `name`, with the column of that read: where the source reads the field clang merged
/// when the load sits on another line (after a select of the offset, `r3 += r2`, or in a block
/// that several `case`s share).
fn nearest_read_of(c: &Ctx<'_>, name: &str, wanted: &str) -> Option<(u32, u32, String)> {
    let insn = c.found.instruction.as_ref()?;
    let fault = c.line()?;
    (0..=30u32)
        .flat_map(|d| [fault.checked_add(d), fault.checked_sub(d)])
        .flatten()
        .filter(|&l| l > 0)
        .find_map(|l| {
            let text = c.facts.source_line(insn.index, l)?;
            let (_, range) = rewrite::pointer_reads(&text, name, false)
                .into_iter()
                .find(|(e, _)| reads_member(e, wanted))?;
            let column = u32::try_from(range.start + 1).ok()?;
            Some((l, column, text))
        })
}

/// Whether the faulting source file includes libbpf's bpf_helpers.h (which defines
/// barrier_var()).
fn includes_bpf_helpers(c: &Ctx<'_>) -> bool {
    let Some(insn) = c.found.instruction.as_ref() else {
        return false;
    };
    source_text::includes_header(|l| c.facts.source_line(insn.index, l), "bpf_helpers.h")
}

/// The read of `ptr` on the faulting line that the fault is about (under the fault's column,
/// or the only one), and the line with it.
fn read_on_line(c: &Ctx<'_>, ptr: &str, deref: bool) -> Option<LineRead> {
    let column = c.found.location.as_ref().map_or(0, |l| l.column);
    read_at(c.line()?, c.line_source()?, column, ptr, deref)
}

/// The read of `ptr` on source line `line` (text `text`) under `column`, or the only one.
fn read_at(line: u32, text: String, column: u32, ptr: &str, deref: bool) -> Option<LineRead> {
    let reads = rewrite::pointer_reads(&text, ptr, deref);
    let (expr, range) = rewrite::read_at_column(&reads, column)?.clone();
    Some(LineRead {
        line,
        expr,
        range,
        text,
    })
}

/// Where the failing path moved the context pointer in register `reg` by a constant
/// (`r1 += 104`), following plain copies back: the source line and column of that addition,
/// and its line's text. That is where the source reads the field clang merged with another:
/// the load through the moved pointer itself is placed after the branches join, on whatever
/// line came before.
fn constant_move(c: &Ctx<'_>, reg: u8) -> Option<(u32, u32, String)> {
    let facts = c.facts;
    let path = &facts.summary.path;
    let (mut reg, mut end) = (reg, path.len().saturating_sub(1));
    for _ in 0..8 {
        let i = facts.write_before(reg, end)?;
        let text = path[i].text.trim();
        if let Some((_, added)) = text.split_once(" += ") {
            added.trim().parse::<i64>().ok()?;
            let (_, line, column) = facts.line_of(path[i].idx)?;
            return Some((line, column, facts.source_line(path[i].idx, line)?));
        }
        let (_, from) = text.split_once(" = ")?;
        reg = from.trim().strip_prefix('r')?.parse().ok()?;
        end = i;
    }
    None
}

/// A read on the faulting line: the expression, where it is, and the line.
struct LineRead {
    line: u32,
    expr: String,
    range: std::ops::Range<usize>,
    text: String,
}

impl LineRead {
    /// The line with the read replaced by `with`, as the replacement of the faulting line.
    fn rewritten(&self, with: &str) -> String {
        rewrite::splice(&self.text, self.range.clone(), with)
            .trim_start()
            .to_string()
    }
}

/// The cause and code fix for a read through a moved context pointer
/// (`dereference of modified ctx ptr`), when the faulting line has a shape this knows:
///
/// - a read `ctx->field` of the context parameter itself: clang merged it with a read of
///   another field on another branch (one load through `ctx` plus a branch-dependent offset);
///   barrier_var() on a local copy keeps this read where it is written;
/// - a `__builtin_memcpy` from the context parameter, for a context that is memory: the same
///   merge, undone by copying with bpf_probe_read_kernel(), which clang does not merge with a
///   load and the verifier lets read at a computed address;
/// - a read through a pointer into the context (`*reg` where `reg = &ctx->r12`), for a
///   context that is memory: copied with bpf_probe_read_kernel().
pub(crate) fn moved_pointer_fix(c: &Ctx<'_>) -> Option<CauseFix> {
    let op = c.op()?;
    let var = op.variable.as_ref()?;
    let name = var.name.as_str();
    let moved = c
        .field("off=")
        .map_or(String::new(), |n| format!(" (here moved {n} bytes)"));
    if !fault_is_load(c) {
        return None;
    }
    if var.parameter {
        // The context parameter itself, moved by the compiler: the merged read is where the
        // path added the constant (an offset chosen by a select instead is not traced).
        // The field the moved pointer points at, when DWARF names it: the read to pin must be
        // of that field (the line of the addition may hold other reads: `switch (ctx->id)`).
        let wanted = moved_field(c, var).map(|f| format!("{name}->{f}"));
        let of_field = |expr: &str| wanted.as_deref().is_none_or(|w| reads_member(expr, w));
        let at_move = constant_move(c, c.op_reg()?).filter(|(l, col, text)| {
            rewrite::memcpy_to_probe_read(text, name).is_some()
                || read_at(*l, text.clone(), *col, name, false).is_some_and(|r| of_field(&r.expr))
        });
        let (line, column, text) =
            at_move.or_else(|| nearest_read_of(c, name, wanted.as_deref()?))?;
        let merged = |what: &str| {
            format!(
                "the source is fine, the compiled code is not: clang merged {what} on line {line} with a read of another field on another branch into one load through `{name}` plus an offset that depends on the branch{moved}, and the verifier allows only `{name}->field` at a constant offset from the unmodified context pointer."
            )
        };
        if context_is_memory(c)
            && let Some(code) = rewrite::memcpy_to_probe_read(&text, name)
        {
            return Some((
                merged(&format!("the copy from `{name}`")),
                replace(
                    "Copy with bpf_probe_read_kernel() instead of __builtin_memcpy: the helper takes the computed address that a direct read may not use, and clang does not merge a helper call with the other branch's load. If the verifier then refuses another copy the same way, change that one too.".into(),
                    Some(line),
                    code.trim_start().to_string(),
                ),
            ));
        }
        // A copy of an array field is no value that barrier_var() could hold.
        if rewrite::memcpy_to_probe_read(&text, name).is_some() {
            return None;
        }
        let read = read_at(line, text, column, name, false)?;
        let expr = read.expr.as_str();
        if !expr.starts_with(&format!("{name}->")) || !of_field(expr) {
            return None;
        }
        let code = read.rewritten(&rewrite::barrier_read_expr(
            expr,
            &local_for(c, expr),
            includes_bpf_helpers(c),
        ));
        return Some((
            merged(&format!("the read of `{expr}`")),
            replace(
                format!(
                    "Read `{expr}` into a local and pin it with barrier_var() (bpf_helpers.h, clang 14 and later): clang must then make this read on its own, as `{name}->field` at a constant offset, and cannot merge it with the other branch's. If the verifier then refuses a read on another line the same way (more than two reads were merged), pin that one too."
                ),
                Some(read.line),
                code,
            ),
        ));
    }
    if !context_is_memory(c) {
        return None;
    }
    let read = read_on_line(c, name, true)?;
    let expr = read.expr.as_str();
    // `*p` copies into a local of p's pointee type, unqualified.
    let ty = expr
        .starts_with('*')
        .then(|| {
            var.type_name
                .as_deref()
                .and_then(rewrite::unqualified_pointee)
        })
        .flatten();
    let code = read.rewritten(&rewrite::probe_read_expr(
        expr,
        &local_for(c, expr),
        ty.as_deref(),
    ));
    Some((
        format!(
            "`{name}` points into the context{moved}: the verifier lets a program read the context only as `ctx->field` at a constant offset from the unmodified context pointer, never through a pointer into it."
        ),
        replace(
            format!(
                "Copy `{expr}` with bpf_probe_read_kernel(), which takes a pointer into the context (the bytes are the kernel's memory); or read the field in each branch as `ctx->field` and keep its value instead of a pointer to it."
            ),
            Some(read.line),
            code,
        ),
    ))
}

/// The cause and code fix for a refused read of a context field whose bytes the program may
/// copy or whose attach type has a sibling field, when the faulting line has that shape:
///
/// - a tracepoint's common fields (`common_pid`, `common_preempt_count`: the first 8 bytes of
///   the record, which the verifier never lets a program read directly) or a read not aligned
///   to its size: the bytes are in the record, so bpf_probe_read_kernel() copies them;
/// - an IPv4 field (`src_ip4`, `user_ip4`) read by a cgroup socket program attached for IPv6
///   (`post_bind6`, `connect6`): the IPv6 field's last word, which holds the IPv4 address of an
///   IPv4-mapped socket.
pub(crate) fn refused_field_fix(c: &Ctx<'_>) -> Option<CauseFix> {
    if !fault_is_load(c) {
        return None;
    }
    let op = c.op()?;
    let name = c.source_name(op)?;
    let (off, size) = (c.field("off=")?, c.field("size=")?);
    // The field at the refused offset, when DWARF names it, is the read to rewrite; else the
    // read under the fault's column.
    let wanted = op
        .variable
        .as_ref()
        .and_then(|v| c.facts.member_at(v.type_name.as_deref()?, off))
        .map(|f| format!("{name}->{f}"));
    let read = match &wanted {
        Some(w) => {
            let text = c.line_source()?;
            let (expr, range) = rewrite::pointer_reads(&text, &name, false)
                .into_iter()
                .find(|(e, _)| reads_member(e, w))?;
            LineRead {
                line: c.line()?,
                expr,
                range,
                text,
            }
        }
        None => read_on_line(c, &name, false)?,
    };
    let expr = read.expr.as_str();
    match c.facts.program_type {
        Some("TracePoint") if size > 0 && (off < 8 || off % size != 0) => {
            let code = read.rewritten(&rewrite::probe_read_expr(expr, &local_for(c, expr), None));
            let why = if off < 8 {
                "the first 8 bytes of a tracepoint's record are the common fields the kernel writes for every event (common_type, common_flags, common_preempt_count, common_pid), and the verifier refuses every direct read of them"
            } else {
                "the verifier refuses a direct read of a tracepoint's record that is not aligned to its size"
            };
            Some((
                format!(
                    "the program reads {size} byte(s) at offset {off} of the tracepoint's record `{name}` (`{expr}`): {why}."
                ),
                replace(
                    format!(
                        "Copy `{expr}` with bpf_probe_read_kernel(): the bytes are in the record, only the direct read is refused.{}",
                        if expr.contains("common_pid") {
                            " (bpf_get_current_pid_tgid() also gives the current thread's id.)"
                        } else {
                            ""
                        }
                    ),
                    Some(read.line),
                    code,
                ),
            ))
        }
        Some("SocketFilter") => packet_copy_fix(c, &name),
        Some("CgroupSock" | "CgroupSockAddr") => {
            let section = c.facts.section()?;
            let field = expr.rsplit("->").next()?;
            let stem = field.strip_suffix("ip4")?;
            if !section.ends_with('6') || !stem.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
            {
                return None;
            }
            let sibling = format!("{}->{stem}ip6[3]", &expr[..expr.len() - field.len() - 2]);
            let code = read.rewritten(&sibling);
            Some((
                format!(
                    "the program reads `{expr}` in a `{section}` program: the verifier checks each field against the attach type, and `{field}` belongs to the IPv4 one; a `{section}` program sees IPv6 sockets, whose address is `{stem}ip6`."
                ),
                replace(
                    format!(
                        "Read the IPv6 address this attach type offers: `{sibling}` holds the IPv4 address when the address is IPv4-mapped (::ffff:a.b.c.d), and the last word of any other. Read all four words of `{stem}ip6` if the program must tell IPv6 addresses apart, or attach it at the IPv4 hook (`{}4`) to read `{field}`.",
                        section.trim_end_matches('6')
                    ),
                    Some(read.line),
                    code,
                ),
            ))
        }
        _ => None,
    }
}

/// How many bytes of the packet [`packet_copy_fix`] copies: the Ethernet, largest IPv4 and a
/// TCP header with room to spare.
const PACKET_COPY: u32 = 128;

/// For a socket filter reading `skb->data` or `skb->data_end` (it has no direct packet access):
/// when both are read into pointer variables declared on two lines, with nothing between them
/// using the first, the later declaration becomes a copy of the packet's first bytes on the
/// stack (bpf_skb_load_bytes) and the two pointers point at the copy, so the program's bounds
/// checks and header reads work unchanged. The earlier read of the context is then unused and
/// the compiler drops it.
fn packet_copy_fix(c: &Ctx<'_>, skb: &str) -> Option<CauseFix> {
    let fault = c.found.instruction.as_ref()?.index;
    let facts = c.facts;
    let vars = facts.vars_in_scope(fault);
    let text = |line: u32| facts.source_line(fault, line);
    let declared_from = |field: &str| {
        let wanted = format!("{skb}->{field}");
        vars.iter().find_map(|v| {
            let line = v.decl_line?;
            let decl = text(line)?;
            let reads = rewrite::pointer_reads(&decl, skb, false);
            (v.type_name.as_deref()?.trim_end().ends_with('*')
                && reads.iter().any(|(e, _)| *e == wanted))
            .then(|| (v.name.clone(), line, decl))
        })
    };
    let data = declared_from("data")?;
    let end = declared_from("data_end")?;
    let (first, later) = if data.1 < end.1 {
        (&data, &end)
    } else {
        (&end, &data)
    };
    let mentions = |t: &str, name: &str| {
        t.match_indices(name).any(|(i, _)| {
            !t[..i].ends_with(|ch: char| ch.is_alphanumeric() || ch == '_')
                && !t[i + name.len()..].starts_with(|ch: char| ch.is_alphanumeric() || ch == '_')
        })
    };
    let between_free =
        (first.1 + 1..later.1).all(|l| text(l).is_some_and(|t| !mentions(&t, &first.0)));
    if first.1 == later.1 || !between_free || ![first.1, later.1].contains(&c.line()?) {
        return None;
    }
    let (declared, _) = later.2.split_once('=')?;
    let declared = declared.trim();
    if !declared.ends_with(&later.0) {
        return None;
    }
    let buf = unique_local(c, "pkt_copy", "");
    let len = unique_local(c, &format!("{buf}_len"), "");
    let value = |name: &str| {
        if *name == data.0 {
            format!("(void *){buf}")
        } else {
            format!("(void *)({buf} + {len})")
        }
    };
    let code = format!(
        "__u8 {buf}[{PACKET_COPY}] = {{}};\n\
         __u32 {len} = {skb}->len < sizeof({buf}) ? {skb}->len : sizeof({buf});\n\
         if ({len} == 0 || bpf_skb_load_bytes({skb}, 0, {buf}, {len}) < 0)\n\
         \t{len} = 0;\n\
         {first} = {first_value};\n\
         {declared} = {later_value};",
        first = first.0,
        first_value = value(&first.0),
        later_value = value(&later.0),
    );
    let (data_name, end_name) = (&data.0, &end.0);
    Some((
        format!(
            "the program reads `{skb}->{}` in a socket filter, which has no direct packet access: the verifier refuses `data`, `data_end` and `data_meta` in its context, and a socket filter reads the packet with bpf_skb_load_bytes().",
            if c.line() == Some(data.1) {
                "data"
            } else {
                "data_end"
            }
        ),
        replace(
            format!(
                "Copy the packet's first {PACKET_COPY} bytes onto the stack with bpf_skb_load_bytes() and point `{data_name}` and `{end_name}` at the copy: the bounds checks and header reads that follow then work unchanged on the copy, and the read of `{skb}->{}` on line {} is left unused (the compiler drops it). Raise {PACKET_COPY} if the program reads further into the packet; or copy just the header it needs (`struct udphdr h; bpf_skb_load_bytes({skb}, off, &h, sizeof(h))`).",
                if first.0 == *data_name {
                    "data"
                } else {
                    "data_end"
                },
                first.1
            ),
            Some(later.1),
            code,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::reads_member;

    #[test]
    fn a_read_of_a_member_includes_its_elements_and_members() {
        assert!(reads_member("skb->priority", "skb->priority"));
        assert!(reads_member("ctx->args[1]", "ctx->args"));
        assert!(reads_member("sk->src_ip6[3]", "sk->src_ip6"));
        assert!(reads_member("a->b.c", "a->b"));
        assert!(!reads_member("skb->priority2", "skb->priority"));
        assert!(!reads_member("ctx->id", "ctx->args"));
    }
}
