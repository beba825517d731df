#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef __u32 u32;
typedef __u8 u8;
#define TASK_COMM_LEN 16

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(key_size, sizeof(u8[16]));
	__uint(value_size, sizeof(u32));
	__uint(max_entries, 256);
} map SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat2")
int enterOpenat2(void *ctx)
{
	u8 comm[TASK_COMM_LEN] = {};

	bpf_get_current_comm(&comm, sizeof(comm));
	u32 *counter = bpf_map_lookup_elem(&map, &comm);
	*(counter) = (*(counter)) + 1; // <- rejected here
	return 0;
}

char _license[] SEC("license") = "GPL";
