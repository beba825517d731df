#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} events SEC(".maps");

SEC("kprobe/__x64_sys_openat")
int syscall_entry(struct pt_regs *ctx)
{
	struct pt_regs regs;

	/* the helper sends memory, not the context: copy the registers to the stack first */
	bpf_probe_read_kernel(&regs, sizeof(regs), ctx);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &regs, sizeof(regs));
	return 0;
}

char _license[] SEC("license") = "GPL";
