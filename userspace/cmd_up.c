// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_up.c - `bulkhead up`, `down` and `daemon`: bringing Bulkhead up on
 * the policy's ports, taking it down, and keeping it up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd.h"
#include "daemon.h"
#include "metrics.h"
#include "nft.h"

struct up_opts {
	const char *path;
	struct bh_mode_arg mode;
	const char *leases;
	const char *metrics;
};

#define LEASES_HELP(see) \
	"dnsmasq's DHCP lease file, instead of the policy's\n" \
	"dhcp.leases; off: none (" see ")"

static const struct bh_opt up_opts[] = {
	BH_OPT_STR("config", 'c', "POLICY", struct up_opts, path,
		   "policy file [default " BH_POLICY_DEFAULT "]"),
	BH_OPT_STR("policy", 'c', "POLICY", struct up_opts, path, NULL),
	BH_OPT_FN("mode", 'm', "MODE", struct up_opts, mode, bh_opt_mode,
		  "auto (native XDP where the driver has it, else tc),\n"
		  "xdp (fail if a port lacks native XDP), tc, or nft\n"
		  "(no BPF program: the whole policy in nftables,\n"
		  "tables bridge and inet bulkhead, conntrack for\n"
		  "replies; sets the bridge's nf_call_iptables)"),
	BH_OPT_FN("leases", 'L', "FILE", struct up_opts, leases, bh_opt_leases,
		  LEASES_HELP("see DHCP leases below")),
	BH_OPT_END
};

static const struct bh_cmd_spec up_spec = {
	.synopsis = "[-c POLICY] [--mode auto|xdp|tc|nft] [--leases FILE|off]",
	.opts = up_opts,
	.help =
	"A bridge named in 'interfaces' means all of its ports. Running 'up' again\n"
	"while up re-adopts the pinned links and updates them in place: there is\n"
	"never a moment with nothing attached. The quarantine saved in the state\n"
	"dir is restored before any port is attached.\n"
	"\n"
	"DHCP leases: each lease of the file that has not ended binds its IPv4\n"
	"address to the leaseholder's MAC, as a fixed 'ip:' would (another MAC\n"
	"sending from it is dropped as spoof; the leaseholder may send only from\n"
	"its addresses), unless the MAC has a fixed IPv4 address or the address\n"
	"is another device's (fixed wins, with a warning). Bad lines are warnings\n"
	"(FILE:LINE: what); a file that cannot be read is a warning and the leases\n"
	"in force stay until they end. The file is read once; the daemon follows it.\n",
};

int do_up(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct up_opts o = { .path = BH_POLICY_DEFAULT };
	struct bh_ctx lc = *ctx;
	struct bh_up_report r;
	int ret;

	ret = bh_cmd_parse(self, &up_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	if (o.leases) {
		lc.leases = o.leases;
		lc.leases_once = true;	/* up's alone, not the daemon's to follow */
	}
	/* up again without --mode keeps the mode in force, as the daemon does */
	if (!o.mode.set)
		o.mode.mode = bh_applied_mode(ctx, BH_MODE_AUTO);
	ret = bh_up(&lc, o.path, o.mode.mode, &r);
	if (ret)
		return ret;
	bh_print_up(o.path, &r);
	bh_up_report_free(&r);
	return 0;
}

static const struct bh_cmd_spec down_spec = {
	.synopsis = "",
};

int do_down(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_down_report r;
	int ret;

	ret = bh_cmd_parse(self, &down_spec, NULL, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = bh_down(ctx, &r);
	if (r.orphans > 0)
		printf("bulkhead: detached %d Bulkhead clsact filter%s that no pin dir held (left by a removed pin dir)\n",
		       r.orphans, r.orphans == 1 ? "" : "s");
	if (ret)
		return ret;
	switch (r.state) {
	case BH_DOWN_NO_PIN_DIR:
		printf("bulkhead: already down (%s does not exist)\n", ctx->pin_dir);
		break;
	case BH_DOWN_NOTHING_PINNED:
		printf("bulkhead: already down (nothing pinned in %s, now removed); the nftables tables, not this pin dir's, are left as they are\n",
		       ctx->pin_dir);
		break;
	case BH_DOWN_DONE:
		printf("bulkhead: down, every program detached, %s and tables bridge/inet %s removed\n",
		       ctx->pin_dir, BH_NFT_TABLE);
		break;
	}
	return 0;
}

static const struct bh_opt daemon_opts[] = {
	BH_OPT_STR("config", 'c', "POLICY", struct up_opts, path, NULL),
	BH_OPT_STR("policy", 'c', "POLICY", struct up_opts, path,
		   "policy file to enforce and watch [default " BH_POLICY_DEFAULT "]"),
	BH_OPT_FN("mode", 'm', "MODE", struct up_opts, mode, bh_opt_mode,
		  "as for 'up' [default: the mode in force, else auto]"),
	BH_OPT_STR("metrics", 0, "ADDR:PORT", struct up_opts, metrics,
		   "serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		   "([ADDR6]:PORT for IPv6) [default " BH_METRICS_DEFAULT "];\n"
		   "off: no endpoint"),
	BH_OPT_FN("leases", 'L', "FILE", struct up_opts, leases, bh_opt_leases,
		  LEASES_HELP("see 'bulkhead up --help'")),
	BH_OPT_END
};

static const struct bh_cmd_spec daemon_spec = {
	.synopsis = "[-c|--policy POLICY] [--mode auto|xdp|tc|nft] [--metrics ADDR:PORT|off] [--leases FILE|off]",
	.opts = daemon_opts,
	.help =
	"Starts with 'up' (taking over the pinned links in place when Bulkhead is\n"
	"already up), then watches: the policy file (each valid edit is applied\n"
	"atomically, also one written to a new file and renamed over it; an invalid\n"
	"one is logged as FILE:LINE:COL and the running policy stays), the ports of\n"
	"the policy's bridges (a port added or re-created is protected at once) and\n"
	"timed quarantines (isolate --for), released when they end, and the deny\n"
	"events of the dataplane (see 'bulkhead events'), and the DHCP lease file\n"
	"(when the addresses its leases bind change, also when a lease ends with\n"
	"the file unchanged, they are applied; host names alone need no apply).\n"
	"Logs one line per event on stderr. SIGHUP re-reads the policy and the\n"
	"leases. SIGTERM or SIGINT exit and\n"
	"leave enforcement in place; so does any crash: the programs and maps are\n"
	"pinned, and starting the daemon again takes over.\n",
};

int do_daemon(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv)
{
	struct up_opts o = { .path = BH_POLICY_DEFAULT, .metrics = BH_METRICS_DEFAULT };
	struct bh_ctx lc = *ctx;
	struct sockaddr_storage ss;
	unsigned int sslen;
	int ret;

	ret = bh_cmd_parse(self, &daemon_spec, &o, &argc, &argv);
	if (ret)
		return ret < 0 ? ret : 0;
	if (o.leases) {
		lc.leases = o.leases;
		lc.leases_once = false;	/* the daemon follows it */
	}
	if (strcmp(o.metrics, "off") && bh_metrics_parse_addr(o.metrics, &ss, &sslen)) {
		bh_err("daemon: --metrics must be ADDR:PORT, [ADDR6]:PORT or off, not '%s'",
		       o.metrics);
		return -EINVAL;
	}
	if (!o.mode.set)
		o.mode.mode = bh_applied_mode(ctx, BH_MODE_AUTO);
	return bh_daemon_run(&lc, o.path, o.mode.mode, o.metrics);
}
