// SPDX-License-Identifier: GPL-2.0
/*
 * detector.c - the daemon's detection loop: signals from the ring
 * bh_signals decided on and acted on through the controller, the blocklist
 * file followed. See detector.h and docs/detect.md.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "daemon.h"
#include "detect.h"
#include "detector.h"
#include "dettab.h"
#include "events.h"
#include "nflog.h"
#include "nft.h"

struct bh_detector {
	const struct bh_ctx *ctx;
	struct bh_events *ev;
	struct ring_buffer *rb;
	int ring_fd;		/* bh_signals, as pinned when opened */
	int quar_fd;		/* bh_quarantine */
	struct bh_policy *pol;	/* the policy in force; NULL: none */
	bool stale;		/* look at the policy and the ring again */
	/* the blocklist file in force ("": none), its directory watched */
	int ino, wd;
	char bpath[PATH_MAX], bbase[NAME_MAX + 1];
	bool bload;		/* read it now */
	long long bload_at;	/* CLOCK_MONOTONIC ms; 0: not due */
	long long prune_at;	/* next look at the grace periods */
	/*
	 * --mode nft: the attempts of NFLOG group BH_NFLOG_DET_GROUP counted
	 * here, with the thresholds and salt of the pinned bh_detect_cfg
	 */
	struct bh_nflog *nf;
	struct bh_dettab *tab;
	struct bh_det_cfg cfg;
	struct bh_grace *grace;	/* as last read: a new grace period forgets its device */
	size_t n_grace;
	struct timespec grace_mtime;
	int efd;		/* epoll: the ring's epoll fd and the NFLOG socket */
	struct bh_detector_stats st;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The detect: section of @p; detection off without one. */
static const struct bh_detect_policy *policy_detect(const struct bh_policy *p)
{
	static struct bh_detect_policy off;
	static bool init;

	if (p && p->detect)
		return p->detect;
	if (!init) {
		bh_detect_defaults(&off);
		init = true;
	}
	return &off;
}

/* ---- the ring --------------------------------------------------------------- */

static bool is_quarantined(const struct bh_detector *det, const __u8 mac[6])
{
	struct bh_mac_key k = {};
	struct bh_quar_val v;

	memcpy(k.mac, mac, 6);
	return det->quar_fd >= 0 && !bpf_map_lookup_elem(det->quar_fd, &k, &v);
}

static const char *const verdict_names[] = {
	[BH_DV_IGNORE] = "ignored", [BH_DV_WATCH] = "watch",
	[BH_DV_ALERT] = "alert", [BH_DV_ISOLATE] = "isolate",
};

static void act(struct bh_detector *det, const struct bh_det_signal *s,
		const struct bh_det_decision *dd, const char *macs)
{
	struct bh_isolate_report r = {};
	char dur[32] = "";
	__u64 now = (__u64)time(NULL);
	int ret;

	ret = bh_isolate(det->ctx, s->mac, dd->reason, now, dd->until, (__u8)dd->qlevel, &r);
	if (ret) {
		det->st.isolate_errors++;
		bh_dlog("%s: %s; cannot isolate it: %s", macs, dd->reason, strerror(-ret));
		return;
	}
	det->st.auto_quarantines++;
	if (dd->until)
		bh_duration_format(dd->until - now, dur, sizeof(dur));
	bh_dlog("%s: isolated (%s%s%s, %d tracked flow%s cut): %s", macs,
		dd->qlevel == BH_QLVL_LAN ? "from the LAN" : "full",
		dd->until ? ", for " : "", dur, r.flushed, r.flushed == 1 ? "" : "s",
		dd->reason);
	/* the isolate event now, not at the next look at the quarantine file */
	bh_events_quar_sync(det->ev);
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct bh_detector *det = ctx;
	const struct bh_det_signal *s = data;
	struct bh_det_decision dd = {};
	struct bh_det_env env = {};
	struct bh_grace *g = NULL;
	size_t n_g = 0;
	const char *what;
	char macs[18];

	if (size < sizeof(*s))
		return 0;
	env.now = (__u64)time(NULL);
	env.dp = policy_detect(det->pol);
	env.policy = det->pol;
	env.quarantined = is_quarantined(det, s->mac);
	/* read at each signal: `release --for` writes it from another process */
	if (!bh_grace_read(det->ctx, env.now, &g, &n_g)) {
		env.grace = g;
		env.n_grace = n_g;
	}
	if (bh_detect_decide(&env, s, &dd)) {
		free(g);
		return 0;
	}
	free(g);
	if (s->kind < BH_DET_KINDS && s->level <= BH_DET_ACT)
		det->st.signals[s->kind][s->level]++;
	bh_format_mac(s->mac, macs);
	if (dd.verdict == BH_DV_IGNORE)
		return 0;
	bh_events_detect(det->ev, s, dd.verdict);
	if (dd.verdict == BH_DV_ISOLATE) {
		act(det, s, &dd, macs);
		return 0;
	}
	bh_detect_reason(s, dd.reason, sizeof(dd.reason));
	what = dd.reason + (strncmp(dd.reason, "auto: ", 6) ? 0 : 6);
	bh_dlog("%s: detect %s (%s level): %s%s%s", macs, verdict_names[dd.verdict],
		s->level == BH_DET_ACT ? "act" : "watch", what, *dd.note ? "; " : "", dd.note);
	return 0;
}

