#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef __u64 u64;
typedef __u32 u32;
typedef __u16 u16;

#define AF_INET 2

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

struct ipv4_data_t {
	u64 skaddr;
	u32 saddr;
	u32 daddr;
	u16 lport;
	u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} ipv4_events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct inet_sock_set_state_args *args)
{
	if (args->protocol != 6 /* IPPROTO_TCP */)
		return 0;

	struct ipv4_data_t data4 = {};

	data4.skaddr = (u64)args->skaddr;
	data4.lport = args->sport;
	data4.dport = args->dport;
	if (args->family == AF_INET) {
		__builtin_memcpy(&data4.saddr, args->saddr, sizeof(data4.saddr));
		__builtin_memcpy(&data4.daddr, args->daddr, sizeof(data4.daddr));
	} else {
		/* an IPv4-mapped IPv6 socket: the last word of the v6 addresses */
		__builtin_memcpy(&data4.saddr, args->saddr_v6 + 12, sizeof(data4.saddr));
		__builtin_memcpy(&data4.daddr, args->daddr_v6 + 12, sizeof(data4.daddr)); // <- rejected here
	}
	bpf_perf_event_output(args, &ipv4_events, BPF_F_CURRENT_CPU, &data4, sizeof(data4));
	return 0;
}

char _license[] SEC("license") = "GPL";
