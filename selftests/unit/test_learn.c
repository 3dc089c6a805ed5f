// SPDX-License-Identifier: GPL-2.0
/*
 * test_learn.c - unit tests of `bulkhead learn` (cmocka; also built with
 * ASan+UBSan): the draft passes the policy loader and the compiler, allows
 * every flow observed (judged by the reference evaluator) and no other,
 * keeps the running policy's denies, names new groups from DHCP, merges
 * ports into ranges and internet classes into one rule, is a fixed point,
 * and counts what audit mode recorded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "compile.h"
#include "detect.h"
#include "diff.h"
#include "flowlog.h"
#include "leases.h"
#include "learn.h"
#include "policy.h"

static const char running_yaml[] =
	"version: 1\n"
	"interfaces: [br-lan]\n"
	"defaults: {east_west: deny, internet: allow, gateway: deny, unknown: guests}\n"
	"groups:\n"
	"  cameras:\n"
	"    internet: deny\n"
	"    members:\n"
	"      - {mac: \"02:00:00:00:10:01\", name: porch-cam, ip: [192.168.1.21]}\n"
	"  nvr:\n"
	"    members:\n"
	"      - {mac: \"02:00:00:00:10:10\", name: \"the \\\"nvr\\\"\", ip: [192.168.1.20, \"fd00::20\"]}\n"
	"  guests:\n"
	"    internet: deny\n"
	"rules:\n"
	"  - {name: nvr-records, from: nvr, to: cameras, proto: tcp, ports: [554]}\n"
	"  - {name: guests-no-ssh, from: guests, to: any, proto: tcp, ports: [22], action: deny}\n"
	"quarantine: {allow: [dhcp, dns, ntp]}\n";

static const char leases_text[] =
	"0 02:00:00:00:20:01 192.168.1.101 Living_Room-TV! *\n"
	"0 02:00:00:00:20:02 192.168.1.102 phone *\n"
	"0 02:00:00:00:20:04 192.168.1.104 phone *\n"
	"0 02:00:00:00:20:05 192.168.1.105 gateway *\n";

#define NVR	"02:00:00:00:10:10"
#define CAM	"02:00:00:00:10:01"
#define TV	"02:00:00:00:20:01"
#define PHONE	"02:00:00:00:20:02"
#define DEV3	"02:00:00:00:20:03"
#define PHONE2	"02:00:00:00:20:04"
#define GWNAME	"02:00:00:00:20:05"

static struct bh_flow_rec rec(const char *smac, __u8 kind, const char *dmac, const char *daddr,
			      __u8 proto, __u16 port, __u8 verdict)
{
	struct bh_flow_rec r = { .key = { .kind = kind, .proto = proto, .port = port,
					  .verdict = verdict },
				 .first = 1728000000, .last = 1728003600, .packets = 10, .bytes = 1000 };
	struct bh_cidr c;

	assert_int_equal(bh_parse_mac(smac, r.key.smac), 0);
	if (dmac)
		assert_int_equal(bh_parse_mac(dmac, r.key.dmac), 0);
	assert_int_equal(bh_parse_cidr(daddr, &c), 0);
	memcpy(r.key.daddr, c.addr.a, 16);
	if (c.addr.v4)
		r.key.flags |= BH_FLOW_F_V4;
	if (kind == BH_FK_INTERNET)
		r.key.plen = c.plen;
	if (proto == 0)
		r.key.flags |= BH_FLOW_F_ARP;
	return r;
}

struct fixture {
	struct bh_policy *running;
	struct bh_leases leases;
	struct bh_flow_set s;
	struct bh_flow_rec deny_ssh;	/* learned, but a deny rule wins */
	struct bh_flow_rec enforced;	/* dropped under enforce */
};

