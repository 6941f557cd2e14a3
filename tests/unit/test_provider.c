/* test_provider.c - the defaults each provider fills in (endpoints per
 * tenant and cloud, scopes, mail servers and their ports per TLS mode,
 * POP3 split auth), what they keep, the combinations refused, names,
 * refresh-token lifetimes.  Accounts are built by hand: the interface
 * is provider_apply_defaults(), not the config parser. */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "token/oauthmail_conf.h"
#include "token/provider.h"

#define MS "https://login.microsoftonline.com/"

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void account_free(struct account_config *a)
{
	char **fields[] = {&a->name,	      &a->tenant,    &a->authority,
			   &a->authorize_url, &a->token_url, &a->device_url,
			   &a->graph_url,     &a->scope,     &a->redirect_uri,
			   &a->imap.host,     &a->pop3.host, &a->smtp.host};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

static void account_init(struct account_config *a, enum provider_kind kind,
			 const char *tenant, const char *authority)
{
	memset(a, 0, sizeof(*a));
	a->name = strdup("t");
	a->provider = kind;
	a->tenant = dup_or_null(tenant);
	a->authority = dup_or_null(authority);
	a->pop3_split_auth = -1;
}

static const struct endpoint_case {
	const char *what;
	enum provider_kind kind;
	const char *tenant, *authority;
	const char *authorize, *token, *device, *imap, *smtp;
} endpoint_cases[] = {
	{"microsoft, no tenant: common", PROVIDER_MICROSOFT, NULL, NULL,
	 MS "common/oauth2/v2.0/authorize", MS "common/oauth2/v2.0/token",
	 MS "common/oauth2/v2.0/devicecode", "outlook.office365.com",
	 "smtp.office365.com"},
	{"microsoft, tenant by domain", PROVIDER_MICROSOFT,
	 "contoso.onmicrosoft.com", NULL,
	 MS "contoso.onmicrosoft.com/oauth2/v2.0/authorize",
	 MS "contoso.onmicrosoft.com/oauth2/v2.0/token",
	 MS "contoso.onmicrosoft.com/oauth2/v2.0/devicecode",
	 "outlook.office365.com", "smtp.office365.com"},
	{"microsoft, authority with a trailing slash", PROVIDER_MICROSOFT,
	 "consumers", "https://login.microsoftonline.com/",
	 MS "consumers/oauth2/v2.0/authorize", MS "consumers/oauth2/v2.0/token",
	 MS "consumers/oauth2/v2.0/devicecode", "outlook.office365.com",
	 "smtp.office365.com"},
	{"microsoft, loopback mock", PROVIDER_MICROSOFT, "t1",
	 "http://127.0.0.1:8080",
	 "http://127.0.0.1:8080/t1/oauth2/v2.0/authorize",
	 "http://127.0.0.1:8080/t1/oauth2/v2.0/token",
	 "http://127.0.0.1:8080/t1/oauth2/v2.0/devicecode",
	 "outlook.office365.com", "smtp.office365.com"},
	{"google", PROVIDER_GOOGLE, NULL, NULL,
	 "https://accounts.google.com/o/oauth2/v2/auth",
	 "https://oauth2.googleapis.com/token",
	 "https://oauth2.googleapis.com/device/code", "imap.gmail.com",
	 "smtp.gmail.com"},
	{"google behind an authority (mock)", PROVIDER_GOOGLE, NULL,
	 "http://localhost:9", "http://localhost:9/o/oauth2/v2/auth",
	 "http://localhost:9/token", "http://localhost:9/device/code",
	 "imap.gmail.com", "smtp.gmail.com"},
};

static void test_endpoints(void)
{
	const struct endpoint_case *c;
	struct account_config a;
	const char *error;
	char what[160];
	size_t i;

	for (i = 0; i < sizeof(endpoint_cases) / sizeof(endpoint_cases[0]);
	     i++) {
		c = &endpoint_cases[i];
		account_init(&a, c->kind, c->tenant, c->authority);
		error = NULL;
		snprintf(what, sizeof(what), "%s: applies", c->what);
		check_int(what, provider_apply_defaults(&a, &error), 0);
		snprintf(what, sizeof(what), "%s: authorize_url", c->what);
		check_str(what, a.authorize_url, c->authorize);
		snprintf(what, sizeof(what), "%s: token_url", c->what);
		check_str(what, a.token_url, c->token);
		snprintf(what, sizeof(what), "%s: device_url", c->what);
		check_str(what, a.device_url, c->device);
		snprintf(what, sizeof(what), "%s: imap host", c->what);
		check_str(what, a.imap.host, c->imap);
		snprintf(what, sizeof(what), "%s: smtp host", c->what);
		check_str(what, a.smtp.host, c->smtp);
		snprintf(what, sizeof(what), "%s: redirect_uri", c->what);
		check_str(what, a.redirect_uri, "http://localhost");
		account_free(&a);
	}
}

/* the port follows the TLS mode; an explicit port or host is kept */
static void test_servers(void)
{
	static const struct {
		enum provider_kind kind;
		enum tls_mode imap_tls, smtp_tls;
		int imap_port, pop3_port, smtp_port;
	} rows[] = {
		{PROVIDER_MICROSOFT, TLS_UNSET, TLS_UNSET, 993, 995, 587},
		{PROVIDER_MICROSOFT, TLS_STARTTLS, TLS_IMPLICIT, 143, 995, 465},
		{PROVIDER_GOOGLE, TLS_UNSET, TLS_UNSET, 993, 995, 587},
		{PROVIDER_GOOGLE, TLS_STARTTLS, TLS_IMPLICIT, 143, 995, 465},
	};
	struct account_config a;
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		account_init(&a, rows[i].kind, NULL, NULL);
		a.imap.tls = rows[i].imap_tls;
		a.smtp.tls = rows[i].smtp_tls;
		check_int("applies", provider_apply_defaults(&a, &error), 0);
		check_int("imap port", a.imap.port, rows[i].imap_port);
		check_int("pop3 port", a.pop3.port, rows[i].pop3_port);
		check_int("smtp port", a.smtp.port, rows[i].smtp_port);
		check_int("imap tls resolved", a.imap.tls,
			  rows[i].imap_tls == TLS_UNSET ? TLS_IMPLICIT
							: rows[i].imap_tls);
		check_int("smtp tls resolved", a.smtp.tls,
			  rows[i].smtp_tls == TLS_UNSET ? TLS_STARTTLS
							: rows[i].smtp_tls);
		account_free(&a);
	}
	account_init(&a, PROVIDER_MICROSOFT, NULL, NULL);
	a.imap.host = strdup("imap.example.org");
	a.imap.port = 1993;
	a.pop3.host = strdup("pop.example.org");
	a.scope = strdup("openid");
	a.token_url = strdup("https://idp.example.org/token");
	a.redirect_uri = strdup("http://localhost:8765/");
	check_int("explicit values", provider_apply_defaults(&a, &error), 0);
	check_str("host kept", a.imap.host, "imap.example.org");
	check_int("port kept", a.imap.port, 1993);
	check_str("scope kept", a.scope, "openid");
	check_str("token_url kept", a.token_url,
		  "https://idp.example.org/token");
	check_str("redirect_uri kept", a.redirect_uri,
		  "http://localhost:8765/");
	check_int("split auth only for Microsoft's POP3 host",
		  a.pop3_split_auth, 0);
	account_free(&a);
}

