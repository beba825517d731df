//! A program's source file, read from disk when the path its BTF names exists here, so the
//! profile shows the lines around the sampled ones (BTF keeps only the text of lines that have
//! a line record).

use std::collections::BTreeMap;
use std::path::Path;

/// A source file's lines, 1-based.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceFile {
    lines: Vec<String>,
}

impl SourceFile {
    /// Reads `path`; `None` when it does not exist here or is not text.
    pub fn read(path: &str) -> Option<Self> {
        let text = std::fs::read_to_string(Path::new(path)).ok()?;
        Some(Self::from_text(&text))
    }

    /// A file of `text`.
    pub fn from_text(text: &str) -> Self {
        Self {
            lines: text.lines().map(|l| l.replace('\t', "    ")).collect(),
        }
    }

    /// Line `n` (1-based), if the file has it.
    pub fn line(&self, n: u32) -> Option<&str> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        self.lines.get(i).map(String::as_str)
    }

    /// How many lines it has.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The line numbers to show around `sampled` lines: each with `context` lines before and
/// after, clamped to `1..=len`; runs closer than a gap of one line merge. Returned as
/// `(first, last)` ranges in order.
pub fn excerpts(sampled: &[u32], context: u32, len: usize) -> Vec<(u32, u32)> {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    let mut ranges: BTreeMap<u32, u32> = BTreeMap::new();
    for &l in sampled {
        if l == 0 || l > len {
            continue;
        }
        let first = l.saturating_sub(context).max(1);
        let last = l.saturating_add(context).min(len);
        let end = ranges.entry(first).or_insert(last);
        *end = (*end).max(last);
    }
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (first, last) in ranges {
        match merged.last_mut() {
            Some(prev) if first <= prev.1 + 2 => prev.1 = prev.1.max(last),
            _ => merged.push((first, last)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_merge_and_clamp() {
        assert_eq!(excerpts(&[5, 7, 30], 2, 31), [(3, 9), (28, 31)]);
        assert_eq!(excerpts(&[1], 3, 10), [(1, 4)]);
        assert_eq!(excerpts(&[40], 3, 10), []);
        let f = SourceFile::from_text("a\n\tb\n");
        assert_eq!((f.line(2), f.line(3), f.len()), (Some("    b"), None, 2));
    }
}
