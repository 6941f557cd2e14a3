/* test_id_token.c - who signed in: the scope authorize asks for
 * (id_token_scope: openid and the claim scope per provider, never
 * twice), the identity read from an id_token (id_token_read: the claim
 * order, every claim bounded, strict base64url and JSON, the JWT shape)
 * and the compare with the account's user (id_token_match). */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "lib/strbuf.h"
#include "testlib.h"
#include "token/id_token.h"

static const struct {
	enum provider_kind provider;
	const char *scope;
	const char *want;
} scope_rows[] = {
	{PROVIDER_MICROSOFT,
	 "offline_access https://outlook.office.com/SMTP.Send",
	 "offline_access https://outlook.office.com/SMTP.Send openid profile"},
	{PROVIDER_MICROSOFT, "openid offline_access x",
	 "openid offline_access x "
	 "profile"},
	{PROVIDER_MICROSOFT, "OpenID x PROFILE", "OpenID x PROFILE"},
	{PROVIDER_MICROSOFT, "openidx profiles",
	 "openidx profiles openid "
	 "profile"},
	{PROVIDER_MICROSOFT, "a  b ", "a  b  openid profile"},
	{PROVIDER_MICROSOFT, "", "openid profile"},
	{PROVIDER_GOOGLE, "https://mail.google.com/",
	 "https://mail.google.com/ openid email"},
	{PROVIDER_GOOGLE, "email https://mail.google.com/ openid",
	 "email https://mail.google.com/ openid"},
	{PROVIDER_CUSTOM, "mail offline", "mail offline"},
	{PROVIDER_CUSTOM, "openid mail", "openid mail"},
	{PROVIDER_MICROSOFT, NULL, NULL},
};

static void test_scope(void)
{
	size_t i;

	for (i = 0; i < sizeof(scope_rows) / sizeof(scope_rows[0]); i++) {
		char *got = id_token_scope(scope_rows[i].provider,
					   scope_rows[i].scope);

		check_str(scope_rows[i].scope ? scope_rows[i].scope : "NULL",
			  got, scope_rows[i].want);
		free(got);
	}
}

/* jwt - header.base64url(payload).signature, unpadded, into buf */
static const char *jwt(const char *payload, char *buf, size_t size)
{
	struct strbuf b64;
	size_t i, n = 0;

	strbuf_init(&b64, 64 * 1024);
	if (crypto_base64_encode(payload, strlen(payload), &b64) < 0)
		return "";
	n = (size_t)snprintf(buf, size, "eyJhbGciOiJSUzI1NiJ9.");
	for (i = 0; i < b64.len && b64.data[i] != '=' && n + 1 < size; i++)
		buf[n++] = b64.data[i] == '+'	? '-'
			   : b64.data[i] == '/' ? '_'
						: b64.data[i];
	snprintf(buf + n, size - n, ".c2lnbmF0dXJl");
	strbuf_free(&b64);
	return buf;
}

#define LONG64 \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ADDR320 LONG64 LONG64 LONG64 LONG64 LONG64 /* 320 bytes */

static const struct {
	const char *what;
	const char *payload;
	const char *pref, *upn, *email; /* NULL: absent */
	const char *name;
} claim_rows[] = {
	{"Microsoft work account",
	 "{\"aud\":\"c\",\"iss\":\"https://login.microsoftonline.com/t/v2.0\","
	 "\"name\":\"Bob\",\"oid\":\"o\",\"preferred_username\":\"bob@contoso."
	 "com\",\"sub\":\"s\",\"tid\":\"t\",\"ver\":\"2.0\"}",
	 "bob@contoso.com", NULL, NULL, "bob@contoso.com"},
	{"all three: preferred_username first",
	 "{\"email\":\"e@x\",\"upn\":\"u@x\",\"preferred_username\":\"p@x\"}",
	 "p@x", "u@x", "e@x", "p@x"},
	{"upn before email", "{\"email\":\"e@x\",\"upn\":\"u@x\"}", NULL, "u@x",
	 "e@x", "u@x"},
	{"Google: email",
	 "{\"iss\":\"https://accounts.google.com\",\"email\":"
	 "\"someone@gmail.com\",\"email_verified\":true}",
	 NULL, NULL, "someone@gmail.com", "someone@gmail.com"},
	{"names nobody", "{\"sub\":\"s\",\"tid\":\"t\"}", NULL, NULL, NULL,
	 NULL},
	{"not strings: ignored",
	 "{\"preferred_username\":7,\"upn\":[\"u@x\"],\"email\":null}", NULL,
	 NULL, NULL, NULL},
	{"white space or control bytes: ignored",
	 "{\"preferred_username\":\"a b@x\",\"upn\":\"u\\u0007@x\","
	 "\"email\":\"\"}",
	 NULL, NULL, NULL, NULL},
	{"320 bytes kept, 321 ignored",
	 "{\"preferred_username\":\"" ADDR320 "a\",\"email\":\"" ADDR320 "\"}",
	 NULL, NULL, ADDR320, ADDR320},
	{"UTF-8 kept", "{\"email\":\"j\xc3\xb6rg@example.de\"}", NULL, NULL,
	 "j\xc3\xb6rg@example.de", "j\xc3\xb6rg@example.de"},
	{"- and _ in the base64url",
	 "{\"x\":\"~~~~~~~~~~~~????????????\",\"email\":\"e@x\"}", NULL, NULL,
	 "e@x", "e@x"},
};

