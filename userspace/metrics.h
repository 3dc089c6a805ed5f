/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h - the daemon's Prometheus endpoint: plain HTTP/1.0, GET
 * /metrics, text exposition format 0.0.4. Served from the daemon's poll
 * loop without threads: at most BH_METRICS_CLIENTS connections at once,
 * each with a request of at most BH_METRICS_REQ_MAX bytes that must arrive
 * within BH_METRICS_TIMEOUT_MS; anything else gets 400 (or 404, 405, 408)
 * and the connection is closed.
 */
#ifndef BH_METRICS_H
#define BH_METRICS_H

#include <poll.h>
#include <stdbool.h>

#include "ctl.h"
#include "events.h"

#define BH_METRICS_DEFAULT	"127.0.0.1:9669"
#define BH_METRICS_CLIENTS	16
#define BH_METRICS_REQ_MAX	4096
#define BH_METRICS_TIMEOUT_MS	3000

struct bh_metrics;

/* Parse "ADDR:PORT" ("[v6]:PORT" for IPv6) into a sockaddr. 0 or -EINVAL. */
struct sockaddr_storage;
int bh_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, unsigned int *len);

/*
 * Listen on @addr ("off": *out = NULL, 0). @ev may be NULL. 0 or -errno
 * with a message in @err.
 */
int bh_metrics_open(struct bh_metrics **out, const char *addr, const struct bh_ctx *ctx,
		    struct bh_events *ev, char *err, size_t errlen);
void bh_metrics_close(struct bh_metrics *mx);
/* The event aggregator whose counters to show (opened after the listener). */
void bh_metrics_set_events(struct bh_metrics *mx, struct bh_events *ev);
/* The flow history's counters to serve (kept by the caller; NULL: none). */
struct bh_flowlog_stats;
void bh_metrics_set_flows(struct bh_metrics *mx, const struct bh_flowlog_stats *st);
/* The daemon's detection loop whose counters to show (may be NULL). */
struct bh_detector;
void bh_metrics_set_detector(struct bh_metrics *mx, struct bh_detector *det);
/* MAC moves (fdbwatch.c) into the metrics; NULL: none. */
struct bh_fdbw;
void bh_metrics_set_fdbw(struct bh_metrics *mx, struct bh_fdbw *w);
/* Fill up to @max pollfds (the listener and the clients); returns how many. */
int bh_metrics_pollfds(const struct bh_metrics *mx, struct pollfd *pfd, int max);
/* Serve what @pfd (as filled by bh_metrics_pollfds, with revents) says. */
void bh_metrics_handle(struct bh_metrics *mx, const struct pollfd *pfd, int n);
/* ms until the nearest client deadline, -1: none. */
int bh_metrics_timeout(const struct bh_metrics *mx);
/* The result of the daemon's last apply (for bulkhead_policy_last_apply_*). */
void bh_metrics_apply_result(struct bh_metrics *mx, bool ok);
/* Render the exposition into a malloc'd buffer (tests, the endpoint). */
int bh_metrics_render(struct bh_metrics *mx, char **buf, size_t *len);

#endif /* BH_METRICS_H */
