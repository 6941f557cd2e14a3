/*
 * id_token.c - who signed in, for `oauthmail authorize`: the scope that
 * asks the provider for an OpenID Connect id_token naming the user, and
 * the name read from that id_token (preferred_username, upn, email), so
 * a consent given while signed in as another mailbox is caught before
 * its grant is saved.
 *
 * The signature is deliberately not checked.  The id_token is read only
 * from the token endpoint's own answer, fetched by us over TLS with the
 * certificate verified (http.c), in the same answer as the access token
 * it describes: whoever could forge it could forge the access token
 * too.  It is used to catch a human mistake (the wrong account in the
 * browser), never to grant access; it is not kept (only the name is).
 *
 * The id_token is outside input all the same: at most ID_TOKEN_MAX
 * bytes, three dot-separated parts, a payload of strict base64url
 * (decoded by OpenSSL, crypto.c) holding one JSON object (cJSON, strict),
 * each claim a string of at most ID_TOKEN_NAME_MAX bytes without white
 * space or control bytes; a claim that is not is ignored.
 */
#include "oauthmail-config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/crypto.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "token/id_token.h"

#define SCOPE_MAX 8192

static int has_scope(const char *scope, const char *name)
{
	size_t n = strlen(name), len;
	const char *p = scope;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (len == n && strncasecmp(p, name, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

char *id_token_scope(enum provider_kind provider, const char *scope)
{
	static const char *const microsoft[] = {"openid", "profile", NULL};
	static const char *const google[] = {"openid", "email", NULL};
	const char *const *add = provider == PROVIDER_MICROSOFT ? microsoft
				 : provider == PROVIDER_GOOGLE	? google
								: NULL;
	struct strbuf out;
	int bad;

	if (scope == NULL)
		return NULL;
	strbuf_init(&out, SCOPE_MAX);
	bad = strbuf_append_str(&out, scope) < 0;
	for (; add != NULL && *add != NULL && !bad; add++)
		if (!has_scope(scope, *add))
			bad = (out.len > 0 &&
			       strbuf_append(&out, " ", 1) < 0) ||
			      strbuf_append_str(&out, *add) < 0;
	if (bad) {
		strbuf_free(&out);
		return NULL;
	}
	return strbuf_steal(&out);
}

/* decode_base64url - one JWT part (unpadded base64url) into out */
static int decode_base64url(const char *text, size_t len, struct strbuf *out)
{
	struct strbuf std;
	size_t i;
	int ret = -1;

	if (len == 0 || len % 4 == 1)
		return -1;
	strbuf_init(&std, ID_TOKEN_MAX + 4);
	for (i = 0; i < len; i++) {
		char c = text[i];

		if (!isalnum((unsigned char)c) && c != '-' && c != '_')
			goto out;
		c = c == '-' ? '+' : c == '_' ? '/' : c;
		if (strbuf_append(&std, &c, 1) < 0)
			goto out;
	}
	while (std.len % 4 != 0)
		if (strbuf_append(&std, "=", 1) < 0)
			goto out;
	ret = crypto_base64_decode(std.data, std.len, out);
out:
	strbuf_free(&std);
	return ret;
}

/* payload_part - the middle of header.payload.signature */
static int payload_part(const char *jwt, const char **start_r, size_t *len_r)
{
	const char *dot1 = strchr(jwt, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;

	if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		return -1;
	*start_r = dot1 + 1;
	*len_r = (size_t)(dot2 - dot1 - 1);
	return 0;
}

static int name_ok(const char *v)
{
	if (v == NULL || *v == '\0')
		return 0;
	for (; *v != '\0'; v++)
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v == 0x7f)
			return 0;
	return 1;
}

/* claim_dup - a copy of a usable claim; NULL when absent or unusable,
 * with *oom set when memory ran out */
static char *claim_dup(const cJSON *payload, const char *key, int *oom)
{
	const char *v = json_string(payload, key, ID_TOKEN_NAME_MAX);
	char *copy;

	if (!name_ok(v))
		return NULL;
	if ((copy = strdup(v)) == NULL)
		*oom = 1;
	return copy;
}

static int read_claims(const struct strbuf *json, struct id_token_identity *id,
		       const char **error_r)
{
	cJSON *payload =
		json_parse(json->data ? json->data : "", json->len, error_r);
	int oom = 0;

	if (payload == NULL)
		return -1;
	if (!cJSON_IsObject(payload)) {
		*error_r = "id_token payload is not a JSON object";
		json_delete_wiped(payload);
		return -1;
	}
	id->preferred_username = claim_dup(payload, "preferred_username", &oom);
	id->upn = claim_dup(payload, "upn", &oom);
	id->email = claim_dup(payload, "email", &oom);
	json_delete_wiped(payload);
	if (oom) {
		*error_r = "out of memory";
		id_token_identity_free(id);
		return -1;
	}
	return 0;
}

int id_token_read(const char *id_token, struct id_token_identity *id_r,
		  const char **error_r)
{
	struct strbuf json;
	const char *part;
	size_t len;
	int ret;

	memset(id_r, 0, sizeof(*id_r));
	if (strlen(id_token) > ID_TOKEN_MAX) {
		*error_r = "id_token too long";
		return -1;
	}
	if (payload_part(id_token, &part, &len) < 0) {
		*error_r = "id_token is not a JWT (header.payload.signature)";
		return -1;
	}
	strbuf_init(&json, ID_TOKEN_MAX);
	if (decode_base64url(part, len, &json) < 0) {
		*error_r = "id_token payload is not base64url";
		ret = -1;
	} else {
		ret = read_claims(&json, id_r, error_r);
	}
	strbuf_free(&json);
	return ret;
}

const char *id_token_name(const struct id_token_identity *id)
{
	if (id->preferred_username != NULL)
		return id->preferred_username;
	return id->upn != NULL ? id->upn : id->email;
}

const char *id_token_match(const struct id_token_identity *id,
			   const char *address)
{
	const char *claims[] = {id->preferred_username, id->upn, id->email};
	size_t i;

	for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++)
		if (claims[i] != NULL && strcasecmp(claims[i], address) == 0)
			return claims[i];
	return NULL;
}

void id_token_identity_free(struct id_token_identity *id)
{
	free(id->preferred_username);
	free(id->upn);
	free(id->email);
	memset(id, 0, sizeof(*id));
}
