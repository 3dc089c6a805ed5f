/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bulkhead_abi.h - the one ABI shared by the BPF programs (bpf/) and the
 * controller (userspace/): map keys and values, constants, verdict reasons.
 *
 * Every struct has explicit padding and a _Static_assert on its size; a
 * change here changes BH_ABI_VERSION. Multi-byte fields are host byte order
 * unless their type says __be16/__be32. Addresses are stored as 16 bytes:
 * IPv6 as is, IPv4 as an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
 *
 * Policy atomicity: every map that holds compiled policy has a generation
 * (0 or 1) in its key. The controller writes the whole new policy under the
 * inactive generation, then flips bh_active.gen in one 4-byte store, then
 * deletes the old generation's entries. A packet reads bh_active once and
 * makes every lookup with that generation, so it is judged wholly by the old
 * or wholly by the new policy.
 */
#ifndef BULKHEAD_ABI_H
#define BULKHEAD_ABI_H

#include <linux/types.h>

#define BH_ABI_VERSION		8	/* 3: bh_devctr, device counter slots; 4: bh_clock; 5: bh_evslot;
					   6: bh_port, bh_macport, bh_claim, drop_flood, vc claim_seen;
					   7: bh_flow, bh_flowstat, vc flow, pass_audit, audit flags;
					   8: detection maps, drop_block, bh_quar_val.level */

/* ---- sizes (tunables live here and nowhere else) ---------------------- */
#ifndef BH_MAX_GROUPS
#define BH_MAX_GROUPS		1024	/* group ids 0..BH_MAX_GROUPS-1 */
#endif
#ifndef BH_MAX_DEVICES
#define BH_MAX_DEVICES		65536	/* per generation */
#endif
#ifndef BH_MAX_IPS
#define BH_MAX_IPS		131072	/* bound addresses, per generation */
#endif
#ifndef BH_MAX_POLICY
#define BH_MAX_POLICY		(1 << 20) /* policy entries, per generation */
#endif
#ifndef BH_MAX_INET
#define BH_MAX_INET		65536	/* internet CIDR entries, per generation */
#endif
#ifndef BH_MAX_TALK
#define BH_MAX_TALK		65536	/* may-talk group pairs, per generation */
#endif
#ifndef BH_MAX_RULES
#define BH_MAX_RULES		131072	/* rule counters, per generation */
#endif
#define BH_MAX_GW		256	/* gateway MACs / addresses / LAN prefixes */
#define BH_MAX_QUARANTINE	4096
#define BH_MAX_CT		262144	/* connection tracking (LRU) */
#define BH_MAX_FRAG		16384	/* fragment tracking (LRU) */
#define BH_MAX_DEVSTATS		65536	/* per-MAC counters (LRU, per-CPU) */
#define BH_MAX_DEVCTR		65536	/* device counter slots (array, per-CPU) */
#define BH_VCACHE_SLOTS		16384	/* flow verdict cache, per CPU (power of 2) */
#define BH_MAX_EXTHDR		8	/* IPv6 extension headers walked */
#define BH_EVENTS_RING		(256 * 1024) /* bh_events ring buffer, bytes */
#define BH_MAX_EVLIMIT		4096	/* per-MAC event buckets (LRU) */
#define BH_MAX_PORTS		1024	/* bridge ports learned (bh_port) */
#define BH_PORT_MACS		4	/* MACs held per port */
#define BH_MAX_MACPORT		65536	/* MAC -> port (LRU) */
#define BH_MAX_CLAIMS		65536	/* learned address claims (LRU) */
#define BH_MAX_PINS		4096	/* devices pinned to a bridge port */
#ifndef BH_EV_RATE
#define BH_EV_RATE		10	/* deny events per second per source MAC bucket */
#endif
#ifndef BH_EV_BURST
#define BH_EV_BURST		20	/* ... and at most this many at once */
#endif
#ifndef BH_EV_CPU_RATE
#define BH_EV_CPU_RATE		1000	/* deny events per second per CPU, all MACs */
#endif
#ifndef BH_EV_CPU_BURST
#define BH_EV_CPU_BURST		2000
#endif

/* ---- group ids --------------------------------------------------------- */
/*
 * User groups get ids 0..n-1 in policy order. The destination classes below
 * are pseudo groups, valid only as bh_pol_key.dgroup. Internet CIDR classes
 * (returned by bh_inet) start at BH_GRP_CIDR_BASE.
 */
#define BH_GRP_CIDR_BASE	0x8000
#define BH_GRP_GATEWAY		0xfff0	/* the gateway's own LAN addresses */
#define BH_GRP_INTERNET		0xfff1	/* neither a device nor the gateway */
#define BH_GRP_MULTICAST	0xfff2	/* broadcast and multicast */
#define BH_GRP_SOME		0xfff3	/* bh_talk only: (g, SOME) = g talks to some group */
#define BH_GRP_NONE		0xffff

/* ---- protocols in bh_pol_key.proto ------------------------------------- */
#define BH_PROTO_ANY		0xff	/* wildcard entry: any IP protocol */
/* otherwise the IP protocol number: 1 icmp, 6 tcp, 17 udp, 58 icmpv6 */

/* bh_pol_key.port: destination port (host order); 0 = any port */
#define BH_PORT_ANY		0

/* ---- actions ------------------------------------------------------------ */
#define BH_ACT_DENY		0
#define BH_ACT_ALLOW		1

#define BH_RULE_DEFAULT		0xffffffffu	/* verdict came from a default */
#define BH_RULE_PIN		0xfffffffeu	/* from a MAC's port pin (member port:) */

/* ---- quarantine.allow services (bh_config.qallow bits) ----------------- */
#define BH_SVC_DHCP		(1u << 0)	/* udp/67, udp/547 to the gateway */
#define BH_SVC_DNS		(1u << 1)	/* udp+tcp/53 to the gateway */
#define BH_SVC_NTP		(1u << 2)	/* udp/123 to the gateway */
#define BH_SVC_ICMP		(1u << 3)	/* echo-request to the gateway */

