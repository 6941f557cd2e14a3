/*
 * tls_conn.c - client connections to IMAP, POP3 and SMTP servers.
 *
 * Rules: TLS verification is always on (system trust store, plus
 * ca_file as an extra anchor), with the host name checked (or the IP
 * address when the server is named by one) and SNI sent for names;
 * TLS 1.2 is the minimum.  The socket is non-blocking and every wait is
 * a poll with the connection's timeout, so a silent server cannot hang
 * us.  Reads go through a small buffer; a line longer than its cap is
 * an error, not a realloc.  Failures say what happened and, for
 * certificate problems, how to fix them.
 */
#include "oauthmail-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/errorf.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "mail/tls_conn.h"

#define READ_BUF 16384

struct tls_conn {
	int fd;
	int timeout_ms;
	char *host;
	SSL_CTX *ctx;
	SSL *ssl;
	char buf[READ_BUF];
	size_t start, end;
};

static int connect_one(const struct addrinfo *ai, int timeout_ms, int *err)
{
	int fd, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*err = errno;
	} else if (fdio_wait(fd, POLLOUT, fdio_now_ms() + timeout_ms) <= 0) {
		*err = ETIMEDOUT;
	} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
		   soerr == 0) {
		return fd;
	} else {
		*err = soerr ? soerr : errno;
	}
	close(fd);
	return -1;
}

int tls_conn_open(const char *host, int port, int timeout_ms,
		  struct tls_conn **conn_r, const char **error_r)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	struct tls_conn *c;
	char service[16];
	int fd = -1, err = 0, rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		*error_r = errorf("%s: %s", printable(host, 100),
				  gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms, &err);
	freeaddrinfo(res);
	if (fd < 0) {
		*error_r = errorf("connect to %s port %d: %s",
				  printable(host, 100), port, strerror(err));
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->host = strdup(host)) == NULL) {
		free(c);
		close(fd);
		*error_r = "out of memory";
		return -1;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	*conn_r = c;
	return 0;
}

/* ssl_wait - after an SSL call failed with ret: wait as OpenSSL asks.
 * 1 = retry, -1 = fatal (error_r set) */
static int ssl_wait(struct tls_conn *c, int ret, long long deadline,
		    const char *what, const char **error_r)
{
	int e = SSL_get_error(c->ssl, ret), w;
	unsigned long code;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		w = fdio_wait(c->fd,
			      e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			      deadline);
		if (w > 0)
			return 1;
		*error_r = errorf("%s %s: %s", what, printable(c->host, 100),
				  w == 0 ? "timed out" : strerror(errno));
		return -1;
	}
	code = ERR_get_error();
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && code == 0))
		*error_r = errorf("%s %s: connection closed by the server",
				  what, printable(c->host, 100));
	else
		*error_r = errorf("%s %s: %s", what, printable(c->host, 100),
				  code ? ERR_reason_error_string(code)
				       : strerror(errno));
	return -1;
}

static int is_ip_literal(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 ||
	       inet_pton(AF_INET6, host, addr) == 1;
}

static int setup_ctx(struct tls_conn *c, const char *ca_file,
		     const char **error_r)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL) {
		*error_r = "cannot create a TLS context";
		return -1;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_clear_mode(c->ctx, SSL_MODE_AUTO_RETRY);
	/* mail protocols frame their own data: a server that closes without
	 * close_notify (many do after LOGOUT/QUIT) has simply closed */
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		*error_r = "cannot load the system's trusted certificates";
		return -1;
	}
	if (ca_file != NULL &&
	    SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1) {
		ERR_clear_error();
		*error_r = errorf("ca_file %s: cannot read certificates from "
				  "it (PEM expected)",
				  printable(ca_file, 200));
		return -1;
	}
	return 0;
}

static int setup_ssl(struct tls_conn *c, const char **error_r)
{
	X509_VERIFY_PARAM *param;
	int ok;

	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		*error_r = "cannot create a TLS session";
		return -1;
	}
	if (is_ip_literal(c->host)) {
		param = SSL_get0_param(c->ssl);
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, c->host) == 1;
	} else {
		ok = SSL_set1_host(c->ssl, c->host) == 1 &&
		     SSL_set_tlsext_host_name(c->ssl, c->host) == 1;
	}
	if (!ok) {
		*error_r = "cannot set the name to verify";
		return -1;
	}
	return 0;
}

static const char *verify_failure(struct tls_conn *c)
{
	long v = SSL_get_verify_result(c->ssl);

	return errorf("TLS certificate of %s not trusted: %s (if the server "
		      "uses a private CA, add it with ca_file = /path/ca.pem "
		      "in oauthmail.conf)",
		      printable(c->host, 100),
		      X509_verify_cert_error_string(v));
}

int tls_conn_start_tls(struct tls_conn *c, const char *ca_file,
		       const char **error_r)
{
	long long deadline = fdio_now_ms() + c->timeout_ms;
	int ret;

	if (c->ssl != NULL) {
		*error_r = "TLS already active";
		return -1;
	}
	if (c->start != c->end) {
		*error_r = "server sent data before the TLS handshake "
			   "(STARTTLS injection?)";
		return -1;
	}
	if (setup_ctx(c, ca_file, error_r) < 0 || setup_ssl(c, error_r) < 0)
		return -1;
	while ((ret = SSL_connect(c->ssl)) != 1) {
		if (SSL_get_verify_result(c->ssl) != X509_V_OK) {
			ERR_clear_error();
			*error_r = verify_failure(c);
			return -1;
		}
		if (ssl_wait(c, ret, deadline, "TLS handshake with", error_r) <
		    0)
			return -1;
	}
	log_debug("TLS with %s: %s", c->host, tls_conn_describe(c));
	return 0;
}

