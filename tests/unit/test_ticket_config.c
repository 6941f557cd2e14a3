/* test_ticket_config.c - ticketq.conf parsing and queue creation */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "ticket/ticket_config.h"
#include "ticket_testutil.h"

#define KEY           \
	"hmac_key = " \
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"

static const struct {
	const char *text;
	const char *error; /* substring of the error, NULL = parses */
} cases[] = {
	{"address = help@example.com\n" KEY, NULL},
	{"address = help@example.com\n" KEY "tag_prefix = ACME#\n"
	 "max_message_size = 20M\nmax_attachment_size = 512K\n"
	 "busy_timeout = 5\nsendmail = /usr/sbin/sendmail -t -i\n",
	 NULL},
	{KEY, "'address' and 'hmac_key' are required"},
	{"address = help@example.com\n", "required"},
	{"address = nobody\n" KEY, "t.conf:1: address: want user@domain"},
	{"address = a@b\naddress = c@d\n" KEY, "t.conf:2: 'address' set twice"},
	{"address = a@b\n" KEY "colour = red\n",
	 "t.conf:3: unknown key 'colour'"},
	{"address = a@b\nhmac_key = 1234\n", "t.conf:2: hmac_key: want 64 hex"},
	{"address = a@b\n" KEY "max_message_size = 10X\n", "t.conf:3: size"},
	{"address = a@b\n" KEY "busy_timeout = 0\n", "t.conf:3: busy_timeout"},
	/* deliver must end well within Postfix's command_time_limit */
	{"address = a@b\n" KEY "busy_timeout = 120\nlock_timeout = 300\n",
	 NULL},
	{"address = a@b\n" KEY "busy_timeout = 121\n",
	 "t.conf:3: busy_timeout: want seconds, 1 to 120"},
	{"address = a@b\n" KEY "lock_timeout = 301\n",
	 "t.conf:3: lock_timeout: want seconds, 1 to 300"},
	{"address = a@b\n" KEY "lock_timeout = 3600\n", "lock_timeout"},
	{"address = a@b\n" KEY "tag_prefix = [x\n", "t.conf:3: tag_prefix"},
	{"address = a@b\n" KEY "sendmail = sendmail -t\n", "absolute"},
	{"[queue]\naddress = a@b\n" KEY,
	 "t.conf:1: ticketq.conf has no sections"},
};

static void test_parse(void)
{
	struct ticket_config *cfg;
	const char *error;
	char what[64];
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = NULL;
		error = NULL;
		snprintf(what, sizeof(what), "case %zu", i);
		r = ticket_config_parse("/q", "t.conf", cases[i].text,
					strlen(cases[i].text), &cfg, &error);
		if (cases[i].error == NULL) {
			check_int(what, r, 0);
		} else {
			check_int(what, r, -1);
			check_true(cases[i].error,
				   error && strstr(error, cases[i].error));
			if (error && !strstr(error, cases[i].error))
				printf("  got: %s\n", error);
		}
		ticket_config_free(&cfg);
	}
}

static void test_values(void)
{
	const char *text = "address = help@example.com\n" KEY
			   "max_message_size = 20M\nname = Help Desk\n";
	struct ticket_config *cfg = NULL;
	const char *error;

	check_int("parse",
		  ticket_config_parse("/q", "t.conf", text, strlen(text), &cfg,
				      &error),
		  0);
	check_int("max", (long long)cfg->max_message_size, 20LL << 20);
	check_str("domain from address", cfg->id_domain, "example.com");
	check_str("default prefix", cfg->tag_prefix, "#");
	check_str("name", cfg->name, "Help Desk");
	check_str("path", cfg->path, "/q/ticketq.conf");
	check_int("key byte", cfg->hmac_key[1], 0x11);
	ticket_config_free(&cfg);
}

static void test_init(void)
{
	char dir[] = "/tmp/test_ticket_config.XXXXXX", path[256];
	struct ticket_config *cfg = NULL, *cfg2 = NULL;
	const char *error;
	struct stat st;
	int created;

	check_true("mkdtemp", mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/q", dir);
	check_int("bad address",
		  ticket_config_init(path, "x", &created, &error), -1);
	check_int(
		"init",
		ticket_config_init(path, "help@example.com", &created, &error),
		0);
	check_int("created", created, 1);
	check_int("load", ticket_config_load(path, &cfg, &error), 0);
	snprintf(path, sizeof(path), "%s/q/ticketq.conf", dir);
	check_int("stat", stat(path, &st), 0);
	check_int("mode 0640", st.st_mode & 0777, 0640);
	snprintf(path, sizeof(path), "%s/q", dir);
	check_int(
		"again",
		ticket_config_init(path, "other@example.com", &created, &error),
		0);
	check_int("kept", created, 0);
	check_int("reload", ticket_config_load(path, &cfg2, &error), 0);
	check_true("same key", cfg && cfg2 &&
				       memcmp(cfg->hmac_key, cfg2->hmac_key,
					      TICKET_HMAC_KEY_LEN) == 0);
	snprintf(path, sizeof(path), "%s/none", dir);
	check_int("missing queue", ticket_config_load(path, &cfg, &error), 1);
	ticket_config_free(&cfg);
	ticket_config_free(&cfg2);
	testutil_rm_tree(dir);
}

int main(void)
{
	test_parse();
	test_values();
	test_init();
	return test_done("test_ticket_config");
}
