#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct val_t {
	char name[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct val_t);
} filebypid SEC(".maps");

SEC("kprobe/do_sys_openat2")
int trace_entry(struct pt_regs *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid();
	const char *name = (const char *)PT_REGS_PARM2(ctx);

	struct val_t val = {};

	bpf_probe_read_user_str(val.name, sizeof(val.name), name);
	bpf_map_update_elem(&filebypid, &pid, &val, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
