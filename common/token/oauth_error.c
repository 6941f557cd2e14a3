/*
 * oauth_error.c - what Microsoft's and Google's token errors mean, and
 * what the admin should do about each.
 *
 * Every failure message has the same shape, on one line:
 *   account A: AADSTS700082 (invalid_grant): <meaning>. Fix: <what to do>
 * The class decides what callers do: REAUTH (stop refreshing; the admin
 * must run oauthmail authorize), CONFIG (the config or the app
 * registration is wrong), TEMP (retry later; keep using a valid token).
 * Codes come from error_codes[] or the "AADSTSnnnn:" prefix of
 * error_description; the description itself is echoed printable and
 * truncated, after its "Trace ID" tail is cut off.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/number.h"
#include "token/oauth_error.h"
#include "token/oauthmail_conf.h"

struct error_entry {
	long aadsts;	   /* 0: match by error name instead */
	const char *error; /* RFC 6749 name for name-only entries */
	enum om_status status;
	int reauthorize; /* the fix ends with "run oauthmail authorize A" */
	const char *meaning;
	const char *fix;
};

#define DEVICE_EXPIRED "the device code expired before sign-in finished"
#define DEVICE_EXPIRED_FIX "sign in within the time shown"

static const struct error_entry error_table[] = {
	{50011, NULL, OM_ERR_CONFIG, 0,
	 "the redirect URI is not registered for this app",
	 "add redirect_uri from oauthmail.conf, exactly (scheme, host, "
	 "path), to App registration > Authentication > Mobile and desktop "
	 "applications"},
	{50076, NULL, OM_ERR_REAUTH, 1,
	 "multi-factor authentication is required (Conditional Access); a "
	 "refresh cannot satisfy it",
	 "sign in interactively so the user completes MFA"},
	{50079, NULL, OM_ERR_REAUTH, 1,
	 "the user must register for multi-factor authentication",
	 "the user registers at https://aka.ms/mfasetup"},
	{50173, NULL, OM_ERR_REAUTH, 1,
	 "the grant was revoked (password change or sessions revoked by an "
	 "admin)",
	 "sign in again"},
	{50133, NULL, OM_ERR_REAUTH, 1,
	 "the session is invalid after a password change or expiry",
	 "sign in again"},
	{50132, NULL, OM_ERR_REAUTH, 1,
	 "the session is invalid after a password change or expiry",
	 "sign in again"},
	{53003, NULL, OM_ERR_CONFIG, 0,
	 "blocked by a Conditional Access policy",
	 "ask the tenant admin to allow this app, location or device in "
	 "Conditional Access"},
	{65001, NULL, OM_ERR_REAUTH, 1,
	 "nobody has consented to the app's permissions",
	 "grant consent (Entra admin center > App registrations > API "
	 "permissions > Grant admin consent), check the scopes are listed "
	 "there"},
	{70000, NULL, OM_ERR_REAUTH, 1,
	 "the authorization code or refresh token is not valid or has "
	 "expired",
	 "sign in again"},
	{70008, NULL, OM_ERR_REAUTH, 1,
	 "the refresh token expired because it was not used", "sign in again"},
	{70011, NULL, OM_ERR_CONFIG, 0, "a requested scope is not valid",
	 "fix scope in oauthmail.conf (e.g. offline_access "
	 "https://outlook.office.com/SMTP.Send)"},
	{70043, NULL, OM_ERR_REAUTH, 1,
	 "Conditional Access sign-in frequency ended the session",
	 "sign in again, or exempt this workload from the sign-in "
	 "frequency policy"},
	{90002, NULL, OM_ERR_CONFIG, 0, "the tenant does not exist",
	 "set tenant to your tenant ID (a GUID) or a verified domain such "
	 "as contoso.onmicrosoft.com"},
	{90094, NULL, OM_ERR_CONFIG, 0, "an administrator must consent first",
	 "a tenant admin grants consent for the app's permissions"},
	{28000, NULL, OM_ERR_CONFIG, 0,
	 "the scope names more than one resource; a token is for one",
	 "keep one resource per account (Exchange scopes "
	 "https://outlook.office.com/... plus offline_access; Graph in a "
	 "second account)"},
	{54005, NULL, OM_ERR_REAUTH, 1,
	 "the authorization code was already used",
	 "start the sign-in again (codes are single use)"},
	{700016, NULL, OM_ERR_CONFIG, 0,
	 "no app with this client_id in the tenant",
	 "set client_id to the Application (client) ID (not the object "
	 "ID), and tenant to the app's tenant (or organizations/common for "
	 "a multi-tenant app)"},
	{700025, NULL, OM_ERR_CONFIG, 0, "a public client sent a client secret",
	 "remove client_secret / client_secret_file from the account"},
	{700082, NULL, OM_ERR_REAUTH, 1,
	 "the refresh token expired after 90 days without use",
	 "sign in again; keep the account in use (every refresh renews the "
	 "90 days)"},
	{700084, NULL, OM_ERR_REAUTH, 1,
	 "single-page-app refresh tokens last 24 hours",
	 "register the redirect URI under Mobile and desktop applications, "
	 "not Single-page application"},
	{7000215, NULL, OM_ERR_CONFIG, 0, "the client secret is wrong",
	 "put the secret's Value (not its Secret ID) into "
	 "client_secret_file; if it is lost, create a new one under "
	 "Certificates & secrets"},
	{7000218, NULL, OM_ERR_CONFIG, 0, "the app requires a client secret",
	 "set client_secret_file, or for the device flow enable Allow "
	 "public client flows (App registration > Authentication > "
	 "Advanced settings)"},
	{7000222, NULL, OM_ERR_CONFIG, 0, "the client secret has expired",
	 "create a new secret (App registration > Certificates & secrets), "
	 "write it to client_secret_file and update client_secret_expires"},
	{9001023, NULL, OM_ERR_CONFIG, 0,
	 "this grant is not allowed on /common or /consumers",
	 "set tenant to your tenant ID or domain"},
	{650057, NULL, OM_ERR_CONFIG, 0,
	 "the app does not list this permission",
	 "add the permission under API permissions and grant consent"},
	{50196, NULL, OM_ERR_TEMP, 0, "too many identical requests",
	 "nothing; oauthmail backs off and retries"},
	{70020, NULL, OM_ERR_REAUTH, 1, DEVICE_EXPIRED, DEVICE_EXPIRED_FIX},
	{0, "invalid_grant", OM_ERR_REAUTH, 1,
	 "the refresh token or code is no longer valid (expired or "
	 "revoked)",
	 "sign in again"},
	{0, "expired_token", OM_ERR_REAUTH, 1, DEVICE_EXPIRED,
	 DEVICE_EXPIRED_FIX},
	{0, "code_expired", OM_ERR_REAUTH, 1, DEVICE_EXPIRED,
	 DEVICE_EXPIRED_FIX},
	{0, "authorization_declined", OM_ERR_REAUTH, 1,
	 "the user declined the sign-in", "sign in again and accept"},
	{0, "interaction_required", OM_ERR_REAUTH, 1,
	 "the user must sign in interactively", "sign in again"},
	{0, "consent_required", OM_ERR_REAUTH, 1,
	 "consent for the app's permissions is missing",
	 "grant consent, then sign in again"},
	{0, "login_required", OM_ERR_REAUTH, 1, "the user must sign in",
	 "sign in again"},
	{0, "access_denied", OM_ERR_REAUTH, 1,
	 "the user or an admin declined the request", "sign in again"},
	{0, "invalid_client", OM_ERR_CONFIG, 0,
	 "the client id or secret is wrong",
	 "check client_id and client_secret_file"},
	{0, "unauthorized_client", OM_ERR_CONFIG, 0,
	 "the app may not use this grant",
	 "check client_id, tenant and the app registration"},
	{0, "invalid_scope", OM_ERR_CONFIG, 0, "the scope is not valid",
	 "fix scope in oauthmail.conf"},
	{0, "invalid_request", OM_ERR_CONFIG, 0,
	 "the provider rejected the request",
	 "check tenant, client_id and the endpoint URLs"},
	{0, "unsupported_grant_type", OM_ERR_CONFIG, 0,
	 "the provider does not support this grant",
	 "check grant and token_url"},
	{0, "temporarily_unavailable", OM_ERR_TEMP, 0,
	 "the provider is temporarily unavailable",
	 "nothing; oauthmail retries"},
	{0, "server_error", OM_ERR_TEMP, 0, "the provider had an error",
	 "nothing; oauthmail retries"},
};

