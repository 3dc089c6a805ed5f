// SPDX-License-Identifier: GPL-2.0
/*
 * test_flowkey.c - the flow records of --mode nft (userspace/flowkey.c):
 * ctnetlink messages as the kernel sends them (NEW, DESTROY with
 * counters, IPv4 and IPv6, TCP, UDP, ICMP echo) become the struct
 * bh_flow_key the BPF programs make for the flow's opening frame; so do
 * NFLOG deny events; destinations are classified as flow_classify()
 * does; truncated and mutated messages are refused or parsed only as far
 * as their bytes go. Also run under ASan+UBSan.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "../userspace/flowkey.h"

/* ---- the maps, as a fixture: 192.168.50.0/24 and fd00:50::/64 ------------------- */

static const __u8 GWMAC[6] = { 0x02, 0x42, 0, 0, 0, 1 };
static const __u8 LAPTOP[6] = { 0x02, 0, 0, 0, 0, 0x41 }, NVR[6] = { 0x02, 0, 0, 0, 0, 0x21 };

static void a4(__u8 out[16], const char *s)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, s, out + 12), 1);
}

static void a6(__u8 out[16], const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static bool owner(void *data, const __u8 a[16], __u8 mac[6])
{
	__u8 b[16];

	(void)data;
	a4(b, "192.168.50.41");
	if (!memcmp(a, b, 16)) {
		memcpy(mac, LAPTOP, 6);
		return true;
	}
	a6(b, "fd00:50::41");
	if (!memcmp(a, b, 16)) {
		memcpy(mac, LAPTOP, 6);
		return true;
	}
	a4(b, "192.168.50.21");
	if (!memcmp(a, b, 16)) {
		memcpy(mac, NVR, 6);
		return true;
	}
	return false;
}

static bool gw_ip(void *data, const __u8 a[16])
{
	__u8 b[16];

	(void)data;
	a4(b, "192.168.50.1");
	return !memcmp(a, b, 16);
}

static bool gw_mac(void *data, const __u8 mac[6])
{
	(void)data;
	return !memcmp(mac, GWMAC, 6);
}

static bool lan(void *data, const __u8 a[16])
{
	__u8 b[16];

	(void)data;
	a4(b, "192.168.50.0");
	if (!memcmp(a, b, 15))
		return true;
	a6(b, "fd00:50::");
	return !memcmp(a, b, 8);
}

static const struct bh_flow_env ENV = { .owner = owner, .gw_ip = gw_ip, .gw_mac = gw_mac,
					.lan = lan };

/* ---- conntrack messages, as ctnetlink builds them --------------------------------- */

struct ct {
	__u8 type;		/* IPCTNL_MSG_CT_NEW / _DELETE */
	int family;
	const char *src, *dst;
	__u8 proto;
	__u16 sport, dport;	/* ICMP: dport is the type */
	__u32 id;
	__u64 packets[2], bytes[2];	/* 0: no counters */
};

static void put_tuple(struct nlmsghdr *nlh, __u16 type, const struct ct *c, bool reply)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;
	__u8 s[16], d[16];

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (c->family == AF_INET) {
		inet_pton(AF_INET, reply ? c->dst : c->src, s);
		inet_pton(AF_INET, reply ? c->src : c->dst, d);
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, s);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, d);
	} else {
		inet_pton(AF_INET6, reply ? c->dst : c->src, s);
		inet_pton(AF_INET6, reply ? c->src : c->dst, d);
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, s);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, d);
	}
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, c->proto);
	if (c->proto == IPPROTO_ICMP || c->proto == IPPROTO_ICMPV6) {
		bool v4 = c->proto == IPPROTO_ICMP;

		mnl_attr_put_u16(nlh, v4 ? CTA_PROTO_ICMP_ID : CTA_PROTO_ICMPV6_ID, htons(77));
		mnl_attr_put_u8(nlh, v4 ? CTA_PROTO_ICMP_TYPE : CTA_PROTO_ICMPV6_TYPE,
				reply ? (v4 ? 0 : 129) : (__u8)c->dport);
		mnl_attr_put_u8(nlh, v4 ? CTA_PROTO_ICMP_CODE : CTA_PROTO_ICMPV6_CODE, 0);
	} else {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(reply ? c->dport : c->sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(reply ? c->sport : c->dport));
	}
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

