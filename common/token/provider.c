/*
 * provider.c - provider knowledge in one place: Microsoft identity
 * platform v2.0 (tenant in the path, national clouds through
 * `authority`), Google, and custom providers with explicit endpoints.
 *
 * An account names its provider; everything it leaves out is filled in
 * here, so the rest of the code only ever reads resolved URLs, scopes
 * and mail servers.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "lib/errorf.h"
#include "token/provider.h"

#define MS_DELEGATED_SCOPE                                                 \
	"offline_access %s/IMAP.AccessAsUser.All %s/POP.AccessAsUser.All " \
	"%s/SMTP.Send"
#define SCOPE_MAX 512
#define GOOGLE_AUTHORIZE "https://accounts.google.com/o/oauth2/v2/auth"
#define GOOGLE_TOKEN "https://oauth2.googleapis.com/token"
#define GOOGLE_DEVICE "https://oauth2.googleapis.com/device/code"

/* What each Microsoft cloud puts where.  Sources: Microsoft's national
 * cloud pages (Entra authentication endpoints, Exchange Online and
 * Graph national cloud deployments); the Exchange resource of the
 * delegated scopes is outlook.office.com worldwide and the cloud's
 * Exchange host elsewhere. */
static const struct cloud_hosts {
	const char *name;
	const char *authority;	  /* sign-in base */
	const char *resource;	  /* of the delegated Exchange scopes */
	const char *app_resource; /* of the app-only .default scope */
	const char *mail_host;	  /* IMAP and POP3 */
	const char *smtp_host;
	const char *graph_url;
} clouds[] = {
	[CLOUD_GLOBAL] = {"global", "https://login.microsoftonline.com",
			  "https://outlook.office.com",
			  "https://outlook.office365.com",
			  "outlook.office365.com", "smtp.office365.com",
			  "https://graph.microsoft.com"},
	[CLOUD_USGOV] = {"usgov", "https://login.microsoftonline.us",
			 "https://outlook.office365.us",
			 "https://outlook.office365.us", "outlook.office365.us",
			 "smtp.office365.us", "https://graph.microsoft.us"},
	[CLOUD_USGOVDOD] = {"usgovdod", "https://login.microsoftonline.us",
			    "https://outlook-dod.office365.us",
			    "https://outlook-dod.office365.us",
			    "outlook-dod.office365.us",
			    "outlook-dod.office365.us",
			    "https://dod-graph.microsoft.us"},
	[CLOUD_CHINA] = {"china", "https://login.partner.microsoftonline.cn",
			 "https://partner.outlook.cn",
			 "https://partner.outlook.cn", "partner.outlook.cn",
			 "smtp.partner.outlook.cn",
			 "https://microsoftgraph.chinacloudapi.cn"},
};

#define CLOUD_COUNT (sizeof(clouds) / sizeof(clouds[0]))

/* national_logins - sign-in hosts that mean a national cloud */
static const char *const national_logins[] = {
	"login.microsoftonline.us", "login.partner.microsoftonline.cn",
	"login.chinacloudapi.cn"};

const char *provider_cloud_name(enum ms_cloud cloud)
{
	if (cloud == CLOUD_UNSET || (size_t)cloud >= CLOUD_COUNT)
		cloud = CLOUD_GLOBAL;
	return clouds[cloud].name;
}

int provider_cloud_parse(const char *name, enum ms_cloud *cloud_r)
{
	size_t i;

	for (i = CLOUD_GLOBAL; i < CLOUD_COUNT; i++)
		if (strcmp(name, clouds[i].name) == 0) {
			*cloud_r = (enum ms_cloud)i;
			return 0;
		}
	return -1;
}

/* provider_tenant_valid - common, organizations, consumers, a GUID or a
 * domain: letters, digits, '.', '-', '_' (it goes into the URL path) */
