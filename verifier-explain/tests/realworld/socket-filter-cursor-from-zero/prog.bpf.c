#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#define cursor_advance(_cursor, _len) \
	({ void *_tmp = _cursor; _cursor += _len; _tmp; })

SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
	__u8 *cursor = 0;
	struct ethhdr *eth_header;
	struct iphdr *ip_header;

	eth_header = cursor_advance(cursor, sizeof(*eth_header));
	if (eth_header->h_proto != 0x0800) // <- rejected here
		return 0;

	ip_header = cursor_advance(cursor, sizeof(*ip_header));
	switch (ip_header->protocol) {
	case IPPROTO_TCP:
		return -1;
	}

	return 0;
}

char _license[] SEC("license") = "GPL";
