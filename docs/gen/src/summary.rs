//! The catalogue's entries in the book's table of contents, `docs/SUMMARY.md`: the lines
//! between `<!-- catalogue:begin -->` and `<!-- catalogue:end -->` are generated, the rest of
//! the file belongs to the book.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::output::Generated;

/// The table of contents, from the repository's root.
pub const SUMMARY: &str = "docs/SUMMARY.md";
const BEGIN: &str = "<!-- catalogue:begin -->";
const END: &str = "<!-- catalogue:end -->";

/// `docs/SUMMARY.md` with `entries` between the markers; `None` when there is no table of
/// contents yet (the book's own pages are not docgen's).
pub fn generate(root: &Path, entries: &str) -> anyhow::Result<Option<Generated>> {
    let path = root.join(SUMMARY);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    Ok(Some(Generated::exact(
        SUMMARY,
        with_entries(&text, entries).with_context(|| format!("updating {SUMMARY}"))?,
    )))
}

/// `text` with the lines between the markers replaced by `entries`, indented as the list item
/// right before the markers (the catalogue sits where that item's level of the book is).
fn with_entries(text: &str, entries: &str) -> anyhow::Result<String> {
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        bail!("it has no `{BEGIN}` ... `{END}` lines to put the catalogue's pages between");
    };
    if end < begin {
        bail!("`{END}` comes before `{BEGIN}`");
    }
    let after_begin = begin + BEGIN.len();
    let line_end = text[after_begin..]
        .find('\n')
        .map_or(text.len(), |i| after_begin + i + 1);
    let end_line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[..begin]
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("- "))
        .map(|l| l[..l.len() - l.trim_start().len()].to_string())
        .unwrap_or_default();
    let indented: String = entries.lines().map(|l| format!("{indent}{l}\n")).collect();
    Ok(format!(
        "{}{indented}{}",
        &text[..line_end],
        &text[end_line_start..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lines_between_the_markers_change() {
        let text = "# Summary\n\n- [verifier-explain](v.md)\n  - [Explorer](e.md)\n<!-- catalogue:begin -->\n- placeholder\n<!-- catalogue:end -->\n  - [After](after.md)\n";
        let entries = "- [A](catalogue/README.md)\n  - [b](catalogue/b.md)\n";
        let out = with_entries(text, entries).unwrap();
        assert_eq!(
            out,
            "# Summary\n\n- [verifier-explain](v.md)\n  - [Explorer](e.md)\n<!-- catalogue:begin -->\n  - [A](catalogue/README.md)\n    - [b](catalogue/b.md)\n<!-- catalogue:end -->\n  - [After](after.md)\n"
        );
        assert_eq!(with_entries(&out, entries).unwrap(), out);
        assert!(with_entries("# Summary\n", "x").is_err());
    }
}
