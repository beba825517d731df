// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The concealed switch's data plane, attached to every port of an opted-in bridge.
 *
 * A frame takes the fast path only when the bridge itself would forward it as a known unicast
 * frame to another port: destination found in the FDB map, both ports forwarding, hairpin and
 * isolation rules respected. Everything else (broadcast, multicast, link-local, unknown
 * unicast, frames for the bridge itself, ports the control plane has not configured) is passed
 * to the real bridge with XDP_PASS, and counted by reason.
 *
 * The control plane (switch-ctl) fills `ports` and `fdb` from the kernel's own bridge state.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#include "switch.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SWITCH_FDB_MAX);
	__type(key, struct fdb_key);
	__type(value, struct fdb_entry);
} fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SWITCH_PORTS_MAX);
	__type(key, __u32); /* ifindex */
	__type(value, struct port_config);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, SWITCH_PORTS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SWITCH_PORTS_MAX);
	__type(key, __u32); /* ingress ifindex */
	__type(value, struct port_counters);
} counters SEC(".maps");

static __always_inline int pass(struct port_counters *c, enum pass_reason reason)
{
	if (c)
		c->passed[reason] += 1;
	return XDP_PASS;
}

static __always_inline int is_multicast(const __u8 *mac)
{
	return mac[0] & 1; /* broadcast is multicast too */
}

SEC("xdp")
int switch_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ingress = ctx->ingress_ifindex;
	struct port_counters *c = bpf_map_lookup_elem(&counters, &ingress);
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return pass(c, PASS_MALFORMED);
	if (is_multicast(eth->h_dest))
		return pass(c, PASS_MULTICAST);

	struct port_config *in = bpf_map_lookup_elem(&ports, &ingress);
	if (!in)
		return pass(c, PASS_PORT_UNKNOWN);
	if (!(in->flags & PORT_FORWARDING) || (in->flags & PORT_LOCKED))
		return pass(c, PASS_PORT_STATE);

	struct fdb_key key = { .bridge = in->bridge };
	__builtin_memcpy(key.mac, eth->h_dest, ETH_ALEN);
	struct fdb_entry *dst = bpf_map_lookup_elem(&fdb, &key);
	if (!dst)
		return pass(c, PASS_FDB_MISS);
	if (dst->flags & FDB_LOCAL)
		return pass(c, PASS_LOCAL);

	__u32 egress = dst->ifindex;
	struct port_config *out = bpf_map_lookup_elem(&ports, &egress);
	if (!out || out->bridge != in->bridge)
		return pass(c, PASS_PORT_UNKNOWN);
	if (egress == ingress && !(out->flags & PORT_HAIRPIN))
		return pass(c, PASS_SAME_PORT);
	if (!(out->flags & PORT_FORWARDING) || !(out->flags & PORT_CAN_REDIRECT))
		return pass(c, PASS_PORT_STATE);
	if ((in->flags & PORT_ISOLATED) && (out->flags & PORT_ISOLATED))
		return pass(c, PASS_ISOLATED);

	int action = bpf_redirect_map(&tx_ports, egress, XDP_PASS);
	if (c && action == XDP_REDIRECT) {
		c->fast_packets += 1;
		c->fast_bytes += data_end - data;
	}
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