/* ---- bh_config.flags --------------------------------------------------- */
#define BH_CFG_VALID		(1u << 0)	/* generation holds a policy */
#define BH_CFG_EW_ALLOW		(1u << 1)	/* defaults.east_west: allow */
#define BH_CFG_GW_ALLOW		(1u << 2)	/* defaults.gateway: allow */
#define BH_CFG_AUDIT		(1u << 3)	/* defaults.mode: audit, every group audited */

/* ---- verdict reasons: index of bh_stats ---------------------------------- */
/*
 * The one list of verdict reasons: X(ID, "name") gives BH_R_<ID>, its
 * value (its place here: an ABI, bh_stats is indexed by it; append only)
 * and the name the controller prints, counts in nftables and logs with.
 * Passes first, then drops from BH_R_PASS_MAX.
 */
#define BH_REASONS(X)							\
	/* a rule allowed a new or ongoing flow */			\
	X(PASS_RULE, "pass_rule")					\
	/* a default allowed it */					\
	X(PASS_DEFAULT, "pass_default")					\
	/* reply to a tracked flow */					\
	X(PASS_REPLY, "pass_reply")					\
	/* ARP between devices that may talk */				\
	X(PASS_ARP, "pass_arp")						\
	/* IPv6 ND / RS / MLD */					\
	X(PASS_ND, "pass_nd")						\
	/* quarantined device to a quarantine.allow service */		\
	X(PASS_QSVC, "pass_qsvc")					\
	/* non-first fragment of an allowed datagram */			\
	X(PASS_FRAG, "pass_frag")					\
	/* 802.1X to the gateway */					\
	X(PASS_EAPOL, "pass_eapol")					\
	/* the policy would drop it; audit (staging) passes it */	\
	X(PASS_AUDIT, "pass_audit")					\
	/* a deny rule matched */					\
	X(DROP_RULE, "drop_rule")					\
	/* no rule matched, default deny */				\
	X(DROP_DEFAULT, "drop_default")					\
	/* source or destination quarantined */				\
	X(DROP_QUARANTINE, "drop_quarantine")				\
	/* MAC/IP binding violated (ARP, ND, IP) */			\
	X(DROP_SPOOF, "drop_spoof")					\
	/* truncated or invalid headers */				\
	X(DROP_MALFORMED, "drop_malformed")				\
	/* 802.1Q/802.1ad tag the policy cannot judge */		\
	X(DROP_VLAN, "drop_vlan")					\
	/* fragment that cannot be judged */				\
	X(DROP_FRAG, "drop_frag")					\
	/* IPv6 header chain too long or forbidden */			\
	X(DROP_EXTHDR, "drop_exthdr")					\
	/* not IPv4, IPv6, ARP or EAPOL */				\
	X(DROP_ETHERTYPE, "drop_ethertype")				\
	/* RA, redirect, DHCP server from a device */			\
	X(DROP_ROGUE, "drop_rogue")					\
	/* no valid policy generation (fail closed) */			\
	X(DROP_NOPOLICY, "drop_nopolicy")				\
	/* a flooded copy withheld from a port (egress) */		\
	X(DROP_FLOOD, "drop_flood")					\
	/* an internet destination on the blocklist (detect:) */	\
	X(DROP_BLOCK, "drop_block")

#define BH_REASON_ENUM(id, name)	BH_R_##id,
enum bh_reason {
	BH_REASONS(BH_REASON_ENUM)
	BH_R_MAX,
	BH_R_PASS_MAX = BH_R_DROP_RULE,	/* --- drops from here --- */
};
#undef BH_REASON_ENUM

/* name table entries: { BH_REASONS(BH_REASON_NAME) }, indexed by the enum */
#define BH_REASON_NAME(id, name)	[BH_R_##id] = name,

_Static_assert(BH_R_PASS_MAX == 9 && BH_R_DROP_FLOOD == 20 && BH_R_DROP_BLOCK == 21 &&
	       BH_R_MAX == 22,
	       "enum bh_reason: values are an ABI (bh_stats, events)");

/* ---- maps: keys and values ---------------------------------------------- */

/* bh_active: ARRAY[1], key 0. Written by userspace (flip), read by BPF. */
struct bh_active {
	__u32 gen;		/* 0 or 1: the generation packets use */
	__u32 epoch;		/* bumped on every successful apply */
};
_Static_assert(sizeof(struct bh_active) == 8, "bh_active");

/* bh_config: ARRAY[2], key gen. Written by userspace before the flip. */
struct bh_config {
	__u32 flags;		/* BH_CFG_* */
	__u16 unknown_group;	/* group of MACs not in bh_devices */
	__u16 qallow;		/* BH_SVC_* a quarantined device may use */
	__u32 epoch;
	__u32 abi_version;	/* BH_ABI_VERSION of the writer */
};
_Static_assert(sizeof(struct bh_config) == 16, "bh_config");

/* bh_groups: ARRAY[2 * BH_MAX_GROUPS], key gen * BH_MAX_GROUPS + group id. */
/*
 * audit: frames from or to the group's devices that the policy would drop
 * (drop_rule, drop_default, drop_flood) pass, counted as pass_audit.
 */
struct bh_group {
	__u8 internet;		/* BH_ACT_*: this group's internet default */
	__u8 valid;		/* 1 when the group exists in this generation */
	__u8 audit;		/* 1: audit: true (staging) */
	__u8 pad;
	__u32 pad2;
};
_Static_assert(sizeof(struct bh_group) == 8, "bh_group");

/* bh_devices: HASH, MAC -> device. Written by userspace, per generation. */
struct bh_dev_key {
	__u8 gen;
	__u8 pad;
	__u8 mac[6];
};
_Static_assert(sizeof(struct bh_dev_key) == 8, "bh_dev_key");

