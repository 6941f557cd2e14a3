/* test_oauth_error.c - provider errors become one line (account, code,
 * meaning, fix) and a class: the AADSTS table, codes from error_codes
 * or the description, unknown codes and names, HTTP-level failures,
 * the redirect's error fields, transport and garbled answers */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "token/oauth_error.h"
#include "token/oauthmail_conf.h"

static struct account_config acct = {.name = "support"};

/* the table: every code's class, and whether its fix says authorize */
static const struct {
	long aadsts;
	const char *error;
	enum om_status status;
	const char *meaning; /* substring */
} table_rows[] = {
	{50011, NULL, OM_ERR_CONFIG, "redirect URI is not registered"},
	{50076, NULL, OM_ERR_REAUTH, "multi-factor"},
	{50079, NULL, OM_ERR_REAUTH, "register for multi-factor"},
	{50132, NULL, OM_ERR_REAUTH, "session is invalid"},
	{50133, NULL, OM_ERR_REAUTH, "session is invalid"},
	{50173, NULL, OM_ERR_REAUTH, "revoked"},
	{50196, NULL, OM_ERR_TEMP, "too many identical requests"},
	{53003, NULL, OM_ERR_CONFIG, "Conditional Access"},
	{54005, NULL, OM_ERR_REAUTH, "already used"},
	{65001, NULL, OM_ERR_REAUTH, "consented"},
	{70000, NULL, OM_ERR_REAUTH, "not valid or has expired"},
	{70008, NULL, OM_ERR_REAUTH, "not used"},
	{70011, NULL, OM_ERR_CONFIG, "scope is not valid"},
	{70043, NULL, OM_ERR_REAUTH, "sign-in frequency"},
	{90002, NULL, OM_ERR_CONFIG, "tenant does not exist"},
	{90094, NULL, OM_ERR_CONFIG, "administrator must consent"},
	{28000, NULL, OM_ERR_CONFIG, "more than one resource"},
	{650057, NULL, OM_ERR_CONFIG, "does not list this permission"},
	{700016, NULL, OM_ERR_CONFIG, "no app with this client_id"},
	{700025, NULL, OM_ERR_CONFIG, "public client sent a client secret"},
	{700082, NULL, OM_ERR_REAUTH, "90 days"},
	{700084, NULL, OM_ERR_REAUTH, "24 hours"},
	{7000215, NULL, OM_ERR_CONFIG, "client secret is wrong"},
	{7000218, NULL, OM_ERR_CONFIG, "requires a client secret"},
	{7000222, NULL, OM_ERR_CONFIG, "client secret has expired"},
	{9001023, NULL, OM_ERR_CONFIG, "/common or /consumers"},
	{0, "invalid_grant", OM_ERR_REAUTH, "no longer valid"},
	{0, "interaction_required", OM_ERR_REAUTH, "interactively"},
	{0, "consent_required", OM_ERR_REAUTH, "consent"},
	{0, "login_required", OM_ERR_REAUTH, "must sign in"},
	{0, "access_denied", OM_ERR_REAUTH, "declined"},
	{0, "invalid_client", OM_ERR_CONFIG, "client id or secret"},
	{0, "unauthorized_client", OM_ERR_CONFIG, "may not use this grant"},
	{0, "invalid_scope", OM_ERR_CONFIG, "scope is not valid"},
	{0, "invalid_request", OM_ERR_CONFIG, "rejected the request"},
	{0, "unsupported_grant_type", OM_ERR_CONFIG, "does not support"},
	{0, "temporarily_unavailable", OM_ERR_TEMP, "temporarily"},
	{0, "server_error", OM_ERR_TEMP, "had an error"},
};

