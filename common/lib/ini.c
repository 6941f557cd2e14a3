/*
 * ini.c - a small, strict INI reader.
 *
 * oauthmail.conf and the ticket queue's config share one dialect:
 * "key = value" lines, "[kind name]" section headers, '#' comments.
 * The reader works on (ptr, len) input, bounds every line, and reports
 * every problem as FILE:LINE so an admin can fix it without guessing.
 * It knows nothing about which keys exist: the caller's callback
 * decides, and unknown keys are the caller's errors.
 */
#include "oauthmail-config.h"

#include <ctype.h>
#include <string.h>

#include "lib/errorf.h"
#include "lib/ini.h"

#define INI_LINE_MAX 4096
#define INI_NAME_MAX 128

struct ini_state {
	const char *filename;
	unsigned int line;
	char kind[INI_NAME_MAX];
	char name[INI_NAME_MAX];
	int in_section;
};

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int valid_word(const char *s, int allow_punct)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (islower(c) || isdigit(c) || c == '_')
			continue;
		if (allow_punct && (isalpha(c) || strchr("-.@+", c) != NULL))
			continue;
		return 0;
	}
	return 1;
}

static int parse_header(struct ini_state *st, char *s, const char **why)
{
	char *end = strchr(s, ']');
	char *space, *kind, *name = "";

	if (end == NULL || *trim(end + 1) != '\0') {
		*why = "section header must look like [kind name]";
		return -1;
	}
	*end = '\0';
	kind = trim(s + 1);
	space = strpbrk(kind, " \t");
	if (space != NULL) {
		*space = '\0';
		name = trim(space + 1);
	}
	if (!valid_word(kind, 0) || (*name != '\0' && !valid_word(name, 1)) ||
	    strlen(kind) >= INI_NAME_MAX || strlen(name) >= INI_NAME_MAX) {
		*why = "bad section header (names: letters, digits, _ - . @ +)";
		return -1;
	}
	memcpy(st->kind, kind, strlen(kind) + 1);
	memcpy(st->name, name, strlen(name) + 1);
	st->in_section = 1;
	return 0;
}

static void strip_comment(char *value)
{
	char *p;

	for (p = value; (p = strchr(p, '#')) != NULL; p++) {
		if (p > value && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static int parse_setting(char *s, char **key_r, char **value_r,
			 const char **why)
{
	char *eq = strchr(s, '=');

	if (eq == NULL) {
		*why = "expected 'key = value'";
		return -1;
	}
	*eq = '\0';
	*key_r = trim(s);
	strip_comment(eq + 1);
	*value_r = trim(eq + 1);
	if (!valid_word(*key_r, 0)) {
		*why = "bad key name (lower-case letters, digits, _)";
		return -1;
	}
	return 0;
}

static int ini_line(struct ini_state *st, char *s, ini_callback_fn *cb,
		    void *ctx, const char **why)
{
	struct ini_event ev;
	char *key, *value;

	s = trim(s);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.line = st->line;
	if (*s == '[') {
		if (parse_header(st, s, why) < 0)
			return -1;
		ev.kind = st->kind;
		ev.name = st->name[0] ? st->name : NULL;
		return cb(&ev, ctx, why);
	}
	if (parse_setting(s, &key, &value, why) < 0)
		return -1;
	ev.kind = st->in_section ? st->kind : NULL;
	ev.name = st->in_section && st->name[0] ? st->name : NULL;
	ev.key = key;
	ev.value = value;
	return cb(&ev, ctx, why);
}

int ini_parse(const char *filename, const char *text, size_t len,
	      ini_callback_fn *cb, void *ctx, const char **error_r)
{
	struct ini_state st;
	char buf[INI_LINE_MAX + 1];
	const char *why = NULL, *nl;
	size_t pos = 0, n;

	memset(&st, 0, sizeof(st));
	st.filename = filename;
	while (pos < len) {
		st.line++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > INI_LINE_MAX)
			why = "line too long";
		else if (memchr(text + pos, '\0', n) != NULL)
			why = "NUL byte in line";
		if (why == NULL) {
			memcpy(buf, text + pos, n);
			buf[n] = '\0';
			if (ini_line(&st, buf, cb, ctx, &why) < 0 &&
			    why == NULL)
				why = "invalid line";
		}
		if (why != NULL) {
			*error_r = errorf("%s:%u: %s", filename, st.line, why);
			return -1;
		}
		pos += n + (nl ? 1 : 0);
	}
	return 0;
}
