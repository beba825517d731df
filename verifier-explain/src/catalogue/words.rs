//! Wording helpers the classes share: numbers and words out of the verifier's message, and how
//! to name an operand in prose and in code.

use crate::evidence::{CheckShape, Facts, Findings, Fix, Operand, Placement};

/// What a class's cause-and-fix builder reads: the facts of the rejection and what the
/// explanation found.
pub(crate) struct Ctx<'a> {
    /// The parsed log and the object's debug information.
    pub facts: &'a Facts<'a>,
    /// The message, instruction, location, operands, path and hot lines.
    pub found: &'a Findings,
}

/// The cause sentence and the fix of one explanation.
pub(crate) type CauseFix = (String, Fix);

impl Ctx<'_> {
    /// The faulting source line.
    pub fn line(&self) -> Option<u32> {
        self.found.fault_line()
    }

    /// The faulting source line as written (untrimmed), from the source file.
    pub fn line_source(&self) -> Option<String> {
        let idx = self.found.instruction.as_ref()?.index;
        self.facts.source_line(idx, self.line()?)
    }

    /// The existing check on the path that did not constrain the value used, if any.
    pub fn check_shape(&self) -> Option<CheckShape> {
        crate::evidence::check_shape(self.facts, self.field("size="))
    }

    /// The map a register's state names (`map_ptr(map=pending,...)` -> `pending`).
    pub fn map_name(&self) -> Option<String> {
        self.found.operands.iter().find_map(|o| {
            let state = o.state.as_deref()?;
            let rest = &state[state.find("map=")? + 4..];
            let end = rest.find([',', ')']).unwrap_or(rest.len());
            Some(rest[..end].to_string())
        })
    }

    /// The return value that lets the packet go on unharmed (`XDP_PASS`).
    pub fn pass(&self) -> &'static str {
        self.facts.pass_value()
    }

    /// The verifier's message.
    pub fn message(&self) -> &[String] {
        &self.found.message
    }

    /// The operand for register `rN` named first in the message, else the first register
    /// operand.
    pub fn op(&self) -> Option<&Operand> {
        let found = self.found;
        let named = found.message.iter().find_map(|l| {
            let rest = l.split_once('R')?.1;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!digits.is_empty()).then(|| format!("r{digits}"))
        });
        named
            .and_then(|n| found.operands.iter().find(|o| o.operand == n))
            .or_else(|| found.operands.iter().find(|o| o.operand.starts_with('r')))
    }

    /// The register number of the main operand (`1` for `r1`), when it is a register.
    pub fn op_reg(&self) -> Option<u8> {
        self.op()?.operand.strip_prefix('r')?.parse().ok()
    }

    /// The offset variable as the source writes it: `pos` in the argument `filename + pos`, or
    /// `i` in `arr[i]` on the faulting line, when it is a variable in scope.
    pub fn source_offset(&self) -> Option<String> {
        let ident = |t: &str| {
            let t = t
                .trim()
                .trim_start_matches(['(', '*'])
                .trim_end_matches(')')
                .trim();
            (!t.is_empty()
                && !t.starts_with(|c: char| c.is_ascii_digit())
                && t.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .then(|| t.to_string())
        };
        let from_argument = self
            .op()
            .and_then(|o| o.argument.as_deref())
            .and_then(|a| a.rsplit_once('+').and_then(|(_, off)| ident(off)));
        let from_index = || {
            let text = self.fault_text()?;
            let inside = text.split('[').nth(1)?.split(']').next()?;
            ident(inside)
        };
        let fault = self.found.instruction.as_ref()?.index;
        from_argument
            .or_else(from_index)
            .filter(|n| self.facts.in_scope_named(fault, n).is_some())
    }

    /// Whether the faulting line assigns `name` (`int next = ...`): the value being computed
    /// there, not one of its inputs.
    pub fn assigned_here(&self, name: &str) -> bool {
        self.fault_text().is_some_and(|t| {
            let t = t.trim_start();
            t.starts_with(&format!("{name} =")) || t.contains(&format!(" {name} ="))
        })
    }

    /// How to refer to the main operand in prose.
    pub fn what(&self) -> String {
        self.op().map_or_else(|| "the value".to_string(), name)
    }

    /// The main operand's state in words.
    pub fn meaning(&self) -> String {
        self.op().map_or(String::new(), |o| o.meaning.clone())
    }

    /// How the source writes an operand: its variable, else the argument as written, else
    /// the variables it was computed from.
    pub fn source_name(&self, op: &Operand) -> Option<String> {
        op.variable
            .as_ref()
            .map(|v| v.name.clone())
            .or_else(|| op.argument.clone())
            .or_else(|| op.computed_from.first().cloned())
    }

    /// The text of the faulting source line, when known.
    pub fn fault_text(&self) -> Option<&str> {
        let spot = self.found.location.as_ref()?;
        spot.snippet
            .iter()
            .find(|s| s.fault)
            .map(|s| s.text.as_str())
    }

    /// The first operand whose verifier state satisfies `pred`.
    pub fn operand_with_state(&self, pred: impl Fn(&str) -> bool) -> Option<&Operand> {
        self.found
            .operands
            .iter()
            .find(|o| o.state.as_deref().is_some_and(&pred))
    }

    /// A number after `key` in the message.
    pub fn field(&self, key: &str) -> Option<i64> {
        field(&self.found.message, key)
    }

    /// The word after `key` in the message.
    pub fn word_after(&self, key: &str) -> Option<&str> {
        word_after(&self.found.message, key)
    }
}

