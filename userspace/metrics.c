// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - the daemon's Prometheus endpoint. See metrics.h.
 *
 * The request parser reads at most BH_METRICS_REQ_MAX bytes per connection
 * (nonblocking, from the daemon's poll loop) until the blank line that ends
 * the head, then judges the request line only: "GET /metrics HTTP/1.x"
 * (a query string is ignored). The response is written with a send timeout
 * and the connection closed (HTTP/1.0: no keep-alive).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "compile.h"
#include "ctl.h"
#include "leases.h"
#include "fdbwatch.h"
#include "metrics.h"
#include "counters.h"
#include "detector.h"
#include "policy.h"
#include "state.h"

struct client {
	int fd;
	long long deadline;		/* CLOCK_MONOTONIC ms */
	size_t len;
	char buf[BH_METRICS_REQ_MAX + 1];
};

struct bh_metrics {
	const struct bh_ctx *ctx;
	struct bh_events *ev;
	const struct bh_flowlog_stats *fst;	/* the flow history's; NULL: none yet */
	struct bh_detector *det;
	struct bh_fdbw *fdbw;		/* MAC moves; NULL: not followed */
	int lfd;
	struct client *cl[BH_METRICS_CLIENTS];
	/* the applied policy, compiled, for names and rule labels */
	unsigned int pol_epoch;
	bool pol_loaded;
	struct bh_policy *pol;
	struct bh_compiled comp;
	bool comp_ok;
	/* the daemon's applies */
	int last_ok;			/* -1: none yet */
	__u64 last_ts, applies_ok, applies_err;
	__u64 requests, bad_requests;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bh_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, unsigned int *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return -EINVAL;
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((__u16)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((__u16)port);
		*len = sizeof(*a);
	}
	return 0;
}

int bh_metrics_open(struct bh_metrics **out, const char *addr, const struct bh_ctx *ctx,
		    struct bh_events *ev, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct bh_metrics *mx;
	unsigned int len;
	int one = 1, ret;

	*out = NULL;
	if (!strcmp(addr, "off"))
		return 0;
	if (bh_metrics_parse_addr(addr, &ss, &len)) {
		snprintf(err, errlen, "--metrics %s: not ADDR:PORT, [ADDR6]:PORT or off", addr);
		return -EINVAL;
	}
	mx = calloc(1, sizeof(*mx));
	if (!mx)
		return -ENOMEM;
	mx->ctx = ctx;
	mx->ev = ev;
	mx->last_ok = -1;
	mx->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (mx->lfd < 0) {
		ret = -errno;
		goto err;
	}
	setsockopt(mx->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(mx->lfd, (struct sockaddr *)&ss, len) || listen(mx->lfd, 16)) {
		ret = -errno;
		goto err_close;
	}
	*out = mx;
	return 0;
err_close:
	close(mx->lfd);
err:
	snprintf(err, errlen, "metrics on %s: %s", addr, strerror(-ret));
	free(mx);
	return ret;
}

static void client_close(struct bh_metrics *mx, int i)
{
	close(mx->cl[i]->fd);
	free(mx->cl[i]);
	mx->cl[i] = NULL;
}

void bh_metrics_close(struct bh_metrics *mx)
{
	if (!mx)
		return;
	for (int i = 0; i < BH_METRICS_CLIENTS; i++)
		if (mx->cl[i])
			client_close(mx, i);
	close(mx->lfd);
	if (mx->comp_ok)
		bh_compiled_free(&mx->comp);
	bh_policy_free(mx->pol);
	free(mx);
}

int bh_metrics_pollfds(const struct bh_metrics *mx, struct pollfd *pfd, int max)
{
	int n = 0;

	if (!mx || max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = mx->lfd, .events = POLLIN };
	for (int i = 0; i < BH_METRICS_CLIENTS && n < max; i++)
		if (mx->cl[i])
			pfd[n++] = (struct pollfd){ .fd = mx->cl[i]->fd, .events = POLLIN };
	return n;
}

int bh_metrics_timeout(const struct bh_metrics *mx)
{
	long long now = mono_ms(), best = -1;

	for (int i = 0; mx && i < BH_METRICS_CLIENTS; i++) {
		long long left;

		if (!mx->cl[i])
			continue;
		left = mx->cl[i]->deadline - now;
		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	return (int)best;
}

void bh_metrics_set_events(struct bh_metrics *mx, struct bh_events *ev)
{
	if (mx)
		mx->ev = ev;
}

void bh_metrics_set_flows(struct bh_metrics *mx, const struct bh_flowlog_stats *st)
{
	if (mx)
		mx->fst = st;
}

void bh_metrics_set_detector(struct bh_metrics *mx, struct bh_detector *det)
{
	if (mx)
		mx->det = det;
}

void bh_metrics_set_fdbw(struct bh_metrics *mx, struct bh_fdbw *w)
{
	if (mx)
		mx->fdbw = w;
}

void bh_metrics_apply_result(struct bh_metrics *mx, bool ok)
{
	if (!mx)
		return;
	mx->last_ok = ok;
	mx->last_ts = (__u64)time(NULL);
	if (ok)
		mx->applies_ok++;
	else
		mx->applies_err++;
}

/* ---- rendering ------------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void policy_refresh(struct bh_metrics *mx, unsigned int epoch)
{
	struct bh_diag d = {};

	if (mx->pol_loaded && mx->pol_epoch == epoch)
		return;
	if (mx->comp_ok)
		bh_compiled_free(&mx->comp);
	memset(&mx->comp, 0, sizeof(mx->comp));
	mx->comp_ok = false;
	bh_policy_free(mx->pol);
	mx->pol = NULL;
	mx->pol_loaded = true;
	mx->pol_epoch = epoch;
	/* the policy's own path: rule labels as status shows them */
	mx->pol = bh_applied_file(mx->ctx);
	if (mx->pol && !bh_compile(mx->pol, &mx->comp, &d))
		mx->comp_ok = true;
}

/* the policy's name and group; a DHCP lease's host name where the policy has no name */
static void dev_names(const struct bh_policy *p, const struct bh_leases *l,
		      const __u8 mac[6], const char **name, const char **group)
{
	*name = bh_leases_host(l, mac) ?: "";
	*group = p && p->unknown_group < p->n_groups ? p->groups[p->unknown_group].name : "";
	for (size_t g = 0; p && g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++)
			if (!memcmp(p->groups[g].members[i].mac, mac, 6)) {
				*name = p->groups[g].members[i].name ?: *name;
				*group = p->groups[g].name;
				return;
			}
}

static size_t count_keys(int fd)
{
	char cur[64], next[64];
	void *prev = NULL;
	size_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		n++;
		memcpy(cur, next, sizeof(cur));
		prev = cur;
	}
	return n;
}

