// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_explain.c - `bulkhead explain SRC DST PROTO[/PORT]`: the first
 * packet of a flow built and judged by the reference evaluator (eval.c)
 * against a policy, with the quarantine in force, and the rule or default
 * that decides it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "cmd.h"
#include "blocklist.h"
#include "detect.h"
#include "eval.h"
#include "guard.h"
#include "json.h"
#include "nft.h"
#include "nl.h"

/* An endpoint given on the command line: a device (MAC or name), the
 * gateway, or an address. */
struct endpoint {
	__u8 mac[6];
	struct bh_addr addr;
	bool has_addr;
	const char *label;
	int group;		/* -1: not a listed device */
	bool on_lan;		/* a LAN address no device is bound to */
	char buf[256];
};

static const struct bh_member *find_member(const struct bh_policy *p, const char *s,
					   int *group)
{
	__u8 mac[6];
	bool by_mac = !bh_parse_mac(s, mac);

	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			const struct bh_member *m = &p->groups[g].members[i];

			if ((by_mac && !memcmp(m->mac, mac, 6)) ||
			    (!by_mac && m->name && !strcmp(m->name, s))) {
				*group = (int)g;
				return m;
			}
		}
	return NULL;
}

static const struct bh_addr *member_addr(const struct bh_member *m, bool v4)
{
	for (size_t i = 0; i < m->n_ips; i++)
		if (m->ips[i].v4 == v4)
			return &m->ips[i];
	return NULL;
}

/* @a is one of the gateway's own addresses */
static bool gw_addr(const struct bh_topology *t, const struct bh_addr *a)
{
	for (size_t i = 0; i < t->n_addrs; i++)
		if (!memcmp(t->addrs[i].addr.a, a->a, 16))
			return true;
	return false;
}

/* @a is on the bridge's own LAN: in a prefix of the gateway's, or link-local */
static bool on_lan(const struct bh_topology *t, const struct bh_addr *a)
{
	if (!a->v4 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80)
		return true;
	return bh_lan_addr(t->addrs, t->n_addrs, a->a);
}

/*
 * A LAN address no device of the policy is bound to: the dataplane judges a
 * frame to it by the MAC it is sent to on the bridge. The MAC that claimed
 * it (bh_claim, when Bulkhead is up), else a stand-in of the unknown group.
 */
static void lan_endpoint(const struct bh_policy *p, int claim_fd, bool nft, struct endpoint *e)
{
	static const __u8 standin[6] = { 0x02, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1 };
	struct bh_addr_key k;
	struct bh_claim_val cv;
	char ip[64], mac[18];

	e->on_lan = true;
	bh_format_addr(&e->addr, ip, sizeof(ip));
	memcpy(k.addr, e->addr.a, 16);
	/* --mode nft learns in its own sets */
	if ((claim_fd >= 0 && !bpf_map_lookup_elem(claim_fd, &k, &cv)) ||
	    (nft && !bh_nft_claim_of(&e->addr, cv.mac))) {
		const struct bh_member *m = NULL;

		bh_format_mac(cv.mac, mac);
		m = find_member(p, mac, &e->group);
		memcpy(e->mac, cv.mac, 6);
		if (m)
			snprintf(e->buf, sizeof(e->buf), "%s (%s%s%s, %s: its address as learned on the bridge)",
				 ip, m->name ? m->name : "", m->name ? " " : "", mac,
				 p->groups[e->group].name);
		else
			snprintf(e->buf, sizeof(e->buf), "%s (%s, not in the policy: group %s; learned on the bridge)",
				 ip, mac, p->groups[p->unknown_group].name);
	} else {
		memcpy(e->mac, standin, 6);
		snprintf(e->buf, sizeof(e->buf),
			 "%s (on the bridge, bound to no device: judged by the MAC it goes to; here a device of group %s)",
			 ip, p->groups[p->unknown_group].name);
	}
	e->label = e->buf;
}

