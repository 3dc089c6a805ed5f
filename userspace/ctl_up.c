// SPDX-License-Identifier: GPL-2.0
/*
 * ctl_up.c - up, down, apply, the ports and the DHCP leases: what puts a
 * policy in force on the ports and keeps it there. See ctl.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "ctl_int.h"
#include "kernel.h"
#include "nft.h"
#include "nl.h"

#define STATE_NFT_PORTS	"nft-ports"	/* the ports the nftables tables name */

void bh_up_report_free(struct bh_up_report *r)
{
	free(r->ports);
	r->ports = NULL;
	r->n_ports = 0;
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
		ret = bh_dp_isolate(m, q[i].mac, q[i].since, q[i].until, q[i].level);
		if (!ret)
			bh_dp_ct_flush_mac(m, q[i].mac, NULL, NULL);
	}
	free(q);
	return ret;
}

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

/* --mode nft: nftables first, then the BPF links go: never a gap */
static int nft_take_over(const struct bh_ctx *ctx, const struct bh_maps *m,
			 const struct bh_policy *p, const struct bh_compiled *c,
			 const struct bh_topology *topo, struct bh_attached *att)
{
	int ret;

	ret = bridges_nf_call(topo, true);
	if (ret) {
		bh_err("cannot set nf_call_iptables on the bridge: %s", strerror(-ret));
		return ret;
	}
	ret = ctl_nft_sync(m, p, c, topo);
	if (ret) {
		bh_err("cannot write the nftables tables: %s", strerror(-ret));
		return ret;
	}
	nft_ports_save(ctx, topo);
	ret = bh_dp_detach_all(ctx->pin_dir);
	if (ret) {
		bh_err("cannot detach the BPF programs: %s", strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < topo->n_ports; i++) {
		att[i].ifindex = topo->ports[i].ifindex;
		snprintf(att[i].name, sizeof(att[i].name), "%s", topo->ports[i].name);
		att[i].mode = BH_MODE_NFT;
	}
	return 0;
}

/*
 * Load programs, write gateway + policy + quarantine into the maps, then
 * attach: the order means a port is never judged by an empty policy.
 */
/* flows.max other than the running bh_flow's size: said, the size kept */
static void flows_max_check(const struct bh_maps *m, const struct bh_policy *p)
{
	__u32 want = p->flows.max ? p->flows.max : BH_MAX_FLOWS, have;

	if (!bh_dp_flows_size(m, &have) && have != want)
		bh_err("warning: flows.max %u: the flow records keep their running size, %u, until 'bulkhead down' and 'up'",
		       want, have);
}

/*
 * --mode nft judges bridged IP in table inet: only with br_netfilter, and
 * only once bridged IPv4 and IPv6 are seen to get there, by the probe (a
 * probe that cannot run is no answer). An @apply keeps what the up in
 * force saw (the kernel is the same, and the module is loaded again if it
 * went); after an up that saw nothing (an earlier version's) it probes.
 * 0, or -errno with what to do in @err.
 */
static int nft_bridged_ip(const struct bh_ctx *ctx, bool apply, struct bh_brnf_probe *brnf,
			  char *err, size_t errlen)
{
	struct bh_kv *kv = NULL;
	const char *mode, *seen;
	bool same = false;
	size_t n = 0;
	int ret;

	ret = bh_kernel_load_br_netfilter(err, errlen);
	if (ret)
		return ret;
	if (apply && !bh_kv_load(ctx->state_dir, BH_STATE_UP, &kv, &n)) {
		mode = bh_kv_get(kv, n, "mode");
		seen = bh_kv_get(kv, n, "br_netfilter_probe");
		same = mode && !strcmp(mode, "nft") && seen && strstr(seen, "ipv4") &&
		       strstr(seen, "ipv6");
	}
	free(kv);
	if (!same)
		return bh_brnf_probe(brnf, err, errlen);
	brnf->ran = brnf->bridged4 = brnf->bridged6 = brnf->v4 = brnf->v6 = true;
	return 0;
}

/*
 * The policy's port pins (member `port:`) into bh_pin, by the ifindex each
 * port has now (lib/pin.h; --mode nft matches the names, nft_l2.c). A
 * member pinned to a name that is no port of the policy's interfaces is
 * pinned to none (its frames are dropped on every port): said when @warn.
 */
static int ctl_pins(const struct bh_maps *m, const struct bh_policy *p,
		    const struct bh_topology *t, bool warn)
{
	size_t n = 0, cap = bh_policy_n_pins(p);
	struct bh_pin_pair *pairs;
	char mac[18];
	int ret;

	pairs = calloc(cap ? cap : 1, sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	for (size_t g = 0; g < p->n_groups; g++) {
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			const struct bh_member *mb = &p->groups[g].members[i];

			if (!mb->port)
				continue;
			memcpy(pairs[n].mac, mb->mac, 6);
			for (size_t k = 0; k < t->n_ports && !pairs[n].ifindex; k++)
				if (!strcmp(t->ports[k].name, mb->port))
					pairs[n].ifindex = t->ports[k].ifindex;
			if (!pairs[n].ifindex && warn) {
				bh_format_mac(mb->mac, mac);
				bh_err("warning: %s%s%s%s is pinned to port %s, which is not a port of the policy's interfaces now: its frames are dropped on every port until it is",
				       mb->name ? mb->name : mac, mb->name ? " (" : "",
				       mb->name ? mac : "", mb->name ? ")" : "", mb->port);
			}
			n++;
		}
	}
	ret = bh_dp_pins(m, pairs, n);
	free(pairs);
	return ret;
}

/* @apply: an apply's (the probe's answer kept, see nft_bridged_ip()) */
static int bring_up(const struct bh_ctx *ctx, enum bh_mode mode, bool apply,
		    const char *path, const struct bh_policy *p,
		    const struct bh_compiled *c, const struct bh_leases *l,
		    struct bh_up_report *r)
{
	struct bh_brnf_probe brnf = {};
	struct bh_topology topo = {};
	struct bh_attached *att = NULL;
	struct bh_dp *dp = NULL;
	struct bh_maps m;
	char err[1024] = "";
	int ret, epoch;

	ret = bh_pin_dir_check(ctx->pin_dir, err, sizeof(err));
	if (ret) {
		bh_err("%s", err);
		return ctl_err_input(ret);
	}
	ret = bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err));
	if (ret) {
		bh_err("%s: %s", path, err);
		return ret == -ENODEV ? ret : ctl_err_system(ret);
	}
	/* a second instance on these ports would fight the first one */
	ret = ctl_foreign_check("up", ctx, &topo);
	if (ret)
		goto out_topo;
	if (mode == BH_MODE_NFT) {
		ret = nft_bridged_ip(ctx, apply, &brnf, err, sizeof(err));
		if (ret) {
			bh_err("%s", err);
			ret = ctl_err_system(ret);
			goto out_topo;
		}
	}
	ret = bh_state_init(ctx->state_dir);
	if (ret) {
		bh_err("state dir %s: %s", ctx->state_dir, strerror(-ret));
		ret = ctl_err_system(ret);
		goto out_topo;
	}
	bh_dp_flows_max = p->flows.max;
	ret = bh_dp_load(ctx->pin_dir, ctx->state_dir, bh_dp_progs_for(mode), &dp, &m,
			 err, sizeof(err));
	if (ret) {
		bh_err("%s", err);
		ret = ctl_err_system(ret);
		goto out_topo;
	}
	flows_max_check(&m, p);
	ret = bh_dp_set_gateway(&m, &topo);
	if (ret) {
		bh_err("cannot write the gateway's addresses: %s", strerror(-ret));
		goto out_dp;
	}
	epoch = bh_dp_apply(&m, c, err, sizeof(err));
	if (epoch < 0) {
		bh_err("%s", err);
		ret = epoch;
		goto out_dp;
	}
	if (*err)
		bh_err("%s", err);
	ret = ctl_detect_apply(ctx, &m, p, true);
	if (ret)
		goto out_dp;
	ret = ctl_pins(&m, p, &topo, true);
	if (ret) {
		bh_err("cannot write the port pins: %s", strerror(-ret));
		goto out_dp;
	}
	ret = restore_quarantine(ctx, &m);
	if (ret) {
		bh_err("cannot restore the quarantine from %s: %s", ctx->state_dir,
		       strerror(-ret));
		goto out_dp;
	}
	/* the devices the bridge has heard: their ports get flooded copies */
	ret = bh_dp_seed(&m, &topo);
	if (ret)
		bh_err("warning: cannot read the bridge's forwarding database: %s (ports learn from frames only)",
		       strerror(-ret));
	ret = -ENOMEM;
	att = calloc(topo.n_ports ? topo.n_ports : 1, sizeof(*att));
	if (!att)
		goto out_dp;
	if (mode == BH_MODE_NFT) {
		ret = nft_take_over(ctx, &m, p, c, &topo, att);
		if (ret)
			goto out_dp;
	} else {
		/* from nftables: its tracked flows become ours, replies keep passing */
		if (bh_applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT)
			bh_ct_import(m.ct);
		ret = bh_dp_attach(dp, mode, &topo, att, err, sizeof(err));
		if (ret) {
			bh_err("%s", err);
			goto out_dp;
		}
		ret = ctl_nft_sync(&m, NULL, NULL, NULL);
		if (ret) {
			bh_err("cannot write the nftables quarantine table: %s", strerror(-ret));
			goto out_dp;
		}
	}
	ret = ctl_save_applied(ctx, path, bh_mode_name(mode), p, c, epoch, l,
			       mode == BH_MODE_NFT ? &brnf : NULL);
	if (ret)
		bh_err("warning: cannot save state in %s: %s", ctx->state_dir,
		       strerror(-ret));
	if (r) {
		r->epoch = epoch;
		r->mode = mode;
		r->brnf = brnf;
		r->progs_reused = bh_dp_reused(dp);
		r->full = true;
		r->n_ports = topo.n_ports;
		r->ports = att;
		att = NULL;
	}
	if (!topo.n_ports)
		bh_err("warning: the policy's interfaces have no ports: nothing is protected yet");
	ret = 0;
