#include <stddef.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))

SEC("tc")
int udptcfilter(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct udphdr *udp = data + sizeof(*eth) + sizeof(*iph);
	char payload[14];

	if ((void *)(udp + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->protocol != IPPROTO_UDP)
		return TC_ACT_OK;

	__u32 old_daddr = iph->daddr;
	__u32 new_daddr = 0x31313131;

	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_daddr, new_daddr, sizeof(new_daddr));
	bpf_skb_store_bytes(skb, IP_DST_OFF, &new_daddr, sizeof(new_daddr), 0);
	bpf_skb_load_bytes(skb, 42, payload, sizeof(payload));

	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	iph = data + sizeof(*eth);
	if ((void *)(iph + 1) > data_end)
		return TC_ACT_OK;
	bpf_printk("%s from %x", payload, iph->saddr);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