#define BH_DEV_HAS_V4		(1u << 0)	/* has bound IPv4: strict source check */
#define BH_DEV_HAS_V6		(1u << 1)	/* has bound IPv6 (non link-local) */

struct bh_dev_val {
	__u16 group;
	__u16 flags;		/* BH_DEV_* */
	__u32 ctr_slot;		/* the device's counters: bh_devctr[ctr_slot]; 0 none */
};
_Static_assert(sizeof(struct bh_dev_val) == 8, "bh_dev_val");

/* bh_ips: HASH, bound address -> owning device. Written by userspace. */
struct bh_ip_key {
	__u8 gen;
	__u8 pad[3];
	__u8 addr[16];
};
_Static_assert(sizeof(struct bh_ip_key) == 20, "bh_ip_key");

struct bh_ip_val {
	__u8 mac[6];
	__u16 group;
};
_Static_assert(sizeof(struct bh_ip_val) == 8, "bh_ip_val");

/*
 * bh_policy: HASH (no prealloc), (src group, dst group, proto, port) -> verdict.
 * Written by userspace. The BPF side looks up, most specific first:
 *   (sg, dg, proto, dport) -> (sg, dg, proto, BH_PORT_ANY) -> (sg, dg, BH_PROTO_ANY, BH_PORT_ANY)
 * and stops at the first entry found; the compiler folds every rule covering
 * a point (deny wins) into the most specific entry that exists for it. ICMP
 * and other protocols without ports use port BH_PORT_ANY directly.
 * No entry: the default for the destination class applies.
 */
struct bh_pol_key {
	__u8 gen;
	__u8 proto;		/* IPPROTO_* or BH_PROTO_ANY */
	__u16 port;		/* destination port, host order; 0 = any */
	__u16 sgroup;
	__u16 dgroup;		/* group id or BH_GRP_* */
};
_Static_assert(sizeof(struct bh_pol_key) == 8, "bh_pol_key");

struct bh_pol_val {
	__u8 action;		/* BH_ACT_* */
	__u8 pad[3];
	__u32 rule_id;		/* deciding rule (index into bh_rulestats) */
};
_Static_assert(sizeof(struct bh_pol_val) == 8, "bh_pol_val");

/*
 * bh_inet: LPM_TRIE, (gen, src group, internet address) -> CIDR class.
 * prefixlen counts the 32 bits of gen/pad/sgroup plus the address prefix
 * (IPv4: 96 + v4 prefix length, as the address is v4-mapped).
 * Written by userspace. The class is a dgroup (>= BH_GRP_CIDR_BASE) for
 * bh_policy; no match means dgroup BH_GRP_INTERNET.
 */
struct bh_inet_key {
	__u32 prefixlen;
	__u8 gen;
	__u8 pad;
	__u16 sgroup;
	__u8 addr[16];
};
_Static_assert(sizeof(struct bh_inet_key) == 24, "bh_inet_key");
#define BH_INET_KEY_HDR_BITS	32

struct bh_inet_val {
	__u16 dgroup;
	__u16 pad;
};
_Static_assert(sizeof(struct bh_inet_val) == 4, "bh_inet_val");

/*
 * bh_talk: HASH, (gen, group a, group b) -> 1 when ARP / ND between devices
 * of the two groups may pass (a rule allows some traffic between them in
 * either direction, or east_west defaults to allow). Symmetric: the
 * compiler writes both (a, b) and (b, a), and (a, BH_GRP_SOME) for every
 * group a that talks to at least one group: its broadcast ARP requests
 * and solicitations for an address no device is bound to may pass
 * ingress, and each port's egress lets the copy out only to the devices
 * a talks to (a device that talks to nobody keeps its ARP scans to itself).
 * Written by userspace.
 */
struct bh_talk_key {
	__u8 gen;
	__u8 pad;
	__u16 ga;
	__u16 gb;
	__u16 pad2;
};
_Static_assert(sizeof(struct bh_talk_key) == 8, "bh_talk_key");

/* bh_gw_mac: HASH, the gateway's own MACs -> ifindex. Written at up/apply. */
struct bh_mac_key {
	__u8 mac[6];
	__u16 pad;
};
_Static_assert(sizeof(struct bh_mac_key) == 8, "bh_mac_key");

/* bh_gw_ip: HASH, the gateway's own LAN addresses -> ifindex. */
struct bh_addr_key {
	__u8 addr[16];
};
_Static_assert(sizeof(struct bh_addr_key) == 16, "bh_addr_key");

/*
 * bh_lan: LPM_TRIE, the gateway's LAN prefixes (prefixlen over addr, v4
 * as v4-mapped: 96 + len) -> 1. Routed traffic to a LAN address that is not
 * a bound device address belongs to the unknown group, never to internet.
 */
struct bh_lan_key {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct bh_lan_key) == 20, "bh_lan_key");

/*
 * bh_quarantine: HASH, MAC (struct bh_mac_key) -> when, until when, how
 * far. Userspace. level BH_QLVL_FULL: nothing but quarantine.allow;
 * BH_QLVL_LAN: cut off from the LAN (devices, both ways; the gateway but
 * quarantine.allow), its internet traffic judged by the policy as before.
 */
struct bh_quar_val {
	__u64 since;		/* CLOCK_REALTIME seconds of isolate */
	__u64 until;		/* CLOCK_REALTIME seconds, 0 = no end */
	__u8 level;		/* BH_QLVL_* */
	__u8 pad[7];
};
_Static_assert(sizeof(struct bh_quar_val) == 24, "bh_quar_val");

/* quarantine levels (bh_quar_val.level; bh_detect_decide()) */
#define BH_QLVL_FULL		0	/* as `bulkhead isolate`: nothing but quarantine.allow */
#define BH_QLVL_LAN		1	/* cut off from the LAN, the internet kept */

