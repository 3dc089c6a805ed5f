// SPDX-License-Identifier: GPL-2.0
/*
 * test_leases.c - unit tests of the dnsmasq lease file parser and of the
 * leases bound into a policy (cmocka; also built with ASan+UBSan): good
 * lines, every kind of bad line with its exact message, the DHCPv6 part,
 * the limits, hostile host names, expiry, and the bindings the compiler
 * then writes (fixed bindings win, one MAC per address, unknown devices).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compile.h"
#include "leases.h"
#include "policy.h"

static void parse(const char *text, struct bh_leases *l, struct bh_diag *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(bh_leases_parse("L", text, strlen(text), l, d), 0);
}

static void test_good_lines(void **state)
{
	struct bh_leases l;
	struct bh_diag d;

	(void)state;
	parse("1764000000 02:00:00:00:00:61 192.168.50.61 tv 01:02:00:00:00:00:00:61\n"
	      "0 02-00-00-00-00-62 192.168.50.62 * *\n"
	      "\n"
	      "  1764000001\t02:00:00:00:00:63 10.0.0.63 PHONE\n"	/* no client id */
	      "1764000002 02:00:00:00:00:64 192.168.50.64 last *", &l, &d);	/* no newline */
	assert_int_equal(d.n, 0);
	assert_int_equal(l.n_bad, 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[0].expiry, 1764000000ULL);
	assert_memory_equal(l.v[0].mac, "\x02\0\0\0\0\x61", 6);
	assert_memory_equal(l.v[0].ip, "\xc0\xa8\x32\x3d", 4);
	assert_string_equal(l.v[0].host, "tv");
	assert_int_equal(l.v[0].line, 1);
	assert_int_equal(l.v[1].expiry, 0);
	assert_string_equal(l.v[1].host, "");
	assert_string_equal(l.v[2].host, "PHONE");
	assert_int_equal(l.v[2].line, 4);
	assert_string_equal(l.v[3].host, "last");
	bh_leases_free(&l);
}

static void test_bad_lines(void **state)
{
	static const char *const want[] = {
		"L:1: expected 'EXPIRY MAC IP HOSTNAME CLIENT-ID', found 3 fields",
		"L:2: expected 'EXPIRY MAC IP HOSTNAME CLIENT-ID', found 8 fields",
		"L:3: expiry 'soon' is not a number of seconds",
		"L:4: expiry '123456789012345678901' is not a number of seconds",
		"L:5: '01-02:00:00:00:00:61' is not an Ethernet MAC address",
		"L:6: 03:00:00:00:00:61 is a multicast or broadcast address, not a device",
		"L:7: 00:00:00:00:00:00 is the all-zero address, not a device",
		"L:8: '192.168.50.300' is not an IPv4 address",
		"L:9: 'fd00::61' is not an IPv4 address (an IPv6 lease before the 'duid' line)",
		"L:10: 0.0.0.0 is not a device's address",
		"L:11: 127.0.0.1 is not a device's address",
		"L:12: 224.0.0.251 is not a device's address",
		"L:13: 255.255.255.255 is not a device's address",
		"L:14: a NUL byte in the line",
		"L:15: 'x?[2J?' is not an Ethernet MAC address",
	};
	char text[2048];
	struct bh_leases l;
	struct bh_diag d;
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text),
		"1 02:00:00:00:00:61 192.168.50.61\n"
		"1 02:00:00:00:00:61 192.168.50.61 a b c d e\n"
		"soon 02:00:00:00:00:61 192.168.50.61 a *\n"
		"123456789012345678901 02:00:00:00:00:61 192.168.50.61 a *\n"
		"1 01-02:00:00:00:00:61 192.168.50.61 a *\n"
		"1 03:00:00:00:00:61 192.168.50.61 a *\n"
		"1 00:00:00:00:00:00 192.168.50.61 a *\n"
		"1 02:00:00:00:00:61 192.168.50.300 a *\n"
		"1 02:00:00:00:00:61 fd00::61 a *\n"
		"1 02:00:00:00:00:61 0.0.0.0 a *\n"
		"1 02:00:00:00:00:61 127.0.0.1 a *\n"
		"1 02:00:00:00:00:61 224.0.0.251 a *\n"
		"1 02:00:00:00:00:61 255.255.255.255 a *\n"
		"1 02:00:00:00:00:61 192.168.50.61 aXb *\n"
		"1 x\x1b[2J\xff 192.168.50.61 a *\n"
		"1 02:00:00:00:00:61 192.168.50.61 good *\n");
	text[strstr(text, "aXb") - text + 1] = '\0';	/* the NUL byte of line 14 */
	memset(&d, 0, sizeof(d));
	assert_int_equal(bh_leases_parse("L", text, n, &l, &d), 0);
	assert_int_equal(l.n_bad, 15);
	assert_int_equal(d.n, 15);
	for (size_t i = 0; i < d.n; i++)
		assert_string_equal(d.msg[i], want[i]);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].host, "good");
	assert_int_equal(l.v[0].line, 16);
	bh_leases_free(&l);
}

