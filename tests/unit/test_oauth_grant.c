/* test_oauth_grant.c - token answers, provider errors turned into messages,
 * redirect parsing, and the token file format */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "token/oauth_grant.h"
#include "token/oauth_redirect.h"
#include "token/oauthmail_conf.h"
#include "testlib.h"
#include "token/token_store.h"

struct token_case {
	const char *body;
	int ok;
	const char *refresh; /* expected refresh_token, NULL = none */
	long long expires_in;
};

static const struct token_case token_cases[] = {
	{"{\"token_type\":\"Bearer\",\"scope\":\"https://outlook.office.com/"
	 "SMTP.Send\",\"expires_in\":3599,\"ext_expires_in\":3599,"
	 "\"access_token\":\"EwBAAl3B\",\"refresh_token\":\"0.AYEA\"}",
	 1, "0.AYEA", 3599},
	{"{\"access_token\":\"ya29.x\",\"expires_in\":\"3600\","
	 "\"token_type\":\"bearer\"}",
	 1, NULL, 3600},
	{"{\"token_type\":\"Bearer\",\"expires_in\":3599}", 0, NULL, 0},
	{"{\"access_token\":\"\",\"expires_in\":3599}", 0, NULL, 0},
	{"{\"access_token\":\"a b\",\"expires_in\":3599}", 0, NULL, 0},
	{"{\"access_token\":\"x\",\"expires_in\":0}", 0, NULL, 0},
	{"{\"access_token\":\"x\",\"expires_in\":99999999999}", 0, NULL, 0},
	{"{\"access_token\":\"x\"}", 0, NULL, 0},
	{"{\"access_token\":\"x\",\"expires_in\":60,\"token_type\":\"mac\"}", 0,
	 NULL, 0},
	{"{\"access_token\":7,\"expires_in\":60}", 0, NULL, 0},
	{"{\"access_token\":\"x\",\"expires_in\":60,\"refresh_token\":5}", 0,
	 NULL, 0},
	{"[\"access_token\"]", 0, NULL, 0},
	{"<html><body>Service Unavailable</body></html>", 0, NULL, 0},
};

static void test_token_parse(void)
{
	struct oauth_token tok;
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]); i++) {
		const struct token_case *c = &token_cases[i];
		int ret;

		memset(&tok, 0, sizeof(tok));
		ret = oauth_token_parse(c->body, strlen(c->body), &tok, &error);
		check_int(c->body, ret == 0, c->ok);
		if (ret == 0) {
			check_str("refresh", tok.refresh_token, c->refresh);
			check_int("expires_in", tok.expires_in, c->expires_in);
		}
		oauth_token_free(&tok);
	}
}

struct error_case {
	long status;
	const char *body;
	enum om_status want;
	const char *want_in_message;
};

#define AAD(err, code, text)                                                   \
	"{\"error\":\"" err "\",\"error_description\":\"AADSTS" code ": " text \
	"\\r\\nTrace ID: 6e94ade5\\r\\nCorrelation ID: 0e87b495\\r\\n"         \
	"Timestamp: 2020-07-06 22:31:52Z\",\"error_codes\":[" code "]}"

static const struct error_case error_cases[] = {
	{400, AAD("invalid_grant", "700082", "The refresh token has expired"),
	 OM_ERR_REAUTH,
	 "account support: AADSTS700082 (invalid_grant): the refresh token "
	 "expired after 90 days without use"},
	{400, AAD("invalid_grant", "50173", "The provided grant has expired"),
	 OM_ERR_REAUTH, "run: oauthmail authorize support"},
	{401, AAD("invalid_client", "7000215", "Invalid client secret"),
	 OM_ERR_CONFIG, "Value (not its Secret ID)"},
	{401, AAD("invalid_client", "7000222", "expired"), OM_ERR_CONFIG,
	 "client secret has expired"},
	{400, AAD("invalid_client", "7000218", "must contain"), OM_ERR_CONFIG,
	 "Allow public client flows"},
	{400, AAD("unauthorized_client", "700016", "not found"), OM_ERR_CONFIG,
	 "Application (client) ID"},
	{400, AAD("invalid_request", "90002", "Tenant not found"),
	 OM_ERR_CONFIG, "tenant ID"},
	{400, AAD("invalid_grant", "65001", "not consented"), OM_ERR_REAUTH,
	 "Grant admin consent"},
	{400, AAD("invalid_grant", "50076", "MFA"), OM_ERR_REAUTH,
	 "multi-factor"},
	{400, AAD("interaction_required", "50079", "MFA"), OM_ERR_REAUTH,
	 "aka.ms/mfasetup"},
	{400, AAD("invalid_grant", "70000", "not valid"), OM_ERR_REAUTH,
	 "AADSTS70000"},
	{400, AAD("invalid_grant", "70008", "inactivity"), OM_ERR_REAUTH,
	 "not used"},
	{400, AAD("invalid_scope", "28000", "more than one resource"),
	 OM_ERR_CONFIG, "one resource"},
	{400, AAD("invalid_grant", "54005", "already redeemed"), OM_ERR_REAUTH,
	 "already used"},
	{400, AAD("invalid_grant", "99999", "Something new"), OM_ERR_REAUTH,
	 "AADSTS99999 (invalid_grant): AADSTS99999: Something new. Fix: sign "
	 "in again"},
	{400,
	 "{\"error\":\"invalid_grant\",\"error_description\":\"Token has "
	 "been expired or revoked.\"}",
	 OM_ERR_REAUTH, "(invalid_grant): Token has been expired or revoked."},
	{400, "{\"error\":\"invalid_scope\"}", OM_ERR_CONFIG, "invalid_scope"},
	{503, "<html><body>Service Unavailable</body></html>", OM_ERR_TEMP,
	 "HTTP 503 with an HTML page"},
	{429, "{}", OM_ERR_TEMP, "HTTP 429"},
	{400, "<html>proxy error</html>", OM_ERR_TEMP, "an HTML page"},
	{404, "not found", OM_ERR_CONFIG, "token_url"},
	{500, AAD("server_error", "90033", "busy"), OM_ERR_TEMP, "HTTP 500"},
};

