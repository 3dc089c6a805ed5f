// SPDX-License-Identifier: GPL-2.0
/*
 * test_detect_bpf.c - bpf/lib/detect.h through the verifier and
 * BPF_PROG_TEST_RUN (cmocka): selftests/detect.bpf.c turns each run's
 * "frame" into one call of bh_detect_note() or bh_block_hit(), so each
 * case sets time, targets and verdicts itself and checks the level
 * returned and the signals on bh_signals: exactly one port-scan signal at
 * the 15th port, none at 24 hosts and one at 25, windows that expire,
 * worm ports, blocklisted prefixes, denied-frame rates, stray attempts
 * that never evict a growing scan.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bulkhead_abi.h"
#include "detect.skel.h"

#define MS		1000000ULL		/* ns */
#define T0		(1000ULL * 1000 * MS)	/* a boot time of 1000 s */

/* as selftests/detect.bpf.c reads it */
struct det_call {
	__u8 smac[6];
	__u8 op;
	__u8 pad;
	__u8 daddr[16];
	__u32 what;
	__u32 pad2;
	__u64 now;
};

#define DET_OP_NOTE	0
#define DET_OP_BLOCK	1
#define DET_OP_VERDICT	2

#define MAX_SIGS	256

struct fix {
	struct detect_bpf *skel;
	struct ring_buffer *rb;
	struct bh_det_signal sig[MAX_SIGS];
	size_t n_sig;
};

static const __u8 cam[6] = { 0x02, 0, 0, 0, 0, 0x11 };
static const __u8 laptop[6] = { 0x02, 0, 0, 0, 0, 0x22 };

static int on_signal(void *ctx, void *data, size_t len)
{
	struct fix *f = ctx;

	if (len != sizeof(struct bh_det_signal) || f->n_sig >= MAX_SIGS)
		return -EINVAL;
	memcpy(&f->sig[f->n_sig++], data, sizeof(struct bh_det_signal));
	return 0;
}

static void v4(__u8 a[16], __u8 x, __u8 y, __u8 z, __u8 w)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = x;
	a[13] = y;
	a[14] = z;
	a[15] = w;
}

/* the defaults of detect.c's policy section, as written to the map */
static void cfg_default(struct bh_det_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->flags = BH_DETC_ON;
	c->salt = 0x5eed1234;
	c->thr[BH_DET_ADDR_SCAN] = (struct bh_det_thr){ 12, 25, 300000, 0 };
	c->thr[BH_DET_PORT_SCAN] = (struct bh_det_thr){ 8, 15, 300000, 0 };
	c->thr[BH_DET_TELNET] = (struct bh_det_thr){ 3, 10, 60000, 0 };
	c->thr[BH_DET_BLOCK] = (struct bh_det_thr){ 0, 1, 300000, 0 };
	c->thr[BH_DET_DENY_RATE] = (struct bh_det_thr){ 1000, 0, 10000, 0 };
	c->telnet_ports[0] = 23;
	c->telnet_ports[1] = 2323;
}

static void cfg_set(struct fix *f, const struct bh_det_cfg *c)
{
	__u32 k = 0;

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(f->skel->maps.bh_detect_cfg), &k, c,
					     BPF_ANY), 0);
}

static int setup(void **state)
{
	struct bh_det_cfg c;
	struct fix *f;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->skel = detect_bpf__open_and_load();
	if (!f->skel) {
		fprintf(stderr, "test_detect_bpf: cannot load detect.bpf.o (root? verifier?)\n");
		free(f);
		return -1;
	}
	f->rb = ring_buffer__new(bpf_map__fd(f->skel->maps.bh_signals), on_signal, f, NULL);
	if (!f->rb) {
		detect_bpf__destroy(f->skel);
		free(f);
		return -1;
	}
	cfg_default(&c);
	cfg_set(f, &c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	ring_buffer__free(f->rb);
	detect_bpf__destroy(f->skel);
	free(f);
	return 0;
}

/* One call; returns what the program returned. */
static int call(struct fix *f, int op, const __u8 mac[6], const __u8 addr[16], __u32 what,
		__u64 now)
{
	struct det_call c = { .op = (__u8)op, .what = what, .now = now };
	__u8 pad[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pad, .data_size_in = sizeof(pad),
		    .repeat = 1);

	memcpy(c.smac, mac, 6);
	memcpy(c.daddr, addr, 16);
	memcpy(pad, &c, sizeof(c));
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.detect_call), &o),
			 0);
	return (int)o.retval;
}

