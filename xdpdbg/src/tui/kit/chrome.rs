//! What every screen draws around its panes: the title bar, the key hints, the help popup.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::theme::Theme;

/// The title bar: one row of `text` in the title style.
pub fn title_bar(frame: &mut Frame, area: Rect, text: String, theme: &Theme) {
    frame.render_widget(Paragraph::new(text).style(theme.title()), area);
}

/// The hints row: each key in the key style, then what it does (`↑↓ move  q quit`).
pub fn hints(keys: &[(&str, &str)], theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(k.to_string(), theme.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    Line::from(spans)
}

/// A rectangle of `width` × `height` centered in `area` (clamped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The help popup over `area`, at most `width` columns: one row per key and what it does
/// (an empty pair leaves a blank row), closed by any key.
pub fn help(frame: &mut Frame, area: Rect, keys: &[(&str, &str)], width: u16, theme: &Theme) {
    let rows = u16::try_from(keys.len()).unwrap_or(u16::MAX);
    let popup = centered(area, width, rows.saturating_add(4));
    let mut lines: Vec<Line> = keys
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
        Paragraph::new(lines).block(Block::bordered().title(" keys ")),
        popup,
    );
}
