// SPDX-License-Identifier: GPL-2.0
/*
 * nftflow.c - the flow records of --mode nft (nftflow.h).
 *
 * Allowed flows come from ctnetlink: a NEW event makes the record (first
 * seen), DESTROY adds what the entry counted (nf_conntrack_acct, switched
 * on for the gateway's namespace when the recorder starts, as nftables'
 * own "ct packets" does), and before each drain a dump of the table adds
 * what the live entries counted since the last look. A record's source is
 * the device bound to the original source address (bh_ips: the policy's
 * ip: bindings and the DHCP leases); conntrack knows no MAC, so flows of
 * unbound addresses are not recorded. The verdict is the reference
 * evaluator's (learn.c, eval.c) on the applied policy: pass, or
 * would_drop where audit waived a drop; the kernel confirms no entry for
 * a packet it dropped.
 *
 * Counts: bytes of the IP packets as conntrack counts them plus an
 * Ethernet header each, as the programs count frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>

#include "daemon.h"
#include "dataplane.h"
#include "flowkey.h"
#include "flowlog.h"
#include "learn.h"
#include "nftflow.h"
#include "nl.h"

#define CT_ACCT_SYSCTL	"/proc/sys/net/netfilter/nf_conntrack_acct"
#define NFTFLOW_READS	16	/* datagrams a call, so the loop goes on */
#define MODE_RECHECK_MS	1000
#define NFTFLOW_BUF	32768

struct ctent {
	__u32 id;		/* 0: free */
	bool seen;		/* in the dump under way */
	struct bh_flow_key k;
	__u64 packets, bytes;	/* added to the record so far */
};

struct bh_nftflow {
	const struct bh_ctx *ctx;
	struct mnl_socket *nl;
	bool nft;			/* --mode nft is up */
	bool joined;			/* in conntrack's event groups */
	bool on;			/* begin(): recording, for this read */
	long long mode_at;		/* coarse monotonic ms of the last look */
	struct bh_maps m;
	bool maps;			/* m is open */
	struct bh_policy *p;		/* the applied policy, for the verdict */
	__u32 epoch;			/* ... as of this bh_active.epoch */
	struct ctent *t;		/* BH_NFTFLOW_TRACK, open addressing */
	size_t n_t;
	__u64 lost;			/* events lost, flows not followed */
	__u64 lost_said;		/* ... as last logged */
	char buf[NFTFLOW_BUF];
};

/* bpf_ktime_get_coarse_ns()'s clock, as bh_flow's times are */
static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* ---- the maps, as the programs read them ---------------------------------------- */

static __u32 active_gen(const struct bh_nftflow *nf, __u32 *epoch)
{
	struct bh_active a = { 0 };
	__u32 zero = 0;

	bpf_map_lookup_elem(nf->m.active, &zero, &a);
	if (epoch)
		*epoch = a.epoch;
	return a.gen;
}

static bool env_owner(void *data, const __u8 a[16], __u8 mac[6])
{
	struct bh_nftflow *nf = data;
	struct bh_ip_key k = { .gen = (__u8)active_gen(nf, NULL) };
	struct bh_ip_val v;

	memcpy(k.addr, a, 16);
	if (bpf_map_lookup_elem(nf->m.ips, &k, &v))
		return false;
	memcpy(mac, v.mac, 6);
	return true;
}

static bool env_gw_ip(void *data, const __u8 a[16])
{
	struct bh_nftflow *nf = data;
	struct bh_addr_key k;
	__u32 v;

	memcpy(k.addr, a, 16);
	return !bpf_map_lookup_elem(nf->m.gw_ip, &k, &v);
}

static bool env_gw_mac(void *data, const __u8 mac[6])
{
	struct bh_nftflow *nf = data;
	struct bh_mac_key k = { 0 };
	__u32 v;

	memcpy(k.mac, mac, 6);
	return !bpf_map_lookup_elem(nf->m.gw_mac, &k, &v);
}

