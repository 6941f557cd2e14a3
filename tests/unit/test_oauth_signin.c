/* test_oauth_signin.c - the browser URL of the auth-code + PKCE flow
 * (oauth_authorize_url): the endpoint per provider, authority and
 * tenant, every query parameter and its URL encoding, the S256
 * challenge it carries, and the error paths; oauth_device_free.
 *
 * oauth_redeem_code, oauth_device_start and oauth_device_poll are not
 * tested here: they only talk to the token or device endpoint through
 * http_client (libcurl), with no seam for a fake transport, so the CLI
 * tests (tests/cli/cli_flows.sh and friends) cover them against the
 * mock identity provider.
 *
 * oauth_authorize_url takes the challenge, not the verifier; the test
 * computes base64url(SHA-256(verifier)) with OpenSSL EVP itself, checks
 * crypto_pkce_challenge (what `oauthmail authorize` passes in) agrees,
 * and that the URL carries it unchanged and unpadded.
 *
 * A provider = custom account with authorize_url but no scope used to
 * pass config_parse and crash oauth_authorize_url (NULL scope into
 * http_url_encode).  config_parse refuses it now; test_missing_keys
 * builds such accounts by hand and checks every flow entry point says
 * which key is missing instead of crashing. */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/crypto.h"
#include "testlib.h"
#include "token/oauth_signin.h"
#include "token/oauthmail_conf.h"

#define MS_SCOPE                                                           \
	"offline_access https://outlook.office.com/IMAP.AccessAsUser.All " \
	"https://outlook.office.com/POP.AccessAsUser.All "                 \
	"https://outlook.office.com/SMTP.Send"
#define MS_SCOPE_ENC                                                 \
	"offline_access%20https%3A%2F%2Foutlook.office.com%2FIMAP."  \
	"AccessAsUser.All%20https%3A%2F%2Foutlook.office.com%2FPOP." \
	"AccessAsUser.All%20https%3A%2F%2Foutlook.office.com%2FSMTP.Send"
#define REDIRECT "http://localhost:8765/"
#define REDIRECT_ENC "http%3A%2F%2Flocalhost%3A8765%2F"
#define STATE "st4te-_~.x"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define MAX_PARAMS 16

struct param {
	const char *key;
	const char *raw; /* as it appears in the URL, still encoded */
};

struct url_case {
	const char *what;
	const char *conf; /* the lines after [account a] */
	const char *base; /* the URL up to the first parameter we add */
	struct param want[MAX_PARAMS]; /* beyond the ones every URL has */
};

/* Every URL: these, with the account's client_id and scope. */
static const struct param common_params[] = {
	{"response_type", "code"},     {"redirect_uri", REDIRECT_ENC},
	{"response_mode", "query"},    {"state", STATE},
	{"code_challenge", CHALLENGE}, {"code_challenge_method", "S256"},
};
#define N_COMMON (sizeof(common_params) / sizeof(common_params[0]))

