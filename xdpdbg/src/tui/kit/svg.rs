//! A screen as an SVG picture: the cells of a drawn frame, with their colors and emphasis, as
//! monospace text (what `--screenshot FILE.svg` writes, and the docs show).
//!
//! Each row is one `<text>` line per run of equally styled cells, placed on the cell grid and
//! stretched to its cells' width (`textLength`), so columns line up whatever monospace font the
//! viewer has; backgrounds are `<rect>`s under them. Colors are a terminal's palette on a dark
//! background. The output depends only on the buffer: the same frame gives the same bytes.

use std::fmt::Write as _;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr as _;

/// Width of a cell, in SVG units (pixels).
const CELL_WIDTH: u32 = 9;
/// Height of a row.
const ROW_HEIGHT: u32 = 18;
/// Font size: a monospace glyph is about 0.6 em wide, which fills [`CELL_WIDTH`].
const FONT_SIZE: u32 = 15;
/// The terminal's default background and foreground.
const BACKGROUND: &str = "#1d1f21";
const FOREGROUND: &str = "#c5c8c6";

/// The look of a cell, as far as the picture shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    fg: &'static str,
    bg: Option<&'static str>,
    bold: bool,
    italic: bool,
    underline: bool,
    crossed: bool,
    dim: bool,
}

impl Look {
    fn of(cell: &Cell) -> Look {
        let m = cell.modifier;
        let (mut fg, mut bg) = (color(cell.fg), color(cell.bg));
        if m.contains(Modifier::REVERSED) {
            (fg, bg) = (
                Some(bg.unwrap_or(BACKGROUND)),
                Some(fg.unwrap_or(FOREGROUND)),
            );
        }
        Look {
            fg: fg.unwrap_or(FOREGROUND),
            bg,
            bold: m.contains(Modifier::BOLD),
            italic: m.contains(Modifier::ITALIC),
            underline: m.contains(Modifier::UNDERLINED),
            crossed: m.contains(Modifier::CROSSED_OUT),
            dim: m.contains(Modifier::DIM),
        }
    }

    /// The attributes of a `<text>` in this look.
    fn text_attributes(&self) -> String {
        let mut a = format!(" fill=\"{}\"", self.fg);
        if self.bold {
            a.push_str(" font-weight=\"bold\"");
        }
        if self.italic {
            a.push_str(" font-style=\"italic\"");
        }
        match (self.underline, self.crossed) {
            (true, true) => a.push_str(" text-decoration=\"underline line-through\""),
            (true, false) => a.push_str(" text-decoration=\"underline\""),
            (false, true) => a.push_str(" text-decoration=\"line-through\""),
            (false, false) => {}
        }
        if self.dim {
            a.push_str(" opacity=\"0.6\"");
        }
        a
    }

    /// Whether a run of blanks in this look shows anything.
    fn marks_blanks(&self) -> bool {
        self.underline || self.crossed
    }
}

/// A color as the picture paints it; `None` for the terminal's default.
fn color(c: Color) -> Option<&'static str> {
    Some(match c {
        Color::Reset => return None,
        Color::Black => "#1d1f21",
        Color::Red => "#cc6666",
        Color::Green => "#b5bd68",
        Color::Yellow => "#f0c674",
        Color::Blue => "#81a2be",
        Color::Magenta => "#b294bb",
        Color::Cyan => "#8abeb7",
        Color::Gray => "#c5c8c6",
        Color::DarkGray => "#666666",
        Color::LightRed => "#d54e53",
        Color::LightGreen => "#b9ca4a",
        Color::LightYellow => "#e7c547",
        Color::LightBlue => "#7aa6da",
        Color::LightMagenta => "#c397d8",
        Color::LightCyan => "#70c0b1",
        Color::White => "#eaeaea",
        // The screens use the sixteen named colors only; anything else is drawn in the default
        // color rather than guessed.
        Color::Rgb(..) | Color::Indexed(_) => return None,
    })
}

/// Text safe inside an XML element or attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// One run of equally styled cells of a row.
struct Run {
    start: u16,
    cells: u16,
    look: Look,
    text: String,
}

