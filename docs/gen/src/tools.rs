//! The workspace's command lines, built and run as a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// The binaries docgen runs, each with the package that builds it.
pub const BINARIES: [(&str, &str); 4] = [
    ("xdpdbg", "xdpdbg"),
    ("switch-ctl", "switch-ctl"),
    ("verifier-explain", "verifier-explain"),
    ("lab", "workshop"),
];

/// Where the built binaries are.
#[derive(Debug, Clone)]
pub struct Tools {
    dir: PathBuf,
}

impl Tools {
    /// Builds [`BINARIES`] with cargo in the profile docgen itself was built in (so a stale
    /// binary never makes a stale page), and finds them next to docgen's own executable.
    pub fn build(root: &Path) -> anyhow::Result<Tools> {
        let exe = std::env::current_exe().context("finding docgen's own executable")?;
        let dir = exe
            .parent()
            .context("docgen's executable has no directory")?
            .to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.current_dir(root).arg("build").arg("--quiet");
        if dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        for (bin, package) in BINARIES {
            build.args(["-p", package, "--bin", bin]);
        }
        let status = build
            .status()
            .context("running cargo build for the command lines")?;
        if !status.success() {
            let bins: Vec<&str> = BINARIES.iter().map(|(bin, _)| *bin).collect();
            bail!("cargo build of {} failed ({status})", bins.join(", "));
        }
        Ok(Tools { dir })
    }

    /// The path of binary `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Runs `name` with `args` and without color; returns what it printed on stdout when it
    /// exited with one of `ok_codes`, else fails with its stderr.
    pub fn run(&self, name: &str, args: &[&str], ok_codes: &[i32]) -> anyhow::Result<String> {
        let output = Command::new(self.path(name))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {name}"))?;
        let code = output.status.code().unwrap_or(-1);
        if !ok_codes.contains(&code) {
            bail!(
                "`{name} {}` exited with {} (expected {ok_codes:?}):\n{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            );
        }
        String::from_utf8(output.stdout).with_context(|| format!("{name} printed non-UTF-8 text"))
    }
}
