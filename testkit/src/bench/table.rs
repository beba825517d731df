//! Markdown tables, as the benchmarks print their results.

use std::fmt;

/// How a column's cells are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left (text): `---`.
    Left,
    /// Right (numbers): `---:`.
    Right,
}

/// A markdown table: a header row, its alignment row, then one row per [`Table::row`].
/// Displayed, each row ends with a newline.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns (a column's name may be empty).
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(name, align)| (name.to_string(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row of cells, one per column (an empty cell stays empty).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }
}

/// `| a | b |`, with `| |` for an empty cell.
fn write_row<'a>(f: &mut fmt::Formatter<'_>, cells: impl Iterator<Item = &'a str>) -> fmt::Result {
    for cell in cells {
        if cell.is_empty() {
            f.write_str("| ")?;
        } else {
            write!(f, "| {cell} ")?;
        }
    }
    f.write_str("|\n")
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_row(f, self.columns.iter().map(|(name, _)| name.as_str()))?;
        for (_, align) in &self.columns {
            f.write_str(match align {
                Align::Left => "|---",
                Align::Right => "|---:",
            })?;
        }
        f.write_str("|\n")?;
        for row in &self.rows {
            write_row(f, row.iter().map(String::as_str))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_header_alignment_rows_and_empty_cells() {
        let mut t = Table::new(&[
            ("command", Align::Left),
            ("s", Align::Right),
            ("", Align::Left),
        ]);
        t.row(["`true`", "0.001", ""]);
        t.row(vec!["a".to_string(), String::new(), "met".to_string()]);
        assert_eq!(
            t.to_string(),
            "| command | s | |\n|---|---:|---|\n| `true` | 0.001 | |\n| a | | met |\n"
        );
    }
}
