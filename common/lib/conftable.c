/*
 * conftable.c - config keys as table rows, applied one INI setting at a
 * time.
 *
 * oauthmail.conf and ticketq.conf share the INI dialect (ini.c) and the
 * rules above it: every key is known, an unknown or repeated key is an
 * error, every value is checked and bounded, and every error names
 * FILE:LINE (ini_parse adds that to the message returned here).  A
 * module describes its keys as rows of struct conf_key: the name, the
 * setter, the member it fills, bounds and the message for a bad value.
 * Module-specific values (URLs, dates, HMAC keys, sizes) have setters
 * in their module; the common ones are here.  Numbers go through the
 * strict parser of number.c.
 */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/conftable.h"
#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/number.h"

#define KEY_ECHO_MAX 64

static size_t find_key(const struct conf_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		if (strcmp(t->keys[i].name, name) == 0)
			break;
	return i;
}

int conf_table_set(const struct conf_table *t, unsigned char *seen, void *base,
		   const char *key, const char *value, const char **why_r)
{
	size_t i = find_key(t, key);
	const struct conf_key *k;
	int ret;

	if (i == t->count) {
		*why_r = errorf("%s%s%s", t->unknown_before,
				printable(key, KEY_ECHO_MAX), t->unknown_after);
		return -1;
	}
	if (seen[i]) {
		*why_r = errorf("%s%s%s", t->twice_before, key, t->twice_after);
		return -1;
	}
	seen[i] = 1;
	k = &t->keys[i];
	ret = k->set(k, (char *)base + k->offset, value);
	if (ret == 0)
		return 0;
	*why_r = ret == CONF_NOMEM ? "out of memory"
		 : k->bad != NULL  ? k->bad
				   : errorf("%s: invalid value", k->name);
	return -1;
}

int conf_table_seen(const struct conf_table *t, const unsigned char *seen,
		    const char *name)
{
	size_t i = find_key(t, name);

	return i < t->count && seen[i];
}

int conf_set_string(const struct conf_key *key, void *field, const char *value)
{
	char **s = field;
	char *copy;

	if (key->valid != NULL && !key->valid(value))
		return -1;
	if ((copy = strdup(value)) == NULL)
		return CONF_NOMEM;
	free(*s);
	*s = copy;
	return 0;
}

int conf_set_nonempty(const struct conf_key *key, void *field,
		      const char *value)
{
	return *value == '\0' ? -1 : conf_set_string(key, field, value);
}

int conf_set_path(const struct conf_key *key, void *field, const char *value)
{
	return value[0] != '/' ? -1 : conf_set_string(key, field, value);
}

int conf_set_int(const struct conf_key *key, void *field, const char *value)
{
	unsigned long long v;

	if (number_parse(value, key->min, key->max, &v) < 0)
		return -1;
	*(int *)field = (int)v;
	return 0;
}

int conf_set_bool(const struct conf_key *key, void *field, const char *value)
{
	int *b = field;

	(void)key;
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0)
		*b = 1;
	else if (strcasecmp(value, "no") == 0 ||
		 strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
		*b = 0;
	else
		return -1;
	return 0;
}
