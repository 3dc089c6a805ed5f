// SPDX-License-Identifier: GPL-2.0
/*
 * daemon.c - `bulkhead daemon`: one poll loop over
 *
 *  - inotify on the policy file's directory: IN_CLOSE_WRITE, IN_MOVED_TO
 *    and IN_CREATE for the file's name, so an edit written in place and one
 *    written to a new file and renamed over are both seen; and on the state
 *    dir's quarantine file, rewritten by an isolate from another process;
 *  - an rtnetlink socket in the link and address groups: any change reads
 *    the topology again and attaches to ports that have no program;
 *  - a timerfd on CLOCK_REALTIME, armed at the next end of a timed
 *    quarantine (cancelled, and so re-armed, when the clock is set);
 *  - a signalfd: SIGTERM and SIGINT end the loop, SIGHUP re-reads all;
 *  - the deny event ring buffer (maps/bh_events, its epoll fd) and, for
 *    --mode nft, the NFLOG group of the nftables drops (nflog.c), both
 *    aggregated into <state dir>/events (events.c), and the quarantine's
 *    changes;
 *  - the Prometheus endpoint's listener and clients (metrics.c);
 *  - inotify on the DHCP lease file's directory (dnsmasq rewrites the file
 *    in place: IN_MODIFY, then a short settle time), and a second timerfd
 *    at the next end of a lease in force: the leases are read again and
 *    applied when the addresses they bind change (leases.c);
 *  - every BH_FLOW_DRAIN_SECS (and on SIGHUP and at exit) the flow map
 *    drained into <state dir>/flows (ctl_flows.c, flowlog.c).
 *  - the detection signal ring (maps/bh_signals) and inotify on the
 *    blocklist file's directory (detector.c).
 *
 * Every change goes through the controller (ctl.h), under its lock, held only while one step runs: an admin's `bulkhead
 * apply` or `isolate` waits at most for that step. Signals are only read
 * between steps, so the daemon never exits halfway through one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>

#include "ctl.h"
#include "daemon.h"
#include "detector.h"
#include "events.h"
#include "fdbwatch.h"
#include "leases.h"
#include "metrics.h"
#include "nflog.h"
#include "nft.h"
#include "nftflow.h"
#include "state.h"

#define CREATE_SETTLE_MS	200	/* IN_CREATE alone: let the writer finish */
#define LEASE_SETTLE_MS		100	/* after the last write to the lease file */
#define NL_RCVBUF		(1 << 20)
#define NL_BUF			32768

struct daemon {
	const struct bh_ctx *ctx;
	const char *path;		/* the policy file, as given */
	char dir[PATH_MAX];		/* its directory, watched */
	char base[NAME_MAX + 1];	/* its name there */
	int ino, wd_dir, wd_state;
	struct mnl_socket *nl;
	int sig, timer, pidfd;
	struct bh_attached *ports;	/* the pinned ports last seen, for the log */
	size_t n_ports;
	struct bh_events *ev;		/* deny events and quarantine changes */
	struct bh_nflog *nflog;		/* deny events of --mode nft; NULL: not bound */
	struct bh_nftflow *nftflow;	/* flow records of --mode nft; NULL: none */
	struct bh_metrics *mx;		/* NULL: --metrics off */
	struct bh_detector *det;	/* detection signals, the blocklist */
	struct bh_fdbw *fdbw;		/* MAC moves between the protected ports */
	bool reload, sync, quar;	/* due now */
	long long reload_at;		/* CLOCK_MONOTONIC ms; 0: not due */
	/* the DHCP lease file in force ("": none), its directory watched */
	char lpath[PATH_MAX], lbase[NAME_MAX + 1];
	int wd_lease, ltimer;
	bool lease, larm;		/* read the leases again / re-arm, now */
	bool lease_ended;		/* ... because the timer fired */
	long long lease_at;		/* CLOCK_MONOTONIC ms; 0: not due */
	bool updown;			/* the state dir's "up" came or went: look */
	bool is_up;			/* Bulkhead was up when last looked at */
	long long flow_at;		/* CLOCK_MONOTONIC ms of the next flow drain */
	struct bh_flowlog_stats fst;	/* the flow history's, for the metrics */
};

