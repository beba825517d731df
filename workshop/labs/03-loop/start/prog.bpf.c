// Lab 3: drop TCP segments sent to any of the ports listed in the map `blocked`. The list has 8
// slots; an empty slot holds 0 and is skipped.
//
// The verifier rejects this program. Run `lab check 3` to see why, fix it here, and run
// `lab check 3` again.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SLOTS 8

struct port_list {
	__u16 port[SLOTS]; // 0: an empty slot
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct port_list);
} blocked SEC(".maps");

SEC("xdp")
int port_blocker(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	struct tcphdr *tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;

	struct port_list *list = bpf_map_lookup_elem(&blocked, &zero);
	if (!list)
		return XDP_PASS;
	__u16 port = bpf_ntohs(tcp->dest);

	__u32 i = 0;
	while (i < SLOTS) {
		__u16 slot = list->port[i];
		if (slot == 0) // an empty slot: skip it
			continue;
		if (slot == port)
			return XDP_DROP;
		i++;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
