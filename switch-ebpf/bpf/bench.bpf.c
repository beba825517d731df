// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The forwarding benchmark's own programs (switch-ctl/benches/forward.rs), not part of the
 * switch.
 *
 * - bench_gen: the traffic generator. Run with BPF_PROG_RUN and BPF_F_TEST_XDP_LIVE_FRAMES on
 *   the sending host's interface, it returns XDP_TX, which the kernel turns into a redirect to
 *   that same interface: every frame really leaves through it (for a veth, into the bridge
 *   port on the other end). It rewrites nothing. Paced (bench_gen_pace's interval_ns set), it
 *   sends bursts on a schedule and waits in between, so it offers a fixed load and, while the
 *   forwarder keeps up, has no surplus to return.
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

/* The generator's pacing (one entry, written by the benchmark; the generator runs on one CPU):
 * bursts of `burst` frames, one burst every interval_ns, so the forwarder sees full NAPI polls
 * as when saturated, but no surplus. Between bursts the generator waits inside the program
 * instead of dropping frames: every frame a live-frames run drops or fails to send goes back
 * through its page pool's ring, under the same producer lock the receiver returns frames
 * through, which is the contention pacing is there to remove. */
struct bench_pace {
	__u64 interval_ns; /* between bursts; 0: unpaced, every frame is sent at once */
	__u64 burst;	   /* frames per burst (at most the bridge port's 256-frame ring) */
	__u64 next_ns;	   /* when the next burst may start */
	__u64 left;	   /* frames left in the current burst */
	__u64 sent;	   /* frames sent while paced */
	__u64 late;	   /* bursts that started over a burst's interval late (schedule reset) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_pace);
} bench_gen_pace SEC(".maps");

/* bpf_loop callback: stops once the clock reaches *until. */
static long wait_until(__u32 i, void *until)
{
	return bpf_ktime_get_ns() >= *(__u64 *)until;
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct bench_pace *pace = bpf_map_lookup_elem(&bench_gen_pace, &zero);
	__u64 now, until;

	if (!pace || !pace->interval_ns)
		return XDP_TX;
	if (!pace->left) {
		until = pace->next_ns;
		/* Up to ~2^20 clock reads (tens of ms): more than any interval used. */
		bpf_loop(1 << 20, wait_until, &until, 0);
		now = bpf_ktime_get_ns();
		/* After a stall longer than a burst's interval (the vCPU taken away), restart
		 * the schedule from now instead of catching up back to back, which would
		 * overflow the port's ring. */
		if (now - pace->next_ns > pace->interval_ns) {
			pace->next_ns = now;
			pace->late++;
		}
		pace->next_ns += pace->interval_ns;
		pace->left = pace->burst;
	}
	pace->left--;
	pace->sent++;
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
