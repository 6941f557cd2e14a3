/* test_ini.c - the INI dialect: what each line becomes (events with
 * their section and line number), comments, and every error as
 * FILE:LINE: why */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ini.h"
#include "lib/strbuf.h"
#include "testlib.h"

/* record - each event as "LINE kind/name key=value;" */
static int record(const struct ini_event *ev, void *ctx, const char **error_r)
{
	struct strbuf *sb = ctx;

	if (ev->key != NULL && strcmp(ev->key, "refuse") == 0) {
		*error_r = "unknown key 'refuse'";
		return -1;
	}
	if (ev->key != NULL && strcmp(ev->key, "silent") == 0)
		return -1; /* no reason given */
	strbuf_printf(sb, "%u %s/%s", ev->line, ev->kind ? ev->kind : "-",
		      ev->name ? ev->name : "-");
	if (ev->key != NULL)
		strbuf_printf(sb, " %s=%s", ev->key, ev->value);
	strbuf_append_str(sb, ";");
	return 0;
}

static const struct {
	const char *text;
	const char *want; /* events, or the error */
} rows[] = {
	{"", ""},
	{"a = 1\n", "1 -/- a=1;"},
	{"a=1", "1 -/- a=1;"}, /* no final newline, no spaces */
	{"\n# comment\n; comment\n  \t\nb = x\n", "5 -/- b=x;"},
	{"k = v # note\n", "1 -/- k=v;"},
	{"k = v#not a comment\n", "1 -/- k=v#not a comment;"},
	{"k = a = b\n", "1 -/- k=a = b;"},
	{"k =\n", "1 -/- k=;"},
	{"k = v\r\n", "1 -/- k=v;"},
	{"  k_2 = spaced out  \t\n", "1 -/- k_2=spaced out;"},
	{"top = 1\n[account support]\nuser = a@b\n[defaults]\nx = 2\n",
	 "1 -/- top=1;2 account/support;3 account/support user=a@b;"
	 "4 defaults/-;5 defaults/- x=2;"},
	{"[account Help.Desk@x-y+z]\n", "1 account/Help.Desk@x-y+z;"},
	{"[ account   spaced ]\n", "1 account/spaced;"},
	/* errors */
	{"a = 1\nnovalue\n", "t.conf:2: expected 'key = value'"},
	{"Key = 1\n", "t.conf:1: bad key name (lower-case letters, digits, _)"},
	{"= 1\n", "t.conf:1: bad key name (lower-case letters, digits, _)"},
	{"[account x\n", "t.conf:1: section header must look like [kind name]"},
	{"[account x] junk\n",
	 "t.conf:1: section header must look like [kind name]"},
	{"[Account x]\n", "t.conf:1: bad section header (names: letters, "
			  "digits, _ - . @ +)"},
	{"[]\n", "t.conf:1: bad section header (names: letters, digits, _ - "
		 ". @ +)"},
	{"[account a/b]\n", "t.conf:1: bad section header (names: letters, "
			    "digits, _ - . @ +)"},
	{"x = 1\n\nrefuse = 1\n", "t.conf:3: unknown key 'refuse'"},
	{"silent = 1\n", "t.conf:1: invalid line"},
};

static void test_table(void)
{
	const char *error;
	struct strbuf sb;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		strbuf_init(&sb, 4096);
		strbuf_append_str(&sb, "");
		error = NULL;
		ret = ini_parse("t.conf", rows[i].text, strlen(rows[i].text),
				record, &sb, &error);
		check_str(rows[i].text, ret == 0 ? sb.data : error,
			  rows[i].want);
		strbuf_free(&sb);
	}
}

static void test_bounds(void)
{
	char text[64] = "a = 1\nb = x\0y\nc = 3\n";
	const char *error = NULL;
	struct strbuf sb;
	size_t n = 4096 + 8;
	char *longline = malloc(n + 8);

	strbuf_init(&sb, 100000);
	check_int("NUL byte",
		  ini_parse("t.conf", text, 20, record, &sb, &error), -1);
	check_str("NUL byte error", error, "t.conf:2: NUL byte in line");
	/* (ptr, len): text after len is not read */
	strbuf_reset(&sb);
	strbuf_append_str(&sb, "");
	check_int("len bounds the input",
		  ini_parse("t.conf", "a = 1\nb = 2\n", 6, record, &sb, &error),
		  0);
	check_str("only the first line", sb.data, "1 -/- a=1;");
	if (longline == NULL)
		return;
	memset(longline, 'x', n);
	memcpy(longline, "k = ", 4);
	longline[n] = '\n';
	check_int("line over 4096 bytes",
		  ini_parse("t.conf", longline, n + 1, record, &sb, &error),
		  -1);
	check_str("too long error", error, "t.conf:1: line too long");
	longline[4096] = '\n';
	strbuf_reset(&sb);
	check_int("a 4096-byte line is fine",
		  ini_parse("t.conf", longline, 4097, record, &sb, &error), 0);
	free(longline);
	strbuf_free(&sb);
}

int main(void)
{
	test_table();
	test_bounds();
	return test_done("test_ini");
}
