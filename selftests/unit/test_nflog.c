// SPDX-License-Identifier: GPL-2.0
/*
 * test_nflog.c - the parser of --mode nft's deny events (userspace/nflog.c):
 * NFLOG messages as nfnetlink_log sends them (bridge ARP, IPv4, IPv6 with
 * extension headers, fragments, ICMP echo) become the struct bh_event the
 * BPF ring carries; messages that are not Bulkhead's, truncated ones and
 * mutated ones (a device controls the payload) are refused or parsed only
 * as far as their bytes go. Also run under ASan+UBSan.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "../userspace/nflog.h"
#include "../userspace/nft.h"

/* nflog.c feeds the aggregation; not under test here */
void bh_events_add(struct bh_events *ev, const struct bh_event *e, __u64 frames)
{
	(void)ev;
	(void)e;
	(void)frames;
}

static const __u8 DMAC[6] = { 0x02, 0, 0, 0, 0, 0x11 }, SMAC[6] = { 0x02, 0, 0, 0, 0, 0x31 };

/* an NFULNL_MSG_PACKET as the kernel builds it */
static struct nlmsghdr *msg(char *buf, size_t cap, __u8 pf, const char *prefix, __u16 ethertype,
			    const void *payload, size_t plen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(buf, 0, cap));
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	struct nfulnl_msg_packet_hdr ph = { .hw_protocol = htons(ethertype), .hook = 0 };
	__u8 hw[14];

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	g->nfgen_family = pf;
	g->res_id = htons(BH_NFLOG_GROUP);
	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	if (prefix)
		mnl_attr_put_strz(nlh, NFULA_PREFIX, prefix);
	memcpy(hw, DMAC, 6);
	memcpy(hw + 6, SMAC, 6);
	hw[12] = (__u8)(ethertype >> 8);
	hw[13] = (__u8)ethertype;
	mnl_attr_put(nlh, NFULA_HWHEADER, sizeof(hw), hw);
	if (payload)
		mnl_attr_put(nlh, NFULA_PAYLOAD, plen, payload);
	return nlh;
}

/* build and parse, which must succeed */
static void parse_ok(__u8 pf, const char *prefix, __u16 ethertype, const void *payload,
		     size_t plen, struct bh_event *e)
{
	char buf[1024];
	struct nlmsghdr *nlh = msg(buf, sizeof(buf), pf, prefix, ethertype, payload, plen);

	assert_int_equal(bh_nflog_parse(nlh, nlh->nlmsg_len, e), 0);
}

static const __u8 ARP[28] = {
	0, 1, 8, 0, 6, 4, 0, 1,
	0x02, 0, 0, 0, 0, 0x31, 192, 168, 50, 31,
	0, 0, 0, 0, 0, 0, 192, 168, 50, 11,
};

/* IPv4 TCP 192.168.50.31:41000 -> 192.168.50.11:554 */
static const __u8 IP4TCP[40] = {
	0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 192, 168, 50, 31, 192, 168, 50, 11,
	0xa0, 0x28, 0x02, 0x2a, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
};

static void test_arp(void **state)
{
	struct bh_event e;

	(void)state;
	parse_ok(NFPROTO_BRIDGE, "bulkhead drop_spoof", 0x0806, ARP, sizeof(ARP), &e);
	assert_int_equal(e.reason, BH_R_DROP_SPOOF);
	assert_int_equal(e.rule_id, BH_RULE_DEFAULT);
	assert_int_equal(e.eth_proto, 0x0806);
	assert_memory_equal(e.smac, SMAC, 6);
	assert_memory_equal(e.dmac, DMAC, 6);
	assert_int_equal(e.is_v4, 1);
	assert_int_equal(e.saddr[10], 0xff);
	assert_memory_equal(e.saddr + 12, ARP + 14, 4);
	assert_memory_equal(e.daddr + 12, ARP + 24, 4);
	assert_int_equal(e.proto, 0);
}

static void test_ipv4_rule(void **state)
{
	struct bh_event e;

	(void)state;
	parse_ok(NFPROTO_IPV4, "bulkhead drop_rule 7", 0x0800, IP4TCP, sizeof(IP4TCP), &e);
	assert_int_equal(e.reason, BH_R_DROP_RULE);
	assert_int_equal(e.rule_id, 7);
	assert_int_equal(e.proto, IPPROTO_TCP);
	assert_int_equal(e.sport, 41000);
	assert_int_equal(e.dport, 554);
	assert_memory_equal(e.daddr + 12, IP4TCP + 16, 4);
}

