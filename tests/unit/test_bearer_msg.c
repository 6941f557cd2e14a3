/* test_bearer_msg.c - XOAUTH2/OAUTHBEARER messages against the published
 * test vectors (Microsoft, Google, RFC 7628), error challenges */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/strbuf.h"
#include "token/bearer_msg.h"
#include "testlib.h"

/* b64 - base64 of (data, len) in a static buffer (test helper only) */
static const char *b64(const char *data, size_t len)
{
	static char out[4096];

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data,
			(int)len);
	return out;
}

static const struct {
	const char *user, *token, *want_b64;
} xoauth2_vectors[] = {
	{"test@contoso.onmicrosoft.com",
	 "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA",
	 "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3Qk"
	 "FBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ=="},
	{"someuser@example.com",
	 "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
	 "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdD"
	 "RxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="},
};

static void test_xoauth2_vectors(void)
{
	struct strbuf sb;
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(xoauth2_vectors) / sizeof(xoauth2_vectors[0]);
	     i++) {
		strbuf_init(&sb, 65536);
		check_int("xoauth2 encode",
			  bearer_msg_xoauth2(xoauth2_vectors[i].user,
					     xoauth2_vectors[i].token, &sb,
					     &error),
			  0);
		check_str("xoauth2 vector", b64(sb.data, sb.len),
			  xoauth2_vectors[i].want_b64);
		strbuf_free(&sb);
	}
}

static void test_oauthbearer_vector(void)
{
	struct strbuf sb;
	const char *error;

	strbuf_init(&sb, 65536);
	check_int("oauthbearer encode",
		  bearer_msg_oauthbearer(
			  "user@example.com", "server.example.com", 143,
			  "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", &sb,
			  &error),
		  0);
	check_str("RFC 7628 4.1 vector", b64(sb.data, sb.len),
		  "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29t"
		  "AXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQm"
		  "hiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
	strbuf_reset(&sb);
	check_int("oauthbearer escapes",
		  bearer_msg_oauthbearer("a,b=c", NULL, 0, "tok", &sb, &error),
		  0);
	check_str("gs2 escaping, no host/port", sb.data,
		  "n,a=a=2Cb=3Dc,\001auth=Bearer tok\001\001");
	strbuf_reset(&sb);
	check_int("oauthbearer no authzid",
		  bearer_msg_oauthbearer(NULL, "h", 0, "tok", &sb, &error), 0);
	check_str("no authzid", sb.data,
		  "n,,\001host=h\001auth=Bearer tok\001\001");
	strbuf_free(&sb);
}

static const struct {
	const char *user, *token;
	int want;
} refuse_rows[] = {
	{"alice@example.test", "at-1", 0},
	{"alice@example.test", "eyJ0eXAi.eyJzdWIi.c2ln", 0},
	{"alice@example.test", "abc==", 0},
	{"alice@example.test", "", -1},
	{"alice@example.test", "has space", -1},
	{"alice@example.test", "ctl\001", -1},
	{"alice@example.test", "==abc", -1},
	{"alice@example.test", "ab=c", -1},
	{"alice@example.test", "tok:x", -1},
	{"", "at-1", -1},
	{"bad\001user", "at-1", -1},
	{"bad\nuser", "at-1", -1},
};

static void test_refusals(void)
{
	struct strbuf sb;
	const char *error = NULL;
	char what[160];
	size_t i;
	int got;

	for (i = 0; i < sizeof(refuse_rows) / sizeof(refuse_rows[0]); i++) {
		strbuf_init(&sb, 65536);
		got = bearer_msg_xoauth2(refuse_rows[i].user,
					 refuse_rows[i].token, &sb, &error);
		snprintf(what, sizeof(what), "xoauth2 row %zu", i);
		check_int(what, got, refuse_rows[i].want);
		if (got < 0)
			check_true(
				"error names no token",
				error != NULL &&
					(refuse_rows[i].token[0] == '\0' ||
					 strstr(error, refuse_rows[i].token) ==
						 NULL));
		strbuf_free(&sb);
	}
}

static void test_token_limits(void)
{
	char *big = malloc(BEARER_TOKEN_MAX + 2);

	memset(big, 'a', BEARER_TOKEN_MAX + 1);
	big[BEARER_TOKEN_MAX + 1] = '\0';
	check_int("too long token", bearer_msg_token_ok(big), 0);
	big[BEARER_TOKEN_MAX] = '\0';
	check_int("longest token", bearer_msg_token_ok(big), 1);
	check_int("NULL token", bearer_msg_token_ok(NULL), 0);
	free(big);
}

static const struct {
	const char *json, *status, *scope;
	int want;
} error_rows[] = {
	{"{\"status\":\"401\",\"schemes\":\"bearer mac\",\"scope\":"
	 "\"https://mail.google.com/\"}\n",
	 "401", "https://mail.google.com/", 0},
	{"{\"status\":\"invalid_token\",\"scope\":\"example_scope\","
	 "\"openid-configuration\":\"https://example.com/.well-known/x\"}",
	 "invalid_token", "example_scope", 0},
	{"{\"status\":400}", "400", "", 0},
	{"{}", "", "", 0},
	{"[1,2]", "", "", -1},
	{"not json", "", "", -1},
	{"{\"status\":\"401\"} trailing", "", "", -1},
	{"", "", "", -1},
	{"{\"status\":\"4\\u00010\"}", "4?0", "", 0},
};

static void test_error_challenge(void)
{
	struct bearer_error err;
	size_t i;

	for (i = 0; i < sizeof(error_rows) / sizeof(error_rows[0]); i++) {
		check_int(error_rows[i].json,
			  bearer_msg_error(error_rows[i].json,
					   strlen(error_rows[i].json), &err),
			  error_rows[i].want);
		if (error_rows[i].want == 0) {
			check_str("status", err.status, error_rows[i].status);
			check_str("scope", err.scope, error_rows[i].scope);
		}
	}
	check_str("error text", bearer_msg_error_text(&err), "status 4?0");
}

int main(void)
{
	test_xoauth2_vectors();
	test_oauthbearer_vector();
	test_refusals();
	test_token_limits();
	test_error_challenge();
	return test_done("test_bearer_msg");
}
