// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_quarantine.c - `bulkhead isolate` and `release`: a device cut off
 * now, and let back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

struct isolate_opts {
	const char *reason;
	__u64 dur;		/* --for, seconds; 0: until released */
};

static int opt_duration(const char *cmd, const char *arg, void *dst)
{
	int ret = bh_duration_parse(arg, dst);

	if (!ret)
		return 0;
	if (ret == -ERANGE)
		bh_err("%s: --for '%s': longer than 3660 days", cmd, arg);
	else
		bh_err("%s: --for '%s' is not a duration: a number and a unit s, m, h or d (30s, 30m, 2h, 1d, 1h30m), more than 0",
		       cmd, arg);
	return -EINVAL;
}

static const struct bh_opt isolate_opts[] = {
	BH_OPT_STR("reason", 'r', "TEXT", struct isolate_opts, reason,
		   "why, kept with the quarantine"),
	BH_OPT_FN("for", 'f', "DURATION", struct isolate_opts, dur, opt_duration,
		  "end it after DURATION: 30s, 30m, 2h, 1d, 1h30m\n"
		  "(the daemon releases it then; status and devices\n"
		  "show the time left)"),
	BH_OPT_END
};

static const struct bh_cmd_spec isolate_spec = {
	.synopsis = "MAC|NAME [--reason TEXT] [--for DURATION]",
	.opts = isolate_opts,
	.min_args = 1,
	.max_args = 1,
	.help =
	"The device may still use the gateway services in the policy's\n"
	"quarantine.allow (default dhcp, dns). A MAC not seen yet can be isolated.\n"
	"NAME: a device's name in the applied policy, as explain takes it.\n"
	"Works on the pinned maps directly; needs no daemon.\n",
};

int do_isolate(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct isolate_opts o = { .reason = "" };
	struct bh_isolate_report r;
	char macs[18], until[64] = "";
	struct timespec now;
	__u64 since, end = 0;
	__u8 mac[6];
	int ret;

	ret = bh_cmd_parse(self, &isolate_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_device_mac(ctx, "isolate", argv[0], mac);
	if (ret)
		return ret;
	bh_format_mac(mac, macs);
	clock_gettime(CLOCK_REALTIME, &now);
	since = (__u64)now.tv_sec;
	if (o.dur) {
		/* never shorter than asked: the end is rounded up to a second */
		time_t t_end;
		char d[32], t[32];

		end = since + o.dur + (now.tv_nsec ? 1 : 0);
		t_end = (time_t)end;
		bh_duration_format(o.dur, d, sizeof(d));
		strftime(t, sizeof(t), "%F %T", localtime(&t_end));
		snprintf(until, sizeof(until), " for %s, until %s", d, t);
	}
	ret = bh_isolate(ctx, mac, o.reason, since, end, BH_QLVL_FULL, &r);
	if (ret)
		return ret;
	if (r.up)
		printf("bulkhead: %s isolated%s (%d tracked flow%s cut)\n", macs, until,
		       r.flushed, r.flushed == 1 ? "" : "s");
	else
		printf("bulkhead: %s will be isolated%s when Bulkhead comes up (it is down now)\n",
		       macs, until);
	if (o.dur)
		printf("bulkhead: the daemon ('bulkhead daemon') releases it then; while none runs, it stays isolated\n");
	return 0;
}

struct release_opts {
	__u64 dur;		/* --for, seconds; 0: no grace period */
};

static const struct bh_opt release_opts[] = {
	BH_OPT_FN("for", 'f', "DURATION", struct release_opts, dur, opt_duration,
		  "a grace period: for DURATION (30m, 1h, 1d) detection\n"
		  "does not isolate the device again (it alerts instead)"),
	BH_OPT_END
};

static const struct bh_cmd_spec release_spec = {
	.synopsis = "MAC|NAME [--for DURATION]",
	.opts = release_opts,
	.min_args = 1,
	.max_args = 1,
	.help =
	"NAME: a device's name in the applied policy.\n"
	"With --for, a device that is not isolated gets the grace period all the\n"
	"same, and its detection counts start afresh.\n",
};

int do_release(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct release_opts o = {};
	char macs[18], d[32], t[32];
	struct timespec now;
	time_t t_end;
	__u8 mac[6];
	int ret;

	ret = bh_cmd_parse(self, &release_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_device_mac(ctx, "release", argv[0], mac);
	if (ret)
		return ret;
	bh_format_mac(mac, macs);
	if (o.dur) {
		/* the grace first: detection must not isolate it again in between */
		clock_gettime(CLOCK_REALTIME, &now);
		t_end = (time_t)((__u64)now.tv_sec + o.dur + (now.tv_nsec ? 1 : 0));
		ret = bh_grace_start(ctx, mac, (__u64)t_end, (__u64)now.tv_sec);
		if (ret)
			return ret;
	}
	ret = bh_release(ctx, mac, 0);
	if (ret && !(ret == -ENOENT && o.dur))
		return ret;
	if (!ret)
		printf("bulkhead: %s released\n", macs);
	if (o.dur) {
		bh_duration_format(o.dur, d, sizeof(d));
		strftime(t, sizeof(t), "%F %T", localtime(&t_end));
		printf("bulkhead: %s: grace period of %s, until %s: detection does not isolate it again\n",
		       macs, d, t);
	}
	return 0;
}
