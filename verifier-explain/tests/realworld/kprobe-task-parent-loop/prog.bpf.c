#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define PID 1234

struct task_struct {
	int pid;
	struct task_struct *parent;
} __attribute__((preserve_access_index));

/* bcc substitutes init_task's address; here user space sets it before loading */
__u64 init_task_addr = 0;

SEC("kprobe/do_nanosleep")
int do_trace(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *pos = task;

	for (; pos != (struct task_struct *)init_task_addr; pos = pos->parent) { // <- rejected here
		int pid = 0;

		bpf_probe_read_kernel(&pid, sizeof(pid), &pos->pid);
		if (pid == PID)
			break;
	}
	bpf_printk("found %p", pos);
	return 0;
}

char _license[] SEC("license") = "GPL";
