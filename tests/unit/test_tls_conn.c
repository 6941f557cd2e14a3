/* test_tls_conn.c - connections to mail servers, against 127.0.0.1:
 * line reads (CRLF, partial lines, the cap, timeouts, EOF), raw reads,
 * writes, the STARTTLS injection guard, and TLS itself with a
 * throw-away certificate (trusted through ca_file, untrusted, wrong
 * name, bad ca_file, a peer that does not speak TLS) */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/strbuf.h"
#include "mail/tls_conn.h"
#include "testlib.h"
#include "tls_testutil.h"

static char dir[] = "/tmp/test_tls_conn.XXXXXX";
static struct test_tls tls;

/* plain_pair - a client connection and the server's end of it */
static struct tls_conn *plain_pair(int timeout_ms, int *sfd_r)
{
	struct tls_conn *c = NULL;
	const char *error = NULL;
	int port, lfd = test_listen(&port);

	*sfd_r = -1;
	if (lfd < 0 ||
	    tls_conn_open("127.0.0.1", port, timeout_ms, &c, &error) < 0) {
		printf("FAIL open: %s\n", error ? error : "listen");
		if (lfd >= 0)
			close(lfd);
		return NULL;
	}
	*sfd_r = accept(lfd, NULL, NULL);
	close(lfd);
	return c;
}

static void put(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		check_true("server write", 0);
}

static void test_lines(void)
{
	static const struct {
		const char *sent; /* written before the read */
		const char *want; /* the line, or NULL: an error */
	} rows[] = {
		{"one\r\ntwo\nthr", "one"},
		{"", "two"},
		{"ee\r\n", "three"},
		{"\r\n", ""},
		{"a\rb\r\n", "a\rb"},
		{"0123456789abc\r\nnext\r\n", NULL},
		{"", "next"},
		{"12345678\r\n", "12345678"},
	};
	const char *error = NULL;
	struct tls_conn *c;
	struct strbuf line;
	char got[16] = "";
	size_t i;
	int sfd;

	c = plain_pair(5000, &sfd);
	if (c == NULL)
		return;
	check_str("plain", tls_conn_describe(c), "plain");
	check_true("fd", tls_conn_fd(c) >= 0);
	check_int("nothing pending", tls_conn_pending(c), 0);
	strbuf_init(&line, 8);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		put(sfd, rows[i].sent);
		error = NULL;
		if (rows[i].want == NULL) {
			check_int("line over the cap",
				  tls_conn_read_line(c, &line, &error), -1);
			check_str("cap error", error,
				  "line from 127.0.0.1 longer than 8 bytes");
			continue;
		}
		check_int(rows[i].want, tls_conn_read_line(c, &line, &error),
			  0);
		check_str("line", line.data, rows[i].want);
		if (i == 0)
			check_int("the rest is pending", tls_conn_pending(c),
				  1);
	}
	/* CR and LF in separate packets: the CR is not part of the line */
	put(sfd, "12345678\r");
	if (fork() == 0) {
		usleep(100000);
		put(sfd, "\n");
		_exit(0);
	}
	check_int("CR, later LF", tls_conn_read_line(c, &line, &error), 0);
	check_str("line without its CR", line.data, "12345678");
	wait(NULL);
	check_int("write", tls_conn_write(c, "PING x\r\n", 8, &error), 0);
	check_int("server got it", (int)read(sfd, got, sizeof(got) - 1), 8);
	check_str("what was written", got, "PING x\r\n");
	close(sfd);
	error = NULL;
	check_int("EOF", tls_conn_read_line(c, &line, &error), -1);
	check_str("EOF error", error, "127.0.0.1 closed the connection");
	strbuf_free(&line);
	tls_conn_close(&c);
	check_true("closed", c == NULL);
	tls_conn_close(&c); /* NULL is fine */
}

static void test_read_some(void)
{
	const char *error = NULL;
	struct tls_conn *c;
	struct strbuf line;
	char buf[16];
	int sfd;

	c = plain_pair(5000, &sfd);
	if (c == NULL)
		return;
	strbuf_init(&line, 100);
	check_int("nothing yet", (int)tls_conn_read_some(c, buf, 2, &error),
		  -2);
	put(sfd, "L1\r\nrest");
	check_int("line", tls_conn_read_line(c, &line, &error), 0);
	check_int("buffered bytes pending", tls_conn_pending(c), 1);
	check_int("buffered bytes first",
		  (int)tls_conn_read_some(c, buf, 2, &error), 2);
	check_true("re", memcmp(buf, "re", 2) == 0);
	check_int("then the rest", (int)tls_conn_read_some(c, buf, 16, &error),
		  2);
	check_true("st", memcmp(buf, "st", 2) == 0);
	put(sfd, "xyz");
	usleep(50000);
	check_int("from the socket",
		  (int)tls_conn_read_some(c, buf, 16, &error), 3);
	close(sfd);
	usleep(50000);
	check_int("EOF is 0", (int)tls_conn_read_some(c, buf, 16, &error), 0);
	strbuf_free(&line);
	tls_conn_close(&c);
}

