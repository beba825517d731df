//! Programs from the machine's packages (iperf3, ethtool, ...) that a test or benchmark runs.

use std::path::PathBuf;

/// A program that is not on the `PATH`.
#[derive(Debug, thiserror::Error)]
#[error("`{program}` is not installed: apt-get install -y {package} (scripts/setup installs it)")]
pub struct MissingTool {
    /// The program's name.
    pub program: String,
    /// The Debian package that provides it.
    pub package: String,
}

/// Where `program` is on the `PATH`, if anywhere.
pub fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `Ok` when `program` is on the `PATH`; otherwise which Debian `package` to install.
pub fn check_tool(program: &str, package: &str) -> Result<(), MissingTool> {
    match find(program) {
        Some(_) => Ok(()),
        None => Err(MissingTool {
            program: program.to_string(),
            package: package.to_string(),
        }),
    }
}

/// Fails the test unless `program` is on the `PATH`, naming the Debian `package` to install.
#[track_caller]
pub fn require_tool(program: &str, package: &str) {
    if let Err(missing) = check_tool(program, package) {
        panic!("{missing}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_program_and_names_the_package_of_a_missing_one() {
        assert!(find("sh").is_some(), "sh is on every PATH");
        let missing = check_tool("no-such-program-here", "no-such-package").unwrap_err();
        let text = missing.to_string();
        assert!(
            text.contains("no-such-program-here")
                && text.contains("apt-get install -y no-such-package"),
            "{text}"
        );
    }
}
