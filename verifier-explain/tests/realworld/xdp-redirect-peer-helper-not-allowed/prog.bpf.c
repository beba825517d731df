#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char __license[] SEC("license") = "Dual MIT/GPL";

static __always_inline int parse_ip_src_addr(struct xdp_md *ctx, __u32 *ip_src_addr, __u32 *protol)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return 0;

	*ip_src_addr = (__u32)(ip->daddr);
	*protol = ip->protocol;
	return 1;
}

SEC("xdp")
int xdp_prog_func(struct xdp_md *ctx)
{
	__u32 ip;
	__u32 protol;

	if (!parse_ip_src_addr(ctx, &ip, &protol))
		goto done;

	switch (protol) {
	case IPPROTO_TCP: {
		// 10.42.31.114 721f2a0a
		if (ip == 0x721f2a0a) {
			return bpf_redirect_peer(39, 0); // <- rejected here
		} else {
			goto done;
		}
	}
	default: {
		goto done;
	}
	}

done:
	return XDP_PASS;
}
