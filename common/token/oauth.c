/*
 * oauth.c - the OAuth 2.0 client side: every grant oauthmail uses
 * (authorization code + PKCE, refresh token with rotation, client
 * credentials, device code) against the account's token endpoint.
 *
 * Requests are form bodies built by http.c (URL-encoded, wiped after
 * use).  Answers are outside input: a 200 must parse as a token with
 * bounded fields; anything else becomes a struct oauth_error whose
 * message names the account, the provider's code, its meaning and the
 * fix (oauth_error.c).  Nothing here logs a token, code or secret.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "token/oauthmail_conf.h"
#include "lib/errorf.h"
#include "token/http.h"
#include "lib/json.h"
#include "lib/log.h"
#include "token/oauth.h"

#define TOKEN_FIELD_MAX (16 * 1024)
#define SCOPE_MAX 2048
#define YEAR_SECONDS (366LL * 24 * 3600)
#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

static char *dup_field(const cJSON *root, const char *key, size_t max, int *bad)
{
	const char *v;
	char *copy;

	if (!json_has(root, key))
		return NULL;
	v = json_string(root, key, max);
	if (v == NULL || *v == '\0') {
		*bad = 1;
		return NULL;
	}
	copy = strdup(v);
	if (copy == NULL)
		*bad = 1;
	return copy;
}

static int token_chars_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int oauth_token_parse(const char *body, size_t len, struct oauth_token *tok_r,
		      const char **error_r)
{
	struct oauth_token tok = {0};
	const char *type;
	cJSON *root;
	int bad = 0;

	root = json_parse(body, len, error_r);
	if (root == NULL)
		return -1;
	if (!cJSON_IsObject(root)) {
		*error_r = "token answer is not a JSON object";
		goto fail;
	}
	type = json_string(root, "token_type", 32);
	tok.access_token =
		dup_field(root, "access_token", TOKEN_FIELD_MAX, &bad);
	tok.refresh_token =
		dup_field(root, "refresh_token", TOKEN_FIELD_MAX, &bad);
	tok.scope = dup_field(root, "scope", SCOPE_MAX, &bad);
	if (bad || tok.access_token == NULL ||
	    !token_chars_ok(tok.access_token) ||
	    (tok.refresh_token != NULL && !token_chars_ok(tok.refresh_token))) {
		*error_r = "token answer has no usable access_token";
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
}

static int add_client_auth(struct http_form *form,
			   const struct account_config *acct)
{
	if (http_form_add(form, "client_id", acct->client_id) < 0)
		return -1;
	if (acct->client_secret != NULL &&
	    http_form_add(form, "client_secret", acct->client_secret) < 0)
		return -1;
	return 0;
}

/* post_expect_ok - POST the form to url; anything but a 200 answer is
   turned into err_r (transport failure or the provider's error body) */
static enum om_status post_expect_ok(const struct account_config *acct,
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
		oauth_error_from_response(acct, resp->status, resp->body.data,
					  resp->body.len, resp->retry_after,
					  err_r);
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
	ret = post_expect_ok(acct, http, acct->token_url, form, &resp, err_r);
	if (ret == OM_OK &&
	    oauth_token_parse(resp.body.data ? resp.body.data : "",
			      resp.body.len, tok_r, &error) < 0) {
		oauth_error_garbled(acct, error, err_r);
		ret = err_r->status;
	}
	http_response_free(&resp);
	return ret;
}

static enum om_status form_failed(const struct account_config *acct,
				  struct oauth_error *err_r)
{
	oauth_error_transport(acct, "request too large or out of memory",
			      err_r);
	return err_r->status;
}

/* One name=value pair of a token request; a NULL value is left out. */
struct form_field {
	const char *name;
	const char *value;
};

/* grant - a token request: the fields, the client's credentials, POST */
static enum om_status grant(const struct account_config *acct,
			    struct http_client *http,
			    const struct form_field *fields, size_t count,
			    struct oauth_token *tok_r,
			    struct oauth_error *err_r)
{
	struct http_form form;
	enum om_status ret;
	int bad = 0;
	size_t i;

	http_form_init(&form);
	for (i = 0; i < count && !bad; i++)
		bad = fields[i].value != NULL &&
		      http_form_add(&form, fields[i].name, fields[i].value) < 0;
	if (bad || add_client_auth(&form, acct) < 0)
		ret = form_failed(acct, err_r);
	else
		ret = token_post(acct, http, &form, tok_r, err_r);
	http_form_free(&form);
	return ret;
}

