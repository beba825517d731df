//! The human-readable report: the verdict, the source snippet with the faulting line, the
//! variables, the cause, the path and the fix. Styles are ANSI escapes; print through
//! `anstream`, which strips them when the output is not a color terminal or NO_COLOR is set.

use crate::explain::{Explanation, Placement};
use crate::report::{ProgramReport, ProgramVerdict, Report};
use anstyle::{AnsiColor, Style};
use std::fmt::Write as _;

const BAD: Style = AnsiColor::Red.on_default().bold();
const GOOD: Style = AnsiColor::Green.on_default().bold();
const HEAD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const VAR: Style = AnsiColor::Cyan.on_default().bold();
const CODE: Style = AnsiColor::Yellow.on_default();

fn s(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// Renders the whole report.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    for (i, p) in report.programs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        program(&mut out, p);
    }
    out
}

fn program(out: &mut String, p: &ProgramReport) {
    match &p.verdict {
        ProgramVerdict::Accepted { .. } => {
            let _ = writeln!(out, "{}: {}", s(HEAD, &p.program), s(GOOD, "accepted"));
        }
        ProgramVerdict::NotLoaded { reason } => {
            let _ = writeln!(out, "{}: not loaded: {reason}", s(HEAD, &p.program));
            return;
        }
        ProgramVerdict::Rejected {
            errno, explanation, ..
        } => {
            let _ = writeln!(
                out,
                "{}: {}{}",
                s(HEAD, &p.program),
                s(BAD, "rejected"),
                errno
                    .as_deref()
                    .map_or(String::new(), |e| format!(" ({e})"))
            );
            self::explanation(out, explanation);
        }
    }
    let limits = p.limits();
    if let Some(stats) = p.stats()
        && !limits.is_empty()
    {
        let parts: Vec<String> = limits
            .iter()
            .map(|l| format!("{} {} of {} ({:.1}%)", l.name, l.used, l.limit, l.percent))
            .collect();
        let states = match (stats.peak_states, stats.total_states) {
            (Some(peak), Some(total)) => format!("; states: peak {peak}, total {total}"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  {} {}{states}", s(DIM, "limits:"), parts.join(", "));
    }
}

/// Renders one explanation (indented by two spaces).
fn explanation(out: &mut String, e: &Explanation) {
    let _ = writeln!(
        out,
        "  {} [{}] {}",
        s(BAD, &format!("error {}", e.id)),
        e.category.name(),
        e.title
    );
    for m in &e.message {
        let _ = writeln!(out, "  {} {m}", s(DIM, "verifier:"));
    }
    if let Some(loc) = &e.location {
        let insn = e.instruction.as_ref().map_or(String::new(), |i| {
            format!(", instruction {}: {}", i.index, i.text)
        });
        let func = loc
            .function
            .as_deref()
            .map_or(String::new(), |f| format!(" in {f}()"));
        let col = if loc.column > 0 {
            format!(":{}", loc.column)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n  {} {}:{}{col}{func}{insn}",
            s(HEAD, "at"),
            loc.file,
            loc.line
        );
        for call in &loc.inlined_from {
            let _ = writeln!(out, "     inlined: {call}");
        }
        for l in &loc.snippet {
            let marker = if l.fault { s(BAD, ">") } else { " ".into() };
            let text = if l.fault {
                s(HEAD, &l.text)
            } else {
                l.text.clone()
            };
            let _ = writeln!(out, "  {marker} {:>5} | {text}", l.line);
            if l.fault && loc.column > 0 {
                let pad: String = l
                    .text
                    .chars()
                    .take(loc.column.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "          | {pad}{}", s(BAD, "^"));
            }
        }
    } else if let Some(i) = &e.instruction {
        let _ = writeln!(
            out,
            "\n  {} instruction {}: {}",
            s(HEAD, "at"),
            i.index,
            i.text
        );
    }
    if !e.operands.is_empty() {
        let _ = writeln!(out, "\n  {}", s(HEAD, "values"));
        for o in &e.operands {
            let who = match &o.variable {
                Some(v) => {
                    let ty = v
                        .type_name
                        .as_deref()
                        .map_or(String::new(), |t| format!(" ({t})"));
                    let kind = match (v.parameter, v.inferred) {
                        (true, _) => ", parameter",
                        (false, true) => {
                            ", name inferred from the source (no DWARF location holds it here)"
                        }
                        _ => "",
                    };
                    let inl = if v.inlined {
                        format!(", inlined {}", v.function)
                    } else {
                        String::new()
                    };
                    format!("{}{ty}{kind}{inl}", s(VAR, &v.name))
                }
                None => s(DIM, "no variable"),
            };
            let also = if o.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also {})", o.aliases.join(", "))
            };
            let arg = o
                .argument
                .as_deref()
                .map_or(String::new(), |a| format!(" [argument `{a}`]"));
            let _ = writeln!(out, "    {:<5} {who}{also}{arg}: {}", o.operand, o.meaning);
            if let Some(origin) = &o.origin {
                let _ = writeln!(out, "          {origin}");
            }
            if let Some(state) = &o.state {
                let _ = writeln!(out, "          {}", s(DIM, &format!("verifier: {state}")));
            }
        }
    }
    let _ = writeln!(out, "\n  {} {}", s(HEAD, "why:"), e.cause);
    if !e.path.is_empty() {
        let more = if e.path_omitted > 0 {
            format!(" ({} earlier branches not shown)", e.path_omitted)
        } else {
            String::new()
        };
        let _ = writeln!(out, "\n  {}{more}", s(HEAD, "path taken"));
        for b in &e.path {
            let line = b.line.map_or("     ".into(), |l| format!("{l:>5}"));
            let cond = b.condition.as_deref().unwrap_or(&b.text);
            let dir = if b.taken { "jumped" } else { "fell through" };
            let times = if b.times > 1 {
                format!(", {} times in a row", b.times)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "    {line} | {cond}  {}",
                s(DIM, &format!("-> {dir} (insn {}{times})", b.index))
            );
        }
    }
    if !e.hot_lines.is_empty() {
        let scope = match e.budget {
            Some(b) if !b.whole => " (partial: only what the log shows, see the note)",
            _ => "",
        };
        let _ = writeln!(
            out,
            "\n  {}{scope}",
            s(HEAD, "where the verifier spent its budget")
        );
        for h in &e.hot_lines {
            let bar = "#".repeat(((h.percent / 5.0).ceil() as usize).min(20));
            let lp = if h.in_loop { " (loop)" } else { "" };
            let _ = writeln!(
                out,
                "    {:>5} {:>5.1}% {:<20} {}{lp}",
                h.line,
                h.percent,
                bar,
                h.text.as_deref().unwrap_or("")
            );
        }
    }
    let at = e.fix.line.map_or(String::new(), |l| format!(" (line {l})"));
    let _ = writeln!(out, "\n  {}{at} {}", s(GOOD, "fix:"), e.fix.summary);
    if let Some(code) = &e.fix.code {
        let how = match (e.fix.placement, e.fix.line) {
            (Placement::InsertBefore, Some(l)) => format!("insert before line {l}:"),
            (Placement::ReplaceLine, Some(l)) => format!("replace line {l} with:"),
            (_, None) => "code:".to_string(),
        };
        let _ = writeln!(out, "    {}", s(DIM, &how));
        for l in code.lines() {
            let _ = writeln!(out, "      {}", s(CODE, l));
        }
    }
    for edit in &e.fix.also {
        let how = match edit.placement {
            Placement::InsertBefore => format!("and insert before line {}:", edit.line),
            Placement::ReplaceLine => format!("and replace line {} with:", edit.line),
        };
        let _ = writeln!(out, "    {}", s(DIM, &how));
        for l in edit.code.lines() {
            let _ = writeln!(out, "      {}", s(CODE, l));
        }
    }
    if let Some(d) = &e.fix.decide {
        let _ = writeln!(out, "    You must decide: {d}");
    }
    for n in &e.notes {
        let _ = writeln!(out, "  {} {n}", s(DIM, "note:"));
    }
}