static void ring_close(struct bh_detector *det)
{
	if (det->rb)
		ring_buffer__free(det->rb);
	det->rb = NULL;
	if (det->ring_fd >= 0)
		close(det->ring_fd);
	if (det->quar_fd >= 0)
		close(det->quar_fd);
	det->ring_fd = det->quar_fd = -1;
}

static int pinned(const struct bh_detector *det, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/maps/%s", det->ctx->pin_dir, name);
	return bpf_obj_get(path);
}

/* The kernel's id of the map behind @fd, 0 on error. */
static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

static void epoll_add(struct bh_detector *det, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (fd >= 0 && epoll_ctl(det->efd, EPOLL_CTL_ADD, fd, &ev) && errno != EEXIST)
		bh_dlog("detection: epoll: %s", strerror(errno));
}

/* The ring as pinned now: kept when it is the same map. */
static void ring_open(struct bh_detector *det)
{
	int fd = pinned(det, "bh_signals");

	if (fd >= 0 && det->rb && map_id(fd) == map_id(det->ring_fd)) {
		close(fd);
		return;
	}
	if (det->rb)
		ring_buffer__consume(det->rb);	/* what the old one still holds */
	ring_close(det);
	if (fd < 0)
		return;		/* down, or a dataplane without detection */
	det->rb = ring_buffer__new(fd, ring_cb, det, NULL);
	if (!det->rb) {
		bh_dlog("detection: cannot read the signal ring: %s", strerror(errno));
		close(fd);
		return;
	}
	det->ring_fd = fd;
	det->quar_fd = pinned(det, "bh_quarantine");
	epoll_add(det, ring_buffer__epoll_fd(det->rb));
}

/* ---- --mode nft: the attempts of the NFLOG group ---------------------------------- */

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void nft_close(struct bh_detector *det)
{
	bh_nflog_close(det->nf);	/* its fd leaves the epoll set as it closes */
	bh_dettab_free(det->tab);
	free(det->grace);
	det->nf = NULL;
	det->tab = NULL;
	det->grace = NULL;
	det->n_grace = 0;
	memset(&det->grace_mtime, 0, sizeof(det->grace_mtime));
}

/*
 * Detection in --mode nft: the group bound and the table kept while the
 * policy in force detects; the thresholds and salt as `up` wrote them
 * into the pinned bh_detect_cfg (the table starts afresh when they change).
 */
