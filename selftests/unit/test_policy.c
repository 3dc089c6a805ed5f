// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy.c - unit tests of the policy loader and compiler (cmocka):
 * every example policy loads, every bad policy gives exactly its expected
 * error lines, the compiler folds rules as the BPF lookup chain needs, and
 * a randomized check compares the compiled maps, looked up the way the BPF
 * program does, with a direct evaluation of the rules.
 */
#include <dirent.h>
#include <errno.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "compile.h"
#include "policy.h"

static const char *srcdir(void)
{
	const char *s = getenv("BH_SRCDIR");

	return s && *s ? s : ".";
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int load_str(const char *yaml, struct bh_policy **p, struct bh_diag *d)
{
	memset(d, 0, sizeof(*d));
	return bh_policy_load_buf("t.yaml", yaml, strlen(yaml), p, d);
}

/* ---- every example and good policy loads and compiles ------------------- */

static void load_dir(const char *sub, bool good)
{
	char dir[512], path[1024];
	struct dirent *de;
	DIR *dh;
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/%s", srcdir(), sub);
	dh = opendir(dir);
	assert_non_null(dh);
	while ((de = readdir(dh))) {
		struct bh_policy *p = NULL;
		struct bh_compiled c;
		struct bh_diag d = {};
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		files++;
		if (good) {
			int ret = bh_policy_load(path, &p, &d);

			if (ret)
				bh_diag_print(&d);
			assert_int_equal(ret, 0);
			assert_int_equal(bh_compile(p, &c, &d), 0);
			assert_true(c.n_rules >= p->n_rules);
			bh_compiled_free(&c);
			bh_policy_free(p);
		}
	}
	closedir(dh);
	assert_true(files > 0);
}

static void test_examples_load(void **state)
{
	(void)state;
	load_dir("policies", true);
}

static void test_good_corpus_loads(void **state)
{
	(void)state;
	load_dir("selftests/policies/good", true);
}

/* ---- the bad corpus: exact error lines ------------------------------------- */

static void test_bad_corpus(void **state)
{
	char dir[512];
	struct dirent *de;
	DIR *dh;
	int files = 0, wrong = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/selftests/policies/bad", srcdir());
	dh = opendir(dir);
	assert_non_null(dh);
	while ((de = readdir(dh))) {
		char path[1024], errpath[1024], rel[600], got[BH_DIAG_MAX * 520];
		struct bh_policy *p = NULL;
		struct bh_diag d = {};
		size_t len = strlen(de->d_name), off = 0;
		char *want;

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
			continue;
		files++;
		/* errors name the file as given: use the path relative to srcdir */
		snprintf(rel, sizeof(rel), "selftests/policies/bad/%s", de->d_name);
		snprintf(path, sizeof(path), "%s/%s", srcdir(), rel);
		snprintf(errpath, sizeof(errpath), "%s/%.*s.err", dir, (int)(len - 5), de->d_name);
		want = slurp(errpath);
		if (!want) {
			print_message("# %s: no .err file\n", rel);
			wrong++;
			continue;
		}
		{
			char *buf = slurp(path);
			int ret;

			assert_non_null(buf);
			ret = bh_policy_load_buf(rel, buf, strlen(buf), &p, &d);
			free(buf);
			if (ret == 0) {
				struct bh_compiled c;

				ret = bh_compile(p, &c, &d);
				if (!ret)
					bh_compiled_free(&c);
				bh_policy_free(p);
			}
			if (ret == 0) {
				print_message("# %s: accepted, but it is in the bad corpus\n", rel);
				wrong++;
				free(want);
				continue;
			}
		}
		got[0] = '\0';
		for (size_t i = 0; i < d.n; i++)
			off += (size_t)snprintf(got + off, sizeof(got) - off, "%s\n", d.msg[i]);
		if (strcmp(got, want)) {
			print_message("# %s:\n#   want: %s#   got:  %s", rel, want, got);
			wrong++;
		}
		free(want);
	}
	closedir(dh);
	print_message("# %d bad policies checked\n", files);
	assert_true(files >= 30);
	assert_int_equal(wrong, 0);
}

static void test_errors_collected(void **state)
{
	struct bh_policy *p = NULL;
	struct bh_diag d;

	(void)state;
	assert_int_equal(load_str("version: 3\ninterfaces: []\nfoo: 1\n", &p, &d), -EINVAL);
	assert_null(p);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.msg[0], "t.yaml:1:10: unsupported version '3' (this format is version: 1)");
}