static int note(struct fix *f, const __u8 mac[6], const __u8 addr[16], __u32 what, __u64 now)
{
	return call(f, DET_OP_NOTE, mac, addr, what, now);
}

static size_t drain(struct fix *f)
{
	f->n_sig = 0;
	assert_true(ring_buffer__consume(f->rb) >= 0);
	return f->n_sig;
}

/* a denied TCP SYN on the LAN */
#define SYN_DENIED(port)	BH_DETN_WHAT(IPPROTO_TCP, port, BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_V4)

static void test_port_scan_fires_once_at_15(void **state)
{
	struct fix *f = *state;
	struct bh_det_cfg c;
	__u8 host[16];
	int lvl;

	cfg_default(&c);
	c.thr[BH_DET_PORT_SCAN].watch = 0;	/* one level: exactly one signal */
	cfg_set(f, &c);
	v4(host, 192, 168, 1, 20);
	for (unsigned int i = 1; i <= 14; i++)
		assert_int_equal(note(f, cam, host, SYN_DENIED(1024 + i * 7), T0 + i * 100 * MS), 0);
	assert_int_equal(drain(f), 0);
	lvl = note(f, cam, host, SYN_DENIED(1024 + 15 * 7), T0 + 12000 * MS);
	assert_int_equal(lvl, BH_DET_ACT);
	/* more ports, and the same ones again: no second signal in the window */
	for (unsigned int i = 16; i <= 60; i++)
		assert_int_equal(note(f, cam, host, SYN_DENIED(1024 + i * 7), T0 + 13000 * MS), 0);
	for (unsigned int i = 1; i <= 15; i++)
		assert_int_equal(note(f, cam, host, SYN_DENIED(1024 + i * 7), T0 + 14000 * MS), 0);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->sig[0].kind, BH_DET_PORT_SCAN);
	assert_int_equal(f->sig[0].level, BH_DET_ACT);
	assert_int_equal(f->sig[0].count, 15);
	assert_int_equal(f->sig[0].port, 1024 + 15 * 7);
	assert_int_equal(f->sig[0].proto, IPPROTO_TCP);
	assert_int_equal(f->sig[0].window_ms, 12000 - 100);
	assert_memory_equal(f->sig[0].mac, cam, 6);
	assert_memory_equal(f->sig[0].addr, host, 16);
	assert_int_equal(f->sig[0].time_ns, T0 + 12000 * MS);
	assert_true(f->sig[0].flags & (BH_DETN_DENIED >> 24));
}

static void test_port_scan_watch_then_act(void **state)
{
	struct fix *f = *state;
	__u8 host[16];

	v4(host, 192, 168, 1, 21);
	for (unsigned int p = 1; p <= 20; p++) {
		int lvl = note(f, cam, host, SYN_DENIED(p), T0 + p * MS);

		assert_int_equal(lvl, p == 8 ? BH_DET_WATCH : p == 15 ? BH_DET_ACT : 0);
	}
	assert_int_equal(drain(f), 2);
	assert_int_equal(f->sig[0].level, BH_DET_WATCH);
	assert_int_equal(f->sig[0].count, 8);
	assert_int_equal(f->sig[1].level, BH_DET_ACT);
	assert_int_equal(f->sig[1].count, 15);
}

