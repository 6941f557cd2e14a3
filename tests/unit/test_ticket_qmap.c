/* test_ticket_qmap.c - the recipient-to-queue map: parsing, errors, lookup */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "ticket/ticket_qmap.h"

static const struct {
	const char *text;
	const char *error; /* the error's start, NULL = parses */
} cases[] = {
	{"support@contoso.com /q/support\n", NULL},
	{"# queues\n\n  support@contoso.com\t/q/s  \r\n@contoso.com /q/c",
	 NULL},
	{"a@b /q\nc@d /q\n", NULL}, /* one directory, two addresses */
	{"support+vip@contoso.com /q/vip\n", NULL},
	{"", "q.map: no queues in the map"},
	{"# only a comment\n\n", "q.map: no queues"},
	{"support@contoso.com\n", "q.map:1: no queue directory"},
	{"a@b /q\nsupport /q/s\n", "q.map:2: 'support' is not an address"},
	{"support@ /q/s\n", "q.map:1: 'support@' is not an address"},
	{"@ /q/s\n", "q.map:1: '@' is not an address"},
	{"<a@b> /q/s\n", "q.map:1: '<a@b>' is not an address"},
	{"a@b q/s\n", "q.map:1: the queue directory must be an absolute"},
	{"a@b /q/../etc\n", "q.map:1: '.' or '..'"},
	{"a@b /q/.\n", "q.map:1: '.' or '..'"},
	{"a@b /q/s extra\n", "q.map:1: text after the queue directory"},
	{"a@b /q/s # comment\n", "q.map:1: text after"},
	{"a@b /q/1\nA@B /q/2\n", "q.map:2: 'a@b' is already mapped on line 1"},
	{"@x.org /q/1\nb@c /q\n@X.ORG /q/2\n",
	 "q.map:3: '@x.org' is already mapped on line 1"},
	{"a@b /q/\x01x\n", "q.map:1: control byte"},
};

static void test_parse(void)
{
	struct ticket_qmap *map;
	const char *error;
	char what[64];
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		map = NULL;
		error = NULL;
		snprintf(what, sizeof(what), "case %zu", i);
		r = ticket_qmap_parse("q.map", cases[i].text,
				      strlen(cases[i].text), &map, &error);
		if (cases[i].error == NULL) {
			check_int(what, r, 0);
			if (r < 0)
				printf("  got: %s\n", error);
		} else {
			check_int(what, r, -1);
			check_true(cases[i].error,
				   error != NULL &&
					   strncmp(error, cases[i].error,
						   strlen(cases[i].error)) ==
						   0);
			if (error != NULL && strncmp(error, cases[i].error,
						     strlen(cases[i].error)))
				printf("  got: %s\n", error);
		}
		ticket_qmap_free(&map);
	}
}

static void test_bounds(void)
{
	struct ticket_qmap *map = NULL;
	const char *error = NULL;
	size_t n = 10001 * 16, i, len = 0, len10000 = 0;
	char *text = malloc(n + 5000);

	check_true("malloc", text != NULL);
	memset(text, 'x', 5000);
	memcpy(text, "a@b /", 5);
	text[4999] = '\n';
	check_int("long line",
		  ticket_qmap_parse("q.map", text, 5000, &map, &error), -1);
	check_str("long line error", error,
		  "q.map:1: line longer than 4096 bytes");
	memcpy(text, "a@b /q\0x\n", 9);
	check_int("NUL", ticket_qmap_parse("q.map", text, 9, &map, &error), -1);
	check_str("NUL error", error,
		  "q.map:1: NUL byte: the map must be text");
	for (i = 0; i < 10001; i++) {
		len10000 = len;
		len += (size_t)snprintf(text + len, 16, "u%05zu@d /q\n", i);
	}
	check_int("10000 entries",
		  ticket_qmap_parse("q.map", text, len10000, &map, &error), 0);
	check_int("count", (long long)ticket_qmap_count(map), 10000);
	check_str("last", ticket_qmap_lookup(map, "u09999@d"), "/q");
	ticket_qmap_free(&map);
	check_true("freed", map == NULL);
	check_int("10001 entries",
		  ticket_qmap_parse("q.map", text, len, &map, &error), -1);
	check_true("too many", error && strstr(error, "q.map:10001: more than "
						      "10000 queues") != NULL);
	free(text);
}

static const struct {
	const char *recipient;
	const char *dir; /* NULL: no queue */
} lookups[] = {
	{"support@contoso.com", "/q/support"},
	{"Support@CONTOSO.com", "/q/support"},
	{"support+urgent@contoso.com", "/q/support"},
	{"support+vip@contoso.com", "/q/vip"},
	{"SUPPORT+VIP@contoso.com", "/q/vip"},
	{"sales@contoso.com", "/q/sales"},
	{"sales+a+b@contoso.com", "/q/sales"},
	{"anyone@contoso.com", "/q/catchall"},
	{"+x@contoso.com", "/q/catchall"},
	{"support@fabrikam.com", NULL},
	{"support@sub.contoso.com", NULL},
	{"support", NULL},
	{"@contoso.com", NULL},
	{"support@", NULL},
	{"", NULL},
	{"<support@contoso.com>", NULL},
};

static void test_lookup(void)
{
	static const char text[] = "support@contoso.com /q/support\n"
				   "support+vip@contoso.com /q/vip\n"
				   "SALES@contoso.com /q/sales\n"
				   "@Contoso.com /q/catchall\n";
	struct ticket_qmap *map = NULL;
	const char *error;
	char longaddr[400];
	size_t i;

	check_int("parse",
		  ticket_qmap_parse("q.map", text, strlen(text), &map, &error),
		  0);
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++)
		check_str(lookups[i].recipient,
			  ticket_qmap_lookup(map, lookups[i].recipient),
			  lookups[i].dir);
	memset(longaddr, 'a', sizeof(longaddr));
	memcpy(longaddr + sizeof(longaddr) - 14, "@contoso.com", 13);
	check_str("too long", ticket_qmap_lookup(map, longaddr), NULL);
	check_int("count", (long long)ticket_qmap_count(map), 4);
	check_str("dir 0", ticket_qmap_dir(map, 0), "/q/support");
	check_str("dir 3", ticket_qmap_dir(map, 3), "/q/catchall");
	check_str("dir 4", ticket_qmap_dir(map, 4), NULL);
	ticket_qmap_free(&map);
}

static void test_load(void)
{
	char dir[] = "/tmp/test_ticket_qmap.XXXXXX", path[256];
	struct ticket_qmap *map = NULL;
	const char *error = NULL;
	FILE *f;

	umask(022); /* as root, a group-writable map is refused */
	check_true("mkdtemp", mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/queues", dir);
	check_int("missing", ticket_qmap_load(path, &map, &error), -1);
	check_true("missing error",
		   error && strstr(error, "no such file: create") != NULL);
	f = fopen(path, "w");
	check_true("fopen", f != NULL);
	fputs("a@b /q/a\nbad line here\n", f);
	fclose(f);
	check_int("bad", ticket_qmap_load(path, &map, &error), -1);
	check_true("bad names file:line",
		   error && strncmp(error, path, strlen(path)) == 0 &&
			   strncmp(error + strlen(path), ":2: ", 4) == 0);
	f = fopen(path, "w");
	fputs("a@b /q/a\n", f);
	fclose(f);
	check_int("good", ticket_qmap_load(path, &map, &error), 0);
	check_str("lookup", ticket_qmap_lookup(map, "A@b"), "/q/a");
	ticket_qmap_free(&map);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_parse();
	test_bounds();
	test_lookup();
	test_load();
	return test_done("test_ticket_qmap");
}
