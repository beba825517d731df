//! The structured diagnostics block of kernel 7.3 and later.
//!
//! After the classic error lines, such kernels print:
//!
//! ```text
//! Verification failed: Memory Safety: invalid packet access
//! Reason:
//!   <why, in words>
//! At:
//!   <function> @ <file>:<line>:<column>
//!     <a window of source lines>
//!     <a window of instructions, e.g. `14: (71) r1 = *(u8 *)(r1 +23)`>
//! Causal path:
//!   <the events that led there>
//! Suggestion:
//!   <a generic fix for the category>
//! ```
//!
//! The format is young and not a stable ABI, so the parser is lenient: section headers may
//! carry text on the same line, unknown lines go to the current section, and the block ends at
//! the statistics (or the end of the log).

use serde::Serialize;

/// Lines kept per section; the rest are dropped.
const MAX_SECTION_LINES: usize = 256;
/// Characters kept per line.
const MAX_LINE_CHARS: usize = 1024;

/// The kernel 7.3+ structured block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diagnostics {
    /// `Memory Safety`, `Register Type Safety`, `Call Type Safety`, `Resource Lifetime
    /// Safety`, `Execution Context Safety`, `Program Structure`, `Policy`, `Verifier Limit`
    /// or `Verifier Internal Error`.
    pub category: String,
    /// The rest of the `Verification failed:` line.
    pub title: String,
    /// The `Reason:` lines.
    pub reason: Vec<String>,
    /// The function named by `At:`.
    pub function: Option<String>,
    /// The source file named by `At:`.
    pub file: Option<String>,
    /// Its line.
    pub line: Option<u32>,
    /// Its column.
    pub column: Option<u32>,
    /// The source lines shown under `At:`.
    pub source_window: Vec<String>,
    /// The instruction lines shown under `At:`.
    pub insn_window: Vec<String>,
    /// The `Causal path:` lines.
    pub causal_path: Vec<String>,
    /// The `Suggestion:` lines.
    pub suggestion: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Header,
    Reason,
    At,
    CausalPath,
    Suggestion,
}

/// Builds a [`Diagnostics`] line by line.
#[derive(Debug, Clone)]
pub(crate) struct DiagnosticsBuilder {
    diag: Diagnostics,
    section: Section,
}

fn capped(s: &str) -> String {
    match s.char_indices().nth(MAX_LINE_CHARS) {
        Some((i, _)) => s.get(..i).unwrap_or(s).to_string(),
        None => s.to_string(),
    }
}

fn push(lines: &mut Vec<String>, line: &str) {
    if lines.len() < MAX_SECTION_LINES {
        lines.push(capped(line));
    }
}

/// Whether a window line shows an instruction: `14: (71) ...`, possibly after a marker.
fn is_insn_line(line: &str) -> bool {
    let t = line.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '>' | '*' | '-' | '|' | '^')
    });
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && t.get(digits..)
            .is_some_and(|r| r.starts_with(": (") && r.as_bytes().get(5) == Some(&b')'))
}

/// `func @ file.c:31:9` (column optional).
fn parse_location(text: &str) -> Option<(String, String, Option<u32>, Option<u32>)> {
    let (function, loc) = text.split_once(" @ ")?;
    let mut parts = loc.trim().rsplitn(3, ':');
    let last = parts.next()?;
    let mid = parts.next();
    let first = parts.next();
    let (file, line, column) = match (first, mid) {
        (Some(file), Some(line)) if line.parse::<u32>().is_ok() => {
            (file, line.parse().ok(), last.parse().ok())
        }
        (Some(a), Some(b)) => (
            loc.trim().get(..a.len() + 1 + b.len()).unwrap_or(a),
            last.parse().ok(),
            None,
        ),
        (None, Some(file)) => (file, last.parse().ok(), None),
        _ => (last, None, None),
    };
    Some((function.trim().to_string(), file.to_string(), line, column))
}

impl DiagnosticsBuilder {
    /// Starts from the header's text after `Verification failed:`, e.g.
    /// `Memory Safety: invalid packet access`.
    pub(crate) fn new(header: &str) -> Self {
        let (category, title) = match header.split_once(':') {
            Some((c, t)) => (c.trim(), t.trim()),
            None => ("", header.trim()),
        };
        DiagnosticsBuilder {
            diag: Diagnostics {
                category: capped(category),
                title: capped(title),
                ..Diagnostics::default()
            },
            section: Section::Header,
        }
    }

    /// One more line of the block.
    pub(crate) fn feed(&mut self, raw: &str) {
        let line = raw.trim_end();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        for (header, section) in [
            ("Reason:", Section::Reason),
            ("At:", Section::At),
            ("Causal path:", Section::CausalPath),
            ("Suggestion:", Section::Suggestion),
        ] {
            if let Some(rest) = trimmed.strip_prefix(header) {
                self.section = section;
                let rest = rest.trim();
                if !rest.is_empty() {
                    self.add(rest);
                }
                return;
            }
        }
        self.add(line);
    }