static void test_missing_file(void **state)
{
	struct bh_policy *p = NULL;
	struct bh_diag d = {};

	(void)state;
	assert_int_equal(bh_policy_load("/nonexistent/x.yaml", &p, &d), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msg[0], "/nonexistent/x.yaml: No such file or directory");
}

static void test_alias_bomb(void **state)
{
	const char *bomb =
		"a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n";
	struct bh_policy *p = NULL;
	struct bh_diag d;

	(void)state;
	assert_int_equal(load_str(bomb, &p, &d), -EINVAL);
	assert_true(d.n >= 1);
	assert_non_null(strstr(d.msg[0], "anchors and aliases are not allowed"));
}

/* ---- parsers ------------------------------------------------------------------ */

static void test_parse_mac(void **state)
{
	__u8 m[6];
	char buf[18];

	(void)state;
	assert_int_equal(bh_parse_mac("02:AB:cd:00:00:11", m), 0);
	bh_format_mac(m, buf);
	assert_string_equal(buf, "02:ab:cd:00:00:11");
	assert_int_equal(bh_parse_mac("02-ab-cd-00-00-11", m), 0);
	assert_int_equal(bh_parse_mac("02:ab-cd:00:00:11", m), -EINVAL);
	assert_int_equal(bh_parse_mac("02:ab:cd:00:00", m), -EINVAL);
	assert_int_equal(bh_parse_mac("02:ab:cd:00:00:1g", m), -EINVAL);
	assert_int_equal(bh_parse_mac("02:ab:cd:00:00:111", m), -EINVAL);
}

static void test_parse_cidr(void **state)
{
	struct bh_cidr c;

	(void)state;
	assert_int_equal(bh_parse_cidr("203.0.113.0/24", &c), 0);
	assert_true(c.addr.v4);
	assert_int_equal(c.plen, 24);
	assert_int_equal(bh_parse_cidr("203.0.113.1/24", &c), -EEXIST);
	assert_int_equal(bh_parse_cidr("203.0.113.0/33", &c), -ERANGE);
	assert_int_equal(bh_parse_cidr("2001:db8::/32", &c), 0);
	assert_false(c.addr.v4);
	assert_int_equal(bh_parse_cidr("2001:db8::1/32", &c), -EEXIST);
	assert_int_equal(bh_parse_cidr("10.0.0.1", &c), 0);
	assert_int_equal(c.plen, 32);
	assert_int_equal(bh_parse_cidr("10.0.0.0/-1", &c), -EINVAL);
	assert_int_equal(bh_parse_cidr("10.0.0.0/", &c), -EINVAL);
}

/* ---- the compiler ------------------------------------------------------------- */

static const struct bh_pol_val *find_pol(const struct bh_compiled *c, __u16 sg, __u16 dg,
					 __u8 proto, __u16 port)
{
	for (size_t i = 0; i < c->n_pols; i++) {
		const struct bh_pol_key *k = &c->pols[i].k;

		if (k->sgroup == sg && k->dgroup == dg && k->proto == proto && k->port == port)
			return &c->pols[i].v;
	}
	return NULL;
}

/* The BPF lookup chain over compiled entries; -1 when no entry decides. */
static int chain(const struct bh_compiled *c, __u16 sg, __u16 dg, __u8 proto,
		 __u16 port, __u32 *rule)
{
	const struct bh_pol_val *v = NULL;

	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && port)
		v = find_pol(c, sg, dg, proto, port);
	if (!v)
		v = find_pol(c, sg, dg, proto, 0);
	if (!v)
		v = find_pol(c, sg, dg, BH_PROTO_ANY, 0);
	if (!v)
		return -1;
	if (rule)
		*rule = v->rule_id;
	return v->action;
}

#define HDR "version: 1\ninterfaces: [br0]\n"

static void compile_str(const char *yaml, struct bh_policy **p, struct bh_compiled *c)
{
	struct bh_diag d;
	int ret = load_str(yaml, p, &d);

	if (ret)
		bh_diag_print(&d);
	assert_int_equal(ret, 0);
	ret = bh_compile(*p, c, &d);
	if (ret)
		bh_diag_print(&d);
	assert_int_equal(ret, 0);
}