int provider_tenant_valid(const char *tenant)
{
	size_t n = strlen(tenant);

	return n > 0 && n <= 253 && tenant[0] != '.' && tenant[0] != '-' &&
	       strspn(tenant, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

const char *provider_name(enum provider_kind kind)
{
	switch (kind) {
	case PROVIDER_MICROSOFT:
		return "microsoft";
	case PROVIDER_GOOGLE:
		return "google";
	default:
		return "custom";
	}
}

int provider_parse(const char *name, enum provider_kind *kind_r)
{
	if (strcmp(name, "microsoft") == 0)
		*kind_r = PROVIDER_MICROSOFT;
	else if (strcmp(name, "google") == 0)
		*kind_r = PROVIDER_GOOGLE;
	else if (strcmp(name, "custom") == 0)
		*kind_r = PROVIDER_CUSTOM;
	else
		return -1;
	return 0;
}

static int host_is_loopback(const char *host)
{
	static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(host, names[i]) == 0)
			return 1;
	return 0;
}

/* provider_url_allowed - https anywhere, http only to loopback.  The URL
   is taken apart by libcurl, the parser that will connect: user info
   ("http://localhost:1@192.0.2.1/") is refused rather than misread. */
int provider_url_allowed(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL;
	int ok = 0;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
	    *host != '\0')
		ok = strcmp(scheme, "https") == 0 ||
		     (strcmp(scheme, "http") == 0 && host_is_loopback(host));
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

static char *xstrdup_fmt(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

static int set_default(char **field, const char *value)
{
	if (*field != NULL)
		return 0;
	*field = strdup(value);
	return *field == NULL ? -1 : 0;
}

static int set_default_url(char **field, const char *a, const char *b,
			   const char *c)
{
	if (*field != NULL)
		return 0;
	*field = xstrdup_fmt(a, b, c);
	return *field == NULL ? -1 : 0;
}

/* set_server - provider defaults for a mail server; the port follows
 * the TLS mode the admin chose (993 implicit, 143 STARTTLS, ...) */
static void set_server(struct mail_server *srv, const char *host,
		       int implicit_port, int starttls_port,
		       enum tls_mode default_tls, int *ok)
{
	if (srv->host == NULL && host != NULL &&
	    (srv->host = strdup(host)) == NULL)
		*ok = 0;
	if (srv->tls == TLS_UNSET)
		srv->tls = default_tls;
	if (srv->port == 0)
		srv->port = srv->tls == TLS_IMPLICIT ? implicit_port
						     : starttls_port;
}

static int is_common_tenant(const char *tenant)
{
	return strcasecmp(tenant, "common") == 0 ||
	       strcasecmp(tenant, "consumers") == 0 ||
	       strcasecmp(tenant, "organizations") == 0;
}

/* authority_host - the host of an authority URL (curl_free it), or NULL */
static char *authority_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		host = NULL;
	curl_url_cleanup(u);
	return host;
}

/* uses_cloud_defaults - 1 when a default that depends on the cloud
 * would be filled in */
static int uses_cloud_defaults(const struct account_config *a)
{
	return a->scope == NULL || a->imap.host == NULL ||
	       a->pop3.host == NULL || a->smtp.host == NULL ||
	       a->graph_url == NULL;
}

/* check_national_authority - an authority of a national cloud without
 * `cloud` would pair its sign-in with worldwide scopes and servers */
static int check_national_authority(const struct account_config *a,
				    const char **error_r)
{
	char *host;
	size_t i;
	int found = 0;

	if (a->cloud != CLOUD_UNSET || a->authority == NULL ||
	    !uses_cloud_defaults(a) ||
	    (host = authority_host(a->authority)) == NULL)
		return 0;
	for (i = 0; i < sizeof(national_logins) / sizeof(national_logins[0]);
	     i++)
		found |= strcasecmp(host, national_logins[i]) == 0;
	curl_free(host);
	if (!found)
		return 0;
	*error_r = errorf("authority %s is a national cloud's, but the scopes "
			  "and mail servers would be worldwide; set cloud = "
			  "%s instead (it sets authority, scopes, servers and "
			  "graph_url together; see oauthmail.conf(5))",
			  a->authority,
			  strstr(a->authority, ".us") != NULL
				  ? "usgov (GCC High) or cloud = usgovdod (DoD)"
				  : "china");
	return -1;
}

/* microsoft_endpoints - authorize, token and device URLs under
 * authority/tenant */
static int microsoft_endpoints(struct account_config *a)
{
	const char *base = a->authority;
	char *tbase;
	int ok;

	tbase = xstrdup_fmt(
		base, strlen(base) && base[strlen(base) - 1] == '/' ? "" : "/",
		a->tenant);
	if (tbase == NULL)
		return -1;
	ok = set_default_url(&a->authorize_url, tbase, "/oauth2/v2.0/authorize",
			     "") == 0 &&
	     set_default_url(&a->token_url, tbase, "/oauth2/v2.0/token", "") ==
		     0 &&
	     set_default_url(&a->device_url, tbase, "/oauth2/v2.0/devicecode",
			     "") == 0;
	free(tbase);
	return ok ? 0 : -1;
}

/* microsoft_scope - the default scope of the account's cloud */
static int microsoft_scope(struct account_config *a,
			   const struct cloud_hosts *c)
{
	char scope[SCOPE_MAX];

	if (a->grant == GRANT_CLIENT_CREDENTIALS)
		snprintf(scope, sizeof(scope), "%s/.default", c->app_resource);
	else
		snprintf(scope, sizeof(scope), MS_DELEGATED_SCOPE, c->resource,
			 c->resource, c->resource);
	return set_default(&a->scope, scope);
}

static int microsoft_defaults(struct account_config *a, const char **error_r)
{
	const struct cloud_hosts *c =
		&clouds[a->cloud == CLOUD_UNSET ? CLOUD_GLOBAL : a->cloud];
	int ok = 1;

	if (check_national_authority(a, error_r) < 0)
		return -1;
	*error_r = "out of memory";
	if (set_default(&a->tenant, "common") < 0 ||
	    set_default(&a->authority, c->authority) < 0)
		return -1;
	if (a->grant == GRANT_CLIENT_CREDENTIALS &&
	    is_common_tenant(a->tenant)) {
		*error_r = errorf("grant = client_credentials needs tenant = "
				  "your tenant id or domain, not '%s' "
				  "(Microsoft answers AADSTS9001023)",
				  a->tenant);
		return -1;
	}
	if (microsoft_endpoints(a) < 0 || microsoft_scope(a, c) < 0 ||
	    set_default(&a->graph_url, c->graph_url) < 0)
		ok = 0;
	set_server(&a->imap, c->mail_host, 993, 143, TLS_IMPLICIT, &ok);
	set_server(&a->pop3, c->mail_host, 995, 110, TLS_IMPLICIT, &ok);
	set_server(&a->smtp, c->smtp_host, 465, 587, TLS_STARTTLS, &ok);
	return ok ? 0 : -1;
}

static int google_defaults(struct account_config *a)
{
	int ok = 1;

	if (a->authority != NULL) {
		ok &= set_default_url(&a->authorize_url, a->authority,
				      "/o/oauth2/v2/auth", "") == 0;
		ok &= set_default_url(&a->token_url, a->authority, "/token",
				      "") == 0;
		ok &= set_default_url(&a->device_url, a->authority,
				      "/device/code", "") == 0;
	}
	ok &= set_default(&a->authorize_url, GOOGLE_AUTHORIZE) == 0;
	ok &= set_default(&a->token_url, GOOGLE_TOKEN) == 0;
	ok &= set_default(&a->device_url, GOOGLE_DEVICE) == 0;
	ok &= set_default(&a->scope, "https://mail.google.com/") == 0;
	set_server(&a->imap, "imap.gmail.com", 993, 143, TLS_IMPLICIT, &ok);
	set_server(&a->pop3, "pop.gmail.com", 995, 110, TLS_IMPLICIT, &ok);
	set_server(&a->smtp, "smtp.gmail.com", 465, 587, TLS_STARTTLS, &ok);
	return ok ? 0 : -1;
}

/* custom_missing - what a custom provider's flows need and the account
 * lacks (the flows used to crash on a NULL scope), or NULL */
static const char *custom_missing(const struct account_config *a)
{
	if (a->token_url == NULL)
		return "provider = custom needs token_url (the provider's "
		       "token endpoint)";
	if (a->scope == NULL)
		return "provider = custom needs scope (the scopes your "
		       "provider's mail access needs, e.g. scope = "
		       "offline_access mail)";
	if (a->grant == GRANT_AUTHORIZATION_CODE && a->authorize_url == NULL &&
	    a->device_url == NULL)
		return "provider = custom needs authorize_url (browser "
		       "sign-in) "
		       "or device_url (oauthmail authorize --device), or both";
	return NULL;
}

static int custom_defaults(struct account_config *a, const char **error_r)
{
	const char *missing = custom_missing(a);
	int ok = 1;

	if (missing != NULL) {
		*error_r = missing;
		return -1;
	}
	set_server(&a->imap, NULL, 993, 143, TLS_IMPLICIT, &ok);
	set_server(&a->pop3, NULL, 995, 110, TLS_IMPLICIT, &ok);
	set_server(&a->smtp, NULL, 465, 587, TLS_STARTTLS, &ok);
	return ok ? 0 : -1;
}

static int check_urls(const struct account_config *a, const char **error_r)
{
	/* authority first: the endpoints made from it are then right */
	const char *const urls[] = {a->authority, a->authorize_url,
				    a->token_url, a->device_url, a->graph_url};
	const char *const keys[] = {"authority", "authorize_url", "token_url",
				    "device_url", "graph_url"};
	size_t i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		if (urls[i] != NULL && !provider_url_allowed(urls[i])) {
			*error_r = errorf("%s must be an https:// URL "
					  "(http:// only for 127.0.0.1 or "
					  "localhost)",
					  keys[i]);
			return -1;
		}
	}
	return 0;
}