static const struct url_case url_cases[] = {
	{"microsoft, tenant common",
	 "client_id = cid-1\n",
	 "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
	 {{"client_id", "cid-1"}, {"scope", MS_SCOPE_ENC}}},
	{"microsoft, tenant and user",
	 "client_id = 00000000-aaaa-bbbb-cccc-000000000001\n"
	 "tenant = contoso.onmicrosoft.com\nuser = support@contoso.com\n",
	 "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/"
	 "v2.0/authorize",
	 {{"client_id", "00000000-aaaa-bbbb-cccc-000000000001"},
	  {"scope", MS_SCOPE_ENC},
	  {"login_hint", "support%40contoso.com"}}},
	{"microsoft, US government cloud, authority with a trailing slash",
	 "client_id = cid-1\ncloud = usgov\n"
	 "authority = https://login.microsoftonline.us/\n"
	 "tenant = 11111111-2222-3333-4444-555555555555\n",
	 "https://login.microsoftonline.us/"
	 "11111111-2222-3333-4444-555555555555/oauth2/v2.0/authorize",
	 {{"client_id", "cid-1"},
	  {"scope", "offline_access%20https%3A%2F%2Foutlook.office365.us%2F"
		    "IMAP.AccessAsUser.All%20https%3A%2F%2Foutlook.office365.us"
		    "%2FPOP.AccessAsUser.All%20https%3A%2F%2Foutlook.office365."
		    "us%2FSMTP.Send"}}},
	{"microsoft, China cloud",
	 "client_id = cid-1\ncloud = china\ntenant = organizations\n",
	 "https://login.partner.microsoftonline.cn/organizations/oauth2/v2.0/"
	 "authorize",
	 {{"client_id", "cid-1"},
	  {"scope", "offline_access%20https%3A%2F%2Fpartner.outlook.cn%2F"
		    "IMAP.AccessAsUser.All%20https%3A%2F%2Fpartner.outlook.cn"
		    "%2FPOP.AccessAsUser.All%20https%3A%2F%2Fpartner.outlook.cn"
		    "%2FSMTP.Send"}}},
	{"microsoft, authority without a trailing slash",
	 "client_id = cid-1\nauthority = https://login.example.org\n"
	 "tenant = organizations\n",
	 "https://login.example.org/organizations/oauth2/v2.0/authorize",
	 {{"client_id", "cid-1"}, {"scope", MS_SCOPE_ENC}}},
	{"microsoft, explicit scope and authorize_url",
	 "client_id = cid 2\n"
	 "scope = offline_access https://outlook.office.com/IMAP.AccessAsUser."
	 "All\nauthorize_url = http://127.0.0.1:8080/ms/authorize\n",
	 "http://127.0.0.1:8080/ms/authorize",
	 {{"client_id", "cid%202"},
	  {"scope", "offline_access%20https%3A%2F%2Foutlook.office.com%2F"
		    "IMAP.AccessAsUser.All"}}},
	{"google",
	 "provider = google\nclient_id = 123-x.apps.googleusercontent.com\n",
	 "https://accounts.google.com/o/oauth2/v2/auth",
	 {{"client_id", "123-x.apps.googleusercontent.com"},
	  {"scope", "https%3A%2F%2Fmail.google.com%2F"},
	  {"access_type", "offline"},
	  {"prompt", "consent"}}},
	{"google, user and authority",
	 "provider = google\nclient_id = g\nuser = a.b+tickets@gmail.com\n"
	 "authority = http://localhost:9000\n",
	 "http://localhost:9000/o/oauth2/v2/auth",
	 {{"client_id", "g"},
	  {"scope", "https%3A%2F%2Fmail.google.com%2F"},
	  {"login_hint", "a.b%2Btickets%40gmail.com"},
	  {"access_type", "offline"},
	  {"prompt", "consent"}}},
	{"custom",
	 "provider = custom\nclient_id = c\n"
	 "token_url = https://idp.example.org/token\n"
	 "authorize_url = https://idp.example.org/authorize\n"
	 "scope = openid email offline_access\n",
	 "https://idp.example.org/authorize",
	 {{"client_id", "c"}, {"scope", "openid%20email%20offline_access"}}},
	{"custom, authorize_url with its own query",
	 "provider = custom\nclient_id = c\n"
	 "token_url = https://idp.example.org/token\n"
	 "authorize_url = https://idp.example.org/auth?realm=mail\n"
	 "scope = mail\nuser = ops\n",
	 "https://idp.example.org/auth",
	 {{"realm", "mail"},
	  {"client_id", "c"},
	  {"scope", "mail"},
	  {"login_hint", "ops"}}},
};

static struct oauthmail_config *load(const char *what, const char *lines)
{
	struct oauthmail_config *cfg = NULL;
	const char *error = NULL;
	char text[2048];
	int n = snprintf(text, sizeof(text), "[account a]\n%s", lines);

	if (n < 0 || (size_t)n >= sizeof(text) ||
	    config_parse("t.conf", text, (size_t)n, &cfg, &error) < 0) {
		check_str(what, error, "(config parses)");
		return NULL;
	}
	return cfg;
}

/* find_param - the raw value of key in the query, NULL if absent;
 * *count_r is how many times it appears */
static char *find_param(const char *query, const char *key, int *count_r)
{
	size_t klen = strlen(key);
	const char *p = query;
	char *found = NULL;

	*count_r = 0;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			(*count_r)++;
			free(found);
			found = strndup(p + klen + 1, len - klen - 1);
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return found;
}

static int count_params(const char *query)
{
	int n = *query != '\0';

	for (; *query != '\0'; query++)
		n += *query == '&';
	return n;
}

static void check_param(const char *what, const char *query,
			const struct param *want)
{
	char label[256];
	int count;
	char *got = find_param(query, want->key, &count);

	snprintf(label, sizeof(label), "%s: %s", what, want->key);
	check_str(label, got, want->raw);
	check_int(label, count, 1);
	free(got);
}

