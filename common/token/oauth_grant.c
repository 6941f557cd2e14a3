/*
 * oauth_grant.c - the token endpoint's non-interactive grants: refresh
 * token (with rotation) and client credentials, the request engine the
 * interactive sign-in flows share (oauth_signin.c), and the parser of a
 * token answer.  This is the part of OAuth the refresh cache runs, and
 * so the only part linked into the SASL plugin.
 *
 * Requests are form bodies built by http.c (URL-encoded, wiped after
 * use).  Answers are outside input: a 200 must parse as a token with
 * bounded fields; anything else becomes a struct oauth_error whose
 * message names the account, the provider's code, its meaning and the
 * fix (oauth_error.c).  Nothing here logs a token, code or secret.
 */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "token/http.h"
#include "token/oauth_grant.h"
#include "token/oauthmail_conf.h"

#define TOKEN_FIELD_MAX (16 * 1024)
#define SCOPE_MAX 2048
#define YEAR_SECONDS (366LL * 24 * 3600)

static int token_chars_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* id_token_field - the id_token as it came; "" when it is there but
   unusable, so authorize can say so (the answer stands without it) */
static char *id_token_field(const cJSON *root)
{
	const char *v;

	if (!json_has(root, "id_token"))
		return NULL;
	v = json_string(root, "id_token", TOKEN_FIELD_MAX);
	return strdup(v != NULL ? v : "");
}

int oauth_token_parse(const char *body, size_t len, struct oauth_token *tok_r,
		      const char **error_r)
{
	struct oauth_token tok = {0};
	const char *type;
	cJSON *root;
	int bad = 0, bad_scope = 0;

	root = json_parse(body, len, error_r);
	if (root == NULL)
		return -1;
	if (!cJSON_IsObject(root)) {
		*error_r = "token answer is not a JSON object";
		goto fail;
	}
	type = json_string(root, "token_type", 32);
	tok.access_token =
		json_string_dup(root, "access_token", TOKEN_FIELD_MAX, &bad);
	tok.refresh_token =
		json_string_dup(root, "refresh_token", TOKEN_FIELD_MAX, &bad);
	tok.scope = json_string_dup(root, "scope", SCOPE_MAX, &bad_scope);
	tok.id_token = id_token_field(root);
	if (bad || tok.access_token == NULL ||
	    !token_chars_ok(tok.access_token) ||
	    (tok.refresh_token != NULL && !token_chars_ok(tok.refresh_token))) {
		*error_r = "token answer has no usable access_token";
		goto fail;
	}
	if (bad_scope) {
		*error_r = "its scope is empty (or not a string of at most "
			   "2048 characters): the provider granted none of the "
			   "requested scopes; check the app's API permissions "
			   "and consent, and scope in oauthmail.conf";
		goto fail;
	}
	if (json_has(root, "token_type") &&
	    (type == NULL || strcasecmp(type, "Bearer") != 0)) {
		*error_r = "token answer: token_type is not Bearer";
		goto fail;
	}
	if (json_long(root, "expires_in", 1, YEAR_SECONDS, &tok.expires_in) <
	    0) {
		*error_r = "token answer: expires_in missing or not a number "
			   "of seconds";
		goto fail;
	}
	json_delete_wiped(root);
	*tok_r = tok;
	return 0;
fail:
	json_delete_wiped(root);
	oauth_token_free(&tok);
	return -1;
}

void oauth_token_free(struct oauth_token *tok)
{
	wipe_free_str(&tok->access_token);
	wipe_free_str(&tok->refresh_token);
	free(tok->scope);
	tok->scope = NULL;
	wipe_free_str(&tok->id_token);
}

int oauth_form_add_client(struct http_form *form,
			  const struct account_config *acct)
{
	if (http_form_add(form, "client_id", acct->client_id) < 0)
		return -1;
	if (acct->client_secret != NULL &&
	    http_form_add(form, "client_secret", acct->client_secret) < 0)
		return -1;
	return 0;
}

enum om_status oauth_post_ok(const struct account_config *acct,
			     struct http_client *http, const char *url,
			     const struct http_form *form,
			     struct http_response *resp,
			     struct oauth_error *err_r)
{
	const char *error;

	if (http_post_form(http, url, form, resp, &error) < 0) {
		oauth_error_transport(acct, error, err_r);
		return err_r->status;
	}
	if (resp->status != 200) {
		oauth_error_at(acct, url, resp->status, resp->body.data,
			       resp->body.len, resp->retry_after, err_r);
		return err_r->status;
	}
	return OM_OK;
}

/* token_post - POST the form to the token endpoint and read a token */
static enum om_status token_post(const struct account_config *acct,
				 struct http_client *http,
				 const struct http_form *form,
				 struct oauth_token *tok_r,
				 struct oauth_error *err_r)
{
	struct http_response resp;
	const char *error;
	enum om_status ret;

	http_response_init(&resp);
	ret = oauth_post_ok(acct, http, acct->token_url, form, &resp, err_r);
	if (ret == OM_OK &&
	    oauth_token_parse(resp.body.data ? resp.body.data : "",
			      resp.body.len, tok_r, &error) < 0) {
		oauth_error_garbled(acct, error, err_r);
		ret = err_r->status;
	}
	http_response_free(&resp);
	return ret;
}

enum om_status oauth_form_failed(const struct account_config *acct,
				 struct oauth_error *err_r)
{
	oauth_error_transport(acct, "request too large or out of memory",
			      err_r);
	return err_r->status;
}

enum om_status oauth_grant(const struct account_config *acct,
			   struct http_client *http,
			   const struct oauth_field *fields, size_t count,
			   struct oauth_token *tok_r, struct oauth_error *err_r)
{
	struct http_form form;
	enum om_status ret;
	int bad = 0;
	size_t i;

	http_form_init(&form);
	for (i = 0; i < count && !bad; i++)
		bad = fields[i].value != NULL &&
		      http_form_add(&form, fields[i].name, fields[i].value) < 0;
	if (bad || oauth_form_add_client(&form, acct) < 0)
		ret = oauth_form_failed(acct, err_r);
	else
		ret = token_post(acct, http, &form, tok_r, err_r);
	http_form_free(&form);
	return ret;
}

enum om_status oauth_refresh(const struct account_config *acct,
			     struct http_client *http,
			     const char *refresh_token,
			     struct oauth_token *tok_r,
			     struct oauth_error *err_r)
{
	/* Microsoft: name the resource, since one refresh token serves all
	 * consented ones; Google wants no scope here */
	const struct oauth_field fields[] = {
		{"grant_type", "refresh_token"},
		{"refresh_token", refresh_token},
		{"scope",
		 acct->provider == PROVIDER_MICROSOFT ? acct->scope : NULL},
	};

	return oauth_grant(acct, http, fields,
			   sizeof(fields) / sizeof(fields[0]), tok_r, err_r);
}

enum om_status oauth_client_credentials(const struct account_config *acct,
					struct http_client *http,
					struct oauth_token *tok_r,
					struct oauth_error *err_r)
{
	const struct oauth_field fields[] = {
		{"grant_type", "client_credentials"},
		{"scope", acct->scope},
	};

	return oauth_grant(acct, http, fields,
			   sizeof(fields) / sizeof(fields[0]), tok_r, err_r);
}