static void test_ipv4_fragment_and_echo(void **state)
{
	__u8 p[40];
	struct bh_event e;

	(void)state;
	memcpy(p, IP4TCP, sizeof(p));
	p[6] = 0x00;
	p[7] = 0x10;		/* a later fragment: no L4 header */
	parse_ok(NFPROTO_IPV4, "bulkhead drop_default", 0x0800, p, sizeof(p), &e);
	assert_int_equal(e.proto, IPPROTO_TCP);
	assert_int_equal(e.dport, 0);
	memcpy(p, IP4TCP, sizeof(p));
	p[9] = IPPROTO_ICMP;
	p[20] = 8;		/* echo request, id 0x1234 */
	p[24] = 0x12;
	p[25] = 0x34;
	parse_ok(NFPROTO_IPV4, "bulkhead drop_default", 0x0800, p, sizeof(p), &e);
	assert_int_equal(e.sport, 0x1234);
	assert_int_equal(e.dport, 0x1234);
}

static void test_ipv6_exthdr(void **state)
{
	__u8 p[40 + 8 + 8] = { 0x60 };
	struct bh_event e;

	(void)state;
	p[6] = 0;		/* hop-by-hop, then UDP */
	p[8] = 0xfd;
	p[24] = 0xfd;
	p[39] = 1;
	p[40] = IPPROTO_UDP;
	p[41] = 0;		/* 8 bytes */
	p[48] = 0x13;
	p[49] = 0x88;		/* 5000 */
	p[50] = 0x14;
	p[51] = 0xe9;		/* 5353 */
	parse_ok(NFPROTO_IPV6, "bulkhead drop_default", 0x86dd, p, sizeof(p), &e);
	assert_int_equal(e.is_v4, 0);
	assert_int_equal(e.proto, IPPROTO_UDP);
	assert_int_equal(e.sport, 5000);
	assert_int_equal(e.dport, 5353);
	assert_int_equal(e.saddr[0], 0xfd);
	/* an extension header claiming more than the copied bytes: no ports */
	p[41] = 200;
	parse_ok(NFPROTO_IPV6, "bulkhead drop_default", 0x86dd, p, sizeof(p), &e);
	assert_int_equal(e.dport, 0);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"foo drop_default", "bulkhead", "bulkhead ", "bulkheaddrop_default",
		"bulkhead pass_rule", "bulkhead drop_nosuch", "bulkhead drop_rule 5x",
		"bulkhead drop_rule ", "bulkhead drop_rule 99999999", "bulkhead drop_rule -1",
		"bulkhead drop_rule 5 6",
	};
	char buf[1024];
	struct bh_event e;
	struct nlmsghdr *nlh;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, bad[i], 0x0800, IP4TCP, sizeof(IP4TCP));
		assert_int_equal(bh_nflog_parse(nlh, nlh->nlmsg_len, &e), -EINVAL);
	}
	/* no prefix; a prefix without its NUL */
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, NULL, 0x0800, IP4TCP, sizeof(IP4TCP));
	assert_int_equal(bh_nflog_parse(nlh, nlh->nlmsg_len, &e), -EINVAL);
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, NULL, 0x0800, NULL, 0);
	mnl_attr_put(nlh, NFULA_PREFIX, 21, "bulkhead drop_default");
	assert_int_equal(bh_nflog_parse(nlh, nlh->nlmsg_len, &e), -EINVAL);
	/* another message type; a length past the buffer */
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead drop_default", 0x0800, IP4TCP, 40);
	assert_int_equal(bh_nflog_parse(nlh, nlh->nlmsg_len - 1, &e), -EINVAL);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	assert_int_equal(bh_nflog_parse(nlh, nlh->nlmsg_len, &e), -EINVAL);
}

