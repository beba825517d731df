/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Types shared by the switch's data plane and its control plane (switch-ctl). */
#ifndef SWITCH_H
#define SWITCH_H

#include <linux/types.h>

#define SWITCH_FDB_MAX 65536
#define SWITCH_PORTS_MAX 1024

/* FDB key: a MAC address within one bridge (the bridge's ifindex). */
struct fdb_key {
	__u32 bridge;
	__u8 mac[6];
	__u8 pad[2];
};

enum fdb_flags {
	FDB_LOCAL = 1 << 0, /* the bridge's own address: up the stack */
	FDB_STATIC = 1 << 1,
};

struct fdb_entry {
	__u32 ifindex; /* egress port */
	__u32 flags;   /* enum fdb_flags */
	__u64 last_seen_ns;
};

enum port_flags {
	PORT_FORWARDING = 1 << 0,   /* STP state forwarding */
	PORT_HAIRPIN = 1 << 1,
	PORT_ISOLATED = 1 << 2,
	PORT_LOCKED = 1 << 3,
	PORT_CAN_REDIRECT = 1 << 4, /* NETDEV_XDP_ACT_NDO_XMIT and the link is up */
};

struct port_config {
	__u32 bridge; /* the master's ifindex */
	__u32 flags;  /* enum port_flags */
};

enum pass_reason {
	PASS_MALFORMED,
	PASS_MULTICAST,
	PASS_PORT_UNKNOWN,
	PASS_PORT_STATE,
	PASS_FDB_MISS,
	PASS_LOCAL,
	PASS_SAME_PORT,
	PASS_ISOLATED,
	PASS_REASONS,
};

struct port_counters {
	__u64 fast_packets;
	__u64 fast_bytes;
	__u64 passed[PASS_REASONS];
};

#endif
