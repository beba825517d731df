//! How a screen picture is compared with the one checked in: what the screen draws must be the
//! same, the values of the run need not.
//!
//! The pictures are made from real programs, so ids, addresses, counts, rates and times differ
//! from run to run. Both pictures are reduced to what the screen's code decides, and those
//! reductions compared:
//!
//! - each run of text keeps its row, its colors and emphasis, and its words;
//! - numbers become `#` (decimal, with a fraction or not, and hexadecimal `0x...`), so an id,
//!   a rate or a time compares equal to any other;
//! - runs of spaces become one space, and runs of one box-drawing character one character,
//!   since a wider number pushes the padding (or the border line) after it;
//! - x positions and widths (of text and of backgrounds) are dropped for the same reason;
//! - the bars of a graph (block and braille characters) are dropped: their heights are data;
//! - top's sampling status line is the same whether it reports the sampling rate or, drawn as
//!   a warning, that the kernel throttled perf during the run (a condition of the machine).
//!
//! A changed label, column, hint, border, color or emphasis changes the reduction; so does a
//! row that appears or goes. A value changing does not.

/// The picture reduced to what the screen's code decides: one line per text run or
/// background, in drawing order.
pub fn normalise(svg: &str) -> Vec<String> {
    svg.lines().filter_map(normalise_line).collect()
}

fn normalise_line(line: &str) -> Option<String> {
    if line.starts_with("<rect x=") {
        // A background: its row and color count, not where it starts or how wide it is.
        return Some(format!(
            "rect {} {}",
            attribute(line, "y").unwrap_or_default(),
            attribute(line, "fill").unwrap_or_default()
        ));
    }
    if !line.starts_with("<text ") {
        return (!line.starts_with("<title>")).then(|| line.to_string());
    }
    let open_end = line.find('>')?;
    let close = line.rfind("</text>")?;
    let content = reduce_text(&line[open_end + 1..close]);
    if content.is_empty() {
        return None;
    }
    if content.starts_with("perf cpu-clock at") || content.starts_with("perf throttled sampling") {
        return Some(format!(
            "text {} perf sampling status",
            attribute(line, "y").unwrap_or_default()
        ));
    }
    let look: Vec<&str> = line[..open_end]
        .split_whitespace()
        .filter(|a| {
            !a.starts_with("x=")
                && !a.starts_with("textLength=")
                && !a.starts_with("<text")
                && !a.starts_with("lengthAdjust=")
                && !a.starts_with("xml:space=")
        })
        .collect();
    Some(format!("text {} {content}", look.join(" ")))
}

/// The value of attribute `name` in an element's line.
fn attribute<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = line.find(&key)? + key.len();
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

/// Text with numbers as `#`, graph bars dropped and spaces collapsed.
fn reduce_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            // 0x1f2e, 12, 3.25: one number.
            if c == '0' && chars.peek() == Some(&'x') {
                chars.next();
                while chars.peek().is_some_and(char::is_ascii_hexdigit) {
                    chars.next();
                }
            }
            while chars
                .peek()
                .is_some_and(|&n| n.is_ascii_digit() || n == '.' || n == ',')
            {
                chars.next();
            }
            if !out.ends_with('#') {
                out.push('#');
            }
        } else if is_graph_bar(c) {
            continue;
        } else if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else if is_box_line(c) {
            if !out.ends_with(c) {
                out.push(c);
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// Box-drawing characters: the lines of borders, which a title of another width shortens.
fn is_box_line(c: char) -> bool {
    matches!(c, '\u{2500}'..='\u{257f}')
}

/// Block elements and braille patterns: the bars and dots of a graph.
fn is_graph_bar(c: char) -> bool {
    matches!(c, '\u{2580}'..='\u{259f}' | '\u{2800}'..='\u{28ff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "<svg>\n<title>id 5790</title>\n\
        <rect x=\"0\" y=\"18\" width=\"90\" height=\"18\" fill=\"#8abeb7\"/>\n\
        <text x=\"0\" y=\"31\" textLength=\"90\" lengthAdjust=\"spacingAndGlyphs\" xml:space=\"preserve\" fill=\"#c5c8c6\">5790  xdp   0.50 ▂▅█</text>\n\
        <text x=\"99\" y=\"31\" textLength=\"27\" lengthAdjust=\"spacingAndGlyphs\" xml:space=\"preserve\" fill=\"#f0c674\" font-weight=\"bold\">r1 = 0xffff8881</text>\n\
        <text x=\"0\" y=\"49\" textLength=\"108\" lengthAdjust=\"spacingAndGlyphs\" xml:space=\"preserve\" fill=\"#c5c8c6\">┌ last 5 ───┐</text>\n</svg>";

    #[test]
    fn values_of_the_run_do_not_count() {
        let b = A
            .replace("5790  xdp   0.50 ▂▅█", "12345 xdp  10.25 █▁")
            .replace("┌ last 5 ───┐", "┌ last 12 ──┐")
            .replace("0xffff8881", "0xffff9aa0")
            .replace("x=\"99\"", "x=\"108\"")
            .replace("width=\"90\"", "width=\"99\"");
        assert_eq!(normalise(A), normalise(&b));
        assert!(normalise(A).contains(&"text y=\"31\" fill=\"#c5c8c6\"> # xdp #".replace('>', "")));
    }

    #[test]
    fn what_the_screen_draws_counts() {
        for changed in [
            A.replace("xdp", "tc"),
            A.replace("fill=\"#f0c674\"", "fill=\"#cc6666\""),
            A.replace(" font-weight=\"bold\"", ""),
            A.replace("y=\"18\"", "y=\"36\""),
            A.replace(
                "<text x=\"99\"",
                "<text x=\"99\" text-decoration=\"underline\"",
            ),
        ] {
            assert_ne!(normalise(A), normalise(&changed), "{changed}");
        }
    }

    #[test]
    fn a_throttled_sampler_reads_as_the_sampling_line() {
        let plain = r##"<text x="0" y="67" fill="#666666" xml:space="preserve">perf cpu-clock at 999 Hz per CPU on 2 CPUs: 0 samples in the last 1.0 s</text>"##;
        let throttled = r##"<text x="0" y="67" fill="#cc6666" font-weight="bold" xml:space="preserve">perf throttled sampling 3 times: the kernel lowered the rate</text>"##;
        assert_eq!(normalise(plain), normalise(throttled));
        let other_row = plain.replace("y=\"67\"", "y=\"80\"");
        assert_ne!(normalise(plain), normalise(&other_row));
    }
}
