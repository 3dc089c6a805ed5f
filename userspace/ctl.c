// SPDX-License-Identifier: GPL-2.0
/*
 * ctl.c - the controller's ground: diagnostics, the controller lock, what
 * a command may claim (pin dir, state dir, another instance), the state
 * dir's record of what is applied, loading a policy, and the nftables
 * tables' sync. See ctl.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/bpf.h>

#include "blocklist.h"
#include "ctl.h"
#include "ctl_int.h"
#include "detect.h"
#include "eval.h"
#include "guard.h"
#include "json.h"
#include "kernel.h"
#include "nft.h"
#include "nl.h"

/* ---- errors and diagnostics ------------------------------------------------ */

int ctl_err_system(int err)
{
	return err < 0 && !bh_err_input(err) ? err : -EIO;
}

int ctl_err_input(int err)
{
	return bh_err_input(err) ? err : -EINVAL;
}

void bh_err(const char *fmt, ...)
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

void bh_diag_report(const struct bh_diag *d)
{
	bh_diag_print(d);
	if (d->n)
		bh_json_err_note(d->msg[0]);
}

void ctl_print_warnings(const struct bh_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		bh_err("warning: %s", d->msg[i]);
}

/* ---- the lock --------------------------------------------------------------- */

/*
 * One controller at a time: every command that changes something holds an
 * exclusive lock on <state dir>/lock until it exits (the daemon: until the
 * step it runs returns), so two applies (an admin's and a daemon's) never
 * interleave their generation writes.
 */
int ctl_lock(const struct bh_ctx *ctx)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = bh_state_init(ctx->state_dir);
	if (ret) {
		bh_err("state dir %s: %s", ctx->state_dir, strerror(-ret));
		return ctl_err_system(ret);
	}
	snprintf(path, sizeof(path), "%s/lock", ctx->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		ret = -errno;
		bh_err("cannot lock %s: %s", path, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ctl_err_system(ret);
	}
	return fd;	/* held until closed or the process exits */
}

/* ---- what a command may claim ---------------------------------------------- */

/*
 * Before a command reads or writes the pin dir: it is on a bpffs and within
 * reach, else nothing seen (or not seen) there means anything.
 */
int ctl_pin_dir_ok(const char *cmd, const struct bh_ctx *ctx)
{
	char err[1024];
	int ret;

	ret = bh_guard_pin_dir(ctx->pin_dir, err, sizeof(err));
	if (!ret)
		return 0;
	bh_err("%s: %s", cmd, err);
	return ret == -EINVAL ? -EXDEV : ctl_err_system(ret);
}

int bh_ctl_state_dir_ok(const char *cmd, const struct bh_ctx *ctx)
{
	char err[1024];
	int ret;

	if (!access(ctx->state_dir, R_OK | X_OK) || errno == ENOENT)
		return 0;
	ret = -errno;
	bh_guard_path_err(ctx->state_dir, ret, err, sizeof(err));
	bh_err("%s: %s", cmd, err);
	return ctl_err_system(ret);
}

int ctl_foreign_check(const char *cmd, const struct bh_ctx *ctx, const struct bh_topology *t)
{
	struct bh_topology own = {};
	struct bh_policy *p = NULL;
	struct bh_foreign f;
	char msg[1024];
	int *idx = NULL, ret, rc = 0;

	if (!t) {
		p = bh_applied_file(ctx);
		if (p && !bh_nl_topology(p->ifaces, p->n_ifaces, &own, msg, sizeof(msg)))
			t = &own;
	}
	if (t) {
		idx = calloc(t->n_ports + 1, sizeof(*idx));
		if (!idx) {
			bh_err("%s: out of memory", cmd);
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < t->n_ports; i++)
			idx[i] = t->ports[i].ifindex;
	}
	ret = bh_guard_foreign(ctx->pin_dir, idx, t ? t->n_ports : 0, &f);
	if (ret > 0) {
		bh_guard_foreign_msg(&f, ctx->pin_dir, msg, sizeof(msg));
		bh_err("%s: %s", cmd, msg);
		rc = -EBUSY;
	} else if (ret < 0) {
		bh_err("%s: cannot look at the programs on the ports: %s", cmd, strerror(-ret));
		rc = ctl_err_system(ret);
	}
out:
	free(idx);
	bh_topology_free(&own);
	bh_policy_free(p);
	return rc;
}

