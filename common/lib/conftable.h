/* conftable.h - one design for the key tables of our INI configs
 * (oauthmail.conf, ticketq.conf): each key is a row naming its setter,
 * where it goes, its bounds and what to say about a bad value */
#ifndef OAUTHMAIL_CONFTABLE_H
#define OAUTHMAIL_CONFTABLE_H

#include <stddef.h>

struct conf_key;

/* conf_set_fn - store value into field (the key's member of the struct
 * being filled): 0; -1 for a bad value (the key's bad text is the
 * error); CONF_NOMEM when out of memory */
typedef int conf_set_fn(const struct conf_key *key, void *field,
			const char *value);
#define CONF_NOMEM (-2)

struct conf_key {
	const char *name;
	conf_set_fn *set;
	size_t offset;		     /* of the field in the struct filled */
	unsigned long long min, max; /* bounds, for conf_set_int */
	int (*valid)(const char *);  /* for the string setters, or NULL */
	const char *bad;	     /* the error for a value set refused */
};

/* A table: its keys, and how unknown or repeated keys are reported:
 * before + key + after. */
struct conf_table {
	const struct conf_key *keys;
	size_t count;
	const char *unknown_before, *unknown_after;
	const char *twice_before, *twice_after;
};

/* CONF_KEY - a row: key name, setter, struct type and member, bad-value
 * text; CONF_INT_KEY with bounds, CONF_STRING_KEY with a check */
#define CONF_KEY(name, set, type, member, bad)                           \
	{                                                                \
		(name), (set), offsetof(type, member), 0, 0, NULL, (bad) \
	}
#define CONF_INT_KEY(name, type, member, min, max, bad)                     \
	{                                                                   \
		(name), conf_set_int, offsetof(type, member), (min), (max), \
			NULL, (bad)                                         \
	}
#define CONF_STRING_KEY(name, set, type, member, valid, bad)                \
	{                                                                   \
		(name), (set), offsetof(type, member), 0, 0, (valid), (bad) \
	}

/* conf_table_set - one "key = value" into base: an unknown key and a
 * key set twice (seen[] holds a flag per key; the caller clears it
 * where a new section starts) are errors, else the key's setter stores
 * the value.  0, or -1 with why_r (ini_parse adds FILE:LINE). */
int conf_table_set(const struct conf_table *t, unsigned char *seen, void *base,
		   const char *key, const char *value, const char **why_r);

/* conf_table_seen - 1 when the key called name has been set */
int conf_table_seen(const struct conf_table *t, const unsigned char *seen,
		    const char *name);

/* The setters both configs use.  Strings are malloc'd copies (char *)
 * and must pass the key's valid() when it has one. */
conf_set_fn conf_set_string;   /* any text, empty too */
conf_set_fn conf_set_nonempty; /* any text but empty */
conf_set_fn conf_set_path;     /* an absolute path */
conf_set_fn conf_set_int;      /* int: a whole number in [min, max] */
conf_set_fn conf_set_bool;     /* int: yes/true/1 or no/false/0 */

#endif