/*
 * bh_ct: LRU_HASH, connection tracking of allowed flows, keyed by the
 * initiator's direction. Written by BPF (ingress on allow, egress for flows
 * the gateway sends to a device); userspace deletes entries on isolate.
 * A packet is a reply when the reversed tuple is present, it is not a
 * new-flow packet (TCP SYN without ACK, ICMP echo-request), and it goes to
 * the MAC that opened the flow (bh_ct_val.smac; zero: not known, a flow
 * imported from conntrack): an answer diverted to another device by a
 * poisoned neighbour cache is judged as a new flow to that device.
 * ICMP echo: sport = dport = echo identifier.
 */
struct bh_ct_key {
	__u8 proto;
	__u8 pad[3];
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};
_Static_assert(sizeof(struct bh_ct_key) == 40, "bh_ct_key");

#define BH_CT_FROM_GW		(1u << 0)	/* recorded by the egress program */

struct bh_ct_val {
	__u64 last_seen;	/* bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC_COARSE) */
	__u8 smac[6];		/* initiator's MAC */
	__u8 dmac[6];		/* responder's MAC (the gateway's when routed) */
	__u32 flags;		/* BH_CT_* */
};
_Static_assert(sizeof(struct bh_ct_val) == 24, "bh_ct_val");

/*
 * ct timeouts in ns, checked by BPF on every reply. Ages are compared
 * signed: a stamp up to a tick ahead of the coarse clock (written from
 * CLOCK_MONOTONIC) is fresh, not 584 years old.
 */
#define BH_CT_TCP_TIMEOUT	(600ULL * 1000000000ULL)
#define BH_CT_UDP_TIMEOUT	(120ULL * 1000000000ULL)
#define BH_CT_OTHER_TIMEOUT	(30ULL * 1000000000ULL)

/*
 * bh_frag: LRU_HASH, datagrams whose first fragment was allowed, so their
 * non-first fragments pass. Written by BPF.
 */
struct bh_frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;		/* IPv4 id (zero-extended) or IPv6 fragment id */
	__u8 proto;
	__u8 pad[3];
};
_Static_assert(sizeof(struct bh_frag_key) == 40, "bh_frag_key");

struct bh_frag_val {
	__u64 last_seen;	/* bpf_ktime_get_coarse_ns() */
};
_Static_assert(sizeof(struct bh_frag_val) == 8, "bh_frag_val");
#define BH_FRAG_TIMEOUT		(30ULL * 1000000000ULL)

/* bh_stats: PERCPU_ARRAY[BH_R_MAX], key enum bh_reason. Written by BPF. */
struct bh_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct bh_counter) == 16, "bh_counter");

/* bh_rulestats: PERCPU_ARRAY[2 * BH_MAX_RULES], key gen * BH_MAX_RULES + rule. */
/* value: struct bh_counter */

/*
 * Per-device counters, in two maps. bh_devctr: PERCPU_ARRAY of
 * BH_MAX_DEVCTR slots, the counters of the policy's devices, found
 * through bh_dev_val.ctr_slot (and remembered in the verdict cache, so a
 * hit costs an inlined array access, no hash lookup). A device keeps its
 * slot from one apply to the next (the controller hands slots out: a MAC
 * already in the active generation keeps its own, a new MAC gets a free
 * slot zeroed, a MAC that leaves has its counts added to bh_devstats and
 * its slot zeroed after the old generation is gone). Slot 0 is never used;
 * with every slot taken (a policy of 65535 devices replaced by another of
 * as many new ones) a device gets none and is counted in bh_devstats.
 * bh_devstats: LRU_PERCPU_HASH, source MAC (struct bh_mac_key) -> counters,
 * for every other source MAC (unknown devices, spoofers, frames dropped
 * before the device lookup). A MAC may have counts in both: readers add.
 */
struct bh_dev_stats {
	__u64 packets;		/* frames sent by this MAC */
	__u64 bytes;
	__u64 drops;		/* of which dropped */
	__u64 last_seen;	/* bpf_ktime_get_coarse_ns() */
};
_Static_assert(sizeof(struct bh_dev_stats) == 32, "bh_dev_stats");

/*
 * bh_events: RINGBUF (BH_EVENTS_RING bytes) of struct bh_event, one per
 * dropped frame that passes the rate limit. Written by BPF, read by the
 * daemon. The limit is two token buckets: one per source MAC (BH_EV_RATE
 * per second, burst BH_EV_BURST; a policy device's in bh_evslot at its
 * counter slot, any other MAC's in bh_evlimit) and one per CPU (bh_evcpu,
 * BH_EV_CPU_RATE, burst BH_EV_CPU_BURST) so a flood of random source MACs
 * is capped too. A frame that is dropped without an event (bucket empty,
 * ring full) is counted in its MAC's bucket; the next event of that MAC
 * carries the count in .suppressed, so events + suppressed = drops.
 */
struct bh_event {
	__u64 time_ns;		/* the verdict's bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC, a tick's resolution) */
	__u8 smac[6];
	__u8 dmac[6];
	__u8 saddr[16];		/* IP source, or ARP sender (v4-mapped) */
	__u8 daddr[16];		/* IP destination, or ARP target */
	__u16 eth_proto;	/* host order */
	__u8 proto;		/* IP protocol (0: none) */
	__u8 is_v4;		/* addresses are IPv4 (v4-mapped) */
	__u16 sport;		/* host order; 0 when the frame has none */
	__u16 dport;
	__u16 reason;		/* enum bh_reason (a drop; BH_EVF_WOULD_DROP: the one waived) */
	__u8 flags;		/* BH_EVF_* */
	__u8 pad;
	__u32 rule_id;		/* BH_RULE_DEFAULT when no rule */
	__u32 suppressed;	/* this MAC's drops without an event since its last one */
};
_Static_assert(sizeof(struct bh_event) == 72, "bh_event");

/* bh_event.flags */
#define BH_EVF_WOULD_DROP	(1u << 0)	/* audit passed it (pass_audit): .reason would have dropped it */

