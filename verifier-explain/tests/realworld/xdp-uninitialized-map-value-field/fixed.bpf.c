#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct xdp_output {
	__u32 output_port;
	__u8 output_action;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ebpf_outTable SEC(".maps");

SEC("xdp")
int ebpf_filter(struct xdp_md *skb)
{
	struct xdp_output xout = { .output_port = 0, .output_action = XDP_PASS };
	__u32 ebpf_zero = 0;

	/* the generated parser sets the port only on the paths that match a table entry */
	if (skb->ingress_ifindex == 1) {
		xout.output_port = 2;
		xout.output_action = XDP_TX;
	}
	bpf_map_update_elem(&ebpf_outTable, &ebpf_zero, &xout.output_port, BPF_ANY);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
