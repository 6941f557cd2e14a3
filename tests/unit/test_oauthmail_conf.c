/* test_config.c - oauthmail.conf: errors with FILE:LINE, defaults per
 * provider, URL rules, INI corner cases */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>

#include "token/oauthmail_conf.h"
#include "token/provider.h"
#include "testlib.h"

struct error_case {
	const char *text;
	const char *want; /* substring of the error */
};

static const struct error_case error_cases[] = {
	{"bogus = 1\n", "t.conf:1: unknown setting 'bogus'"},
	{"\n\n[account a]\nclient_id = x\nfoo = 1\n",
	 "t.conf:5: unknown account setting 'foo'"},
	{"[account a]\nclient_id = x\nclient_id = y\n",
	 "t.conf:3: client_id is set twice"},
	{"[account a]\nclient_id = x\n[account a]\nclient_id = y\n",
	 "t.conf:3: account 'a' is defined twice"},
	{"[acount a]\n", "t.conf:1: sections are [account NAME]"},
	{"[account a\n", "t.conf:1: section header must look like"},
	{"[account ../x]\n", "t.conf:1: bad section header"},
	{"[account a]\n", "t.conf:1: [account a]: client_id is missing"},
	{"refresh_margin = ten\n",
	 "t.conf:1: refresh_margin: expected a whole"},
	{"refresh_margin = -5\n", "t.conf:1: refresh_margin: expected a whole"},
	{"token_dir = relative/dir\n",
	 "t.conf:1: token_dir: must be an absolute"},
	{"[account a]\nclient_id = x\nimap_port = 70000\n",
	 "t.conf:3: imap_port: expected a whole number from 1 to 65535"},
	{"[account a]\nclient_id = x\nimap_tls = ssl\n",
	 "t.conf:3: imap_tls: expected implicit or starttls"},
	{"[account a]\nclient_id = x\nprovider = yahoo\n",
	 "t.conf:3: provider: expected microsoft, google or custom"},
	{"[account a]\nclient_id = x\ntoken_url = http://example.com/t\n",
	 "t.conf:3: token_url: must be an https:// URL"},
	{"[account a]\nclient_id = x\nclient_secret_expires = 2027-13-01\n",
	 "t.conf:3: client_secret_expires: expected a date"},
	{"[account a]\nclient_id = x\npop3_split_auth = maybe\n",
	 "t.conf:3: pop3_split_auth: expected yes or no"},
	{"[account a]\nclient_id = x\ngrant = client_credentials\n"
	 "client_secret = s\n",
	 "t.conf:1: [account a]: grant = client_credentials needs tenant"},
	{"[account a]\nclient_id = x\ngrant = client_credentials\n"
	 "tenant = contoso.com\n",
	 "needs client_secret_file"},
	{"[account a]\nclient_id = x\nclient_secret = s\n"
	 "client_secret_file = /s\n",
	 "set client_secret or client_secret_file, not both"},
	{"[account a]\nclient_id = x\nprovider = custom\n",
	 "provider = custom needs token_url"},
	/* every key a flow needs, at config time (the flows crashed) */
	{"[account a]\nclient_id = x\nprovider = custom\n"
	 "token_url = https://i.example/t\nauthorize_url = "
	 "https://i.example/a\n",
	 "t.conf:1: [account a]: provider = custom needs scope (the scopes"},
	{"[account a]\nclient_id = x\nprovider = custom\n"
	 "token_url = https://i.example/t\nscope = mail\n",
	 "t.conf:1: [account a]: provider = custom needs authorize_url "
	 "(browser sign-in) or device_url"},
	/* a bad tenant is the tenant's fault, on its own line */
	{"[account a]\nclient_id = x\ntenant = contoso com\n",
	 "t.conf:3: tenant: expected common, organizations, consumers, the "
	 "tenant ID"},
	{"[account a]\nclient_id = x\ntenant = ../evil?x=\n",
	 "t.conf:3: tenant: expected"},
	/* national clouds */
	{"[account a]\nclient_id = x\ncloud = gcc\n",
	 "t.conf:3: cloud: expected global, usgov (GCC High), usgovdod (DoD) "
	 "or china"},
	{"[account a]\nclient_id = x\nprovider = google\ncloud = usgov\n",
	 "t.conf:1: [account a]: cloud = usgov is for provider = microsoft "
	 "only"},
	{"[account a]\nclient_id = x\n"
	 "authority = https://login.microsoftonline.us\n",
	 "t.conf:1: [account a]: authority https://login.microsoftonline.us is "
	 "a national cloud's"},
	{"[account a]\nclient_id =\n", "t.conf:2: empty value"},
	{"just words\n", "t.conf:1: expected 'key = value'"},
	{"Token_Dir = /x\n", "t.conf:1: bad key name"},
};

