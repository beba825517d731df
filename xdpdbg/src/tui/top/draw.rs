//! Drawing the screen from its state; nothing here changes the state.

use std::collections::BTreeMap;

use bpf_profile::profile::ProgramProfile;
use bpf_profile::symbols::Resolution;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, Table};

use super::state::{App, Graph, HOT_PERCENT, Mode, ProfileView, Tone, View};
use crate::top::source;
use crate::top::table::{CPU_PERCENT_MEANS, Mode as CpuMode};
use crate::tui::kit::{Theme, chrome, nav};

/// The keys of the help popup.
pub const HELP: &[(&str, &str)] = &[
    ("↑↓ j k", "select a program / scroll the profile"),
    ("PgUp PgDn", "a page"),
    ("Home End", "first / last"),
    (
        "Enter →",
        "profile of the selected program (lines, helpers)",
    ),
    ("Esc ←", "back to the table / clear the filter"),
    (
        "/",
        "filter by name, type or attach point (Enter keeps, Esc undoes)",
    ),
    ("s F6 >", "sort by the next column (S < the previous)"),
    ("r I", "reverse the sort"),
    ("c n", "sort by CPU % / by name"),
    (
        "t",
        "run-time statistics on/off (exact counts, cost on every run)",
    ),
    ("h", "graph: CPU % or runs/s of the selected program"),
    ("p", "pause / resume the refresh"),
    ("?", "this help"),
    ("q Ctrl-C", "quit"),
];

fn tone(theme: &Theme, tone: Tone) -> Style {
    match tone {
        Tone::Info => theme.info(),
        Tone::Error => theme.error(),
    }
}

/// A hot source line.
fn hot(theme: &Theme) -> Style {
    theme.pick(
        Style::new()
            .fg(ratatui::style::Color::Red)
            .add_modifier(Modifier::BOLD),
        Style::new().add_modifier(Modifier::BOLD),
    )
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let [title, main, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    match (&app.view, &app.profile) {
        (View::Profile, Some(view)) => {
            chrome::title_bar(
                frame,
                title,
                format!(
                    " xdpdbg top · profile of program {} {}{}",
                    view.prog_id,
                    view.name,
                    if app.paused { " · PAUSED" } else { "" }
                ),
                theme,
            );
            draw_profile(frame, main, app, view, theme);
        }
        _ => {
            chrome::title_bar(
                frame,
                title,
                format!(
                    " xdpdbg top · {} programs · refresh {:.1} s{}",
                    app.rows.iter().filter(|s| s.gone_for == 0).count(),
                    app.interval_ms as f64 / 1000.0,
                    if app.paused { " · PAUSED" } else { "" }
                ),
                theme,
            );
            draw_table(frame, main, app, theme);
        }
    }
    let status_line = match (&app.mode, &app.status) {
        (Mode::Filter { input, .. }, _) => Line::from(vec![
            Span::styled("filter: ", theme.key()),
            Span::raw(format!("{input}▏")),
        ]),
        (_, Some((t, text))) => Line::styled(text.clone(), tone(theme, *t)),
        _ => Line::raw(""),
    };
    frame.render_widget(Paragraph::new(status_line), status);
    let keys: &[(&str, &str)] = match app.view {
        View::Table => &[
            ("↑↓", "select"),
            ("Enter", "profile"),
            ("/", "filter"),
            ("s", "sort"),
            ("r", "reverse"),
            ("t", "stats on/off"),
            ("h", "graph"),
            ("p", "pause"),
            ("?", "help"),
            ("q", "quit"),
        ],
        View::Profile => &[
            ("↑↓ PgUp PgDn", "scroll"),
            ("Esc", "back"),
            ("t", "stats on/off"),
            ("p", "pause"),
            ("?", "help"),
            ("q", "quit"),
        ],
    };
    frame.render_widget(Paragraph::new(chrome::hints(keys, theme)), hints);
    if app.mode == Mode::Help {
        chrome::help(frame, main, HELP, 76, theme);
    }
}

/// The header's lines: the mode and its cost, what CPU % means, sampling health.
fn header_lines(app: &App, theme: &Theme) -> Vec<Line<'static>> {
    let f = &app.facts;
    let sampling = format!(
        "perf {} at {} Hz per CPU on {} CPUs",
        app.setup.event, app.setup.frequency_hz, f.cpus
    );
    let mode = match f.mode {
        Some(CpuMode::Stats) if f.holds_stats => Line::from(vec![
            Span::styled("mode: stats", theme.key()),
            Span::raw(
                " (BPF_ENABLE_STATS on while xdpdbg top runs: exact run counts and ns; costs \
                 ~30-100 ns on every run of every program; t turns it off)",
            ),
        ]),
        Some(CpuMode::Stats) => Line::from(vec![
            Span::styled("mode: stats", theme.key()),
            Span::raw(
                " (kept on by kernel.bpf_stats_enabled, not by this tool: every run pays \
                 ~30-100 ns)",
            ),
        ]),
        _ => Line::from(vec![
            Span::styled("mode: samples", theme.key()),
            Span::raw(format!(
                " (CPU % estimated from {sampling}: no cost per run; no run counts, shown as \
                 -; t turns exact statistics on)"
            )),
        ]),
    };
    let mut health = if f.refreshes <= 1 {
        format!(
            "{sampling}: first reading; figures from the next refresh, in {:.1} s",
            app.interval_ms as f64 / 1000.0
        )
    } else {
        format!(
            "{sampling}: {} samples in the last {:.1} s",
            f.samples,
            f.interval_ms as f64 / 1000.0
        )
    };
    if f.lost > 0 {
        health.push_str(&format!(
            "; {} lost (rings full: refresh more often)",
            f.lost
        ));
    }
    let mut lines = vec![mode, Line::styled(CPU_PERCENT_MEANS, theme.dim())];
    if f.throttled > 0 {
        lines.push(Line::styled(
            format!(
                "perf throttled sampling {} times: the kernel lowered the rate \
                 (kernel.perf_event_max_sample_rate, left as found); give a lower --frequency",
                f.throttled
            ),
            theme.error(),
        ));
    } else if let Some(note) = &app.setup.kernel_note {
        lines.push(Line::styled(note.clone(), theme.error()));
    } else {
        lines.push(Line::styled(health, theme.dim()));
    }
    lines
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
}

