//! The fix for a helper argument of the wrong kind (`R2 type=scalar expected=fp, ...`), written
//! as code for the shapes whose repair is known: a helper that needs the program's context
//! given another pointer (pass the context), the context given where memory is read (copy it
//! to the stack first), a map key or value given as a number (pass the address of a stack copy,
//! or copy the data a pointer points to). Any other shape stays a decision. Also the map value
//! given as the address of a pointer to it (`&leaf` for a map declared to hold `struct Leaf *`):
//! store the data, not the pointer.

use super::rewrite;
use super::source_text::is_identifier;
use super::words::{CauseFix, Ctx, decide, replace};
use crate::evidence::{Edit, Fix, Placement};

/// The largest copy a fix puts on the stack (the whole stack is 512 bytes).
const MAX_STACK_COPY: u64 = 256;

/// The cause and fix of `wrong-argument-type`.
pub(crate) fn wrong_argument_type(c: &Ctx<'_>) -> CauseFix {
    let expected_raw = c.word_after("expected=").unwrap_or("another type");
    // `expected=fp, pkt, ... mem, ...`: any memory the helper may read.
    let expects_memory = c.message().iter().any(|m| {
        m.split("expected=")
            .nth(1)
            .is_some_and(|e| e.contains("map_value") && e.contains("mem"))
    });
    let expected = if expects_memory {
        "a pointer to memory (the stack, a map value, the packet)"
    } else {
        expected_raw
    };
    let actual = c.word_after("type=").unwrap_or("another type");
    let helper = c.helper().unwrap_or("the helper");
    let what = c.what();
    let cause = format!(
        "{what} is {actual} ({}), but {helper} expects {expected} in that argument.",
        c.meaning()
    );
    let code = if expected_raw == "ctx" && actual != "ctx" {
        context_argument(c)
    } else if actual == "ctx" && expects_memory {
        context_copied(c)
    } else if actual == "scalar" && expects_memory {
        map_argument(c).or_else(|| sized_argument(c))
    } else {
        None
    };
    if let Some(fix) = code {
        return (cause, fix);
    }
    let summary = if expected_raw.starts_with("map_ptr") {
        format!(
            "Pass the map itself (`&map_name`, defined in SEC(\".maps\")); check that no parameter or local named like the map shadows it ({what})."
        )
    } else if actual == "ctx" {
        format!(
            "The context is not memory the helper may read: copy what you need from {what} to a stack variable and pass its address."
        )
    } else if expected_raw == "ctx" {
        format!(
            "Pass the program's own context (the entry function's ctx parameter) in that argument, not {what}; check the order of the call's arguments."
        )
    } else {
        format!(
            "Pass a value of the expected kind ({expected}): a pointer to initialised stack or map memory, not a number."
        )
    };
    (
        cause,
        decide(
            summary,
            c.line(),
            "which value the helper was meant to get in that argument (the map, a pointer to a key or value).",
        ),
    )
}

/// The helper, the position of the faulting argument (0-based) and that argument as the
/// faulting line writes it, with the line.
fn faulting_argument<'c>(c: &'c Ctx<'_>) -> Option<(&'c str, usize, String, String)> {
    let helper = c.helper()?;
    let n = usize::from(c.op_reg()?.checked_sub(1)?);
    let text = c.line_source()?;
    let arg = rewrite::nth_argument(&text, helper, n)?;
    Some((helper, n, arg, text))
}

