/*
 * oauth_redirect.c - catching the authorization code.
 *
 * With the default flow the browser is sent back to redirect_uri, an
 * http://localhost URL; we listen there (loopback only, IPv4 and IPv6
 * for "localhost"), answer the one request that carries our state with
 * a short page, and return the code or the error the provider put in
 * the query.  With --paste the user copies the final URL from the
 * browser's address bar; the same query parser reads it.  The request
 * is outside input: bounded (8 KB, 10 s per connection), and a wrong
 * state is refused (CSRF).  The code never reaches a log.
 */
#include "oauthmail-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/errorf.h"
#include "lib/log.h"
#include "lib/number.h"
#include "lib/strbuf.h"
#include "token/oauth_redirect.h"

#define REQUEST_MAX 8192
#define CONN_TIMEOUT_MS 10000

struct redirect_listener {
	int fds[2];
	int nfds;
	char path[512];
};

struct parsed_uri {
	char host[64];
	int port; /* 0 = none given */
	char path[512];
};

static int parse_loopback_uri(const char *uri, struct parsed_uri *p)
{
	const char *host, *end, *colon;
	size_t n;

	memset(p, 0, sizeof(*p));
	if (strncmp(uri, "http://", 7) != 0)
		return -1;
	host = uri + 7;
	end = host + strcspn(host, "/?#");
	colon = host[0] == '[' ? strstr(host, "]:")
			       : memchr(host, ':', (size_t)(end - host));
	if (colon != NULL && colon < end && host[0] == '[')
		colon++;
	n = (size_t)((colon && colon < end ? colon : end) - host);
	if (n == 0 || n >= sizeof(p->host))
		return -1;
	memcpy(p->host, host, n);
	if (colon != NULL && colon < end) {
		unsigned long long v;

		if (number_parse_len(colon + 1, (size_t)(end - colon - 1), 1,
				     65535, &v) < 0)
			return -1;
		p->port = (int)v;
	}
	snprintf(p->path, sizeof(p->path), "%.*s", (int)strcspn(end, "?#"),
		 *end ? end : "/");
	if (p->path[0] == '\0')
		snprintf(p->path, sizeof(p->path), "/");
	return strcasecmp(p->host, "localhost") == 0 ||
			       strcmp(p->host, "127.0.0.1") == 0 ||
			       strcmp(p->host, "[::1]") == 0
		       ? 0
		       : -1;
}

