// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy_diff.c - unit tests of the policy comparison behind
 * `bulkhead diff` (cmocka): members by MAC (added, removed, moved, renamed),
 * groups, rules by content (reordered rules and ports are no change; a
 * named rule with a new content is changed), defaults, quarantine.allow,
 * and the JSON output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diff.h"
#include "policy.h"

static const char *srcdir(void)
{
	const char *s = getenv("BH_SRCDIR");

	return s && *s ? s : ".";
}

static struct bh_policy *load(const char *yaml)
{
	struct bh_policy *p = NULL;
	struct bh_diag d = {};

	if (bh_policy_load_buf("t.yaml", yaml, strlen(yaml), &p, &d)) {
		bh_diag_print(&d);
		fail_msg("policy does not load");
	}
	return p;
}

/* diff @a -> @b; the printed text in *text (free it) */
static void diff(const char *a, const char *b, struct bh_diff *d, char **text)
{
	struct bh_policy *pa = load(a), *pb = load(b);
	size_t len;
	FILE *f;

	assert_int_equal(bh_policy_diff(pa, pb, d), 0);
	f = open_memstream(text, &len);
	assert_non_null(f);
	bh_diff_print(f, d, false);
	fclose(f);
	bh_policy_free(pa);
	bh_policy_free(pb);
}

static const struct bh_diff_item *find(const struct bh_diff *d, enum bh_diff_section s,
				       enum bh_diff_op op, const char *subject)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].section == s && d->items[i].op == op &&
		    !strcmp(d->items[i].subject, subject))
			return &d->items[i];
	return NULL;
}

#define BASE \
	"version: 1\n" \
	"interfaces: [br-lan]\n" \
	"groups:\n" \
	"  cameras:\n" \
	"    members:\n" \
	"      - {mac: \"02:00:00:00:00:11\", name: porch-cam, ip: [192.168.1.20]}\n" \
	"      - {mac: \"02:00:00:00:00:12\", name: yard-cam}\n" \
	"  nvr:\n" \
	"    members: [{mac: \"02:00:00:00:00:21\", name: nvr}]\n" \
	"  plugs:\n" \
	"    members: [{mac: \"02:00:00:00:00:31\"}]\n" \
	"rules:\n" \
	"  - {from: nvr, to: cameras, proto: tcp, ports: [554, \"8000-8010\"], name: rtsp}\n" \
	"  - {from: [cameras, nvr], to: internet, proto: tcp, ports: [443]}\n"

static void test_identical(void **state)
{
	struct bh_diff d;
	char *text;

	(void)state;
	diff(BASE, BASE, &d, &text);
	assert_int_equal(d.n, 0);
	assert_string_equal(text, "no changes\n");
	free(text);
	bh_diff_free(&d);
}

static void test_reorder_is_no_change(void **state)
{
	/* rules, sources and ports reordered, a port range split in two */
	const char *b =
		"version: 1\n"
		"interfaces: br-lan\n"
		"groups:\n"
		"  plugs:\n"
		"    members: [{mac: \"02-00-00-00-00-31\"}]\n"
		"  nvr:\n"
		"    members: [{mac: \"02:00:00:00:00:21\", name: nvr}]\n"
		"  cameras:\n"
		"    members:\n"
		"      - {mac: \"02:00:00:00:00:12\", name: yard-cam}\n"
		"      - {mac: \"02:00:00:00:00:11\", name: porch-cam, ip: 192.168.1.20}\n"
		"rules:\n"
		"  - {from: [nvr, cameras], to: internet, proto: tcp, ports: [443]}\n"
		"  - {from: nvr, to: cameras, proto: tcp, ports: [\"8005-8010\", 554, \"8000-8004\"], name: rtsp}\n";
	struct bh_diff d;
	char *text;

	(void)state;
	diff(BASE, b, &d, &text);
	if (d.n)
		fprintf(stderr, "%s", text);
	assert_int_equal(d.n, 0);
	free(text);
	bh_diff_free(&d);
}

