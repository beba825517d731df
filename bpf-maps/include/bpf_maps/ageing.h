// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Race-free ageing of map entries shared by a data plane and a userspace ager.
//
// The race (NTT, 2019): the ager reads an entry's last-seen time, finds it stale, and deletes it;
// if the data plane refreshed the entry in between, a live entry is lost. The protocol here
// closes it with one atomic field:
//
//   data plane  bpf_maps_refresh(&v->last_seen, now): compare-and-swap the old time to `now`,
//               never over BPF_MAPS_DYING; returns 0 when the entry is being aged (treat as a miss).
//   ager        compare-and-swap last_seen from the stale time it read to BPF_MAPS_DYING, and only
//               if that succeeded, delete the entry (xdpdbg::cas::Cas::compare_and_delete does
//               both in one BPF_PROG_RUN of a syscall program).
//
// Exactly one side wins the compare-and-swap on the same old value: either the refresh lands and
// the ager's swap fails (the entry stays), or the tombstone lands and the refresh fails (the data
// plane sees a miss and relearns). No refresh is ever silently dropped. See docs/map-cas.md.

#ifndef BPF_MAPS_AGEING_H
#define BPF_MAPS_AGEING_H

#include <linux/types.h>

// The tombstone: an entry whose last_seen holds it is being deleted and counts as absent.
#define BPF_MAPS_DYING 0xffffffffffffffffULL

// Marks the entry as seen at `now`. Returns 1 when the entry is alive (refreshed, by this call or
// a concurrent one), 0 when the ager has claimed it.
static __always_inline int bpf_maps_refresh(__u64 *last_seen, __u64 now)
{
	for (int i = 0; i < 4; i++) {
		__u64 old = *(volatile __u64 *)last_seen;

		if (old == BPF_MAPS_DYING)
			return 0;
		if (old >= now)
			return 1;
		if (__sync_val_compare_and_swap(last_seen, old, now) == old)
			return 1;
	}
	// Lost four times in a row to other refreshers: it is alive unless the ager won since.
	return *(volatile __u64 *)last_seen != BPF_MAPS_DYING;
}

#endif
