/*
 * json.c - JSON from outside (token endpoints, token files, exports) is
 * read strictly: the whole buffer must be one value, every field is
 * type-checked and length-capped, numbers are whole and in range.
 * cJSON does the parsing; this file only adds the checks.
 */
#include "oauthmail-config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/number.h"
#include "lib/strbuf.h"

cJSON *json_parse(const char *text, size_t len, const char **error_r)
{
	const char *end = NULL;
	cJSON *root;

	if (len == 0) {
		*error_r = "empty JSON";
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		*error_r = "NUL byte in JSON";
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		*error_r = errorf("invalid JSON near byte %zu",
				  end != NULL ? (size_t)(end - text) : 0);
		return NULL;
	}
	while (end < text + len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != text + len) {
		cJSON_Delete(root);
		*error_r = errorf("junk after JSON at byte %zu",
				  (size_t)(end - text));
		return NULL;
	}
	return root;
}

const char *json_string(const cJSON *obj, const char *key, size_t max)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	const unsigned char *p;
	size_t n;

	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return NULL;
	n = strlen(item->valuestring);
	if (n > max)
		return NULL;
	for (p = (const unsigned char *)item->valuestring; *p != '\0'; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n')
			return NULL;
	return item->valuestring;
}

char *json_string_dup(const cJSON *obj, const char *key, size_t max, int *bad)
{
	const char *v;
	char *copy;

	if (!json_has(obj, key))
		return NULL;
	v = json_string(obj, key, max);
	if (v == NULL || *v == '\0') {
		*bad = 1;
		return NULL;
	}
	copy = strdup(v);
	if (copy == NULL)
		*bad = 1;
	return copy;
}

int json_long(const cJSON *obj, const char *key, long long min, long long max,
	      long long *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	unsigned long long u;
	long long v;
	double d;

	if (cJSON_IsNumber(item)) {
		d = item->valuedouble;
		if (!isfinite(d) || d != floor(d) || d < -9e18 || d > 9e18)
			return -1;
		v = (long long)d;
	} else if (cJSON_IsString(item) && item->valuestring != NULL) {
		if (number_parse(item->valuestring, 0, LLONG_MAX, &u) < 0)
			return -1;
		v = (long long)u;
	} else {
		return -1;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int json_has(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

static void wipe_strings(cJSON *item)
{
	for (; item != NULL; item = item->next) {
		if (item->valuestring != NULL)
			wipe(item->valuestring, strlen(item->valuestring));
		wipe_strings(item->child);
	}
}

void json_delete_wiped(cJSON *root)
{
	if (root == NULL)
		return;
	wipe_strings(root);
	cJSON_Delete(root);
}

char *json_print(const cJSON *root, size_t max)
{
	char *buf = malloc(max);

	if (buf == NULL)
		return NULL;
	if (!cJSON_PrintPreallocated((cJSON *)root, buf, (int)max, 0)) {
		wipe(buf, max);
		free(buf);
		return NULL;
	}
	return buf;
}
