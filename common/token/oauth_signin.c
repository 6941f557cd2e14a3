/*
 * oauth_signin.c - the interactive sign-in flows of `oauthmail
 * authorize`: the authorization code grant with PKCE (the browser URL
 * and redeeming the code the redirect brought back, oauth_redirect.c),
 * and the device code flow for headless servers (ask for a user code,
 * poll the token endpoint until the user signed in).
 *
 * Built on the token endpoint engine of oauth_grant.c; linked by the
 * oauthmail program only, never by the SASL plugin.  Answers are
 * outside input and bounded like every token answer; nothing here logs
 * a token, code or secret.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "token/http.h"
#include "token/oauth_signin.h"
#include "token/oauthmail_conf.h"

#define TOKEN_FIELD_MAX (16 * 1024)
#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

/* missing_key - the first key a flow needs that acct lacks, or NULL
 * (device: the device flow, else the authorization code flow) */
static const char *missing_key(const struct account_config *acct, int device)
{
	if (device && acct->device_url == NULL)
		return "device_url";
	if (!device && acct->authorize_url == NULL)
		return "authorize_url";
	if (acct->token_url == NULL)
		return "token_url";
	if (acct->client_id == NULL)
		return "client_id";
	if (acct->scope == NULL)
		return "scope";
	return NULL;
}

enum om_status oauth_redeem_code(const struct account_config *acct,
				 struct http_client *http, const char *code,
				 const char *verifier, const char *redirect_uri,
				 struct oauth_token *tok_r,
				 struct oauth_error *err_r)
{
	const struct oauth_field fields[] = {
		{"grant_type", "authorization_code"},
		{"code", code},
		{"redirect_uri", redirect_uri},
		{"code_verifier", verifier},
		{"scope", acct->scope},
	};

	return oauth_grant(acct, http, fields,
			   sizeof(fields) / sizeof(fields[0]), tok_r, err_r);
}

static int device_parse(const char *body, size_t len, struct oauth_device *dev,
			const char **error_r)
{
	cJSON *root = json_parse(body, len, error_r);
	int bad = 0;

	if (root == NULL)
		return -1;
	dev->device_code =
		json_string_dup(root, "device_code", TOKEN_FIELD_MAX, &bad);
	dev->user_code = json_string_dup(root, "user_code", 64, &bad);
	dev->verification_uri =
		json_string_dup(root, "verification_uri", 512, &bad);
	if (dev->verification_uri == NULL) /* Google's name for it */
		dev->verification_uri =
			json_string_dup(root, "verification_url", 512, &bad);
	dev->message = json_string_dup(root, "message", 1024, &bad);
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
	if ((error = missing_key(acct, 1)) != NULL) {
		oauth_error_missing(acct, error, err_r);
		return err_r->status;
	}
	http_form_init(&form);
	if (http_form_add(&form, "client_id", acct->client_id) < 0 ||
	    http_form_add(&form, "scope", acct->scope) < 0) {
		http_form_free(&form);
		return oauth_form_failed(acct, err_r);
	}
	http_response_init(&resp);
	ret = oauth_post_ok(acct, http, acct->device_url, &form, &resp, err_r);
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

	if ((error = missing_key(acct, 1)) != NULL ||
	    (dev->device_code == NULL && (error = "device_code") != NULL)) {
		oauth_error_missing(acct, error, err_r);
		return OAUTH_POLL_FAILED;
	}
	http_form_init(&form);
	http_response_init(&resp);
	if (http_form_add(&form, "grant_type", DEVICE_GRANT) < 0 ||
	    oauth_form_add_client(&form, acct) < 0 ||
	    http_form_add(&form, "device_code", dev->device_code) < 0) {
		oauth_form_failed(acct, err_r);
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
	struct oauth_error err;
	struct strbuf url;
	const char *key;
	int bad;

	if ((key = missing_key(acct, 0)) != NULL) {
		oauth_error_missing(acct, key, &err);
		log_error("%s", err.message);
		return -1;
	}
	if (redirect_uri == NULL || state == NULL || challenge == NULL)
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
