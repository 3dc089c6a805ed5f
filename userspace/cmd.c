// SPDX-License-Identifier: GPL-2.0
/*
 * cmd.c - the subcommands: up, down, check, apply, isolate, release,
 * status, devices. Policy errors are printed as "file:line:col: what";
 * nothing is changed unless the whole policy compiles.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "compile.h"
#include "daemon.h"
#include "diff.h"
#include "dataplane.h"
#include "eval.h"
#include "json.h"
#include "events.h"
#include "guard.h"
#include "kernel.h"
#include "leases.h"
#include "metrics.h"
#include "nft.h"
#include "counters.h"
#include "nl.h"
#include "policy.h"
#include "state.h"

#define STATE_UP	"up"		/* key=value: mode, policy, counts */
#define STATE_POLICY	"policy.yaml"	/* copy of the applied policy */


static void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pr_err(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bulkhead: %s\n", msg);
	if (strncmp(msg, "warning", 7))
		bh_json_err_note(msg);	/* --json: the first error */
}

/* a policy's diagnostics on stderr; the first is also --json's error */
static void diag_print(const struct bh_diag *d)
{
	bh_diag_print(d);
	if (d->n)
		bh_json_err_note(d->msg[0]);
}

static const struct bh_cmd *find_cmd(const char *name)
{
	for (const struct bh_cmd *c = bh_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void bh_cmd_usage(const struct bh_cmd *c, bool err)
{
	FILE *f = err ? stderr : stdout;

	fprintf(f, "Usage: bulkhead %s %s\n%s\n", c->name, c->usage, c->summary);
	if (c->help && *c->help)
		fprintf(f, "\n%s", c->help);
}

/*
 * getopt_long for subcommand @name: --help prints its usage and gives
 * OPT_HELP, an unknown option prints it to stderr and gives OPT_BAD;
 * -1 at the end; otherwise the option.
 */
#define OPT_HELP	(-2)
#define OPT_BAD		(-3)

static int cmd_opt(const char *name, int argc, char **argv, const char *shortopts,
		   const struct option *opts)
{
	int opt = getopt_long(argc, argv, shortopts, opts, NULL);

	if (opt == 'h') {
		bh_cmd_usage(find_cmd(name), false);
		return OPT_HELP;
	}
	if (opt == '?' || opt == ':') {
		bh_cmd_usage(find_cmd(name), true);
		return OPT_BAD;
	}
	return opt;
}

/*
 * One controller at a time: every command that changes something holds an
 * exclusive lock on <state dir>/lock until it exits (the daemon: until the
 * step it runs returns), so two applies (an admin's and a daemon's) never
 * interleave their generation writes.
 */
static int lock_state(const struct bh_ctx *ctx)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = bh_state_init(ctx->state_dir);
	if (ret) {
		pr_err("state dir %s: %s", ctx->state_dir, strerror(-ret));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/lock", ctx->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		pr_err("cannot lock %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;	/* held until closed or the process exits */
}

/* ---- what a command may claim ---------------------------------------------- */

static struct bh_policy *applied_file(const struct bh_ctx *ctx);

/*
 * Before a command reads or writes the pin dir: it is on a bpffs and within
 * reach, else nothing seen (or not seen) there means anything. 0, or exit
 * code 2 after saying why.
 */
static int pin_dir_ok(const char *cmd, const struct bh_ctx *ctx)
{
	char err[1024];

	if (!bh_guard_pin_dir(ctx->pin_dir, err, sizeof(err)))
		return 0;
	pr_err("%s: %s", cmd, err);
	return BH_EXIT_SYSTEM;
}

/* The state dir can be read (or does not exist yet): 0, or exit code 2. */
static int state_dir_ok(const char *cmd, const struct bh_ctx *ctx)
{
	char err[1024];

	if (!access(ctx->state_dir, R_OK | X_OK) || errno == ENOENT)
		return 0;
	bh_guard_path_err(ctx->state_dir, -errno, err, sizeof(err));
	pr_err("%s: %s", cmd, err);
	return BH_EXIT_SYSTEM;
}

/*
 * Is Bulkhead up on these ports with another pin dir? The ports of @t; with
 * @t NULL, those of the applied policy in the state dir, else every
 * interface. 0 when no port carries a Bulkhead program the pin dir does
 * not run, else exit code 2 after naming the port.
 */
static int foreign_check(const char *cmd, const struct bh_ctx *ctx,
			 const struct bh_topology *t)
{
	struct bh_topology own = {};
	struct bh_policy *p = NULL;
	struct bh_foreign f;
	char msg[1024];
	int *idx = NULL, ret, rc = BH_EXIT_OK;

	if (!t) {
		p = applied_file(ctx);
		if (p && !bh_nl_topology(p->ifaces, p->n_ifaces, &own, msg, sizeof(msg)))
			t = &own;
	}
	if (t) {
		idx = calloc(t->n_ports + 1, sizeof(*idx));
		if (!idx) {
			pr_err("%s: out of memory", cmd);
			rc = BH_EXIT_SYSTEM;
			goto out;
		}
		for (size_t i = 0; i < t->n_ports; i++)
			idx[i] = t->ports[i].ifindex;
	}
	ret = bh_guard_foreign(ctx->pin_dir, idx, t ? t->n_ports : 0, &f);
	if (ret > 0) {
		bh_guard_foreign_msg(&f, ctx->pin_dir, msg, sizeof(msg));
		pr_err("%s: %s", cmd, msg);
		rc = BH_EXIT_SYSTEM;
	} else if (ret < 0) {
		pr_err("%s: cannot look at the programs on the ports: %s", cmd, strerror(-ret));
		rc = BH_EXIT_SYSTEM;
	}
out:
	free(idx);
	bh_topology_free(&own);
	bh_policy_free(p);
	return rc;
}

/*
 * Open the pinned maps for @cmd: 1 when open, 0 when this pin dir holds
 * none and no other instance is up on the ports (Bulkhead is down), or
 * -(exit code) after an error: a pin dir off bpffs or out of reach, or
 * another instance's programs on the ports.
 */
static int maps_open(const char *cmd, const struct bh_ctx *ctx, struct bh_maps *m)
{
	char path[PATH_MAX], err[1024];
	int ret;

	ret = pin_dir_ok(cmd, ctx);
	if (ret)
		return -ret;
	ret = bh_maps_open(ctx->pin_dir, m);
	if (!ret)
		return 1;
	if (ret != -ENOENT) {
		snprintf(path, sizeof(path), "%s/maps", ctx->pin_dir);
		bh_guard_path_err(path, ret, err, sizeof(err));
		pr_err("%s: %s", cmd, err);
		return -BH_EXIT_SYSTEM;
	}
	ret = foreign_check(cmd, ctx, NULL);
	return ret ? -ret : 0;
}

/* ---- shared steps ------------------------------------------------------- */

/* ---- DHCP leases ------------------------------------------------------------ */

/* The lease file in force: --leases, else the policy's dhcp.leases; NULL: none */
static const char *leases_path(const struct bh_ctx *ctx, const struct bh_policy *p)
{
	const char *s = ctx->leases ? ctx->leases : p->dhcp_leases;

	return s && strcmp(s, "off") ? s : NULL;
}

static void print_warnings(const struct bh_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		pr_err("warning: %s", d->msg[i]);
}

/*
 * Read the lease file of @p (or --leases) and bind its live leases into
 * @p; @l keeps them for the state dir. Bad lines are warnings. A file that
 * cannot be read is a warning too, and the leases saved with the applied
 * policy stay in force until they end. 0 or -ENOMEM.
 */
static int leases_load(const struct bh_ctx *ctx, struct bh_policy *p, struct bh_leases *l)
{
	const char *path = leases_path(ctx, p);
	struct bh_diag d = {};
	int ret;

	memset(l, 0, sizeof(*l));
	if (!path)
		return 0;
	ret = bh_leases_read(path, l, &d);
	print_warnings(&d);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		pr_err("warning: DHCP leases %s: %s; the leases in force stay until they end",
		       path, strerror(-ret));
		bh_leases_saved(ctx->state_dir, l);
	}
	bh_leases_live(l, bh_leases_now());
	d.n = 0;
	ret = bh_leases_bind(p, l, &d);
	print_warnings(&d);
	return ret < 0 ? ret : 0;
}

/*
 * Load and compile; on failure print why and return the exit code. With
 * @l, the policy's DHCP leases are bound into it first and kept in @l.
 */
static int load_compile(const struct bh_ctx *ctx, const char *path, struct bh_policy **p,
			struct bh_compiled *c, struct bh_leases *l)
{
	struct bh_diag d = {};
	int ret;

	memset(c, 0, sizeof(*c));
	ret = bh_policy_load(path, p, &d);
	if (ret) {
		diag_print(&d);
		/* a missing file is bad input; one out of reach a system error */
		return ret == -EINVAL ? BH_EXIT_INPUT :
		       (ret == -ENOENT || ret == -EISDIR) ? BH_EXIT_INPUT : BH_EXIT_SYSTEM;
	}
	ret = l ? leases_load(ctx, *p, l) : 0;
	if (!ret)
		ret = bh_compile(*p, c, &d);
	if (ret) {
		diag_print(&d);
		bh_policy_free(*p);
		*p = NULL;
		if (l)
			bh_leases_free(l);
		return ret == -ENOMEM ? BH_EXIT_SYSTEM : BH_EXIT_INPUT;
	}
	return BH_EXIT_OK;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *tmp;

			cap = cap ? cap * 2 : 8192;
			tmp = realloc(buf, cap);
			if (!tmp) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = tmp;
		}
		size_t r = fread(buf + n, 1, 4096, f);

		n += r;
		if (r < 4096)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Remember what is applied: a copy of the policy and its counts. */
static int save_applied(const struct bh_ctx *ctx, const char *path,
			const char *mode, const struct bh_policy *p,
			const struct bh_compiled *c, int epoch, const struct bh_leases *l)
{
	/* the file the daemon follows: its own --leases, else dhcp.leases;
	 * never an up's or apply's --leases, which is that command's alone */
	const char *lpath = ctx->leases_once ? p->dhcp_leases : leases_path(ctx, p);
	struct bh_kv kv[13];
	struct bh_kernel k;
	char abspath[PATH_MAX];
	size_t len, ndev = 0;
	char *text;
	int ret;

	for (size_t i = 0; i < p->n_groups; i++)
		ndev += p->groups[i].n_members;
	text = read_file(path, &len);
	if (!text)
		return -errno;
	ret = bh_state_write(ctx->state_dir, STATE_POLICY, text, len);
	free(text);
	if (ret)
		return ret;
	/* the leases bound with it: applied_policy() binds them again */
	text = bh_leases_format(l, &len);
	if (!text)
		return -ENOMEM;
	ret = bh_state_write(ctx->state_dir, BH_LEASES_FILE, text, len);
	free(text);
	if (ret)
		return ret;
	if (!realpath(path, abspath))
		snprintf(abspath, sizeof(abspath), "%s", path);
	memset(kv, 0, sizeof(kv));
#define KV(i, k, ...) do { snprintf(kv[i].key, sizeof(kv[i].key), "%s", k); \
		snprintf(kv[i].val, sizeof(kv[i].val), __VA_ARGS__); } while (0)
	KV(0, "mode", "%s", mode);
	KV(1, "policy", "%s", abspath);
	KV(2, "epoch", "%d", epoch);
	KV(3, "groups", "%zu", p->n_groups);
	KV(4, "devices", "%zu", ndev);
	KV(5, "rules", "%zu", p->n_rules);
	KV(6, "applied", "%lld", (long long)time(NULL));
	KV(7, "pin_dir", "%s", ctx->pin_dir);
	KV(8, "policy_entries", "%zu", c->n_pols);
	KV(9, "leases", "%s", lpath && strcmp(lpath, "off") ? lpath : "");
	bh_kernel_facts(&k);
	KV(10, "kernel", "%s", k.release);
	KV(11, "tc_hooks", "%s", k.tcx ? "tcx" : "clsact");
	KV(12, "br_netfilter", "%s", k.br_netfilter ? "loaded" : "not loaded");
#undef KV
	return bh_kv_save(ctx->state_dir, STATE_UP, kv, 13);
}

static int restore_quarantine(const struct bh_ctx *ctx, const struct bh_maps *m)
{
	struct bh_quar_entry *q = NULL;
	size_t n = 0;
	int ret;

	ret = bh_quar_load(ctx->state_dir, &q, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n && !ret; i++) {
		if (q[i].until && q[i].until <= (__u64)time(NULL))
			continue;	/* a timed quarantine that has ended */
		ret = bh_dp_isolate(m, q[i].mac, q[i].since, q[i].until);
		if (!ret)
			bh_dp_ct_flush_mac(m, q[i].mac, NULL, NULL);
	}
	free(q);
	return ret;
}

static struct bh_policy *applied_policy(const struct bh_ctx *ctx);
static struct bh_policy *applied_file(const struct bh_ctx *ctx);

/*
 * Bulkhead's nftables tables: the second lock (the quarantine map mirrored
 * into nftables, with the quarantine.allow services of the policy in
 * force), and in --mode nft the whole policy @p / @c on the ports of @topo
 * (all NULL in the BPF modes).
 */
