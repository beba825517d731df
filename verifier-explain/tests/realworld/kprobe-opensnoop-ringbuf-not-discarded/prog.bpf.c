#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NAME_MAX 255

struct data_t {
	__u32 id;
	__u32 flags;
	__u64 ts;
	char comm[16];
	char name[NAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u32 targ_tgid = 0;

SEC("kprobe/do_sys_openat2")
int trace_entry(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct data_t *data;

	data = bpf_ringbuf_reserve(&events, sizeof(*data), 0);
	if (!data)
		return 0;

	if (targ_tgid && (id >> 32) != targ_tgid)
		return 0; // <- rejected here

	data->id = id;
	data->ts = bpf_ktime_get_ns();
	bpf_get_current_comm(&data->comm, sizeof(data->comm));
	bpf_ringbuf_submit(data, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
