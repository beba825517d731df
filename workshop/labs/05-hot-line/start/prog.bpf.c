// Lab 5: a source-address filter. The array `rules` holds up to 1024 addresses to drop; only the
// first `nr_rules` slots are in use (nr_rules lives in the array `config`). Everything else
// passes.
//
// It works, but it is slow. Find its hot line with `xdpdbg top`, write the line's number in
// answer.txt, make the program faster without changing what it does, and run `lab check 5`.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_RULES 1024

struct rule {
	__be32 addr; // a source address to drop
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); // nr_rules: how many slots of `rules` are in use
} config SEC(".maps");

SEC("xdp")
int slow_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;

	__u32 *nr_rules = bpf_map_lookup_elem(&config, &zero);
	if (!nr_rules)
		return XDP_PASS;

	int verdict = XDP_PASS;
	for (__u32 i = 0; i < MAX_RULES; i++) {
		struct rule *r = bpf_map_lookup_elem(&rules, &i);
		if (r && r->addr == ip->saddr)
			verdict = XDP_DROP;
	}
	return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
