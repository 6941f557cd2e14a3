/* test_conftable.c - config key tables: setters, bounds, unknown and
 * repeated keys, bad-value messages */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/conftable.h"
#include "testlib.h"

struct sample {
	char *label;
	char *path;
	char *text;
	int count;
	int flag;
};

static int short_text(const char *s)
{
	return strlen(s) <= 3;
}

static const struct conf_key keys[] = {
	CONF_KEY("label", conf_set_nonempty, struct sample, label,
		 "label: empty"),
	CONF_KEY("path", conf_set_path, struct sample, path,
		 "path: absolute, please"),
	CONF_STRING_KEY("text", conf_set_string, struct sample, text,
			short_text, "text: 3 at most"),
	CONF_INT_KEY("count", struct sample, count, 1, 10, "count: 1 to 10"),
	CONF_KEY("flag", conf_set_bool, struct sample, flag, "flag: yes or no"),
	CONF_KEY("other", conf_set_bool, struct sample, flag, NULL),
};

static const struct conf_table table = {
	keys,	  sizeof(keys) / sizeof(keys[0]), "no such key '", "'", "",
	" twice",
};

struct set_case {
	const char *key, *value;
	const char *why; /* NULL: accepted */
};

static const struct set_case cases[] = {
	{"label", "x", NULL},
	{"colour", "red", "no such key 'colour'"},
	{"path", "relative", "path: absolute, please"},
	{"text", "", NULL},
	{"text", "four", "text: 3 at most"},
	{"other", "x", "other: invalid value"},
	{"count", "0", "count: 1 to 10"},
	{"count", "11", "count: 1 to 10"},
	{"count", "+5", "count: 1 to 10"},
	{"flag", "maybe", "flag: yes or no"},
};

static void test_set(void)
{
	struct sample s = {0};
	unsigned char seen[sizeof(keys) / sizeof(keys[0])] = {0};
	const char *why;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct set_case *c = &cases[i];

		why = NULL;
		memset(seen, 0, sizeof(seen)); /* each row on its own */
		ret = conf_table_set(&table, seen, &s, c->key, c->value, &why);
		check_int(c->key, ret, c->why == NULL ? 0 : -1);
		check_str(c->key, ret == 0 ? NULL : why, c->why);
	}
	check_str("label stored", s.label, "x");
	check_int("label again",
		  conf_table_set(&table, seen, &s, "label", "a", &why), 0);
	check_int("label twice",
		  conf_table_set(&table, seen, &s, "label", "b", &why), -1);
	check_str("label twice why", why, "label twice");
	check_str("label kept", s.label, "a");
	check_str("empty text stored", s.text, "");
	check_true("seen label", conf_table_seen(&table, seen, "label"));
	check_true("path not seen", !conf_table_seen(&table, seen, "path"));
	check_true("colour not seen", !conf_table_seen(&table, seen, "colour"));
	memset(seen, 0, sizeof(seen));
	check_int("count 7",
		  conf_table_set(&table, seen, &s, "count", "7", &why), 0);
	check_int("count stored", s.count, 7);
	check_int("flag",
		  conf_table_set(&table, seen, &s, "flag", "TRUE", &why), 0);
	check_int("flag stored", s.flag, 1);
	check_int("empty label",
		  conf_table_set(&table, seen, &s, "label", "", &why), -1);
	check_str("empty label why", why, "label: empty");
	free(s.label);
	free(s.text);
}

int main(void)
{
	test_set();
	return test_done("test_conftable");
}
