//! Drawing the browser from its state; nothing here changes the state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::state::{App, EntryView, Focus, Mode, Tone};

/// Colors and emphasis; without color only bold and reverse video are used.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// True to use colors.
    pub color: bool,
}

impl Theme {
    fn pick(&self, color: Style, plain: Style) -> Style {
        if self.color { color } else { plain }
    }
    fn title(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Black).bg(Color::Cyan).bold(),
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }
    fn header(&self) -> Style {
        self.pick(Style::new().fg(Color::Yellow).bold(), Style::new().bold())
    }
    fn selected(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::new().fg(Color::Black).bg(Color::Cyan),
            (true, false) => Style::new().add_modifier(Modifier::REVERSED),
            (false, true) => Style::new().bg(Color::DarkGray),
            (false, false) => Style::new().add_modifier(Modifier::UNDERLINED),
        }
    }
    fn border(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::new().fg(Color::Cyan),
            (true, false) => Style::new().bold(),
            _ => Style::new(),
        }
    }
    fn tone(&self, tone: Tone) -> Style {
        match tone {
            Tone::Info => self.pick(Style::new().fg(Color::Green), Style::new()),
            Tone::Error => self.pick(Style::new().fg(Color::Red).bold(), Style::new().bold()),
        }
    }
    fn dim(&self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new())
    }
    fn key(&self) -> Style {
        self.pick(Style::new().fg(Color::Cyan).bold(), Style::new().bold())
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let [title, main, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(status_height(app, area.width)),
        Constraint::Length(1),
    ])
    .areas(area);

    draw_title(frame, title, app, theme);
    let wide = main.width >= 90;
    if wide {
        // While a map is open the list shrinks to ids and names, leaving room for entries.
        let left = if app.focus == Focus::Entries && app.open.is_some() {
            (main.width / 4).min(24)
        } else {
            (main.width * 45 / 100).min(52)
        };
        let [l, r] =
            Layout::horizontal([Constraint::Length(left), Constraint::Min(10)]).areas(main);
        draw_maps(frame, l, app, theme);
        draw_right(frame, r, app, theme);
    } else if app.focus == Focus::Entries && app.open.is_some() {
        draw_right(frame, main, app, theme);
    } else {
        draw_maps(frame, main, app, theme);
    }
    draw_status(frame, status, app, theme);
    draw_hints(frame, hints, app, theme);

    match &app.mode {
        Mode::Help => draw_help(frame, main, theme),
        Mode::Detail => draw_detail(frame, main, app, theme),
        _ => {}
    }
}

fn draw_title(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let refresh = if app.paused {
        "paused".to_string()
    } else {
        format!("refresh {} ms", app.refresh_ms)
    };
    let text = format!(
        " xdpdbg map · {} maps · {refresh} · ? help · q quit",
        app.maps.len()
    );
    frame.render_widget(Paragraph::new(text).style(theme.title()), area);
}

/// The first row to show so that `selected` is visible in `height` rows.
fn offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        (selected + 1).saturating_sub(height)
    }
}

