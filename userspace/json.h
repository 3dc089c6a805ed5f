/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json.h - the one JSON string writer of every --json output.
 */
#ifndef BH_JSON_H
#define BH_JSON_H

#include <stdio.h>

/* @s as a JSON string on @f: quotes, backslashes and control characters
 * escaped; NULL is written as "". */
void bh_json_str(FILE *f, const char *s);

/*
 * --json on failure: a command given --json calls bh_json_err_want(); the
 * first error reported (bh_json_err_note(), which pr_err and the policy
 * diagnostics call) is kept; a command that printed its own JSON answer
 * calls bh_json_err_done(). bh_json_err_finish(@rc), called once the
 * command returned: when @rc is not 0, --json was given and no JSON was
 * printed, {"error":"...","exit":@rc} on stdout. Returns @rc.
 */
void bh_json_err_want(void);
void bh_json_err_note(const char *msg);
void bh_json_err_done(void);
int bh_json_err_finish(int rc);
/* the first error noted, "" if none */
const char *bh_json_err_msg(void);

#endif /* BH_JSON_H */