static void render_maps(FILE *f, const struct bh_maps *m)
{
	static const struct {
		const char *name;
		size_t off;
	} maps[] = {
#define E(n, x) { n, offsetof(struct bh_maps, x) }
		E("bh_devices", devices), E("bh_ips", ips), E("bh_policy", policy),
		E("bh_inet", inet), E("bh_talk", talk), E("bh_gw_mac", gw_mac),
		E("bh_gw_ip", gw_ip), E("bh_lan", lan), E("bh_quarantine", quarantine),
		E("bh_ct", ct), E("bh_frag", frag), E("bh_devstats", devstats),
		E("bh_evlimit", evlimit),
#undef E
	};
	size_t n = sizeof(maps) / sizeof(maps[0]);
	size_t count[sizeof(maps) / sizeof(maps[0])];
	__u32 max[sizeof(maps) / sizeof(maps[0])];

	for (size_t i = 0; i < n; i++) {
		struct bpf_map_info info = {};
		__u32 ilen = sizeof(info);
		int fd = *(const int *)((const char *)m + maps[i].off);

		count[i] = count_keys(fd);
		max[i] = bpf_obj_get_info_by_fd(fd, &info, &ilen) ? 0 : info.max_entries;
	}
	head(f, "bulkhead_map_entries", "gauge",
	     "Entries in a BPF map now (both policy generations for the policy maps).");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "bulkhead_map_entries{map=\"%s\"} %zu\n", maps[i].name, count[i]);
	head(f, "bulkhead_map_max_entries", "gauge", "Capacity of a BPF map.");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "bulkhead_map_max_entries{map=\"%s\"} %u\n", maps[i].name, max[i]);
}

