// SPDX-License-Identifier: GPL-2.0
/*
 * test_detect.c - unit tests of detection's userspace (cmocka; also built
 * with ASan+UBSan): the detect: section (defaults, every key, errors with
 * their file:line:col), its dataplane form, the decisions a signal leads
 * to (watch, alert, isolate for a time or for good, exempt groups and
 * devices, grace periods, already quarantined) with their reason text,
 * the grace file, and the blocklist parser (FireHOL and Spamhaus formats,
 * bad lines, host bits, limits, duplicates, longest match).
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
#include <yaml.h>

#include "blocklist.h"
#include "detect.h"
#include "policy.h"

static const char policy_text[] =
	"version: 1\n"
	"interfaces: [br-lan]\n"
	"groups:\n"
	"  cameras:\n"
	"    members:\n"
	"      - {mac: \"02:00:00:00:00:11\", name: porch-cam}\n"
	"  laptops:\n"
	"    members:\n"
	"      - {mac: \"02:00:00:00:00:21\", name: alice}\n"
	"  nas:\n"
	"    members:\n"
	"      - {mac: \"02:00:00:00:00:31\", name: box}\n";

static const __u8 cam[6] = { 2, 0, 0, 0, 0, 0x11 };
static const __u8 alice[6] = { 2, 0, 0, 0, 0, 0x21 };
static const __u8 box[6] = { 2, 0, 0, 0, 0, 0x31 };
static const __u8 stranger[6] = { 2, 0, 0, 0, 0, 0x99 };

static struct bh_policy *load_policy(void)
{
	struct bh_policy *p = NULL;
	struct bh_diag d = {};

	assert_int_equal(bh_policy_load_buf("p.yaml", policy_text, strlen(policy_text), &p, &d),
			 0);
	return p;
}

/*
 * Parse @yaml's "detect:" value as the policy loader will; returns the
 * parser's result, the diagnostics in @d.
 */
static int parse(const char *yaml, const struct bh_policy *p, struct bh_detect_policy *dp,
		 struct bh_diag *d)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct bh_yview y;
	yaml_node_t *root, *node = NULL;
	int ret;

	memset(d, 0, sizeof(*d));
	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));
	assert_true(yaml_parser_load(&parser, &doc));
	root = yaml_document_get_root_node(&doc);
	assert_non_null(root);
	assert_int_equal(root->type, YAML_MAPPING_NODE);
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, "detect"))
			node = yaml_document_get_node(&doc, pr->value);
	}
	assert_non_null(node);
	bh_yview_libyaml(&y, &doc);
	ret = bh_detect_parse(&y, node, "p.yaml", p, dp, d);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

static void test_defaults(void **state)
{
	struct bh_detect_policy dp;
	struct bh_det_cfg c;
	struct bh_diag d;

	(void)state;
	bh_detect_defaults(&dp);
	assert_false(dp.on);
	bh_detect_to_bpf(&dp, 7, &c);
	assert_int_equal(c.flags, 0);	/* no detect: section, nothing counted */

	assert_int_equal(parse("detect: {}\n", NULL, &dp, &d), 0);
	assert_true(dp.on);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].act, 15);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].window, 300);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].action, BH_DACT_ISOLATE);
	assert_int_equal(dp.sig[BH_DET_ADDR_SCAN].act, 25);
	assert_int_equal(dp.sig[BH_DET_ADDR_SCAN].action, BH_DACT_ALERT);
	assert_int_equal(dp.sig[BH_DET_BLOCK].act, 1);
	assert_int_equal(dp.sig[BH_DET_DENY_RATE].act, 0);
	bh_detect_to_bpf(&dp, 0xabcd, &c);
	assert_int_equal(c.flags, BH_DETC_ON);
	assert_int_equal(c.salt, 0xabcd);
	assert_int_equal(c.thr[BH_DET_PORT_SCAN].act, 15);
	assert_int_equal(c.thr[BH_DET_PORT_SCAN].watch, 8);
	assert_int_equal(c.thr[BH_DET_PORT_SCAN].window_ms, 300000);
	assert_int_equal(c.thr[BH_DET_TELNET].window_ms, 60000);
	assert_int_equal(c.telnet_ports[0], 23);
	assert_int_equal(c.telnet_ports[1], 2323);
	assert_int_equal(c.telnet_ports[2], 0);
	bh_detect_policy_free(&dp);
}