static void test_addr_scan_24_no_25_yes(void **state)
{
	struct fix *f = *state;
	struct bh_det_cfg c;
	__u8 host[16];

	cfg_default(&c);
	c.thr[BH_DET_ADDR_SCAN].watch = 0;
	cfg_set(f, &c);
	for (unsigned int i = 1; i <= 24; i++) {
		v4(host, 192, 168, 1, (__u8)(100 + i));
		assert_int_equal(note(f, cam, host, SYN_DENIED(80), T0 + i * 1000 * MS), 0);
	}
	/* the same 24 again: not distinct */
	for (unsigned int i = 1; i <= 24; i++) {
		v4(host, 192, 168, 1, (__u8)(100 + i));
		assert_int_equal(note(f, cam, host, SYN_DENIED(80), T0 + 30000 * MS), 0);
	}
	assert_int_equal(drain(f), 0);
	v4(host, 192, 168, 1, 125);
	assert_int_equal(note(f, cam, host, SYN_DENIED(80), T0 + 31000 * MS), BH_DET_ACT);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->sig[0].kind, BH_DET_ADDR_SCAN);
	assert_int_equal(f->sig[0].count, 25);
	assert_int_equal(f->sig[0].port, 80);
	assert_int_equal(f->sig[0].window_ms, 30000);
	assert_memory_equal(f->sig[0].addr, host, 16);
}

/* hosts spread over a /16: hashed, they may share bits; the bound holds */
static void test_addr_scan_random_hosts_bound(void **state)
{
	struct fix *f = *state;
	unsigned int i, fired = 0;
	__u8 host[16];

	for (i = 1; i <= 60 && !fired; i++) {
		unsigned int x = i * 2654435761u;

		v4(host, 10, 1, (__u8)(x >> 24), (__u8)(x >> 16));
		if (note(f, cam, host, BH_DETN_WHAT(IPPROTO_UDP, 161,
						    BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_V4),
			 T0 + i * MS) == BH_DET_ACT)
			fired = i;
	}
	/* 25 bits of 128 take 25 hosts at best, about 28 on average */
	assert_true(fired >= 25 && fired <= 40);
}

static void test_window_expires(void **state)
{
	struct fix *f = *state;
	__u8 host[16];
	__u64 t;

	v4(host, 192, 168, 1, 30);
	for (unsigned int p = 1; p <= 14; p++)
		note(f, laptop, host, SYN_DENIED(p), T0 + p * MS);
	assert_int_equal(drain(f), 1);		/* the watch level at 8 */
	/* five minutes after the window's first attempt: a new window */
	t = T0 + 1 * MS + 300000 * MS;
	assert_int_equal(note(f, laptop, host, SYN_DENIED(15), t), 0);
	for (unsigned int p = 16; p <= 28; p++)
		assert_int_equal(note(f, laptop, host, SYN_DENIED(p), t + p * MS),
				 p == 22 ? BH_DET_WATCH : 0);
	assert_int_equal(note(f, laptop, host, SYN_DENIED(29), t + 29 * MS), BH_DET_ACT);
	assert_int_equal(drain(f), 2);
	assert_int_equal(f->sig[1].count, 15);
}

static void test_allowed_and_internet_not_scans(void **state)
{
	struct fix *f = *state;
	__u8 host[16];

	v4(host, 192, 168, 1, 40);
	/* allowed and answered: a busy client, not a probe */
	for (unsigned int p = 1; p <= 40; p++)
		note(f, cam, host, BH_DETN_WHAT(IPPROTO_TCP, p, BH_DETN_NEW | BH_DETN_V4), T0);
	/* denied towards the internet: 200 hosts on 443 */
	for (unsigned int i = 0; i < 200; i++) {
		v4(host, 198, 51, (__u8)i, 7);
		note(f, cam, host, BH_DETN_WHAT(IPPROTO_TCP, 443, BH_DETN_NEW | BH_DETN_DENIED |
						BH_DETN_INTERNET | BH_DETN_V4), T0);
	}
	assert_int_equal(drain(f), 0);
}

static void test_refused_counts(void **state)
{
	struct fix *f = *state;
	__u32 refused = BH_DETN_NEW | BH_DETN_REFUSED | BH_DETN_V4;
	__u8 host[16];

	v4(host, 192, 168, 1, 41);
	/* a peer that is down: retries to one port, refused each time */
	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(note(f, cam, host, BH_DETN_WHAT(IPPROTO_TCP, 554, refused),
				      T0 + i * 1000 * MS), 0);
	/* an allowed peer answering RSTs on 15 ports */
	for (unsigned int p = 1; p <= 15; p++)
		note(f, cam, host, BH_DETN_WHAT(IPPROTO_TCP, 2000 + p, refused), T0 + 100000 * MS);
	assert_int_equal(drain(f), 2);
	assert_int_equal(f->sig[1].kind, BH_DET_PORT_SCAN);
	assert_int_equal(f->sig[1].count, 15);
}