static void render_devices(FILE *f, const struct bh_ctx *ctx, const struct bh_maps *m,
			   const struct bh_policy *p, const struct bh_leases *l)
{
	static const char *const what[3] = { "packets", "bytes", "drops" };
	static const char *const help[3] = {
		"Frames a device (source MAC) sent.",
		"Bytes a device (source MAC) sent.",
		"Frames a device (source MAC) sent that were dropped.",
	};
	struct bh_dev_count *rows = NULL;
	size_t n = 0;

	bh_counts_devices(m, bh_nft_in_force(ctx), &rows, &n);
	for (int w = 0; w < 3; w++) {
		char name[64];

		snprintf(name, sizeof(name), "bulkhead_device_%s_total", what[w]);
		head(f, name, "counter", help[w]);
		for (size_t i = 0; i < n; i++) {
			const struct bh_dev_stats *st = &rows[i].st;
			__u64 val = w == 0 ? st->packets : w == 1 ? st->bytes : st->drops;
			const char *dn, *dg;
			char mac[18];

			bh_format_mac(rows[i].mac, mac);
			dev_names(p, l, rows[i].mac, &dn, &dg);
			fprintf(f, "%s{mac=\"%s\",name=\"", name, mac);
			esc(f, dn);
			fputs("\",group=\"", f);
			esc(f, dg);
			fprintf(f, "\"} %llu\n", (unsigned long long)val);
		}
	}
	free(rows);
}

/* per reason and per rule: the BPF maps', or in --mode nft the nftables counters */
static void render_verdicts(FILE *f, struct bh_metrics *mx, const struct bh_maps *m, __u32 gen)
{
	size_t n_rules = mx->comp_ok ? mx->comp.n_rules : 0;
	struct bh_counter reasons[BH_R_MAX] = {}, *rules;

	if (n_rules > BH_MAX_RULES)
		n_rules = BH_MAX_RULES;
	rules = calloc(n_rules + 1, sizeof(*rules));
	if (!rules || bh_counts_verdicts(m, bh_nft_in_force(mx->ctx), gen, reasons, rules, n_rules))
		n_rules = 0;
	head(f, "bulkhead_verdict_packets_total", "counter", "Frames judged, by verdict reason.");
	for (int r = 0; r < BH_R_MAX; r++)
		fprintf(f, "bulkhead_verdict_packets_total{reason=\"%s\"} %llu\n",
			bh_reason_name((unsigned int)r), (unsigned long long)reasons[r].packets);
	head(f, "bulkhead_verdict_bytes_total", "counter", "Bytes judged, by verdict reason.");
	for (int r = 0; r < BH_R_MAX; r++)
		fprintf(f, "bulkhead_verdict_bytes_total{reason=\"%s\"} %llu\n",
			bh_reason_name((unsigned int)r), (unsigned long long)reasons[r].bytes);
	head(f, "bulkhead_drops_total", "counter", "Frames dropped, by reason.");
	for (int r = BH_R_PASS_MAX; r < BH_R_MAX; r++)
		fprintf(f, "bulkhead_drops_total{reason=\"%s\"} %llu\n",
			bh_reason_name((unsigned int)r), (unsigned long long)reasons[r].packets);
	head(f, "bulkhead_rule_hits_total", "counter",
	     "Frames a rule of the policy in force decided (rule: its name, else a hash of what it says; status --json rules_hits key).");
	for (size_t i = 0; i < n_rules; i++) {
		fprintf(f, "bulkhead_rule_hits_total{rule=\"");
		esc(f, mx->comp.rules[i].key);
		fprintf(f, "\"} %llu\n", (unsigned long long)rules[i].packets);
	}
	free(rules);
}