out_dp:
	free(att);
	bh_maps_close(&m);
	bh_dp_close(dp);
out_topo:
	bh_topology_free(&topo);
	return ret ? ctl_err_system(ret) : 0;
}

/* ---- up / down ---------------------------------------------------------- */

int bh_up(const struct bh_ctx *ctx, const char *path, enum bh_mode mode,
	  struct bh_up_report *r)
{
	struct bh_policy *p = NULL;
	struct bh_leases l;
	struct bh_compiled c;
	int lock, ret;

	if (r)
		memset(r, 0, sizeof(*r));
	ret = bh_policy_compile(ctx, path, &p, &c, &l);
	if (ret)
		return ret;
	lock = ctl_lock(ctx);
	if (lock < 0) {
		ret = lock;
	} else {
		ret = bring_up(ctx, mode, false, path, p, &c, &l, r);
		close(lock);
	}
	bh_leases_free(&l);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return ret;
}

int bh_down(const struct bh_ctx *ctx, struct bh_down_report *r)
{
	struct bh_maps m;
	char err[512];
	int lock, ret;

	memset(r, 0, sizeof(*r));
	lock = ctl_lock(ctx);
	if (lock < 0)
		return lock;
	ret = ctl_pin_dir_ok("down", ctx);
	if (ret)
		goto out;
	/* clsact filters (no bpf_links: kernels before 6.6) outlive a pin dir
	 * removed by hand; no pin dir marks them, so no instance runs them */
	if (bh_maps_open(ctx->pin_dir, &m) == -ENOENT) {
		ret = bh_dp_clsact_orphans();
		if (ret > 0)
			r->orphans = ret;
	} else {
		bh_maps_close(&m);
	}
	ret = bh_ctl_maps_open("down", ctx, &m);
	if (ret < 0)
		goto out;
	if (ret)
		bh_maps_close(&m);
	if (access(ctx->pin_dir, F_OK)) {
		r->state = BH_DOWN_NO_PIN_DIR;
		ret = 0;
		goto out;
	}
	if (!ret) {
		/* no maps: this pin dir is not up, so table bridge bulkhead (the
		 * quarantine lock), if there is one, is another instance's */
		ret = bh_dp_down(ctx->pin_dir, err, sizeof(err));
		if (ret) {
			bh_err("down: %s", err);
			ret = ctl_err_system(ret);
			goto out;
		}
		bh_state_remove(ctx->state_dir, BH_STATE_UP);
		r->state = BH_DOWN_NOTHING_PINNED;
		goto out;
	}
	/* the flows the map holds since the last drain: the map goes with the pins */
	ret = ctl_flows_drain(ctx, NULL, NULL);
	if (ret < 0)
		bh_err("warning: down: the flow records since the last drain are lost: %s",
		       strerror(-ret));
	if (bh_applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT) {
		struct bh_policy *p = bh_applied_policy(ctx);
		struct bh_topology topo = {};

		/* the BPF programs are not there to take over: say so */
		if (p && !bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err)))
			bridges_nf_call(&topo, false);
		bh_topology_free(&topo);
		bh_policy_free(p);
	}
	ret = bh_nft_remove();
	if (ret)
		bh_err("down: cannot remove the nftables tables: %s", strerror(-ret));
	ret = bh_dp_down(ctx->pin_dir, err, sizeof(err));
	if (ret) {
		bh_err("down: %s", err);
		ret = ctl_err_system(ret);
		goto out;
	}
	/* the quarantine list stays: 'up' restores it */
	bh_state_remove(ctx->state_dir, BH_STATE_UP);
	r->state = BH_DOWN_DONE;
