// SPDX-License-Identifier: GPL-2.0
/*
 * nft.c - "table bridge bulkhead": the quarantine lock in nftables, built
 * with libnftnl and sent as one batch (create-if-absent, delete, create
 * anew: the table is replaced atomically). Every message is acknowledged
 * and every acknowledgement is read.
 *
 *   table bridge bulkhead {
 *     set quarantine { type ether_addr; elements = { ... } }
 *     chain forward { type filter hook forward priority -200;
 *       ether saddr @quarantine counter drop
 *       ether daddr @quarantine counter drop }
 *     chain input  { type filter hook input priority -200;
 *       ether saddr @quarantine jump quarantine_in }
 *     chain output { type filter hook output priority -200;
 *       ether daddr @quarantine jump quarantine_out }
 *     chain quarantine_in  { arp, ND, the quarantine.allow services: accept; counter drop }
 *     chain quarantine_out { the same, answered by the gateway: accept; counter drop }
 *   }
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_bridge.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft.h"
#include "../bpf/bulkhead_abi.h"

#define FAMILY		NFPROTO_BRIDGE
#define SET_NAME	"quarantine"
#define SET_ID		1
#define NFT_TYPE_ETHERADDR	9	/* nft's datatype id for ether_addr */
#define PRIO_FILTER	(-200)		/* NF_BR_PRI_FILTER_BRIDGED */

struct batch {
	struct mnl_nlmsg_batch *b;
	char *buf;
	__u32 seq;
	__u32 first_seq;
	unsigned int acks;	/* messages that asked for an ACK */
};

static struct nlmsghdr *msg(struct batch *bt, __u16 type, __u16 flags)
{
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, FAMILY,
				    flags | NLM_F_ACK, bt->seq++);
	bt->acks++;
	return nlh;
}

static void next(struct batch *bt)
{
	mnl_nlmsg_batch_next(bt->b);
}

static void add_table(struct batch *bt, __u16 type, __u16 flags)
{
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, BH_NFT_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, FAMILY);
	nftnl_table_nlmsg_build_payload(msg(bt, type, flags), t);
	nftnl_table_free(t);
	next(bt);
}

static void add_chain(struct batch *bt, const char *name, int hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, BH_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (__u32)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, PRIO_FILTER);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(msg(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
	nftnl_chain_free(c);
	next(bt);
}

static void add_set(struct batch *bt, const __u8 (*macs)[6], size_t n)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, BH_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, SET_NAME);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAMILY);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 6);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_ETHERADDR);
	nftnl_set_set_u32(s, NFTNL_SET_ID, SET_ID);
	nftnl_set_nlmsg_build_payload(msg(bt, NFT_MSG_NEWSET, NLM_F_CREATE), s);
	next(bt);

	if (n) {
		for (size_t i = 0; i < n; i++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();

			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, macs[i], 6);
			nftnl_set_elem_add(s, e);
		}
		nftnl_set_elems_nlmsg_build_payload(msg(bt, NFT_MSG_NEWSETELEM,
							NLM_F_CREATE), s);
		next(bt);
	}
	nftnl_set_free(s);
}

/* ---- rule building -------------------------------------------------------- */

static void e_payload(struct nftnl_rule *r, __u32 base, __u32 off, __u32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_rule_add_expr(r, e);
}

static void e_cmp(struct nftnl_rule *r, __u32 op, const void *data, __u32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

static void e_l4proto(struct nftnl_rule *r, __u8 proto)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	e_cmp(r, NFT_CMP_EQ, &proto, 1);
}

static void e_lookup(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, SET_NAME);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, SET_ID);
	nftnl_rule_add_expr(r, e);
}

static void e_counter(struct nftnl_rule *r)
{
	nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
}

static void e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (__u32)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, BH_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, FAMILY);
	return r;
}

static void rule_add(struct batch *bt, struct nftnl_rule *r)
{
	nftnl_rule_nlmsg_build_payload(msg(bt, NFT_MSG_NEWRULE,
					   NLM_F_CREATE | NLM_F_APPEND), r);
	nftnl_rule_free(r);
	next(bt);
}

/* ether {s,d}addr @quarantine <verdict> */
static void rule_mac(struct batch *bt, const char *chain, __u32 off,
		     int verdict, const char *target)
{
	struct nftnl_rule *r = rule_new(chain);

	e_payload(r, NFT_PAYLOAD_LL_HEADER, off, 6);
	e_lookup(r);
	if (verdict == NF_DROP)
		e_counter(r);
	e_verdict(r, verdict, target);
	rule_add(bt, r);
}

static void rule_ethertype_accept(struct batch *bt, const char *chain, __u16 type)
{
	struct nftnl_rule *r = rule_new(chain);
	__be16 t = htons(type);

	e_payload(r, NFT_PAYLOAD_LL_HEADER, 12, 2);
	e_cmp(r, NFT_CMP_EQ, &t, 2);
	e_verdict(r, NF_ACCEPT, NULL);
	rule_add(bt, r);
}

/* meta l4proto @proto th {sport|dport} @port accept */
static void rule_port_accept(struct batch *bt, const char *chain, __u8 proto,
			     bool dport, __u16 port)
{
	struct nftnl_rule *r = rule_new(chain);
	__be16 p = htons(port);

	e_l4proto(r, proto);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, dport ? 2 : 0, 2);
	e_cmp(r, NFT_CMP_EQ, &p, 2);
	e_verdict(r, NF_ACCEPT, NULL);
	rule_add(bt, r);
}