/// A fix whose code (if any) goes in before `line`.
pub(crate) fn fix(summary: String, line: Option<u32>, code: Option<String>) -> Fix {
    Fix {
        summary,
        line,
        code,
        placement: Placement::InsertBefore,
        decide: None,
        also: Vec::new(),
    }
}

/// A fix whose code replaces `line`.
pub(crate) fn replace(summary: String, line: Option<u32>, code: String) -> Fix {
    Fix {
        placement: Placement::ReplaceLine,
        ..fix(summary, line, Some(code))
    }
}

/// A fix that cannot be written as code: `decision` says what the user must decide (it is
/// shown as "You must decide: ...").
pub(crate) fn decide(summary: String, line: Option<u32>, decision: &str) -> Fix {
    Fix {
        decide: Some(decision.to_string()),
        ..fix(summary, line, None)
    }
}

/// A number after `key` in the verifier's message (`off=12`, `value_size=16`).
pub(crate) fn field(message: &[String], key: &str) -> Option<i64> {
    message.iter().find_map(|line| {
        let mut from = 0;
        while let Some(pos) = line[from..].find(key) {
            let at = from + pos;
            let boundary = at == 0
                || !(line.as_bytes()[at - 1].is_ascii_alphanumeric()
                    || line.as_bytes()[at - 1] == b'_');
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
pub(crate) fn code_name(op: Option<&Operand>, placeholder: &str) -> String {
    op.and_then(|o| o.variable.as_ref())
        .map_or_else(|| placeholder.to_string(), |v| v.name.clone())
}

impl Ctx<'_> {
    /// The helper the refused instruction calls (`bpf_map_update_elem`).
    pub fn helper(&self) -> Option<&str> {
        crate::log::insn::helper_name(&self.found.instruction.as_ref()?.text)
    }

    /// Code that replaces the faulting line by `before` (statements, one a line) followed by
    /// `rewritten` (the line's new text): as it is when the line is a statement of its own; in
    /// braces when it is the unbraced body of an `if`, `else` or loop; `None` when it cannot
    /// become several statements (a loop header, or a declaration as such a body).
    pub fn statements_for_line(&self, before: &[String], rewritten: &str) -> Option<String> {
        let line = self.line()?;
        let fault = self.found.instruction.as_ref()?.index;
        let trimmed = rewritten.trim();
        if [
            "for", "while", "do", "}", "else", "#", "if", "switch", "case",
        ]
        .iter()
        .any(|k| trimmed.starts_with(k))
        {
            return None;
        }
        let previous = (1..line)
            .rev()
            .filter_map(|l| self.facts.source_line(fault, l))
            .map(|t| t.split("//").next().unwrap_or_default().trim().to_string())
            .find(|t| !t.is_empty())
            .unwrap_or_default();
        let unbraced_body =
            previous.ends_with(')') || previous == "else" || previous.ends_with(" else");
        let mut lines: Vec<String> = before.to_vec();
        lines.push(trimmed.to_string());
        if !unbraced_body {
            return Some(lines.join("\n"));
        }
        // A declaration may not be the body of an `if`: only an expression statement is
        // wrapped (the names it declared would not outlive the braces).
        if declares(trimmed) {
            return None;
        }
        let body: Vec<String> = lines.iter().map(|l| format!("\t{l}")).collect();
        Some(format!("{{\n{}\n}}", body.join("\n")))
    }
}

/// Whether the statement `text` declares a variable (`int id = f(...)`): a type and a name
/// before its first `=`.
fn declares(text: &str) -> bool {
    let Some((lhs, _)) = text.split_once('=') else {
        return false;
    };
    let lhs = lhs.trim_end();
    lhs.split_whitespace().count() >= 2
        && !lhs.contains(['(', '[', '.', '>'])
        && !lhs.ends_with(['+', '-', '*', '/', '%', '&', '|', '^', '<', '!'])
}

#[cfg(test)]
mod tests {
    use super::declares;

    #[test]
    fn declarations_are_told_from_assignments() {
        assert!(declares("int id = bpf_get_stackid(ctx, &m, 0);"));
        assert!(declares("struct sock *sk = (void *)x;"));
        assert!(!declares("id = bpf_get_stackid(ctx, &m, 0);"));
        assert!(!declares("x += 1;"));
        assert!(!declares("ctx->mark = 1;"));
        assert!(!declares("bpf_map_update_elem(&m, &k, &v, 0);"));
    }
}