#define dlog bh_dlog

void bh_dlog(const char *fmt, ...)
{
	static const char prefix[] = "bulkhead daemon: ";
	char line[4096];
	size_t n = sizeof(prefix) - 1;
	va_list ap;
	int len;

	/* one write per line: lines of several writers never interleave */
	memcpy(line, prefix, n);
	va_start(ap, fmt);
	len = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (len > 0)
		n += (size_t)len < sizeof(line) - n - 1 ? (size_t)len : sizeof(line) - n - 2;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}

/* a system error: never one that reads as wrong input (ctl.h) */
static int sys_err(int err)
{
	return err < 0 && !bh_err_input(err) ? err : -EIO;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned int active_epoch(const struct bh_ctx *ctx)
{
	struct bh_active act = {};
	struct bh_maps m;
	__u32 zero = 0;

	if (bh_maps_open(ctx->pin_dir, &m))
		return 0;
	bpf_map_lookup_elem(m.active, &zero, &act);
	bh_maps_close(&m);
	return act.epoch;
}

/* ---- setup ------------------------------------------------------------- */

/* One daemon per state dir: <state dir>/daemon.pid, flock'ed. */
static int pidfile_lock(struct daemon *d)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd, ret;

	ret = bh_state_init(d->ctx->state_dir);
	if (ret) {
		dlog("state dir %s: %s", d->ctx->state_dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/%s", d->ctx->state_dir, BH_DAEMON_PID);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		dlog("cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (ret == -EWOULDBLOCK)
			dlog("another daemon runs for %s already (pid %s)",
			     d->ctx->state_dir, *buf ? buf : "?");
		else
			dlog("cannot lock %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n)
		dlog("warning: cannot write %s: %s", path, strerror(errno));
	d->pidfd = fd;
	return 0;
}

static int signals_open(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);	/* a closed log pipe is no reason to die */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	d->sig = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->sig < 0 ? -errno : 0;
}

static int watch_open(struct daemon *d)
{
	char buf[PATH_MAX];
	int ret;

	if (strlen(d->path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, d->path);
	snprintf(d->base, sizeof(d->base), "%s", basename(buf));
	strcpy(buf, d->path);
	snprintf(d->dir, sizeof(d->dir), "%s", dirname(buf));

	d->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (d->ino < 0)
		return -errno;
	/* the directory, not the file: a rename over the file replaces it */
	d->wd_dir = inotify_add_watch(d->ino, d->dir, IN_CLOSE_WRITE | IN_MOVED_TO |
				      IN_CREATE | IN_ONLYDIR);
	if (d->wd_dir < 0) {
		ret = -errno;
		dlog("cannot watch %s: %s", d->dir, strerror(-ret));
		return ret;
	}
	/* IN_MASK_ADD: the same directory keeps both masks */
	d->wd_state = inotify_add_watch(d->ino, d->ctx->state_dir, IN_CLOSE_WRITE |
					IN_MOVED_TO | IN_DELETE | IN_ONLYDIR | IN_MASK_ADD);
	if (d->wd_state < 0) {
		ret = -errno;
		dlog("cannot watch %s: %s", d->ctx->state_dir, strerror(-ret));
		return ret;
	}
	return 0;
}

static int nl_open(struct daemon *d)
{
	int sz = NL_RCVBUF;

	d->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!d->nl)
		return -errno;
	/* a burst of events overruns the default buffer: ENOBUFS, resync */
	setsockopt(mnl_socket_get_fd(d->nl), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (mnl_socket_bind(d->nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	return 0;
}

/* ---- ports -------------------------------------------------------------- */

static const struct bh_attached *find_port(const struct bh_attached *a, size_t n,
					   const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name))
			return &a[i];
	return NULL;
}

/* A deny event of --mode nft: a flow record, and deny_rate's count. */
static void nft_drop_event(void *arg, const struct bh_event *e)
{
	struct daemon *d = arg;

	bh_nftflow_event(d->nftflow, e);
	bh_detector_drops(d->det, e);
}

/* The FDB entries of the protected ports are followed for MAC moves. */
static void fdb_follow(struct daemon *d)
{
	int ifx[256];
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < d->n_ports && n < 256; i++)
		if (d->ports[i].ifindex > 0)
			ifx[n++] = d->ports[i].ifindex;
	ret = bh_fdbw_ports(d->fdbw, ifx, n);
	if (ret)
		dlog("bridge FDB: %s: MAC moves are not followed", strerror(-ret));
}

/* A MAC the bridge learned on another protected port than before. */
static void fdb_moved(void *arg, const __u8 mac[6], const char *from, const char *to)
{
	struct daemon *d = arg;
	char m[18];

	bh_format_mac(mac, m);
	dlog("%s moved from port %s to port %s", m, from, to);
	bh_events_mac_move(d->ev, mac, from, to);
}

/* Log what changed in the pinned ports since last time. */
static void ports_log(struct daemon *d)
{
	struct bh_attached *now = NULL;
	const struct bh_attached *old;
	size_t n = 0;

	/* cannot tell now: the ports last seen stand, nothing is logged */
	if (bh_ports_in_force(d->ctx, &now, &n))
		return;
	/* Bulkhead down: said once by updown_log(), not port by port */
	if (!active_epoch(d->ctx)) {
		free(now);
		free(d->ports);
		d->ports = NULL;
		d->n_ports = 0;
		fdb_follow(d);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		old = find_port(d->ports, d->n_ports, now[i].name);
		if (!old)
			dlog("port %s: protected (%s)", now[i].name,
			     bh_mode_name(now[i].mode));
		else if (old->ifindex != now[i].ifindex && now[i].ifindex)
			dlog("port %s: re-created (ifindex %d), protected again (%s)",
			     now[i].name, now[i].ifindex, bh_mode_name(now[i].mode));
		else if (old->mode != now[i].mode)
			dlog("port %s: now %s", now[i].name, bh_mode_name(now[i].mode));
	}
	for (size_t i = 0; i < d->n_ports; i++)
		if (!find_port(now, n, d->ports[i].name))
			dlog("port %s: gone, unpinned", d->ports[i].name);
	free(d->ports);
	d->ports = now;
	d->n_ports = n;
	fdb_follow(d);
}

static void ports_summary(struct daemon *d, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n_ports && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, " %s[%s]", d->ports[i].name,
					bh_mode_name(d->ports[i].mode));
	if (!d->n_ports)
		snprintf(buf, len, " none");
}

static void nl_read(struct daemon *d)
{
	char *buf = malloc(NL_BUF);
	const struct nlmsghdr *nlh;
	ssize_t got;
	int n;

	if (!buf) {
		d->sync = true;
		return;
	}
	for (;;) {
		got = mnl_socket_recvfrom(d->nl, buf, NL_BUF);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				d->sync = true;	/* events were lost: read it all */
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dlog("rtnetlink: %s", strerror(errno));
			break;
		}
		n = (int)got;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			switch (nlh->nlmsg_type) {
			case RTM_NEWLINK:
			case RTM_DELLINK:
			case RTM_NEWADDR:
			case RTM_DELADDR:
				d->sync = true;
				break;
			}
		}
	}
	free(buf);
}