static void test_errors(void)
{
	struct account_config acct = {0};
	struct oauth_error err;
	size_t i;

	acct.name = "support";
	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];

		oauth_error_from_response(&acct, c->status, c->body,
					  strlen(c->body), -1, &err);
		check_int(c->want_in_message, err.status, c->want);
		if (strstr(err.message, c->want_in_message) == NULL)
			check_str("message", err.message, c->want_in_message);
		check_true("no trace id in message",
			   strstr(err.message, "Trace ID") == NULL);
	}
	oauth_error_transport(&acct, "Couldn't connect to server", &err);
	check_int("transport is temporary", err.status, OM_ERR_TEMP);
	oauth_error_from_fields(&acct, "access_denied",
				"AADSTS65004: User declined to consent", &err);
	check_int("declined", err.status, OM_ERR_REAUTH);
	check_true("declined message has code",
		   strstr(err.message, "AADSTS65004") != NULL);
}

struct redirect_case {
	const char *text;
	int ok;
	const char *code;
	const char *error;
};

static const struct redirect_case redirect_cases[] = {
	{"http://localhost:8765/?code=M.C5_a%2Bb&state=S1", 1, "M.C5_a+b",
	 NULL},
	{"code=abc&state=S1", 1, "abc", NULL},
	{"http://localhost/?state=S1&code=abc#frag", 1, "abc", NULL},
	{"http://localhost/?error=access_denied&error_description=the+user+"
	 "canceled&state=S1",
	 1, NULL, "access_denied"},
	{"http://localhost/?code=abc&state=WRONG", 0, NULL, NULL},
	{"http://localhost/?code=abc", 0, NULL, NULL},
	{"http://localhost/?foo=bar&state=S1", 0, NULL, NULL},
	{"", 0, NULL, NULL},
};

static void test_redirect(void)
{
	struct redirect_result r;
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(redirect_cases) / sizeof(redirect_cases[0]);
	     i++) {
		const struct redirect_case *c = &redirect_cases[i];
		int ret = oauth_redirect_parse(c->text, "S1", &r, &error);

		check_int(c->text, ret == 0, c->ok);
		if (ret == 0) {
			check_str("code", r.code, c->code);
			check_str("error", r.error, c->error);
		}
		oauth_redirect_result_free(&r);
	}
}

static void test_token_file(void)
{
	struct token_record rec = {0}, back;
	const char *error = "";
	char *text;

	rec.account = strdup("support");
	rec.client_id = strdup("cid");
	rec.access_token = strdup("EwB-access");
	rec.refresh_token = strdup("0.A-refresh");
	rec.access_expires = 1800000000;
	rec.refresh_issued = 1790000000;
	rec.reauth_needed = 1;
	rec.failures = 2;
	rec.last_error = strdup("account support: AADSTS50173 \"quoted\"");
	text = token_record_format(&rec);
	check_true("formatted", text != NULL);
	check_int("parse back",
		  token_record_parse(text, strlen(text), &back, &error), 0);
	check_str("access", back.access_token, "EwB-access");
	check_str("refresh", back.refresh_token, "0.A-refresh");
	check_int("expires", (long long)back.access_expires, 1800000000);
	check_int("reauth", back.reauth_needed, 1);
	check_int("failures", back.failures, 2);
	check_str("last error", back.last_error, rec.last_error);
	token_record_free(&back);
	free(text);
	check_int("wrong version",
		  token_record_parse("{\"version\":2}", 13, &back, &error), -1);
	check_int("bad type",
		  token_record_parse("{\"version\":1,\"access_token\":1}", 30,
				     &back, &error),
		  -1);
	check_int("bad bool",
		  token_record_parse("{\"version\":1,\"reauth_needed\":1}", 31,
				     &back, &error),
		  -1);
	token_record_free(&rec);
}

/* the id_token is kept as it came for authorize (id_token.c); one that
   is not a usable string becomes "" and never fails the answer */
static void test_id_token_field(void)
{
	static const struct {
		const char *field; /* after the access token, or "" */
		const char *want;
	} rows[] = {
		{"", NULL},
		{",\"id_token\":\"eyJ0.eyJ1.c2ln\"", "eyJ0.eyJ1.c2ln"},
		{",\"id_token\":42", ""},
		{",\"id_token\":\"bell\\u0007\"", ""},
	};
	struct oauth_token tok;
	char body[256];
	const char *error;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"access_token\":\"x\",\"expires_in\":60%s}",
			 rows[i].field);
		memset(&tok, 0, sizeof(tok));
		check_int(body,
			  oauth_token_parse(body, strlen(body), &tok, &error),
			  0);
		check_str(body, tok.id_token, rows[i].want);
		oauth_token_free(&tok);
		check_true("id_token freed", tok.id_token == NULL);
	}
}

int main(void)
{
	test_token_parse();
	test_id_token_field();
	test_errors();
	test_redirect();
	test_token_file();
	return test_done("test_oauth_grant");
}
