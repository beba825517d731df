#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* /sys/kernel/tracing/events/syscalls/sys_enter_write/format */
struct sys_enter_write_args {
	unsigned long long common;
	int __syscall_nr;
	unsigned int fd;
	const char *buf;
	unsigned long count;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[64]);
} strbuf SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_write")
int sys_enter_write(struct sys_enter_write_args *args)
{
	__u32 zero = 0;
	char *str = bpf_map_lookup_elem(&strbuf, &zero);

	if (!str)
		return 0;
	bpf_probe_read_user_str(str, args->count, args->buf); // <- rejected here
	bpf_printk("<%s>", str);
	return 0;
}

char _license[] SEC("license") = "GPL";