static void test_long_line(void **state)
{
	char *text = malloc(BH_LEASE_LINE_MAX + 200);
	struct bh_leases l;
	struct bh_diag d;
	size_t n;

	(void)state;
	assert_non_null(text);
	n = (size_t)sprintf(text, "1 02:00:00:00:00:61 192.168.50.61 ");
	memset(text + n, 'a', BH_LEASE_LINE_MAX);
	n += BH_LEASE_LINE_MAX;
	n += (size_t)sprintf(text + n, " *\n0 02:00:00:00:00:62 192.168.50.62 b *\n");
	parse(text, &l, &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msg[0], "L:1: line longer than 1024 bytes");
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].line, 2);
	bh_leases_free(&l);
	free(text);
}

static void test_ipv6_part(void **state)
{
	struct bh_leases l;
	struct bh_diag d;

	(void)state;
	parse("1764000000 02:00:00:00:00:61 192.168.50.61 tv *\n"
	      "duid 00:01:00:01:2c:5e:8d:a1:02:00:00:00:00:01\n"
	      "1764000000 1234567 fd00:50::61 tv 00:01:00:01\n"
	      "1764000000 T99 fd00:50::62 * 00:02\n"
	      "anything at all here is DHCPv6\n", &l, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.n_v6, 3);
	assert_int_equal(l.n_bad, 0);
	bh_leases_free(&l);
}

static void test_limits(void **state)
{
	size_t cap = (BH_LEASES_MAX + 10) * 64, n = 0;
	char *text = malloc(cap), host[200];
	struct bh_leases l;
	struct bh_diag d;

	(void)state;
	assert_non_null(text);
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	n += (size_t)snprintf(text + n, cap - n, "0 02:00:00:00:ff:ff 10.255.255.1 %s *\n", host);
	for (unsigned int i = 1; i < BH_LEASES_MAX + 5; i++)
		n += (size_t)snprintf(text + n, cap - n, "0 02:00:00:00:%02x:%02x 10.0.%u.%u * *\n",
				      i >> 8, i & 0xff, i >> 8, i & 0xff);
	parse(text, &l, &d);
	assert_int_equal(l.n, BH_LEASES_MAX);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msg[0], "L:8193: more than 8192 leases: this one and the rest are ignored");
	assert_int_equal(strlen(l.v[0].host), BH_LEASE_HOST_MAX);
	bh_leases_free(&l);
	free(text);
}