static int endpoint(const struct bh_policy *p, const struct bh_topology *t,
		    const char *s, bool v4, int claim_fd, bool nft, struct endpoint *e)
{
	const struct bh_member *m;
	char ip[64];

	memset(e, 0, sizeof(*e));
	e->group = -1;
	m = find_member(p, s, &e->group);
	if (!m && !bh_parse_addr(s, &e->addr)) {
		int g;

		e->has_addr = true;
		/* an address of a listed device: that device, on the LAN */
		for (size_t i = 0; i < p->n_groups && !m; i++)
			for (size_t j = 0; j < p->groups[i].n_members && !m; j++)
				for (size_t k = 0; k < p->groups[i].members[j].n_ips; k++)
					if (!memcmp(p->groups[i].members[j].ips[k].a, e->addr.a, 16)) {
						m = &p->groups[i].members[j];
						g = (int)i;
						e->group = g;
					}
		if (!m && on_lan(t, &e->addr) && !gw_addr(t, &e->addr)) {
			lan_endpoint(p, claim_fd, nft, e);
			return 0;
		}
		if (!m) {
			/* elsewhere: reached through the gateway */
			if (t->n_macs)
				memcpy(e->mac, t->macs[0], 6);
			bh_format_addr(&e->addr, ip, sizeof(ip));
			snprintf(e->buf, sizeof(e->buf), "%s (via the gateway)", ip);
			e->label = e->buf;
			return 0;
		}
		memcpy(e->mac, m->mac, 6);
		snprintf(e->buf, sizeof(e->buf), "%s (%s)", s, p->groups[e->group].name);
		e->label = e->buf;
		return 0;
	}
	if (m) {
		const struct bh_addr *a = member_addr(m, v4);
		char mac[18];

		memcpy(e->mac, m->mac, 6);
		if (a) {
			e->addr = *a;
			e->has_addr = true;
		}
		bh_format_mac(m->mac, mac);
		snprintf(e->buf, sizeof(e->buf), "%s%s%s (%s)", m->name ? m->name : mac,
			 m->name ? " " : "", m->name ? mac : "", p->groups[e->group].name);
		e->label = e->buf;
		return 0;
	}
	if (!strcmp(s, "gateway")) {
		if (!t->n_macs)
			return -ENODEV;
		memcpy(e->mac, t->macs[0], 6);
		for (size_t i = 0; i < t->n_addrs; i++)
			if (t->addrs[i].addr.v4 == v4) {
				e->addr = t->addrs[i].addr;
				e->has_addr = true;
				break;
			}
		e->label = "the gateway";
		return 0;
	}
	if (!bh_parse_mac(s, e->mac) && !(e->mac[0] & 1)) {
		snprintf(e->buf, sizeof(e->buf), "%s (not listed: group %s)", s,
			 p->groups[p->unknown_group].name);
		e->group = p->unknown_group;
		e->label = e->buf;
		return 0;
	}
	return -EINVAL;
}

static void explain_json(const struct endpoint *src, const struct endpoint *dst,
			 const char *proto, const struct bh_eval_result *r, const char *rule,
			 bool gw_known)
{
	struct bh_jw w;

	bh_jw_init(&w, stdout);
	bh_jw_obj_start(&w);
	bh_jw_str_field(&w, "src", src->label);
	bh_jw_str_field(&w, "dst", dst->label);
	bh_jw_str_field(&w, "proto", proto);
	bh_jw_str_field(&w, "verdict", r->pass ? "pass" : "drop");
	bh_jw_str_field(&w, "rule", rule);	/* NULL: null, a default decided */
	bh_jw_str_field(&w, "why", r->why ? r->why : "");
	bh_jw_str_field(&w, "reason", bh_reason_names[r->reason]);
	bh_jw_bool_field(&w, "gateway_known", gw_known);
	bh_jw_obj_end(&w);
	bh_jw_nl(&w);
}

/* PROTO[/PORT]: tcp/PORT, udp/PORT, icmp or icmpv6. 0, or -EINVAL said. */
static int proto_arg(const char *s, __u8 *proto, unsigned long *port)
{
	const char *slash = strchr(s, '/');
	char *end;

	if (!strncmp(s, "tcp", 3) && (!s[3] || slash == s + 3))
		*proto = IPPROTO_TCP;
	else if (!strncmp(s, "udp", 3) && (!s[3] || slash == s + 3))
		*proto = IPPROTO_UDP;
	else if (!strcmp(s, "icmp"))
		*proto = IPPROTO_ICMP;
	else if (!strcmp(s, "icmpv6"))
		*proto = IPPROTO_ICMPV6;
	else {
		bh_err("explain: '%s' is not tcp/PORT, udp/PORT, icmp or icmpv6", s);
		return -EINVAL;
	}
	*port = 0;
	if (*proto == IPPROTO_TCP || *proto == IPPROTO_UDP) {
		*port = slash ? strtoul(slash + 1, &end, 10) : 0;
		if (!slash || *end || *port < 1 || *port > 65535) {
			bh_err("explain: '%s' needs a port 1 to 65535 (e.g. tcp/443)", s);
			return -EINVAL;
		}
	}
	return 0;
}