enum om_status oauth_redeem_code(const struct account_config *acct,
				 struct http_client *http, const char *code,
				 const char *verifier, const char *redirect_uri,
				 struct oauth_token *tok_r,
				 struct oauth_error *err_r)
{
	const struct form_field fields[] = {
		{"grant_type", "authorization_code"},
		{"code", code},
		{"redirect_uri", redirect_uri},
		{"code_verifier", verifier},
		{"scope", acct->scope},
	};

	return grant(acct, http, fields, sizeof(fields) / sizeof(fields[0]),
		     tok_r, err_r);
}

enum om_status oauth_refresh(const struct account_config *acct,
			     struct http_client *http,
			     const char *refresh_token,
			     struct oauth_token *tok_r,
			     struct oauth_error *err_r)
{
	/* Microsoft: name the resource, since one refresh token serves all
	 * consented ones; Google wants no scope here */
	const struct form_field fields[] = {
		{"grant_type", "refresh_token"},
		{"refresh_token", refresh_token},
		{"scope",
		 acct->provider == PROVIDER_MICROSOFT ? acct->scope : NULL},
	};

	return grant(acct, http, fields, sizeof(fields) / sizeof(fields[0]),
		     tok_r, err_r);
}

enum om_status oauth_client_credentials(const struct account_config *acct,
					struct http_client *http,
					struct oauth_token *tok_r,
					struct oauth_error *err_r)
{
	const struct form_field fields[] = {
		{"grant_type", "client_credentials"},
		{"scope", acct->scope},
	};

	return grant(acct, http, fields, sizeof(fields) / sizeof(fields[0]),
		     tok_r, err_r);
}

static int device_parse(const char *body, size_t len, struct oauth_device *dev,
			const char **error_r)
{
	cJSON *root = json_parse(body, len, error_r);
	int bad = 0;

	if (root == NULL)
		return -1;
	dev->device_code =
		dup_field(root, "device_code", TOKEN_FIELD_MAX, &bad);
	dev->user_code = dup_field(root, "user_code", 64, &bad);
	dev->verification_uri = dup_field(root, "verification_uri", 512, &bad);
	if (dev->verification_uri == NULL) /* Google's name for it */
		dev->verification_uri =
			dup_field(root, "verification_url", 512, &bad);
	dev->message = dup_field(root, "message", 1024, &bad);
	if (json_long(root, "expires_in", 1, 86400, &dev->expires_in) < 0)
		bad = 1;
	if (!json_has(root, "interval"))
		dev->interval = 5;
	else if (json_long(root, "interval", 1, 300, &dev->interval) < 0)
		bad = 1;
	json_delete_wiped(root);
	if (bad || dev->device_code == NULL || dev->user_code == NULL ||
	    dev->verification_uri == NULL) {
		*error_r = "device endpoint answer lacks device_code, "
			   "user_code, verification_uri or expires_in";
		oauth_device_free(dev);
		return -1;
	}
	return 0;
}

enum om_status oauth_device_start(const struct account_config *acct,
				  struct http_client *http,
				  struct oauth_device *dev_r,
				  struct oauth_error *err_r)
{
	struct http_response resp;
	struct http_form form;
	const char *error;
	enum om_status ret;

	memset(dev_r, 0, sizeof(*dev_r));
	if (acct->device_url == NULL) {
		oauth_error_transport(acct, "no device_url for this provider",
				      err_r);
		return err_r->status = OM_ERR_CONFIG;
	}
	http_form_init(&form);
	if (http_form_add(&form, "client_id", acct->client_id) < 0 ||
	    http_form_add(&form, "scope", acct->scope) < 0) {
		http_form_free(&form);
		return form_failed(acct, err_r);
	}
	http_response_init(&resp);
	ret = post_expect_ok(acct, http, acct->device_url, &form, &resp, err_r);
	if (ret == OM_OK &&
	    device_parse(resp.body.data, resp.body.len, dev_r, &error) < 0) {
		oauth_error_transport(acct, error, err_r);
		ret = err_r->status;
	}
	http_form_free(&form);
	http_response_free(&resp);
	return ret;
}

