// SPDX-License-Identifier: GPL-2.0
/*
 * json.c - the one JSON writer of every --json output, and the --json
 * answer of a command that failed. See json.h.
 */
#include <stdbool.h>
#include <string.h>

#include "json.h"

void bh_jw_init(struct bh_jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

/* before a value: the comma after its sibling, unless a key leads it */
static void jw_value(struct bh_jw *w)
{
	if (w->key) {
		w->key = false;
		return;
	}
	if (w->depth && w->used[w->depth])
		fputc(',', w->f);
	w->used[w->depth] = true;
}

static void jw_open(struct bh_jw *w, char c)
{
	jw_value(w);
	fputc(c, w->f);
	if (w->depth + 1 < BH_JW_DEPTH)
		w->depth++;
	w->used[w->depth] = false;
}

static void jw_close(struct bh_jw *w, char c)
{
	fputc(c, w->f);
	if (w->depth)
		w->depth--;
}

void bh_jw_obj_start(struct bh_jw *w)
{
	jw_open(w, '{');
}

void bh_jw_obj_end(struct bh_jw *w)
{
	jw_close(w, '}');
}

void bh_jw_arr_start(struct bh_jw *w)
{
	jw_open(w, '[');
}

void bh_jw_arr_end(struct bh_jw *w)
{
	jw_close(w, ']');
}

static void jw_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void bh_jw_key(struct bh_jw *w, const char *key)
{
	jw_value(w);
	jw_escaped(w->f, key);
	fputc(':', w->f);
	w->key = true;
}

void bh_jw_str(struct bh_jw *w, const char *s)
{
	jw_value(w);
	if (s)
		jw_escaped(w->f, s);
	else
		fputs("null", w->f);
}

void bh_jw_uint(struct bh_jw *w, unsigned long long v)
{
	jw_value(w);
	fprintf(w->f, "%llu", v);
}

void bh_jw_int(struct bh_jw *w, long long v)
{
	jw_value(w);
	fprintf(w->f, "%lld", v);
}

void bh_jw_msec(struct bh_jw *w, unsigned long long ms)
{
	jw_value(w);
	fprintf(w->f, "%llu.%03llu", ms / 1000, ms % 1000);
}

void bh_jw_bool(struct bh_jw *w, bool v)
{
	jw_value(w);
	fputs(v ? "true" : "false", w->f);
}

void bh_jw_null(struct bh_jw *w)
{
	jw_value(w);
	fputs("null", w->f);
}

void bh_jw_nl(struct bh_jw *w)
{
	fputc('\n', w->f);
}

void bh_jw_str_field(struct bh_jw *w, const char *key, const char *s)
{
	bh_jw_key(w, key);
	bh_jw_str(w, s);
}

void bh_jw_uint_field(struct bh_jw *w, const char *key, unsigned long long v)
{
	bh_jw_key(w, key);
	bh_jw_uint(w, v);
}

void bh_jw_int_field(struct bh_jw *w, const char *key, long long v)
{
	bh_jw_key(w, key);
	bh_jw_int(w, v);
}

void bh_jw_bool_field(struct bh_jw *w, const char *key, bool v)
{
	bh_jw_key(w, key);
	bh_jw_bool(w, v);
}

/* ---- --json on failure ----------------------------------------------------- */

static struct {
	bool want, done;
	char msg[1024];
} jerr;

void bh_json_err_want(void)
{
	jerr.want = true;
}

void bh_json_err_note(const char *msg)
{
	if (!jerr.msg[0] && msg)
		snprintf(jerr.msg, sizeof(jerr.msg), "%s", msg);
}

void bh_json_err_done(void)
{
	jerr.done = true;
}

const char *bh_json_err_msg(void)
{
	return jerr.msg;
}

int bh_json_err_finish(int rc)
{
	struct bh_jw w;

	if (!rc || !jerr.want || jerr.done)
		return rc;
	bh_jw_init(&w, stdout);
	bh_jw_obj_start(&w);
	bh_jw_str_field(&w, "error", jerr.msg[0] ? jerr.msg : "failed (see standard error)");
	bh_jw_int_field(&w, "exit", rc);
	bh_jw_obj_end(&w);
	bh_jw_nl(&w);
	fflush(stdout);
	jerr.done = true;
	return rc;
}
