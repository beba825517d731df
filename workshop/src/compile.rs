//! Compiling an attendee's eBPF C the way the workspace builds its own programs:
//! `clang -O2 -g -target bpf`, with the Debian multiarch include path.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a program did not compile.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// clang is not installed.
    #[error(
        "clang is not installed: run `apt-get install clang llvm libbpf-dev` (or ./scripts/setup)"
    )]
    ClangMissing,
    /// clang ran and refused the source: its messages.
    #[error("{0}")]
    Refused(String),
    /// Something else went wrong running clang.
    #[error("running clang: {0}")]
    Io(#[from] std::io::Error),
}

/// Compiles `source` into `output` (its folder is created), with `include` folders added.
pub fn compile(source: &Path, output: &Path, include: &[PathBuf]) -> Result<(), CompileError> {
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let machine = nix::sys::utsname::uname()
        .map(|u| u.machine().to_string_lossy().into_owned())
        .unwrap_or_else(|_| "x86_64".into());
    let mut cmd = Command::new("clang");
    cmd.args([
        "-O2",
        "-g",
        "-target",
        "bpf",
        "-Wall",
        "-Wno-unused-function",
    ])
    .arg(format!("-I/usr/include/{machine}-linux-gnu"));
    for dir in include {
        cmd.arg("-I").arg(dir);
    }
    cmd.arg("-c").arg(source).arg("-o").arg(output);
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CompileError::ClangMissing);
        }
        Err(e) => return Err(e.into()),
    };
    if out.status.success() {
        Ok(())
    } else {
        Err(CompileError::Refused(
            String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        ))
    }
}