static struct nlmsghdr *ct_msg(char *buf, const struct ct *c)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | c->type;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = (__u8)c->family;
	g->version = NFNETLINK_V0;
	put_tuple(nlh, CTA_TUPLE_ORIG, c, false);
	put_tuple(nlh, CTA_TUPLE_REPLY, c, true);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(8));
	mnl_attr_put_u32(nlh, CTA_ID, htonl(c->id));
	for (int d = 0; d < 2; d++) {
		struct nlattr *n;

		if (!c->packets[d])
			continue;
		n = mnl_attr_nest_start(nlh, d ? CTA_COUNTERS_REPLY : CTA_COUNTERS_ORIG);
		mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(c->packets[d]));
		mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(c->bytes[d]));
		mnl_attr_nest_end(nlh, n);
	}
	return nlh;
}

static void key_of(const struct ct *c, struct bh_ctflow *f, struct bh_flow_key *k)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = ct_msg(buf, c);

	assert_int_equal(bh_ctflow_parse(nlh, nlh->nlmsg_len, f), 0);
	assert_int_equal(bh_flow_key_ct(&ENV, f, BH_FV_PASS, k), 0);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_tcp_device(void **state)
{
	const struct ct c = { IPCTNL_MSG_CT_NEW, AF_INET, "192.168.50.41", "192.168.50.21",
			      IPPROTO_TCP, 40000, 443, 1234 };
	struct bh_flow_key k;
	struct bh_ctflow f;
	__u8 d[16];

	(void)state;
	key_of(&c, &f, &k);
	assert_int_equal(f.id, 1234);
	assert_false(f.destroy);
	assert_false(f.has_counters);
	assert_int_equal(f.sport, 40000);
	assert_memory_equal(k.smac, LAPTOP, 6);
	assert_int_equal(k.kind, BH_FK_DEVICE);
	assert_memory_equal(k.dmac, NVR, 6);
	a4(d, "192.168.50.21");
	assert_memory_equal(k.daddr, d, 16);
	assert_int_equal(k.proto, IPPROTO_TCP);
	assert_int_equal(k.port, 443);	/* the server's, never the ephemeral one */
	assert_int_equal(k.flags, BH_FLOW_F_V4);
	assert_int_equal(k.verdict, BH_FV_PASS);
	assert_int_equal(k.plen, 0);
}

static void test_destroy_counters(void **state)
{
	const struct ct c = { IPCTNL_MSG_CT_DELETE, AF_INET, "192.168.50.41", "192.168.50.1",
			      IPPROTO_UDP, 5353, 53, 9, { 3, 2 }, { 180, 260 } };
	struct bh_flow_key k;
	struct bh_ctflow f;

	(void)state;
	key_of(&c, &f, &k);
	assert_true(f.destroy);
	assert_true(f.has_counters);
	assert_int_equal(f.packets, 5);
	assert_int_equal(f.bytes, 440);
	assert_int_equal(k.kind, BH_FK_GATEWAY);
	assert_int_equal(k.port, 53);
}