static void test_scopes_and_split(void)
{
	struct account_config a;
	const char *error;

	account_init(&a, PROVIDER_MICROSOFT, "contoso.com", NULL);
	check_int("delegated", provider_apply_defaults(&a, &error), 0);
	check_true("offline_access first",
		   strncmp(a.scope, "offline_access ", 15) == 0);
	check_true("IMAP, POP, SMTP scopes",
		   strstr(a.scope, "IMAP.AccessAsUser.All") != NULL &&
			   strstr(a.scope, "POP.AccessAsUser.All") != NULL &&
			   strstr(a.scope, "SMTP.Send") != NULL);
	check_str("graph_url", a.graph_url, "https://graph.microsoft.com");
	check_int("outlook POP3 splits AUTH", a.pop3_split_auth, 1);
	check_int("90 days", provider_refresh_token_days(&a), 90);
	account_free(&a);

	account_init(&a, PROVIDER_MICROSOFT, "contoso.com", NULL);
	a.grant = GRANT_CLIENT_CREDENTIALS;
	check_int("app-only", provider_apply_defaults(&a, &error), 0);
	check_str("app-only scope", a.scope,
		  "https://outlook.office365.com/.default");
	check_int("no refresh token", provider_refresh_token_days(&a), 0);
	account_free(&a);

	account_init(&a, PROVIDER_MICROSOFT, NULL, NULL);
	a.pop3_split_auth = 0;
	check_int("split off", provider_apply_defaults(&a, &error), 0);
	check_int("an explicit split setting is kept", a.pop3_split_auth, 0);
	account_free(&a);

	account_init(&a, PROVIDER_GOOGLE, NULL, NULL);
	check_int("google", provider_apply_defaults(&a, &error), 0);
	check_int("google: 7 days", provider_refresh_token_days(&a), 7);
	check_int("gmail POP3 does not split", a.pop3_split_auth, 0);
	check_true("no graph for google", a.graph_url == NULL);
	account_free(&a);
}

