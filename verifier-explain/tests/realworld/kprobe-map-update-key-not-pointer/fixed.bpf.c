#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_MAP_ENTRIES 1024

struct sock;

struct id_t {
	__u32 state;
	__u64 start_time_ns;
	__u64 rtt_ns;
	__u32 retransmits;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_MAP_ENTRIES);
	__type(key, struct sock *);
	__type(value, struct id_t);
} v2_whoami SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int kprobe__tcp_v4_connect(struct pt_regs *ctx)
{
	struct sock *sk;
	struct id_t info = {};

	sk = (struct sock *)PT_REGS_PARM1(ctx);
	info.start_time_ns = bpf_ktime_get_ns();
	info.state = 2;
	bpf_map_update_elem(&v2_whoami, &sk, &info, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
