#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/skb")
int cgroup_skb_test(struct __sk_buff *skb)
{
	return 123; // <- rejected here
}

char _license[] SEC("license") = "GPL";
