#include <stddef.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
#define ARGSIZE 128
#define TOTAL_MAX_ARGS 60
#define FULL_MAX_ARGS_ARR (TOTAL_MAX_ARGS * ARGSIZE)
#define BASE_EVENT_SIZE (sizeof(struct event) - FULL_MAX_ARGS_ARR)

struct event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	int retval;
	int args_count;
	unsigned int args_size;
	char comm[TASK_COMM_LEN];
	char args[FULL_MAX_ARGS_ARR];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* sys_exit_execve's format: common fields, __syscall_nr, ret */
struct sys_exit_args {
	unsigned long long common;
	long __syscall_nr;
	long ret;
};

SEC("tracepoint/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct sys_exit_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *event = bpf_map_lookup_elem(&execs, &pid);

	if (!event)
		return 0;
	event->retval = ctx->ret;
	bpf_get_current_comm(&event->comm, sizeof(event->comm));

	size_t len = BASE_EVENT_SIZE + event->args_size;
	if (len <= sizeof(*event))
		bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, event, len);
	bpf_map_delete_elem(&execs, &pid);
	return 0;
}

char _license[] SEC("license") = "GPL";
