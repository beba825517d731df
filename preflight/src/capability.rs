//! Capabilities the tools need, and checks that name the missing one.

use crate::Error;
use caps::{CapSet, Capability as Cap};

/// A capability one of the project's tools may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Capability {
    /// CAP_BPF (Linux 5.8+; CAP_SYS_ADMIN stands in for it on older kernels): load programs,
    /// create maps.
    Bpf,
    /// CAP_NET_ADMIN: attach XDP and TC programs, create namespaces, links and bridges.
    NetAdmin,
    /// CAP_PERFMON (Linux 5.8+; CAP_SYS_ADMIN before): sample programs with perf, read kernel
    /// addresses of JITed code.
    Perfmon,
    /// CAP_SYS_ADMIN: mount bpffs, enter other network namespaces, BPF_ENABLE_STATS.
    SysAdmin,
}

impl Capability {
    /// The kernel's name, e.g. `CAP_BPF`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Bpf => "CAP_BPF",
            Capability::NetAdmin => "CAP_NET_ADMIN",
            Capability::Perfmon => "CAP_PERFMON",
            Capability::SysAdmin => "CAP_SYS_ADMIN",
        }
    }

    fn why(self) -> &'static str {
        match self {
            Capability::Bpf => "needed to load eBPF programs and create maps",
            Capability::NetAdmin => "needed to attach XDP/TC programs and to build lab namespaces",
            Capability::Perfmon => "needed to sample eBPF programs with perf",
            Capability::SysAdmin => "needed to mount bpffs and enter network namespaces",
        }
    }

    fn setcap(self) -> &'static str {
        match self {
            Capability::Bpf => "cap_bpf",
            Capability::NetAdmin => "cap_net_admin",
            Capability::Perfmon => "cap_perfmon",
            Capability::SysAdmin => "cap_sys_admin",
        }
    }

    fn kernel_caps(self) -> &'static [Cap] {
        match self {
            // Before 5.8 these were part of CAP_SYS_ADMIN, which still implies them.
            Capability::Bpf => &[Cap::CAP_BPF, Cap::CAP_SYS_ADMIN],
            Capability::Perfmon => &[Cap::CAP_PERFMON, Cap::CAP_SYS_ADMIN],
            Capability::NetAdmin => &[Cap::CAP_NET_ADMIN],
            Capability::SysAdmin => &[Cap::CAP_SYS_ADMIN],
        }
    }
}

/// Whether this process has `cap` in its effective set (or a capability that implies it).
pub fn has_capability(cap: Capability) -> bool {
    cap.kernel_caps()
        .iter()
        .any(|c| caps::has_cap(None, CapSet::Effective, *c).unwrap_or(false))
}

/// Fails with the first capability of `needed` that this process lacks.
pub fn require_capabilities(needed: &[Capability]) -> Result<(), Error> {
    match needed.iter().find(|c| !has_capability(**c)) {
        None => Ok(()),
        Some(c) => Err(Error::MissingCapability {
            cap: c.name(),
            why: c.why(),
            setcap: c.setcap(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_the_capability_and_the_remedy() {
        let err = Error::MissingCapability {
            cap: Capability::NetAdmin.name(),
            why: Capability::NetAdmin.why(),
            setcap: Capability::NetAdmin.setcap(),
        };
        let msg = err.to_string();
        assert!(msg.contains("CAP_NET_ADMIN"), "{msg}");
        assert!(msg.contains("sudo"), "{msg}");
        assert!(msg.contains("setcap cap_net_admin+ep"), "{msg}");
    }

    #[test]
    fn dropping_a_capability_is_detected() {
        // Work in a thread: capabilities are per thread, so the test runner keeps its own.
        std::thread::spawn(|| {
            if !has_capability(Capability::NetAdmin) {
                // Unprivileged: the check must already fail, naming the capability.
                let err = require_capabilities(&[Capability::NetAdmin]).unwrap_err();
                assert!(err.to_string().contains("CAP_NET_ADMIN"));
                return;
            }
            caps::drop(None, CapSet::Effective, Cap::CAP_NET_ADMIN).unwrap();
            let err = require_capabilities(&[Capability::Bpf, Capability::NetAdmin]).unwrap_err();
            assert!(err.to_string().contains("CAP_NET_ADMIN"), "{err}");
            caps::raise(None, CapSet::Effective, Cap::CAP_NET_ADMIN).unwrap();
            require_capabilities(&[Capability::NetAdmin]).unwrap();
        })
        .join()
        .unwrap();
    }
}