/* meta l4proto @proto (icmp type in [lo, hi]) accept */
static void rule_icmp_accept(struct batch *bt, const char *chain, __u8 proto,
			     __u8 lo, __u8 hi)
{
	struct nftnl_rule *r = rule_new(chain);

	e_l4proto(r, proto);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	e_cmp(r, NFT_CMP_GTE, &lo, 1);
	e_cmp(r, NFT_CMP_LTE, &hi, 1);
	e_verdict(r, NF_ACCEPT, NULL);
	rule_add(bt, r);
}

static void rule_drop(struct batch *bt, const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);

	e_counter(r);
	e_verdict(r, NF_DROP, NULL);
	rule_add(bt, r);
}

/* What an isolated device may exchange with the gateway, one direction. */
static void quarantine_chain(struct batch *bt, const char *chain, bool in, __u16 qallow)
{
	rule_ethertype_accept(bt, chain, 0x0806);			/* ARP */
	rule_icmp_accept(bt, chain, IPPROTO_ICMPV6, 133, 136);		/* ND */
	if (qallow & BH_SVC_DHCP) {
		rule_port_accept(bt, chain, IPPROTO_UDP, in, 67);
		rule_port_accept(bt, chain, IPPROTO_UDP, in, 547);
	}
	if (qallow & BH_SVC_DNS) {
		rule_port_accept(bt, chain, IPPROTO_UDP, in, 53);
		rule_port_accept(bt, chain, IPPROTO_TCP, in, 53);
	}
	if (qallow & BH_SVC_NTP)
		rule_port_accept(bt, chain, IPPROTO_UDP, in, 123);
	if (qallow & BH_SVC_ICMP) {
		rule_icmp_accept(bt, chain, IPPROTO_ICMP, 0, 0);
		rule_icmp_accept(bt, chain, IPPROTO_ICMP, 8, 8);
		rule_icmp_accept(bt, chain, IPPROTO_ICMPV6, 128, 129);
	}
	rule_drop(bt, chain);
}

/* ---- sending ------------------------------------------------------------------ */

static int read_acks(struct mnl_socket *nl, struct batch *bt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int got = 0;
	int err = 0;

	while (got < bt->acks) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		struct nlmsghdr *nlh;
		ssize_t len;

		if (poll(&pfd, 1, 5000) <= 0)
			return err ? err : -ETIMEDOUT;
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, (int)len);
		     nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			got++;
			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct nlmsgerr))) {
				struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				/* keep the first error; the batch was aborted whole */
				if (e->error && !err)
					err = e->error;
				if (e->error)
					return err;
			}
		}
	}
	return err;
}

static int send_batch(bool rebuild, const __u8 (*macs)[6], size_t n, __u16 qallow)
{
	size_t size = 64 * 1024 + n * 64;
	struct mnl_socket *nl;
	struct batch bt = {};
	int ret, tries;

	for (tries = 0; tries < 3; tries++) {
		bt.buf = malloc(size);
		if (!bt.buf)
			return -ENOMEM;
		bt.seq = (__u32)time(NULL);
		bt.acks = 0;
		bt.b = mnl_nlmsg_batch_start(bt.buf, size);
		nftnl_batch_begin(mnl_nlmsg_batch_current(bt.b), bt.seq++);
		next(&bt);

		/* create-if-absent then delete: the table goes whatever it held */
		add_table(&bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		add_table(&bt, NFT_MSG_DELTABLE, 0);
		if (rebuild) {
			add_table(&bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
			add_set(&bt, macs, n);
			add_chain(&bt, "forward", NF_BR_FORWARD);
			add_chain(&bt, "input", NF_BR_LOCAL_IN);
			add_chain(&bt, "output", NF_BR_LOCAL_OUT);
			add_chain(&bt, "quarantine_in", -1);
			add_chain(&bt, "quarantine_out", -1);
			rule_mac(&bt, "forward", 6, NF_DROP, NULL);
			rule_mac(&bt, "forward", 0, NF_DROP, NULL);
			rule_mac(&bt, "input", 6, NFT_JUMP, "quarantine_in");
			rule_mac(&bt, "output", 0, NFT_JUMP, "quarantine_out");
			quarantine_chain(&bt, "quarantine_in", true, qallow);
			quarantine_chain(&bt, "quarantine_out", false, qallow);
		}
		nftnl_batch_end(mnl_nlmsg_batch_current(bt.b), bt.seq++);
		next(&bt);

		nl = mnl_socket_open(NETLINK_NETFILTER);
		if (!nl) {
			ret = -errno;
			goto out;
		}
		if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			ret = -errno;
			goto out_sock;
		}
		if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt.b),
				      mnl_nlmsg_batch_size(bt.b)) < 0) {
			ret = -errno;
			goto out_sock;
		}
		ret = read_acks(nl, &bt);
out_sock:
		mnl_socket_close(nl);
out:
		mnl_nlmsg_batch_stop(bt.b);
		free(bt.buf);
		/* another writer changed the ruleset generation: try again */
		if (ret != -ERESTART && ret != -EAGAIN)
			break;
	}
	return ret;
}

int bh_nft_sync(const __u8 (*macs)[6], size_t n, __u16 qallow)
{
	return send_batch(true, macs, n, qallow);
}

int bh_nft_remove(void)
{
	return send_batch(false, NULL, 0, 0);
}