static void test_internet_and_lan(void **state)
{
	struct ct c = { IPCTNL_MSG_CT_NEW, AF_INET, "192.168.50.41", "198.51.100.77",
			IPPROTO_TCP, 40000, 443, 1 };
	struct bh_flow_key k;
	struct bh_ctflow f;
	__u8 d[16];

	(void)state;
	key_of(&c, &f, &k);
	assert_int_equal(k.kind, BH_FK_INTERNET);
	a4(d, "198.51.100.0");
	assert_memory_equal(k.daddr, d, 16);
	assert_int_equal(k.plen, BH_FLOW_V4_PLEN);
	c.dst = "192.168.50.99";	/* no device bound to it */
	key_of(&c, &f, &k);
	assert_int_equal(k.kind, BH_FK_LAN);
	assert_int_equal(k.plen, 0);
	c.family = AF_INET6;
	c.src = "fd00:50::41";
	c.dst = "2001:db8:1234:5678::1";
	key_of(&c, &f, &k);
	assert_int_equal(k.kind, BH_FK_INTERNET);
	assert_int_equal(k.plen, BH_FLOW_V6_PLEN);
	a6(d, "2001:db8:1234::");
	assert_memory_equal(k.daddr, d, 16);
	assert_int_equal(k.flags, 0);
}

static void test_multicast_broadcast_icmp(void **state)
{
	struct ct c = { IPCTNL_MSG_CT_NEW, AF_INET, "192.168.50.41", "239.255.255.250",
			IPPROTO_UDP, 40000, 1900, 1 };
	struct bh_flow_key k;
	struct bh_ctflow f;

	(void)state;
	key_of(&c, &f, &k);
	assert_int_equal(k.kind, BH_FK_MULTICAST);
	assert_int_equal(k.port, 1900);
	c.dst = "255.255.255.255";
	key_of(&c, &f, &k);
	assert_int_equal(k.kind, BH_FK_BROADCAST);
	c = (struct ct){ IPCTNL_MSG_CT_NEW, AF_INET6, "fd00:50::41", "ff02::fb", IPPROTO_UDP,
			 5353, 5353, 2 };
	key_of(&c, &f, &k);
	assert_int_equal(k.kind, BH_FK_MULTICAST);
	c = (struct ct){ IPCTNL_MSG_CT_NEW, AF_INET, "192.168.50.41", "192.168.50.21",
			 IPPROTO_ICMP, 0, 8, 3 };
	key_of(&c, &f, &k);
	assert_int_equal(k.proto, IPPROTO_ICMP);
	assert_int_equal(k.port, 8);	/* the echo request's type */
	assert_int_equal(k.kind, BH_FK_DEVICE);
}

static void test_unbound_source(void **state)
{
	const struct ct c = { IPCTNL_MSG_CT_NEW, AF_INET, "192.168.50.1", "192.168.50.21",
			      IPPROTO_TCP, 40000, 22, 1 };
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = ct_msg(buf, &c);
	struct bh_flow_key k;
	struct bh_ctflow f;

	(void)state;
	assert_int_equal(bh_ctflow_parse(nlh, nlh->nlmsg_len, &f), 0);
	/* the gateway's own flow: no device opened it */
	assert_int_equal(bh_flow_key_ct(&ENV, &f, BH_FV_PASS, &k), -ENOENT);
}

