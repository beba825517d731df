//! The `lab` subcommands: list, start, check, solution, down.

use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

use crate::catalogue::{self, LABS, Lab};
use crate::report::CheckReport;
use crate::workdir::{self, Copied};
use crate::{ageing_race, fast_path, hot_line, lab_env, live_map, verifier_labs};

/// `lab list`: every lab with its time and page.
pub fn list(json: bool) -> String {
    if json {
        let labs: Vec<_> = LABS
            .iter()
            .map(|l| {
                serde_json::json!({"number": l.number, "slug": l.slug, "title": l.title,
                    "minutes": l.minutes, "page": l.page()})
            })
            .collect();
        return serde_json::to_string_pretty(&labs).expect("plain JSON") + "\n";
    }
    let mut out = String::from("LAB  MIN  TITLE\n");
    for l in &LABS {
        out += &format!("{:<4} {:<4} {}\n", l.number, l.minutes, l.title);
    }
    let total: u32 = LABS.iter().map(|l| l.minutes).sum();
    out += &format!(
        "\n{} labs, about {} h {} min in all. Start with: lab start 1 (pages: docs/workshop/)\n",
        LABS.len(),
        total / 60,
        total % 60
    );
    out
}

/// `lab start N`: copies the starting files (keeping the attendee's edits unless `reset`) and
/// sets up what the lab needs.
pub fn start(lab: &Lab, dir: &Path, reset: bool) -> anyhow::Result<String> {
    let copied = workdir::copy_files(dir, lab.start, reset)?;
    let mut out = format!("lab {}: {}\n", lab.number, lab.title);
    for c in &copied {
        match c {
            Copied::Written(p) => out += &format!("  wrote {}\n", p.display()),
            Copied::Kept(p) => {
                out += &format!(
                    "  kept your {} (start with --reset to get the starting file back)\n",
                    p.display()
                )
            }
            Copied::Replaced { path, backup } => {
                out += &format!(
                    "  wrote {} (your version is in {})\n",
                    path.display(),
                    backup.display()
                )
            }
        }
    }
    let setup = match lab.number {
        5 => Some(hot_line::start(lab, dir)?),
        6 => Some(live_map::start(lab, dir)?),
        7 => Some(ageing_race::start(lab, dir)?),
        8 => Some(fast_path::start(lab)?),
        _ => None,
    };
    if let Some(s) = setup {
        out += &format!("  set up: {s}\n");
    }
    out += &format!(
        "Next: follow {} ; check your work with: lab check {}{}\n",
        lab.page(),
        lab.number,
        dir_flag(lab, dir)
    );
    Ok(out)
}

/// ` --dir DIR` when `dir` is not the default folder.
fn dir_flag(lab: &Lab, dir: &Path) -> String {
    if dir == workdir::resolve(lab, None) {
        String::new()
    } else {
        format!(" --dir {}", dir.display())
    }
}

/// `lab check N`.
pub fn check(lab: &Lab, dir: &Path) -> anyhow::Result<CheckReport> {
    match lab.number {
        1..=4 => {
            workdir::require_started(lab, dir)?;
            verifier_labs::check(lab, dir)
        }
        5 => {
            workdir::require_started(lab, dir)?;
            hot_line::check(lab, dir)
        }
        6 => live_map::check(lab),
        7 => ageing_race::check(lab, dir),
        _ => fast_path::check(lab),
    }
}

/// `lab solution N`: the solution's files as text, or (with `apply`) written into the working
/// folder (the attendee's versions saved as `*.mine`) and its `solution.sh` run there.
pub fn solution(lab: &Lab, dir: &Path, apply: bool) -> anyhow::Result<String> {
    if !apply {
        let mut out = format!(
            "lab {}'s solution (also in {}):\n",
            lab.number,
            lab.solution_dir()
        );
        for f in lab.solution {
            out += &format!("\n==> {} <==\n{}", f.name, f.text);
        }
        out += &format!(
            "\nApply it with: lab solution {} --apply{}\n",
            lab.number,
            dir_flag(lab, dir)
        );
        return Ok(out);
    }
    if lab.number != 8 && lab.number != 6 {
        workdir::require_started(lab, dir)?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = String::new();
    for c in workdir::copy_files(dir, lab.solution, true)? {
        match c {
            Copied::Written(p) | Copied::Kept(p) => out += &format!("wrote {}\n", p.display()),
            Copied::Replaced { path, backup } => {
                out += &format!(
                    "wrote {} (your version is in {})\n",
                    path.display(),
                    backup.display()
                )
            }
        }
    }
    if lab.solution.iter().any(|f| f.name == "solution.sh") {
        let run = Command::new("sh")
            .arg("solution.sh")
            .current_dir(dir)
            .env("PATH", lab_env::script_path())
            .output()
            .context("running solution.sh")?;
        out += &String::from_utf8_lossy(&run.stdout);
        anyhow::ensure!(
            run.status.success(),
            "the solution's script failed ({}): {}",
            run.status,
            String::from_utf8_lossy(&run.stderr).trim()
        );
    }
    out += &format!(
        "Check it with: lab check {}{}\n",
        lab.number,
        dir_flag(lab, dir)
    );
    Ok(out)
}

/// `lab down N`: removes what lab N created (its network, with the programs attached and the
/// processes running inside; lab 8's switch daemon). The working folder stays: it is the
/// attendee's work.
pub fn down(lab: &Lab) -> anyhow::Result<Vec<String>> {
    let mut removed = Vec::new();
    if lab.number == 8 && fast_path::stop_daemon(lab.number)? {
        removed.push("the switch daemon".to_string());
    }
    removed.extend(
        lab_env::remove(lab.number)?
            .into_iter()
            .map(|ns| format!("namespace {ns}")),
    );
    Ok(removed)
}

/// What `lab down` says it did: what it removed, or, when nothing was left, why that is fine
/// (labs 1 to 4 load the attendee's program only while `lab check` runs). The working folder
/// always stays.
pub fn down_summary(lab: &Lab, removed: &[String]) -> String {
    let n = lab.number;
    if !removed.is_empty() {
        format!(
            "lab {n}: removed {}; your files are kept",
            removed.join(", ")
        )
    } else if lab_env::runs_something(n) {
        format!("lab {n}: nothing to remove (its network is not up); your files are kept")
    } else {
        format!(
            "lab {n}: nothing to remove: lab {n} loads nothing that stays (lab check unloads your \
             program when it is done); your files are kept"
        )
    }
}

/// The lab numbered `n`, or a usage error listing the labs.
pub fn lab(n: u8) -> anyhow::Result<&'static Lab> {
    catalogue::lab(n).ok_or_else(|| {
        anyhow::anyhow!(
            "there is no lab {n}: the labs are 1 to {} (see `lab list`)",
            LABS.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_says_what_nothing_to_remove_means_and_that_files_stay() {
        let lab1 = lab(1).unwrap();
        let said = down_summary(lab1, &[]);
        assert!(said.contains("lab 1 loads nothing that stays"), "{said}");
        assert!(said.ends_with("your files are kept"), "{said}");
        let said = down_summary(lab(5).unwrap(), &[]);
        assert!(said.contains("its network is not up"), "{said}");
        let said = down_summary(lab(5).unwrap(), &["namespace xl-ws5-h1".to_string()]);
        assert_eq!(
            said,
            "lab 5: removed namespace xl-ws5-h1; your files are kept"
        );
    }
}
