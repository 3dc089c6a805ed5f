// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_events.c - `bulkhead events [--follow] [--json]`: the aggregates the
 * daemon wrote to <state dir>/events (events.c), with device names.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "cmd.h"
#include "detect.h"
#include "events.h"
#include "guard.h"
#include "json.h"

/* ---- bulkhead events ------------------------------------------------------------ */

static const struct bh_member *by_mac(const struct bh_policy *p, const __u8 mac[6],
				      const char **group)
{
	for (size_t g = 0; p && g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++)
			if (!memcmp(p->groups[g].members[i].mac, mac, 6)) {
				*group = p->groups[g].name;
				return &p->groups[g].members[i];
			}
	return NULL;
}

static const struct bh_member *by_addr(const struct bh_policy *p, const __u8 a[16],
				       const char **group)
{
	for (size_t g = 0; p && g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			const struct bh_member *m = &p->groups[g].members[i];

			for (size_t j = 0; j < m->n_ips; j++)
				if (!memcmp(m->ips[j].a, a, 16)) {
					*group = p->groups[g].name;
					return m;
				}
		}
	return NULL;
}

static bool zero16(const __u8 a[16])
{
	for (int i = 0; i < 16; i++)
		if (a[i])
			return false;
	return true;
}

static void fmt_addr(const __u8 a[16], bool v4, char *buf, size_t len)
{
	struct bh_addr x = { .v4 = v4 };

	memcpy(x.a, a, 16);
	bh_format_addr(&x, buf, len);
}

static const char *proto_name(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case 0:
		return "";
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	default:
		snprintf(buf, len, "ip%u", proto);
		return buf;
	}
}

/* What an aggregate's ends are called: a device name, else MAC or address. */
struct ends {
	char smac[18], dmac[18], saddr[64], daddr[64];
	const char *src, *sgroup, *dst, *dgroup;
	char sbuf[64], dbuf[80];
	const char *proto;
	char pbuf[16];
};

/* host names from the DHCP leases in force: for devices the policy does not name */
static struct bh_leases ev_leases;

static void ends_of(const struct bh_policy *p, const struct bh_evagg *a, struct ends *e)
{
	const char *host = bh_leases_host(&ev_leases, a->smac);
	const struct bh_member *m;
	bool ip = a->eth_proto == 0x0800 || a->eth_proto == 0x86dd || a->eth_proto == 0x0806;

	memset(e, 0, sizeof(*e));
	bh_format_mac(a->smac, e->smac);
	bh_format_mac(a->dmac, e->dmac);
	if (ip && !zero16(a->saddr))
		fmt_addr(a->saddr, a->is_v4, e->saddr, sizeof(e->saddr));
	if (ip && !zero16(a->daddr))
		fmt_addr(a->daddr, a->is_v4, e->daddr, sizeof(e->daddr));
	m = by_mac(p, a->smac, &e->sgroup);
	e->src = m && m->name ? m->name : host ? host : e->smac;
	if (m && !m->name && !host) {
		snprintf(e->sbuf, sizeof(e->sbuf), "%s(%s)", e->smac, e->sgroup);
		e->src = e->sbuf;
	}
	m = NULL;
	if (*e->daddr)
		m = by_addr(p, a->daddr, &e->dgroup);
	if (!m)
		m = by_mac(p, a->dmac, &e->dgroup);
	host = bh_leases_host(&ev_leases, m ? m->mac : a->dmac);
	if (m && m->name)
		e->dst = m->name;
	else if (host)
		e->dst = host;
	else if (*e->daddr)
		e->dst = e->daddr;
	else
		e->dst = e->dmac;
	e->proto = proto_name(a->proto, e->pbuf, sizeof(e->pbuf));
}