static void test_members(void **state)
{
	/* yard-cam moves to nvr, plug 31 goes, a fridge comes, porch-cam renamed */
	const char *b =
		"version: 1\n"
		"interfaces: [br-lan]\n"
		"groups:\n"
		"  cameras:\n"
		"    members:\n"
		"      - {mac: \"02:00:00:00:00:11\", name: front-cam, ip: [192.168.1.20]}\n"
		"  nvr:\n"
		"    members:\n"
		"      - {mac: \"02:00:00:00:00:21\", name: nvr}\n"
		"      - {mac: \"02:00:00:00:00:12\", name: yard-cam}\n"
		"  plugs:\n"
		"    members: [{mac: \"02:00:00:00:00:41\", name: fridge}]\n"
		"rules:\n"
		"  - {from: nvr, to: cameras, proto: tcp, ports: [554, \"8000-8010\"], name: rtsp}\n"
		"  - {from: [cameras, nvr], to: internet, proto: tcp, ports: [443]}\n";
	const struct bh_diff_item *it;
	struct bh_diff d;
	char *text;

	(void)state;
	diff(BASE, b, &d, &text);
	assert_int_equal(d.n, 4);
	it = find(&d, BH_DS_MEMBERS, BH_DO_MOVE, "02:00:00:00:00:12");
	assert_non_null(it);
	assert_string_equal(it->name, "yard-cam");
	assert_string_equal(it->old, "cameras");
	assert_string_equal(it->new, "nvr");
	it = find(&d, BH_DS_MEMBERS, BH_DO_REMOVE, "02:00:00:00:00:31");
	assert_non_null(it);
	assert_null(it->name);
	assert_string_equal(it->old, "plugs");
	it = find(&d, BH_DS_MEMBERS, BH_DO_ADD, "02:00:00:00:00:41");
	assert_non_null(it);
	assert_string_equal(it->name, "fridge");
	assert_string_equal(it->new, "plugs");
	it = find(&d, BH_DS_MEMBERS, BH_DO_CHANGE, "02:00:00:00:00:11");
	assert_non_null(it);
	assert_string_equal(it->old, "name porch-cam, ip 192.168.1.20");
	assert_string_equal(it->new, "name front-cam, ip 192.168.1.20");
	assert_non_null(strstr(text, "members:\n"));
	assert_non_null(strstr(text, "  > 02:00:00:00:00:12 (yard-cam): cameras -> nvr\n"));
	assert_non_null(strstr(text, "  + 02:00:00:00:00:41 (fridge) in plugs\n"));
	assert_non_null(strstr(text, "  - 02:00:00:00:00:31 from plugs\n"));
	free(text);
	bh_diff_free(&d);
}

