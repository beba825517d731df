//! Running the iproute2 tools the lab is built with.

use crate::Error;
use std::process::{Command, Output};

/// The Debian package that ships `program`.
fn package_of(program: &str) -> &'static str {
    match program {
        "ip" | "bridge" | "tc" => "iproute2",
        "ping" => "iputils-ping",
        "iperf3" => "iperf3",
        "brctl" => "bridge-utils",
        "ethtool" => "ethtool",
        _ => "the package that provides it",
    }
}

/// Runs `cmd` and returns its output, failing only when it cannot start.
pub(crate) fn output(cmd: &mut Command) -> Result<Output, Error> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.output().map_err(|err| Error::ToolMissing {
        package: package_of(&program),
        program,
        err,
    })
}

/// Runs `cmd` and returns its stdout, failing when it exits with an error.
pub(crate) fn run_ok(cmd: &mut Command) -> Result<String, Error> {
    let out = output(cmd)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::CommandFailed {
            command: describe(cmd),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Runs `ip` with `args`.
pub(crate) fn ip(args: &[&str]) -> Result<String, Error> {
    run_ok(Command::new("ip").args(args))
}

/// The command line, for messages.
pub(crate) fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}