static bool env_lan(void *data, const __u8 a[16])
{
	struct bh_nftflow *nf = data;
	struct bh_lan_key k = { .prefixlen = 128 };
	__u32 v;

	memcpy(k.addr, a, 16);
	return !bpf_map_lookup_elem(nf->m.lan, &k, &v);
}

/*
 * Ready to record: --mode nft up and its maps open (both looked at at most
 * once a second, bh_nftflow_tick()), the policy of the active epoch loaded.
 */
static bool begin(struct bh_nftflow *nf)
{
	__u32 epoch;

	bh_nftflow_tick(nf, false);
	if (!nf->nft || !nf->maps)
		return false;
	active_gen(nf, &epoch);
	if (!nf->p || epoch != nf->epoch) {
		bh_policy_free(nf->p);
		nf->p = bh_applied_policy(nf->ctx);
		nf->epoch = epoch;
	}
	return true;
}

static void maps_close(struct bh_nftflow *nf)
{
	if (nf->maps)
		bh_maps_close(&nf->m);
	nf->maps = false;
}

static const struct bh_flow_env *env_of(struct bh_nftflow *nf, struct bh_flow_env *env)
{
	*env = (struct bh_flow_env){ .owner = env_owner, .gw_ip = env_gw_ip,
				     .gw_mac = env_gw_mac, .lan = env_lan, .data = nf };
	return env;
}

/* bh_flowstat: what the programs count per CPU, counted on the first */
static void flowstat_add(struct bh_nftflow *nf, bool created)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_flow_ctr *c;
	__u32 zero = 0;

	if (ncpu <= 0)
		return;
	c = calloc((size_t)ncpu, sizeof(*c));
	if (!c)
		return;
	if (!bpf_map_lookup_elem(nf->m.flowstat, &zero, c)) {
		if (created)
			c[0].created++;
		else
			c[0].failed++;
		bpf_map_update_elem(nf->m.flowstat, &zero, c, BPF_ANY);
	}
	free(c);
}

/*
 * Add @packets and @bytes (IP bytes) to @k's record, made when missing
 * (a full LRU map evicts its least recently used entry, as for the
 * programs' inserts).
 */
static void record(struct bh_nftflow *nf, const struct bh_flow_key *k, __u64 packets,
		   __u64 bytes)
{
	struct bh_flow_val v;
	__u64 now = coarse_ns();

	if (bpf_map_lookup_elem(nf->m.flow, k, &v)) {
		v = (struct bh_flow_val){ .first_seen = now, .last_seen = now };
		if (bpf_map_update_elem(nf->m.flow, k, &v, BPF_NOEXIST)) {
			if (errno != EEXIST)
				flowstat_add(nf, false);
			if (bpf_map_lookup_elem(nf->m.flow, k, &v))
				return;
		} else {
			flowstat_add(nf, true);
		}
	}
	if (!packets)
		return;
	v.packets += packets;
	v.bytes += bytes + packets * 14;	/* the Ethernet header of each frame */
	v.last_seen = now;
	bpf_map_update_elem(nf->m.flow, k, &v, BPF_EXIST);
}

/* ---- conntrack entries followed ------------------------------------------------- */

static struct ctent *ct_find(struct bh_nftflow *nf, __u32 id, bool add)
{
	size_t mask = BH_NFTFLOW_TRACK - 1, i = (id * 2654435761u) & mask;

	for (size_t n = 0; n < BH_NFTFLOW_TRACK; n++, i = (i + 1) & mask) {
		if (nf->t[i].id == id)
			return &nf->t[i];
		if (!nf->t[i].id) {
			if (!add || nf->n_t >= BH_NFTFLOW_TRACK * 3 / 4)
				return NULL;
			nf->n_t++;
			nf->t[i].id = id;
			return &nf->t[i];
		}
	}
	return NULL;
}

