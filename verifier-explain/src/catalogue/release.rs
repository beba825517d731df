//! Giving back a reference that a path leaks: which call releases what the acquiring helper or
//! kfunc took, whether the path holds it possibly NULL, whether a ring buffer record was filled
//! (submit) or abandoned (discard), and the code that releases it at the exit that leaks it.

use super::rewrite;
use super::words::{Ctx, replace};
use crate::evidence::Fix;
use crate::log::{RegState, insn};

/// How a reference is given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// A ring buffer record (`bpf_ringbuf_reserve`): submitted, or discarded unsent.
    Record,
    /// One call releases it: a helper (`bpf_sk_release`) or a kfunc (`bpf_task_release`),
    /// which the program must declare.
    Call {
        /// The releasing helper or kfunc.
        name: &'static str,
        /// Whether it is a kfunc (declared by the program, `extern ... __ksym`).
        kfunc: bool,
    },
}

impl Release {
    /// The calls that release a reference of this kind (for finding releases on other paths).
    fn names(self) -> &'static [&'static str] {
        match self {
            Release::Record => &["bpf_ringbuf_submit", "bpf_ringbuf_discard"],
            Release::Call { name, .. } => match name {
                "bpf_sk_release" => &["bpf_sk_release"],
                "bpf_task_release" => &["bpf_task_release"],
                "bpf_cgroup_release" => &["bpf_cgroup_release"],
                "bpf_cpumask_release" => &["bpf_cpumask_release"],
                "bpf_obj_drop" => &["bpf_obj_drop_impl", "bpf_obj_drop"],
                "bpf_percpu_obj_drop" => &["bpf_percpu_obj_drop_impl", "bpf_percpu_obj_drop"],
                "bpf_key_put" => &["bpf_key_put"],
                "bpf_put_file" => &["bpf_put_file"],
                "bpf_crypto_ctx_release" => &["bpf_crypto_ctx_release"],
                "bpf_ct_release" => &["bpf_ct_release"],
                _ => &[],
            },
        }
    }
}

/// The helpers whose result is a reference released by one call, and that call.
const HELPER_RELEASES: &[(&str, &str)] = &[
    ("bpf_sk_lookup_tcp", "bpf_sk_release"),
    ("bpf_sk_lookup_udp", "bpf_sk_release"),
    ("bpf_skc_lookup_tcp", "bpf_sk_release"),
];

/// The kfuncs that return an acquired reference, and the kfunc (or libbpf's macro for it, as
/// `bpf_obj_drop`) that releases it.
const KFUNC_RELEASES: &[(&str, &str)] = &[
    ("bpf_task_acquire", "bpf_task_release"),
    ("bpf_task_from_pid", "bpf_task_release"),
    ("bpf_task_from_vpid", "bpf_task_release"),
    ("bpf_cgroup_acquire", "bpf_cgroup_release"),
    ("bpf_cgroup_from_id", "bpf_cgroup_release"),
    ("bpf_cgroup_ancestor", "bpf_cgroup_release"),
    ("bpf_task_get_cgroup1", "bpf_cgroup_release"),
    ("bpf_cpumask_create", "bpf_cpumask_release"),
    ("bpf_cpumask_acquire", "bpf_cpumask_release"),
    ("bpf_obj_new_impl", "bpf_obj_drop"),
    ("bpf_refcount_acquire_impl", "bpf_obj_drop"),
    ("bpf_percpu_obj_new_impl", "bpf_percpu_obj_drop"),
    ("bpf_lookup_user_key", "bpf_key_put"),
    ("bpf_lookup_system_key", "bpf_key_put"),
    ("bpf_get_task_exe_file", "bpf_put_file"),
    ("bpf_crypto_ctx_create", "bpf_crypto_ctx_release"),
    ("bpf_crypto_ctx_acquire", "bpf_crypto_ctx_release"),
    ("bpf_xdp_ct_lookup", "bpf_ct_release"),
    ("bpf_skb_ct_lookup", "bpf_ct_release"),
];