static void add(struct fixture *fx, struct bh_flow_rec r)
{
	assert_int_equal(bh_flow_set_add(&fx->s, &r), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct bh_diag d = { 0 };

	if (!fx || bh_policy_load_buf("running.yaml", running_yaml, sizeof(running_yaml) - 1,
				      &fx->running, &d) ||
	    bh_leases_parse("leases", leases_text, sizeof(leases_text) - 1, &fx->leases, &d))
		return -1;
	bh_leases_live(&fx->leases, 0);
	/* the NVR pulls RTSP (allowed) and the ONVIF ports (not yet) */
	add(fx, rec(NVR, BH_FK_DEVICE, CAM, "192.168.1.21", IPPROTO_TCP, 554, BH_FV_PASS));
	for (__u16 p = 8000; p <= 8010; p++)
		add(fx, rec(NVR, BH_FK_DEVICE, CAM, "192.168.1.21", IPPROTO_TCP, p, BH_FV_WOULD_DROP));
	/* discovery */
	add(fx, rec(TV, BH_FK_MULTICAST, NULL, "224.0.0.251", IPPROTO_UDP, 5353, BH_FV_WOULD_DROP));
	add(fx, rec(TV, BH_FK_MULTICAST, NULL, "239.255.255.250", IPPROTO_UDP, 1900, BH_FV_WOULD_DROP));
	add(fx, rec(PHONE, BH_FK_MULTICAST, NULL, "ff02::fb", IPPROTO_UDP, 5353, BH_FV_WOULD_DROP));
	/* casting, both ports */
	add(fx, rec(PHONE, BH_FK_DEVICE, TV, "192.168.1.101", IPPROTO_TCP, 8009, BH_FV_WOULD_DROP));
	add(fx, rec(PHONE, BH_FK_DEVICE, TV, "192.168.1.101", IPPROTO_TCP, 8008, BH_FV_WOULD_DROP));
	/* the camera's clouds, two classes */
	add(fx, rec(CAM, BH_FK_INTERNET, NULL, "198.51.100.0/24", IPPROTO_TCP, 443, BH_FV_WOULD_DROP));
	add(fx, rec(CAM, BH_FK_INTERNET, NULL, "203.0.113.0/24", IPPROTO_TCP, 443, BH_FV_WOULD_DROP));
	/* the gateway's NTP, ping */
	add(fx, rec(DEV3, BH_FK_GATEWAY, NULL, "192.168.1.1", IPPROTO_UDP, 123, BH_FV_WOULD_DROP));
	add(fx, rec(NVR, BH_FK_GATEWAY, NULL, "fd00::1", IPPROTO_ICMPV6, 128, BH_FV_WOULD_DROP));
	/* DNS is built in: covered */
	add(fx, rec(DEV3, BH_FK_GATEWAY, NULL, "192.168.1.1", IPPROTO_UDP, 53, BH_FV_PASS));
	/* guests have no internet: the phone's v6 /48 */
	add(fx, rec(PHONE, BH_FK_INTERNET, NULL, "2001:db8:5::/48", IPPROTO_TCP, 443, BH_FV_WOULD_DROP));
	/* an address of the LAN no device has */
	add(fx, rec(PHONE2, BH_FK_LAN, NULL, "192.168.1.77", IPPROTO_TCP, 9100, BH_FV_WOULD_DROP));
	/* a scattered set of ports: at most BH_LEARN_MAX_RANGES ranges */
	for (__u16 p = 0; p < 30; p++)
		add(fx, rec(TV, BH_FK_DEVICE, PHONE, "192.168.1.102", IPPROTO_UDP,
			    (__u16)(10000 + p * 3 + (p > 20 ? 500 : 0)), BH_FV_WOULD_DROP));
	/* not learned: ARP, GRE, a drop under enforce */
	add(fx, rec(GWNAME, BH_FK_DEVICE, TV, "192.168.1.101", 0, 0, BH_FV_WOULD_DROP));
	add(fx, rec(GWNAME, BH_FK_INTERNET, NULL, "192.0.2.0/24", 47, 0, BH_FV_WOULD_DROP));
	fx->enforced = rec(DEV3, BH_FK_DEVICE, CAM, "192.168.1.21", IPPROTO_TCP, 80, BH_FV_DROP);
	add(fx, fx->enforced);
	/* learned, but the running policy's deny stays and wins */
	fx->deny_ssh = rec(PHONE, BH_FK_DEVICE, DEV3, "192.168.1.103", IPPROTO_TCP, 22, BH_FV_WOULD_DROP);
	add(fx, fx->deny_ssh);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	bh_flow_set_free(&fx->s);
	bh_leases_free(&fx->leases);
	bh_policy_free(fx->running);
	free(fx);
	return 0;
}

/* learn into a string and load it: the draft must pass the loader and compile */
static char *learn(const struct bh_flow_set *s, const struct bh_policy *running,
		   const struct bh_leases *l, unsigned int flags, struct bh_learn_stats *st,
		   struct bh_policy **draft)
{
	struct bh_learn_opts o = { .flags = flags };
	struct bh_diag d = { 0 };
	struct bh_compiled c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (bh_learn_draft(s, running, l, &o, f, st, &d)) {
		bh_diag_print(&d);
		fail();
	}
	fclose(f);
	if (getenv("BH_SHOW"))
		fputs(buf, stderr);
	if (bh_policy_load_buf("draft.yaml", buf, len, draft, &d))
		bh_diag_print(&d);
	assert_non_null(*draft);
	assert_int_equal(bh_compile(*draft, &c, &d), 0);
	bh_compiled_free(&c);
	return buf;
}

static bool passes(const struct bh_policy *p, const struct bh_flow_rec *r)
{
	struct bh_eval_result res;

	assert_int_equal(bh_learn_judge(p, r, &res), 0);
	return res.pass;
}

static void test_draft(void **state)
{
	struct fixture *fx = *state;
	struct bh_learn_stats st;
	struct bh_policy *draft;
	char *text;
	size_t n_wd = 0;

	text = learn(&fx->s, fx->running, &fx->leases, 0, &st, &draft);

	/* every flow observed passes, but the one a deny rule keeps out */
	for (size_t i = 0; i < fx->s.n; i++) {
		const struct bh_flow_rec *r = &fx->s.v[i];

		if (r->key.verdict == BH_FV_WOULD_DROP)
			n_wd++;
		if (r->key.flags & BH_FLOW_F_ARP || r->key.proto == 47)
			continue;
		if (r->key.verdict == BH_FV_DROP ||
		    !memcmp(&r->key, &fx->deny_ssh.key, sizeof(r->key)))
			assert_false(passes(draft, r));
		else
			assert_true(passes(draft, r));
	}
	/* what was not observed stays out */
	{
		struct bh_flow_rec no[] = {
			rec(TV, BH_FK_DEVICE, CAM, "192.168.1.21", IPPROTO_TCP, 554, BH_FV_PASS),
			rec(PHONE, BH_FK_DEVICE, TV, "192.168.1.101", IPPROTO_TCP, 8010, BH_FV_PASS),
			rec(NVR, BH_FK_DEVICE, CAM, "192.168.1.21", IPPROTO_TCP, 8011, BH_FV_PASS),
			rec(CAM, BH_FK_INTERNET, NULL, "192.0.2.0/24", IPPROTO_TCP, 443, BH_FV_PASS),
			rec(CAM, BH_FK_INTERNET, NULL, "198.51.100.0/24", IPPROTO_TCP, 80, BH_FV_PASS),
			rec(TV, BH_FK_MULTICAST, NULL, "239.255.255.250", IPPROTO_UDP, 5000, BH_FV_PASS),
			rec(DEV3, BH_FK_GATEWAY, NULL, "192.168.1.1", IPPROTO_TCP, 22, BH_FV_PASS),
			rec(TV, BH_FK_DEVICE, PHONE, "192.168.1.102", IPPROTO_UDP, 9999, BH_FV_PASS),
		};

		for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
			assert_false(passes(draft, &no[i]));
	}
	/* groups named from DHCP, unique, sanitised; the rest from the MAC */
	assert_true(bh_policy_group(draft, "living_room-tv") >= 0);
	assert_true(bh_policy_group(draft, "phone") >= 0);
	assert_true(bh_policy_group(draft, "phone-2") >= 0);
	assert_true(bh_policy_group(draft, "dev-020000002003") >= 0);
	assert_true(bh_policy_group(draft, "dev-020000002005") >= 0);	/* host "gateway" */
	assert_int_equal(draft->groups[bh_policy_group(draft, "phone")].internet, BH_ACT_DENY);
	assert_non_null(strstr(text, "  living_room-tv:  # learned: 02:00:00:00:20:01, DHCP host name Living_Room-TV!, was in the unknown group\n"
				     "    internet: deny\n"
				     "    members:\n"
				     "      - {mac: \"02:00:00:00:20:01\", name: \"Living_Room-TV!\"}\n"));
	/* the running policy kept, the unknown group's deny extended to the new groups */
	assert_non_null(strstr(text, "      - {mac: \"02:00:00:00:10:10\", name: \"the \\\"nvr\\\"\", ip: [\"192.168.1.20\", \"fd00::20\"]}\n"));
	assert_non_null(strstr(text, "  - {from: [guests, living_room-tv, phone, dev-020000002003, phone-2, dev-020000002005], "
				     "to: [any], proto: tcp, ports: [22], action: deny, name: guests-no-ssh}\n"));
	/* ranges, classes, comments */
	assert_non_null(strstr(text, "  # learned: 11 flows (11 would_drop), 110 packets, last seen 2024-10-04 01:00 UTC\n"
				     "  - {from: nvr, to: cameras, proto: tcp, ports: [\"8000-8010\"]}\n"));
	assert_non_null(strstr(text, "  - {from: phone, to: living_room-tv, proto: tcp, ports: [\"8008-8009\"]}\n"));
	assert_non_null(strstr(text, "  - {from: cameras, to: [198.51.100.0/24, 203.0.113.0/24], proto: tcp, ports: [443]}\n"));
	assert_non_null(strstr(text, "  - {from: living_room-tv, to: multicast, proto: udp, ports: [1900, 5353]}\n"));
	assert_non_null(strstr(text, "  - {from: phone, to: [2001:db8:5::/48], proto: tcp, ports: [443]}\n"));
	assert_non_null(strstr(text, "  - {from: phone-2, to: guests, proto: tcp, ports: [9100]}\n"));
	assert_non_null(strstr(text, "  - {from: nvr, to: gateway, proto: icmpv6}\n"));
	assert_non_null(strstr(text, "  - {from: living_room-tv, to: phone, proto: udp, ports: [\"10000-10060\", \"10563-10587\"]}\n"));
	{
		int g = bh_policy_group(draft, "living_room-tv"), h = bh_policy_group(draft, "phone");

		for (size_t i = 0; i < draft->n_rules; i++) {
			const struct bh_rule_def *r = &draft->rules[i];

			if (r->from[0].group == g && r->to[0].kind == BH_T_GROUP && r->to[0].group == h)
				assert_true(r->n_ports <= BH_LEARN_MAX_RANGES);
		}
	}
	assert_non_null(strstr(text, "quarantine:\n  allow: [dhcp, dns, ntp]\n"));

	/* the counts */
	assert_int_equal(st.records, fx->s.n);
	assert_int_equal(st.new_groups, 5);
	assert_int_equal(st.denied, 1);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(st.covered, 2);	/* RTSP, DNS */
	assert_int_equal(st.learned, fx->s.n - 5);
	assert_int_equal(st.unresolved, 1);	/* the ssh deny */
	assert_int_equal(st.audit, n_wd);
	assert_int_equal(st.audit_running_drops, n_wd);
	assert_int_equal(st.audit_draft_allows, n_wd - 3);	/* not ARP, GRE, ssh */
	free(text);
	bh_policy_free(draft);

	/* the running policy in audit mode: its drops are staged, still drops;
	 * the draft enforces (no mode: key) */
	fx->running->audit = true;
	text = learn(&fx->s, fx->running, &fx->leases, 0, &st, &draft);
	fx->running->audit = false;
	assert_int_equal(st.audit_running_drops, n_wd);
	assert_int_equal(st.audit_draft_allows, n_wd - 3);
	assert_false(draft->audit);
	assert_null(strstr(text, "mode:"));
	free(text);
	bh_policy_free(draft);
}

/* the running policy's detect: goes into the draft unchanged */
static void test_detect_kept(void **state)
{
	static const char yaml_detect[] =
		"detect:\n"
		"  port_scan: {watch: 6, act: 12, window: 2m, action: isolate, duration: 1h, quarantine: lan}\n"
		"  address_scan: off\n"
		"  telnet: {act: 5, window: 1m, ports: [23, 2323, 8023], action: isolate}\n"
		"  blocklist: {file: %s, act: 1}\n"
		"  exempt: [nvr, \"02:00:00:00:10:01\"]\n";
	struct fixture *fx = *state;
	struct bh_policy *running = NULL, *draft;
	char bl[] = "/tmp/bh-learn-bl.XXXXXX";
	struct bh_learn_stats st;
	struct bh_diag d = {};
	struct bh_diff df;
	char *text, *src;
	size_t len;
	int fd;

	fd = mkstemp(bl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "203.0.113.7\n", 12), 12);
	close(fd);
	len = sizeof(running_yaml) + sizeof(yaml_detect) + sizeof(bl);
	src = malloc(len);
	assert_non_null(src);
	strcpy(src, running_yaml);
	snprintf(src + strlen(src), len - strlen(src), yaml_detect, bl);
	if (bh_policy_load_buf("running.yaml", src, strlen(src), &running, &d))
		bh_diag_print(&d);
	assert_non_null(running);
	text = learn(&fx->s, running, &fx->leases, 0, &st, &draft);
	assert_non_null(strstr(text, "\ndetect:\n"));
	assert_non_null(draft->detect);
	assert_true(draft->detect->on);
	assert_int_equal(bh_policy_diff(running, draft, &df), 0);
	for (size_t i = 0; i < df.n; i++)
		assert_int_not_equal(df.items[i].section, BH_DS_DETECT);
	bh_diff_free(&df);
	free(text);
	bh_policy_free(draft);

	/* and a running policy without detect: gives a draft without */
	text = learn(&fx->s, fx->running, &fx->leases, 0, &st, &draft);
	assert_null(strstr(text, "detect:"));
	free(text);
	bh_policy_free(draft);
	bh_policy_free(running);
	free(src);
	unlink(bl);
}