static void fmt_time(__u64 ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* a detection event: what the daemon made of the signal (enum bh_det_verdict) */
static const char *det_verdict(__u32 v)
{
	static const char *const names[] = { "ignored", "watch", "alert", "isolate" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static void print_detect(const struct bh_evagg *a, const struct ends *e, const char *t1,
			 const char *t2)
{
	printf("%s detect %s, %s level: %s; last target %s", e->src,
	       bh_det_kind_name(a->reason), a->sport == BH_DET_ACT ? "act" : "watch",
	       det_verdict(a->rule_id), *e->daddr ? e->daddr : "-");
	if (a->proto == 6 || a->proto == 17)
		printf(" %s/%u", e->proto, a->dport);
	printf(" x%llu, first %s, last %s\n", (unsigned long long)a->count, t1, t2);
}

/* a port name of a mac_move event (16 bytes of the file): printable only */
static void port_name(const __u8 *b, char out[17])
{
	size_t i;

	for (i = 0; i < 16 && b[i]; i++)
		out[i] = b[i] > ' ' && b[i] < 0x7f ? (char)b[i] : '?';
	out[i] = '\0';
}

static void print_agg(const struct bh_policy *p, const struct bh_evagg *a, struct bh_jw *w)
{
	char t1[32], t2[32], from[17], to[17];
	struct ends e;

	ends_of(p, a, &e);
	port_name(a->saddr, from);
	port_name(a->daddr, to);
	if (w) {
		bh_jw_obj_start(w);
		bh_jw_str_field(w, "kind", bh_evkind_name(a->kind));
		bh_jw_str_field(w, "src", e.src == e.smac || e.src == e.sbuf ? "" : e.src);
		bh_jw_str_field(w, "src_mac", e.smac);
		bh_jw_str_field(w, "src_group", e.sgroup ? e.sgroup : "");
		bh_jw_str_field(w, "src_addr", e.saddr);
		if (bh_evk_frames(a->kind)) {
			bh_jw_str_field(w, "dst", e.dst == e.daddr || e.dst == e.dmac ? "" : e.dst);
			bh_jw_str_field(w, "dst_mac", e.dmac);
			bh_jw_str_field(w, "dst_group", e.dgroup ? e.dgroup : "");
			bh_jw_str_field(w, "dst_addr", e.daddr);
			bh_jw_uint_field(w, "ethertype", a->eth_proto);
			bh_jw_str_field(w, "proto", e.proto);
			bh_jw_uint_field(w, "sport", a->sport);
			bh_jw_uint_field(w, "port", a->dport);
			bh_jw_str_field(w, "reason", bh_reason_name(a->reason));
			bh_jw_int_field(w, "rule_id", a->rule_id >= BH_RULE_PIN ? -1LL :
					(long long)a->rule_id);
		} else if (a->kind == BH_EVK_DETECT) {
			bh_jw_str_field(w, "signal", bh_det_kind_key(a->reason));
			bh_jw_str_field(w, "level", a->sport == BH_DET_ACT ? "act" : "watch");
			bh_jw_str_field(w, "action", det_verdict(a->rule_id));
			bh_jw_str_field(w, "dst_addr", e.daddr);
			bh_jw_str_field(w, "proto", e.proto);
			bh_jw_uint_field(w, "port", a->dport);
		} else if (a->kind == BH_EVK_MAC_MOVE) {
			bh_jw_str_field(w, "from_port", from);
			bh_jw_str_field(w, "to_port", to);
		}
		bh_jw_uint_field(w, "count", a->count);
		bh_jw_key(w, "first");
		bh_jw_msec(w, a->first_ms);
		bh_jw_key(w, "last");
		bh_jw_msec(w, a->last_ms);
		bh_jw_uint_field(w, "seq", a->seq);
		bh_jw_obj_end(w);
		return;
	}
	fmt_time(a->first_ms, t1, sizeof(t1));
	fmt_time(a->last_ms, t2, sizeof(t2));
	if (a->kind == BH_EVK_DETECT) {
		print_detect(a, &e, t1, t2);
		return;
	}
	if (a->kind == BH_EVK_MAC_MOVE) {
		printf("%s mac_move: from port %s to port %s x%llu, first %s, last %s\n", e.src,
		       from, to, (unsigned long long)a->count, t1, t2);
		return;
	}
	if (!bh_evk_frames(a->kind)) {
		printf("%s %s x%llu, first %s, last %s\n", e.src, bh_evkind_name(a->kind),
		       (unsigned long long)a->count, t1, t2);
		return;
	}
	printf("%s -> %s ", e.src, e.dst);
	if (a->proto == 6 || a->proto == 17)
		printf("%s/%u", e.proto, a->dport);
	else if (a->proto)
		printf("%s", e.proto);
	else
		printf("ethertype 0x%04x", a->eth_proto);
	printf(" %s%s x%llu, first %s, last %s\n",
	       a->kind == BH_EVK_WOULD_DROP ? "would_drop (audit passed it): " : "",
	       bh_reason_name(a->reason), (unsigned long long)a->count, t1, t2);
}

static int cmp_first(const void *x, const void *y)
{
	const struct bh_evagg *a = x, *b = y;

	if (a->first_ms != b->first_ms)
		return a->first_ms < b->first_ms ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_seq(const void *x, const void *y)
{
	const struct bh_evagg *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static volatile sig_atomic_t follow_stop;

static void on_stop(int sig)
{
	(void)sig;
	follow_stop = 1;
}

#define FOLLOW_POLL_MS	500

/* --follow: each aggregate whose sequence number grew, as it grows (JSON: one a line) */
static int follow(const struct bh_ctx *ctx, struct bh_policy **p, bool json, __u64 since)
{
	struct bh_jw w;

	char path[PATH_MAX];
	struct timespec mtime = {};
	struct stat st;

	bh_jw_init(&w, stdout);
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, BH_EVENTS_FILE);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGPIPE, on_stop);
	while (!follow_stop) {
		struct bh_evagg *v = NULL;
		size_t n = 0;

		if (!stat(path, &st) && (st.st_mtim.tv_sec != mtime.tv_sec ||
					 st.st_mtim.tv_nsec != mtime.tv_nsec)) {
			mtime = st.st_mtim;
			if (!bh_events_load(ctx->state_dir, &v, &n)) {
				if (n)
					qsort(v, n, sizeof(*v), cmp_seq);
				for (size_t i = 0; i < n; i++) {
					if (v[i].seq <= since)
						continue;
					if (!*p)	/* a policy applied since */
						*p = bh_applied_file(ctx);
					print_agg(*p, &v[i], json ? &w : NULL);
					if (json)
						bh_jw_nl(&w);
					since = v[i].seq;
				}
				fflush(stdout);
			}
			free(v);
		}
		poll(NULL, 0, FOLLOW_POLL_MS);
	}
	return 0;
}

/* A daemon holds <state dir>/daemon.pid's flock (daemon.c) */
static bool daemon_runs(const char *state_dir)
{
	char path[PATH_MAX];
	bool runs;
	int fd;

	snprintf(path, sizeof(path), "%s/daemon.pid", state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	runs = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return runs;
}

struct events_opts {
	bool json;
	bool follow;
};

static const struct bh_opt events_opts[] = {
	BH_OPT_BOOL("follow", 'f', struct events_opts, follow,
		    "keep running and print each aggregate as it changes"),
	BH_OPT_FN("json", 'j', NULL, struct events_opts, json, bh_opt_json,
		  "machine-readable output (with --follow: one object a line)"),
	BH_OPT_END
};

static const struct bh_cmd_spec events_spec = {
	.synopsis = "[--follow] [--json]",
	.opts = events_opts,
	.help =
	"The daemon reads the dataplane's deny events (rate-limited in the kernel:\n"
	"at most 10 a second per source MAC, bursts of 20; the drops in between\n"
	"are counted, not lost; --mode nft: from NFLOG group 25192, which the\n"
	"daemon binds) and keeps one line per (source device, destination,\n"
	"protocol, port, reason): how many frames, first and last seen. Isolate,\n"
	"release and the end of a timed quarantine are events too, and so are\n"
	"detection signals (kind detect: the signal, its level, what the daemon\n"
	"did, the last target). The daemon\n"
	"writes them to the state dir's 'events' file at most once a second;\n"
	"this command reads that file (--follow re-reads it when it changes), so\n"
	"it needs no daemon to show what was seen. A device the policy does not\n"
	"name is shown by the host name of its DHCP lease, else by its MAC.\n"
	"Example line:\n"
	"  fridge -> camera tcp/554 drop_default x40, first ..., last ...\n"
	"  camera detect port scan, act level: isolate; last target 192.168.1.20 tcp/22 x1, ...\n",
};

int do_events(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct events_opts o = {};
	struct bh_policy *p;
	struct bh_evagg *v = NULL;
	struct bh_jw w;
	__u64 since = 0;
	size_t n = 0;
	int ret;

	ret = bh_cmd_parse(self, &events_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_events_load(ctx->state_dir, &v, &n);
	if (ret) {
		char path[PATH_MAX], msg[PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, BH_EVENTS_FILE);
		bh_guard_path_err(path, ret, msg, sizeof(msg));
		fprintf(stderr, "bulkhead: events: %s\n", msg);
		bh_json_err_note(msg);
		return bh_err_input(ret) ? -EIO : ret;
	}
	if (!daemon_runs(ctx->state_dir))
		fprintf(stderr, "bulkhead: events: no daemon runs on %s: only the daemon ('bulkhead daemon') collects events; this is what it saw while it ran\n",
			ctx->state_dir);
	p = bh_applied_file(ctx);
	bh_leases_saved(ctx->state_dir, &ev_leases);
	if (n)
		qsort(v, n, sizeof(*v), cmp_first);
	bh_jw_init(&w, stdout);
	if (o.json && !o.follow)
		bh_jw_arr_start(&w);
	for (size_t i = 0; i < n; i++) {
		print_agg(p, &v[i], o.json ? &w : NULL);
		if (o.json && o.follow)
			bh_jw_nl(&w);
		if (v[i].seq > since)
			since = v[i].seq;
	}
	if (o.json && !o.follow) {
		bh_jw_arr_end(&w);
		bh_jw_nl(&w);
	}
	fflush(stdout);
	free(v);
	ret = o.follow ? follow(ctx, &p, o.json, since) : 0;
	bh_leases_free(&ev_leases);
	bh_policy_free(p);
	return ret;
}
