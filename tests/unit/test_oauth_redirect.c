/* test_oauth_redirect.c - where the browser comes back: the pasted URL
 * (code, state, error, percent-decoding, malformed input) and the
 * loopback listener (redirect_uri rules, wrong path, wrong state, the
 * redirect itself, the timeout), driven from this process */
#include "oauthmail-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"
#include "token/oauth_redirect.h"

static const struct {
	const char *text;
	const char *code, *error, *description; /* NULL: absent */
	const char *fail;			/* substring of error_r */
} parse_rows[] = {
	{"http://localhost:8765/?code=0.AX-abc&state=S1", "0.AX-abc", NULL,
	 NULL, NULL},
	{"code=abc&state=S1", "abc", NULL, NULL, NULL}, /* just the query */
	{"?state=S1&session_state=z&code=a%2Fb%3D", "a/b=", NULL, NULL, NULL},
	{"http://localhost/?code=c&state=S1#fragment", "c", NULL, NULL, NULL},
	{"http://localhost/?code=c&state=S1\r\n", "c", NULL, NULL, NULL},
	{"  http://localhost/?code=c&state=S1 trailing", "c", NULL, NULL, NULL},
	{"http://localhost/?code=first&code=second&state=S1", "first", NULL,
	 NULL, NULL},
	{"http://localhost/?error=access_denied&error_description="
	 "AADSTS65004%3A+User+declined&state=S1",
	 NULL, "access_denied", "AADSTS65004: User declined", NULL},
	{"http://localhost/?error=invalid_request&state=S1", NULL,
	 "invalid_request", NULL, NULL},
	{"http://localhost/?code=c&state=S2", NULL, NULL, NULL,
	 "state in the URL does not match"},
	{"http://localhost/?code=c", NULL, NULL, NULL,
	 "state in the URL does not match"},
	{"http://localhost/?code=c&state=S1x", NULL, NULL, NULL,
	 "does not match"},
	{"http://localhost/?state=S1", NULL, NULL, NULL, "no code= or error="},
	{"", NULL, NULL, NULL, "no code= or error="},
	{"http://localhost/?code&state=S1", NULL, NULL, NULL,
	 "no code= or error="},
	{"http://localhost/?code=a%00b&state=S1", NULL, NULL, NULL,
	 "no code= or error="},
	{"http://localhost/#code=c&state=S1", NULL, NULL, NULL,
	 "no code= or error="},
};

static void test_parse(void)
{
	struct redirect_result r;
	const char *error;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		error = NULL;
		ret = oauth_redirect_parse(parse_rows[i].text, "S1", &r,
					   &error);
		if (parse_rows[i].fail != NULL) {
			check_int(parse_rows[i].text, ret, -1);
			check_true(parse_rows[i].fail,
				   error != NULL &&
					   strstr(error, parse_rows[i].fail) !=
						   NULL);
			check_true("nothing kept on failure",
				   r.code == NULL && r.error == NULL);
			continue;
		}
		check_int(parse_rows[i].text, ret, 0);
		check_str("code", r.code, parse_rows[i].code);
		check_str("error", r.error, parse_rows[i].error);
		check_str("description", r.description,
			  parse_rows[i].description);
		oauth_redirect_result_free(&r);
		check_true("freed", r.code == NULL && r.error == NULL);
	}
}

static void test_too_long(void)
{
	struct redirect_result r;
	const char *error = NULL;
	size_t n = 9000;
	char *url = malloc(n + 1);

	if (url == NULL)
		return;
	memset(url, 'a', n);
	memcpy(url, "?code=", 6);
	url[n] = '\0';
	check_int("over 8 KB", oauth_redirect_parse(url, "S1", &r, &error), -1);
	check_str("too long", error, "redirect URL too long");
	free(url);
}

static void test_listen_refused(void)
{
	static const char *const bad[] = {
		"https://localhost/",
		"http://example.com/",
		"http://127.0.0.2:8080/",
		"http://localhost:0/",
		"http://localhost:99999/",
		"http://localhost:80x/",
		"http:///path",
		"urn:ietf:wg:oauth:2.0:oob",
	};
	struct redirect_listener *l = NULL;
	const char *error;
	char *uri = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		check_int(bad[i],
			  oauth_redirect_listen(bad[i], &l, &uri, &error), -1);
		check_true("says why",
			   error != NULL &&
				   strstr(error, "is not an http://"
						 "localhost URL") != NULL);
	}
	check_true("nothing made", l == NULL && uri == NULL);
	oauth_redirect_close(&l); /* NULL is fine */
}

/* connect_send - a browser's request, queued on the listening socket
 * (the kernel completes the connection before accept) */
