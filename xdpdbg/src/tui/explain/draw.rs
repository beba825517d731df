//! Drawing the explorer from its state; nothing here changes the state.
//!
//! Everything that matters is also in the text (markers, labels), not only in colors, so a
//! headless screen shows it: `>` is the selection, `✗` the refused instruction, `•` the
//! failing path.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use verifier_explain::VerdictKind;
use verifier_explain::view::{self, Hints, Operand, RegState};

use super::data::{self, Program, Row};
use super::history::{Cause, Snapshot};
use super::state::{App, Mode};
use crate::tui::kit::{Theme, chrome, nav};

/// The explorer's own styles, on the kit's theme.
trait ExplorerStyles {
    /// Source lines and function names.
    fn source(&self) -> Style;
    /// The refused instruction.
    fn fault(&self) -> Style;
    /// Instructions on the failing path, and what the verifier printed after a step.
    fn path(&self) -> Style;
    /// Variable names.
    fn var(&self) -> Style;
}

impl ExplorerStyles for Theme {
    fn source(&self) -> Style {
        self.pick(Style::new().fg(Color::Yellow), Style::new().bold())
    }
    fn fault(&self) -> Style {
        self.pick(
            Style::new().fg(Color::White).bg(Color::Red).bold(),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )
    }
    fn path(&self) -> Style {
        self.pick(Style::new().fg(Color::Cyan), Style::new())
    }
    fn var(&self) -> Style {
        self.good()
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let bottom_h = explanation_lines(app, theme)
        .iter()
        .map(|l| rows_for(l.width(), area.width.saturating_sub(2)))
        .sum::<u16>()
        .saturating_add(2)
        .min((area.height / 3).max(5));
    let status_h = u16::from(app.status.is_some());
    let [title, main, bottom, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(bottom_h),
        Constraint::Length(status_h),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_title(frame, title, app, theme);
    match app.program() {
        Some(p) if !p.insns.is_empty() => {
            if main.width >= 80 {
                let right = (main.width * 45 / 100).clamp(30, 80);
                let [l, r] = Layout::horizontal([Constraint::Min(20), Constraint::Length(right)])
                    .areas(main);
                draw_listing(frame, l, app, p, theme);
                draw_side(frame, r, app, p, theme);
            } else {
                let [l, r] =
                    Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)])
                        .areas(main);
                draw_listing(frame, l, app, p, theme);
                draw_side(frame, r, app, p, theme);
            }
        }
        Some(p) => draw_verdict(frame, main, p, theme),
        None => frame.render_widget(
            Paragraph::new("the report has no programs").block(Block::bordered()),
            main,
        ),
    }
    draw_explanation(frame, bottom, app, theme);
    if let Some(s) = &app.status {
        frame.render_widget(Paragraph::new(s.as_str()).style(theme.key()), status);
    }
    draw_hints(frame, hints, app, theme);
    if app.mode == Mode::Help {
        chrome::help(frame, main, HELP, 84, theme);
    }
}

/// Rows a line `width` characters wide takes in `avail` columns (wrapping, roughly).
fn rows_for(width: usize, avail: u16) -> u16 {
    let avail = usize::from(avail.max(1));
    u16::try_from(width.max(1).div_ceil(avail)).unwrap_or(u16::MAX)
}

fn verdict_word(v: VerdictKind) -> &'static str {
    match v {
        VerdictKind::Accepted => "accepted",
        VerdictKind::Rejected => "rejected",
        VerdictKind::NotLoaded => "not loaded",
    }
}

fn draw_title(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut text = format!(" xdpdbg explain · {}", app.name);
    if let Some(p) = app.program() {
        text.push_str(&format!(" · {}", p.name));
        if let Some(t) = &p.program_type {
            text.push_str(&format!(" ({t})"));
        }
        text.push_str(&format!(" · {}", verdict_word(p.verdict)));
    }
    if app.programs.len() > 1 {
        text.push_str(&format!(
            " · program {} of {} (tab)",
            app.current + 1,
            app.programs.len()
        ));
    }
    text.push_str(" · ? help · q quit");
    chrome::title_bar(frame, area, text, theme);
}