static void test_errors(void)
{
	struct oauthmail_config *cfg = NULL;
	const char *error = NULL;
	size_t i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		int ret = config_parse("t.conf", c->text, strlen(c->text), &cfg,
				       &error);

		check_int(c->text, ret, -1);
		if (ret == 0) {
			config_free(&cfg);
			continue;
		}
		if (strstr(error, c->want) == NULL)
			check_str(c->text, error, c->want);
		else
			check_true(c->want, 1);
	}
}

static void test_cloud(void)
{
	static const char text[] = "[account gov]\n"
				   "cloud = usgovdod\n"
				   "tenant = agency.onmicrosoft.us\n"
				   "client_id = x\n"
				   "smtp_host = relay.agency.example\n"
				   "[account cn]\n"
				   "cloud = china\n"
				   "client_id = y\n"
				   "[account ww]\n"
				   "cloud = global\n"
				   "client_id = z\n";
	struct oauthmail_config *cfg = NULL;
	const struct account_config *a;
	const char *error = "";

	check_int("cloud parses",
		  config_parse("t.conf", text, strlen(text), &cfg, &error), 0);
	if (cfg == NULL) {
		printf("error: %s\n", error);
		return;
	}
	a = config_find_account(cfg, "gov");
	check_int("usgovdod", a->cloud, CLOUD_USGOVDOD);
	check_str("DoD token_url", a->token_url,
		  "https://login.microsoftonline.us/agency.onmicrosoft.us/"
		  "oauth2/v2.0/token");
	check_true("DoD scope",
		   strstr(a->scope, "https://outlook-dod.office365.us/SMTP."
				    "Send") != NULL);
	check_str("DoD imap", a->imap.host, "outlook-dod.office365.us");
	check_str("explicit smtp_host kept", a->smtp.host,
		  "relay.agency.example");
	check_str("DoD graph", a->graph_url, "https://dod-graph.microsoft.us");
	a = config_find_account(cfg, "cn");
	check_str("china authority", a->authority,
		  "https://login.partner.microsoftonline.cn");
	check_str("china smtp", a->smtp.host, "smtp.partner.outlook.cn");
	a = config_find_account(cfg, "ww");
	check_str("global imap", a->imap.host, "outlook.office365.com");
	check_true("global scope",
		   strstr(a->scope, "https://outlook.office.com/") != NULL);
	config_free(&cfg);
}

static void test_nul_and_long_lines(void)
{
	struct oauthmail_config *cfg = NULL;
	const char *error = NULL;
	char *big = malloc(5000);

	check_int("NUL byte",
		  config_parse("t.conf", "a\0b = 1\n", 8, &cfg, &error), -1);
	check_true("NUL error says line 1",
		   strstr(error, "t.conf:1: NUL byte") != NULL);
	memset(big, 'a', 4999);
	big[4999] = '\n';
	check_int("long line", config_parse("t.conf", big, 5000, &cfg, &error),
		  -1);
	check_true("long line error", strstr(error, "line too long") != NULL);
	free(big);
}

static const char microsoft_conf[] =
	"# comment\n"
	"token_dir = /var/lib/oauthmail\n"
	"refresh_margin = 600   # HVE wants 600\n"
	"\n"
	"[account support]\n"
	"provider = microsoft\n"
	"tenant = contoso.onmicrosoft.com\n"
	"client_id = 00000000-0000-0000-0000-000000000000\n"
	"client_secret_expires = 2027-11-01\n"
	"user = support@contoso.com\n"
	"[account app]\n"
	"grant = client_credentials\n"
	"tenant = 11111111-2222-3333-4444-555555555555\n"
	"client_id = abc\n"
	"client_secret = s3cr#t with space\n"
	"imap_tls = starttls\n"
	"[account gmail]\n"
	"provider = google\n"
	"client_id = g\n"
	"[account test]\n"
	"authority = http://127.0.0.1:8080\n"
	"client_id = t\n";