/* the size limit is the documented one: 16 MiB loads, a byte more does not */
static void test_size_limit(void **state)
{
	char path[] = "/tmp/bh-size-XXXXXX";
	struct bh_policy *p = NULL;
	struct bh_diag d;
	size_t n = BH_POLICY_MAX_BYTES;
	char *big = malloc(n + 1);
	int fd;

	(void)state;
	assert_non_null(big);
	memset(big, '#', n + 1);
	memcpy(big, "version: 1\ninterfaces: [br0]\n", 30);
	big[n - 1] = '\n';
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, n), (ssize_t)n);
	assert_int_not_equal(bh_policy_load(path, &p, &d), -EFBIG);
	bh_policy_free(p);
	p = NULL;
	assert_int_equal(write(fd, "#", 1), 1);
	close(fd);
	assert_int_equal(bh_policy_load(path, &p, &d), -EFBIG);
	assert_true(d.n > 0);
	assert_non_null(strstr(d.msg[d.n - 1], "larger than 16 MiB"));
	unlink(path);
	free(big);
}

/* metrics label rules by key: moving a rule keeps it, names win, repeats get #N */
static void test_rule_keys_stable(void **state)
{
	struct bh_policy *p1, *p2;
	struct bh_compiled c1, c2;

	(void)state;
	compile_str(HDR "groups:\n  a: {}\n  b: {}\n"
		    "rules:\n  - {from: a, to: b, proto: tcp, ports: [80]}\n"
		    "  - {name: web, from: b, to: a, proto: tcp, ports: [443]}\n"
		    "  - {name: web, from: a, to: internet}\n", &p1, &c1);
	compile_str(HDR "groups:\n  a: {}\n  b: {}\n\n# moved\nrules:\n"
		    "  - {name: web, from: b, to: a, proto: tcp, ports: [443]}\n"
		    "  - {from: a,   to: b, proto: tcp, ports: [80]}\n", &p2, &c2);
	assert_string_equal(c1.rules[0].key, c2.rules[1].key);
	assert_memory_equal(c1.rules[0].key, "r-", 2);
	assert_string_equal(c1.rules[1].key, "web");
	assert_string_equal(c2.rules[0].key, "web");
	assert_string_equal(c1.rules[2].key, "web#2");
	assert_string_not_equal(c1.rules[0].key, c1.rules[2].key);
	assert_string_equal(c1.rules[3].key, "built-in: dhcp");
	bh_compiled_free(&c1);
	bh_compiled_free(&c2);
	bh_policy_free(p1);
	bh_policy_free(p2);
}

static void test_deny_wins(void **state)
{
	struct bh_policy *p;
	struct bh_compiled c;
	__u32 rule;

	(void)state;
	compile_str(HDR "groups: {a: {}, b: {}}\nrules:\n"
		    "  - {from: a, to: b, proto: tcp, ports: [80]}\n"
		    "  - {from: a, to: b, action: deny}\n"
		    "  - {from: a, to: b, proto: udp}\n", &p, &c);
	/* the any-proto deny folds into the port-specific and udp entries */
	assert_int_equal(chain(&c, 0, 1, IPPROTO_TCP, 80, &rule), BH_ACT_DENY);
	assert_int_equal(rule, 1);
	assert_int_equal(chain(&c, 0, 1, IPPROTO_UDP, 53, &rule), BH_ACT_DENY);
	assert_int_equal(chain(&c, 0, 1, IPPROTO_ICMP, 0, NULL), BH_ACT_DENY);
	/* the other direction: no rule */
	assert_int_equal(chain(&c, 1, 0, IPPROTO_TCP, 80, NULL), -1);
	bh_compiled_free(&c);
	bh_policy_free(p);
}

