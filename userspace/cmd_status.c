// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_status.c - `bulkhead status` and `devices`: what is in force, and
 * every device known to the policy, the leases or the wire.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "cmd.h"
#include "counters.h"
#include "detect.h"
#include "eval.h"
#include "json.h"

struct json_opts {
	bool json;
};

static const struct bh_opt json_opts[] = {
	BH_OPT_FN("json", 'j', NULL, struct json_opts, json, bh_opt_json,
		  "machine-readable output"),
	BH_OPT_END
};

static size_t count_keys(int fd, size_t key_size)
{
	char cur[64], next[64];
	void *prev = NULL;
	size_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		n++;
		memcpy(cur, next, key_size);
		prev = cur;
	}
	return n;
}

/* Seconds left of a timed quarantine (0: none, or it ended) */
static __u64 quar_left(__u64 until)
{
	__u64 now = (__u64)time(NULL);

	return until > now ? until - now : 0;
}


/* The reason saved with @mac's quarantine, "" when none. */
static const char *quar_reason(const struct bh_quar_entry *q, size_t n, const __u8 mac[6])
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(q[i].mac, mac, 6))
			return q[i].reason;
	return "";
}

/*
 * The grace periods of `release --for` running now: status's "grace"
 * (@w NULL: text lines, @indent before each).
 */
static void print_grace(const struct bh_ctx *ctx, struct bh_jw *w, const char *indent)
{
	__u64 now = (__u64)time(NULL);
	struct bh_grace *g = NULL;
	char mac[18], left[32];
	size_t n = 0;

	bh_grace_read(ctx, now, &g, &n);
	if (w) {
		bh_jw_key(w, "grace");
		bh_jw_arr_start(w);
	}
	for (size_t i = 0; i < n; i++) {
		bh_format_mac(g[i].mac, mac);
		bh_duration_format(g[i].until - now, left, sizeof(left));
		if (w) {
			bh_jw_obj_start(w);
			bh_jw_str_field(w, "mac", mac);
			bh_jw_uint_field(w, "until", g[i].until);
			bh_jw_uint_field(w, "remaining", g[i].until - now);
			bh_jw_obj_end(w);
		} else {
			printf("%sgrace: %s (%s left): detection alerts but does not isolate it\n",
			       indent, mac, left);
		}
	}
	if (w)
		bh_jw_arr_end(w);
	free(g);
}

/* The quarantined devices, the time each has left and why, for status. */
static void print_quarantine(const struct bh_ctx *ctx, const struct bh_maps *m,
			     struct bh_jw *w)
{
	struct bh_quar_entry *q = NULL;
	struct bh_mac_key cur, next;
	struct bh_quar_val v;
	void *prev = NULL;
	char mac[18], left[32];
	size_t nq = 0;
	int n = 0;

	bh_quar_load(ctx->state_dir, &q, &nq);

	if (w) {
		bh_jw_key(w, "quarantine");
		bh_jw_arr_start(w);
	} else {
		printf("  quarantine: ");
	}
	while (!bpf_map_get_next_key(m->quarantine, prev, &next)) {
		if (!bpf_map_lookup_elem(m->quarantine, &next, &v)) {
			bh_format_mac(next.mac, mac);
			bh_duration_format(quar_left(v.until), left, sizeof(left));
			if (w) {
				bh_jw_obj_start(w);
				bh_jw_str_field(w, "mac", mac);
				bh_jw_uint_field(w, "since", v.since);
				bh_jw_uint_field(w, "until", v.until);
				bh_jw_uint_field(w, "remaining", quar_left(v.until));
				bh_jw_str_field(w, "level", v.level == BH_QLVL_LAN ? "lan" : "full");
				bh_jw_str_field(w, "reason", quar_reason(q, nq, next.mac));
				bh_jw_obj_end(w);
			} else {
				printf(" %s (%s%s%s)", mac, !v.until ? "until released" :
				       quar_left(v.until) ? left : "ended, the daemon releases it",
				       v.until && quar_left(v.until) ? " left" : "",
				       v.level == BH_QLVL_LAN ? "; from the LAN, internet kept" : "");
			}
			n++;
		}
		cur = next;
		prev = &cur;
	}
	if (w) {
		bh_jw_arr_end(w);
		goto out;
	}
	printf("%s\n", n ? "" : " none");
	/* why: isolate --reason, or detection's "auto: ..." */
	prev = NULL;
	while (!bpf_map_get_next_key(m->quarantine, prev, &next)) {
		if (*quar_reason(q, nq, next.mac)) {
			bh_format_mac(next.mac, mac);
			printf("    %s: %s\n", mac, quar_reason(q, nq, next.mac));
		}
		cur = next;
		prev = &cur;
	}
out:
	free(q);
}