static int nft_sync(const struct bh_maps *m, const struct bh_policy *p,
		    const struct bh_compiled *c, const struct bh_topology *topo)
{
	struct bh_nft_spec spec = { .p = p, .c = c, .topo = topo };
	struct bh_mac_key cur, next;
	struct bh_active act = {};
	struct bh_config cfg = {};
	__u8 (*macs)[6] = NULL, (*tmp)[6];
	size_t n = 0;
	void *prev = NULL;
	__u32 key = 0;
	int ret;

	if (!bpf_map_lookup_elem(m->active, &key, &act)) {
		key = act.gen;
		bpf_map_lookup_elem(m->config, &key, &cfg);
	}
	while (!bpf_map_get_next_key(m->quarantine, prev, &next)) {
		tmp = realloc(macs, (n + 1) * sizeof(*macs));
		if (!tmp) {
			free(macs);
			return -ENOMEM;
		}
		macs = tmp;
		memcpy(macs[n++], next.mac, 6);
		cur = next;
		prev = &cur;
	}
	spec.quarantine = (const __u8 (*)[6])macs;
	spec.n_quarantine = n;
	spec.qallow = c ? c->cfg.qallow : cfg.qallow;
	ret = bh_nft_sync(&spec);
	free(macs);
	return ret;
}

/* The mode 'up' was given, as saved in the state dir; @mode if none. */
static enum bh_mode applied_mode(const struct bh_ctx *ctx, enum bh_mode mode)
{
	struct bh_kv *kv = NULL;
	size_t nkv = 0;
	const char *s;

	if (!bh_kv_load(ctx->state_dir, STATE_UP, &kv, &nkv)) {
		s = bh_kv_get(kv, nkv, "mode");
		if (s)
			bh_mode_parse(s, &mode);
	}
	free(kv);
	return mode;
}

bool bh_nft_in_force(const struct bh_ctx *ctx)
{
	return applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT;
}

/* nft_sync() for the running mode, re-reading the applied policy in nft mode */
static int nft_sync_applied(const struct bh_ctx *ctx, const struct bh_maps *m)
{
	struct bh_topology topo = {};
	struct bh_compiled c = {};
	struct bh_policy *p;
	struct bh_diag d = {};
	char err[256];
	int ret;

	if (applied_mode(ctx, BH_MODE_AUTO) != BH_MODE_NFT)
		return nft_sync(m, NULL, NULL, NULL);
	p = applied_policy(ctx);
	if (!p)
		return -ENOENT;
	ret = bh_compile(p, &c, &d);
	if (!ret)
		ret = bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err));
	if (!ret)
		ret = nft_sync(m, p, &c, &topo);
	bh_topology_free(&topo);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return ret;
}

#define STATE_NFT_PORTS	"nft-ports"	/* the ports the nftables tables name */

static void ports_signature(const struct bh_topology *t, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n_ports && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%d:%s@%s,", t->ports[i].ifindex,
				      t->ports[i].name, t->ports[i].bridge);
}

/* the ports of @t are what the tables were last written for */
static bool nft_ports_same(const struct bh_ctx *ctx, const struct bh_topology *t)
{
	struct bh_kv *kv = NULL;
	char sig[4096];
	size_t n = 0;
	const char *v;
	bool same;

	ports_signature(t, sig, sizeof(sig));
	if (bh_kv_load(ctx->state_dir, STATE_NFT_PORTS, &kv, &n))
		return false;
	v = bh_kv_get(kv, n, "ports");
	same = v && !strcmp(v, sig);
	free(kv);
	return same;
}

static void nft_ports_save(const struct bh_ctx *ctx, const struct bh_topology *t)
{
	struct bh_kv kv = { .key = "ports" };

	ports_signature(t, kv.val, sizeof(kv.val));
	bh_kv_save(ctx->state_dir, STATE_NFT_PORTS, &kv, 1);
}

/* --mode nft: bridged IP must reach table inet bulkhead */
static int bridges_nf_call(const struct bh_topology *t, bool on)
{
	int ret = 0;

	for (size_t i = 0; i < t->n_ports; i++) {
		bool seen = false;

		if (!t->ports[i].bridge[0])
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(t->ports[j].bridge, t->ports[i].bridge);
		if (!seen && !ret)
			ret = bh_nl_bridge_nf_call(t->ports[i].bridge, on);
	}
	return ret;
}

static bool same_ports(const struct bh_topology *t, const char *pin_dir)
{
	struct bh_attached *att;
	size_t n;
	bool same = true;

	if (bh_dp_links(pin_dir, &att, &n))
		return false;
	if (n != t->n_ports)
		same = false;
	for (size_t i = 0; same && i < t->n_ports; i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++)
			if (att[j].ifindex == t->ports[i].ifindex &&
			    !strcmp(att[j].name, t->ports[i].name))
				found = true;
		same = found;
	}
	free(att);
	return same;
}

/* What the kernel offered this up: tc hooks, native XDP, br_netfilter. */
static void print_kernel(enum bh_mode mode, const struct bh_topology *t,
			 const struct bh_attached *att)
{
	struct bh_kernel k;
	size_t nx = 0;

	bh_kernel_facts(&k);
	printf("bulkhead: kernel %s: tc hooks %s, native XDP on", k.release,
	       k.tcx ? "tcx (links)" : "clsact (filters; tcx needs Linux 6.6)");
	for (size_t i = 0; i < t->n_ports; i++)
		if (att[i].mode == BH_MODE_XDP)
			printf("%s %s", nx++ ? "," : "", att[i].name);
	printf("%s, br_netfilter %s\n", nx ? "" : mode == BH_MODE_TC || mode == BH_MODE_NFT ?
	       " no port (not asked for)" : " no port (no driver support)",
	       k.br_netfilter ? "loaded" : "not loaded (needed only by --mode nft)");
}

/*
 * Load programs, write gateway + policy + quarantine into the maps, then
 * attach: the order means a port is never judged by an empty policy.
 */
static int bring_up(const struct bh_ctx *ctx, enum bh_mode mode,
		    const char *path, const struct bh_policy *p,
		    const struct bh_compiled *c, const struct bh_leases *l, bool quiet)
{
	struct bh_topology topo = {};
	struct bh_attached *att = NULL;
	struct bh_dp *dp = NULL;
	struct bh_maps m;
	char err[512] = "";
	int ret, epoch, rc = BH_EXIT_SYSTEM;

	if (bh_pin_dir_check(ctx->pin_dir, err, sizeof(err))) {
		pr_err("%s", err);
		return BH_EXIT_INPUT;
	}
	ret = bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err));
	if (ret) {
		pr_err("%s: %s", path, err);
		return ret == -ENODEV ? BH_EXIT_INPUT : BH_EXIT_SYSTEM;
	}
	/* a second instance on these ports would fight the first one */
	rc = foreign_check("up", ctx, &topo);
	if (rc)
		goto out_topo;
	/* nft mode judges bridged IP in table inet: only with br_netfilter */
	if (mode == BH_MODE_NFT && bh_kernel_load_br_netfilter(err, sizeof(err))) {
		pr_err("%s", err);
		rc = BH_EXIT_SYSTEM;
		goto out_topo;
	}
	rc = BH_EXIT_SYSTEM;
	ret = bh_state_init(ctx->state_dir);
	if (ret) {
		pr_err("state dir %s: %s", ctx->state_dir, strerror(-ret));
		goto out_topo;
	}
	ret = bh_dp_load(ctx->pin_dir, &dp, &m, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		goto out_topo;
	}
	ret = bh_dp_set_gateway(&m, &topo);
	if (ret) {
		pr_err("cannot write the gateway's addresses: %s", strerror(-ret));
		goto out_dp;
	}
	epoch = bh_dp_apply(&m, c, err, sizeof(err));
	if (epoch < 0) {
		pr_err("%s", err);
		goto out_dp;
	}
	if (*err)
		pr_err("%s", err);
	ret = restore_quarantine(ctx, &m);
	if (ret) {
		pr_err("cannot restore the quarantine from %s: %s", ctx->state_dir,
		       strerror(-ret));
		goto out_dp;
	}
	/* the devices the bridge has heard: their ports get flooded copies */
	ret = bh_dp_seed(&m, &topo);
	if (ret)
		pr_err("warning: cannot read the bridge's forwarding database: %s (ports learn from frames only)",
		       strerror(-ret));
	att = calloc(topo.n_ports ? topo.n_ports : 1, sizeof(*att));
	if (!att)
		goto out_dp;
	if (mode == BH_MODE_NFT) {
		/* nftables first, then the BPF links go: never a gap */
		ret = bridges_nf_call(&topo, true);
		if (ret) {
			pr_err("cannot set nf_call_iptables on the bridge: %s", strerror(-ret));
			goto out_dp;
		}
		ret = nft_sync(&m, p, c, &topo);
		if (ret) {
			pr_err("cannot write the nftables tables: %s", strerror(-ret));
			goto out_dp;
		}
		nft_ports_save(ctx, &topo);
		ret = bh_dp_detach_all(ctx->pin_dir);
		if (ret) {
			pr_err("cannot detach the BPF programs: %s", strerror(-ret));
			goto out_dp;
		}
		for (size_t i = 0; i < topo.n_ports; i++) {
			att[i].ifindex = topo.ports[i].ifindex;
			snprintf(att[i].name, sizeof(att[i].name), "%s", topo.ports[i].name);
			att[i].mode = BH_MODE_NFT;
		}
	} else {
		/* from nftables: its tracked flows become ours, replies keep passing */
		if (applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT)
			bh_ct_import(m.ct);
		ret = bh_dp_attach(dp, mode, &topo, att, err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			goto out_dp;
		}
		ret = nft_sync(&m, NULL, NULL, NULL);
		if (ret) {
			pr_err("cannot write the nftables quarantine table: %s", strerror(-ret));
			goto out_dp;
		}
	}
	ret = save_applied(ctx, path, bh_mode_name(mode), p, c, epoch, l);
	if (ret)
		pr_err("warning: cannot save state in %s: %s", ctx->state_dir,
		       strerror(-ret));
	if (!quiet) {
		printf("bulkhead: up, policy %s (epoch %d), %zu port%s:", path, epoch,
		       topo.n_ports, topo.n_ports == 1 ? "" : "s");
		for (size_t i = 0; i < topo.n_ports; i++)
			printf(" %s[%s%s]", att[i].name, bh_mode_name(att[i].mode),
			       att[i].adopted ? ",adopted" : "");
		printf("\n");
		print_kernel(mode, &topo, att);
	}
	if (!topo.n_ports)
		pr_err("warning: the policy's interfaces have no ports: nothing is protected yet");
	rc = BH_EXIT_OK;
out_dp:
	free(att);
	bh_maps_close(&m);
	bh_dp_close(dp);
out_topo:
	bh_topology_free(&topo);
	return rc;
}

/* ---- up / down ---------------------------------------------------------- */

int bh_up(const struct bh_ctx *ctx, const char *path, enum bh_mode mode, bool quiet)
{
	struct bh_policy *p = NULL;
	struct bh_leases l;
	struct bh_compiled c;
	int lock, rc;

	rc = load_compile(ctx, path, &p, &c, &l);
	if (rc)
		return rc;
	lock = lock_state(ctx);
	if (lock < 0) {
		rc = BH_EXIT_SYSTEM;
	} else {
		rc = bring_up(ctx, mode, path, p, &c, &l, quiet);
		close(lock);
	}
	bh_leases_free(&l);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return rc;
}

/*
 * --leases FILE|off of up, apply and daemon: 0, or -1 after an error. A
 * relative FILE is made absolute: the daemon (and the state dir's record)
 * must not depend on the directory the command ran in.
 */
static int leases_opt(const char *name, struct bh_ctx *ctx)
{
	static char abs[PATH_MAX];
	char cwd[PATH_MAX];

	if (!*optarg) {
		pr_err("%s: --leases needs a file or off", name);
		return -1;
	}
	ctx->leases = optarg;
	if (optarg[0] == '/' || !strcmp(optarg, "off"))
		return 0;
	if (!getcwd(cwd, sizeof(cwd)) ||
	    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, optarg) >= sizeof(abs)) {
		pr_err("%s: --leases %s: cannot make it an absolute path; give one", name, optarg);
		return -1;
	}
	ctx->leases = abs;
	return 0;
}

/*
 * [-c POLICY] [--mode MODE], for up and daemon: 0, -1 after --help, -2 on
 * bad input. *mode_set: whether --mode was given. @metrics: the daemon's
 * --metrics ADDR:PORT|off; NULL for up, which has no such option.
 */
static int up_args(const char *name, int argc, char **argv, const char **path,
		   enum bh_mode *mode, bool *mode_set, const char **metrics,
		   struct bh_ctx *ctx)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "leases", required_argument, NULL, 'L' },
		{}
	};
	int opt;

	*path = BH_POLICY_DEFAULT;
	*mode = BH_MODE_AUTO;
	*mode_set = false;
	while ((opt = cmd_opt(name, argc, argv, "c:m:hL:", opts)) >= 0) {
		switch (opt) {
		case 'c':
			*path = optarg;
			break;
		case 'm':
			if (bh_mode_parse(optarg, mode)) {
				pr_err("%s: --mode must be auto, xdp, tc or nft, not '%s'", name, optarg);
				return -2;
			}
			*mode_set = true;
			break;
		case 'M':
			if (!metrics) {
				bh_cmd_usage(find_cmd(name), true);
				return -2;
			}
			*metrics = optarg;
			break;
		case 'L':
			if (leases_opt(name, ctx))
				return -2;
			ctx->leases_once = !metrics;	/* up's, not the daemon's */
			break;
		}
	}
	if (opt != -1)
		return opt == OPT_HELP ? -1 : -2;
	if (optind != argc) {
		bh_cmd_usage(find_cmd(name), true);
		return -2;
	}
	return 0;
}

