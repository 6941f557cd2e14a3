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

#define MS_AUTHORITY "https://login.microsoftonline.com"
#define MS_DELEGATED_SCOPE                                                 \
	"offline_access https://outlook.office.com/IMAP.AccessAsUser.All " \
	"https://outlook.office.com/POP.AccessAsUser.All "                 \
	"https://outlook.office.com/SMTP.Send"
#define MS_APP_SCOPE "https://outlook.office365.com/.default"
#define GOOGLE_AUTHORIZE "https://accounts.google.com/o/oauth2/v2/auth"
#define GOOGLE_TOKEN "https://oauth2.googleapis.com/token"
#define GOOGLE_DEVICE "https://oauth2.googleapis.com/device/code"

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

static int microsoft_defaults(struct account_config *a, const char **error_r)
{
	const char *base;
	char *tbase;
	int ok = 1;

	if (set_default(&a->tenant, "common") < 0 ||
	    set_default(&a->authority, MS_AUTHORITY) < 0)
		return -1;
	if (a->grant == GRANT_CLIENT_CREDENTIALS &&
	    is_common_tenant(a->tenant)) {
		*error_r = errorf("grant = client_credentials needs tenant = "
				  "your tenant id or domain, not '%s' "
				  "(Microsoft answers AADSTS9001023)",
				  a->tenant);
		return -1;
	}
	base = a->authority;
	tbase = xstrdup_fmt(
		base, strlen(base) && base[strlen(base) - 1] == '/' ? "" : "/",
		a->tenant);
	if (tbase == NULL)
		return -1;
	if (set_default_url(&a->authorize_url, tbase, "/oauth2/v2.0/authorize",
			    "") < 0 ||
	    set_default_url(&a->token_url, tbase, "/oauth2/v2.0/token", "") <
		    0 ||
	    set_default_url(&a->device_url, tbase, "/oauth2/v2.0/devicecode",
			    "") < 0)
		ok = 0;
	free(tbase);
	if (set_default(&a->scope, a->grant == GRANT_CLIENT_CREDENTIALS
					   ? MS_APP_SCOPE
					   : MS_DELEGATED_SCOPE) < 0 ||
	    set_default(&a->graph_url, "https://graph.microsoft.com") < 0)
		ok = 0;
	set_server(&a->imap, "outlook.office365.com", 993, 143, TLS_IMPLICIT,
		   &ok);
	set_server(&a->pop3, "outlook.office365.com", 995, 110, TLS_IMPLICIT,
		   &ok);
	set_server(&a->smtp, "smtp.office365.com", 465, 587, TLS_STARTTLS, &ok);
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

static int custom_defaults(struct account_config *a, const char **error_r)
{
	int ok = 1;

	if (a->token_url == NULL) {
		*error_r = "provider = custom needs token_url";
		return -1;
	}
	set_server(&a->imap, NULL, 993, 143, TLS_IMPLICIT, &ok);
	set_server(&a->pop3, NULL, 995, 110, TLS_IMPLICIT, &ok);
	set_server(&a->smtp, NULL, 465, 587, TLS_STARTTLS, &ok);
	return ok ? 0 : -1;
}

static int check_urls(const struct account_config *a, const char **error_r)
{
	const char *const urls[] = {a->authorize_url, a->token_url,
				    a->device_url, a->graph_url, a->authority};
	const char *const keys[] = {"authorize_url", "token_url", "device_url",
				    "graph_url", "authority"};
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

int provider_apply_defaults(struct account_config *a, const char **error_r)
{
	int ret;

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
		a->pop3_split_auth =
			a->pop3.host != NULL &&
			strcasecmp(a->pop3.host, "outlook.office365.com") == 0;
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
