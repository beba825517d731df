// Lab 7: the data plane (attached to h2's eth0; read it, you do not need to change it).
//
// It keeps one entry per source address in the map `ws_flows`, with the time (ms since boot)
// the address was last seen. It refreshes that time with bpf_maps_refresh(), the data plane's
// half of the ageing protocol (include/bpf_maps/ageing.h). Every refresh that succeeded is also
// written to `ws_refreshed`, so the checker can tell a live entry that an ager deleted.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf_maps/ageing.h"

struct flow {
	__u64 last_seen; // ms since boot of the last packet, or BPF_MAPS_DYING while aged out
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __be32); // the source address
	__type(value, struct flow);
} ws_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __be32);
	__type(value, __u64); // when the last successful refresh happened (ms since boot)
} ws_refreshed SEC(".maps");

SEC("xdp")
int flows(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;

	__be32 saddr = ip->saddr;
	__u64 now = bpf_ktime_get_boot_ns() / 1000000;
	struct flow *f = bpf_map_lookup_elem(&ws_flows, &saddr);
	if (!f)
		return XDP_PASS; // not a known host: the control plane learns hosts (lab start does)
	if (!bpf_maps_refresh(&f->last_seen, now))
		return XDP_PASS; // being aged out right now: a miss
	__sync_fetch_and_add(&f->packets, 1);
	bpf_map_update_elem(&ws_refreshed, &saddr, &now, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