/* every truncation of the payload, and random mutations of whole messages */
static void test_hostile(void **state)
{
	static const struct {
		__u8 pf;
		__u16 et;
		const __u8 *p;
		size_t len;
	} base[] = {
		{ NFPROTO_BRIDGE, 0x0806, ARP, sizeof(ARP) },
		{ NFPROTO_IPV4, 0x0800, IP4TCP, sizeof(IP4TCP) },
	};
	char buf[1024], copy[1024];
	struct bh_event e;
	struct nlmsghdr *nlh;
	unsigned int seed = 12345;
	void *heap;

	(void)state;
	for (size_t b = 0; b < 2; b++)
		for (size_t n = 0; n <= base[b].len; n++) {
			parse_ok(base[b].pf, "bulkhead drop_default", base[b].et,
				  base[b].p, n, &e);
		}
	for (int i = 0; i < 200000; i++) {
		size_t b = (size_t)i & 1, len;
		int flips = 1 + rand_r(&seed) % 8;

		nlh = msg(buf, sizeof(buf), base[b].pf, "bulkhead drop_rule 3", base[b].et,
			  base[b].p, base[b].len);
		len = nlh->nlmsg_len;
		memcpy(copy, buf, len);
		for (int f = 0; f < flips; f++)
			copy[16 + (size_t)rand_r(&seed) % (len - 16)] = (char)rand_r(&seed);
		/* a message cut anywhere, its header still claiming the whole */
		if (i % 3 == 0)
			len = 16 + (size_t)rand_r(&seed) % (len - 16);
		/* exactly @len bytes: ASan sees any read past them */
		heap = malloc(len);
		assert_non_null(heap);
		memcpy(heap, copy, len);
		if (!bh_nflog_parse(heap, len, &e))
			assert_true(e.reason >= BH_R_PASS_MAX && e.reason < BH_R_MAX);
		free(heap);
	}
}

/* @nlh (in @buf) cut at every length: parsed only whole, never read past (ASan) */
static void det_cut(const struct nlmsghdr *nlh, const char *buf)
{
	struct bh_nflog_det d;

	for (size_t len = 0; len <= nlh->nlmsg_len; len++) {
		void *heap = malloc(len ? len : 1);

		assert_non_null(heap);
		memcpy(heap, buf, len);
		if (!bh_nflog_det_parse(heap, len, &d))
			assert_int_equal(len, nlh->nlmsg_len);
		free(heap);
	}
}

/* detection messages (group BH_NFLOG_DET_GROUP): the flags of each prefix */
static void test_detect_msgs(void **state)
{
	static const struct {
		const char *prefix;
		__u32 flags;
	} ok[] = {
		{ "bulkhead detect deny", BH_DETN_NEW | BH_DETN_DENIED },
		{ "bulkhead detect deny_inet", BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_INTERNET },
		{ "bulkhead detect new", BH_DETN_NEW },
		{ "bulkhead detect block", BH_DETN_NEW | BH_DETN_BLOCK | BH_DETN_INTERNET },
	};
	static const char *const bad[] = {
		"bulkhead detect", "bulkhead detect ", "bulkhead detect denyx",
		"bulkhead detect deny ", "bulkhead drop_rule 3", "bulkheaddetect deny", "",
	};
	struct bh_nflog_det d;
	struct nlmsghdr *nlh;
	struct bh_event e;
	char buf[1024];
	__u8 p[40];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, ok[i].prefix, 0x0800, IP4TCP,
			  sizeof(IP4TCP));
		assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), 0);
		assert_memory_equal(d.mac, SMAC, 6);
		assert_int_equal(d.daddr[10], 0xff);
		assert_memory_equal(d.daddr + 12, IP4TCP + 16, 4);
		assert_int_equal(d.what, BH_DETN_WHAT(IPPROTO_TCP, 554, ok[i].flags | BH_DETN_V4));
		/* not a deny event */
		assert_int_equal(bh_nflog_parse(nlh, nlh->nlmsg_len, &e), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, bad[i], 0x0800, IP4TCP, sizeof(IP4TCP));
		assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), -EINVAL);
	}
	/* no prefix, no payload, ARP: no attempt of a device over IP */
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, NULL, 0x0800, IP4TCP, sizeof(IP4TCP));
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), -EINVAL);
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect deny", 0x0800, NULL, 0);
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), -EINVAL);
	nlh = msg(buf, sizeof(buf), NFPROTO_BRIDGE, "bulkhead detect deny", 0x0806, ARP,
		  sizeof(ARP));
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), -EINVAL);
	/* ... but an ARP frame of table bridge's "arp": an address scan by
	 * ARP, its target, no protocol or port (decide_arp() in the programs) */
	nlh = msg(buf, sizeof(buf), NFPROTO_BRIDGE, "bulkhead detect arp", 0x0806, ARP,
		  sizeof(ARP));
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), 0);
	assert_memory_equal(d.mac, SMAC, 6);
	assert_memory_equal(d.daddr + 12, ARP + 24, 4);
	assert_int_equal(d.what, BH_DETN_WHAT(0, 0, BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_V4));
	nlh = msg(buf, sizeof(buf), NFPROTO_BRIDGE, "bulkhead detect arp", 0x0806, ARP, 27);
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), -EINVAL);
	nlh = msg(buf, sizeof(buf), NFPROTO_BRIDGE, "bulkhead detect arp", 0x0806, ARP,
		  sizeof(ARP));
	det_cut(nlh, buf);
	/* an echo request: port 0, as the programs note it; UDP its port */
	memcpy(p, IP4TCP, sizeof(p));
	p[9] = IPPROTO_ICMP;
	p[20] = 8;
	p[24] = 0x12;
	p[25] = 0x34;
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect deny", 0x0800, p, sizeof(p));
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), 0);
	assert_int_equal(d.what, BH_DETN_WHAT(IPPROTO_ICMP, 0,
					      BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_V4));
	p[9] = IPPROTO_UDP;
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect deny", 0x0800, p, sizeof(p));
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), 0);
	assert_int_equal((d.what >> 8) & 0xffff, 554);
	/* cut anywhere: never a read past the end (ASan) */
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect new", 0x0800, IP4TCP,
		  sizeof(IP4TCP));
	det_cut(nlh, buf);
}