static void nft_open(struct bh_detector *det, bool on)
{
	struct bh_det_cfg cfg = {};
	__u32 zero = 0;
	int fd, ret;

	fd = on ? pinned(det, "bh_detect_cfg") : -1;
	if (fd >= 0 && bpf_map_lookup_elem(fd, &zero, &cfg))
		memset(&cfg, 0, sizeof(cfg));
	if (fd >= 0)
		close(fd);
	if (!(cfg.flags & BH_DETC_ON)) {
		nft_close(det);
		return;
	}
	if (!det->tab && bh_dettab_new(&det->tab, BH_MAX_DETECT)) {
		bh_dlog("detection: no memory for --mode nft's device table");
		return;
	}
	if (memcmp(&cfg, &det->cfg, sizeof(cfg)))
		bh_dettab_clear(det->tab);
	det->cfg = cfg;
	if (det->nf)
		return;
	ret = bh_nflog_open(&det->nf, BH_NFLOG_DET_GROUP);
	if (ret) {
		bh_dlog("detection: NFLOG group %u: %s: nothing is detected in --mode nft",
			BH_NFLOG_DET_GROUP, strerror(-ret));
		return;
	}
	epoll_add(det, bh_nflog_fd(det->nf));
	bh_dlog("detection: reading NFLOG group %u (--mode nft)", BH_NFLOG_DET_GROUP);
}

/*
 * `release --for` (another process) starts a grace period and forgets the
 * device's state in bh_detect; here its entry in the table. The file is
 * read again when it changed (looked at on every pass of the daemon's
 * loop, which a write to the state dir wakes), its ended periods too: a
 * short one may end before the next look, and must still forget.
 */
static void nft_grace_look(struct bh_detector *det)
{
	struct bh_grace *g = NULL;
	char path[PATH_MAX];
	struct stat sb;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", det->ctx->state_dir, BH_GRACE_FILE);
	if (stat(path, &sb))
		memset(&sb, 0, sizeof(sb));
	if (sb.st_mtim.tv_sec == det->grace_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == det->grace_mtime.tv_nsec)
		return;
	det->grace_mtime = sb.st_mtim;
	if (bh_grace_read(det->ctx, 0, &g, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < det->n_grace && !seen; j++)
			seen = !memcmp(det->grace[j].mac, g[i].mac, 6) &&
			       det->grace[j].until == g[i].until;
		if (!seen)
			bh_dettab_forget(det->tab, g[i].mac);
	}
	free(det->grace);
	det->grace = g;
	det->n_grace = n;
}

static int ring_cb(void *ctx, void *data, size_t size);

/* One attempt: counted; a signal goes the way of the ring's. */
static void nft_attempt(void *arg, const struct bh_nflog_det *d)
{
	struct bh_detector *det = arg;
	struct bh_det_signal sig;

	if (!det->tab)
		return;
	det->st.nft_attempts++;
	if (bh_dettab_note(det->tab, &det->cfg, d->mac, d->daddr, d->what, mono_ns(), &sig))
		ring_cb(det, &sig, sizeof(sig));
}

void bh_detector_drops(struct bh_detector *det, const struct bh_event *e)
{
	const struct bh_det_thr *thr;
	struct bh_det_signal sig;
	__u64 frames, cap, now;
	__u32 what;

	/* a pinned MAC from another port is not that device: no evidence
	 * against it (bpf/verdict.h skips the note the same way) */
	if (!det || !det->tab || !e || e->reason == BH_R_DROP_QUARANTINE || (e->smac[0] & 1) ||
	    (e->flags & BH_EVF_WOULD_DROP) || e->rule_id == BH_RULE_PIN)
		return;
	/* the frames past a level change nothing in its window */
	thr = &det->cfg.thr[BH_DET_DENY_RATE];
	cap = 1 + (thr->act > thr->watch ? thr->act : thr->watch);
	frames = (__u64)e->suppressed + 1;
	now = mono_ns();
	/* the frame as its sample (its protocol and port), as the programs note it */
	what = BH_DETN_WHAT(e->proto, e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP ?
			    e->dport : 0, BH_DETN_DROP | (e->is_v4 ? BH_DETN_V4 : 0));
	for (__u64 i = 0; i < frames && i < cap; i++)
		if (bh_dettab_note(det->tab, &det->cfg, e->smac, e->daddr, what, now, &sig))
			ring_cb(det, &sig, sizeof(sig));
}

