//! Tested docs: every command a page shows is run and its output compared, or the block says it
//! is an excerpt and names the command that made it; every relative link resolves.
//!
//! The conventions a page follows are in `docs/conventions.md` ("Tested docs"); in short:
//!
//! - A *shell block* is a fenced block whose info string is `sh`, `shell`, `bash` or
//!   `console`, or any block with a line starting with `$ ` (a prompt).
//! - Every shell block carries a marker, an HTML comment right before its fence (invisible on
//!   GitHub and in the book): `<!-- doc: run -->` (CI runs it) or
//!   ``<!-- doc: excerpt of `COMMAND` ... -->`` (not run; it names the command that made it).
//!   `<!-- doc: file PATH -->` marks a block that copies a file (an example program CI
//!   builds): it must stay equal to it. A `run` marker may add lines `before: CMD` and `after: CMD` (set-up and clean-up, such as a
//!   lab; `after` runs on every path). The blocks of a page run in order, as a reader types
//!   them: a lab made by one block may be used by the next and removed by a later block's
//!   `after:`. When a block fails, the page stops there, and only the `after:` commands of its
//!   later blocks run.
//! - In a transcript, `$ CMD` lines are run with bash, stdout and stderr together, and the
//!   lines up to the next prompt are the expected output. Expected lines may hold the
//!   placeholders of [`expected`] for what changes from run to run.
//!
//! [`mentions::check`] also checks that every file naming a page in passing (a page's path
//! under docs/ in a code comment, a script, a test) names one that exists.
//!
//! [`check_files`] checks pages and returns every [`Problem`] as `file:line: message`. With a
//! [`Runner`] in update mode (`DOCCHECK_UPDATE=1` for the docs test), the outputs that no
//! longer match are written into their pages instead ([`expected::Expected::updated`]), to be
//! reviewed with `git diff` like any change.

pub mod expected;
pub mod links;
pub mod marker;
pub mod mentions;
pub mod page;
pub mod run;
pub mod transcript;

use std::fmt;
use std::path::{Path, PathBuf};

pub use page::Page;
pub use run::{Edit, Runner};

