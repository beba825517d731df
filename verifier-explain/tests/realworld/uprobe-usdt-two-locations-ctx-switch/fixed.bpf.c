#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

typedef __u64 uint64_t;

static inline int dummy(struct pt_regs *ctx, void *dest, __u64 len)
{
	switch (ctx->rip) {
	/* a helper copy per location: the compiler cannot merge them into one read through a
	 * moved context pointer that the verifier refuses */
	case 0x55e29a4ce2a4ULL: return bpf_probe_read_kernel(dest, sizeof(uint64_t), &ctx->rsi);
	case 0x55e29a4ce7abULL: return bpf_probe_read_kernel(dest, sizeof(uint64_t), &ctx->rbp);
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
