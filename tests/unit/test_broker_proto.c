/* test_broker_proto.c - the token broker's request and reply lines */
#include "oauthmail-config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "token/broker_proto_server.h"
#include "testlib.h"

static const struct {
	const char *line;
	int want;
	enum broker_cmd cmd;
	const char *account;
} request_rows[] = {
	{"TOKEN support\n", 0, BROKER_TOKEN, "support"},
	{"TOKEN support\r\n", 0, BROKER_TOKEN, "support"},
	{"TOKEN support", 0, BROKER_TOKEN, "support"},
	{"TOKEN a.b-c_d@e+f\n", 0, BROKER_TOKEN, "a.b-c_d@e+f"},
	{"INVALIDATE support\n", 0, BROKER_INVALIDATE, "support"},
	{"INVALIDATE support 3fa2c1\n", 0, BROKER_INVALIDATE, "support"},
	{"INVALIDATE support 3fa2c1\r\n", 0, BROKER_INVALIDATE, "support"},
	{"INVALIDATE support 3FA2C1\n", -1, BROKER_INVALIDATE, ""},
	{"INVALIDATE support 3fa2c\n", -1, BROKER_INVALIDATE, ""},
	{"INVALIDATE support 3fa2c10\n", -1, BROKER_INVALIDATE, ""},
	{"INVALIDATE support 3fa2cg\n", -1, BROKER_INVALIDATE, ""},
	{"INVALIDATE support 3fa2c1 x\n", -1, BROKER_INVALIDATE, ""},
	{"INVALIDATE support \n", -1, BROKER_INVALIDATE, ""},
	{"INVALIDATE  3fa2c1\n", -1, BROKER_INVALIDATE, ""},
	{"INVALIDATE ../x 3fa2c1\n", -1, BROKER_INVALIDATE, ""},
	{"PING\n", 0, BROKER_PING, ""},
	{"PING x\n", -1, BROKER_PING, ""},
	{"TOKEN\n", -1, BROKER_TOKEN, ""},
	{"TOKEN \n", -1, BROKER_TOKEN, ""},
	{"TOKEN  support\n", -1, BROKER_TOKEN, ""},
	{"TOKEN support x\n", -1, BROKER_TOKEN, ""},
	{"TOKEN ../etc/passwd\n", -1, BROKER_TOKEN, ""},
	{"TOKEN .hidden\n", -1, BROKER_TOKEN, ""},
	{"TOKEN -x\n", -1, BROKER_TOKEN, ""},
	{"TOKENsupport\n", -1, BROKER_TOKEN, ""},
	{"token support\n", -1, BROKER_TOKEN, ""},
	{"TOKEN a\nTOKEN b\n", -1, BROKER_TOKEN, ""},
	{"GET support\n", -1, BROKER_TOKEN, ""},
	{"", -1, BROKER_TOKEN, ""},
	{"TOKEN "
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	 -1, BROKER_TOKEN, ""},
};

/* want_fingerprint - what a parsed row's fingerprint must be: the rows
   with one all carry 3fa2c1 */
static const char *want_fingerprint(const char *line)
{
	return strstr(line, " 3fa2c1") != NULL ? "3fa2c1" : "";
}

static void test_requests(void)
{
	struct broker_request req;
	const char *error = NULL;
	size_t i;
	int got;

	for (i = 0; i < sizeof(request_rows) / sizeof(request_rows[0]); i++) {
		got = broker_proto_parse_request(request_rows[i].line,
						 strlen(request_rows[i].line),
						 &req, &error);
		check_int(request_rows[i].line, got, request_rows[i].want);
		if (got == 0) {
			check_int("cmd", req.cmd, request_rows[i].cmd);
			check_str("account", req.account,
				  request_rows[i].account);
			check_str("fingerprint", req.fingerprint,
				  want_fingerprint(request_rows[i].line));
		} else
			check_true("error set", error != NULL);
	}
	check_int("NUL inside",
		  broker_proto_parse_request("TOKEN a\0b\n", 10, &req, &error),
		  -1);
}

