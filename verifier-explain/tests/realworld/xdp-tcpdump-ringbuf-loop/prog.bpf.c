#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} rb SEC(".maps");

static bool is_tcp(struct ethhdr *eth, void *data_end)
{
	if ((void *)(eth + 1) > data_end)
		return false;
	if (bpf_ntohs(eth->h_proto) != ETH_P_IP)
		return false;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return false;
	if (ip->protocol != IPPROTO_TCP)
		return false;
	return true;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (!is_tcp(eth, data_end))
		return XDP_PASS;

	struct iphdr *ip = (struct iphdr *)(eth + 1);
	int ip_hdr_len = ip->ihl * 4;
	if (ip_hdr_len < sizeof(struct iphdr))
		return XDP_PASS;
	if ((void *)ip + ip_hdr_len > data_end)
		return XDP_PASS;

	struct tcphdr *tcp = (struct tcphdr *)((unsigned char *)ip + ip_hdr_len);
	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;

	int tcp_header_bytes = tcp->doff * 4;
	if (tcp_header_bytes < sizeof(*tcp))
		return XDP_PASS;

	void *ringbuf_space = bpf_ringbuf_reserve(&rb, 32, 0);
	if (!ringbuf_space)
		return XDP_PASS;

	for (int i = 0; i < tcp_header_bytes; i++) {
		unsigned char byte = *((unsigned char *)tcp + i); // <- rejected here
		((unsigned char *)ringbuf_space)[i] = byte;
	}

	bpf_ringbuf_submit(ringbuf_space, 0);
	bpf_printk("Captured TCP header (%d bytes)", tcp_header_bytes);
	return XDP_PASS;
}

char __license[] SEC("license") = "GPL";