/* the flow history's counters, as the daemon's last drain left them */
static void render_flows(FILE *f, const struct bh_flowlog_stats *st)
{
	head(f, "bulkhead_flow_drains_total", "counter",
	     "Drains of the flow map that wrote records to the history.");
	fprintf(f, "bulkhead_flow_drains_total %llu\n", (unsigned long long)st->drains);
	head(f, "bulkhead_flow_records_total", "counter",
	     "Flow records (lines) written to the history.");
	fprintf(f, "bulkhead_flow_records_total %llu\n", (unsigned long long)st->records);
	head(f, "bulkhead_flow_evicted_total", "counter",
	     "Flow map entries the full map evicted (oldest first) since up.");
	fprintf(f, "bulkhead_flow_evicted_total %llu\n", (unsigned long long)st->evicted);
	head(f, "bulkhead_flow_insert_failed_total", "counter",
	     "Flow map inserts that failed since up (that frame's record lost).");
	fprintf(f, "bulkhead_flow_insert_failed_total %llu\n", (unsigned long long)st->failed);
	head(f, "bulkhead_flow_recreated_total", "counter",
	     "Flow entries evicted and made again between two drains.");
	fprintf(f, "bulkhead_flow_recreated_total %llu\n", (unsigned long long)st->recreated);
	head(f, "bulkhead_flow_history_dropped_files_total", "counter",
	     "History files removed by flows.keep and flows.bytes.");
	fprintf(f, "bulkhead_flow_history_dropped_files_total %llu\n",
		(unsigned long long)st->files_dropped);
	head(f, "bulkhead_flow_history_dropped_bytes_total", "counter",
	     "Their bytes.");
	fprintf(f, "bulkhead_flow_history_dropped_bytes_total %llu\n",
		(unsigned long long)st->bytes_dropped);
}

