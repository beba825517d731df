//! The attendee's working folder of a lab: where it is, and copying a lab's files into it
//! without ever overwriting the attendee's own work.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::catalogue::{Lab, LabFile};

/// The folder that holds every lab's working folder unless `--dir` says otherwise.
pub const DEFAULT_ROOT: &str = "ebpf-workshop";

/// The working folder of `lab`: `dir` when given; else, when the current folder is a workshop
/// folder (`ebpf-workshop/`) or inside one, that folder's `labNN` (so `lab check 1` typed in
/// `ebpf-workshop/lab01` checks that lab rather than looking for a nested copy); else
/// `./ebpf-workshop/labNN`.
pub fn resolve(lab: &Lab, dir: Option<&Path>) -> PathBuf {
    if let Some(d) = dir {
        return d.to_path_buf();
    }
    std::env::current_dir()
        .ok()
        .and_then(|cwd| from_inside_workshop(lab, &cwd))
        .unwrap_or_else(|| Path::new(DEFAULT_ROOT).join(lab_folder(lab)))
}

/// `labNN`, the name of `lab`'s folder in the workshop folder.
fn lab_folder(lab: &Lab) -> String {
    format!("lab{:02}", lab.number)
}

/// `lab`'s folder relative to `cwd`, when `cwd` is a workshop folder (`.../ebpf-workshop`) or
/// lies inside one: `.` in the lab's own folder, `labNN` in the workshop folder, `../labNN` in
/// another lab's folder, one `..` more per level below.
fn from_inside_workshop(lab: &Lab, cwd: &Path) -> Option<PathBuf> {
    let (depth, root) = cwd
        .ancestors()
        .enumerate()
        .find(|(_, a)| a.file_name() == Some(std::ffi::OsStr::new(DEFAULT_ROOT)))?;
    let own = root.join(lab_folder(lab));
    let up = |levels: usize| -> PathBuf { std::iter::repeat_n("..", levels).collect() };
    Some(match cwd.strip_prefix(&own) {
        Ok(rest) if rest.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rest) => up(rest.components().count()),
        Err(_) => up(depth).join(lab_folder(lab)),
    })
}

/// What copying did to each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// The file was written.
    Written(PathBuf),
    /// The file existed with other contents and was kept (the attendee's work).
    Kept(PathBuf),
    /// The file existed and was saved as `<name>.mine` before being replaced.
    Replaced {
        /// The file replaced.
        path: PathBuf,
        /// Where the previous contents went.
        backup: PathBuf,
    },
}

/// Writes `files` into `dir`. Existing files with other contents are kept, unless `replace`,
/// when they are first saved as `<name>.mine`.
pub fn copy_files(dir: &Path, files: &[LabFile], replace: bool) -> anyhow::Result<Vec<Copied>> {
    let mut done = Vec::new();
    for file in files {
        let path = dir.join(file.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the folder {}", parent.display()))?;
        }
        let outcome = match std::fs::read_to_string(&path) {
            Ok(existing) if existing == file.text => Copied::Written(path.clone()),
            Ok(_) if !replace => Copied::Kept(path.clone()),
            Ok(existing) => {
                let backup = path.with_extension(format!(
                    "{}.mine",
                    path.extension().and_then(|e| e.to_str()).unwrap_or("")
                ));
                std::fs::write(&backup, existing)
                    .with_context(|| format!("saving your version as {}", backup.display()))?;
                Copied::Replaced {
                    path: path.clone(),
                    backup,
                }
            }
            Err(_) => Copied::Written(path.clone()),
        };
        if !matches!(outcome, Copied::Kept(_)) {
            std::fs::write(&path, file.text)
                .with_context(|| format!("writing {}", path.display()))?;
            if file.name.ends_with(".sh") {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .with_context(|| format!("making {} executable", path.display()))?;
            }
        }
        done.push(outcome);
    }
    Ok(done)
}

/// Fails with what to do when `dir` does not hold the lab's files (the lab was not started, or
/// `--dir` names another folder).
pub fn require_started(lab: &Lab, dir: &Path) -> anyhow::Result<()> {
    let first = lab.start.first().map(|f| f.name).unwrap_or("");
    if dir.join(first).exists() {
        return Ok(());
    }
    if Path::new(first).exists() {
        // The attendee is probably inside a lab folder made with --dir: starting the lab here
        // would nest a second copy, so say where to run from instead.
        anyhow::bail!(
            "{} has no {first}, but this folder has one: if it is lab {n}'s folder, you are \
             inside it: add `--dir .` (or run `lab` from the folder above it, with the --dir \
             you gave to `lab start`)",
            dir.display(),
            n = lab.number
        )
    }
    anyhow::bail!(
        "{} has no {first}: lab {n} was not started there. Run `lab start {n}` first (or pass \
         the --dir you gave to `lab start`)",
        dir.display(),
        n = lab.number
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: LabFile = LabFile {
        name: "sub/prog.bpf.c",
        text: "start\n",
    };

    #[test]
    fn an_edited_file_is_kept_unless_replaced_and_then_saved_as_mine() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/prog.bpf.c");
        assert_eq!(
            copy_files(dir.path(), &[FILE], false).unwrap(),
            [Copied::Written(path.clone())]
        );
        std::fs::write(&path, "mine\n").unwrap();
        assert_eq!(
            copy_files(dir.path(), &[FILE], false).unwrap(),
            [Copied::Kept(path.clone())]
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine\n");
        let backup = dir.path().join("sub/prog.bpf.c.mine");
        assert_eq!(
            copy_files(dir.path(), &[FILE], true).unwrap(),
            [Copied::Replaced {
                path: path.clone(),
                backup: backup.clone()
            }]
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "start\n");
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), "mine\n");
    }

    #[test]
    fn inside_the_workshop_folder_the_lab_folder_is_found_without_nesting() {
        let lab1 = crate::catalogue::lab(1).unwrap();
        let lab2 = crate::catalogue::lab(2).unwrap();
        let at = |cwd: &str, lab| from_inside_workshop(lab, Path::new(cwd));
        assert_eq!(at("/home/a/ebpf-workshop/lab01", lab1), Some(".".into()));
        assert_eq!(at("/home/a/ebpf-workshop", lab1), Some("lab01".into()));
        assert_eq!(
            at("/home/a/ebpf-workshop/lab01", lab2),
            Some("../lab02".into())
        );
        assert_eq!(
            at("/home/a/ebpf-workshop/lab01/build", lab1),
            Some("..".into())
        );
        assert_eq!(
            at("/home/a/ebpf-workshop/lab01/build", lab2),
            Some("../../lab02".into())
        );
        assert_eq!(at("/home/a", lab1), None);
        assert_eq!(at("/home/a/ebpf-workshop-old/lab01", lab1), None);
    }

    #[test]
    fn a_folder_without_the_lab_files_says_to_start_the_lab() {
        let dir = tempfile::tempdir().unwrap();
        let lab = crate::catalogue::lab(3).unwrap();
        let err = require_started(lab, dir.path()).unwrap_err().to_string();
        assert!(err.contains("Run `lab start 3` first"), "{err}");
    }
}
