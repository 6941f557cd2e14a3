/* test_log.c - the logging API: levels and thresholds, the callback
 * output (plugins), the stderr line format, the line cap, and
 * printable() for echoing outside text */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "testlib.h"

struct captured {
	int count;
	enum log_level level;
	char line[4096];
};

static void capture(enum log_level level, const char *line, void *ctx)
{
	struct captured *c = ctx;

	c->count++;
	c->level = level;
	snprintf(c->line, sizeof(c->line), "%s", line);
}

static void test_levels(void)
{
	static const struct {
		enum log_level min;
		void (*fn)(const char *, ...);
		enum log_level level;
		int shown;
	} rows[] = {
		{LOG_LEVEL_INFO, log_debug, LOG_LEVEL_DEBUG, 0},
		{LOG_LEVEL_INFO, log_info, LOG_LEVEL_INFO, 1},
		{LOG_LEVEL_INFO, log_warn, LOG_LEVEL_WARN, 1},
		{LOG_LEVEL_INFO, log_error, LOG_LEVEL_ERROR, 1},
		{LOG_LEVEL_DEBUG, log_debug, LOG_LEVEL_DEBUG, 1},
		{LOG_LEVEL_ERROR, log_warn, LOG_LEVEL_WARN, 0},
		{LOG_LEVEL_ERROR, log_error, LOG_LEVEL_ERROR, 1},
	};
	struct captured c;
	char what[64];
	size_t i;

	check_int("default threshold INFO", log_get_min_level(),
		  LOG_LEVEL_INFO);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&c, 0, sizeof(c));
		log_set_output(capture, &c);
		log_set_min_level(rows[i].min);
		rows[i].fn("row %zu", i);
		snprintf(what, sizeof(what), "row %zu shown", i);
		check_int(what, c.count, rows[i].shown);
		if (rows[i].shown) {
			snprintf(what, sizeof(what), "row %zu level", i);
			check_int(what, c.level, rows[i].level);
			snprintf(what, sizeof(what), "row %zu", i);
			check_str("callback gets the bare line", c.line, what);
		}
	}
	log_set_min_level(LOG_LEVEL_INFO);
	log_set_output(NULL, NULL);
}

static void test_cap(void)
{
	struct captured c = {0};
	char *big = malloc(5000);

	if (big == NULL)
		return;
	memset(big, 'y', 4999);
	big[4999] = '\0';
	log_set_output(capture, &c);
	log_info("%s", big);
	log_set_output(NULL, NULL);
	check_int("line cut to 2047 bytes", (long long)strlen(c.line), 2047);
	free(big);
}

/* stderr_lines - what the stderr output wrote while fn ran */
static void stderr_lines(void (*fn)(void), char *out, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n = 0;

	out[0] = '\0';
	if (tmp == NULL || saved < 0) {
		check_true("tmpfile and dup", 0);
		return;
	}
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, size - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

static void log_all(void)
{
	log_debug("dropped below INFO");
	log_info("plain info");
	log_warn("a %s", "warning");
	log_error("an error %d", 42);
}

static void log_threshold(void)
{
	log_stderr_min_level(LOG_LEVEL_WARN);
	log_info("not on the terminal");
	log_warn("on the terminal");
	log_stderr_min_level(LOG_LEVEL_DEBUG);
}

static void log_off(void)
{
	log_to_stderr(0);
	log_error("nowhere");
	log_to_stderr(1);
}

static void test_stderr(void)
{
	char got[1024];

	log_init("test-ident");
	stderr_lines(log_all, got, sizeof(got));
	check_str("stderr lines: ident, level prefix", got,
		  "test-ident: plain info\n"
		  "test-ident: warning: a warning\n"
		  "test-ident: error: an error 42\n");
	stderr_lines(log_threshold, got, sizeof(got));
	check_str("stderr threshold", got,
		  "test-ident: warning: on the terminal\n");
	stderr_lines(log_off, got, sizeof(got));
	check_str("stderr off", got, "");
	log_init("oauthmail");
}

static void test_printable(void)
{
	static const struct {
		const char *in;
		size_t max;
		const char *want;
	} rows[] = {
		{"plain text", 100, "plain text"},
		{"tab\there\r\nnext", 100, "tab?here??next"},
		{"del\x7f", 100, "del?"},
		{"abcdefgh", 5, "abcde..."},
		{"abcde", 5, "abcde"},
		{"", 5, ""},
		{"caf\xc3\xa9", 100, "caf\xc3\xa9"}, /* UTF-8 kept */
	};
	char big[3000];
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_str(rows[i].in, printable(rows[i].in, rows[i].max),
			  rows[i].want);
	check_str("NULL", printable(NULL, 10), "(null)");
	check_str("NULL len", printable_len(NULL, 3, 10), "(null)");
	check_str("(ptr, len) without NUL",
		  printable_len("abc\ndef-not-this", 7, 100), "abc?def");
	check_str("(ptr, len) cut", printable_len("abcdef", 6, 3), "abc...");
	check_str("embedded NUL", printable_len("a\0b", 3, 10), "a?b");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	got = printable(big, 5000);
	check_int("max capped at 1024 + ...", (long long)strlen(got), 1027);
	/* the ring: a few results stay valid together */
	got = printable("one", 10);
	printable("two", 10);
	printable("three", 10);
	check_str("ring keeps 4", got, "one");
}

int main(void)
{
	test_levels();
	test_cap();
	test_stderr();
	test_printable();
	return test_done("test_log");
}