static void test_groups_defaults_quarantine(void **state)
{
	const char *b =
		"version: 1\n"
		"interfaces: [br-lan, wlan0]\n"
		"defaults: {east_west: allow, gateway: allow, unknown: guests}\n"
		"groups:\n"
		"  cameras:\n"
		"    internet: deny\n"
		"    members:\n"
		"      - {mac: \"02:00:00:00:00:11\", name: porch-cam, ip: [192.168.1.20]}\n"
		"      - {mac: \"02:00:00:00:00:12\", name: yard-cam}\n"
		"  nvr:\n"
		"    members: [{mac: \"02:00:00:00:00:21\", name: nvr}]\n"
		"  guests: {}\n"
		"rules:\n"
		"  - {from: nvr, to: cameras, proto: tcp, ports: [554, \"8000-8010\"], name: rtsp}\n"
		"  - {from: [cameras, nvr], to: internet, proto: tcp, ports: [443]}\n"
		"quarantine: {allow: [dhcp, dns, ntp]}\n"
		"dhcp: {leases: /var/lib/misc/dnsmasq.leases}\n";
	const struct bh_diff_item *it;
	struct bh_diff d;
	char *text;

	(void)state;
	diff(BASE, b, &d, &text);
	assert_non_null(find(&d, BH_DS_INTERFACES, BH_DO_ADD, "wlan0"));
	it = find(&d, BH_DS_DEFAULTS, BH_DO_CHANGE, "defaults.east_west");
	assert_non_null(it);
	assert_string_equal(it->old, "deny");
	assert_string_equal(it->new, "allow");
	assert_non_null(find(&d, BH_DS_DEFAULTS, BH_DO_CHANGE, "defaults.gateway"));
	assert_null(find(&d, BH_DS_DEFAULTS, BH_DO_CHANGE, "defaults.internet"));
	it = find(&d, BH_DS_DEFAULTS, BH_DO_CHANGE, "defaults.unknown");
	assert_non_null(it);
	assert_string_equal(it->old, "unknown");
	assert_string_equal(it->new, "guests");
	assert_non_null(find(&d, BH_DS_GROUPS, BH_DO_ADD, "guests"));
	assert_non_null(find(&d, BH_DS_GROUPS, BH_DO_REMOVE, "plugs"));
	assert_non_null(find(&d, BH_DS_GROUPS, BH_DO_REMOVE, "unknown"));
	it = find(&d, BH_DS_GROUPS, BH_DO_CHANGE, "groups.cameras.internet");
	assert_non_null(it);
	assert_string_equal(it->old, "inherit");
	assert_string_equal(it->new, "deny");
	it = find(&d, BH_DS_QUARANTINE, BH_DO_CHANGE, "quarantine.allow");
	assert_non_null(it);
	assert_string_equal(it->old, "dhcp,dns");
	assert_string_equal(it->new, "dhcp,dns,ntp");
	/* the lease file apply binds and the daemon follows */
	it = find(&d, BH_DS_DHCP, BH_DO_CHANGE, "dhcp.leases");
	assert_non_null(it);
	assert_string_equal(it->old, "(none)");
	assert_string_equal(it->new, "/var/lib/misc/dnsmasq.leases");
	/* sections in a fixed order */
	for (size_t i = 1; i < d.n; i++)
		assert_true(d.items[i - 1].section <= d.items[i].section);
	free(text);
	bh_diff_free(&d);
}

/* what apply acts on beyond the rules: audit, flows:, detect: */
static void test_audit_flows_detect(void **state)
{
	const char *a = BASE
		"detect:\n"
		"  port_scan: {watch: 8, act: 15, window: 5m, action: isolate}\n"
		"  exempt: [nvr]\n";
	const char *b =
		"version: 1\n"
		"interfaces: [br-lan]\n"
		"defaults: {mode: audit}\n"
		"groups:\n"
		"  cameras:\n"
		"    audit: true\n"
		"    members:\n"
		"      - {mac: \"02:00:00:00:00:11\", name: porch-cam, ip: [192.168.1.20]}\n"
		"      - {mac: \"02:00:00:00:00:12\", name: yard-cam}\n"
		"  nvr:\n"
		"    members: [{mac: \"02:00:00:00:00:21\", name: nvr}]\n"
		"  plugs:\n"
		"    members: [{mac: \"02:00:00:00:00:31\"}]\n"
		"rules:\n"
		"  - {from: nvr, to: cameras, proto: tcp, ports: [554, \"8000-8010\"], name: rtsp}\n"
		"  - {from: [cameras, nvr], to: internet, proto: tcp, ports: [443]}\n"
		"flows: {max: 4096, keep: 3d}\n"
		"detect:\n"
		"  port_scan: {watch: 8, act: 20, window: 5m, action: isolate, duration: 1h}\n"
		"  exempt: [plugs]\n";
	const struct bh_diff_item *it;
	struct bh_diff d;
	char *text;

	(void)state;
	diff(a, b, &d, &text);
	it = find(&d, BH_DS_DEFAULTS, BH_DO_CHANGE, "defaults.mode");
	assert_non_null(it);
	assert_string_equal(it->old, "enforce");
	assert_string_equal(it->new, "audit");
	it = find(&d, BH_DS_GROUPS, BH_DO_CHANGE, "groups.cameras.audit");
	assert_non_null(it);
	assert_string_equal(it->new, "true");
	it = find(&d, BH_DS_FLOWS, BH_DO_CHANGE, "flows.max");
	assert_non_null(it);
	assert_string_equal(it->old, "16384");
	assert_string_equal(it->new, "4096");
	it = find(&d, BH_DS_FLOWS, BH_DO_CHANGE, "flows.keep");
	assert_non_null(it);
	assert_string_equal(it->new, "3d");
	assert_null(find(&d, BH_DS_FLOWS, BH_DO_CHANGE, "flows.bytes"));
	it = find(&d, BH_DS_DETECT, BH_DO_CHANGE, "detect.port_scan");
	assert_non_null(it);
	assert_string_equal(it->old, "watch 8, act 15, window 300s, isolate");
	assert_string_equal(it->new, "watch 8, act 20, window 300s, isolate for 3600s");
	it = find(&d, BH_DS_DETECT, BH_DO_CHANGE, "detect.exempt");
	assert_non_null(it);
	assert_string_equal(it->old, "nvr");
	assert_string_equal(it->new, "plugs");
	assert_null(find(&d, BH_DS_DETECT, BH_DO_ADD, "detect"));
	assert_null(find(&d, BH_DS_DETECT, BH_DO_CHANGE, "detect.telnet.ports"));
	assert_non_null(strstr(text, "detect:\n  ~ detect.port_scan: watch 8, act 15"));
	free(text);
	bh_diff_free(&d);

	/* detect: taken away */
	diff(a, BASE, &d, &text);
	assert_non_null(find(&d, BH_DS_DETECT, BH_DO_REMOVE, "detect"));
	assert_non_null(strstr(text, "detect"));
	free(text);
	bh_diff_free(&d);
}