fn draw_maps(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Focus::Maps;
    let mut title = format!(" maps {}", app.visible_maps.len());
    if !app.map_search.is_empty() {
        title = format!(
            " maps {} of {} matching /{} ",
            app.visible_maps.len(),
            app.maps.len(),
            app.map_search
        );
    } else {
        title.push(' ');
    }
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if app.visible_maps.is_empty() {
        let text = if app.maps.is_empty() {
            "no maps on this system (or not listed yet)".to_string()
        } else {
            format!("no map matches /{}; Esc clears the search", app.map_search)
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
        return;
    }
    let rows_h = inner.height.saturating_sub(1) as usize;
    let first = offset(app.map_selected, rows_h);
    let shown: Vec<_> = app
        .visible_maps
        .iter()
        .enumerate()
        .skip(first)
        .take(rows_h)
        .map(|(pos, &i)| (pos, &app.maps[i]))
        .collect();
    let id_w = shown
        .iter()
        .map(|(_, m)| m.id.to_string().len())
        .max()
        .unwrap_or(2)
        .max(2) as u16;
    let entries = |m: &bpf_maps::inventory::MapSummary| {
        format!(
            "{}/{}",
            m.entries.map_or_else(|| "?".into(), |n| n.to_string()),
            m.max_entries
        )
    };
    let count_w = shown
        .iter()
        .map(|(_, m)| entries(m).len())
        .max()
        .unwrap_or(7)
        .max(7) as u16;
    let type_w = shown
        .iter()
        .map(|(_, m)| m.kind.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 14) as u16;
    let rows = shown.iter().map(|(pos, m)| {
        let style = if *pos == app.map_selected {
            theme.selected(focused)
        } else {
            Style::new()
        };
        Row::new(vec![
            Cell::new(Line::from(m.id.to_string()).right_aligned()),
            Cell::new(m.name.clone()),
            Cell::new(m.kind.clone()),
            Cell::new(Line::from(entries(m)).right_aligned()),
        ])
        .style(style)
    });
    let header = Row::new(vec![
        Cell::new(Line::from("ID").right_aligned()),
        Cell::new("NAME"),
        Cell::new("TYPE"),
        Cell::new(Line::from("ENTRIES").right_aligned()),
    ])
    .style(theme.header());
    let widths = [
        Constraint::Length(id_w),
        Constraint::Fill(1),
        Constraint::Length(type_w),
        Constraint::Length(count_w),
    ];
    // Narrow panes (a map is open) show ids and names only.
    let columns = if inner.width < 40 { 2 } else { 4 };
    let table = Table::new(rows, &widths[..columns]).header(header);
    frame.render_widget(table, inner);
}

fn draw_right(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    match &app.open {
        Some(view) => draw_entries(frame, area, view, app.focus == Focus::Entries, theme),
        None => draw_details(frame, area, app, theme),
    }
}

fn draw_details(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = Block::new().borders(Borders::ALL).title(" map ");
    let Some(m) = app.selected_map() else {
        frame.render_widget(block, area);
        return;
    };
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(", ")
        }
    };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<10} "), theme.header()),
            Span::raw(value),
        ])
    };
    let lines = vec![
        field("name", m.name.clone()),
        field("id", m.id.to_string()),
        field("type", m.kind.clone()),
        field(
            "key",
            format!("{} bytes, value {} bytes", m.key_size, m.value_size),
        ),
        field(
            "entries",
            format!(
                "{} of {}",
                m.entries.map_or_else(|| "?".into(), |n| n.to_string()),
                m.max_entries
            ),
        ),
        field("flags", list(m.flags.clone())),
        field(
            "memory",
            m.memory_bytes
                .map_or_else(|| "?".into(), |b| format!("{b} bytes")),
        ),
        field("frozen", if m.frozen { "yes" } else { "no" }.into()),
        field(
            "btf",
            m.btf_id.map_or_else(
                || "none (keys and values shown as hex)".into(),
                |b| format!("id {b}"),
            ),
        ),
        field(
            "programs",
            list(
                m.programs
                    .iter()
                    .map(|h| format!("{} ({})", h.name, h.id))
                    .collect(),
            ),
        ),
        field(
            "processes",
            list(
                m.processes
                    .iter()
                    .map(|h| format!("{} ({})", h.name, h.id))
                    .collect(),
            ),
        ),
        field(
            "pinned",
            list(m.pinned.iter().map(|p| p.display().to_string()).collect()),
        ),
        Line::raw(""),
        Line::styled("Enter browses its entries", theme.dim()),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_entries(frame: &mut Frame, area: Rect, view: &EntryView, focused: bool, theme: &Theme) {
    let set = &view.set;
    let (key_type, value_type) = set.schema.type_names();
    let mut title = format!(
        " {} · id {} · {} · {}/{} entries",
        set.name,
        set.id,
        set.kind,
        set.entries.len(),
        set.max_entries,
    );
    if view.visible.len() != set.entries.len() {
        title.push_str(&format!(", {} shown", view.visible.len()));
    }
    title.push(' ');
    let mut footer = format!(" read {}", set.method);
    if let Some(cpus) = set.per_cpu {
        footer.push_str(&format!(
            " · values summed over {cpus} CPUs; edits write every CPU"
        ));
    }
    footer.push(' ');
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(title)
        .title_bottom(Line::styled(footer, theme.dim()));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if view.visible.is_empty() {
        let text = if set.entries.is_empty() {
            "the map is empty".to_string()
        } else {
            "no entry matches the search or filter (/ and f change them)".to_string()
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
        return;
    }
    let rows_h = inner.height.saturating_sub(1) as usize;
    let first = offset(view.selected, rows_h);
    let shown: Vec<_> = view
        .visible
        .iter()
        .enumerate()
        .skip(first)
        .take(rows_h)
        .map(|(pos, &i)| (pos, &set.entries[i]))
        .collect();
    let key_w = shown
        .iter()
        .map(|(_, e)| e.key_text.chars().count())
        .chain([key_type.chars().count() + 4])
        .max()
        .unwrap_or(3)
        .clamp(3, (inner.width as usize / 2).max(3)) as u16;
    let rows = shown.iter().map(|(pos, e)| {
        let style = if *pos == view.selected {
            theme.selected(focused)
        } else {
            Style::new()
        };
        Row::new(vec![
            Cell::new(e.key_text.clone()),
            Cell::new("→"),
            Cell::new(e.value_text.clone()),
        ])
        .style(style)
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(key_w),
            Constraint::Length(1),
            Constraint::Min(5),
        ],
    )
    .header(
        Row::new(vec![
            format!("KEY {key_type}"),
            String::new(),
            format!("VALUE {value_type}"),
        ])
        .style(theme.header()),
    );
    frame.render_widget(table, inner);
}

/// The most rows the status line takes.
const STATUS_ROWS: usize = 4;

/// The status line cut into rows of `width` characters, at most [`STATUS_ROWS`] of them: an
/// input too long to fit shows its end (where the cursor is), a message its beginning.
fn status_rows(app: &App, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = width.max(1) as usize;
    let room = width * STATUS_ROWS;
    let prompt = |label: String, input: &str| {
        let label_len = label.chars().count();
        let fits = room.saturating_sub(label_len + 2);
        let n = input.chars().count();
        let shown = if n > fits {
            let tail: String = input.chars().skip(n - fits + 1).collect();
            format!("…{tail}")
        } else {
            input.to_string()
        };
        vec![
            (label, theme.key()),
            (shown, Style::new()),
            ("▏".to_string(), theme.key()),
        ]
    };
    let spans = match &app.mode {
        Mode::Search { input, .. } => prompt("/".into(), input),
        Mode::Filter { input } => prompt("filter: ".into(), input),
        Mode::Edit {
            key_text, input, ..
        } => prompt(format!("edit {key_text}: "), input),
        Mode::ConfirmDelete { key_text, .. } => vec![
            (format!("delete key {key_text}? "), theme.tone(Tone::Error)),
            ("y deletes it, any other key keeps it".into(), Style::new()),
        ],
        _ => match &app.status {
            Some((tone, text)) => vec![(text.clone(), theme.tone(*tone))],
            None => Vec::new(),
        },
    };
    // Cut into rows by characters (exact, unlike word wrapping).
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0;
    for (text, style) in spans {
        let mut piece = String::new();
        for c in text.chars() {
            if used == width {
                let row = rows.last_mut().expect("one row at least");
                row.push(Span::styled(std::mem::take(&mut piece), style));
                rows.push(Vec::new());
                used = 0;
            }
            piece.push(c);
            used += 1;
        }
        rows.last_mut()
            .expect("one row at least")
            .push(Span::styled(piece, style));
    }
    rows.truncate(STATUS_ROWS);
    rows.into_iter().map(Line::from).collect()
}

/// Rows the status line needs.
fn status_height(app: &App, width: u16) -> u16 {
    status_rows(app, &Theme { color: false }, width).len() as u16
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    frame.render_widget(Paragraph::new(status_rows(app, theme, area.width)), area);
}

fn draw_hints(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let keys: &[(&str, &str)] = match (&app.mode, app.focus) {
        (Mode::Search { .. }, _) => &[("type", "to search"), ("enter", "keep"), ("esc", "undo")],
        (Mode::Filter { .. }, _) => &[
            ("FIELD=VALUE", "(!= < <= > >=)"),
            ("enter", "apply (empty clears)"),
            ("esc", "cancel"),
        ],
        (Mode::Edit { .. }, _) => &[
            ("field=value[,field=value]", "JSON, or a bare value"),
            ("ctrl-u", "clear"),
            ("enter", "write"),
            ("esc", "cancel"),
        ],
        (Mode::ConfirmDelete { .. }, _) => &[("y", "delete"), ("n", "keep")],
        (Mode::Help | Mode::Detail, _) => &[("any key", "close")],
        (Mode::Normal, Focus::Maps) => &[
            ("↑↓", "move"),
            ("enter", "open"),
            ("/", "search"),
            ("r", "refresh"),
            ("p", "pause"),
            ("?", "help"),
            ("q", "quit"),
        ],
        (Mode::Normal, Focus::Entries) => &[
            ("↑↓", "move"),
            ("enter", "detail"),
            ("/", "search"),
            ("f", "filter"),
            ("e", "edit"),
            ("d", "delete"),
            ("esc", "back"),
            ("p", "pause"),
            ("?", "help"),
        ],
    };
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(*k, theme.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    // What narrows the view, on the right.
    let mut state = Vec::new();
    if let Some(v) = app.open.as_ref().filter(|_| app.focus == Focus::Entries) {
        if !v.search.is_empty() {
            state.push(format!("search /{}", v.search));
        }
        if let Some((f, _)) = &v.filter {
            state.push(format!("filter {f}"));
        }
    } else if !app.map_search.is_empty() {
        state.push(format!("search /{}", app.map_search));
    }
    if app.paused {
        state.push("paused".into());
    }
    let state = state.join(" · ");
    let [left, right] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(state.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(Paragraph::new(state).style(theme.header()), right);
}

/// A rectangle of `width` × `height` centered in `area` (clamped to it).
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

const HELP: &[(&str, &str)] = &[
    ("↑ ↓ j k", "move; PgUp PgDn Home End (g G) jump"),
    (
        "enter",
        "open the selected map; on an entry, show it in full",
    ),
    (
        "esc",
        "back to the map list (on the list: clear the search)",
    ),
    (
        "/",
        "search maps by name, type or id (id:N); entries by key and value text",
    ),
    (
        "f",
        "filter entries: FIELD=VALUE, != < <= > >=; key.F / value.F",
    ),
    (
        "e",
        "edit the value: field=value[,field=value], JSON or a bare value",
    ),
    ("d", "delete the entry (asks y/n first)"),
    ("r", "refresh now"),
    ("p", "pause or resume live refresh"),
    ("?", "this help"),
    ("q ctrl-c", "quit"),
];

fn draw_help(frame: &mut Frame, area: Rect, theme: &Theme) {
    let popup = centered(area, 80, HELP.len() as u16 + 4);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<10}"), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(" any key closes this help", theme.dim()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::new().borders(Borders::ALL).title(" keys ")),
        popup,
    );
}

fn draw_detail(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(e) = app.open.as_ref().and_then(|v| v.current()) else {
        return;
    };
    let pretty = serde_json::to_string_pretty(&e.full_json).unwrap_or_default();
    let mut lines: Vec<Line> = vec![Line::from(vec![
        Span::styled("key bytes ", theme.header()),
        Span::raw(bpf_maps::typed::hex(&e.key)),
    ])];
    lines.extend(pretty.lines().map(|l| Line::raw(l.to_string())));
    let popup = centered(
        area,
        area.width.saturating_sub(8),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::new()
                .borders(Borders::ALL)
                .title(" entry (any key closes) "),
        ),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::tests::{set, summary};
    use crate::tui::text_of;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn render(app: &App, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(f, app, &Theme { color: false })).unwrap();
        text_of(t.backend().buffer())
    }

    #[test]
    fn list_entries_and_prompts_render() {
        let mut app = App::new(500);
        app.set_maps(Ok(vec![
            summary(4, "counts", "hash"),
            summary(19, "fdb", "lru_hash"),
        ]));
        let screen = render(&app, 120, 20);
        assert!(
            screen.contains("xdpdbg map · 2 maps · refresh 500 ms"),
            "{screen}"
        );
        assert!(screen.contains("counts"), "{screen}");
        assert!(screen.contains("lru_hash"), "{screen}");
        assert!(screen.contains("2/16"), "{screen}");
        assert!(screen.contains("Enter browses its entries"), "{screen}");

        app.set_entries(Ok(set(4, &[(1, "aa"), (2, "bb")])));
        let screen = render(&app, 120, 20);
        assert!(
            screen.contains("counts · id 4 · hash · 2/16 entries"),
            "{screen}"
        );
        assert!(screen.contains("KEY <4 bytes>"), "{screen}");
        assert!(screen.contains("VALUE <8 bytes>"), "{screen}");
        assert!(
            screen
                .lines()
                .any(|l| l.contains("2") && l.contains("→ bb")),
            "{screen}"
        );

        app.start_delete();
        let screen = render(&app, 120, 20);
        assert!(screen.contains("delete key 1? y deletes it"), "{screen}");
        app.mode = Mode::Help;
        assert!(render(&app, 120, 20).contains("any key closes this help"));
        // Narrow terminals show the focused pane only.
        app.mode = Mode::Normal;
        let screen = render(&app, 60, 12);
        assert!(screen.contains("→ aa"), "{screen}");
        assert!(!screen.contains("lru_hash"), "{screen}");
        // A long input shows its end, where the cursor is, over up to four rows.
        app.mode = Mode::Edit {
            key: vec![1, 0, 0, 0],
            key_text: "1".into(),
            input: format!("start{}end", "x".repeat(500)),
        };
        let screen = render(&app, 60, 12);
        assert!(screen.contains("xxxend▏"), "{screen}");
        assert!(!screen.contains("start"), "{screen}");
        app.mode = Mode::Normal;
        app.error(format!("long{}", "y".repeat(100)));
        let screen = render(&app, 60, 12);
        assert!(
            screen.contains(&format!("long{}", "y".repeat(56))),
            "{screen}"
        );
        assert!(screen.contains(&"y".repeat(44)), "{screen}");
        // Tiny terminals do not panic.
        render(&app, 5, 3);
        render(&app, 1, 1);
    }
}