/* The policy to judge by: -c POLICY with the leases in force, or the applied one. */
static int explain_policy(const struct bh_ctx *ctx, const char *path, struct bh_policy **p)
{
	struct bh_diag d = {};
	char lp[PATH_MAX], err[1024];
	int ret;

	if (!path) {
		*p = bh_applied_policy(ctx);
		if (*p)
			return 0;
		bh_err("explain: no applied policy in %s; give one with -c POLICY", ctx->state_dir);
		return -ENOENT;
	}
	if (bh_policy_load(path, p, &d)) {
		bh_diag_report(&d);
		return -EINVAL;
	}
	ret = bh_bind_saved_leases(ctx, *p);
	if (ret) {
		snprintf(lp, sizeof(lp), "%s/%s", ctx->state_dir, BH_LEASES_FILE);
		bh_guard_path_err(lp, ret, err, sizeof(err));
		bh_err("explain: %s", err);
		return bh_err_input(ret) ? -EIO : ret;
	}
	return 0;
}

/* The gateway as this machine has it; false: a stand-in (not on this machine) */
static bool explain_gateway(const struct bh_policy *p, struct bh_topology *topo)
{
	static __u8 standin[1][6] = { { 0x02, 0, 0, 0, 0, 0x01 } };
	static struct bh_gw_addr standin_addrs[2];
	char err[1024];

	if (!bh_nl_topology(p->ifaces, p->n_ifaces, topo, err, sizeof(err)) && topo->n_macs)
		return true;
	bh_topology_free(topo);
	memset(topo, 0, sizeof(*topo));
	bh_parse_addr("198.18.0.254", &standin_addrs[0].addr);
	standin_addrs[0].plen = 32;
	bh_parse_addr("2001:2::fe", &standin_addrs[1].addr);
	standin_addrs[1].plen = 128;
	topo->macs = standin;
	topo->n_macs = 1;
	topo->addrs = standin_addrs;
	topo->n_addrs = 2;
	return false;
}

/*
 * Both ends of the flow, with the addresses learned on the bridge, and the
 * quarantine in force into @quar / @nq. 0 or -errno, said.
 */
static int explain_ends(const struct bh_ctx *ctx, const struct bh_policy *p,
			const struct bh_topology *topo, char **argv, bool v4,
			struct endpoint *src, struct endpoint *dst, __u8 (**quar)[6], size_t *nq)
{
	struct bh_mac_key cur, next;
	void *prev = NULL;
	struct bh_maps m;
	int claim_fd, ret, up;
	bool nft_up;

	up = bh_ctl_maps_open("explain", ctx, &m);
	if (up < 0)
		return up;
	claim_fd = up ? m.claim : -1;
	nft_up = up && bh_nft_in_force(ctx);
	ret = -EINVAL;
	if (endpoint(p, topo, argv[0], v4, claim_fd, nft_up, src) || src->group < 0) {
		bh_err("explain: source '%s' is not a device of the policy or a MAC", argv[0]);
		goto out;
	}
	if (endpoint(p, topo, argv[1], v4, claim_fd, nft_up, dst)) {
		bh_err("explain: destination '%s' is not a device, MAC, address or 'gateway'",
		       argv[1]);
		goto out;
	}
	ret = 0;
	while (up && !bpf_map_get_next_key(m.quarantine, prev, &next)) {
		__u8 (*tmp)[6] = realloc(*quar, (*nq + 1) * sizeof(**quar));

		if (!tmp)
			break;
		*quar = tmp;
		memcpy((*quar)[(*nq)++], next.mac, 6);
		cur = next;
		prev = &cur;
	}
out:
	if (up)
		bh_maps_close(&m);
	return ret;
}

struct frame_buf {
	__u8 b[128];
	size_t len;
};

