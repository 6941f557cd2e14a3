/* test_number.c - the strict decimal parser: digits only, ranges,
 * overflow, (ptr, len) input, prefixes */
#include "oauthmail-config.h"

#include <limits.h>
#include <string.h>

#include "lib/number.h"
#include "testlib.h"

struct parse_case {
	const char *text;
	unsigned long long min, max;
	int ret;
	unsigned long long want;
};

static const struct parse_case parse_cases[] = {
	{"0", 0, 10, 0, 0},
	{"7", 0, 10, 0, 7},
	{"10", 0, 10, 0, 10},
	{"007", 0, 10, 0, 7},
	{"11", 0, 10, -1, 0},
	{"0", 1, 10, -1, 0},
	{"", 0, 10, -1, 0},
	{" 5", 0, 10, -1, 0},
	{"5 ", 0, 10, -1, 0},
	{"+5", 0, 10, -1, 0},
	{"-5", 0, 10, -1, 0},
	{"-0", 0, 10, -1, 0},
	{"5x", 0, 10, -1, 0},
	{"0x5", 0, 10, -1, 0},
	{"1e3", 0, 100000, -1, 0},
	{"65535", 1, 65535, 0, 65535},
	{"65536", 1, 65535, -1, 0},
	{"18446744073709551615", 0, ULLONG_MAX, 0, ULLONG_MAX},
	{"18446744073709551616", 0, ULLONG_MAX, -1, 0},
	{"99999999999999999999999", 0, ULLONG_MAX, -1, 0},
	{"9223372036854775807", 0, LLONG_MAX, 0, LLONG_MAX},
	{"9223372036854775808", 0, LLONG_MAX, -1, 0},
};

static void test_parse(void)
{
	unsigned long long v;
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		v = 0;
		check_int(c->text, number_parse(c->text, c->min, c->max, &v),
			  c->ret);
		check_true(c->text, v == c->want);
	}
}

static void test_len(void)
{
	unsigned long long v = 0;

	check_int("len: first two of 123",
		  number_parse_len("123", 2, 0, 99, &v), 0);
	check_int("len: 12", (long long)v, 12);
	check_int("len: no NUL needed",
		  number_parse_len("42\0junk", 2, 0, 99, &v), 0);
	check_int("len: NUL inside", number_parse_len("4\0002", 3, 0, 99, &v),
		  -1);
	check_int("len: zero bytes", number_parse_len("5", 0, 0, 99, &v), -1);
}

struct prefix_case {
	const char *text;
	int ret;
	unsigned long long want;
	size_t used;
};

static const struct prefix_case prefix_cases[] = {
	{"50M", 0, 50, 2},
	{"50011: bad", 0, 50011, 5},
	{"1024", 0, 1024, 4},
	{"M", -1, 0, 0},
	{" 5", -1, 0, 0},
	{"", -1, 0, 0},
	{"99999999999999999999K", -1, 0, 0},
};

static void test_prefix(void)
{
	unsigned long long v;
	size_t i, used;

	for (i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++) {
		const struct prefix_case *c = &prefix_cases[i];

		v = 0;
		used = 0;
		check_int(c->text,
			  number_prefix(c->text, strlen(c->text), 0, ULLONG_MAX,
					&v, &used),
			  c->ret);
		check_true(c->text, v == c->want);
		check_int(c->text, (long long)used, (long long)c->used);
	}
	check_int("prefix out of range",
		  number_prefix("70000;", 6, 1, 65535, &v, &used), -1);
}

int main(void)
{
	test_parse();
	test_len();
	test_prefix();
	return test_done("test_number");
}