int bh_ctl_maps_open(const char *cmd, const struct bh_ctx *ctx, struct bh_maps *m)
{
	char path[PATH_MAX], err[1024];
	int ret;

	ret = ctl_pin_dir_ok(cmd, ctx);
	if (ret)
		return ret;
	ret = bh_maps_open(ctx->pin_dir, m);
	if (!ret)
		return 1;
	if (ret != -ENOENT) {
		snprintf(path, sizeof(path), "%s/maps", ctx->pin_dir);
		bh_guard_path_err(path, ret, err, sizeof(err));
		bh_err("%s: %s", cmd, err);
		return ctl_err_system(ret);
	}
	return ctl_foreign_check(cmd, ctx, NULL);
}

/* ---- the state dir's record ------------------------------------------------- */

enum bh_mode bh_applied_mode(const struct bh_ctx *ctx, enum bh_mode mode)
{
	struct bh_kv *kv = NULL;
	size_t nkv = 0;
	const char *s;

	if (!bh_kv_load(ctx->state_dir, BH_STATE_UP, &kv, &nkv)) {
		s = bh_kv_get(kv, nkv, "mode");
		if (s)
			bh_mode_parse(s, &mode);
	}
	free(kv);
	return mode;
}

bool bh_nft_in_force(const struct bh_ctx *ctx)
{
	return bh_applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT;
}

struct bh_policy *bh_applied_file(const struct bh_ctx *ctx)
{
	struct bh_policy *p = NULL;
	struct bh_diag d = {};
	struct bh_kv *kv = NULL;
	const char *name;
	size_t len, nkv = 0;
	char *buf;
	int ret;

	if (bh_state_read(ctx->state_dir, BH_STATE_POLICY, &buf, &len))
		return NULL;
	bh_kv_load(ctx->state_dir, BH_STATE_UP, &kv, &nkv);
	name = bh_kv_get(kv, nkv, "policy");
	ret = bh_policy_load_buf(name ? name : "applied policy", buf, len, &p, &d);
	free(kv);
	if (ret)
		p = NULL;
	free(buf);
	return p;
}

int bh_bind_saved_leases(const struct bh_ctx *ctx, struct bh_policy *p)
{
	struct bh_leases l;
	int ret;

	ret = bh_leases_saved(ctx->state_dir, &l);
	if (!ret)
		ret = bh_leases_bind(p, &l, NULL);
	bh_leases_free(&l);
	return ret < 0 ? ret : 0;
}

struct bh_policy *bh_applied_policy(const struct bh_ctx *ctx)
{
	struct bh_policy *p = bh_applied_file(ctx);

	if (p && bh_bind_saved_leases(ctx, p)) {
		bh_policy_free(p);
		p = NULL;
	}
	return p;
}

/* The lease file the daemon follows, as the last up or apply recorded it */
void bh_leases_file(const struct bh_ctx *ctx, char *buf, size_t len)
{
	struct bh_kv *kv = NULL;
	size_t nkv = 0;
	const char *s = NULL;

	if (!bh_kv_load(ctx->state_dir, BH_STATE_UP, &kv, &nkv))
		s = bh_kv_get(kv, nkv, "leases");
	snprintf(buf, len, "%s", s ? s : "");
	free(kv);
}

/* ---- loading a policy --------------------------------------------------------- */

/* The lease file in force: --leases, else the policy's dhcp.leases; NULL: none */
static const char *leases_path(const struct bh_ctx *ctx, const struct bh_policy *p)
{
	const char *s = ctx->leases ? ctx->leases : p->dhcp_leases;

	return s && strcmp(s, "off") ? s : NULL;
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
	ctl_print_warnings(&d);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		bh_err("warning: DHCP leases %s: %s; the leases in force stay until they end",
		       path, strerror(-ret));
		bh_leases_saved(ctx->state_dir, l);
	}
	bh_leases_live(l, bh_leases_now());
	d.n = 0;
	ret = bh_leases_bind(p, l, &d);
	ctl_print_warnings(&d);
	return ret < 0 ? ret : 0;
}