/*
 * bh_evslot: ARRAY[BH_MAX_DEVCTR], a policy device's bucket at its counter
 * slot (bh_dev_val.ctr_slot): an inlined array access instead of a hash
 * lookup on every drop. Shared by the CPUs, like the MAC it stands for.
 * bh_evlimit: LRU_HASH, source MAC (struct bh_mac_key) -> bucket, for
 * frames without a slot: other MACs (unknown devices, spoofers, floods)
 * and frames dropped before the device lookup (so a policy device sending
 * those too has a second bucket for them). A slotted device's event also
 * takes its MAC's bh_evlimit count (what it was dropped with before it had
 * a slot, or before the lookup). The controller zeroes a slot's bucket when
 * it hands the slot out and adds a leaving device's count to its bh_evlimit
 * entry (a read and a write: a drop the programs count in between may be
 * lost or counted twice), so events + suppressed = drops holds across
 * applies. bh_evcpu: PERCPU_ARRAY[1] of the same. Written by BPF, but for
 * those controller writes.
 */
struct bh_evlimit {
	__u64 last_ns;		/* coarse ns of the last refill */
	__u64 credit_ns;	/* tokens, in ns of refill (1 token = 1e9 / rate) */
	__u32 suppressed;	/* drops without an event since the last event */
	__u32 pad;
};
_Static_assert(sizeof(struct bh_evlimit) == 24, "bh_evlimit");

/*
 * bh_clock: PERCPU_ARRAY[1], this CPU's reading of the coarse clock and the
 * jiffies it was taken at. Written by BPF only. The coarse clock moves once
 * a tick, as jiffies does; bpf_jiffies64() is a load (the verifier inlines
 * it) where bpf_ktime_get_coarse_ns() is a helper call, so a frame reads the
 * clock only when jiffies moved since this CPU's last frame.
 */
struct bh_clock {
	__u64 jiffies;		/* bpf_jiffies64() when ns was read */
	__u64 ns;		/* bpf_ktime_get_coarse_ns() then */
};
_Static_assert(sizeof(struct bh_clock) == 16, "bh_clock");

/*
 * bh_vepoch: ARRAY[1], key 0 -> __u32, bumped by userspace after every map
 * write that can change a verdict other than the generation flip (which
 * moves bh_active.epoch): quarantine, gateway maps, bh_ct deletions and
 * imports. Read by BPF before any other lookup.
 *
 * bh_vcache: PERCPU_ARRAY[BH_VCACHE_SLOTS] of struct bh_vc_slot, a
 * direct-mapped flow verdict cache of TCP/UDP frames that are not
 * fragments and not DHCP, ICMP/ICMPv6 echo requests and replies that are
 * not fragments, and ARP, none from a group MAC: slot = hash of the key,
 * a hit needs the whole key equal (a collision only evicts). The key holds
 * every field of the frame such a verdict depends on. An entry is valid
 * only while both epochs it was computed under are current. Written by
 * BPF; userspace never writes it (bumping bh_vepoch invalidates it whole).
 * An array, not an LRU hash: its lookup is inlined (about 1 ns against
 * about 50 for an LRU hash with this key), see docs/architecture.md.
 */
struct bh_vc_key {
	__u8 smac[6];
	__u8 dmac[6];
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;		/* host order; ICMP echo: the id in both; ARP: 0 */
	__u16 dport;
	__u8 proto;		/* IP protocol; ARP: 0 */
	__u8 flags;		/* BH_VC_* */
	__u16 pad;
};
_Static_assert(sizeof(struct bh_vc_key) == 52, "bh_vc_key");

#define BH_VC_V4		(1u << 0)	/* an IPv4 packet (not v6 with v4-mapped addresses) */
#define BH_VC_SYN		(1u << 1)	/* TCP SYN without ACK: opens, answers nothing */
#define BH_VC_ARP		(1u << 2)	/* ARP: addresses are sender and target, no ports */
#define BH_VC_ECHOREP		(1u << 3)	/* ICMP/ICMPv6 echo reply (else an echo request) */

/* bh_vc_val.kind: what a hit does */
#define BH_VCK_FIXED		1	/* verdict as stored, nothing else depends on state */
#define BH_VCK_ALLOW		2	/* the policy allows: pass, refresh bh_ct once a second */
#define BH_VCK_DENY		3	/* the policy denies: pass only as a reply to a live flow */
#define BH_VCK_AUDIT		4	/* as DENY, but audit passes it (pass_audit), tracked */

struct bh_vc_val {
	__u32 epoch;		/* bh_active.epoch when computed */
	__u32 vepoch;		/* bh_vepoch when computed */
	__u64 ct_seen;		/* coarse ns: bh_ct last refreshed (ALLOW) or seen live (DENY + reply) */
	__u32 rule_id;		/* FIXED: the verdict's; ALLOW/DENY: the deciding rule */
	__u16 reason;		/* FIXED: the verdict's; ALLOW/DENY: the policy's (no reply) */
	__u8 kind;		/* BH_VCK_*; 0 = empty (another CPU's zeroed slot) */
	__u8 reply;		/* DENY: the last check found the flow live */
};
_Static_assert(sizeof(struct bh_vc_val) == 24, "bh_vc_val");

/*
 * The flow record (bh_flow) a slot's frames count in, beyond what the key
 * tells: classified on the frame that missed, so a hit makes no lookup but
 * bh_flow's own (bpf/lib/flow.h). kind 0: not classified yet.
 */
struct bh_vc_flow {
	__u8 mac[6];		/* DEVICE: the destination device; a reply: the opener */
	__u8 kind;		/* BH_FK_* of the record; 0: none yet */
	__u8 flags;		/* BH_VCF_* */
};
_Static_assert(sizeof(struct bh_vc_flow) == 8, "bh_vc_flow");