/// A helper that needs the program's context (bpf_get_stackid, bpf_perf_event_output...) was
/// given another value: pass the context under the name the faulting function has for it.
/// When that function has none (a subprogram, an inlined function not given it), the fix is
/// to pass it down: a decision.
fn context_argument(c: &Ctx<'_>) -> Option<Fix> {
    let (helper, n, arg, text) = faulting_argument(c)?;
    let line = c.line()?;
    let Some(ctx) = c.facts.context_in_scope() else {
        let function = c
            .found
            .location
            .as_ref()
            .and_then(|l| l.function.clone())
            .unwrap_or_else(|| "this function".to_string());
        return Some(decide(
            format!(
                "{helper} needs the program's own context, and `{function}` has no name for it: \
                 add a context parameter to `{function}`, pass the entry function's ctx down \
                 to it, and give that to {helper} instead of `{arg}`."
            ),
            Some(line),
            "how the program's context reaches this function (a parameter on each call on the way).",
        ));
    };
    // The context already given elsewhere in the call: arguments swapped, not a wrong value.
    let given_elsewhere = (0..8)
        .filter(|&i| i != n)
        .filter_map(|i| rewrite::nth_argument(&text, helper, i))
        .any(|a| without_quieting_casts(&a) == ctx);
    if given_elsewhere {
        return None;
    }
    let rewritten = rewrite::replace_nth_argument(&text, helper, n, &ctx)?;
    let fault = c.found.instruction.as_ref()?.index;
    // The value passed before may be left unused, which -Wall refuses.
    let unused = is_identifier(&arg)
        && c.facts
            .local_declaration(fault, &arg)
            .is_some_and(|(decl, _)| !c.facts.used_besides(fault, &arg, decl, line));
    let summary = format!(
        "{helper} needs the program's context: pass `{ctx}` (what the kernel gave the program) \
         instead of `{arg}`; a pointer read from the context, even to a `struct pt_regs`, is \
         not the context."
    );
    if !unused {
        return Some(replace(
            summary,
            Some(line),
            rewritten.trim_start().to_string(),
        ));
    }
    let (decl, _) = c.facts.local_declaration(fault, &arg)?;
    let code = c.statements_for_line(
        &[format!(
            "(void){arg}; /* no longer used: delete its declaration (line {decl}) */"
        )],
        &rewritten,
    )?;
    Some(replace(
        format!("{summary} `{arg}` is then unused: delete its declaration (line {decl})."),
        Some(line),
        code,
    ))
}

/// The context given where the helper reads memory (`bpf_perf_event_output(ctx, &events, 0,
/// ctx, sizeof(*ctx))`): copy it to the stack with bpf_probe_read_kernel() and pass the copy.
/// Only for kprobes and tracepoints, whose context is the memory it points to (a socket
/// filter's `__sk_buff` is a view the verifier rewrites, not memory to copy).
fn context_copied(c: &Ctx<'_>) -> Option<Fix> {
    if !matches!(c.facts.program_type, Some("KProbe" | "TracePoint")) {
        return None;
    }
    let (helper, n, arg, text) = faulting_argument(c)?;
    // Helpers that send the memory they are given (a buffer, then its size).
    if !matches!(
        (helper, n),
        ("bpf_perf_event_output", 3) | ("bpf_ringbuf_output", 1)
    ) {
        return None;
    }
    let var = c.op()?.variable.as_ref()?;
    let pointee = pointee_type(var.type_name.as_deref()?)?;
    let copy = unused_name(c, &[format!("{}_copy", var.name), "ctx_copy".to_string()])?;
    let code = copied_to_stack(
        c,
        (helper, n, &text),
        (pointee, &copy, &arg),
        "bpf_probe_read_kernel",
    )?;
    Some(replace(
        format!(
            "The context is not memory {helper} may read: copy it to the stack with \
             bpf_probe_read_kernel() and pass the copy's address (`&{copy}`)."
        ),
        c.line(),
        code,
    ))
}

