#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct data_t {
	__u64 ts;
	__u32 pid;
	__u32 tid;
	char comm[16];
	__u64 arg1;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} events SEC(".maps");

/* the USDT probe's argument is in a different register at each of its three sites */
static __always_inline __u64 usdt_arg1(struct pt_regs *ctx)
{
	unsigned long *reg;

	switch (ctx->rip) {
	case 0x111be2b:
		reg = &ctx->r12;
		break;
	case 0x111bd1a:
		reg = &ctx->rbx;
		break;
	default:
		reg = &ctx->r13;
		break;
	}
	return *reg; // <- rejected here
}

SEC("uprobe")
int probe_query(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct data_t data = {};

	data.ts = bpf_ktime_get_ns();
	data.pid = id >> 32;
	data.tid = id;
	bpf_get_current_comm(&data.comm, sizeof(data.comm));
	data.arg1 = usdt_arg1(ctx);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

char _license[] SEC("license") = "GPL";
