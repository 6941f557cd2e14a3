/*
 * lmtp_server.c - `ticketq lmtp`'s server loop: one process, one poll()
 * over the listening socket and every session (lmtp_session.c).
 *
 * Rules:
 *   - sockets are non-blocking; each session has its own input and
 *     output buffers, and input is read only while its replies are
 *     being taken (a client that sends without reading waits);
 *   - deliveries run in the loop: after each round of input, every
 *     session whose message is complete goes into one call of the
 *     deliver hook (one commit round for the group: messages that
 *     arrived while the last one was being made durable share the
 *     next), and its replies are queued only after that returned;
 *   - IDLE_MS after the last work, hooks->idle lets the queues go;
 *   - at most max_sessions at once; one more is accepted, told
 *     "421 4.3.2" and closed, never dropped silently;
 *   - a session idle for timeout_s seconds is told "421 4.4.2" and
 *     closed; a message it was sending is dropped, nothing was stored;
 *   - at *stop (SIGTERM): stop accepting, close every session (the
 *     delivery in progress, if any, finishes first).
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/log.h"
#include "lmtp_server.h"

#define POLL_MAX_MS 1000     /* to notice SIGTERM */
#define IDLE_MS 50	     /* quiet this long after work: hooks->idle */
#define ACCEPT_PAUSE_MS 100  /* after EMFILE: let sessions close */
#define READ_PAUSE_OUT 16384 /* replies unread: stop reading input */

struct conn {
	int fd;
	long long deadline;
	struct lmtp_session s;
};

struct server {
	const struct lmtp_hooks *hooks;
	struct conn **conns;
	size_t max;
	struct lmtp_job **jobs; /* a delivery round's, max * LMTP_RCPT_MAX */
	int timeout_ms;
	long long accept_pause_until;
	int busy; /* the last round had work: hooks->idle is due */
};

static void set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void conn_close(struct server *sv, size_t i)
{
	struct conn *c = sv->conns[i];

	close(c->fd);
	lmtp_session_end(&c->s);
	free(c);
	sv->conns[i] = NULL;
}

static void refuse_busy(int fd)
{
	static const char busy[] =
		"421 4.3.2 Too many LMTP sessions, try again later\r\n";

	(void)write(fd, busy, sizeof(busy) - 1);
	close(fd);
}

static void accept_one(struct server *sv, int lfd)
{
	struct conn *c;
	size_t i;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			sv->accept_pause_until =
				fdio_now_ms() + ACCEPT_PAUSE_MS;
		return;
	}
	for (i = 0; i < sv->max && sv->conns[i] != NULL; i++)
		;
	if (i == sv->max || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("LMTP: %zu sessions at once, one more refused "
			 "(--max-sessions)",
			 sv->max);
		refuse_busy(fd);
		return;
	}
	set_nonblocking(fd);
	c->fd = fd;
	c->deadline = fdio_now_ms() + sv->timeout_ms;
	lmtp_session_start(&c->s, sv->hooks);
	sv->conns[i] = c;
}