out:
	close(lock);
	return ret;
}

/* ---- apply ------------------------------------------------------------------ */

/*
 * Up, with some of this version's maps not pinned: an up by an earlier
 * version (the maps it had are, and the state dir says up).
 */
static bool older_maps(const struct bh_ctx *ctx)
{
	struct bh_kv *kv = NULL;
	char path[PATH_MAX];
	size_t nkv = 0;
	bool up;

	snprintf(path, sizeof(path), "%s/maps/bh_policy", ctx->pin_dir);
	if (access(path, F_OK))
		return false;
	up = !bh_kv_load(ctx->state_dir, BH_STATE_UP, &kv, &nkv);
	free(kv);
	return up;
}

int bh_apply(const struct bh_ctx *ctx, const char *path, struct bh_up_report *r)
{
	struct bh_topology topo = {};
	struct bh_policy *p = NULL;
	struct bh_leases l;
	struct bh_compiled c;
	enum bh_mode mode;
	struct bh_maps m;
	char err[512] = "";
	int lock, ret, epoch;

	if (r)
		memset(r, 0, sizeof(*r));
	ret = bh_policy_compile(ctx, path, &p, &c, &l);
	if (ret)
		return ret;
	lock = ctl_lock(ctx);
	if (lock < 0) {
		ret = lock;
		goto out;
	}
	ret = bh_ctl_maps_open("apply", ctx, &m);
	if (!ret && older_maps(ctx)) {
		/* up by a version with fewer maps: the full path pins the new
		 * ones and updates the links in place, as up does */
		mode = bh_applied_mode(ctx, BH_MODE_AUTO);
		bh_err("apply: the maps in %s/maps are an earlier version's: loading this version's programs and maps (no gap)",
		       ctx->pin_dir);
		ret = bring_up(ctx, mode, true, path, p, &c, &l, r);
		goto out;
	}
	if (ret <= 0) {
		if (!ret) {
			bh_err("apply: Bulkhead is not up (no maps in %s); use 'bulkhead up -c %s'",
			       ctx->pin_dir, path);
			ret = -ENODEV;
		}
		goto out;
	}
	mode = bh_applied_mode(ctx, BH_MODE_AUTO);
	ret = bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err));
	if (ret) {
		bh_err("%s: %s (the running policy stays in force)", path, err);
		ret = ret == -ENODEV ? ret : ctl_err_system(ret);
		goto out_maps;
	}
	if (mode == BH_MODE_NFT || !same_ports(&topo, ctx->pin_dir)) {
		/* the ports changed (the full path, which re-adopts links), or
		 * nftables: the tables are replaced whole in one batch */
		bh_maps_close(&m);
		ret = bring_up(ctx, mode, true, path, p, &c, &l, r);
		goto out;
	}
	ret = bh_dp_set_gateway(&m, &topo);
	if (ret) {
		bh_err("apply: cannot write the gateway's addresses: %s", strerror(-ret));
		ret = ctl_err_system(ret);
		goto out_maps;
	}
	epoch = bh_dp_apply(&m, &c, err, sizeof(err));
	if (epoch < 0) {
		bh_err("apply: %s", err);
		ret = ctl_err_system(epoch);
		goto out_maps;
	}
	flows_max_check(&m, p);
	if (*err)
		bh_err("apply: %s", err);
	ret = ctl_detect_apply(ctx, &m, p, false);
	if (ret) {
		ret = ctl_err_system(ret);
		goto out_maps;
	}
	ret = ctl_pins(&m, p, &topo, true);
	if (ret) {
		bh_err("apply: cannot write the port pins: %s", strerror(-ret));
		ret = ctl_err_system(ret);
		goto out_maps;
	}
	ret = ctl_nft_sync(&m, NULL, NULL, NULL);
	if (ret)
		bh_err("apply: cannot update the nftables quarantine table: %s",
		       strerror(-ret));
	ret = ctl_save_applied(ctx, path, bh_mode_name(mode), p, &c, epoch, &l, NULL);
	if (ret)
		bh_err("warning: cannot save state in %s: %s", ctx->state_dir,
		       strerror(-ret));
	if (r) {
		r->epoch = epoch;
		r->mode = mode;
	}
	ret = 0;