static void sync_ports(struct daemon *d)
{
	if (bh_sync_ports(d->ctx))
		dlog("ports: not synced (see above); next try on the next change");
	ports_log(d);
}

/* ---- policy ------------------------------------------------------------- */

static void ino_read(struct daemon *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	for (;;) {
		n = read(d->ino, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				d->reload = d->quar = d->lease = true;
				continue;
			}
			if ((ev->mask & IN_IGNORED) && ev->wd == d->wd_dir) {
				dlog("%s is gone: edits of %s are no longer seen (SIGHUP applies it)",
				     d->dir, d->path);
				continue;
			}
			if (!ev->len)
				continue;
			if (ev->wd == d->wd_dir && !strcmp(ev->name, d->base)) {
				if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
					d->reload = true;
				else if ((ev->mask & IN_CREATE) && !d->reload_at)
					d->reload_at = now_ms() + CREATE_SETTLE_MS;
			}
			if (ev->wd == d->wd_state && !strcmp(ev->name, BH_QUAR_FILE))
				d->quar = true;
			if (ev->wd == d->wd_state && !strcmp(ev->name, "up"))
				d->updown = true;	/* an up or a down, by anyone */
			if (ev->wd == d->wd_state && !strcmp(ev->name, BH_LEASES_FILE))
				d->larm = true;	/* an apply by anyone: its leases */
			if (ev->wd == d->wd_lease && *d->lpath && !strcmp(ev->name, d->lbase)) {
				if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM))
					d->lease = true;
				else	/* written in place, or created: let the writer finish */
					d->lease_at = now_ms() + LEASE_SETTLE_MS;
			}
		}
	}
}