static void test_request_roundtrip(void)
{
	struct broker_request req = {.cmd = BROKER_INVALIDATE}, back;
	struct strbuf sb;
	const char *error;

	strbuf_init(&sb, BROKER_REQUEST_MAX);
	memcpy(req.account, "support", 8);
	check_int("format", broker_proto_format_request(&req, &sb), 0);
	check_str("formatted", sb.data, "INVALIDATE support\n");
	check_int("parse back",
		  broker_proto_parse_request(sb.data, sb.len, &back, &error),
		  0);
	check_str("same account", back.account, "support");
	memcpy(req.fingerprint, "0a1b2c", 7);
	strbuf_reset(&sb);
	check_int("format with fingerprint",
		  broker_proto_format_request(&req, &sb), 0);
	check_str("formatted with fingerprint", sb.data,
		  "INVALIDATE support 0a1b2c\n");
	check_int("parse back with fingerprint",
		  broker_proto_parse_request(sb.data, sb.len, &back, &error),
		  0);
	check_str("same fingerprint", back.fingerprint, "0a1b2c");
	strbuf_free(&sb);
}

static const struct {
	const char *line;
	int want;
	enum om_status status;
	const char *token, *text;
	long long expires;
} reply_rows[] = {
	{"OK at-1 1700000000\n", 0, OM_OK, "at-1", NULL, 1700000000},
	{"OK\n", 0, OM_OK, NULL, NULL, 0},
	{"TEMP token endpoint unreachable\n", 0, OM_ERR_TEMP, NULL,
	 "token endpoint unreachable", 0},
	{"REAUTH account support: AADSTS700082 run: oauthmail authorize "
	 "support\r\n",
	 0, OM_ERR_REAUTH, NULL,
	 "account support: AADSTS700082 run: oauthmail authorize support", 0},
	{"CONFIG no such account\n", 0, OM_ERR_CONFIG, NULL, "no such account",
	 0},
	{"BAD unknown request\n", 0, OM_ERR_USAGE, NULL, "unknown request", 0},
	{"TEMP\n", 0, OM_ERR_TEMP, NULL, "(no reason given)", 0},
	{"TEMP bad\001byte\n", 0, OM_ERR_TEMP, NULL, "bad?byte", 0},
	{"OK at-1\n", -1, OM_OK, NULL, NULL, 0},
	{"OK at-1 -5\n", -1, OM_OK, NULL, NULL, 0},
	{"OK at-1 12x\n", -1, OM_OK, NULL, NULL, 0},
	{"OK at 1 2\n", -1, OM_OK, NULL, NULL, 0},
	{"OK bad:token 12\n", -1, OM_OK, NULL, NULL, 0},
	{"OK  12\n", -1, OM_OK, NULL, NULL, 0},
	{"WHAT\n", -1, OM_OK, NULL, NULL, 0},
	{"OKAY\n", -1, OM_OK, NULL, NULL, 0},
	{"OK a 1\nOK b 2\n", -1, OM_OK, NULL, NULL, 0},
};

static void test_replies(void)
{
	struct broker_reply r;
	const char *error;
	size_t i;
	int got;

	for (i = 0; i < sizeof(reply_rows) / sizeof(reply_rows[0]); i++) {
		got = broker_proto_parse_reply(reply_rows[i].line,
					       strlen(reply_rows[i].line), &r,
					       &error);
		check_int(reply_rows[i].line, got, reply_rows[i].want);
		if (got == 0) {
			check_int("status", r.status, reply_rows[i].status);
			check_str("token", r.token, reply_rows[i].token);
			check_str("text", r.text, reply_rows[i].text);
			check_int("expires", (long long)r.expires,
				  reply_rows[i].expires);
		}
		broker_proto_reply_free(&r);
	}
}

static void test_reply_format(void)
{
	struct strbuf sb;
	char long_text[3000];

	strbuf_init(&sb, BROKER_REPLY_MAX);
	check_int("ok", broker_proto_format_ok("at-1", 42, &sb), 0);
	check_str("ok line", sb.data, "OK at-1 42\n");
	strbuf_reset(&sb);
	check_int("bad token refused", broker_proto_format_ok("a b", 42, &sb),
		  -1);
	check_int("plain ok", broker_proto_format_ok(NULL, 0, &sb), 0);
	check_str("plain ok line", sb.data, "OK\n");
	strbuf_reset(&sb);
	check_int("error",
		  broker_proto_format_error(OM_ERR_REAUTH, "x\ny", &sb), 0);
	check_str("error line one line", sb.data, "REAUTH x?y\n");
	strbuf_reset(&sb);
	memset(long_text, 'e', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	check_int("long error",
		  broker_proto_format_error(OM_ERR_TEMP, long_text, &sb), 0);
	check_int("long error cut", (long long)sb.len,
		  5 + BROKER_TEXT_MAX + 3 + 1);
	strbuf_free(&sb);
}

int main(void)
{
	test_requests();
	test_request_roundtrip();
	test_replies();
	test_reply_format();
	return test_done("test_broker_proto");
}
