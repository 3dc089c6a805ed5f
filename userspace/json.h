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

#endif /* BH_JSON_H */