/* Bulkhead is down: the quarantine up will restore */
static void status_down(const struct bh_ctx *ctx, bool json)
{
	struct bh_quar_entry *q = NULL;
	size_t nq = 0;
	char mac[18];
	struct bh_jw w;

	bh_quar_load(ctx->state_dir, &q, &nq);
	if (json) {
		bh_jw_init(&w, stdout);
		bh_jw_obj_start(&w);
		bh_jw_bool_field(&w, "up", false);
		if (nq) {
			bh_jw_key(&w, "quarantine_saved");
			bh_jw_arr_start(&w);
			for (size_t i = 0; i < nq; i++) {
				bh_format_mac(q[i].mac, mac);
				bh_jw_obj_start(&w);
				bh_jw_str_field(&w, "mac", mac);
				bh_jw_uint_field(&w, "since", q[i].since);
				bh_jw_uint_field(&w, "until", q[i].until);
				bh_jw_str_field(&w, "reason", q[i].reason);
				bh_jw_obj_end(&w);
			}
			bh_jw_arr_end(&w);
		}
		bh_jw_obj_end(&w);
		bh_jw_nl(&w);
	} else {
		printf("bulkhead: down (nothing pinned in %s)\n", ctx->pin_dir);
		for (size_t i = 0; i < nq; i++) {
			bh_format_mac(q[i].mac, mac);
			printf("  saved quarantine: %s%s%s (up restores it)\n", mac,
			       q[i].reason[0] ? ": " : "", q[i].reason);
		}
	}
	free(q);
}

/* what status shows, gathered */
struct status {
	const struct bh_ctx *ctx;
	struct bh_attached *att;
	size_t natt, nkv, nq;
	struct bh_kv *kv;
	struct bh_active act;
	struct bh_compiled c;
	struct bh_counter reasons[BH_R_MAX], *rules;
};

static const char *kv(const struct status *st, const char *key, const char *dflt)
{
	return bh_kv_get(st->kv, st->nkv, key) ?: dflt;
}