static int cmd_up(const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_ctx lc = *ctx;
	const char *path;
	enum bh_mode mode;
	bool mode_set;
	int ret;

	ret = up_args("up", argc, argv, &path, &mode, &mode_set, NULL, &lc);
	if (ret)
		return ret == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	/* up again without --mode keeps the mode in force, as the daemon does */
	if (!mode_set)
		mode = applied_mode(ctx, BH_MODE_AUTO);
	return bh_up(&lc, path, mode, false);
}

static int simple_args(const char *name, int argc, char **argv, int want)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int opt;

	opt = cmd_opt(name, argc, argv, "h", opts);
	if (opt != -1)
		return opt == OPT_HELP ? -1 : -2;
	if (argc - optind != want) {
		bh_cmd_usage(find_cmd(name), true);
		return -2;
	}
	return 0;
}

static int cmd_down(const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_maps m;
	char err[512];
	int ret = simple_args("down", argc, argv, 0);

	if (ret)
		return ret == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	if (lock_state(ctx) < 0)
		return BH_EXIT_SYSTEM;
	if (pin_dir_ok("down", ctx))
		return BH_EXIT_SYSTEM;
	/* clsact filters (no bpf_links: kernels before 6.6) outlive a pin dir
	 * removed by hand; no pin dir marks them, so no instance runs them */
	if (bh_maps_open(ctx->pin_dir, &m) == -ENOENT) {
		ret = bh_dp_clsact_orphans();
		if (ret > 0)
			printf("bulkhead: detached %d Bulkhead clsact filter%s that no pin dir held (left by a removed pin dir)\n",
			       ret, ret == 1 ? "" : "s");
	} else {
		bh_maps_close(&m);
	}
	ret = maps_open("down", ctx, &m);
	if (ret < 0)
		return -ret;
	if (ret)
		bh_maps_close(&m);
	if (access(ctx->pin_dir, F_OK)) {
		printf("bulkhead: already down (%s does not exist)\n", ctx->pin_dir);
		return BH_EXIT_OK;
	}
	if (!ret) {
		/* no maps: this pin dir is not up, so table bridge bulkhead (the
		 * quarantine lock), if there is one, is another instance's */
		if (bh_dp_down(ctx->pin_dir, err, sizeof(err))) {
			pr_err("down: %s", err);
			return BH_EXIT_SYSTEM;
		}
		bh_state_remove(ctx->state_dir, STATE_UP);
		printf("bulkhead: already down (nothing pinned in %s, now removed); the nftables tables, not this pin dir's, are left as they are\n",
		       ctx->pin_dir);
		return BH_EXIT_OK;
	}
	if (applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT) {
		struct bh_policy *p = applied_policy(ctx);
		struct bh_topology topo = {};

		/* the BPF programs are not there to take over: say so */
		if (p && !bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err)))
			bridges_nf_call(&topo, false);
		bh_topology_free(&topo);
		bh_policy_free(p);
	}
	ret = bh_nft_remove();
	if (ret)
		pr_err("down: cannot remove the nftables tables: %s", strerror(-ret));
	if (bh_dp_down(ctx->pin_dir, err, sizeof(err))) {
		pr_err("down: %s", err);
		return BH_EXIT_SYSTEM;
	}
	/* the quarantine list stays: 'up' restores it */
	bh_state_remove(ctx->state_dir, STATE_UP);
	printf("bulkhead: down, every program detached, %s and tables bridge/inet %s removed\n",
	       ctx->pin_dir, BH_NFT_TABLE);
	return BH_EXIT_OK;
}

/* ---- check / apply -------------------------------------------------------- */

static void print_summary(const char *path, const struct bh_policy *p,
			  const struct bh_compiled *c)
{
	size_t ndev = 0, nbuiltin = c->n_rules - p->n_rules;

	for (size_t i = 0; i < p->n_groups; i++)
		ndev += p->groups[i].n_members;
	printf("%s: ok\n", path);
	printf("  interfaces: ");
	for (size_t i = 0; i < p->n_ifaces; i++)
		printf("%s%s", i ? ", " : "", p->ifaces[i]);
	printf("\n  groups %zu, devices %zu, rules %zu (+%zu built-in)\n",
	       p->n_groups, ndev, p->n_rules, nbuiltin);
	printf("  map entries: policy %zu, internet %zu, addresses %zu, talk %zu\n",
	       c->n_pols, c->n_inets, c->n_ips, c->n_talks);
}

/* the policy as the one operand, unless -c gave it: 0, or -2 with the usage */
static int policy_operand(const char *name, int argc, char **argv, const char **path)
{
	if (!*path && optind == argc - 1)
		*path = argv[optind++];
	if (!*path || optind != argc) {
		bh_cmd_usage(find_cmd(name), true);
		return -2;
	}
	return 0;
}

static int policy_arg(const char *name, int argc, char **argv, const char **path,
		      struct bh_ctx *ctx)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "leases", required_argument, NULL, 'L' },
		{}
	};
	int opt;

	*path = NULL;
	while ((opt = cmd_opt(name, argc, argv, "c:hL:", opts)) >= 0) {
		switch (opt) {
		case 'c':
			*path = optarg;
			break;
		case 'L':
			if (leases_opt(name, ctx))
				return -2;
			ctx->leases_once = true;	/* apply's alone */
			break;
		}
	}
	if (opt != -1)
		return opt == OPT_HELP ? -1 : -2;
	return policy_operand(name, argc, argv, path);
}

/*
 * check --json: the summary, or the errors, as one JSON object on stdout
 * (the errors also on stderr, as without --json).
 */
static int check_json(const char *path)
{
	struct bh_policy *p = NULL;
	struct bh_compiled c = {};
	struct bh_diag d = {};
	size_t ndev = 0;
	int ret, rc;

	ret = bh_policy_load(path, &p, &d);
	if (!ret)
		ret = bh_compile(p, &c, &d);
	printf("{\"path\":");
	bh_json_str(stdout, path);
	if (ret) {
		diag_print(&d);
		printf(",\"ok\":false,\"errors\":[");
		for (size_t i = 0; i < d.n; i++) {
			printf("%s", i ? "," : "");
			bh_json_str(stdout, d.msg[i]);
		}
		rc = ret == -ENOMEM ? BH_EXIT_SYSTEM : BH_EXIT_INPUT;
		printf("],\"error\":");
		bh_json_str(stdout, d.n ? d.msg[0] : strerror(-ret));
		printf(",\"exit\":%d}\n", rc);
		bh_json_err_done();
		bh_policy_free(p);
		return rc;
	}
	for (size_t i = 0; i < p->n_groups; i++)
		ndev += p->groups[i].n_members;
	printf(",\"ok\":true,\"interfaces\":[");
	for (size_t i = 0; i < p->n_ifaces; i++) {
		printf("%s", i ? "," : "");
		bh_json_str(stdout, p->ifaces[i]);
	}
	printf("],\"groups\":%zu,\"devices\":%zu,\"rules\":%zu,\"builtin_rules\":%zu",
	       p->n_groups, ndev, p->n_rules, c.n_rules - p->n_rules);
	printf(",\"map_entries\":{\"policy\":%zu,\"internet\":%zu,\"addresses\":%zu,\"talk\":%zu}}\n",
	       c.n_pols, c.n_inets, c.n_ips, c.n_talks);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return BH_EXIT_OK;
}

/* `NAME POLICY|-c POLICY [--json]`: 0, -1 (--help) or -2 (bad arguments) */
static int policy_json_arg(const char *name, int argc, char **argv, const char **path,
			   bool *json)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int opt;

	*path = NULL;
	*json = false;
	while ((opt = cmd_opt(name, argc, argv, "c:jh", opts)) >= 0) {
		if (opt == 'c') {
			*path = optarg;
		} else if (opt == 'j') {
			*json = true;
			bh_json_err_want();
		}
	}
	if (opt != -1)
		return opt == OPT_HELP ? -1 : -2;
	return policy_operand(name, argc, argv, path);
}

static int cmd_check(const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_policy *p = NULL;
	struct bh_compiled c;
	const char *path;
	bool json;
	int rc;

	(void)ctx;
	rc = policy_json_arg("check", argc, argv, &path, &json);
	if (rc)
		return rc == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	if (json)
		return check_json(path);
	rc = load_compile(ctx, path, &p, &c, NULL);
	if (rc)
		return rc;
	print_summary(path, p, &c);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return BH_EXIT_OK;
}


int bh_apply(const struct bh_ctx *ctx, const char *path, bool quiet)
{
	struct bh_topology topo = {};
	struct bh_policy *p = NULL;
	struct bh_leases l;
	struct bh_compiled c;
	enum bh_mode mode;
	struct bh_maps m;
	char err[512] = "";
	int lock, rc, ret, epoch;

	rc = load_compile(ctx, path, &p, &c, &l);
	if (rc)
		return rc;
	rc = BH_EXIT_SYSTEM;
	lock = lock_state(ctx);
	if (lock < 0)
		goto out;
	ret = maps_open("apply", ctx, &m);
	if (ret <= 0) {
		if (!ret)
			pr_err("apply: Bulkhead is not up (no maps in %s); use 'bulkhead up -c %s'",
			       ctx->pin_dir, path);
		rc = ret < 0 ? -ret : BH_EXIT_INPUT;
		goto out;
	}
	mode = applied_mode(ctx, BH_MODE_AUTO);
	ret = bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err));
	if (ret) {
		pr_err("%s: %s (the running policy stays in force)", path, err);
		rc = ret == -ENODEV ? BH_EXIT_INPUT : BH_EXIT_SYSTEM;
		goto out_maps;
	}
	if (mode == BH_MODE_NFT || !same_ports(&topo, ctx->pin_dir)) {
		/* the ports changed (the full path, which re-adopts links), or
		 * nftables: the tables are replaced whole in one batch */
		bh_maps_close(&m);
		rc = bring_up(ctx, mode, path, p, &c, &l, quiet || mode == BH_MODE_NFT);
		if (!rc && mode == BH_MODE_NFT && !quiet)
			printf("bulkhead: applied %s (nft)\n", path);
		goto out;
	}
	ret = bh_dp_set_gateway(&m, &topo);
	if (ret) {
		pr_err("apply: cannot write the gateway's addresses: %s", strerror(-ret));
		goto out_maps;
	}
	epoch = bh_dp_apply(&m, &c, err, sizeof(err));
	if (epoch < 0) {
		pr_err("apply: %s", err);
		goto out_maps;
	}
	if (*err)
		pr_err("apply: %s", err);
	ret = nft_sync(&m, NULL, NULL, NULL);
	if (ret)
		pr_err("apply: cannot update the nftables quarantine table: %s",
		       strerror(-ret));
	ret = save_applied(ctx, path, bh_mode_name(mode), p, &c, epoch, &l);
	if (ret)
		pr_err("warning: cannot save state in %s: %s", ctx->state_dir,
		       strerror(-ret));
	if (!quiet)
		printf("bulkhead: applied %s (epoch %d)\n", path, epoch);
	rc = BH_EXIT_OK;
out_maps:
	bh_maps_close(&m);
out:
	if (lock >= 0)
		close(lock);
	bh_topology_free(&topo);
	bh_leases_free(&l);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return rc;
}

static int cmd_apply(const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_ctx lc = *ctx;
	const char *path;
	int rc;

	rc = policy_arg("apply", argc, argv, &path, &lc);
	if (rc)
		return rc == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	return bh_apply(&lc, path, false);
}

/* ---- DHCP leases, for the daemon ------------------------------------------- */

/* The lease file the daemon follows, as the last up or apply recorded it */
void bh_leases_file(const struct bh_ctx *ctx, char *buf, size_t len)
{
	struct bh_kv *kv = NULL;
	size_t nkv = 0;
	const char *s = NULL;

	if (!bh_kv_load(ctx->state_dir, STATE_UP, &kv, &nkv))
		s = bh_kv_get(kv, nkv, "leases");
	snprintf(buf, len, "%s", s ? s : "");
	free(kv);
}

/* every (member MAC, address) of @p, sorted; NULL when empty or out of memory */
struct mac_addr {
	__u8 mac[6];
	__u8 a[16];
};

static int mac_addr_cmp(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct mac_addr));
}

static struct mac_addr *member_addrs(const struct bh_policy *p, size_t *n)
{
	struct mac_addr *v;
	size_t cnt = 0, k = 0;

	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			cnt += p->groups[i].members[j].n_ips;
	*n = cnt;
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++) {
			const struct bh_member *mb = &p->groups[i].members[j];

			for (size_t a = 0; a < mb->n_ips; a++, k++) {
				memcpy(v[k].mac, mb->mac, 6);
				memcpy(v[k].a, mb->ips[a].a, 16);
			}
		}
	qsort(v, cnt, sizeof(*v), mac_addr_cmp);
	return v;
}

/*
 * Would the lease sets @a and @b bind the same addresses into the applied
 * policy? A lease the policy overrides (a fixed ip: wins) changes nothing.
 */
