#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct Key {
	__u32 src_ip;
	__u32 dst_ip;
	unsigned short src_port;
	unsigned short dst_port;
};

struct Leaf {
	int timestamp;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct Key);
	__type(value, struct Leaf);
} sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct Key);
	__type(value, struct Leaf);
} complete SEC(".maps");

SEC("socket")
int http_filter(struct __sk_buff *skb)
{
	struct Key key = {};
	struct Leaf *lookup_leaf;

	/* IPv4 and TCP without options: addresses at 26 and 30, ports at 34 and 36 */
	if (bpf_skb_load_bytes(skb, 26, &key, sizeof(key)) < 0)
		return 0;

	lookup_leaf = bpf_map_lookup_elem(&sessions, &key);
	if (lookup_leaf) {
		bpf_map_update_elem(&complete, &key, lookup_leaf, BPF_ANY);
		return -1;
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