static void reload(struct daemon *d, const char *why)
{
	long long t0 = now_ms();
	int rc;

	d->reload = false;
	d->reload_at = 0;
	rc = bh_apply(d->ctx, d->path, NULL);
	bh_metrics_apply_result(d->mx, !rc);
	if (!rc)
		dlog("policy %s %s: applied (epoch %u, %lld ms)", d->path, why,
		     active_epoch(d->ctx), now_ms() - t0);
	else if (!active_epoch(d->ctx))
		dlog("policy %s %s: not applied: Bulkhead is down, no policy runs (bulkhead up, or restart the daemon)",
		     d->path, why);
	else
		dlog("policy %s %s: not applied, the running policy stays in force (epoch %u)",
		     d->path, why, active_epoch(d->ctx));
	ports_log(d);	/* new interfaces in the policy: the ports changed */
}

/* An up or a down done by hand (or by anyone) while the daemon runs. */
static void updown_log(struct daemon *d)
{
	unsigned int epoch = active_epoch(d->ctx);

	d->updown = false;
	if (!!epoch == d->is_up)
		return;
	d->is_up = epoch;
	if (epoch)
		dlog("Bulkhead is up again (an up by hand, epoch %u): this daemon protects its ports and applies edits again",
		     epoch);
	else
		dlog("Bulkhead is down (a down by hand): nothing is enforced; this daemon attaches nothing and applies no edit until the next up");
	ports_log(d);
}

/* ---- DHCP leases ----------------------------------------------------------- */

/*
 * After anything applied: watch the directory of the lease file in force
 * (it may have changed with the policy) and arm the timer at the next end
 * of a lease in force.
 */
static void leases_arm(struct daemon *d)
{
	struct itimerspec its = {};
	struct bh_leases l;
	char path[PATH_MAX], buf[PATH_MAX];

	d->larm = false;
	bh_leases_file(d->ctx, path, sizeof(path));
	if (strcmp(path, d->lpath)) {
		/* a watch shared with the policy's or the state dir stays */
		if (d->wd_lease >= 0 && d->wd_lease != d->wd_dir && d->wd_lease != d->wd_state)
			inotify_rm_watch(d->ino, d->wd_lease);
		d->wd_lease = -1;
		snprintf(d->lpath, sizeof(d->lpath), "%s", path);
		if (*path) {
			snprintf(buf, sizeof(buf), "%s", path);
			snprintf(d->lbase, sizeof(d->lbase), "%s", basename(buf));
			snprintf(buf, sizeof(buf), "%s", path);
			d->wd_lease = inotify_add_watch(d->ino, dirname(buf), IN_CLOSE_WRITE |
							IN_MOVED_TO | IN_CREATE | IN_MODIFY |
							IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR |
							IN_MASK_ADD);
			if (d->wd_lease < 0)
				dlog("cannot watch the directory of %s: %s; its changes are read on SIGHUP and when a lease ends",
				     path, strerror(errno));
			else
				dlog("DHCP leases: watching %s", path);
		}
	}
	if (*d->lpath && !bh_leases_saved(d->ctx->state_dir, &l)) {
		its.it_value.tv_sec = (time_t)bh_leases_next_expiry(&l, bh_leases_now());
		bh_leases_free(&l);
	}
	if (timerfd_settime(d->ltimer, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL))
		dlog("cannot arm the lease timer: %s", strerror(errno));
}