static bool leases_bind_same(const struct bh_ctx *ctx, const struct bh_leases *a,
			     const struct bh_leases *b)
{
	struct bh_policy *pa, *pb;
	struct mac_addr *va = NULL, *vb = NULL;
	size_t na = 0, nb = 0;
	bool same = false;

	if (bh_leases_same_bindings(a, b))
		return true;
	pa = applied_file(ctx);
	pb = applied_file(ctx);
	if (pa && pb && bh_leases_bind(pa, a, NULL) >= 0 && bh_leases_bind(pb, b, NULL) >= 0) {
		va = member_addrs(pa, &na);
		vb = member_addrs(pb, &nb);
		same = va && vb && na == nb && !memcmp(va, vb, na * sizeof(*va));
	}
	free(va);
	free(vb);
	bh_policy_free(pa);
	bh_policy_free(pb);
	return same;
}

int bh_leases_update(const struct bh_ctx *ctx, const char *path, bool *applied)
{
	struct bh_leases cur = {}, old = {};
	struct bh_diag d = {};
	char lpath[PATH_MAX], *text;
	size_t len;
	int ret, lock, rc = BH_EXIT_SYSTEM;

	*applied = false;
	bh_leases_file(ctx, lpath, sizeof(lpath));
	if (!*lpath)
		return BH_EXIT_OK;
	ret = bh_leases_read(lpath, &cur, &d);
	if (ret == -ENOMEM)
		return BH_EXIT_SYSTEM;
	if (ret)	/* as apply does: the leases in force stay */
		bh_leases_saved(ctx->state_dir, &cur);
	bh_leases_live(&cur, bh_leases_now());
	bh_leases_saved(ctx->state_dir, &old);
	if (!leases_bind_same(ctx, &cur, &old)) {
		*applied = true;	/* apply reads the file again, warns */
		rc = bh_apply(ctx, path, true);
		goto out;
	}
	print_warnings(&d);
	if (ret)
		pr_err("warning: DHCP leases %s: %s; the leases in force stay until they end",
		       lpath, strerror(-ret));
	/* host names or ends only: the bindings in force stay as they are */
	lock = lock_state(ctx);
	if (lock < 0)
		goto out;
	text = bh_leases_format(&cur, &len);
	ret = text ? bh_state_write(ctx->state_dir, BH_LEASES_FILE, text, len) : -ENOMEM;
	free(text);
	close(lock);
	if (ret)
		pr_err("warning: cannot save the leases in %s: %s", ctx->state_dir, strerror(-ret));
	else
		rc = BH_EXIT_OK;
out:
	bh_leases_free(&cur);
	bh_leases_free(&old);
	return rc;
}

/* ---- isolate / release --------------------------------------------------- */

static bool is_gateway_mac(const struct bh_maps *m, const __u8 mac[6])
{
	struct bh_mac_key k = {};
	__u32 v;

	memcpy(k.mac, mac, 6);
	return !bpf_map_lookup_elem(m->gw_mac, &k, &v);
}

static int quar_update(const struct bh_ctx *ctx, const __u8 mac[6],
		       const struct bh_quar_entry *add)
{
	struct bh_quar_entry *q = NULL, *tmp;
	size_t n = 0, out = 0;
	int ret;

	ret = bh_state_init(ctx->state_dir);
	if (ret)
		return ret;
	ret = bh_quar_load(ctx->state_dir, &q, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (memcmp(q[i].mac, mac, 6))
			q[out++] = q[i];
	if (add) {
		tmp = realloc(q, (out + 1) * sizeof(*q));
		if (!tmp) {
			free(q);
			return -ENOMEM;
		}
		q = tmp;
		q[out++] = *add;
	}
	ret = bh_quar_save(ctx->state_dir, q, out);
	if (!ret && !add && out == n)
		ret = -ENOENT;
	free(q);
	return ret;
}

/* Is @a bound to a device other than @mac in @p? */
static bool bound_elsewhere(const struct bh_policy *p, const __u8 mac[6], const __u8 *a)
{
	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++) {
			const struct bh_member *mb = &p->groups[i].members[j];

			if (!memcmp(mb->mac, mac, 6))
				continue;
			for (size_t k = 0; k < mb->n_ips; k++)
				if (!memcmp(mb->ips[k].a, a, 16))
					return true;
		}
	return false;
}

/*
 * The kernel's own connection tracking (routed flows, and every flow in
 * --mode nft): delete the entries of @mac's addresses: its bound ones, the
 * ones it used in the BPF flows just cut (@seen), and the ones the
 * gateway's neighbour tables map to it. An address bound to another device
 * is never taken from the last two (a device may lie in ARP). How many.
 */
static int kernel_ct_flush(const struct bh_ctx *ctx, const __u8 mac[6],
			   const struct bh_addr *seen, size_t n_seen)
{
	struct bh_policy *p = applied_policy(ctx);
	struct bh_addr *set = NULL, *neigh = NULL;
	size_t n = 0, cap = 0, n_neigh = 0;
	int ret = 0;

	for (size_t i = 0; p && i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++) {
			const struct bh_member *mb = &p->groups[i].members[j];

			if (memcmp(mb->mac, mac, 6))
				continue;
			for (size_t k = 0; k < mb->n_ips && !ret; k++)
				ret = bh_addr_set_add(&set, &n, &cap, mb->ips[k].a);
		}
	if (bh_nl_neigh_addrs(mac, &neigh, &n_neigh))
		n_neigh = 0;	/* still flush what is known */
	for (size_t i = 0; i < n_seen + n_neigh && !ret; i++) {
		const __u8 *a = i < n_seen ? seen[i].a : neigh[i - n_seen].a;

		if (!p || !bound_elsewhere(p, mac, a))
			ret = bh_addr_set_add(&set, &n, &cap, a);
	}
	if (!ret)
		ret = bh_ct_flush_addrs(set, n);
	free(neigh);
	free(set);
	bh_policy_free(p);
	return ret;
}

