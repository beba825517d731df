// SPDX-License-Identifier: MIT OR Apache-2.0
//
// The argument block of xdpdbg_cas (map_cas.bpf.c), passed as BPF_PROG_RUN's ctx_in and copied
// back after the run. xdpdbg/src/cas/args.rs mirrors it; a test compares both layouts via BTF.

#ifndef BPF_MAPS_MAP_CAS_H
#define BPF_MAPS_MAP_CAS_H

#define CAS_MAX_KEY 256
#define CAS_MAX_VALUE 512
#define CAS_NO_LOCK 0xffffffffu

enum cas_op {
	CAS_OP_CAS = 1,           // compare FIELD with expected, set it to desired
	CAS_OP_CAS_DELETE = 2,    // the same, then delete the entry if it swapped
	CAS_OP_LOCKED_CAS = 3,    // compare and set FIELD under the value's bpf_spin_lock
	CAS_OP_LOCKED_UPDATE = 4, // compare FIELD, replace the whole value under the lock
};

enum cas_result {
	CAS_SWAPPED = 0,
	CAS_MISMATCH = 1,
	CAS_ABSENT = 2,
	CAS_BAD_ARGS = 3,
	CAS_DELETE_FAILED = 4,
};

struct cas_args {
	__u32 op;       // enum cas_op
	__u32 offset;   // byte offset of the compared field in the value
	__u32 width;    // field width in bytes: 4 or 8 (atomics), 1, 2, 4 or 8 (under a lock)
	__u32 result;   // out: enum cas_result
	__u64 expected; // the field's expected value (little-endian integer of `width` bytes)
	__u64 desired;  // the field's new value, or the tombstone for CAS_OP_CAS_DELETE
	__u64 observed; // out: the field's value before the operation
	__u8 key[CAS_MAX_KEY];
	__u8 value[CAS_MAX_VALUE]; // CAS_OP_LOCKED_UPDATE: the whole new value
};

#endif