static void leases_read(struct daemon *d, const char *why)
{
	long long t0 = now_ms();
	bool applied;
	int rc;

	d->lease = d->lease_ended = false;
	d->lease_at = 0;
	rc = bh_leases_update(d->ctx, d->path, &applied);
	if (applied) {
		bh_metrics_apply_result(d->mx, !rc);
		if (!rc)
			dlog("DHCP leases %s %s: the bound addresses changed, applied (epoch %u, %lld ms)",
			     d->lpath, why, active_epoch(d->ctx), now_ms() - t0);
		else
			dlog("DHCP leases %s %s: not applied, the running policy stays in force (epoch %u)",
			     d->lpath, why, active_epoch(d->ctx));
	}
	leases_arm(d);
}

/* ---- timed quarantines -------------------------------------------------- */

static bool seen_before(const struct bh_quar_entry *q, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!memcmp(q[j].mac, q[i].mac, 6))
			return true;
	return false;
}

/* Every quarantine with an end: the state dir's list and the map's. */
static int quar_list(const struct bh_ctx *ctx, struct bh_quar_entry **q, size_t *n)
{
	struct bh_mac_key cur, next;
	struct bh_quar_entry *tmp;
	struct bh_quar_val v;
	struct bh_maps m;
	void *prev = NULL;
	int ret;

	ret = bh_quar_load(ctx->state_dir, q, n);
	if (ret)
		return ret;
	if (bh_maps_open(ctx->pin_dir, &m))
		return 0;
	while (!bpf_map_get_next_key(m.quarantine, prev, &next)) {
		if (!bpf_map_lookup_elem(m.quarantine, &next, &v) && v.until) {
			tmp = realloc(*q, (*n + 1) * sizeof(**q));
			if (!tmp) {
				ret = -ENOMEM;
				break;
			}
			*q = tmp;
			memset(&tmp[*n], 0, sizeof(tmp[*n]));
			memcpy(tmp[*n].mac, next.mac, 6);
			tmp[*n].since = v.since;
			tmp[*n].until = v.until;
			(*n)++;
		}
		cur = next;
		prev = &cur;
	}
	bh_maps_close(&m);
	return ret;
}

/* Release what has ended, arm the timer at the next end. */
static void quar_scan(struct daemon *d)
{
	struct itimerspec its = {};
	struct bh_quar_entry *q = NULL;
	__u64 now = (__u64)time(NULL), next = 0;
	char mac[18], dur[32];
	size_t n = 0;
	int ret;

	d->quar = false;
	ret = quar_list(d->ctx, &q, &n);
	if (ret) {
		dlog("cannot read the quarantine: %s; next try in 1 s", strerror(-ret));
		next = now + 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!q[i].until || seen_before(q, i))
			continue;
		if (q[i].until > now) {
			if (!next || q[i].until < next)
				next = q[i].until;
			continue;
		}
		bh_format_mac(q[i].mac, mac);
		bh_duration_format(q[i].until - q[i].since, dur, sizeof(dur));
		ret = bh_release(d->ctx, q[i].mac, now);
		if (!ret) {
			bh_events_timed_release(d->ev, q[i].mac);
			dlog("%s: timed quarantine (%s) ended, released", mac, dur);
		} else if (ret != -ENOENT) {
			dlog("%s: timed quarantine ended, but the release failed: %s; next try in 1 s",
			     mac, strerror(-ret));
			if (!next || now + 1 < next)
				next = now + 1;
		}
	}
	free(q);
	bh_events_quar_sync(d->ev);	/* isolate / release by anyone: events */
	its.it_value.tv_sec = (time_t)next;	/* 0: disarmed */
	if (timerfd_settime(d->timer, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
			    &its, NULL))
		dlog("cannot arm the quarantine timer: %s", strerror(errno));
}

