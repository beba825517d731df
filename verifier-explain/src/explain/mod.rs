//! Turning a parsed verifier log (and, when there is one, the object's debug information) into
//! an explanation: the line, the variables, the cause, the path and the fix.

mod exit_line;
mod hot;
pub mod knowledge;
mod model;
mod source_names;

pub use crate::evidence::{
    Branch, Budget, Edit, FaultInsn, Fix, HotLine, LineSource, Operand, Placement, SnippetLine,
    SourceSpot, Variable,
};
pub use model::Explanation;

use crate::catalogue::{self, Category, Context, Ctx};
use crate::evidence::{Facts, Findings, Source};
use crate::log::LogSummary;
use crate::log::insn::{self, Use};
use knowledge::Hints;

/// The most branches an explanation lists.
const MAX_BRANCHES: usize = 8;

/// Explains the rejection a log shows. `source` adds exact lines and variable names;
/// `program_type` (aya's name, e.g. `Xdp`) makes the fix's return values right.
pub(crate) fn explain(
    summary: &LogSummary,
    source: Option<Source<'_>>,
    program_type: Option<&str>,
) -> Explanation {
    let mut error = summary.error.clone().unwrap_or_default();
    // Errors found before the walk name their instruction. A back-edge (`back-edge from insn 47
    // to 17`) is shown at its target, the loop's head.
    let named = error.message.iter().find_map(|m| {
        let rest = m.split("from insn ").nth(1)?;
        let rest = rest.split(" to ").nth(1).unwrap_or(rest);
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse::<u32>()
            .ok()
    });
    if let Some(idx) = named
        && (error.idx.is_none() || error.message.iter().any(|m| m.contains("back-edge")))
    {
        error.idx = Some(idx);
        error.text = summary.insns.get(&idx).map(|(_, t)| t.clone());
    }
    if let Some(call) = call_chain_site(summary, &error.message) {
        error.idx = Some(call);
        error.text = summary.insns.get(&call).map(|(_, t)| t.clone());
    }
    let mut facts = Facts {
        summary,
        source,
        program_type,
        fault: error.idx,
    };
    if let Some(head) = loop_head(&facts, &error.message) {
        facts.fault = Some(head);
        error.idx = Some(head);
        error.text = summary.insns.get(&head).map(|(_, t)| t.clone());
    }
    let line_text = error.idx.and_then(|i| facts.text_of(i));
    let check_shape =
        crate::evidence::check_shape(&facts, crate::catalogue::size_in_message(&error.message));
    let context = Context {
        insn: error.text.as_deref(),
        in_loop: error.idx.is_some_and(|i| facts.in_loop(i)),
        at_entry: at_entry(&facts, error.idx),
        named_reg: named_register(&error.message).and_then(|r| facts.reg(r)),
        checked_pkt_end: checked_pkt_end(summary),
        line_text: line_text.as_deref(),
        check_shape: check_shape.as_ref(),
    };
    let mut class = catalogue::classify(&error.message, context);
    // A message this tool does not know: the kernel's structured diagnostics (7.3+) may say more.
    let diag_category = summary
        .diagnostics
        .as_ref()
        .and_then(|d| Category::from_name(&d.category));
    if class.id == "unknown"
        && let Some(d) = &summary.diagnostics
    {
        let mut words = vec![d.title.clone()];
        words.extend(d.reason.iter().cloned());
        class = catalogue::classify(&words, context);
    }
    let instruction = error.idx.map(|index| FaultInsn {
        index,
        text: error.text.clone().unwrap_or_default(),
        function: source
            .and_then(|s| s.layout.function_at(index))
            .map(|f| f.name.clone()),
    });
    let location = error.idx.and_then(|i| location(&facts, i)).or_else(|| {
        let d = summary.diagnostics.as_ref()?;
        Some(SourceSpot {
            file: d.file.clone()?,
            line: d.line?,
            column: d.column.unwrap_or(0),
            function: d.function.clone(),
            inlined_from: Vec::new(),
            found_by: LineSource::KernelDiagnostics,
            snippet: Vec::new(),
        })
    });
    // A complexity rejection stops wherever the budget ran out: that instruction's operands and
    // path say nothing about the cause; the hot lines do.
    let complexity = class.id == "complexity-limit";
    let operands = match error.idx {
        Some(i) if !complexity => operands(
            &facts,
            i,
            error.text.as_deref().unwrap_or(""),
            &error.message,
        ),
        _ => Vec::new(),
    };
    let (path, path_omitted) = if complexity {
        (Vec::new(), 0)
    } else {
        branches(&facts)
    };
    // An error at the merged exit (its line is the closing brace): the `return` the path took.
    let location = match (&instruction, location) {
        (Some(i), Some(spot))
            if i.text.trim() == "exit"
                && spot
                    .snippet
                    .iter()
                    .any(|l| l.fault && exit_line::is_closing_brace(&l.text)) =>
        {
            let file = std::path::PathBuf::from(&spot.file);
            let text = |l: u32| source.and_then(|s| s.debug.source_line(&file, l));
            Some(exit_line::leaking_return(&spot, &path, text).unwrap_or(spot))
        }
        (_, location) => location,
    };
    let budgeted = class.id == "complexity-limit" || class.id == "infinite-loop";
    let hot_lines = if budgeted {
        hot::lines(&facts)
    } else {
        Vec::new()
    };
    let budget = budgeted.then(|| hot::budget(&facts));
    let found = Findings {
        message: error.message.clone(),
        instruction,
        location,
        operands,
        path,
        path_omitted,
        hot_lines,
    };
    let (cause, fix) = (class.explain)(&Ctx {
        facts: &facts,
        found: &found,
    });
    let mut notes = notes(&facts, class.id);
    if let Some(b) = budget.filter(|b| !b.whole) {
        notes.push(partial_budget_note(&b));
    }
    Explanation {
        id: class.id,
        category: match diag_category {
            Some(c) if class.id == "unknown" => c,
            _ => class.category,
        },
        title: class.title,
        message: found.message,
        instruction: found.instruction,
        location: found.location,
        operands: found.operands,
        cause,
        path: found.path,
        path_omitted: found.path_omitted,
        fix,
        hot_lines: found.hot_lines,
        budget,
        notes,
    }
}