static void test_lookup(void)
{
	const char *meaning, *fix;
	enum om_status st;
	char what[96];
	size_t i;

	for (i = 0; i < sizeof(table_rows) / sizeof(table_rows[0]); i++) {
		snprintf(what, sizeof(what), "lookup %ld %s",
			 table_rows[i].aadsts,
			 table_rows[i].error ? table_rows[i].error : "");
		meaning = fix = NULL;
		check_int(what,
			  oauth_error_lookup(table_rows[i].aadsts,
					     table_rows[i].error, &meaning,
					     &fix, &st),
			  0);
		check_int(what, st, table_rows[i].status);
		check_true(what,
			   meaning != NULL &&
				   strstr(meaning, table_rows[i].meaning) !=
					   NULL &&
				   fix != NULL && fix[0] != '\0');
	}
	check_int(
		"unknown code and name",
		oauth_error_lookup(12345, "no_such_error", &meaning, &fix, &st),
		-1);
	check_int("unknown code, known name: the name",
		  oauth_error_lookup(12345, "invalid_client", &meaning, &fix,
				     &st),
		  0);
	check_int("the name's class", st, OM_ERR_CONFIG);
	check_int(
		"a code beats the name",
		oauth_error_lookup(50196, "invalid_grant", &meaning, &fix, &st),
		0);
	check_int("the code's class", st, OM_ERR_TEMP);
	check_int("nothing at all",
		  oauth_error_lookup(0, NULL, &meaning, &fix, &st), -1);
}