static void test_every_key(void **state)
{
	struct bh_policy *p = load_policy();
	struct bh_detect_policy dp;
	struct bh_det_cfg c;
	struct bh_diag d;

	(void)state;
	assert_int_equal(parse("detect:\n"
			       "  port_scan: {watch: off, act: 20, window: 2m, action: isolate,\n"
			       "              duration: 1h, quarantine: lan}\n"
			       "  address_scan: off\n"
			       "  telnet: {ports: [23, 2323, 5555], act: 5}\n"
			       "  blocklist: {file: /etc/bulkhead/cc.txt, quarantine: full}\n"
			       "  deny_rate: {watch: 500, act: 5000, window: 10s, action: alert}\n"
			       "  exempt: [laptops, box, \"02:00:00:00:00:77\"]\n", p, &dp, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].watch, 0);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].act, 20);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].window, 120);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].duration, 3600);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].qlevel, BH_QLVL_LAN);
	assert_int_equal(dp.sig[BH_DET_PORT_SCAN].pos.line, 2);
	assert_int_equal(dp.sig[BH_DET_ADDR_SCAN].watch, 0);
	assert_int_equal(dp.sig[BH_DET_ADDR_SCAN].act, 0);
	assert_int_equal(dp.telnet_ports[2], 5555);
	assert_int_equal(dp.sig[BH_DET_TELNET].act, 5);
	assert_string_equal(dp.blocklist, "/etc/bulkhead/cc.txt");
	assert_int_equal(dp.sig[BH_DET_DENY_RATE].act, 5000);
	assert_int_equal(dp.n_exempt_groups, 1);
	assert_int_equal(dp.n_exempt_macs, 2);
	bh_detect_to_bpf(&dp, 1, &c);
	assert_int_equal(c.thr[BH_DET_ADDR_SCAN].act, 0);
	assert_int_equal(c.thr[BH_DET_PORT_SCAN].window_ms, 120000);
	assert_int_equal(c.telnet_ports[2], 5555);
	bh_detect_policy_free(&dp);
	bh_policy_free(p);
}

