/* ini.h - the INI dialect of oauthmail.conf and the ticket queue config */
#ifndef OAUTHMAIL_INI_H
#define OAUTHMAIL_INI_H

#include <stddef.h>

/* One event per section header or setting.  For a header
 * "[account support]" kind = "account", name = "support", key = NULL.
 * For "key = value", kind/name are the enclosing section's (NULL, NULL
 * at top level).  Strings are NUL-terminated copies valid only during
 * the callback.  The callback returns 0, or -1 with *error_r set; the
 * parser then fails with "FILE:LINE: <error>". */
struct ini_event {
	const char *kind;
	const char *name;
	const char *key;
	const char *value;
	unsigned int line;
};
typedef int ini_callback_fn(const struct ini_event *ev, void *ctx,
			    const char **error_r);

/* ini_parse - parse (text, len), which need not end in NUL.  Rules:
 * '#' or ';' starts a comment line; a value may carry a trailing
 * " # comment"; blank lines are ignored; keys are [a-z0-9_]; section
 * headers are "[kind name]" or "[kind]"; lines are at most 4096 bytes;
 * NUL bytes are errors.  0, or -1 with error_r "FILE:LINE: why". */
int ini_parse(const char *filename, const char *text, size_t len,
	      ini_callback_fn *cb, void *ctx, const char **error_r);

#endif