/*
 * A refusal on its way to the flow's opener ("bulkhead detect refused"):
 * the opener is the frame's destination MAC, the target its source
 * address, the port the RST's source port or the one the ICMP error
 * quotes (det_mark_refused() in bpf/lib/decide.h).
 */
static void test_detect_refused(void **state)
{
	__u8 p[68] = {
		/* IPv4 .31 -> .11, ICMP */
		0x45, 0, 0, 68, 0, 1, 0, 0, 64, 1, 0, 0, 192, 168, 50, 31, 192, 168, 50, 11,
		/* destination unreachable, port unreachable */
		3, 3, 0, 0, 0, 0, 0, 0,
		/* quoted: IPv4 .11 -> .31 UDP 5000 -> 9000 */
		0x45, 0, 0, 36, 0, 2, 0, 0, 64, 17, 0, 0, 192, 168, 50, 11, 192, 168, 50, 31,
		0x13, 0x88, 0x23, 0x28, 0, 16, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	const __u32 f = BH_DETN_NEW | BH_DETN_REFUSED | BH_DETN_V4;
	struct bh_nflog_det d;
	struct nlmsghdr *nlh;
	char buf[1024];
	__u8 rst[40];

	(void)state;
	memcpy(rst, IP4TCP, sizeof(rst));
	rst[33] = 0x14;		/* RST|ACK, from tcp/41000 of .31: that port refused */
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect refused", 0x0800, rst,
		  sizeof(rst));
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), 0);
	assert_memory_equal(d.mac, DMAC, 6);
	assert_memory_equal(d.daddr + 12, rst + 12, 4);
	assert_int_equal(d.what, BH_DETN_WHAT(IPPROTO_TCP, 41000, f));
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect refused", 0x0800, p, sizeof(p));
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), 0);
	assert_memory_equal(d.mac, DMAC, 6);
	assert_memory_equal(d.daddr + 12, p + 12, 4);
	assert_int_equal(d.what, BH_DETN_WHAT(IPPROTO_UDP, 9000, f));
	/* the quote cut short of its IP header: no attempt */
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect refused", 0x0800, p, 40);
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), -EINVAL);
	/* cut anywhere; then an ICMP message that is no unreachable */
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect refused", 0x0800, p, sizeof(p));
	det_cut(nlh, buf);
	p[20] = 11;	/* time exceeded */
	nlh = msg(buf, sizeof(buf), NFPROTO_IPV4, "bulkhead detect refused", 0x0800, p, sizeof(p));
	assert_int_equal(bh_nflog_det_parse(nlh, nlh->nlmsg_len, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_ipv4_rule),
		cmocka_unit_test(test_ipv4_fragment_and_echo),
		cmocka_unit_test(test_ipv6_exthdr),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_detect_msgs),
		cmocka_unit_test(test_detect_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
