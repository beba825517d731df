#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} last_sum SEC(".maps");

static __always_inline __u32 sum16(void *data, void *data_end)
{
	__u8 *current = data;
	__u32 sum = 0;

	int i;
	for (i = 0; i < 1500; i++) {
		sum += *current; // <- rejected here
		if ((void *)current < data_end)
			++current;
		else
			break;
	}

	return sum;
}

SEC("xdp")
int xdp_stats(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 key = 0;

	if (data + sizeof(struct ethhdr) > data_end)
		return XDP_PASS;

	__u32 sum = sum16(data + sizeof(struct ethhdr), data_end);
	bpf_map_update_elem(&last_sum, &key, &sum, BPF_ANY);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