static enum oauth_poll poll_result(const struct account_config *acct,
				   const struct http_response *resp,
				   struct oauth_error *err_r)
{
	oauth_error_from_response(acct, resp->status, resp->body.data,
				  resp->body.len, resp->retry_after, err_r);
	if (strcmp(err_r->error, "authorization_pending") == 0)
		return OAUTH_POLL_PENDING;
	if (strcmp(err_r->error, "slow_down") == 0)
		return OAUTH_POLL_SLOW_DOWN;
	if (resp->status >= 500 || resp->status == 429)
		return OAUTH_POLL_PENDING; /* transient: keep polling */
	if (strcmp(err_r->error, "expired_token") == 0 ||
	    strcmp(err_r->error, "code_expired") == 0)
		snprintf(err_r->message, sizeof(err_r->message),
			 "account %s: the device code expired before sign-in "
			 "finished. Fix: run oauthmail authorize %s --device "
			 "again and sign in within the time shown",
			 acct->name, acct->name);
	else if (strcmp(err_r->error, "authorization_declined") == 0 ||
		 strcmp(err_r->error, "access_denied") == 0)
		snprintf(err_r->message, sizeof(err_r->message),
			 "account %s: sign-in was declined. Fix: run oauthmail "
			 "authorize %s --device again and accept",
			 acct->name, acct->name);
	return OAUTH_POLL_FAILED;
}

enum oauth_poll oauth_device_poll(const struct account_config *acct,
				  struct http_client *http,
				  const struct oauth_device *dev,
				  struct oauth_token *tok_r,
				  struct oauth_error *err_r)
{
	struct http_response resp;
	struct http_form form;
	const char *error;
	enum oauth_poll ret = OAUTH_POLL_DONE;

	http_form_init(&form);
	http_response_init(&resp);
	if (http_form_add(&form, "grant_type", DEVICE_GRANT) < 0 ||
	    add_client_auth(&form, acct) < 0 ||
	    http_form_add(&form, "device_code", dev->device_code) < 0) {
		form_failed(acct, err_r);
		ret = OAUTH_POLL_FAILED;
	} else if (http_post_form(http, acct->token_url, &form, &resp, &error) <
		   0) {
		oauth_error_transport(acct, error, err_r);
		ret = OAUTH_POLL_PENDING; /* network blip: poll again */
	} else if (resp.status != 200) {
		ret = poll_result(acct, &resp, err_r);
	} else if (oauth_token_parse(resp.body.data, resp.body.len, tok_r,
				     &error) < 0) {
		oauth_error_garbled(acct, error, err_r);
		ret = OAUTH_POLL_FAILED;
	}
	http_form_free(&form);
	http_response_free(&resp);
	return ret;
}

void oauth_device_free(struct oauth_device *dev)
{
	wipe_free_str(&dev->device_code);
	free(dev->user_code);
	free(dev->verification_uri);
	free(dev->message);
	memset(dev, 0, sizeof(*dev));
}

static int add_param(struct strbuf *url, const char *key, const char *value)
{
	const char *sep = strchr(url->data, '?') != NULL ? "&" : "?";

	if (strbuf_append_str(url, sep) < 0 ||
	    strbuf_append_str(url, key) < 0 || strbuf_append(url, "=", 1) < 0)
		return -1;
	return http_url_encode(url, value);
}

int oauth_authorize_url(const struct account_config *acct,
			const char *redirect_uri, const char *state,
			const char *challenge, char **url_r)
{
	struct strbuf url;
	int bad;

	if (acct->authorize_url == NULL)
		return -1;
	strbuf_init(&url, 16 * 1024);
	bad = strbuf_append_str(&url, acct->authorize_url) < 0 ||
	      add_param(&url, "client_id", acct->client_id) < 0 ||
	      add_param(&url, "response_type", "code") < 0 ||
	      add_param(&url, "redirect_uri", redirect_uri) < 0 ||
	      add_param(&url, "response_mode", "query") < 0 ||
	      add_param(&url, "scope", acct->scope) < 0 ||
	      add_param(&url, "state", state) < 0 ||
	      add_param(&url, "code_challenge", challenge) < 0 ||
	      add_param(&url, "code_challenge_method", "S256") < 0 ||
	      (acct->user != NULL &&
	       add_param(&url, "login_hint", acct->user) < 0) ||
	      (acct->provider == PROVIDER_GOOGLE &&
	       (add_param(&url, "access_type", "offline") < 0 ||
		add_param(&url, "prompt", "consent") < 0));
	if (bad) {
		strbuf_free(&url);
		return -1;
	}
	*url_r = strbuf_steal(&url);
	return 0;
}
