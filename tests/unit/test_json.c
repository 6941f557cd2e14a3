/* test_json.c - strict JSON reading: junk, NULs, types, numbers, caps */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "testlib.h"

struct parse_case {
	const char *text;
	size_t len; /* 0 = strlen */
	int ok;
};

static const struct parse_case parse_cases[] = {
	{"{}", 0, 1},
	{" {\"a\":1}\r\n", 0, 1},
	{"{} x", 0, 0},
	{"{}{}", 0, 0},
	{"", 0, 0},
	{"{\"a\":", 0, 0},
	{"{\"a\":1}\0junk", 12, 0},
	{"{\"a\":\"x\0y\"}", 11, 0},
	{"[1,2,3]", 0, 1},
	{"<html>", 0, 0},
	{"null", 0, 1},
};

static void test_parse(void)
{
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		cJSON *j = json_parse(c->text, len, &error);

		check_int(c->text, j != NULL, c->ok);
		cJSON_Delete(j);
	}
}

struct long_case {
	const char *text;
	long long min, max;
	int ret;
	long long want;
};

static const struct long_case long_cases[] = {
	{"{\"n\":3599}", 1, 100000, 0, 3599},
	{"{\"n\":\"3599\"}", 1, 100000, 0, 3599},
	{"{\"n\":0}", 1, 100000, -1, 0},
	{"{\"n\":-1}", 1, 100000, -1, 0},
	{"{\"n\":1.5}", 1, 100000, -1, 0},
	{"{\"n\":1e300}", 1, 100000, -1, 0},
	{"{\"n\":\"12abc\"}", 1, 100000, -1, 0},
	{"{\"n\":\"\"}", 1, 100000, -1, 0},
	{"{\"n\":\" 12\"}", 1, 100000, -1, 0},
	{"{\"n\":true}", 1, 100000, -1, 0},
	{"{\"n\":99999999999999999999}", 1, 100000, -1, 0},
	{"{\"m\":1}", 1, 100000, -1, 0},
};

static void test_long(void)
{
	const char *error;
	size_t i;
	long long v;

	for (i = 0; i < sizeof(long_cases) / sizeof(long_cases[0]); i++) {
		const struct long_case *c = &long_cases[i];
		cJSON *j = json_parse(c->text, strlen(c->text), &error);

		v = 0;
		check_int(c->text, json_long(j, "n", c->min, c->max, &v),
			  c->ret);
		check_int(c->text, v, c->want);
		cJSON_Delete(j);
	}
}

static void test_string(void)
{
	const char *text = "{\"a\":\"hello\",\"b\":5,\"c\":\"x\\u0001y\","
			   "\"d\":\"tab\\tok\"}";
	const char *error;
	cJSON *j = json_parse(text, strlen(text), &error);
	char *out;

	check_str("string", json_string(j, "a", 10), "hello");
	check_true("over max", json_string(j, "a", 4) == NULL);
	check_true("not a string", json_string(j, "b", 10) == NULL);
	check_true("control char", json_string(j, "c", 10) == NULL);
	check_str("tab allowed", json_string(j, "d", 10), "tab\tok");
	check_true("absent", json_string(j, "z", 10) == NULL);
	out = json_print(j, 10);
	check_true("print over cap", out == NULL);
	out = json_print(j, 1000);
	check_true("print", out != NULL && strstr(out, "hello") != NULL);
	free(out);
	json_delete_wiped(j);
}

int main(void)
{
	test_parse();
	test_long();
	test_string();
	return test_done("test_json");
}
