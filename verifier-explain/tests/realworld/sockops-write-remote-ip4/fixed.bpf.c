#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} cluster_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} rejected SEC(".maps");

static __always_inline void MARK_REJECTED(struct bpf_sock_ops *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u8 yes = 1;

	bpf_map_update_elem(&rejected, &cookie, &yes, BPF_ANY);
}

static int on_cluster_sock_bind(struct bpf_sock_ops *ctx, __u32 cluster)
{
	__u32 *conns = bpf_map_lookup_elem(&cluster_conns, &cluster);

	if (conns && *conns > 100)
		return 1;
	return 0;
}

SEC("sockops")
int cluster_manager(struct bpf_sock_ops *ctx)
{
	__u32 cluster = ctx->remote_port;
	int ret;

	if (ctx->op != BPF_SOCK_OPS_TCP_CONNECT_CB)
		return 0;
	ret = on_cluster_sock_bind(ctx, cluster);
	if (ret) {
		// open circuit breaker, should reject here.
		MARK_REJECTED(ctx);
		return 0;
	}
	return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
