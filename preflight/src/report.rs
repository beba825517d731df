//! A full environment report, as `xdpdbg doctor` prints it.

use crate::{BPFFS_DEFAULT, BpffsState, Capability, Feature, KernelVersion};
use crate::{bpffs_state, has_capability};
use std::path::Path;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Ok,
    /// Some feature will be missing; the tools still run.
    Warn,
    /// The tools cannot work until this is fixed.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// The outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it, when the status is not `Ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        if self.status != Status::Ok {
            self.hint = Some(hint.into());
        }
        self
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Runs every check and returns them in a stable order.
pub fn run_checks() -> Vec<Check> {
    let mut checks = Vec::new();

    let kernel = KernelVersion::current();
    checks.push(match &kernel {
        Ok(v) if *v >= KernelVersion::new(5, 15, 0) => {
            Check::new("kernel", Status::Ok, format!("Linux {v}"))
        }
        Ok(v) => Check::new("kernel", Status::Warn, format!("Linux {v}"))
            .hint("the switch needs Linux 5.15 or later; some tools lose features (see below)"),
        Err(e) => Check::new("kernel", Status::Fail, e.to_string()),
    });
    if let Ok(v) = kernel {
        for feature in Feature::ALL {
            let ok = feature.available_in(v);
            checks.push(
                Check::new(
                    format!("feature: {}", feature.describe()),
                    if ok { Status::Ok } else { Status::Warn },
                    format!("since Linux {}", feature.since()),
                )
                .hint(format!("upgrade to Linux {} or later", feature.since())),
            );
        }
    }

    let btf = Path::new("/sys/kernel/btf/vmlinux").is_file();
    checks.push(
        Check::new(
            "kernel BTF",
            if btf { Status::Ok } else { Status::Warn },
            if btf {
                "/sys/kernel/btf/vmlinux"
            } else {
                "missing"
            },
        )
        .hint("build the kernel with CONFIG_DEBUG_INFO_BTF=y for CO-RE and typed kernel data"),
    );

    let state = bpffs_state(BPFFS_DEFAULT);
    checks.push(
        Check::new(
            format!("bpffs at {BPFFS_DEFAULT}"),
            if state == BpffsState::Mounted {
                Status::Ok
            } else {
                Status::Fail
            },
            state.to_string(),
        )
        .hint(format!(
            "xdpdbg doctor --fix, or mount -t bpf bpf {BPFFS_DEFAULT}"
        )),
    );

    for cap in [
        Capability::Bpf,
        Capability::NetAdmin,
        Capability::Perfmon,
        Capability::SysAdmin,
    ] {
        let ok = has_capability(cap);
        checks.push(
            Check::new(
                cap.name(),
                if ok { Status::Ok } else { Status::Fail },
                if ok { "present" } else { "missing" },
            )
            .hint("run as root, for example with sudo"),
        );
    }

    let jit = read_trimmed("/proc/sys/net/core/bpf_jit_enable");
    checks.push(
        Check::new(
            "BPF JIT",
            if jit.as_deref() == Some("0") {
                Status::Warn
            } else {
                Status::Ok
            },
            match jit.as_deref() {
                Some("0") => "disabled (programs are interpreted)".to_string(),
                Some(v) => format!("bpf_jit_enable={v}"),
                None => "always on (no sysctl)".to_string(),
            },
        )
        .hint("sysctl -w net.core.bpf_jit_enable=1 (profiling needs JITed programs)"),
    );

    for (program, package, needed) in [
        ("ip", "iproute2", true),
        ("bridge", "iproute2", true),
        ("bpftool", "bpftool", false),
        ("iperf3", "iperf3", false),
    ] {
        let found = on_path(program);
        let status = match (found, needed) {
            (true, _) => Status::Ok,
            (false, true) => Status::Fail,
            (false, false) => Status::Warn,
        };
        checks.push(
            Check::new(
                format!("tool: {program}"),
                status,
                if found { "found" } else { "not found on PATH" },
            )
            .hint(format!("apt-get install {package}")),
        );
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_covers_the_basics_and_hints_only_problems() {
        let checks = run_checks();
        for name in ["kernel", "CAP_BPF", "CAP_NET_ADMIN", "tool: ip"] {
            assert!(checks.iter().any(|c| c.name == name), "no {name} check");
        }
        assert!(checks.iter().any(|c| c.name.starts_with("bpffs at ")));
        for c in &checks {
            assert_eq!(c.hint.is_some(), c.status != Status::Ok, "{c:?}");
        }
    }
}
