#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef __u64 u64;
typedef __u16 u16;

struct tcp_sock {
	u64 bytes_received;
	u64 bytes_acked;
} __attribute__((preserve_access_index));

/* /sys/kernel/tracing/events/sock/inet_sock_set_state/format */
struct inet_sock_set_state_args {
	unsigned long long common;
	const void *skaddr;
	int oldstate;
	int newstate;
	u16 sport;
	u16 dport;
	u16 family;
	u16 protocol;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} bytes SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct inet_sock_set_state_args *args)
{
	if (args->protocol != 6 /* IPPROTO_TCP */ || args->newstate != 7 /* TCP_CLOSE */)
		return 0;

	const void *sk = args->skaddr;
	u64 key = (u64)sk;

	// get throughput stats. see tcp_get_info().
	u64 rx_b = 0, tx_b = 0;
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	rx_b = BPF_CORE_READ(tp, bytes_received);
	tx_b = BPF_CORE_READ(tp, bytes_acked);

	u64 total = rx_b + tx_b;
	bpf_map_update_elem(&bytes, &key, &total, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