#define BH_VCF_REPLY		(1u << 0)	/* counted in the flow it answers (ends swapped) */
#define BH_VCF_WOULD		(1u << 1)	/* ... whose record is would_drop */
#define BH_VCF_SKIP		(1u << 2)	/* not recorded (a reply to the gateway's flow) */

struct bh_vc_slot {
	struct bh_vc_key key;
	__u32 ctr_slot;		/* the source device's bh_devctr slot, 0 none */
	struct bh_vc_val val;
	__u64 claim_seen;	/* coarse ns: the source address's claim last refreshed */
	struct bh_vc_flow flow;	/* the flow record; zeroed by every store */
};
_Static_assert(sizeof(struct bh_vc_slot) == 96, "bh_vc_slot");

/*
 * A key's slot in bh_vcache (@k 8-byte aligned): the four 8-byte words that
 * hold the source address but its first 4 bytes, the destination address
 * and the ports, and the protocol and flags (a bare SYN and the ACKs after
 * it take different slots), each multiplied by its own odd constant and
 * added (independent multiplies, no chain through the key), the top bits of
 * the sum. The MACs are left out: frames that differ only there share a
 * slot, and the key compare tells them apart. Swapping the two ends of a
 * flow moves the words, so a flow's two directions rarely share a slot.
 */
static inline __attribute__((always_inline)) __u32 bh_vc_index(const struct bh_vc_key *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h;

	h = w[2] * 0x9e3779b97f4a7c15ULL + w[3] * 0xc2b2ae3d27d4eb4fULL +
	    w[4] * 0x165667b19e3779f9ULL + w[5] * 0xd6e8feb86659fd93ULL +
	    (__u64)(k->proto << 8 | k->flags) * 0xa0761d6478bd642fULL;
	return (__u32)(h >> 32) & (BH_VCACHE_SLOTS - 1);
}

#define BH_VC_CT_RECHECK	1000000000ULL	/* ns a cached ct state is trusted */

/*
 * bh_port: HASH, bridge port ifindex (__u32) -> the source MACs its ingress
 * has seen (at most BH_PORT_MACS; more set .overflow and replace the oldest).
 * bh_macport: LRU_HASH, MAC (struct bh_mac_key) -> the ifindex (__u32) it was
 * last seen on, so a MAC that moves leaves its old port's list. Written by
 * BPF (ingress, on a verdict cache miss). The egress program judges a
 * flooded copy against the devices of the port it leaves by.
 */
struct bh_port_val {
	__u8 mac[BH_PORT_MACS][6];
	__u8 n;			/* MACs held */
	__u8 overflow;		/* more MACs were seen than held */
	__u16 next;		/* the entry the next new MAC replaces, once full */
	__u32 pad;
};
_Static_assert(sizeof(struct bh_port_val) == 32, "bh_port_val");

/*
 * bh_pin: HASH, MAC (struct bh_mac_key) -> the ifindex (__u32) of the one
 * bridge port its frames may come in by (the policy's member `port:`; 0
 * while that port does not exist: by none). bh_pinned: ARRAY[1], how many
 * entries bh_pin holds, so that a frame costs no hash lookup when no
 * device is pinned. Written by userspace (up, apply, the port sync),
 * bh_pin first; read on ingress before the verdict cache, a frame from a
 * pinned MAC by another port is dropped as BH_R_DROP_SPOOF.
 */

/*
 * bh_claim: LRU_HASH, address (struct bh_addr_key, v4-mapped) -> the MAC
 * that uses it as its own. Learned first come, first served (as SAVI,
 * RFC 6620) for addresses of the gateway's LAN prefixes and IPv6
 * link-local addresses that no ip: or DHCP lease binds: the IP source, the
 * ARP sender address and the NA target of a device's frames claim it, and
 * refresh the claim (at most once a second). Another MAC using an address
 * claimed within BH_CLAIM_TIMEOUT is dropped as drop_spoof. Written by BPF.
 */
struct bh_claim_val {
	__u8 mac[6];
	__u16 pad;
	__u64 last_seen;	/* coarse ns */
};
_Static_assert(sizeof(struct bh_claim_val) == 16, "bh_claim_val");
#define BH_CLAIM_TIMEOUT	(600ULL * 1000000000ULL)
#define BH_CLAIM_REFRESH	1000000000ULL

/* ---- verdict core result (BPF internal, also used by tests) ------------ */
struct bh_verdict {
	__u32 pass;		/* 1 pass, 0 drop */
	__u32 reason;		/* enum bh_reason */
	__u32 rule_id;		/* BH_RULE_DEFAULT when no rule */
	__u32 pad;
};
_Static_assert(sizeof(struct bh_verdict) == 16, "bh_verdict");

