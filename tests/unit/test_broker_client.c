/* test_broker_client.c - the SASL plugin's side of the token broker,
 * against a one-shot broker on a UNIX socket forked by the test: each
 * row is what the broker must receive and what it answers (or how it
 * misbehaves), and what the client must make of it */
#include "oauthmail-config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/strbuf.h"
#include "testlib.h"
#include "token/broker_client.h"

static char dir[] = "/tmp/test_broker_client.XXXXXX";
static char sock_path[100];

enum behaviour {
	ANSWER,	 /* write the reply, close */
	SILENT,	 /* read, then say nothing until the client gives up */
	HANGUP,	 /* read, close without a word */
	TOO_LONG /* a reply over BROKER_REPLY_MAX */
};

/* serve_one - accept one client, check its request, act; 0 when the
 * request was the one expected */
static int serve_one(int lfd, const char *want, enum behaviour how,
		     const char *reply)
{
	char req[512], big[4096];
	ssize_t n, got = 0;
	int fd = accept(lfd, NULL, NULL), i;

	if (fd < 0)
		_exit(2);
	while ((size_t)got < sizeof(req) - 1 &&
	       (n = read(fd, req + got, sizeof(req) - 1 - (size_t)got)) > 0) {
		got += n;
		if (req[got - 1] == '\n')
			break;
	}
	req[got] = '\0';
	if (how == SILENT)
		(void)read(fd, big, sizeof(big)); /* until the client closes */
	if (how == ANSWER)
		(void)write(fd, reply, strlen(reply));
	if (how == TOO_LONG) {
		memset(big, 'x', sizeof(big));
		memcpy(big, "OK ", 3);
		for (i = 0; i < 6; i++)
			(void)write(fd, big, sizeof(big));
		(void)write(fd, " 1\n", 3);
	}
	close(fd);
	return strcmp(req, want) == 0 ? 0 : 1;
}

/* serve_once - the child of a one-shot broker */
static void serve_once(int lfd, const char *want, enum behaviour how,
		       const char *reply)
{
	_exit(serve_one(lfd, want, how, reply));
}

static int listen_socket(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	unlink(sock_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 4) < 0) {
		perror("listen");
		exit(99);
	}
	return fd;
}

/* broker - start a one-shot broker; its pid */
static pid_t broker(const char *want, enum behaviour how, const char *reply)
{
	int lfd = listen_socket();
	pid_t pid = fork();

	if (pid == 0)
		serve_once(lfd, want, how, reply);
	close(lfd);
	return pid;
}

/* old_broker - a broker from before fingerprints: BAD to one, then OK to
 * INVALIDATE without it */
static pid_t old_broker(void)
{
	int lfd = listen_socket(), r;
	pid_t pid = fork();

	if (pid == 0) {
		r = serve_one(lfd, "INVALIDATE support 0a1b2c\n", ANSWER,
			      "BAD bad account name\n");
		r |= serve_one(lfd, "INVALIDATE support\n", ANSWER, "OK\n");
		_exit(r);
	}
	close(lfd);
	return pid;
}