#define ERROR_TABLE_LEN (sizeof(error_table) / sizeof(error_table[0]))

/* Google's meaning of an error name, where it differs (hints follow the
 * provider: a Microsoft error never gets Google's advice) */
static const struct error_entry google_table[] = {
	{0, "invalid_grant", OM_ERR_REAUTH, 1,
	 "the refresh token is no longer valid (revoked, unused for 6 "
	 "months, a password change, or 7 days old for an app in Testing "
	 "mode)",
	 "sign in again; if it recurs weekly, publish the app (Google "
	 "Cloud console > OAuth consent screen > In production)"},
};

static const struct error_entry *find_by_code(long aadsts)
{
	size_t i;

	for (i = 0; aadsts != 0 && i < ERROR_TABLE_LEN; i++)
		if (error_table[i].aadsts == aadsts)
			return &error_table[i];
	return NULL;
}

static const struct error_entry *find_by_name(const char *error)
{
	size_t i;

	for (i = 0; error != NULL && i < ERROR_TABLE_LEN; i++)
		if (error_table[i].aadsts == 0 &&
		    strcmp(error_table[i].error, error) == 0)
			return &error_table[i];
	return NULL;
}

int oauth_error_lookup(long aadsts, const char *error, const char **meaning_r,
		       const char **fix_r, enum om_status *status_r)
{
	const struct error_entry *e = find_by_code(aadsts);

	if (e == NULL)
		e = find_by_name(error);

	if (e == NULL)
		return -1;
	*meaning_r = e->meaning;
	*fix_r = e->fix;
	*status_r = e->status;
	return 0;
}

