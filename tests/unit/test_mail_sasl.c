/* test_mail_sasl.c - our libsasl2 client glue: plugin discovery, the
 * callbacks that answer user and password (through libsasl2's PLAIN and
 * LOGIN), unknown mechanisms, and our own plugin (the built
 * libxoauth2.so) turning a raw access token into XOAUTH2 and
 * OAUTHBEARER initial responses */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/mail_sasl.h"
#include "testlib.h"

static void check_bytes(const char *what, const char *got, unsigned len,
			const char *want, unsigned wantlen)
{
	check_true(what, got != NULL && len == wantlen &&
				 memcmp(got, want, wantlen) == 0);
	if (got == NULL || len != wantlen || memcmp(got, want, wantlen) != 0)
		printf("  got %u bytes, want %u\n", len, wantlen);
}

static void test_plain_login(void)
{
	struct mail_sasl *s = NULL;
	const char *error = NULL, *out;
	unsigned len;

	check_int("new",
		  mail_sasl_new("imap", "mail.example", "user@x", "pw", &s,
				&error),
		  0);
	if (s == NULL)
		return;
	check_int("PLAIN", mail_sasl_start(s, "PLAIN", &out, &len, &error), 0);
	check_bytes("PLAIN: authzid and authid from the user, the password",
		    out, len, "user@x\0user@x\0pw", 16);
	mail_sasl_free(&s);
	check_true("freed", s == NULL);
	mail_sasl_free(&s); /* NULL is fine */

	check_int("new",
		  mail_sasl_new("smtp", "mail.example", "user@x", "secret", &s,
				&error),
		  0);
	check_int("LOGIN", mail_sasl_start(s, "LOGIN", &out, &len, &error), 0);
	check_int("LOGIN: user",
		  mail_sasl_step(s, "Username:", 9, &out, &len, &error), 0);
	check_bytes("LOGIN user", out, len, "user@x", 6);
	check_int("LOGIN: password",
		  mail_sasl_step(s, "Password:", 9, &out, &len, &error), 0);
	check_bytes("LOGIN password", out, len, "secret", 6);
	mail_sasl_free(&s);

	check_int("new",
		  mail_sasl_new("imap", "mail.example", "u", "p", &s, &error),
		  0);
	error = NULL;
	check_int("no such mechanism",
		  mail_sasl_start(s, "NO-SUCH-MECH", &out, &len, &error), -1);
	check_true("says which plugin is missing and how to look",
		   error != NULL &&
			   strstr(error, "no SASL plugin offers this "
					 "mechanism") != NULL &&
			   strstr(error, "saslpluginviewer") != NULL);
	mail_sasl_free(&s);
}

static void test_ours(void)
{
	static const char want_x[] =
		"user=user@x\001auth=Bearer eyJ0.a-b_c\001\001";
	static const char tail_o[] = "auth=Bearer eyJ0.a-b_c\001\001";
	const size_t n = sizeof(tail_o) - 1;
	struct mail_sasl *s = NULL;
	const char *error = NULL, *out;
	unsigned len;

	check_int("XOAUTH2 offered", mail_sasl_has_mech("XOAUTH2"), 1);
	check_int("OAUTHBEARER offered", mail_sasl_has_mech("OAUTHBEARER"), 1);
	check_int("new",
		  mail_sasl_new("smtp", "smtp.example", "user@x", "eyJ0.a-b_c",
				&s, &error),
		  0);
	check_int("XOAUTH2", mail_sasl_start(s, "XOAUTH2", &out, &len, &error),
		  0);
	check_bytes("XOAUTH2 initial response", out, len, want_x,
		    sizeof(want_x) - 1);
	mail_sasl_free(&s);

	check_int("new",
		  mail_sasl_new("imap", "imap.example", "user@x", "eyJ0.a-b_c",
				&s, &error),
		  0);
	check_int("OAUTHBEARER",
		  mail_sasl_start(s, "OAUTHBEARER", &out, &len, &error), 0);
	check_true("OAUTHBEARER: gs2 header with the user first",
		   out != NULL && len > 11 &&
			   memcmp(out, "n,a=user@x,\001", 12) == 0);
	check_true("OAUTHBEARER: the token last",
		   out != NULL && len > n &&
			   memcmp(out + len - n, tail_o, n) == 0);
	mail_sasl_free(&s);

	check_int("new",
		  mail_sasl_new("smtp", "smtp.example", "user@x",
				"not a token!", &s, &error),
		  0);
	error = NULL;
	check_int("a password that is no token",
		  mail_sasl_start(s, "XOAUTH2", &out, &len, &error), -1);
	check_true("says why", error != NULL && error[0] != '\0');
	mail_sasl_free(&s);
}

int main(void)
{
	const char *error = NULL, *top = getenv("top_builddir");
	char plugindir[4096];

	/* the built plugin first, then libsasl2's own directory */
	snprintf(plugindir, sizeof(plugindir), "%s/sasl-xoauth2/.libs",
		 top != NULL ? top : "..");
	unsetenv("SASL_PATH");
	unsetenv("OAUTHMAIL_CONF");
	check_int("init", mail_sasl_init(NULL, plugindir, &error), 0);
	check_int("init twice is fine", mail_sasl_init(NULL, NULL, &error), 0);
	if (!mail_sasl_has_mech("PLAIN")) {
		printf("SKIP: libsasl2's PLAIN plugin is not installed "
		       "(libsasl2-modules; scripts/install-deps)\n");
		mail_sasl_done();
		return 77;
	}
	check_int("unknown mechanism not offered",
		  mail_sasl_has_mech("NO-SUCH-MECH"), 0);
	check_int("case-insensitive", mail_sasl_has_mech("plain"), 1);
	test_plain_login();
	test_ours();
	mail_sasl_done();
	return test_done("test_mail_sasl");
}
