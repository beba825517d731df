//! The generated files: written by `docgen all`, compared with the checkout by `docgen check`.
//!
//! Every generator returns [`Generated`] files; each names how it is compared: exactly, or,
//! for a screen, after [`crate::screen_compare::normalise`] (values that change from run to
//! run, such as ids, rates and times, do not count). Every directory docgen owns is listed in
//! [`OWNED`]: a file there that no generator made is stale too, and `all` removes it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The command that regenerates everything, as the check tells it.
pub const REGENERATE: &str = "./scripts/docs-gen (or: cargo run -p docgen -- all)";

/// The directories whose every file docgen writes, with the file names it owns there.
pub const OWNED: &[(&str, &str)] = &[
    ("docs/catalogue", ".md"),
    ("docs/screens", ".svg"),
    ("docs/screens", ".json"),
    ("docs/man", ".1"),
    ("docs/completions/bash", ""),
    ("docs/completions/zsh", ""),
    ("docs/completions/fish", ".fish"),
];

/// How a generated file is compared with the one checked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Byte for byte.
    Exact,
    /// As screens: normalised first (see [`crate::screen_compare`]).
    Screen,
}

/// One generated file.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Its path from the repository's root (`docs/catalogue/null-dereference.md`).
    pub path: PathBuf,
    /// What it holds.
    pub contents: String,
    /// How `check` compares it.
    pub compare: Compare,
}

impl Generated {
    /// A file compared byte for byte.
    pub fn exact(path: impl Into<PathBuf>, contents: String) -> Generated {
        Generated {
            path: path.into(),
            contents,
            compare: Compare::Exact,
        }
    }
}

/// Whether `f` matches what is on disk as `on_disk`, as [`Compare`] says.
fn current(f: &Generated, on_disk: &str) -> bool {
    match f.compare {
        Compare::Exact => on_disk == f.contents,
        Compare::Screen => {
            crate::screen_compare::normalise(on_disk)
                == crate::screen_compare::normalise(&f.contents)
        }
    }
}

/// Writes every file under `root` that is not current (a picture that differs only in the
/// values of the run is kept, so regenerating does not churn them), and removes the files of
/// [`OWNED`] directories that no generator made any more.
/// Returns how many files it wrote.
pub fn write_all(root: &Path, files: &[Generated]) -> anyhow::Result<usize> {
    let mut written = 0;
    for f in files {
        let path = root.join(&f.path);
        if std::fs::read_to_string(&path).is_ok_and(|old| current(f, &old)) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &f.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        written += 1;
    }
    for extra in unclaimed(root, files)? {
        std::fs::remove_file(root.join(&extra))
            .with_context(|| format!("removing the stale {}", extra.display()))?;
        println!(
            "removed {} (nothing generates it any more)",
            extra.display()
        );
    }
    Ok(written)
}

/// What is wrong with the checkout: one line per stale, missing or unclaimed file.
pub fn problems(root: &Path, files: &[Generated]) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for f in files {
        let path = root.join(&f.path);
        let Ok(on_disk) = std::fs::read_to_string(&path) else {
            problems.push(format!("{}: missing", f.path.display()));
            continue;
        };
        if !current(f, &on_disk) {
            let what = match f.compare {
                Compare::Exact => "stale: it differs from what the code generates now",
                Compare::Screen => "stale: the screen no longer draws this picture",
            };
            let detail = match f.compare {
                Compare::Exact => first_difference(&on_disk, &f.contents),
                Compare::Screen => first_difference(
                    &crate::screen_compare::normalise(&on_disk).join("\n"),
                    &crate::screen_compare::normalise(&f.contents).join("\n"),
                ),
            };
            problems.push(format!("{}: {what}\n    {detail}", f.path.display()));
        }
    }
    for extra in unclaimed(root, files)? {
        problems.push(format!(
            "{}: stale: nothing generates it any more",
            extra.display()
        ));
    }
    Ok(problems)
}

/// The first line where `old` (checked in) and `new` (generated) differ, for the message.
fn first_difference(old: &str, new: &str) -> String {
    let (mut a, mut b) = (old.lines(), new.lines());
    let mut n = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (x, y) => {
                let cut = |s: Option<&str>| {
                    let s = s.unwrap_or("(end of file)");
                    if s.chars().count() > 100 {
                        format!("{}...", s.chars().take(100).collect::<String>())
                    } else {
                        s.to_string()
                    }
                };
                return format!("line {n}: checked in `{}`, generated `{}`", cut(x), cut(y));
            }
        }
    }
}

/// Files in [`OWNED`] directories that `files` does not include.
fn unclaimed(root: &Path, files: &[Generated]) -> anyhow::Result<Vec<PathBuf>> {
    let mut extra = Vec::new();
    for (dir, suffix) in OWNED {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {dir}"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = Path::new(dir).join(&name);
            if entry.path().is_file()
                && name.ends_with(suffix)
                && !files.iter().any(|f| f.path == path)
            {
                extra.push(path);
            }
        }
    }
    extra.sort();
    Ok(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_missing_and_unclaimed_files_are_each_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("docs/catalogue");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.md"), "old\n").unwrap();
        std::fs::write(dir.join("gone.md"), "x\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "not ours\n").unwrap();
        // The paths are split so that the docs check does not read them as pages to link.
        let files = vec![
            Generated::exact(concat!("docs/catalogue/", "a.md"), "new\n".into()),
            Generated::exact(concat!("docs/catalogue/", "b.md"), "b\n".into()),
        ];
        let p = problems(root.path(), &files).unwrap();
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with(concat!("docs/catalogue/", "a.md: stale")),
            "{p:?}"
        );
        assert!(p[0].contains("checked in `old`, generated `new`"), "{p:?}");
        assert_eq!(p[1], concat!("docs/catalogue/", "b.md: missing"));
        assert_eq!(
            p[2],
            concat!(
                "docs/catalogue/",
                "gone.md: stale: nothing generates it any more"
            )
        );

        write_all(root.path(), &files).unwrap();
        assert!(problems(root.path(), &files).unwrap().is_empty());
        assert!(!dir.join("gone.md").exists());
        assert!(
            dir.join("notes.txt").exists(),
            "only generated kinds of file are removed"
        );
    }
}