static void test_stray_attempts_keep_scan(void **state)
{
	struct fix *f = *state;
	__u8 host[16], other[16];
	int last = 0;

	v4(host, 192, 168, 1, 50);
	for (unsigned int p = 1; p <= 15; p++) {
		/* between the scan's probes, attempts to ever new hosts */
		for (unsigned int j = 0; j < 3; j++) {
			v4(other, 192, 168, 2, (__u8)(p * 3 + j));
			note(f, cam, other, SYN_DENIED(9000), T0 + p * MS);
		}
		last = note(f, cam, host, SYN_DENIED(p), T0 + p * MS);
	}
	assert_int_equal(last, BH_DET_ACT);
}

static void test_telnet(void **state)
{
	struct fix *f = *state;
	__u32 syn = BH_DETN_NEW | BH_DETN_INTERNET | BH_DETN_V4;
	__u8 host[16];

	/* ssh and http to many hosts: nothing */
	for (unsigned int i = 0; i < 50; i++) {
		v4(host, 203, 0, (__u8)i, 1);
		note(f, cam, host, BH_DETN_WHAT(IPPROTO_TCP, 22, syn), T0);
		note(f, cam, host, BH_DETN_WHAT(IPPROTO_UDP, 23, syn), T0);
	}
	assert_int_equal(drain(f), 0);
	/* one host on 23 over and over: one host */
	v4(host, 203, 0, 113, 9);
	for (unsigned int i = 0; i < 20; i++)
		assert_int_equal(note(f, cam, host, BH_DETN_WHAT(IPPROTO_TCP, 23, syn), T0 + i * MS),
				 0);
	/* Mirai: random hosts on 23, now and then 2323 */
	for (unsigned int i = 1; i <= 9; i++) {
		v4(host, 203, 0, 113, (__u8)(9 + i));
		assert_int_equal(note(f, cam, host,
				      BH_DETN_WHAT(IPPROTO_TCP, i % 3 ? 23 : 2323, syn),
				      T0 + 100 * MS),
				 i == 2 ? BH_DET_WATCH : i == 9 ? BH_DET_ACT : 0);
	}
	assert_int_equal(drain(f), 2);
	assert_int_equal(f->sig[1].kind, BH_DET_TELNET);
	assert_int_equal(f->sig[1].count, 10);
}

static void test_blocklist(void **state)
{
	struct fix *f = *state;
	int fd = bpf_map__fd(f->skel->maps.bh_block);
	struct bh_block_key k = { .prefixlen = 96 + 24 };
	__u8 a[16];
	__u32 line = 7;

	v4(k.addr, 203, 0, 113, 0);
	assert_int_equal(bpf_map_update_elem(fd, &k, &line, BPF_ANY), 0);
	memset(&k, 0, sizeof(k));
	k.prefixlen = 32;
	k.addr[0] = 0x20;
	k.addr[1] = 0x01;
	k.addr[2] = 0x0d;
	k.addr[3] = 0xb8;
	assert_int_equal(bpf_map_update_elem(fd, &k, &line, BPF_ANY), 0);

	v4(a, 203, 0, 113, 77);
	assert_int_equal(call(f, DET_OP_BLOCK, cam, a, 0, T0), 1);
	v4(a, 203, 0, 113, 0);
	assert_int_equal(call(f, DET_OP_BLOCK, cam, a, 0, T0), 1);
	v4(a, 203, 0, 114, 1);
	assert_int_equal(call(f, DET_OP_BLOCK, cam, a, 0, T0), 0);
	v4(a, 203, 0, 112, 255);
	assert_int_equal(call(f, DET_OP_BLOCK, cam, a, 0, T0), 0);
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[15] = 1;
	assert_int_equal(call(f, DET_OP_BLOCK, cam, a, 0, T0), 1);
	a[3] = 0xb9;
	assert_int_equal(call(f, DET_OP_BLOCK, cam, a, 0, T0), 0);

	/* through the verdict's use: a hit is an act at once (act: 1) */
	v4(a, 203, 0, 113, 77);
	assert_int_equal(call(f, DET_OP_VERDICT, cam, a,
			      BH_DETN_WHAT(IPPROTO_TCP, 443, BH_DETN_NEW | BH_DETN_INTERNET |
					   BH_DETN_V4), T0),
			 10 + BH_DET_ACT);
	assert_int_equal(call(f, DET_OP_VERDICT, cam, a,
			      BH_DETN_WHAT(IPPROTO_TCP, 443, BH_DETN_NEW | BH_DETN_INTERNET |
					   BH_DETN_V4), T0 + MS),
			 10);
	v4(a, 198, 51, 100, 1);
	assert_int_equal(call(f, DET_OP_VERDICT, laptop, a,
			      BH_DETN_WHAT(IPPROTO_TCP, 443, BH_DETN_NEW | BH_DETN_INTERNET |
					   BH_DETN_V4), T0),
			 0);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->sig[0].kind, BH_DET_BLOCK);
	assert_int_equal(f->sig[0].count, 1);
	assert_int_equal(f->sig[0].port, 443);
}

