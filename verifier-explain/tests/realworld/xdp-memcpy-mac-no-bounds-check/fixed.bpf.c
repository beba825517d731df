#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

typedef __u8 uint8_t;
typedef __u64 uint64_t;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} tx_port SEC(".maps");

static inline void rewrite_src_dst_mac(void *data, uint64_t nh_off)
{
	struct ethhdr *eth = data + nh_off;
	/* MARK: To be used source and destination are hard coded here */
	uint8_t src_mac[ETH_ALEN] = { 1, 1, 1, 1, 1, 1 };
	uint8_t dst_mac[ETH_ALEN] = { 2, 2, 2, 2, 2, 2 };
	__builtin_memcpy(eth->h_source, src_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, dst_mac, ETH_ALEN);
}

SEC("xdp")
int xdp_redirect_map(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + sizeof(struct ethhdr) > data_end)
		return XDP_DROP;
	rewrite_src_dst_mac(data, 0);
	return bpf_redirect_map(&tx_port, 0, 0);
}

char _license[] SEC("license") = "GPL";