static void test_ranges_and_any_port(void **state)
{
	struct bh_policy *p;
	struct bh_compiled c;
	__u32 rule;

	(void)state;
	compile_str(HDR "groups: {a: {}, b: {}}\nrules:\n"
		    "  - {from: a, to: b, proto: tcp, ports: [554, \"8000-8010\"]}\n"
		    "  - {from: a, to: b, proto: tcp, ports: [8005], action: deny}\n", &p, &c);
	assert_int_equal(chain(&c, 0, 1, IPPROTO_TCP, 554, &rule), BH_ACT_ALLOW);
	assert_int_equal(rule, 0);
	assert_int_equal(chain(&c, 0, 1, IPPROTO_TCP, 8000, NULL), BH_ACT_ALLOW);
	assert_int_equal(chain(&c, 0, 1, IPPROTO_TCP, 8010, NULL), BH_ACT_ALLOW);
	assert_int_equal(chain(&c, 0, 1, IPPROTO_TCP, 8005, &rule), BH_ACT_DENY);
	assert_int_equal(rule, 1);
	assert_int_equal(chain(&c, 0, 1, IPPROTO_TCP, 8011, NULL), -1);
	assert_int_equal(chain(&c, 0, 1, IPPROTO_UDP, 554, NULL), -1);
	bh_compiled_free(&c);
	bh_policy_free(p);
}

static void test_builtins_overridable(void **state)
{
	struct bh_policy *p;
	struct bh_compiled c;
	__u32 rule;

	(void)state;
	compile_str(HDR "groups: {a: {}, b: {}}\nrules:\n"
		    "  - {from: b, to: gateway, proto: udp, ports: [53], action: deny}\n", &p, &c);
	assert_int_equal(c.n_rules, 3);
	assert_string_equal(c.rules[1].label, "built-in: dhcp");
	assert_string_equal(c.rules[2].label, "built-in: dns");
	assert_int_equal(chain(&c, 0, BH_GRP_GATEWAY, IPPROTO_UDP, 53, &rule), BH_ACT_ALLOW);
	assert_int_equal(rule, 2);
	assert_int_equal(chain(&c, 0, BH_GRP_GATEWAY, IPPROTO_UDP, 67, &rule), BH_ACT_ALLOW);
	assert_int_equal(rule, 1);
	assert_int_equal(chain(&c, 0, BH_GRP_GATEWAY, IPPROTO_TCP, 22, NULL), -1);
	assert_int_equal(chain(&c, 1, BH_GRP_GATEWAY, IPPROTO_UDP, 53, &rule), BH_ACT_DENY);
	assert_int_equal(rule, 0);
	assert_int_equal(chain(&c, 1, BH_GRP_GATEWAY, IPPROTO_TCP, 53, NULL), BH_ACT_ALLOW);
	bh_compiled_free(&c);
	bh_policy_free(p);
}

static void test_unknown_group_and_defaults(void **state)
{
	struct bh_policy *p;
	struct bh_compiled c;

	(void)state;
	compile_str(HDR "defaults: {east_west: allow, internet: deny, gateway: allow}\n"
		    "groups:\n  cams: {internet: allow, members: [{mac: \"02:00:00:00:00:01\", ip: [10.0.0.1, \"fe80::1\"]}]}\n"
		    "quarantine: {allow: [dns, ntp]}\n", &p, &c);
	assert_int_equal(p->n_groups, 2);	/* cams + implicit unknown */
	assert_string_equal(p->groups[p->unknown_group].name, "unknown");
	assert_int_equal(c.cfg.unknown_group, 1);
	assert_true(c.cfg.flags & BH_CFG_EW_ALLOW);
	assert_true(c.cfg.flags & BH_CFG_GW_ALLOW);
	assert_int_equal(c.cfg.qallow, BH_SVC_DNS | BH_SVC_NTP);
	assert_int_equal(c.groups[0].internet, BH_ACT_ALLOW);
	assert_int_equal(c.groups[1].internet, BH_ACT_DENY);
	assert_int_equal(c.n_devs, 1);
	/* a link-local v6 binding does not make the source check strict */
	assert_int_equal(c.devs[0].v.flags, BH_DEV_HAS_V4);
	assert_int_equal(c.n_ips, 2);
	/* east_west allow: every pair may ARP, and each group talks to some */
	assert_int_equal(c.n_talks, 4 + 2);
	assert_int_equal(c.talks[2].k.ga, 0);
	assert_int_equal(c.talks[2].k.gb, BH_GRP_SOME);
	assert_int_equal(c.talks[5].k.ga, 1);
	assert_int_equal(c.talks[5].k.gb, BH_GRP_SOME);
	bh_compiled_free(&c);
	bh_policy_free(p);
}

