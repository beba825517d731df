#include <stddef.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int sockfmdel(struct __sk_buff *ctx)
{
	struct udphdr udp;

	if (bpf_skb_load_bytes(ctx, sizeof(struct iphdr), &udp, sizeof(udp)) < 0)
		return 0;

	return udp.len;
}

char _license[] SEC("license") = "GPL";