/* the first packet of the flow, as the source would send it */
static void explain_frame(const struct endpoint *src, const struct endpoint *dst, bool v4,
			  __u8 proto, unsigned long port, struct frame_buf *f)
{
	__u8 *b = f->b;
	size_t l4, off;
	struct bh_addr sa = src->addr, da = dst->addr;

	memset(f, 0, sizeof(*f));
	if (!src->has_addr)
		bh_parse_addr(v4 ? "198.18.0.1" : "2001:2::1", &sa);
	if (!dst->has_addr)
		bh_parse_addr(v4 ? "198.18.0.2" : "2001:2::2", &da);
	memcpy(b, dst->mac, 6);
	memcpy(b + 6, src->mac, 6);
	if (v4) {
		b[12] = 0x08; b[13] = 0x00;
		b[14] = 0x45;
		b[22] = 64;
		b[23] = proto;
		memcpy(b + 26, sa.a + 12, 4);
		memcpy(b + 30, da.a + 12, 4);
		l4 = 34;
	} else {
		b[12] = 0x86; b[13] = 0xdd;
		b[14] = 0x60;
		b[20] = proto;
		b[21] = 64;
		memcpy(b + 22, sa.a, 16);
		memcpy(b + 38, da.a, 16);
		l4 = 54;
	}
	if (proto == IPPROTO_TCP) {
		b[l4] = 0x9c; b[l4 + 1] = 0x40;		/* 40000 */
		b[l4 + 2] = (__u8)(port >> 8); b[l4 + 3] = (__u8)port;
		b[l4 + 12] = 0x50;
		b[l4 + 13] = 0x02;			/* SYN */
		off = l4 + 20;
	} else if (proto == IPPROTO_UDP) {
		b[l4] = 0x9c; b[l4 + 1] = 0x40;
		b[l4 + 2] = (__u8)(port >> 8); b[l4 + 3] = (__u8)port;
		b[l4 + 5] = 8;
		off = l4 + 8;
	} else {
		b[l4] = proto == IPPROTO_ICMP ? 8 : 128;	/* echo-request */
		off = l4 + 8;
	}
	if (v4) {
		b[16] = (__u8)((off - 14) >> 8);
		b[17] = (__u8)(off - 14);
	} else {
		b[18] = (__u8)((off - 54) >> 8);
		b[19] = (__u8)(off - 54);
	}
	f->len = off < 60 ? 60 : off;
}

/*
 * The blocklist explain judges with: for the applied policy, the
 * dataplane's bh_block trie when it is pinned (what is in force); for a
 * policy file given with -c (or when nothing is pinned), the policy's
 * detect.blocklist file as it reads now.
 */
struct explain_block {
	int fd;				/* bh_block, or -1 */
	struct bh_blocklist file;	/* when no map */
	const char *path;		/* the file named by the policy, or NULL */
	unsigned int line;		/* of the last hit */
};

static bool explain_blocked(const void *arg, const __u8 a[16])
{
	struct explain_block *b = (struct explain_block *)arg;
	const struct bh_block_ent *e;
	struct bh_block_key k = { .prefixlen = 128 };
	struct bh_addr ad = {};
	__u32 line;

	if (b->fd >= 0) {
		memcpy(k.addr, a, 16);
		if (bpf_map_lookup_elem(b->fd, &k, &line))
			return false;
		b->line = line;
		return true;
	}
	memcpy(ad.a, a, 16);
	ad.v4 = !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	e = bh_blocklist_match(&b->file, &ad);
	if (e)
		b->line = e->line;
	return e;
}

/*
 * Open the blocklist to judge with (@file: a policy given with -c): 1, 0
 * when there is none, or -errno when the policy names a file that cannot
 * be read or has errors (reported as file:line: what), as apply would
 * refuse it: explain never judges with less than the policy says.
 */
static int explain_block_open(const struct bh_ctx *ctx, const struct bh_policy *p,
			      bool file, struct explain_block *b)
{
	char path[PATH_MAX];
	struct bh_diag *d;
	int ret;

	b->fd = -1;
	b->path = p->detect && p->detect->on ? p->detect->blocklist : NULL;
	snprintf(path, sizeof(path), "%s/maps/bh_block", ctx->pin_dir);
	if (!file)
		b->fd = bpf_obj_get(path);
	if (b->fd >= 0)
		return 1;
	if (!b->path)
		return 0;
	d = calloc(1, sizeof(*d));	/* BH_DIAG_MAX messages: not on the stack */
	if (!d)
		return -ENOMEM;
	ret = bh_blocklist_read(b->path, &b->file, d);
	bh_diag_report(d);
	free(d);
	if (ret) {
		bh_err("explain: cannot read the blocklist %s: %s", b->path, strerror(-ret));
		return ret;
	}
	return 1;
}

