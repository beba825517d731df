// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The concealed switch's data plane, attached to every port of an opted-in bridge: in XDP
 * (native or generic) as `switch_xdp` or `switch_xdp_frags` (jumbo frames), or at TC clsact
 * ingress as `switch_tc`. All three share one decision, `decide()`.
 *
 * A frame takes the fast path only when the bridge itself would forward it as a known unicast
 * frame to one other port: both MACs found in the FDB map on the right ports, both ports
 * forwarding, hairpin, isolation and locked-port rules respected, and the egress port able to
 * take the frame. Everything else (broadcast, multicast, link-local, unknown unicast, frames for
 * the bridge itself, a source MAC that moved, ports switch-ctl has not configured) is passed to
 * the real bridge unchanged, and counted by reason.
 *
 * The control plane (switch-ctl) fills `ports`, `tx_ports` and `fdb` from the kernel's own
 * bridge state; it never writes the bridge's FDB. The bridge keeps its FDB itself, from real
 * frames: once per refresh interval (the port's refresh_ms) one frame from each source MAC is
 * passed to the bridge, which refreshes, relearns or moves the entry exactly as without a fast
 * path. The data plane writes only `last_passed_ns` of FDB entries, with compare-and-swap: one
 * CPU wins each interval, and the tombstone protocol of bpf_maps/ageing.h still holds
 * (switch-ctl ages entries out with a compare-and-swap to BPF_MAPS_DYING on the same field).
 *
 * Minimum kernel: 5.15 for switch_xdp and switch_tc (bpf_ktime_get_coarse_ns is 5.11), 5.18 for
 * switch_xdp_frags.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf_maps/ageing.h>

#include "switch.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SWITCH_FDB_MAX);
	__type(key, struct fdb_key);
	__type(value, struct fdb_entry);
} fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SWITCH_IFINDEX_MAX);
	__type(key, __u32); /* ifindex */
	__type(value, struct port_config);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, SWITCH_IFINDEX_MAX);
	__type(key, __u32);   /* ifindex */
	__type(value, struct bpf_devmap_val); /* the same ifindex, for ports that take XDP frames */
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SWITCH_PORTS_MAX);
	__type(key, __u32); /* the port's slot (port_config.slot) */
	__type(value, struct port_counters);
} counters SEC(".maps");

/* Bumped by switch-ctl after it writes `fdb` or `ports`: every pair cache filled under an older
 * generation is stale from then on. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fdb_generation SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pair_cache);
} pair_cache SEC(".maps");

enum verdict {
	FORWARD, /* to *egress */
	PASS,    /* to the bridge */
	RUNT,    /* shorter than an Ethernet header */
};

static __always_inline enum verdict pass(struct port_counters *c, enum pass_reason reason)
{
	c->passed[reason] += 1;
	return PASS;
}

static __always_inline int is_link_local(const __u8 *mac)
{
	return mac[0] == 0x01 && mac[1] == 0x80 && mac[2] == 0xc2 && mac[3] == 0 && mac[4] == 0 &&
	       (mac[5] & 0xf0) == 0;
}

/*
 * Puts `mac` into key->mac (pad stays 0) with whole 32-bit stores. The FDB's hash (jhash2) and
 * key compare read the key as 32-bit words; a word written as bytes cannot be forwarded from
 * the store buffer, and that stall made hashing the key cost more than the rest of the program
 * (issue #14 part 4, docs/benchmarks.md). Same bytes in the same layout as a memcpy.
 */
static __always_inline void fdb_key_set_mac(struct fdb_key *key, const __u8 *mac)
{
	__u32 head, tail = 0;

	__builtin_memcpy(&head, mac, 4);
	__builtin_memcpy(&tail, mac + 4, 2);
	*(volatile __u32 *)&key->mac[0] = head;
	*(volatile __u32 *)&key->mac[4] = tail; /* mac[4], mac[5] and the zero pad */
}

/*
 * The bridge's forwarding decision, for a frame that arrived on `ingress`. `egress_needs` holds
 * the port flags the egress port must have for this attachment (PORT_XDP_XMIT for XDP). Sets
 * *counted to the ingress port's counters whenever the port is ours.
 */
static __always_inline enum verdict decide(void *data, void *data_end, __u32 ingress,
					   __u32 egress_needs, __u32 *egress,
					   struct port_counters **counted)
{
	/* Array lookups past SWITCH_IFINDEX_MAX give NULL: big ifindexes need no check. */
	struct port_config *in = bpf_map_lookup_elem(&ports, &ingress);
	if (!in || !in->bridge)
		return PASS;
	struct port_counters *c = bpf_map_lookup_elem(&counters, &in->slot);
	if (!c)
		return PASS;
	*counted = c;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return RUNT;
	if (eth->h_dest[0] & 1)
		return pass(c, is_link_local(eth->h_dest) ? PASS_LINK_LOCAL : PASS_MULTICAST);
	__u32 in_flags = in->flags;
	if ((in_flags & (PORT_FORWARDING | PORT_LOCKED)) != PORT_FORWARDING)
		return pass(c, PASS_INGRESS_STATE);

	/* The same addresses on the same port as the last frame forwarded on this CPU, with no
	 * change to the FDB or the ports since: the same decision, unless the source's refresh
	 * frame may be due (then the full decision below claims it). */
	__u32 zero = 0;
	__u64 *generation_now = bpf_map_lookup_elem(&fdb_generation, &zero);
	struct pair_cache *pair = bpf_map_lookup_elem(&pair_cache, &zero);
	if (!generation_now || !pair)
		return pass(c, PASS_SOURCE); /* cannot happen: both are one-entry arrays */
	__u64 generation = *(volatile __u64 *)generation_now;
	const __u32 *addrs = data; /* h_dest and h_source: 12 bytes, inside the checked header */
	__u32 a0 = addrs[0], a1 = addrs[1], a2 = addrs[2];
	if (pair->generation == generation && pair->ingress == ingress &&
	    pair->egress_needs == egress_needs && pair->addrs[0] == a0 && pair->addrs[1] == a1 &&
	    pair->addrs[2] == a2 &&
	    (pair->refresh_at == ~0ULL || bpf_ktime_get_coarse_ns() < pair->refresh_at)) {
		*egress = pair->egress;
		return FORWARD;
	}