static void status_json(const struct status *st, const struct bh_maps *m)
{
	struct bh_jw w;

	bh_jw_init(&w, stdout);
	bh_jw_obj_start(&w);
	bh_jw_bool_field(&w, "up", true);
	bh_jw_str_field(&w, "mode", kv(st, "mode", "unknown"));
	bh_jw_key(&w, "interfaces");
	bh_jw_arr_start(&w);
	for (size_t i = 0; i < st->natt; i++) {
		bh_jw_obj_start(&w);
		bh_jw_str_field(&w, "name", st->att[i].name);
		bh_jw_int_field(&w, "ifindex", st->att[i].ifindex);
		bh_jw_str_field(&w, "mode", bh_mode_name(st->att[i].mode));
		bh_jw_obj_end(&w);
	}
	bh_jw_arr_end(&w);
	bh_jw_key(&w, "kernel");
	bh_jw_obj_start(&w);
	bh_jw_str_field(&w, "release", kv(st, "kernel", ""));
	bh_jw_str_field(&w, "tc_hooks", kv(st, "tc_hooks", ""));
	bh_jw_str_field(&w, "br_netfilter", kv(st, "br_netfilter", ""));
	bh_jw_str_field(&w, "br_netfilter_probe", kv(st, "br_netfilter_probe", ""));
	bh_jw_obj_end(&w);
	bh_jw_str_field(&w, "policy", kv(st, "policy", ""));
	bh_jw_uint_field(&w, "generation", st->act.gen);
	bh_jw_uint_field(&w, "epoch", st->act.epoch);
	bh_jw_uint_field(&w, "groups", strtoull(kv(st, "groups", "0"), NULL, 10));
	bh_jw_uint_field(&w, "devices", strtoull(kv(st, "devices", "0"), NULL, 10));
	bh_jw_uint_field(&w, "rules", strtoull(kv(st, "rules", "0"), NULL, 10));
	bh_jw_uint_field(&w, "quarantined", st->nq);
	print_quarantine(st->ctx, m, &w);
	print_grace(st->ctx, &w, "");
	bh_jw_key(&w, "counters");
	bh_jw_obj_start(&w);
	for (int r = 0; r < BH_R_MAX; r++) {
		bh_jw_key(&w, bh_reason_names[r]);
		bh_jw_obj_start(&w);
		bh_jw_uint_field(&w, "packets", st->reasons[r].packets);
		bh_jw_uint_field(&w, "bytes", st->reasons[r].bytes);
		bh_jw_obj_end(&w);
	}
	bh_jw_obj_end(&w);
	bh_jw_key(&w, "rules_hits");
	bh_jw_arr_start(&w);
	for (size_t i = 0; st->rules && i < st->c.n_rules && i < BH_MAX_RULES; i++) {
		bh_jw_obj_start(&w);
		bh_jw_uint_field(&w, "id", i);
		bh_jw_str_field(&w, "rule", st->c.rules[i].label);
		bh_jw_str_field(&w, "key", st->c.rules[i].key);
		bh_jw_uint_field(&w, "packets", st->rules[i].packets);
		bh_jw_uint_field(&w, "bytes", st->rules[i].bytes);
		bh_jw_obj_end(&w);
	}
	bh_jw_arr_end(&w);
	bh_jw_obj_end(&w);
	bh_jw_nl(&w);
}

static void status_text(const struct status *st, const struct bh_maps *m)
{
	printf("bulkhead: up, mode %s\n", kv(st, "mode", "unknown"));
	printf("  policy:      %s (epoch %u, generation %u)\n",
	       kv(st, "policy", "?"), st->act.epoch, st->act.gen);
	printf("  counts:      %s groups, %s devices, %s rules, %zu quarantined\n",
	       kv(st, "groups", "?"), kv(st, "devices", "?"), kv(st, "rules", "?"), st->nq);
	if (st->nq)
		print_quarantine(st->ctx, m, NULL);
	print_grace(st->ctx, NULL, "  ");
	printf("  kernel:      %s (tc hooks %s, br_netfilter %s", kv(st, "kernel", "?"),
	       kv(st, "tc_hooks", "?"), kv(st, "br_netfilter", "?"));
	bh_print_brnf(kv(st, "br_netfilter_probe", ""));
	printf(", when it came up)\n");
	printf("  ports:      ");
	for (size_t i = 0; i < st->natt; i++)
		printf(" %s[%s]%s", st->att[i].name, bh_mode_name(st->att[i].mode),
		       st->att[i].ifindex ? "" : "(gone)");
	printf("\n  verdicts:\n");
	for (int r = 0; r < BH_R_MAX; r++)
		if (st->reasons[r].packets)
			printf("    %-16s %12llu packets %14llu bytes\n",
			       bh_reason_names[r], (unsigned long long)st->reasons[r].packets,
			       (unsigned long long)st->reasons[r].bytes);
	if (st->c.n_rules)
		printf("  rules:\n");
	for (size_t i = 0; st->rules && i < st->c.n_rules && i < BH_MAX_RULES; i++)
		printf("    %-48s %12llu packets\n", st->c.rules[i].label,
		       (unsigned long long)st->rules[i].packets);
}