static ssize_t raw_write(struct tls_conn *c, const char *data, size_t len,
			 long long deadline, const char **error_r)
{
	ssize_t n;
	int ret;

	if (c->ssl != NULL) {
		ret = SSL_write(c->ssl, data, (int)(len > 65536 ? 65536 : len));
		if (ret > 0)
			return ret;
		return ssl_wait(c, ret, deadline, "write to", error_r) < 0 ? -1
									   : 0;
	}
	n = send(c->fd, data, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno != EAGAIN && errno != EINTR) {
		*error_r = errorf("write to %s: %s", printable(c->host, 100),
				  strerror(errno));
		return -1;
	}
	if (fdio_wait(c->fd, POLLOUT, deadline) <= 0) {
		*error_r = errorf("write to %s: timed out",
				  printable(c->host, 100));
		return -1;
	}
	return 0;
}

int tls_conn_write(struct tls_conn *c, const void *data, size_t len,
		   const char **error_r)
{
	long long deadline = fdio_now_ms() + c->timeout_ms;
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = raw_write(c, p, len, deadline, error_r);
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fill - read more into the buffer: >0 bytes, 0 EOF, -1 error, -2 again */
static ssize_t fill(struct tls_conn *c, const char **error_r)
{
	ssize_t n;
	int ret;

	if (c->start == c->end)
		c->start = c->end = 0;
	if (c->end == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->ssl != NULL) {
		ret = SSL_read(c->ssl, c->buf + c->end,
			       (int)(sizeof(c->buf) - c->end));
		if (ret > 0) {
			c->end += (size_t)ret;
			return ret;
		}
		n = SSL_get_error(c->ssl, ret);
		if (n == SSL_ERROR_WANT_READ || n == SSL_ERROR_WANT_WRITE)
			return -2;
		if (n == SSL_ERROR_ZERO_RETURN ||
		    (n == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
			ERR_clear_error();
			return 0; /* closed, with or without close_notify */
		}
		return ssl_wait(c, ret, 0, "read from", error_r) < 0 ? -1 : -2;
	}
	n = recv(c->fd, c->buf + c->end, sizeof(c->buf) - c->end, 0);
	if (n > 0)
		c->end += (size_t)n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -2;
	if (n < 0)
		*error_r = errorf("read from %s: %s", printable(c->host, 100),
				  strerror(errno));
	return n;
}

/* take_line - move a complete buffered line into line; 1 = done.  The
 * CR of a CRLF never reaches line (it does not count against the cap):
 * a CR that ends the buffered bytes waits there for what follows. */
static int take_line(struct tls_conn *c, struct strbuf *line, int *over)
{
	char *p = c->buf + c->start;
	char *nl = memchr(p, '\n', c->end - c->start);
	size_t n = nl ? (size_t)(nl - p) : c->end - c->start;
	size_t skip = nl != NULL;

	if (n > 0 && p[n - 1] == '\r') {
		n--;
		skip += nl != NULL;
	}
	if (strbuf_append(line, p, n) < 0)
		*over = 1;
	c->start += n + skip;
	return nl != NULL;
}

int tls_conn_read_line(struct tls_conn *c, struct strbuf *line,
		       const char **error_r)
{
	long long deadline = fdio_now_ms() + c->timeout_ms;
	int over = 0, w;
	ssize_t n;

	strbuf_reset(line);
	for (;;) {
		if (c->start != c->end && take_line(c, line, &over))
			break;
		n = fill(c, error_r);
		if (n == 0)
			*error_r = errorf("%s closed the connection",
					  printable(c->host, 100));
		if (n == 0 || n == -1)
			return -1;
		if (n == -2 && (w = fdio_wait(c->fd, POLLIN, deadline)) <= 0) {
			*error_r = errorf("no answer from %s within %d s",
					  printable(c->host, 100),
					  c->timeout_ms / 1000);
			return -1;
		}
	}
	if (over) {
		*error_r = errorf("line from %s longer than %zu bytes",
				  printable(c->host, 100), line->max);
		return -1;
	}
	return 0;
}

ssize_t tls_conn_read_some(struct tls_conn *c, void *buf, size_t len,
			   const char **error_r)
{
	size_t n;
	ssize_t got;

	if (c->start == c->end) {
		got = fill(c, error_r);
		if (got <= 0)
			return got;
	}
	n = c->end - c->start;
	if (n > len)
		n = len;
	memcpy(buf, c->buf + c->start, n);
	c->start += n;
	return (ssize_t)n;
}

int tls_conn_pending(const struct tls_conn *c)
{
	return c->start != c->end || (c->ssl != NULL && SSL_pending(c->ssl));
}

int tls_conn_fd(const struct tls_conn *c)
{
	return c->fd;
}

const char *tls_conn_describe(const struct tls_conn *c)
{
	if (c->ssl == NULL)
		return "plain";
	return errorf("%s %s", SSL_get_version(c->ssl),
		      SSL_get_cipher_name(c->ssl));
}

void tls_conn_close(struct tls_conn **conn)
{
	struct tls_conn *c = *conn;

	if (c == NULL)
		return;
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	close(c->fd);
	wipe(c->buf, sizeof(c->buf));
	free(c->host);
	free(c);
	*conn = NULL;
}