static void test_hostile_names(void **state)
{
	struct bh_leases l;
	struct bh_diag d;

	(void)state;
	parse("0 02:00:00:00:00:61 192.168.50.61 \x1b]0;pwned\x07\x1b[2J *\n"
	      "0 02:00:00:00:00:62 192.168.50.62 \"quoted\"\\back\\ *\n"
	      "0 02:00:00:00:00:63 192.168.50.63 caf\xc3\xa9\x7f\x01 *\n", &l, &d);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].host, "?]0;pwned??[2J");
	/* printable: kept; JSON and Prometheus writers escape them */
	assert_string_equal(l.v[1].host, "\"quoted\"\\back\\");
	assert_string_equal(l.v[2].host, "caf????");
	for (size_t i = 0; i < l.n; i++)
		for (const char *c = l.v[i].host; *c; c++)
			assert_true(*c > 0x20 && *c < 0x7f);
	bh_leases_free(&l);
}

static void test_live_and_format(void **state)
{
	struct bh_leases l, r;
	struct bh_diag d;
	size_t len;
	char *text;

	(void)state;
	parse("100 02:00:00:00:00:63 192.168.50.63 gone *\n"
	      "300 02:00:00:00:00:62 192.168.50.62 * *\n"
	      "200 02:00:00:00:00:61 192.168.50.61 tv *\n"
	      "400 02:00:00:00:00:62 192.168.50.62 phone *\n"	/* the same pair, longer */
	      "0 02:00:00:00:00:61 192.168.50.70 * *\n", &l, &d);
	bh_leases_live(&l, 150);
	assert_int_equal(l.n, 3);
	assert_memory_equal(l.v[0].mac, "\x02\0\0\0\0\x61", 6);
	assert_memory_equal(l.v[0].ip, "\xc0\xa8\x32\x3d", 4);
	assert_memory_equal(l.v[1].ip, "\xc0\xa8\x32\x46", 4);
	assert_memory_equal(l.v[2].mac, "\x02\0\0\0\0\x62", 6);
	assert_int_equal(l.v[2].expiry, 400);
	assert_string_equal(l.v[2].host, "phone");
	assert_string_equal(bh_leases_host(&l, (const __u8 *)"\x02\0\0\0\0\x61"), "tv");
	assert_null(bh_leases_host(&l, (const __u8 *)"\x02\0\0\0\0\x63"));
	assert_int_equal(bh_leases_next_expiry(&l, 150), 200);
	assert_int_equal(bh_leases_next_expiry(&l, 200), 400);
	assert_int_equal(bh_leases_next_expiry(&l, 400), 0);

	text = bh_leases_format(&l, &len);
	assert_non_null(text);
	assert_string_equal(text, "200 02:00:00:00:00:61 192.168.50.61 tv *\n"
				  "0 02:00:00:00:00:61 192.168.50.70 * *\n"
				  "400 02:00:00:00:00:62 192.168.50.62 phone *\n");
	parse(text, &r, &d);
	bh_leases_live(&r, 0);
	assert_true(bh_leases_same_bindings(&l, &r));
	r.v[0].ip[3]++;
	assert_false(bh_leases_same_bindings(&l, &r));
	r.n--;
	assert_false(bh_leases_same_bindings(&l, &r));
	free(text);
	bh_leases_free(&r);
	bh_leases_free(&l);
}

/* ---- bound into a policy ---------------------------------------------------- */

static const char bind_yaml[] =
	"version: 1\n"
	"interfaces: [br-lan]\n"
	"dhcp: {leases: /var/lib/misc/dnsmasq.leases}\n"
	"groups:\n"
	"  cams:\n"
	"    members:\n"
	"      - {mac: \"02:00:00:00:00:11\", name: cam, ip: [192.168.50.11]}\n"
	"      - {mac: \"02:00:00:00:00:12\", ip: [\"fd00:50::12\"]}\n"
	"  unknown: {}\n";

static const struct bh_dev_ent *dev(const struct bh_compiled *c, __u8 last)
{
	for (size_t i = 0; i < c->n_devs; i++)
		if (c->devs[i].k.mac[5] == last)
			return &c->devs[i];
	return NULL;
}

