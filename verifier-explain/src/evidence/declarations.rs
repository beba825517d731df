//! What the program's source declares around the refused instruction, for fixes that rewrite
//! it: the name the faulting function has for the program's context, a variable's type layout
//! and declaration line, whether a variable is used on other lines, the program's section.

use super::Facts;
use crate::debuginfo::{Place, TypeLayout};

/// How many lines past a declaration [`Facts::used_besides`] reads before giving up (and
/// answering "used", the safe answer).
const MAX_SCOPE_LINES: u32 = 2000;

impl Facts<'_> {
    /// The name the function holding the faulting instruction has for the program's context:
    /// the entry function's first parameter when the fault is in the entry function itself;
    /// in an inlined function or a subprogram, a parameter of its own that the verifier shows
    /// holding the context there. `None` when that function has no name for it (the context
    /// must be passed down to it first).
    pub(crate) fn context_in_scope(&self) -> Option<String> {
        let src = self.source?;
        let fault = self.fault?;
        let addr = src.layout.address(fault)?;
        let function = src.layout.function_at(fault)?;
        let inlined = src
            .debug
            .source_at(addr)
            .is_some_and(|l| !l.inlined.is_empty());
        let vars = self.vars_in_scope(fault);
        if function.start == 0 && !inlined {
            return vars
                .iter()
                .find(|v| v.parameter && !v.inlined && v.function == function.name)
                .map(|v| v.name.clone());
        }
        let innermost = vars.first()?.function.clone();
        // The entry function's context parameter, as the macros that wrap a program's body
        // (BPF_KPROBE, BPF_PROG) pass it on: same name, same type.
        let entry = self
            .vars_in_scope(fault)
            .into_iter()
            .find(|v| v.parameter && !v.inlined && v.function != innermost);
        vars.iter()
            .filter(|v| v.parameter && v.function == innermost)
            .find(|v| match v.place {
                Place::Register(r) => self
                    .reg(r)
                    .is_some_and(|s| s.type_name == "ctx" && s.off.unwrap_or(0) == 0),
                _ => {
                    inlined
                        && entry.as_ref().is_some_and(|e| {
                            e.name == v.name && e.type_name.is_some() && e.type_name == v.type_name
                        })
                }
            })
            .map(|v| v.name.clone())
    }

    /// The type layout (size, aggregate or not) of the variable `name` in scope at `idx`.
    pub(crate) fn layout_of(&self, idx: u32, name: &str) -> Option<TypeLayout> {
        self.vars_in_scope(idx)
            .into_iter()
            .find(|v| v.name == name)?
            .layout
    }

    /// The line declaring `name`, a local variable (not a parameter) of the innermost scope
    /// that has one by that name at `idx`, and that line's text.
    pub(crate) fn local_declaration(&self, idx: u32, name: &str) -> Option<(u32, String)> {
        let v = self
            .vars_in_scope(idx)
            .into_iter()
            .find(|v| v.name == name)?;
        let (file, _, _) = self.line_of(idx)?;
        let same_file = v
            .decl_file
            .as_ref()
            .is_some_and(|f| f.display().to_string() == file);
        if v.parameter || !same_file {
            return None;
        }
        let line = v.decl_line?;
        let text = self.source_line(idx, line)?;
        Some((line, text))
    }

    /// Whether `name` is used, as a whole word, in the block that declares it on `decl_line`
    /// other than once on line `except` (the use a fix rewrites). Comments count as code; an
    /// unreadable source counts as used.
    pub(crate) fn used_besides(&self, idx: u32, name: &str, decl_line: u32, except: u32) -> bool {
        let mut depth = 0i64;
        for line in decl_line + 1..decl_line + MAX_SCOPE_LINES {
            let Some(text) = self.source_line(idx, line) else {
                return line == decl_line + 1;
            };
            let uses = whole_word_count(&text, name);
            if uses > usize::from(line == except) {
                return true;
            }
            for ch in text.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if depth < 0 {
                return false;
            }
        }
        true
    }

    /// The ELF section of the program's entry function (`kprobe/do_sys_openat2`, `uprobe`,
    /// `cgroup/post_bind6`): it names the attach type where the program type alone does not.
    pub(crate) fn section(&self) -> Option<&str> {
        let src = self.source?;
        src.layout
            .functions
            .first()
            .map(|f| f.section_name.as_str())
    }
}

/// How many times `name` occurs in `text` as a whole identifier.
fn whole_word_count(text: &str, name: &str) -> usize {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name)
        .filter(|(at, _)| {
            !text[..*at].chars().next_back().is_some_and(ident)
                && !text[at + name.len()..].chars().next().is_some_and(ident)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::whole_word_count;

    #[test]
    fn only_whole_identifiers_count() {
        assert_eq!(
            whole_word_count("regs = regs_x + (my_regs); regs;", "regs"),
            2
        );
        assert_eq!(whole_word_count("struct pt_regs *r;", "regs"), 0);
    }
}
