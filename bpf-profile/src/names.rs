//! The names bpftool prints for the kernel's program, attach and link types.
//!
//! The kernel reports these as numbers; unknown numbers (a kernel newer than this table) are
//! named `unknown`, never a panic.

use aya_obj::generated::{bpf_attach_type as A, bpf_link_type as L, bpf_prog_type as P};

const PROG_TYPES: &[(P, &str)] = &[
    (P::BPF_PROG_TYPE_UNSPEC, "unspec"),
    (P::BPF_PROG_TYPE_SOCKET_FILTER, "socket_filter"),
    (P::BPF_PROG_TYPE_KPROBE, "kprobe"),
    (P::BPF_PROG_TYPE_SCHED_CLS, "sched_cls"),
    (P::BPF_PROG_TYPE_SCHED_ACT, "sched_act"),
    (P::BPF_PROG_TYPE_TRACEPOINT, "tracepoint"),
    (P::BPF_PROG_TYPE_XDP, "xdp"),
    (P::BPF_PROG_TYPE_PERF_EVENT, "perf_event"),
    (P::BPF_PROG_TYPE_CGROUP_SKB, "cgroup_skb"),
    (P::BPF_PROG_TYPE_CGROUP_SOCK, "cgroup_sock"),
    (P::BPF_PROG_TYPE_LWT_IN, "lwt_in"),
    (P::BPF_PROG_TYPE_LWT_OUT, "lwt_out"),
    (P::BPF_PROG_TYPE_LWT_XMIT, "lwt_xmit"),
    (P::BPF_PROG_TYPE_SOCK_OPS, "sock_ops"),
    (P::BPF_PROG_TYPE_SK_SKB, "sk_skb"),
    (P::BPF_PROG_TYPE_CGROUP_DEVICE, "cgroup_device"),
    (P::BPF_PROG_TYPE_SK_MSG, "sk_msg"),
    (P::BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tracepoint"),
    (P::BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "cgroup_sock_addr"),
    (P::BPF_PROG_TYPE_LWT_SEG6LOCAL, "lwt_seg6local"),
    (P::BPF_PROG_TYPE_LIRC_MODE2, "lirc_mode2"),
    (P::BPF_PROG_TYPE_SK_REUSEPORT, "sk_reuseport"),
    (P::BPF_PROG_TYPE_FLOW_DISSECTOR, "flow_dissector"),
    (P::BPF_PROG_TYPE_CGROUP_SYSCTL, "cgroup_sysctl"),
    (
        P::BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
        "raw_tracepoint_writable",
    ),
    (P::BPF_PROG_TYPE_CGROUP_SOCKOPT, "cgroup_sockopt"),
    (P::BPF_PROG_TYPE_TRACING, "tracing"),
    (P::BPF_PROG_TYPE_STRUCT_OPS, "struct_ops"),
    (P::BPF_PROG_TYPE_EXT, "ext"),
    (P::BPF_PROG_TYPE_LSM, "lsm"),
    (P::BPF_PROG_TYPE_SK_LOOKUP, "sk_lookup"),
    (P::BPF_PROG_TYPE_SYSCALL, "syscall"),
    (P::BPF_PROG_TYPE_NETFILTER, "netfilter"),
];

const ATTACH_TYPES: &[(A, &str)] = &[
    (A::BPF_CGROUP_INET_INGRESS, "cgroup_inet_ingress"),
    (A::BPF_CGROUP_INET_EGRESS, "cgroup_inet_egress"),
    (A::BPF_CGROUP_INET_SOCK_CREATE, "cgroup_inet_sock_create"),
    (A::BPF_CGROUP_SOCK_OPS, "cgroup_sock_ops"),
    (A::BPF_SK_SKB_STREAM_PARSER, "sk_skb_stream_parser"),
    (A::BPF_SK_SKB_STREAM_VERDICT, "sk_skb_stream_verdict"),
    (A::BPF_CGROUP_DEVICE, "cgroup_device"),
    (A::BPF_SK_MSG_VERDICT, "sk_msg_verdict"),
    (A::BPF_CGROUP_INET4_BIND, "cgroup_inet4_bind"),
    (A::BPF_CGROUP_INET6_BIND, "cgroup_inet6_bind"),
    (A::BPF_CGROUP_INET4_CONNECT, "cgroup_inet4_connect"),
    (A::BPF_CGROUP_INET6_CONNECT, "cgroup_inet6_connect"),
    (A::BPF_CGROUP_INET4_POST_BIND, "cgroup_inet4_post_bind"),
    (A::BPF_CGROUP_INET6_POST_BIND, "cgroup_inet6_post_bind"),
    (A::BPF_CGROUP_UDP4_SENDMSG, "cgroup_udp4_sendmsg"),
    (A::BPF_CGROUP_UDP6_SENDMSG, "cgroup_udp6_sendmsg"),
    (A::BPF_LIRC_MODE2, "lirc_mode2"),
    (A::BPF_FLOW_DISSECTOR, "flow_dissector"),
    (A::BPF_CGROUP_SYSCTL, "cgroup_sysctl"),
    (A::BPF_CGROUP_UDP4_RECVMSG, "cgroup_udp4_recvmsg"),
    (A::BPF_CGROUP_UDP6_RECVMSG, "cgroup_udp6_recvmsg"),
    (A::BPF_CGROUP_GETSOCKOPT, "cgroup_getsockopt"),
    (A::BPF_CGROUP_SETSOCKOPT, "cgroup_setsockopt"),
    (A::BPF_TRACE_RAW_TP, "trace_raw_tp"),
    (A::BPF_TRACE_FENTRY, "trace_fentry"),
    (A::BPF_TRACE_FEXIT, "trace_fexit"),
    (A::BPF_MODIFY_RETURN, "modify_return"),
    (A::BPF_LSM_MAC, "lsm_mac"),
    (A::BPF_TRACE_ITER, "trace_iter"),
    (A::BPF_CGROUP_INET4_GETPEERNAME, "cgroup_inet4_getpeername"),
    (A::BPF_CGROUP_INET6_GETPEERNAME, "cgroup_inet6_getpeername"),
    (A::BPF_CGROUP_INET4_GETSOCKNAME, "cgroup_inet4_getsockname"),
    (A::BPF_CGROUP_INET6_GETSOCKNAME, "cgroup_inet6_getsockname"),
    (A::BPF_XDP_DEVMAP, "xdp_devmap"),
    (A::BPF_CGROUP_INET_SOCK_RELEASE, "cgroup_inet_sock_release"),
    (A::BPF_XDP_CPUMAP, "xdp_cpumap"),
    (A::BPF_SK_LOOKUP, "sk_lookup"),
    (A::BPF_XDP, "xdp"),
    (A::BPF_SK_SKB_VERDICT, "sk_skb_verdict"),
    (A::BPF_SK_REUSEPORT_SELECT, "sk_reuseport_select"),
    (
        A::BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
        "sk_reuseport_select_or_migrate",
    ),
    (A::BPF_PERF_EVENT, "perf_event"),
    (A::BPF_TRACE_KPROBE_MULTI, "trace_kprobe_multi"),
    (A::BPF_LSM_CGROUP, "lsm_cgroup"),
    (A::BPF_STRUCT_OPS, "struct_ops"),
    (A::BPF_NETFILTER, "netfilter"),
    (A::BPF_TCX_INGRESS, "tcx_ingress"),
    (A::BPF_TCX_EGRESS, "tcx_egress"),
    (A::BPF_TRACE_UPROBE_MULTI, "trace_uprobe_multi"),
    (A::BPF_CGROUP_UNIX_CONNECT, "cgroup_unix_connect"),
    (A::BPF_CGROUP_UNIX_SENDMSG, "cgroup_unix_sendmsg"),
    (A::BPF_CGROUP_UNIX_RECVMSG, "cgroup_unix_recvmsg"),
    (A::BPF_CGROUP_UNIX_GETPEERNAME, "cgroup_unix_getpeername"),
    (A::BPF_CGROUP_UNIX_GETSOCKNAME, "cgroup_unix_getsockname"),
    (A::BPF_NETKIT_PRIMARY, "netkit_primary"),
    (A::BPF_NETKIT_PEER, "netkit_peer"),
];

const LINK_TYPES: &[(L, &str)] = &[
    (L::BPF_LINK_TYPE_UNSPEC, "unspec"),
    (L::BPF_LINK_TYPE_RAW_TRACEPOINT, "raw_tracepoint"),
    (L::BPF_LINK_TYPE_TRACING, "tracing"),
    (L::BPF_LINK_TYPE_CGROUP, "cgroup"),
    (L::BPF_LINK_TYPE_ITER, "iter"),
    (L::BPF_LINK_TYPE_NETNS, "netns"),
    (L::BPF_LINK_TYPE_XDP, "xdp"),
    (L::BPF_LINK_TYPE_PERF_EVENT, "perf_event"),
    (L::BPF_LINK_TYPE_KPROBE_MULTI, "kprobe_multi"),
    (L::BPF_LINK_TYPE_STRUCT_OPS, "struct_ops"),
    (L::BPF_LINK_TYPE_NETFILTER, "netfilter"),
    (L::BPF_LINK_TYPE_TCX, "tcx"),
    (L::BPF_LINK_TYPE_UPROBE_MULTI, "uprobe_multi"),
    (L::BPF_LINK_TYPE_NETKIT, "netkit"),
];

/// The name of a program type (`enum bpf_prog_type`), as bpftool prints it: `xdp`, `sched_cls`...
pub fn prog_type(value: u32) -> &'static str {
    PROG_TYPES
        .iter()
        .find(|(t, _)| *t as u32 == value)
        .map_or("unknown", |(_, name)| name)
}

/// The name of an attach type (`enum bpf_attach_type`): `tcx_ingress`, `cgroup_inet_egress`...
pub fn attach_type(value: u32) -> &'static str {
    ATTACH_TYPES
        .iter()
        .find(|(t, _)| *t as u32 == value)
        .map_or("unknown", |(_, name)| name)
}

/// The name of a link type (`enum bpf_link_type`): `xdp`, `tcx`, `perf_event`...
pub fn link_type(value: u32) -> &'static str {
    LINK_TYPES
        .iter()
        .find(|(t, _)| *t as u32 == value)
        .map_or("unknown", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_numbers() {
        assert_eq!(prog_type(6), "xdp");
        assert_eq!(prog_type(3), "sched_cls");
        assert_eq!(prog_type(9999), "unknown");
        assert_eq!(attach_type(46), "tcx_ingress");
        assert_eq!(link_type(6), "xdp");
        assert_eq!(link_type(9999), "unknown");
    }
}
