//! The cause in words and a concrete fix, per error class, with the program's own names.

use super::{Explanation, Facts, Fix, Operand, insn};

/// A number after `key` in the verifier's message (`off=12`, `value_size=16`).
fn field(message: &[String], key: &str) -> Option<i64> {
    message.iter().find_map(|line| {
        let mut from = 0;
        while let Some(pos) = line[from..].find(key) {
            let at = from + pos;
            let boundary = at == 0 || !line.as_bytes()[at - 1].is_ascii_alphanumeric();
            let rest = &line[at + key.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(rest.len());
            if boundary && let Ok(v) = rest[..end].parse() {
                return Some(v);
            }
            from = at + key.len();
        }
        None
    })
}

/// The word after `key` in the message (`helper bpf_foo#12` -> `bpf_foo`).
fn word_after<'a>(message: &'a [String], key: &str) -> Option<&'a str> {
    message.iter().find_map(|line| {
        let rest = &line[line.find(key)? + key.len()..];
        rest.split(|c: char| c.is_whitespace() || c == '#' || c == ',')
            .find(|w| !w.is_empty())
    })
}

/// How to refer to an operand in prose: its variable, else its register.
fn name(op: &Operand) -> String {
    match (&op.variable, &op.argument) {
        (Some(v), _) => format!("`{}`", v.name),
        (None, Some(a)) => format!("`{a}` ({})", op.operand),
        (None, None) => format!("{} (no variable holds it)", op.operand),
    }
}

/// The operand's variable name for code, or a placeholder.
fn code_name(op: Option<&Operand>, placeholder: &str) -> String {
    op.and_then(|o| o.variable.as_ref())
        .map_or_else(|| placeholder.to_string(), |v| v.name.clone())
}

/// The operand for register `rN` named first in the message, else the first register operand.
fn main_operand(e: &Explanation) -> Option<&Operand> {
    let named = e.message.iter().find_map(|l| {
        let rest = l.split_once('R')?.1;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!digits.is_empty()).then(|| format!("r{digits}"))
    });
    named
        .and_then(|n| e.operands.iter().find(|o| o.operand == n))
        .or_else(|| e.operands.iter().find(|o| o.operand.starts_with('r')))
}

fn operand_with_state(e: &Explanation, pred: impl Fn(&str) -> bool) -> Option<&Operand> {
    e.operands
        .iter()
        .find(|o| o.state.as_deref().is_some_and(&pred))
}

/// The packet-end expression in the program's own words.
fn data_end(facts: &Facts<'_>, idx: Option<u32>) -> String {
    let vars = idx.map(|i| facts.vars_in_scope(i)).unwrap_or_default();
    if let Some(v) = vars
        .iter()
        .find(|v| v.name == "data_end" || v.name == "end" || v.name.ends_with("_end"))
    {
        return v.name.clone();
    }
    let ctx = vars
        .iter()
        .find(|v| v.parameter)
        .map_or("ctx", |v| v.name.as_str());
    format!("(void *)(long){ctx}->data_end")
}

fn fault_line(e: &Explanation) -> Option<u32> {
    e.location.as_ref().map(|l| l.line).filter(|&l| l > 0)
}

