// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Compare-and-swap and conditional operations on the values of ONE map, run from userspace with
// BPF_PROG_RUN (a BPF_PROG_TYPE_SYSCALL program, loaded sleepable).
//
// The loader (xdpdbg/src/cas/program.rs) binds `target` to the map to operate on and fills the
// read-only constants below before loading, so the verifier checks every access against the real
// value size and the real bpf_spin_lock offset. Branches for the other case are dead code then.
//
// Without a spin lock, fields are compared and swapped with the CPU's atomic compare-exchange,
// the same instruction a cooperating data plane uses, so no update is ever lost. With a spin lock,
// every access happens under that lock, byte by byte at constant offsets (the verifier forbids
// touching the lock itself and cannot prove a variable offset misses it).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "map_cas.h"

const volatile __u32 value_size = 8;
const volatile __u32 lock_offset = CAS_NO_LOCK;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} target SEC(".maps");

static __always_inline int atomic_cas(void *v, struct cas_args *args)
{
	__u32 off = args->offset;

	if (args->width == 8) {
		if (value_size < 8 || off > value_size - 8 || (off & 7))
			return CAS_BAD_ARGS;
		off &= ~7u;
		args->observed = __sync_val_compare_and_swap((__u64 *)(v + off), args->expected,
							     args->desired);
	} else if (args->width == 4) {
		if (value_size < 4 || off > value_size - 4 || (off & 3))
			return CAS_BAD_ARGS;
		off &= ~3u;
		args->observed = __sync_val_compare_and_swap((__u32 *)(v + off),
							     (__u32)args->expected,
							     (__u32)args->desired);
	} else {
		return CAS_BAD_ARGS;
	}
	return args->observed == args->expected ? CAS_SWAPPED : CAS_MISMATCH;
}

// Reads the compared field byte by byte (little-endian), skipping nothing: the caller made sure
// the field does not overlap the lock.
static __always_inline __u64 locked_read(__u8 *v, __u32 off, __u32 width)
{
	__u64 x = 0;

	for (__u32 i = 0; i < CAS_MAX_VALUE; i++) {
		if (i >= value_size)
			break;
		if (i >= lock_offset && i < lock_offset + 4)
			continue;
		if (i >= off && i < off + width)
			x |= (__u64)v[i] << ((i - off) * 8);
	}
	return x;
}

static __always_inline void locked_write_field(__u8 *v, struct cas_args *args)
{
	for (__u32 i = 0; i < CAS_MAX_VALUE; i++) {
		if (i >= value_size)
			break;
		if (i >= lock_offset && i < lock_offset + 4)
			continue;
		if (i >= args->offset && i < args->offset + args->width)
			v[i] = args->desired >> ((i - args->offset) * 8);
	}
}

// Copies the new value from the argument block. Unrolled: the verifier only allows context
// reads at constant offsets.
static __always_inline void locked_write_value(__u8 *v, struct cas_args *args)
{
#pragma clang loop unroll(full)
	for (__u32 i = 0; i < CAS_MAX_VALUE; i++) {
		if (i >= value_size)
			break;
		if (i >= lock_offset && i < lock_offset + 4)
			continue;
		v[i] = args->value[i];
	}
}

static __always_inline int locked_op(void *v, struct cas_args *args)
{
	__u32 off = args->offset, width = args->width;
	int ret;

	if (width != 1 && width != 2 && width != 4 && width != 8)
		return CAS_BAD_ARGS;
	if (off > CAS_MAX_VALUE || off + width > value_size)
		return CAS_BAD_ARGS;
	if (off < lock_offset + 4 && lock_offset < off + width)
		return CAS_BAD_ARGS;

	bpf_spin_lock((struct bpf_spin_lock *)(v + lock_offset));
	args->observed = locked_read(v, off, width);
	ret = args->observed == args->expected ? CAS_SWAPPED : CAS_MISMATCH;
	if (ret == CAS_SWAPPED && args->op == CAS_OP_LOCKED_UPDATE)
		locked_write_value(v, args);
	else if (ret == CAS_SWAPPED)
		locked_write_field(v, args);
	bpf_spin_unlock((struct bpf_spin_lock *)(v + lock_offset));
	return ret;
}

// Deliberately in .text rather than SEC("syscall"): aya-obj 0.3 rejects program sections it does
// not know, and this function is only ever loaded by xdpdbg's own loader, which sets the type.
__attribute__((used)) int xdpdbg_cas(struct cas_args *args)
{
	__u64 key[CAS_MAX_KEY / 8];
	void *v;
	int ret;

	for (int i = 0; i < CAS_MAX_KEY / 8; i++)
		key[i] = ((__u64 *)args->key)[i];

	v = bpf_map_lookup_elem(&target, key);
	if (!v) {
		args->result = CAS_ABSENT;
		return 0;
	}

	if (lock_offset == CAS_NO_LOCK) {
		if (args->op != CAS_OP_CAS && args->op != CAS_OP_CAS_DELETE) {
			args->result = CAS_BAD_ARGS;
			return 0;
		}
		ret = atomic_cas(v, args);
	} else {
		if (args->op != CAS_OP_LOCKED_CAS && args->op != CAS_OP_LOCKED_UPDATE &&
		    args->op != CAS_OP_CAS_DELETE) {
			args->result = CAS_BAD_ARGS;
			return 0;
		}
		ret = locked_op(v, args);
	}

	if (ret == CAS_SWAPPED && args->op == CAS_OP_CAS_DELETE) {
		// The entry now holds the caller's tombstone, which cooperating writers treat as
		// absent; deleting it cannot drop a refresh that happened after the compare.
		if (bpf_map_delete_elem(&target, key))
			ret = CAS_DELETE_FAILED;
	}
	args->result = ret;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
