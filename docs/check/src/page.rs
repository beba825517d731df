//! One Markdown page as the checks see it: its code blocks (with their markers), its links and
//! the anchors its headings define.

use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::Error;
use crate::marker::{self, Marker, MarkerError};

/// Info strings that make a fenced block a shell block whatever its lines hold.
const SHELL_INFO: [&str; 4] = ["sh", "shell", "bash", "console"];

/// A Markdown file, parsed.
#[derive(Debug)]
pub struct Page {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its code blocks, in order.
    pub blocks: Vec<CodeBlock>,
    /// Its links and images, in order.
    pub links: Vec<Link>,
    /// The anchors of its headings (`#the-heading`), as GitHub and mdBook make them.
    pub anchors: Vec<String>,
}

/// A fenced or indented code block.
#[derive(Debug)]
pub struct CodeBlock {
    /// The 1-based line of the opening fence (of the first line, when indented).
    pub fence_line: usize,
    /// The info string's first word (`sh`, `text`, `rust,no_run`...); empty when none.
    pub info: String,
    /// The block's lines with their 1-based line numbers in the file.
    pub lines: Vec<(usize, String)>,
    /// The marker comment before the fence, if there is one.
    pub marker: Option<Result<Marker, MarkerError>>,
}

impl CodeBlock {
    /// Whether the block shows commands: a shell info string, or a `$ ` prompt on a line.
    pub fn is_shell(&self) -> bool {
        SHELL_INFO.contains(&self.info.as_str())
            || self.lines.iter().any(|(_, l)| l.starts_with("$ "))
    }
}

/// A link or image destination.
#[derive(Debug)]
pub struct Link {
    /// The 1-based line it is on.
    pub line: usize,
    /// Where it points, as written.
    pub dest: String,
}

impl Page {
    /// Reads and parses the page at `path`.
    pub fn read(path: &Path) -> Result<Page, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(Page::parse(path, &text))
    }

    /// Parses `text`, the content of the page at `path`.
    pub fn parse(path: &Path, text: &str) -> Page {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset);
        let source_lines: Vec<&str> = text.lines().collect();

        let mut page = Page {
            path: path.to_owned(),
            blocks: Vec::new(),
            links: Vec::new(),
            anchors: Vec::new(),
        };
        let mut block: Option<CodeBlock> = None;
        let mut heading: Option<String> = None;
        let mut slug_counts = std::collections::HashMap::<String, usize>::new();
        let options = Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS;
        for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
            match event {
                Event::Start(Tag::CodeBlock(kind)) => {
                    let fence_line = line_of(range.start);
                    let info = match kind {
                        CodeBlockKind::Fenced(info) => info
                            .split(|c: char| c.is_whitespace() || c == ',')
                            .next()
                            .unwrap_or("")
                            .to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    let marker = marker_before(&source_lines, fence_line);
                    block = Some(CodeBlock {
                        fence_line,
                        info,
                        lines: Vec::new(),
                        marker: marker.map(|(line, text)| marker::parse(line, &text)),
                    });
                }
                Event::Text(t) if block.is_some() => {
                    let b = block.as_mut().expect("inside a block");
                    for (line, l) in (line_of(range.start)..).zip(t.lines()) {
                        b.lines.push((line, l.to_string()));
                    }
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some(b) = block.take() {
                        page.blocks.push(b);
                    }
                }
                Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
                Event::Text(t) | Event::Code(t) if heading.is_some() => {
                    heading.as_mut().expect("inside a heading").push_str(&t);
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some(h) = heading.take() {
                        let slug = slug(&h);
                        let seen = slug_counts.entry(slug.clone()).or_insert(0);
                        let anchor = if *seen == 0 {
                            slug
                        } else {
                            format!("{slug}-{seen}")
                        };
                        *seen += 1;
                        page.anchors.push(anchor);
                    }
                }
                Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                    page.links.push(Link {
                        line: line_of(range.start),
                        dest: dest_url.to_string(),
                    });
                }
                _ => {}
            }
        }
        page
    }
}

/// The anchor GitHub and mdBook give a heading: lower case, letters, digits, `-` and `_`
/// kept, whitespace turned into `-`, everything else dropped.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The HTML comment that ends on the last non-blank line before `fence_line` (1-based), with
/// the line it starts on, when that comment is a marker (`<!-- doc: ... -->`).
fn marker_before(lines: &[&str], fence_line: usize) -> Option<(usize, String)> {
    let mut end = fence_line.checked_sub(2)?; // 0-based index of the line before the fence
    while lines.get(end)?.trim().is_empty() {
        end = end.checked_sub(1)?;
    }
    if !lines[end].trim_end().ends_with("-->") {
        return None;
    }
    let mut start = end;
    while !lines[start].contains("<!--") {
        start = start.checked_sub(1)?;
    }
    let comment = lines[start..=end].join("\n");
    let inner = comment
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let body = inner.strip_prefix("doc:")?;
    Some((start + 1, body.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_githubs_and_repeat_with_a_number() {
        let page = Page::parse(
            Path::new("p.md"),
            "# The FDB stays the bridge's own\n\n## `--once [--json]`: one refresh\n\n## Notes\n\n## Notes\n",
        );
        assert_eq!(
            page.anchors,
            [
                "the-fdb-stays-the-bridges-own",
                "--once---json-one-refresh",
                "notes",
                "notes-1"
            ]
        );
    }

    #[test]
    fn blocks_keep_their_lines_and_the_marker_before_them() {
        let text = "# P\n\n- in a list:\n\n  <!-- doc: run\n       after: true -->\n  ```console\n  $ echo hi\n  hi\n  ```\n\n```text\n$ cmd\n```\n\n```rust\nfn main() {}\n```\n";
        let page = Page::parse(Path::new("p.md"), text);
        assert_eq!(page.blocks.len(), 3);
        let b = &page.blocks[0];
        assert_eq!((b.fence_line, b.info.as_str()), (7, "console"));
        assert_eq!(
            b.lines,
            [(8, "$ echo hi".to_string()), (9, "hi".to_string())]
        );
        assert_eq!(
            b.marker,
            Some(Ok(Marker::Run {
                before: vec![],
                after: vec!["true".into()]
            }))
        );
        assert!(b.is_shell());
        assert!(page.blocks[1].is_shell() && page.blocks[1].marker.is_none());
        assert!(!page.blocks[2].is_shell());
    }

    #[test]
    fn links_in_tables_and_images_are_found_with_their_lines() {
        let page = Page::parse(
            Path::new("p.md"),
            "# P\n\n| a | b |\n|---|---|\n| [x](x.md#y) | ![i](i.svg) |\n",
        );
        let found: Vec<(usize, &str)> = page
            .links
            .iter()
            .map(|l| (l.line, l.dest.as_str()))
            .collect();
        assert_eq!(found, [(5, "x.md#y"), (5, "i.svg")]);
    }
}
