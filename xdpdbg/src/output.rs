//! How results are shown: JSON for scripts, or text for people, colored only on a terminal and
//! never when `NO_COLOR` is set (both decided by `anstream`).

use anstyle::{AnsiColor, Style};
use std::io::Write as _;

/// Green, for things that are fine.
pub const OK: Style = AnsiColor::Green.on_default().bold();
/// Yellow, for warnings.
pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
/// Red, for failures.
pub const FAIL: Style = AnsiColor::Red.on_default().bold();
/// Bold, for headings.
pub const HEADING: Style = Style::new().bold();

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// `text` in `style` (the style is stripped later if stdout is not a color terminal).
pub fn styled(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// Lays out rows in columns padded to the widest cell; the first row is the heading.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[c]));
            }
        }
        let line = line.trim_end();
        if i == 0 {
            text.push_str(&styled(HEADING, line));
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns() {
        let rows = vec![
            vec!["id".to_string(), "hosts".to_string()],
            vec!["demo".to_string(), "3".to_string()],
        ];
        let text = table(&rows);
        let plain = anstream::adapter::strip_str(&text).to_string();
        assert_eq!(plain, "id    hosts\ndemo  3\n");
    }
}