/// A number given as a map helper's key or value (`bpf_map_update_elem(&m, sk, &v, 0)`): the
/// helper reads the key or value from the pointer it is given. When the argument is a variable
/// of the key's (value's) size, pass its address; another number is first put in a local of
/// that size; a pointer whose target is the data (a `char *` name for a 64-byte value) has
/// that data copied to the stack with the tracing read helpers.
fn map_argument(c: &Ctx<'_>) -> Option<Fix> {
    let (helper, n, arg, text) = faulting_argument(c)?;
    let which = match (helper, n) {
        ("bpf_map_lookup_elem" | "bpf_map_update_elem" | "bpf_map_delete_elem", 1) => "key",
        ("bpf_map_update_elem", 2) => "value",
        ("bpf_map_push_elem" | "bpf_map_peek_elem" | "bpf_map_pop_elem", 1) => "value",
        _ => return None,
    };
    let map = c.operand_with_state(|s| s.starts_with("map_ptr("))?;
    let state = map.state.as_deref()?;
    let size = crate::catalogue::words::field(
        &[state.to_string()],
        if which == "key" { "ks=" } else { "vs=" },
    )?;
    let size = u64::try_from(size).ok()?;
    let fault = c.found.instruction.as_ref()?.index;
    let line = c.line()?;
    // `(void *)(long)ifindex`: casts that only quiet the compiler leave the variable.
    let arg = without_quieting_casts(&arg).to_string();
    let (pointer, arg_size) = if is_identifier(&arg) {
        let var = c
            .facts
            .vars_in_scope(fault)
            .into_iter()
            .find(|v| v.name == arg)?;
        let pointer = var.type_name.as_deref().is_some_and(|t| t.ends_with('*'));
        (
            pointer.then(|| var.type_name.clone()).flatten(),
            var.layout.and_then(|l| l.size),
        )
    } else {
        let cast = pointer_cast(&arg);
        let size = cast.is_some().then_some(8);
        (cast, size)
    };
    if is_identifier(&arg) && arg_size == Some(size) {
        let rewritten = rewrite::replace_nth_argument(&text, helper, n, &format!("&{arg}"))?;
        return Some(replace(
            format!(
                "{helper} reads the {which} from the pointer it is given: pass the address of \
                 `{arg}` (`&{arg}`), not its value."
            ),
            Some(line),
            rewritten.trim_start().to_string(),
        ));
    }
    let map_name = c.map_name().unwrap_or_else(|| "map".to_string());
    let local = unused_name(c, &[which.to_string(), format!("{map_name}_{which}")])?;
    if let Some(ty) = pointer.filter(|_| size != 8) {
        return pointee_copied(c, (helper, n, &arg, &text), &ty, &local, which, size);
    }
    let int = match size {
        1 => "__u8",
        2 => "__u16",
        4 => "__u32",
        8 => "__u64",
        _ => return None,
    };
    // A pointer (or any number) fits a 64-bit key only through a cast; a narrower key takes
    // a number as it is (a pointer there is an error the compiler reports).
    let value = if size == 8 {
        format!("({int})({arg})")
    } else {
        arg.clone()
    };
    let rewritten = rewrite::replace_nth_argument(&text, helper, n, &format!("&{local}"))?;
    let code = c.statements_for_line(&[format!("{int} {local} = {value};")], &rewritten)?;
    Some(replace(
        format!(
            "{helper} reads the {which} ({size} bytes) from the pointer it is given: put \
             `{arg}` in a local of that size and pass its address."
        ),
        Some(line),
        code,
    ))
}

/// A variable given by value where the helper reads memory and its size comes next
/// (`bpf_perf_event_output(ctx, &events, 0, pid, sizeof(pid))`): pass its address.
fn sized_argument(c: &Ctx<'_>) -> Option<Fix> {
    let (helper, n, arg, text) = faulting_argument(c)?;
    let arg = without_quieting_casts(&arg).to_string();
    let size = rewrite::nth_argument(&text, helper, n + 1)?;
    let sized = size.strip_prefix("sizeof").map(|s| {
        s.trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim()
    });
    if !is_identifier(&arg) {
        return None;
    }
    if sized == Some(format!("*{arg}").as_str()) {
        return pointee_sent(c, (helper, n, &arg, &text));
    }
    if sized != Some(arg.as_str()) {
        return None;
    }
    let rewritten = rewrite::replace_nth_argument(&text, helper, n, &format!("&{arg}"))?;
    Some(replace(
        format!(
            "{helper} reads `{size}` bytes from the pointer it is given: pass the address of \
             `{arg}` (`&{arg}`), not its value."
        ),
        c.line(),
        rewritten.trim_start().to_string(),
    ))
}

