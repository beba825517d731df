#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

typedef __u64 uint64_t;

static inline int dummy(struct pt_regs *ctx, void *dest, __u64 len)
{
	switch (ctx->rip) {
	case 0x55e29a4ce2a4ULL: *((uint64_t *)dest) = (uint64_t)ctx->rsi; return 0;
	case 0x55e29a4ce7abULL: *((uint64_t *)dest) = (uint64_t)ctx->rbp; return 0; // <- rejected here
	}
	return -1;
}

SEC("uprobe")
int do_start(struct pt_regs *ctx)
{
	uint64_t arg1 = 0;

	dummy(ctx, &arg1, sizeof(arg1));
	if (arg1 != 0)
		bpf_printk("Hi\n");
	return 0;
}

char _license[] SEC("license") = "GPL";
