#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} filter_ipv4 SEC(".maps");

SEC("xdp")
int xdpfilt_dny_all(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iphdr;
	struct ipv6hdr *ipv6hdr;
	__u16 eth_type;
	__u32 addr;
	__u64 *value;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	eth_type = eth->h_proto;

	/* port filtering first: the L3 header is checked once, with the IPv4 size */
	iphdr = (void *)(eth + 1);
	if ((void *)(iphdr + 1) > data_end)
		return XDP_PASS;

	if (eth_type == bpf_htons(ETH_P_IP)) {
		addr = iphdr->daddr;
	} else if (eth_type == bpf_htons(ETH_P_IPV6)) {
		ipv6hdr = (void *)(eth + 1);
		if ((void *)(ipv6hdr + 1) > data_end)
			return XDP_PASS;
		addr = ipv6hdr->daddr.in6_u.u6_addr32[3];
	} else {
		return XDP_PASS;
	}

	value = bpf_map_lookup_elem(&filter_ipv4, &addr);
	if (value) {
		*value += 1;
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
