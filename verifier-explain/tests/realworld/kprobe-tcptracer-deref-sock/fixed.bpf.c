#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct sock_common {
	unsigned short skc_family;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct sock *);
} connectsock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u16);
} families SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int trace_connect_v4_entry(struct pt_regs *ctx)
{
	struct sock *sk = (struct sock *)PT_REGS_PARM1(ctx);
	__u64 pid = bpf_get_current_pid_tgid();

	bpf_map_update_elem(&connectsock, &pid, &sk, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int trace_connect_v4_return(struct pt_regs *ctx)
{
	int ret = PT_REGS_RC(ctx);
	__u64 pid = bpf_get_current_pid_tgid();
	struct sock **skpp;

	skpp = bpf_map_lookup_elem(&connectsock, &pid);
	if (skpp == 0)
		return 0;
	bpf_map_delete_elem(&connectsock, &pid);
	if (ret != 0)
		return 0;

	struct sock *skp = *skpp;
	__u16 family = BPF_CORE_READ(skp, __sk_common.skc_family);

	bpf_map_update_elem(&families, &pid, &family, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