static void test_rules(void **state)
{
	/* rtsp gets a port, the 443 rule goes, a deny comes, a rule is named */
	const char *a = BASE "  - {from: plugs, to: 198.51.100.0/24, proto: tcp, ports: [8883]}\n";
	const char *b =
		"version: 1\n"
		"interfaces: [br-lan]\n"
		"groups:\n"
		"  cameras:\n"
		"    members:\n"
		"      - {mac: \"02:00:00:00:00:11\", name: porch-cam, ip: [192.168.1.20]}\n"
		"      - {mac: \"02:00:00:00:00:12\", name: yard-cam}\n"
		"  nvr:\n"
		"    members: [{mac: \"02:00:00:00:00:21\", name: nvr}]\n"
		"  plugs:\n"
		"    members: [{mac: \"02:00:00:00:00:31\"}]\n"
		"rules:\n"
		"  - {from: plugs, to: 198.51.100.0/24, proto: tcp, ports: [8883], name: plug-cloud}\n"
		"  - {from: any, to: cameras, proto: udp, action: deny}\n"
		"  - {from: nvr, to: cameras, proto: tcp, ports: [554, 555, \"8000-8010\"], name: rtsp}\n";
	const struct bh_diff_item *it;
	struct bh_diff d;
	char *text;

	(void)state;
	diff(a, b, &d, &text);
	assert_int_equal(d.n, 4);
	it = find(&d, BH_DS_RULES, BH_DO_CHANGE, "rtsp");
	assert_non_null(it);
	assert_string_equal(it->old, "allow nvr -> cameras tcp 554,8000-8010");
	assert_string_equal(it->new, "allow nvr -> cameras tcp 554-555,8000-8010");
	assert_non_null(find(&d, BH_DS_RULES, BH_DO_REMOVE,
			     "allow [cameras,nvr] -> internet tcp 443"));
	assert_non_null(find(&d, BH_DS_RULES, BH_DO_ADD, "deny any -> cameras udp"));
	it = find(&d, BH_DS_RULES, BH_DO_CHANGE, "allow plugs -> 198.51.100.0/24 tcp 8883");
	assert_non_null(it);
	assert_string_equal(it->old, "-");
	assert_string_equal(it->new, "plug-cloud");
	assert_non_null(strstr(text, "rules:\n"));
	assert_non_null(strstr(text, "  ~ rtsp: allow nvr -> cameras tcp 554,8000-8010 -> "
				     "allow nvr -> cameras tcp 554-555,8000-8010\n"));
	assert_non_null(strstr(text, "  + deny any -> cameras udp\n"));
	free(text);
	bh_diff_free(&d);
}