static void test_refused(void)
{
	static const struct {
		enum provider_kind kind;
		enum grant_kind grant;
		const char *tenant, *authority, *token_url;
		const char *want; /* substring of the error */
	} rows[] = {
		{PROVIDER_MICROSOFT, GRANT_CLIENT_CREDENTIALS, NULL, NULL, NULL,
		 "not 'common' (Microsoft answers AADSTS9001023)"},
		{PROVIDER_MICROSOFT, GRANT_CLIENT_CREDENTIALS, "Organizations",
		 NULL, NULL, "not 'Organizations'"},
		{PROVIDER_MICROSOFT, GRANT_CLIENT_CREDENTIALS, "consumers",
		 NULL, NULL, "client_credentials needs tenant"},
		{PROVIDER_CUSTOM, GRANT_AUTHORIZATION_CODE, NULL, NULL, NULL,
		 "provider = custom needs token_url"},
		{PROVIDER_MICROSOFT, GRANT_AUTHORIZATION_CODE, NULL,
		 "http://login.example.com", NULL,
		 "authority must be an https:// URL"},
		{PROVIDER_CUSTOM, GRANT_AUTHORIZATION_CODE, NULL, NULL,
		 "http://192.0.2.1/token", "token_url must be an https:// URL"},
		{PROVIDER_GOOGLE, GRANT_AUTHORIZATION_CODE, NULL,
		 "ftp://accounts.example.com", NULL, "must be an https:// URL"},
	};
	struct account_config a;
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		account_init(&a, rows[i].kind, rows[i].tenant,
			     rows[i].authority);
		a.grant = rows[i].grant;
		a.token_url = dup_or_null(rows[i].token_url);
		if (rows[i].kind == PROVIDER_CUSTOM) {
			a.scope = strdup("mail");
			a.device_url = strdup("https://idp.example.org/device");
		}
		error = NULL;
		check_int(rows[i].want, provider_apply_defaults(&a, &error),
			  -1);
		check_true(rows[i].want,
			   error != NULL &&
				   strstr(error, rows[i].want) != NULL);
		if (error == NULL || strstr(error, rows[i].want) == NULL)
			printf("  got: %s\n", error ? error : "(null)");
		account_free(&a);
	}
	account_init(&a, PROVIDER_CUSTOM, NULL, NULL);
	a.token_url = strdup("https://idp.example.org/token");
	a.scope = strdup("mail");
	a.authorize_url = strdup("https://idp.example.org/authorize");
	check_int("custom with token_url, scope, authorize_url",
		  provider_apply_defaults(&a, &error), 0);
	check_true("custom: no mail hosts invented", a.imap.host == NULL);
	check_int("custom: ports still follow TLS", a.imap.port, 993);
	check_true("custom: no device_url invented", a.device_url == NULL);
	check_int("custom: unknown lifetime", provider_refresh_token_days(&a),
		  0);
	account_free(&a);
}

/* What every flow of a custom provider needs is refused at config
 * time (the flows used to crash on a NULL scope). */
static void test_custom_needs(void)
{
	static const struct {
		const char *scope, *authorize_url, *device_url;
		enum grant_kind grant;
		const char *want; /* NULL: accepted */
	} rows[] = {
		{NULL, "https://i.example/a", NULL, GRANT_AUTHORIZATION_CODE,
		 "provider = custom needs scope"},
		{NULL, NULL, NULL, GRANT_CLIENT_CREDENTIALS,
		 "provider = custom needs scope"},
		{"mail", NULL, NULL, GRANT_AUTHORIZATION_CODE,
		 "needs authorize_url (browser sign-in) or device_url"},
		{"mail", NULL, NULL, GRANT_CLIENT_CREDENTIALS, NULL},
		{"mail", NULL, "https://i.example/d", GRANT_AUTHORIZATION_CODE,
		 NULL},
		{"mail", "https://i.example/a", NULL, GRANT_AUTHORIZATION_CODE,
		 NULL},
	};
	struct account_config a;
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		account_init(&a, PROVIDER_CUSTOM, NULL, NULL);
		a.grant = rows[i].grant;
		a.token_url = strdup("https://i.example/t");
		a.scope = dup_or_null(rows[i].scope);
		a.authorize_url = dup_or_null(rows[i].authorize_url);
		a.device_url = dup_or_null(rows[i].device_url);
		error = NULL;
		check_int(rows[i].want ? rows[i].want : "custom accepted",
			  provider_apply_defaults(&a, &error),
			  rows[i].want ? -1 : 0);
		if (rows[i].want != NULL &&
		    (error == NULL || strstr(error, rows[i].want) == NULL))
			check_str("custom error", error, rows[i].want);
		account_free(&a);
	}
}

