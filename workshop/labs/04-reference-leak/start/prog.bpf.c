// Lab 4: log every TCP connection attempt (a segment with SYN set and ACK clear) to the ring
// buffer `events`, for a userspace program to read; let every packet pass.
//
// The verifier rejects this program. Run `lab check 4` to see why, fix it here, and run
// `lab check 4` again.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct syn_event {
	__be32 saddr;  // who tries to connect
	__u16 dport;   // to which port (host byte order)
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int syn_logger(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	struct tcphdr *tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;

	struct syn_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return XDP_PASS;
	if (!tcp->syn || tcp->ack)
		return XDP_PASS; // not a connection attempt
	e->saddr = ip->saddr;
	e->dport = bpf_ntohs(tcp->dest);
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