static const struct bh_cmd_spec status_spec = {
	.synopsis = "[--json]",
	.opts = json_opts,
};

int do_status(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct json_opts o = {};
	struct status st = { .ctx = ctx };
	struct bh_policy *p = NULL;
	struct bh_maps m;
	__u32 zero = 0;
	int ret;

	ret = bh_cmd_parse(self, &status_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_ctl_state_dir_ok("status", ctx);
	if (ret)
		return ret;
	ret = bh_ctl_maps_open("status", ctx, &m);
	if (ret < 0)
		return ret;
	if (!ret) {
		status_down(ctx, o.json);
		return 0;
	}
	bpf_map_lookup_elem(m.active, &zero, &st.act);
	bh_ports_in_force(ctx, &st.att, &st.natt);
	bh_kv_load(ctx->state_dir, BH_STATE_UP, &st.kv, &st.nkv);
	st.nq = count_keys(m.quarantine, sizeof(struct bh_mac_key));
	p = bh_applied_policy(ctx);
	if (p) {
		struct bh_diag d = {};

		if (bh_compile(p, &st.c, &d))
			memset(&st.c, 0, sizeof(st.c));
	}
	st.rules = calloc(st.c.n_rules + 1, sizeof(*st.rules));
	if (!st.rules || bh_counts_verdicts(&m, bh_nft_in_force(ctx), st.act.gen, st.reasons,
					    st.rules, st.c.n_rules))
		memset(st.reasons, 0, sizeof(st.reasons));
	if (o.json)
		status_json(&st, &m);
	else
		status_text(&st, &m);
	free(st.rules);
	bh_compiled_free(&st.c);
	bh_policy_free(p);
	free(st.kv);
	free(st.att);
	bh_maps_close(&m);
	return 0;
}
struct dev_row {
	__u8 mac[6];
	const char *name;
	const char *host;	/* from a DHCP lease, NULL: none */
	const char *group;
	bool quarantined;
	bool saved;		/* quarantined in the state dir only: up restores it */
	__u64 since, until;	/* a quarantine's start, a timed one's end (0: none) */
	char reason[256];	/* isolate --reason, detection's "auto: ...", "": none */
	__u8 level;		/* BH_QLVL_*: full, or lan (the internet kept) */
	__u64 grace;		/* release --for: its grace period's end (0: none) */
	char addrs[256];	/* "a (ip), b (lease), c (learned)" */
	struct bh_dev_stats st;
};

/* one more address of a device, with where it comes from */
static void row_addr(struct dev_row *r, const struct bh_addr *a, const char *from)
{
	size_t len = strlen(r->addrs);
	char ip[64];

	bh_format_addr(a, ip, sizeof(ip));
	if (strstr(r->addrs, ip))
		return;
	snprintf(r->addrs + len, sizeof(r->addrs) - len, "%s%s (%s)", len ? ", " : "", ip, from);
}

/*
 * The devices being gathered, found by MAC through an open-addressed index
 * (a MAC flood fills bh_devstats with up to BH_MAX_DEVSTATS of them: a
 * linear search per row would make `devices` quadratic).
 */
struct row_set {
	struct dev_row *rows;
	size_t n, cap;
	__u32 *slot;		/* index + 1 into rows, 0: empty */
	size_t nslot;		/* a power of two, at least twice n */
};

static size_t mac_hash(const __u8 mac[6], size_t nslot)
{
	__u64 v = 0;

	memcpy(&v, mac, 6);
	return (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 32) & (nslot - 1);
}

static int rows_reindex(struct row_set *s)
{
	size_t nslot = s->nslot ? s->nslot * 2 : 256;
	__u32 *slot = calloc(nslot, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		size_t h = mac_hash(s->rows[i].mac, nslot);

		while (slot[h])
			h = (h + 1) & (nslot - 1);
		slot[h] = (__u32)i + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->nslot = nslot;
	return 0;
}

/* the slot @mac's row is in, or the empty one it would take */
static size_t row_slot(const struct row_set *s, const __u8 mac[6])
{
	size_t h;

	for (h = mac_hash(mac, s->nslot); s->slot[h]; h = (h + 1) & (s->nslot - 1))
		if (!memcmp(s->rows[s->slot[h] - 1].mac, mac, 6))
			break;
	return h;
}

/* @mac's row, or NULL */
static struct dev_row *row_find(const struct row_set *s, const __u8 mac[6])
{
	size_t h;

	if (!s->nslot)
		return NULL;
	h = row_slot(s, mac);
	return s->slot[h] ? &s->rows[s->slot[h] - 1] : NULL;
}

/* @mac's row, a new one if it has none; NULL: out of memory */
static struct dev_row *row_for(struct row_set *s, const __u8 mac[6])
{
	struct dev_row *r;
	size_t h;

	if ((s->n + 1) * 2 > s->nslot && rows_reindex(s))
		return NULL;
	h = row_slot(s, mac);
	if (s->slot[h])
		return &s->rows[s->slot[h] - 1];
	if (bh_grow((void **)&s->rows, &s->cap, s->n + 1, sizeof(*s->rows), 64))
		return NULL;
	r = &s->rows[s->n];
	memset(r, 0, sizeof(*r));
	memcpy(r->mac, mac, 6);
	s->slot[h] = (__u32)++s->n;
	return r;
}

/* every device: the policy's, the wire's, the quarantine's, with addresses */
static int devices_gather(const struct bh_ctx *ctx, const struct bh_maps *m, bool up,
			  const struct bh_policy *p, const struct bh_leases *leases,
			  struct row_set *rs)
{
	struct bh_quar_entry *quar = NULL;
	struct bh_mac_key cur, next;
	struct bh_grace *grace = NULL;
	struct dev_row *r;
	size_t nquar = 0, ngrace = 0;
	void *prev;
	int ret;

	for (size_t g = 0; p && g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			r = row_for(rs, p->groups[g].members[i].mac);
			if (!r)
				return -ENOMEM;
			r->name = p->groups[g].members[i].name;
			r->group = p->groups[g].name;
			for (size_t a = 0; a < p->groups[g].members[i].n_ips; a++)
				row_addr(r, &p->groups[g].members[i].ips[a], "ip");
		}
	if (up) {
		struct bh_dev_count *dc = NULL;
		size_t ndc = 0;

		/* devices seen on the wire (not in the policy: unknown group) */
		bh_counts_devices(m, bh_nft_in_force(ctx), &dc, &ndc);
		for (size_t i = 0; i < ndc; i++) {
			r = row_for(rs, dc[i].mac);
			if (!r) {
				free(dc);
				return -ENOMEM;
			}
			r->st = dc[i].st;
		}
		free(dc);
		prev = NULL;
		while (!bpf_map_get_next_key(m->quarantine, prev, &next)) {
			struct bh_quar_val v;

			r = row_for(rs, next.mac);
			if (!r)
				return -ENOMEM;
			r->quarantined = true;
			if (!bpf_map_lookup_elem(m->quarantine, &next, &v)) {
				r->since = v.since;
				r->until = v.until;
				r->level = v.level;
			}
			cur = next;
			prev = &cur;
		}
	}
	/* the quarantine as saved: the reasons, and after down what up restores */
	bh_quar_load(ctx->state_dir, &quar, &nquar);
	for (size_t i = 0; i < nquar; i++) {
		r = row_for(rs, quar[i].mac);
		if (!r) {
			free(quar);
			return -ENOMEM;
		}
		if (!up) {
			r->quarantined = r->saved = true;
			r->since = quar[i].since;
			r->until = quar[i].until;
			r->level = quar[i].level;
		}
		snprintf(r->reason, sizeof(r->reason), "%s", quar[i].reason);
	}
	free(quar);
	ret = bh_grace_read(ctx, (__u64)time(NULL), &grace, &ngrace);
	for (size_t i = 0; !ret && i < ngrace; i++) {
		r = row_for(rs, grace[i].mac);
		if (!r) {
			free(grace);
			return -ENOMEM;
		}
		r->grace = grace[i].until;
	}
	free(grace);
	/* the leased addresses of the devices listed: rows by MAC */
	for (size_t l = 0; l < leases->n; l++) {
		struct bh_addr a = { .v4 = true };

		r = row_find(rs, leases->v[l].mac);
		if (!r)
			continue;
		bh_v4mapped(a.a, leases->v[l].ip);
		row_addr(r, &a, "lease");
	}
	for (size_t i = 0; i < rs->n; i++)
		rs->rows[i].host = bh_leases_host(leases, rs->rows[i].mac);
	/* addresses learned on the bridge (bh_claim) */
	if (up) {
		struct bh_addr_key ak, *aprev = NULL, acur;
		struct bh_claim_val cv;

		while (!bpf_map_get_next_key(m->claim, aprev, &ak)) {
			if (!bpf_map_lookup_elem(m->claim, &ak, &cv) && (r = row_for(rs, cv.mac))) {
				struct bh_addr a;
				static const __u8 v4m[12] = { [10] = 0xff, [11] = 0xff };

				memcpy(a.a, ak.addr, 16);
				a.v4 = !memcmp(ak.addr, v4m, 12);
				row_addr(r, &a, "learned");
			}
			acur = ak;
			aprev = &acur;
		}
	}
	return 0;
}

static void row_quarantine(const struct dev_row *r, char *quar, size_t len)
{
	snprintf(quar, len, "-");
	if (r->quarantined && quar_left(r->until)) {
		char left[32];

		bh_duration_format(quar_left(r->until), left, sizeof(left));
		snprintf(quar, len, "%s left", left);
	} else if (r->quarantined && r->until) {
		snprintf(quar, len, "ended");
	} else if (r->quarantined) {
		snprintf(quar, len, "isolated");
	}
	if (r->saved)
		snprintf(quar, len, "at up");
	if (!r->quarantined && quar_left(r->grace)) {
		char left[24];

		bh_duration_format(quar_left(r->grace), left, sizeof(left));
		snprintf(quar, len, "grace %s", left);
	}
}

static void devices_json(const struct dev_row *rows, size_t n, const char *unknown)
{
	struct bh_jw w;
	char mac[18];

	bh_jw_init(&w, stdout);
	bh_jw_arr_start(&w);
	for (size_t i = 0; i < n; i++) {
		const struct dev_row *r = &rows[i];

		bh_format_mac(r->mac, mac);
		bh_jw_obj_start(&w);
		bh_jw_str_field(&w, "mac", mac);
		bh_jw_str_field(&w, "name", r->name ? r->name : "");
		bh_jw_str_field(&w, "host", r->host ? r->host : "");
		bh_jw_str_field(&w, "group", r->group ? r->group : unknown);
		bh_jw_bool_field(&w, "quarantined", r->quarantined);
		bh_jw_bool_field(&w, "saved_only", r->saved);
		bh_jw_uint_field(&w, "since", r->since);
		bh_jw_uint_field(&w, "until", r->until);
		bh_jw_uint_field(&w, "remaining", quar_left(r->until));
		bh_jw_str_field(&w, "reason", r->reason);
		bh_jw_str_field(&w, "level", r->level == BH_QLVL_LAN ? "lan" : "full");
		bh_jw_uint_field(&w, "grace_until", r->grace);
		bh_jw_uint_field(&w, "grace_remaining", quar_left(r->grace));
		bh_jw_str_field(&w, "addresses", r->addrs);
		bh_jw_uint_field(&w, "packets", r->st.packets);
		bh_jw_uint_field(&w, "bytes", r->st.bytes);
		bh_jw_uint_field(&w, "drops", r->st.drops);
		bh_jw_obj_end(&w);
	}
	bh_jw_arr_end(&w);
	bh_jw_nl(&w);
}

static void devices_text(const struct dev_row *rows, size_t n, const char *unknown)
{
	char mac[18], quar[32], when[32];

	printf("%-17s  %-16s  %-16s  %-12s  %-11s  %10s  %12s  %8s  %s\n", "MAC", "NAME",
	       "HOST", "GROUP", "QUARANTINE", "PACKETS", "BYTES", "DROPS", "ADDRESSES");
	for (size_t i = 0; i < n; i++) {
		bh_format_mac(rows[i].mac, mac);
		row_quarantine(&rows[i], quar, sizeof(quar));
		printf("%-17s  %-16s  %-16s  %-12s  %-11s  %10llu  %12llu  %8llu  %s\n", mac,
		       rows[i].name ? rows[i].name : "-",
		       rows[i].host ? rows[i].host : "-",
		       rows[i].group ? rows[i].group : unknown, quar,
		       (unsigned long long)rows[i].st.packets,
		       (unsigned long long)rows[i].st.bytes,
		       (unsigned long long)rows[i].st.drops,
		       rows[i].addrs[0] ? rows[i].addrs : "-");
	}
	/* why and since when: the reasons given with isolate --reason */
	for (size_t i = 0; i < n; i++) {
		time_t t = (time_t)rows[i].since;
		struct tm tm;

		if (!rows[i].quarantined)
			continue;
		bh_format_mac(rows[i].mac, mac);
		strcpy(when, "?");
		if (t && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("quarantine: %s%s%s%s since %s%s%s%s\n", mac, rows[i].name ? " " : "",
		       rows[i].name ? rows[i].name : "",
		       rows[i].level == BH_QLVL_LAN ? " (from the LAN, internet kept)" : "", when,
		       rows[i].reason[0] ? ": " : "", rows[i].reason,
		       rows[i].saved ? " (Bulkhead is down: up restores it)" : "");
	}
	/* release --for: detection alerts on them but does not isolate them */
	for (size_t i = 0; i < n; i++) {
		time_t t = (time_t)rows[i].grace;
		struct tm tm;

		if (!quar_left(rows[i].grace))
			continue;
		bh_format_mac(rows[i].mac, mac);
		strcpy(when, "?");
		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("grace: %s%s%s until %s: detection does not isolate it again\n", mac,
		       rows[i].name ? " " : "", rows[i].name ? rows[i].name : "", when);
	}
}

static const struct bh_cmd_spec devices_spec = {
	.synopsis = "[--json]",
	.opts = json_opts,
	.help =
	"HOST (\"host\" in JSON) is the host name of the device's DHCP lease in\n"
	"force, made printable (bytes outside ASCII 0x21-0x7e shown as '?'); the\n"
	"device chose it, so it is a label, not an identity.\n",
};

int do_devices(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct json_opts o = {};
	struct bh_leases leases = {};
	struct row_set rs = {};
	struct bh_policy *p;
	const char *unknown = "unknown";
	struct bh_maps m;
	bool up;
	int ret;

	ret = bh_cmd_parse(self, &devices_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_ctl_state_dir_ok("devices", ctx);
	if (ret)
		return ret;
	ret = bh_ctl_maps_open("devices", ctx, &m);
	if (ret < 0)
		return ret;
	up = ret;
	p = bh_applied_policy(ctx);
	if (p)
		unknown = p->groups[p->unknown_group].name;
	bh_leases_saved(ctx->state_dir, &leases);
	ret = devices_gather(ctx, &m, up, p, &leases, &rs);
	if (ret) {
		bh_err("devices: out of memory");
	} else if (o.json) {
		devices_json(rs.rows, rs.n, unknown);
	} else {
		devices_text(rs.rows, rs.n, unknown);
	}
	free(rs.rows);
	free(rs.slot);
	bh_leases_free(&leases);
	bh_policy_free(p);
	if (up)
		bh_maps_close(&m);
	return ret;
}
