/* json.h - strict, bounded JSON reading on top of cJSON */
#ifndef OAUTHMAIL_JSON_H
#define OAUTHMAIL_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* json_parse - parse exactly (text, len): one JSON value and nothing
 * after it but white space.  NULL with error_r on any junk. */
cJSON *json_parse(const char *text, size_t len, const char **error_r);

/* json_string - obj[key] when it is a string of at most max bytes with
 * no control characters; NULL otherwise (absent, wrong type, too long) */
const char *json_string(const cJSON *obj, const char *key, size_t max);

/* json_string_dup - a copy of obj[key] (as json_string); NULL when
 * absent, and NULL with *bad = 1 when present but empty, not such a
 * string, or out of memory */
char *json_string_dup(const cJSON *obj, const char *key, size_t max, int *bad);

/* json_long - obj[key] as a whole number in [min, max]: a JSON integer
 * or a string of digits (v1 endpoints sent strings).  0, or -1. */
int json_long(const cJSON *obj, const char *key, long long min, long long max,
	      long long *out);

/* json_has - obj has key (any type) */
int json_has(const cJSON *obj, const char *key);

/* json_delete_wiped - wipe every string in the tree, then free it (for
 * trees that held tokens or secrets) */
void json_delete_wiped(cJSON *root);

/* json_print - print compactly into a fresh buffer of at most max bytes
 * without reallocations (no stray copies of secrets); caller wipes and
 * frees.  NULL when too large. */
char *json_print(const cJSON *root, size_t max);

#endif