static void test_deny_rate(void **state)
{
	struct fix *f = *state;
	__u32 drop = BH_DETN_WHAT(IPPROTO_UDP, 5000, BH_DETN_DROP | BH_DETN_V4);
	unsigned int i, at = 0;
	__u8 host[16];

	v4(host, 192, 168, 1, 60);
	/* 99 a second for 10 s: under 1000 in any window from its first */
	for (i = 0; i < 990; i++)
		assert_int_equal(note(f, cam, host, drop, T0 + i * 10 * MS), 0);
	/* a new window, then 1000 in one second */
	for (i = 0; i < 1000 && !at; i++)
		if (note(f, cam, host, drop, T0 + 20000 * MS + i * MS))
			at = i + 1;
	assert_int_equal(at, 1000);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->sig[0].kind, BH_DET_DENY_RATE);
	assert_int_equal(f->sig[0].level, BH_DET_WATCH);
}

static void test_off_and_fire_again(void **state)
{
	struct fix *f = *state;
	struct bh_det_cfg c;
	__u8 host[16];

	v4(host, 192, 168, 1, 70);
	cfg_default(&c);
	c.flags = 0;
	cfg_set(f, &c);
	for (unsigned int p = 1; p <= 30; p++)
		assert_int_equal(note(f, cam, host, SYN_DENIED(p), T0), 0);
	assert_int_equal(drain(f), 0);
	c.flags = BH_DETC_ON;
	c.thr[BH_DET_PORT_SCAN].watch = 0;
	cfg_set(f, &c);
	for (unsigned int p = 1; p <= 15; p++)
		assert_int_equal(note(f, cam, host, SYN_DENIED(p), T0), p == 15 ? BH_DET_ACT : 0);
	/* the window after the signal's: the still-scanning device signals again */
	for (unsigned int p = 1; p <= 15; p++)
		assert_int_equal(note(f, cam, host, SYN_DENIED(100 + p), T0 + 300001 * MS),
				 p == 15 ? BH_DET_ACT : 0);
	assert_int_equal(drain(f), 2);
}

static void test_ipv6_targets(void **state)
{
	struct fix *f = *state;
	__u8 host[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20 };
	int last = 0;

	for (unsigned int p = 1; p <= 15; p++)
		last = note(f, cam, host, BH_DETN_WHAT(IPPROTO_UDP, 10000 + p,
						       BH_DETN_NEW | BH_DETN_DENIED), T0);
	assert_int_equal(last, BH_DET_ACT);
	assert_int_equal(drain(f), 2);
	assert_memory_equal(f->sig[1].addr, host, 16);
	assert_int_equal(f->sig[1].flags & (BH_DETN_V4 >> 24), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_port_scan_fires_once_at_15, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_scan_watch_then_act, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_scan_24_no_25_yes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_scan_random_hosts_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_and_internet_not_scans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stray_attempts_keep_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_telnet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocklist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deny_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off_and_fire_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_targets, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