out_maps:
	bh_maps_close(&m);
out:
	if (lock >= 0)
		close(lock);
	bh_topology_free(&topo);
	bh_leases_free(&l);
	bh_compiled_free(&c);
	bh_policy_free(p);
	return ret;
}

/* ---- the ports ------------------------------------------------------------------ */

int bh_sync_ports(const struct bh_ctx *ctx)
{
	struct bh_topology topo = {};
	struct bh_attached *att = NULL;
	struct bh_policy *p = NULL;
	struct bh_dp *dp = NULL;
	struct bh_maps m, loaded;
	char err[512] = "";
	int lock, ret;

	lock = ctl_lock(ctx);
	if (lock < 0)
		return lock;
	if (bh_maps_open(ctx->pin_dir, &m)) {
		ret = 0;	/* down: nothing to protect, nothing to pin */
		goto out_lock;
	}
	ret = -EIO;
	p = bh_applied_policy(ctx);
	if (!p) {
		bh_err("no applied policy in %s: ports not synced", ctx->state_dir);
		goto out_maps;
	}
	ret = bh_nl_topology(p->ifaces, p->n_ifaces, &topo, err, sizeof(err));
	if (ret) {
		bh_err("%s", err);
		ret = ret == -ENODEV ? ret : ctl_err_system(ret);
		goto out_maps;
	}
	/* a new port's MAC is the gateway's too: in before the port is judged */
	ret = bh_dp_set_gateway(&m, &topo);
	if (ret) {
		bh_err("cannot write the gateway's addresses: %s", strerror(-ret));
		ret = ctl_err_system(ret);
		goto out_maps;
	}
	/* a port made again has another ifindex: its pins follow it */
	ret = ctl_pins(&m, p, &topo, false);
	if (ret) {
		bh_err("cannot write the port pins: %s", strerror(-ret));
		ret = ctl_err_system(ret);
		goto out_maps;
	}
	if (bh_applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT) {
		/* nftables: the ports set and the bridges' nf_call options, when
		 * the ports changed (setting nf_call is a link event itself) */
		if (nft_ports_same(ctx, &topo))
			goto out_maps;
		ret = bridges_nf_call(&topo, true);
		if (!ret)
			ret = ctl_nft_sync_applied(ctx, &m);
		if (ret) {
			bh_err("cannot update the nftables tables: %s", strerror(-ret));
			ret = ctl_err_system(ret);
		} else {
			nft_ports_save(ctx, &topo);
		}
		goto out_maps;
	}
	if (same_ports(&topo, ctx->pin_dir))
		goto out_maps;
	ret = -ENOMEM;
	att = calloc(topo.n_ports ? topo.n_ports : 1, sizeof(*att));
	if (!att)
		goto out_maps;
	/* the programs judging the other ports; loaded anew only when none are
	 * pinned (an up by a version before the pins) */
	ret = bh_dp_open_pinned(ctx->pin_dir, &dp);
	if (ret == -ENOENT) {
		ret = bh_dp_load(ctx->pin_dir, ctx->state_dir,
				 bh_dp_progs_for(bh_applied_mode(ctx, BH_MODE_AUTO)), &dp, &loaded,
				 err, sizeof(err));
		if (!ret)
			bh_maps_close(&loaded);
	} else if (ret) {
		snprintf(err, sizeof(err), "cannot open the BPF programs pinned in %s/progs: %s",
			 ctx->pin_dir, strerror(-ret));
	}
	if (ret) {
		bh_err("%s", err);
		ret = ctl_err_system(ret);
		goto out_maps;
	}
	ret = bh_dp_attach(dp, bh_applied_mode(ctx, BH_MODE_AUTO), &topo, att, err, sizeof(err));
	if (ret) {
		bh_err("%s", err);
		ret = ctl_err_system(ret);
	}
	bh_dp_close(dp);
out_maps:
	free(att);
	bh_topology_free(&topo);
	bh_policy_free(p);
	bh_maps_close(&m);
out_lock:
	close(lock);
	return ret;
}