    fn add(&mut self, line: &str) {
        let d = &mut self.diag;
        let text = line.strip_prefix("  ").unwrap_or(line);
        match self.section {
            // Text between the header and the first section explains it, like `Reason:`.
            Section::Header | Section::Reason => push(&mut d.reason, text.trim()),
            Section::CausalPath => push(&mut d.causal_path, text.trim_end()),
            Section::Suggestion => push(&mut d.suggestion, text.trim()),
            Section::At => {
                let t = text.trim();
                if d.function.is_none()
                    && d.file.is_none()
                    && let Some((function, file, line, column)) = parse_location(t)
                {
                    d.function = Some(capped(&function)).filter(|f| !f.is_empty());
                    d.file = Some(capped(&file)).filter(|f| !f.is_empty());
                    d.line = line;
                    d.column = column;
                    return;
                }
                if t.eq_ignore_ascii_case("instructions:") || t.eq_ignore_ascii_case("source:") {
                    return;
                }
                if is_insn_line(t) {
                    push(&mut d.insn_window, text.trim_end());
                } else {
                    push(&mut d.source_window, text.trim_end());
                }
            }
        }
    }

    /// The block as parsed.
    pub(crate) fn finish(self) -> Diagnostics {
        self.diag
    }
}

impl Diagnostics {
    /// Parses a block that starts with its `Verification failed:` line; `None` when `text`
    /// holds no such line. Lines before it are ignored; the block ends at the statistics.
    pub fn parse(text: &str) -> Option<Diagnostics> {
        let mut lines = text.lines();
        let header = lines.find_map(|l| l.trim().strip_prefix("Verification failed:"))?;
        let mut b = DiagnosticsBuilder::new(header);
        for l in lines {
            if l.starts_with("processed ")
                || l.starts_with("verification time ")
                || l.starts_with("stack depth ")
            {
                break;
            }
            b.feed(l);
        }
        Some(b.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "\
Verification failed: Memory Safety: invalid packet access
Reason:
  The program reads 1 byte at offset 23 of the packet,
  but only 14 bytes were proven to be in bounds.
At:
  pkt_branch @ pkt_branch.bpf.c:16:10
     15 |     struct iphdr *ip = (void *)(eth + 1);
  >  16 |     if (ip->protocol == IPPROTO_TCP)
  Instructions:
     13: (05) goto pc+3
  >  14: (71) r1 = *(u8 *)(r1 +23)
Causal path:
  5: (2d) if r3 > r2 goto pc+12: R1 proven 14 bytes (pkt_branch.bpf.c:9)
  10: (16) if w2 == 0x8 goto pc+3: taken
Suggestion:
  Compare data + 24 with data_end before reading the IP header.
processed 18 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
";

    #[test]
    fn the_documented_block() {
        let d = Diagnostics::parse(BLOCK).expect("a block");
        assert_eq!(d.category, "Memory Safety");
        assert_eq!(d.title, "invalid packet access");
        assert_eq!(d.reason.len(), 2);
        assert_eq!(d.function.as_deref(), Some("pkt_branch"));
        assert_eq!(d.file.as_deref(), Some("pkt_branch.bpf.c"));
        assert_eq!((d.line, d.column), (Some(16), Some(10)));
        assert_eq!(d.source_window.len(), 2);
        assert!(d.source_window[1].contains("16 |"));
        assert_eq!(d.insn_window.len(), 2);
        assert!(d.insn_window[1].contains("14: (71)"));
        assert_eq!(d.causal_path.len(), 2);
        assert_eq!(d.suggestion.len(), 1);
    }

    #[test]
    fn inline_sections_and_no_column() {
        let d = Diagnostics::parse(
            "Verification failed: Verifier Limit: too complex\nReason: too many states\nAt: f @ a.c:3\nSuggestion: split it",
        )
        .expect("a block");
        assert_eq!(d.reason, ["too many states"]);
        assert_eq!(
            (d.file.as_deref(), d.line, d.column),
            (Some("a.c"), Some(3), None)
        );
        assert_eq!(d.suggestion, ["split it"]);
        assert!(Diagnostics::parse("no block here").is_none());
    }

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("f @ dir/a.c:3:7"),
            Some(("f".into(), "dir/a.c".into(), Some(3), Some(7)))
        );
        assert_eq!(
            parse_location("f @ a.c"),
            Some(("f".into(), "a.c".into(), None, None))
        );
        assert_eq!(parse_location("no location"), None);
    }
}
