// SPDX-License-Identifier: GPL-2.0
/*
 * test_fdbwatch.c - unit tests of the MAC-move table (userspace/fdbwatch.c;
 * cmocka, also built with ASan+UBSan): a MAC new, on the same port, moved
 * and moved back; a port re-created under its name is no move; the table
 * bounded, the least recently seen MAC out first and then new again; and
 * the FDB event as the bridge sends it (RTM_NEWNEIGH, AF_BRIDGE) through
 * bh_nl_neigh_parse, truncated or without a MAC refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "fdbwatch.h"
#include "nl.h"

static const __u8 cam[6] = { 2, 0, 0, 0, 0, 0x11 };
static const __u8 nvr[6] = { 2, 0, 0, 0, 0, 0x21 };

static void test_moves(void **state)
{
	struct bh_fdbw_table t = {};
	char from[IF_NAMESIZE];

	(void)state;
	assert_int_equal(bh_fdbw_note(&t, cam, "p11", 1, from), 0);	/* new */
	assert_int_equal(bh_fdbw_note(&t, nvr, "p21", 2, from), 0);
	assert_int_equal(bh_fdbw_note(&t, cam, "p11", 3, from), 0);	/* refreshed */
	assert_int_equal(t.moves, 0);
	assert_int_equal(bh_fdbw_note(&t, cam, "p51", 4, from), 1);	/* moved */
	assert_string_equal(from, "p11");
	assert_int_equal(bh_fdbw_note(&t, cam, "p51", 5, from), 0);
	assert_int_equal(bh_fdbw_note(&t, cam, "p11", 6, from), 1);	/* and back */
	assert_string_equal(from, "p51");
	assert_int_equal(bh_fdbw_note(&t, nvr, "p21", 7, from), 0);
	assert_int_equal(t.moves, 2);
	assert_int_equal(t.n, 2);
	bh_fdbw_table_free(&t);
}

/* the longest port name fits, and a longer one is cut, never overrun */
static void test_names(void **state)
{
	struct bh_fdbw_table t = {};
	char from[IF_NAMESIZE];

	(void)state;
	assert_int_equal(bh_fdbw_note(&t, cam, "veth-0123456789", 1, from), 0);
	assert_int_equal(bh_fdbw_note(&t, cam, "veth-0123456789xyz", 2, from), 0);
	assert_int_equal(bh_fdbw_note(&t, cam, "p1", 3, from), 1);
	assert_string_equal(from, "veth-0123456789");
	bh_fdbw_table_free(&t);
}

static void mac_of(unsigned int i, __u8 m[6])
{
	m[0] = 2;
	m[1] = 0;
	m[2] = (__u8)(i >> 24);
	m[3] = (__u8)(i >> 16);
	m[4] = (__u8)(i >> 8);
	m[5] = (__u8)i;
}

/* full: the least recently seen goes, and is new when it comes back */
static void test_bounded(void **state)
{
	struct bh_fdbw_table t = {};
	char from[IF_NAMESIZE];
	__u8 m[6];

	(void)state;
	for (unsigned int i = 0; i < BH_FDBW_MAX; i++) {
		mac_of(i, m);
		assert_int_equal(bh_fdbw_note(&t, m, "p1", 100 + i, from), 0);
	}
	mac_of(0, m);
	assert_int_equal(bh_fdbw_note(&t, m, "p1", 1000000, from), 0);	/* 0 is fresh now */
	mac_of(BH_FDBW_MAX, m);
	assert_int_equal(bh_fdbw_note(&t, m, "p2", 1000001, from), 0);	/* 1 goes */
	assert_int_equal(t.n, BH_FDBW_MAX);
	mac_of(1, m);
	assert_int_equal(bh_fdbw_note(&t, m, "p2", 1000002, from), 0);	/* forgotten: new */
	mac_of(0, m);
	assert_int_equal(bh_fdbw_note(&t, m, "p2", 1000003, from), 1);	/* kept: a move */
	for (size_t i = 1; i < t.n; i++)
		assert_true(memcmp(t.v[i - 1].mac, t.v[i].mac, 6) < 0);	/* still sorted */
	bh_fdbw_table_free(&t);
}

/* an FDB event as the bridge notifies it */
static struct nlmsghdr *fdb_msg(char *buf, __u16 type, int port, int master, __u16 state,
				bool with_mac)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(buf, 0, MNL_SOCKET_BUFFER_SIZE));
	struct ndmsg *ndm;

	nlh->nlmsg_type = type;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = port;
	ndm->ndm_state = state;
	ndm->ndm_flags = NTF_MASTER;
	if (with_mac)
		mnl_attr_put(nlh, NDA_LLADDR, 6, cam);
	mnl_attr_put_u32(nlh, NDA_MASTER, (__u32)master);
	return nlh;
}

static void test_parse(void **state)
{
	char *buf = calloc(1, MNL_SOCKET_BUFFER_SIZE);
	struct nlmsghdr *nlh;
	struct bh_neigh e;

	(void)state;
	assert_non_null(buf);
	nlh = fdb_msg(buf, RTM_NEWNEIGH, 7, 3, NUD_REACHABLE, true);
	assert_int_equal(bh_nl_neigh_parse(nlh, &e), 0);
	assert_int_equal(e.family, AF_BRIDGE);
	assert_int_equal(e.ifindex, 7);
	assert_int_equal(e.master, 3);
	assert_int_equal(e.state, NUD_REACHABLE);
	assert_true(e.flags & NTF_MASTER);
	assert_memory_equal(e.mac, cam, 6);
	assert_false(e.has_addr);
	nlh = fdb_msg(buf, RTM_NEWNEIGH, 7, 3, NUD_REACHABLE, false);
	assert_int_equal(bh_nl_neigh_parse(nlh, &e), -EINVAL);	/* no MAC */
	nlh = fdb_msg(buf, RTM_NEWLINK, 7, 3, NUD_REACHABLE, true);
	assert_int_equal(bh_nl_neigh_parse(nlh, &e), -EINVAL);	/* another message */
	nlh = fdb_msg(buf, RTM_NEWNEIGH, 7, 3, NUD_REACHABLE, true);
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)) - 1;
	assert_int_equal(bh_nl_neigh_parse(nlh, &e), -EINVAL);	/* truncated */
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moves),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