static void test_url_cases(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];
		struct oauthmail_config *cfg = load(c->what, c->conf);
		const char *q;
		char *url = NULL;
		int want_n = (int)N_COMMON;

		if (cfg == NULL)
			continue;
		check_int(c->what,
			  oauth_authorize_url(cfg->accounts[0], REDIRECT, STATE,
					      CHALLENGE, &url),
			  0);
		if (url == NULL) {
			config_free(&cfg);
			continue;
		}
		q = strchr(url, '?');
		check_true(c->what, q != NULL);
		if (q == NULL)
			q = url + strlen(url) - 1;
		check_int(c->what, (long long)(q - url),
			  (long long)strlen(c->base));
		check_true(c->what,
			   strncmp(url, c->base, strlen(c->base)) == 0);
		q++;
		check_true(c->what, strpbrk(url, " #\"<>") == NULL);
		for (j = 0; j < N_COMMON; j++)
			check_param(c->what, q, &common_params[j]);
		for (j = 0; j < MAX_PARAMS && c->want[j].key != NULL; j++) {
			check_param(c->what, q, &c->want[j]);
			want_n++;
		}
		check_int(c->what, count_params(q), want_n);
		free(url);
		config_free(&cfg);
	}
}

/* b64url_sha256 - base64url(SHA-256(s)), unpadded, by EVP */
static void b64url_sha256(const char *s, char *out, size_t outsize)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *p;

	out[0] = '\0';
	if (EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    4 * ((mdlen + 2) / 3) >= outsize) {
		check_true("EVP_Digest", 0);
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	for (p = out; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=')
			*p = '\0';
	}
}

static void test_pkce(void)
{
	/* RFC 7636 appendix B */
	const char *rfc_verifier =
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	struct oauthmail_config *cfg = load("pkce", "client_id = cid-1\n");
	char verifier[64], want[64], got[64];
	char *url = NULL, *param;
	int i, count;

	b64url_sha256(rfc_verifier, want, sizeof(want));
	check_str("EVP matches RFC 7636", want, CHALLENGE);
	for (i = 0; i < 8; i++) {
		if (i == 0)
			snprintf(verifier, sizeof(verifier), "%s",
				 rfc_verifier);
		else
			check_int("random verifier",
				  crypto_random_urlsafe(32, verifier,
							sizeof(verifier)),
				  0);
		check_int("verifier length", (long long)strlen(verifier), 43);
		b64url_sha256(verifier, want, sizeof(want));
		check_int("challenge",
			  crypto_pkce_challenge(verifier, got, sizeof(got)), 0);
		check_str("challenge = base64url(SHA-256(verifier))", got,
			  want);
		check_int("challenge unpadded", (long long)strlen(got), 43);
		if (cfg == NULL)
			continue;
		url = NULL;
		check_int("url",
			  oauth_authorize_url(cfg->accounts[0], REDIRECT, STATE,
					      got, &url),
			  0);
		if (url == NULL)
			continue;
		param = find_param(strchr(url, '?') + 1, "code_challenge",
				   &count);
		check_str("challenge in the URL unchanged", param, want);
		free(param);
		param = find_param(strchr(url, '?') + 1,
				   "code_challenge_method", &count);
		check_str("method", param, "S256");
		free(param);
		check_true("verifier not in the URL",
			   strstr(url, verifier) == NULL);
		free(url);
	}
	config_free(&cfg);
}

/* Caller-supplied values are encoded, never pasted in raw. */
static void test_encoding(void)
{
	struct oauthmail_config *cfg = load("encoding", "client_id = c\n");
	char *url = NULL, *p;
	int count;

	if (cfg == NULL)
		return;
	check_int("odd state",
		  oauth_authorize_url(cfg->accounts[0],
				      "http://127.0.0.1:1/cb?x=1&y=2",
				      "a b&c=d+e/f", CHALLENGE, &url),
		  0);
	if (url != NULL) {
		p = find_param(strchr(url, '?') + 1, "state", &count);
		check_str("state encoded", p, "a%20b%26c%3Dd%2Be%2Ff");
		free(p);
		p = find_param(strchr(url, '?') + 1, "redirect_uri", &count);
		check_str("redirect_uri encoded", p,
			  "http%3A%2F%2F127.0.0.1%3A1%2Fcb%3Fx%3D1%26y%3D2");
		free(p);
		check_int("no stray parameters",
			  count_params(strchr(url, '?') + 1), 8);
		free(url);
	}
	config_free(&cfg);
}

struct error_case {
	const char *what;
	const char *conf;
	size_t state_len; /* 0 = STATE */
};

static const struct error_case error_cases[] = {
	{"custom without authorize_url (device flow only)",
	 "provider = custom\nclient_id = c\n"
	 "token_url = https://idp.example.org/token\nscope = mail\n"
	 "device_url = https://idp.example.org/device\n",
	 0},
	{"URL far over 16 KiB (state of 17 KiB)", "client_id = c\n", 17 * 1024},
	{"URL just over 16 KiB (state of 16 KiB)", "client_id = c\n",
	 16 * 1024},
};