fn draw_listing(frame: &mut Frame, area: Rect, app: &App, p: &Program, theme: &Theme) {
    let Some(view) = app.view() else { return };
    let mut title = format!(" instructions {}", p.insns.len());
    if !p.summary.path.is_empty() {
        title.push_str(&format!(" · path {} steps", p.summary.path.len()));
        if p.summary.path_truncated {
            title.push_str(" (its start is missing)");
        }
    }
    if let Some(n) = p.summary.stats.processed {
        title.push_str(&format!(" · {n} processed"));
    }
    title.push(' ');
    let block = Block::new().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let hits_w = p
        .insns
        .iter()
        .map(|i| i.hits)
        .max()
        .filter(|&h| h > 0)
        .map_or(0, |h| h.to_string().len());
    let idx_w = p.insns.last().map_or(1, |i| i.idx.to_string().len());
    let selected_row = p.insns.get(view.selected).map_or(0, |i| i.row);
    let height = usize::from(inner.height);
    let first = nav::first_row_centered(selected_row, p.rows.len(), height);
    let lines: Vec<Line> = p
        .rows
        .iter()
        .skip(first)
        .take(height)
        .map(|row| match row {
            Row::Function(name) => Line::styled(format!("   ── {name}() ──"), theme.source()),
            Row::Source { file, line, text } => {
                let mut spans = vec![Span::styled(format!("   {file}:{line}"), theme.dim())];
                if let Some(t) = text {
                    spans.push(Span::styled(format!("  {t}"), theme.source()));
                }
                Line::from(spans)
            }
            Row::Insn(i) => {
                let Some(insn) = p.insns.get(*i) else {
                    return Line::raw("");
                };
                let cursor = if *i == view.selected { '>' } else { ' ' };
                let mark = if insn.fault {
                    '✗'
                } else if insn.on_path {
                    '•'
                } else {
                    ' '
                };
                let hits = match (hits_w, insn.hits) {
                    (0, _) => String::new(),
                    (w, 0) => format!("{:>w$} ", ""),
                    (w, h) => format!("{h:>w$} "),
                };
                let mut text = format!("{cursor}{mark} {hits}{:>idx_w$}: {}", insn.idx, insn.text);
                if let Some(j) = data::jump_note(insn.idx, &insn.text) {
                    text.push_str(&format!("  {j}"));
                }
                if insn.fault {
                    text.push_str("  ← rejected here");
                }
                let style = if *i == view.selected {
                    theme.selected()
                } else if insn.fault {
                    theme.fault()
                } else if insn.on_path {
                    theme.path()
                } else {
                    Style::new()
                };
                Line::styled(text, style)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_side(frame: &mut Frame, area: Rect, app: &App, p: &Program, theme: &Theme) {
    if app.show_history {
        draw_history(frame, area, app, p, theme);
    } else {
        draw_registers(frame, area, app, p, theme);
    }
}

/// `text` cut into lines of at most `width` characters at spaces, each after `indent`.
fn wrapped(text: &str, width: usize, indent: &str, style: Style) -> Vec<Line<'static>> {
    let room = width.saturating_sub(indent.chars().count()).max(10);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let (cur_len, word_len) = (cur.chars().count(), word.chars().count());
        if cur_len > 0 && cur_len + 1 + word_len > room {
            lines.push(Line::styled(format!("{indent}{cur}"), style));
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(Line::styled(format!("{indent}{cur}"), style));
    }
    lines
}

/// `name (type)` of a variable, or nothing.
fn var_label(v: &view::Variable) -> String {
    match &v.type_name {
        Some(t) => format!("{} ({t})", v.name),
        None => v.name.clone(),
    }
}

fn draw_registers(frame: &mut Frame, area: Rect, app: &App, p: &Program, theme: &Theme) {
    let Some(view) = app.view() else { return };
    let Some(insn) = p.insns.get(view.selected) else {
        return;
    };
    let snap = app.snapshot.as_ref().filter(|_| view.path_pos.is_some());
    let title = match snap {
        Some(s) => format!(
            " state before {}: {} · step {} of {} ",
            insn.idx,
            insn.text,
            s.step + 1,
            p.summary.path.len()
        ),
        None => format!(" {}: {} ", insn.idx, insn.text),
    };
    let block = Block::new().borders(Borders::ALL).title(title);
    let width = usize::from(block.inner(area).width);
    let mut lines: Vec<Line> = Vec::new();
    match snap {
        None => {
            let why = if p.summary.path.is_empty() {
                "there is no failing path in the log".to_string()
            } else {
                format!(
                    "instruction {} is not on the failing path: the verifier did not check it \
                     on the way to the error. n and p step along the path; e jumps to the error.",
                    insn.idx
                )
            };
            lines.extend(wrapped(&why, width, "", theme.dim()));
        }
        Some(s) => registers(&mut lines, app, p, insn.idx, s, width, theme),
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn registers(
    lines: &mut Vec<Line<'static>>,
    app: &App,
    p: &Program,
    idx: u32,
    s: &Snapshot,
    width: usize,
    theme: &Theme,
) {
    let vars = p.variables_at(idx);
    // At the error, the explanation's own operands (they know where values came from).
    let operands: &[Operand] = match (&p.explanation, s.at_fault) {
        (Some(e), true) => &e.operands,
        _ => &[],
    };
    if s.frame > 0 {
        lines.push(Line::styled(
            format!("in a called function (frame {})", s.frame),
            theme.dim(),
        ));
    }
    let mut empty = Vec::new();
    for r in 0..=10u8 {
        let state = s.state.regs.get(&r);
        let operand = operands.iter().find(|o| o.operand == format!("r{r}"));
        let name = view::variable_in_register(&vars, r)
            .map(var_label)
            .or_else(|| {
                operand
                    .and_then(|o| o.variable.as_ref())
                    .map(|v| v.name.clone())
            })
            .or_else(|| address_of(state, &vars));
        let Some(st) = state else {
            empty.push(format!("r{r}"));
            continue;
        };
        let marker = if app.reg == r && app.show_history {
            "*"
        } else {
            ""
        };
        let mut head = vec![Span::styled(format!("r{r:<3}"), theme.key())];
        if let Some(n) = &name {
            head.push(Span::styled(format!("{n}  "), theme.var()));
        }
        head.push(Span::raw(format!("{}{marker}", st.text)));
        lines.push(Line::from(head));
        let meaning = operand.map_or_else(
            || view::describe(Some(st), &Hints::default()),
            |o| o.meaning.clone(),
        );
        lines.extend(wrapped(&meaning, width, "    ", theme.dim()));
        if name.is_none()
            && let Some(origin) = operand.and_then(|o| o.origin.as_ref())
        {
            lines.extend(wrapped(origin, width, "    ", theme.dim()));
        }
    }
    if !empty.is_empty() {
        lines.extend(wrapped(
            &format!("no value: {}", empty.join(" ")),
            width,
            "",
            theme.dim(),
        ));
    }
    if !s.state.slots.is_empty() {
        lines.push(Line::styled("stack", theme.key()));
        for (off, slot) in &s.state.slots {
            let name = view::variable_in_slot(&vars, *off)
                .map(|v| format!("{}  ", var_label(v)))
                .unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(format!("fp{off:<4} "), theme.key()),
                Span::styled(name, theme.var()),
                Span::raw(slot.text.clone()),
            ]));
            lines.extend(wrapped(
                &view::describe_slot(slot, &Hints::default()),
                width,
                "    ",
                theme.dim(),
            ));
        }
    }
    let step = p.summary.path.get(s.step);
    if let Some(step) = step.filter(|st| !st.regs.is_empty() || !st.slots.is_empty()) {
        let printed: Vec<String> = step
            .regs
            .iter()
            .map(|r| format!("R{}={}", r.reg, r.text))
            .chain(
                step.slots
                    .iter()
                    .map(|sl| format!("fp{}={}", sl.off, sl.text)),
            )
            .collect();
        lines.extend(wrapped(
            &format!("after it: {}", printed.join(" ")),
            width,
            "",
            theme.path(),
        ));
    }
    if p.summary.path_truncated {
        lines.extend(wrapped(
            "(the log does not show the path's beginning: registers not printed since are \
             missing)",
            width,
            "",
            theme.dim(),
        ));
    }
}

/// `&name` when a register points at a stack variable's slot.
fn address_of(state: Option<&RegState>, vars: &[view::Variable]) -> Option<String> {
    let st = state?;
    if st.type_name != "fp" || st.reg == 10 {
        return None;
    }
    let off = st.off?;
    vars.iter()
        .find(|v| v.place == view::Place::Stack(off))
        .map(|v| format!("&{}", v.name))
}

fn draw_history(frame: &mut Frame, area: Rect, app: &App, p: &Program, theme: &Theme) {
    let Some(view) = app.view() else { return };
    let n = app.changes.len();
    let title = format!(
        " history of r{} · {n} change{} on the failing path · 0-9 a pick, h hides ",
        app.reg,
        if n == 1 { "" } else { "s" }
    );
    let block = Block::new().borders(Borders::ALL).title(title);
    let inner_h = usize::from(block.inner(area).height);
    let width = usize::from(block.inner(area).width);
    // The latest change at or before the view's step.
    let current = view.path_pos.and_then(|k| {
        app.changes
            .iter()
            .rposition(|c| c.step.is_none_or(|s| s <= k))
    });
    let mut lines: Vec<Line> = Vec::new();
    if app.changes.is_empty() {
        lines.push(Line::styled(
            format!("r{} never holds a value on the failing path", app.reg),
            theme.dim(),
        ));
    }
    let mut current_line = 0;
    for (i, c) in app.changes.iter().enumerate() {
        if Some(i) == current {
            current_line = lines.len();
        }
        let cursor = if Some(i) == current { '>' } else { ' ' };
        let at = match c.step {
            None => "entry".to_string(),
            Some(s) => format!("step {}", s + 1),
        };
        let line = p
            .line_of(c.idx)
            .map_or(String::new(), |(_, l)| format!(" line {l}"));
        let what = match (c.cause, c.step.and_then(|s| p.summary.path.get(s))) {
            (Cause::Entry, _) => "the program starts".to_string(),
            (Cause::Branch, _) => "back at a branch the verifier had put aside".to_string(),
            (Cause::Step, Some(st)) => st.text.clone(),
            (Cause::Step, None) => String::new(),
        };
        let style = if Some(i) == current {
            theme.selected()
        } else {
            Style::new()
        };
        lines.push(Line::styled(
            format!("{cursor}{at:<10} insn {}{line}  {what}", c.idx),
            style,
        ));
        let state = c
            .state
            .as_ref()
            .map_or_else(|| "no value (cleared)".to_string(), |s| s.text.clone());
        lines.extend(wrapped(&state, width, "    ", Style::new()));
        lines.extend(wrapped(
            &view::describe(c.state.as_ref(), &Hints::default()),
            width,
            "    ",
            theme.dim(),
        ));
    }
    // Keep the current change in sight.
    let first = nav::first_row_centered(current_line, lines.len(), inner_h);
    let lines: Vec<Line> = lines.into_iter().skip(first).collect();
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_verdict(frame: &mut Frame, area: Rect, p: &Program, theme: &Theme) {
    let mut lines = Vec::new();
    match p.verdict {
        VerdictKind::Accepted => {
            lines.push(Line::styled(
                format!("{} was accepted by the verifier", p.name),
                theme.good(),
            ));
            lines.push(Line::raw("there is no rejection to explore"));
        }
        VerdictKind::NotLoaded => {
            lines.push(Line::styled(
                format!("{} was not loaded", p.name),
                theme.error(),
            ));
            if let Some(r) = &p.reason {
                lines.push(Line::raw(r.clone()));
            }
        }
        VerdictKind::Rejected => {
            lines.push(Line::styled(
                format!("{} was rejected", p.name),
                theme.error(),
            ));
            if let Some(e) = &p.errno {
                lines.push(Line::raw(format!("error: {e}")));
            }
            if !p.has_log {
                lines.push(Line::styled(
                    "there is no verifier log: the loader refused the object before the \
                     verifier ran",
                    theme.dim(),
                ));
            }
        }
    }
    if !p.limits.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("limits: {}", p.limits), theme.dim()));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" verdict "))
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The explanation's lines: location, the verifier's words, cause, fix.
fn explanation_lines(app: &App, theme: &Theme) -> Vec<Line<'static>> {
    let Some(p) = app.program() else {
        return Vec::new();
    };
    let Some(e) = &p.explanation else {
        let text = match p.verdict {
            VerdictKind::Accepted => format!("none: {} was accepted", p.name),
            _ => format!("{}: {}", p.name, verdict_word(p.verdict)),
        };
        return vec![Line::styled(text, theme.good())];
    };
    let mut lines = Vec::new();
    let mut at = String::from("at ");
    match &e.location {
        Some(l) => {
            let file = std::path::Path::new(&l.file)
                .file_name()
                .map_or(l.file.clone(), |f| f.to_string_lossy().into_owned());
            at.push_str(&format!("{file}:{}", l.line));
            if let Some(f) = &l.function {
                at.push_str(&format!(" in {f}()"));
            }
        }
        None => at.push_str("no source line"),
    }
    if let Some(i) = &e.instruction {
        at.push_str(&format!(", instruction {}: {}", i.index, i.text));
    }
    lines.push(Line::from(vec![
        Span::styled("line ", theme.key()),
        Span::raw(
            e.location
                .as_ref()
                .map_or("?".into(), |l| l.line.to_string()),
        ),
        Span::raw(format!("  {at}")),
    ]));
    lines.push(Line::from(vec![
        Span::styled("verifier ", theme.key()),
        Span::raw(e.message.join(" / ")),
    ]));
    lines.push(Line::from(vec![
        Span::styled("why ", theme.key()),
        Span::raw(e.cause.clone()),
    ]));
    let mut fix = e.fix.summary.clone();
    if let Some(l) = e.fix.line {
        let how = match (&e.fix.code, e.fix.placement) {
            (Some(_), verifier_explain::explain::Placement::ReplaceLine) => "replace line",
            _ => "line",
        };
        fix = format!("({how} {l}) {fix}");
    }
    lines.push(Line::from(vec![
        Span::styled("fix ", theme.key()),
        Span::raw(fix),
    ]));
    if let Some(code) = &e.fix.code {
        for l in code.lines() {
            lines.push(Line::styled(
                format!("    {}", l.replace('\t', "    ")),
                theme.source(),
            ));
        }
        for edit in &e.fix.also {
            let how = match edit.placement {
                verifier_explain::explain::Placement::ReplaceLine => "and replace line",
                verifier_explain::explain::Placement::InsertBefore => "and insert before line",
            };
            lines.push(Line::from(vec![Span::styled(
                format!("({how} {})", edit.line),
                theme.key(),
            )]));
            for l in edit.code.lines() {
                lines.push(Line::styled(
                    format!("    {}", l.replace('\t', "    ")),
                    theme.source(),
                ));
            }
        }
    }
    if let Some(d) = &e.fix.decide {
        lines.push(Line::from(vec![
            Span::styled("you must decide ", theme.key()),
            Span::raw(d.clone()),
        ]));
    }
    lines
}

