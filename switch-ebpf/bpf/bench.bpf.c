// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The forwarding benchmark's own programs (switch-ctl/benches/forward.rs), not part of the
 * switch.
 *
 * - bench_gen: the traffic generator. Run with BPF_PROG_RUN and BPF_F_TEST_XDP_LIVE_FRAMES on
 *   the sending host's interface, it returns XDP_TX, which the kernel turns into a redirect to
 *   that same interface: every frame really leaves through it (for a veth, into the bridge
 *   port on the other end). It rewrites nothing.
 * - bench_rx_xdp: the receiver on the sink host's interface. Counts the benchmark's frames
 *   (IPv4, UDP to BENCH_UDP_PORT) per CPU and drops them; anything else is counted apart and
 *   passed to the stack, so ARP or IPv6 neighbour traffic is never mistaken for forwarded
 *   frames.
 * - bench_rx_tc: the same receiver at tc ingress, for a sink that keeps GRO on and has no XDP
 *   program (the usual container interface).
 * - bench_redirect: the ceiling. Attached to the ingress bridge port, it redirects every frame
 *   through a one-entry devmap to the egress port, deciding nothing.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* The UDP destination port of the generated frames (discard). */
#define BENCH_UDP_PORT 9

enum bench_slot {
	BENCH_MATCHED = 0, /* benchmark frames, dropped */
	BENCH_OTHER = 1,   /* anything else, passed */
	BENCH_SLOTS,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} bench_rx_count SEC(".maps");

/* Slot 0 holds the egress port's ifindex, set by the benchmark. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} bench_tx_port SEC(".maps");

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	return XDP_TX;
}

static __always_inline int is_bench_frame(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return 0;
	return udp->dest == bpf_htons(BENCH_UDP_PORT);
}

/* Adds `frames` to `slot`; returns whether the frames are the benchmark's (to be dropped). */
static __always_inline int count(__u32 slot, __u32 frames)
{
	__u64 *n = bpf_map_lookup_elem(&bench_rx_count, &slot);

	if (n)
		*n += frames; /* per-CPU: no atomics needed */
	return slot == BENCH_MATCHED;
}

SEC("xdp")
int bench_rx_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (count(is_bench_frame(data, data_end) ? BENCH_MATCHED : BENCH_OTHER, 1))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("classifier")
int bench_rx_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	/* A GRO skb counts as the frames it was built from. */
	__u32 frames = skb->gso_segs ? skb->gso_segs : 1;

	if (count(is_bench_frame(data, data_end) ? BENCH_MATCHED : BENCH_OTHER, frames))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("xdp")
int bench_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&bench_tx_port, 0, XDP_PASS);
}

/*
 * The ceiling plus what every switch must do first: read the frame's Ethernet header (the
 * generator's frames reach the forwarder cold). Group-addressed frames, which the benchmark
 * does not send, are passed, so the read stays in the program.
 */
SEC("xdp")
int bench_redirect_read(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	if ((void *)(eth + 1) > (void *)(long)ctx->data_end || (eth->h_dest[0] & 1))
		return XDP_PASS;
	return bpf_redirect_map(&bench_tx_port, 0, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