static void check_broker(const char *what, pid_t pid)
{
	int status = 0;

	waitpid(pid, &status, 0);
	check_true(what, WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const struct {
	const char *what;
	enum behaviour how;
	const char *reply;
	int timeout_ms;
	enum om_status status;
	const char *token;
	time_t expires;
	const char *error; /* substring */
} token_rows[] = {
	{"a token", ANSWER, "OK eyJ0.abc-DEF_123 1900000000\n", 5000, OM_OK,
	 "eyJ0.abc-DEF_123", 1900000000, NULL},
	{"CRLF accepted", ANSWER, "OK tok 42\r\n", 5000, OM_OK, "tok", 42,
	 NULL},
	{"needs authorize", ANSWER,
	 "REAUTH account a: AADSTS700082 (invalid_grant): run: oauthmail "
	 "authorize a\n",
	 5000, OM_ERR_REAUTH, NULL, 0,
	 "account a: AADSTS700082 (invalid_grant): run: oauthmail authorize a"},
	{"config", ANSWER, "CONFIG no such account\n", 5000, OM_ERR_CONFIG,
	 NULL, 0, "no such account"},
	{"temporary", ANSWER, "TEMP provider down\n", 5000, OM_ERR_TEMP, NULL,
	 0, "provider down"},
	{"bad request", ANSWER, "BAD malformed request\n", 5000, OM_ERR_USAGE,
	 NULL, 0, "malformed request"},
	{"class without text", ANSWER, "TEMP\n", 5000, OM_ERR_TEMP, NULL, 0,
	 "(no reason given)"},
	{"OK but no token", ANSWER, "OK\n", 5000, OM_ERR_TEMP, NULL, 0,
	 "broker sent no token"},
	{"nonsense", ANSWER, "HELLO there\n", 5000, OM_ERR_TEMP, NULL, 0,
	 "unknown broker reply 'HELLO there'"},
	{"no expiry", ANSWER, "OK tok\n", 5000, OM_ERR_TEMP, NULL, 0,
	 "malformed OK reply"},
	{"negative expiry", ANSWER, "OK tok -5\n", 5000, OM_ERR_TEMP, NULL, 0,
	 "malformed expiry"},
	{"not a bearer token", ANSWER, "OK t\"k 5\n", 5000, OM_ERR_TEMP, NULL,
	 0, "not a bearer token"},
	{"two lines", ANSWER, "OK tok 1\nOK tok 2\n", 5000, OM_ERR_TEMP, NULL,
	 0, "malformed or too long"},
	{"no newline, then close", ANSWER, "OK tok 1", 5000, OM_ERR_TEMP, NULL,
	 0, "closed the connection without an answer"},
	{"hangs up", HANGUP, NULL, 5000, OM_ERR_TEMP, NULL, 0,
	 "closed the connection without an answer"},
	{"silent broker", SILENT, NULL, 300, OM_ERR_TEMP, NULL, 0,
	 "timed out waiting for the token broker"},
	{"endless reply", TOO_LONG, NULL, 5000, OM_ERR_TEMP, NULL, 0,
	 "malformed or too long"},
};

static void test_token(void)
{
	const char *error;
	char *token;
	time_t expires;
	size_t i;
	pid_t pid;
	enum om_status st;

	for (i = 0; i < sizeof(token_rows) / sizeof(token_rows[0]); i++) {
		pid = broker("TOKEN support\n", token_rows[i].how,
			     token_rows[i].reply);
		error = NULL;
		expires = 0;
		st = broker_client_token(sock_path, "support",
					 token_rows[i].timeout_ms, &token,
					 &expires, &error);
		check_int(token_rows[i].what, st, token_rows[i].status);
		check_str(token_rows[i].what, token, token_rows[i].token);
		if (st == OM_OK)
			check_int("expires", expires, token_rows[i].expires);
		if (token_rows[i].error != NULL) {
			check_true(token_rows[i].error,
				   error != NULL &&
					   strstr(error, token_rows[i].error) !=
						   NULL);
			if (error == NULL ||
			    strstr(error, token_rows[i].error) == NULL)
				printf("  got: %s\n", error ? error : "(null)");
		}
		wipe_free_str(&token);
		check_broker("the broker got TOKEN support", pid);
	}
}

static void test_invalidate(void)
{
	const char *error = NULL;
	pid_t pid;

	pid = broker("INVALIDATE support 0a1b2c\n", ANSWER, "OK\n");
	check_int("invalidate",
		  broker_client_invalidate(sock_path, "support", "0a1b2c", 5000,
					   &error),
		  OM_OK);
	check_broker("the broker got INVALIDATE support", pid);
	pid = broker("INVALIDATE support 0a1b2c\n", ANSWER,
		     "CONFIG unknown account\n");
	check_int("invalidate refused",
		  broker_client_invalidate(sock_path, "support", "0a1b2c", 5000,
					   &error),
		  OM_ERR_CONFIG);
	check_str("refusal text", error, "unknown account");
	check_broker("the broker got INVALIDATE again", pid);
	pid = broker("INVALIDATE support 0a1b2c\n", HANGUP, NULL);
	check_int("invalidate: broker hangs up",
		  broker_client_invalidate(sock_path, "support", "0a1b2c", 5000,
					   &error),
		  OM_ERR_TEMP);
	check_broker("the broker got INVALIDATE a third time", pid);
	pid = old_broker();
	check_int("an old broker: said again without the fingerprint",
		  broker_client_invalidate(sock_path, "support", "0a1b2c", 5000,
					   &error),
		  OM_OK);
	check_broker("the old broker got both", pid);
}

static void test_local_errors(void)
{
	const char *error = NULL;
	char *token = NULL, longpath[200];
	time_t expires;

	check_int("bad account name",
		  broker_client_token(sock_path, "bad name", 1000, &token,
				      &expires, &error),
		  OM_ERR_CONFIG);
	check_true("says it cannot be sent",
		   error != NULL && strstr(error, "cannot be sent") != NULL);
	check_int("empty account",
		  broker_client_token(sock_path, "", 1000, &token, &expires,
				      &error),
		  OM_ERR_CONFIG);
	check_int("invalidate: bad account",
		  broker_client_invalidate(sock_path, "-x", "0a1b2c", 1000,
					   &error),
		  OM_ERR_CONFIG);
	check_int("invalidate: bad fingerprint",
		  broker_client_invalidate(sock_path, "support", "0A1B2C", 1000,
					   &error),
		  OM_ERR_CONFIG);
	unlink(sock_path);
	error = NULL;
	check_int("no broker",
		  broker_client_token(sock_path, "support", 1000, &token,
				      &expires, &error),
		  OM_ERR_TEMP);
	check_true("says where to look",
		   error != NULL && strstr(error, "master.cf") != NULL);
	check_true("no token", token == NULL);
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	check_int("socket path too long",
		  broker_client_token(longpath, "support", 1000, &token,
				      &expires, &error),
		  OM_ERR_TEMP);
	check_true("says too long",
		   error != NULL && strstr(error, "path too long") != NULL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/broker", dir);
	test_token();
	test_invalidate();
	test_local_errors();
	unlink(sock_path);
	rmdir(dir);
	return test_done("test_broker_client");
}