static int nft_consume(struct bh_detector *det)
{
	if (!det->nf)
		return 0;
	nft_grace_look(det);
	return bh_nflog_read_det(det->nf, nft_attempt, det);
}

/* ---- the blocklist file -------------------------------------------------------- */

static void block_watch(struct bh_detector *det, const char *path)
{
	char buf[PATH_MAX];

	if (!strcmp(path, det->bpath))
		return;
	if (det->wd >= 0)
		inotify_rm_watch(det->ino, det->wd);
	det->wd = -1;
	snprintf(det->bpath, sizeof(det->bpath), "%s", path);
	if (!*path)
		return;
	snprintf(buf, sizeof(buf), "%s", path);
	snprintf(det->bbase, sizeof(det->bbase), "%s", basename(buf));
	snprintf(buf, sizeof(buf), "%s", path);
	/* the directory: a list replaced by a rename is seen */
	det->wd = inotify_add_watch(det->ino, dirname(buf), IN_CLOSE_WRITE | IN_MOVED_TO |
				    IN_CREATE | IN_MODIFY | IN_ONLYDIR);
	if (det->wd < 0)
		bh_dlog("blocklist: cannot watch the directory of %s: %s; it is read again on SIGHUP",
			path, strerror(errno));
	else
		bh_dlog("blocklist: watching %s", path);
}

static void block_load(struct bh_detector *det)
{
	size_t n;
	int ret;

	det->bload = false;
	det->bload_at = 0;
	if (!*det->bpath || det->ring_fd < 0)
		return;
	ret = bh_blocklist_reload(det->ctx, det->bpath, &n);
	if (ret) {
		bh_dlog("blocklist %s: not loaded (%s); the entries in force stay",
			det->bpath, strerror(-ret));
		return;
	}
	det->st.blocklist_loads++;
	det->st.blocklist_entries = n;
	bh_dlog("blocklist %s: %zu entr%s in force", det->bpath, n, n == 1 ? "y" : "ies");
}

void bh_detector_ino_read(struct bh_detector *det)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	while ((n = read(det->ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				det->bload = true;
			if (!ev->len || ev->wd != det->wd || strcmp(ev->name, det->bbase))
				continue;
			if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
				det->bload = true;
			else	/* written in place, or created: let the writer finish */
				det->bload_at = mono_ms() + BH_DETECTOR_SETTLE_MS;
		}
	}
}

/* ---- the loop's side ---------------------------------------------------------- */

static void look(struct bh_detector *det)
{
	const struct bh_detect_policy *dp;
	char old[PATH_MAX];

	det->stale = false;
	bh_policy_free(det->pol);
	det->pol = bh_applied_policy(det->ctx);
	ring_open(det);
	dp = policy_detect(det->pol);
	nft_open(det, dp->on && bh_applied_mode(det->ctx, BH_MODE_AUTO) == BH_MODE_NFT);
	snprintf(old, sizeof(old), "%s", det->bpath);
	block_watch(det, dp->on && dp->blocklist ? dp->blocklist : "");
	/* `up` loaded the list; a changed file name is read here */
	if (*det->bpath && strcmp(old, det->bpath) && *old)
		det->bload = true;
}

void bh_detector_refresh(struct bh_detector *det)
{
	if (det)
		det->stale = true;
}

int bh_detector_ring_fd(const struct bh_detector *det)
{
	return det && (det->rb || det->nf) ? det->efd : -1;
}

int bh_detector_ino_fd(const struct bh_detector *det)
{
	return det ? det->ino : -1;
}

int bh_detector_consume(struct bh_detector *det)
{
	struct epoll_event ev[4];
	int n;

	if (!det || (!det->rb && !det->nf))
		return 0;
	if (det->stale)
		look(det);
	/* what made efd readable is read below: take its events off */
	epoll_wait(det->efd, ev, 4, 0);
	n = nft_consume(det);
	return n + (det->rb ? ring_buffer__consume(det->rb) : 0);
}