static const struct {
	const char *what;
	long http;
	const char *body;
	long retry_after;
	enum om_status status;
	long aadsts;
	const char *error;
	const char *message; /* exact, or a substring when it starts "~" */
} response_rows[] = {
	{"expired refresh token", 400,
	 "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS700082: "
	 "The refresh token has expired due to inactivity.\\r\\nTrace ID: "
	 "abc\\r\\nCorrelation ID: def\",\"error_codes\":[700082]}",
	 -1, OM_ERR_REAUTH, 700082, "invalid_grant",
	 "account support: AADSTS700082 (invalid_grant): the refresh token "
	 "expired after 90 days without use. Fix: sign in again; keep the "
	 "account in use (every refresh renews the 90 days); then run: "
	 "oauthmail authorize support"},
	{"bad secret, code only in the description", 401,
	 "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215:"
	 " Invalid client secret provided.\"}",
	 -1, OM_ERR_CONFIG, 7000215, "invalid_client",
	 "account support: AADSTS7000215 (invalid_client): the client secret "
	 "is wrong. Fix: put the secret's Value (not its Secret ID) into "
	 "client_secret_file; if it is lost, create a new one under "
	 "Certificates & secrets"},
	{"redirect mismatch", 400,
	 "{\"error\":\"invalid_request\",\"error_codes\":[50011]}", -1,
	 OM_ERR_CONFIG, 50011, "invalid_request",
	 "~AADSTS50011 (invalid_request): the redirect URI is not registered"},
	{"unknown code, known name: provider text, name's fix", 400,
	 "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS999999: "
	 "Something new.\",\"error_codes\":[999999]}",
	 -1, OM_ERR_REAUTH, 999999, "invalid_grant",
	 "account support: AADSTS999999 (invalid_grant): AADSTS999999: "
	 "Something new.. Fix: sign in again; then run: oauthmail authorize "
	 "support (https://login.microsoftonline.com/error?code=999999)"},
	{"Google invalid_grant, no code", 400,
	 "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been "
	 "expired or revoked.\"}",
	 -1, OM_ERR_REAUTH, 0, "invalid_grant",
	 "~(invalid_grant): Token has been expired or revoked.. Fix: sign in "
	 "again"},
	{"name only, no description: the table's meaning", 400,
	 "{\"error\":\"access_denied\"}", -1, OM_ERR_REAUTH, 0, "access_denied",
	 "account support: (access_denied): the user or an admin declined the "
	 "request. Fix: sign in again; then run: oauthmail authorize support"},
	{"unknown everything", 400,
	 "{\"error\":\"weird_error\",\"error_description\":\"odd\"}", -1,
	 OM_ERR_CONFIG, 0, "weird_error",
	 "account support: (weird_error): odd. Fix: see the provider's "
	 "message"},
	{"a tab made printable, the text cut at CR", 400,
	 "{\"error\":\"invalid_scope\",\"error_description\":\"bad\\t "
	 "scope\\rx\"}",
	 -1, OM_ERR_CONFIG, 0, "invalid_scope", "~: bad? scope. Fix:"},
	{"other control bytes: the description is dropped", 400,
	 "{\"error\":\"invalid_scope\",\"error_description\":\"bad\\u0007"
	 "\"}",
	 -1, OM_ERR_CONFIG, 0, "invalid_scope",
	 "account support: (invalid_scope): the scope is not valid. Fix: fix "
	 "scope in oauthmail.conf"},
	{"503 with an OAuth error: reported, and temporary", 503,
	 "{\"error\":\"temporarily_unavailable\"}", -1, OM_ERR_TEMP, 0,
	 "temporarily_unavailable",
	 "account support: (temporarily_unavailable): the provider is "
	 "temporarily unavailable (HTTP 503 from the endpoint). Fix: nothing; "
	 "oauthmail keeps "
	 "using the current token while it is valid and retries"},
	{"503 with Microsoft's body: its code and text", 503,
	 "{\"error\":\"temporarily_unavailable\",\"error_description\":"
	 "\"AADSTS90033: A transient error has occurred. Please try again."
	 "\\r\\nTrace ID: 1\",\"error_codes\":[90033]}",
	 5, OM_ERR_TEMP, 90033, "temporarily_unavailable",
	 "account support: AADSTS90033 (temporarily_unavailable): AADSTS90033: "
	 "A transient error has occurred. Please try again. (HTTP 503 from the "
	 "endpoint, "
	 "Retry-After given). Fix: nothing; oauthmail keeps using the current "
	 "token while it is valid and retries "
	 "(https://login.microsoftonline.com/error?code=90033)"},
	{"500 with a REAUTH-looking body is still temporary", 500,
	 "{\"error\":\"invalid_grant\"}", -1, OM_ERR_TEMP, 0, "invalid_grant",
	 "~(HTTP 500 from the endpoint). Fix: nothing; oauthmail keeps"},
	{"429 with Retry-After", 429, "{\"error\":\"x\"}", 30, OM_ERR_TEMP, 0,
	 "x",
	 "~(x): the provider gave no description (HTTP 429 from the endpoint, "
	 "Retry-After "
	 "given)"},
	{"429 without an OAuth error", 429, "{}", 30, OM_ERR_TEMP, 0, "",
	 "~HTTP 429 with no OAuth error (Retry-After given)"},
	{"404: wrong URL", 404, "<html><body>Not found</body></html>", -1,
	 OM_ERR_CONFIG, 0, "",
	 "account support: the endpoint answered HTTP 404 with an HTML "
	 "page. Fix: the URL is wrong: check authority, tenant and cloud (or "
	 "token_url and device_url when set) in oauthmail.conf"},
	{"404 with a JSON error: still the URL's fault", 404,
	 "{\"error\":\"not_found\",\"error_description\":\"no such "
	 "endpoint\"}",
	 -1, OM_ERR_CONFIG, 0, "not_found",
	 "~answered HTTP 404 with error not_found: no such endpoint. Fix: the "
	 "URL is wrong"},
	{"unknown tenant", 400,
	 "{\"error\":\"invalid_request\",\"error_description\":"
	 "\"AADSTS90002: Tenant 'bogus' not found.\",\"error_codes\":[90002]}",
	 -1, OM_ERR_CONFIG, 90002, "invalid_request",
	 "account support: AADSTS90002 (invalid_request): the tenant 'common' "
	 "does not exist (in this cloud). Fix: set tenant in [account "
	 "support] to your tenant ID (a GUID) or a verified domain such as "
	 "contoso.onmicrosoft.com; a GCC High, DoD or China tenant also needs "
	 "cloud = usgov, usgovdod or china"},
	{"device code expired: sign in again", 400,
	 "{\"error\":\"expired_token\",\"error_description\":\"AADSTS70020: "
	 "The provided value for the input parameter 'device_code' is not "
	 "valid. This device code has expired.\",\"error_codes\":[70020]}",
	 -1, OM_ERR_REAUTH, 70020, "expired_token",
	 "~the device code expired before sign-in finished. Fix: sign in "
	 "within the time shown; then run: oauthmail authorize support"},
	{"consent missing: a new sign-in after consent", 400,
	 "{\"error\":\"invalid_grant\",\"error_codes\":[65001],"
	 "\"suberror\":\"consent_required\"}",
	 -1, OM_ERR_REAUTH, 65001, "invalid_grant",
	 "~Grant admin consent), check the scopes are listed there; then run: "
	 "oauthmail authorize support"},
	{"400 without JSON", 400, "Bad Request", -1, OM_ERR_TEMP, 0, "",
	 "~HTTP 400 with no JSON."},
	{"JSON without error", 400, "{\"message\":\"nope\"}", -1, OM_ERR_TEMP,
	 0, "", "~HTTP 400 with no OAuth error."},
	{"no body", 502, NULL, -1, OM_ERR_TEMP, 0, "",
	 "~HTTP 502 with no JSON"},
	{"error not a string", 400, "{\"error\":42}", -1, OM_ERR_TEMP, 0, "",
	 "~with no OAuth error"},
	{"junk after the JSON", 400, "{\"error\":\"invalid_grant\"} x", -1,
	 OM_ERR_TEMP, 0, "", "~with no JSON"},
};

