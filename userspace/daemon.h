/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daemon.h - `bulkhead daemon`: the controller left running on a gateway.
 * It starts with `up` (taking over what is pinned), then applies each
 * valid edit of the policy file, protects bridge ports added later, and
 * ends timed quarantines. Enforcement never depends on it: programs, links
 * and maps are pinned, so a crash or a kill leaves them in force.
 */
#ifndef BH_DAEMON_H
#define BH_DAEMON_H

#include "ctl.h"

/* <state dir>/daemon.pid: the running daemon's pid, flock'ed while it runs */
#define BH_DAEMON_PID	"daemon.pid"

/*
 * Run in the foreground until SIGTERM or SIGINT: 0, or -errno as ctl.h
 * defines them (-EALREADY: another daemon runs on the state dir).
 * @metrics: "ADDR:PORT" of the Prometheus endpoint, or "off".
 */
/* "bulkhead daemon: MSG" on stderr, one write per line */
void bh_dlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int bh_daemon_run(const struct bh_ctx *ctx, const char *path, enum bh_mode mode,
		  const char *metrics);

#endif /* BH_DAEMON_H */
