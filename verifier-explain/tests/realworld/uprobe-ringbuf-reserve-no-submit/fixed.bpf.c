#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

SEC("uprobe")
int uprobe_add(void *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&rb, sizeof(__u64), 0);

	bpf_printk("uprobe_add reserved %p", e);
	if (!e)
		return 0;
	*e = 1;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