/* @mac is in the applied policy, holds a DHCP lease or was seen on the wire */
static bool mac_known(const struct bh_ctx *ctx, const struct bh_maps *m, const __u8 mac[6])
{
	struct bh_policy *p = applied_policy(ctx);
	struct bh_dev_count *dc = NULL;
	struct bh_leases l = {};
	size_t ndc = 0;
	bool known = false;

	for (size_t i = 0; p && i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			known |= !memcmp(p->groups[i].members[j].mac, mac, 6);
	if (!known && !bh_leases_saved(ctx->state_dir, &l))
		known = bh_leases_host(&l, mac) != NULL;
	if (!known && m && !bh_counts_devices(ctx, m, &dc, &ndc))
		for (size_t i = 0; i < ndc && !known; i++)
			known = !memcmp(dc[i].mac, mac, 6);
	free(dc);
	bh_leases_free(&l);
	bh_policy_free(p);
	return known;
}

/*
 * A device on the command line: a MAC, or a member's name in the applied
 * policy (as explain takes it). 0, or an exit code after saying why.
 */
static int device_arg(const struct bh_ctx *ctx, const char *cmd, const char *s, __u8 mac[6])
{
	struct bh_policy *p;
	int found = 0;

	if (!bh_parse_mac(s, mac))
		return BH_EXIT_OK;
	p = applied_file(ctx);
	for (size_t g = 0; p && g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			const struct bh_member *m = &p->groups[g].members[i];

			if (m->name && !strcmp(m->name, s) && !found++)
				memcpy(mac, m->mac, 6);
		}
	bh_policy_free(p);
	if (found == 1)
		return BH_EXIT_OK;
	if (found > 1)
		pr_err("%s: '%s' names %d devices in the applied policy; give the MAC", cmd, s,
		       found);
	else
		pr_err("%s: '%s' is neither a MAC address (aa:bb:cc:dd:ee:ff) nor a device name of the applied policy",
		       cmd, s);
	return BH_EXIT_INPUT;
}

static int cmd_isolate(const struct bh_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "for", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct bh_quar_entry e = {};
	struct bh_addr *seen = NULL;
	size_t n_seen = 0;
	const char *reason = "";
	char macs[18], until[64] = "";
	struct timespec now;
	struct bh_maps m;
	__u64 dur = 0;
	bool up;
	int opt, ret, flushed = 0;

	while ((opt = cmd_opt("isolate", argc, argv, "r:f:h", opts)) >= 0) {
		switch (opt) {
		case 'r':
			reason = optarg;
			break;
		case 'f':
			ret = bh_duration_parse(optarg, &dur);
			if (ret) {
				pr_err(ret == -ERANGE ?
				       "isolate: --for '%s': longer than 3660 days" :
				       "isolate: --for '%s' is not a duration: a number and a unit s, m, h or d (30s, 30m, 2h, 1d, 1h30m), more than 0",
				       optarg);
				return BH_EXIT_INPUT;
			}
			break;
		}
	}
	if (opt != -1)
		return opt == OPT_HELP ? BH_EXIT_OK : BH_EXIT_INPUT;
	if (argc - optind != 1) {
		bh_cmd_usage(find_cmd("isolate"), true);
		return BH_EXIT_INPUT;
	}
	ret = device_arg(ctx, "isolate", argv[optind], e.mac);
	if (ret)
		return ret;
	bh_format_mac(e.mac, macs);
	if (e.mac[0] & 1) {
		pr_err("isolate: %s is a broadcast or multicast address, not a device", macs);
		return BH_EXIT_INPUT;
	}
	if (!(e.mac[0] | e.mac[1] | e.mac[2] | e.mac[3] | e.mac[4] | e.mac[5])) {
		pr_err("isolate: %s is the all-zero address, not a device", macs);
		return BH_EXIT_INPUT;
	}
	if (strlen(reason) >= sizeof(e.reason)) {
		pr_err("isolate: --reason is longer than %zu bytes", sizeof(e.reason) - 1);
		return BH_EXIT_INPUT;
	}
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	clock_gettime(CLOCK_REALTIME, &now);
	e.since = (__u64)now.tv_sec;
	if (dur) {
		/* never shorter than asked: the end is rounded up to a second */
		time_t end;
		char d[32], t[32];

		e.until = (__u64)now.tv_sec + dur + (now.tv_nsec ? 1 : 0);
		end = (time_t)e.until;
		bh_duration_format(dur, d, sizeof(d));
		strftime(t, sizeof(t), "%F %T", localtime(&end));
		snprintf(until, sizeof(until), " for %s, until %s", d, t);
	}
	if (lock_state(ctx) < 0)
		return BH_EXIT_SYSTEM;

	ret = maps_open("isolate", ctx, &m);
	if (ret < 0)
		return -ret;
	up = ret;
	if (up && is_gateway_mac(&m, e.mac)) {
		pr_err("isolate: %s is one of the gateway's own addresses", macs);
		bh_maps_close(&m);
		return BH_EXIT_INPUT;
	}
	if (up) {
		/* enforce first, then persist: a failed write never un-isolates */
		ret = bh_dp_isolate(&m, e.mac, e.since, e.until);
		if (ret) {
			pr_err("isolate: cannot write the quarantine map: %s", strerror(-ret));
			bh_maps_close(&m);
			return BH_EXIT_SYSTEM;
		}
		flushed = bh_dp_ct_flush_mac(&m, e.mac, &seen, &n_seen);
		ret = nft_sync_applied(ctx, &m);
		if (!ret) {
			int n = kernel_ct_flush(ctx, e.mac, seen, n_seen);

			flushed = (flushed < 0 ? 0 : flushed) + (n < 0 ? 0 : n);
		}
		free(seen);
		bh_maps_close(&m);
		if (ret) {
			pr_err("isolate: %s is isolated by the BPF programs, but the nftables lock failed: %s",
			       macs, strerror(-ret));
			quar_update(ctx, e.mac, &e);
			return BH_EXIT_SYSTEM;
		}
	}
	if (!mac_known(ctx, up ? &m : NULL, e.mac))
		pr_err("warning: isolate: %s is not in the applied policy and was never seen on the ports (a typo?); isolated all the same",
		       macs);
	ret = quar_update(ctx, e.mac, &e);
	if (ret) {
		pr_err("isolate: %s is isolated now but cannot be saved in %s: %s",
		       macs, ctx->state_dir, strerror(-ret));
		return BH_EXIT_SYSTEM;
	}
	if (up)
		printf("bulkhead: %s isolated%s (%d tracked flow%s cut)\n", macs, until,
		       flushed < 0 ? 0 : flushed, flushed == 1 ? "" : "s");
	else
		printf("bulkhead: %s will be isolated%s when Bulkhead comes up (it is down now)\n",
		       macs, until);
	if (dur)
		printf("bulkhead: the daemon ('bulkhead daemon') releases it then; while none runs, it stays isolated\n");
	return BH_EXIT_OK;
}

/*
 * With @ended_by: is @mac's quarantine a timed one that ended by then,
 * wherever it is kept (map and state dir)? Asked under the lock, so an
 * isolate that came after the daemon's look stays.
 */
static bool quar_ended(const struct bh_ctx *ctx, const struct bh_maps *m,
		       const __u8 mac[6], __u64 ended_by)
{
	struct bh_quar_entry *q = NULL;
	struct bh_mac_key k = {};
	struct bh_quar_val v;
	bool seen = false, ended = true;
	size_t n = 0;

	memcpy(k.mac, mac, 6);
	if (m && !bpf_map_lookup_elem(m->quarantine, &k, &v)) {
		seen = true;
		ended = v.until && v.until <= ended_by;
	}
	if (!bh_quar_load(ctx->state_dir, &q, &n))
		for (size_t i = 0; i < n; i++)
			if (!memcmp(q[i].mac, mac, 6)) {
				seen = true;
				ended = ended && q[i].until && q[i].until <= ended_by;
			}
	free(q);
	return seen && ended;
}

int bh_release(const struct bh_ctx *ctx, const __u8 mac[6], __u64 ended_by)
{
	char macs[18];
	struct bh_maps m;
	int lock, ret, in_map = 0;
	bool up;

	bh_format_mac(mac, macs);
	lock = lock_state(ctx);
	if (lock < 0)
		return -EIO;
	ret = maps_open("release", ctx, &m);
	if (ret < 0) {
		close(lock);
		return -EIO;
	}
	up = ret;
	if (ended_by && !quar_ended(ctx, up ? &m : NULL, mac, ended_by)) {
		ret = -ENOENT;
		goto out;
	}
	if (up) {
		ret = bh_dp_release(&m, mac);
		if (!ret || ret == -ENOENT) {
			int nret = nft_sync_applied(ctx, &m);

			if (nret) {
				pr_err("release: cannot update the nftables quarantine table: %s",
				       strerror(-nret));
				ret = nret;
				goto out;
			}
		}
		if (ret && ret != -ENOENT) {
			pr_err("release: cannot update the quarantine map: %s", strerror(-ret));
			goto out;
		}
		in_map = !ret;
	}
	ret = quar_update(ctx, mac, NULL);
	if (ret == -ENOENT && !in_map) {
		if (!ended_by)
			pr_err("release: %s is not isolated", macs);
		goto out;
	}
	if (ret && ret != -ENOENT) {
		pr_err("release: cannot update %s: %s", ctx->state_dir, strerror(-ret));
		goto out;
	}
	ret = 0;
out:
	if (up)
		bh_maps_close(&m);
	close(lock);
	return ret;
}

static int cmd_release(const struct bh_ctx *ctx, int argc, char **argv)
{
	__u8 mac[6];
	char macs[18];
	int ret;

	ret = simple_args("release", argc, argv, 1);
	if (ret)
		return ret == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	ret = device_arg(ctx, "release", argv[optind], mac);
	if (ret)
		return ret;
	bh_format_mac(mac, macs);
	ret = bh_release(ctx, mac, 0);
	if (ret)
		return ret == -ENOENT ? BH_EXIT_INPUT : BH_EXIT_SYSTEM;
	printf("bulkhead: %s released\n", macs);
	return BH_EXIT_OK;
}

/* ---- status / devices ----------------------------------------------------- */

static int json_flag(const char *name, int argc, char **argv, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int opt;

	*json = false;
	while ((opt = cmd_opt(name, argc, argv, "jh", opts)) >= 0) {
		switch (opt) {
		case 'j':
			*json = true;
			bh_json_err_want();
			break;
		}
	}
	if (opt != -1)
		return opt == OPT_HELP ? -1 : -2;
	if (optind != argc) {
		bh_cmd_usage(find_cmd(name), true);
		return -2;
	}
	return 0;
}

/* The applied policy file, re-read from the state dir copy (NULL if none). */
static struct bh_policy *applied_file(const struct bh_ctx *ctx)
{
	struct bh_policy *p = NULL;
	struct bh_diag d = {};
	struct bh_kv *kv = NULL;
	const char *name;
	size_t len, nkv = 0;
	char *buf;
	int ret;

	if (bh_state_read(ctx->state_dir, STATE_POLICY, &buf, &len))
		return NULL;
	bh_kv_load(ctx->state_dir, STATE_UP, &kv, &nkv);
	name = bh_kv_get(kv, nkv, "policy");
	ret = bh_policy_load_buf(name ? name : "applied policy", buf, len, &p, &d);
	free(kv);
	if (ret)
		p = NULL;
	free(buf);
	return p;
}

/* Bind the leases saved with the applied policy into @p: what is in force. */
static int bind_saved_leases(const struct bh_ctx *ctx, struct bh_policy *p)
{
	struct bh_leases l;
	int ret;

	ret = bh_leases_saved(ctx->state_dir, &l);
	if (!ret)
		ret = bh_leases_bind(p, &l, NULL);
	bh_leases_free(&l);
	return ret < 0 ? ret : 0;
}

/* The applied policy with the DHCP leases bound with it (NULL if none). */
static struct bh_policy *applied_policy(const struct bh_ctx *ctx)
{
	struct bh_policy *p = applied_file(ctx);

	if (p && bind_saved_leases(ctx, p)) {
		bh_policy_free(p);
		p = NULL;
	}
	return p;
}

int bh_ports_in_force(const struct bh_ctx *ctx, struct bh_attached **out, size_t *n)
{
	struct bh_topology topo = {};
	struct bh_policy *ap;
	char err[256];
	int ret;

	*out = NULL;
	*n = 0;
	if (applied_mode(ctx, BH_MODE_AUTO) != BH_MODE_NFT)
		return bh_dp_links(ctx->pin_dir, out, n);
	/* nftables: the ports of the applied policy's interfaces */
	ap = applied_policy(ctx);
	if (!ap)
		return -ENOENT;
	ret = bh_nl_topology(ap->ifaces, ap->n_ifaces, &topo, err, sizeof(err));
	if (!ret && topo.n_ports) {
		*out = calloc(topo.n_ports, sizeof(**out));
		if (!*out)
			ret = -ENOMEM;
		for (size_t i = 0; *out && i < topo.n_ports; i++) {
			(*out)[i].ifindex = topo.ports[i].ifindex;
			snprintf((*out)[i].name, sizeof((*out)[i].name), "%s", topo.ports[i].name);
			(*out)[i].mode = BH_MODE_NFT;
		}
		*n = *out ? topo.n_ports : 0;
	}
	bh_topology_free(&topo);
	bh_policy_free(ap);
	return ret;
}

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

/* The quarantined devices and the time each has left, for status. */
static void print_quarantine(const struct bh_maps *m, bool json)
{
	struct bh_mac_key cur, next;
	struct bh_quar_val v;
	void *prev = NULL;
	char mac[18], left[32];
	int n = 0;

	printf(json ? ",\"quarantine\":[" : "  quarantine: ");
	while (!bpf_map_get_next_key(m->quarantine, prev, &next)) {
		if (!bpf_map_lookup_elem(m->quarantine, &next, &v)) {
			bh_format_mac(next.mac, mac);
			bh_duration_format(quar_left(v.until), left, sizeof(left));
			if (json)
				printf("%s{\"mac\":\"%s\",\"since\":%llu,\"until\":%llu,\"remaining\":%llu}",
				       n ? "," : "", mac, (unsigned long long)v.since,
				       (unsigned long long)v.until,
				       (unsigned long long)quar_left(v.until));
			else
				printf(" %s (%s%s)", mac, !v.until ? "until released" :
				       quar_left(v.until) ? left : "ended, the daemon releases it",
				       v.until && quar_left(v.until) ? " left" : "");
			n++;
		}
		cur = next;
		prev = &cur;
	}
	printf(json ? "]" : "%s\n", n ? "" : " none");
}

static int cmd_status(const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_attached *att = NULL;
	struct bh_policy *p = NULL;
	struct bh_compiled c = {};
	struct bh_active act = {};
	struct bh_kv *kv = NULL;
	struct bh_maps m;
	size_t natt = 0, nkv = 0, nq;
	const char *policy, *mode;
	struct bh_counter reasons[BH_R_MAX], *rules = NULL;
	__u32 zero = 0;
	bool json;
	int ret;

	ret = json_flag("status", argc, argv, &json);
	if (ret)
		return ret == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	ret = state_dir_ok("status", ctx);
	if (ret)
		return ret;
	ret = maps_open("status", ctx, &m);
	if (ret < 0)
		return -ret;
	if (!ret) {
		struct bh_quar_entry *q = NULL;
		size_t nq = 0;
		char mac[18];

		/* what up will restore */
		bh_quar_load(ctx->state_dir, &q, &nq);
		if (json) {
			printf("{\"up\":false");
			if (nq) {
				printf(",\"quarantine_saved\":[");
				for (size_t i = 0; i < nq; i++) {
					bh_format_mac(q[i].mac, mac);
					printf("%s{\"mac\":\"%s\",\"since\":%llu,\"until\":%llu,\"reason\":",
					       i ? "," : "", mac, (unsigned long long)q[i].since,
					       (unsigned long long)q[i].until);
					bh_json_str(stdout, q[i].reason);
					printf("}");
				}
				printf("]");
			}
			printf("}\n");
		} else {
			printf("bulkhead: down (nothing pinned in %s)\n", ctx->pin_dir);
			for (size_t i = 0; i < nq; i++) {
				bh_format_mac(q[i].mac, mac);
				printf("  saved quarantine: %s%s%s (up restores it)\n", mac,
				       q[i].reason[0] ? ": " : "", q[i].reason);
			}
		}
		free(q);
		return BH_EXIT_OK;
	}
	bpf_map_lookup_elem(m.active, &zero, &act);
	bh_ports_in_force(ctx, &att, &natt);
	bh_kv_load(ctx->state_dir, STATE_UP, &kv, &nkv);
	policy = bh_kv_get(kv, nkv, "policy");
	mode = bh_kv_get(kv, nkv, "mode");
	nq = count_keys(m.quarantine, sizeof(struct bh_mac_key));
	p = applied_policy(ctx);
	if (p) {
		struct bh_diag d = {};

		if (bh_compile(p, &c, &d))
			memset(&c, 0, sizeof(c));
	}

	rules = calloc(c.n_rules + 1, sizeof(*rules));
	if (!rules || bh_counts_verdicts(ctx, &m, act.gen, reasons, rules, c.n_rules))
		memset(reasons, 0, sizeof(reasons));
	if (json) {
		printf("{\"up\":true,\"mode\":");
		bh_json_str(stdout, mode ? mode : "unknown");
		printf(",\"interfaces\":[");
		for (size_t i = 0; i < natt; i++) {
			printf("%s{\"name\":", i ? "," : "");
			bh_json_str(stdout, att[i].name);
			printf(",\"ifindex\":%d,\"mode\":\"%s\"}", att[i].ifindex,
			       bh_mode_name(att[i].mode));
		}
		printf("],\"kernel\":{\"release\":");
		bh_json_str(stdout, bh_kv_get(kv, nkv, "kernel") ?: "");
		printf(",\"tc_hooks\":");
		bh_json_str(stdout, bh_kv_get(kv, nkv, "tc_hooks") ?: "");
		printf(",\"br_netfilter\":");
		bh_json_str(stdout, bh_kv_get(kv, nkv, "br_netfilter") ?: "");
		printf("},\"policy\":");
		bh_json_str(stdout, policy ? policy : "");
		printf(",\"generation\":%u,\"epoch\":%u", act.gen, act.epoch);
		printf(",\"groups\":%s,\"devices\":%s,\"rules\":%s,\"quarantined\":%zu",
		       bh_kv_get(kv, nkv, "groups") ?: "0",
		       bh_kv_get(kv, nkv, "devices") ?: "0",
		       bh_kv_get(kv, nkv, "rules") ?: "0", nq);
		print_quarantine(&m, true);
		printf(",\"counters\":{");
		for (int r = 0; r < BH_R_MAX; r++)
			printf("%s\"%s\":{\"packets\":%llu,\"bytes\":%llu}", r ? "," : "",
			       bh_reason_names[r], (unsigned long long)reasons[r].packets,
			       (unsigned long long)reasons[r].bytes);
		printf("},\"rules_hits\":[");
		for (size_t i = 0; rules && i < c.n_rules && i < BH_MAX_RULES; i++) {
			const struct bh_counter cnt = rules[i];

			printf("%s{\"id\":%zu,\"rule\":", i ? "," : "", i);
			bh_json_str(stdout, c.rules[i].label);
			printf(",\"key\":");
			bh_json_str(stdout, c.rules[i].key);
			printf(",\"packets\":%llu,\"bytes\":%llu}",
			       (unsigned long long)cnt.packets, (unsigned long long)cnt.bytes);
		}
		printf("]}\n");
	} else {
		printf("bulkhead: up, mode %s\n", mode ? mode : "unknown");
		printf("  policy:      %s (epoch %u, generation %u)\n",
		       policy ? policy : "?", act.epoch, act.gen);
		printf("  counts:      %s groups, %s devices, %s rules, %zu quarantined\n",
		       bh_kv_get(kv, nkv, "groups") ?: "?",
		       bh_kv_get(kv, nkv, "devices") ?: "?",
		       bh_kv_get(kv, nkv, "rules") ?: "?", nq);
		if (nq)
			print_quarantine(&m, false);
		printf("  kernel:      %s (tc hooks %s, br_netfilter %s, when it came up)\n",
		       bh_kv_get(kv, nkv, "kernel") ?: "?", bh_kv_get(kv, nkv, "tc_hooks") ?: "?",
		       bh_kv_get(kv, nkv, "br_netfilter") ?: "?");
		printf("  ports:      ");
		for (size_t i = 0; i < natt; i++)
			printf(" %s[%s]%s", att[i].name, bh_mode_name(att[i].mode),
			       att[i].ifindex ? "" : "(gone)");
		printf("\n  verdicts:\n");
		for (int r = 0; r < BH_R_MAX; r++)
			if (reasons[r].packets)
				printf("    %-16s %12llu packets %14llu bytes\n",
				       bh_reason_names[r], (unsigned long long)reasons[r].packets,
				       (unsigned long long)reasons[r].bytes);
		if (c.n_rules)
			printf("  rules:\n");
		for (size_t i = 0; rules && i < c.n_rules && i < BH_MAX_RULES; i++)
			printf("    %-48s %12llu packets\n", c.rules[i].label,
			       (unsigned long long)rules[i].packets);
	}
	free(rules);
	bh_compiled_free(&c);
	bh_policy_free(p);
	free(kv);
	free(att);
	bh_maps_close(&m);
	return BH_EXIT_OK;
}

struct dev_row {
	__u8 mac[6];
	const char *name;
	const char *host;	/* from a DHCP lease, NULL: none */
	const char *group;
	bool quarantined;
	bool saved;		/* quarantined in the state dir only: up restores it */
	__u64 since, until;	/* a quarantine's start, a timed one's end (0: none) */
	const char *reason;	/* given with isolate --reason, NULL: none */
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

static struct dev_row *row_for(struct dev_row **rows, size_t *n, const __u8 mac[6])
{
	struct dev_row *tmp;

	for (size_t i = 0; i < *n; i++)
		if (!memcmp((*rows)[i].mac, mac, 6))
			return &(*rows)[i];
	tmp = realloc(*rows, (*n + 1) * sizeof(**rows));
	if (!tmp)
		return NULL;
	*rows = tmp;
	memset(&tmp[*n], 0, sizeof(tmp[*n]));
	memcpy(tmp[*n].mac, mac, 6);
	return &tmp[(*n)++];
}

static int cmd_devices(const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_policy *p;
	struct bh_leases leases = {};
	struct bh_quar_entry *quar = NULL;
	size_t nquar = 0;
	struct dev_row *rows = NULL, *r;
	struct bh_mac_key cur, next;
	const char *unknown = "unknown";
	struct bh_maps m;
	size_t n = 0;
	void *prev;
	bool json, up;
	int ret;

	ret = json_flag("devices", argc, argv, &json);
	if (ret)
		return ret == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	ret = state_dir_ok("devices", ctx);
	if (ret)
		return ret;
	ret = maps_open("devices", ctx, &m);
	if (ret < 0)
		return -ret;
	up = ret;
	p = applied_policy(ctx);
	if (p) {
		unknown = p->groups[p->unknown_group].name;
		for (size_t g = 0; g < p->n_groups; g++)
			for (size_t i = 0; i < p->groups[g].n_members; i++) {
				r = row_for(&rows, &n, p->groups[g].members[i].mac);
				if (!r)
					goto oom;
				r->name = p->groups[g].members[i].name;
				r->group = p->groups[g].name;
				for (size_t a = 0; a < p->groups[g].members[i].n_ips; a++)
					row_addr(r, &p->groups[g].members[i].ips[a], "ip");
			}
	}
	if (up) {
		struct bh_dev_count *dc = NULL;
		size_t ndc = 0;

		/* devices seen on the wire (not in the policy: unknown group) */
		bh_counts_devices(ctx, &m, &dc, &ndc);
		for (size_t i = 0; i < ndc; i++) {
			r = row_for(&rows, &n, dc[i].mac);
			if (!r) {
				free(dc);
				goto oom;
			}
			r->st = dc[i].st;
		}
		free(dc);
		prev = NULL;
		while (!bpf_map_get_next_key(m.quarantine, prev, &next)) {
			struct bh_quar_val v;

			r = row_for(&rows, &n, next.mac);
			if (!r)
				goto oom;
			r->quarantined = true;
			if (!bpf_map_lookup_elem(m.quarantine, &next, &v)) {
				r->since = v.since;
				r->until = v.until;
			}
			cur = next;
			prev = &cur;
		}
	}
	/* the quarantine as saved: the reasons, and after down what up restores */
	bh_quar_load(ctx->state_dir, &quar, &nquar);
	for (size_t i = 0; i < nquar; i++) {
		r = row_for(&rows, &n, quar[i].mac);
		if (!r)
			goto oom;
		if (!up) {
			r->quarantined = r->saved = true;
			r->since = quar[i].since;
			r->until = quar[i].until;
		}
		r->reason = quar[i].reason[0] ? quar[i].reason : NULL;
	}
	bh_leases_saved(ctx->state_dir, &leases);
	for (size_t i = 0; i < n; i++) {
		rows[i].host = bh_leases_host(&leases, rows[i].mac);
		for (size_t l = 0; l < leases.n; l++)
			if (!memcmp(leases.v[l].mac, rows[i].mac, 6)) {
				struct bh_addr a = { .v4 = true };

				bh_v4mapped(a.a, leases.v[l].ip);
				row_addr(&rows[i], &a, "lease");
			}
	}
	/* addresses learned on the bridge (bh_claim) */
	if (up) {
		struct bh_addr_key ak, *aprev = NULL, acur;
		struct bh_claim_val cv;

		while (!bpf_map_get_next_key(m.claim, aprev, &ak)) {
			if (!bpf_map_lookup_elem(m.claim, &ak, &cv) && (r = row_for(&rows, &n, cv.mac))) {
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
	if (json)
		printf("[");
	else
		printf("%-17s  %-16s  %-16s  %-12s  %-11s  %10s  %12s  %8s  %s\n", "MAC", "NAME",
		       "HOST", "GROUP", "QUARANTINE", "PACKETS", "BYTES", "DROPS", "ADDRESSES");
	for (size_t i = 0; i < n; i++) {
		char mac[18], quar[32] = "-";

		bh_format_mac(rows[i].mac, mac);
		if (rows[i].quarantined && quar_left(rows[i].until)) {
			bh_duration_format(quar_left(rows[i].until), quar, sizeof(quar));
			strcat(quar, " left");
		} else if (rows[i].quarantined && rows[i].until) {
			strcpy(quar, "ended");
		} else if (rows[i].quarantined) {
			strcpy(quar, "isolated");
		}
		if (rows[i].saved)
			strcpy(quar, "at up");
		if (json) {
			printf("%s{\"mac\":\"%s\",\"name\":", i ? "," : "", mac);
			bh_json_str(stdout, rows[i].name ? rows[i].name : "");
			printf(",\"host\":");
			bh_json_str(stdout, rows[i].host ? rows[i].host : "");
			printf(",\"group\":");
			bh_json_str(stdout, rows[i].group ? rows[i].group : unknown);
			printf(",\"quarantined\":%s,\"saved_only\":%s,\"since\":%llu,\"until\":%llu,\"remaining\":%llu,\"reason\":",
			       rows[i].quarantined ? "true" : "false",
			       rows[i].saved ? "true" : "false",
			       (unsigned long long)rows[i].since,
			       (unsigned long long)rows[i].until,
			       (unsigned long long)quar_left(rows[i].until));
			bh_json_str(stdout, rows[i].reason ? rows[i].reason : "");
			printf(",\"addresses\":");
			bh_json_str(stdout, rows[i].addrs);
			printf(",\"packets\":%llu,\"bytes\":%llu,\"drops\":%llu}",
			       (unsigned long long)rows[i].st.packets,
			       (unsigned long long)rows[i].st.bytes,
			       (unsigned long long)rows[i].st.drops);
		} else {
			printf("%-17s  %-16s  %-16s  %-12s  %-11s  %10llu  %12llu  %8llu  %s\n", mac,
			       rows[i].name ? rows[i].name : "-",
			       rows[i].host ? rows[i].host : "-",
			       rows[i].group ? rows[i].group : unknown, quar,
			       (unsigned long long)rows[i].st.packets,
			       (unsigned long long)rows[i].st.bytes,
			       (unsigned long long)rows[i].st.drops,
			       rows[i].addrs[0] ? rows[i].addrs : "-");
		}
	}
	if (json) {
		printf("]\n");
	} else {
		/* why and since when: the reasons given with isolate --reason */
		for (size_t i = 0; i < n; i++) {
			char mac[18], when[32];
			time_t t = (time_t)rows[i].since;
			struct tm tm;

			if (!rows[i].quarantined)
				continue;
			bh_format_mac(rows[i].mac, mac);
			strcpy(when, "?");
			if (t && localtime_r(&t, &tm))
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			printf("quarantine: %s%s%s since %s%s%s%s\n", mac, rows[i].name ? " " : "",
			       rows[i].name ? rows[i].name : "", when,
			       rows[i].reason ? ": " : "", rows[i].reason ? rows[i].reason : "",
			       rows[i].saved ? " (Bulkhead is down: up restores it)" : "");
		}
	}
	ret = BH_EXIT_OK;
	goto out;
oom:
	pr_err("devices: out of memory");
	ret = BH_EXIT_SYSTEM;
out:
	free(rows);
	free(quar);
	bh_leases_free(&leases);
	bh_policy_free(p);
	if (up)
		bh_maps_close(&m);
	return ret;
}

/* ---- explain --------------------------------------------------------------- */

/* An endpoint given on the command line: a device (MAC or name), the
 * gateway, or an address. */
struct endpoint {
	__u8 mac[6];
	struct bh_addr addr;
	bool has_addr;
	const char *label;
	int group;		/* -1: not a listed device */
	bool on_lan;		/* a LAN address no device is bound to */
	char buf[256];
};

static const struct bh_member *find_member(const struct bh_policy *p, const char *s,
					   int *group)
{
	__u8 mac[6];
	bool by_mac = !bh_parse_mac(s, mac);

	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			const struct bh_member *m = &p->groups[g].members[i];

			if ((by_mac && !memcmp(m->mac, mac, 6)) ||
			    (!by_mac && m->name && !strcmp(m->name, s))) {
				*group = (int)g;
				return m;
			}
		}
	return NULL;
}

static const struct bh_addr *member_addr(const struct bh_member *m, bool v4)
{
	for (size_t i = 0; i < m->n_ips; i++)
		if (m->ips[i].v4 == v4)
			return &m->ips[i];
	return NULL;
}

/* @a is one of the gateway's own addresses */
static bool gw_addr(const struct bh_topology *t, const struct bh_addr *a)
{
	for (size_t i = 0; i < t->n_addrs; i++)
		if (!memcmp(t->addrs[i].addr.a, a->a, 16))
			return true;
	return false;
}

/* @a is on the bridge's own LAN: in a prefix of the gateway's, or link-local */
static bool on_lan(const struct bh_topology *t, const struct bh_addr *a)
{
	static const __u8 v4m[12] = { [10] = 0xff, [11] = 0xff };

	if (!a->v4 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80)
		return true;
	for (size_t i = 0; i < t->n_addrs; i++) {
		const struct bh_gw_addr *g = &t->addrs[i];
		unsigned int bits = g->addr.v4 ? 96u + g->plen : g->plen, full = bits / 8;

		if (g->addr.v4 != a->v4 || bits > 128 || (!a->v4 && g->addr.a[0] == 0xfe))
			continue;
		if (a->v4 && memcmp(a->a, v4m, 12))
			continue;
		if (memcmp(g->addr.a, a->a, full))
			continue;
		if (bits % 8 && ((g->addr.a[full] ^ a->a[full]) & (0xff00 >> (bits % 8)) & 0xff))
			continue;
		return true;
	}
	return false;
}

/*
 * A LAN address no device of the policy is bound to: the dataplane judges a
 * frame to it by the MAC it is sent to on the bridge. The MAC that claimed
 * it (bh_claim, when Bulkhead is up), else a stand-in of the unknown group.
 */
static void lan_endpoint(const struct bh_policy *p, int claim_fd, bool nft, struct endpoint *e)
{
	static const __u8 standin[6] = { 0x02, 0xb1, 0xb1, 0xb1, 0xb1, 0xb1 };
	struct bh_addr_key k;
	struct bh_claim_val cv;
	char ip[64], mac[18];

	e->on_lan = true;
	bh_format_addr(&e->addr, ip, sizeof(ip));
	memcpy(k.addr, e->addr.a, 16);
	/* --mode nft learns in its own sets */
	if ((claim_fd >= 0 && !bpf_map_lookup_elem(claim_fd, &k, &cv)) ||
	    (nft && !bh_nft_claim_of(&e->addr, cv.mac))) {
		const struct bh_member *m = NULL;

		bh_format_mac(cv.mac, mac);
		m = find_member(p, mac, &e->group);
		memcpy(e->mac, cv.mac, 6);
		if (m)
			snprintf(e->buf, sizeof(e->buf), "%s (%s%s%s, %s: its address as learned on the bridge)",
				 ip, m->name ? m->name : "", m->name ? " " : "", mac,
				 p->groups[e->group].name);
		else
			snprintf(e->buf, sizeof(e->buf), "%s (%s, not in the policy: group %s; learned on the bridge)",
				 ip, mac, p->groups[p->unknown_group].name);
	} else {
		memcpy(e->mac, standin, 6);
		snprintf(e->buf, sizeof(e->buf),
			 "%s (on the bridge, bound to no device: judged by the MAC it goes to; here a device of group %s)",
			 ip, p->groups[p->unknown_group].name);
	}
	e->label = e->buf;
}

static int endpoint(const struct bh_policy *p, const struct bh_topology *t,
		    const char *s, bool v4, int claim_fd, bool nft, struct endpoint *e)
{
	const struct bh_member *m;
	char ip[64];

	memset(e, 0, sizeof(*e));
	e->group = -1;
	m = find_member(p, s, &e->group);
	if (!m && !bh_parse_addr(s, &e->addr)) {
		int g;

		e->has_addr = true;
		/* an address of a listed device: that device, on the LAN */
		for (size_t i = 0; i < p->n_groups && !m; i++)
			for (size_t j = 0; j < p->groups[i].n_members && !m; j++)
				for (size_t k = 0; k < p->groups[i].members[j].n_ips; k++)
					if (!memcmp(p->groups[i].members[j].ips[k].a, e->addr.a, 16)) {
						m = &p->groups[i].members[j];
						g = (int)i;
						e->group = g;
					}
		if (!m && on_lan(t, &e->addr) && !gw_addr(t, &e->addr)) {
			lan_endpoint(p, claim_fd, nft, e);
			return 0;
		}
		if (!m) {
			/* elsewhere: reached through the gateway */
			if (t->n_macs)
				memcpy(e->mac, t->macs[0], 6);
			bh_format_addr(&e->addr, ip, sizeof(ip));
			snprintf(e->buf, sizeof(e->buf), "%s (via the gateway)", ip);
			e->label = e->buf;
			return 0;
		}
		memcpy(e->mac, m->mac, 6);
		snprintf(e->buf, sizeof(e->buf), "%s (%s)", s, p->groups[e->group].name);
		e->label = e->buf;
		return 0;
	}
	if (m) {
		const struct bh_addr *a = member_addr(m, v4);
		char mac[18];

		memcpy(e->mac, m->mac, 6);
		if (a) {
			e->addr = *a;
			e->has_addr = true;
		}
		bh_format_mac(m->mac, mac);
		snprintf(e->buf, sizeof(e->buf), "%s%s%s (%s)", m->name ? m->name : mac,
			 m->name ? " " : "", m->name ? mac : "", p->groups[e->group].name);
		e->label = e->buf;
		return 0;
	}
	if (!strcmp(s, "gateway")) {
		if (!t->n_macs)
			return -ENODEV;
		memcpy(e->mac, t->macs[0], 6);
		for (size_t i = 0; i < t->n_addrs; i++)
			if (t->addrs[i].addr.v4 == v4) {
				e->addr = t->addrs[i].addr;
				e->has_addr = true;
				break;
			}
		e->label = "the gateway";
		return 0;
	}
	if (!bh_parse_mac(s, e->mac) && !(e->mac[0] & 1)) {
		snprintf(e->buf, sizeof(e->buf), "%s (not listed: group %s)", s,
			 p->groups[p->unknown_group].name);
		e->group = p->unknown_group;
		e->label = e->buf;
		return 0;
	}
	return -EINVAL;
}

static void explain_json(const char *src, const char *dst, const char *proto,
			 const struct bh_eval_result *r, const char *rule, bool gw_known)
{
	printf("{\"src\":");
	bh_json_str(stdout, src);
	printf(",\"dst\":");
	bh_json_str(stdout, dst);
	printf(",\"proto\":");
	bh_json_str(stdout, proto);
	printf(",\"verdict\":\"%s\",\"rule\":", r->pass ? "pass" : "drop");
	if (rule)
		bh_json_str(stdout, rule);
	else
		printf("null");
	printf(",\"why\":");
	bh_json_str(stdout, r->why ? r->why : "");
	printf(",\"reason\":\"%s\",\"gateway_known\":%s}\n", bh_reason_names[r->reason],
	       gw_known ? "true" : "false");
}

static int cmd_explain(const struct bh_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *path = NULL, *proto_s, *slash;
	bool json = false, gw_known = true;
	struct bh_topology topo = {};
	struct bh_policy *p = NULL;
	struct bh_eval_result r;
	struct endpoint src, dst;
	struct bh_env env = {};
	struct bh_compiled c = {};
	struct bh_diag d = {};
	__u8 (*quar)[6] = NULL;
	struct frame_buf { __u8 b[128]; size_t len; } f = {};
	unsigned long port = 0;
	__u8 proto;
	bool v4;
	char err[1024];
	int opt, ret, rc = BH_EXIT_INPUT;

	while ((opt = cmd_opt("explain", argc, argv, "c:jh", opts)) >= 0) {
		if (opt == 'c') {
			path = optarg;
		} else if (opt == 'j') {
			json = true;
			bh_json_err_want();
		}
	}
	if (opt != -1)
		return opt == OPT_HELP ? BH_EXIT_OK : BH_EXIT_INPUT;
	if (argc - optind != 3) {
		bh_cmd_usage(find_cmd("explain"), true);
		return BH_EXIT_INPUT;
	}
	proto_s = argv[optind + 2];
	slash = strchr(proto_s, '/');
	if (!strncmp(proto_s, "tcp", 3) && (!proto_s[3] || slash == proto_s + 3))
		proto = IPPROTO_TCP;
	else if (!strncmp(proto_s, "udp", 3) && (!proto_s[3] || slash == proto_s + 3))
		proto = IPPROTO_UDP;
	else if (!strcmp(proto_s, "icmp"))
		proto = IPPROTO_ICMP;
	else if (!strcmp(proto_s, "icmpv6"))
		proto = IPPROTO_ICMPV6;
	else {
		pr_err("explain: '%s' is not tcp/PORT, udp/PORT, icmp or icmpv6", proto_s);
		return BH_EXIT_INPUT;
	}
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		char *end;

		port = slash ? strtoul(slash + 1, &end, 10) : 0;
		if (!slash || *end || port < 1 || port > 65535) {
			pr_err("explain: '%s' needs a port 1 to 65535 (e.g. tcp/443)", proto_s);
			return BH_EXIT_INPUT;
		}
	}

	rc = state_dir_ok("explain", ctx);
	if (rc)
		return rc;
	rc = BH_EXIT_INPUT;
	if (path) {
		if (bh_policy_load(path, &p, &d)) {
			diag_print(&d);
			return BH_EXIT_INPUT;
		}
		ret = bind_saved_leases(ctx, p);
		if (ret) {
			char lp[PATH_MAX];

			snprintf(lp, sizeof(lp), "%s/%s", ctx->state_dir, BH_LEASES_FILE);
			bh_guard_path_err(lp, ret, err, sizeof(err));
			pr_err("explain: %s", err);
			rc = BH_EXIT_SYSTEM;
			goto out;
		}
	} else if (!(p = applied_policy(ctx))) {
		pr_err("explain: no applied policy in %s; give one with -c POLICY", ctx->state_dir);
		return BH_EXIT_INPUT;
	}
	if (bh_compile(p, &c, &d)) {
		diag_print(&d);
		goto out;
	}
	/* the gateway as this machine has it; without it, a stand-in */
	if (bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err)) || !topo.n_macs) {
		static __u8 standin[1][6] = { { 0x02, 0, 0, 0, 0, 0x01 } };
		static struct bh_gw_addr standin_addrs[2];

		bh_topology_free(&topo);
		bh_parse_addr("198.18.0.254", &standin_addrs[0].addr);
		standin_addrs[0].plen = 32;
		bh_parse_addr("2001:2::fe", &standin_addrs[1].addr);
		standin_addrs[1].plen = 128;
		topo.macs = standin;
		topo.n_macs = 1;
		topo.addrs = standin_addrs;
		topo.n_addrs = 2;
		gw_known = false;
		if (!json)
			printf("(the policy's interfaces are not on this machine: the gateway's addresses are unknown)\n");
	}
	v4 = !(proto == IPPROTO_ICMPV6);
	{
		struct bh_addr a;

		if (!bh_parse_addr(argv[optind + 1], &a))
			v4 = a.v4;
	}
	/* the quarantine in force, and the addresses learned on the bridge */
	{
		struct bh_maps m;
		struct bh_mac_key cur, next;
		void *prev = NULL;
		size_t n = 0;
		int claim_fd;
		bool nft_up;

		ret = maps_open("explain", ctx, &m);
		if (ret < 0) {
			rc = -ret;
			goto out;
		}
		claim_fd = ret ? m.claim : -1;
		nft_up = ret && bh_nft_in_force(ctx);
		if (endpoint(p, &topo, argv[optind], v4, claim_fd, nft_up, &src) || src.group < 0) {
			pr_err("explain: source '%s' is not a device of the policy or a MAC",
			       argv[optind]);
			if (ret)
				bh_maps_close(&m);
			goto out;
		}
		if (endpoint(p, &topo, argv[optind + 1], v4, claim_fd, nft_up, &dst)) {
			pr_err("explain: destination '%s' is not a device, MAC, address or 'gateway'",
			       argv[optind + 1]);
			if (ret)
				bh_maps_close(&m);
			goto out;
		}
		if (ret) {
			while (!bpf_map_get_next_key(m.quarantine, prev, &next)) {
				__u8 (*tmp)[6] = realloc(quar, (n + 1) * sizeof(*quar));

				if (!tmp)
					break;
				quar = tmp;
				memcpy(quar[n++], next.mac, 6);
				cur = next;
				prev = &cur;
			}
			bh_maps_close(&m);
		}
		env.quarantined = (const __u8 (*)[6])quar;
		env.n_quarantined = n;
	}
	env.gw_macs = (const __u8 (*)[6])topo.macs;
	env.n_gw_macs = topo.n_macs;
	env.gw_addrs = topo.addrs;
	env.n_gw_addrs = topo.n_addrs;

	/* the first packet of the flow, as the source would send it */
	{
		__u8 *b = f.b;
		size_t l4, off;
		struct bh_addr sa = src.addr, da = dst.addr;

		if (!src.has_addr)
			bh_parse_addr(v4 ? "198.18.0.1" : "2001:2::1", &sa);
		if (!dst.has_addr)
			bh_parse_addr(v4 ? "198.18.0.2" : "2001:2::2", &da);
		memcpy(b, dst.mac, 6);
		memcpy(b + 6, src.mac, 6);
		if (v4) {
			b[12] = 0x08; b[13] = 0x00;
			b[14] = 0x45;
			b[22] = 64;
			b[23] = proto;
			memcpy(b + 26, sa.a + 12, 4);
			memcpy(b + 30, da.a + 12, 4);
			l4 = 34;
		} else {
			b[12] = 0x86; b[13] = 0xdd;
			b[14] = 0x60;
			b[20] = proto;
			b[21] = 64;
			memcpy(b + 22, sa.a, 16);
			memcpy(b + 38, da.a, 16);
			l4 = 54;
		}
		if (proto == IPPROTO_TCP) {
			b[l4] = 0x9c; b[l4 + 1] = 0x40;		/* 40000 */
			b[l4 + 2] = (__u8)(port >> 8); b[l4 + 3] = (__u8)port;
			b[l4 + 12] = 0x50;
			b[l4 + 13] = 0x02;			/* SYN */
			off = l4 + 20;
		} else if (proto == IPPROTO_UDP) {
			b[l4] = 0x9c; b[l4 + 1] = 0x40;
			b[l4 + 2] = (__u8)(port >> 8); b[l4 + 3] = (__u8)port;
			b[l4 + 5] = 8;
			off = l4 + 8;
		} else {
			b[l4] = proto == IPPROTO_ICMP ? 8 : 128;	/* echo-request */
			off = l4 + 8;
		}
		if (v4) {
			b[16] = (__u8)((off - 14) >> 8);
			b[17] = (__u8)(off - 14);
		} else {
			b[18] = (__u8)((off - 54) >> 8);
			b[19] = (__u8)(off - 54);
		}
		f.len = off < 60 ? 60 : off;
	}
	bh_eval_frame(p, &env, NULL, f.b, f.len, &r);
	if (json) {
		explain_json(src.label, dst.label, proto_s, &r,
			     r.rule >= 0 && (size_t)r.rule < c.n_rules ? c.rules[r.rule].label : NULL,
			     gw_known);
		rc = BH_EXIT_OK;
		goto out;
	}
	printf("%s -> %s %s: %s\n", src.label, dst.label, proto_s, r.pass ? "PASS" : "DROP");
	if (r.rule >= 0 && (size_t)r.rule < c.n_rules)
		printf("  decided by %s\n", c.rules[r.rule].label);
	else
		printf("  %s\n", r.why);
	printf("  counted as %s\n", bh_reason_names[r.reason]);
	if (dst.on_lan)
		printf("  judged by MAC on the bridge: no ip: or lease binds this address, so the frame is judged by the MAC it is sent to (the device that answers ARP/ND for it, as %s)\n",
		       dst.group >= 0 ? "learned" : "the unknown group until one is learned");
	rc = BH_EXIT_OK;
out:
	free(quar);
	if (topo.ports)
		bh_topology_free(&topo);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return rc;
}

/* ---- diff ------------------------------------------------------------------- */

/* `diff POLICY [--json]`: the changes from the applied policy to @path */
static int cmd_diff(const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_policy *p = NULL, *ap = NULL;
	struct bh_diff d = {};
	struct bh_compiled c;
	struct bh_kv *kv = NULL;
	const char *path;
	size_t nkv = 0;
	bool json;
	int ret, rc;

	rc = policy_json_arg("diff", argc, argv, &path, &json);
	if (rc)
		return rc == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	rc = load_compile(ctx, path, &p, &c, NULL);
	if (rc)
		return rc;
	bh_compiled_free(&c);
	/* the state dir's copy is what it compares with; the pin dir is only
	 * asked whether it exists (cli_diff.sh runs it on a dir off bpffs) */
	rc = state_dir_ok("diff", ctx);
	if (rc)
		goto out;
	rc = BH_EXIT_INPUT;
	if (access(ctx->pin_dir, F_OK) ||
	    bh_kv_load(ctx->state_dir, STATE_UP, &kv, &nkv)) {
		pr_err("diff: Bulkhead is not up (nothing pinned in %s or no applied policy in %s): no running policy to compare with; 'bulkhead check %s' validates the file",
		       ctx->pin_dir, ctx->state_dir, path);
		goto out;
	}
	ap = applied_file(ctx);	/* file against file: leases are no edit */
	if (!ap) {
		pr_err("diff: the copy of the applied policy, %s/%s, is missing or does not load",
		       ctx->state_dir, STATE_POLICY);
		rc = BH_EXIT_SYSTEM;
		goto out;
	}
	ret = bh_policy_diff(ap, p, &d);
	if (ret) {
		pr_err("diff: %s", strerror(-ret));
		rc = BH_EXIT_SYSTEM;
		goto out;
	}
	if (!json)
		printf("running:   %s (epoch %s)\ncandidate: %s\n",
		       bh_kv_get(kv, nkv, "policy") ?: "?",
		       bh_kv_get(kv, nkv, "epoch") ?: "?", path);
	bh_diff_print(stdout, &d, json);
	rc = BH_EXIT_OK;
out:
	bh_diff_free(&d);
	bh_policy_free(ap);
	bh_policy_free(p);
	free(kv);
	return rc;
}

/* ---- daemon ----------------------------------------------------------------- */

int bh_sync_ports(const struct bh_ctx *ctx)
{
	struct bh_topology topo = {};
	struct bh_attached *att = NULL;
	struct bh_policy *p = NULL;
	struct bh_dp *dp = NULL;
	struct bh_maps m, loaded;
	char err[512] = "";
	int lock, ret, rc = BH_EXIT_SYSTEM;

	lock = lock_state(ctx);
	if (lock < 0)
		return BH_EXIT_SYSTEM;
	if (bh_maps_open(ctx->pin_dir, &m)) {
		rc = BH_EXIT_OK;	/* down: nothing to protect, nothing to pin */
		goto out_lock;
	}
	p = applied_policy(ctx);
	if (!p) {
		pr_err("no applied policy in %s: ports not synced", ctx->state_dir);
		goto out_maps;
	}
	ret = bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		rc = ret == -ENODEV ? BH_EXIT_INPUT : BH_EXIT_SYSTEM;
		goto out_maps;
	}
	/* a new port's MAC is the gateway's too: in before the port is judged */
	ret = bh_dp_set_gateway(&m, &topo);
	if (ret) {
		pr_err("cannot write the gateway's addresses: %s", strerror(-ret));
		goto out_maps;
	}
	if (applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT) {
		/* nftables: the ports set and the bridges' nf_call options, when
		 * the ports changed (setting nf_call is a link event itself) */
		rc = BH_EXIT_OK;
		if (nft_ports_same(ctx, &topo))
			goto out_maps;
		ret = bridges_nf_call(&topo, true);
		if (!ret)
			ret = nft_sync_applied(ctx, &m);
		if (ret) {
			pr_err("cannot update the nftables tables: %s", strerror(-ret));
			rc = BH_EXIT_SYSTEM;
		} else {
			nft_ports_save(ctx, &topo);
		}
		goto out_maps;
	}
	if (same_ports(&topo, ctx->pin_dir)) {
		rc = BH_EXIT_OK;
		goto out_maps;
	}
	att = calloc(topo.n_ports ? topo.n_ports : 1, sizeof(*att));
	if (!att)
		goto out_maps;
	ret = bh_dp_load(ctx->pin_dir, &dp, &loaded, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		goto out_maps;
	}
	bh_maps_close(&loaded);
	ret = bh_dp_attach(dp, applied_mode(ctx, BH_MODE_AUTO), &topo, att, err, sizeof(err));
	if (ret)
		pr_err("%s", err);
	else
		rc = BH_EXIT_OK;
	bh_dp_close(dp);
out_maps:
	free(att);
	bh_topology_free(&topo);
	bh_policy_free(p);
	bh_maps_close(&m);
out_lock:
	close(lock);
	return rc;
}

