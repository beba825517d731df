// Test object for the instruction layout and debug info tests (tests/debuginfo.rs). Built in verifier-explain/ by:
// clang -O2 -g -target bpf -mcpu=v3 -I/usr/include/$(uname -m)-linux-gnu -fdebug-prefix-map=$PWD=. -c tests/data/subprogs.bpf.c -o tests/data/subprogs.bpf.o
// nodebug.bpf.o is the same command without -g; subprogs-btf-only.bpf.o is that object after llvm-objcopy --strip-debug;
// subprogs.bpfeb.o is the same command with -target bpfeb (big endian).
//
// Two programs share __noinline subprograms in .text: a nested call, a bpf_loop callback
// (referenced by ld_imm64 with BPF_PSEUDO_FUNC), a constant parameter, stack variables and an
// inlined function whose instance lacks some of its variables.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __noinline __u64 leaf(__u64 x)
{
	return x * 3 + 1;
}

static __noinline int bump(__u32 slot, __u64 by)
{
	__u32 key = slot & 3;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	*v += leaf(by);
	return 1;
}

// Inlined; clang drops `unused_hint` and `dead` from the inlined instance.
static __always_inline __u32 clamp_limit(__u32 wanted, __u32 unused_hint)
{
	__u32 dead = unused_hint * 7;

	return wanted & 7;
}

struct loop_ctx {
	__u64 sum;
	__u32 limit;
};

static int loop_step(__u32 i, void *data)
{
	struct loop_ctx *lc = data;

	lc->sum += leaf(i);
	return i >= lc->limit;
}

SEC("xdp")
int with_subprogs(struct xdp_md *ctx)
{
	struct loop_ctx lc = { .sum = 0, .limit = clamp_limit(ctx->rx_queue_index, ctx->egress_ifindex) };

	bump(ctx->ingress_ifindex, 1);
	bpf_loop(8, loop_step, &lc, 0);
	return lc.sum & 1 ? XDP_PASS : XDP_DROP;
}

SEC("classifier")
int only_leaf(struct __sk_buff *skb)
{
	return leaf(skb->len) & 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