int bh_metrics_render(struct bh_metrics *mx, char **buf, size_t *len)
{
	struct bh_leases leases = {};
	struct bh_active act = {};
	struct bh_maps m;
	__u32 zero = 0;
	bool up;
	FILE *f;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (!f)
		return -errno;
	up = !bh_maps_open(mx->ctx->pin_dir, &m);
	head(f, "bulkhead_up", "gauge", "1 when Bulkhead's maps are pinned (enforcing), else 0.");
	fprintf(f, "bulkhead_up %d\n", up);
	head(f, "bulkhead_policy_last_apply_success", "gauge",
	     "1 when the daemon's last apply of the policy file succeeded, 0 when it failed, -1 before the first.");
	fprintf(f, "bulkhead_policy_last_apply_success %d\n", mx->last_ok);
	head(f, "bulkhead_policy_last_apply_timestamp_seconds", "gauge",
	     "When the daemon last applied (or tried to apply) the policy file.");
	fprintf(f, "bulkhead_policy_last_apply_timestamp_seconds %llu\n",
		(unsigned long long)mx->last_ts);
	head(f, "bulkhead_policy_applies_total", "counter",
	     "The daemon's applies of the policy file, by result.");
	fprintf(f, "bulkhead_policy_applies_total{result=\"ok\"} %llu\n",
		(unsigned long long)mx->applies_ok);
	fprintf(f, "bulkhead_policy_applies_total{result=\"error\"} %llu\n",
		(unsigned long long)mx->applies_err);
	if (mx->ev) {
		struct bh_events_stats st;

		bh_events_stats(mx->ev, &st);
		head(f, "bulkhead_events_total", "counter",
		     "Deny events read from the ring buffer (--mode nft: from NFLOG).");
		fprintf(f, "bulkhead_events_total %llu\n", (unsigned long long)st.ring_events);
		head(f, "bulkhead_events_suppressed_total", "counter",
		     "Drops the kernel's rate limit reported as a count instead of events.");
		fprintf(f, "bulkhead_events_suppressed_total %llu\n",
			(unsigned long long)st.suppressed);
		head(f, "bulkhead_event_aggregates", "gauge",
		     "Event aggregates (source, destination, proto, port, reason) kept.");
		fprintf(f, "bulkhead_event_aggregates %zu\n", st.n_aggs);
	}
	if (mx->fdbw) {
		__u64 moves, lost;

		bh_fdbw_stats(mx->fdbw, &moves, &lost);
		head(f, "bulkhead_mac_moves_total", "counter",
		     "MACs the bridge learned on another protected port than before.");
		fprintf(f, "bulkhead_mac_moves_total %llu\n", (unsigned long long)moves);
		head(f, "bulkhead_fdb_events_lost_total", "counter",
		     "Bridge FDB events lost (the socket overflowed): moves not seen.");
		fprintf(f, "bulkhead_fdb_events_lost_total %llu\n", (unsigned long long)lost);
	}
	if (mx->fst)
		render_flows(f, mx->fst);
	bh_detector_render(mx->det, f);
	fprintf(f, "# HELP bulkhead_metrics_requests_total HTTP requests to this endpoint, by result.\n"
		"# TYPE bulkhead_metrics_requests_total counter\n"
		"bulkhead_metrics_requests_total{result=\"ok\"} %llu\n"
		"bulkhead_metrics_requests_total{result=\"bad\"} %llu\n",
		(unsigned long long)mx->requests, (unsigned long long)mx->bad_requests);
	if (!up)
		goto out;

	bpf_map_lookup_elem(m.active, &zero, &act);
	policy_refresh(mx, act.epoch);
	head(f, "bulkhead_policy_epoch", "gauge",
	     "Bumped on every successful apply (the policy generation in force).");
	fprintf(f, "bulkhead_policy_epoch %u\n", act.epoch);
	head(f, "bulkhead_policy_generation", "gauge", "Map generation (0 or 1) packets use.");
	fprintf(f, "bulkhead_policy_generation %u\n", act.gen);
	head(f, "bulkhead_quarantined_devices", "gauge", "Devices in quarantine.");
	fprintf(f, "bulkhead_quarantined_devices %zu\n", count_keys(m.quarantine));

	render_verdicts(f, mx, &m, act.gen);
	bh_leases_saved(mx->ctx->state_dir, &leases);	/* names change without an apply */
	render_devices(f, mx->ctx, &m, mx->pol, &leases);
	bh_leases_free(&leases);
	render_maps(f, &m);
	bh_maps_close(&m);
out:
	if (fclose(f)) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* ---- HTTP -------------------------------------------------------------------- */

/* Blocking sends until @deadline (CLOCK_MONOTONIC ms): a slow reader is cut off. */
static void send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len) {
		ssize_t n;

		if (mono_ms() >= deadline)
			return;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void respond(int fd, int code, const char *status, const char *type,
		    const char *body, size_t len)
{
	struct timeval tv = { .tv_sec = BH_METRICS_TIMEOUT_MS / 1000 };
	long long deadline = mono_ms() + BH_METRICS_TIMEOUT_MS;
	char hdr[256];
	int n;

	/* the rest blocking, with a send timeout and a deadline for the whole
	 * answer: a slow reader holds the daemon's loop up at most that long */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     code, status, type, len);
	send_all(fd, hdr, (size_t)n, deadline);
	send_all(fd, body, len, deadline);
}

static void respond_err(struct bh_metrics *mx, int fd, int code, const char *status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", code, status);

	mx->bad_requests++;
	respond(fd, code, status, "text/plain; charset=utf-8", body, (size_t)n);
}