static int bind_one(int family, int port, int *fd_r)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	int fd, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	a4.sin_family = AF_INET;
	a4.sin_port = htons((unsigned short)port);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_family = AF_INET6;
	a6.sin6_port = htons((unsigned short)port);
	a6.sin6_addr = in6addr_loopback;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if ((family == AF_INET
		     ? bind(fd, (struct sockaddr *)&a4, sizeof(a4))
		     : bind(fd, (struct sockaddr *)&a6, sizeof(a6))) < 0 ||
	    listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return ss.ss_family == AF_INET
		       ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
		       : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static char *make_uri(const char *redirect_uri, const struct parsed_uri *p,
		      int port)
{
	char buf[1024];

	if (p->port != 0)
		return strdup(redirect_uri);
	snprintf(buf, sizeof(buf), "http://%s:%d%s", p->host, port,
		 redirect_uri + 7 + strlen(p->host));
	return strdup(buf);
}

int oauth_redirect_listen(const char *redirect_uri,
			  struct redirect_listener **listener_r, char **uri_r,
			  const char **error_r)
{
	struct redirect_listener *l;
	struct parsed_uri p;
	int port, v6 = 0;

	if (parse_loopback_uri(redirect_uri, &p) < 0) {
		*error_r = errorf("redirect_uri %s is not an http://localhost "
				  "URL; use --paste or --device",
				  redirect_uri);
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	snprintf(l->path, sizeof(l->path), "%s", p.path);
	v6 = strcmp(p.host, "[::1]") == 0;
	if (bind_one(v6 ? AF_INET6 : AF_INET, p.port, &l->fds[0]) < 0) {
		*error_r = errorf("cannot listen on %s port %d: %s (is another "
				  "oauthmail authorize running?)",
				  p.host, p.port, strerror(errno));
		free(l);
		return -1;
	}
	l->nfds = 1;
	port = bound_port(l->fds[0]);
	if (strcasecmp(p.host, "localhost") == 0 &&
	    bind_one(AF_INET6, port, &l->fds[1]) == 0)
		l->nfds = 2; /* browsers may resolve localhost to ::1 */
	*uri_r = make_uri(redirect_uri, &p, port);
	*listener_r = l;
	return 0;
}

void oauth_redirect_close(struct redirect_listener **lp)
{
	int i;

	if (*lp == NULL)
		return;
	for (i = 0; i < (*lp)->nfds; i++)
		close((*lp)->fds[i]);
	free(*lp);
	*lp = NULL;
}

void oauth_redirect_result_free(struct redirect_result *r)
{
	wipe_free_str(&r->code);
	free(r->error);
	free(r->description);
	memset(r, 0, sizeof(*r));
}

static char *decode_value(const char *v, size_t n)
{
	char *plus = strndup(v, n), *out = NULL, *p;
	int len = 0;

	if (plus == NULL)
		return NULL;
	for (p = plus; *p != '\0'; p++)
		if (*p == '+')
			*p = ' ';
	p = curl_easy_unescape(NULL, plus, 0, &len);
	if (p != NULL && memchr(p, '\0', (size_t)len) == NULL)
		out = strndup(p, (size_t)len);
	if (p != NULL) {
		wipe(p, (size_t)len);
		curl_free(p);
	}
	wipe_free_str(&plus);
	return out;
}

static void take_param(const char *key, size_t klen, const char *val,
		       size_t vlen, struct redirect_result *r, char **state)
{
	char **slot = NULL;

	if (klen == 4 && strncmp(key, "code", 4) == 0)
		slot = &r->code;
	else if (klen == 5 && strncmp(key, "error", 5) == 0)
		slot = &r->error;
	else if (klen == 17 && strncmp(key, "error_description", 17) == 0)
		slot = &r->description;
	else if (klen == 5 && strncmp(key, "state", 5) == 0)
		slot = state;
	if (slot != NULL && *slot == NULL)
		*slot = decode_value(val, vlen);
}

static void parse_query(const char *q, size_t len, struct redirect_result *r,
			char **state)
{
	const char *end = q + len, *amp, *eq;

	while (q < end) {
		amp = memchr(q, '&', (size_t)(end - q));
		if (amp == NULL)
			amp = end;
		eq = memchr(q, '=', (size_t)(amp - q));
		if (eq != NULL)
			take_param(q, (size_t)(eq - q), eq + 1,
				   (size_t)(amp - eq - 1), r, state);
		q = amp + 1;
	}
}

int oauth_redirect_parse(const char *text, const char *state,
			 struct redirect_result *r, const char **error_r)
{
	const char *q = strchr(text, '?');
	char *got_state = NULL;
	size_t len;

	memset(r, 0, sizeof(*r));
	q = q != NULL ? q + 1 : text;
	len = strcspn(q, "#\r\n \t");
	if (len > REQUEST_MAX) {
		*error_r = "redirect URL too long";
		return -1;
	}
	parse_query(q, len, r, &got_state);
	if (r->code == NULL && r->error == NULL) {
		*error_r = "no code= or error= in the redirected URL (copy the "
			   "whole address from the browser)";
	} else if (got_state == NULL || strcmp(got_state, state) != 0) {
		*error_r =
			"the state in the URL does not match this sign-in "
			"(an old browser tab, or a forged link); start again";
	} else {
		free(got_state);
		return 0;
	}
	free(got_state);
	oauth_redirect_result_free(r);
	return -1;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* read_request - the request head, bounded in size and time */
static int read_request(int fd, struct strbuf *req)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[1024];
	ssize_t n;

	while (strstr(req->data ? req->data : "", "\r\n\r\n") == NULL) {
		if (poll(&pfd, 1, CONN_TIMEOUT_MS) <= 0)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || strbuf_append(req, buf, (size_t)n) < 0)
			return -1;
		if (memchr(buf, '\0', (size_t)n) != NULL)
			return -1;
	}
	return 0;
}

static void respond(int fd, int status, const char *text)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8"
		     "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
		     "<!doctype html><title>oauthmail</title><h1>oauthmail</h1>"
		     "<p>%s</p>\n",
		     status,
		     status == 200   ? "OK"
		     : status == 404 ? "Not Found"
				     : "Bad Request",
		     text);
	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		log_debug("redirect listener: write: %s", strerror(errno));
}

/* handle_connection - 1 when this request was the redirect (result
 * filled), 0 to keep waiting */
static int handle_connection(struct redirect_listener *l, int fd,
			     const char *state, struct redirect_result *r)
{
	struct strbuf req;
	const char *error;
	char *target;
	size_t plen = strlen(l->path);
	int done = 0;

	strbuf_init(&req, REQUEST_MAX);
	if (read_request(fd, &req) < 0 || strncmp(req.data, "GET ", 4) != 0) {
		strbuf_free(&req);
		return 0;
	}
	target = req.data + 4;
	/* the request target alone: code and state never from a header */
	target[strcspn(target, " \r\n")] = '\0';
	if (strncmp(target, l->path, plen) != 0 ||
	    (target[plen] != '?' && target[plen] != '\0')) {
		respond(fd, 404, "Not the sign-in redirect.");
	} else if (oauth_redirect_parse(target, state, r, &error) < 0) {
		log_warn("redirect listener: %s", error);
		respond(fd, 400,
			"This is not the sign-in oauthmail is waiting "
			"for. See the terminal.");
	} else {
		respond(fd, 200,
			r->code != NULL
				? "Sign-in complete. You can close this window."
				: "Sign-in failed. The terminal says why.");
		done = 1;
	}
	strbuf_free(&req);
	return done;
}

int oauth_redirect_wait(struct redirect_listener *l, const char *state,
			int timeout, struct redirect_result *result_r,
			const char **error_r)
{
	struct pollfd pfds[2];
	struct timespec deadline;
	long left;
	int i, fd;

	memset(result_r, 0, sizeof(*result_r));
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	while ((left = ms_left(&deadline)) > 0) {
		for (i = 0; i < l->nfds; i++) {
			pfds[i].fd = l->fds[i];
			pfds[i].events = POLLIN;
			pfds[i].revents = 0;
		}
		if (poll(pfds, (nfds_t)l->nfds, (int)left) < 0 &&
		    errno != EINTR)
			break;
		for (i = 0; i < l->nfds; i++) {
			if (!(pfds[i].revents & POLLIN))
				continue;
			fd = accept4(l->fds[i], NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			if (handle_connection(l, fd, state, result_r)) {
				close(fd);
				return 0;
			}
			close(fd);
		}
	}
	*error_r = errorf("no redirect from the browser within %d seconds",
			  timeout);
	return -1;
}