static void test_claims(void)
{
	struct id_token_identity id;
	const char *error = NULL;
	char buf[4096];
	size_t i;

	for (i = 0; i < sizeof(claim_rows) / sizeof(claim_rows[0]); i++) {
		const char *t = jwt(claim_rows[i].payload, buf, sizeof(buf));

		if (strstr(claim_rows[i].what, "base64url") != NULL)
			check_true("the token has - and _",
				   strchr(t, '-') && strchr(t, '_'));
		if (id_token_read(t, &id, &error) < 0) {
			check_str(claim_rows[i].what, error, "(parses)");
			continue;
		}
		check_str(claim_rows[i].what, id.preferred_username,
			  claim_rows[i].pref);
		check_str(claim_rows[i].what, id.upn, claim_rows[i].upn);
		check_str(claim_rows[i].what, id.email, claim_rows[i].email);
		check_str(claim_rows[i].what, id_token_name(&id),
			  claim_rows[i].name);
		id_token_identity_free(&id);
		check_true("freed", id.preferred_username == NULL &&
					    id.upn == NULL && id.email == NULL);
	}
}

static const struct {
	const char *token; /* NULL: jwt(payload) */
	const char *payload;
	const char *want;
} bad_rows[] = {
	{"eyJhbGciOiJub25lIn0", NULL,
	 "id_token is not a JWT (header.payload.signature)"},
	{"eyJh.eyJlbWFpbCI6ImVAeCJ9", NULL,
	 "id_token is not a JWT (header.payload.signature)"},
	{"a.b.c.d.e", NULL, "id_token is not a JWT (header.payload.signature)"},
	{"eyJh..c2ln", NULL, "id_token payload is not base64url"},
	{"eyJh.eyJlbWFpbCI6ImVAeCJ9==.c2ln", NULL,
	 "id_token payload is not base64url"},
	{"eyJh.eyJlbWFp+CI6ImVAeCJ9.c2ln", NULL,
	 "id_token payload is not base64url"},
	{"eyJh.eyJlbWFpbCI6ImVAeCJ9a.c2ln", NULL,
	 "id_token payload is not base64url"},
	{NULL, "[\"preferred_username\",\"p@x\"]",
	 "id_token payload is not a JSON object"},
	{NULL, "\"p@x\"", "id_token payload is not a JSON object"},
};

static void test_bad(void)
{
	static const char *json_junk[] = {"{\"email\":\"e@x\"} {}",
					  "{\"email\":\"e@x\"", "", "\x01"};
	struct id_token_identity id;
	const char *error;
	char buf[4096];
	char *big;
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const char *t = bad_rows[i].token ? bad_rows[i].token
						  : jwt(bad_rows[i].payload,
							buf, sizeof(buf));

		error = NULL;
		check_int(t, id_token_read(t, &id, &error), -1);
		check_str(t, error, bad_rows[i].want);
		check_true("nothing kept", id_token_name(&id) == NULL);
	}
	for (i = 0; i < sizeof(json_junk) / sizeof(json_junk[0]); i++) {
		error = NULL;
		check_int(json_junk[i],
			  id_token_read(jwt(json_junk[i], buf, sizeof(buf)),
					&id, &error),
			  -1);
		check_true("says why", error != NULL);
	}
	big = malloc(ID_TOKEN_MAX + 2);
	if (big == NULL)
		return;
	memset(big, 'a', ID_TOKEN_MAX + 1);
	big[10] = '.';
	big[20] = '.';
	big[ID_TOKEN_MAX + 1] = '\0';
	check_int("over ID_TOKEN_MAX", id_token_read(big, &id, &error), -1);
	check_str("over ID_TOKEN_MAX", error, "id_token too long");
	free(big);
}

static void test_match(void)
{
	struct id_token_identity id = {0};

	id.preferred_username = "Support@Contoso.com";
	check_str("case-insensitive",
		  id_token_match(&id, "support@contoso.COM"),
		  "Support@Contoso.com");
	check_str("another mailbox", id_token_match(&id, "bob@contoso.com"),
		  NULL);
	check_str("not a prefix", id_token_match(&id, "support@contoso.c"),
		  NULL);
	id.preferred_username = "alias@contoso.onmicrosoft.com";
	id.email = "support@contoso.com";
	check_str("a UPN that is not the address: the email matches",
		  id_token_match(&id, "support@contoso.com"),
		  "support@contoso.com");
	id.preferred_username = NULL;
	id.email = NULL;
	id.upn = "u@x";
	check_str("the upn matches too", id_token_match(&id, "U@X"), "u@x");
	id.upn = NULL;
	check_str("no claims: no match", id_token_match(&id, "x@y"), NULL);
}

int main(void)
{
	test_scope();
	test_claims();
	test_bad();
	test_match();
	return test_done("test_id_token");
}
