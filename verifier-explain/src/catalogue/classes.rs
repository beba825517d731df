//! Every error class, one entry each: its ID, category, title and meaning, the kernel messages
//! it matches and how its cause and fix are worded. Entries are tried in order and the first
//! whose matcher accepts the message wins, so a narrower class comes before a broader one that
//! matches the same words; `unknown`, last, matches everything. Adding a class is adding an
//! entry here (and a fixture that shows it, `// explains: <id>` in `fixtures/programs/`); its
//! page in `docs/catalogue/` is generated from the entry and the fixture (`./scripts/docs-gen`).

use super::context_reads;
use super::ctx_write;
use super::helper_swap;
use super::loop_bound;
use super::release;
use super::returns;
use super::rewrite;
use super::source_text;
use super::words::{CauseFix, Ctx, code_name, decide, field, fix, replace};
use super::{Category, ErrorClass};
use crate::evidence::CheckShape;
use crate::evidence::{Fix, Operand};
use crate::log::insn;

const PACKET: &str = "invalid access to packet";
const MAP_VALUE: &str = "invalid access to map value";

/// Every class, in the order they are tried.
pub(crate) static CATALOGUE: &[ErrorClass] = &[
    ErrorClass {
        id: "compiler-folded-index",
        category: Category::MemorySafety,
        title: "the compiler folded a checked index into a negative pointer offset",
        why: "The index is checked on both sides and the source is right, but clang folded it \
             into the address (`&a[64 - ttl]` compiled as `a - ttl + 64`): the variable part of \
             the offset is negative, which the verifier refuses although every final address is \
             inside the object. barrier_var() on the index (bpf_helpers.h, clang 14 and later) \
             keeps it in a register so that it is added as checked.",
        matches: |s| s.check_shape(|k| matches!(k, CheckShape::FoldedSubtraction { .. })),
        explain: |c| {
            let Some(CheckShape::FoldedSubtraction {
                check_line,
                index_line,
                index,
            }) = c.check_shape()
            else {
                return pointer_offset(c, true);
            };
            let cause = format!(
                "the source is fine, the compiled code is not: the check on line {} bounds the index, but clang folded the index on line {} into the address as a subtraction, so the pointer's variable offset is negative before the constant is added back, and the verifier refuses negative variable offsets.",
                check_line.unwrap_or(0),
                index_line.unwrap_or(0)
            );
            match index.filter(|i| i.chars().all(|ch| ch.is_alphanumeric() || ch == '_')) {
                Some(i) => (
                    cause,
                    fix(
                        format!("Keep the checked `{i}` in a register so that clang adds it to the pointer as it is: barrier_var({i}) (bpf_helpers.h) right before line {}.", index_line.unwrap_or(0)),
                        index_line,
                        Some(format!("barrier_var({i});")),
                    ),
                ),
                None => (
                    cause,
                    decide(
                        "Compute the index into a local, put barrier_var(local) (bpf_helpers.h) after its check, and index with the local.".into(),
                        index_line,
                        "the name of the local that holds the checked index.",
                    ),
                ),
            }
        },
    },
    ErrorClass {
        id: "check-on-copy",
        category: Category::CallTypeSafety,
        title: "a copy of the value is checked, and the unchecked original is used",
        why: "The bounds check (or clamp) was made on a copy of the value, and the helper is \
             given the original: the verifier tracks each register on its own, so the original \
             keeps no bound. Pass the checked copy.",
        // Only when both the checked copy and the original are named: a check on a pointer
        // sum (`p + size <= data_end`) is no copy of `size`, and without the two names the
        // explanation could only repeat the size class's.
        matches: |s| {
            s.at_call()
                && s.check_shape(|k| {
                    matches!(
                        k,
                        CheckShape::CopyChecked {
                            checked: Some(_),
                            used: Some(_)
                        }
                    )
                })
        },
        explain: |c| {
            let Some(CheckShape::CopyChecked { checked, used }) = c.check_shape() else {
                return helper_size(c, false);
            };
            let (Some(checked), Some(used)) = (checked, used) else {
                return helper_size(c, false);
            };
            let cause = format!(
                "`{checked}` is the checked copy, but the call is given `{used}`, the original, which nothing bounds."
            );
            match c
                .line_source()
                .and_then(|l| rewrite::replace_argument(&l, &used, &checked))
            {
                Some(code) => (
                    cause,
                    replace(
                        format!("Pass the checked copy `{checked}` instead of `{used}`."),
                        c.line(),
                        code.trim_start().to_string(),
                    ),
                ),
                None => (
                    cause,
                    decide(
                        format!(
                            "Pass the checked copy `{checked}` instead of `{used}`, or check `{used}` itself."
                        ),
                        c.line(),
                        "which of the two values the call should get.",
                    ),
                ),
            }
        },
    },
    ErrorClass {
        id: "size-check-too-loose",
        category: Category::MemorySafety,
        title: "a size check that allows more than the buffer holds",
        why: "The size passed to a helper is checked, but against a bound larger than the buffer: \
             the verifier takes the largest size the check lets through, and that many bytes do \
             not fit. The bound in the existing check must be the buffer's size.",
        matches: |s| s.at_call() && s.check_shape(|k| matches!(k, CheckShape::LooseSize { .. })),
        explain: |c| {
            let Some(CheckShape::LooseSize {
                check_line,
                allowed,
                size,
            }) = c.check_shape()
            else {
                return helper_buffer_size(c, "buffer");
            };
            let size = size.unwrap_or_else(|| "the size".into());
            let buf = c
                .line_source()
                .and_then(|l| rewrite::buffer_for_size(&l, &size));
            let room = c.field("value_size=").map_or(String::new(), |vs| {
                format!(
                    " ({} bytes from offset {})",
                    vs - c.field("off=").unwrap_or(0),
                    c.field("off=").unwrap_or(0)
                )
            });
            let cause = format!(
                "the check on line {} lets `{size}` reach {allowed}, but the buffer{} holds less{room}: the check exists, its bound is too large.",
                check_line.unwrap_or(0),
                buf.as_ref().map_or(String::new(), |b| format!(" `{b}`"))
            );
            let rewritten = buf.as_ref().zip(check_line).and_then(|(b, line)| {
                let idx = c.found.instruction.as_ref()?.index;
                let text = c.facts.source_line(idx, line)?;
                rewrite::replace_number(&text, allowed, &format!("sizeof({b})"))
            });
            match (rewritten, buf) {
                (Some(code), Some(b)) => (
                    cause,
                    replace(
                        format!(
                            "Change the bound of the existing check on line {} from {allowed} to the buffer's size, sizeof({b}).",
                            check_line.unwrap_or(0)
                        ),
                        check_line,
                        code.trim_start().to_string(),
                    ),
                ),
                _ => (
                    cause,
                    decide(
                        format!(
                            "Change the bound of the existing check on line {} to the buffer's size.",
                            check_line.unwrap_or(0)
                        ),
                        check_line,
                        "whether the buffer should grow to the bound, or the bound shrink to the buffer.",
                    ),
                ),
            }
        },
    },
    ErrorClass {
        id: "value-reread-after-check",
        category: Category::MemorySafety,
        title: "the checked value is read again before it is used",
        why: "The bounds check tested one read of the value, and the access uses another read of \
             the same memory (a volatile, a map value or packet field read twice): the verifier \
             cannot know the second read returns what the first did, so the check does not \
             cover it.",
        matches: |s| s.check_shape(|k| matches!(k, CheckShape::Reread { .. })),
        explain: |c| {
            let Some(CheckShape::Reread {
                check_line,
                reread_line,
                what,
            }) = c.check_shape()
            else {
                return pointer_offset(c, false);
            };
            let what = what.unwrap_or_else(|| "the value".into());
            (
                format!(
                    "`{what}` is checked on line {} but read again from memory on line {}, and that second read is the one used: the check bounded the first read only.",
                    check_line.unwrap_or(0),
                    reread_line.unwrap_or(0)
                ),
                decide(
                    format!(
                        "Read `{what}` once into a local, check the local, and use the local (for a volatile or shared value, READ_ONCE into the local); do not read it again between the check and the use on line {}.",
                        reread_line.unwrap_or(0)
                    ),
                    check_line,
                    "the local's name and type, and whether the value may change between reads on purpose (then the check must be on the copy you use).",
                ),
            )
        },
    },
    ErrorClass {
        id: "check-misses-sum-operand",
        category: Category::MemorySafety,
        title: "the check bounds one operand of a sum, and the sum is used",
        why: "An index or offset made of two values is only bounded when both are: a check on one \
             operand leaves the other free, and so the sum. The check must be on the sum (or on \
             each operand, with bounds that add up within the object).",
        matches: |s| s.check_shape(|k| matches!(k, CheckShape::SumOperand { .. })),
        explain: |c| {
            let Some(CheckShape::SumOperand {
                add_line,
                checked,
                unchecked,
            }) = c.check_shape()
            else {
                return pointer_offset(c, false);
            };
            let checked = checked.unwrap_or_else(|| "one operand".into());
            // The unchecked operand as the source writes it: the other side of `a + b` on
            // the addition's line (a register may hold the sum's name already).
            let operands = add_line.and_then(|line| {
                let idx = c.found.instruction.as_ref()?.index;
                let text = c.facts.source_line(idx, line)?;
                let rhs = text.split_once(" = ")?.1.trim().trim_end_matches(';');
                let (a, b) = rhs.split_once(" + ")?;
                Some((a.trim().to_string(), b.trim().to_string()))
            });
            let unchecked = match operands {
                Some((a, b)) if a == checked => b,
                Some((a, b)) if b == checked => a,
                _ => unchecked.unwrap_or_else(|| "the other operand".into()),
            };
            let sum = c
                .facts
                .summary
                .path
                .iter()
                .rev()
                .find_map(|s| {
                    c.facts
                        .line_of(s.idx)
                        .filter(|(_, l, _)| Some(*l) == add_line)
                })
                .and_then(|_| {
                    let idx = c.found.instruction.as_ref()?.index;
                    let text = c.facts.source_line(idx, add_line?)?;
                    let (lhs, _) = text.split_once(" = ")?;
                    lhs.split_whitespace()
                        .last()
                        .map(|v| v.trim_start_matches('*').to_string())
                });
            let site = index_site(c);
            let pass = c.pass();
            let cause = format!(
                "the path checks `{checked}`, but the value used is a sum with `{unchecked}` (line {}), which nothing bounds: the check on one operand does not bound the sum.",
                add_line.unwrap_or(0)
            );
            match (sum, site) {
                (
                    Some(sum),
                    Some(IndexSite {
                        line,
                        array: Some(array),
                        index,
                    }),
                ) if index == sum => (
                    cause,
                    fix(
                        format!(
                            "Check the sum `{sum}` itself against the length of `{array}` before it is used as an index on line {}.",
                            line.unwrap_or(0)
                        ),
                        line,
                        Some(format!(
                            "if ({sum} >= sizeof({array}) / sizeof({array}[0]))\n\treturn {pass};\nbarrier_var({sum});"
                        )),
                    ),
                ),
                _ => (
                    cause,
                    decide(
                        format!(
                            "Bound the sum (or `{unchecked}` as well as `{checked}`) before it is used."
                        ),
                        add_line,
                        "the largest value the sum may take, so that the access stays inside the object.",
                    ),
                ),
            }
        },
    },
    ErrorClass {
        id: "helper-buffer-too-small",
        category: Category::MemorySafety,
        title: "a helper is given a stack buffer smaller than the size passed",
        why: "A helper writes (or reads) as many bytes as its size argument says; when the buffer \
             is on the stack, all of them must lie inside the buffer the program declared.",
        matches: |s| {
            s.at_call()
                && (s.has("invalid write to stack")
                    || s.has("invalid indirect access to stack")
                    || s.has("invalid indirect write to stack"))
        },
        explain: |c| helper_buffer_size(c, "stack buffer"),
    },
    ErrorClass {
        id: "map-value-helper-out-of-bounds",
        category: Category::MemorySafety,
        title: "a helper is given more bytes of a map value than it has",
        why: "A helper reads or writes the whole size it is given; when the buffer is in a map \
             value, offset plus size must stay within the value's size.",
        matches: |s| s.has(MAP_VALUE) && s.at_call(),
        explain: |c| {
            let (cause, fallback) = helper_buffer_size(c, "map value");
            (cause, map_value_offset_bound(c).unwrap_or(fallback))
        },
    },
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
        id: "packet-check-offset-too-large",
        category: Category::MemorySafety,
        title: "a bounds check that cannot prove a variable packet offset",
        why: "The verifier records what a comparison against data_end proves only when the \
             pointer's variable offset is at most 0xffff (MAX_PACKET_OFF); with a larger possible \
             offset the check exists but proves nothing, and the access after it is refused.",
        matches: |s| s.has(PACKET) && s.checked_pkt_end && s.pkt_offset_over_64k(),
        explain: |c| {
            let site = pointer_add_site(c);
            // The variable added to the pointer (`optdata` in `val = opts + optdata`), followed
            // back from the faulting pointer; never the pointer itself.
            let pointer = c.op().and_then(|o| c.source_name(o));
            let off = c
                .facts
                .index_variable(c.op_reg())
                .into_iter()
                .chain(site.as_ref().map(|s| s.1.clone()))
                .chain(pointer.as_ref().and_then(|p| {
                    let fault = c.found.instruction.as_ref()?.index;
                    c.facts.declared_offset(fault, p)
                }))
                .find(|v| Some(v) != pointer.as_ref())
                .unwrap_or_else(|| "off".to_string());
            let line = site.as_ref().and_then(|s| s.0).or(c.line());
            let pass = c.pass();
            // Room for the bytes read past the variable offset: offset plus size must stay
            // within 0xffff too.
            let reach = c.field("off=").unwrap_or(0).max(0) + c.field("size=").unwrap_or(1);
            let limit = 0xffff_i64.saturating_sub(reach).max(0);
            (
                format!(
                    "{} {}: the existing bounds check compares it against the packet's end, but \
                     `{off}` may be larger than 0xffff, and the verifier does not record a check \
                     on a pointer whose variable offset may exceed 0xffff, so the access is \
                     unproven although the check is there.",
                    c.what(),
                    c.meaning()
                ),
                loop_bound_fix(c, &off, line).unwrap_or_else(|| {
                    fix(
                        format!(
                            "Keep the existing check, and bound `{off}` to at most {limit:#x} (0xffff less the {reach} byte(s) read from there) before it is added to the packet pointer (line {}).",
                            line.unwrap_or(0)
                        ),
                        line,
                        Some(format!("if ({off} > {limit:#x})\n\treturn {pass};")),
                    )
                }),
            )
        },
    },
    ErrorClass {
        id: "pointer-offset-out-of-range",
        category: Category::MemorySafety,
        title: "a constant offset moves a pointer far out of its object",
        why: "The verifier refuses to add an offset of 2^29 or more (in either direction) to a \
             pointer: no object is that large, so the offset is a mistake, typically a negative \
             number computed in an unsigned type.",
        matches: |s| {
            s.has("pointer be out of bounds")
                || (s.has("math between") && s.has("pointer and") && !s.has("register with"))
        },
        explain: |c| {
            // The verifier names the extreme of a *variable* offset (`value -2147483648` for
            // an `int` added unchecked): the fix is a bound on that variable, not a constant.
            let ranged = c.operand_with_state(|s| {
                (s.starts_with("scalar") || s.starts_with("inv"))
                    && ["smin", "smax", "umax", "var_off"]
                        .iter()
                        .any(|k| s.contains(k))
            });
            if ranged.is_some() {
                return pointer_offset(c, true);
            }
            let value = c.message().iter().find_map(|m| {
                let rest = m
                    .split("pointer and ")
                    .nth(1)
                    .or(m.split("value ").nth(1))?;
                rest.split_whitespace().next()?.parse::<i64>().ok()
            });
            let wrapped = value
                .filter(|v| *v > i64::from(i32::MAX) && *v <= i64::from(u32::MAX))
                .map(|v| v - (1i64 << 32));
            (
                format!(
                    "{} {} and the offset added to it is {}{}: far beyond any object, so the result cannot point into it.",
                    c.what(),
                    c.meaning(),
                    value.map_or("too large".to_string(), |v| v.to_string()),
                    wrapped.map_or(String::new(), |w| format!(
                        ", which is {w} computed in an unsigned 32-bit type"
                    ))
                ),
                decide(
                    "Compute the offset in a signed type, and do not move a packet pointer before the packet's start: to reach the end of the packet, start from data_end after checking the length.".into(),
                    c.line(),
                    "where the pointer is meant to point, and compute that offset without unsigned wrap-around.",
                ),
            )
        },
    },
    ErrorClass {
        id: "pointer-arithmetic-prohibited",
        category: Category::RegisterTypeSafety,
        title: "arithmetic on a pointer that must not be moved",
        why: "Some pointers may only be compared or passed on, never moved: the packet's end \
             (data_end), a map pointer, the context in some programs. Comparisons must be written \
             so that the arithmetic happens on the other side (`data + n > data_end`).",
        matches: |s| s.has("pointer arithmetic on") && s.has("prohibited"),
        explain: |c| {
            let kind = c.word_after("arithmetic on ").unwrap_or("this pointer");
            let end = c
                .operand_with_state(|s| s.starts_with("pkt_end"))
                .and_then(|o| o.variable.as_ref().map(|v| v.name.clone()));
            let rewritten = end
                .as_deref()
                .zip(c.line_source())
                .and_then(|(end, line)| rewrite::move_arithmetic_off_end(&line, end));
            let cause = format!(
                "the program adds to or subtracts from {} ({kind}), which the verifier allows only to be compared.",
                c.what()
            );
            match (rewritten, end) {
                (Some(code), Some(end)) => (
                    cause,
                    replace(
                        format!(
                            "Move the arithmetic to the other side of the comparison: add to the packet pointer and compare with `{end}` itself."
                        ),
                        c.line(),
                        code.trim_start().to_string(),
                    ),
                ),
                _ => (
                    cause,
                    decide(
                        format!(
                            "Do not move the {kind} pointer: rewrite the expression so that the arithmetic happens on another pointer (for the packet's end: `data + n > data_end`, not `data > data_end - n`)."
                        ),
                        c.line(),
                        "how to express the comparison with the arithmetic on the packet pointer.",
                    ),
                ),
            }
        },
    },
    ErrorClass {
        id: "variable-stack-offset",
        category: Category::MemorySafety,
        title: "stack access at an offset the verifier cannot bound",
        why: "An index into a stack array must be bounded so that every possible offset stays \
             inside the array; with no bound (or one too large) the access could reach any stack \
             byte.",
        matches: |s| s.has("variable-offset") && s.has("stack"),
        explain: |c| {
            let idx = c
                .facts
                .index_variable(c.op_reg())
                .unwrap_or_else(|| "i".into());
            let array = c
                .found
                .operands
                .iter()
                .find_map(|o| o.points_to.clone())
                .or_else(|| {
                    c.line_source().and_then(|l| {
                        let before = l.split(&format!("[{idx}]")).next()?;
                        let start = before
                            .rfind(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '.'))
                            .map_or(0, |i| i + 1);
                        Some(before[start..].to_string()).filter(|a| !a.is_empty())
                    })
                });
            let pass = c.pass();
            let cause = format!(
                "the stack array is indexed with `{idx}`, which is {}: the verifier cannot keep the access inside the array.",
                c.operand_with_state(|s| s.starts_with("scalar"))
                    .map_or("not bounded".into(), |o| o.meaning.clone())
            );
            match array {
                Some(a) => (
                    cause,
                    fix(
                        format!("Bound `{idx}` by the array's length before indexing `{a}`."),
                        c.line(),
                        Some(format!(
                            "if ({idx} >= sizeof({a}) / sizeof({a}[0]))\n\treturn {pass};"
                        )),
                    ),
                ),
                None => (
                    cause,
                    decide(
                        format!("Bound `{idx}` by the array's length before the access."),
                        c.line(),
                        "which array the index addresses and what the program does with an index out of range.",
                    ),
                ),
            }
        },
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
                    replace(
                        format!(
                            "Make the guard strict: `<` instead of `<=` on line {}.",
                            g.line.unwrap_or(0)
                        ),
                        g.line,
                        if cond.contains("<=") {
                            cond.replacen("<=", "<", 1)
                        } else {
                            cond.replacen(">=", ">", 1)
                        },
                    ),
                ),
                None => (
                    cause,
                    decide(
                        "Make the loop's guard strict (`i < N`, not `i <= N`).".into(),
                        c.line(),
                        "which comparison guards the loop (it was not found on the path).",
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
                match code {
                    Some(code) => fix(
                        format!("Keep the access within the {vs}-byte value: bound the index before using it."),
                        c.line(),
                        Some(code),
                    ),
                    None => decide(
                        format!("Keep the access within the {vs}-byte value: the map's declared value type is smaller than what the code accesses."),
                        c.line(),
                        "whether the map's value type should grow to what the code uses, or the code should use the map's own value type.",
                    ),
                },
            )
        },
    },
    ErrorClass {
        id: "map-key-not-allowed",
        category: Category::CallTypeSafety,
        title: "a keyed map helper called on a map without keys",
        why: "Queue, stack and bloom-filter maps have no keys (key_size 0): bpf_map_lookup_elem, \
             bpf_map_update_elem and bpf_map_delete_elem cannot address an element; these maps \
             take bpf_map_peek_elem, bpf_map_pop_elem and bpf_map_push_elem.",
        matches: |s| s.at_keyed_map_call() && s.has("invalid zero-sized read"),
        explain: |c| {
            let map = c.map_name().unwrap_or_else(|| "the map".into());
            let helper = c
                .found
                .instruction
                .as_ref()
                .and_then(|i| insn::helper_name(&i.text))
                .unwrap_or("the helper");
            (
                format!(
                    "`{map}` has no keys (a queue, stack or bloom-filter map: key size 0), so {helper} has no key to read."
                ),
                decide(
                    format!(
                        "Use the helpers of keyless maps on `{map}`: bpf_map_peek_elem(&{map}, &value) reads the next element, bpf_map_pop_elem(&{map}, &value) takes it out, bpf_map_push_elem(&{map}, &value, 0) adds one; each copies the value into a local."
                    ),
                    c.line(),
                    "whether reading the element should leave it in the map (peek) or take it out (pop), and what the program does when the map is empty (the helper returns an error).",
                ),
            )
        },
    },
    ErrorClass {
        id: "helper-size-unbounded",
        category: Category::CallTypeSafety,
        title: "a helper's size argument has no upper bound",
        why: "A helper's size argument must be proven no larger than the buffer it describes; a \
             value with no upper bound (a length read from the packet or a map) could make the \
             helper run past the buffer.",
        // "R3 unbounded memory access, use 'var &= const' ...": the size register. The same
        // words ending in "make sure to bounds check any such access" are about a pointer
        // register whose offset is unbounded (`unbounded-pointer-arithmetic`), even at a call.
        matches: |s| s.at_call() && s.size_unbounded(),
        explain: |c| helper_size(c, false),
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
                || (s.at_call() && (s.has("min value is negative") || s.size_unbounded()))
        },
        explain: |c| helper_size(c, true),
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
            let slot = off.and_then(|off| {
                c.facts
                    .summary
                    .slots_before_error
                    .iter()
                    .find(|s| s.off == off)
            });
            let spilled = slot.is_some_and(|s| spilled_pointer(&s.text));
            if let (true, Some(v), Some(slot)) = (spilled, var.as_deref(), slot)
                && let Some(fix) = super::arguments::pointer_stored_in_map(c, v, &slot.text)
            {
                return (
                    format!(
                        "{what} holds a pointer saved on the stack, and the helper would store that kernel address in the map: without CAP_PERFMON the verifier refuses to leak pointers."
                    ),
                    fix,
                );
            }
            if spilled {
                return (
                    format!(
                        "{what} holds a pointer saved on the stack, and a helper reading it as bytes \
                         would hand a kernel address to the map or the user: without CAP_PERFMON \
                         the verifier refuses to leak pointers."
                    ),
                    decide(
                        format!(
                            "Pass the data, not the pointer: store the value {what} points to (or an \
                             id), or load the program with CAP_PERFMON."
                        ),
                        c.line(),
                        "what the map or the reader should get instead of the kernel address (the data it points to, or an id).",
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
        id: "compiler-folded-context-offset",
        category: Category::RegisterTypeSafety,
        title: "the compiler turned a choice between context fields into context pointer arithmetic",
        why: "Reading one of two context fields in a conditional expression (`c ? ctx->a : \
             ctx->b`) is valid C, but clang may compile it as one load from `ctx + (c ? off_a : \
             off_b)`; the verifier only accepts context loads at a constant offset from the \
             unmodified context pointer, so the compiled code is refused although the source is \
             fine.",
        matches: |s| s.has("modified ctx ptr") && s.line_selects_ctx_fields(),
        explain: |c| {
            (
                format!(
                    "the source is fine, the compiled code is not: the line chooses between two context fields, and clang folded the choice into the address ({} is the context pointer plus the selected field's offset), where the verifier allows only `ctx->field` at a constant offset.",
                    c.what()
                ),
                decide(
                    "Read each field on its own, then choose between the values: `__u32 a = ctx->a, b = ctx->b; x = c ? a : b;`, or an if/else with one field read in each branch; put `barrier_var(x)` (bpf_helpers.h) between the reads and the choice if clang still merges them (works with clang 14 and later).".into(),
                    c.line(),
                    "which of the two values to compute first; both reads are allowed, only the folded address is not.",
                ),
            )
        },
    },
    ErrorClass {
        id: "modified-context-pointer",
        category: Category::RegisterTypeSafety,
        title: "dereference of a modified context pointer",
        why: "Context fields must be accessed as ctx->field with a constant offset from the \
             unmodified context pointer; the verifier rewrites these accesses and refuses pointer \
             arithmetic on ctx. The arithmetic is often the compiler's: clang merges reads of two \
             fields on two branches into one read through ctx plus the branch's offset.",
        matches: |s| s.has("dereference of modified ctx ptr") || s.has("modified ctx ptr"),
        explain: |c| {
            if let Some(cause_fix) = context_reads::moved_pointer_fix(c) {
                return cause_fix;
            }
            let ptr = code_name(c.op(), "ctx");
            (
                format!(
                    "{} is the context pointer moved by a constant: the verifier only allows `ctx->field` accesses on the unmodified pointer.",
                    c.what()
                ),
                decide(
                    format!(
                        "Read the field through the original context pointer (`ctx->field`), not through `{ptr}`."
                    ),
                    c.line(),
                    "where the field is read: in the function that has the context, passing the value (not a pointer into ctx) to the helper function.",
                ),
            )
        },
    },
    ErrorClass {
        id: "context-field-read-only",
        category: Category::MemorySafety,
        title: "write to a context field the program may only read",
        why: "Most context fields are read-only: a program may write only the few its type allows \
             (for TC: mark, priority, tc_index, cb[], queue_mapping, tc_classid); other changes go \
             through helpers.",
        matches: |s| s.has("invalid bpf_context access") && s.at_store(),
        explain: |c| {
            let off = c.field("off=").unwrap_or(0);
            let size = c.field("size=").unwrap_or(0);
            let (ctx, field) = context_named(c);
            let cause = format!(
                "the program writes {size} byte(s) at offset {off} of {ctx}{}, a field this program type may read but not write.",
                field.unwrap_or_default()
            );
            let ctx_name = c.op().and_then(|o| c.source_name(o));
            if let Some(fix) = ctx_name.and_then(|n| ctx_write::field_write_fix(c, &n)) {
                return (cause, fix);
            }
            (
                cause,
                decide(
                    if c.facts.program_type == Some("SockOps") {
                        "Do not assign the context field: sock_ops may write only reply and sk_txhash (and set callbacks with bpf_sock_ops_cb_flags_set). To remember something about this connection, store it in a map keyed by bpf_get_socket_cookie(ctx), or in socket storage (bpf_sk_storage_get).".into()
                    } else {
                        "Do not assign the context field: change what it describes with the helper made for it (bpf_skb_change_tail for the length, bpf_skb_change_proto, bpf_xdp_adjust_head/tail), or keep the value in a writable field (skb->mark, skb->cb[]) or a map.".into()
                    },
                    c.line(),
                    "what the write was meant to achieve: a helper that changes the packet, or a field or map that carries the value on.",
                ),
            )
        },
    },
    ErrorClass {
        id: "invalid-context-access",
        category: Category::MemorySafety,
        title: "invalid access to the program's context",
        why: "Only the fields the program type defines may be accessed in the context structure, each \
             with its exact size, and most of them only read; some fields only for some attach \
             types (src_ip4 in post_bind4), and a socket filter none of the packet pointers.",
        matches: |s| s.has("invalid bpf_context access"),
        explain: |c| {
            if let Some(cause_fix) = context_reads::refused_field_fix(c) {
                return cause_fix;
            }
            let off = c.field("off=").unwrap_or(0);
            let size = c.field("size=").unwrap_or(0);
            let writes = c
                .found
                .instruction
                .as_ref()
                .is_some_and(|i| i.text.trim_start().starts_with('*'));
            let (ctx, field) = context_named(c);
            (
                format!(
                    "the program {} {size} byte(s) at offset {off} of {ctx}{}, which is not a \
                     field this program type may {} that way.",
                    if writes { "writes" } else { "reads" },
                    field.unwrap_or_default(),
                    if writes { "write" } else { "read" },
                ),
                decide(
                    "Access only the context fields the program type defines (see its `struct` in \
                     <linux/bpf.h>), with their own size; copy packet data with the packet \
                     pointers, not through ctx."
                        .into(),
                    c.line(),
                    "which field the program needs, and whether this program type offers it or another way to get it (the packet pointers, a helper).",
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
                decide(
                    "Write into a writable map (without BPF_F_RDONLY_PROG, not frozen) or a non-const \
                     global, or copy the value to the stack first."
                        .into(),
                    c.line(),
                    "whether the map should be writable for programs (drop BPF_F_RDONLY_PROG or the const) or the program should write a copy.",
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
                decide(
                    "Align the offset to the access size, or copy the bytes with __builtin_memcpy \
                     into an aligned local."
                        .into(),
                    c.line(),
                    "how to lay out the buffer so the access is aligned, or whether to copy the bytes into an aligned local.",
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
        id: "global-function-nullable-argument",
        category: Category::RegisterTypeSafety,
        title: "a global function dereferences a pointer argument that may be NULL",
        why: "A global (non-static) function is verified once, on its own, for any caller: each \
             pointer argument may be NULL there, whatever the callers pass, so it must be checked \
             inside the function.",
        matches: |s| s.has("invalid mem access '") && s.has("mem_or_null'"),
        explain: |c| {
            let ptr = code_name(c.op(), "ptr");
            let func = c
                .found
                .instruction
                .as_ref()
                .and_then(|i| i.function.clone())
                .unwrap_or_else(|| "the function".into());
            (
                format!(
                    "`{ptr}` is a pointer argument of the global function {func}(), which the verifier checks on its own for any caller, so `{ptr}` may be NULL there; it is dereferenced without a check."
                ),
                fix(
                    format!(
                        "Check `{ptr}` for NULL at the start of {func}() (or make the function `static`, so that it is verified with its callers)."
                    ),
                    c.line(),
                    Some(format!("if (!{ptr})\n\treturn 0;")),
                ),
            )
        },
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
        explain: super::arguments::wrong_argument_type,
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
                decide(
                    format!(
                        "Return a value on every path (for example `return {};`); a function declared `void` must be declared `int` first.",
                        c.pass()
                    ),
                    c.line(),
                    "the value each path returns (what it means depends on the program type: pass or drop, allow or deny).",
                ),
            )
        },
    },
    ErrorClass {
        id: "entry-parameter-not-context",
        category: Category::ProgramStructure,
        title: "the program reads an entry-function parameter beyond its context",
        why: "The kernel calls a program with one argument, its context, in r1; further \
             parameters of the entry function (r2-r5) hold nothing. Kprobe and tracepoint \
             arguments are read from the context (PT_REGS_PARMn, ctx->args[n], BPF_KPROBE, \
             BPF_PROG).",
        matches: |s| {
            s.has("!read_ok")
                && !s.at_exit()
                && !s.at_call()
                && s.at_entry
                && !s.has("R1 ")
                && !s.has("R0 ")
        },
        explain: |c| {
            let param = c
                .op()
                .and_then(|o| o.variable.as_ref().map(|v| v.name.clone()))
                .unwrap_or_else(|| c.what());
            (
                format!(
                    "{} is read at the start of the program, but the kernel passes the program only its context (r1): a second parameter (`{param}`) is never set.",
                    c.what()
                ),
                decide(
                    format!(
                        "Declare the entry function with the context alone and read `{param}` from it: PT_REGS_PARM2(ctx) for a kprobe (bpf_tracing.h, build with -D__TARGET_ARCH_x86 or your architecture), or let BPF_KPROBE(name, a, b)/BPF_PROG(name, a, b) declare the parameters; for a raw tracepoint, ctx->args[n]."
                    ),
                    c.line(),
                    "which argument of the traced function the parameter stands for, and the macro of your program type that reads it from the context.",
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
            let cause = format!(
                "{} is read but holds nothing on this path: it was never written, or a call in between overwrote it (calls clobber r1-r5).",
                c.what()
            );
            if let Some(fix) = initialised_at_declaration(c) {
                return (cause, fix);
            }
            (
                cause,
                decide(
                    "Initialise the variable before use, and do not keep values in r1-r5 across calls (use a local).".into(),
                    c.line(),
                    "which value the variable should have on the path where it is never set.",
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
                    "bpf_ringbuf_discard(record, 0) or bpf_ringbuf_submit(record, 0)"
                }
                h if h.contains("sk_lookup") || h.contains("skc_lookup") => "bpf_sk_release(sk);",
                _ => "submit or discard it, bpf_sk_release, bpf_obj_drop",
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
                Some(v) => release
                    .replace("(record,", &format!("({v},"))
                    .replace("(sk)", &format!("({v})")),
                None => release.to_string(),
            };
            let code = alloc
                .zip(holder.as_deref())
                .and_then(|(i, v)| release::release_fix(c, i, helper, v));
            let held = holder.map_or(String::new(), |v| format!(" `{v}`"));
            let cause = format!(
                "the reference{held}{at}{} is still held when the program exits on this path.",
                if helper.is_empty() {
                    String::new()
                } else {
                    format!(" by {helper}")
                }
            );
            if let Some(fix) = code {
                return (cause, fix);
            }
            (
                cause,
                decide(
                    format!(
                        "Release it on every path before returning, including early returns: {release}"
                    ),
                    c.line(),
                    "on which paths the reference is released, and whether each releases it by submitting or discarding (a path that already released it must not release it again).",
                ),
            )
        },
    },
    ErrorClass {
        id: "rcu-read-lock-not-released",
        category: Category::ResourceLifetimeSafety,
        title: "an RCU read lock is still held at exit (or unlocked twice)",
        why: "bpf_rcu_read_lock() and bpf_rcu_read_unlock() must pair up on every path, in the \
             same function; the program may not exit, or unlock, out of order.",
        matches: |s| {
            s.has("bpf_rcu_read_lock-ed region")
                || s.has("bpf_rcu_read_unlock is missing")
                || s.has("unmatched rcu read unlock")
                || s.has("nested rcu read lock")
        },
        explain: |c| {
            // An exit error is already shown at the `return` the path took (explain/exit_line.rs).
            let at = c.line();
            (
                "the path reaches the program's exit while bpf_rcu_read_lock() is still held."
                    .into(),
                fix(
                    format!(
                        "Call bpf_rcu_read_unlock() before the return on line {} (every return after the lock needs one).",
                        at.unwrap_or(0)
                    ),
                    at,
                    Some("bpf_rcu_read_unlock();".into()),
                ),
            )
        },
    },
    ErrorClass {
        id: "dynptr-not-initialized",
        category: Category::CallTypeSafety,
        title: "a dynptr is used before it is initialised",
        why: "A struct bpf_dynptr on the stack must be initialised by a helper or kfunc \
             (bpf_dynptr_from_mem, bpf_ringbuf_reserve_dynptr, bpf_dynptr_from_skb/xdp) before \
             it is read, written or sliced.",
        matches: |s| s.has("Expected an initialized dynptr") || s.has("Expected a dynptr of type"),
        explain: |c| {
            let arg = c.field("arg #").unwrap_or(1);
            (
                format!("argument {arg} of the call is a struct bpf_dynptr that no helper has initialised on this path."),
                decide(
                    "Initialise the dynptr before this call: bpf_dynptr_from_mem(buf, size, 0, &ptr) for local memory, bpf_ringbuf_reserve_dynptr for a ring buffer record, bpf_dynptr_from_skb/bpf_dynptr_from_xdp for the packet; check that call's result.".into(),
                    c.line(),
                    "which memory the dynptr should describe (a buffer, a ring buffer record, the packet).",
                ),
            )
        },
    },
    ErrorClass {
        id: "atomic-not-allowed",
        category: Category::MemorySafety,
        title: "atomic operation on memory that does not allow it",
        why: "Atomic instructions (__sync_fetch_and_add, __atomic_*) are allowed on map values, \
             the stack and some kernel memory, never on the packet or the context.",
        matches: |s| s.has("BPF_ATOMIC stores into"),
        explain: |c| {
            let cause = format!(
                "{} {}, and atomic operations are not allowed on it.",
                c.what(),
                c.meaning()
            );
            // On the packet (which no other CPU sees while the program runs) a plain
            // read-modify-write does the same: `__sync_fetch_and_add(p, v)` -> `*p += v`.
            let plain = c
                .message()
                .iter()
                .any(|m| m.contains(" pkt "))
                .then(|| c.line_source())
                .flatten()
                .and_then(|l| rewrite::atomic_to_plain(&l));
            if let Some(code) = plain {
                return (
                    cause,
                    replace(
                        "Use a plain read-modify-write on packet data: no other CPU sees this packet while the program runs.".into(),
                        c.line(),
                        code.trim_start().to_string(),
                    ),
                );
            }
            (
                cause,
                decide(
                    "Use a plain read-modify-write on packet data (no other CPU sees this packet while the program runs), or keep the counter in a map value and update it atomically there.".into(),
                    c.line(),
                    "whether the value belongs in the packet (plain write) or in a shared counter (a map value).",
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
                decide(
                    "Release the lock (bpf_spin_unlock) before any call or return, on every path.".into(),
                    c.line(),
                    "where the critical section ends: the unlock must come before any helper call or return.",
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
        explain: |c| {
            (
                "the program calls a GPL-only helper, but its license section is not GPL-compatible.".into(),
                match license_line(c) {
                    Some(line) => replace(
                        "Declare a GPL-compatible license (if that is really the program's license).".into(),
                        Some(line),
                        "char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";".into(),
                    ),
                    None => decide(
                        "Declare a GPL-compatible license (if that is really the program's license): char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";".into(),
                        None,
                        "whether the program may be licensed under the GPL; if not, it cannot call this helper.",
                    ),
                },
            )
        },
    },
    ErrorClass {
        id: "sleepable-helper",
        category: Category::ExecutionContextSafety,
        title: "a helper that may sleep in a program that may not",
        why: "Some helpers may sleep (bpf_copy_from_user, bpf_d_path on some hooks, ...); they are \
             only allowed in sleepable programs (sections ending in `.s`: lsm.s, fentry.s, \
             uprobe.s, ...), and kprobes, XDP and TC are never sleepable.",
        matches: |s| s.has("might sleep in a non-sleepable prog"),
        explain: |c| {
            let helper = c
                .found
                .instruction
                .as_ref()
                .and_then(|i| insn::helper_name(&i.text))
                .unwrap_or("the helper");
            let cause = format!("{helper} may sleep, and this program runs where it may not.");
            let swapped = (helper == "bpf_copy_from_user")
                .then(|| c.line_source())
                .flatten()
                .filter(|l| l.contains("bpf_copy_from_user("))
                .map(|l| {
                    l.trim()
                        .replacen("bpf_copy_from_user(", "bpf_probe_read_user(", 1)
                });
            match swapped {
                Some(code) => (
                    cause,
                    replace(
                        "Read user memory with bpf_probe_read_user (same arguments), which does not sleep; it fails instead of waiting when the page is not resident.".into(),
                        c.line(),
                        code,
                    ),
                ),
                None => (
                    cause,
                    decide(
                        format!("Call {helper} from a sleepable program (a section ending in `.s`), or use a helper that does not sleep."),
                        c.line(),
                        "whether the program can become sleepable (another attach point) or must use a non-sleeping helper.",
                    ),
                ),
            }
        },
    },
    ErrorClass {
        id: "kfunc-not-allowed",
        category: Category::Policy,
        title: "kernel function not available to this program type",
        why: "Each kfunc is registered for some program types only; calling it from another type \
             is refused (bpf_dynptr_from_skb is for skb programs, bpf_dynptr_from_xdp for XDP).",
        matches: |s| s.has("calling kernel function") && s.has("is not allowed"),
        explain: |c| {
            let kfunc = c.word_after("kernel function ").unwrap_or("this kfunc");
            (
                format!(
                    "{kfunc} is not registered for {} programs.",
                    c.facts.program_type.unwrap_or("this type of")
                ),
                decide(
                    format!(
                        "Call the kfunc meant for this program type instead of {kfunc} (for example bpf_dynptr_from_xdp in XDP), or move the code to a program type {kfunc} is registered for."
                    ),
                    c.line(),
                    "which program type the code belongs in, or which kfunc of this type does the same.",
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
            let cause = format!(
                "{helper} is not available to {} programs.",
                c.facts.program_type.unwrap_or("this type of")
            );
            if let Some(fix) = helper_swap::swap_fix(c, helper) {
                return (cause, fix);
            }
            (
                cause,
                decide(
                    format!(
                        "Use a helper this program type offers instead of {helper}, or move the code to a program type that may call it."
                    ),
                    c.line(),
                    "which program type the code belongs in, or which helper of this type does the same.",
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
                decide(
                    "Shrink the largest frames: move big local buffers into a per-CPU array map, or inline (__always_inline) small callees so frames are not stacked.".into(),
                    c.line(),
                    "which buffers move off the stack (into a per-CPU array map) or which calls are inlined.",
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
                decide(
                    "Shrink what the verifier must explore: lower loop bounds, replace a long loop by bpf_loop(n, step_fn, &state, 0) (verified once, not per iteration), drop `#pragma unroll` on long loops, or split the work with tail calls.".into(),
                    hot.map(|h| h.line),
                    "which loop to restructure (the hottest line above is the first candidate) and how: a bpf_loop() callback, a smaller bound, or tail calls.",
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
                decide(
                    "Inline some functions of the chain (__always_inline) or flatten the recursion-like structure.".into(),
                    c.line(),
                    "how to flatten the call chain: which functions to inline, or turning recursion into a bounded loop.",
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
                decide(
                    "Shrink the callers' stack (move buffers into a per-CPU map) or make the tail call from the main function.".into(),
                    c.line(),
                    "where the tail call goes: into the main function, or with less stack in its callers.",
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
                decide(
                    "Make the loop variable change on every iteration and bound it (or use bpf_loop()).".into(),
                    c.line(),
                    "what must change on every iteration so that the loop ends.",
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
                decide(
                    "Remove the division by zero (check the divisor, and do not divide by a constant 0).".into(),
                    c.line(),
                    "what the program does when the divisor is zero (skip the division, or use another divisor).",
                ),
            )
        },
    },
    ErrorClass {
        id: "callback-return-value",
        category: Category::ProgramStructure,
        title: "a callback returns a value its helper does not allow",
        why: "Callbacks passed to helpers (bpf_loop, bpf_for_each_map_elem, timers, \
             bpf_user_ringbuf_drain) must return what the helper understands, for bpf_loop and \
             bpf_for_each_map_elem 0 (continue) or 1 (stop).",
        matches: |s| s.has("At callback return"),
        explain: |c| {
            (
                format!("the callback returns {}, outside what its helper allows.", c.meaning()),
                decide(
                    "Return only 0 (go on) or 1 (stop) from the callback; keep any other result in the context the callback is given.".into(),
                    c.line(),
                    "which results mean stop and which go on, and where the callback keeps any other value.",
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
            let cause = format!(
                "the return value is {}, outside what this program type may return.",
                c.meaning()
            );
            if let Some(fix) = returns::return_fix(c) {
                return (cause, fix);
            }
            (
                cause,
                decide(
                    "Return only the values the program type allows (for example 0 or 1 for cgroup programs).".into(),
                    c.line(),
                    "which allowed value each path should return.",
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
                decide(
                    "Guard the access with bpf_core_field_exists() (or use the field's name on this kernel), and check /sys/kernel/btf/vmlinux.".into(),
                    None,
                    "which field to read on this kernel (its new name), or what to do when the field does not exist (bpf_core_field_exists).",
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
                decide(
                    "Define the map in the object (`struct { ... } name SEC(\".maps\");`) or fix the name of the reference.".into(),
                    None,
                    "where the map is defined: in this object, or in another object loaded and linked with it.",
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
                decide(
                    "See the verifier's message and the full log (--log).".into(),
                    c.line(),
                    "what the verifier's message asks for; report the log so the catalogue can learn it.",
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
    // A pointer to a struct (`struct ethhdr *eth`) is checked whole, `eth + 1`: the access
    // that failed may be only the first of several into it. A name inferred from the source
    // (`ipv6hdr->daddr` read through `eth + 50`) is checked whole too: the check is written in
    // the source's terms.
    let typed = op.and_then(|o| o.variable.as_ref()).is_some_and(|v| {
        v.type_name
            .as_deref()
            .is_some_and(|t| t.starts_with("struct ") && t.ends_with('*'))
            && (reg_off == 0 || v.inferred)
    });
    // A name inferred from the source (`udp` in `udp->dest`) while the register holds another
    // variable's value (`eth`): the compiler reads the field as an offset from that variable,
    // so offsets are told (and, for an untyped check, written) from it.
    let alias = op
        .filter(|o| o.variable.as_ref().is_some_and(|v| v.inferred))
        .and_then(|o| o.aliases.first())
        .cloned();
    let at = match (&alias, typed) {
        (Some(a), false) => a.clone(),
        _ => ptr.clone(),
    };
    let code = if facts.is_rust() {
        format!("if {at} as usize + {need} > ctx.data_end() {{\n    return xdp_action::{pass};\n}}")
    } else if typed {
        format!("if ((void *)({ptr} + 1) > {end})\n\treturn {pass};")
    } else {
        format!("if ((void *){at} + {need} > {end})\n\treturn {pass};")
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
    let base = alias.as_ref().map(|b| format!("`{b}`"));
    let (read_as, from) = match &base {
        Some(b) => (
            format!(
                "{what} is read through {b} (the compiler computes its fields as offsets from \
                 {b}): "
            ),
            b.clone(),
        ),
        None => (String::new(), what.clone()),
    };
    let struct_type = op
        .and_then(|o| o.variable.as_ref())
        .and_then(|v| v.type_name.as_deref())
        .map(|t| t.trim_end_matches('*').trim());
    // The struct's size measures from the register only when the register holds the struct's
    // own pointer (not a name inferred from the source while it holds another).
    let held = op
        .and_then(|o| o.variable.as_ref())
        .is_some_and(|v| !v.inferred);
    let moved = packet_check_at_call_site(c, struct_type.filter(|_| typed && held));
    let summary = if typed && !facts.is_rust() {
        format!(
            "Compare {ptr} + 1 (the end of the struct `{ptr}` points to) against the packet's end \
             before the access, and leave when the packet is shorter."
        )
    } else {
        format!(
            "Compare {at} + {need} against the packet's end before the access, and leave when \
             the packet is shorter."
        )
    };
    (
        format!(
            "{read_as}{from} {meaning}{variable_part}; {access}, so the verifier cannot prove bytes \
             {}..{} past {from} exist.",
            off - reg_off,
            off - reg_off + size
        ),
        match moved {
            Some((line, code)) => fix(
                format!(
                    "The access is in {}, inlined into the program, which cannot see the \
                     packet's end: before the call on line {line}, compare the packet's start \
                     plus the bytes it reads through {what} against the packet's end, and leave \
                     when the packet is shorter.",
                    c.found
                        .location
                        .as_ref()
                        .and_then(|l| l.function.as_deref())
                        .map_or("a function".to_string(), |f| format!("`{f}`"))
                ),
                Some(line),
                Some(code),
            ),
            None => match packet_byte_index_check(c, &end) {
                Some((summary, code)) => fix(summary, c.line(), Some(code)),
                None => code_or_template(c, op, summary, c.line(), code),
            },
        },
    )
}

/// A fix with `code` when the operand it names is a known variable; else (a log without the
/// object) the code is only a template with a placeholder, so the fix shows it in words and
/// says what the user must fill in.
fn code_or_template(
    c: &Ctx<'_>,
    op: Option<&crate::evidence::Operand>,
    summary: String,
    line: Option<u32>,
    code: String,
) -> crate::evidence::Fix {
    if op.is_some_and(|o| o.variable.is_some()) {
        return fix(summary, line, Some(code));
    }
    let reg = op.map_or_else(|| "the register".to_string(), |o| o.operand.clone());
    decide(
        format!("{summary} For example: {}", code.replace("\n\t", " ")),
        line.or(c.line()),
        &format!(
            "which variable holds {reg} (the log alone does not name it; pass the object, built with -g, to get the code with the program's names)."
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

/// Pointer arithmetic with an offset that may be negative or is unbounded. When the path
/// holds a one-sided check on the index (`if (hop >= MAX_HOPS)`), the fix completes that check;
/// else it bounds the index by the array it indexes, before the line that adds it.
fn pointer_offset(c: &Ctx<'_>, negative: bool) -> CauseFix {
    let is_scalar = |s: &str| s.starts_with("scalar") || s.starts_with("inv");
    // When the message names a pointer register (`R1 unbounded memory access` at a call whose
    // R1 is `p->buf + off`), the offset is what that pointer was computed from, not another
    // argument that happens to be a number.
    let names_pointer = c
        .op()
        .and_then(|o| o.state.as_deref())
        .is_some_and(|s| !is_scalar(s));
    let scalar = c.operand_with_state(is_scalar).filter(|_| !names_pointer);
    // A map value at an unbounded offset given to a helper: the offset gets the bound that
    // keeps offset plus size within the value, as when the message names the sizes.
    let map_value_at_call = names_pointer
        && c.found
            .instruction
            .as_ref()
            .is_some_and(|i| i.text.starts_with("call "))
        && c.op()
            .and_then(|o| o.state.as_deref())
            .is_some_and(|s| s.starts_with("map_value"));
    let site = index_site(c);
    // A variable found in a register beats the source; a name only inferred (declared on the
    // line) loses to the offset the source writes (`curr_state` in `a[*curr_state]`).
    let idx = scalar
        .and_then(|o| {
            o.variable
                .as_ref()
                .filter(|v| !v.inferred && !c.assigned_here(&v.name))
        })
        .map(|v| v.name.clone())
        .or_else(|| site.as_ref().map(|s| s.index.clone()))
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
    // An existing check that bounds the index from above only: complete it, where the index
    // is used, and pin the index in a register (barrier_var) so that clang cannot fold it into
    // the pointer again (it turns `&a[hop]` into `a + 64 - ttl`, a negative offset).
    let one_sided = negative
        .then(|| {
            c.found.path.iter().rev().find_map(|b| {
                let cond = b.condition.as_deref()?;
                let inner = cond.strip_prefix("if (")?.trim_end().strip_suffix(')')?;
                (inner.contains(&idx) && (inner.contains('>') || inner.contains('<')))
                    .then(|| (b.line, inner.to_string()))
            })
        })
        .flatten();
    if let Some((check_line, inner)) = one_sided {
        let at = site.as_ref().and_then(|s| s.line).or(c.line());
        return (
            format!(
                "{cause} The check on line {} (`{inner}`) bounds `{idx}` from one side only.",
                check_line.unwrap_or(0)
            ),
            fix(
                format!(
                    "Complete the existing check on line {}: rule out a negative `{idx}` too (or make it unsigned), and keep `{idx}` in a register with barrier_var() (bpf_helpers.h) so that clang does not fold the index into the pointer arithmetic, where the check no longer applies.",
                    check_line.unwrap_or(0)
                ),
                at,
                Some(format!(
                    "if ({idx} < 0 || {inner})\n\treturn {pass};\nbarrier_var({idx});"
                )),
            ),
        );
    }
    match site {
        Some(IndexSite {
            line,
            index,
            array: Some(array),
        }) => {
            let lower = if negative {
                format!("{index} < 0 || ")
            } else {
                String::new()
            };
            (
                cause,
                fix(
                    format!(
                        "Bound `{index}` by the length of `{array}` (and from below) before it is used as an index on line {}.",
                        line.unwrap_or(0)
                    ),
                    line,
                    Some(format!(
                        "if ({lower}{index} >= sizeof({array}) / sizeof({array}[0]))\n\treturn {pass};{}",
                        // A local is pinned in its register so that clang cannot move the
                        // check onto a temporary; an expression (`cfg->slot`) is not a variable.
                        if index.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
                            format!("\nbarrier_var({index});")
                        } else {
                            String::new()
                        }
                    )),
                ),
            )
        }
        _ if map_value_at_call && let Some(bound) = map_value_offset_bound(c) => (cause, bound),
        _ => (
            cause,
            decide(
                if negative {
                    format!(
                        "Make `{idx}` unsigned (or check `{idx} >= 0`) and bound it from above before using it as an offset."
                    )
                } else {
                    format!("Bound `{idx}` from above (and below) before adding it to the pointer.")
                },
                c.line(),
                "the largest offset the object allows (its size less the bytes accessed), which the path did not show.",
            ),
        ),
    }
}

/// Where an index was added to a pointer: the source line, the index expression and the array
/// it indexes, read from the `array[index]` on that line.
struct IndexSite {
    line: Option<u32>,
    index: String,
    array: Option<String>,
}

/// The last `rX += rY` on the path whose line indexes an array (`&t->packets[cfg->slot]`).
fn index_site(c: &Ctx<'_>) -> Option<IndexSite> {
    let facts = c.facts;
    let fault = c.found.instruction.as_ref()?.index;
    facts.summary.path.iter().rev().find_map(|step| {
        let t = step.text.trim();
        let (_, rhs) = t.split_once(" += ").or_else(|| t.split_once(" -= "))?;
        insn::registers(rhs).first()?;
        let (_, line, _) = facts.line_of(step.idx)?;
        let text = facts.source_line(fault, line)?;
        let open = text.find('[')?;
        let close = open + text[open..].find(']')?;
        let index = text[open + 1..close].trim().to_string();
        let before = &text[..open];
        let start = before
            .rfind(|ch: char| {
                !(ch.is_alphanumeric() || ch == '_' || ch == '.' || ch == '>' || ch == '-')
            })
            .map_or(0, |i| i + 1);
        let array = before[start..].trim_start_matches("->").to_string();
        (!index.is_empty()).then(|| IndexSite {
            line: Some(line),
            index,
            array: (!array.is_empty()).then_some(array),
        })
    })
}

/// A possibly-NULL pointer `use_` (dereferenced, passed to a helper) without a check.
fn null_pointer(c: &Ctx<'_>, use_: &str) -> CauseFix {
    let nullable = c.operand_with_state(|s| s.contains("_or_null")).or(c.op());
    let ptr = code_name(nullable, "ptr");
    let lookup = c.facts.null_call_line();
    let meaning = nullable.map_or(String::new(), |o| o.meaning.clone());
    (
        format!("`{ptr}` {meaning}, and it is {use_} without a NULL check."),
        code_or_template(
            c,
            nullable,
            format!(
                "Check `{ptr}` for NULL right after the call{} and leave (or take another path) when it is.",
                lookup.map_or(String::new(), |l| format!(" on line {l}"))
            ),
            lookup.map(|l| l + 1).or(c.line()),
            format!("if (!{ptr})\n\treturn {pass};", pass = c.pass()),
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
            packet_reload_fix(c, &ptr, &helper, idx).unwrap_or_else(|| {
                decide(
                    format!(
                        "After {helper}, load skb->data and skb->data_end again, recompute `{ptr}` from \
                     them and check it against data_end before using it."
                    ),
                    c.line(),
                    "where the program should take the packet data again after the helper (skb->data and skb->data_end), and what it does when the packet is now shorter.",
                )
            }),
        ),
        ScalarOrigin::Call { helper, idx } if helper.contains("get_current_task") => (
            format!(
                "{what} holds the address {helper} returned at {}: to the verifier a plain number, \
                 which the program may not dereference.",
                c.facts.where_(idx)
            ),
            if let Some(fix) = kernel_read_fix(c, &ptr) {
                fix
            } else if c.facts.is_rust() {
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
                decide(
                    format!(
                        "Read kernel memory through `{ptr}` with BPF_CORE_READ() or \
                         bpf_probe_read_kernel(), or use bpf_get_current_task_btf(), which returns a \
                         pointer the verifier can follow."
                    ),
                    c.line(),
                    "whether to read the task's fields with BPF_CORE_READ()/bpf_probe_read_kernel() or to switch to bpf_get_current_task_btf().",
                )
            },
        ),
        ScalarOrigin::Call { helper, idx } => (
            format!(
                "{what} holds the result of {helper} at {}, a number and not a pointer the \
                 program may dereference.",
                c.facts.where_(idx)
            ),
            decide(
                format!("Do not dereference `{ptr}`; use what {helper} documents it returns."),
                c.line(),
                "what the program meant to reach through the helper's result.",
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
                cursor_read_fix(c, &ptr).unwrap_or_else(|| decide(
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
                    "which pointer the program was given (context, map value, stack, packet) the address should come from.",
                )),
            )
        }
        ScalarOrigin::Load { idx } => {
            let cause = format!(
                "{what} was read from memory at {}: a kernel address stored as a number, which the \
                 verifier does not let the program dereference directly.",
                c.facts.where_(idx)
            );
            if let Some(fix) = kernel_read_fix(c, &ptr) {
                return (cause, fix);
            }
            (
                cause,
                decide(
                    format!(
                        "Read the memory `{ptr}` points to with BPF_CORE_READ() or \
                     bpf_probe_read_kernel() into the stack."
                    ),
                    c.line(),
                    "which kernel memory to copy with BPF_CORE_READ()/bpf_probe_read_kernel(), and into which stack variable.",
                ),
            )
        }
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
                decide(
                    format!(
                        "Keep `{ptr}` a pointer on every path: give it a pointer value (or return) in \
                         each branch, and keep numbers in another variable."
                    ),
                    c.line(),
                    "which pointer the variable should hold on the path that gave it a number, or whether that path should return early.",
                ),
            )
        }
    }
}

/// The packet's start and end reloaded after `helper` (called at instruction `call`, it
/// invalidated every packet pointer), `ptr` and the other packet pointers read after it
/// recomputed as the program computed them before the call and checked against the end: before
/// the faulting line (around it, when it is the unbraced body of an `if`), or right after the
/// helper's statement when a later read lies outside the faulting line's block. Only for TC
/// and XDP programs, whose context has `data` and `data_end`.
fn packet_reload_fix(
    c: &Ctx<'_>,
    ptr: &str,
    helper: &str,
    call: u32,
) -> Option<crate::evidence::Fix> {
    use super::packet_reload::{self, Packet, Var};
    use super::source_text::{depth_change, scope_end, starts_statement, unbraced_body};
    let drop = match c.facts.program_type {
        Some("SchedClassifier" | "SchedAction") => "TC_ACT_SHOT",
        Some("Xdp") => "XDP_DROP",
        _ => return None,
    };
    let line = c.line()?;
    let fault = c.found.instruction.as_ref()?.index;
    let (helper_file, helper_line, _) = c.facts.line_of(call)?;
    let (fault_file, _, _) = c.facts.line_of(fault)?;
    if helper_file != fault_file || helper_line >= line {
        return None;
    }
    let in_scope = c.facts.vars_in_scope(fault);
    let ctx = in_scope.iter().find(|v| {
        v.parameter
            && v.type_name
                .as_deref()
                .is_some_and(|t| t.contains("__sk_buff") || t.contains("xdp_md"))
    })?;
    let vars: Vec<Var> = in_scope
        .iter()
        .map(|v| Var {
            name: v.name.clone(),
            type_name: v.type_name.clone(),
            decl_line: v.decl_line,
        })
        .collect();
    let text = |n: u32| c.facts.source_line(fault, n);
    let packet = Packet {
        ctx: &ctx.name,
        vars: &vars,
        pass: c.pass(),
    };
    let body_end = scope_end(&text, ctx.decl_line?, true)?;
    let others = packet_reload::also_stale(&text, ptr, helper_line, line, body_end, &packet);
    let mut ptrs = vec![ptr];
    ptrs.extend(others.iter().map(String::as_str));
    let reload = packet_reload::reload(&text, &ptrs, line, &packet)?;
    let also = match others.as_slice() {
        [] => String::new(),
        [one] => format!(
            " `{one}`, read further on, was taken before the call too: it is recomputed and checked the same way."
        ),
        more => format!(
            " {}, read further on, were taken before the call too: they are recomputed and checked the same way.",
            more.iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let summary = format!(
        "After {helper}, which may move the packet, load {ctx}->data and {ctx}->data_end again, \
         recompute `{ptr}` as before (`{}`) and check it against the packet's end before using \
         it.{also} The check returns {pass} when the packet is now too short; return {drop} to \
         drop it instead. If the helper added or removed bytes before `{ptr}`, recompute it at \
         its new offset.",
        reload.recomputed,
        ctx = ctx.name,
        pass = c.pass(),
    );
    // A later read outside the faulting line's block needs the reload on every path to it:
    // right after the helper's statement.
    let mut depth = 0;
    let leaves_block = (line..body_end).any(|n| {
        depth += text(n).map_or(0, |t| depth_change(&t));
        depth < 0
            && others.iter().any(|o| {
                ((n + 1)..=body_end)
                    .filter_map(text)
                    .any(|t| t.contains(&format!("{o}->")))
            })
    });
    if leaves_block {
        let mut depth = 0;
        let after = ((helper_line + 1)..=line).find(|&n| {
            depth += text(n - 1).map_or(0, |t| depth_change(&t));
            depth == 0 && starts_statement(&text, n)
        })?;
        return Some(fix(summary, Some(after), Some(reload.code)));
    }
    if starts_statement(&text, line) {
        return Some(fix(summary, Some(line), Some(reload.code)));
    }
    if others.is_empty() && unbraced_body(&text, line) {
        let body = text(line)?;
        let block = format!(
            "{{\n\t{}\n\t{}\n}}",
            reload.code.replace('\n', "\n\t"),
            body.trim()
        );
        return Some(replace(summary, Some(line), block));
    }
    None
}

/// Every read through `ptr` (a kernel address the program holds as a number) rewritten to copy
/// the field out of kernel memory: with BPF_CORE_READ() when the program includes
/// bpf_core_read.h, else through bpf_probe_read_kernel(); a loop walking a chain of such
/// pointers gets a bound. Only for tracing programs (which may call the helper), and only when
/// every read of `ptr` in its scope has a shape the rewrite knows.
fn kernel_read_fix(c: &Ctx<'_>, ptr: &str) -> Option<crate::evidence::Fix> {
    use super::kernel_read::{self, CHAIN_BOUND, Reader, Scope};
    let tracing = matches!(
        c.facts.program_type,
        Some(
            "KProbe"
                | "UProbe"
                | "TracePoint"
                | "RawTracePoint"
                | "RawTracePointWritable"
                | "PerfEvent"
                | "Tracing"
                | "Lsm"
        )
    );
    if !tracing || c.facts.is_rust() {
        return None;
    }
    let line = c.line()?;
    let fault = c.found.instruction.as_ref()?.index;
    let var = c
        .facts
        .vars_in_scope(fault)
        .into_iter()
        .find(|v| v.name == ptr)?;
    let scope = Scope {
        decl_line: var.decl_line?,
        parameter: var.parameter,
    };
    let text = |n: u32| c.facts.source_line(fault, n);
    let core = var
        .type_name
        .as_deref()
        .is_some_and(|t| kernel_read::co_re_type(&text, line, t));
    let reader = if core {
        Reader::Core
    } else {
        Reader::ProbeKernel
    };
    let reads = kernel_read::rewrite(&text, &[ptr], line, scope, reader)?;
    // A bit-field has no address: neither a copy nor BPF_CORE_READ() reads it.
    if reads
        .fields(ptr, &text)
        .iter()
        .any(|f| kernel_read::declares_bitfield(&text, f))
    {
        return None;
    }
    let first = &reads.first;
    let head = if core {
        format!("Read `{first}` with BPF_CORE_READ(), which copies it out of kernel memory")
    } else {
        format!("Copy `{first}` into the stack with bpf_probe_read_kernel() and use the copy")
    };
    let mut tail = String::new();
    if let Some(l) = reads.bounded_loop {
        tail = format!(
            " The loop on line {l} walks a chain of pointers read from kernel memory, whose end \
             the verifier cannot see: it now stops after {CHAIN_BOUND} steps; raise the bound if \
             the chain can be longer."
        );
    }
    Some(rewritten_reads(
        reads,
        line,
        &head,
        &format!("`{ptr}`"),
        &tail,
    ))
}

/// The fix that replaces each line of `reads` (the faulting line `line` first): `head` says
/// what the faulting line's read becomes, the other lines are listed as reading through
/// `through` too, and `tail` ends the summary.
fn rewritten_reads(
    reads: super::kernel_read::KernelReads,
    line: u32,
    head: &str,
    through: &str,
    tail: &str,
) -> crate::evidence::Fix {
    let others: Vec<String> = reads
        .lines
        .iter()
        .map(|(n, _)| *n)
        .filter(|&n| n != line && Some(n) != reads.bounded_loop)
        .map(|n| n.to_string())
        .collect();
    let also = match others.as_slice() {
        [] => ".".to_string(),
        [one] => format!("; line {one} reads through {through} too and is rewritten the same way."),
        more => format!(
            "; lines {} read through {through} too and are rewritten the same way.",
            more.join(", ")
        ),
    };
    let mut code = String::new();
    let mut edits = Vec::new();
    for (n, text) in reads.lines {
        if n == line {
            code = text;
        } else {
            edits.push(crate::evidence::Edit {
                line: n,
                code: text,
                placement: crate::evidence::Placement::ReplaceLine,
            });
        }
    }
    let mut fix = replace(format!("{head}{also}{tail}"), Some(line), code);
    fix.also = edits;
    fix
}

/// A bcc-style cursor in a program on a socket buffer: `ptr` is computed from a pointer
/// variable that starts at 0 (`__u8 *cursor = 0;`), so its value is the packet offset of the
/// header it stands for. Every read through it, and through the other pointers computed from
/// the same cursor, becomes a bpf_skb_load_bytes() copy from that offset (`(long)&p->field`).
fn cursor_read_fix(c: &Ctx<'_>, ptr: &str) -> Option<crate::evidence::Fix> {
    use super::kernel_read::{self, Reader, Scope};
    use super::source_text::{evaluated, identifiers, last_assignment};
    if c.facts.is_rust() {
        return None;
    }
    let line = c.line()?;
    let fault = c.found.instruction.as_ref()?.index;
    let in_scope = c.facts.vars_in_scope(fault);
    let ctx = in_scope.iter().find(|v| {
        v.parameter
            && v.type_name
                .as_deref()
                .is_some_and(|t| t.contains("__sk_buff"))
    })?;
    let text = |n: u32| c.facts.source_line(fault, n);
    let pointer = |name: &str| {
        in_scope.iter().find(|v| {
            v.name == name
                && !v.parameter
                && v.type_name.as_deref().is_some_and(|t| t.ends_with('*'))
        })
    };
    // A variable declared as the null pointer: `__u8 *cursor = 0;`.
    let starts_at_zero = |name: &str| {
        pointer(name).is_some_and(|v| {
            v.decl_line.is_some_and(|d| {
                last_assignment(&text, name, d, d + 1).is_some_and(|(_, rhs)| {
                    let rhs = rhs.trim();
                    let value = rhs.rsplit(')').next().unwrap_or(rhs).trim();
                    value == "0" || value == "NULL"
                })
            })
        })
    };
    let computed_from = |name: &str, before: u32| -> Vec<String> {
        pointer(name)
            .and_then(|v| last_assignment(&text, name, v.decl_line?, before))
            .map(|(_, rhs)| {
                identifiers(&evaluated(&rhs))
                    .into_iter()
                    .map(|(_, id)| id)
                    .filter(|id| pointer(id).is_some())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut roots: Vec<String> = computed_from(ptr, line)
        .into_iter()
        .filter(|r| starts_at_zero(r))
        .collect();
    if starts_at_zero(ptr) {
        roots.push(ptr.to_string());
    }
    if roots.is_empty() {
        return None;
    }
    // The other pointers made from the same cursor that the function reads through.
    let body = Scope {
        decl_line: ctx.decl_line?,
        parameter: true,
    };
    let end = super::source_text::scope_end(&text, body.decl_line, true)?;
    let mut ptrs: Vec<String> = vec![ptr.to_string()];
    for n in body.decl_line..=end {
        let code = super::source_text::code_only(&text(n).unwrap_or_default());
        for v in &in_scope {
            let name = v.name.as_str();
            if ptrs.iter().any(|p| p == name) || !code.contains(&format!("{name}->")) {
                continue;
            }
            if pointer(name).is_some() && computed_from(name, n).iter().any(|id| roots.contains(id))
            {
                ptrs.push(name.to_string());
            }
        }
    }
    let names: Vec<&str> = ptrs.iter().map(String::as_str).collect();
    let reader = Reader::SkbLoad {
        ctx: &ctx.name,
        fail: c.pass(),
    };
    let reads = kernel_read::rewrite(&text, &names, line, body, reader)?;
    let cursor = roots.first()?;
    let head = format!(
        "`{ptr}` is made from `{cursor}`, which starts at 0: its value is the packet offset of \
         the header it stands for, not an address the program may read. Copy that header out of \
         the packet with bpf_skb_load_bytes({ctx}, (long){ptr}, &copy, sizeof(copy)) into a \
         copy on the stack and read `{}` from the copy",
        reads.first,
        ctx = ctx.name,
    );
    let tail = format!(
        " A load that fails (the packet is too short) returns {}; inside an expression, where \
         no return fits, a failed load leaves the copy zeroed.",
        c.pass()
    );
    let through = format!("a pointer made from `{cursor}`");
    Some(rewritten_reads(reads, line, &head, &through, &tail))
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

/// A helper's size argument not proven in range: `positive` when the lower bound is missing
/// (it may be zero), else the upper bound. The fix bounds it on both sides against the buffer
/// the call passes with it.
fn helper_size(c: &Ctx<'_>, positive: bool) -> CauseFix {
    // The size register is the one the message names (`R2 min value is negative`).
    let size = c
        .op()
        .filter(|o| {
            o.state
                .as_deref()
                .is_some_and(|s| s.starts_with("scalar") || s.starts_with("inv"))
        })
        .or_else(|| c.operand_with_state(|s| s.starts_with("scalar") || s.starts_with("inv")));
    let v = size
        .and_then(|o| c.source_name(o))
        .unwrap_or_else(|| "len".to_string());
    // The buffer goes with the size argument as written (`(int)len`), else with its variable.
    let written = size.and_then(|o| o.argument.clone());
    let raw_buf = c.line_source().and_then(|l| {
        written
            .as_deref()
            .and_then(|a| rewrite::buffer_for_size(&l, a))
            .or_else(|| rewrite::buffer_for_size(&l, &v))
    });
    let buf_operand = raw_buf.as_ref().and_then(|b| {
        c.found
            .operands
            .iter()
            .find(|o| o.argument.as_deref() == Some(b.as_str()))
    });
    // A packet pointer has no `sizeof`: the bytes after it are proven against data_end, and a
    // variable size cannot be. The data is copied out first.
    if let (Some(b), Some(o)) = (raw_buf.as_deref(), buf_operand)
        && o.state.as_deref().is_some_and(|s| s.starts_with("pkt("))
        && let Some(cause_fix) = packet_size_copy(c, &v, b)
    {
        return cause_fix;
    }
    // `sizeof` of a `void *` is the pointer's 8 bytes, not the buffer's.
    let untyped = buf_operand
        .and_then(|o| o.variable.as_ref())
        .and_then(|v| v.type_name.as_deref())
        .is_some_and(|t| t.starts_with("void") || t.starts_with("const void"));
    let buf = raw_buf
        .filter(|_| {
            !untyped
                && buf_operand
                    .is_none_or(|o| !o.state.as_deref().is_some_and(|s| s.starts_with("pkt(")))
        })
        .map(|b| {
            // A pointer (`struct event *event`) is measured by what it points to: sizeof of
            // the pointer itself would allow only 8 bytes.
            // The argument must be the pointer variable itself: `entry->buffer` is an array
            // member of what `entry` points to, measured as it is.
            let pointer = c.found.operands.iter().any(|o| {
                o.argument.as_deref() == Some(b.as_str())
                    && o.variable.as_ref().is_some_and(|v| {
                        v.name == b
                            && v.type_name
                                .as_deref()
                                .is_some_and(|t| t.ends_with('*') && !t.starts_with("void"))
                    })
            });
            if pointer { format!("*{b}") } else { b }
        });
    let missing = if positive {
        "it may be zero (or negative), and the helper needs at least 1"
    } else {
        "it has no upper bound, and the helper needs it no larger than the buffer"
    };
    let cause = format!(
        "the size argument `{v}` is {}: {missing}.",
        size.map_or("not bounded".into(), |o| o.meaning.clone())
    );
    let pass = c.pass();
    // A 32-bit size taken from a 64-bit register (a probe's argument cast to `int`): clang
    // checks a sign- or zero-extended copy and passes the original register, whose upper half
    // the verifier knows nothing about. The check then goes on a 64-bit copy that an empty asm
    // keeps in its register, and the call is given that copy.
    let narrow = size
        .and_then(|o| o.variable.as_ref())
        .filter(|var| var.name == v)
        .and_then(|var| var.type_name.as_deref())
        .is_some_and(narrow_integer);
    // The copy's declarations go where the call is, which must be a statement of its own.
    let at_statement = c.line().and_then(|l| needs_block(c, l)) == Some(false);
    let with_copy = (narrow && at_statement)
        .then(|| {
            let checked = format!("{v}_checked");
            let call = rewrite::replace_argument(&c.line_source()?, &v, &checked)?;
            Some((checked, call))
        })
        .flatten();
    match (buf, with_copy) {
        (Some(buf), Some((checked, call))) => (
            cause,
            replace(
                format!(
                    "Bound `{v}` on both sides right before the call: at least 1 and at most the size of `{buf}`. `{v}` is narrower than a register, so the bound goes on a 64-bit copy that an empty asm keeps in its register (clang would otherwise check an extended copy and pass the unchecked register), and the call gets the copy."
                ),
                c.line(),
                format!(
                    "__u64 {checked} = {v};\nasm volatile(\"\" : \"+r\"({checked}));\nif ({checked} < 1 || {checked} > sizeof({buf}))\n\treturn {pass};\n{}",
                    call.trim_start()
                ),
            ),
        ),
        (Some(buf), None) => (
            cause,
            fix(
                format!(
                    "Bound `{v}` on both sides right before the call: at least 1 and at most the size of `{buf}`."
                ),
                c.line(),
                Some(format!(
                    "if ({v} < 1 || {v} > sizeof({buf}))\n\treturn {pass};"
                )),
            ),
        ),
        (None, _) => (
            cause,
            decide(
                format!(
                    "Bound `{v}` on both sides right before the call: at least 1 and at most the size of the buffer it describes."
                ),
                c.line(),
                "the largest size the buffer passed with it holds, and what the program does with a longer input.",
            ),
        ),
    }
}

/// A helper given a packet pointer `buf` with a variable size `size` that may be zero: the
/// bytes after a packet pointer are proven only up to a constant distance from data_end, so no
/// bound on `size` alone makes the call safe. The fix copies the bytes out of the packet into
/// a stack buffer with the program type's load-bytes helper (which checks the packet's length
/// itself), bounded on both sides by that buffer, and gives the copy to the helper: the
/// faulting line is replaced by the copy and the call. `None` when the program type has no
/// load-bytes helper, the line is not a statement that may be followed by others, or the
/// names the code needs are not visible on the line.
fn packet_size_copy(c: &Ctx<'_>, size: &str, buf: &str) -> Option<CauseFix> {
    let facts = c.facts;
    let load = match facts.program_type? {
        "Xdp" => "bpf_xdp_load_bytes",
        "SchedClassifier" | "SchedAction" => "bpf_skb_load_bytes",
        _ => return None,
    };
    let fault = c.found.instruction.as_ref()?.index;
    if facts.is_rust() || facts.in_inlined(fault) {
        return None;
    }
    let ctx = facts.ctx_param(fault)?;
    let line = c.line_source()?;
    let line_no = c.line()?;
    // The line must be a whole statement after which more statements may follow.
    let code_part = line
        .split_once("//")
        .map_or(line.as_str(), |(code, _)| code);
    if !code_part.trim_end().ends_with(';') {
        return None;
    }
    let block = needs_block(c, line_no)?;
    let is_ident = source_text::is_identifier;
    let copy = if is_ident(buf) {
        format!("{buf}_copy")
    } else {
        "copy".to_string()
    };
    if facts.in_scope_named(fault, &copy).is_some() || !is_ident(size) {
        return None;
    }
    // The copy lives on the stack next to what the program already uses there.
    let room = match facts.stack_used() {
        0..=192 => 256,
        193..=320 => 128,
        _ => return None,
    };
    // The size is widened into a 64-bit variable the compiler cannot see through: a 32-bit
    // size is otherwise checked zero-extended in one register and passed in another whose
    // upper half the verifier knows nothing about.
    let len = format!("{copy}_len");
    if facts.in_scope_named(fault, &len).is_some() {
        return None;
    }
    let call = rewrite::replace_argument(&line, buf, &format!("(void *){copy}"))?;
    let call = rewrite::replace_argument(&call, size, &len)?;
    let pass = c.pass();
    let code = format!(
        "__u8 {copy}[{room}] = {{}};\n\
         __u64 {len} = {size};\n\
         asm volatile(\"\" : \"+r\"({len}));\n\
         if ({len} < 1 || {len} > sizeof({copy}) ||\n    \
         {load}({ctx}, (void *){buf} - (void *)(long){ctx}->data, {copy}, {len}))\n\
         \treturn {pass};\n\
         {}",
        call.trim()
    );
    let code = if block {
        let body: Vec<String> = code.lines().map(|l| format!("\t{l}")).collect();
        format!("{{\n{}\n}}", body.join("\n"))
    } else {
        code
    };
    let cause = format!(
        "the size argument `{size}` is not bounded, and the buffer `{buf}` is a pointer into the \
         packet: the verifier must prove every byte the helper may read before data_end, and it \
         can prove only a constant distance past a packet pointer, never a variable size."
    );
    Some((
        cause,
        replace(
            format!(
                "Copy the bytes out of the packet into a stack buffer with {load}() (it checks \
                 the packet's length itself), with `{size}` bounded by that buffer on both sides, \
                 and give the copy to the helper. {room} bytes is a guess at the largest `{size}`: \
                 raise it (or use a per-CPU map value) if the data can be longer."
            ),
            Some(line_no),
            code,
        ),
    ))
}

/// The fix for a packet offset `off` that the enclosing `while` loop's condition bounds in the
/// source (`while (off <= 40)`) but the compiled code does not: the loop header, found above
/// `line` (where `off` is added to the pointer) as the nearest less indented loop, is replaced
/// by a loop with a constant trip count that masks `off` to the bound's bits at the top of each
/// iteration. `None` when the access is not in a loop or the loop is not of that shape.
fn loop_bound_fix(c: &Ctx<'_>, off: &str, line: Option<u32>) -> Option<crate::evidence::Fix> {
    let facts = c.facts;
    let fault = c.found.instruction.as_ref()?.index;
    let line = line?;
    if facts.is_rust() || !facts.in_loop(fault) {
        return None;
    }
    let (header_line, header) = enclosing_loop(c, line)?;
    let bound = loop_bound::while_bound(header.trim_start(), off)?;
    let taken: Vec<String> = facts
        .vars_in_scope(fault)
        .into_iter()
        .map(|v| v.name)
        .collect();
    let counter = ["i", "iter", "trip"].into_iter().find(|n| {
        !taken.iter().any(|t| t == n)
            && !header
                .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .any(|w| w == *n)
    })?;
    let code = loop_bound::bounded_loop(&bound, off, counter);
    Some(replace(
        format!(
            "The loop's condition (`{}`, line {header_line}) bounds `{off}` in the source, but \
             the compiled code loses that bound (it widens `{off}` or tests a copy), so the \
             verifier sees an offset that may pass 0xffff. Give the loop a constant trip count \
             and bound `{off}` again at the top of each iteration with a mask the compiler cannot \
             fold away. The count assumes each iteration moves `{off}` on by at least one: raise \
             it if an iteration can leave `{off}` unchanged.",
            bound.condition
        ),
        Some(header_line),
        code,
    ))
}

/// The loop whose body holds source line `line` of the faulting instruction's file (see
/// [`source_text::enclosing_loop`]).
fn enclosing_loop(c: &Ctx<'_>, line: u32) -> Option<(u32, String)> {
    let fault = c.found.instruction.as_ref()?.index;
    source_text::enclosing_loop(|l| c.facts.source_line(fault, l), line)
}

/// The fix for a helper given a map value at a variable offset (`filename + pos`) with a size
/// that does not leave room: a bound on the offset so that offset plus size fits the value
/// (`if (pos > MAX_PATH - 64) break;`), and, when the size may fill the whole value and is a
/// variable, a clamp of the size to an eighth of the value. The value's size is written as the
/// source's `#define` of that number when there is one. `None` when the offset is not a
/// variable in scope, the size cannot be made smaller, or the line is the body of an `if`.
fn map_value_offset_bound(c: &Ctx<'_>) -> Option<crate::evidence::Fix> {
    let facts = c.facts;
    let fault = c.found.instruction.as_ref()?.index;
    let line = c.line()?;
    if facts.is_rust() || needs_block(c, line)? {
        return None;
    }
    let ptr = c.op()?;
    let reg = c.op_reg()?;
    // "invalid access to map value, value_size=.. off=.. size=.." says both sizes; "R1
    // unbounded memory access" says neither, and the registers do: the value's `vs=` in the
    // pointer's state, the size as the constant in the next argument register.
    let state_number = |state: &str, key: &str| -> Option<i64> {
        let rest = &state[state.find(key)? + key.len()..];
        let end = rest
            .find(|ch: char| !ch.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    };
    let value_size = c
        .field("value_size=")
        .or_else(|| state_number(ptr.state.as_deref()?, "vs="))?;
    let size = c.field("size=").or_else(|| {
        let next = format!("r{}", reg + 1);
        let o = c.found.operands.iter().find(|o| o.operand == next)?;
        o.state.as_deref()?.trim().parse().ok()
    })?;
    if !ptr
        .state
        .as_deref()
        .is_some_and(|s| s.contains("var_off") || s.contains("umax"))
    {
        return None;
    }
    let is_ident = source_text::is_identifier;
    let off = facts
        .index_variable(Some(reg))
        .or_else(|| c.source_offset())
        .filter(|o| is_ident(o))?;
    // The offset is what the pointer argument adds (`filename + pos`).
    let written = ptr.argument.as_deref()?;
    if !written
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
        .any(|w| w == off)
    {
        return None;
    }
    let off_var = facts.in_scope_named(fault, &off)?;
    let signed = off_var.type_name.as_deref().is_some_and(|t| {
        let t = t.trim_start_matches("const ").trim();
        !(t.starts_with("unsigned")
            || t.starts_with("__u")
            || t.starts_with('u')
            || t.starts_with("size_t")
            || t.starts_with("bool")
            || t.starts_with("_Bool"))
    });
    // The size argument follows the pointer (`bpf_probe_read_kernel_str(dst, size, src)`).
    let size_arg = c
        .found
        .operands
        .iter()
        .find(|o| o.operand == format!("r{}", reg + 1))
        .and_then(|o| o.argument.clone())?;
    let clampable = is_ident(&size_arg)
        && facts
            .in_scope_named(fault, &size_arg)
            .is_some_and(|v| !v.type_name.as_deref().is_some_and(|t| t.contains("const")));
    // The value's size as the source names it.
    let value = (1..line)
        .filter_map(|l| facts.source_line(fault, l))
        .filter_map(|t| {
            let rest = t.trim().strip_prefix("#define")?;
            let mut words = rest.split_whitespace();
            let (name, val) = (words.next()?, words.next()?);
            (words.next().is_none() && val.parse::<i64>().ok() == Some(value_size))
                .then(|| name.to_string())
        })
        .next()
        .unwrap_or_else(|| value_size.to_string());
    let leave = if enclosing_loop(c, line).is_some() {
        "break".to_string()
    } else {
        format!("return {}", c.pass())
    };
    let below = if signed {
        format!("{off} < 0 || ")
    } else {
        String::new()
    };
    let (code, how) = if size < value_size && (size * 2 <= value_size || !clampable) {
        // A variable's largest value is the number; a macro or `sizeof` is kept as written.
        let variable = is_ident(&size_arg) && facts.in_scope_named(fault, &size_arg).is_some();
        let size_text = if variable {
            size.to_string()
        } else {
            size_arg.clone()
        };
        (
            format!("if ({below}{off} > {value} - {size_text})\n\t{leave};"),
            format!("at most {value} less the {size} byte(s) the helper is given"),
        )
    } else if clampable {
        let piece = 1i64 << (63 - (value_size / 8).max(1).leading_zeros());
        (
            format!(
                "if ({below}{off} > {value} - {piece})\n\t{leave};\nif ({size_arg} > {piece})\n\t{size_arg} = {piece};"
            ),
            format!(
                "at most {value} less {piece}, and `{size_arg}` to at most {piece} (an eighth of \
                 the value: change the split if single pieces can be longer)"
            ),
        )
    } else {
        return None;
    };
    Some(fix(
        format!(
            "Bound `{off}` right before the call so that offset plus size fits the {value_size}-byte \
             value: `{off}` {how}. The verifier adds the largest offset to the largest size, so \
             both need a bound that keeps their sum within the value."
        ),
        Some(line),
        Some(code),
    ))
}

/// The check for a packet byte read at a variable index from a header pointer, as the
/// faulting line writes it (`*((unsigned char *)tcp + i)`): the index `i` is what the path added
/// to the pointer, and the check covers the bytes read at that index,
/// `(void *)tcp + i + 1 > data_end`, not the header the pointer's type names. Inside a loop it
/// leaves the loop (`break`: the code after the loop, which may release what the program holds,
/// still runs), else it returns the pass value. Returns the summary and the code; `None` for
/// other shapes.
fn packet_byte_index_check(c: &Ctx<'_>, end: &str) -> Option<(String, String)> {
    let facts = c.facts;
    if facts.is_rust() || !c.op()?.state.as_deref()?.starts_with("pkt(") {
        return None;
    }
    let line = c.line()?;
    if needs_block(c, line)? {
        return None;
    }
    let fault = c.found.instruction.as_ref()?.index;
    let text = c.fault_text()?;
    let words: Vec<&str> = text
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
        .filter(|w| !w.is_empty() && !w.starts_with(|ch: char| ch.is_ascii_digit()))
        .collect();
    // The pointer the index is added to, cast to bytes: `(unsigned char *)tcp + i`. The
    // verifier may have unrolled the loop (a constant offset) or not (a variable one): the
    // source's shape is what is checked.
    let casts = [
        "(unsigned char *)",
        "(__u8 *)",
        "(u8 *)",
        "(uint8_t *)",
        "(char *)",
        "(void *)",
    ];
    let (ptr, index) = words.iter().find_map(|&p| {
        let index = words.iter().find(|&&w| {
            w != p
                && casts
                    .iter()
                    .any(|cast| text.contains(&format!("{cast}{p} + {w}")))
        })?;
        Some((p.to_string(), index.to_string()))
    })?;
    facts.in_scope_named(fault, &index)?;
    facts.in_scope_named(fault, &ptr)?;
    let size = c.field("size=").unwrap_or(1);
    let leave = if enclosing_loop(c, line).is_some() {
        "break".to_string()
    } else {
        format!("return {}", c.pass())
    };
    Some((
        format!(
            "Compare the bytes read at `{ptr} + {index}` against the packet's end before the \
             access: the check must cover the variable index, not only the header `{ptr}` points \
             to. {}",
            if leave == "break" {
                "Inside the loop, leave the loop when the packet is shorter (the code after it \
                 still runs, so what the program holds is still released)."
            } else {
                "Leave when the packet is shorter."
            }
        ),
        format!("if ((void *){ptr} + {index} + {size} > {end})\n\t{leave};"),
    ))
}

/// Whether code put at source line `line` of the faulting instruction's file must be one
/// block (see [`source_text::needs_block`]).
fn needs_block(c: &Ctx<'_>, line: u32) -> Option<bool> {
    let fault = c.found.instruction.as_ref()?.index;
    source_text::needs_block(|l| c.facts.source_line(fault, l), line)
}

/// A packet access refused inside a function inlined into the program, whose own names do
/// not include the packet's end: the check goes before the call, in the program function,
/// written from the context parameter (`ctx->data + sizeof(struct ethhdr) > ctx->data_end`).
/// Only for a pointer at a constant offset into the packet (no variable part), which the
/// call site can name without the inlined function's variables. Returns the call's line and
/// the code.
fn packet_check_at_call_site(c: &Ctx<'_>, typed: Option<&str>) -> Option<(u32, String)> {
    let facts = c.facts;
    let fault = c.found.instruction.as_ref()?.index;
    let spot = c.found.location.as_ref()?;
    if facts.is_rust() || !facts.in_inlined(fault) {
        return None;
    }
    // A packet end the inlined function itself holds (its `data_end` parameter) is visible.
    let own_end = facts.vars_in_scope(fault).into_iter().any(|v| {
        Some(v.function.as_str()) == spot.function.as_deref()
            && (v.name == "data_end" || v.name == "end" || v.name.ends_with("_end"))
    });
    if own_end {
        return None;
    }
    // The outermost call site: `fn at file:line:col`, in the program's function.
    let (_, at) = spot.inlined_from.last()?.rsplit_once(" at ")?;
    let mut parts = at.rsplitn(3, ':');
    let (_col, line, file) = (parts.next()?, parts.next()?, parts.next()?);
    let line: u32 = line.parse().ok()?;
    if file != spot.file || needs_block(c, line)? {
        return None;
    }
    let ctx = facts.ctx_param(fault)?;
    let state = c.op()?.state.as_deref()?;
    if !state.starts_with("pkt(") || state.contains("var_off") || state.contains("umax") {
        return None;
    }
    let reg_off = field(&[state.to_string()], "off=").unwrap_or(0);
    let end = match typed {
        Some(t) => format!("sizeof({t})"),
        None => (c.field("off=")? + c.field("size=")? - reg_off).to_string(),
    };
    // `data + 14 + sizeof(..)`: the register's own offset, then what is read from it.
    let start = if reg_off > 0 {
        format!("(void *)(long){ctx}->data + {reg_off} + {end}")
    } else {
        format!("(void *)(long){ctx}->data + {end}")
    };
    Some((
        line,
        format!(
            "if ({start} > (void *)(long){ctx}->data_end)\n\treturn {};",
            c.pass()
        ),
    ))
}

/// A helper given a buffer (on the stack or in a map value) with a size larger than the
/// buffer. When the size is a literal on the line, the fix writes the buffer's `sizeof`.
fn helper_buffer_size(c: &Ctx<'_>, what: &str) -> CauseFix {
    let size = c.field("size=").unwrap_or(0);
    let helper = c
        .found
        .instruction
        .as_ref()
        .and_then(|i| insn::helper_name(&i.text))
        .unwrap_or("the helper");
    let room = c.field("value_size=").map(|vs| {
        format!(
            " of {vs} bytes (from offset {})",
            c.field("off=").unwrap_or(0)
        )
    });
    // A variable offset into the buffer (`filename + pos`): name the variable whose range
    // leaves too little room.
    let offset = c
        .facts
        .index_variable(c.op_reg())
        .filter(|_| {
            c.op().is_some_and(|o| {
                o.state
                    .as_deref()
                    .is_some_and(|s| s.contains("var_off") || s.contains("umax"))
            })
        })
        .or_else(|| c.source_offset());
    let cause = format!(
        "{helper} is told to access {size} bytes, but the {what} it is given{} is smaller{}.",
        room.unwrap_or_default(),
        offset.as_ref().map_or(String::new(), |v| format!(
            "; the offset into it comes from `{v}`, whose maximum the verifier does not know to leave {size} bytes of room"
        ))
    );
    let line_src = c.line_source();
    let rewritten = line_src
        .as_deref()
        .and_then(|l| rewrite::size_literal_to_sizeof(l, size));
    match rewritten {
        Some(code) => (
            cause,
            replace(
                "Pass the buffer's own size (`sizeof`) instead of a number that does not match it."
                    .into(),
                c.line(),
                code.trim_start().to_string(),
            ),
        ),
        None => (
            cause,
            decide(
                format!(
                    "Make the size passed to {helper} no larger than the {what}, or make the {what} larger."
                ),
                c.line(),
                "whether the buffer should grow or the helper should read less.",
            ),
        ),
    }
}

/// The context as the source names it ("the context `ctx`"), and the field the faulting line
/// accesses through it (" (`args->common_preempt_count`)") when the line writes it out.
fn context_named(c: &Ctx<'_>) -> (String, Option<String>) {
    let name = c.op().and_then(|o| c.source_name(o));
    let ctx = name
        .as_ref()
        .map_or("the context".to_string(), |n| format!("the context `{n}`"));
    let field = name.and_then(|n| {
        let text = c.fault_text()?;
        let rest = &text[text.find(&format!("{n}->"))? + n.len() + 2..];
        let field: String = rest
            .chars()
            .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
            .collect();
        (!field.is_empty()).then(|| format!(" (`{n}->{field}`)"))
    });
    (ctx, field)
}

/// Where a variable offset was added to the pointer the message names: the line of the last
/// `rX += rY` on the path and the variable `rY` held.
fn pointer_add_site(c: &Ctx<'_>) -> Option<(Option<u32>, String)> {
    let facts = c.facts;
    let path = &facts.summary.path;
    path.iter().enumerate().rev().find_map(|(pos, step)| {
        let (lhs, rhs) = step.text.trim().split_once(" += ")?;
        let dst = *insn::registers(lhs).first()?;
        let src = *insn::registers(rhs).first()?;
        let is_pkt = step
            .regs
            .iter()
            .any(|r| r.reg == dst && r.type_name == "pkt");
        if !is_pkt {
            return None;
        }
        let name = facts
            .var_in_reg(step.idx, src)
            .map(|v| v.name)
            .or_else(|| facts.trace(src, pos).map(|(v, _)| v.name))?;
        Some((facts.line_of(step.idx).map(|(_, l, _)| l), name))
    })
}

/// The line declaring the program's license (`SEC("license")`), searched in the faulting
/// instruction's source file.
fn license_line(c: &Ctx<'_>) -> Option<u32> {
    let idx = c.found.instruction.as_ref().map_or(0, |i| i.index);
    (1..=100_000)
        .map_while(|l| Some((l, c.facts.source_line(idx, l)?)))
        .find(|(_, t)| t.contains("SEC(\"license\")") && !t.trim_start().starts_with("//"))
        .map(|(l, _)| l)
}

/// Whether a stack slot's state as the verifier prints it (`fp-8=...`) is a spilled pointer:
/// `map_value(...)`, `ctx()`, `fp-16`, not a spilled number (`scalar(...)`, which 6.18 prints
/// after the unwritten bytes of a narrow spill: `mmmm??scalar(id=1,...)`) nor a slot with bytes
/// never written (`?`).
fn spilled_pointer(slot: &str) -> bool {
    !slot.contains('?') && !slot.contains("scalar") && slot.chars().any(|ch| ch == '(' || ch == '_')
}

/// uninitialized-register: the variable the unwritten register stands for, when it is a local
/// declared without an initialiser (`__u64 arg1;`), given one where it is declared: the path
/// the verifier took never set it, so the compiler left the register unwritten there.
fn initialised_at_declaration(c: &Ctx<'_>) -> Option<Fix> {
    let op = c.op()?;
    let fault = c.found.instruction.as_ref()?.index;
    // The operand's variable, else the variables its argument is written with
    // (`(void *)arg1`).
    let mut names: Vec<String> = op.variable.iter().map(|v| v.name.clone()).collect();
    if let Some(arg) = &op.argument {
        names.extend(
            arg.split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .filter(|w| !w.is_empty() && !w.starts_with(|ch: char| ch.is_ascii_digit()))
                .map(str::to_string),
        );
    }
    // Each local declared without an initialiser: (name, its line, the line initialised,
    // whether it is an aggregate).
    let mut candidates: Vec<(String, u32, String, bool)> = Vec::new();
    for name in names {
        if candidates.iter().any(|(n, ..)| *n == name) {
            continue;
        }
        let Some((decl, text)) = c.facts.local_declaration(fault, &name) else {
            continue;
        };
        let Some(layout) = c.facts.layout_of(fault, &name) else {
            continue;
        };
        let init = if layout.aggregate { "{}" } else { "0" };
        if let Some(code) = rewrite::initialise_declarator(&text, &name, init) {
            candidates.push((name, decl, code, layout.aggregate));
        }
    }
    // The operand's own variable; else the one number or pointer among the argument's
    // variables (an array's or struct's address is never the unwritten register, only a
    // field or element read from it), else the one aggregate.
    let own = op.variable.as_ref().map(|v| v.name.as_str());
    let one = |aggregate: bool| {
        let mut of_kind = candidates.iter().filter(move |(.., a)| *a == aggregate);
        match (of_kind.next(), of_kind.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    };
    let (name, decl, code, aggregate) = candidates
        .iter()
        .find(|(n, ..)| Some(n.as_str()) == own)
        .or_else(|| one(false))
        .or_else(|| {
            candidates
                .iter()
                .all(|(.., a)| *a)
                .then(|| one(true))
                .flatten()
        })?;
    let init = if *aggregate { "{}" } else { "0" };
    Some(replace(
        format!(
            "Initialise `{name}` where it is declared (line {decl}): on the path the verifier \
             took nothing sets it, so the compiler left the register unwritten. If the \
             program should not go on with {init} on that path, check for it (a helper's \
             return value) and return early there instead."
        ),
        Some(*decl),
        code.trim_start().to_string(),
    ))
}

/// Whether a C integer type is narrower than the 64-bit registers (`int`, `__u32`, `short`):
/// a value of it lives in a register whose upper half clang may leave as it found it.
fn narrow_integer(type_name: &str) -> bool {
    let t = type_name.trim();
    let wide = t.contains("64") || t.contains("long") || t.contains("size_t");
    let integer = [
        "int", "short", "char", "__u32", "__s32", "u32", "s32", "__u16", "__s16", "u16", "s16",
        "__u8", "__s8", "u8", "s8",
    ]
    .iter()
    .any(|w| t.split_whitespace().any(|part| part == *w));
    integer && !wide && !t.contains('*')
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
