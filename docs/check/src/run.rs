//! Running a block's commands for real, as the page shows them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::transcript::Step;

/// Where and how blocks run: bash, stdout and stderr together, `NO_COLOR=1`, stdin empty,
/// in `workdir`, with `path` searched before the inherited `PATH`, each command killed after
/// `timeout` (by coreutils' `timeout`). With `update`, an output that no longer matches its
/// page is not a failure but an [`Edit`] that brings the page up to date.
#[derive(Debug, Clone)]
pub struct Runner {
    /// Directories searched first for commands (the workspace's built binaries).
    pub path: Vec<PathBuf>,
    /// The working directory of every command.
    pub workdir: PathBuf,
    /// How long one command may take.
    pub timeout: Duration,
    /// Turn mismatched outputs into edits of the page instead of failures.
    pub update: bool,
}

/// A change to a page's lines: `count` lines from line `from` (1-based) become `lines`
/// (`count` 0: inserted before `from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The first line replaced, or the line the new ones go before.
    pub from: usize,
    /// How many lines are replaced.
    pub count: usize,
    /// The new lines, without the block's indentation.
    pub lines: Vec<String>,
}

/// Why a block failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The page's line (`None`: the block's fence).
    pub line: Option<usize>,
    /// What happened, and what the page says instead.
    pub message: String,
}

impl Runner {
    /// Runs one command; returns its exit code (`None`: killed by a signal) and its output.
    pub fn run(&self, command: &str) -> std::io::Result<(Option<i32>, String)> {
        let mut path = std::env::join_paths(&self.path).unwrap_or_default();
        if let Some(inherited) = std::env::var_os("PATH") {
            path.push(OsString::from(":"));
            path.push(inherited);
        }
        let output = Command::new("timeout")
            .args([
                "--kill-after=5",
                &format!("{}", self.timeout.as_secs().max(1)),
            ])
            .args(["bash", "-c", &format!("exec 2>&1\n{command}")])
            .current_dir(&self.workdir)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()?;
        Ok((
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ))
    }

    /// Runs a block: `before` (each must succeed), the steps (each output compared with the
    /// page, or each command required to succeed), then `after` on every path. Returns the
    /// edits that bring the page up to date (only with `update`; otherwise a mismatch fails).
    pub fn run_block(
        &self,
        before: &[String],
        steps: &[Step],
        after: &[String],
    ) -> Result<Vec<Edit>, Failure> {
        let result = self.run_steps(before, steps);
        for command in after {
            let _ = self.run(command);
        }
        result
    }

    fn run_steps(&self, before: &[String], steps: &[Step]) -> Result<Vec<Edit>, Failure> {
        let mut edits = Vec::new();
        for command in before {
            let (code, output) = self.run(command).map_err(|e| Failure {
                line: None,
                message: format!("cannot run `{command}` (before:): {e}"),
            })?;
            if code != Some(0) {
                return Err(Failure {
                    line: None,
                    message: format!(
                        "the set-up `{command}` failed (exit {}):\n{output}",
                        exit(code)
                    ),
                });
            }
        }
        for step in steps {
            let (code, output) = self.run(&step.command).map_err(|e| Failure {
                line: Some(step.line),
                message: format!("cannot run `{}`: {e}", step.command),
            })?;
            if code == Some(124) || code == Some(137) || code.is_none() {
                return Err(Failure {
                    line: Some(step.line),
                    message: format!(
                        "`{}` did not finish within {} s (exit {}); it printed:\n{output}",
                        step.command,
                        self.timeout.as_secs(),
                        exit(code)
                    ),
                });
            }
            match &step.expected {
                None if code != Some(0) => {
                    return Err(Failure {
                        line: Some(step.line),
                        message: format!(
                            "`{}` failed (exit {}):\n{output}",
                            step.command,
                            exit(code)
                        ),
                    });
                }
                None => {}
                Some(expected) => {
                    if self.update && expected.check(&output).is_err() {
                        let (from, count) = expected
                            .span()
                            .map_or((step.output_from, 0), |(first, last)| {
                                (first, last + 1 - first)
                            });
                        edits.push(Edit {
                            from,
                            count,
                            lines: expected.updated(&output),
                        });
                    } else if let Err(m) = expected.check(&output) {
                        return Err(Failure {
                            line: Some(m.line.unwrap_or(step.line)),
                            message: format!(
                                "the output of `{}` no longer matches the page:\n  page:   {}\n  \
                                 output: {}\nwhole output (exit {}):\n{output}",
                                step.command,
                                m.expected,
                                m.actual.as_deref().unwrap_or("(nothing more)"),
                                exit(code)
                            ),
                        });
                    }
                }
            }
        }
        Ok(edits)
    }
}

fn exit(code: Option<i32>) -> String {
    code.map_or("by a signal".to_string(), |c| c.to_string())
}