/// Builds the cause sentence and the fix for an explanation whose other parts are filled in.
pub(crate) fn cause_and_fix(facts: &Facts<'_>, e: &Explanation) -> (String, Fix) {
    let line = fault_line(e);
    let pass = facts.pass_value();
    let op = main_operand(e);
    let what = op.map_or_else(|| "the value".to_string(), name);
    let meaning = op.map_or(String::new(), |o| o.meaning.clone());
    let fix = |summary: String, line: Option<u32>, code: Option<String>| Fix {
        summary,
        line,
        code,
    };
    match e.id {
        "packet-out-of-bounds" | "packet-helper-out-of-bounds" => {
            let off = field(&e.message, "off=").unwrap_or(0);
            let size = field(&e.message, "size=").unwrap_or(1);
            let reg_off = op
                .and_then(|o| o.state.as_deref())
                .and_then(|s| field(&[s.to_string()], "off="))
                .unwrap_or(0);
            let need = (off - reg_off + size).max(1);
            let ptr = code_name(op, "ptr");
            let end = data_end(facts, facts.fault);
            let code = if facts.is_rust() {
                format!(
                    "if {ptr} as usize + {need} > ctx.data_end() {{\n    return xdp_action::{pass};\n}}"
                )
            } else {
                format!("if ((void *){ptr} + {need} > {end})\n\treturn {pass};")
            };
            let access = if e.id == "packet-helper-out-of-bounds" {
                format!("the helper call reads or writes {size} bytes there")
            } else {
                format!("the instruction accesses {size} byte(s) at offset {} from it", off - reg_off)
            };
            (
                format!(
                    "{what} {meaning}; {access}, so the verifier cannot prove bytes {}..{} past \
                     {what} exist.",
                    off - reg_off,
                    off - reg_off + size
                ),
                fix(
                    format!(
                        "Compare {ptr} + {need} against the packet's end before the access, and \
                         leave when the packet is shorter."
                    ),
                    line,
                    Some(code),
                ),
            )
        }
        "loop-off-by-one" => {
            let guard = e.path.iter().rev().find(|b| {
                b.condition
                    .as_deref()
                    .is_some_and(|c| c.contains("<=") || c.contains(">="))
            });
            let value_size = field(&e.message, "value_size=");
            let cause = format!(
                "the last iteration of the loop accesses one element past the end{}: the loop's \
                 guard allows the index to reach the length.",
                value_size.map_or(String::new(), |v| format!(" (offset {v} of a {v}-byte value)"))
            );
            match guard.and_then(|g| Some((g, g.condition.as_ref()?))) {
                Some((g, cond)) => (
                    cause,
                    fix(
                        format!("Make the guard strict: `<` instead of `<=` on line {}.", g.line.unwrap_or(0)),
                        g.line,
                        Some(cond.replacen("<=", "<", 1).replacen(">=", ">", 1)),
                    ),
                ),
                None => (
                    cause,
                    fix("Make the loop's guard strict (`i < N`, not `i <= N`).".into(), line, None),
                ),
            }
        }
        "map-value-out-of-bounds" => {
            let vs = field(&e.message, "value_size=").unwrap_or(0);
            let off = field(&e.message, "off=").unwrap_or(0);
            let size = field(&e.message, "size=").unwrap_or(1);
            let index = index_variable(facts);
            let code = index.as_ref().map(|i| {
                format!("if ({i} >= {})\n\treturn {pass};", (vs / size.max(1)).max(1))
            });
            (
                format!(
                    "the access covers bytes {off}..{} of a map value of {vs} bytes{}.",
                    off + size,
                    index.as_ref().map_or(String::new(), |i| format!(
                        "; the offset comes from `{i}`, whose maximum the verifier does not know to be small enough"
                    ))
                ),
                fix(
                    format!("Keep the access within the {vs}-byte value: bound the index before using it."),
                    line,
                    code,
                ),
            )
        }
        "unbounded-pointer-arithmetic" | "negative-pointer-offset" => {
            let scalar =
                operand_with_state(e, |s| s.starts_with("scalar") || s.starts_with("inv"));
            let idx = scalar
                .and_then(|o| o.variable.as_ref().map(|v| v.name.clone()))
                .or_else(|| index_variable(facts))
                .unwrap_or_else(|| "off".into());
            let negative = e.id == "negative-pointer-offset";
            let cause = match scalar {
                Some(s) => format!(
                    "`{idx}` is {} and is added to a pointer, so the verifier cannot tell where \
                     the result points.",
                    s.meaning
                ),
                None => format!(
                    "{what} {meaning}: the offset computed from `{idx}` may be {}, so the access \
                     may land outside the object.",
                    if negative { "negative" } else { "unbounded" }
                ),
            };
            (
                cause,
                fix(
                    if negative {
                        format!("Make `{idx}` unsigned (or check `{idx} >= 0`) and bound it from above before using it as an offset.")
                    } else {
                        format!("Bound `{idx}` from above (and below) before adding it to the pointer.")
                    },
                    line,
                    Some(if negative {
                        format!("if ({idx} < 0 || {idx} >= MAX)\n\treturn {pass};")
                    } else {
                        format!("if ({idx} >= MAX)  /* MAX: the object's size */\n\treturn {pass};")
                    }),
                ),
            )
        }
        "uninitialized-stack-read" => {
            let slot = e.operands.iter().find(|o| o.operand.starts_with("fp"));
            let var = slot
                .and_then(|o| o.variable.as_ref())
                .map(|v| v.name.clone())
                .or_else(|| e.operands.iter().find_map(|o| o.points_to.clone()));
            let what = var.clone().map_or("the stack buffer".to_string(), |v| format!("`{v}`"));
            (
                format!("{what} is read (directly or by a helper) before all of its bytes were written."),
                fix(
                    format!("Initialise {what} completely before it is read: zero it where it is declared."),
                    line,
                    var.map(|v| format!("__builtin_memset(&{v}, 0, sizeof({v}));")),
                ),
            )
        }
        "invalid-context-access" => {
            let off = field(&e.message, "off=").unwrap_or(0);
            let size = field(&e.message, "size=").unwrap_or(0);
            (
                format!(
                    "the program accesses {size} byte(s) at offset {off} of its context, which \
                     is not a field this program type may access that way."
                ),
                fix(
                    "Access only the context fields the program type defines (see its `struct` in \
                     <linux/bpf.h>), with their own size; copy packet data with the packet \
                     pointers, not through ctx."
                        .into(),
                    line,
                    None,
                ),
            )
        }
        "modified-context-pointer" => {
            let ptr = code_name(op, "ctx");
            (
                format!("{what} is the context pointer moved by a constant: the verifier only allows `ctx->field` accesses on the unmodified pointer."),
                fix(
                    format!("Read the field through the original context pointer (`ctx->field`), not through `{ptr}`."),
                    line,
                    None,
                ),
            )
        }
        "read-only-write" => (
            format!("{what} points to memory the program may only read."),
            fix(
                "Write into a writable map (without BPF_F_RDONLY_PROG, not frozen) or a non-const \
                 global, or copy the value to the stack first."
                    .into(),
                line,
                None,
            ),
        ),
        "misaligned-access" => (
            format!("the access through {what} is not aligned to its size."),
            fix(
                "Align the offset to the access size, or copy the bytes with __builtin_memcpy \
                 into an aligned local."
                    .into(),
                line,
                None,
            ),
        ),
        "scalar-dereference" => {
            let ptr = code_name(op, "ptr");
            let merge = e.path.last().map_or(String::new(), |b| {
                format!(" (the last branch before it: line {})", b.line.unwrap_or(0))
            });
            (
                format!("{what} is {meaning}, not a pointer: on one of the paths that meet here it was given a number{merge}, so the merged value is only a number."),
                fix(
                    format!("Keep `{ptr}` a pointer on every path: give it a pointer value (or return) in each branch, and keep numbers in another variable."),
                    line,
                    None,
                ),
            )
        }
        "null-dereference" | "null-passed-to-helper" => {
            let nullable = operand_with_state(e, |s| s.contains("_or_null")).or(op);
            let ptr = code_name(nullable, "ptr");
            let lookup = null_call_line(facts);
            let meaning = nullable.map_or(String::new(), |o| o.meaning.clone());
            let use_ = if e.id == "null-dereference" { "dereferenced" } else { "passed to a helper" };
            (
                format!("`{ptr}` {meaning}, and it is {use_} without a NULL check."),
                fix(
                    format!(
                        "Check `{ptr}` for NULL right after the call{} and leave (or take another path) when it is.",
                        lookup.map_or(String::new(), |l| format!(" on line {l}"))
                    ),
                    lookup.map(|l| l + 1).or(line),
                    Some(format!("if (!{ptr})\n\treturn {pass};")),
                ),
            )
        }
        "uninitialized-register" | "r0-not-set" => {
            let r0 = e.id == "r0-not-set";
            (
                if r0 {
                    "the function reaches its exit without setting its return value (r0) on this path.".into()
                } else {
                    format!("{what} is read but holds nothing on this path: it was never written, or a call in between overwrote it (calls clobber r1-r5).")
                },
                fix(
                    if r0 {
                        format!("Return a value on every path (for example `return {pass};`).")
                    } else {
                        "Initialise the variable before use, and do not keep values in r1-r5 across calls (use a local).".into()
                    },
                    line,
                    r0.then(|| format!("return {pass};")),
                ),
            )
        }
        "wrong-argument-type" => {
            let expected = word_after(&e.message, "expected=").unwrap_or("another type");
            let actual = word_after(&e.message, "type=").unwrap_or("another type");
            let helper = e.instruction.as_ref().and_then(|i| insn::helper_name(&i.text)).unwrap_or("the helper");
            (
                format!("{what} is {actual} ({meaning}), but {helper} expects {expected} in that argument."),
                fix(
                    if expected.starts_with("map_ptr") {
                        format!("Pass the map itself (`&map_name`, defined in SEC(\".maps\")); check that no parameter or local named like the map shadows it ({what}).")
                    } else {
                        format!("Pass a value of the expected kind ({expected}): a pointer to initialised stack or map memory, not a number.")
                    },
                    line,
                    None,
                ),
            )
        }
        "helper-size-not-positive" => {
            let size = operand_with_state(e, |s| s.starts_with("scalar") || s.starts_with("inv"));
            let v = code_name(size, "len");
            (
                format!("the size argument `{v}` is {}; the helper needs it proven to be at least 1 and at most the buffer's size.", size.map_or("not bounded".into(), |o| o.meaning.clone())),
                fix(
                    format!("Bound `{v}` on both sides right before the call."),
                    line,
                    Some(format!("if ({v} < 1 || {v} > sizeof(buf))\n\treturn {pass};")),
                ),
            )
        }
        "unreleased-reference" => {
            let alloc = field(&e.message, "alloc_insn=").and_then(|i| u32::try_from(i).ok());
            let call = alloc.and_then(|i| facts.summary.insns.get(&i)).map(|(_, t)| t.clone());
            let helper = call.as_deref().and_then(insn::helper_name).unwrap_or("");
            let release = match helper {
                h if h.contains("ringbuf_reserve") => "bpf_ringbuf_discard(ptr, 0); /* or bpf_ringbuf_submit */",
                h if h.contains("sk_lookup") || h.contains("skc_lookup") => "bpf_sk_release(sk);",
                _ => "/* release the reference: submit/discard, bpf_sk_release, bpf_obj_drop */",
            };
            let at = alloc.map_or(String::new(), |i| format!(" taken at {}", facts.where_(i)));
            (
                format!("the reference{at}{} is still held when the program exits on this path.", if helper.is_empty() { String::new() } else { format!(" by {helper}") }),
                fix("Release it on every path before returning, including early returns.".into(), line, Some(release.into())),
            )
        }
        "spin-lock-misuse" => (
            "the spin lock is not used as the verifier requires: taken and released in the same function, on every path, with no helper call or exit while it is held.".into(),
            fix("Release the lock (bpf_spin_unlock) before any call or return, on every path.".into(), line, None),
        ),
        "helper-not-allowed" => {
            let helper = word_after(&e.message, "helper ").or_else(|| word_after(&e.message, "func ")).unwrap_or("this helper");
            (
                format!("{helper} is not available to {} programs.", facts.program_type.unwrap_or("this type of")),
                fix(format!("Use a helper this program type offers instead of {helper}, or move the code to a program type that may call it."), line, None),
            )
        }
        "gpl-only-helper" => (
            "the program calls a GPL-only helper, but its license section is not GPL-compatible.".into(),
            fix("Declare a GPL-compatible license (if that is really the program's license).".into(), None, Some("char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";".into())),
        ),
        "combined-stack-too-large" => {
            let total = field(&e.message, "is ").unwrap_or(0);
            (
                format!("the stack frames of a call chain add up to {total} bytes, over the 512-byte limit."),
                fix("Shrink the largest frames: move big local buffers into a per-CPU array map, or inline (__always_inline) small callees so frames are not stacked.".into(), line, None),
            )
        }
        "complexity-limit" => {
            let hottest = e.hot_lines.first().map_or(String::new(), |h| {
                format!("; line {} alone took {:.0}% of the budget{}", h.line, h.percent, if h.in_loop { " (inside a loop)" } else { "" })
            });
            (
                format!("the verifier simulated 1,000,000 instructions along the program's paths without finishing{hottest}."),
                fix(
                    "Shrink what the verifier must explore: lower loop bounds, replace a long loop by bpf_loop() (verified once, not per iteration), drop `#pragma unroll` on long loops, or split the work with tail calls.".into(),
                    e.hot_lines.first().map(|h| h.line),
                    Some("bpf_loop(N, step_fn, &state, 0);  /* instead of for (i = 0; i < N; i++) */".into()),
                ),
            )
        }
        "call-stack-too-deep" => (
            "the chain of BPF-to-BPF calls nests more than 8 functions deep.".into(),
            fix("Inline some functions of the chain (__always_inline) or flatten the recursion-like structure.".into(), line, None),
        ),
        "tail-call-stack-limit" => (
            "a tail call happens inside a subprogram while the frames of its callers use more than 256 bytes of stack.".into(),
            fix("Shrink the callers' stack (move buffers into a per-CPU map) or make the tail call from the main function.".into(), line, None),
        ),
        "infinite-loop" => (
            "the loop comes back to the same state: nothing it tests changes between iterations.".into(),
            fix("Make the loop variable change on every iteration and bound it (or use bpf_loop()).".into(), line, None),
        ),
        "back-edge" => (
            "the program jumps backwards (a loop), which this kernel or loader does not allow.".into(),
            fix("Unroll the loop (#pragma unroll with a constant bound), or load with CAP_BPF on Linux 5.3 or later, or use bpf_loop() (5.17+).".into(), line, Some("#pragma unroll".into())),
        ),
        "division-by-zero" => (
            "the program divides by the constant zero.".into(),
            fix("Remove the division by zero (check the divisor, and do not divide by a constant 0).".into(), line, None),
        ),
        "invalid-return-value" => (
            format!("the return value is {meaning}, outside what this program type may return."),
            fix("Return only the values the program type allows (for example 0 or 1 for cgroup programs).".into(), line, None),
        ),
        "unknown-map" => (
            "the code references a map the loader cannot find among the object's maps.".into(),
            fix("Define the map in the object (`struct { ... } name SEC(\".maps\");`) or fix the name of the reference.".into(), None, None),
        ),
        "btf-relocation-failed" => (
            "a field or type accessed with CO-RE does not exist in the running kernel's BTF.".into(),
            fix("Guard the access with bpf_core_field_exists() (or use the field's name on this kernel), and check /sys/kernel/btf/vmlinux.".into(), None, None),
        ),
        _ => (
            format!("the verifier said: {}", e.message.join(" ")),
            fix("See the verifier's message and the full log (--log).".into(), line, None),
        ),
    }
}

/// The source line of the call that produced the possibly-NULL pointer.
fn null_call_line(facts: &Facts<'_>) -> Option<u32> {
    let step = facts
        .summary
        .path
        .iter()
        .rev()
        .find(|s| insn::is_call(&s.text) && s.regs.iter().any(|r| r.reg == 0 && r.or_null))?;
    facts.line_of(step.idx).map(|(_, l, _)| l)
}

/// The variable that held the scalar most recently added to a pointer on the path.
fn index_variable(facts: &Facts<'_>) -> Option<String> {
    let path = &facts.summary.path;
    for step in path.iter().rev().skip(1) {
        let t = step.text.trim();
        let split = t.split_once(" += ").or_else(|| t.split_once(" -= "));
        if let Some((lhs, rhs)) = split {
            let dst = insn::registers(lhs);
            let src = insn::registers(rhs);
            if let (Some(_), Some(&r)) = (dst.first(), src.first()) {
                if let Some(v) = facts.var_in_reg(step.idx, r) {
                    return Some(v.name);
                }
                let pos = path
                    .iter()
                    .rposition(|s| std::ptr::eq(s, step))
                    .unwrap_or(0);
                if let Some((v, _)) = facts.trace(r, pos) {
                    return Some(v.name);
                }
            }
        }
    }
    None
}