static void test_cidr_classes(void **state)
{
	struct bh_policy *p;
	struct bh_compiled c;
	__u16 outer = 0, inner = 0;

	(void)state;
	compile_str(HDR "defaults: {internet: deny}\ngroups: {a: {}, b: {}}\nrules:\n"
		    "  - {from: a, to: 10.0.0.0/8, proto: tcp, ports: [443]}\n"
		    "  - {from: a, to: 10.1.0.0/16, proto: udp, ports: [53]}\n"
		    "  - {from: a, to: internet, proto: icmp}\n", &p, &c);
	assert_int_equal(c.n_inets, 2);
	for (size_t i = 0; i < c.n_inets; i++) {
		assert_int_equal(c.inets[i].k.sgroup, 0);
		if (c.inets[i].k.prefixlen == 32 + 96 + 8)
			outer = c.inets[i].v.dgroup;
		if (c.inets[i].k.prefixlen == 32 + 96 + 16)
			inner = c.inets[i].v.dgroup;
	}
	assert_true(outer >= BH_GRP_CIDR_BASE && inner >= BH_GRP_CIDR_BASE && outer != inner);
	/* the /16 class carries the /8 rule too: nested prefixes fold */
	assert_int_equal(chain(&c, 0, inner, IPPROTO_TCP, 443, NULL), BH_ACT_ALLOW);
	assert_int_equal(chain(&c, 0, inner, IPPROTO_UDP, 53, NULL), BH_ACT_ALLOW);
	assert_int_equal(chain(&c, 0, outer, IPPROTO_TCP, 443, NULL), BH_ACT_ALLOW);
	assert_int_equal(chain(&c, 0, outer, IPPROTO_UDP, 53, NULL), -1);
	/* to: internet covers every class and plain internet */
	assert_int_equal(chain(&c, 0, inner, IPPROTO_ICMP, 0, NULL), BH_ACT_ALLOW);
	assert_int_equal(chain(&c, 0, BH_GRP_INTERNET, IPPROTO_ICMP, 0, NULL), BH_ACT_ALLOW);
	assert_int_equal(chain(&c, 0, BH_GRP_INTERNET, IPPROTO_TCP, 443, NULL), -1);
	/* group b has no classes */
	assert_int_equal(chain(&c, 1, BH_GRP_INTERNET, IPPROTO_ICMP, 0, NULL), -1);
	bh_compiled_free(&c);
	bh_policy_free(p);
}

static void test_too_big(void **state)
{
	char *yaml = malloc(1 << 20);
	struct bh_policy *p;
	struct bh_compiled c;
	struct bh_diag d;
	size_t off;
	int ret;

	(void)state;
	/* 20 groups, every pair with all 65535 tcp ports: far past the map */
	off = (size_t)sprintf(yaml, HDR "groups:\n");
	for (int i = 0; i < 20; i++)
		off += (size_t)sprintf(yaml + off, "  g%d: {}\n", i);
	off += (size_t)sprintf(yaml + off, "rules:\n  - {from: any, to: any, proto: tcp, ports: [\"1-65535\"]}\n");
	assert_int_equal(load_str(yaml, &p, &d), 0);
	memset(&d, 0, sizeof(d));
	ret = bh_compile(p, &c, &d);
	assert_int_equal(ret, -E2BIG);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.msg[0], "the maps hold"));
	bh_policy_free(p);
	free(yaml);
}

/* ---- randomized: compiled lookup chain == direct evaluation ------------------ */

static unsigned long long rng;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