/* find_for - the entry for a name, the account's provider's first */
static const struct error_entry *find_for(const struct account_config *acct,
					  const char *error)
{
	size_t i;

	for (i = 0; acct->provider == PROVIDER_GOOGLE && error != NULL &&
		    i < sizeof(google_table) / sizeof(google_table[0]);
	     i++)
		if (strcmp(google_table[i].error, error) == 0)
			return &google_table[i];
	return find_by_name(error);
}

/* first_line - the description without Microsoft's "\r\nTrace ID..." */
static void first_line(const char *desc, char *out, size_t size)
{
	size_t n = strcspn(desc, "\r\n");

	snprintf(out, size, "%s", printable_len(desc, n, size - 4));
}

/* aadsts_number - the code after "AADSTS" (1 to 999999999), followed by
 * ':' when colon is set; 0 when there is none */
static long aadsts_number(const char *s, int colon)
{
	unsigned long long v;
	size_t n;

	if (number_prefix(s, strlen(s), 1, 999999999, &v, &n) < 0 ||
	    (colon && s[n] != ':'))
		return 0;
	return (long)v;
}

static long aadsts_from(const cJSON *root, const char *desc)
{
	const cJSON *codes =
		cJSON_GetObjectItemCaseSensitive(root, "error_codes");
	const cJSON *first =
		cJSON_IsArray(codes) ? cJSON_GetArrayItem(codes, 0) : NULL;

	if (cJSON_IsNumber(first) && first->valuedouble > 0 &&
	    first->valuedouble < 1e9)
		return (long)first->valuedouble;
	if (desc != NULL && strncmp(desc, "AADSTS", 6) == 0)
		return aadsts_number(desc + 6, 1);
	return 0;
}

/* url_for_message - url without its query and fragment (they can carry
 * codes or tokens), printable and bounded */
static const char *url_for_message(const char *url)
{
	return url != NULL ? printable_len(url, strcspn(url, "?#"), 200)
			   : "the endpoint";
}

/* status_note - " (HTTP 503, Retry-After 5 s)" for a server-side
 * failure that still carried an OAuth error; "" otherwise */
static void status_note(const struct oauth_error *err, char *out, size_t size)
{
	out[0] = '\0';
	if (err->http_status >= 500 || err->http_status == 429)
		snprintf(out, size, " (HTTP %ld from the endpoint%s)",
			 err->http_status,
			 err->retry_after >= 0 ? ", Retry-After given" : "");
}