static void explain_block_close(struct explain_block *b)
{
	if (b->fd >= 0)
		close(b->fd);
	bh_blocklist_free(&b->file);
}

struct explain_opts {
	const char *path;
	const char *batch;
	bool json;
};

static const struct bh_opt explain_opts[] = {
	BH_OPT_STR("config", 'c', "POLICY", struct explain_opts, path,
		   "judge against this file [default: the applied policy]"),
	BH_OPT_STR("batch", 'b', "FILE", struct explain_opts, batch,
		   "judge each line of FILE ('-': stdin), SRC DST PROTO[/PORT]\n"
		   "a line ('#' comments, blank lines skipped), in order; the\n"
		   "policy is read once; a bad line is reported as FILE:LINE\n"
		   "and the rest are judged (exit 1 if any was bad)"),
	BH_OPT_FN("json", 'j', NULL, struct explain_opts, json, bh_opt_json,
		  "machine-readable output: {\"src\",\"dst\",\"proto\",\n"
		  "\"verdict\":\"pass\"|\"drop\",\"rule\" (null: a default\n"
		  "decided, see \"why\"),\"why\",\"reason\",\"gateway_known\"}\n"
		  "(--batch: one object a line)"),
	BH_OPT_END
};

static const struct bh_cmd_spec explain_spec = {
	.synopsis = "[-c POLICY] [--json] SRC DST PROTO[/PORT] | --batch FILE",
	.opts = explain_opts,
	.min_args = 0,
	.max_args = 3,
	.help =
	"SRC: a device of the policy (MAC or name) or any MAC. DST: a device, a MAC,\n"
	"an address (a device's, or one reached through the gateway) or 'gateway'.\n"
	"PROTO: tcp/PORT, udp/PORT, icmp or icmpv6. The first packet of the flow is\n"
	"judged by the reference evaluator, with the quarantine in force.\n"
	"Example: bulkhead explain fridge camera tcp/554\n",
};

/* What every query of one run shares: the policy, its rules, the gateway. */
struct explain_run {
	const struct bh_ctx *ctx;
	const struct explain_opts *o;
	const struct bh_policy *p;
	const struct bh_compiled *c;
	const struct bh_topology *topo;
	bool gw_known;
	struct explain_block *blk;
	bool blocked;			/* blk is open */
};

/* One query: @q[0] SRC, @q[1] DST, @q[2] PROTO[/PORT]. 0 or -errno. */
static int explain_one(const struct explain_run *x, char **q)
{
	struct bh_eval_result r;
	struct endpoint src, dst;
	struct bh_env env = {};
	struct frame_buf f;
	__u8 (*quar)[6] = NULL;
	unsigned long port;
	size_t nq = 0;
	struct bh_addr a;
	const char *rule;
	bool v4;
	__u8 proto;
	int ret;

	ret = proto_arg(q[2], &proto, &port);
	if (ret)
		return ret;
	v4 = !(proto == IPPROTO_ICMPV6);
	if (!bh_parse_addr(q[1], &a))
		v4 = a.v4;
	ret = explain_ends(x->ctx, x->p, x->topo, q, v4, &src, &dst, &quar, &nq);
	if (ret)
		goto out;
	env.quarantined = (const __u8 (*)[6])quar;
	env.n_quarantined = nq;
	env.gw_macs = (const __u8 (*)[6])x->topo->macs;
	env.n_gw_macs = x->topo->n_macs;
	env.gw_addrs = x->topo->addrs;
	env.n_gw_addrs = x->topo->n_addrs;
	if (x->blocked) {
		env.blocked = explain_blocked;
		env.blocked_arg = x->blk;
	}
	explain_frame(&src, &dst, v4, proto, port, &f);
	bh_eval_frame(x->p, &env, NULL, f.b, f.len, &r);
	rule = r.rule >= 0 && (size_t)r.rule < x->c->n_rules ? x->c->rules[r.rule].label : NULL;
	if (x->o->json) {
		explain_json(&src, &dst, q[2], &r, rule, x->gw_known);
		goto out;
	}
	printf("%s -> %s %s: %s\n", src.label, dst.label, q[2],
	       r.reason == BH_R_PASS_AUDIT ? "would be dropped (audit): passes" :
	       r.pass ? "PASS" : "DROP");
	if (rule)
		printf("  decided by %s\n", rule);
	else
		printf("  %s\n", r.why);
	printf("  counted as %s\n", bh_reason_names[r.reason]);
	if (r.reason == BH_R_DROP_BLOCK)
		printf("  listed at %s:%u%s\n", x->blk->path ? x->blk->path : "the blocklist",
		       x->blk->line, x->blk->fd >= 0 ? " (the entry in force in the dataplane)" : "");
	if (dst.on_lan)
		printf("  judged by MAC on the bridge: no ip: or lease binds this address, so the frame is judged by the MAC it is sent to (the device that answers ARP/ND for it, as %s)\n",
		       dst.group >= 0 ? "learned" : "the unknown group until one is learned");
out:
	free(quar);
	return ret;
}

