#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define RING_SIZE 16

struct data_t {
	__u8 buffer[4096];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RING_SIZE);
	__type(key, int);
	__type(value, struct data_t);
} ring_buf SEC(".maps");

struct iovec {
	void *iov_base;
	__u64 iov_len;
};

SEC("kprobe/udp_sendmsg")
int kprobe__udp_sendmsg(struct pt_regs *ctx)
{
	struct iovec *iov = (struct iovec *)PT_REGS_PARM3(ctx);
	__u64 len = 0;
	void *base = NULL;
	__u32 nxt = 0;

	bpf_probe_read_kernel(&len, sizeof(len), &iov->iov_len);
	bpf_probe_read_kernel(&base, sizeof(base), &iov->iov_base);

	struct data_t *entry = NULL;
	int _n = (int)nxt;
	entry = bpf_map_lookup_elem(&ring_buf, &_n);
	if (entry == NULL)
		return 0;

	if (len > sizeof(entry->buffer))
		len = sizeof(entry->buffer);
	bpf_probe_read(entry->buffer, len, base);
	return 0;
}

char _license[] SEC("license") = "GPL";