static void test_errors(void **state)
{
	static const struct {
		const char *yaml;
		const char *msg;
	} cases[] = {
		{ "detect: [1]\n", "p.yaml:1:9: detect must be a mapping, not a list" },
		{ "detect:\n  port_scn: {}\n",
		  "p.yaml:2:3: unknown key 'port_scn' in detect (expected: address_scan, port_scan, "
		  "telnet, blocklist, deny_rate, exempt)" },
		{ "detect:\n  port_scan: {act: 200}\n",
		  "p.yaml:2:20: detect.port_scan.act must be a count from 1 to 96 or off, not '200'" },
		{ "detect:\n  port_scan: {act: -1}\n",
		  "p.yaml:2:20: detect.port_scan.act must be a count from 1 to 96 or off, not '-1'" },
		{ "detect:\n  port_scan:\n    watch: 20\n    act: 15\n",
		  "p.yaml:3:12: detect.port_scan.watch (20) must be below detect.port_scan.act (15), "
		  "or off" },
		{ "detect:\n  telnet: {window: 5}\n",
		  "p.yaml:2:20: detect.telnet.window must be a duration from 1s to 1d (\"30s\", "
		  "\"5m\", \"1h\"), not '5'" },
		{ "detect:\n  telnet: {window: 2d}\n",
		  "p.yaml:2:20: detect.telnet.window must be a duration from 1s to 1d (\"30s\", "
		  "\"5m\", \"1h\"), not '2d'" },
		{ "detect:\n  telnet: {action: kill}\n",
		  "p.yaml:2:20: detect.telnet.action must be isolate or alert, not 'kill'" },
		{ "detect:\n  telnet: {quarantine: wan}\n",
		  "p.yaml:2:24: detect.telnet.quarantine must be full or lan, not 'wan'" },
		{ "detect:\n  telnet: {ports: [23, 0]}\n",
		  "p.yaml:2:24: a telnet port must be from 1 to 65535" },
		{ "detect:\n  telnet: {ports: [1,2,3,4,5,6,7,8,9]}\n",
		  "p.yaml:2:19: detect.telnet.ports must list 1 to 8 ports" },
		{ "detect:\n  port_scan: {ports: [23]}\n",
		  "p.yaml:2:15: unknown key 'ports' in detect.port_scan (expected: watch, act, "
		  "window, action, duration, quarantine)" },
		{ "detect:\n  blocklist: {file: cc.txt}\n",
		  "p.yaml:2:21: detect.blocklist.file must be an absolute path, not 'cc.txt'" },
		{ "detect:\n  port_scan: {action: alert, duration: 1h}\n",
		  "p.yaml:2:14: detect.port_scan.duration needs action: isolate" },
		{ "detect:\n  port_scan: {duration: 10s}\n",
		  "p.yaml:2:25: detect.port_scan.duration must be a duration from 1m to 3660d (\"30s\", "
		  "\"5m\", \"1h\"), not '10s'" },
		{ "detect:\n  exempt: [printers]\n",
		  "p.yaml:2:12: detect.exempt: 'printers' is no group, member name or MAC address" },
		{ "detect:\n  exempt: laptops\n",
		  "p.yaml:2:11: detect.exempt must be a list, not a scalar" },
		{ "detect:\n  telnet: {}\n  telnet: off\n",
		  "p.yaml:3:3: duplicate key 'telnet' in detect (first at line 2)" },
	};
	struct bh_policy *p = load_policy();
	struct bh_detect_policy dp;
	struct bh_diag d;
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = parse(cases[i].yaml, p, &dp, &d);

		if (ret != -EINVAL || d.n != 1 || strcmp(d.msg[0], cases[i].msg)) {
			print_error("case %zu: ret %d, %zu errors, first: %s\n", i, ret, d.n,
				    d.n ? d.msg[0] : "(none)");
			bad++;
		}
		bh_detect_policy_free(&dp);
	}
	assert_int_equal(bad, 0);
	bh_policy_free(p);
}

static struct bh_det_signal sig(const __u8 mac[6], int kind, int level, __u32 count,
				__u32 window_ms)
{
	struct bh_det_signal s = { .kind = (__u8)kind, .level = (__u8)level, .count = count,
				   .window_ms = window_ms, .proto = IPPROTO_TCP, .port = 443,
				   .flags = BH_DETN_V4 >> 24 };

	memcpy(s.mac, mac, 6);
	s.addr[10] = s.addr[11] = 0xff;
	s.addr[12] = 192;
	s.addr[13] = 168;
	s.addr[14] = 1;
	s.addr[15] = 20;
	return s;
}

