#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* the layout of /sys/kernel/tracing/events/kmem/mm_page_alloc/format */
struct mm_page_alloc_args {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
	unsigned long pfn;
	unsigned int order;
	unsigned long gfp_flags;
	int migratetype;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tracepoint/kmem/mm_page_alloc")
int mm_page_alloc(struct mm_page_alloc_args *args)
{
	__u32 key = args->order;
	__u64 *count = bpf_map_lookup_elem(&counts, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
