/*
 * serve_loop.c - the token broker's concurrent server (oauthmail serve
 * on a listening socket: --listen, or systemd with Accept=no): one
 * process, one poll() loop over the listening socket, every connection
 * and every token refresh in flight.
 *
 * Rules:
 *   - sockets are non-blocking; each connection has its own input buffer
 *     (one request line: at most BROKER_REQUEST_MAX bytes with its LF;
 *     longer is answered BAD and closed) and its own output buffer;
 *   - each request must arrive, and its reply be read, within
 *     SERVE_REQUEST_TIMEOUT_MS: an idle or slow client is told so (BAD)
 *     and dropped, and it never holds anybody else meanwhile;
 *   - at most conn_max connections at once; one more is accepted, told
 *     "TEMP broker busy" and closed, never dropped silently;
 *   - a TOKEN the cache answers without its lock (a fresh token: rule 2)
 *     is answered at once.  One that needs the locked path (a refresh, a
 *     back-off, an error) goes to a child process, one per account at a
 *     time, that runs token_cache_get (single-flight lock, the request,
 *     the token file written before use) and writes its reply line into
 *     a pipe; the loop hands that line to every connection waiting for
 *     the account and answers everybody else meanwhile.  Any request for
 *     an account with a refresh in flight waits for it (INVALIDATE takes
 *     the account's lock);
 *   - INVALIDATE runs in the loop: it takes the account's lock briefly,
 *     and waits for it when another process (oauthmail refresh) holds it;
 *   - at SIGTERM: stop accepting, close the connections, and wait for
 *     the refresh children, which may be writing a rotated refresh token
 *     (rule 4).
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "serve.h"
#include "token/broker_proto_server.h"
#include "token/om_status.h"

#define CONN_MAX 256	      /* connections served at once */
#define REFRESH_WAIT_MS 60000 /* = the plugin's BROKER_TIMEOUT_MS */
#define ACCEPTS_PER_ROUND 64  /* then the connections get their turn */
#define POLL_MAX_MS 1000      /* to notice SIGTERM */
#define ACCEPT_PAUSE_MS 100   /* after EMFILE: let connections close */
#define DRAIN_MAX 65536	      /* unread input read away before a close */

struct conn {
	int fd; /* -1: a free slot */
	char in[BROKER_REQUEST_MAX];
	size_t inlen;
	struct strbuf out;
	size_t outoff;
	long long deadline;
	int requests;
	int eof;      /* the client shut down its side */
	int closing;  /* close once out is written */
	int waiting;  /* for the refresh of req.account */
	int answered; /* by refresher_done, not yet worked on */
	struct broker_request req;
};

struct refresher {
	pid_t pid; /* 0: a free slot */
	int fd;	   /* read end of the child's pipe */
	char account[BROKER_ACCOUNT_MAX + 1];
	struct strbuf reply;
};

struct loop {
	struct token_cache *cache;
	int lfd;
	size_t conn_max;
	size_t nconns;
	struct conn *conns;
	struct refresher *refs; /* conn_max slots: one per waiting account */
	struct pollfd *pfds;
	size_t *pslot; /* pfds[i] is conns[pslot[i]] or refs[pslot[i]] */
	char *pkind;   /* 'l' listener, 'c' connection, 'r' refresher */
	long long accept_pause_until;
};

static void conn_work(struct loop *l, struct conn *c);

static size_t conn_max_for_fd_limit(void)
{
	struct rlimit rl;
	size_t n = CONN_MAX;

	/* a connection and, at worst, a refresher pipe each */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY &&
	    (rl.rlim_cur < 16 || (rl.rlim_cur - 16) / 2 < n))
		n = rl.rlim_cur > 18 ? (size_t)(rl.rlim_cur - 16) / 2 : 1;
	return n;
}

static int loop_init(struct loop *l, struct token_cache *cache, int lfd)
{
	size_t i, n;

	memset(l, 0, sizeof(*l));
	l->cache = cache;
	l->lfd = lfd;
	l->conn_max = conn_max_for_fd_limit();
	n = 1 + 2 * l->conn_max;
	l->conns = calloc(l->conn_max, sizeof(*l->conns));
	l->refs = calloc(l->conn_max, sizeof(*l->refs));
	l->pfds = calloc(n, sizeof(*l->pfds));
	l->pslot = calloc(n, sizeof(*l->pslot));
	l->pkind = calloc(n, 1);
	if (!l->conns || !l->refs || !l->pfds || !l->pslot || !l->pkind)
		return -1;
	for (i = 0; i < l->conn_max; i++)
		l->conns[i].fd = -1;
	return 0;
}

