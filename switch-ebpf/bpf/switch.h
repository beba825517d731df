/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the switch's data plane and its control plane (switch-ctl). The Rust mirror
 * is switch-ebpf/src/types.rs; a test checks both against this object's BTF.
 */
#ifndef SWITCH_H
#define SWITCH_H

#include <linux/types.h>

/* Ports are found by ifindex in arrays: ifindexes at or above this are left to the bridge. */
#define SWITCH_IFINDEX_MAX 65536
/* Ports with counters (each port gets a slot from the control plane). */
#define SWITCH_PORTS_MAX 1024
/* FDB entries the object declares; switch-ctl sizes the map at load (`--fdb-entries`). */
#define SWITCH_FDB_MAX 131072

/* FDB key: a MAC address within one bridge (the bridge's ifindex). */
struct fdb_key {
	__u32 bridge;
	__u8 mac[6];
	__u8 pad[2];
};

enum fdb_flags {
	FDB_LOCAL = 1 << 0,  /* the bridge's or a port's own address: up the stack */
	FDB_STATIC = 1 << 1, /* never ages: no refresh frames */
};

struct fdb_entry {
	__u32 ifindex;        /* the port the MAC lives behind */
	__u32 flags;          /* enum fdb_flags */
	/* CLOCK_MONOTONIC: when a frame from this MAC last went to the bridge so that the bridge
	 * refreshes its entry itself (0: not yet); BPF_MAPS_DYING while switch-ctl ages it out. */
	__u64 last_passed_ns;
};

enum port_flags {
	PORT_FORWARDING = 1 << 0, /* STP state forwarding */
	PORT_UP = 1 << 1,         /* link up (admin and carrier) */
	PORT_HAIRPIN = 1 << 2,
	PORT_ISOLATED = 1 << 3,
	PORT_LOCKED = 1 << 4,     /* locked or MAB: the bridge decides */
	PORT_XDP_XMIT = 1 << 5,   /* takes XDP-redirected frames (NETDEV_XDP_ACT_NDO_XMIT) */
	PORT_EGRESS = 1 << 6,     /* the control plane lets fast-path frames out of this port */
};

struct port_config {
	__u32 bridge;     /* the master's ifindex; 0: not a port of an accelerated bridge */
	__u32 flags;      /* enum port_flags */
	__u32 slot;       /* index into `counters` */
	/* One frame per source MAC per this many ms goes to the bridge, which refreshes (or
	 * relearns) its FDB entry from it; 0: never (the bridge does not age). */
	__u32 refresh_ms;
};

enum pass_reason {
	PASS_LINK_LOCAL,    /* 01:80:c2:00:00:0x: STP, LACP, ... */
	PASS_MULTICAST,     /* multicast and broadcast */
	PASS_INGRESS_STATE, /* ingress not forwarding, or locked */
	PASS_SOURCE,        /* source MAC unknown, on another port, or being aged: the bridge learns */
	PASS_FDB_MISS,      /* unknown unicast: the bridge floods */
	PASS_LOCAL,         /* for the bridge itself */
	PASS_SAME_PORT,     /* egress == ingress without hairpin */
	PASS_ISOLATED,      /* both ports isolated */
	PASS_EGRESS_STATE,  /* egress not in this bridge, not forwarding, down, or cannot take it */
	PASS_REFRESH,       /* this MAC's frame of the refresh interval: the bridge refreshes its entry */
	PASS_REASONS,
};

struct port_counters {
	__u64 fast_packets;
	__u64 fast_bytes;
	__u64 dropped; /* runt frames (shorter than an Ethernet header) */
	__u64 passed[PASS_REASONS];
};

/*
 * Per CPU, the last frame the full decision forwarded: its first 12 bytes (destination and
 * source MAC), ingress, egress, and the `fdb_generation` it was decided under. A frame with the
 * same bytes on the same port, under the same generation, takes the same decision without the
 * FDB and port lookups (the common case: a NAPI batch of one flow). `refresh_at` keeps the
 * refresh frames exact: from then on the source's refresh may be due, and the frame goes
 * through the full decision, which claims it.
 */
struct pair_cache {
	__u64 generation;
	__u64 refresh_at; /* coarse CLOCK_MONOTONIC ns; ~0: the source never refreshes */
	__u32 addrs[3];   /* bytes 0-11 of the frame: h_dest, h_source */
	__u32 ingress;
	__u32 egress;
	__u32 egress_needs; /* the attachment's egress requirement (PORT_XDP_XMIT for XDP) */
};

#endif
