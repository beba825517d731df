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
	/* events.perf_submit(ctx, ctx, sizeof(*ctx)): send the registers themselves */
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, ctx, sizeof(*ctx)); // <- rejected here
	return 0;
}

char _license[] SEC("license") = "GPL";
