//! Files that name a docs page in passing (a code comment "see docs/switch.md", a script, a
//! test that reads a page): the page must exist, so moving a page cannot leave them pointing
//! at nothing.

use std::path::Path;

use regex::Regex;

use crate::{Error, Problem};

/// Directories never searched: build output and version control.
const SKIPPED_DIRS: [&str; 3] = ["target", ".git", "node_modules"];

/// Extensions of the files searched (and files without one, such as the scripts).
const SEARCHED: [&str; 8] = ["rs", "md", "toml", "c", "h", "sh", "yml", "yaml"];

/// Every mention of `docs/<path>.md` in the repository's sources, scripts and pages that
/// names a file that does not exist.
pub fn check(repo_root: &Path) -> Result<Vec<Problem>, Error> {
    let mention = Regex::new(r"\bdocs/[A-Za-z0-9_./-]+\.md\b").expect("a valid regex");
    let mut problems = Vec::new();
    let mut dirs = vec![repo_root.to_owned()];
    while let Some(dir) = dirs.pop() {
        let read = |source| Error::Read {
            path: dir.clone(),
            source,
        };
        for entry in std::fs::read_dir(&dir).map_err(read)? {
            let path = entry.map_err(read)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !SKIPPED_DIRS.contains(&name) {
                    dirs.push(path);
                }
                continue;
            }
            let searched = match path.extension().and_then(|e| e.to_str()) {
                Some(ext) => SEARCHED.contains(&ext),
                None => true,
            };
            // Binary files and files that are not UTF-8 name no page.
            let Some(text) = searched
                .then(|| std::fs::read_to_string(&path).ok())
                .flatten()
            else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                for m in mention.find_iter(line) {
                    if !repo_root.join(m.as_str()).is_file() {
                        problems.push(Problem {
                            file: path.clone(),
                            line: i + 1,
                            message: format!(
                                "names {}, which does not exist: point it at the page that \
                                 holds this now",
                                m.as_str()
                            ),
                        });
                    }
                }
            }
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Ok(problems)
}