#define EXPLAIN_BATCH_MAX	(16u << 20)	/* bytes of queries read */
#define EXPLAIN_LINE_MAX	512

/* --batch: each line of the file a query, in order. 0, or -EINVAL if any was bad. */
static int explain_batch(const struct explain_run *x, const char *path)
{
	const char *name = strcmp(path, "-") ? path : "stdin";
	char line[EXPLAIN_LINE_MAX], *q[4], *save;
	unsigned int lineno = 0, bad = 0;
	size_t len, pos = 0;
	char *buf = NULL;
	int fd, ret, got;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : STDIN_FILENO;
	if (fd < 0) {
		ret = -errno;
		bh_err("explain: %s: %s", name, strerror(-ret));
		return ret;
	}
	ret = bh_read_fd(fd, EXPLAIN_BATCH_MAX, &buf, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret) {
		bh_err("explain: %s: %s", name, strerror(-ret));
		return ret;
	}
	while ((got = bh_next_line(buf, len, &pos, line, sizeof(line)))) {
		int n = 0;

		lineno++;
		if (got < 0) {
			bh_err("explain: %s:%u: %s", name, lineno,
			       got == -E2BIG ? "line too long" : "a NUL byte in the line");
			bad++;
			continue;
		}
		for (char *t = strtok_r(line, " \t\r", &save); t && n < 4;
		     t = strtok_r(NULL, " \t\r", &save))
			q[n++] = t;
		if (!n || q[0][0] == '#')
			continue;
		if (n != 3) {
			bh_err("explain: %s:%u: want SRC DST PROTO[/PORT]", name, lineno);
			bad++;
			continue;
		}
		/* what each query says goes out before the next one's */
		ret = explain_one(x, q);
		fflush(stdout);
		if (ret) {
			if (ret != -EINVAL)
				goto out;
			bh_err("explain: %s:%u: not judged (above)", name, lineno);
			bad++;
		}
	}
	ret = bad ? -EINVAL : 0;
out:
	free(buf);
	return ret;
}

int do_explain(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct explain_opts o = {};
	struct bh_topology topo = {};
	struct bh_policy *p = NULL;
	struct bh_compiled c = {};
	struct bh_diag d = {};
	struct explain_block blk = { .fd = -1 };
	struct explain_run x = { .ctx = ctx, .o = &o, .topo = &topo, .blk = &blk };
	int ret;

	ret = bh_cmd_parse(self, &explain_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	if (o.batch ? argc != 0 : argc != 3) {
		bh_err("explain: %s", o.batch ? "--batch takes its queries from the file, not the command line" :
		       "want SRC DST PROTO[/PORT] (or --batch FILE)");
		return -EINVAL;
	}
	if (!o.batch) {
		__u8 proto;
		unsigned long port;

		/* a bad PROTO is said before anything is read */
		ret = proto_arg(argv[2], &proto, &port);
		if (ret)
			return ret;
	}
	ret = bh_ctl_state_dir_ok("explain", ctx);
	if (ret)
		return ret;
	ret = explain_policy(ctx, o.path, &p);
	if (ret)
		goto out;
	if (bh_compile(p, &c, &d)) {
		bh_diag_report(&d);
		ret = -EINVAL;
		goto out;
	}
	x.p = p;
	x.c = &c;
	x.gw_known = explain_gateway(p, &topo);
	if (!x.gw_known && !o.json)
		printf("(the policy's interfaces are not on this machine: the gateway's addresses are unknown)\n");
	ret = explain_block_open(ctx, p, o.path, &blk);
	if (ret < 0)
		goto out;
	x.blocked = ret;
	ret = o.batch ? explain_batch(&x, o.batch) : explain_one(&x, argv);
out:
	explain_block_close(&blk);
	if (x.gw_known)
		bh_topology_free(&topo);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return ret;
}
