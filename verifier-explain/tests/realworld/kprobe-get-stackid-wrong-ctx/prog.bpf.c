#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stack_traces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, int);
	__type(value, __u64);
} counts SEC(".maps");

/* the traced function's own first argument is a struct pt_regs * */
SEC("kprobe/handle_mm_fault")
int trace_fault(struct pt_regs *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1(ctx);
	int id = bpf_get_stackid(regs, &stack_traces, 0); // <- rejected here
	__u64 one = 1, *count;

	count = bpf_map_lookup_elem(&counts, &id);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &id, &one, BPF_NOEXIST);
	return 0;
}

char _license[] SEC("license") = "GPL";