static const struct bh_ip_ent *ip4(const struct bh_compiled *c, __u8 last)
{
	for (size_t i = 0; i < c->n_ips; i++)
		if (!memcmp(c->ips[i].k.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\xa8\x32", 15) &&
		    c->ips[i].k.addr[15] == last)
			return &c->ips[i];
	return NULL;
}

static void test_bind(void **state)
{
	struct bh_policy *p;
	struct bh_compiled c;
	struct bh_leases l;
	struct bh_diag d;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(bh_policy_load_buf("t.yaml", bind_yaml, strlen(bind_yaml), &p, &d), 0);
	assert_string_equal(p->dhcp_leases, "/var/lib/misc/dnsmasq.leases");
	parse("0 02:00:00:00:00:11 192.168.50.99 cam-dhcp *\n"	/* fixed IPv4: policy decides */
	      "0 02:00:00:00:00:12 192.168.50.12 cam2 *\n"	/* IPv6 only: gets it */
	      "0 02:00:00:00:00:61 192.168.50.61 tv *\n"		/* unknown device */
	      "0 02:00:00:00:00:61 192.168.50.71 * *\n"		/* a second lease */
	      "0 02:00:00:00:00:62 192.168.50.11 evil *\n"	/* the camera's fixed address */
	      "0 02:00:00:00:00:63 192.168.50.64 first *\n"
	      "0 02:00:00:00:00:62 192.168.50.64 second *\n"	/* leased twice */
	      "50 02:00:00:00:00:65 192.168.50.65 ended *\n", &l, &d);
	bh_leases_live(&l, 100);
	memset(&d, 0, sizeof(d));
	assert_int_equal(bh_leases_bind(p, &l, &d), 4);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.msg[0], "lease of 192.168.50.11 to 02:00:00:00:00:62: the address is bound to 02:00:00:00:00:11 in the policy; ignored");
	assert_string_equal(d.msg[1], "lease of 192.168.50.64 to 02:00:00:00:00:62: the address is leased to 02:00:00:00:00:63 too; ignored");
	/* new members: in the unknown group, no name */
	assert_int_equal(p->groups[p->unknown_group].n_members, 2);
	assert_null(p->groups[p->unknown_group].members[0].name);

	assert_int_equal(bh_compile(p, &c, &d), 0);
	assert_int_equal(c.n_devs, 4);
	assert_int_equal(dev(&c, 0x11)->v.flags, BH_DEV_HAS_V4);
	assert_int_equal(dev(&c, 0x12)->v.flags, BH_DEV_HAS_V4 | BH_DEV_HAS_V6);
	assert_int_equal(dev(&c, 0x61)->v.flags, BH_DEV_HAS_V4);
	assert_int_equal(dev(&c, 0x61)->v.group, p->unknown_group);
	assert_int_equal(dev(&c, 0x63)->v.flags, BH_DEV_HAS_V4);
	assert_null(dev(&c, 0x62));
	assert_null(dev(&c, 0x65));
	assert_null(ip4(&c, 99));
	assert_int_equal(ip4(&c, 11)->v.mac[5], 0x11);
	assert_int_equal(ip4(&c, 12)->v.mac[5], 0x12);
	assert_int_equal(ip4(&c, 61)->v.mac[5], 0x61);
	assert_int_equal(ip4(&c, 71)->v.mac[5], 0x61);
	assert_int_equal(ip4(&c, 64)->v.mac[5], 0x63);
	assert_null(ip4(&c, 65));
	bh_compiled_free(&c);
	bh_leases_free(&l);
	bh_policy_free(p);
}

static void test_read_missing(void **state)
{
	struct bh_leases l;
	struct bh_diag d = {};

	(void)state;
	assert_int_equal(bh_leases_read("/nonexistent/dnsmasq.leases", &l, &d), -ENOENT);
	assert_int_equal(l.n, 0);
	assert_int_equal(bh_leases_saved("/nonexistent", &l), 0);
	assert_int_equal(l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_lines),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_ipv6_part),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_live_and_format),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_read_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