/* free @e, shifting back the entries its slot held up */
static void ct_forget(struct bh_nftflow *nf, struct ctent *e)
{
	size_t mask = BH_NFTFLOW_TRACK - 1, i = (size_t)(e - nf->t), j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!nf->t[j].id)
			break;
		home = (nf->t[j].id * 2654435761u) & mask;
		/* j's entry may fill i when its home is not in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			nf->t[i] = nf->t[j];
			i = j;
		}
	}
	memset(&nf->t[i], 0, sizeof(nf->t[i]));
	nf->n_t--;
}

static __u8 verdict_of(struct bh_nftflow *nf, const struct bh_flow_key *k)
{
	struct bh_flow_rec r = { .key = *k };
	struct bh_eval_result res;

	if (nf->p && !bh_learn_judge(nf->p, &r, &res) && res.pass &&
	    res.reason == BH_R_PASS_AUDIT)
		return BH_FV_WOULD_DROP;
	return BH_FV_PASS;
}

static void ct_message(struct bh_nftflow *nf, const struct nlmsghdr *nlh, size_t len,
		       bool dumped)
{
	struct bh_flow_env env;
	struct bh_ctflow f;
	struct bh_flow_key k;
	struct ctent *e;

	if (bh_ctflow_parse(nlh, len, &f))
		return;
	e = f.id ? ct_find(nf, f.id, false) : NULL;
	if (dumped && !e)
		return;
	if (e)
		e->seen = true;
	if (!e) {
		__u64 packets = 1, bytes = 0;	/* the opening packet, its size later */

		if (bh_flow_key_ct(env_of(nf, &env), &f, BH_FV_PASS, &k))
			return;
		k.verdict = verdict_of(nf, &k);
		if (f.destroy && f.has_counters) {
			packets = f.packets;
			bytes = f.bytes;
		} else if (!f.destroy && f.id) {
			e = ct_find(nf, f.id, true);
			if (e) {
				e->k = k;
				e->packets = 1;
			} else {
				nf->lost++;
			}
		}
		record(nf, &k, packets, bytes);
		return;
	}
	if (f.has_counters && f.packets >= e->packets && f.bytes >= e->bytes) {
		record(nf, &e->k, f.packets - e->packets, f.bytes - e->bytes);
		e->packets = f.packets;
		e->bytes = f.bytes;
	}
	if (f.destroy)
		ct_forget(nf, e);
}

/* ---- the daemon's side ---------------------------------------------------------- */

/* Conntrack counts packets and bytes only with accounting on (per namespace). */
static void acct_on(void)
{
	char c = 0;
	int fd = open(CT_ACCT_SYSCTL, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	if (pread(fd, &c, 1, 0) == 1 && c == '0' && pwrite(fd, "1\n", 2, 0) != 2)
		bh_dlog("flow records: cannot switch on %s: packets and bytes of --mode nft flows count 0",
			CT_ACCT_SYSCTL);
	close(fd);
}

/*
 * Conntrack's events only while --mode nft is up: in the BPF modes the
 * programs record, and a busy gateway's events would wake the daemon for
 * nothing. 0 or -errno.
 */
static int join(struct bh_nftflow *nf, bool on)
{
	static const unsigned int g[] = { NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_DESTROY };
	int opt = on ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP;

	if (on == nf->joined)
		return 0;
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		unsigned int grp = g[i];

		if (mnl_socket_setsockopt(nf->nl, opt, &grp, sizeof(grp)) && on)
			return -errno;
	}
	nf->joined = on;
	if (on)
		acct_on();
	return 0;
}