/// A pointer that is only a number to the verifier given where the helper reads memory, its
/// size `sizeof(*p)` next (`bpf_ringbuf_output(&rb, task, sizeof(*task), 0)`): copy what it
/// points to onto the stack with the tracing read helpers and pass the copy.
fn pointee_sent(c: &Ctx<'_>, (helper, n, arg, text): (&str, usize, &str, &str)) -> Option<Fix> {
    if !matches!(
        c.facts.program_type,
        Some("KProbe" | "TracePoint" | "RawTracePoint")
    ) {
        return None;
    }
    let ty = type_in_scope(c, arg)?;
    let pointee = pointee_type(&ty)?;
    let copy = unused_name(c, &[format!("{arg}_copy")])?;
    let space = if user_memory(c.facts.section().unwrap_or("")) {
        "user"
    } else {
        "kernel"
    };
    let code = copied_to_stack(
        c,
        (helper, n, text),
        (pointee, &copy, arg),
        &format!("bpf_probe_read_{space}"),
    )?;
    Some(replace(
        format!(
            "`{arg}` is an address the verifier cannot check, and {helper} reads memory it can: \
             copy `*{arg}` to the stack with bpf_probe_read_{space}() and pass the copy's \
             address (`&{copy}`)."
        ),
        c.line(),
        code,
    ))
}

/// The map's key or value is the data a pointer points to (`name`, a `const char *`, for a
/// 64-byte value): copy those bytes to a stack buffer of the map's size and pass the buffer.
/// User memory for uprobes and system-call probes, kernel memory otherwise; a `char` pointer
/// is read as a string.
fn pointee_copied(
    c: &Ctx<'_>,
    (helper, n, arg, text): (&str, usize, &str, &str),
    pointer_type: &str,
    local: &str,
    which: &str,
    size: u64,
) -> Option<Fix> {
    // The buffer lives on the stack, 512 bytes in all.
    if size > MAX_STACK_COPY
        || !matches!(
            c.facts.program_type,
            Some("KProbe" | "TracePoint" | "RawTracePoint")
        )
    {
        return None;
    }
    let string = pointer_type
        .trim_end_matches('*')
        .trim()
        .trim_start_matches("const ")
        .trim()
        .ends_with("char");
    let user = user_memory(c.facts.section().unwrap_or(""));
    let (space, other) = if user {
        ("user", "kernel")
    } else {
        ("kernel", "user")
    };
    let suffix = if string { "_str" } else { "" };
    let read = format!("bpf_probe_read_{space}{suffix}");
    let rewritten = rewrite::replace_nth_argument(text, helper, n, local)?;
    let code = c.statements_for_line(
        &[
            format!("char {local}[{size}] = {{}};"),
            format!("{read}({local}, sizeof({local}), {arg});"),
        ],
        &rewritten,
    )?;
    Some(replace(
        format!(
            "`{arg}` points to the {which} rather than being it: copy the {size} bytes of the \
             map's {which} from there to the stack with {read}() and pass the copy. If `{arg}` \
             points to {other} memory, use bpf_probe_read_{other}{suffix}() instead."
        ),
        c.line(),
        code,
    ))
}

