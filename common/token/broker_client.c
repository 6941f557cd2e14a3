/*
 * broker_client.c - one request, one reply, over the broker's UNIX
 * socket (protocol: broker_proto.h).
 *
 * Runs inside Postfix's chrooted smtp processes (through the SASL
 * plugin), so it needs nothing but the socket: no files, no DNS.  Every
 * wait is bounded by one deadline; a broker that is down, slow or
 * talking nonsense is a temporary failure (Postfix defers the mail),
 * while the broker's own REAUTH/CONFIG answers are passed through.
 * Replies carry access tokens: the read buffer is wiped.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "token/broker_client.h"
#include "token/broker_proto.h"

static int broker_connect(const char *path, const char **error_r)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = errorf("token_socket %s: path too long",
				  printable(path, 120));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = errorf("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*error_r = errorf("token_socket %s: %s (is the oauthmail "
				  "service in master.cf, or oauthmail serve "
				  "running?)",
				  printable(path, 120), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *data, size_t len, long long deadline,
		    const char **error_r)
{
	ssize_t n;

	while (len > 0) {
		if (fdio_wait(fd, POLLOUT, deadline) <= 0) {
			*error_r = "timed out sending to the token broker";
			return -1;
		}
		n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = errorf("token broker: %s", strerror(errno));
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* read_line - one reply line, LF included; anything after it is an error */
static int read_line(int fd, struct strbuf *line, long long deadline,
		     const char **error_r)
{
	char buf[1024], *nl;
	ssize_t n;
	int ret = 0;

	while (ret == 0 &&
	       (line->len == 0 || line->data[line->len - 1] != '\n')) {
		if (fdio_wait(fd, POLLIN, deadline) <= 0) {
			*error_r = "timed out waiting for the token broker";
			return -1;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = "the token broker closed the connection "
				   "without an answer (see its log)";
			return -1;
		}
		nl = memchr(buf, '\n', (size_t)n);
		if ((nl != NULL && nl != buf + n - 1) ||
		    strbuf_append(line, buf, (size_t)n) < 0) {
			*error_r = "token broker reply malformed or too long";
			ret = -1;
		}
	}
	wipe(buf, sizeof(buf));
	return ret;
}

/* exchange - send req, parse the reply into reply_r */
static enum om_status exchange(const char *path,
			       const struct broker_request *req, int timeout_ms,
			       struct broker_reply *reply_r,
			       const char **error_r)
{
	long long deadline = fdio_now_ms() + timeout_ms;
	struct strbuf out, in;
	enum om_status st = OM_ERR_TEMP;
	int fd;

	memset(reply_r, 0, sizeof(*reply_r));
	strbuf_init(&out, BROKER_REQUEST_MAX);
	strbuf_init(&in, BROKER_REPLY_MAX);
	if (broker_proto_format_request(req, &out) < 0) {
		*error_r = "cannot format the broker request";
		strbuf_free(&out);
		return OM_ERR_CONFIG;
	}
	fd = broker_connect(path, error_r);
	if (fd >= 0 &&
	    send_all(fd, out.data, out.len, deadline, error_r) == 0 &&
	    read_line(fd, &in, deadline, error_r) == 0) {
		if (broker_proto_parse_reply(in.data, in.len, reply_r,
					     error_r) == 0)
			st = OM_OK;
	}
	if (fd >= 0)
		close(fd);
	strbuf_free(&out);
	strbuf_free(&in);
	return st;
}

enum om_status broker_client_token(const char *socket_path, const char *account,
				   int timeout_ms, char **token_r,
				   time_t *expires_r, const char **error_r)
{
	struct broker_request req = {.cmd = BROKER_TOKEN};
	struct broker_reply reply;
	enum om_status st;

	*token_r = NULL;
	if (!broker_proto_account_ok(account, strlen(account))) {
		*error_r = errorf("account name '%s' cannot be sent to the "
				  "token broker",
				  printable(account, 80));
		return OM_ERR_CONFIG;
	}
	snprintf(req.account, sizeof(req.account), "%s", account);
	st = exchange(socket_path, &req, timeout_ms, &reply, error_r);
	if (st != OM_OK)
		return st;
	if (reply.status != OM_OK || reply.token == NULL) {
		st = reply.status == OM_OK ? OM_ERR_TEMP : reply.status;
		*error_r = errorf("%s", reply.text ? reply.text
						   : "broker sent no token");
		broker_proto_reply_free(&reply);
		return st;
	}
	*token_r = reply.token;
	*expires_r = reply.expires;
	reply.token = NULL;
	broker_proto_reply_free(&reply);
	return OM_OK;
}

/* invalidate_once - one INVALIDATE exchange; the reply's class */
static enum om_status invalidate_once(const char *socket_path,
				      const struct broker_request *req,
				      int timeout_ms, const char **error_r)
{
	struct broker_reply reply;
	enum om_status st;

	st = exchange(socket_path, req, timeout_ms, &reply, error_r);
	if (st != OM_OK)
		return st;
	st = reply.status;
	if (st != OM_OK)
		*error_r = errorf("%s", reply.text ? reply.text : "refused");
	broker_proto_reply_free(&reply);
	return st;
}

enum om_status broker_client_invalidate(const char *socket_path,
					const char *account, const char *fp,
					int timeout_ms, const char **error_r)
{
	struct broker_request req = {.cmd = BROKER_INVALIDATE};
	enum om_status st;

	if (!broker_proto_account_ok(account, strlen(account)) ||
	    !broker_proto_fingerprint_ok(fp, strlen(fp))) {
		*error_r = "bad account name or token fingerprint";
		return OM_ERR_CONFIG;
	}
	snprintf(req.account, sizeof(req.account), "%s", account);
	memcpy(req.fingerprint, fp, BROKER_FINGERPRINT_LEN + 1);
	st = invalidate_once(socket_path, &req, timeout_ms, error_r);
	if (st != OM_ERR_USAGE)
		return st;
	/* a broker older than fingerprints answers BAD: say it its way */
	log_debug("token broker refused INVALIDATE with a fingerprint (an "
		  "older oauthmail?): sending it without");
	req.fingerprint[0] = '\0';
	return invalidate_once(socket_path, &req, timeout_ms, error_r);
}