/// The runs of row `y`: cells of one look grouped, wide characters spanning their cells.
fn runs(buffer: &Buffer, y: u16) -> Vec<Run> {
    let area = buffer.area;
    let mut runs: Vec<Run> = Vec::new();
    // Cells still covered by the last wide character.
    let mut covered = 0;
    for x in area.left()..area.right() {
        let cell = &buffer[(x, y)];
        let look = Look::of(cell);
        let symbol = cell.symbol();
        if covered > 0 {
            covered -= 1;
            if let Some(run) = runs.last_mut() {
                run.cells += 1;
            }
            continue;
        }
        covered = symbol.width().saturating_sub(1);
        match runs.last_mut() {
            Some(run) if run.look == look => {
                run.cells += 1;
                run.text.push_str(symbol);
            }
            _ => runs.push(Run {
                start: x - area.left(),
                cells: 1,
                look,
                text: symbol.to_string(),
            }),
        }
    }
    runs
}

/// The frame in `buffer` as an SVG document, titled `title`.
pub fn render(buffer: &Buffer, title: &str) -> String {
    let area = buffer.area;
    let (width, height) = (
        u32::from(area.width) * CELL_WIDTH,
        u32::from(area.height) * ROW_HEIGHT,
    );
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"'DejaVu Sans Mono', Menlo, Consolas, \
         monospace\" font-size=\"{FONT_SIZE}\">"
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(title));
    let _ = writeln!(
        svg,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"{BACKGROUND}\"/>"
    );
    for y in area.top()..area.bottom() {
        let row = u32::from(y - area.top());
        let runs = runs(buffer, y);
        for run in &runs {
            if let Some(bg) = run.look.bg {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{ROW_HEIGHT}\" fill=\"{bg}\"/>",
                    u32::from(run.start) * CELL_WIDTH,
                    row * ROW_HEIGHT,
                    u32::from(run.cells) * CELL_WIDTH,
                );
            }
        }
        for run in &runs {
            if run.text.trim().is_empty() && !run.look.marks_blanks() {
                continue;
            }
            let _ = writeln!(
                svg,
                "<text x=\"{}\" y=\"{}\" textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\" \
                 xml:space=\"preserve\"{}>{}</text>",
                u32::from(run.start) * CELL_WIDTH,
                row * ROW_HEIGHT + ROW_HEIGHT * 3 / 4,
                u32::from(run.cells) * CELL_WIDTH,
                run.look.text_attributes(),
                escape(&run.text),
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn buffer() -> Buffer {
        let mut b = Buffer::empty(Rect::new(0, 0, 12, 2));
        b.set_string(0, 0, "id  name", Style::new().fg(Color::Yellow).bold());
        b.set_string(0, 1, "7", Style::new());
        b.set_string(4, 1, "a<b&c", Style::new().add_modifier(Modifier::REVERSED));
        b
    }

    #[test]
    fn runs_keep_text_colors_and_emphasis_on_the_cell_grid() {
        let svg = render(&buffer(), "top");
        assert!(
            svg.starts_with(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"108\" height=\"36\""
            )
        );
        assert!(svg.contains("<title>top</title>"));
        // The header, in yellow and bold, as one run of 8 cells.
        assert!(
            svg.contains(
                "<text x=\"0\" y=\"13\" textLength=\"72\" lengthAdjust=\"spacingAndGlyphs\" \
             xml:space=\"preserve\" fill=\"#f0c674\" font-weight=\"bold\">id  name</text>"
            ),
            "{svg}"
        );
        // Reverse video: a light background under dark text, and the text escaped.
        assert!(
            svg.contains("<rect x=\"36\" y=\"18\" width=\"45\" height=\"18\" fill=\"#c5c8c6\"/>"),
            "{svg}"
        );
        assert!(
            svg.contains("fill=\"#1d1f21\">a&lt;b&amp;c</text>"),
            "{svg}"
        );
        assert!(svg.contains(">7   </text>"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn the_same_frame_gives_the_same_bytes() {
        assert_eq!(render(&buffer(), "t"), render(&buffer(), "t"));
    }

    #[test]
    fn a_wide_character_spans_two_cells() {
        let mut b = Buffer::empty(Rect::new(0, 0, 4, 1));
        b.set_string(0, 0, "界x", Style::new());
        let svg = render(&b, "w");
        assert!(svg.contains("textLength=\"36\""), "{svg}");
        assert!(svg.contains(">界x </text>"), "{svg}");
        assert!(!svg.contains("界 "), "{svg}");
    }
}
