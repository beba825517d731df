//! What the kernel needs to know about a program's kind to verify it: its type, the attach type
//! it is verified for and its load flags, all read from its ELF section (`SEC("xdp")`) exactly
//! as libbpf reads it: [`SECTIONS`] is libbpf's own table (`section_defs[]` in `libbpf.c`,
//! libbpf 1.5), in its order, matched with its rules (see [`of_section_name`]).

use aya_obj::generated::{BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, bpf_attach_type, bpf_prog_type};

/// A program kind this tool can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kind {
    /// The program type (`BPF_PROG_TYPE_*`).
    pub prog_type: u32,
    /// The expected attach type libbpf passes (`BPF_*`; 0 when the section names none).
    pub expected_attach_type: u32,
    /// `BPF_F_*` load flags.
    pub flags: u32,
    /// The type as aya names it (`Xdp`, `SchedClassifier`); types aya has no name for are
    /// named the same way after the kernel's (`SchedAction`, `Netfilter`).
    pub name: &'static str,
}

/// A program this tool cannot verify on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unloadable {
    /// The program type as aya names it (`Tracing`, `Lsm`).
    pub program_type: &'static str,
    /// Why, and what to do instead.
    pub reason: String,
}

/// Whether this tool can verify a kind of program alone, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Support {
    /// Loads as it is.
    Loads,
    /// Verified against a kernel function or program, found by libbpf at load time (its
    /// `SEC_ATTACH_BTF`); the words say which kind of program it is.
    NeedsTarget(&'static str),
    /// A `struct_ops` program, verified as a member of its struct_ops map.
    StructOps,
}

/// One row of libbpf's section table.
struct SectionDef {
    /// libbpf's pattern: `name` exactly, `name+` for `name` or `name/anything`.
    pattern: &'static str,
    prog_type: bpf_prog_type,
    attach: u32,
    flags: u32,
    name: &'static str,
    support: Support,
}

const fn def(
    pattern: &'static str,
    prog_type: bpf_prog_type,
    attach: u32,
    flags: u32,
    name: &'static str,
) -> SectionDef {
    SectionDef {
        pattern,
        prog_type,
        attach,
        flags,
        name,
        support: Support::Loads,
    }
}

const fn needs_target(
    pattern: &'static str,
    prog_type: bpf_prog_type,
    attach: u32,
    flags: u32,
    what: &'static str,
) -> SectionDef {
    let name = match prog_type {
        bpf_prog_type::BPF_PROG_TYPE_EXT => "Extension",
        bpf_prog_type::BPF_PROG_TYPE_LSM => "Lsm",
        _ => "Tracing",
    };
    SectionDef {
        pattern,
        prog_type,
        attach,
        flags,
        name,
        support: Support::NeedsTarget(what),
    }
}

use bpf_attach_type::*;
use bpf_prog_type::*;

/// `bpf_attach_type` values newer than aya-obj's bindings (kernel 6.10+).
const BPF_TRACE_KPROBE_SESSION: u32 = BPF_NETKIT_PEER as u32 + 1;
const BPF_TRACE_UPROBE_SESSION: u32 = BPF_NETKIT_PEER as u32 + 2;

const SLEEPABLE: u32 = BPF_F_SLEEPABLE;
const FRAGS: u32 = BPF_F_XDP_HAS_FRAGS;