static void test_event(void **state)
{
	struct bh_event e = { .eth_proto = ETH_P_IP, .proto = IPPROTO_TCP, .is_v4 = 1,
			      .sport = 40000, .dport = 554 };
	struct bh_flow_key k;

	(void)state;
	memcpy(e.smac, LAPTOP, 6);
	memcpy(e.dmac, NVR, 6);
	a4(e.saddr, "192.168.50.41");
	a4(e.daddr, "192.168.50.21");
	assert_int_equal(bh_flow_key_event(&ENV, &e, &k), 0);
	assert_int_equal(k.kind, BH_FK_DEVICE);
	assert_memory_equal(k.dmac, NVR, 6);
	assert_int_equal(k.port, 554);
	assert_int_equal(k.verdict, BH_FV_DROP);
	/* routed through the gateway to the internet, audit waived it */
	memcpy(e.dmac, GWMAC, 6);
	a4(e.daddr, "203.0.113.10");
	e.flags = BH_EVF_WOULD_DROP;
	assert_int_equal(bh_flow_key_event(&ENV, &e, &k), 0);
	assert_int_equal(k.kind, BH_FK_INTERNET);
	assert_int_equal(k.verdict, BH_FV_WOULD_DROP);
	assert_int_equal(k.daddr[15], 0);
	/* bridged to a MAC the policy does not list: a device all the same */
	memcpy(e.dmac, (const __u8[]){ 0x02, 9, 9, 9, 9, 9 }, 6);
	assert_int_equal(bh_flow_key_event(&ENV, &e, &k), 0);
	assert_int_equal(k.kind, BH_FK_DEVICE);
	/* ARP to the broadcast MAC */
	e.eth_proto = ETH_P_ARP;
	e.proto = 0;
	memset(e.dmac, 0xff, 6);
	assert_int_equal(bh_flow_key_event(&ENV, &e, &k), 0);
	assert_int_equal(k.kind, BH_FK_BROADCAST);
	assert_int_equal(k.flags, BH_FLOW_F_V4 | BH_FLOW_F_ARP);
	assert_int_equal(k.proto, 0);
	assert_int_equal(k.port, 0);
	/* no source device: none logged, or a group MAC */
	memset(e.smac, 0, 6);
	assert_int_equal(bh_flow_key_event(&ENV, &e, &k), -ENOENT);
	e.smac[0] = 1;
	assert_int_equal(bh_flow_key_event(&ENV, &e, &k), -ENOENT);
}

static void test_refused(void **state)
{
	struct ct c = { IPCTNL_MSG_CT_NEW, AF_INET, "192.168.50.41", "192.168.50.21",
			IPPROTO_TCP, 40000, 443, 1 };
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = ct_msg(buf, &c);
	struct bh_ctflow f;

	(void)state;
	/* another subsystem, another message, a header that lies */
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | IPCTNL_MSG_CT_NEW;
	assert_int_equal(bh_ctflow_parse(nlh, nlh->nlmsg_len, &f), -EINVAL);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_CTRZERO;
	assert_int_equal(bh_ctflow_parse(nlh, nlh->nlmsg_len, &f), -EINVAL);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	assert_int_equal(bh_ctflow_parse(nlh, nlh->nlmsg_len - 1, &f), -EINVAL);
	assert_int_equal(bh_ctflow_parse(nlh, 8, &f), -EINVAL);
	/* no original tuple */
	nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	mnl_attr_put_u32(nlh, CTA_ID, htonl(5));
	assert_int_equal(bh_ctflow_parse(nlh, nlh->nlmsg_len, &f), -EINVAL);
}

/* A device's traffic decides the tuple's bytes: random flips and cuts */
static void test_hostile(void **state)
{
	const struct ct c = { IPCTNL_MSG_CT_DELETE, AF_INET6, "fd00:50::41", "ff02::fb",
			      IPPROTO_UDP, 5353, 5353, 7, { 1, 1 }, { 100, 100 } };
	char buf[1024] = { 0 }, copy[1024];
	struct nlmsghdr *nlh = ct_msg(buf, &c);
	unsigned int seed = 17;
	struct bh_flow_key k;
	struct bh_ctflow f;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t len = nlh->nlmsg_len;
		char *heap;

		memcpy(copy, buf, len);
		for (int n = 1 + i % 4; n > 0; n--)
			copy[16 + (size_t)rand_r(&seed) % (len - 16)] = (char)rand_r(&seed);
		if (i % 3 == 0)
			len = 16 + (size_t)rand_r(&seed) % (len - 16);
		heap = malloc(len);	/* exactly @len bytes: ASan sees any read past them */
		assert_non_null(heap);
		memcpy(heap, copy, len);
		if (!bh_ctflow_parse((struct nlmsghdr *)heap, len, &f))
			bh_flow_key_ct(&ENV, &f, BH_FV_PASS, &k);
		free(heap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_device),
		cmocka_unit_test(test_destroy_counters),
		cmocka_unit_test(test_internet_and_lan),
		cmocka_unit_test(test_multicast_broadcast_icmp),
		cmocka_unit_test(test_unbound_source),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
