//! The running kernel's version and the features the project relies on.

use crate::Error;
use std::fmt;

/// A Linux kernel version, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct KernelVersion {
    /// e.g. 6 in 6.18.44.
    pub major: u32,
    /// e.g. 18 in 6.18.44.
    pub minor: u32,
    /// e.g. 44 in 6.18.44.
    pub patch: u32,
}

impl KernelVersion {
    /// A version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KernelVersion {
            major,
            minor,
            patch,
        }
    }

    /// Parses a `uname -r` release such as `6.18.44-fc-v445` or `5.15.0-91-generic`.
    pub fn parse(release: &str) -> Option<Self> {
        let numeric = release
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()?;
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Some(KernelVersion::new(major, minor, patch))
    }

    /// The running kernel's version.
    pub fn current() -> Result<Self, Error> {
        let uts = nix::sys::utsname::uname()
            .map_err(|e| Error::KernelVersionUnknown(format!("uname failed: {e}")))?;
        let release = uts.release().to_string_lossy().into_owned();
        KernelVersion::parse(&release).ok_or(Error::KernelVersionUnknown(release))
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// A kernel feature one of the tools depends on, with the mainline version that added it.
///
/// Versions are mainline ones; distribution kernels sometimes backport features, so a tool may
/// still probe for a feature when the version says no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Feature {
    /// XDP itself, with generic (skb) mode for any device.
    Xdp,
    /// Bounded loops accepted by the verifier.
    BoundedLoops,
    /// Batch map operations (BPF_MAP_LOOKUP_BATCH and friends).
    MapBatchOps,
    /// BPF_ENABLE_STATS for per-program run time.
    EnableStats,
    /// CAP_BPF and CAP_PERFMON as separate capabilities.
    CapBpf,
    /// Verifier limit of 1M processed instructions (was 4096 instructions).
    MillionInsns,
    /// Atomic operations (`__sync_*`) in eBPF programs.
    Atomics,
    /// BPF_PROG_TYPE_SYSCALL programs run with BPF_PROG_RUN.
    SyscallPrograms,
    /// BPF_F_TEST_XDP_LIVE_FRAMES: BPF_PROG_RUN sends real frames.
    XdpLiveFrames,
    /// XDP programs that handle multi-buffer (jumbo) frames (`xdp.frags`).
    XdpFrags,
    /// The verifier log's `log_true_size` and tail-keeping on overflow.
    LogTrueSize,
    /// The `netdev` generic-netlink family with XDP feature flags.
    NetdevXdpFeatures,
}

impl Feature {
    /// Every feature, in the order checks report them.
    pub const ALL: [Feature; 12] = [
        Feature::Xdp,
        Feature::BoundedLoops,
        Feature::MillionInsns,
        Feature::MapBatchOps,
        Feature::EnableStats,
        Feature::CapBpf,
        Feature::Atomics,
        Feature::SyscallPrograms,
        Feature::XdpLiveFrames,
        Feature::XdpFrags,
        Feature::NetdevXdpFeatures,
        Feature::LogTrueSize,
    ];

    /// The first mainline version that has the feature.
    pub fn since(self) -> KernelVersion {
        let (major, minor) = match self {
            Feature::Xdp => (4, 12),
            Feature::BoundedLoops => (5, 3),
            Feature::MillionInsns => (5, 2),
            Feature::MapBatchOps => (5, 6),
            Feature::EnableStats => (5, 8),
            Feature::CapBpf => (5, 8),
            Feature::Atomics => (5, 12),
            Feature::SyscallPrograms => (5, 14),
            Feature::XdpLiveFrames => (5, 18),
            Feature::XdpFrags => (5, 18),
            Feature::NetdevXdpFeatures => (6, 3),
            Feature::LogTrueSize => (6, 4),
        };
        KernelVersion::new(major, minor, 0)
    }

    /// What the feature is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Feature::Xdp => "XDP (generic mode)",
            Feature::BoundedLoops => "bounded loops in eBPF programs",
            Feature::MillionInsns => "the 1M-instruction verifier limit",
            Feature::MapBatchOps => "batch map operations",
            Feature::EnableStats => "per-program run-time statistics (BPF_ENABLE_STATS)",
            Feature::CapBpf => "CAP_BPF and CAP_PERFMON",
            Feature::Atomics => "atomic operations in eBPF programs",
            Feature::SyscallPrograms => "syscall-type eBPF programs (BPF_PROG_TYPE_SYSCALL)",
            Feature::XdpLiveFrames => "live-frame XDP test runs (BPF_F_TEST_XDP_LIVE_FRAMES)",
            Feature::XdpFrags => "multi-buffer XDP (xdp.frags) for jumbo frames",
            Feature::NetdevXdpFeatures => "XDP feature flags over the netdev netlink family",
            Feature::LogTrueSize => "verifier logs that report their true size",
        }
    }

    /// Whether `version` has the feature.
    pub fn available_in(self, version: KernelVersion) -> bool {
        version >= self.since()
    }
}

/// Fails if the running kernel is older than `feature` needs.
pub fn require_feature(feature: Feature) -> Result<(), Error> {
    let running = KernelVersion::current()?;
    if feature.available_in(running) {
        Ok(())
    } else {
        Err(Error::KernelTooOld {
            feature: feature.describe(),
            needed: feature.since(),
            running,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_release_strings() {
        let cases = [
            ("6.18.44-fc-v445", KernelVersion::new(6, 18, 44)),
            ("5.15.0-91-generic", KernelVersion::new(5, 15, 0)),
            ("6.1.0-27-amd64", KernelVersion::new(6, 1, 0)),
            ("4.19", KernelVersion::new(4, 19, 0)),
            ("6.9.0-rc3+", KernelVersion::new(6, 9, 0)),
        ];
        for (release, want) in cases {
            assert_eq!(KernelVersion::parse(release), Some(want), "{release}");
        }
        assert_eq!(KernelVersion::parse("garbage"), None);
        assert_eq!(KernelVersion::parse("6"), None);
    }

    #[test]
    fn versions_order_numerically() {
        assert!(KernelVersion::new(5, 18, 0) > KernelVersion::new(5, 9, 99));
        assert!(Feature::XdpLiveFrames.available_in(KernelVersion::new(6, 18, 44)));
        assert!(!Feature::XdpLiveFrames.available_in(KernelVersion::new(5, 15, 0)));
    }

    #[test]
    fn too_old_names_feature_and_version() {
        let err = Error::KernelTooOld {
            feature: Feature::SyscallPrograms.describe(),
            needed: Feature::SyscallPrograms.since(),
            running: KernelVersion::new(5, 10, 0),
        };
        assert_eq!(
            err.to_string(),
            "this kernel (5.10) is too old for syscall-type eBPF programs \
             (BPF_PROG_TYPE_SYSCALL): it needs Linux 5.14 or later"
        );
    }

    #[test]
    fn running_kernel_is_known() {
        let v = KernelVersion::current().unwrap();
        assert!(v.major >= 4, "{v}");
    }
}