/* Direct evaluation, written from the policy semantics, not the compiler. */
static int direct(const struct bh_policy *p, __u16 sg, int dkind, __u16 dg,
		  const struct bh_addr *daddr, __u8 proto, __u16 port)
{
	int allow = 0;

	for (size_t i = 0; i < p->n_rules + 3; i++) {
		const struct bh_rule_def *r = i < p->n_rules ? &p->rules[i] : NULL;
		bool from = !r, to = false, pp;
		__u8 rproto;

		if (r) {
			for (size_t f = 0; f < r->n_from; f++)
				if (r->from[f].kind == BH_T_ANY || r->from[f].group == sg)
					from = true;
			for (size_t t = 0; t < r->n_to; t++) {
				const struct bh_target *tg = &r->to[t];

				if (tg->kind == BH_T_ANY ||
				    (tg->kind == BH_T_GROUP && dkind == 0 && tg->group == dg) ||
				    (tg->kind == BH_T_GATEWAY && dkind == 1) ||
				    (tg->kind == BH_T_MULTICAST && dkind == 3) ||
				    (tg->kind == BH_T_INTERNET && dkind == 2))
					to = true;
				if (tg->kind == BH_T_CIDR && dkind == 2 &&
				    tg->cidr.addr.v4 == daddr->v4) {
					unsigned int bits = tg->cidr.addr.v4 ? 96u + tg->cidr.plen : tg->cidr.plen;
					bool in = true;

					for (unsigned int b = 0; b < bits; b++)
						if ((tg->cidr.addr.a[b / 8] ^ daddr->a[b / 8]) & (0x80 >> (b % 8)))
							in = false;
					to |= in;
				}
			}
			rproto = r->proto;
			pp = rproto == BH_PROTO_ANY || (rproto == proto && !r->n_ports);
			if (rproto == proto && r->n_ports && port)
				for (size_t k = 0; k < r->n_ports; k++)
					if (port >= r->ports[k].lo && port <= r->ports[k].hi)
						pp = true;
		} else {
			/* built-ins: dhcp udp 67/547, dns udp+tcp 53, to the gateway */
			to = dkind == 1;
			pp = (proto == IPPROTO_UDP && (port == 67 || port == 547 || port == 53)) ||
			     (proto == IPPROTO_TCP && port == 53);
		}
		if (!from || !to || !pp)
			continue;
		if (r && r->action == BH_ACT_DENY)
			return BH_ACT_DENY;
		allow = 1;
	}
	if (allow)
		return BH_ACT_ALLOW;
	switch (dkind) {
	case 0:
		return p->east_west;
	case 1:
		return p->gateway;
	case 2:
		return p->groups[sg].internet >= 0 ? p->groups[sg].internet : p->internet;
	default:
		return BH_ACT_DENY;
	}
}

/* The BPF side: LPM class for internet, the chain, then the default. */
static int compiled(const struct bh_policy *p, const struct bh_compiled *c, __u16 sg,
		    int dkind, __u16 dg, const struct bh_addr *daddr, __u8 proto, __u16 port)
{
	int best = -1, v;

	if (dkind == 1)
		dg = BH_GRP_GATEWAY;
	else if (dkind == 3)
		dg = BH_GRP_MULTICAST;
	else if (dkind == 2) {
		dg = BH_GRP_INTERNET;
		for (size_t i = 0; i < c->n_inets; i++) {
			const struct bh_inet_key *k = &c->inets[i].k;
			unsigned int bits = k->prefixlen - 32;
			bool in = k->sgroup == sg;

			for (unsigned int b = 0; in && b < bits; b++)
				if ((k->addr[b / 8] ^ daddr->a[b / 8]) & (0x80 >> (b % 8)))
					in = false;
			if (in && (int)bits > best) {
				best = (int)bits;
				dg = c->inets[i].v.dgroup;
			}
		}
	}
	v = chain(c, sg, dg, proto, port, NULL);
	if (v >= 0)
		return v;
	if (dkind == 0)
		return (c->cfg.flags & BH_CFG_EW_ALLOW) ? BH_ACT_ALLOW : BH_ACT_DENY;
	if (dkind == 1)
		return (c->cfg.flags & BH_CFG_GW_ALLOW) ? BH_ACT_ALLOW : BH_ACT_DENY;
	if (dkind == 2)
		return c->groups[sg].internet;
	(void)p;
	return BH_ACT_DENY;
}