static int quar_count(const struct bh_ctx *ctx)
{
	struct bh_quar_entry *q = NULL;
	size_t n = 0;
	int cnt = 0;

	if (!quar_list(ctx, &q, &n))
		for (size_t i = 0; i < n; i++)
			cnt += q[i].until && !seen_before(q, i);
	free(q);
	return cnt;
}

/* ---- flow records ------------------------------------------------------- */

/* The flow map into the history; said only when it fails. */
static void flows_drain(struct daemon *d)
{
	int ret;

	d->flow_at = now_ms() + BH_FLOW_DRAIN_SECS * 1000LL;
	bh_nftflow_sync(d->nftflow);	/* --mode nft: the live flows' counts */
	ret = bh_flows_drain(d->ctx, NULL, &d->fst);
	if (ret < 0)
		dlog("flow records: cannot drain the flow map into %s/%s: %s; next try in %d s",
		     d->ctx->state_dir, BH_FLOWS_DIR, strerror(-ret), BH_FLOW_DRAIN_SECS);
}

/* ---- the loop ------------------------------------------------------------ */

/* SIGHUP: 0, keep going; SIGTERM/SIGINT: 1 */
static int signal_read(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			dlog("SIGHUP: reading the policy, the ports, the quarantine and the leases again; draining the flow records");
			d->reload = d->sync = d->quar = true;
			d->flow_at = now_ms();
			continue;
		}
		dlog("%s: exiting; enforcement stays in place (pinned in %s)",
		     si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", d->ctx->pin_dir);
		return 1;
	}
	return 0;
}

