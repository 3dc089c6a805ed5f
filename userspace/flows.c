// SPDX-License-Identifier: GPL-2.0
/*
 * flows.c - the views of `bulkhead flows`: the table, the matrix and the
 * JSON of aggregated flow records, named from the policy and the leases.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "flows.h"
#include "json.h"
#include "state.h"

/* ---- names ------------------------------------------------------------------ */

static const struct bh_member *member_of(const struct bh_policy *p, const __u8 mac[6], size_t *g)
{
	for (size_t i = 0; p && i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			if (!memcmp(p->groups[i].members[j].mac, mac, 6)) {
				*g = i;
				return &p->groups[i].members[j];
			}
	return NULL;
}

const char *bh_flows_dev_name(const struct bh_flow_names *nm, const __u8 mac[6], char buf[18])
{
	const struct bh_member *m = nm ? member_of(nm->policy, mac, &(size_t){ 0 }) : NULL;
	const char *host = nm && nm->leases ? bh_leases_host(nm->leases, mac) : NULL;

	if (m && m->name && *m->name)
		return m->name;
	if (host && *host)
		return host;
	bh_format_mac(mac, buf);
	return buf;
}

const char *bh_flows_dev_group(const struct bh_flow_names *nm, const __u8 mac[6])
{
	size_t g;

	if (!nm || !nm->policy)
		return NULL;
	if (member_of(nm->policy, mac, &g))
		return nm->policy->groups[g].name;
	return nm->policy->groups[nm->policy->unknown_group].name;
}

int bh_flows_find_device(const struct bh_flow_names *nm, const char *s, __u8 mac[6])
{
	const struct bh_policy *p = nm ? nm->policy : NULL;
	const struct bh_leases *l = nm ? nm->leases : NULL;
	int found = 0;

	if (!bh_parse_mac(s, mac))
		return 0;
	for (size_t i = 0; p && i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			if (p->groups[i].members[j].name && !strcmp(p->groups[i].members[j].name, s)) {
				memcpy(mac, p->groups[i].members[j].mac, 6);
				found++;
			}
	if (found)
		return found > 1 ? -EEXIST : 0;
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->v[i].host, s)) {
			if (found && memcmp(mac, l->v[i].mac, 6))
				return -EEXIST;
			memcpy(mac, l->v[i].mac, 6);
			found = 1;
		}
	return found ? 0 : -ENOENT;
}

/* ---- one record as text ----------------------------------------------------------- */

struct row {
	const struct bh_flow_rec *r;
	char src[72], dst[96], pp[24];
};

static void dst_text(const struct bh_flow_names *nm, const struct bh_flow_key *k,
		     char *buf, size_t len)
{
	char a[64], mb[18];

	switch (k->kind) {
	case BH_FK_DEVICE:
		snprintf(buf, len, "%s", bh_flows_dev_name(nm, k->dmac, mb));
		return;
	case BH_FK_GATEWAY:
		snprintf(buf, len, "gateway");
		return;
	default:
		bh_flow_daddr_text(k, a, sizeof(a));
		snprintf(buf, len, "%s %s", bh_flow_kind_name(k->kind), a);
	}
}

static void pp_text(const struct bh_flow_key *k, char *buf, size_t len)
{
	char pb[8];

	if ((k->flags & BH_FLOW_F_ARP) || (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP &&
					   k->proto != IPPROTO_ICMP && k->proto != IPPROTO_ICMPV6))
		snprintf(buf, len, "%s", bh_flow_proto_name(k, pb));
	else
		snprintf(buf, len, "%s/%u", bh_flow_proto_name(k, pb), k->port);
}

static const char *verdict_text(__u8 v)
{
	return v == BH_FV_DROP ? "DENIED" : v == BH_FV_WOULD_DROP ? "would-drop" : "pass";
}

static void ago(__u64 now, __u64 t, char *buf, size_t len)
{
	char d[32];

	if (t >= now) {
		snprintf(buf, len, "now");
		return;
	}
	bh_duration_format(now - t, d, sizeof(d));
	snprintf(buf, len, "%s ago", d);
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->src, y->src);

	if (!c)
		c = strcmp(x->dst, y->dst);
	if (!c)
		c = memcmp(&x->r->key, &y->r->key, sizeof(x->r->key));
	return c;
}

