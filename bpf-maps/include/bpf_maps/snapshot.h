// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Whole-map consistent snapshots of counters, for programs that cooperate.
//
// No kernel command reads a live map atomically. A program that reaches its counters through an
// outer array of two maps lets userspace take a snapshot that is exact at one instant:
//
//   slot 0 holds the active map (programs write it), slot 1 the spare (no program can reach it).
//   xdpdbg::maps::consistent::take():
//     1. reads the spare S, which is quiet;
//     2. swaps the slots; a map-in-map update returns only after every program that could still
//        hold the old active map has finished (the kernel runs synchronize_rcu for it);
//     3. reads the old active map A, now quiet.
//   Counters are additive, so A + S is every increment made before the swap and none after.
//
// Use it for counters (values whose fields only ever add up): the snapshot sums both maps.
//
//   // maps stats_a and stats_b (per-CPU arrays of 4 struct counters) and the outer `stats`
//   BPF_MAPS_SNAPSHOT_MAPS(stats, BPF_MAP_TYPE_PERCPU_ARRAY, 4, __u32, struct counters);
//   ...
//   void *active = bpf_maps_snapshot_active(&stats);  // once per program run
//   struct counters *c = active ? bpf_map_lookup_elem(active, &key) : NULL;
//
// Look the active map up ONCE per run and make every update of that run through it: a run that
// looked it up twice could straddle a swap and split its updates across a snapshot boundary.
//
// The loader puts stats_a and stats_b into the outer map's slots once
// (xdpdbg::maps::consistent::install); until then lookups return NULL.

#ifndef BPF_MAPS_SNAPSHOT_H
#define BPF_MAPS_SNAPSHOT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// clang 14 writes a map-in-map's buffer value type into BTF only as a forward declaration, which
// loaders reject; a read-only zero value of that type (`<name>_zero`, in .rodata) makes clang
// emit the type whole.
#define BPF_MAPS_SNAPSHOT_MAPS(name, map_type, entries, key_type, value_type)                       \
	typedef struct {                                                                           \
		__uint(type, map_type);                                                            \
		__uint(max_entries, entries);                                                      \
		__type(key, key_type);                                                             \
		__type(value, value_type);                                                         \
	} name##_buffer_def;                                                                       \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);                                          \
		__uint(max_entries, 2);                                                            \
		__type(key, __u32);                                                                \
		__array(values, name##_buffer_def);                                                \
	} name SEC(".maps");                                                                       \
	name##_buffer_def name##_a SEC(".maps"), name##_b SEC(".maps");                          \
	const value_type name##_zero __attribute__((used)) = {}

// The active map of the snapshot pair `outer` (NULL until the loader installed the pair).
static __always_inline void *bpf_maps_snapshot_active(void *outer)
{
	__u32 slot = 0;

	return bpf_map_lookup_elem(outer, &slot);
}

#endif