/// How the reference an acquiring helper or kfunc returns is released, when known.
pub(crate) fn release_of(acquire: &str) -> Option<Release> {
    if acquire == "bpf_ringbuf_reserve" {
        return Some(Release::Record);
    }
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(a, _)| *a == acquire)
            .map(|&(_, name)| name)
    };
    find(HELPER_RELEASES)
        .map(|name| Release::Call { name, kfunc: false })
        .or_else(|| find(KFUNC_RELEASES).map(|name| Release::Call { name, kfunc: true }))
}

/// The fix that releases the reference `holder` (taken at instruction `alloc` by `acquire`)
/// at the exit that leaks it: the `return` on the faulting line becomes a block that first
/// releases it (submitting a ring buffer record the path filled or ends the work with,
/// discarding one it abandons), guarded by `if (holder)` when the path never proved it
/// non-NULL. `None` when the shape is not recognised: the reference is taken in a loop, the
/// faulting line has no single `return`, the holder is not in scope there or is reassigned,
/// the returned value uses it, a kfunc release is not declared, or another path may reach
/// this exit having released it.
pub(crate) fn release_fix(c: &Ctx<'_>, alloc: u32, acquire: &str, holder: &str) -> Option<Fix> {
    let release = release_of(acquire)?;
    // A reference taken in a loop may leak from an earlier iteration than the one the holder
    // names at the exit: releasing the holder there is not the fix.
    if c.facts.in_loop(alloc) {
        return None;
    }
    let id = c.field("id=")?;
    let fault = c.found.instruction.as_ref()?.index;
    let line = c.line()?;
    let text = c.line_source()?;
    let facts = c.facts;
    facts.in_scope_named(fault, holder)?;
    let (alloc_file, alloc_line, _) = facts.line_of(alloc)?;
    let (fault_file, _, _) = facts.line_of(fault)?;
    if alloc_file != fault_file || alloc_line >= line {
        return None;
    }
    let source = |n: u32| facts.source_line(fault, n);
    let between: Vec<String> = (alloc_line + 1..line).filter_map(source).collect();
    if between.iter().any(|l| assigns(&code_of(l), holder)) {
        return None;
    }
    if let Release::Call { name, kfunc: true } = release
        && !declares(&source_text(&source), name)
    {
        return None;
    }
    if released_on_the_way(c, release, alloc_line, line, &source) {
        return None;
    }
    // The return right after a NULL test of the holder is the path where there is nothing to
    // release: the line was attributed to the wrong return (compilers merge equal returns).
    // The conditions that lead to it: the path's last branch, the `if (...)` on the line
    // itself, and the line before when it is a brace-less `if (...)`.
    let before = (1..line)
        .rev()
        .map_while(source)
        .map(|l| code_of(&l).trim().to_string())
        .find(|l| !l.is_empty())
        .filter(|l| l.ends_with(')'));
    let guard = c
        .found
        .path
        .last()
        .and_then(|b| b.condition.clone())
        .into_iter()
        .chain(before)
        .chain(std::iter::once(text.clone()));
    if guard.into_iter().any(|l| tests_null(&code_of(&l), holder)) {
        return None;
    }
    let path = &facts.summary.path;
    let after_alloc = path
        .iter()
        .position(|s| s.idx == alloc)
        .map_or(&path[..0], |p| &path[p + 1..]);
    let maybe_null = last_state(after_alloc, id).is_none_or(|r| r.or_null);
    let (call, summary) = match release {
        Release::Record => {
            let submit = filled(after_alloc, id) || ends_function(line, &source);
            let (used, other) = if submit {
                ("submit", "discard")
            } else {
                ("discard", "submit")
            };
            let why = if submit {
                "this path fills the record or ends the work, so it is sent"
            } else {
                "this path leaves early without filling it, so it is given back unsent"
            };
            (
                format!("bpf_ringbuf_{used}({holder}, 0);"),
                format!(
                    "Release `{holder}` at this exit with bpf_ringbuf_{used}({holder}, 0): {why}. \
                     If the record is {} on this path, call bpf_ringbuf_{other}({holder}, 0) \
                     instead. Every path must release it exactly once.",
                    if submit {
                        "not meant to be sent"
                    } else {
                        "complete and meant to be sent"
                    }
                ),
            )
        }
        Release::Call { name, .. } => (
            format!("{name}({holder});"),
            format!(
                "Release `{holder}` at this exit with {name}({holder}); every path must release \
                 it exactly once."
            ),
        ),
    };
    let stmt = if maybe_null {
        format!("if ({holder})\n\t{call}")
    } else {
        call
    };
    let (ret, code) = rewrite::block_before_return(&text, &stmt)?;
    if mentions(&ret, holder) {
        return None;
    }
    let summary = if maybe_null {
        format!("{summary} It may be NULL here (never checked on this path), hence the check.")
    } else {
        summary
    };
    Some(replace(summary, Some(line), code))
}