/* learning again from the draft learns nothing: a fixed point */
static void test_fixed_point(void **state)
{
	struct fixture *fx = *state;
	struct bh_learn_stats st, st2;
	struct bh_policy *draft, *again;
	char *text, *text2;

	text = learn(&fx->s, fx->running, &fx->leases, 0, &st, &draft);
	text2 = learn(&fx->s, draft, &fx->leases, 0, &st2, &again);
	assert_int_equal(st2.new_groups, 0);
	assert_int_equal(st2.rules, 1);		/* the ssh one, which the deny still wins */
	assert_int_equal(st2.learned, 1);
	assert_int_equal(st2.covered, st.covered + st.learned - 1);
	free(text);
	free(text2);
	bh_policy_free(draft);
	bh_policy_free(again);
}

/* explicit: a rule also for what the policy allows; no policy: all new */
static void test_explicit_and_no_policy(void **state)
{
	struct fixture *fx = *state;
	struct bh_learn_stats st;
	struct bh_policy *draft;
	char *text;

	text = learn(&fx->s, fx->running, &fx->leases, BH_LEARN_EXPLICIT, &st, &draft);
	assert_int_equal(st.covered, 0);
	assert_non_null(strstr(text, "  - {from: nvr, to: cameras, proto: tcp, ports: [554, \"8000-8010\"]}\n"));
	assert_non_null(strstr(text, "  - {from: dev-020000002003, to: gateway, proto: udp, ports: [53, 123]}\n"));
	free(text);
	bh_policy_free(draft);

	text = learn(&fx->s, NULL, NULL, 0, &st, &draft);
	assert_non_null(strstr(text, "interfaces: [br-lan]\n"));
	assert_int_equal(st.new_groups, 7);
	assert_true(bh_policy_group(draft, "dev-020000001010") >= 0);
	assert_true(bh_policy_group(draft, "unknown") >= 0);
	/* internet is allowed by default there: no CIDR rules needed */
	assert_null(strstr(text, "198.51.100.0/24"));
	for (size_t i = 0; i < fx->s.n; i++) {
		const struct bh_flow_rec *r = &fx->s.v[i];

		if (!(r->key.flags & BH_FLOW_F_ARP) && r->key.proto != 47 && r->key.verdict != BH_FV_DROP)
			assert_true(passes(draft, r));
	}
	free(text);
	bh_policy_free(draft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_draft, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detect_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explicit_and_no_policy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