/* cloud = ...: sign-in, scopes, servers and Graph move together */
static void test_clouds(void)
{
	static const struct {
		enum ms_cloud cloud;
		const char *token, *scope, *app_scope, *imap, *smtp, *graph;
	} rows[] = {
		{CLOUD_GLOBAL, MS "common/oauth2/v2.0/token",
		 "offline_access "
		 "https://outlook.office.com/IMAP.AccessAsUser.All "
		 "https://outlook.office.com/POP.AccessAsUser.All "
		 "https://outlook.office.com/SMTP.Send",
		 "https://outlook.office365.com/.default",
		 "outlook.office365.com", "smtp.office365.com",
		 "https://graph.microsoft.com"},
		{CLOUD_USGOV,
		 "https://login.microsoftonline.us/common/oauth2/v2.0/token",
		 "offline_access "
		 "https://outlook.office365.us/IMAP.AccessAsUser."
		 "All https://outlook.office365.us/POP.AccessAsUser.All "
		 "https://outlook.office365.us/SMTP.Send",
		 "https://outlook.office365.us/.default",
		 "outlook.office365.us", "smtp.office365.us",
		 "https://graph.microsoft.us"},
		{CLOUD_USGOVDOD,
		 "https://login.microsoftonline.us/common/oauth2/v2.0/token",
		 "offline_access https://outlook-dod.office365.us/IMAP."
		 "AccessAsUser.All https://outlook-dod.office365.us/POP."
		 "AccessAsUser.All https://outlook-dod.office365.us/SMTP.Send",
		 "https://outlook-dod.office365.us/.default",
		 "outlook-dod.office365.us", "outlook-dod.office365.us",
		 "https://dod-graph.microsoft.us"},
		{CLOUD_CHINA,
		 "https://login.partner.microsoftonline.cn/common/oauth2/v2.0/"
		 "token",
		 "offline_access "
		 "https://partner.outlook.cn/IMAP.AccessAsUser.All "
		 "https://partner.outlook.cn/POP.AccessAsUser.All "
		 "https://partner.outlook.cn/SMTP.Send",
		 "https://partner.outlook.cn/.default", "partner.outlook.cn",
		 "smtp.partner.outlook.cn",
		 "https://microsoftgraph.chinacloudapi.cn"},
	};
	struct account_config a;
	const char *error, *name;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		name = provider_cloud_name(rows[i].cloud);
		account_init(&a, PROVIDER_MICROSOFT, NULL, NULL);
		a.cloud = rows[i].cloud;
		check_int(name, provider_apply_defaults(&a, &error), 0);
		check_str(name, a.token_url, rows[i].token);
		check_str(name, a.scope, rows[i].scope);
		check_str(name, a.imap.host, rows[i].imap);
		check_str(name, a.pop3.host, rows[i].imap);
		check_str(name, a.smtp.host, rows[i].smtp);
		check_int(name, a.smtp.port, 587);
		check_str(name, a.graph_url, rows[i].graph);
		check_int(name, a.pop3_split_auth, 1);
		account_free(&a);

		account_init(&a, PROVIDER_MICROSOFT, "contoso.example", NULL);
		a.cloud = rows[i].cloud;
		a.grant = GRANT_CLIENT_CREDENTIALS;
		check_int(name, provider_apply_defaults(&a, &error), 0);
		check_str(name, a.scope, rows[i].app_scope);
		account_free(&a);

		/* explicit keys still win */
		account_init(&a, PROVIDER_MICROSOFT, NULL,
			     "http://127.0.0.1:9");
		a.cloud = rows[i].cloud;
		a.smtp.host = strdup("relay.example.org");
		a.scope = strdup("offline_access x");
		check_int(name, provider_apply_defaults(&a, &error), 0);
		check_str(name, a.token_url,
			  "http://127.0.0.1:9/common/oauth2/v2.0/token");
		check_str(name, a.smtp.host, "relay.example.org");
		check_str(name, a.scope, "offline_access x");
		check_str(name, a.imap.host, rows[i].imap);
		account_free(&a);

		check_int(name, provider_cloud_parse(name, &a.cloud), 0);
		check_int(name, a.cloud, rows[i].cloud);
	}
	check_int("unknown cloud", provider_cloud_parse("usgov-dod", &a.cloud),
		  -1);
}