static void check_message(const char *what, const char *got, const char *want)
{
	if (want[0] == '~') {
		check_true(what, strstr(got, want + 1) != NULL);
		if (strstr(got, want + 1) == NULL)
			printf("  got: %s\n  want: ...%s...\n", got, want + 1);
	} else {
		check_str(what, got, want);
	}
}

static void test_responses(void)
{
	struct oauth_error err;
	char what[160];
	size_t i;

	for (i = 0; i < sizeof(response_rows) / sizeof(response_rows[0]); i++) {
		const char *body = response_rows[i].body;

		oauth_error_from_response(&acct, response_rows[i].http, body,
					  body ? strlen(body) : 0,
					  response_rows[i].retry_after, &err);
		snprintf(what, sizeof(what), "%s: class",
			 response_rows[i].what);
		check_int(what, err.status, response_rows[i].status);
		snprintf(what, sizeof(what), "%s: code", response_rows[i].what);
		check_int(what, err.aadsts, response_rows[i].aadsts);
		snprintf(what, sizeof(what), "%s: error",
			 response_rows[i].what);
		check_str(what, err.error, response_rows[i].error);
		snprintf(what, sizeof(what), "%s: http", response_rows[i].what);
		check_int(what, err.http_status, response_rows[i].http);
		check_int("retry_after kept", err.retry_after,
			  response_rows[i].retry_after);
		snprintf(what, sizeof(what), "%s: message",
			 response_rows[i].what);
		check_message(what, err.message, response_rows[i].message);
	}
}

/* Hints follow the provider; an endpoint is named without its query */
static void test_provider_hints(void)
{
	struct account_config google = {.name = "gm",
					.provider = PROVIDER_GOOGLE};
	struct account_config ms = {.name = "support",
				    .tenant = "bogus_tenant"};
	static const char unknown_code[] =
		"{\"error\":\"invalid_grant\",\"error_description\":"
		"\"AADSTS5000611: Something new.\",\"error_codes\":[5000611]}";
	static const char revoked[] =
		"{\"error\":\"invalid_grant\",\"error_description\":\"Token "
		"has been expired or revoked.\"}";
	static const char no_tenant[] =
		"{\"error\":\"invalid_request\",\"error_codes\":[90002]}";
	struct oauth_error err;

	oauth_error_from_response(&ms, 400, unknown_code, strlen(unknown_code),
				  -1, &err);
	check_true("Microsoft: no Google advice",
		   strstr(err.message, "Google") == NULL &&
			   strstr(err.message, "Testing") == NULL);
	check_true("Microsoft: the lookup link",
		   strstr(err.message, "error?code=5000611") != NULL);
	oauth_error_from_response(&google, 400, revoked, strlen(revoked), -1,
				  &err);
	check_int("Google invalid_grant: sign in", err.status, OM_ERR_REAUTH);
	check_message("Google: Google's advice", err.message,
		      "~(invalid_grant): Token has been expired or revoked.. "
		      "Fix: sign in again; if it recurs weekly, publish the "
		      "app (Google Cloud console > OAuth consent screen > In "
		      "production); then run: oauthmail authorize gm");
	oauth_error_from_response(&google, 404, "", 0, -1, &err);
	check_message("Google 404: no tenant advice", err.message,
		      "~Fix: the URL is wrong: check token_url, device_url "
		      "and authority");
	oauth_error_from_response(&ms, 400, no_tenant, strlen(no_tenant), -1,
				  &err);
	check_message("90002 names the tenant", err.message,
		      "~the tenant 'bogus_tenant' does not exist");
	oauth_error_at(&ms,
		       "https://login.example.org/t/oauth2/v2.0/token?code=0."
		       "SECRET#frag",
		       404, "", 0, -1, &err);
	check_message("404 names the URL", err.message,
		      "~account support: https://login.example.org/t/oauth2/"
		      "v2.0/token answered HTTP 404 with no JSON. Fix: the URL "
		      "is wrong");
	check_true("no query in the message",
		   strstr(err.message, "SECRET") == NULL &&
			   strstr(err.message, "frag") == NULL);
	oauth_error_at(&ms, "https://login.example.org/x", 502,
		       "<html>Bad gateway</html>", 24, -1, &err);
	check_message("502 names the URL", err.message,
		      "~https://login.example.org/x answered HTTP 502 with an "
		      "HTML page. Fix: nothing");
}

