#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} bound SEC(".maps");

SEC("cgroup/post_bind6")
int post_bind(struct bpf_sock *sk)
{
	__u32 port = sk->src_port;
	__u32 addr = sk->src_ip6[3];

	bpf_map_update_elem(&bound, &port, &addr, BPF_ANY);
	return 1;
}

char _license[] SEC("license") = "GPL";