static struct row *rows_make(const struct bh_flow_set *s, const struct bh_flow_names *nm)
{
	struct row *v = calloc(s->n ? s->n : 1, sizeof(*v));
	char mb[18];

	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		v[i].r = &s->v[i];
		snprintf(v[i].src, sizeof(v[i].src), "%s",
			 bh_flows_dev_name(nm, s->v[i].key.smac, mb));
		dst_text(nm, &s->v[i].key, v[i].dst, sizeof(v[i].dst));
		pp_text(&s->v[i].key, v[i].pp, sizeof(v[i].pp));
	}
	qsort(v, s->n, sizeof(*v), cmp_row);
	return v;
}

/* ---- the views ------------------------------------------------------------------ */

static void print_table(FILE *f, const struct row *v, size_t n, __u64 now)
{
	int ws = 6, wd = 11;

	for (size_t i = 0; i < n; i++) {
		if ((int)strlen(v[i].src) > ws)
			ws = (int)strlen(v[i].src);
		if ((int)strlen(v[i].dst) > wd)
			wd = (int)strlen(v[i].dst);
	}
	fprintf(f, "%-*s  %-*s  %-12s %-10s %10s %12s  %-12s %s\n", ws, "SOURCE", wd,
		"DESTINATION", "PROTO/PORT", "VERDICT", "PACKETS", "BYTES", "FIRST", "LAST");
	for (size_t i = 0; i < n; i++) {
		char first[40], last[40];

		ago(now, v[i].r->first, first, sizeof(first));
		ago(now, v[i].r->last, last, sizeof(last));
		fprintf(f, "%-*s  %-*s  %-12s %-10s %10llu %12llu  %-12s %s\n", ws, v[i].src, wd,
			v[i].dst, v[i].pp, verdict_text(v[i].r->key.verdict),
			(unsigned long long)v[i].r->packets, (unsigned long long)v[i].r->bytes,
			first, last);
	}
	if (!n)
		fputs("no flows recorded\n", f);
}

/* the matrix's columns after the devices: the destination classes */
static const struct { const char *label; __u8 kind, kind2; } classes[] = {
	{ "gw", BH_FK_GATEWAY, BH_FK_GATEWAY },
	{ "inet", BH_FK_INTERNET, BH_FK_INTERNET },
	{ "mcast", BH_FK_MULTICAST, BH_FK_BROADCAST },
	{ "lan", BH_FK_LAN, BH_FK_LAN },
};
#define N_CLASSES	(sizeof(classes) / sizeof(classes[0]))

struct dev {
	__u8 mac[6];
	char name[64];
};

static int cmp_dev(const void *a, const void *b)
{
	const struct dev *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : memcmp(x->mac, y->mac, 6);
}

static int dev_index(const struct dev *v, size_t n, const __u8 mac[6])
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(v[i].mac, mac, 6))
			return (int)i;
	return -1;
}

static void dev_add(struct dev *v, size_t *n, const struct bh_flow_names *nm, const __u8 mac[6])
{
	char mb[18];

	if (dev_index(v, *n, mac) >= 0)
		return;
	memcpy(v[*n].mac, mac, 6);
	snprintf(v[*n].name, sizeof(v[*n].name), "%s", bh_flows_dev_name(nm, mac, mb));
	(*n)++;
}

/* a cell's mark: the worst verdict it holds */
static char mark(char old, __u8 verdict)
{
	static const char rank[] = ".+!x";
	char m = verdict == BH_FV_DROP ? 'x' : verdict == BH_FV_WOULD_DROP ? '!' : '+';

	return strchr(rank, m) > strchr(rank, old) ? m : old;
}