/* ---- flow records (issue 17) -------------------------------------------- */
/*
 * bh_flow: LRU_HASH (BH_MAX_FLOWS entries by default; the policy's
 * flows.max sets max_entries before load), who talked to whom, aggregated:
 * (source device, destination device or class, protocol, server port,
 * verdict) -> first and last seen, packets, bytes. Written by BPF (in
 * --mode nft, where no program runs, by the daemon: userspace/nftflow.c),
 * read by the daemon (userspace/flowlog.c), which never deletes entries:
 * when the map is full the LRU evicts the least recently used entry, and
 * the daemon, which drains the map every BH_FLOW_DRAIN_SECS, keeps what it
 * had read of it. Device-initiated flows only: the key holds the
 * destination (server) port, never the initiator's ephemeral port, and a
 * reply the programs see (BH_R_PASS_REPLY) is counted in the entry of the
 * flow it answers, found by swapping the reply's ends (source MAC = the
 * reply's destination MAC, port = the reply's source port).
 *
 * The destination, by kind (BH_FK_*), as the verdict core classifies it:
 *   DEVICE     bridged to a unicast MAC that is not the gateway's, or routed
 *              to an address bound to a device: dmac is the device's MAC
 *              (a MAC the policy does not list is a device too), daddr
 *              the frame's IP destination (ARP: the target)
 *   GATEWAY    the gateway's own addresses: daddr is the address
 *   INTERNET   neither: daddr masked to plen bits (BH_FLOW_V4_PLEN of the
 *              v4 address, BH_FLOW_V6_PLEN of a v6 one), dmac zero
 *   MULTICAST  a multicast destination MAC: daddr the group address
 *   BROADCAST  ff:ff:ff:ff:ff:ff: daddr the IP destination (255.255.255.255,
 *              a subnet broadcast) or the ARP target
 *   LAN        routed to an address of the gateway's LAN prefixes that no
 *              device is bound to (judged as the unknown group): daddr it
 * dmac is zero for every kind but DEVICE, plen for every kind but
 * INTERNET. Addresses are 16 bytes, IPv4 v4-mapped (::ffff:a.b.c.d) as
 * everywhere in this ABI, with BH_FLOW_F_V4 set; plen counts the bits of
 * the v4 address itself (24), not of the mapped form. ARP frames are recorded with BH_FLOW_F_ARP,
 * proto 0, port 0 and daddr the target address (so the table shows ARP
 * scans between devices that may not talk). port: the TCP/UDP destination
 * port; ICMP and ICMPv6: the type of the opening message (8 / 128 for echo
 * requests); other protocols 0. Host byte order throughout.
 */
#ifndef BH_MAX_FLOWS
#define BH_MAX_FLOWS		16384	/* bh_flow entries, unless the policy's flows.max */
#endif
#define BH_FLOW_V4_PLEN		24	/* internet IPv4 destinations: a /24 */
#define BH_FLOW_V6_PLEN		48	/* internet IPv6 destinations: a /48 */
#define BH_FLOW_DRAIN_SECS	60	/* the daemon reads bh_flow this often */

#define BH_FK_DEVICE		1
#define BH_FK_GATEWAY		2
#define BH_FK_INTERNET		3
#define BH_FK_MULTICAST		4
#define BH_FK_BROADCAST		5
#define BH_FK_LAN		6
#define BH_FK_MAX		7

#define BH_FV_PASS		0	/* passed (a rule, a default, a reply) */
#define BH_FV_DROP		1	/* dropped (enforce) */
#define BH_FV_WOULD_DROP	2	/* would have been dropped, passed under audit */
#define BH_FV_MAX		3

#define BH_FLOW_F_V4		(1u << 0)	/* daddr is IPv4 (v4-mapped) */
#define BH_FLOW_F_ARP		(1u << 1)	/* an ARP frame: proto and port 0 */

struct bh_flow_key {
	__u8 smac[6];		/* the device that sent the opening frame */
	__u8 dmac[6];		/* BH_FK_DEVICE: the destination device; else zero */
	__u8 daddr[16];		/* see above; INTERNET: masked to plen */
	__u16 port;		/* host order: server port, ICMP type, or 0 */
	__u8 proto;		/* IP protocol, 0 for ARP */
	__u8 kind;		/* BH_FK_* */
	__u8 verdict;		/* BH_FV_* */
	__u8 flags;		/* BH_FLOW_F_* */
	__u8 plen;		/* INTERNET: the prefix daddr is masked to; else 0 */
	__u8 pad;
};
_Static_assert(sizeof(struct bh_flow_key) == 36, "bh_flow_key");

struct bh_flow_val {
	__u64 first_seen;	/* bpf_ktime_get_coarse_ns() when the entry was made */
	__u64 last_seen;	/* ... of the latest frame counted */
	__u64 packets;		/* frames, both directions (atomic adds) */
	__u64 bytes;		/* their lengths from the Ethernet header on */
};
_Static_assert(sizeof(struct bh_flow_val) == 32, "bh_flow_val");

/*
 * bh_flowstat: PERCPU_ARRAY[1], the programs' inserts into bh_flow. An
 * insert that fails (the LRU found nothing to evict, a race) loses that
 * frame's record and is counted in .failed. The daemon, which never
 * deletes from bh_flow, derives the evictions: the sum of .created over
 * the CPUs less the entries present. Written by BPF.
 */
struct bh_flow_ctr {
	__u64 created;		/* entries inserted */
	__u64 failed;		/* inserts that failed */
};
_Static_assert(sizeof(struct bh_flow_ctr) == 16, "bh_flow_ctr");
/* ==== detection (issue 18): bpf/lib/detect.h, userspace/detect.c, blocklist.c ====
 * Per-device signals of a compromised device, counted by the dataplane in
 * bounded memory; the daemon turns them into alerts and quarantines
 * (docs/detect.md). Appended as one block: the merge that wires it bumps
 * BH_ABI_VERSION (these maps are new, none of the above changes).
 */
#define BH_DETECT_ABI		1	/* this block's own revision */
#define BH_MAX_DETECT		4096	/* devices with detection state (LRU) */
#define BH_MAX_BLOCK		262144	/* blocklist prefixes (LPM, no prealloc) */
#define BH_SIGNALS_RING		(64 * 1024) /* bh_signals ring buffer, bytes */
#define BH_DET_SLOTS		4	/* scan candidates tracked per device and kind */
#define BH_DET_BITS		128	/* bits of one distinct-target set */
#define BH_DET_MAX_COUNT	96	/* largest threshold a set can count to */
#define BH_DET_PORTS		8	/* worm ports (bh_det_cfg.telnet_ports) */

/* signal kinds: index of bh_det_cfg.thr, bh_det_signal.kind */
enum bh_det_kind {
	BH_DET_ADDR_SCAN = 0,	/* distinct LAN hosts on one (proto, port), failed attempts */
	BH_DET_PORT_SCAN,	/* distinct ports on one LAN host, failed attempts */
	BH_DET_TELNET,		/* distinct hosts (LAN or internet) tried on a worm port */
	BH_DET_BLOCK,		/* attempts to a blocklisted address (bh_block) */
	BH_DET_DENY_RATE,	/* denied frames */
	BH_DET_KINDS,
};