/* @c lies inside the prefix of the gateway's address @g: eval's LAN test */
static bool cidr_inside(const struct bh_cidr *c, const struct bh_gw_addr *g)
{
	return c->addr.v4 == g->addr.v4 && c->plen >= g->plen && bh_lan_addr(g, 1, c->addr.a);
}

/*
 * A rule to a CIDR inside the bridge's own prefix never matches a LAN
 * device: frames between devices are judged by their groups (the address
 * is the one bound or learned for a MAC), so the rule only looks like it
 * allows or denies them. Warned with its place, when the policy's
 * interfaces are on this machine (their addresses give the prefixes).
 */
static void lan_cidr_warnings(const struct bh_policy *p)
{
	struct bh_topology topo = {};
	char err[256], cs[64], gs[64];

	if (bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err)))
		return;
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t j = 0; j < p->rules[i].n_to; j++) {
			const struct bh_target *t = &p->rules[i].to[j];

			if (t->kind != BH_T_CIDR)
				continue;
			for (size_t k = 0; k < topo.n_addrs; k++) {
				if (!cidr_inside(&t->cidr, &topo.addrs[k]))
					continue;
				bh_format_addr(&t->cidr.addr, cs, sizeof(cs));
				bh_format_addr(&topo.addrs[k].addr, gs, sizeof(gs));
				bh_err("warning: %s:%u:%u: %s/%u lies inside the bridge's own prefix (%s/%u): devices on the LAN are judged by their group, so this never matches them; name their group instead",
				       p->path, t->pos.line, t->pos.col, cs, t->cidr.plen, gs,
				       topo.addrs[k].plen);
				break;
			}
		}
	bh_topology_free(&topo);
}

int bh_policy_compile(const struct bh_ctx *ctx, const char *path, struct bh_policy **p,
		      struct bh_compiled *c, struct bh_leases *l)
{
	struct bh_diag d = {};
	int ret;

	memset(c, 0, sizeof(*c));
	ret = bh_policy_load(path, p, &d);
	if (ret) {
		bh_diag_report(&d);
		/* a missing file is bad input; one out of reach a system error */
		return ret == -EINVAL || ret == -ENOENT || ret == -EISDIR ? ret :
		       ctl_err_system(ret);
	}
	ret = l ? leases_load(ctx, *p, l) : 0;
	if (!ret)
		ret = bh_compile(*p, c, &d);
	if (ret) {
		bh_diag_report(&d);
		bh_policy_free(*p);
		*p = NULL;
		if (l)
			bh_leases_free(l);
		return ret == -ENOMEM ? ret : ctl_err_input(ret);
	}
	lan_cidr_warnings(*p);
	return 0;
}

/* ---- what is applied ------------------------------------------------------------ */

/* the policy file as it was loaded (it validated at most that many bytes) */
static int read_policy(const char *path, char **text, size_t *len)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = bh_read_fd(fd, BH_POLICY_MAX_BYTES, text, len);
	close(fd);
	return ret;
}

int ctl_save_applied(const struct bh_ctx *ctx, const char *path, const char *mode,
		     const struct bh_policy *p, const struct bh_compiled *c, int epoch,
		     const struct bh_leases *l, const struct bh_brnf_probe *brnf)
{
	/* the file the daemon follows: its own --leases, else dhcp.leases;
	 * never an up's or apply's --leases, which is that command's alone */
	const char *lpath = ctx->leases_once ? p->dhcp_leases : leases_path(ctx, p);
	struct bh_kv kv[14];
	struct bh_kernel k;
	char abspath[PATH_MAX];
	size_t len, ndev = 0;
	char *text;
	int ret;

	for (size_t i = 0; i < p->n_groups; i++)
		ndev += p->groups[i].n_members;
	ret = read_policy(path, &text, &len);
	if (ret)
		return ret;
	ret = bh_state_write(ctx->state_dir, BH_STATE_POLICY, text, len);
	free(text);
	if (ret)
		return ret;
	/* the leases bound with it: bh_applied_policy() binds them again */
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
	/* the families bridged IP was seen to reach table inet in: nft mode */
	KV(13, "br_netfilter_probe", "%s", brnf && brnf->ran ? bh_brnf_probe_families(brnf) : "");
#undef KV
	return bh_kv_save(ctx->state_dir, BH_STATE_UP, kv, 14);
}

