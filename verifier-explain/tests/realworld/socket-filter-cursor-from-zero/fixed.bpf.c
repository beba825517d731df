#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
	__u16 h_proto;
	__u8 protocol;

	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &h_proto, sizeof(h_proto)) < 0)
		return 0;
	if (h_proto != bpf_htons(ETH_P_IP))
		return 0;

	if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &protocol, 1) < 0)
		return 0;
	switch (protocol) {
	case IPPROTO_TCP:
		return -1;
	}

	return 0;
}

char _license[] SEC("license") = "GPL";
