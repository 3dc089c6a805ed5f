/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h - the policy file (YAML, version 1) as the loader returns it:
 * every element keeps its file position so later stages can report
 * "file:line:col: what".
 */
#ifndef BH_POLICY_H
#define BH_POLICY_H

#include <stddef.h>
#include <stdbool.h>
#include <linux/types.h>

#define BH_DIAG_MAX	16	/* errors collected before the loader gives up */

struct bh_pos {
	unsigned int line;	/* 1-based, as editors show */
	unsigned int col;	/* 1-based */
};

/* Error sink: each entry is one full "file:line:col: message" line. */
struct bh_diag {
	size_t n;
	char msg[BH_DIAG_MAX][512];
	struct bh_pos pos[BH_DIAG_MAX];	/* where each one is, to sort them */
};

void bh_diag_add(struct bh_diag *d, const char *file, struct bh_pos pos,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void bh_diag_print(const struct bh_diag *d);	/* to stderr, one per line */

/* An address, always 16 bytes: IPv4 as v4-mapped (::ffff:a.b.c.d). */
struct bh_addr {
	__u8 a[16];
	bool v4;
};

struct bh_cidr {
	struct bh_addr addr;	/* host bits cleared */
	__u8 plen;		/* 0..32 for v4, 0..128 for v6 */
};

struct bh_member {
	__u8 mac[6];
	char *name;		/* NULL when not given */
	char *port;		/* the bridge port its MAC is pinned to, or NULL */
	struct bh_addr *ips;
	size_t n_ips;
	struct bh_pos pos;
};

struct bh_group_def {
	char *name;
	__u16 id;		/* index in bh_policy.groups */
	int internet;		/* BH_ACT_* or -1: inherit defaults.internet */
	bool audit;		/* audit: true: its drops staged (docs/policy.md) */
	struct bh_member *members;
	size_t n_members;
	struct bh_pos pos;
};

enum bh_target_kind {
	BH_T_GROUP,
	BH_T_ANY,		/* every group, gateway, internet, multicast */
	BH_T_GATEWAY,
	BH_T_INTERNET,
	BH_T_MULTICAST,
	BH_T_CIDR,		/* an internet prefix */
};

struct bh_target {
	enum bh_target_kind kind;
	__u16 group;		/* BH_T_GROUP */
	struct bh_cidr cidr;	/* BH_T_CIDR */
	struct bh_pos pos;
};

struct bh_port_range {
	__u16 lo, hi;		/* 1..65535, lo <= hi */
};

struct bh_rule_def {
	struct bh_target *from;	/* kinds: BH_T_GROUP or BH_T_ANY */
	size_t n_from;
	struct bh_target *to;
	size_t n_to;
	__u8 proto;		/* IPPROTO_TCP/UDP/ICMP/ICMPV6 or BH_PROTO_ANY */
	struct bh_port_range *ports;	/* n_ports == 0: all ports */
	size_t n_ports;
	int action;		/* BH_ACT_ALLOW (default) or BH_ACT_DENY */
	char *comment;		/* optional "name:" / "comment:" of the rule */
	struct bh_pos pos;
};

/* flows: the flow records' bounds (docs/flows.md); 0: the default */
struct bh_flows_def {
	__u32 max;		/* bh_flow entries, set at up (BH_MAX_FLOWS) */
	__u32 keep_days;	/* history kept, whole days (BH_FLOWS_KEEP_DAYS) */
	__u64 bytes;		/* the history's size cap (BH_FLOWS_MAX_BYTES) */
	struct bh_pos max_pos;	/* where max was given (0:0: not given) */
};

#define BH_FLOWS_MIN		1024	/* flows.max, smallest */
#define BH_FLOWS_MAX		1048576	/* flows.max, largest */

struct bh_detect_policy;

struct bh_policy {
	char *path;		/* as given to bh_policy_load */
	int version;
	char **ifaces;
	size_t n_ifaces;
	int east_west;		/* BH_ACT_*, default deny */
	int internet;		/* BH_ACT_*, default allow */
	int gateway;		/* BH_ACT_*, default deny (DHCP/DNS are built in) */
	bool audit;		/* defaults.mode: audit (every group staged) */
	__u16 unknown_group;	/* group id of defaults.unknown */
	struct bh_group_def *groups;
	size_t n_groups;
	struct bh_rule_def *rules;
	size_t n_rules;
	__u16 qallow;		/* BH_SVC_* from quarantine.allow */
	char *dhcp_leases;	/* dhcp.leases: dnsmasq's lease file, NULL: none */
	struct bh_flows_def flows;

	struct bh_detect_policy *detect;	/* detect: (detect.h), NULL: detection off */
};

/* the largest policy file read (docs/security.md: 16 MiB) */
#define BH_POLICY_MAX_BYTES	(16u << 20)

/*
 * Load and validate @path. On success returns 0 and *out (free with
 * bh_policy_free). On a bad policy returns -EINVAL with d filled with
 * "file:line:col: message" lines; on I/O errors returns -errno with one
 * "file: strerror" line in d.
 */
int bh_policy_load(const char *path, struct bh_policy **out, struct bh_diag *d);
/* The same from memory; @name is what errors call the file. */
int bh_policy_load_buf(const char *name, const char *buf, size_t len,
		       struct bh_policy **out, struct bh_diag *d);
void bh_policy_free(struct bh_policy *p);

/* Helpers shared by loader, CLI and tests. 0 or -EINVAL. */
int bh_parse_mac(const char *s, __u8 mac[6]);
void bh_format_mac(const __u8 mac[6], char buf[18]);
int bh_parse_addr(const char *s, struct bh_addr *a);
int bh_parse_cidr(const char *s, struct bh_cidr *c);
void bh_format_addr(const struct bh_addr *a, char *buf, size_t len);

/* Find a group by name; -1 when absent. */
int bh_policy_group(const struct bh_policy *p, const char *name);
/* How many members are pinned to a port (`port:`). */
size_t bh_policy_n_pins(const struct bh_policy *p);

#endif /* BH_POLICY_H */