static void test_reasons(void **state)
{
	struct bh_det_signal s;
	char buf[160];

	(void)state;
	s = sig(cam, BH_DET_PORT_SCAN, BH_DET_ACT, 15, 11900);
	bh_detect_reason(&s, buf, sizeof(buf));
	assert_string_equal(buf, "auto: port scan of 192.168.1.20, 15 ports in 12 s");
	s = sig(cam, BH_DET_ADDR_SCAN, BH_DET_ACT, 25, 4300);
	s.port = 80;
	bh_detect_reason(&s, buf, sizeof(buf));
	assert_string_equal(buf, "auto: address scan on tcp/80, 25 hosts in 4.3 s (last 192.168.1.20)");
	s = sig(cam, BH_DET_TELNET, BH_DET_ACT, 10, 200000);
	s.port = 23;
	bh_detect_reason(&s, buf, sizeof(buf));
	assert_string_equal(buf, "auto: telnet worm, 10 hosts tried on tcp/23 in 3 min (last 192.168.1.20)");
	s = sig(cam, BH_DET_BLOCK, BH_DET_ACT, 1, 0);
	memset(s.addr, 0, 16);
	s.addr[0] = 0x20;
	s.addr[1] = 0x01;
	s.addr[2] = 0x0d;
	s.addr[3] = 0xb8;
	s.addr[15] = 7;
	s.flags = 0;
	bh_detect_reason(&s, buf, sizeof(buf));
	assert_string_equal(buf, "auto: blocklisted address 2001:db8::7 (tcp/443), 1 attempt in 0.0 s");
	s = sig(cam, BH_DET_DENY_RATE, BH_DET_WATCH, 1000, 999);
	s.proto = 0;
	s.port = 0;
	bh_detect_reason(&s, buf, sizeof(buf));
	assert_string_equal(buf, "auto: 1000 denied frames in 0.9 s (last to 192.168.1.20 arp)");
}

static void test_decide(void **state)
{
	struct bh_policy *p = load_policy();
	struct bh_grace grace[1] = { { { 2, 0, 0, 0, 0, 0x11 }, 5000 } };
	struct bh_detect_policy dp;
	struct bh_det_decision dec;
	struct bh_det_signal s;
	struct bh_det_env env = { .dp = &dp, .policy = p, .now = 1000 };
	struct bh_diag d;

	(void)state;
	assert_int_equal(parse("detect:\n"
			       "  port_scan: {duration: 2h}\n"
			       "  telnet: {quarantine: lan}\n"
			       "  exempt: [laptops, box]\n", p, &dp, &d), 0);

	/* act, isolate: for the policy's duration, full */
	s = sig(cam, BH_DET_PORT_SCAN, BH_DET_ACT, 15, 12000);
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_ISOLATE);
	assert_int_equal(dec.qlevel, BH_QLVL_FULL);
	assert_int_equal(dec.until, 1000 + 7200);
	assert_string_equal(dec.reason, "auto: port scan of 192.168.1.20, 15 ports in 12 s");
	/* until released, lan only */
	s = sig(stranger, BH_DET_TELNET, BH_DET_ACT, 10, 1000);
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_ISOLATE);
	assert_int_equal(dec.qlevel, BH_QLVL_LAN);
	assert_int_equal(dec.until, 0);
	/* the watch level: an event */
	s = sig(cam, BH_DET_PORT_SCAN, BH_DET_WATCH, 8, 1000);
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_WATCH);
	/* address scans alert by default */
	s = sig(cam, BH_DET_ADDR_SCAN, BH_DET_ACT, 25, 1000);
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_ALERT);
	/* exempt by group, by member name: watched, never isolated */
	s = sig(alice, BH_DET_PORT_SCAN, BH_DET_ACT, 15, 1000);
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_WATCH);
	assert_string_equal(dec.note, "exempt: group laptops");
	s = sig(box, BH_DET_BLOCK, BH_DET_ACT, 1, 0);
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_WATCH);
	assert_string_equal(dec.note, "exempt: device");
	/* a grace period: alerted, not isolated; after it, isolated */
	env.grace = grace;
	env.n_grace = 1;
	s = sig(cam, BH_DET_PORT_SCAN, BH_DET_ACT, 15, 1000);
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_ALERT);
	assert_string_equal(dec.note, "grace period: 1h6m left");
	env.now = 5000;
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_ISOLATE);
	assert_int_equal(dec.until, 5000 + 7200);
	/* already quarantined: nothing more */
	env.quarantined = true;
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_WATCH);
	/* not a signal */
	s.kind = BH_DET_KINDS;
	assert_int_equal(bh_detect_decide(&env, &s, &dec), -EINVAL);
	assert_int_equal(dec.verdict, BH_DV_IGNORE);
	s.kind = BH_DET_PORT_SCAN;
	s.level = 3;
	assert_int_equal(bh_detect_decide(&env, &s, &dec), -EINVAL);
	/* detection off */
	env.quarantined = false;
	s.level = BH_DET_ACT;
	dp.on = false;
	assert_int_equal(bh_detect_decide(&env, &s, &dec), 0);
	assert_int_equal(dec.verdict, BH_DV_IGNORE);
	bh_detect_policy_free(&dp);
	bh_policy_free(p);
}

