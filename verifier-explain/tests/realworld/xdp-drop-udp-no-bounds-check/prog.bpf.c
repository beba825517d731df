#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int myprogram(struct xdp_md *ctx)
{
	int ipsize = 0;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip;

	ipsize = sizeof(*eth);
	ip = data + ipsize;

	if (ip->protocol == IPPROTO_UDP) // <- rejected here
		return XDP_DROP;

	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
