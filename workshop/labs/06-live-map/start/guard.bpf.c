// Lab 6: the program attached to h2's eth0 (read it; you do not need to change it).
//
// It drops pings (ICMP) from every source address that is a key of the map `ws_blocklist`, and
// counts them in the entry's `drops`. Find the map with `xdpdbg map`, and change its entries so
// that h1 can ping h2 again while h3 stays blocked.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct block {
	__u64 drops; // pings dropped from this address
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __be32); // the source address to drop (shown as 198.18.0.1)
	__type(value, struct block);
} ws_blocklist SEC(".maps");

SEC("xdp")
int guard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;

	__be32 saddr = ip->saddr;
	struct block *b = bpf_map_lookup_elem(&ws_blocklist, &saddr);
	if (!b)
		return XDP_PASS;
	__sync_fetch_and_add(&b->drops, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