fn fmt_count(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn draw_table(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let header = header_lines(app, theme);
    let [head, list, graph] = Layout::vertical([
        Constraint::Length(header.len() as u16),
        Constraint::Min(4),
        Constraint::Length(5),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header), head);

    let arrow = if app.reverse { "▲" } else { "▼" };
    let columns = [
        "ID", "TYPE", "NAME", "ATTACH", "OWNERS", "RUNS", "RUNS/S", "NS/RUN", "CPU%",
    ];
    let head_row = Row::new(columns.iter().map(|c| {
        if *c == app.sort.column() {
            format!("{c}{arrow}")
        } else {
            (*c).to_string()
        }
    }))
    .style(theme.header());
    let block = Block::new()
        .borders(Borders::ALL)
        .title(if app.filter.is_empty() {
            format!(" programs {} ", app.visible.len())
        } else {
            format!(
                " programs {} of {} matching /{} ",
                app.visible.len(),
                app.rows.len(),
                app.filter
            )
        });
    let inner_h = block.inner(list).height.saturating_sub(1) as usize;
    let first = nav::first_row_in_sight(app.selected, inner_h);
    let rows: Vec<Row> = app
        .visible
        .iter()
        .enumerate()
        .skip(first)
        .take(inner_h)
        .map(|(pos, &i)| {
            let s = &app.rows[i];
            let r = &s.row;
            let name = if s.gone_for > 0 {
                format!("{} (gone)", r.name)
            } else {
                r.name.clone()
            };
            let cells = vec![
                Cell::from(r.id.to_string()),
                Cell::from(r.prog_type.clone()),
                Cell::from(name),
                Cell::from(if r.attach.is_empty() {
                    "-".to_string()
                } else {
                    r.attach.join(", ")
                }),
                Cell::from(if r.owners.is_empty() {
                    "-".to_string()
                } else {
                    r.owners.join(", ")
                }),
                Cell::from(fmt_count(r.run_cnt)),
                Cell::from(fmt_opt(r.runs_per_sec, 0)),
                Cell::from(fmt_opt(r.avg_run_ns, 0)),
                Cell::from(fmt_opt(r.cpu_percent, 2)),
            ];
            let mut style = if s.gone_for > 0 {
                theme.pick(
                    Style::new().fg(ratatui::style::Color::DarkGray),
                    Style::new().add_modifier(Modifier::DIM),
                )
            } else {
                Style::new()
            };
            if pos == app.selected {
                style = style.patch(theme.selected());
            }
            Row::new(cells).style(style)
        })
        .collect();
    let widths = [
        Constraint::Length(6),
        Constraint::Length(13),
        Constraint::Length(22),
        Constraint::Fill(2),
        Constraint::Fill(1),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(7),
    ];
    frame.render_widget(Table::new(rows, widths).header(head_row).block(block), list);

    let selected = app.selected_row();
    let (what, points): (&str, Vec<u64>) = match (selected, app.graph) {
        (Some(s), Graph::Cpu) => (
            "CPU % ×100",
            app.history.get(&s.row.id).map_or_else(Vec::new, |h| {
                h.iter().map(|(c, _)| (c * 100.0) as u64).collect()
            }),
        ),
        (Some(s), Graph::Runs) => (
            "runs/s",
            app.history
                .get(&s.row.id)
                .map_or_else(Vec::new, |h| h.iter().map(|(_, r)| *r as u64).collect()),
        ),
        (None, _) => ("", Vec::new()),
    };
    let title = match selected {
        Some(s) => {
            let last = match app.graph {
                Graph::Cpu => format!("{} %", fmt_opt(s.row.cpu_percent, 2)),
                Graph::Runs => format!("{} runs/s", fmt_opt(s.row.runs_per_sec, 0)),
            };
            format!(
                " {what} of {} {} over the last {} refreshes: now {last} (h switches) ",
                s.row.id,
                s.row.name,
                points.len()
            )
        }
        None => " no program selected ".to_string(),
    };
    let inner_w = graph.width.saturating_sub(2) as usize;
    let points: Vec<u64> = points[points.len().saturating_sub(inner_w)..].to_vec();
    frame.render_widget(
        Sparkline::default()
            .block(Block::new().borders(Borders::ALL).title(title))
            .data(&points),
        graph,
    );
}

fn resolution_text(r: Resolution) -> &'static str {
    match r {
        Resolution::Line => "line (subprograms and source lines, from BTF line info)",
        Resolution::Function => {
            "function only: this program has no line info (load it with BTF from clang -g); \
             samples are shown per subprogram"
        }
        Resolution::Program => {
            "program only: this program has no BTF, so no subprogram names or lines; samples \
             are shown for the program as a whole"
        }
    }
}