static void test_defaults(void)
{
	struct oauthmail_config *cfg = NULL;
	const struct account_config *a;
	const char *error = "";

	check_int("parse",
		  config_parse("t.conf", microsoft_conf, strlen(microsoft_conf),
			       &cfg, &error),
		  0);
	if (cfg == NULL) {
		printf("error: %s\n", error);
		return;
	}
	check_int("refresh_margin", cfg->refresh_margin, 600);
	check_int("accounts", (long long)cfg->account_count, 4);
	a = config_find_account(cfg, "support");
	check_str("token_url", a->token_url,
		  "https://login.microsoftonline.com/contoso.onmicrosoft.com/"
		  "oauth2/v2.0/token");
	check_str("device_url", a->device_url,
		  "https://login.microsoftonline.com/contoso.onmicrosoft.com/"
		  "oauth2/v2.0/devicecode");
	check_true("scope has SMTP.Send",
		   strstr(a->scope, "https://outlook.office.com/SMTP.Send") !=
			   NULL);
	check_str("imap host", a->imap.host, "outlook.office365.com");
	check_int("imap port", a->imap.port, 993);
	check_int("smtp port", a->smtp.port, 587);
	check_int("smtp tls", a->smtp.tls, TLS_STARTTLS);
	check_int("pop3 split auth on for O365", a->pop3_split_auth, 1);
	check_str("redirect_uri default", a->redirect_uri, "http://localhost");
	check_int("secret expires 2027-11-01 23:59:59 UTC",
		  (long long)a->client_secret_expires, 1825113599LL);
	check_int("refresh token days", provider_refresh_token_days(a), 90);
	a = config_find_account(cfg, "app");
	check_str("app-only scope", a->scope,
		  "https://outlook.office365.com/.default");
	check_str("secret keeps # after no space", a->client_secret,
		  "s3cr#t with space");
	check_int("imap starttls port", a->imap.port, 143);
	check_int("no refresh token horizon for app-only",
		  provider_refresh_token_days(a), 0);
	a = config_find_account(cfg, "gmail");
	check_str("google token", a->token_url,
		  "https://oauth2.googleapis.com/token");
	check_str("google scope", a->scope, "https://mail.google.com/");
	check_int("gmail pop3 split auth off", a->pop3_split_auth, 0);
	check_int("google days", provider_refresh_token_days(a), 7);
	a = config_find_account(cfg, "test");
	check_str("authority for tests", a->token_url,
		  "http://127.0.0.1:8080/common/oauth2/v2.0/token");
	check_true("missing account", config_find_account(cfg, "x") == NULL);
	config_free(&cfg);
	check_true("freed", cfg == NULL);
}

struct url_case {
	const char *url;
	int allowed;
};

static const struct url_case url_cases[] = {
	{"https://login.microsoftonline.com/x", 1},
	{"http://127.0.0.1:9/x", 1},
	{"http://localhost/x", 1},
	{"http://LOCALHOST:80", 1},
	{"http://[::1]:8080/", 1},
	{"http://127.0.0.1.evil.com/", 0},
	{"http://localhost.evil.com/", 0},
	{"http://example.com/", 0},
	{"ftp://example.com/", 0},
	{"https://", 0},
	{"file:///etc/passwd", 0},
	{"http://localhost:1@192.0.2.1/token", 0},
	{"http://localhost@192.0.2.1/token", 0},
	{"https://user:pw@login.example.com/", 0},
	{"http://127.0.0.1#@192.0.2.1/", 1},
	{"HTTPS://login.example.com/", 1},
};

static void test_urls(void)
{
	size_t i;

	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++)
		check_int(url_cases[i].url,
			  provider_url_allowed(url_cases[i].url),
			  url_cases[i].allowed);
}

static void test_load_missing(void)
{
	struct oauthmail_config *cfg = NULL;
	const char *error = "";

	check_int("missing file",
		  config_load("/nonexistent/x.conf", &cfg, &error), -1);
	check_true("says where to look",
		   strstr(error, "no such file") != NULL &&
			   strstr(error, "oauthmail.conf(5)") != NULL);
}

int main(void)
{
	test_errors();
	test_cloud();
	test_nul_and_long_lines();
	test_defaults();
	test_urls();
	test_load_missing();
	return test_done("test_config");
}
