// SPDX-License-Identifier: GPL-2.0
/*
 * ctl_quarantine.c - isolate and release: a device cut off by the BPF
 * programs (the quarantine map) and by nftables (the quarantine lock),
 * kept in the state dir across reboots. See ctl.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "ctl_int.h"
#include "counters.h"
#include "nft.h"
#include "nl.h"

int bh_device_mac(const struct bh_ctx *ctx, const char *cmd, const char *s, __u8 mac[6])
{
	struct bh_policy *p;
	int found = 0;

	if (!bh_parse_mac(s, mac))
		return 0;
	p = bh_applied_file(ctx);
	for (size_t g = 0; p && g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			const struct bh_member *m = &p->groups[g].members[i];

			if (m->name && !strcmp(m->name, s) && !found++)
				memcpy(mac, m->mac, 6);
		}
	bh_policy_free(p);
	if (found == 1)
		return 0;
	if (found > 1)
		bh_err("%s: '%s' names %d devices in the applied policy; give the MAC", cmd, s,
		       found);
	else
		bh_err("%s: '%s' is neither a MAC address (aa:bb:cc:dd:ee:ff) nor a device name of the applied policy",
		       cmd, s);
	return -EINVAL;
}

static bool is_gateway_mac(const struct bh_maps *m, const __u8 mac[6])
{
	struct bh_mac_key k = {};
	__u32 v;

	memcpy(k.mac, mac, 6);
	return !bpf_map_lookup_elem(m->gw_mac, &k, &v);
}

/* The state dir's list without @mac, and with @add if given. -ENOENT: no @mac to remove. */
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
	struct bh_policy *p = bh_applied_policy(ctx);
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
	struct bh_policy *p = bh_applied_policy(ctx);
	struct bh_dev_count *dc = NULL;
	struct bh_leases l = {};
	size_t ndc = 0;
	bool known = false;

	for (size_t i = 0; p && i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			known |= !memcmp(p->groups[i].members[j].mac, mac, 6);
	if (!known && !bh_leases_saved(ctx->state_dir, &l))
		known = bh_leases_host(&l, mac) != NULL;
	if (!known && m && !bh_counts_devices(m, bh_nft_in_force(ctx), &dc, &ndc))
		for (size_t i = 0; i < ndc && !known; i++)
			known = !memcmp(dc[i].mac, mac, 6);
	free(dc);
	bh_leases_free(&l);
	bh_policy_free(p);
	return known;
}

/* A device's MAC: not multicast, not zero, a reason that fits. -EINVAL, said. */
static int isolate_check(const __u8 mac[6], const char *reason, const char *macs)
{
	if (mac[0] & 1) {
		bh_err("isolate: %s is a broadcast or multicast address, not a device", macs);
		return -EINVAL;
	}
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		bh_err("isolate: %s is the all-zero address, not a device", macs);
		return -EINVAL;
	}
	if (strlen(reason) >= sizeof(((struct bh_quar_entry *)0)->reason)) {
		bh_err("isolate: --reason is longer than %zu bytes",
		       sizeof(((struct bh_quar_entry *)0)->reason) - 1);
		return -EINVAL;
	}
	return 0;
}

/* Bulkhead is up: the map first, then the flows, then nftables. */
static int isolate_now(const struct bh_ctx *ctx, const struct bh_maps *m,
		       const struct bh_quar_entry *e, const char *macs, int *flushed)
{
	struct bh_addr *seen = NULL;
	size_t n_seen = 0;
	int ret, n;

	if (is_gateway_mac(m, e->mac)) {
		bh_err("isolate: %s is one of the gateway's own addresses", macs);
		return -EINVAL;
	}
	/* enforce first, then persist: a failed write never un-isolates */
	ret = bh_dp_isolate(m, e->mac, e->since, e->until, e->level);
	if (ret) {
		bh_err("isolate: cannot write the quarantine map: %s", strerror(-ret));
		return ctl_err_system(ret);
	}
	*flushed = bh_dp_ct_flush_mac(m, e->mac, &seen, &n_seen);
	ret = ctl_nft_sync_applied(ctx, m);
	if (!ret) {
		n = kernel_ct_flush(ctx, e->mac, seen, n_seen);
		*flushed = (*flushed < 0 ? 0 : *flushed) + (n < 0 ? 0 : n);
	}
	free(seen);
	if (ret) {
		bh_err("isolate: %s is isolated by the BPF programs, but the nftables lock failed: %s",
		       macs, strerror(-ret));
		quar_update(ctx, e->mac, e);
		return ctl_err_system(ret);
	}
	return 0;
}

int bh_isolate(const struct bh_ctx *ctx, const __u8 mac[6], const char *reason,
	       __u64 since, __u64 until, __u8 level, struct bh_isolate_report *r)
{
	struct bh_isolate_report rep = {};
	struct bh_quar_entry qe = { .since = since, .until = until, .level = level }, *e = &qe;
	struct bh_maps m;
	char macs[18];
	int lock, ret;

	bh_format_mac(mac, macs);
	ret = isolate_check(mac, reason ? reason : "", macs);
	if (ret)
		return ret;
	if (level != BH_QLVL_FULL && level != BH_QLVL_LAN) {
		bh_err("isolate: no quarantine level %u", level);
		return -EINVAL;
	}
	memcpy(qe.mac, mac, 6);
	snprintf(qe.reason, sizeof(qe.reason), "%s", reason ? reason : "");
	lock = ctl_lock(ctx);
	if (lock < 0)
		return lock;
	ret = bh_ctl_maps_open("isolate", ctx, &m);
	if (ret < 0)
		goto out;
	rep.up = ret;
	if (rep.up) {
		ret = isolate_now(ctx, &m, e, macs, &rep.flushed);
		bh_maps_close(&m);
		if (ret)
			goto out;
	}
	if (!mac_known(ctx, rep.up ? &m : NULL, e->mac))
		bh_err("warning: isolate: %s is not in the applied policy and was never seen on the ports (a typo?); isolated all the same",
		       macs);
	ret = quar_update(ctx, e->mac, e);
	if (ret) {
		bh_err("isolate: %s is isolated now but cannot be saved in %s: %s",
		       macs, ctx->state_dir, strerror(-ret));
		ret = ctl_err_system(ret);
		goto out;
	}
	if (rep.flushed < 0)
		rep.flushed = 0;
	if (r)
		*r = rep;
out:
	close(lock);
	return ret;
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
	lock = ctl_lock(ctx);
	if (lock < 0)
		return -EIO;
	ret = bh_ctl_maps_open("release", ctx, &m);
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
			int nret = ctl_nft_sync_applied(ctx, &m);

			if (nret) {
				bh_err("release: cannot update the nftables quarantine table: %s",
				       strerror(-nret));
				ret = nret == -ENOENT ? nret : ctl_err_system(nret);
				goto out;
			}
		}
		if (ret && ret != -ENOENT) {
			bh_err("release: cannot update the quarantine map: %s", strerror(-ret));
			ret = ctl_err_system(ret);
			goto out;
		}
		in_map = !ret;
	}
	ret = quar_update(ctx, mac, NULL);
	if (ret == -ENOENT && !in_map) {
		if (!ended_by)
			bh_err("release: %s is not isolated", macs);
		goto out;
	}
	if (ret && ret != -ENOENT) {
		bh_err("release: cannot update %s: %s", ctx->state_dir, strerror(-ret));
		ret = ctl_err_system(ret);
		goto out;
	}
	ret = 0;
out:
	if (up)
		bh_maps_close(&m);
	close(lock);
	return ret;
}