/// A map value given as the address of a pointer variable (`bpf_map_update_elem(&complete,
/// &key, &leaf, 0)`) where the map declares that pointer type as its value (`__type(value,
/// struct Leaf *)`), the pointer pointing to a map value: the program stores a kernel address,
/// which no reader can use and which the verifier refuses to leak without CAP_PERFMON. The fix
/// stores the data: the map declares the pointed-to type (`__type(value, struct Leaf)`) and
/// the call passes the pointer. `var` is the variable whose stack slot was read.
pub(crate) fn pointer_stored_in_map(c: &Ctx<'_>, var: &str, slot: &str) -> Option<Fix> {
    if !slot.starts_with("map_value(") {
        return None;
    }
    let (helper, n, arg, text) = faulting_argument(c)?;
    let stores_value = matches!(
        (helper, n),
        ("bpf_map_update_elem", 2) | ("bpf_map_push_elem", 1)
    );
    if !stores_value || arg != format!("&{var}") {
        return None;
    }
    let ty = type_in_scope(c, var)?;
    let pointee = ty.strip_suffix('*')?.trim().to_string();
    let map = c.map_name()?;
    let (decl, decl_text) = declared_value_type(c, &map, &ty)?;
    let call = rewrite::replace_nth_argument(&text, helper, n, var)?;
    let at = decl_text.find("__type(value,")?;
    let rest = decl_text[at..].split_once(')')?.1;
    let declared = format!("{}__type(value, {pointee}){rest}", &decl_text[..at]);
    let mut fix = replace(
        format!(
            "Store the data, not its address: declare `{map}`'s value as `{pointee}` (line \
             {decl}) and pass `{var}`, which points to it. A pointer saved in a map is a kernel \
             address no reader can use, and without CAP_PERFMON the verifier refuses to leak it."
        ),
        c.line(),
        call.trim_start().to_string(),
    );
    fix.also.push(Edit {
        line: decl,
        code: declared.trim_start().to_string(),
        placement: Placement::ReplaceLine,
    });
    Some(fix)
}

/// The line of `map`'s BTF definition that declares its value type as `ty`
/// (`__type(value, struct Leaf *);`), and its text, searched above the faulting line.
fn declared_value_type(c: &Ctx<'_>, map: &str, ty: &str) -> Option<(u32, String)> {
    let fault = c.found.instruction.as_ref()?.index;
    let line = c.line()?;
    let squeeze = |t: &str| t.split_whitespace().collect::<String>();
    // `} complete SEC(".maps");` closes the definition.
    let end = (1..line).rev().find(|&l| {
        c.facts.source_line(fault, l).is_some_and(|t| {
            let t = t.trim_start();
            t.starts_with('}')
                && t[1..].trim_start().strip_prefix(map).is_some_and(|rest| {
                    rest.trim_start().starts_with("SEC(") && rest.contains(".maps")
                })
        })
    })?;
    // Up to the definition's `struct {`.
    for l in (end.saturating_sub(32).max(1)..end).rev() {
        let t = c.facts.source_line(fault, l)?;
        if let Some(inner) = t.trim().strip_prefix("__type(value,") {
            let declared = inner.rsplit_once(')')?.0;
            return (squeeze(declared) == squeeze(ty)).then_some((l, t));
        }
        if t.contains('{') || t.contains('}') {
            return None;
        }
    }
    None
}

/// The type a pointer type points to, when a stack copy can be declared with it
/// (`struct pt_regs` for `const struct pt_regs *`; not `void`, a function or a pointer).
fn pointee_type(ty: &str) -> Option<&str> {
    let pointee = ty.strip_suffix('*')?.trim();
    let pointee = pointee.strip_prefix("const ").unwrap_or(pointee).trim();
    (!matches!(pointee, "void" | "") && !pointee.contains(['(', '*', '<', '.', '[']))
        .then_some(pointee)
}

/// Code that replaces the faulting line: `copy`, a stack variable of type `pointee`, is filled
/// from `source` by `read` (bpf_probe_read_kernel...), and the call gets `&copy` as its
/// argument `n`.
fn copied_to_stack(
    c: &Ctx<'_>,
    (helper, n, text): (&str, usize, &str),
    (pointee, copy, source): (&str, &str, &str),
    read: &str,
) -> Option<String> {
    let rewritten = rewrite::replace_nth_argument(text, helper, n, &format!("&{copy}"))?;
    c.statements_for_line(
        &[
            format!("{pointee} {copy};"),
            format!("{read}(&{copy}, sizeof({copy}), {source});"),
        ],
        &rewritten,
    )
}

/// Whether a tracing program in ELF section `section` reads user memory through the pointers
/// it is given: a uprobe or USDT probe, or a probe on a system call (its pointer arguments
/// come from user space).
fn user_memory(section: &str) -> bool {
    ["uprobe", "uretprobe", "usdt", "ksyscall", "kretsyscall"]
        .iter()
        .any(|p| section.starts_with(p))
        || section.contains("sys_")
        || section.contains("syscalls/")
}