/// The last state the path printed of the register (or spilled slot) holding reference `id`.
fn last_state(path: &[crate::log::PathStep], id: i64) -> Option<&RegState> {
    let id = u32::try_from(id).ok()?;
    let mut last = None;
    for step in path {
        let entries = step
            .entry
            .iter()
            .flat_map(|e| e.state.regs.iter().chain(spilled(&e.state.slots)));
        for r in entries.chain(step.regs.iter()).chain(spilled(&step.slots)) {
            if r.ref_obj_id == Some(id) {
                last = Some(r);
            }
        }
    }
    last
}

/// The registers spilled to stack slots.
fn spilled(slots: &[crate::log::SlotState]) -> impl Iterator<Item = &RegState> {
    slots.iter().filter_map(|s| s.spilled.as_ref())
}

/// Whether the path writes into the object of reference `id`: a store through it, or a call
/// that takes it as its first (destination) argument, other than a release.
fn filled(path: &[crate::log::PathStep], id: i64) -> bool {
    let id = u32::try_from(id).ok();
    let holds = |step: &crate::log::PathStep, reg: u8| {
        step.regs
            .iter()
            .any(|r| r.reg == reg && r.ref_obj_id.is_some() && r.ref_obj_id == id)
    };
    path.iter().any(|step| {
        let t = step.text.trim();
        if insn::is_call(t) {
            let releases = insn::helper_name(t).is_some_and(|h| {
                h.contains("submit") || h.contains("discard") || h.contains("release")
            });
            return !releases && holds(step, 1);
        }
        t.starts_with("*(")
            && insn::memory_operand(t).is_some_and(|(base, _)| base != 10 && holds(step, base))
    })
}

/// Whether the faulting line is the last statement of its function: the next line with code
/// closes the function (a `}` in the first column).
fn ends_function(line: u32, source: &dyn Fn(u32) -> Option<String>) -> bool {
    (line + 1..line + 200)
        .map_while(source)
        .map(|l| code_of(&l))
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.starts_with('}'))
}

/// Whether a call of `release`'s family lies between the acquiring line and the faulting
/// one, on a path that may then fall through to the faulting exit (no `return` follows it
/// before that line): releasing again there would release twice.
fn released_on_the_way(
    c: &Ctx<'_>,
    release: Release,
    alloc_line: u32,
    line: u32,
    source: &dyn Fn(u32) -> Option<String>,
) -> bool {
    let facts = c.facts;
    facts.summary.insns.iter().any(|(&idx, (_, t))| {
        let Some(h) = insn::helper_name(t) else {
            return false;
        };
        if !release.names().contains(&h) {
            return false;
        }
        let Some((_, at, _)) = facts.line_of(idx) else {
            return false;
        };
        at > alloc_line
            && at < line
            && !(at..line)
                .filter_map(source)
                .any(|l| mentions(&code_of(&l), "return"))
    })
}