static void test_errors(void)
{
	size_t i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		struct oauthmail_config *cfg = load(c->what, c->conf);
		char *state = NULL;
		char sentinel = 0;
		char *url = &sentinel;

		if (cfg == NULL)
			continue;
		if (c->state_len > 0) {
			state = malloc(c->state_len + 1);
			if (state == NULL)
				abort();
			memset(state, 'S', c->state_len);
			state[c->state_len] = '\0';
		}
		check_int(c->what,
			  oauth_authorize_url(cfg->accounts[0], REDIRECT,
					      state != NULL ? state : STATE,
					      CHALLENGE, &url),
			  -1);
		check_true(c->what, url == &sentinel);
		free(state);
		config_free(&cfg);
	}
}

/* Accounts built by hand without a key a flow needs: each entry point
 * names the key (no request is made, so no HTTP client is needed). */
static void test_missing_keys(void)
{
	static const struct {
		const char *drop, *want;
	} rows[] = {
		{"scope", "scope is not set. Fix: set scope in [account cu]"},
		{"client_id", "client_id is not set"},
		{"token_url", "token_url is not set"},
		{"authorize_url", "authorize_url is not set"},
		{"device_url", "device_url is not set"},
	};
	struct account_config a;
	struct oauth_device dev = {0};
	struct oauth_error err;
	struct oauth_token tok = {0};
	char sentinel = 0;
	char *url;
	size_t i;
	int device;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.name = "cu";
		a.provider = PROVIDER_CUSTOM;
		a.client_id = "c";
		a.scope = "mail";
		a.token_url = "https://idp.example.org/token";
		a.authorize_url = "https://idp.example.org/authorize";
		a.device_url = "https://idp.example.org/device";
		a.redirect_uri = REDIRECT;
		if (strcmp(rows[i].drop, "scope") == 0)
			a.scope = NULL;
		else if (strcmp(rows[i].drop, "client_id") == 0)
			a.client_id = NULL;
		else if (strcmp(rows[i].drop, "token_url") == 0)
			a.token_url = NULL;
		else if (strcmp(rows[i].drop, "authorize_url") == 0)
			a.authorize_url = NULL;
		else
			a.device_url = NULL;
		device = strcmp(rows[i].drop, "authorize_url") != 0;
		if (device) {
			check_int(rows[i].drop,
				  oauth_device_start(&a, NULL, &dev, &err),
				  OM_ERR_CONFIG);
			check_true(rows[i].want,
				   strstr(err.message, rows[i].want) != NULL);
			dev.device_code = "DAQABIQEAAAB";
			check_int(rows[i].drop,
				  oauth_device_poll(&a, NULL, &dev, &tok, &err),
				  OAUTH_POLL_FAILED);
			check_true(rows[i].want,
				   strstr(err.message, rows[i].want) != NULL);
			memset(&dev, 0, sizeof(dev));
		}
		if (strcmp(rows[i].drop, "device_url") == 0)
			continue;
		url = &sentinel;
		check_int(rows[i].drop,
			  oauth_authorize_url(&a, REDIRECT, STATE, CHALLENGE,
					      &url),
			  -1);
		check_true(rows[i].drop, url == &sentinel);
	}
	memset(&a, 0, sizeof(a));
	a.name = "cu";
	a.client_id = "c";
	a.scope = "mail";
	a.token_url = "https://idp.example.org/token";
	a.device_url = "https://idp.example.org/device";
	check_int("poll without a device code",
		  oauth_device_poll(&a, NULL, &dev, &tok, &err),
		  OAUTH_POLL_FAILED);
	check_true("names device_code",
		   strstr(err.message, "device_code is not set") != NULL);
}

static void test_device_free(void)
{
	struct oauth_device dev = {0};

	dev.device_code = strdup("GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS");
	dev.user_code = strdup("WDJB-MJHT");
	dev.verification_uri = strdup("https://microsoft.com/devicelogin");
	dev.message = strdup("To sign in, use a web browser");
	dev.expires_in = 900;
	dev.interval = 5;
	oauth_device_free(&dev);
	check_true("device freed",
		   dev.device_code == NULL && dev.user_code == NULL &&
			   dev.verification_uri == NULL && dev.message == NULL);
	check_int("device zeroed", dev.expires_in + dev.interval, 0);
	oauth_device_free(&dev); /* twice is harmless */
}

int main(void)
{
	test_url_cases();
	test_pkce();
	test_encoding();
	test_errors();
	test_missing_keys();
	test_device_free();
	return test_done("test_oauth_signin");
}
