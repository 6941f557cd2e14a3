/*
 * bearer_msg.c - build the client responses of the XOAUTH2 (Google,
 * Microsoft) and OAUTHBEARER (RFC 7628) SASL mechanisms, and read the
 * JSON error challenge a server sends when it refuses a token.
 *
 * Rules: the output is the raw message; the caller (Cyrus SASL, or the
 * protocol code) base64-encodes it.  A user or token that would break
 * the framing (the ^A separator, control bytes, a token that is not an
 * RFC 6750 b64token) is refused, never sent.  Error text never contains
 * the token.  The challenge parser is fed outside input: bounded, strict
 * JSON (cJSON with a length), fields cut to fixed sizes.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "token/bearer_msg.h"

#define CHALLENGE_MAX 8192

static int b64token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == '+' || c == '/';
}

int bearer_msg_token_ok(const char *token)
{
	size_t i = 0, n;

	if (token == NULL)
		return 0;
	n = strnlen(token, BEARER_TOKEN_MAX + 1);
	if (n == 0 || n > BEARER_TOKEN_MAX)
		return 0;
	while (i < n && b64token_char((unsigned char)token[i]))
		i++;
	if (i == 0)
		return 0;
	while (i < n && token[i] == '=')
		i++;
	return i == n;
}

/* user_ok - printable text without the separator or a NUL, not too long */
static int user_ok(const char *user)
{
	size_t i, n = strnlen(user, BEARER_USER_MAX + 1);

	if (n > BEARER_USER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			return 0;
	return 1;
}

static int check_input(const char *user, const char *token,
		       const char **error_r)
{
	if (user != NULL && !user_ok(user)) {
		*error_r = errorf("user name '%s' cannot be sent (control "
				  "characters or longer than %d bytes)",
				  printable(user, 80), BEARER_USER_MAX);
		return -1;
	}
	if (!bearer_msg_token_ok(token)) {
		*error_r = "the access token is not a bearer token (empty, "
			   "too long, or has characters RFC 6750 forbids)";
		return -1;
	}
	return 0;
}

int bearer_msg_xoauth2(const char *user, const char *token, struct strbuf *out,
		       const char **error_r)
{
	if (user == NULL || *user == '\0') {
		*error_r = "XOAUTH2 needs a user name (the mailbox address)";
		return -1;
	}
	if (check_input(user, token, error_r) < 0)
		return -1;
	if (strbuf_printf(out, "user=%s\001auth=Bearer %s\001\001", user,
			  token) < 0) {
		*error_r = "XOAUTH2 response too long";
		return -1;
	}
	return 0;
}

/* gs2_authzid - append authzid with ',' -> "=2C" and '=' -> "=3D" */
static int gs2_authzid(struct strbuf *out, const char *authzid)
{
	const char *p;
	int ret = 0;

	for (p = authzid; *p != '\0' && ret == 0; p++) {
		if (*p == ',')
			ret = strbuf_append_str(out, "=2C");
		else if (*p == '=')
			ret = strbuf_append_str(out, "=3D");
		else
			ret = strbuf_append(out, p, 1);
	}
	return ret;
}

static int oauthbearer_head(struct strbuf *out, const char *authzid,
			    const char *host, unsigned int port)
{
	int ret = strbuf_append_str(out, "n,");

	if (ret == 0 && authzid != NULL && *authzid != '\0') {
		ret = strbuf_append_str(out, "a=");
		if (ret == 0)
			ret = gs2_authzid(out, authzid);
	}
	if (ret == 0)
		ret = strbuf_append_str(out, ",\001");
	if (ret == 0 && host != NULL && *host != '\0')
		ret = strbuf_printf(out, "host=%s\001", host);
	if (ret == 0 && port != 0)
		ret = strbuf_printf(out, "port=%u\001", port);
	return ret;
}

int bearer_msg_oauthbearer(const char *authzid, const char *host,
			   unsigned int port, const char *token,
			   struct strbuf *out, const char **error_r)
{
	if (check_input(authzid, token, error_r) < 0)
		return -1;
	if (host != NULL && !user_ok(host)) {
		*error_r = "server host name cannot be sent";
		return -1;
	}
	if (port > 65535) {
		*error_r = "server port out of range";
		return -1;
	}
	if (oauthbearer_head(out, authzid, host, port) < 0 ||
	    strbuf_printf(out, "auth=Bearer %s\001\001", token) < 0) {
		*error_r = "OAUTHBEARER response too long";
		return -1;
	}
	return 0;
}

/* copy_field - a string or number member of obj into buf, cut to size */
static void copy_field(const cJSON *obj, const char *name, char *buf,
		       size_t size)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	buf[0] = '\0';
	if (cJSON_IsString(item) && item->valuestring != NULL)
		snprintf(buf, size, "%s",
			 printable(item->valuestring, size - 1));
	else if (cJSON_IsNumber(item))
		snprintf(buf, size, "%.0f", item->valuedouble);
}

int bearer_msg_error(const char *data, size_t len, struct bearer_error *err_r)
{
	const char *error;
	cJSON *root;

	memset(err_r, 0, sizeof(*err_r));
	if (data == NULL || len == 0 || len > CHALLENGE_MAX)
		return -1;
	/* json_parse allows the newline some servers end the JSON with */
	root = json_parse(data, len, &error);
	if (root == NULL || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -1;
	}
	copy_field(root, "status", err_r->status, sizeof(err_r->status));
	copy_field(root, "schemes", err_r->schemes, sizeof(err_r->schemes));
	copy_field(root, "scope", err_r->scope, sizeof(err_r->scope));
	cJSON_Delete(root);
	return 0;
}

const char *bearer_msg_error_text(const struct bearer_error *err)
{
	return errorf("status %s%s%s", err->status[0] ? err->status : "?",
		      err->scope[0] ? ", scope " : "", err->scope);
}