/* refused: a cloud for another provider, a national authority alone */
static void test_cloud_refused(void)
{
	static const struct {
		enum provider_kind kind;
		enum ms_cloud cloud;
		const char *authority, *scope, *want;
	} rows[] = {
		{PROVIDER_GOOGLE, CLOUD_CHINA, NULL, NULL,
		 "cloud = china is for provider = microsoft only"},
		{PROVIDER_CUSTOM, CLOUD_GLOBAL, NULL, "mail",
		 "cloud = global is for provider = microsoft only"},
		{PROVIDER_MICROSOFT, CLOUD_UNSET,
		 "https://login.microsoftonline.us", NULL,
		 "set cloud = usgov (GCC High) or cloud = usgovdod (DoD)"},
		{PROVIDER_MICROSOFT, CLOUD_UNSET,
		 "https://login.partner.microsoftonline.cn/", NULL,
		 "set cloud = china"},
		{PROVIDER_MICROSOFT, CLOUD_UNSET,
		 "https://login.chinacloudapi.cn",
		 "offline_access https://partner.outlook.cn/SMTP.Send",
		 "servers would be worldwide"},
	};
	struct account_config a;
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		account_init(&a, rows[i].kind, NULL, rows[i].authority);
		a.cloud = rows[i].cloud;
		a.scope = dup_or_null(rows[i].scope);
		a.token_url = strdup("https://i.example/t");
		a.device_url = strdup("https://i.example/d");
		error = NULL;
		check_int(rows[i].want, provider_apply_defaults(&a, &error),
			  -1);
		if (error == NULL || strstr(error, rows[i].want) == NULL)
			check_str(rows[i].want, error, rows[i].want);
		account_free(&a);
	}
}

static void test_tenants(void)
{
	static const struct {
		const char *tenant;
		int ok;
	} rows[] = {
		{"common", 1},
		{"contoso.onmicrosoft.com", 1},
		{"11111111-2222-3333-4444-555555555555", 1},
		{"bogus_tenant", 1},
		{"contoso com", 0},
		{"a/b", 0},
		{"x?y", 0},
		{"c#d", 0},
		{"%2e%2e", 0},
		{"..", 0},
		{"-x", 0},
		{"", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_int(rows[i].tenant, provider_tenant_valid(rows[i].tenant),
			  rows[i].ok);
}

static void test_names(void)
{
	static const char *const names[] = {"microsoft", "google", "custom"};
	enum provider_kind kind;
	size_t i;

	for (i = 0; i < 3; i++) {
		check_int(names[i], provider_parse(names[i], &kind), 0);
		check_str("round trip", provider_name(kind), names[i]);
	}
	check_int("unknown", provider_parse("yahoo", &kind), -1);
	check_int("case matters", provider_parse("Microsoft", &kind), -1);
	check_int("empty", provider_parse("", &kind), -1);
}

static void test_urls(void)
{
	static const struct {
		const char *url;
		int ok;
	} rows[] = {
		{"https://login.microsoftonline.com/common", 1},
		{"http://127.0.0.1:1234/x", 1},
		{"http://LOCALHOST/x", 1},
		{"http://[::1]:8080/", 1},
		{"http://localhost.example.com/", 0},
		{"http://127.0.0.2/", 0},
		{"http://localhost:1@192.0.2.1/", 0},
		{"https://user@login.example.com/", 0},
		{"file:///etc/passwd", 0},
		{"https://", 0},
		{"not a url", 0},
		{"", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_int(rows[i].url, provider_url_allowed(rows[i].url),
			  rows[i].ok);
}

int main(void)
{
	test_endpoints();
	test_servers();
	test_scopes_and_split();
	test_refused();
	test_custom_needs();
	test_clouds();
	test_cloud_refused();
	test_tenants();
	test_names();
	test_urls();
	return test_done("test_provider");
}
