/* test_http.c - URL encoding and form bodies (RFC 3986 unreserved kept,
 * everything else %XX, space as %20), and the request guards */
#include "oauthmail-config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "token/http.h"
#include "testlib.h"

struct enc_case {
	const char *in;
	const char *want;
};

static const struct enc_case enc_cases[] = {
	{"", ""},
	{"abcXYZ019-._~", "abcXYZ019-._~"},
	{"a b", "a%20b"},
	{"a+b=c&d", "a%2Bb%3Dc%26d"},
	{"http://localhost:8765/", "http%3A%2F%2Flocalhost%3A8765%2F"},
	{"s3cr/t+==", "s3cr%2Ft%2B%3D%3D"},
	{"\xc3\xa9", "%C3%A9"},
	{"%", "%25"},
	{"\x01\x7f", "%01%7F"},
};

static void test_encode(void)
{
	struct strbuf sb;
	size_t i;

	for (i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		strbuf_init(&sb, 1024);
		check_int("encode ok", http_url_encode(&sb, enc_cases[i].in),
			  0);
		check_str(enc_cases[i].in, sb.data ? sb.data : "",
			  enc_cases[i].want);
		strbuf_free(&sb);
	}
	strbuf_init(&sb, 4);
	check_int("encode over cap", http_url_encode(&sb, "a b c"), -1);
	strbuf_free(&sb);
}

static void test_form(void)
{
	struct http_form form;

	http_form_init(&form);
	check_int("add 1", http_form_add(&form, "grant_type", "refresh_token"),
		  0);
	check_int("add 2", http_form_add(&form, "client_secret", "a&b=c d"), 0);
	check_int("add 3",
		  http_form_add(&form, "scope", "offline_access https://x/y"),
		  0);
	check_str("form body", form.body.data,
		  "grant_type=refresh_token&client_secret=a%26b%3Dc%20d"
		  "&scope=offline_access%20https%3A%2F%2Fx%2Fy");
	http_form_free(&form);
	check_true("form freed", form.body.data == NULL);
}

static void test_refuses_plain_http(void)
{
	struct http_client *c = NULL;
	struct http_response resp;
	const char *error = "";

	check_int("client", http_client_new(NULL, &c, &error), 0);
	if (c == NULL)
		return;
	http_response_init(&resp);
	check_int("http to a remote host refused",
		  http_request(c, "GET", "http://example.com/", NULL, NULL, 0,
			       &resp, &error),
		  -1);
	check_true("error says non-https", strstr(error, "non-https") != NULL);
	check_int("missing ca_file",
		  http_client_new("/nonexistent.pem", &c, &error), -1);
	http_response_free(&resp);
	http_client_free(&c);
}

static char logged[2048];

static void capture(enum log_level level, const char *line, void *ctx)
{
	(void)ctx;
	if (level == LOG_LEVEL_DEBUG)
		snprintf(logged, sizeof(logged), "%s", line);
}

/* closed_port - a loopback port bound but not listening: connecting is
 * refused at once (the socket stays open so nobody else takes it) */
static int closed_port(int *fd_r)
{
	struct sockaddr_in sa = {0};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*fd_r = fd;
	return ntohs(sa.sin_port);
}

/* -v: every request's method, URL without its query, and outcome; the
 * query (codes, upload tokens) never in a log line or an error */
static void test_verbose(void)
{
	struct http_client *c = NULL;
	struct http_response resp;
	const char *error = "";
	char url[128], want[128];
	int fd = -1, port = closed_port(&fd);

	check_true("closed port", port > 0);
	if (port <= 0 || http_client_new(NULL, &c, &error) < 0)
		return;
	snprintf(url, sizeof(url),
		 "http://127.0.0.1:%d/t/oauth2/v2.0/token?code=0.SECRET", port);
	snprintf(want, sizeof(want),
		 "HTTP POST http://127.0.0.1:%d/t/oauth2/v2.0/token: failed "
		 "after ",
		 port);
	log_set_output(capture, NULL);
	log_set_min_level(LOG_LEVEL_DEBUG);
	http_response_init(&resp);
	check_int("refused",
		  http_request(c, "POST", url, NULL, "x=1", 3, &resp, &error),
		  -1);
	check_true("logged method, URL, failure",
		   strncmp(logged, want, strlen(want)) == 0);
	if (strncmp(logged, want, strlen(want)) != 0)
		printf("  got: %s\n", logged);
	check_true("no query in the log", strstr(logged, "SECRET") == NULL);
	check_true("no query in the error", strstr(error, "SECRET") == NULL);
	check_true("no body in the log", strstr(logged, "x=1") == NULL);
	logged[0] = '\0';
	log_set_min_level(LOG_LEVEL_INFO);
	http_request(c, "GET", url, NULL, NULL, 0, &resp, &error);
	check_str("nothing without -v", logged, "");
	check_int("no URL",
		  http_request(c, "GET", NULL, NULL, NULL, 0, &resp, &error),
		  -1);
	check_true("no URL: said", strstr(error, "no URL") != NULL);
	log_set_output(NULL, NULL);
	http_response_free(&resp);
	http_client_free(&c);
	close(fd);
}

int main(void)
{
	test_encode();
	test_form();
	test_refuses_plain_http();
	test_verbose();
	return test_done("test_http");
}