static int print_matrix(FILE *f, const struct bh_flow_set *s, const struct bh_flow_names *nm)
{
	size_t n = 0, cols, wn = 6;
	struct dev *v = calloc(2 * s->n + 1, sizeof(*v));
	char *cell;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		dev_add(v, &n, nm, s->v[i].key.smac);
		if (s->v[i].key.kind == BH_FK_DEVICE)
			dev_add(v, &n, nm, s->v[i].key.dmac);
	}
	qsort(v, n, sizeof(*v), cmp_dev);
	cols = n + N_CLASSES;
	cell = malloc(n * cols + 1);
	if (!cell) {
		free(v);
		return -ENOMEM;
	}
	memset(cell, '.', n * cols);
	for (size_t i = 0; i < s->n; i++) {
		const struct bh_flow_key *k = &s->v[i].key;
		size_t row = (size_t)dev_index(v, n, k->smac), col = 0;

		if (k->kind == BH_FK_DEVICE) {
			col = (size_t)dev_index(v, n, k->dmac);
		} else {
			for (size_t c = 0; c < N_CLASSES; c++)
				if (k->kind == classes[c].kind || k->kind == classes[c].kind2)
					col = n + c;
		}
		cell[row * cols + col] = mark(cell[row * cols + col], k->verdict);
	}
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].name) > wn)
			wn = strlen(v[i].name);
	fprintf(f, "%3s %-*s", "", (int)wn, "");
	for (size_t c = 0; c < n; c++)
		fprintf(f, " %3zu", c + 1);
	for (size_t c = 0; c < N_CLASSES; c++)
		fprintf(f, " %s", classes[c].label);
	fputc('\n', f);
	for (size_t r = 0; r < n; r++) {
		fprintf(f, "%3zu %-*s", r + 1, (int)wn, v[r].name);
		for (size_t c = 0; c < n; c++)
			fprintf(f, " %3c", cell[r * cols + c]);
		for (size_t c = 0; c < N_CLASSES; c++)
			fprintf(f, " %*c", (int)strlen(classes[c].label), cell[r * cols + n + c]);
		fputc('\n', f);
	}
	fputs("rows: sources; columns: destinations (devices by number, then gateway, internet,\n"
	      "multicast and broadcast, unknown LAN addresses); + passed, ! would be dropped\n"
	      "(audit), x denied, . none\n", f);
	free(cell);
	free(v);
	return 0;
}

/* the group of @mac as a "group" key, when it has one */
static void json_group(struct bh_jw *w, const struct bh_flow_names *nm, const __u8 *mac)
{
	const char *g = bh_flows_dev_group(nm, mac);

	if (g)
		bh_jw_str_field(w, "group", g);
}

static void print_json(FILE *f, const struct bh_flow_set *s, const struct row *v,
		       const struct bh_flow_names *nm)
{
	struct bh_jw w;

	bh_jw_init(&w, f);
	bh_jw_obj_start(&w);
	bh_jw_key(&w, "flows");
	bh_jw_arr_start(&w);
	for (size_t i = 0; i < s->n; i++) {
		const struct bh_flow_rec *r = v[i].r;
		const struct bh_flow_key *k = &r->key;
		char mb[18], a[64], pb[8];

		bh_jw_obj_start(&w);
		bh_jw_key(&w, "src");
		bh_jw_obj_start(&w);
		bh_format_mac(k->smac, mb);
		bh_jw_str_field(&w, "mac", mb);
		bh_jw_str_field(&w, "name", v[i].src);
		json_group(&w, nm, k->smac);
		bh_jw_obj_end(&w);
		bh_jw_key(&w, "dst");
		bh_jw_obj_start(&w);
		bh_jw_str_field(&w, "kind", bh_flow_kind_name(k->kind));
		if (k->kind == BH_FK_DEVICE) {
			bh_format_mac(k->dmac, mb);
			bh_jw_str_field(&w, "mac", mb);
			bh_jw_str_field(&w, "name", bh_flows_dev_name(nm, k->dmac, mb));
			json_group(&w, nm, k->dmac);
		}
		bh_flow_daddr_text(k, a, sizeof(a));
		bh_jw_str_field(&w, "addr", a);
		bh_jw_obj_end(&w);
		bh_jw_str_field(&w, "proto", bh_flow_proto_name(k, pb));
		bh_jw_uint_field(&w, "port", k->port);
		bh_jw_str_field(&w, "verdict", bh_flow_verdict_name(k->verdict));
		bh_jw_uint_field(&w, "packets", r->packets);
		bh_jw_uint_field(&w, "bytes", r->bytes);
		bh_jw_uint_field(&w, "first", r->first);
		bh_jw_uint_field(&w, "last", r->last);
		bh_jw_obj_end(&w);
	}
	bh_jw_arr_end(&w);
	bh_jw_uint_field(&w, "bad_lines", s->n_bad);
	bh_jw_obj_end(&w);
	bh_jw_nl(&w);
}

int bh_flows_print(FILE *f, const struct bh_flow_set *s, const struct bh_flow_names *nm,
		   enum bh_flows_view view)
{
	struct row *v;
	int ret = 0;

	if (view == BH_FLOWS_MATRIX)
		return print_matrix(f, s, nm);
	v = rows_make(s, nm);
	if (!v)
		return -ENOMEM;
	if (view == BH_FLOWS_JSON)
		print_json(f, s, v, nm);
	else
		print_table(f, v, s->n, nm ? nm->now : 0);
	free(v);
	return ret;
}
