#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char __license[] SEC("license") = "Dual MIT/GPL";

/* bpf_redirect_peer() is a TC-ingress helper: the same logic as a tc program on the skb */
static __always_inline int parse_ip_src_addr(struct __sk_buff *skb, __u32 *ip_src_addr, __u32 *protol)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;

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

SEC("tc")
int tc_prog_func(struct __sk_buff *skb)
{
	__u32 ip;
	__u32 protol;

	if (!parse_ip_src_addr(skb, &ip, &protol))
		return TC_ACT_OK;
	if (protol == IPPROTO_TCP && ip == 0x721f2a0a)
		return bpf_redirect_peer(39, 0);
	return TC_ACT_OK;
}
