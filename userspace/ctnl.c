// SPDX-License-Identifier: GPL-2.0
/*
 * ctnl.c - the kernel's connection tracking over ctnetlink (libmnl): flush
 * the flows of an isolated device's addresses, and hand the flows tracked
 * under --mode nft to the BPF programs when a BPF mode takes over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>

#include "ctnl.h"
#include "nl.h"
#include "../bpf/bulkhead_abi.h"

/* The original tuple of a conntrack entry, as a bh_ct key (ports in network order) */
static void ct_tuple(const struct nlattr *tuple, struct bh_ct_key *k)
{
	const struct nlattr *a, *b;

	memset(k, 0, sizeof(*k));
	mnl_attr_for_each_nested(a, tuple) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_IP:
			mnl_attr_for_each_nested(b, a) {
				switch (mnl_attr_get_type(b)) {
				case CTA_IP_V4_SRC:
				case CTA_IP_V4_DST: {
					__u8 *d = mnl_attr_get_type(b) == CTA_IP_V4_SRC ? k->saddr : k->daddr;

					d[10] = d[11] = 0xff;
					memcpy(d + 12, mnl_attr_get_payload(b), 4);
					break;
				}
				case CTA_IP_V6_SRC:
					memcpy(k->saddr, mnl_attr_get_payload(b), 16);
					break;
				case CTA_IP_V6_DST:
					memcpy(k->daddr, mnl_attr_get_payload(b), 16);
					break;
				}
			}
			break;
		case CTA_TUPLE_PROTO:
			mnl_attr_for_each_nested(b, a) {
				switch (mnl_attr_get_type(b)) {
				case CTA_PROTO_NUM:
					k->proto = mnl_attr_get_u8(b);
					break;
				case CTA_PROTO_SRC_PORT:
					k->sport = mnl_attr_get_u16(b);	/* network order */
					break;
				case CTA_PROTO_DST_PORT:
					k->dport = mnl_attr_get_u16(b);
					break;
				case CTA_PROTO_ICMP_ID:
				case CTA_PROTO_ICMPV6_ID:
					k->sport = k->dport = mnl_attr_get_u16(b);
					break;
				}
			}
			break;
		}
	}
}

/* A dumped entry's original tuple, or NULL */
static const struct nlattr *ct_orig(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == CTA_TUPLE_ORIG)
			return a;
	return NULL;
}

/*
 * Dump the kernel's conntrack table (both families) into @cb, one call per
 * entry, on a socket the caller opened (and may go on using: @seq + 1 on are
 * free for it).
 */
static int ct_dump(struct mnl_socket *nl, __u32 seq, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = bh_nfnl_hdr(buf, sizeof(buf), (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
			  NLM_F_REQUEST | NLM_F_DUMP, seq, 0);
	return bh_mnl_dump(nl, nlh, cb, data);
}

struct ct_match {
	const struct bh_addr *addrs;
	size_t n;
	struct nlmsghdr **dead;		/* copies of matching entries */
	size_t n_dead, cap;
};

static bool ct_match_addr(const struct ct_match *m, const __u8 *a)
{
	for (size_t i = 0; i < m->n; i++)
		if (!memcmp(m->addrs[i].a, a, 16))
			return true;
	return false;
}

static int ct_match_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *orig = ct_orig(nlh);
	struct ct_match *m = data;
	struct bh_ct_key k;

	if (!orig)
		return MNL_CB_OK;
	ct_tuple(orig, &k);
	if (!ct_match_addr(m, k.saddr) && !ct_match_addr(m, k.daddr))
		return MNL_CB_OK;
	if (m->n_dead == m->cap) {
		struct nlmsghdr **tmp;

		m->cap = m->cap ? m->cap * 2 : 32;
		tmp = realloc(m->dead, m->cap * sizeof(*tmp));
		if (!tmp)
			return MNL_CB_ERROR;
		m->dead = tmp;
	}
	m->dead[m->n_dead] = malloc(nlh->nlmsg_len);
	if (!m->dead[m->n_dead])
		return MNL_CB_ERROR;
	memcpy(m->dead[m->n_dead++], nlh, nlh->nlmsg_len);
	return MNL_CB_OK;
}

/* DELETE by the original tuple of a dumped entry (and its zone) */
static int ct_delete(struct mnl_socket *nl, const struct nlmsghdr *entry, __u32 seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nfgenmsg *src = mnl_nlmsg_get_payload(entry);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	struct nfgenmsg *g;
	const struct nlattr *a;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	*g = *src;
	mnl_attr_for_each(a, entry, sizeof(struct nfgenmsg)) {
		int t = mnl_attr_get_type(a);

		if (t == CTA_TUPLE_ORIG || t == CTA_ZONE) {
			memcpy((char *)nlh + nlh->nlmsg_len, a, a->nla_len);
			nlh->nlmsg_len += MNL_ALIGN(a->nla_len);
		}
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	if (mnl_socket_recvfrom(nl, buf, sizeof(buf)) < 0)
		return -errno;
	return 0;
}

int bh_ct_flush_addrs(const struct bh_addr *addrs, size_t n)
{
	struct ct_match m = { .addrs = addrs, .n = n };
	__u32 seq = (__u32)time(NULL);
	struct mnl_socket *nl;
	int ret;

	if (!n)
		return 0;
	nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	/* collect first, delete after: deleting while the dump runs skips entries */
	ret = ct_dump(nl, seq, ct_match_cb, &m);
	if (m.n_dead)	/* a dump cut short still deletes what it found */
		ret = 0;
	for (size_t i = 0; i < m.n_dead; i++)
		if (!ct_delete(nl, m.dead[i], seq + 1 + (__u32)i))
			ret++;
	for (size_t i = 0; i < m.n_dead; i++)
		free(m.dead[i]);
	free(m.dead);
	mnl_socket_close(nl);
	return ret;
}

/*
 * Switching from --mode nft to a BPF mode: the flows the kernel tracks
 * become the BPF programs' (bh_ct), so replies in flight keep passing.
 */
struct ct_import {
	int map_fd;
	__u64 now;
	int n;
};

static int ct_import_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *orig = ct_orig(nlh);
	struct ct_import *im = data;
	struct bh_ct_val v = { .last_seen = im->now };
	struct bh_ct_key k;

	if (!orig)
		return MNL_CB_OK;
	ct_tuple(orig, &k);
	if (k.proto != IPPROTO_TCP && k.proto != IPPROTO_UDP &&
	    k.proto != IPPROTO_ICMP && k.proto != IPPROTO_ICMPV6)
		return MNL_CB_OK;
	if (!bpf_map_update_elem(im->map_fd, &k, &v, BPF_NOEXIST))
		im->n++;
	return MNL_CB_OK;
}

int bh_ct_import(int ct_map_fd)
{
	struct ct_import im = { .map_fd = ct_map_fd };
	struct mnl_socket *nl;
	struct timespec ts;
	int ret;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);	/* bpf_ktime_get_coarse_ns()'s clock */
	im.now = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	ret = ct_dump(nl, (__u32)time(NULL), ct_import_cb, &im);
	mnl_socket_close(nl);
	return ret ? ret : im.n;
}
