// Lab 2: a port firewall. The map `port_rules` says, for some TCP destination ports, what to do
// with the segment (XDP_DROP = 1, XDP_PASS = 2) and counts the hits. Ports without a rule pass.
//
// The verifier rejects this program. Run `lab check 2` to see why, fix it here, and run
// `lab check 2` again.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct rule {
	__u32 action; // XDP_DROP or XDP_PASS
	__u32 pad;
	__u64 hits;   // segments this rule decided
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16); // the TCP destination port
	__type(value, struct rule);
} port_rules SEC(".maps");

SEC("xdp")
int port_firewall(struct xdp_md *ctx)
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

	__u16 port = bpf_ntohs(tcp->dest);
	struct rule *rule = bpf_map_lookup_elem(&port_rules, &port);
	__sync_fetch_and_add(&rule->hits, 1);
	return rule->action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