static void loop_free(struct loop *l)
{
	free(l->conns);
	free(l->refs);
	free(l->pfds);
	free(l->pslot);
	free(l->pkind);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* drain_and_close - read what the client sent and we will not answer
 * (closing a UNIX socket with unread input resets the connection, and
 * the client would lose our last line), then close */
static void drain_and_close(int fd)
{
	char buf[1024];
	size_t total = 0;
	ssize_t n;

	while (total < DRAIN_MAX &&
	       (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	wipe(buf, sizeof(buf));
	close(fd);
}

/* say_and_close - a last word, if the socket takes it now, then close */
static void say_and_close(int fd, const char *line)
{
	ssize_t n = send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);

	(void)n;
	drain_and_close(fd);
}

static void conn_close(struct loop *l, struct conn *c)
{
	drain_and_close(c->fd);
	c->fd = -1;
	strbuf_free(&c->out);
	l->nconns--;
}

static void conn_open(struct loop *l, int fd)
{
	struct conn *c = NULL;
	size_t i;

	for (i = 0; i < l->conn_max && c == NULL; i++)
		if (l->conns[i].fd < 0)
			c = &l->conns[i];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	strbuf_init(&c->out, BROKER_REPLY_MAX + 1);
	c->deadline = fdio_now_ms() + SERVE_REQUEST_TIMEOUT_MS;
	l->nconns++;
}

static void accept_some(struct loop *l)
{
	int i, fd;

	for (i = 0; i < ACCEPTS_PER_ROUND; i++) {
		fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("broker: accept: %s", strerror(errno));
				l->accept_pause_until =
					fdio_now_ms() + ACCEPT_PAUSE_MS;
			} else if (errno != EAGAIN && errno != EINTR &&
				   errno != ECONNABORTED)
				log_warn("broker: accept: %s", strerror(errno));
			return;
		}
		if (l->nconns < l->conn_max) {
			conn_open(l, fd);
			continue;
		}
		log_warn("broker: %zu connections open (the limit): "
			 "turning one away",
			 l->conn_max);
		say_and_close(fd, "TEMP broker busy: too many connections; "
				  "try again\n");
	}
}

/* flush - write what fits; 1 when out is empty */
static int flush(struct conn *c)
{
	ssize_t n;

	while (c->outoff < c->out.len) {
		n = send(c->fd, c->out.data + c->outoff, c->out.len - c->outoff,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			c->closing = 1; /* the client is gone */
			c->outoff = c->out.len;
			break;
		}
		c->outoff += (size_t)n;
	}
	strbuf_reset(&c->out);
	c->outoff = 0;
	return 1;
}

static struct refresher *refresher_for(struct loop *l, const char *account)
{
	size_t i;

	for (i = 0; i < l->conn_max; i++)
		if (l->refs[i].pid != 0 &&
		    strcmp(l->refs[i].account, account) == 0)
			return &l->refs[i];
	return NULL;
}

/* refresher_child - in the child: the locked path, the reply line into
 * the pipe; nothing of the loop's sockets stays open here */
static void refresher_child(struct loop *l, const char *account, int wfd)
{
	struct strbuf reply;
	size_t i;

	close(l->lfd);
	for (i = 0; i < l->conn_max; i++) {
		if (l->conns[i].fd >= 0)
			close(l->conns[i].fd);
		if (l->refs[i].pid != 0)
			close(l->refs[i].fd);
	}
	strbuf_init(&reply, BROKER_REPLY_MAX + 1);
	serve_answer_token(l->cache, account, &reply);
	if (fdio_write_all(wfd, reply.data, reply.len) < 0)
		log_warn("broker: refresh of account %s: the broker is gone",
			 account);
	strbuf_free(&reply);
	_exit(0);
}