static int min_timeout(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

#define PFD_BASE	11	/* signals, inotify, rtnetlink, timer, events, lease timer, NFLOG,
			 * detection ring, blocklist inotify, conntrack events, FDB */
#define PFD_MAX		(PFD_BASE + 1 + BH_METRICS_CLIENTS)

static int loop(struct daemon *d)
{
	struct pollfd pfd[PFD_MAX] = {
		{ .fd = d->sig, .events = POLLIN },
		{ .fd = d->ino, .events = POLLIN },
		{ .fd = mnl_socket_get_fd(d->nl), .events = POLLIN },
		{ .fd = d->timer, .events = POLLIN },
		[5] = { .fd = d->ltimer, .events = POLLIN },
	};
	__u64 ticks;
	int timeout, ret, nmx;
	bool recheck, det_look;

	for (;;) {
		timeout = -1;
		if (d->reload_at) {
			long long left = d->reload_at - now_ms();

			timeout = left > 0 ? (int)left : 0;
		}
		if (d->lease_at) {
			long long left = d->lease_at - now_ms();

			timeout = min_timeout(timeout, left > 0 ? (int)left : 0);
		}
		timeout = min_timeout(timeout, bh_events_timeout(d->ev));
		timeout = min_timeout(timeout, bh_metrics_timeout(d->mx));
		timeout = min_timeout(timeout, d->flow_at > now_ms() ? (int)(d->flow_at - now_ms()) : 0);
		timeout = min_timeout(timeout, bh_detector_timeout(d->det));
		pfd[4] = (struct pollfd){ .fd = bh_events_fd(d->ev), .events = POLLIN };
		pfd[6] = (struct pollfd){ .fd = bh_nflog_fd(d->nflog), .events = POLLIN };
		pfd[7] = (struct pollfd){ .fd = bh_detector_ring_fd(d->det), .events = POLLIN };
		pfd[8] = (struct pollfd){ .fd = bh_detector_ino_fd(d->det), .events = POLLIN };
		pfd[9] = (struct pollfd){ .fd = bh_nftflow_fd(d->nftflow), .events = POLLIN };
		pfd[10] = (struct pollfd){ .fd = bh_fdbw_fd(d->fdbw), .events = POLLIN };
		nmx = bh_metrics_pollfds(d->mx, pfd + PFD_BASE, PFD_MAX - PFD_BASE);
		ret = poll(pfd, (nfds_t)(PFD_BASE + nmx), timeout);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			dlog("poll: %s", strerror(-ret));
			return bh_err_input(ret) ? -EIO : ret;
		}
		if ((pfd[0].revents & POLLIN) && signal_read(d))
			return 0;
		if (pfd[1].revents & POLLIN)
			ino_read(d);
		if (pfd[2].revents & POLLIN)
			nl_read(d);
		if (pfd[3].revents & POLLIN) {
			/* expired, or ECANCELED: the clock was set; rescan either way */
			if (read(d->timer, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
				continue;
			d->quar = true;
		}
		if (pfd[4].revents & POLLIN)
			bh_events_consume(d->ev);
		if (pfd[5].revents & POLLIN) {
			/* a lease ended, or ECANCELED: the clock was set */
			if (read(d->ltimer, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
				continue;
			d->lease = d->lease_ended = true;
		}
		/* POLLERR: the socket overflowed (ENOBUFS); the read clears it */
		if (pfd[6].revents & (POLLIN | POLLERR))
			bh_nflog_read(d->nflog, d->ev);
		if (pfd[7].revents & POLLIN)
			bh_detector_consume(d->det);
		if (pfd[8].revents & POLLIN)
			bh_detector_ino_read(d->det);
		if (pfd[9].revents & (POLLIN | POLLERR))
			bh_nftflow_read(d->nftflow);
		if (pfd[10].revents & (POLLIN | POLLERR))
			bh_fdbw_read(d->fdbw);
		bh_metrics_handle(d->mx, pfd + PFD_BASE, nmx);
		if (d->reload_at && now_ms() >= d->reload_at)
			d->reload = true;
		if (d->lease_at && now_ms() >= d->lease_at)
			d->lease = true;
		recheck = d->sync || d->reload || bh_events_fd(d->ev) < 0;
		/* a policy applied (its detect: section), or Bulkhead came up */
		det_look = d->reload || d->lease || d->updown;
		/* ports first: a new port is the one thing unprotected */
		if (d->sync) {
			d->sync = false;
			sync_ports(d);
		}
		if (d->reload) {
			reload(d, "changed");	/* the leases are read with it */
			d->lease = d->lease_ended = false;
			d->lease_at = 0;
			d->larm = true;
		}
		if (d->lease)
			leases_read(d, d->lease_ended ? "(a lease ended)" : "changed");
		if (d->larm)
			leases_arm(d);
		if (d->quar)
			quar_scan(d);
		if (d->updown)
			updown_log(d);
		if (recheck)	/* Bulkhead came up, or down and up, since */
			bh_events_reopen(d->ev);
		if (det_look)
			bh_detector_refresh(d->det);
		bh_detector_tick(d->det);
		bh_nftflow_tick(d->nftflow, det_look || recheck);
		bh_events_flush(d->ev, false);
		if (now_ms() >= d->flow_at)
			flows_drain(d);
	}
}

int bh_daemon_run(const struct bh_ctx *ctx, const char *path, enum bh_mode mode,
		  const char *metrics)
{
	struct daemon d = {
		.ctx = ctx, .path = path, .ino = -1, .wd_dir = -1, .wd_state = -1,
		.sig = -1, .timer = -1, .pidfd = -1, .wd_lease = -1, .ltimer = -1,
	};
	struct bh_maps m;
	char ports[512], err[256];
	bool pinned;
	int rc, ret;

	ret = pidfile_lock(&d);
	if (ret) {
		rc = ret == -EWOULDBLOCK ? -EALREADY : sys_err(ret);
		goto out;
	}
	ret = signals_open(&d);
	if (ret) {
		dlog("signals: %s", strerror(-ret));
		rc = sys_err(ret);
		goto out;
	}
	/* watch first: an edit made while coming up is not missed */
	ret = watch_open(&d);
	if (ret) {
		rc = bh_err_input(ret) ? ret : -EINVAL;
		goto out;
	}
	ret = nl_open(&d);
	if (ret) {
		dlog("rtnetlink: %s", strerror(-ret));
		rc = sys_err(ret);
		goto out;
	}
	d.timer = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	d.ltimer = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d.timer < 0 || d.ltimer < 0) {
		rc = sys_err(-errno);
		dlog("timerfd: %s", strerror(errno));
		goto out;
	}
	ret = bh_metrics_open(&d.mx, metrics, ctx, NULL, err, sizeof(err));
	if (ret) {
		dlog("%s", err);
		rc = ret == -EINVAL ? ret : sys_err(ret);
		goto out;
	}
	dlog("starting (pid %d): policy %s, pin dir %s, state dir %s, mode %s, metrics %s",
	     (int)getpid(), path, ctx->pin_dir, ctx->state_dir, bh_mode_name(mode),
	     d.mx ? metrics : "off");

	pinned = !bh_maps_open(ctx->pin_dir, &m);
	if (pinned)
		bh_maps_close(&m);
	/* up: re-adopts pinned links in place, so taking over leaves no gap */
	rc = bh_up(ctx, path, mode, NULL);
	bh_metrics_apply_result(d.mx, !rc);
	bh_ports_in_force(ctx, &d.ports, &d.n_ports);
	ports_summary(&d, ports, sizeof(ports));
	if (!rc) {
		dlog("%s: policy %s (epoch %u), ports:%s",
		     pinned ? "took over what was pinned" : "up", path,
		     active_epoch(ctx), ports);
	} else if (!pinned) {
		dlog("cannot come up with %s (see above): nothing is enforced; exiting", path);
		goto out;
	} else {
		dlog("took over what was pinned, but %s is not applied (see above): the running policy stays in force (epoch %u)",
		     path, active_epoch(ctx));
		sync_ports(&d);
	}
	ret = bh_events_open(&d.ev, ctx->pin_dir, ctx->state_dir);
	if (ret) {
		dlog("events: %s", strerror(-ret));
		rc = sys_err(ret);
		goto out;
	}
	/* the NFLOG group of --mode nft's drops, bound whatever the mode (a
	 * later up --mode nft needs no restart); a group another program holds
	 * costs the nft mode's events only */
	ret = bh_nflog_open(&d.nflog, BH_NFLOG_GROUP);
	if (ret)
		dlog("NFLOG group %u: %s: no deny events in --mode nft", BH_NFLOG_GROUP,
		     strerror(-ret));
	/* the flow records of --mode nft: conntrack's events, the deny events */
	ret = bh_nftflow_open(&d.nftflow, ctx);
	if (ret)
		dlog("conntrack events: %s: no flow records in --mode nft", strerror(-ret));
	bh_nflog_on_event(d.nflog, nft_drop_event, &d);
	bh_metrics_set_events(d.mx, d.ev);
	bh_metrics_set_flows(d.mx, &d.fst);
	flows_drain(&d);
	ret = bh_detector_open(&d.det, ctx, d.ev);
	if (ret)
		dlog("detection: %s: no signal is acted on", strerror(-ret));
	bh_metrics_set_detector(d.mx, d.det);
	ret = bh_fdbw_open(&d.fdbw, fdb_moved, &d);
	if (ret)
		dlog("bridge FDB events: %s: MAC moves are not followed", strerror(-ret));
	fdb_follow(&d);
	bh_metrics_set_fdbw(d.mx, d.fdbw);
	leases_arm(&d);
	quar_scan(&d);
	ret = quar_count(ctx);
	d.is_up = active_epoch(ctx);
	dlog("ready: watching %s, the ports of the policy's interfaces, %d timed quarantine%s",
	     path, ret, ret == 1 ? "" : "s");
	rc = loop(&d);
	flows_drain(&d);	/* what the map holds since the last one */
out:
	bh_metrics_close(d.mx);
	bh_detector_close(d.det);
	bh_fdbw_close(d.fdbw);
	bh_nflog_close(d.nflog);
	bh_nftflow_close(d.nftflow);
	bh_events_close(d.ev);	/* writes what is not in the file yet */
	free(d.ports);
	if (d.nl)
		mnl_socket_close(d.nl);
	if (d.timer >= 0)
		close(d.timer);
	if (d.ltimer >= 0)
		close(d.ltimer);
	if (d.ino >= 0)
		close(d.ino);
	if (d.sig >= 0)
		close(d.sig);
	if (d.pidfd >= 0)
		close(d.pidfd);	/* the flock, not the pid in it, says one runs */
	return rc;
}
