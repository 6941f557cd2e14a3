/*
 * conf_section.c - an account's section of oauthmail.conf as text:
 * what `oauthmail export` copies (the keys and values as the admin wrote
 * them, so a key this host's oauthmail knows and the struct does not
 * model travels too) and what `oauthmail import` writes on the new host.
 *
 * Read with the config's own INI parser (lib/ini.c); written as
 * "key = value" lines.  A section from an export is outside input: keys
 * must look like keys, values must be one printable line, and
 * client_secret never goes into the file (the caller writes secrets to
 * a client_secret_file).  The caller checks the result with
 * config_parse() before writing it anywhere.
 */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>

#include "conf_section.h"
#include "lib/errorf.h"
#include "lib/ini.h"
#include "lib/strbuf.h"

#define SECTION_MAX (64 * 1024)
#define VALUE_MAX 2048

struct find_ctx {
	const char *name;
	cJSON *settings;
	int inside;
	unsigned int first, end;
};

static int on_event(const struct ini_event *ev, void *arg, const char **why)
{
	struct find_ctx *c = arg;

	(void)why;
	if (ev->key == NULL) { /* a section header */
		if (c->inside && c->end == 0)
			c->end = ev->line;
		c->inside = ev->kind != NULL && ev->name != NULL &&
			    strcmp(ev->kind, "account") == 0 &&
			    strcmp(ev->name, c->name) == 0;
		if (c->inside && c->settings == NULL) {
			c->settings = cJSON_CreateObject();
			c->first = ev->line;
		}
		return 0;
	}
	if (c->inside && c->settings != NULL)
		cJSON_AddStringToObject(c->settings, ev->key, ev->value);
	return 0;
}

cJSON *conf_section_get(const char *text, size_t len, const char *name,
			unsigned int *first_r, unsigned int *end_r)
{
	struct find_ctx c = {name, NULL, 0, 0, 0};
	const char *error;

	if (ini_parse("oauthmail.conf", text, len, on_event, &c, &error) < 0) {
		cJSON_Delete(c.settings);
		return NULL;
	}
	*first_r = c.first;
	*end_r = c.end;
	return c.settings;
}

static int valid_key(const char *k)
{
	size_t n = strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && n <= 64 && k[n] == '\0';
}

static int valid_value(const char *v)
{
	size_t i, n = strlen(v);

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	return n <= VALUE_MAX && strstr(v, " #") == NULL &&
	       strstr(v, " ;") == NULL;
}

char *conf_section_format(const char *name, const cJSON *settings,
			  const char **why_r)
{
	const cJSON *item;
	struct strbuf sb;

	if (!cJSON_IsObject(settings)) {
		*why_r = "its section is not an object of settings";
		return NULL;
	}
	strbuf_init(&sb, SECTION_MAX);
	strbuf_printf(&sb, "[account %s]\n", name);
	cJSON_ArrayForEach(item, settings)
	{
		if (item->string == NULL || !valid_key(item->string) ||
		    !cJSON_IsString(item) || !valid_value(item->valuestring)) {
			*why_r = "its section holds a setting that is not "
				 "KEY = one printable line";
		} else if (strcmp(item->string, "client_secret") == 0) {
			*why_r = "its section holds client_secret (an export "
				 "carries the secret beside the section)";
		} else if (strbuf_printf(&sb, "%s = %s\n", item->string,
					 item->valuestring) < 0) {
			*why_r = "its section is too large";
		} else
			continue;
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}

/* line_start - offset of line number line (1-based) in text, or len */
static size_t line_start(const char *text, size_t len, unsigned int line)
{
	size_t off = 0;
	const char *nl;

	while (line > 1 && off < len &&
	       (nl = memchr(text + off, '\n', len - off)) != NULL) {
		off = (size_t)(nl - text) + 1;
		line--;
	}
	return line > 1 ? len : off;
}

char *conf_section_splice(const char *text, size_t len, unsigned int first,
			  unsigned int end, const char *section)
{
	size_t head = first ? line_start(text, len, first) : len;
	size_t tail = first && end ? line_start(text, len, end) : len;
	size_t n = strlen(section);
	int sep = first == 0 && len > 0;
	int nl = sep && text[len - 1] != '\n';
	char *out = malloc(head + nl + sep + n + 1 + (len - tail) + 1), *p;

	if (out == NULL)
		return NULL;
	p = out;
	memcpy(p, text, head);
	p += head;
	if (nl)
		*p++ = '\n';
	if (sep)
		*p++ = '\n';
	memcpy(p, section, n);
	p += n;
	if (first && end)
		*p++ = '\n';
	memcpy(p, text + tail, len - tail);
	p[len - tail] = '\0';
	return out;
}