/* splits_pop3_auth - Exchange Online's POP3 (any cloud) wants AUTH
 * XOAUTH2 and the token on separate lines */
static int splits_pop3_auth(const struct account_config *a)
{
	size_t i;

	for (i = CLOUD_GLOBAL; a->pop3.host != NULL && i < CLOUD_COUNT; i++)
		if (strcasecmp(a->pop3.host, clouds[i].mail_host) == 0)
			return 1;
	return 0;
}

int provider_apply_defaults(struct account_config *a, const char **error_r)
{
	int ret;

	if (a->cloud != CLOUD_UNSET && a->provider != PROVIDER_MICROSOFT) {
		*error_r =
			errorf("cloud = %s is for provider = microsoft only; "
			       "remove it (a %s provider's endpoints are set "
			       "by authority or authorize_url/token_url)",
			       provider_cloud_name(a->cloud),
			       provider_name(a->provider));
		return -1;
	}
	*error_r = "out of memory";
	switch (a->provider) {
	case PROVIDER_MICROSOFT:
		ret = microsoft_defaults(a, error_r);
		break;
	case PROVIDER_GOOGLE:
		ret = google_defaults(a);
		break;
	default:
		ret = custom_defaults(a, error_r);
		break;
	}
	if (ret < 0)
		return -1;
	if (a->pop3_split_auth < 0)
		a->pop3_split_auth = splits_pop3_auth(a);
	if (a->redirect_uri == NULL &&
	    (a->redirect_uri = strdup("http://localhost")) == NULL)
		return -1;
	return check_urls(a, error_r);
}

int provider_refresh_token_days(const struct account_config *acct)
{
	if (acct->grant == GRANT_CLIENT_CREDENTIALS)
		return 0;
	switch (acct->provider) {
	case PROVIDER_MICROSOFT:
		return 90;
	case PROVIDER_GOOGLE:
		return 7;
	default:
		return 0;
	}
}