static int connect_send(int port, const char *request)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void read_reply(int fd, char *buf, size_t size)
{
	ssize_t n, got = 0;

	while ((size_t)got < size - 1 &&
	       (n = read(fd, buf + got, size - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
}

static void test_listener(void)
{
	struct redirect_listener *l = NULL;
	struct redirect_result r;
	const char *error = NULL;
	char *uri = NULL, reply[2048];
	int port = 0, wrong_path, wrong_state, good;

	check_int(
		"listen on any port",
		oauth_redirect_listen("http://127.0.0.1/cb", &l, &uri, &error),
		0);
	if (l == NULL)
		return;
	check_true("uri gets the port",
		   uri != NULL &&
			   sscanf(uri, "http://127.0.0.1:%d/cb", &port) == 1 &&
			   port > 0);
	wrong_path = connect_send(port, "GET /favicon.ico HTTP/1.1\r\n"
					"Host: x\r\n\r\n");
	wrong_state = connect_send(port, "GET /cb?code=c1&state=OTHER "
					 "HTTP/1.1\r\n\r\n");
	good = connect_send(port, "GET /cb?code=the-code&state=S1 HTTP/1.1\r\n"
				  "Referer: http://x/?code=evil&state=S1\r\n"
				  "\r\n");
	check_true("browser connected",
		   wrong_path >= 0 && wrong_state >= 0 && good >= 0);
	check_int("wait", oauth_redirect_wait(l, "S1", 10, &r, &error), 0);
	check_str("the code from the request target", r.code, "the-code");
	oauth_redirect_result_free(&r);
	read_reply(wrong_path, reply, sizeof(reply));
	check_true("other paths: 404",
		   strncmp(reply, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
	read_reply(wrong_state, reply, sizeof(reply));
	check_true("wrong state: 400",
		   strncmp(reply, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	read_reply(good, reply, sizeof(reply));
	check_true("redirect: 200",
		   strncmp(reply, "HTTP/1.1 200 OK\r\n", 17) == 0);
	check_true("no-store",
		   strstr(reply, "Cache-Control: no-store") != NULL);
	check_true("sign-in complete page",
		   strstr(reply, "Sign-in complete") != NULL);
	check_true("the code is not echoed", strstr(reply, "the-code") == NULL);

	good = connect_send(port, "GET /cb?error=access_denied&state=S1 "
				  "HTTP/1.1\r\n\r\n");
	check_int("an error redirect ends the wait too",
		  oauth_redirect_wait(l, "S1", 10, &r, &error), 0);
	check_str("error", r.error, "access_denied");
	check_true("no code", r.code == NULL);
	oauth_redirect_result_free(&r);
	read_reply(good, reply, sizeof(reply));
	check_true("failure page", strstr(reply, "Sign-in failed") != NULL);

	wrong_path = connect_send(port, "POST /cb?code=c&state=S1 HTTP/1.1\r\n"
					"\r\n");
	error = NULL;
	check_int("only GET counts; then the timeout",
		  oauth_redirect_wait(l, "S1", 1, &r, &error), -1);
	check_str("timeout", error,
		  "no redirect from the browser within 1 seconds");
	if (wrong_path >= 0)
		close(wrong_path);
	oauth_redirect_close(&l);
	check_true("closed", l == NULL);
	free(uri);
}

static void test_listener_fixed_port(void)
{
	struct redirect_listener *l = NULL, *l2 = NULL;
	const char *error = NULL;
	char *uri = NULL, *uri2 = NULL, want[64];
	int port;

	/* find a free port, then ask for it by number */
	check_int("listen",
		  oauth_redirect_listen("http://localhost/", &l, &uri, &error),
		  0);
	if (l == NULL)
		return;
	check_int("port", sscanf(uri, "http://localhost:%d/", &port), 1);
	oauth_redirect_close(&l);
	free(uri);
	snprintf(want, sizeof(want), "http://localhost:%d/x?y", port);
	check_int("fixed port", oauth_redirect_listen(want, &l, &uri, &error),
		  0);
	check_str("uri unchanged when it has a port", uri, want);
	error = NULL;
	check_int("port taken", oauth_redirect_listen(want, &l2, &uri2, &error),
		  -1);
	check_true("says another authorize may run",
		   error != NULL &&
			   strstr(error, "another oauthmail authorize") !=
				   NULL);
	oauth_redirect_close(&l);
	free(uri);
}

int main(void)
{
	test_parse();
	test_too_long();
	test_listen_refused();
	test_listener();
	test_listener_fixed_port();
	return test_done("test_oauth_redirect");
}