	/* The source must be known on this port, as the bridge would have learned it. */
	struct fdb_key key = { .bridge = in->bridge };
	fdb_key_set_mac(&key, eth->h_source);
	struct fdb_entry *src = bpf_map_lookup_elem(&fdb, &key);
	if (!src || src->ifindex != ingress)
		return pass(c, PASS_SOURCE);
	__u64 passed = *(volatile __u64 *)&src->last_passed_ns;
	if (passed == BPF_MAPS_DYING)
		return pass(c, PASS_SOURCE); /* the bridge dropped it: it relearns from this frame */
	__u32 refresh_ms = in->refresh_ms;
	__u64 refresh_at = ~0ULL;
	if (refresh_ms && !(src->flags & FDB_STATIC)) {
		/* The coarse clock (CLOCK_MONOTONIC_COARSE, ~4 ms steps) costs 8 ns here against
		 * 44 ns for bpf_ktime_get_ns(); refresh intervals are a quarter of the ageing time. */
		__u64 now = bpf_ktime_get_coarse_ns();

		/* One frame per interval: the CPU whose compare-and-swap lands passes it. A swap
		 * lost to the ager's tombstone passes too (the entry is going). */
		if (now - passed >= (__u64)refresh_ms * 1000000ULL) {
			__u64 was = __sync_val_compare_and_swap(&src->last_passed_ns, passed, now);
			if (was == passed)
				return pass(c, PASS_REFRESH);
			if (was == BPF_MAPS_DYING)
				return pass(c, PASS_SOURCE);
			passed = was; /* another CPU claimed this interval's frame */
		}
		refresh_at = passed + (__u64)refresh_ms * 1000000ULL;
	}

	fdb_key_set_mac(&key, eth->h_dest);
	struct fdb_entry *dst = bpf_map_lookup_elem(&fdb, &key);
	if (!dst || *(volatile __u64 *)&dst->last_passed_ns == BPF_MAPS_DYING)
		return pass(c, PASS_FDB_MISS);
	if (dst->flags & FDB_LOCAL)
		return pass(c, PASS_LOCAL);

	__u32 out_index = dst->ifindex;
	struct port_config *out = bpf_map_lookup_elem(&ports, &out_index);
	if (!out || out->bridge != in->bridge)
		return pass(c, PASS_EGRESS_STATE);
	__u32 out_flags = out->flags;
	if (out_index == ingress && !(out_flags & PORT_HAIRPIN))
		return pass(c, PASS_SAME_PORT);
	__u32 needs = PORT_FORWARDING | PORT_UP | PORT_EGRESS | egress_needs;
	if ((out_flags & needs) != needs)
		return pass(c, PASS_EGRESS_STATE);
	if ((in_flags & PORT_ISOLATED) && (out_flags & PORT_ISOLATED))
		return pass(c, PASS_ISOLATED);

	pair->generation = generation;
	pair->refresh_at = refresh_at;
	pair->addrs[0] = a0;
	pair->addrs[1] = a1;
	pair->addrs[2] = a2;
	pair->ingress = ingress;
	pair->egress = out_index;
	pair->egress_needs = egress_needs;
	*egress = out_index;
	return FORWARD;
}

static __always_inline int xdp_switch(struct xdp_md *ctx, __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct port_counters *c = 0;
	__u32 egress = 0;

	switch (decide(data, data_end, ctx->ingress_ifindex, PORT_XDP_XMIT, &egress, &c)) {
	case FORWARD:
		break;
	case RUNT:
		c->dropped += 1;
		return XDP_DROP;
	default:
		return XDP_PASS;
	}
	/* An empty devmap slot (the port just left) gives XDP_PASS: the bridge decides. */
	if (bpf_redirect_map(&tx_ports, egress, XDP_PASS) != XDP_REDIRECT) {
		c->passed[PASS_EGRESS_STATE] += 1;
		return XDP_PASS;
	}
	c->fast_packets += 1;
	c->fast_bytes += len;
	return XDP_REDIRECT;
}

/* Frames up to 3,506 bytes in one buffer (kernel 5.15). */
SEC("xdp")
int switch_xdp(struct xdp_md *ctx)
{
	return xdp_switch(ctx, ctx->data_end - ctx->data);
}

/* Any MTU, jumbo frames in several buffers (kernel 5.18). */
SEC("xdp.frags")
int switch_xdp_frags(struct xdp_md *ctx)
{
	return xdp_switch(ctx, bpf_xdp_get_buff_len(ctx));
}

/*
 * TC clsact ingress: keeps GSO and checksum offload state, so it is safe on veths whose peer
 * sends locally generated TCP/UDP with partial checksums (see docs/switch.md).
 */
SEC("classifier") /* libbpf also calls it "tc"; aya-obj 0.3 knows this name */
int switch_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct port_counters *c = 0;
	__u32 egress = 0;

	if (decide(data, data_end, skb->ifindex, 0, &egress, &c) != FORWARD)
		return TC_ACT_OK; /* the bridge handles it (a runt too) */
	c->fast_packets += 1;
	c->fast_bytes += skb->len;
	return bpf_redirect(egress, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
