// SPDX-License-Identifier: GPL-2.0
/*
 * compile_dump.c - print everything bh_compile() produces for each policy
 * given, one line per entry, so that two builds of the compiler can be
 * compared byte for byte (selftests/tools/compile_equiv.sh).
 *
 *   compile_dump POLICY...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "policy.h"

static void hex(const char *tag, size_t i, const void *k, size_t kn,
		const void *v, size_t vn)
{
	const unsigned char *a = k, *b = v;

	printf("%s %zu ", tag, i);
	for (size_t j = 0; j < kn; j++)
		printf("%02x", a[j]);
	putchar(' ');
	for (size_t j = 0; j < vn; j++)
		printf("%02x", b[j]);
	putchar('\n');
}

static int dump(const char *path)
{
	struct bh_policy *p = NULL;
	struct bh_compiled c;
	struct bh_diag d = {};
	int ret;

	printf("policy %s\n", path);
	ret = bh_policy_load(path, &p, &d);
	if (!ret) {
		ret = bh_compile(p, &c, &d);
		printf("compile %d\n", ret);
	} else {
		printf("load %d\n", ret);
	}
	for (size_t i = 0; i < d.n; i++)
		printf("diag %s\n", d.msg[i]);
	if (p && !ret) {
		hex("cfg", 0, &c.cfg, sizeof(c.cfg), NULL, 0);
		for (size_t i = 0; i < c.n_groups; i++)
			hex("group", i, &c.groups[i], sizeof(c.groups[i]), NULL, 0);
		for (size_t i = 0; i < c.n_devs; i++)
			hex("dev", i, &c.devs[i].k, sizeof(c.devs[i].k), &c.devs[i].v,
			    sizeof(c.devs[i].v));
		for (size_t i = 0; i < c.n_ips; i++)
			hex("ip", i, &c.ips[i].k, sizeof(c.ips[i].k), &c.ips[i].v,
			    sizeof(c.ips[i].v));
		/* not the value's pad: the old compiler left it unset */
		for (size_t i = 0; i < c.n_pols; i++)
			printf("pol %zu %u %u %u %u %u %u %u\n", i, c.pols[i].k.gen,
			       c.pols[i].k.proto, c.pols[i].k.port, c.pols[i].k.sgroup,
			       c.pols[i].k.dgroup, c.pols[i].v.action, c.pols[i].v.rule_id);
		for (size_t i = 0; i < c.n_inets; i++)
			hex("inet", i, &c.inets[i].k, sizeof(c.inets[i].k), &c.inets[i].v,
			    sizeof(c.inets[i].v));
		for (size_t i = 0; i < c.n_talks; i++)
			hex("talk", i, &c.talks[i].k, sizeof(c.talks[i].k), &c.talks[i].v,
			    sizeof(c.talks[i].v));
		for (size_t i = 0; i < c.n_rules; i++)
			printf("rule %zu %d %s\n", i, c.rules[i].user_index, c.rules[i].label);
		bh_compiled_free(&c);
	}
	bh_policy_free(p);
	return ret;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		dump(argv[i]);
	return 0;
}