/* ---- nftables ------------------------------------------------------------------ */

/*
 * --mode nft with a blocklist: the file read into @bl, as the tables'
 * sets block4/block6 (each rewrite of the tables reads it: the daemon's
 * reload of a changed file is one). A file that cannot be read leaves the
 * sets empty, with a warning.
 */
static const struct bh_blocklist *nft_blocklist(const struct bh_policy *p,
						struct bh_blocklist *bl)
{
	const struct bh_detect_policy *dp = p ? p->detect : NULL;
	struct bh_diag *d;
	int ret;

	if (!dp || !dp->on || !dp->blocklist)
		return NULL;
	d = calloc(1, sizeof(*d));	/* BH_DIAG_MAX messages: not on the stack */
	if (!d)
		return NULL;
	ret = bh_blocklist_read(dp->blocklist, bl, d);
	free(d);
	if (ret) {
		bh_err("warning: blocklist %s: %s; table inet bulkhead has no blocklist entries",
		       dp->blocklist, strerror(-ret));
		return NULL;
	}
	return bl;
}

int ctl_nft_sync(const struct bh_maps *m, const struct bh_policy *p,
		 const struct bh_compiled *c, const struct bh_topology *topo)
{
	struct bh_nft_spec spec = { .p = p, .c = c, .topo = topo };
	struct bh_blocklist bl = {};
	struct bh_mac_key cur, next;
	struct bh_active act = {};
	struct bh_config cfg = {};
	__u8 (*macs)[6] = NULL, (*tmp)[6];
	size_t n = 0, n_lan = 0;
	void *prev = NULL;
	__u32 key = 0;
	int ret;

	if (!bpf_map_lookup_elem(m->active, &key, &act)) {
		key = act.gen;
		bpf_map_lookup_elem(m->config, &key, &cfg);
	}
	while (!bpf_map_get_next_key(m->quarantine, prev, &next)) {
		struct bh_quar_val qv = {};

		tmp = realloc(macs, (n + n_lan + 1) * sizeof(*macs));
		if (!tmp) {
			free(macs);
			return -ENOMEM;
		}
		macs = tmp;
		/* full ones first, the lan level after them (BPF modes); in
		 * --mode nft (the policy in the inet table) a lan level is full */
		if (!p && !bpf_map_lookup_elem(m->quarantine, &next, &qv) &&
		    qv.level == BH_QLVL_LAN) {
			memcpy(macs[n + n_lan++], next.mac, 6);
		} else {
			if (n_lan)
				memcpy(macs[n + n_lan], macs[n], 6);
			memcpy(macs[n++], next.mac, 6);
		}
		cur = next;
		prev = &cur;
	}
	spec.quarantine = (const __u8 (*)[6])macs;
	spec.n_quarantine = n;
	spec.quarantine_lan = (const __u8 (*)[6])(macs + n);
	spec.n_quarantine_lan = n_lan;
	spec.qallow = c ? c->cfg.qallow : cfg.qallow;
	spec.block = nft_blocklist(p, &bl);
	ret = bh_nft_sync(&spec);
	bh_blocklist_free(&bl);
	free(macs);
	return ret;
}

int ctl_nft_sync_applied(const struct bh_ctx *ctx, const struct bh_maps *m)
{
	struct bh_topology topo = {};
	struct bh_compiled c = {};
	struct bh_policy *p;
	struct bh_diag d = {};
	char err[256];
	int ret;

	if (bh_applied_mode(ctx, BH_MODE_AUTO) != BH_MODE_NFT)
		return ctl_nft_sync(m, NULL, NULL, NULL);
	p = bh_applied_policy(ctx);
	if (!p)
		return -ENOENT;
	ret = bh_compile(p, &c, &d);
	if (!ret)
		ret = bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err));
	if (!ret)
		ret = ctl_nft_sync(m, p, &c, &topo);
	bh_topology_free(&topo);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return ret;
}
