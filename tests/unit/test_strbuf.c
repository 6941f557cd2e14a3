/* test_strbuf.c - capped buffers: appends, the cap, printf, steal */
#include "oauthmail-config.h"

#include <stdlib.h>

#include "lib/strbuf.h"
#include "testlib.h"

static void test_cap(void)
{
	struct strbuf sb;

	strbuf_init(&sb, 8);
	check_int("append 5", strbuf_append_str(&sb, "abcde"), 0);
	check_int("append 3 more fits", strbuf_append_str(&sb, "fgh"), 0);
	check_int("append past cap fails", strbuf_append_str(&sb, "i"), -1);
	check_str("content kept", sb.data, "abcdefgh");
	check_int("len", (long long)sb.len, 8);
	strbuf_free(&sb);
	check_true("freed", sb.data == NULL);
}

static void test_printf(void)
{
	struct strbuf sb;
	char *s;
	int i;

	strbuf_init(&sb, 100000);
	for (i = 0; i < 3; i++)
		check_int("printf", strbuf_printf(&sb, "%d,", i), 0);
	check_str("printf result", sb.data, "0,1,2,");
	check_int("long printf", strbuf_printf(&sb, "%0900d", 7), 0);
	check_int("long printf len", (long long)sb.len, 906);
	s = strbuf_steal(&sb);
	check_true("steal leaves empty", sb.data == NULL && sb.len == 0);
	free(s);
	strbuf_init(&sb, 10);
	check_int("printf over cap", strbuf_printf(&sb, "%s", "0123456789a"),
		  -1);
	strbuf_free(&sb);
}

int main(void)
{
	test_cap();
	test_printf();
	return test_done("test_strbuf");
}
