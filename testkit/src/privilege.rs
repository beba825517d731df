//! Root and capability checks for privileged tests and benchmarks.
//!
//! A test that needs a privilege and lacks it fails with one message naming what is missing,
//! what the test needed it for, and how to run it: it never passes silently.

pub use preflight::Capability;

/// How to run the privileged tests, appended to every failure.
const HOW_TO_RUN: &str = "run the tests as root: `sudo -E cargo test` (or `sudo ./scripts/test` \
                          for the whole suite)";

/// A privilege this process lacks.
#[derive(Debug, thiserror::Error)]
pub enum Missing {
    /// The effective user is not root.
    #[error("{purpose}: this needs root, and this process runs as uid {euid}")]
    Root {
        /// What the caller needed root for.
        purpose: String,
        /// The effective user id this process has.
        euid: u32,
    },
    /// A capability is not in the effective set.
    #[error("{purpose}: this needs {capability}, which this process lacks")]
    Capability {
        /// What the caller needed the capability for.
        purpose: String,
        /// The kernel's name of the capability, e.g. `CAP_BPF`.
        capability: &'static str,
    },
}

/// `Ok` when the effective user is root; otherwise what is missing, for `purpose` (e.g. "these
/// tests build network namespaces").
pub fn check_root(purpose: &str) -> Result<(), Missing> {
    let euid = nix::unistd::geteuid();
    if euid.is_root() {
        Ok(())
    } else {
        Err(Missing::Root {
            purpose: purpose.to_string(),
            euid: euid.as_raw(),
        })
    }
}

/// `Ok` when this process has every capability of `needed` (or one that implies it);
/// otherwise the first it lacks, for `purpose`.
pub fn check_capabilities(needed: &[Capability], purpose: &str) -> Result<(), Missing> {
    match needed.iter().find(|&&c| !preflight::has_capability(c)) {
        None => Ok(()),
        Some(c) => Err(Missing::Capability {
            purpose: purpose.to_string(),
            capability: c.name(),
        }),
    }
}

/// Fails the test unless it runs as root, saying what it needed root for (`purpose`) and how
/// to run it.
#[track_caller]
pub fn require_root(purpose: &str) {
    if let Err(missing) = check_root(purpose) {
        panic!("{missing}: {HOW_TO_RUN}");
    }
}

/// Fails the test unless this process has every capability of `needed`, naming the first
/// missing one, what the test needed it for (`purpose`) and how to run it.
#[track_caller]
pub fn require_capabilities(needed: &[Capability], purpose: &str) {
    if let Err(missing) = check_capabilities(needed, purpose) {
        panic!("{missing}: {HOW_TO_RUN}");
    }
}

/// Fails the test unless it may load eBPF programs and create maps (CAP_BPF, which root has).
#[track_caller]
pub fn require_bpf() {
    require_capabilities(
        &[Capability::Bpf],
        "loading eBPF programs and creating maps",
    );
}

/// Fails the test unless it may build labs: network namespaces, veths and a bridge
/// (CAP_NET_ADMIN and CAP_SYS_ADMIN, which root has).
#[track_caller]
pub fn require_lab() {
    require_capabilities(
        &[Capability::NetAdmin, Capability::SysAdmin],
        "building a lab (network namespaces, veths, a bridge)",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_privilege_names_itself_and_the_purpose() {
        let root = Missing::Root {
            purpose: "these tests attach XDP".into(),
            euid: 1000,
        };
        let text = root.to_string();
        assert!(text.contains("root") && text.contains("uid 1000"), "{text}");
        assert!(text.starts_with("these tests attach XDP"), "{text}");
        let cap = Missing::Capability {
            purpose: "these tests load programs".into(),
            capability: Capability::Bpf.name(),
        };
        assert!(cap.to_string().contains("CAP_BPF"), "{cap}");
    }

    #[test]
    fn checks_agree_with_the_effective_user() {
        let root = nix::unistd::geteuid().is_root();
        assert_eq!(check_root("a check").is_ok(), root);
        if root {
            check_capabilities(&[Capability::Bpf, Capability::NetAdmin], "a check").unwrap();
        }
    }
}
