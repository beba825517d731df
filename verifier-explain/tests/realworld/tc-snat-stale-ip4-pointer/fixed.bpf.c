#include <stddef.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_SRC_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tcp_snat_count SEC(".maps");

SEC("tc")
int snat(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip4 = data + ETH_HLEN;
	__be32 new_saddr = bpf_htonl(0x0a000001);
	__u32 zero = 0;

	if ((void *)(ip4 + 1) > data_end)
		return TC_ACT_OK;

	bpf_skb_store_bytes(skb, IP_SRC_OFF, &new_saddr, sizeof(new_saddr), BPF_F_RECOMPUTE_CSUM);
	/* the helper may have moved the packet: reload and check again */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	ip4 = data + ETH_HLEN;
	if ((void *)(ip4 + 1) > data_end)
		return TC_ACT_OK;
	if (ip4->protocol == IPPROTO_TCP) {
		__u64 *count = bpf_map_lookup_elem(&tcp_snat_count, &zero);

		if (count)
			__sync_fetch_and_add(count, 1);
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