static void test_random_equivalence(void **state)
{
	static const char *const protos[] = { "tcp", "udp", "icmp", "icmpv6", "any" };
	static const char *const cidrs[] = { "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24",
					     "192.0.2.0/24", "2001:db8::/32", "2001:db8:1::/48" };
	static const char *const probes[] = { "10.1.2.3", "10.1.9.9", "10.200.0.1", "192.0.2.7",
					      "198.51.100.1", "2001:db8:1::5", "2001:db8:2::5", "2001:dead::1" };
	static const __u8 pnum[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 47 };
	static const __u16 ports[] = { 0, 22, 53, 67, 80, 443, 554, 8000, 8080, 65535 };
	const char *seed_env = getenv("BH_SEED");
	unsigned long long seed = seed_env ? strtoull(seed_env, NULL, 0) : 0x5eed1234ULL;
	long checked = 0;
	char *yaml = malloc(1 << 16);

	(void)state;
	print_message("# random equivalence seed %llu (BH_SEED to repeat)\n", seed);
	rng = seed | 1;
	for (int round = 0; round < 200; round++) {
		struct bh_policy *p;
		struct bh_compiled c;
		struct bh_diag d;
		int ng = 2 + (int)rnd(3), nr = 1 + (int)rnd(8);
		size_t off;

		off = (size_t)sprintf(yaml, HDR "defaults: {east_west: %s, internet: %s, gateway: %s}\ngroups:\n",
				      rnd(2) ? "allow" : "deny", rnd(2) ? "allow" : "deny",
				      rnd(4) ? "deny" : "allow");
		for (int g = 0; g < ng; g++)
			off += (size_t)sprintf(yaml + off, "  g%d: {%s}\n", g,
					       rnd(3) ? "" : (rnd(2) ? "internet: allow" : "internet: deny"));
		off += (size_t)sprintf(yaml + off, "rules:\n");
		for (int r = 0; r < nr; r++) {
			int pi = (int)rnd(5);
			const char *to;
			char tobuf[64];

			switch (rnd(6)) {
			case 0: to = "any"; break;
			case 1: to = "gateway"; break;
			case 2: to = "internet"; break;
			case 3: to = "multicast"; break;
			case 4: to = cidrs[rnd(6)]; break;
			default:
				snprintf(tobuf, sizeof(tobuf), "g%u", rnd((unsigned int)ng));
				to = tobuf;
			}
			off += (size_t)sprintf(yaml + off, "  - {from: %s, to: \"%s\", proto: %s",
					       rnd(4) ? (rnd(2) ? "g0" : "g1") : "any", to, protos[pi]);
			if (pi < 2 && rnd(2))
				off += (size_t)sprintf(yaml + off, ", ports: [%u, \"%u-%u\"]",
						       ports[1 + rnd(9)], 8000 + rnd(3), 8080 + rnd(3));
			off += (size_t)sprintf(yaml + off, "%s}\n", rnd(4) ? "" : ", action: deny");
		}
		memset(&d, 0, sizeof(d));
		if (bh_policy_load_buf("r.yaml", yaml, off, &p, &d)) {
			bh_diag_print(&d);
			fail_msg("random policy did not load:\n%s", yaml);
		}
		assert_int_equal(bh_compile(p, &c, &d), 0);
		for (__u16 sg = 0; sg < p->n_groups; sg++)
			for (int dk = 0; dk < 4; dk++)
				for (size_t dt = 0; dt < (dk == 0 ? p->n_groups : dk == 2 ? 8 : 1); dt++)
					for (size_t pi = 0; pi < sizeof(pnum); pi++)
						for (size_t po = 0; po < sizeof(ports) / sizeof(ports[0]); po++) {
							struct bh_addr a = {};
							__u16 port = (pnum[pi] == IPPROTO_TCP || pnum[pi] == IPPROTO_UDP) ?
								     ports[po] : 0;
							int want, got;

							if (dk == 2)
								bh_parse_addr(probes[dt], &a);
							want = direct(p, sg, dk, (__u16)dt, &a, pnum[pi], port);
							got = compiled(p, &c, sg, dk, (__u16)dt, &a, pnum[pi], port);
							if (want != got)
								fail_msg("seed %llu round %d: sg %u dkind %d dt %zu proto %u port %u: direct %d compiled %d\n%s",
									 seed, round, sg, dk, dt, pnum[pi], port, want, got, yaml);
							checked++;
						}
		bh_compiled_free(&c);
		bh_policy_free(p);
	}
	print_message("# %ld points agree\n", checked);
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_load),
		cmocka_unit_test(test_good_corpus_loads),
		cmocka_unit_test(test_bad_corpus),
		cmocka_unit_test(test_errors_collected),
		cmocka_unit_test(test_rule_keys_stable),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_parse_mac),
		cmocka_unit_test(test_parse_cidr),
		cmocka_unit_test(test_deny_wins),
		cmocka_unit_test(test_ranges_and_any_port),
		cmocka_unit_test(test_builtins_overridable),
		cmocka_unit_test(test_unknown_group_and_defaults),
		cmocka_unit_test(test_cidr_classes),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_random_equivalence),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