fn draw_explanation(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let title = match app.program().and_then(|p| p.explanation.as_ref()) {
        Some(e) => format!(" {} · {} · {} ", e.id, e.category.name(), e.title),
        None => " explanation ".to_string(),
    };
    let style = if app.program().is_some_and(|p| p.explanation.is_some()) {
        theme.error()
    } else {
        theme.good()
    };
    frame.render_widget(
        Paragraph::new(explanation_lines(app, theme))
            .block(Block::bordered().title(Span::styled(title, style)))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_hints(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let keys: &[(&str, &str)] = match app.mode {
        Mode::Help => &[("any key", "close")],
        Mode::Normal => &[
            ("↑↓", "move"),
            ("e", "error"),
            ("n/p", "path step"),
            ("h", "history"),
            ("0-9 a", "register"),
            ("tab", "program"),
            ("?", "help"),
            ("q", "quit"),
        ],
    };
    frame.render_widget(Paragraph::new(chrome::hints(keys, theme)), area);
}

const HELP: &[(&str, &str)] = &[
    ("↑ ↓ j k", "move; PgUp PgDn Home End (g G) jump"),
    (
        "e",
        "jump to the refused instruction (the end of the failing path)",
    ),
    ("n p", "next / previous step on the failing path"),
    ("h", "show or hide the history of a register along the path"),
    ("0-9 a", "follow r0-r9, a: r10, in the history"),
    ("tab", "next program of the object (shift-tab: previous)"),
    ("esc", "close the history; else quit"),
    ("q ctrl-c", "quit"),
    ("", ""),
    ("✗", "the instruction the verifier refused"),
    ("•", "an instruction on the failing path"),
    (
        "N",
        "the left column: how many times the verifier processed it",
    ),
];