static void test_grace_file(void **state)
{
	char dir[] = "/tmp/bh-detect-XXXXXX";
	struct bh_grace *g = NULL, *r = NULL;
	size_t n = 0, rn = 0;
	FILE *f;
	char path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(bh_grace_load(dir, &r, &rn), 0);	/* none yet */
	assert_int_equal(rn, 0);
	assert_int_equal(bh_grace_set(&g, &n, cam, 100), 0);
	assert_int_equal(bh_grace_set(&g, &n, alice, 300), 0);
	assert_int_equal(bh_grace_set(&g, &n, cam, 200), 0);	/* replaces its own */
	assert_int_equal(n, 2);
	assert_int_equal(bh_grace_until(g, n, cam, 150), 200);
	assert_int_equal(bh_grace_until(g, n, cam, 200), 0);
	assert_int_equal(bh_grace_until(g, n, box, 0), 0);
	assert_int_equal(bh_grace_save(dir, g, n), 0);
	assert_int_equal(bh_grace_load(dir, &r, &rn), 0);
	assert_int_equal(rn, 2);
	assert_memory_equal(r[1].mac, alice, 6);
	assert_int_equal(r[1].until, 300);
	assert_int_equal(bh_grace_prune(r, rn, 250), 1);
	assert_memory_equal(r[0].mac, alice, 6);
	free(r);
	free(g);

	snprintf(path, sizeof(path), "%s/%s", dir, BH_GRACE_FILE);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("02:00:00:00:00:11 100 extra\n", f);
	fclose(f);
	assert_int_equal(bh_grace_load(dir, &r, &rn), -EINVAL);
	f = fopen(path, "w");
	fputs("nonsense 100\n", f);
	fclose(f);
	assert_int_equal(bh_grace_load(dir, &r, &rn), -EINVAL);
	f = fopen(path, "w");
	fputs("02:00:00:00:00:11 100", f);	/* no newline at the end */
	fclose(f);
	assert_int_equal(bh_grace_load(dir, &r, &rn), 0);
	assert_int_equal(rn, 1);
	free(r);
	unlink(path);
	rmdir(dir);
}

/* ---- the blocklist -------------------------------------------------------------- */

static void blparse(const char *text, struct bh_blocklist *b, struct bh_diag *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(bh_blocklist_parse("L", text, strlen(text), b, d), 0);
}

static bool listed(const struct bh_blocklist *b, const char *s)
{
	struct bh_addr a;

	assert_int_equal(bh_parse_addr(s, &a), 0);
	return bh_blocklist_match(b, &a) != NULL;
}

