/* tls_testutil.h - a scripted mail server on 127.0.0.1 for the mail/
 * unit tests: a throw-away self-signed certificate (IP 127.0.0.1, so a
 * client verifies it with ca_file = the written PEM), and a thread that
 * plays one canned dialogue.  A script is an array of steps:
 *   "S text"   send text + CRLF (text may hold more CRLF-joined lines)
 *   "C prefix" read one line from the client; it must start with prefix
 *   "TLS"      TLS handshake now (after STARTTLS, or first: implicit)
 *   "TLS?"     a handshake the client may refuse (the script ends there)
 *   NULL       end: wait until the client closes, then close
 * Mismatches are counted in srv->failures and printed. */
#ifndef OAUTHMAIL_TLS_TESTUTIL_H
#define OAUTHMAIL_TLS_TESTUTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct test_tls {
	EVP_PKEY *key;
	X509 *cert;
	SSL_CTX *ctx;
	char pem[256]; /* the certificate, for ca_file */
};

struct script_server {
	int lfd;
	int port;
	SSL_CTX *ctx;
	const char *const *steps;
	SSL *ssl;
	int fd;
	int failures;
	int stopped;
	pthread_t thread;
};

static int tls_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* test_tls_init - key, self-signed certificate for IP 127.0.0.1, its PEM
 * at dir/ca.pem, a server context.  0, or -1. */
static int test_tls_init(struct test_tls *t, const char *dir)
{
	X509_NAME *name;
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(t->pem, sizeof(t->pem), "%s/ca.pem", dir);
	t->key = EVP_EC_gen("P-256");
	t->cert = X509_new();
	if (t->key == NULL || t->cert == NULL)
		return -1;
	X509_set_version(t->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(t->cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(t->cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(t->cert), 86400);
	X509_set_pubkey(t->cert, t->key);
	name = X509_get_subject_name(t->cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"127.0.0.1", -1, -1,
				   0);
	X509_set_issuer_name(t->cert, name);
	if (!tls_add_ext(t->cert, NID_subject_alt_name, "IP:127.0.0.1") ||
	    !tls_add_ext(t->cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    !tls_add_ext(t->cert, NID_key_usage,
			 "critical,digitalSignature,keyCertSign") ||
	    X509_sign(t->cert, t->key, EVP_sha256()) == 0)
		return -1;
	f = fopen(t->pem, "w");
	if (f == NULL || PEM_write_X509(f, t->cert) != 1) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	t->ctx = SSL_CTX_new(TLS_server_method());
	if (t->ctx == NULL || SSL_CTX_use_certificate(t->ctx, t->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(t->ctx, t->key) != 1)
		return -1;
	return 0;
}

static void test_tls_free(struct test_tls *t)
{
	SSL_CTX_free(t->ctx);
	X509_free(t->cert);
	EVP_PKEY_free(t->key);
	unlink(t->pem);
	memset(t, 0, sizeof(*t));
}

/* test_listen - a TCP listener on 127.0.0.1, any port; fd, *port_r */
static int test_listen(int *port_r)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port_r = ntohs(a.sin_port);
	return fd;
}

static int srv_write(struct script_server *s, const char *data, size_t len)
{
	if (s->ssl != NULL)
		return SSL_write(s->ssl, data, (int)len) == (int)len ? 0 : -1;
	return write(s->fd, data, len) == (ssize_t)len ? 0 : -1;
}

/* srv_read_line - one line without CRLF; -1 at EOF */
static int srv_read_line(struct script_server *s, char *buf, size_t size)
{
	size_t n = 0;
	char c;
	int r;

	for (;;) {
		r = s->ssl != NULL ? SSL_read(s->ssl, &c, 1)
				   : (int)read(s->fd, &c, 1);
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

static void srv_fail(struct script_server *s, const char *step, const char *got)
{
	s->failures++;
	printf("FAIL server step '%s': got '%s'\n", step, got);
}

static void srv_step(struct script_server *s, const char *step)
{
	char line[70000];

	if (strncmp(step, "TLS", 3) == 0) {
		s->ssl = SSL_new(s->ctx);
		if (s->ssl != NULL && SSL_set_fd(s->ssl, s->fd) == 1 &&
		    SSL_accept(s->ssl) == 1)
			return;
		SSL_free(s->ssl);
		s->ssl = NULL;
		if (step[3] == '?')
			s->stopped = 1;
		else
			srv_fail(s, step, "handshake failed");
	} else if (strncmp(step, "S ", 2) == 0) {
		snprintf(line, sizeof(line), "%s\r\n", step + 2);
		if (srv_write(s, line, strlen(line)) < 0)
			srv_fail(s, step, "write failed");
	} else if (srv_read_line(s, line, sizeof(line)) < 0) {
		srv_fail(s, step, "(EOF)");
	} else if (strncmp(line, step + 2, strlen(step + 2)) != 0) {
		srv_fail(s, step, line);
	}
}

static void *script_run(void *arg)
{
	struct script_server *s = arg;
	const char *const *step;
	char line[1024];

	s->fd = accept(s->lfd, NULL, NULL);
	if (s->fd < 0) {
		srv_fail(s, "accept", "failed");
		return NULL;
	}
	for (step = s->steps; *step != NULL && s->failures == 0 && !s->stopped;
	     step++)
		srv_step(s, *step);
	while (srv_read_line(s, line, sizeof(line)) == 0)
		; /* until the client is done */
	if (s->ssl != NULL)
		SSL_free(s->ssl);
	close(s->fd);
	return NULL;
}

/* script_start - listen, then play steps to the first client in a
 * thread; 0, or -1 */
static int script_start(struct script_server *s, SSL_CTX *ctx,
			const char *const *steps)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->steps = steps;
	s->fd = -1;
	s->lfd = test_listen(&s->port);
	if (s->lfd < 0)
		return -1;
	if (pthread_create(&s->thread, NULL, script_run, s) != 0) {
		close(s->lfd);
		return -1;
	}
	return 0;
}

/* script_end - wait for the dialogue to finish; its failure count */
static int script_end(struct script_server *s)
{
	pthread_join(s->thread, NULL);
	close(s->lfd);
	return s->failures;
}

#endif
