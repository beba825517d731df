//! What the kernel needs to know about a program's kind to verify it: its type, the attach type
//! it is verified for and its load flags, all read from its ELF section (`SEC("xdp")`).

use aya_obj::ProgramSection;
use aya_obj::generated::{BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, bpf_attach_type, bpf_prog_type};

/// A program kind this tool can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kind {
    /// The program type.
    pub prog_type: bpf_prog_type,
    /// The expected attach type, when the type takes one.
    pub expected_attach_type: Option<bpf_attach_type>,
    /// `BPF_F_*` load flags.
    pub flags: u32,
    /// The type as aya names it (`Xdp`, `SchedClassifier`).
    pub name: &'static str,
}

impl Kind {
    const fn new(prog_type: bpf_prog_type, name: &'static str) -> Self {
        Self {
            prog_type,
            expected_attach_type: None,
            flags: 0,
            name,
        }
    }

    fn attach(self, attach: impl Into<bpf_attach_type>) -> Self {
        Self {
            expected_attach_type: Some(attach.into()),
            ..self
        }
    }

    const fn flags(self, flags: u32) -> Self {
        Self { flags, ..self }
    }
}

/// A program this tool cannot verify on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unloadable {
    /// The program type as aya names it (`Tracing`, `Lsm`).
    pub program_type: &'static str,
    /// Why, and what to do instead.
    pub reason: String,
}

/// The kind of a program in `section`, or why it cannot be verified on its own: programs that
/// attach to a kernel function or another program (fentry, LSM, BTF tracepoints, iterators,
/// extensions) need a target named at load time.
pub(crate) fn of(section: &ProgramSection) -> Result<Kind, Unloadable> {
    use bpf_attach_type::*;
    use bpf_prog_type::*;
    let sleepable = |yes: bool| if yes { BPF_F_SLEEPABLE } else { 0 };
    Ok(match section {
        ProgramSection::KProbe | ProgramSection::KRetProbe => {
            Kind::new(BPF_PROG_TYPE_KPROBE, "KProbe")
        }
        ProgramSection::UProbe { sleepable: s } | ProgramSection::URetProbe { sleepable: s } => {
            Kind::new(BPF_PROG_TYPE_KPROBE, "KProbe").flags(sleepable(*s))
        }
        ProgramSection::TracePoint => Kind::new(BPF_PROG_TYPE_TRACEPOINT, "TracePoint"),
        ProgramSection::SocketFilter => Kind::new(BPF_PROG_TYPE_SOCKET_FILTER, "SocketFilter"),
        ProgramSection::Xdp { frags, attach_type } => {
            let kind = Kind::new(BPF_PROG_TYPE_XDP, "Xdp").attach(*attach_type);
            if *frags {
                kind.flags(BPF_F_XDP_HAS_FRAGS)
            } else {
                kind
            }
        }
        ProgramSection::SkMsg => {
            Kind::new(BPF_PROG_TYPE_SK_MSG, "SkMsg").attach(BPF_SK_MSG_VERDICT)
        }
        ProgramSection::SkSkbStream { .. } => Kind::new(BPF_PROG_TYPE_SK_SKB, "SkSkb"),
        ProgramSection::SockOps => {
            Kind::new(BPF_PROG_TYPE_SOCK_OPS, "SockOps").attach(BPF_CGROUP_SOCK_OPS)
        }
        ProgramSection::SchedClassifier => Kind::new(BPF_PROG_TYPE_SCHED_CLS, "SchedClassifier"),
        ProgramSection::CgroupSkb { attach_type } => {
            let kind = Kind::new(BPF_PROG_TYPE_CGROUP_SKB, "CgroupSkb");
            match attach_type {
                Some(a) => kind.attach(*a),
                None => kind,
            }
        }
        ProgramSection::CgroupSockAddr { attach_type } => {
            Kind::new(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "CgroupSockAddr").attach(*attach_type)
        }
        ProgramSection::CgroupSysctl => {
            Kind::new(BPF_PROG_TYPE_CGROUP_SYSCTL, "CgroupSysctl").attach(BPF_CGROUP_SYSCTL)
        }
        ProgramSection::CgroupSockopt { attach_type } => {
            Kind::new(BPF_PROG_TYPE_CGROUP_SOCKOPT, "CgroupSockopt").attach(*attach_type)
        }
        ProgramSection::LircMode2 => {
            Kind::new(BPF_PROG_TYPE_LIRC_MODE2, "LircMode2").attach(BPF_LIRC_MODE2)
        }
        ProgramSection::PerfEvent => Kind::new(BPF_PROG_TYPE_PERF_EVENT, "PerfEvent"),
        ProgramSection::RawTracePoint => Kind::new(BPF_PROG_TYPE_RAW_TRACEPOINT, "RawTracePoint"),
        ProgramSection::FlowDissector => {
            Kind::new(BPF_PROG_TYPE_FLOW_DISSECTOR, "FlowDissector").attach(BPF_FLOW_DISSECTOR)
        }
        ProgramSection::SkLookup => {
            Kind::new(BPF_PROG_TYPE_SK_LOOKUP, "SkLookup").attach(BPF_SK_LOOKUP)
        }
        ProgramSection::SkReuseport { attach_type } => {
            Kind::new(BPF_PROG_TYPE_SK_REUSEPORT, "SkReuseport").attach(*attach_type)
        }
        ProgramSection::CgroupSock { attach_type } => {
            Kind::new(BPF_PROG_TYPE_CGROUP_SOCK, "CgroupSock").attach(*attach_type)
        }
        ProgramSection::CgroupDevice => {
            Kind::new(BPF_PROG_TYPE_CGROUP_DEVICE, "CgroupDevice").attach(BPF_CGROUP_DEVICE)
        }
        ProgramSection::Lsm { .. } | ProgramSection::LsmCgroup => {
            return Err(needs_target("Lsm", "LSM"));
        }
        ProgramSection::BtfTracePoint => return Err(needs_target("Tracing", "BTF tracepoint")),
        ProgramSection::FEntry { .. } => return Err(needs_target("Tracing", "fentry")),
        ProgramSection::FExit { .. } => return Err(needs_target("Tracing", "fexit")),
        ProgramSection::Extension => return Err(needs_target("Extension", "freplace")),
        ProgramSection::Iter { .. } => return Err(needs_target("Tracing", "iterator")),
    })
}

/// The kind of the program in the ELF section called `name` (`xdp`, `classifier/ingress`), for
/// a log explained without loading.
pub(crate) fn of_section_name(name: &str) -> Option<Kind> {
    // libbpf's spellings of TC sections, which aya names `classifier`.
    let kind = name.split('/').next().unwrap_or(name);
    if matches!(
        kind,
        "tc" | "tcx" | "tc.ingress" | "tc.egress" | "tcx.ingress" | "tcx.egress"
    ) {
        return Some(Kind::new(
            bpf_prog_type::BPF_PROG_TYPE_SCHED_CLS,
            "SchedClassifier",
        ));
    }
    of(&name.parse().ok()?).ok()
}

fn needs_target(program_type: &'static str, what: &str) -> Unloadable {
    Unloadable {
        program_type,
        reason: format!(
            "{what} programs are verified against the kernel function or program they attach \
             to, which is named only at attach time; explain their verifier log with --log"
        ),
    }
}
