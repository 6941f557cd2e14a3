/* test_plugin_config_error.c - the SASL plugin (the built
 * libxoauth2.so, through libsasl2) with a config it loads but cannot
 * use: the error it reports, and libsasl2 logs, names the account, the
 * config file it read and what to change (it said only "open
 * .../support.lock: No such file or directory") */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_sasl.h"
#include "testlib.h"

static char dir[] = "/tmp/oauthmail-test-plugin.XXXXXX";

/* login_error - what the plugin says for oauthmail:support */
static const char *login_error(void)
{
	struct mail_sasl *s = NULL;
	const char *error = NULL, *out;
	unsigned len;

	check_int("new",
		  mail_sasl_new("smtp", "smtp.example", "support@x",
				"oauthmail:support", &s, &error),
		  0);
	if (s == NULL)
		return "";
	check_int("XOAUTH2 fails",
		  mail_sasl_start(s, "XOAUTH2", &out, &len, &error), -1);
	error = strdup(error != NULL ? error : "");
	mail_sasl_free(&s);
	return error;
}

static void check_has(const char *what, const char *got, const char *want)
{
	check_true(what, strstr(got, want) != NULL);
	if (strstr(got, want) == NULL)
		printf("  got: %s\n  want: ...%s...\n", got, want);
}

int main(void)
{
	const char *error = NULL, *top = getenv("top_builddir");
	char plugindir[4096], conf[512], want[1024];
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(conf, sizeof(conf), "%s/oauthmail.conf", dir);
	f = fopen(conf, "w");
	if (f == NULL)
		return 1;
	fprintf(f,
		"token_dir = %s/missing\n[account support]\n"
		"provider = microsoft\ntenant = common\n"
		"client_id = 00000000-0000-0000-0000-0000000000a1\n",
		dir);
	fclose(f);
	setenv("OAUTHMAIL_CONF", conf, 1);
	snprintf(plugindir, sizeof(plugindir), "%s/sasl-xoauth2/.libs",
		 top != NULL ? top : "..");
	unsetenv("SASL_PATH");
	check_int("init", mail_sasl_init(NULL, plugindir, &error), 0);
	if (mail_sasl_has_mech("XOAUTH2")) {
		error = login_error();
		snprintf(want, sizeof(want), "account support (config %s)",
			 conf);
		check_has("names the account and the config file", error, want);
		snprintf(want, sizeof(want),
			 "token_dir %s/missing does not exist. Fix: correct "
			 "token_dir in %s",
			 dir, conf);
		check_has("says what to change", error, want);
		check_has("keeps the cause", error, "support.lock");
		free((char *)error);
	} else
		check_true("the built plugin offers XOAUTH2", 0);
	mail_sasl_done();
	unlink(conf);
	rmdir(dir);
	return test_done("test_plugin_config_error");
}