static int cmd_daemon(const struct bh_ctx *ctx, int argc, char **argv)
{
	struct bh_ctx lc = *ctx;
	const char *path, *metrics = BH_METRICS_DEFAULT;
	struct sockaddr_storage ss;
	unsigned int sslen;
	enum bh_mode mode;
	bool mode_set;
	int ret;

	ret = up_args("daemon", argc, argv, &path, &mode, &mode_set, &metrics, &lc);
	if (ret)
		return ret == -1 ? BH_EXIT_OK : BH_EXIT_INPUT;
	if (strcmp(metrics, "off") && bh_metrics_parse_addr(metrics, &ss, &sslen)) {
		pr_err("daemon: --metrics must be ADDR:PORT, [ADDR6]:PORT or off, not '%s'",
		       metrics);
		return BH_EXIT_INPUT;
	}
	if (!mode_set)
		mode = applied_mode(ctx, BH_MODE_AUTO);
	return bh_daemon_run(&lc, path, mode, metrics);
}

/* ---- the table ------------------------------------------------------------ */

const struct bh_cmd bh_cmds[] = {
	{ "up", cmd_up, "[-c POLICY] [--mode auto|xdp|tc|nft] [--leases FILE|off]",
	  "load the BPF programs, attach them to the policy's ports, apply the policy",
	  "  -c, --config POLICY  policy file [default " BH_POLICY_DEFAULT "]\n"
	  "  -m, --mode MODE      auto (native XDP where the driver has it, else tc),\n"
	  "                       xdp (fail if a port lacks native XDP), tc, or nft\n"
	  "                       (no BPF program: the whole policy in nftables,\n"
	  "                       tables bridge and inet bulkhead, conntrack for\n"
	  "                       replies; sets the bridge's nf_call_iptables)\n"
	  "  -L, --leases FILE    dnsmasq's DHCP lease file, instead of the policy's\n"
	  "                       dhcp.leases; off: none (see DHCP leases below)\n"
	  "\n"
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
	  "in force stay until they end. The file is read once; the daemon follows it.\n" },
	{ "down", cmd_down, "",
	  "detach every program and remove the pins (the quarantine list is kept)",
	  "" },
	{ "check", cmd_check, "POLICY [--json]",
	  "validate and compile a policy, print a summary; changes nothing",
	  "  -j, --json           machine-readable output: {\"path\",\"ok\":true,\"interfaces\",\n"
	  "                       \"groups\",\"devices\",\"rules\",\"builtin_rules\",\n"
	  "                       \"map_entries\"}, or {\"path\",\"ok\":false,\"errors\":[...]}\n"
	  "\n"
	  "Errors are printed as FILE:LINE:COL: MESSAGE, exit status 1.\n" },
	{ "apply", cmd_apply, "POLICY [--leases FILE|off]",
	  "validate, compile and switch to a policy atomically",
	  "  -L, --leases FILE    dnsmasq's DHCP lease file, instead of the policy's\n"
	  "                       dhcp.leases; off: none (see 'bulkhead up --help')\n"
	  "\n"
	  "Packets are judged wholly by the old or wholly by the new policy. A policy\n"
	  "that does not validate changes nothing (exit status 1). The DHCP leases\n"
	  "are read once and bound as for 'up'.\n" },
	{ "isolate", cmd_isolate, "MAC|NAME [--reason TEXT] [--for DURATION]",
	  "quarantine a device now: cut its flows, keep it cut off across reboots",
	  "  -r, --reason TEXT    why, kept with the quarantine\n"
	  "  -f, --for DURATION   end it after DURATION: 30s, 30m, 2h, 1d, 1h30m\n"
	  "                       (the daemon releases it then; status and devices\n"
	  "                       show the time left)\n"
	  "\n"
	  "The device may still use the gateway services in the policy's\n"
	  "quarantine.allow (default dhcp, dns). A MAC not seen yet can be isolated.\n"
	  "NAME: a device's name in the applied policy, as explain takes it.\n"
	  "Works on the pinned maps directly; needs no daemon.\n" },
	{ "release", cmd_release, "MAC|NAME",
	  "end a device's quarantine", "NAME: a device's name in the applied policy.\n" },
	{ "explain", cmd_explain, "[-c POLICY] [--json] SRC DST PROTO[/PORT]",
	  "say whether a flow would pass, and which rule or default decides",
	  "  -c, --config POLICY  judge against this file [default: the applied policy]\n"
	  "  -j, --json           machine-readable output: {\"src\",\"dst\",\"proto\",\n"
	  "                       \"verdict\":\"pass\"|\"drop\",\"rule\" (null: a default\n"
	  "                       decided, see \"why\"),\"why\",\"reason\",\"gateway_known\"}\n"
	  "\n"
	  "SRC: a device of the policy (MAC or name) or any MAC. DST: a device, a MAC,\n"
	  "an address (a device's, or one reached through the gateway) or 'gateway'.\n"
	  "PROTO: tcp/PORT, udp/PORT, icmp or icmpv6. The first packet of the flow is\n"
	  "judged by the reference evaluator, with the quarantine in force.\n"
	  "Example: bulkhead explain fridge camera tcp/554\n" },
	{ "diff", cmd_diff, "POLICY [--json]",
	  "show what applying a policy would change against the running one",
	  "  -c, --config POLICY  the candidate policy (or give it as the argument)\n"
	  "  -j, --json           machine-readable output: {\"changes\":N,\"items\":[\n"
	  "                       {\"section\",\"op\",\"subject\",\"name\",\"old\",\"new\"}]}\n"
	  "\n"
	  "Compares POLICY with the applied policy (its copy in the state dir):\n"
	  "interfaces, defaults, groups (added, removed, internet default), members\n"
	  "by MAC (+ added, - removed, > moved to another group, ~ name or ip\n"
	  "changed), rules by content, not position (+ added, - removed, ~ a named\n"
	  "rule whose content changed, or a rule renamed) and quarantine.allow.\n"
	  "Changes nothing. Exit status 0 with or without changes; 1 when POLICY\n"
	  "does not validate (FILE:LINE:COL errors) or Bulkhead is not up.\n"
	  "Example: bulkhead diff /etc/bulkhead/policy.yaml.new\n" },
	{ "daemon", cmd_daemon,
	  "[-c|--policy POLICY] [--mode auto|xdp|tc|nft] [--metrics ADDR:PORT|off] [--leases FILE|off]",
	  "run in the foreground: apply policy edits, protect new ports, end timed quarantines",
	  "  -c, --policy POLICY  policy file to enforce and watch [default " BH_POLICY_DEFAULT "]\n"
	  "  -m, --mode MODE      as for 'up' [default: the mode in force, else auto]\n"
	  "      --metrics ADDR:PORT  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
	  "                       ([ADDR6]:PORT for IPv6) [default " BH_METRICS_DEFAULT "];\n"
	  "                       off: no endpoint\n"
	  "  -L, --leases FILE    dnsmasq's DHCP lease file, instead of the policy's\n"
	  "                       dhcp.leases; off: none (see 'bulkhead up --help')\n"
	  "\n"
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
	  "pinned, and starting the daemon again takes over.\n" },
	{ "status", cmd_status, "[--json]",
	  "show mode, ports, policy, counters per verdict reason and per rule",
	  "  -j, --json           machine-readable output\n" },
	{ "devices", cmd_devices, "[--json]",
	  "list devices: MAC, name, DHCP host name, group, quarantine, packets, drops",
	  "  -j, --json           machine-readable output\n"
	  "\n"
	  "HOST (\"host\" in JSON) is the host name of the device's DHCP lease in\n"
	  "force, made printable (bytes outside ASCII 0x21-0x7e shown as '?'); the\n"
	  "device chose it, so it is a label, not an identity.\n" },
	{ "events", bh_cmd_events, "[--follow] [--json]",
	  "show denied flows and quarantine changes, aggregated, with device names",
	  "  -f, --follow         keep running and print each aggregate as it changes\n"
	  "  -j, --json           machine-readable output (with --follow: one object a line)\n"
	  "\n"
	  "The daemon reads the dataplane's deny events (rate-limited in the kernel:\n"
	  "at most 10 a second per source MAC, bursts of 20; the drops in between\n"
	  "are counted, not lost; --mode nft: from NFLOG group 25192, which the\n"
	  "daemon binds) and keeps one line per (source device, destination,\n"
	  "protocol, port, reason): how many frames, first and last seen. Isolate,\n"
	  "release and the end of a timed quarantine are events too. The daemon\n"
	  "writes them to the state dir's 'events' file at most once a second;\n"
	  "this command reads that file (--follow re-reads it when it changes), so\n"
	  "it needs no daemon to show what was seen. A device the policy does not\n"
	  "name is shown by the host name of its DHCP lease, else by its MAC.\n"
	  "Example line:\n"
	  "  fridge -> camera tcp/554 drop_default x40, first ..., last ...\n" },
	{}
};