/// The whole source file, line by line, as far as it can be read.
fn source_text(source: &dyn Fn(u32) -> Option<String>) -> String {
    (1..100_000)
        .map_while(source)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `text` names `function` as a declaration or call would (`name(`), outside the
/// comments.
fn declares(text: &str, function: &str) -> bool {
    text.lines().any(|l| {
        let l = code_of(l);
        l.match_indices(function).any(|(at, _)| {
            let before = l[..at].chars().next_back();
            let after = l[at + function.len()..].trim_start();
            before.is_none_or(|b| !(b.is_alphanumeric() || b == '_')) && after.starts_with('(')
        })
    })
}

/// A source line without its comment (`// ...`, `/* ... */` on the line, or a line of a block
/// comment starting with `*`).
fn code_of(line: &str) -> String {
    let t = line.trim_start();
    if t.starts_with('*') || t.starts_with("/*") && !t.contains("*/") {
        return String::new();
    }
    let mut out = line.split("//").next().unwrap_or("").to_string();
    while let (Some(a), Some(b)) = (out.find("/*"), out.find("*/")) {
        if b < a {
            break;
        }
        out.replace_range(a..b + 2, " ");
    }
    out
}

/// Whether `text` uses the identifier `name` (as a whole word).
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        text[..at].chars().next_back().is_none_or(|c| !word(c))
            && text[at + name.len()..]
                .chars()
                .next()
                .is_none_or(|c| !word(c))
    })
}

/// Whether the code tests `name` for NULL (`!name`, `name == NULL`, `NULL == name`,
/// `name == 0`).
fn tests_null(code: &str, name: &str) -> bool {
    let squeezed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    squeezed.match_indices(name).any(|(at, _)| {
        let before = squeezed[..at].chars().next_back();
        let after = &squeezed[at + name.len()..];
        if after.starts_with(word) || before.is_some_and(|c| word(c) || c == '.' || c == '>') {
            return false;
        }
        before == Some('!') && (after.is_empty() || after.starts_with([')', '|', '&', ';', '?']))
            || after.starts_with("==NULL")
            || after.starts_with("==0")
                && !after[3..].starts_with(|c: char| c.is_ascii_digit() || c == 'x')
            || squeezed[..at].ends_with("NULL==")
    })
}

/// Whether the code assigns `name` (`name = ...`, not `name == ...`).
fn assigns(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        let rest = code[at + name.len()..].trim_start();
        code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !word(c) && c != '.' && c != '>')
            && rest.starts_with('=')
            && !rest.starts_with("==")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_pair_with_their_acquiring_calls() {
        assert_eq!(release_of("bpf_ringbuf_reserve"), Some(Release::Record));
        assert_eq!(
            release_of("bpf_skc_lookup_tcp"),
            Some(Release::Call {
                name: "bpf_sk_release",
                kfunc: false
            })
        );
        assert_eq!(
            release_of("bpf_task_from_pid"),
            Some(Release::Call {
                name: "bpf_task_release",
                kfunc: true
            })
        );
        assert_eq!(release_of("bpf_map_lookup_elem"), None);
    }

    #[test]
    fn a_kfunc_counts_as_declared_only_outside_comments() {
        let src = "// bpf_task_release(p) must be called\nextern void bpf_task_release(struct task_struct *p) __ksym;";
        assert!(declares(src, "bpf_task_release"));
        assert!(!declares("// bpf_task_release(p)", "bpf_task_release"));
        assert!(!declares("my_bpf_task_release(p);", "bpf_task_release"));
    }

    #[test]
    fn assignments_and_mentions_are_whole_words() {
        assert!(assigns("\tsk = other;", "sk"));
        assert!(!assigns("if (sk == NULL)", "sk"));
        assert!(!assigns("e->sk = 1;", "sk"));
        assert!(tests_null("if (!e)", "e"));
        assert!(tests_null("if (e == NULL || x)", "e"));
        assert!(tests_null("if (NULL == e)", "e"));
        assert!(!tests_null("if (!e->len)", "e"));
        assert!(!tests_null("if (!eth)", "e"));
        assert!(!tests_null("if (e != NULL)", "e"));
        assert!(mentions("return data->len;", "data"));
        assert!(!mentions("return metadata;", "data"));
        assert_eq!(code_of("\treturn 0; // leak"), "\treturn 0; ");
        assert_eq!(code_of(" * reaches this return"), "");
    }
}