/* compose - the one-line message.  A code we know gives its own meaning
 * and fix; an unknown code with a known error name gives the provider's
 * text and the name's fix; otherwise the provider's text alone.  A
 * server-side status (5xx, 429) makes it temporary whatever the body
 * says. */
static void compose(const struct account_config *acct,
		    const struct error_entry *by_code,
		    const struct error_entry *by_name, struct oauth_error *err)
{
	const struct error_entry *e = by_code ? by_code : by_name;
	const char *meaning = by_code ? by_code->meaning : err->description;
	const char *fix = e ? e->fix : "see the provider's message";
	int reauth = e && e->reauthorize;
	char code[48] = "", more[96] = "", note[96];

	if (meaning[0] == '\0')
		meaning = by_name ? by_name->meaning
				  : "the provider gave no description";
	err->status = e ? e->status : OM_ERR_CONFIG;
	status_note(err, note, sizeof(note));
	if (note[0] != '\0') {
		err->status = OM_ERR_TEMP;
		fix = "nothing; oauthmail keeps using the current token while "
		      "it is valid and retries";
		reauth = 0;
	}
	if (err->aadsts != 0)
		snprintf(code, sizeof(code), "AADSTS%ld ", err->aadsts);
	if (err->aadsts != 0 && by_code == NULL)
		snprintf(more, sizeof(more),
			 " (https://login.microsoftonline.com/error?code=%ld)",
			 err->aadsts);
	snprintf(err->message, sizeof(err->message),
		 "account %s: %s(%s): %s%s. Fix: %s%s%s%s", acct->name, code,
		 err->error, meaning, note, fix,
		 reauth ? "; then run: oauthmail authorize " : "",
		 reauth ? acct->name : "", more);
}

/* tenant_not_found - AADSTS90002 names the key and the value */
static int tenant_not_found(const struct account_config *acct,
			    struct oauth_error *err)
{
	if (acct->provider != PROVIDER_MICROSOFT || err->aadsts != 90002)
		return 0;
	err->status = OM_ERR_CONFIG;
	snprintf(
		err->message, sizeof(err->message),
		"account %s: AADSTS90002 (%s): the tenant '%s' does not "
		"exist (in this cloud). Fix: set tenant in [account %s] to "
		"your tenant ID (a GUID) or a verified domain such as "
		"contoso.onmicrosoft.com; a GCC High, DoD or China tenant also "
		"needs cloud = usgov, usgovdod or china",
		acct->name, err->error,
		acct->tenant ? printable(acct->tenant, 100) : "common",
		acct->name);
	return 1;
}

/* endpoint_fix - where a wrong endpoint URL comes from */
static const char *endpoint_fix(const struct account_config *acct)
{
	return acct->provider == PROVIDER_MICROSOFT
		       ? "check authority, tenant and cloud (or token_url and "
			 "device_url when set) in oauthmail.conf"
		       : "check token_url, device_url and authority in "
			 "oauthmail.conf";
}

/* from_http_status - no OAuth error to go by (or a 404/405): the URL,
 * the status and what came back */
static void from_http_status(const struct account_config *acct, const char *url,
			     const char *what, struct oauth_error *err)
{
	const char *retry = err->retry_after >= 0 ? " (Retry-After given)" : "";
	int wrong_url = err->http_status == 404 || err->http_status == 405;

	err->status = wrong_url ? OM_ERR_CONFIG : OM_ERR_TEMP;
	snprintf(err->message, sizeof(err->message),
		 "account %s: %s answered HTTP %ld with %s%s. Fix: %s%s",
		 acct->name, url_for_message(url), err->http_status, what,
		 retry, wrong_url ? "the URL is wrong: " : "",
		 wrong_url ? endpoint_fix(acct)
			   : "nothing; oauthmail keeps using the current "
			     "token while it is valid and retries");
}

static int looks_like_html(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\n' ||
			   body[i] == '\r' || body[i] == '\t'))
		i++;
	return i < len && body[i] == '<';
}