/// Whether instruction `idx` is in the entry function and no call precedes it on the path, so
/// that r2-r5 hold nothing: the kernel passes an entry function only its context, in r1.
fn at_entry(facts: &Facts<'_>, idx: Option<u32>) -> bool {
    let Some(idx) = idx else { return false };
    let in_main = facts.source.is_none_or(|s| {
        s.layout.function_at(idx).map(|f| &f.name) == s.layout.function_at(0).map(|f| &f.name)
    });
    let path = &facts.summary.path;
    let before = path.iter().position(|s| s.idx == idx).unwrap_or(path.len());
    in_main && !path[..before].iter().any(|s| insn::is_call(&s.text))
}

/// The register the verifier's message names first (`R2 !read_ok` -> 2).
fn named_register(message: &[String]) -> Option<u8> {
    message.iter().find_map(|l| {
        l.match_indices('R').find_map(|(at, _)| {
            let digits: String = l[at + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
    })
}

/// Whether the path compared something against the packet's end (a bounds check exists).
fn checked_pkt_end(summary: &LogSummary) -> bool {
    summary.path.iter().any(|s| {
        s.text.trim_start().starts_with("if ") && s.regs.iter().any(|r| r.type_name == "pkt_end")
    })
}

/// For a back-edge (`back-edge from insn 47 to 17`): the instruction with the loop's first
/// source line among those the backward jump spans, where the loop statement is.
fn loop_head(facts: &Facts<'_>, message: &[String]) -> Option<u32> {
    let m = message
        .iter()
        .find(|m| m.contains("back-edge from insn "))?;
    let rest = m.split("back-edge from insn ").nth(1)?;
    let mut nums = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse::<u32>().ok());
    let (from, to) = (nums.next()?, nums.next()?);
    (to.min(from)..=to.max(from))
        .filter_map(|i| Some((facts.line_of(i)?.1, i)))
        .filter(|(line, _)| *line > 0)
        .min()
        .map(|(_, i)| i)
}

/// For errors about a chain of calls (too deep, too much stack), which the verifier reports
/// after the fact: the call that makes the chain. The deepest call on the path for the depth
/// limit; the main function's first subprogram call for the stack limits.
fn call_chain_site(summary: &LogSummary, message: &[String]) -> Option<u32> {
    let text = message.join("\n");
    let is_local_call = |t: &str| t.trim_start().starts_with("call pc");
    if text.contains("frames is too deep") {
        return summary
            .path
            .iter()
            .rev()
            .find(|s| is_local_call(&s.text))
            .map(|s| s.idx);
    }
    if text.contains("combined stack size") || text.contains("tail_calls are not allowed") {
        return summary
            .insns
            .iter()
            .find(|(_, (_, t))| is_local_call(t))
            .map(|(&i, _)| i);
    }
    None
}

fn location(facts: &Facts<'_>, idx: u32) -> Option<SourceSpot> {
    if let Some(src) = facts.source {
        let start = src.layout.function_at(idx).map_or(0, |f| f.start);
        // Line 0 marks code the compiler made up (a relocated or merged instruction): the
        // nearest earlier instruction of the same function with a line says where it belongs.
        let loc = (start..=idx)
            .rev()
            .filter_map(|i| src.debug.source_at(src.layout.address(i)?))
            .find(|l| l.line > 0)?;
        let snippet = (loc.line.saturating_sub(2).max(1)..=loc.line + 2)
            .filter_map(|l| {
                Some(SnippetLine {
                    line: l,
                    text: src.debug.source_line(&loc.file, l)?,
                    fault: l == loc.line,
                })
            })
            .collect();
        return Some(SourceSpot {
            file: loc.file.display().to_string(),
            line: loc.line,
            column: loc.column,
            function: Some(loc.function.clone()),
            inlined_from: loc
                .inlined
                .iter()
                .map(|c| {
                    format!(
                        "{} at {}:{}:{}",
                        c.function,
                        c.call_file.display(),
                        c.call_line,
                        c.call_column
                    )
                })
                .collect(),
            found_by: if src.debug.has_dwarf() {
                LineSource::Dwarf
            } else {
                LineSource::Btf
            },
            snippet,
        });
    }
    let c = facts.comment_before(idx)?;
    Some(SourceSpot {
        file: c.file.clone().unwrap_or_default(),
        line: c.line.unwrap_or(0),
        column: 0,
        function: None,
        inlined_from: Vec::new(),
        found_by: LineSource::LogComment,
        snippet: vec![SnippetLine {
            line: c.line.unwrap_or(0),
            text: c.text.clone(),
            fault: true,
        }],
    })
}

/// Registers named in the verifier's message (`R1 ...`, `R2(id=...)`).
fn message_registers(message: &[String]) -> Vec<u8> {
    let mut regs = Vec::new();
    for line in message {
        let b = line.as_bytes();
        for i in 0..b.len() {
            let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            if b[i] == b'R' && word_start {
                let digits: String = line[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse::<u8>()
                    && n <= 10
                    && !regs.contains(&n)
                {
                    regs.push(n);
                }
            }
        }
    }
    regs
}

fn operands(facts: &Facts<'_>, idx: u32, text: &str, message: &[String]) -> Vec<Operand> {
    let mut uses = insn::uses(text);
    let mentioned = message_registers(message);
    if insn::is_call(text) {
        // Arguments: every initialised r1-r5 (the helper's prototype decides how many it reads).
        for r in 1..=5u8 {
            if facts.reg(r).is_some() || mentioned.contains(&r) {
                uses.push(Use::Reg(r));
            }
        }
    }
    for r in &mentioned {
        if *r != 10 && !uses.contains(&Use::Reg(*r)) {
            uses.insert(0, Use::Reg(*r));
        }
    }
    let hints = Hints {
        null_source: null_source(facts),
        data_end: None,
    };
    let call_args = insn::helper_name(text)
        .and_then(|h| source_call_args(&facts.text_of(idx)?, h))
        .unwrap_or_default();
    let base = source_names::access_base(text);
    let written = insn::destination(text);
    let operands: Vec<Operand> = uses
        .into_iter()
        .map(|u| match u {
            Use::Reg(r) => {
                let state = facts.reg(r);
                // A load into its own base register (`r2 = *(u8 *)(r2 +0)`): the variable
                // it defines is not what it reads through.
                let mut variable = if written == Some(r) && base == Some(r) {
                    None
                } else {
                    facts.var_in_reg(idx, r)
                };
                let mut traced = None;
                if variable.is_none()
                    && let Some((v, at)) =
                        facts.trace(r, facts.summary.path.len().saturating_sub(1))
                {
                    traced = Some(format!(
                        "a copy of `{}`'s value from {}",
                        v.name,
                        facts.where_(at)
                    ));
                    variable = Some(v);
                }
                let mut computed_from = Vec::new();
                let origin = if traced.is_some() {
                    traced
                } else if variable.is_none() {
                    facts.last_write(r).map(|i| {
                        let step = &facts.summary.path[i];
                        computed_from = facts.inputs(i);
                        let at = facts.where_(step.idx);
                        let src = facts
                            .text_of(step.idx)
                            .map_or(String::new(), |t| format!(" (`{t}`)"));
                        let from = if computed_from.is_empty() {
                            String::new()
                        } else {
                            let names: Vec<String> =
                                computed_from.iter().map(|n| format!("`{n}`")).collect();
                            format!(" from {}", names.join(" and "))
                        };
                        format!("computed by `{}`{from} at {at}{src}", step.text)
                    })
                } else {
                    None
                };
                let points_to = state
                    .filter(|s| s.type_name == "fp")
                    .and_then(|s| facts.var_in_slot(idx, s.off.unwrap_or(0)))
                    .map(|v| v.name);
                let mut aliases = facts.aliases_in_reg(idx, r);
                aliases.retain(|a| variable.as_ref().is_none_or(|v| &v.name != a));
                Operand {
                    operand: format!("r{r}"),
                    aliases,
                    computed_from,
                    points_to: points_to.clone(),
                    argument: (1..=5)
                        .contains(&r)
                        .then(|| call_args.get(usize::from(r) - 1).cloned())
                        .flatten(),
                    variable,
                    meaning: match &points_to {
                        Some(v) => format!(
                            "points to `{v}` on the stack (fp{})",
                            state.and_then(|s| s.off).unwrap_or(0)
                        ),
                        None => knowledge::describe(state, &hints),
                    },
                    state: state.map(|s| s.text.clone()),
                    origin,
                }
            }
            Use::Slot(off) => {
                let slot = facts
                    .summary
                    .slots_before_error
                    .iter()
                    .find(|s| s.off == off);
                let meaning = match slot {
                    None => "stack bytes never written on this path".to_string(),
                    Some(s) => knowledge::describe_slot(s, &hints),
                };
                Operand {
                    operand: format!("fp{off}"),
                    aliases: Vec::new(),
                    computed_from: Vec::new(),
                    points_to: None,
                    argument: None,
                    variable: facts.var_in_slot(idx, off),
                    state: slot.map(|s| s.text.clone()),
                    meaning,
                    origin: None,
                }
            }
        })
        .collect();
    name_from_source(facts, idx, base, operands)
}

/// The access's base register named as the variable the source line dereferences, when the
/// register holds another variable's value (or none): `ip` in `ip->protocol` rather than the
/// `data` the compiler kept in that register. The name is marked inferred; the register's own
/// variable stays among the aliases.
fn name_from_source(
    facts: &Facts<'_>,
    idx: u32,
    base: Option<u8>,
    mut operands: Vec<Operand>,
) -> Vec<Operand> {
    let Some(base) = base else {
        return operands;
    };
    // The faulting line as the explanation shows it (an instruction on line 0 belongs to the
    // nearest earlier line).
    let Some(spot) = location(facts, idx) else {
        return operands;
    };
    let Some(line) = spot
        .snippet
        .iter()
        .find(|s| s.fault)
        .map(|s| s.text.clone())
    else {
        return operands;
    };
    let names = source_names::dereferenced(&line, spot.column);
    let Some(op) = operands
        .iter_mut()
        .find(|o| o.operand == format!("r{base}"))
    else {
        return operands;
    };
    if op
        .variable
        .as_ref()
        .is_some_and(|v| names.contains(&v.name))
    {
        return operands;
    }
    // Another variable holding the same register is the one the source uses: name it first.
    if let Some(pos) = op.aliases.iter().position(|a| names.contains(a)) {
        let alias = op.aliases.remove(pos);
        if let Some(v) = facts.var_in_reg(idx, base).filter(|v| v.name == alias) {
            if let Some(old) = op.variable.replace(v) {
                op.aliases.insert(0, old.name);
            }
            return operands;
        }
        let named = facts.in_scope_named(idx, &alias);
        if let Some(v) = named {
            if let Some(old) = op.variable.replace(v) {
                op.aliases.insert(0, old.name);
            }
        } else {
            op.aliases.insert(pos, alias);
        }
        return operands;
    }
    if let Some(v) = names.iter().find_map(|n| facts.in_scope_named(idx, n)) {
        if let Some(old) = op.variable.take() {
            op.aliases.insert(0, old.name);
        }
        op.variable = Some(v);
    }
    operands
}

/// The arguments of the call to `helper` as written on a source line, split at top-level commas.
fn source_call_args(line: &str, helper: &str) -> Option<Vec<String>> {
    let start = line.find(&format!("{helper}("))? + helper.len() + 1;
    let mut depth = 0usize;
    let mut args = vec![String::new()];
    for c in line[start..].chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => {
                return Some(args.into_iter().map(|a| a.trim().to_string()).collect());
            }
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = args.last_mut() {
            last.push(c);
        }
    }
    None
}

/// `the lookup at line 31` for the call that produced a possibly-NULL value on the path.
fn null_source(facts: &Facts<'_>) -> Option<String> {
    let path = &facts.summary.path;
    let step = path
        .iter()
        .rev()
        .find(|s| insn::is_call(&s.text) && s.regs.iter().any(|r| r.reg == 0 && r.or_null))?;
    let what = match insn::helper_name(&step.text) {
        Some("bpf_map_lookup_elem") => "the lookup".to_string(),
        Some(h) => format!("the call to {h}"),
        None => "the call".to_string(),
    };
    Some(format!("{what} at {}", facts.where_(step.idx)))
}

fn branches(facts: &Facts<'_>) -> (Vec<Branch>, usize) {
    let path = &facts.summary.path;
    let mut all: Vec<Branch> = Vec::new();
    for (i, step) in path.iter().enumerate() {
        if !insn::is_conditional(&step.text) {
            continue;
        }
        let Some(next) = path.get(i + 1) else {
            continue;
        };
        let taken = next.idx != step.idx + 1;
        if let Some(last) = all.last_mut()
            && last.index == step.idx
            && last.taken == taken
        {
            last.times += 1;
            continue;
        }
        all.push(Branch {
            index: step.idx,
            text: step.text.clone(),
            line: facts.line_of(step.idx).map(|(_, l, _)| l),
            condition: facts.text_of(step.idx),
            taken,
            times: 1,
        });
    }
    let omitted = all.len().saturating_sub(MAX_BRANCHES);
    (all.split_off(omitted), omitted)
}

/// Says plainly that the hot lines count only part of the exploration, and how to get all of it.
fn partial_budget_note(b: &Budget) -> String {
    let of = match b.processed {
        Some(p) if p > 0 => format!(
            "{} of the {p} instructions the verifier processed ({:.1}%)",
            b.counted,
            b.counted as f64 * 100.0 / p as f64
        ),
        _ => format!(
            "{} instructions, and the log has no `processed N insns` line to compare with",
            b.counted
        ),
    };
    format!(
        "the budget table is partial: the log shows {of}. A level-1 log prints only the final \
         path, and a log cut by its buffer only its end, so the lines that took the budget may \
         be missing. For the whole exploration, let verifier-explain load the object (it asks \
         for a level-2 log and keeps all of it), or capture the log at level 2 (`bpftool -d \
         prog load`, libbpf's kernel_log_level = 2) with a buffer large enough for it"
    )
}

fn notes(facts: &Facts<'_>, id: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let s = facts.summary;
    if facts.source.is_none() {
        notes.push(
            "explained from the log alone: the line comes from the log's last `;` comment, which \
             can name the wrong line, and registers are not named as variables; pass the object \
             (compiled with -g) for exact lines and variable names"
                .into(),
        );
    } else if facts.source.is_some_and(|s| !s.debug.has_dwarf()) {
        notes.push(
            "the object has no DWARF: lines come from BTF line info and registers cannot be named \
             as variables; compile with `clang -g -O2 -target bpf`"
                .into(),
        );
    }
    if s.truncated {
        notes.push(
            "the log is truncated: the path and register states may be incomplete (a larger log \
             buffer, or `bpftool -d prog load`, gives the whole log)"
                .into(),
        );
    }
    if s.error.is_none() {
        notes.push("the log shows no error: the verifier may have accepted the program".into());
    }
    if id == "uninitialized-stack-read" {
        notes.push(
            "this depends on privileges: loaders with CAP_PERFMON or CAP_SYS_ADMIN may read \
             uninitialised stack, so the same object loads as root but not as a least-privilege \
             service"
                .into(),
        );
    }
    if let Some(d) = &s.diagnostics
        && !d.suggestion.is_empty()
    {
        notes.push(format!("the kernel suggests: {}", d.suggestion.join(" ")));
    }
    notes
}
