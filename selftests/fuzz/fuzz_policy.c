// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_policy.c - libFuzzer harness for the policy loader and compiler:
 * any byte string must give either a policy or file:line:col errors,
 * without a crash, a leak or undefined behaviour.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "compile.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bh_policy *p = NULL;
	struct bh_compiled c;
	struct bh_diag d;

	memset(&d, 0, sizeof(d));
	if (bh_policy_load_buf("fuzz.yaml", (const char *)data, size, &p, &d))
		return 0;
	memset(&d, 0, sizeof(d));
	if (!bh_compile(p, &c, &d))
		bh_compiled_free(&c);
	bh_policy_free(p);
	return 0;
}