/// libbpf's `section_defs[]`, in its order (the first match wins).
const SECTIONS: &[SectionDef] = &[
    def("socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, "SocketFilter"),
    def(
        "sk_reuseport/migrate",
        BPF_PROG_TYPE_SK_REUSEPORT,
        BPF_SK_REUSEPORT_SELECT_OR_MIGRATE as u32,
        0,
        "SkReuseport",
    ),
    def(
        "sk_reuseport",
        BPF_PROG_TYPE_SK_REUSEPORT,
        BPF_SK_REUSEPORT_SELECT as u32,
        0,
        "SkReuseport",
    ),
    def("kprobe+", BPF_PROG_TYPE_KPROBE, 0, 0, "KProbe"),
    def("uprobe+", BPF_PROG_TYPE_KPROBE, 0, 0, "UProbe"),
    def("uprobe.s+", BPF_PROG_TYPE_KPROBE, 0, SLEEPABLE, "UProbe"),
    def("kretprobe+", BPF_PROG_TYPE_KPROBE, 0, 0, "KProbe"),
    def("uretprobe+", BPF_PROG_TYPE_KPROBE, 0, 0, "UProbe"),
    def("uretprobe.s+", BPF_PROG_TYPE_KPROBE, 0, SLEEPABLE, "UProbe"),
    def(
        "kprobe.multi+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_KPROBE_MULTI as u32,
        0,
        "KProbe",
    ),
    def(
        "kretprobe.multi+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_KPROBE_MULTI as u32,
        0,
        "KProbe",
    ),
    def(
        "kprobe.session+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_KPROBE_SESSION,
        0,
        "KProbe",
    ),
    def(
        "uprobe.multi+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_UPROBE_MULTI as u32,
        0,
        "UProbe",
    ),
    def(
        "uretprobe.multi+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_UPROBE_MULTI as u32,
        0,
        "UProbe",
    ),
    def(
        "uprobe.session+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_UPROBE_SESSION,
        0,
        "UProbe",
    ),
    def(
        "uprobe.multi.s+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_UPROBE_MULTI as u32,
        SLEEPABLE,
        "UProbe",
    ),
    def(
        "uretprobe.multi.s+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_UPROBE_MULTI as u32,
        SLEEPABLE,
        "UProbe",
    ),
    def(
        "uprobe.session.s+",
        BPF_PROG_TYPE_KPROBE,
        BPF_TRACE_UPROBE_SESSION,
        SLEEPABLE,
        "UProbe",
    ),
    def("ksyscall+", BPF_PROG_TYPE_KPROBE, 0, 0, "KProbe"),
    def("kretsyscall+", BPF_PROG_TYPE_KPROBE, 0, 0, "KProbe"),
    def("usdt+", BPF_PROG_TYPE_KPROBE, 0, 0, "UProbe"),
    def("usdt.s+", BPF_PROG_TYPE_KPROBE, 0, SLEEPABLE, "UProbe"),
    def(
        "tc/ingress",
        BPF_PROG_TYPE_SCHED_CLS,
        BPF_TCX_INGRESS as u32,
        0,
        "SchedClassifier",
    ),
    def(
        "tc/egress",
        BPF_PROG_TYPE_SCHED_CLS,
        BPF_TCX_EGRESS as u32,
        0,
        "SchedClassifier",
    ),
    def(
        "tcx/ingress",
        BPF_PROG_TYPE_SCHED_CLS,
        BPF_TCX_INGRESS as u32,
        0,
        "SchedClassifier",
    ),
    def(
        "tcx/egress",
        BPF_PROG_TYPE_SCHED_CLS,
        BPF_TCX_EGRESS as u32,
        0,
        "SchedClassifier",
    ),
    def("tc", BPF_PROG_TYPE_SCHED_CLS, 0, 0, "SchedClassifier"),
    def(
        "classifier",
        BPF_PROG_TYPE_SCHED_CLS,
        0,
        0,
        "SchedClassifier",
    ),
    def("action", BPF_PROG_TYPE_SCHED_ACT, 0, 0, "SchedAction"),
    def(
        "netkit/primary",
        BPF_PROG_TYPE_SCHED_CLS,
        BPF_NETKIT_PRIMARY as u32,
        0,
        "SchedClassifier",
    ),
    def(
        "netkit/peer",
        BPF_PROG_TYPE_SCHED_CLS,
        BPF_NETKIT_PEER as u32,
        0,
        "SchedClassifier",
    ),
    def("tracepoint+", BPF_PROG_TYPE_TRACEPOINT, 0, 0, "TracePoint"),
    def("tp+", BPF_PROG_TYPE_TRACEPOINT, 0, 0, "TracePoint"),
    def(
        "raw_tracepoint+",
        BPF_PROG_TYPE_RAW_TRACEPOINT,
        0,
        0,
        "RawTracePoint",
    ),
    def(
        "raw_tp+",
        BPF_PROG_TYPE_RAW_TRACEPOINT,
        0,
        0,
        "RawTracePoint",
    ),
    def(
        "raw_tracepoint.w+",
        BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
        0,
        0,
        "RawTracePointWritable",
    ),
    def(
        "raw_tp.w+",
        BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
        0,
        0,
        "RawTracePointWritable",
    ),
    needs_target(
        "tp_btf+",
        BPF_PROG_TYPE_TRACING,
        BPF_TRACE_RAW_TP as u32,
        0,
        "BTF tracepoint",
    ),
    needs_target(
        "fentry+",
        BPF_PROG_TYPE_TRACING,
        BPF_TRACE_FENTRY as u32,
        0,
        "fentry",
    ),
    needs_target(
        "fmod_ret+",
        BPF_PROG_TYPE_TRACING,
        BPF_MODIFY_RETURN as u32,
        0,
        "fmod_ret",
    ),
    needs_target(
        "fexit+",
        BPF_PROG_TYPE_TRACING,
        BPF_TRACE_FEXIT as u32,
        0,
        "fexit",
    ),
    needs_target(
        "fentry.s+",
        BPF_PROG_TYPE_TRACING,
        BPF_TRACE_FENTRY as u32,
        SLEEPABLE,
        "fentry",
    ),
    needs_target(
        "fmod_ret.s+",
        BPF_PROG_TYPE_TRACING,
        BPF_MODIFY_RETURN as u32,
        SLEEPABLE,
        "fmod_ret",
    ),
    needs_target(
        "fexit.s+",
        BPF_PROG_TYPE_TRACING,
        BPF_TRACE_FEXIT as u32,
        SLEEPABLE,
        "fexit",
    ),
    needs_target("freplace+", BPF_PROG_TYPE_EXT, 0, 0, "freplace"),
    needs_target("lsm+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC as u32, 0, "LSM"),
    needs_target(
        "lsm.s+",
        BPF_PROG_TYPE_LSM,
        BPF_LSM_MAC as u32,
        SLEEPABLE,
        "LSM",
    ),
    needs_target(
        "lsm_cgroup+",
        BPF_PROG_TYPE_LSM,
        BPF_LSM_CGROUP as u32,
        0,
        "LSM",
    ),
    needs_target(
        "iter+",
        BPF_PROG_TYPE_TRACING,
        BPF_TRACE_ITER as u32,
        0,
        "iterator",
    ),
    needs_target(
        "iter.s+",
        BPF_PROG_TYPE_TRACING,
        BPF_TRACE_ITER as u32,
        SLEEPABLE,
        "iterator",
    ),
    def("syscall", BPF_PROG_TYPE_SYSCALL, 0, SLEEPABLE, "Syscall"),
    def(
        "xdp.frags/devmap",
        BPF_PROG_TYPE_XDP,
        BPF_XDP_DEVMAP as u32,
        FRAGS,
        "Xdp",
    ),
    def(
        "xdp/devmap",
        BPF_PROG_TYPE_XDP,
        BPF_XDP_DEVMAP as u32,
        0,
        "Xdp",
    ),
    def(
        "xdp.frags/cpumap",
        BPF_PROG_TYPE_XDP,
        BPF_XDP_CPUMAP as u32,
        FRAGS,
        "Xdp",
    ),
    def(
        "xdp/cpumap",
        BPF_PROG_TYPE_XDP,
        BPF_XDP_CPUMAP as u32,
        0,
        "Xdp",
    ),
    def("xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP as u32, FRAGS, "Xdp"),
    def("xdp", BPF_PROG_TYPE_XDP, BPF_XDP as u32, 0, "Xdp"),
    def("perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, 0, "PerfEvent"),
    def("lwt_in", BPF_PROG_TYPE_LWT_IN, 0, 0, "LwtIn"),
    def("lwt_out", BPF_PROG_TYPE_LWT_OUT, 0, 0, "LwtOut"),
    def("lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0, 0, "LwtXmit"),
    def(
        "lwt_seg6local",
        BPF_PROG_TYPE_LWT_SEG6LOCAL,
        0,
        0,
        "LwtSeg6local",
    ),
    def(
        "sockops",
        BPF_PROG_TYPE_SOCK_OPS,
        BPF_CGROUP_SOCK_OPS as u32,
        0,
        "SockOps",
    ),
    def(
        "sk_skb/stream_parser",
        BPF_PROG_TYPE_SK_SKB,
        BPF_SK_SKB_STREAM_PARSER as u32,
        0,
        "SkSkb",
    ),
    def(
        "sk_skb/stream_verdict",
        BPF_PROG_TYPE_SK_SKB,
        BPF_SK_SKB_STREAM_VERDICT as u32,
        0,
        "SkSkb",
    ),
    def(
        "sk_skb/verdict",
        BPF_PROG_TYPE_SK_SKB,
        BPF_SK_SKB_VERDICT as u32,
        0,
        "SkSkb",
    ),
    def("sk_skb", BPF_PROG_TYPE_SK_SKB, 0, 0, "SkSkb"),
    def(
        "sk_msg",
        BPF_PROG_TYPE_SK_MSG,
        BPF_SK_MSG_VERDICT as u32,
        0,
        "SkMsg",
    ),
    def(
        "lirc_mode2",
        BPF_PROG_TYPE_LIRC_MODE2,
        BPF_LIRC_MODE2 as u32,
        0,
        "LircMode2",
    ),
    def(
        "flow_dissector",
        BPF_PROG_TYPE_FLOW_DISSECTOR,
        BPF_FLOW_DISSECTOR as u32,
        0,
        "FlowDissector",
    ),
    def(
        "cgroup_skb/ingress",
        BPF_PROG_TYPE_CGROUP_SKB,
        BPF_CGROUP_INET_INGRESS as u32,
        0,
        "CgroupSkb",
    ),
    def(
        "cgroup_skb/egress",
        BPF_PROG_TYPE_CGROUP_SKB,
        BPF_CGROUP_INET_EGRESS as u32,
        0,
        "CgroupSkb",
    ),
    def("cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, 0, 0, "CgroupSkb"),
    def(
        "cgroup/sock_create",
        BPF_PROG_TYPE_CGROUP_SOCK,
        BPF_CGROUP_INET_SOCK_CREATE as u32,
        0,
        "CgroupSock",
    ),
    def(
        "cgroup/sock_release",
        BPF_PROG_TYPE_CGROUP_SOCK,
        BPF_CGROUP_INET_SOCK_RELEASE as u32,
        0,
        "CgroupSock",
    ),
    def(
        "cgroup/sock",
        BPF_PROG_TYPE_CGROUP_SOCK,
        BPF_CGROUP_INET_SOCK_CREATE as u32,
        0,
        "CgroupSock",
    ),
    def(
        "cgroup/post_bind4",
        BPF_PROG_TYPE_CGROUP_SOCK,
        BPF_CGROUP_INET4_POST_BIND as u32,
        0,
        "CgroupSock",
    ),
    def(
        "cgroup/post_bind6",
        BPF_PROG_TYPE_CGROUP_SOCK,
        BPF_CGROUP_INET6_POST_BIND as u32,
        0,
        "CgroupSock",
    ),
    sock_addr("cgroup/bind4", BPF_CGROUP_INET4_BIND),
    sock_addr("cgroup/bind6", BPF_CGROUP_INET6_BIND),
    sock_addr("cgroup/connect4", BPF_CGROUP_INET4_CONNECT),
    sock_addr("cgroup/connect6", BPF_CGROUP_INET6_CONNECT),
    sock_addr("cgroup/connect_unix", BPF_CGROUP_UNIX_CONNECT),
    sock_addr("cgroup/sendmsg4", BPF_CGROUP_UDP4_SENDMSG),
    sock_addr("cgroup/sendmsg6", BPF_CGROUP_UDP6_SENDMSG),
    sock_addr("cgroup/sendmsg_unix", BPF_CGROUP_UNIX_SENDMSG),
    sock_addr("cgroup/recvmsg4", BPF_CGROUP_UDP4_RECVMSG),
    sock_addr("cgroup/recvmsg6", BPF_CGROUP_UDP6_RECVMSG),
    sock_addr("cgroup/recvmsg_unix", BPF_CGROUP_UNIX_RECVMSG),
    sock_addr("cgroup/getpeername4", BPF_CGROUP_INET4_GETPEERNAME),
    sock_addr("cgroup/getpeername6", BPF_CGROUP_INET6_GETPEERNAME),
    sock_addr("cgroup/getpeername_unix", BPF_CGROUP_UNIX_GETPEERNAME),
    sock_addr("cgroup/getsockname4", BPF_CGROUP_INET4_GETSOCKNAME),
    sock_addr("cgroup/getsockname6", BPF_CGROUP_INET6_GETSOCKNAME),
    sock_addr("cgroup/getsockname_unix", BPF_CGROUP_UNIX_GETSOCKNAME),
    def(
        "cgroup/sysctl",
        BPF_PROG_TYPE_CGROUP_SYSCTL,
        BPF_CGROUP_SYSCTL as u32,
        0,
        "CgroupSysctl",
    ),
    def(
        "cgroup/getsockopt",
        BPF_PROG_TYPE_CGROUP_SOCKOPT,
        BPF_CGROUP_GETSOCKOPT as u32,
        0,
        "CgroupSockopt",
    ),
    def(
        "cgroup/setsockopt",
        BPF_PROG_TYPE_CGROUP_SOCKOPT,
        BPF_CGROUP_SETSOCKOPT as u32,
        0,
        "CgroupSockopt",
    ),
    def(
        "cgroup/dev",
        BPF_PROG_TYPE_CGROUP_DEVICE,
        BPF_CGROUP_DEVICE as u32,
        0,
        "CgroupDevice",
    ),
    struct_ops("struct_ops+", 0),
    struct_ops("struct_ops.s+", SLEEPABLE),
    def(
        "sk_lookup",
        BPF_PROG_TYPE_SK_LOOKUP,
        BPF_SK_LOOKUP as u32,
        0,
        "SkLookup",
    ),
    def(
        "netfilter",
        BPF_PROG_TYPE_NETFILTER,
        BPF_NETFILTER as u32,
        0,
        "Netfilter",
    ),
];

const fn sock_addr(pattern: &'static str, attach: bpf_attach_type) -> SectionDef {
    def(
        pattern,
        BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        attach as u32,
        0,
        "CgroupSockAddr",
    )
}

const fn struct_ops(pattern: &'static str, flags: u32) -> SectionDef {
    SectionDef {
        pattern,
        prog_type: BPF_PROG_TYPE_STRUCT_OPS,
        attach: 0,
        flags,
        name: "StructOps",
        support: Support::StructOps,
    }
}

/// Whether libbpf's pattern matches a section name: `name+` matches `name` and `name/...`,
/// any other pattern only itself (libbpf's `sec_def_matches`).
fn matches(pattern: &str, section: &str) -> bool {
    match pattern.strip_suffix('+') {
        Some(prefix) => section
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        None => pattern == section,
    }
}

/// The program type (as aya names it) and kind of the program in the ELF section called
/// `name`, or why this tool cannot load it: `Err(None)` when libbpf does not know the section
/// either.
pub(crate) fn of_section_name(name: &str) -> Result<Kind, Option<Unloadable>> {
    let def = SECTIONS
        .iter()
        .find(|d| matches(d.pattern, name))
        .ok_or(None)?;
    let unloadable = |reason: String| {
        Some(Unloadable {
            program_type: def.name,
            reason,
        })
    };
    match def.support {
        Support::Loads => Ok(Kind {
            prog_type: def.prog_type as u32,
            expected_attach_type: def.attach,
            flags: def.flags,
            name: def.name,
        }),
        Support::NeedsTarget(what) => Err(unloadable(format!(
            "{what} programs are verified against the kernel function or program they attach \
             to, which libbpf looks up at load time (attach_btf_id, or a target program for \
             freplace); this tool does not load them yet; explain their verifier log with --log"
        ))),
        Support::StructOps => Err(unloadable(
            "struct_ops programs are verified as members of the struct_ops map that holds \
             them, against the kernel structure it implements; explain their verifier log \
             with --log"
                .to_string(),
        )),
    }
}

/// The kind of the program in `section`, or why it cannot be verified on its own.
pub(crate) fn of(section: &str) -> Result<Kind, Unloadable> {
    of_section_name(section).map_err(|why| {
        why.unwrap_or_else(|| Unloadable {
            program_type: "Unspecified",
            reason: format!(
                "libbpf does not know the section `{section}`, so neither it nor this tool can \
                 tell the program's type; name the section as libbpf does (SEC(\"xdp\"), \
                 SEC(\"tc\"), ...)"
            ),
        })
    })
}

/// The aya name of the program type of the ELF section called `name`, known or not loadable.
pub(crate) fn type_name(name: &str) -> Option<&'static str> {
    match of_section_name(name) {
        Ok(kind) => Some(kind.name),
        Err(why) => why.map(|u| u.program_type),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_matched_as_libbpf_matches_them() {
        let kind = |n| of_section_name(n).ok();
        assert_eq!(
            kind("tc").unwrap().prog_type,
            BPF_PROG_TYPE_SCHED_CLS as u32
        );
        assert_eq!(kind("tc").unwrap().expected_attach_type, 0);
        assert_eq!(
            kind("tcx/ingress").unwrap().expected_attach_type,
            BPF_TCX_INGRESS as u32
        );
        assert_eq!(kind("xdp.frags").unwrap().flags, BPF_F_XDP_HAS_FRAGS);
        assert_eq!(kind("xdp").unwrap().expected_attach_type, BPF_XDP as u32);
        assert_eq!(
            kind("xdp/devmap").unwrap().expected_attach_type,
            BPF_XDP_DEVMAP as u32
        );
        assert_eq!(kind("kprobe/do_unlinkat").unwrap().name, "KProbe");
        assert_eq!(kind("kprobe").unwrap().name, "KProbe");
        assert_eq!(kind("uprobe.s/x").unwrap().flags, BPF_F_SLEEPABLE);
        assert_eq!(kind("socket").unwrap().name, "SocketFilter");
        assert_eq!(
            kind("cgroup/connect_unix").unwrap().expected_attach_type,
            BPF_CGROUP_UNIX_CONNECT as u32
        );
        // Exact names take nothing after them; `name+` needs a `/` before its extras.
        assert!(kind("xdp/foo").is_none());
        assert!(kind("socketx").is_none());
        assert!(kind("kprobefoo").is_none());
        assert!(matches!(of_section_name("fentry/x"), Err(Some(u)) if u.program_type == "Tracing"));
        assert!(
            matches!(of_section_name("struct_ops/x"), Err(Some(u)) if u.program_type == "StructOps")
        );
        assert_eq!(of_section_name("nonsense"), Err(None));
    }
}