/* A request head is complete: judge its request line and answer. */
static void serve(struct bh_metrics *mx, struct client *c)
{
	char *line = c->buf, *sp1, *sp2, *end;
	char *body;
	size_t blen;

	end = strpbrk(line, "\r\n");
	if (end)
		*end = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp1 == line || sp2 == sp1 + 1 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) || !sp2[8] || sp2[9]) {
		respond_err(mx, c->fd, 400, "Bad Request");
		return;
	}
	*sp1 = *sp2 = '\0';
	for (char *s = line; *s; s++)
		if (*s < 'A' || *s > 'Z') {
			respond_err(mx, c->fd, 400, "Bad Request");
			return;
		}
	if (sp1[1] != '/') {
		respond_err(mx, c->fd, 400, "Bad Request");
		return;
	}
	if (strcmp(line, "GET")) {
		respond_err(mx, c->fd, 405, "Method Not Allowed");
		return;
	}
	sp1[1 + strcspn(sp1 + 1, "?")] = '\0';
	if (strcmp(sp1 + 1, "/metrics")) {
		respond_err(mx, c->fd, 404, "Not Found");
		return;
	}
	if (bh_metrics_render(mx, &body, &blen)) {
		respond_err(mx, c->fd, 500, "Internal Server Error");
		return;
	}
	mx->requests++;
	respond(c->fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, blen);
	free(body);
}

/* Read what a client sent; true when it is done with (answered or gone). */
static bool client_read(struct bh_metrics *mx, struct client *c)
{
	ssize_t n;

	for (;;) {
		n = recv(c->fd, c->buf + c->len, BH_METRICS_REQ_MAX - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno != EAGAIN && errno != EWOULDBLOCK;
		if (n == 0) {
			/* closed before the blank line: answer what came, if anything */
			if (c->len) {
				c->buf[c->len] = '\0';
				respond_err(mx, c->fd, 400, "Bad Request");
			}
			return true;
		}
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		if (memchr(c->buf, '\0', c->len)) {
			respond_err(mx, c->fd, 400, "Bad Request");
			return true;
		}
		if (strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n")) {
			serve(mx, c);
			return true;
		}
		if (c->len == BH_METRICS_REQ_MAX) {
			respond_err(mx, c->fd, 400, "Bad Request");
			return true;
		}
	}
}

static void accept_all(struct bh_metrics *mx)
{
	for (;;) {
		int fd = accept4(mx->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int i;

		if (fd < 0)
			return;
		for (i = 0; i < BH_METRICS_CLIENTS && mx->cl[i]; i++)
			;
		if (i == BH_METRICS_CLIENTS) {
			close(fd);	/* busy: the scraper retries */
			continue;
		}
		mx->cl[i] = malloc(sizeof(*mx->cl[i]));
		if (!mx->cl[i]) {
			close(fd);
			continue;
		}
		mx->cl[i]->fd = fd;
		mx->cl[i]->len = 0;
		mx->cl[i]->deadline = mono_ms() + BH_METRICS_TIMEOUT_MS;
	}
}

void bh_metrics_handle(struct bh_metrics *mx, const struct pollfd *pfd, int n)
{
	long long now = mono_ms();

	if (!mx)
		return;
	for (int k = 1; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		for (int i = 0; i < BH_METRICS_CLIENTS; i++)
			if (mx->cl[i] && mx->cl[i]->fd == pfd[k].fd) {
				if (client_read(mx, mx->cl[i]))
					client_close(mx, i);
				break;
			}
	}
	for (int i = 0; i < BH_METRICS_CLIENTS; i++)
		if (mx->cl[i] && now >= mx->cl[i]->deadline) {
			respond_err(mx, mx->cl[i]->fd, 408, "Request Timeout");
			client_close(mx, i);
		}
	if (n > 0 && (pfd[0].revents & POLLIN))
		accept_all(mx);
}
