//! Relative links: the file must exist, and an anchor (`page.md#heading`, `#heading`) must be
//! a heading of that page.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::page::Page;
use crate::{Error, Problem};

/// The anchors of the pages links point into, read once each.
#[derive(Debug, Default)]
pub struct Anchors {
    pages: HashMap<PathBuf, Vec<String>>,
}

impl Anchors {
    fn of(&mut self, page: &Path) -> Result<&[String], Error> {
        if !self.pages.contains_key(page) {
            let anchors = Page::read(page)?.anchors;
            self.pages.insert(page.to_owned(), anchors);
        }
        Ok(&self.pages[page])
    }
}

/// Whether a link leaves the repository (a URL) rather than pointing into it.
fn is_external(dest: &str) -> bool {
    dest.contains("://") || dest.starts_with("mailto:") || dest.starts_with("//")
}

/// Checks every relative link of `page`.
pub fn check(page: &Page, anchors: &mut Anchors) -> Result<Vec<Problem>, Error> {
    let mut problems = Vec::new();
    let dir = page.path.parent().unwrap_or(Path::new("."));
    for link in &page.links {
        if is_external(&link.dest) || link.dest.is_empty() {
            continue;
        }
        let (file, anchor) = match link.dest.split_once('#') {
            Some((file, anchor)) => (file, Some(anchor)),
            None => (link.dest.as_str(), None),
        };
        let problem = |message: String| Problem {
            file: page.path.clone(),
            line: link.line,
            message,
        };
        let target = if file.is_empty() {
            page.path.clone()
        } else {
            dir.join(file)
        };
        if !target.exists() {
            problems.push(problem(format!(
                "broken link `{}`: {} does not exist",
                link.dest,
                target.display()
            )));
            continue;
        }
        let Some(anchor) = anchor else { continue };
        if target.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let known = if target == page.path {
            &page.anchors[..]
        } else {
            anchors.of(&target)?
        };
        if !known.iter().any(|a| a == anchor) {
            problems.push(problem(format!(
                "broken link `{}`: {} has no heading with the anchor #{anchor}",
                link.dest,
                target.display()
            )));
        }
    }
    Ok(problems)
}
