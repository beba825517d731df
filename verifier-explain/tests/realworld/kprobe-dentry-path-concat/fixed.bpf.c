#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

typedef __u64 size_t;
typedef __u8 u8;
typedef __u32 u32;

struct qstr {
	u32 len;
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
} __attribute__((preserve_access_index));

#define MAX_PATH 512
#define NAME_READ 64

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, char[MAX_PATH]);
} path_buf SEC(".maps");

SEC("kprobe/vfs_unlink")
int trace_unlink(struct pt_regs *ctx)
{
	struct dentry *curr_dentry = (struct dentry *)PT_REGS_PARM3(ctx);
	u32 zero = 0;
	char *filename = bpf_map_lookup_elem(&path_buf, &zero);
	int err = 0;

	if (!filename)
		return 0;

	size_t pos = 0;
	const u32 MAX_BACKTRACE_DEPTH = 20;
	for (u32 cnt = MAX_BACKTRACE_DEPTH; cnt != 0; --cnt) {
		if (err || curr_dentry == NULL)
			break;
		size_t name_len = (size_t)BPF_CORE_READ(curr_dentry, d_name.len);
		const u8 *name = BPF_CORE_READ(curr_dentry, d_name.name);
		if (name_len <= 1)
			break;

		if (pos > MAX_PATH - NAME_READ)
			break;
		size_t length = name_len < NAME_READ ? name_len : NAME_READ;
		err = bpf_probe_read_kernel_str(filename + pos, length, name) < 0;
		pos += name_len;
		struct dentry *temp_dentry = BPF_CORE_READ(curr_dentry, d_parent);
		if (temp_dentry == curr_dentry || temp_dentry == NULL)
			break;
		curr_dentry = temp_dentry;
	}
	bpf_printk("%s", filename);
	return 0;
}

char _license[] SEC("license") = "GPL";