int bh_nftflow_open(struct bh_nftflow **out, const struct bh_ctx *ctx)
{
	struct bh_nftflow *nf;
	int rcv = BH_NFTFLOW_RCVBUF, fd;
	int ret;

	*out = NULL;
	nf = calloc(1, sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	nf->ctx = ctx;
	nf->t = calloc(BH_NFTFLOW_TRACK, sizeof(*nf->t));
	nf->nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nf->t || !nf->nl) {
		ret = nf->t ? -errno : -ENOMEM;
		bh_nftflow_close(nf);
		return ret;
	}
	fd = mnl_socket_get_fd(nf->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* a socket that may join: this process has the right (CAP_NET_ADMIN) */
	ret = join(nf, true);
	if (!ret)
		ret = join(nf, bh_nft_in_force(ctx));
	if (ret) {
		bh_nftflow_close(nf);
		return ret;
	}
	nf->nft = nf->joined;
	*out = nf;
	return 0;
}

void bh_nftflow_tick(struct bh_nftflow *nf, bool now_too)
{
	long long now = (long long)(coarse_ns() / 1000000);

	if (!nf || (!now_too && now - nf->mode_at < MODE_RECHECK_MS))
		return;
	nf->mode_at = now;
	nf->nft = bh_nft_in_force(nf->ctx);
	if (join(nf, nf->nft))
		nf->nft = false;
	/* the maps again: a down and up since pinned new ones */
	maps_close(nf);
	if (nf->nft)
		nf->maps = !bh_maps_open(nf->ctx->pin_dir, &nf->m);
	else
		memset(nf->t, 0, BH_NFTFLOW_TRACK * sizeof(*nf->t)), nf->n_t = 0;
}

void bh_nftflow_close(struct bh_nftflow *nf)
{
	if (!nf)
		return;
	maps_close(nf);
	if (nf->nl)
		mnl_socket_close(nf->nl);
	bh_policy_free(nf->p);
	free(nf->t);
	free(nf);
}

int bh_nftflow_fd(const struct bh_nftflow *nf)
{
	return nf ? mnl_socket_get_fd(nf->nl) : -1;
}

/* a conntrack event, handled while flow records are on */
static int read_msg(const struct nlmsghdr *nlh, size_t left, void *data)
{
	struct bh_nftflow *nf = data;

	if (!nf->on)
		return 0;
	ct_message(nf, nlh, left, false);
	return 1;
}

int bh_nftflow_read(struct bh_nftflow *nf)
{
	if (!nf)
		return 0;
	nf->on = begin(nf);
	return bh_nl_recv_each(nf->nl, nf->buf, sizeof(nf->buf), NFTFLOW_READS, read_msg,
			       NULL, nf, &nf->lost);
}

void bh_nftflow_event(void *data, const struct bh_event *e)
{
	struct bh_nftflow *nf = data;
	struct bh_flow_env env;
	struct bh_flow_key k;

	if (!nf || !begin(nf))
		return;
	/* an IP packet audit passed is in its conntrack entry's counts */
	if (!bh_flow_key_event(env_of(nf, &env), e, &k))
		record(nf, &k, k.verdict == BH_FV_DROP || (k.flags & BH_FLOW_F_ARP), 0);
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	ct_message(data, nlh, nlh->nlmsg_len, true);
	return MNL_CB_OK;
}

void bh_nftflow_sync(struct bh_nftflow *nf)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret;

	if (!nf || !nf->n_t || !begin(nf))
		goto out;
	nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nl)
		goto out;
	for (size_t i = 0; i < BH_NFTFLOW_TRACK; i++)
		nf->t[i].seen = false;
	nlh = bh_nfnl_hdr(buf, sizeof(buf), (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
			  NLM_F_REQUEST | NLM_F_DUMP, (__u32)time(NULL), 0);
	ret = bh_mnl_dump(nl, nlh, dump_cb, nf);
	mnl_socket_close(nl);
	/* entries the table no longer holds: their DESTROY was lost */
	for (size_t i = 0; !ret && i < BH_NFTFLOW_TRACK; i++)
		while (nf->t[i].id && !nf->t[i].seen)
			ct_forget(nf, &nf->t[i]);
out:
	if (nf && nf->lost != nf->lost_said) {
		bh_dlog("flow records: %llu conntrack events lost (socket full) or flows not followed (more than %d live) since the start: their counts are short",
			(unsigned long long)nf->lost, BH_NFTFLOW_TRACK * 3 / 4);
		nf->lost_said = nf->lost;
	}
}