static void test_description(void)
{
	struct oauth_error err;
	char body[4096];
	size_t n;

	n = (size_t)snprintf(
		body, sizeof(body),
		"{\"error\":\"invalid_grant\",\"error_description\":"
		"\"AADSTS70000: first line\\r\\nTrace ID: 1234\"}");
	oauth_error_from_response(&acct, 400, body, n, -1, &err);
	check_str("Trace ID cut off", err.description,
		  "AADSTS70000: first line");
	check_int("code from the description", err.aadsts, 70000);
	n = (size_t)snprintf(
		body, sizeof(body),
		"{\"error\":\"invalid_grant\",\"error_description\":"
		"\"%0600d\"}",
		0);
	oauth_error_from_response(&acct, 400, body, n, -1, &err);
	check_int("long description cut", (long long)strlen(err.description),
		  255);
	check_true("with ...", strstr(err.description, "...") != NULL);
	check_true("message bounded",
		   strlen(err.message) < sizeof(err.message));
	n = (size_t)snprintf(
		body, sizeof(body),
		"{\"error\":\"invalid_grant\",\"error_description\":"
		"\"AADSTS12x: not a code\",\"error_codes\":[-5]}");
	oauth_error_from_response(&acct, 400, body, n, -1, &err);
	check_int("junk codes ignored", err.aadsts, 0);
	n = (size_t)snprintf(body, sizeof(body),
			     "{\"error\":\"invalid_grant\",\"error_codes\":"
			     "[\"50173\"]}");
	oauth_error_from_response(&acct, 400, body, n, -1, &err);
	check_int("a string in error_codes is not a code", err.aadsts, 0);
}

static void test_fields(void)
{
	struct oauth_error err;

	oauth_error_from_fields(&acct, "access_denied",
				"AADSTS65004: User declined to consent.", &err);
	check_int("redirect: declined", err.status, OM_ERR_REAUTH);
	check_int("redirect: code", err.aadsts, 65004);
	check_int("redirect: no http", err.http_status, 0);
	check_int("redirect: no retry", err.retry_after, -1);
	check_message("redirect: message", err.message,
		      "~AADSTS65004 (access_denied): AADSTS65004: User "
		      "declined to consent.. Fix: sign in again; then run: "
		      "oauthmail authorize support (https://login."
		      "microsoftonline.com/error?code=65004)");
	oauth_error_from_fields(&acct, "invalid_request",
				"AADSTS50011: The redirect URI ... does not "
				"match",
				&err);
	check_int("redirect mismatch from the browser", err.status,
		  OM_ERR_CONFIG);
	check_message("known code's meaning", err.message,
		      "~the redirect URI is not registered for this app");
	oauth_error_from_fields(&acct, "server_error", NULL, &err);
	check_int("no description", err.status, OM_ERR_TEMP);
	check_str("no description text", err.description, "");
	oauth_error_from_fields(&acct, "bad\nname", "x", &err);
	check_str("error name made printable", err.error, "bad?name");
}

static void test_transport(void)
{
	struct oauth_error err;

	oauth_error_transport(&acct, "Could not resolve host\r\n", &err);
	check_int("transport: temporary", err.status, OM_ERR_TEMP);
	check_str("transport: printable", err.description,
		  "Could not resolve host??");
	check_message("transport: message", err.message,
		      "~account support: token endpoint unreachable: Could "
		      "not resolve host??. Fix: check network");
	oauth_error_garbled(&acct, "no access_token", &err);
	check_int("garbled: temporary", err.status, OM_ERR_TEMP);
	check_int("garbled: HTTP 200", err.http_status, 200);
	check_message("garbled: message", err.message,
		      "~answered HTTP 200 with something that is not a token "
		      "(no access_token)");
}

int main(void)
{
	test_lookup();
	test_responses();
	test_provider_hints();
	test_description();
	test_fields();
	test_transport();
	return test_done("test_oauth_error");
}
