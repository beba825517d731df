//! Every error class, one entry each: its ID, category, title and meaning, the kernel messages
//! it matches and how its cause and fix are worded. Entries are tried in order and the first
//! whose matcher accepts the message wins, so a narrower class comes before a broader one that
//! matches the same words; `unknown`, last, matches everything. Adding a class is adding an
//! entry here (and a fixture that shows it, `// explains: <id>` in `fixtures/programs/`); its
//! page in `docs/catalogue/` is generated from the entry and the fixture (`./scripts/docs-gen`).

use super::words::{CauseFix, Ctx, code_name, field, fix};
use super::{Category, ErrorClass};
use crate::evidence::Operand;
use crate::log::insn;

const PACKET: &str = "invalid access to packet";
const MAP_VALUE: &str = "invalid access to map value";

/// Every class, in the order they are tried.
pub(crate) static CATALOGUE: &[ErrorClass] = &[
    ErrorClass {
        id: "packet-helper-out-of-bounds",
        category: Category::MemorySafety,
        title: "packet memory passed to a helper is not proven in bounds",
        why: "A helper reads or writes the whole buffer it is given; when that buffer is in the packet, \
             all of its bytes must be proven in bounds against data_end before the call.",
        matches: |s| s.has(PACKET) && s.at_call(),
        explain: |c| packet_out_of_bounds(c, true),
    },
    ErrorClass {
        id: "loop-off-by-one",
        category: Category::MemorySafety,
        title: "a loop reaches one element past the end",
        why: "The loop's guard lets the index reach the array's length (`<=` where `<` was meant), so the \
             last iteration accesses one element past the end; the verifier explores that iteration \
             and refuses the access.",
        matches: |s| {
            // An element access (not a helper's buffer, whose size is the rest of the value).
            ((s.has(PACKET) || s.has(MAP_VALUE)) && s.in_loop && s.off_is_end() && !s.at_call())
                || (s.has("invalid write to stack")
                    && s.in_loop
                    && !s.has(PACKET)
                    && !s.has(MAP_VALUE))
        },
        explain: |c| {
            let guard = c.found.path.iter().rev().find(|b| {
                b.condition
                    .as_deref()
                    .is_some_and(|c| c.contains("<=") || c.contains(">="))
            });
            let value_size = c.field("value_size=");
            let cause = format!(
                "the last iteration of the loop accesses one element past the end{}: the loop's \
                 guard allows the index to reach the length.",
                value_size.map_or(String::new(), |v| format!(
                    " (offset {v} of a {v}-byte value)"
                ))
            );
            match guard.and_then(|g| Some((g, g.condition.as_ref()?))) {
                Some((g, cond)) => (
                    cause,
                    fix(
                        format!(
                            "Make the guard strict: `<` instead of `<=` on line {}.",
                            g.line.unwrap_or(0)
                        ),
                        g.line,
                        Some(cond.replacen("<=", "<", 1).replacen(">=", ">", 1)),
                    ),
                ),
                None => (
                    cause,
                    fix(
                        "Make the loop's guard strict (`i < N`, not `i <= N`).".into(),
                        c.line(),
                        None,
                    ),
                ),
            }
        },
    },
    ErrorClass {
        id: "packet-out-of-bounds",
        category: Category::MemorySafety,
        title: "packet access not proven in bounds",
        why: "Every packet read or write must be preceded by a comparison against the packet's end \
             (data_end) that proves the accessed bytes exist; the verifier tracks how many bytes past \
             each packet pointer are proven (r=) and refuses accesses beyond that.",
        matches: |s| s.has(PACKET),
        explain: |c| packet_out_of_bounds(c, false),
    },
    ErrorClass {
        id: "map-value-out-of-bounds",
        category: Category::MemorySafety,
        title: "map value access out of bounds",
        why: "Accesses into a map value must lie within value_size; with a variable offset, the \
             verifier must know its maximum, so the index needs an upper bound check.",
        matches: |s| s.has(MAP_VALUE),
        explain: |c| {
            let vs = c.field("value_size=").unwrap_or(0);
            let off = c.field("off=").unwrap_or(0);
            let size = c.field("size=").unwrap_or(1);
            let index = c
                .facts
                .index_variable(c.op_reg())
                .or_else(|| c.source_offset());
            let pass = c.pass();
            let code = index.as_ref().map(|i| {
                format!(
                    "if ({i} >= {})\n\treturn {pass};",
                    (vs / size.max(1)).max(1)
                )
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
                    c.line(),
                    code,
                ),
            )
        },
    },
    ErrorClass {
        id: "helper-size-not-positive",
        category: Category::CallTypeSafety,
        title: "a helper's size argument may be zero or negative",
        why: "A helper's size argument must be proven to lie in a range the buffer covers: more than \
             zero (unless the helper allows zero) and no larger than the buffer.",
        matches: |s| {
            s.has("invalid zero-sized read")
                || s.has("invalid zero-sized write")
                || (s.at_call()
                    && (s.has("min value is negative") || s.has("unbounded memory access")))
        },
        explain: |c| {
            // The size register is the one the message names (`R2 min value is negative`).
            let size = c
                .op()
                .filter(|o| o.state.as_deref().is_some_and(|s| !s.starts_with("fp")))
                .or_else(|| {
                    c.operand_with_state(|s| s.starts_with("scalar") || s.starts_with("inv"))
                });
            let v = size
                .and_then(|o| c.source_name(o))
                .unwrap_or_else(|| "len".to_string());
            // The buffer: the pointer argument just before the size, and how many bytes it has.
            let buffer = size
                .and_then(|o| o.operand.strip_prefix('r')?.parse::<u8>().ok())
                .and_then(|r| {
                    let prev = format!("r{}", r.checked_sub(1)?);
                    c.found.operands.iter().find(|o| o.operand == prev)
                });
            let room = buffer
                .and_then(|b| b.state.as_deref())
                .and_then(|s| {
                    let vs = super::words::field(&[s.to_string()], "vs=")?;
                    let off = super::words::field(&[s.to_string()], "off=").unwrap_or(0);
                    Some((vs - off).to_string())
                })
                .or_else(|| {
                    buffer
                        .and_then(|b| b.argument.clone())
                        .map(|a| format!("sizeof({a})"))
                })
                .unwrap_or_else(|| "sizeof(buf)".to_string());
            (
                format!(
                    "the size argument `{v}` is {}; the helper needs it proven to be at least 1 and at most the buffer's size.",
                    size.map_or("not bounded".into(), |o| o.meaning.clone())
                ),
                fix(
                    format!("Bound `{v}` on both sides right before the call."),
                    c.line(),
                    Some(format!(
                        "if ({v} < 1 || {v} > {room})\n\treturn {};",
                        c.pass()
                    )),
                ),
            )
        },
    },
    ErrorClass {
        id: "negative-pointer-offset",
        category: Category::MemorySafety,
        title: "the offset added to a pointer may be negative",
        why: "A signed value may be negative, and a negative offset reaches before the start of the \
             object; use an unsigned type or check `>= 0` before using it as an offset.",
        matches: |s| s.has("min value is negative") || s.has("negative offset"),
        explain: |c| pointer_offset(c, true),
    },
    ErrorClass {
        id: "unbounded-pointer-arithmetic",
        category: Category::MemorySafety,
        title: "pointer arithmetic with an unbounded value",
        why: "Adding a value of unknown range to a pointer makes every later access unprovable; the \
             verifier needs both a lower and an upper bound on the value added.",
        matches: |s| {
            s.has("unbounded memory access")
                || s.has("unbounded min value")
                || s.has("value is outside of the allowed memory range")
                || s.has("pointer arithmetic of map value goes out of range")
        },
        explain: |c| pointer_offset(c, false),
    },
    ErrorClass {
        id: "uninitialized-stack-read",
        category: Category::MemorySafety,
        title: "reading stack bytes that were never written",
        why: "Without CAP_PERFMON (or CAP_SYS_ADMIN) the verifier refuses reads of stack bytes the \
             program never wrote, including bytes a helper would read (a key or a buffer); with those \
             capabilities the same program loads, so the verdict depends on who loads it.",
        matches: |s| s.has("invalid read from stack") || s.has("invalid indirect read from stack"),
        explain: |c| {
            let operands = &c.found.operands;
            let slot = operands.iter().find(|o| o.operand.starts_with("fp"));
            // The register the message names points at the slot read (`R3 off -24`).
            let var = c
                .op()
                .and_then(|o| o.points_to.clone())
                .or_else(|| {
                    slot.and_then(|o| o.variable.as_ref())
                        .map(|v| v.name.clone())
                })
                .or_else(|| operands.iter().find_map(|o| o.points_to.clone()));
            let what = var
                .clone()
                .map_or("the stack buffer".to_string(), |v| format!("`{v}`"));
            // A slot holding a spilled pointer is written, but its bytes are a kernel address.
            let off = c.field("off ").or_else(|| c.field("off="));
            let spilled = off
                .and_then(|off| {
                    c.facts
                        .summary
                        .slots_before_error
                        .iter()
                        .find(|s| s.off == off)
                })
                .is_some_and(|s| spilled_pointer(&s.text));
            if spilled {
                return (
                    format!(
                        "{what} holds a pointer saved on the stack, and a helper reading it as bytes \
                         would hand a kernel address to the map or the user: without CAP_PERFMON \
                         the verifier refuses to leak pointers."
                    ),
                    fix(
                        format!(
                            "Pass the data, not the pointer: store the value {what} points to (or an \
                             id), or load the program with CAP_PERFMON."
                        ),
                        c.line(),
                        None,
                    ),
                );
            }
            // `off -16+13 size 16`: the first unwritten byte and the size read.
            let gap = c.message().iter().find_map(|m| {
                let rest = m.split(" off -").nth(1)?;
                let (_, after) = rest.split_once('+')?;
                let first: i64 = after.split_whitespace().next()?.parse().ok()?;
                let size: i64 = after.split("size ").nth(1)?.trim().parse().ok()?;
                (first > 0).then_some((first, size))
            });
            let detail = gap.map_or(String::new(), |(first, size)| {
                format!(
                    ": of the {size} bytes read, byte {first} is the first that no instruction \
                     wrote; setting every field leaves a struct's padding unwritten"
                )
            });
            (
                format!(
                    "{what} is read (directly or by a helper) before all of its bytes were written{detail}."
                ),
                if c.facts.is_rust() {
                    // Rust has no memset idiom for a struct literal: the padding becomes a field
                    // of its own, or the value starts zeroed and its fields are assigned.
                    let ty = operands
                        .iter()
                        .filter_map(|o| o.variable.as_ref())
                        .find(|v| var.as_deref() == Some(v.name.as_str()))
                        .and_then(|v| v.type_name.clone())
                        .map(|t| t.trim_start_matches("struct ").to_string());
                    fix(
                        format!(
                            "Make every byte of {what} written before it is read: declare the \
                             padding the compiler inserts as fields of their own (`_pad: u16`) \
                             set to 0, or start from `core::mem::zeroed()` and assign the fields."
                        ),
                        c.line(),
                        var.map(|v| match ty {
                            Some(t) => format!(
                                "let mut {v}: {t} = unsafe {{ core::mem::zeroed() }};\n// then {v}.field = ...; for each field"
                            ),
                            None => format!(
                                "let mut {v} = unsafe {{ core::mem::zeroed() }}; // annotate {v}'s type\n// then {v}.field = ...; for each field"
                            ),
                        }),
                    )
                } else {
                    fix(
                        format!(
                            "Initialise {what} completely before it is read: zero it where it is declared."
                        ),
                        c.line(),
                        var.map(|v| format!("__builtin_memset(&{v}, 0, sizeof({v}));")),
                    )
                },
            )
        },
    },
    ErrorClass {
        id: "modified-context-pointer",
        category: Category::RegisterTypeSafety,
        title: "dereference of a modified context pointer",
        why: "Context fields must be accessed as ctx->field with a constant offset from the \
             unmodified context pointer; the verifier rewrites these accesses and refuses pointer \
             arithmetic on ctx.",
        matches: |s| s.has("dereference of modified ctx ptr") || s.has("modified ctx ptr"),
        explain: |c| {
            let ptr = code_name(c.op(), "ctx");
            (
                format!(
                    "{} is the context pointer moved by a constant: the verifier only allows `ctx->field` accesses on the unmodified pointer.",
                    c.what()
                ),
                fix(
                    format!(
                        "Read the field through the original context pointer (`ctx->field`), not through `{ptr}`."
                    ),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "invalid-context-access",
        category: Category::MemorySafety,
        title: "invalid access to the program's context",
        why: "Only the fields the program type defines may be accessed in the context structure, each \
             with its exact size, and most of them only read.",
        matches: |s| s.has("invalid bpf_context access"),
        explain: |c| {
            let off = c.field("off=").unwrap_or(0);
            let size = c.field("size=").unwrap_or(0);
            let writes = c
                .found
                .instruction
                .as_ref()
                .is_some_and(|i| i.text.trim_start().starts_with('*'));
            let ctx = c.op().map_or("the context".to_string(), |o| {
                c.source_name(o)
                    .map_or("the context".to_string(), |n| format!("the context `{n}`"))
            });
            // The field as the source writes it (`args->common_preempt_count`).
            let field = c.op().and_then(|o| c.source_name(o)).and_then(|n| {
                let text = c.fault_text()?;
                let rest = &text[text.find(&format!("{n}->"))? + n.len() + 2..];
                let name: String = rest
                    .chars()
                    .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
                    .collect();
                (!name.is_empty()).then(|| format!(" (`{n}->{name}`)"))
            });
            (
                format!(
                    "the program {} {size} byte(s) at offset {off} of {ctx}{}, which is not a \
                     field this program type may {} that way.",
                    if writes { "writes" } else { "reads" },
                    field.unwrap_or_default(),
                    if writes { "write" } else { "read" },
                ),
                fix(
                    "Access only the context fields the program type defines (see its `struct` in \
                     <linux/bpf.h>), with their own size; copy packet data with the packet \
                     pointers, not through ctx."
                        .into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "read-only-write",
        category: Category::MemorySafety,
        title: "write into read-only memory",
        why: "The memory written is read-only for the program: a map created with BPF_F_RDONLY_PROG, \
             a frozen or .rodata map (const globals), or a read-only context field.",
        matches: |s| {
            s.has("write into map forbidden")
                || s.has("cannot write into")
                || s.has("into read-only")
                || s.has("write to rdonly")
        },
        explain: |c| {
            (
                format!("{} points to memory the program may only read.", c.what()),
                fix(
                    "Write into a writable map (without BPF_F_RDONLY_PROG, not frozen) or a non-const \
                     global, or copy the value to the stack first."
                        .into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "misaligned-access",
        category: Category::MemorySafety,
        title: "misaligned access",
        why: "The access is not aligned to its size, which the verifier refuses for the stack, for \
             atomic operations and (with strict alignment) for packets.",
        matches: |s| s.has("misaligned"),
        explain: |c| {
            (
                format!(
                    "the access through {} is not aligned to its size.",
                    c.what()
                ),
                fix(
                    "Align the offset to the access size, or copy the bytes with __builtin_memcpy \
                     into an aligned local."
                        .into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "null-passed-to-helper",
        category: Category::CallTypeSafety,
        title: "possibly NULL pointer passed to a helper",
        why: "A value that may be NULL (a map lookup's result) is passed where the helper needs a \
             valid pointer; check it against NULL first.",
        matches: |s| s.has("_or_null") && s.has("type=") && s.has("expected="),
        explain: |c| null_pointer(c, "passed to a helper"),
    },
    ErrorClass {
        id: "null-dereference",
        category: Category::RegisterTypeSafety,
        title: "possibly NULL pointer dereferenced",
        why: "A map lookup (and other helpers) may return NULL; the pointer must be compared against \
             NULL before it is dereferenced.",
        matches: |s| s.has("invalid mem access '") && s.has("_or_null'"),
        explain: |c| null_pointer(c, "dereferenced"),
    },
    ErrorClass {
        id: "scalar-dereference",
        category: Category::RegisterTypeSafety,
        title: "dereference of a plain number",
        why: "The register is a scalar (a number), not a pointer: the verifier lost the pointer type, \
             typically because two branches left different kinds of values in the same register or \
             variable and the merged value is only a number.",
        matches: |s| s.has("invalid mem access 'scalar'") || s.has("invalid mem access 'inv'"),
        explain: scalar_dereference,
    },
    ErrorClass {
        id: "wrong-argument-type",
        category: Category::CallTypeSafety,
        title: "helper argument of the wrong type",
        why: "Each helper argument has an expected type (a map, a pointer to initialised memory, a \
             context, a number); the value passed is of another kind.",
        matches: |s| s.has("type=") && s.has("expected="),
        explain: |c| {
            let expected_raw = c.word_after("expected=").unwrap_or("another type");
            // `expected=fp, pkt, ... mem, ...`: any memory the helper may read.
            let expected = if c.message().iter().any(|m| {
                m.split("expected=")
                    .nth(1)
                    .is_some_and(|e| e.contains("map_value") && e.contains("mem"))
            }) {
                "a pointer to memory (the stack, a map value, the packet)"
            } else {
                expected_raw
            };
            let actual = c.word_after("type=").unwrap_or("another type");
            let helper = c
                .found
                .instruction
                .as_ref()
                .and_then(|i| insn::helper_name(&i.text))
                .unwrap_or("the helper");
            let what = c.what();
            (
                format!(
                    "{what} is {actual} ({}), but {helper} expects {expected} in that argument.",
                    c.meaning()
                ),
                fix(
                    if expected_raw.starts_with("map_ptr") {
                        format!(
                            "Pass the map itself (`&map_name`, defined in SEC(\".maps\")); check that no parameter or local named like the map shadows it ({what})."
                        )
                    } else if actual == "ctx" {
                        format!(
                            "The context is not memory the helper may read: copy what you need from {what} to a stack variable and pass its address."
                        )
                    } else {
                        format!(
                            "Pass a value of the expected kind ({expected}): a pointer to initialised stack or map memory, not a number."
                        )
                    },
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "r0-not-set",
        category: Category::ProgramStructure,
        title: "the return value is not set",
        why: "At exit, r0 is the program's return value; on this path nothing was written to it.",
        matches: |s| s.has("!read_ok") && s.at_exit(),
        explain: |c| {
            (
                "the function reaches its exit without setting its return value (r0) on this path."
                    .into(),
                fix(
                    format!(
                        "Return a value on every path (for example `return {};`).",
                        c.pass()
                    ),
                    c.line(),
                    Some(format!("return {};", c.pass())),
                ),
            )
        },
    },
    ErrorClass {
        id: "uninitialized-register",
        category: Category::RegisterTypeSafety,
        title: "a register is read before it is written",
        why: "The instruction reads a register that holds nothing on this path: it was never set, or \
             a helper call clobbered it (calls overwrite r1-r5).",
        matches: |s| s.has("!read_ok"),
        explain: |c| {
            (
                format!(
                    "{} is read but holds nothing on this path: it was never written, or a call in between overwrote it (calls clobber r1-r5).",
                    c.what()
                ),
                fix(
                    "Initialise the variable before use, and do not keep values in r1-r5 across calls (use a local).".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "unreleased-reference",
        category: Category::ResourceLifetimeSafety,
        title: "a reference is not released on every path",
        why: "A reference taken (a ring buffer reservation, a socket lookup, a kptr) must be released \
             on every path before the program exits: submit or discard it, release the socket.",
        matches: |s| s.has("Unreleased reference") || s.has("reference leak"),
        explain: |c| {
            let facts = c.facts;
            let alloc = c.field("alloc_insn=").and_then(|i| u32::try_from(i).ok());
            let call = alloc
                .and_then(|i| facts.summary.insns.get(&i))
                .map(|(_, t)| t.clone());
            let helper = call.as_deref().and_then(insn::helper_name).unwrap_or("");
            let release = match helper {
                h if h.contains("ringbuf_reserve") => {
                    "bpf_ringbuf_discard(ptr, 0); /* or bpf_ringbuf_submit */"
                }
                h if h.contains("sk_lookup") || h.contains("skc_lookup") => "bpf_sk_release(sk);",
                _ => "/* release the reference: submit/discard, bpf_sk_release, bpf_obj_drop */",
            };
            let at = alloc.map_or(String::new(), |i| format!(" taken at {}", facts.where_(i)));
            // The variable that holds the reference: the call's result after the call.
            let holder = alloc.and_then(|i| {
                facts
                    .var_in_reg(i + 1, 0)
                    .or_else(|| facts.declared_on_line_of(i))
                    .map(|v| v.name)
                    .or_else(|| {
                        // `data = bpf_ringbuf_reserve(...)`: the variable assigned on that line.
                        let text = facts.text_of(i)?;
                        let lhs = text.split_once(" = ")?.0;
                        let name: String = lhs
                            .chars()
                            .rev()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        facts.in_scope_named(i, &name).map(|v| v.name)
                    })
            });
            let release = match &holder {
                Some(v) => release.replace("ptr", v).replace("(sk)", &format!("({v})")),
                None => release.to_string(),
            };
            let held = holder.map_or(String::new(), |v| format!(" `{v}`"));
            (
                format!(
                    "the reference{held}{at}{} is still held when the program exits on this path.",
                    if helper.is_empty() {
                        String::new()
                    } else {
                        format!(" by {helper}")
                    }
                ),
                fix(
                    "Release it on every path before returning, including early returns.".into(),
                    c.line(),
                    Some(release),
                ),
            )
        },
    },
    ErrorClass {
        id: "spin-lock-misuse",
        category: Category::ResourceLifetimeSafety,
        title: "bpf_spin_lock used incorrectly",
        why: "A spin lock must be taken and released in the same function, on every path, without \
             helper calls or exits in between, and only on a map value that holds a struct \
             bpf_spin_lock.",
        matches: |s| s.has("spin_lock") || s.has("spin_unlock") || s.has("holding a lock"),
        explain: |c| {
            (
                "the spin lock is not used as the verifier requires: taken and released in the same function, on every path, with no helper call or exit while it is held.".into(),
                fix(
                    "Release the lock (bpf_spin_unlock) before any call or return, on every path.".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "gpl-only-helper",
        category: Category::Policy,
        title: "GPL-only helper in a non-GPL program",
        why: "Some helpers may only be called by programs whose license section is GPL-compatible.",
        matches: |s| s.has("GPL"),
        explain: |_| {
            (
                "the program calls a GPL-only helper, but its license section is not GPL-compatible.".into(),
                fix(
                    "Declare a GPL-compatible license (if that is really the program's license).".into(),
                    None,
                    Some("char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";".into()),
                ),
            )
        },
    },
    ErrorClass {
        id: "helper-not-allowed",
        category: Category::Policy,
        title: "helper not allowed for this program type",
        why: "Each program type may call only some helpers; this one is not available to the type the \
             program's section gives it.",
        matches: |s| {
            s.has("cannot use helper")
                || s.has("unknown func")
                || s.has("helper call is not allowed")
        },
        explain: |c| {
            let helper = c
                .word_after("helper ")
                .or_else(|| c.word_after("func "))
                .unwrap_or("this helper");
            (
                format!(
                    "{helper} is not available to {} programs.",
                    c.facts.program_type.unwrap_or("this type of")
                ),
                fix(
                    format!(
                        "Use a helper this program type offers instead of {helper}, or move the code to a program type that may call it."
                    ),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "combined-stack-too-large",
        category: Category::VerifierLimit,
        title: "the stack of a call chain exceeds 512 bytes",
        why: "The stack frames of a chain of BPF-to-BPF calls add up; their sum must stay within \
             512 bytes (less with tail calls).",
        matches: |s| s.has("combined stack size"),
        explain: |c| {
            let total = c.field("is ").unwrap_or(0);
            (
                format!("the stack frames of a call chain add up to {total} bytes, over the 512-byte limit."),
                fix(
                    "Shrink the largest frames: move big local buffers into a per-CPU array map, or inline (__always_inline) small callees so frames are not stacked.".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "complexity-limit",
        category: Category::VerifierLimit,
        title: "the verifier's complexity limit was reached",
        why: "The verifier simulates every path; after 1,000,000 simulated instructions it gives up. \
             Loops multiply paths: each iteration is verified separately.",
        matches: |s| s.has("BPF program is too large") || s.has("too many states"),
        explain: |c| {
            let hot = c.found.hot_lines.first();
            let hottest = hot.map_or(String::new(), |h| {
                format!(
                    "; line {} alone took {:.0}% of the budget{}",
                    h.line,
                    h.percent,
                    if h.in_loop { " (inside a loop)" } else { "" }
                )
            });
            (
                format!("the verifier simulated 1,000,000 instructions along the program's paths without finishing{hottest}."),
                fix(
                    "Shrink what the verifier must explore: lower loop bounds, replace a long loop by bpf_loop() (verified once, not per iteration), drop `#pragma unroll` on long loops, or split the work with tail calls.".into(),
                    hot.map(|h| h.line),
                    Some("bpf_loop(N, step_fn, &state, 0);  /* instead of for (i = 0; i < N; i++) */".into()),
                ),
            )
        },
    },
    ErrorClass {
        id: "call-stack-too-deep",
        category: Category::VerifierLimit,
        title: "too many nested function calls",
        why: "BPF-to-BPF calls may nest at most 8 frames deep.",
        matches: |s| s.has("frames is too deep"),
        explain: |c| {
            (
                "the chain of BPF-to-BPF calls nests more than 8 functions deep.".into(),
                fix(
                    "Inline some functions of the chain (__always_inline) or flatten the recursion-like structure.".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "tail-call-stack-limit",
        category: Category::VerifierLimit,
        title: "tail call from a deep stack of subprogram frames",
        why: "When BPF-to-BPF calls and tail calls are mixed, each caller's frame must be small \
             (at most 256 bytes in total) so that tail calls cannot overflow the kernel stack.",
        matches: |s| s.has("tail_calls are not allowed"),
        explain: |c| {
            (
                "a tail call happens inside a subprogram while the frames of its callers use more than 256 bytes of stack.".into(),
                fix(
                    "Shrink the callers' stack (move buffers into a per-CPU map) or make the tail call from the main function.".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "infinite-loop",
        category: Category::ProgramStructure,
        title: "infinite loop",
        why: "The verifier reached a loop iteration in exactly the state of an earlier one, so the \
             loop can never end.",
        matches: |s| s.has("infinite loop detected"),
        explain: |c| {
            (
                "the loop comes back to the same state: nothing it tests changes between iterations.".into(),
                fix(
                    "Make the loop variable change on every iteration and bound it (or use bpf_loop()).".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "back-edge",
        category: Category::ProgramStructure,
        title: "loop (back-edge) not allowed",
        why: "Kernels before 5.3, and loaders without CAP_BPF, refuse any backward jump: every loop \
             must be unrolled.",
        matches: |s| s.has("back-edge"),
        explain: |c| {
            (
                "the program jumps backwards (a loop), which this kernel or loader does not allow.".into(),
                fix(
                    "Unroll the loop (#pragma unroll with a constant bound), or load with CAP_BPF on Linux 5.3 or later, or use bpf_loop() (5.17+).".into(),
                    c.line(),
                    Some("#pragma unroll".into()),
                ),
            )
        },
    },
    ErrorClass {
        id: "division-by-zero",
        category: Category::ProgramStructure,
        title: "division by zero",
        why: "A division or modulo by the constant zero is refused outright.",
        matches: |s| s.has("div by zero"),
        explain: |c| {
            (
                "the program divides by the constant zero.".into(),
                fix(
                    "Remove the division by zero (check the divisor, and do not divide by a constant 0).".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "invalid-return-value",
        category: Category::ProgramStructure,
        title: "return value outside the allowed range",
        why: "Some program types may only return specific values (for example 0 or 1); the verifier \
             could not prove the return value is one of them.",
        matches: |s| s.has("At program exit") || s.has("should have been in"),
        explain: |c| {
            (
                format!("the return value is {}, outside what this program type may return.", c.meaning()),
                fix(
                    "Return only the values the program type allows (for example 0 or 1 for cgroup programs).".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "btf-relocation-failed",
        category: Category::ProgramStructure,
        title: "a CO-RE (BTF) relocation failed",
        why: "A field or type accessed with CO-RE (preserve_access_index, BPF_CORE_READ) does not \
             exist in the running kernel's BTF, so the loader cannot compute its offset.",
        matches: |s| {
            s.has("relocating")
                && (s.has("field") || s.has("core") || s.has("CO-RE") || s.has("BTF"))
                || s.has("invalid func unknown#195896080")
                || s.has("bad CO-RE relocation")
        },
        explain: |_| {
            (
                "a field or type accessed with CO-RE does not exist in the running kernel's BTF.".into(),
                fix(
                    "Guard the access with bpf_core_field_exists() (or use the field's name on this kernel), and check /sys/kernel/btf/vmlinux.".into(),
                    None,
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "unknown-map",
        category: Category::ProgramStructure,
        title: "reference to a map the object does not define",
        why: "The loader must replace every map reference with a map; this one names a symbol that is \
             not a map in the object's maps sections.",
        matches: |s| {
            s.has("map")
                && (s.has("not found") || s.has("unknown symbol") || s.has("section not found"))
                || s.has("SectionNotFound")
                || s.has("not found in the symbols table")
        },
        explain: |_| {
            (
                "the code references a map the loader cannot find among the object's maps.".into(),
                fix(
                    "Define the map in the object (`struct { ... } name SEC(\".maps\");`) or fix the name of the reference.".into(),
                    None,
                    None,
                ),
            )
        },
    },
    ErrorClass {
        id: "unknown",
        category: Category::VerifierInternalError,
        title: "an error this tool does not recognise",
        why: "The verifier's own words are shown; please report the log so the catalogue can learn \
             it.",
        matches: |_| true,
        explain: |c| {
            (
                format!("the verifier said: {}", c.message().join(" ")),
                fix(
                    "See the verifier's message and the full log (--log).".into(),
                    c.line(),
                    None,
                ),
            )
        },
    },
];

/// A packet access (or a helper's packet buffer) not proven in bounds.
fn packet_out_of_bounds(c: &Ctx<'_>, helper: bool) -> CauseFix {
    let facts = c.facts;
    let op = c.op();
    let (what, meaning) = (c.what(), c.meaning());
    let off = c.field("off=").unwrap_or(0);
    let size = c.field("size=").unwrap_or(1);
    let reg_off = op
        .and_then(|o| o.state.as_deref())
        .and_then(|s| field(&[s.to_string()], "off="))
        .unwrap_or(0);
    let need = (off - reg_off + size).max(1);
    let ptr = code_name(op, "ptr");
    let end = facts.data_end(facts.fault);
    let pass = c.pass();
    let code = if facts.is_rust() {
        format!(
            "if {ptr} as usize + {need} > ctx.data_end() {{\n    return xdp_action::{pass};\n}}"
        )
    } else {
        format!("if ((void *){ptr} + {need} > {end})\n\treturn {pass};")
    };
    if helper && let Some(cause_fix) = packet_helper_variable_size(c, size) {
        return cause_fix;
    }
    let access = if helper {
        format!("the helper call reads or writes {size} bytes there")
    } else {
        format!(
            "the instruction accesses {size} byte(s) at offset {} from it",
            off - reg_off
        )
    };
    // A pointer with a variable part: say which variable it comes from, and whether its
    // maximum is past the 0xffff the verifier tracks for packet offsets.
    let state = op.and_then(|o| o.state.as_deref()).unwrap_or("");
    let variable_part = if state.contains("umax=") || state.contains("smax=") {
        let max = max_of(state);
        let own = op
            .and_then(|o| o.variable.as_ref())
            .map(|v| v.name.as_str());
        let from = facts
            .index_variable(c.op_reg())
            .filter(|v| Some(v.as_str()) != own)
            .or_else(|| {
                // The pointer's own declaration (`val = opts + optdata`).
                let fault = c.found.instruction.as_ref()?.index;
                facts.declared_offset(fault, own?)
            });
        let from = from.map_or(String::new(), |v| {
            format!("; its variable part comes from `{v}`")
        });
        let limit = if max.is_some_and(|m| m > 0xffff) {
            ", which may exceed the 0xffff bytes the verifier tracks for a packet offset, so no \
             comparison with the packet's end can prove the access"
        } else {
            ""
        };
        format!("{from}{limit}")
    } else {
        String::new()
    };
    (
        format!(
            "{what} {meaning}{variable_part}; {access}, so the verifier cannot prove bytes {}..{} past \
             {what} exist.",
            off - reg_off,
            off - reg_off + size
        ),
        fix(
            format!(
                "Compare {ptr} + {need} against the packet's end before the access, and \
                 leave when the packet is shorter."
            ),
            c.line(),
            Some(code),
        ),
    )
}

/// A helper given a packet buffer whose size is a variable (the register after the pointer
/// holds a range, not a constant): no comparison with the packet's end proves a variable
/// number of bytes, so the fix is a constant size per call, not a check of `ptr + max`.
fn packet_helper_variable_size(c: &Ctx<'_>, max: i64) -> Option<CauseFix> {
    let ptr_reg = c.op_reg()?;
    let size_op = c
        .found
        .operands
        .iter()
        .find(|o| o.operand == format!("r{}", ptr_reg + 1))?;
    let state = size_op.state.as_deref()?;
    if !(state.starts_with("scalar(") && (state.contains("umax=") || state.contains("var_off"))) {
        return None;
    }
    let with_aliases = |o: &Operand| {
        let own = c.source_name(o)?;
        let also: Vec<String> = o
            .aliases
            .iter()
            .filter(|a| **a != own)
            .map(|a| format!("`{a}`"))
            .collect();
        Some(if also.is_empty() {
            format!("`{own}`")
        } else {
            format!("`{own}` (= {})", also.join(", "))
        })
    };
    let size = with_aliases(size_op).unwrap_or_else(|| format!("r{}", ptr_reg + 1));
    let op = c.op()?;
    let ptr = with_aliases(op).unwrap_or_else(|| c.what());
    let rust = c.facts.is_rust();
    let code = if rust {
        "let mut word = start + offset;\n\
         for _ in 0..MAX_WORDS {\n    \
             if word + 4 > ctx.data_end() {\n        break;\n    }\n    \
             // the helper call on `word` with the constant size 4\n    \
             word += 4;\n\
         }"
    } else {
        "for (int i = 0; i < MAX_WORDS; i++) {\n\
         \tif ((void *)word + 4 > data_end)\n\t\tbreak;\n\
         \t/* the helper call on word with the constant size 4 */\n\
         \tword++;\n\
         }"
    };
    Some((
        format!(
            "{ptr} {}; the helper reads {size} bytes there, a size known only at run time: the \
             verifier checks its largest value, {max}, against the bytes proven past {ptr}, and \
             checking a packet that long against its end would drop every real packet.",
            c.meaning()
        ),
        fix(
            format!(
                "Give the helper a constant size: walk the buffer in fixed chunks (4 bytes for \
                 bpf_csum_diff), checking each chunk's end against the packet's end in a bounded \
                 loop, or copy the bytes out of the packet first ({}) and pass the copy.",
                if rust {
                    "aya_ebpf::helpers::bpf_xdp_load_bytes"
                } else {
                    "bpf_xdp_load_bytes or bpf_skb_load_bytes"
                }
            ),
            c.line(),
            Some(code.to_string()),
        ),
    ))
}

/// Pointer arithmetic with an offset that may be negative or is unbounded.
fn pointer_offset(c: &Ctx<'_>, negative: bool) -> CauseFix {
    let scalar = c.operand_with_state(|s| s.starts_with("scalar") || s.starts_with("inv"));
    // A variable found in a register beats the source; a name only inferred (declared on the
    // line) loses to the offset the source writes (`curr_state` in `a[*curr_state]`).
    let idx = scalar
        .and_then(|o| {
            o.variable
                .as_ref()
                .filter(|v| !v.inferred && !c.assigned_here(&v.name))
        })
        .map(|v| v.name.clone())
        .or_else(|| c.source_offset())
        .or_else(|| scalar.and_then(|o| o.variable.as_ref().map(|v| v.name.clone())))
        .or_else(|| c.facts.index_variable(c.op_reg()))
        .unwrap_or_else(|| "off".into());
    let pass = c.pass();
    let cause = match scalar {
        Some(s) => format!(
            "`{idx}` is {} and is added to a pointer, so the verifier cannot tell where \
             the result points.",
            s.meaning
        ),
        None => format!(
            "{} {}: the offset computed from `{idx}` may be {}, so the access \
             may land outside the object.",
            c.what(),
            c.meaning(),
            if negative { "negative" } else { "unbounded" }
        ),
    };
    (
        cause,
        fix(
            if negative {
                format!(
                    "Make `{idx}` unsigned (or check `{idx} >= 0`) and bound it from above before using it as an offset."
                )
            } else {
                format!("Bound `{idx}` from above (and below) before adding it to the pointer.")
            },
            c.line(),
            Some(if negative {
                format!("if ({idx} < 0 || {idx} >= MAX)\n\treturn {pass};")
            } else {
                format!("if ({idx} >= MAX)  /* MAX: the object's size */\n\treturn {pass};")
            }),
        ),
    )
}

/// A possibly-NULL pointer `use_` (dereferenced, passed to a helper) without a check.
fn null_pointer(c: &Ctx<'_>, use_: &str) -> CauseFix {
    let nullable = c.operand_with_state(|s| s.contains("_or_null")).or(c.op());
    let ptr = code_name(nullable, "ptr");
    let lookup = c.facts.null_call_line();
    let meaning = nullable.map_or(String::new(), |o| o.meaning.clone());
    (
        format!("`{ptr}` {meaning}, and it is {use_} without a NULL check."),
        fix(
            format!(
                "Check `{ptr}` for NULL right after the call{} and leave (or take another path) when it is.",
                lookup.map_or(String::new(), |l| format!(" on line {l}"))
            ),
            lookup.map(|l| l + 1).or(c.line()),
            Some(format!("if (!{ptr})\n\treturn {pass};", pass = c.pass())),
        ),
    )
}

/// A plain number dereferenced: where the number came from decides the cause and the fix.
fn scalar_dereference(c: &Ctx<'_>) -> CauseFix {
    use crate::evidence::ScalarOrigin;
    // The variable, else the register (a log alone names no variables).
    let ptr = match c.op() {
        Some(o) if o.variable.is_none() => o.operand.clone(),
        op => code_name(op, "ptr"),
    };
    let what = c.what();
    let origin = c
        .op_reg()
        .map_or(ScalarOrigin::Unknown, |r| c.facts.scalar_origin(r));
    match origin {
        ScalarOrigin::PacketInvalidated { helper, idx } => (
            format!(
                "{what} was a packet pointer, but {helper} at {} may change the packet, so the \
                 verifier invalidated every packet pointer there: after it `{ptr}` is only a number.",
                c.facts.where_(idx)
            ),
            fix(
                format!(
                    "After {helper}, load skb->data and skb->data_end again, recompute `{ptr}` from \
                     them and check it against data_end before using it."
                ),
                c.line(),
                None,
            ),
        ),
        ScalarOrigin::Call { helper, idx } if helper.contains("get_current_task") => (
            format!(
                "{what} holds the address {helper} returned at {}: to the verifier a plain number, \
                 which the program may not dereference.",
                c.facts.where_(idx)
            ),
            if c.facts.is_rust() {
                // aya-ebpf's bpf_probe_read_kernel copies a `T` from a kernel address.
                fix(
                    format!(
                        "Copy the field out of kernel memory with aya_ebpf::helpers::\
                         bpf_probe_read_kernel() instead of dereferencing `{ptr}`; it takes the \
                         field's address (`core::ptr::addr_of!`) and returns its value."
                    ),
                    c.line(),
                    Some(format!(
                        "let value = unsafe {{ bpf_probe_read_kernel(core::ptr::addr_of!((*{ptr}).field)) }}\n    .map_err(|_| ())?;"
                    )),
                )
            } else {
                fix(
                    format!(
                        "Read kernel memory through `{ptr}` with BPF_CORE_READ() or \
                         bpf_probe_read_kernel(), or use bpf_get_current_task_btf(), which \
                         returns a pointer the verifier can follow."
                    ),
                    c.line(),
                    None,
                )
            },
        ),
        ScalarOrigin::Call { helper, idx } => (
            format!(
                "{what} holds the result of {helper} at {}, a number and not a pointer the \
                 program may dereference.",
                c.facts.where_(idx)
            ),
            fix(
                format!("Do not dereference `{ptr}`; use what {helper} documents it returns."),
                c.line(),
                None,
            ),
        ),
        ScalarOrigin::Constant { value, .. } => {
            let socket = c.facts.program_type == Some("SocketFilter");
            (
                format!(
                    "{what} is the number {value}, computed from a constant and not from a \
                     pointer the program was given (its context, a map value, the stack, the \
                     packet): an address made from a number cannot be dereferenced."
                ),
                fix(
                    if socket {
                        format!(
                            "Socket filters cannot read the packet through pointers: copy the \
                             bytes `{ptr}` was meant to reach with bpf_skb_load_bytes(skb, offset, \
                             &buf, sizeof(buf))."
                        )
                    } else {
                        format!(
                            "Compute `{ptr}` from a pointer the verifier knows (ctx->data, a map \
                             lookup, a stack variable), not from a number."
                        )
                    },
                    c.line(),
                    None,
                ),
            )
        }
        ScalarOrigin::Load { idx } => (
            format!(
                "{what} was read from memory at {}: a kernel address stored as a number, which the \
                 verifier does not let the program dereference directly.",
                c.facts.where_(idx)
            ),
            fix(
                format!(
                    "Read the memory `{ptr}` points to with BPF_CORE_READ() or \
                     bpf_probe_read_kernel() into the stack."
                ),
                c.line(),
                None,
            ),
        ),
        ScalarOrigin::Unknown => {
            let merge = c
                .found
                .path
                .last()
                .and_then(|b| b.line)
                .map_or(String::new(), |l| {
                    format!(" (the last branch before it: line {l})")
                });
            (
                format!(
                    "{what} is {}, not a pointer: on one of the paths that meet here it was given a \
                     number{merge}, so the merged value is only a number.",
                    c.meaning()
                ),
                fix(
                    format!(
                        "Keep `{ptr}` a pointer on every path: give it a pointer value (or return) in \
                         each branch, and keep numbers in another variable."
                    ),
                    c.line(),
                    None,
                ),
            )
        }
    }
}

/// The largest value a verifier state allows (`umax=`, else `smax=`), decimal or hex.
fn max_of(state: &str) -> Option<u64> {
    // Equal bounds print chained: `smax=umax=smax32=umax32=0x1003b`.
    let tokens: Vec<&str> = state.split([',', '(', ')']).collect();
    ["umax=", "smax="].iter().find_map(|key| {
        let token = tokens
            .iter()
            .find(|t| t.split('=').any(|k| format!("{k}=") == *key))?;
        let text = token.rsplit('=').next()?;
        match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        }
    })
}

/// Whether a stack slot's state as the verifier prints it (`fp-8=...`) is a spilled pointer:
/// `map_value(...)`, `ctx()`, `fp-16`, not a spilled number (`scalar(...)`, which 6.18 prints
/// after the unwritten bytes of a narrow spill: `mmmm??scalar(id=1,...)`) nor a slot with bytes
/// never written (`?`).
fn spilled_pointer(slot: &str) -> bool {
    !slot.contains('?') && !slot.contains("scalar") && slot.chars().any(|ch| ch == '(' || ch == '_')
}

#[cfg(test)]
mod tests {
    use super::{max_of, spilled_pointer};

    #[test]
    fn the_maximum_of_a_state_reads_chained_and_hex_bounds() {
        assert_eq!(
            max_of(
                "pkt(id=1,off=34,r=0,smin=smin32=0,smax=umax=smax32=umax32=0x1003b,var_off=(0x0; 0x1ffff))"
            ),
            Some(0x1003b)
        );
        assert_eq!(
            max_of("scalar(umin=20,umax=60,var_off=(0x0; 0x3c))"),
            Some(60)
        );
        assert_eq!(max_of("pkt(off=14,r=14)"), None);
    }

    #[test]
    fn a_narrow_spill_of_a_number_is_not_a_spilled_pointer() {
        // 6.18 prints the unwritten bytes of a 2-byte spill before the number it holds.
        assert!(!spilled_pointer(
            "mmmm??scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=0xffff)"
        ));
        assert!(!spilled_pointer("mmmm????"));
        assert!(spilled_pointer("map_value(map=m,ks=4,vs=8)"));
        assert!(spilled_pointer("ctx()"));
    }
}