/* refresher_start - a child that refreshes account; -1 when none can */
static int refresher_start(struct loop *l, const char *account)
{
	struct refresher *r = NULL;
	int p[2];
	size_t i;

	for (i = 0; i < l->conn_max && r == NULL; i++)
		if (l->refs[i].pid == 0)
			r = &l->refs[i];
	if (r == NULL || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	r->pid = fork();
	if (r->pid == 0)
		refresher_child(l, account, p[1]);
	close(p[1]);
	if (r->pid < 0) {
		log_warn("broker: fork: %s", strerror(errno));
		r->pid = 0;
		close(p[0]);
		return -1;
	}
	r->fd = p[0];
	set_nonblock(r->fd);
	memcpy(r->account, account, strlen(account) + 1);
	strbuf_init(&r->reply, BROKER_REPLY_MAX + 1);
	return 0;
}

static void reply_error(struct conn *c, enum om_status st, const char *text)
{
	strbuf_reset(&c->out);
	broker_proto_format_error(st, text, &c->out);
}

/* replied - a reply is queued: the next request gets a new deadline */
static void replied(struct conn *c)
{
	c->waiting = 0;
	c->deadline = fdio_now_ms() + SERVE_REQUEST_TIMEOUT_MS;
	if (c->requests >= SERVE_REQUESTS_PER_CONN)
		c->closing = 1;
}

/* wait_for_refresh - c waits for account's refresher (started if none) */
static void wait_for_refresh(struct loop *l, struct conn *c)
{
	if (refresher_for(l, c->req.account) == NULL &&
	    refresher_start(l, c->req.account) < 0) {
		reply_error(c, OM_ERR_TEMP,
			    "broker: cannot start a token refresh (out of "
			    "processes?); try again");
		replied(c);
		return;
	}
	c->waiting = 1;
	c->deadline = fdio_now_ms() + REFRESH_WAIT_MS;
}

/* take_line - the next complete request line out of c->in into line */
static int take_line(struct conn *c, char *line, size_t *len_r)
{
	char *nl = memchr(c->in, '\n', c->inlen);
	size_t len;

	if (nl == NULL)
		return 0;
	len = (size_t)(nl - c->in) + 1;
	memcpy(line, c->in, len);
	memmove(c->in, c->in + len, c->inlen - len);
	c->inlen -= len;
	*len_r = len;
	return 1;
}

/* next_request - parse and answer (or park) one buffered request */
static void next_request(struct loop *l, struct conn *c, const char *line,
			 size_t len)
{
	c->requests++;
	if (serve_parse(line, len, &c->req, &c->out) < 0) {
		c->closing = 1;
		return;
	}
	if (c->req.cmd != BROKER_PING &&
	    refresher_for(l, c->req.account) != NULL) {
		wait_for_refresh(l, c);
		return;
	}
	if (serve_request(l->cache, &c->req, 1, &c->out) == SERVE_REFRESH)
		wait_for_refresh(l, c);
	else
		replied(c);
}

static void conn_work(struct loop *l, struct conn *c)
{
	char line[BROKER_REQUEST_MAX];
	size_t len;

	while (c->fd >= 0) {
		if (!flush(c))
			return; /* POLLOUT */
		if (c->closing || (c->eof && c->inlen == 0)) {
			conn_close(l, c);
			return;
		}
		if (c->waiting)
			return;
		if (take_line(c, line, &len))
			next_request(l, c, line, len);
		else if (c->inlen == sizeof(c->in)) {
			serve_too_long(&c->out);
			c->closing = 1;
		} else if (c->eof)
			c->inlen = 0; /* a last line without LF: ignored */
		else
			return; /* POLLIN */
	}
}

static void conn_read(struct loop *l, struct conn *c)
{
	ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);

	if (n > 0)
		c->inlen += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->eof = 1;
		if (n < 0)
			c->inlen =
				0; /* a broken connection: nothing to answer */
	}
	conn_work(l, c);
}

/* reap - wait for a refresh child to end */
static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		continue;
}

/* answer_waiters - reply to every connection waiting for account and
 * mark it answered; nothing runs on them yet (that may start refreshes) */
static void answer_waiters(struct loop *l, const char *account,
			   const struct strbuf *reply)
{
	struct conn *c;
	size_t i;

	for (i = 0; i < l->conn_max; i++) {
		c = &l->conns[i];
		if (c->fd < 0 || !c->waiting ||
		    strcmp(c->req.account, account) != 0)
			continue;
		if (c->req.cmd == BROKER_TOKEN)
			strbuf_append(&c->out, reply->data, reply->len);
		else
			serve_request(l->cache, &c->req, 1, &c->out);
		replied(c);
		c->answered = 1;
	}
}

/* refresher_done - the child's reply line to everyone waiting for it.
 * The account and the reply are taken out of the slot, and the slot is
 * freed, before anybody is answered: a waiter's next pipelined request
 * may start a refresh, in this very slot. */
static void refresher_done(struct loop *l, struct refresher *r)
{
	char account[BROKER_ACCOUNT_MAX + 1];
	struct strbuf reply = r->reply;
	size_t i;

	memcpy(account, r->account, sizeof(account));
	memset(&r->reply, 0, sizeof(r->reply));
	close(r->fd);
	reap(r->pid);
	r->pid = 0;
	if (reply.len == 0 || reply.data[reply.len - 1] != '\n') {
		strbuf_reset(&reply);
		broker_proto_format_error(OM_ERR_TEMP,
					  "broker: the token refresh failed "
					  "(see the broker's log); try again",
					  &reply);
	}
	answer_waiters(l, account, &reply);
	strbuf_free(&reply);
	for (i = 0; i < l->conn_max; i++)
		if (l->conns[i].fd >= 0 && l->conns[i].answered) {
			l->conns[i].answered = 0;
			conn_work(l, &l->conns[i]);
		}
}