int bh_ports_in_force(const struct bh_ctx *ctx, struct bh_attached **out, size_t *n)
{
	struct bh_topology topo = {};
	struct bh_policy *ap;
	char err[256];
	int ret;

	*out = NULL;
	*n = 0;
	if (bh_applied_mode(ctx, BH_MODE_AUTO) != BH_MODE_NFT)
		return bh_dp_links(ctx->pin_dir, out, n);
	/* nftables: the ports of the applied policy's interfaces */
	ap = bh_applied_policy(ctx);
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

/* ---- DHCP leases, for the daemon ------------------------------------------- */

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
	pa = bh_applied_file(ctx);
	pb = bh_applied_file(ctx);
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
	int ret, lock, rc;

	*applied = false;
	bh_leases_file(ctx, lpath, sizeof(lpath));
	if (!*lpath)
		return 0;
	ret = bh_leases_read(lpath, &cur, &d);
	if (ret == -ENOMEM)
		return ret;
	if (ret)	/* as apply does: the leases in force stay */
		bh_leases_saved(ctx->state_dir, &cur);
	bh_leases_live(&cur, bh_leases_now());
	bh_leases_saved(ctx->state_dir, &old);
	if (!leases_bind_same(ctx, &cur, &old)) {
		*applied = true;	/* apply reads the file again, warns */
		rc = bh_apply(ctx, path, NULL);
		goto out;
	}
	ctl_print_warnings(&d);
	if (ret)
		bh_err("warning: DHCP leases %s: %s; the leases in force stay until they end",
		       lpath, strerror(-ret));
	/* host names or ends only: the bindings in force stay as they are */
	lock = ctl_lock(ctx);
	if (lock < 0) {
		rc = lock;
		goto out;
	}
	text = bh_leases_format(&cur, &len);
	ret = text ? bh_state_write(ctx->state_dir, BH_LEASES_FILE, text, len) : -ENOMEM;
	free(text);
	close(lock);
	rc = 0;
	if (ret) {
		bh_err("warning: cannot save the leases in %s: %s", ctx->state_dir, strerror(-ret));
		rc = ctl_err_system(ret);
	}
out:
	bh_leases_free(&cur);
	bh_leases_free(&old);
	return rc;
}