/// The profile's text, one entry per row.
pub fn profile_lines(view: &ProfileView, theme: &Theme) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    let Some(fr) = &view.report else {
        out.push(Line::raw("reading samples..."));
        return out;
    };
    if let Some(note) = &fr.note {
        out.push(Line::styled(
            format!("samples of this program cannot be placed: {note}"),
            theme.error(),
        ));
    }
    if fr.vanished {
        out.push(Line::styled(
            format!(
                "program {} was unloaded: the profile below stops there",
                fr.prog_id
            ),
            theme.error(),
        ));
    }
    let r = &fr.report;
    let Some(p) = r.programs.iter().find(|p| p.id == fr.prog_id) else {
        out.push(Line::raw(format!(
            "no samples in program {} yet ({} samples elsewhere in {:.1} s): is it running?",
            fr.prog_id,
            r.samples.total,
            r.duration_ms as f64 / 1000.0
        )));
        return out;
    };
    out.push(Line::raw(format!(
        "resolution: {}",
        resolution_text(p.resolution)
    )));
    out.push(Line::raw(format!(
        "{} samples in the program ({:.1}% of all {}) over {:.1} s of {} at {} Hz per CPU on {} \
         CPUs: estimated CPU {:.2}% of the machine",
        p.samples,
        p.percent,
        r.samples.total,
        r.duration_ms as f64 / 1000.0,
        r.event.name(),
        r.frequency_hz,
        r.cpus,
        p.cpu_percent
    )));
    if r.samples.throttled > 0 {
        out.push(Line::styled(
            format!(
                "perf throttled the sampling {} times (kernel.perf_event_max_sample_rate, left \
                 as found): figures undercount; give a lower --frequency",
                r.samples.throttled
            ),
            theme.error(),
        ));
    }
    if r.samples.lost > 0 {
        out.push(Line::styled(
            format!(
                "{} sample records lost: the rings filled before they were read (a stalled \
                 screen?); figures undercount",
                r.samples.lost
            ),
            theme.error(),
        ));
    }
    out.push(Line::raw(""));
    if p.resolution == Resolution::Line {
        hot_lines(&mut out, p, theme);
    }
    out.push(Line::styled(
        "FUNCTIONS   share  samples  self",
        theme.header(),
    ));
    for f in &p.functions {
        out.push(Line::raw(format!(
            "  {:<10}{:>6.1}%  {:>7}  {:>4}",
            f.name, f.percent, f.samples, f.self_samples
        )));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "HELPERS AND KFUNCS (time inside them, charged to the calling line)",
        theme.header(),
    ));
    if p.helpers.is_empty() {
        out.push(Line::raw("  none sampled"));
    }
    for h in &p.helpers {
        out.push(Line::raw(format!(
            "  {:>6.1}%  {:>7}  {}",
            h.percent, h.samples, h.name
        )));
    }
    if p.resolution == Resolution::Line {
        out.push(Line::raw(""));
        source_lines(&mut out, view, p, theme);
    }
    out
}