static void test_blocklist_formats(void **state)
{
	struct bh_blocklist b;
	struct bh_block_key k;
	struct bh_diag d;

	(void)state;
	blparse("#\n# firehol_level1\n#\n1.10.16.0/20\n2.57.122.0/24\n"
		"; Spamhaus DROP List\n5.134.128.0/19 ; SBL270738\n"
		"   203.0.113.7   # a C&C host\n\r\n\t\n"
		"2001:db8::/32\n2001:db8:1::1\n2.57.122.0/24 ; again\n2.57.0.0/16\n", &b, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(b.n_bad, 0);
	assert_int_equal(b.n_dup, 1);
	assert_int_equal(b.n, 7);
	assert_true(listed(&b, "1.10.31.255"));
	assert_false(listed(&b, "1.10.32.0"));
	assert_true(listed(&b, "203.0.113.7"));
	assert_false(listed(&b, "203.0.113.8"));
	assert_true(listed(&b, "2001:db8:ffff::1"));
	assert_false(listed(&b, "2001:db9::1"));
	assert_true(listed(&b, "5.134.159.1"));
	/* the longest match, with its line */
	{
		struct bh_addr a;

		bh_parse_addr("2.57.122.9", &a);
		assert_int_equal(bh_blocklist_match(&b, &a)->cidr.plen, 24);
		assert_int_equal(bh_blocklist_match(&b, &a)->line, 5);
		bh_parse_addr("2.57.1.9", &a);
		assert_int_equal(bh_blocklist_match(&b, &a)->cidr.plen, 16);
	}
	/* sorted: the keys an LPM trie takes */
	for (size_t i = 0; i < b.n; i++) {
		bh_blocklist_key(&b.v[i], &k);
		if (b.v[i].cidr.addr.v4)
			assert_int_equal(k.prefixlen, 96 + b.v[i].cidr.plen);
		else
			assert_int_equal(k.prefixlen, b.v[i].cidr.plen);
	}
	bh_blocklist_free(&b);
}

static void test_blocklist_bad_lines(void **state)
{
	static const char *const want[] = {
		"L:1: '1.2.3.4/24' has host bits set: read as 1.2.3.0/24",
		"L:2: '0.0.0.0/0' is wider than a blocklist takes (IPv4 /8, IPv6 /16 at most)",
		"L:3: '::/0' is wider than a blocklist takes (IPv4 /8, IPv6 /16 at most)",
		"L:4: one address or CIDR a line: '5.6.7.8' after '1.2.3.4'",
		"L:5: 'not-an-ip' is not an IPv4 or IPv6 address or CIDR",
		"L:6: prefix length of '1.2.3.4/33' is out of range",
		"L:7: '300.1.1.1' is not an IPv4 or IPv6 address or CIDR",
		"L:8: a NUL byte in the line",
		"L:9: line longer than 1024 bytes",
	};
	char text[4096], *p = text;
	struct bh_blocklist b;
	struct bh_diag d;

	(void)state;
	p += sprintf(p, "1.2.3.4/24\n0.0.0.0/0\n::/0\n1.2.3.4 5.6.7.8\nnot-an-ip\n"
		     "1.2.3.4/33\n300.1.1.1\n9.9.9.9");
	*p++ = '\0';
	p += sprintf(p, "\n");
	memset(p, '1', 1100);
	p += 1100;
	p += sprintf(p, "\n8.8.8.8\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(bh_blocklist_parse("L", text, (size_t)(p - text), &b, &d), 0);
	assert_int_equal(d.n, 9);
	for (size_t i = 0; i < 9; i++)
		assert_string_equal(d.msg[i], want[i]);
	assert_int_equal(b.n_bad, 8);		/* the host-bits one is used */
	assert_int_equal(b.n, 2);
	assert_true(listed(&b, "1.2.3.200"));
	assert_true(listed(&b, "8.8.8.8"));
	bh_blocklist_free(&b);
}

static void test_blocklist_limits(void **state)
{
	size_t n = BH_MAX_BLOCK + 3, len = 0;
	struct bh_blocklist b;
	struct bh_diag d;
	char *text = malloc(n * 20);

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "10.%zu.%zu.%zu\n", i >> 16, (i >> 8) & 255,
				       i & 255);
	memset(&d, 0, sizeof(d));
	assert_int_equal(bh_blocklist_parse("L", text, len, &b, &d), 0);
	assert_int_equal(b.n, BH_MAX_BLOCK);
	assert_int_equal(b.n_bad, 1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msg[0],
			    "L:262145: more than 262144 entries: this one and the rest are ignored");
	bh_blocklist_free(&b);
	free(text);

	memset(&d, 0, sizeof(d));
	assert_int_equal(bh_blocklist_read("/nonexistent/list", &b, &d), -ENOENT);
	assert_string_equal(d.msg[0], "/nonexistent/list: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_grace_file),
		cmocka_unit_test(test_blocklist_formats),
		cmocka_unit_test(test_blocklist_bad_lines),
		cmocka_unit_test(test_blocklist_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