/// The pointer type of an argument written as a cast (`(const char *)PT_REGS_PARM2(ctx)` is
/// `const char *`), when it is one.
fn pointer_cast(arg: &str) -> Option<String> {
    let inner = arg.strip_prefix('(')?;
    let close = inner.find(')')?;
    let ty = inner[..close].trim();
    (ty.ends_with('*') && !inner[close + 1..].trim().is_empty()).then(|| ty.to_string())
}

/// `arg` without the casts in front of it that only quiet the compiler: to `void *` or to a
/// plain integer (`(void *)(long)ifindex` is `ifindex`), and without enclosing parentheses,
/// when what is left is a variable (else `arg` as it is).
fn without_quieting_casts(arg: &str) -> &str {
    const QUIET: &[&str] = &[
        "void *",
        "const void *",
        "void*",
        "long",
        "unsigned long",
        "long long",
        "unsigned long long",
        "__u64",
        "__s64",
        "u64",
        "uintptr_t",
    ];
    let original = arg;
    let mut arg = arg.trim();
    for _ in 0..8 {
        let Some(inner) = arg.strip_prefix('(') else {
            break;
        };
        let Some(close) = inner.find(')') else {
            break;
        };
        let rest = inner[close + 1..].trim();
        if QUIET.contains(&inner[..close].trim()) && !rest.is_empty() {
            arg = rest;
        } else if rest.is_empty() && arg.ends_with(')') && is_identifier(inner[..close].trim()) {
            arg = inner[..close].trim();
        } else {
            break;
        }
    }
    if is_identifier(arg) { arg } else { original }
}

/// The C type of the variable `name` in scope at the fault.
fn type_in_scope(c: &Ctx<'_>, name: &str) -> Option<String> {
    let fault = c.found.instruction.as_ref()?.index;
    c.facts
        .vars_in_scope(fault)
        .into_iter()
        .find(|v| v.name == name)?
        .type_name
}

/// The first of `names` that no variable in scope at the fault has.
fn unused_name(c: &Ctx<'_>, names: &[String]) -> Option<String> {
    let fault = c.found.instruction.as_ref()?.index;
    let taken: Vec<String> = c
        .facts
        .vars_in_scope(fault)
        .into_iter()
        .map(|v| v.name)
        .collect();
    names
        .iter()
        .find(|n| !taken.contains(n) && !c.fault_text().is_some_and(|t| t.contains(n.as_str())))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::{is_identifier, pointer_cast, user_memory, without_quieting_casts};

    #[test]
    fn casts_that_quiet_the_compiler_are_seen_through() {
        assert_eq!(without_quieting_casts("(void *)(long)ifindex"), "ifindex");
        assert_eq!(without_quieting_casts("(void *)sk"), "sk");
        assert_eq!(without_quieting_casts("(sk)"), "sk");
        assert_eq!(
            without_quieting_casts("(const char *)name"),
            "(const char *)name"
        );
        assert_eq!(without_quieting_casts("(long)x + 1"), "(long)x + 1");
    }

    #[test]
    fn pointer_casts_name_their_type() {
        assert_eq!(
            pointer_cast("(const char *)PT_REGS_PARM2(ctx)").as_deref(),
            Some("const char *")
        );
        assert_eq!(pointer_cast("(__u64)x"), None);
        assert_eq!(pointer_cast("(x)"), None);
    }

    #[test]
    fn system_call_and_user_probes_read_user_memory() {
        assert!(user_memory("kprobe/do_sys_openat2"));
        assert!(user_memory("uprobe"));
        assert!(user_memory("tracepoint/syscalls/sys_enter_openat"));
        assert!(!user_memory("kprobe/tcp_v4_connect"));
    }

    #[test]
    fn identifiers_are_plain_names() {
        assert!(is_identifier("sk"));
        assert!(!is_identifier("&sk"));
        assert!(!is_identifier("1x"));
    }
}