static void test_timeout_and_refused(void)
{
	const char *error = NULL;
	struct tls_conn *c;
	struct strbuf line;
	char want[128];
	int sfd, port, lfd;

	c = plain_pair(300, &sfd);
	if (c == NULL)
		return;
	strbuf_init(&line, 100);
	check_int("silent server", tls_conn_read_line(c, &line, &error), -1);
	check_true("no answer",
		   error != NULL &&
			   strncmp(error, "no answer from 127.0.0.1", 24) == 0);
	/* STARTTLS injection: bytes after the server's "go ahead" line */
	put(sfd, "+OK Begin TLS\r\nINJECTED\r\n");
	check_int("go ahead", tls_conn_read_line(c, &line, &error), 0);
	check_int("TLS refused", tls_conn_start_tls(c, tls.pem, &error), -1);
	check_true("injection named",
		   strstr(error, "STARTTLS injection") != NULL);
	strbuf_free(&line);
	close(sfd);
	tls_conn_close(&c);

	lfd = test_listen(&port);
	close(lfd);
	error = NULL;
	check_int("refused", tls_conn_open("127.0.0.1", port, 1000, &c, &error),
		  -1);
	snprintf(want, sizeof(want), "connect to 127.0.0.1 port %d: %s", port,
		 strerror(ECONNREFUSED));
	check_str("refused error", error, want);
}

/* tls_client - connect to a scripted server and start TLS */
static int tls_client(struct script_server *s, const char *host,
		      const char *ca_file, struct tls_conn **c_r,
		      const char **error_r)
{
	*c_r = NULL;
	if (tls_conn_open(host, s->port, 5000, c_r, error_r) < 0)
		return -1;
	return tls_conn_start_tls(*c_r, ca_file, error_r);
}

static void test_tls(void)
{
	static const char *const talk[] = {"TLS", "S * OK hello", "C PING",
					   "S PONG", NULL};
	static const char *const refused[] = {"TLS?", NULL};
	static const char *const not_tls[] = {"S HTTP/1.0 400 Bad Request",
					      NULL};
	struct script_server s;
	const char *error = NULL;
	struct tls_conn *c;
	struct strbuf line;

	strbuf_init(&line, 1000);
	check_int("server", script_start(&s, tls.ctx, talk), 0);
	check_int("trusted through ca_file",
		  tls_client(&s, "127.0.0.1", tls.pem, &c, &error), 0);
	check_true("describes TLS",
		   strncmp(tls_conn_describe(c), "TLSv1.", 6) == 0);
	check_int("greeting over TLS", tls_conn_read_line(c, &line, &error), 0);
	check_str("greeting", line.data, "* OK hello");
	check_int("write over TLS", tls_conn_write(c, "PING\r\n", 6, &error),
		  0);
	check_int("reply", tls_conn_read_line(c, &line, &error), 0);
	check_str("reply text", line.data, "PONG");
	check_int("twice", tls_conn_start_tls(c, tls.pem, &error), -1);
	check_str("already", error, "TLS already active");
	tls_conn_close(&c);
	check_int("dialogue as scripted", script_end(&s), 0);

	check_int("server", script_start(&s, tls.ctx, refused), 0);
	error = NULL;
	check_int("untrusted without ca_file",
		  tls_client(&s, "127.0.0.1", NULL, &c, &error), -1);
	check_true("says not trusted and how to fix",
		   error != NULL &&
			   strstr(error, "TLS certificate of 127.0.0.1 not "
					 "trusted") != NULL &&
			   strstr(error, "ca_file") != NULL);
	tls_conn_close(&c);
	script_end(&s);

	check_int("server", script_start(&s, tls.ctx, refused), 0);
	error = NULL;
	check_int("a name the certificate does not carry",
		  tls_client(&s, "localhost", tls.pem, &c, &error), -1);
	check_true("hostname mismatch",
		   error != NULL && strstr(error, "not trusted") != NULL &&
			   strstr(error, "hostname mismatch") != NULL);
	if (error != NULL && strstr(error, "hostname mismatch") == NULL)
		printf("  got: %s\n", error);
	tls_conn_close(&c);
	script_end(&s);

	check_int("server", script_start(&s, tls.ctx, not_tls), 0);
	error = NULL;
	check_int("peer without TLS",
		  tls_client(&s, "127.0.0.1", tls.pem, &c, &error), -1);
	check_true("handshake error",
		   error != NULL &&
			   strncmp(error,
				   "TLS handshake with 127.0.0.1: ", 30) == 0);
	tls_conn_close(&c);
	script_end(&s);

	check_int("server", script_start(&s, tls.ctx, refused), 0);
	error = NULL;
	check_int("ca_file not PEM",
		  tls_client(&s, "127.0.0.1", "/dev/null", &c, &error), -1);
	check_true("says PEM expected",
		   error != NULL && strstr(error, "PEM expected") != NULL);
	tls_conn_close(&c);
	script_end(&s);
	strbuf_free(&line);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL || test_tls_init(&tls, dir) < 0) {
		printf("setup failed\n");
		return 99;
	}
	test_lines();
	test_read_some();
	test_timeout_and_refused();
	test_tls();
	test_tls_free(&tls);
	rmdir(dir);
	return test_done("test_tls_conn");
}
