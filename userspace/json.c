// SPDX-License-Identifier: GPL-2.0
/*
 * json.c - the one JSON string writer of every --json output.
 */
#include <stdbool.h>
#include <string.h>

#include "json.h"

void bh_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
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
	if (!rc || !jerr.want || jerr.done)
		return rc;
	fputs("{\"error\":", stdout);
	bh_json_str(stdout, jerr.msg[0] ? jerr.msg : "failed (see standard error)");
	printf(",\"exit\":%d}\n", rc);
	fflush(stdout);
	jerr.done = true;
	return rc;
}