static void test_duplicate_rules_counted(void **state)
{
	/* a rule given twice, then once: one removal */
	const char *a = BASE "  - {from: nvr, to: gateway, proto: icmp}\n"
			     "  - {from: nvr, to: gateway, proto: icmp}\n";
	const char *b = BASE "  - {from: nvr, to: gateway, proto: icmp}\n";
	struct bh_diff d;
	char *text;

	(void)state;
	diff(a, b, &d, &text);
	assert_int_equal(d.n, 1);
	assert_non_null(find(&d, BH_DS_RULES, BH_DO_REMOVE, "allow nvr -> gateway icmp"));
	free(text);
	bh_diff_free(&d);
}

static void test_rule_text_canonical(void **state)
{
	/* sources and destinations sorted, given twice once; ports merged */
	struct bh_policy *p = load(BASE
		"  - {from: [nvr, cameras, nvr], to: [internet, 10.0.0.0/8, internet], proto: udp,"
		" ports: [\"100-200\", 150, 201, 7], action: deny}\n");
	char *t = bh_rule_text(p, &p->rules[2]);

	(void)state;
	assert_non_null(t);
	assert_string_equal(t, "deny [cameras,nvr] -> [10.0.0.0/8,internet] udp 7,100-201");
	free(t);
	bh_policy_free(p);
}

static void test_json(void **state)
{
	const char *b =
		"version: 1\n"
		"interfaces: [br-lan]\n"
		"groups:\n"
		"  cameras:\n"
		"    members:\n"
		"      - {mac: \"02:00:00:00:00:11\", name: \"porch \\\"cam\\\"\", ip: [192.168.1.20]}\n"
		"      - {mac: \"02:00:00:00:00:12\", name: yard-cam}\n"
		"  nvr:\n"
		"    members: [{mac: \"02:00:00:00:00:21\", name: nvr}]\n"
		"  plugs:\n"
		"    members: [{mac: \"02:00:00:00:00:31\"}]\n"
		"rules:\n"
		"  - {from: nvr, to: cameras, proto: tcp, ports: [554, \"8000-8010\"], name: rtsp}\n"
		"  - {from: [cameras, nvr], to: internet, proto: tcp, ports: [443]}\n";
	struct bh_policy *pa = load(BASE), *pb = load(b);
	struct bh_diff d;
	char *buf = NULL;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(bh_policy_diff(pa, pb, &d), 0);
	f = open_memstream(&buf, &len);
	bh_diff_print(f, &d, true);
	fclose(f);
	assert_string_equal(buf,
		"{\"changes\":1,\"items\":[{\"section\":\"members\",\"op\":\"changed\","
		"\"subject\":\"02:00:00:00:00:11\",\"name\":\"porch \\\"cam\\\"\","
		"\"old\":\"name porch-cam, ip 192.168.1.20\","
		"\"new\":\"name porch \\\"cam\\\", ip 192.168.1.20\"}]}\n");
	free(buf);
	bh_diff_free(&d);
	bh_policy_free(pa);
	bh_policy_free(pb);
}

static void test_examples_against_each_other(void **state)
{
	static const char *const names[] = { "demo", "home", "office", "lab" };
	struct bh_policy *p[4] = {};
	char path[512];

	(void)state;
	for (int i = 0; i < 4; i++) {
		struct bh_diag d = {};

		snprintf(path, sizeof(path), "%s/policies/%s.yaml", srcdir(), names[i]);
		assert_int_equal(bh_policy_load(path, &p[i], &d), 0);
	}
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) {
			struct bh_diff d;

			assert_int_equal(bh_policy_diff(p[i], p[j], &d), 0);
			if (i == j)
				assert_int_equal(d.n, 0);
			else
				assert_true(d.n > 0);
			bh_diff_free(&d);
		}
	for (int i = 0; i < 4; i++)
		bh_policy_free(p[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_reorder_is_no_change),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_groups_defaults_quarantine),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_duplicate_rules_counted),
		cmocka_unit_test(test_rule_text_canonical),
		cmocka_unit_test(test_audit_flows_detect),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_examples_against_each_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
