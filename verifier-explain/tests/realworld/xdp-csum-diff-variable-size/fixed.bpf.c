#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} seen_csum SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[512]);
} payload_buf SEC(".maps");

SEC("xdp")
int xdp_dedup(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vlan_hdr *vhdr = (void *)(eth + 1);
	void *profiHdr = (void *)(vhdr + 1);
	__u8 one = 1;

	if (profiHdr > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_8021Q) ||
	    vhdr->h_vlan_encapsulated_proto != bpf_htons(0x8892 /* PROFINET */))
		return XDP_PASS;

	__u32 size = data_end - profiHdr;
	__u32 zero = 0;
	void *buf = bpf_map_lookup_elem(&payload_buf, &zero);

	/* a bounded, non-zero multiple of 4, copied out of the packet first */
	size &= 0x1fc;
	if (buf && size) {
		if (bpf_xdp_load_bytes(ctx, profiHdr - data, buf, size))
			return XDP_PASS;
		__u32 cksum = bpf_csum_diff(0, 0, buf, size, 0);

		if (bpf_map_lookup_elem(&seen_csum, &cksum)) {
			bpf_map_delete_elem(&seen_csum, &cksum);
			return XDP_DROP;
		}
		bpf_map_update_elem(&seen_csum, &cksum, &one, BPF_ANY);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
