#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

typedef __u32 u32;

struct sock_common {
	__be32 skc_daddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, struct sock *);
} currsock SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int kprobe__tcp_v4_connect(struct pt_regs *ctx)
{
	struct sock *sk = (struct sock *)PT_REGS_PARM1(ctx);
	u32 pid = bpf_get_current_pid_tgid();

	bpf_map_update_elem(&currsock, &pid, &sk, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int kretprobe__tcp_v4_connect(struct pt_regs *ctx)
{
	u32 pid = bpf_get_current_pid_tgid();
	struct sock **skpp;

	skpp = bpf_map_lookup_elem(&currsock, &pid);
	if (skpp) {
		struct sock *skp = *skpp;
		bpf_printk("addr: %lx\n", BPF_CORE_READ(skp, __sk_common.skc_daddr));
		bpf_map_delete_elem(&currsock, &pid);
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
