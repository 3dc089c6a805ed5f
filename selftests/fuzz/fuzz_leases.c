// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_leases.c - libFuzzer harness for the DHCP lease file parser and the
 * bindings: any byte string gives leases and "file:line: what" lines,
 * without a crash, a leak or undefined behaviour; every host name is
 * printable ASCII; the saved form reads back to the same bindings; the
 * leases bound into a small policy always compile.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "leases.h"
#include "policy.h"

static const char policy[] =
	"version: 1\n"
	"interfaces: [br-lan]\n"
	"groups:\n"
	"  cams:\n"
	"    members:\n"
	"      - {mac: \"02:00:00:00:00:11\", ip: [192.168.50.11]}\n"
	"      - {mac: \"02:00:00:00:00:12\", ip: [\"fd00::12\"]}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bh_leases l, r;
	struct bh_policy *p = NULL;
	struct bh_compiled c;
	struct bh_diag d;
	size_t len;
	char *text;

	memset(&d, 0, sizeof(d));
	if (bh_leases_parse("fuzz.leases", (const char *)data, size, &l, &d))
		return 0;
	for (size_t i = 0; i < l.n; i++)
		for (const char *h = l.v[i].host; *h; h++)
			if (*h <= 0x20 || *h >= 0x7f)
				abort();
	bh_leases_live(&l, 1000);
	text = bh_leases_format(&l, &len);
	if (text && !bh_leases_parse("saved", text, len, &r, NULL)) {
		bh_leases_live(&r, 0);
		if (!bh_leases_same_bindings(&l, &r))
			abort();
		bh_leases_free(&r);
	}
	free(text);
	if (!bh_policy_load_buf("fuzz.yaml", policy, sizeof(policy) - 1, &p, &d)) {
		memset(&d, 0, sizeof(d));
		if (bh_leases_bind(p, &l, &d) >= 0) {
			if (bh_compile(p, &c, &d))
				abort();
			bh_compiled_free(&c);
		}
		bh_policy_free(p);
	}
	bh_leases_free(&l);
	return 0;
}