/// The hottest lines first.
fn hot_lines(out: &mut Vec<Line<'static>>, p: &ProgramProfile, theme: &Theme) {
    out.push(Line::styled(
        "HOT LINES (share of the program's samples; helper time charged to the calling line)",
        theme.header(),
    ));
    let mut lines: Vec<(&str, &bpf_profile::profile::LineProfile)> = p
        .functions
        .iter()
        .flat_map(|f| f.lines.iter().map(move |l| (f.name.as_str(), l)))
        .collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.1.samples));
    for (func, l) in lines.iter().take(15) {
        let file = l.file.rsplit('/').next().unwrap_or(&l.file);
        let helpers: Vec<String> = l
            .helpers
            .iter()
            .map(|h| format!("{} {:.1}%", h.name, h.percent))
            .collect();
        let mut text = format!(
            "  {:>6.1}% {:>7}  {file}:{:<5} {func:<10} {}",
            l.percent,
            l.samples,
            l.line,
            l.text.trim()
        );
        if !helpers.is_empty() {
            text.push_str(&format!("   [in {}]", helpers.join(", ")));
        }
        let style = if l.percent >= HOT_PERCENT {
            hot(theme)
        } else {
            Style::new()
        };
        out.push(Line::styled(text, style));
    }
    out.push(Line::raw(""));
}

/// The source around the sampled lines: from disk when the file is here, else the text BTF
/// keeps for each line record.
fn source_lines(
    out: &mut Vec<Line<'static>>,
    view: &ProfileView,
    p: &ProgramProfile,
    theme: &Theme,
) {
    // (file, line) -> (percent, samples)
    let mut by_line: BTreeMap<(&str, u32), (f64, u64, &str)> = BTreeMap::new();
    for l in p.functions.iter().flat_map(|f| &f.lines) {
        let e = by_line
            .entry((l.file.as_str(), l.line))
            .or_insert((0.0, 0, l.text.as_str()));
        e.0 += l.percent;
        e.1 += l.samples;
    }
    let gutter = |pct: Option<f64>| match pct {
        Some(p) if p >= HOT_PERCENT => format!(">>{p:>6.1}%"),
        Some(p) => format!("  {p:>6.1}%"),
        None => " ".repeat(9),
    };
    match &view.source {
        Some((path, file)) => {
            out.push(Line::styled(
                format!("SOURCE {path} (from disk; >> marks hot lines)"),
                theme.header(),
            ));
            let sampled: Vec<u32> = by_line
                .keys()
                .filter(|(f, _)| *f == path)
                .map(|(_, l)| *l)
                .collect();
            for (i, (first, last)) in source::excerpts(&sampled, 3, file.len())
                .into_iter()
                .enumerate()
            {
                if i > 0 {
                    out.push(Line::styled("   ⋮", theme.dim()));
                }
                for n in first..=last {
                    let pct = by_line.get(&(path.as_str(), n)).map(|e| e.0);
                    let text = format!(
                        "{} {n:>5} │ {}",
                        gutter(pct),
                        file.line(n).unwrap_or_default()
                    );
                    let style = match pct {
                        Some(p) if p >= HOT_PERCENT => hot(theme),
                        None => theme.dim(),
                        _ => Style::new(),
                    };
                    out.push(Line::styled(text, style));
                }
            }
        }
        None => {
            out.push(Line::styled(
                "SOURCE (the file is not on this machine: the text of each sampled line is \
                 BTF's; >> marks hot lines)",
                theme.header(),
            ));
            for ((file, n), (pct, _, text)) in &by_line {
                let name = file.rsplit('/').next().unwrap_or(file);
                let style = if *pct >= HOT_PERCENT {
                    hot(theme)
                } else {
                    Style::new()
                };
                out.push(Line::styled(
                    format!("{} {name}:{n:<5} │ {}", gutter(Some(*pct)), text),
                    style,
                ));
            }
        }
    }
}

fn draw_profile(frame: &mut Frame, area: Rect, app: &App, view: &ProfileView, theme: &Theme) {
    let lines = profile_lines(view, theme);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(format!(" profile since opened · {} ", app.setup.event));
    let inner_h = block.inner(area).height as usize;
    let max = lines.len().saturating_sub(inner_h);
    let scroll = view.scroll.min(max);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        area,
    );
}