/* what_came - a few words on an answer that is no OAuth error */
static const char *what_came(const cJSON *root, const char *error,
			     const char *body, size_t len,
			     const struct oauth_error *err)
{
	if (error != NULL)
		return errorf("error %s%s%s", err->error,
			      err->description[0] ? ": " : "",
			      err->description);
	if (root != NULL)
		return "no OAuth error";
	return body != NULL && looks_like_html(body, len) ? "an HTML page"
							  : "no JSON";
}

void oauth_error_at(const struct account_config *acct, const char *url,
		    long http_status, const char *body, size_t len,
		    long retry_after, struct oauth_error *err)
{
	const char *error, *desc, *why;
	cJSON *root;

	memset(err, 0, sizeof(*err));
	err->http_status = http_status;
	err->retry_after = retry_after;
	root = body != NULL ? json_parse(body, len, &why) : NULL;
	error = root ? json_string(root, "error", 63) : NULL;
	desc = root ? json_string(root, "error_description", 8192) : NULL;
	if (error != NULL)
		snprintf(err->error, sizeof(err->error), "%s",
			 printable(error, 60));
	if (desc != NULL)
		first_line(desc, err->description, sizeof(err->description));
	if (root != NULL)
		err->aadsts = aadsts_from(root, desc);
	if (error == NULL || http_status == 404 || http_status == 405)
		from_http_status(acct, url,
				 what_came(root, error, body, len, err), err);
	else if (!tenant_not_found(acct, err))
		compose(acct, find_by_code(err->aadsts),
			find_for(acct, err->error), err);
	cJSON_Delete(root);
}

void oauth_error_from_response(const struct account_config *acct,
			       long http_status, const char *body, size_t len,
			       long retry_after, struct oauth_error *err)
{
	oauth_error_at(acct, acct->token_url, http_status, body, len,
		       retry_after, err);
}

void oauth_error_from_fields(const struct account_config *acct,
			     const char *error, const char *description,
			     struct oauth_error *err)
{
	memset(err, 0, sizeof(*err));
	err->retry_after = -1;
	snprintf(err->error, sizeof(err->error), "%s", printable(error, 60));
	if (description != NULL) {
		first_line(description, err->description,
			   sizeof(err->description));
		if (strncmp(description, "AADSTS", 6) == 0)
			err->aadsts = aadsts_number(description + 6, 0);
	}
	if (!tenant_not_found(acct, err))
		compose(acct, find_by_code(err->aadsts),
			find_for(acct, err->error), err);
}

void oauth_error_transport(const struct account_config *acct, const char *what,
			   struct oauth_error *err)
{
	memset(err, 0, sizeof(*err));
	err->status = OM_ERR_TEMP;
	err->retry_after = -1;
	snprintf(err->description, sizeof(err->description), "%s",
		 printable(what, 240));
	snprintf(err->message, sizeof(err->message),
		 "account %s: token endpoint unreachable: %s. Fix: check "
		 "network, DNS, proxy and ca_file; oauthmail keeps using the "
		 "current token while it is valid and retries",
		 acct->name, err->description);
}

void oauth_error_garbled(const struct account_config *acct, const char *what,
			 struct oauth_error *err)
{
	memset(err, 0, sizeof(*err));
	err->status = OM_ERR_TEMP;
	err->retry_after = -1;
	err->http_status = 200;
	snprintf(err->description, sizeof(err->description), "%s",
		 printable(what, 240));
	snprintf(
		err->message, sizeof(err->message),
		"account %s: token endpoint answered HTTP 200 with something "
		"that is not a token (%s). Fix: check that authority/token_url "
		"reach the provider, not a proxy page; oauthmail keeps using "
		"the current token while it is valid and retries",
		acct->name, err->description);
}

void oauth_error_missing(const struct account_config *acct, const char *key,
			 struct oauth_error *err)
{
	const char *name =
		acct != NULL && acct->name != NULL ? acct->name : "?";

	memset(err, 0, sizeof(*err));
	err->status = OM_ERR_CONFIG;
	err->retry_after = -1;
	snprintf(err->message, sizeof(err->message),
		 "account %s: %s is not set. Fix: set %s in [account %s] of "
		 "oauthmail.conf (see oauthmail.conf(5))",
		 name, key, key, name);
}