static void refresher_read(struct loop *l, struct refresher *r)
{
	char buf[4096];
	ssize_t n = read(r->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && strbuf_append(&r->reply, buf, (size_t)n) == 0) {
		wipe(buf, sizeof(buf));
		return;
	}
	wipe(buf, sizeof(buf));
	refresher_done(l, r); /* EOF, error, or a reply over the cap */
}

/* expire - connections past their deadline: a last word, then close */
static void expire(struct loop *l, long long now)
{
	struct conn *c;
	size_t i;

	for (i = 0; i < l->conn_max; i++) {
		c = &l->conns[i];
		if (c->fd < 0 || now < c->deadline)
			continue;
		log_info("broker: %s; closing a connection",
			 c->waiting ? "token refresh too slow"
				    : "no complete request in time");
		say_and_close(c->fd,
			      c->waiting
				      ? "TEMP broker: the token refresh takes "
					"too long; try again\n"
				      : "BAD no complete request in time\n");
		c->fd = -1;
		strbuf_free(&c->out);
		l->nconns--;
	}
}

static void poll_add(struct loop *l, size_t *n, int fd, short events, char kind,
		     size_t slot)
{
	l->pfds[*n].fd = fd;
	l->pfds[*n].events = events;
	l->pfds[*n].revents = 0;
	l->pkind[*n] = kind;
	l->pslot[*n] = slot;
	(*n)++;
}

/* poll_set - what to wait for; *timeout_r until the next deadline */
static size_t poll_set(struct loop *l, long long now, int *timeout_r)
{
	long long next = now + POLL_MAX_MS;
	struct conn *c;
	size_t i, n = 0;

	if (now >= l->accept_pause_until)
		poll_add(l, &n, l->lfd, POLLIN, 'l', 0);
	else if (l->accept_pause_until < next)
		next = l->accept_pause_until;
	for (i = 0; i < l->conn_max; i++) {
		c = &l->conns[i];
		if (c->fd >= 0 && (c->out.len > 0 || !c->waiting))
			poll_add(l, &n, c->fd,
				 c->out.len > 0 ? POLLOUT : POLLIN, 'c', i);
		if (c->fd >= 0 && c->deadline < next)
			next = c->deadline;
		if (l->refs[i].pid != 0)
			poll_add(l, &n, l->refs[i].fd, POLLIN, 'r', i);
	}
	*timeout_r = next > now ? (int)(next - now) : 0;
	return n;
}

static void dispatch(struct loop *l, size_t n)
{
	struct pollfd *p;
	size_t i;

	for (i = 0; i < n; i++) {
		p = &l->pfds[i];
		if (p->revents == 0)
			continue;
		if (l->pkind[i] == 'l')
			accept_some(l);
		else if (l->pkind[i] == 'r' && l->refs[l->pslot[i]].pid != 0)
			refresher_read(l, &l->refs[l->pslot[i]]);
		else if (l->pkind[i] == 'c' &&
			 l->conns[l->pslot[i]].fd == p->fd) {
			if (p->events & POLLIN)
				conn_read(l, &l->conns[l->pslot[i]]);
			else
				conn_work(l, &l->conns[l->pslot[i]]);
		}
	}
}

/* loop_stop - close everything; wait for refreshes (rule 4) */
static void loop_stop(struct loop *l)
{
	size_t i;

	for (i = 0; i < l->conn_max; i++) {
		if (l->conns[i].fd >= 0)
			conn_close(l, &l->conns[i]);
		if (l->refs[i].pid != 0) {
			log_info("broker: waiting for the token refresh of "
				 "account %s",
				 l->refs[i].account);
			close(l->refs[i].fd);
			reap(l->refs[i].pid);
			strbuf_free(&l->refs[i].reply);
		}
	}
}

int serve_loop(struct token_cache *cache, int lfd, volatile sig_atomic_t *stop)
{
	struct loop l;
	int timeout;
	size_t n;

	if (loop_init(&l, cache, lfd) < 0 || set_nonblock(lfd) < 0) {
		log_error("broker: out of memory or bad listening socket");
		loop_free(&l);
		return OM_ERR_TEMP;
	}
	while (!*stop) {
		n = poll_set(&l, fdio_now_ms(), &timeout);
		if (poll(l.pfds, n, timeout) > 0)
			dispatch(&l, n);
		expire(&l, fdio_now_ms());
	}
	log_info("broker: stopping");
	loop_stop(&l);
	loop_free(&l);
	return OM_OK;
}
