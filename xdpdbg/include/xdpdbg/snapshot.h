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
//   struct stats_def {
//           __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
//           __uint(max_entries, 4);
//           __type(key, __u32);
//           __type(value, struct counters);
//   };
//   XDPDBG_SNAPSHOT_MAPS(stats, stats_def);       // maps stats_a, stats_b and the outer `stats`
//   ...
//   void *active = xdpdbg_snapshot_active(&stats);  // once per program run
//   struct counters *c = active ? bpf_map_lookup_elem(active, &key) : NULL;
//
// Look the active map up ONCE per run and make every update of that run through it: a run that
// looked it up twice could straddle a swap and split its updates across a snapshot boundary.
//
// The loader puts stats_a and stats_b into the outer map's slots once
// (xdpdbg::maps::consistent::install); until then lookups return NULL.

#ifndef XDPDBG_SNAPSHOT_H
#define XDPDBG_SNAPSHOT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define XDPDBG_SNAPSHOT_MAPS(name, inner_def)                                                      \
	struct inner_def name##_a SEC(".maps"), name##_b SEC(".maps");                             \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);                                          \
		__uint(max_entries, 2);                                                            \
		__type(key, __u32);                                                                \
		__array(values, struct inner_def);                                                 \
	} name SEC(".maps")

// The active map of the snapshot pair `outer` (NULL until the loader installed the pair).
static __always_inline void *xdpdbg_snapshot_active(void *outer)
{
	__u32 slot = 0;

	return bpf_map_lookup_elem(outer, &slot);
}

#endif