/// Something a page says that is not true (any more), with where it says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The Markdown file.
    pub file: PathBuf,
    /// The 1-based line of the file the problem is at.
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// Why pages could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A page or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The pages of a repository whose docs are checked: `README.md` and every `*.md` under
/// `docs/`, sorted.
pub fn markdown_files(repo_root: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = vec![repo_root.join("README.md")];
    let mut dirs = vec![repo_root.join("docs")];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| Error::Read {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| Error::Read {
                    path: dir.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Checks `files`: markers on every shell block, every relative link and anchor, and, with a
/// `runner`, the commands of every `run` block against their shown output. Returns the
/// problems found (none when the pages are true).
pub fn check_files(files: &[PathBuf], runner: Option<&Runner>) -> Result<Vec<Problem>, Error> {
    let mut pages = Vec::new();
    for file in files {
        pages.push(Page::read(file)?);
    }
    let mut problems = Vec::new();
    let mut anchors = links::Anchors::default();
    for page in &pages {
        problems.extend(links::check(page, &mut anchors)?);
        let mut edits = Vec::new();
        let mut failed = false;
        for block in &page.blocks {
            if failed {
                // The page's story stopped: later blocks are not run, but their clean-up is
                // (a lab made by an earlier block is removed by a later block's `after:`).
                if let (Some(runner), Some(Ok(marker::Marker::Run { after, .. }))) =
                    (runner, &block.marker)
                {
                    runner.run_block(&[], &[], after).ok();
                }
                continue;
            }
            let (found, updates) = check_block(page, block, runner);
            failed =
                !found.is_empty() && matches!(block.marker, Some(Ok(marker::Marker::Run { .. })));
            problems.extend(found);
            edits.extend(updates.into_iter().map(|e| (block.fence_line, e)));
        }
        if !edits.is_empty() {
            apply_edits(&page.path, &edits)?;
        }
    }
    Ok(problems)
}

/// Writes `edits` (each with its block's fence line, whose indentation the new lines take)
/// into the page at `path`.
fn apply_edits(path: &Path, edits: &[(usize, Edit)]) -> Result<(), Error> {
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut sorted: Vec<&(usize, Edit)> = edits.iter().collect();
    sorted.sort_by_key(|(_, e)| std::cmp::Reverse(e.from));
    for (fence, edit) in sorted {
        let fence_text = lines.get(fence - 1).map_or("", String::as_str);
        let indent = &fence_text[..fence_text.len() - fence_text.trim_start().len()];
        let new: Vec<String> = edit
            .lines
            .iter()
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{indent}{l}")
                }
            })
            .collect();
        let from = (edit.from - 1).min(lines.len());
        let to = (from + edit.count).min(lines.len());
        lines.splice(from..to, new);
        eprintln!(
            "doccheck: updated {}:{} ({} line(s) now {})",
            path.display(),
            edit.from,
            edit.count,
            edit.lines.len()
        );
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    std::fs::write(path, out).map_err(read_error)
}

/// The problems of one block, and with an updating runner the edits that bring it up to date.
fn check_block(
    page: &Page,
    block: &page::CodeBlock,
    runner: Option<&Runner>,
) -> (Vec<Problem>, Vec<Edit>) {
    let problem = |line: usize, message: String| Problem {
        file: page.path.clone(),
        line,
        message,
    };
    let marker = match &block.marker {
        Some(Ok(marker)) => marker,
        Some(Err(e)) => return (vec![problem(block.fence_line, e.to_string())], Vec::new()),
        None if block.is_shell() => {
            return (
                vec![problem(
                    block.fence_line,
                    "a shell block without a marker: put `<!-- doc: run -->` before it (CI runs \
                 it) or `<!-- doc: excerpt of `COMMAND` -->` naming the command that made it \
                 (docs/conventions.md, \"Tested docs\")"
                        .to_string(),
                )],
                Vec::new(),
            );
        }
        None => return (Vec::new(), Vec::new()),
    };
    let (before, after) = match marker {
        marker::Marker::Run { before, after } => (before, after),
        marker::Marker::File { path } => return (check_copy(page, block, path), Vec::new()),
        marker::Marker::Excerpt { .. } => return (Vec::new(), Vec::new()),
    };
    let steps = match transcript::steps(block) {
        Ok(steps) => steps,
        Err(e) => return (vec![problem(e.line, e.message)], Vec::new()),
    };
    let Some(runner) = runner else {
        return (Vec::new(), Vec::new());
    };
    match runner.run_block(before, &steps, after) {
        Ok(edits) => (Vec::new(), edits),
        Err(f) => (
            vec![problem(f.line.unwrap_or(block.fence_line), f.message)],
            Vec::new(),
        ),
    }
}

/// A `file` block: the same lines as the file it copies.
fn check_copy(page: &Page, block: &page::CodeBlock, path: &str) -> Vec<Problem> {
    let problem = |line: usize, message: String| {
        vec![Problem {
            file: page.path.clone(),
            line,
            message,
        }]
    };
    let file = page.path.parent().unwrap_or(Path::new(".")).join(path);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => {
            return problem(
                block.fence_line,
                format!("cannot read {}: {e}", file.display()),
            );
        }
    };
    let theirs: Vec<&str> = text.lines().map(str::trim_end).collect();
    let ours: Vec<&str> = block.lines.iter().map(|(_, l)| l.trim_end()).collect();
    let differs = (0..theirs.len().max(ours.len())).find(|&i| theirs.get(i) != ours.get(i));
    match differs {
        None => Vec::new(),
        Some(i) => problem(
            block.lines.get(i).map_or(block.fence_line, |(l, _)| *l),
            format!(
                "this block copies {path} and differs from it at its line {}: the file has {:?}, \
                 the page {:?}; copy the file again",
                i + 1,
                theirs.get(i).copied().unwrap_or("(its end)"),
                ours.get(i).copied().unwrap_or("(its end)")
            ),
        ),
    }
}