int bh_detector_timeout(const struct bh_detector *det)
{
	long long now = mono_ms(), t;

	if (!det)
		return -1;
	t = det->prune_at - now;
	if (det->stale || det->bload)
		return 0;
	if (det->bload_at)
		t = det->bload_at - now < t ? det->bload_at - now : t;
	return t > 0 ? (int)t : 0;
}

void bh_detector_tick(struct bh_detector *det)
{
	long long now = mono_ms();
	size_t left;

	if (!det)
		return;
	if (det->stale)
		look(det);
	if (det->bload_at && now >= det->bload_at)
		det->bload = true;
	if (det->bload)
		block_load(det);
	if (det->tab)
		nft_grace_look(det);
	if (now >= det->prune_at) {
		det->prune_at = now + BH_DETECTOR_PRUNE_S * 1000;
		if (!bh_grace_prune_saved(det->ctx, (__u64)time(NULL), &left))
			det->st.grace_periods = left;
	}
}

int bh_detector_open(struct bh_detector **out, const struct bh_ctx *ctx,
		     struct bh_events *ev)
{
	struct bh_detector *det;

	det = calloc(1, sizeof(*det));
	if (!det)
		return -ENOMEM;
	det->ctx = ctx;
	det->ev = ev;
	det->ring_fd = det->quar_fd = det->wd = -1;
	det->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	det->efd = epoll_create1(EPOLL_CLOEXEC);
	if (det->ino < 0 || det->efd < 0) {
		int ret = -errno;

		if (det->ino >= 0)
			close(det->ino);
		if (det->efd >= 0)
			close(det->efd);
		free(det);
		return ret;
	}
	look(det);
	*out = det;
	return 0;
}

void bh_detector_close(struct bh_detector *det)
{
	if (!det)
		return;
	if (det->rb)
		ring_buffer__consume(det->rb);
	ring_close(det);
	nft_close(det);
	if (det->ino >= 0)
		close(det->ino);
	close(det->efd);
	bh_policy_free(det->pol);
	free(det);
}

void bh_detector_stats(const struct bh_detector *det, struct bh_detector_stats *st)
{
	*st = det->st;
}

void bh_detector_render(const struct bh_detector *det, FILE *f)
{
	static const char *const levels[] = { "", "watch", "act" };

	if (!det)
		return;
	fprintf(f, "# HELP bulkhead_detect_signals_total Detection signals read from the dataplane, by kind and level.\n"
		"# TYPE bulkhead_detect_signals_total counter\n");
	for (unsigned int k = 0; k < BH_DET_KINDS; k++)
		for (unsigned int l = BH_DET_WATCH; l <= BH_DET_ACT; l++)
			fprintf(f, "bulkhead_detect_signals_total{kind=\"%s\",level=\"%s\"} %llu\n",
				bh_det_kind_key(k), levels[l],
				(unsigned long long)det->st.signals[k][l]);
	fprintf(f, "# HELP bulkhead_auto_quarantines_total Devices quarantined by detection.\n"
		"# TYPE bulkhead_auto_quarantines_total counter\n"
		"bulkhead_auto_quarantines_total %llu\n"
		"# HELP bulkhead_auto_quarantine_errors_total Quarantines detection asked for that failed.\n"
		"# TYPE bulkhead_auto_quarantine_errors_total counter\n"
		"bulkhead_auto_quarantine_errors_total %llu\n"
		"# HELP bulkhead_blocklist_entries Blocklist entries in force after the daemon's last load.\n"
		"# TYPE bulkhead_blocklist_entries gauge\n"
		"bulkhead_blocklist_entries %llu\n"
		"# HELP bulkhead_detect_grace_periods Devices in a grace period (release --for), at the last look.\n"
		"# TYPE bulkhead_detect_grace_periods gauge\n"
		"bulkhead_detect_grace_periods %llu\n",
		(unsigned long long)det->st.auto_quarantines,
		(unsigned long long)det->st.isolate_errors,
		(unsigned long long)det->st.blocklist_entries,
		(unsigned long long)det->st.grace_periods);
}