/* signal levels (bh_det_signal.level); 0: none */
#define BH_DET_WATCH		1	/* an event and a metric */
#define BH_DET_ACT		2	/* the policy's action: alert or quarantine */

/*
 * bh_detect_note()'s @what: one attempt or frame, packed in 32 bits.
 * bits 0-7 IP protocol (0: ARP), 8-23 destination port (host order; 0:
 * none), 24-31 BH_DETN_*.
 */
#define BH_DETN_NEW		(1u << 24)	/* the first packet of a flow (SYN, UDP, echo, ARP request) */
#define BH_DETN_DENIED		(1u << 25)	/* the policy denied it */
#define BH_DETN_REFUSED		(1u << 26)	/* allowed, refused by the target (RST, ICMP unreachable) */
#define BH_DETN_INTERNET	(1u << 27)	/* the destination is not on the LAN */
#define BH_DETN_V4		(1u << 28)	/* an IPv4 (v4-mapped) address */
#define BH_DETN_BLOCK		(1u << 29)	/* the destination is on the blocklist */
#define BH_DETN_DROP		(1u << 30)	/* a dropped frame (counted for BH_DET_DENY_RATE) */
#define BH_DETN_WHAT(proto, port, flags) \
	((__u32)(__u8)(proto) | (__u32)(__u16)(port) << 8 | (__u32)(flags))

/* bh_det_cfg.flags */
#define BH_DETC_ON		(1u << 0)	/* detection on: without it bh_detect_note() returns at once */

/* One signal's thresholds; a count of 0 turns its level off. */
struct bh_det_thr {
	__u32 watch;		/* count that raises BH_DET_WATCH */
	__u32 act;		/* count that raises BH_DET_ACT */
	__u32 window_ms;	/* the window, from a candidate's first counted attempt */
	__u32 pad;
};
_Static_assert(sizeof(struct bh_det_thr) == 16, "bh_det_thr");

/* bh_detect_cfg: ARRAY[1], key 0. Written by userspace (detect.c), read by BPF. */
struct bh_det_cfg {
	__u32 flags;		/* BH_DETC_* */
	__u32 salt;		/* hash salt of the distinct-target sets, random at up */
	struct bh_det_thr thr[BH_DET_KINDS];
	__u16 telnet_ports[BH_DET_PORTS];	/* tcp ports of BH_DET_TELNET; 0: unused */
};
_Static_assert(sizeof(struct bh_det_cfg) == 104, "bh_det_cfg");

/*
 * A set of distinct targets within a window: a 128-bit bitmap of hashed
 * hosts or ports (n: bits set). About what @key says: (proto | port << 8,
 * the low 24 bits of bh_detect_note()'s @what) for an address scan's hosts,
 * the host's 32 bits for a port scan's ports. Empty when n is 0.
 */
struct bh_det_set {
	__u64 bits[2];
	__u32 start_ms;		/* the window began (coarse ms since boot, wraps) */
	__u32 key;
	__u16 n;
	__u16 pad;
	__u32 pad2;
};
_Static_assert(sizeof(struct bh_det_set) == 32, "bh_det_set");

struct bh_det_ctr {
	__u32 start_ms;		/* the window began; n 0: none */
	__u32 n;
};
_Static_assert(sizeof(struct bh_det_ctr) == 8, "bh_det_ctr");

/*
 * bh_detect: LRU_HASH, source MAC (struct bh_mac_key) -> a device's
 * detection state. Written by BPF; userspace deletes a MAC's entry on
 * release, so its windows start afresh.
 */
struct bh_det_state {
	struct bh_det_set hosts[BH_DET_SLOTS];	/* address scans: hosts per (proto, port) */
	struct bh_det_set ports[BH_DET_SLOTS];	/* port scans: ports per host */
	struct bh_det_set telnet;		/* hosts tried on a worm port (key 0) */
	struct bh_det_ctr block;		/* blocklist hits */
	struct bh_det_ctr deny;			/* denied frames */
	__u32 fired_ms[BH_DET_KINDS];		/* when each kind last signalled */
	__u8 fired[BH_DET_KINDS];		/* the level signalled then (0: none) */
	__u8 pad[7];
};
_Static_assert(sizeof(struct bh_det_state) == 336, "bh_det_state");

/*
 * bh_signals: RINGBUF (BH_SIGNALS_RING bytes) of struct bh_det_signal, one
 * when a device's count first reaches a level within the kind's window
 * (then not again for that level until the window has passed). Written by
 * BPF, read by the daemon (bh_detect_decide()).
 */
struct bh_det_signal {
	__u64 time_ns;		/* the attempt's coarse ns (CLOCK_MONOTONIC) */
	__u8 mac[6];		/* the device */
	__u8 kind;		/* enum bh_det_kind */
	__u8 level;		/* BH_DET_WATCH or BH_DET_ACT */
	__u32 count;		/* distinct targets / hits / frames in the window */
	__u32 window_ms;	/* from the window's first attempt to this one */
	__u16 port;		/* sample: the attempt's destination port (host order) */
	__u8 proto;		/* its IP protocol (0: ARP or none) */
	__u8 flags;		/* its BH_DETN_* flags >> 24 */
	__u8 addr[16];		/* sample: its destination (v4-mapped for IPv4) */
	__u32 pad;
};
_Static_assert(sizeof(struct bh_det_signal) == 48, "bh_det_signal");

/*
 * bh_block: LPM_TRIE, blocklisted prefixes (prefixlen over addr, IPv4 as
 * v4-mapped: 96 + len) -> the blocklist file's line of the entry. Written
 * by userspace (blocklist.c), read by BPF (bh_block_hit()).
 */
struct bh_block_key {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct bh_block_key) == 20, "bh_block_key");

#endif /* BULKHEAD_ABI_H */
