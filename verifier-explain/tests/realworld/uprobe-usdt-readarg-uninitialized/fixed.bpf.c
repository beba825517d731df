#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct data_t {
	char v0[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} events SEC(".maps");

/* what bcc generates for an argument with two locations */
static __always_inline int _bpf_readarg_probe_method__entry_1(struct pt_regs *ctx, void *dest, __u64 len)
{
	if (len != sizeof(__u64))
		return -1;
	switch (ctx->rip) {
	case 0x4a1b2c:
		bpf_probe_read_kernel(dest, sizeof(__u64), &ctx->r14);
		return 0;
	case 0x4a1d00:
		bpf_probe_read_kernel(dest, sizeof(__u64), &ctx->rbx);
		return 0;
	}
	return -1;
}

SEC("uprobe")
int trace_method_entry(struct pt_regs *ctx)
{
	struct data_t __data = {};
	__u64 arg1 = 0;

	_bpf_readarg_probe_method__entry_1(ctx, &arg1, sizeof(arg1));

	if (arg1 != 0) {
		bpf_probe_read_user(&__data.v0, sizeof(__data.v0), (void *)arg1);
	}
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &__data, sizeof(__data));
	return 0;
}

char _license[] SEC("license") = "GPL";
