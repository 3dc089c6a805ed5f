/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json.h - the one JSON writer of every --json output: objects, arrays,
 * strings (escaped), numbers, booleans and null, written compactly (no
 * spaces) to a FILE as they come, with the commas between values placed
 * by the writer. Nothing else in userspace writes JSON.
 */
#ifndef BH_JSON_H
#define BH_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define BH_JW_DEPTH	32

struct bh_jw {
	FILE *f;
	unsigned int depth;		/* open objects and arrays */
	bool key;			/* a key was written: its value is next */
	bool used[BH_JW_DEPTH];		/* a value was written at this depth */
};

/* A writer on @f. Values at the top level are separate documents. */
void bh_jw_init(struct bh_jw *w, FILE *f);
void bh_jw_obj_start(struct bh_jw *w);
void bh_jw_obj_end(struct bh_jw *w);
void bh_jw_arr_start(struct bh_jw *w);
void bh_jw_arr_end(struct bh_jw *w);
/* the key of the next value, in an object */
void bh_jw_key(struct bh_jw *w, const char *key);
/* @s escaped (quotes, backslashes, control characters); NULL: null */
void bh_jw_str(struct bh_jw *w, const char *s);
void bh_jw_uint(struct bh_jw *w, unsigned long long v);
void bh_jw_int(struct bh_jw *w, long long v);
/* milliseconds @ms as seconds with three decimals: 1700000000.123 */
void bh_jw_msec(struct bh_jw *w, unsigned long long ms);
void bh_jw_bool(struct bh_jw *w, bool v);
void bh_jw_null(struct bh_jw *w);
/* a newline after a top-level value: one document a line */
void bh_jw_nl(struct bh_jw *w);

/* key and value in one call */
void bh_jw_str_field(struct bh_jw *w, const char *key, const char *s);
void bh_jw_uint_field(struct bh_jw *w, const char *key, unsigned long long v);
void bh_jw_int_field(struct bh_jw *w, const char *key, long long v);
void bh_jw_bool_field(struct bh_jw *w, const char *key, bool v);

/*
 * --json on failure: a command given --json calls bh_json_err_want(); the
 * first error reported (bh_json_err_note(), which bh_err and the policy
 * diagnostics call) is kept; a command that printed its own JSON answer
 * calls bh_json_err_done(). bh_json_err_finish(@rc), called once the
 * command returned with exit code @rc: when @rc is not 0, --json was given
 * and no JSON was printed, {"error":"...","exit":@rc} on stdout. Returns @rc.
 */
void bh_json_err_want(void);
void bh_json_err_note(const char *msg);
void bh_json_err_done(void);
int bh_json_err_finish(int rc);
/* the first error noted, "" if none */
const char *bh_json_err_msg(void);

#endif /* BH_JSON_H */