/* Write what the session has to say: 0, or -1 to close. */
static int conn_write(struct conn *c)
{
	ssize_t n;

	while (c->s.out.len > 0) {
		n = send(c->fd, c->s.out.data, c->s.out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		memmove(c->s.out.data, c->s.out.data + n, c->s.out.len - n);
		c->s.out.len -= (size_t)n;
		c->s.out.data[c->s.out.len] = '\0';
	}
	return c->s.state == LMTP_STATE_DONE ? -1 : 0;
}

/* Read and act on input: 0, or -1 to close (EOF, error). */
static int conn_read(struct server *sv, struct conn *c)
{
	ssize_t n;

	n = recv(c->fd, c->s.in + c->s.inlen, sizeof(c->s.in) - c->s.inlen, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	c->s.inlen += (size_t)n;
	c->deadline = fdio_now_ms() + sv->timeout_ms;
	lmtp_session_input(&c->s);
	return 0;
}

static short conn_events(const struct conn *c)
{
	short ev = 0;

	if (c->s.out.len > 0)
		ev |= POLLOUT;
	if (c->s.state != LMTP_STATE_DONE && c->s.out.len < READ_PAUSE_OUT)
		ev |= POLLIN;
	return ev;
}

static void conn_timeout(struct server *sv, size_t i)
{
	static const char idle[] = "421 4.4.2 Idle too long, closing\r\n";
	struct conn *c = sv->conns[i];

	(void)send(c->fd, idle, sizeof(idle) - 1, MSG_NOSIGNAL);
	conn_close(sv, i);
}

static void serve_conn(struct server *sv, size_t i, short revents)
{
	struct conn *c = sv->conns[i];
	int r = 0;

	if (revents & (POLLIN | POLLHUP | POLLERR))
		r = conn_read(sv, c);
	if (r == 0)
		r = conn_write(c);
	if (r < 0)
		conn_close(sv, i);
	else if (fdio_now_ms() >= c->deadline)
		conn_timeout(sv, i);
}

/* Every session whose message is complete: their jobs in one call of
 * the deliver hook, then their replies (the next message a session
 * had sent already may be complete then: the caller comes again).
 * The number of sessions served. */
static size_t deliver_round(struct server *sv)
{
	struct conn *c;
	size_t i, n = 0, served = 0;

	for (i = 0; i < sv->max; i++)
		if ((c = sv->conns[i]) != NULL &&
		    c->s.state == LMTP_STATE_DELIVER)
			n += lmtp_session_jobs(&c->s, sv->jobs + n);
	if (n > 0)
		sv->hooks->deliver(sv->hooks->ctx, sv->jobs, n);
	for (i = 0; i < sv->max; i++) {
		if ((c = sv->conns[i]) == NULL ||
		    c->s.state != LMTP_STATE_DELIVER)
			continue;
		served++;
		lmtp_session_delivered(&c->s);
		if (conn_write(c) < 0)
			conn_close(sv, i);
	}
	return served;
}

/* One round of poll() over the listener and every session. */
static int one_round(struct server *sv, int lfd, struct pollfd *pfd,
		     size_t *slot)
{
	size_t i, n = 1;
	int r;

	pfd[0].fd = fdio_now_ms() < sv->accept_pause_until ? -1 : lfd;
	pfd[0].events = POLLIN;
	for (i = 0; i < sv->max; i++) {
		if (sv->conns[i] == NULL)
			continue;
		pfd[n].fd = sv->conns[i]->fd;
		pfd[n].events = conn_events(sv->conns[i]);
		slot[n++] = i;
	}
	r = poll(pfd, n, sv->busy ? IDLE_MS : POLL_MAX_MS);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0 && sv->busy && sv->hooks->idle != NULL)
		sv->hooks->idle(sv->hooks->ctx);
	sv->busy = r > 0;
	if (pfd[0].revents & (POLLERR | POLLNVAL))
		return -1;
	for (i = 1; i < n; i++)
		serve_conn(sv, slot[i], pfd[i].revents);
	while (deliver_round(sv) > 0)
		;
	if (pfd[0].revents & POLLIN)
		accept_one(sv, lfd);
	return 0;
}

int lmtp_server_run(int lfd, const struct lmtp_hooks *hooks,
		    size_t max_sessions, int timeout_s,
		    volatile sig_atomic_t *stop)
{
	struct server sv = {hooks, NULL, max_sessions, NULL, timeout_s * 1000,
			    0,	   0};
	struct pollfd *pfd = calloc(max_sessions + 1, sizeof(*pfd));
	size_t *slot = calloc(max_sessions + 1, sizeof(*slot));
	size_t i;
	int r = 0;

	sv.conns = calloc(max_sessions, sizeof(*sv.conns));
	sv.jobs = calloc(max_sessions * LMTP_RCPT_MAX, sizeof(*sv.jobs));
	if (pfd == NULL || slot == NULL || sv.conns == NULL || sv.jobs == NULL)
		r = -1;
	set_nonblocking(lfd);
	while (r == 0 && !*stop)
		r = one_round(&sv, lfd, pfd, slot);
	for (i = 0; sv.conns != NULL && i < max_sessions; i++)
		if (sv.conns[i] != NULL)
			conn_close(&sv, i);
	free(sv.conns);
	free(sv.jobs);
	free(pfd);
	free(slot);
	return r;
}
