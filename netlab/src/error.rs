//! The lab's error type.

use std::path::PathBuf;

/// Why a lab operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The environment lacks something (a capability, a kernel feature).
    #[error(transparent)]
    Environment(#[from] preflight::Error),
    /// A required program (for example `ip` from iproute2) could not be started.
    #[error("cannot run `{program}`: {err}. Install it with `apt-get install {package}`")]
    ToolMissing {
        /// The program.
        program: String,
        /// The Debian package that has it.
        package: &'static str,
        /// The underlying error.
        #[source]
        err: std::io::Error,
    },
    /// A command exited with an error.
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// How it exited.
        status: std::process::ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// Processes inside a namespace outlived SIGKILL (for example stuck in the kernel), so it
    /// cannot really go away yet.
    #[error(
        "processes {pids:?} in namespace {netns} survived SIGKILL; the lab is kept so it can be removed later"
    )]
    ProcessesSurvived {
        /// The namespace.
        netns: String,
        /// The processes still in it.
        pids: Vec<i32>,
    },
    /// br_netfilter is not loaded, so bridge-nf-call cannot be turned on.
    #[error(
        "bridge netfilter is not available (no /proc/sys/net/bridge); load it with `modprobe br_netfilter`"
    )]
    BridgeNetfilterMissing,
    /// A lab name that cannot become namespace names.
    #[error(
        "invalid lab name `{0}`: use 1 to 24 characters from a-z, 0-9 and '-', starting with a letter or digit"
    )]
    InvalidName(String),
    /// A lab with this id already exists.
    #[error(
        "a lab named `{0}` already exists: tear it down with `xdpdbg lab down {0}` or pick another name"
    )]
    AlreadyExists(String),
    /// The spec cannot be built.
    #[error("invalid lab spec: {0}")]
    InvalidSpec(String),
    /// No lab has this id.
    #[error("no lab named `{0}` (see `xdpdbg lab list`)")]
    UnknownLab(String),
    /// The lab has no such node.
    #[error("lab `{lab}` has no node `{node}`; its nodes are: {known}")]
    UnknownNode {
        /// The lab.
        lab: String,
        /// The node asked for.
        node: String,
        /// The nodes it has.
        known: String,
    },
    /// Entering a namespace failed.
    #[error("cannot enter network namespace {path}: {errno}")]
    EnterNamespace {
        /// The namespace's bind mount.
        path: PathBuf,
        /// The kernel's answer.
        errno: nix::errno::Errno,
    },
    /// A file the lab keeps could not be read or written.
    #[error("{action} {path}: {err}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        err: std::io::Error,
    },
    /// A lab state file is corrupt.
    #[error(
        "lab state file {path} is corrupt ({err}); remove the lab with `xdpdbg lab down --all`"
    )]
    CorruptState {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        err: serde_json::Error,
    },
    /// Output of a tool could not be understood.
    #[error("cannot understand the output of `{command}`: {output}")]
    UnexpectedOutput {
        /// The command.
        command: String,
        /// Its output.
        output: String,
    },
}
