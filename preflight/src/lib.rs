//! Environment checks shared by every tool of the project.
//!
//! Each check answers with a typed error whose message says what is wrong *and* what to do:
//! which capability is missing and how to run with it, how to mount the BPF filesystem, which
//! kernel version a feature needs.
//!
//! ```no_run
//! use preflight::{Capability, Feature};
//! preflight::require_capabilities(&[Capability::Bpf, Capability::NetAdmin])?;
//! preflight::require_feature(Feature::XdpLiveFrames)?;
//! preflight::ensure_bpffs(preflight::BPFFS_DEFAULT)?;
//! # Ok::<(), preflight::Error>(())
//! ```

mod bpffs;
mod capability;
mod kernel;
mod report;

pub use bpffs::{BPFFS_DEFAULT, BpffsState, bpffs_state, ensure_bpffs};
pub use capability::{Capability, has_capability, require_capabilities};
pub use kernel::{Feature, KernelVersion, require_feature};
pub use report::{Check, Status, run_checks};

/// A requirement of the environment that is not met.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The process lacks a capability.
    #[error(
        "missing capability {cap}: {why}. Run as root (for example with sudo), or grant it to \
         the binary with `setcap {setcap}+ep <binary>`"
    )]
    MissingCapability {
        /// The capability, e.g. `CAP_BPF`.
        cap: &'static str,
        /// What it is needed for.
        why: &'static str,
        /// The name `setcap` understands.
        setcap: &'static str,
    },
    /// The kernel is older than a feature needs.
    #[error("this kernel ({running}) is too old for {feature}: it needs Linux {needed} or later")]
    KernelTooOld {
        /// The feature.
        feature: &'static str,
        /// The first version that has it.
        needed: KernelVersion,
        /// The running kernel.
        running: KernelVersion,
    },
    /// The running kernel's version could not be read.
    #[error("cannot tell the kernel version from `{0}`")]
    KernelVersionUnknown(String),
    /// The BPF filesystem is not mounted where it should be.
    #[error(
        "{path} is not a BPF filesystem ({state}), so maps and programs cannot be pinned. \
         Mount it with `mount -t bpf bpf {path}` (as root), or add \
         `bpf {path} bpf defaults 0 0` to /etc/fstab"
    )]
    BpffsMissing {
        /// Where it was looked for.
        path: String,
        /// What is there instead.
        state: BpffsState,
    },
    /// Mounting the BPF filesystem failed.
    #[error(
        "mounting the BPF filesystem on {path} failed: {errno}. Mount it by hand with `mount -t bpf bpf {path}`"
    )]
    BpffsMount {
        /// Where it was to be mounted.
        path: String,
        /// The kernel's answer.
        errno: nix::errno::Errno,
    },
}
