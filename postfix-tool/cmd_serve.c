/*
 * cmd_serve.c - oauthmail serve: the token broker.
 *
 * Chrooted Postfix smtp processes ask it for access tokens over a UNIX
 * socket (protocol: broker_proto.h, docs/oauthmail-serve.8), so they
 * never need refresh tokens, CA files, DNS or writable files in the
 * chroot.  Three ways to run it:
 *   - Postfix master.cf, spawn(8): one connection on stdin/stdout (and
 *     stderr: so we log to syslog only when stderr is a socket);
 *   - systemd socket activation: LISTEN_FDS; a listening socket is
 *     served in a loop, a connected one (Accept=yes) once;
 *   - standalone: --listen PATH creates the socket (mode 0600 unless
 *     --mode/--group say otherwise) and serves until SIGTERM.
 * Rules: every request line is bounded (BROKER_REQUEST_MAX; a longer
 * one is answered BAD); at most SERVE_REQUESTS_PER_CONN per connection;
 * answers carry the error class (TEMP / REAUTH / CONFIG) so the plugin
 * tells Postfix to defer; logs name accounts and token fingerprints,
 * never tokens.  A listening socket is served by serve_loop.c: many
 * connections at once, refreshes in child processes.  One connection
 * (spawn, Accept=yes) is served here, a refresh done in line.
 * token_cache_invalidate() is recorded in the token file, so a refusal
 * reported here reaches every other process too.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "token/broker_proto_server.h"
#include "cli.h"
#include "cli_main.h"
#include "lib/errorf.h"
#include "lib/fdio.h"
#include "lib/listener.h"
#include "lib/log.h"
#include "lib/number.h"
#include "lib/strbuf.h"
#include "serve.h"
#include "token/oauthmail_conf.h"
#include "token/token_cache.h"

#define SERVE_USAGE                                                         \
	"serve [--listen PATH [--mode OCTAL] [--group GROUP]]\n"            \
	"  answer token requests: on stdin/stdout (Postfix spawn), on the " \
	"systemd\n  socket (LISTEN_FDS), or on a UNIX socket of its own"

static volatile sig_atomic_t serve_stop;

struct serve_opts {
	const char *listen_path;
	mode_t mode;
	const char *group;
};

static void on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

/* read_request - one line from fd by the deadline, byte by byte (a
 * request is tiny and nothing after its LF may be swallowed); 1 line,
 * 0 EOF, -1 error or too slow, -2 too long */
static int read_request(int fd, long long deadline, char *line, size_t size,
			size_t *len_r)
{
	size_t len = 0;
	ssize_t n;

	while (len < size) {
		if (fdio_wait(fd, POLLIN, deadline) <= 0)
			return -1;
		n = read(fd, line + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return len == 0 && n == 0 ? 0 : -1;
		if (line[len++] == '\n') {
			*len_r = len;
			return 1;
		}
	}
	return -2;
}

void serve_answer_token(struct token_cache *cache, const char *account,
			struct strbuf *reply)
{
	struct access_token tok;
	const char *error;
	enum om_status st;

	st = token_cache_get(cache, account, &tok, &error);
	if (st == OM_OK &&
	    broker_proto_format_ok(tok.token, tok.expires, reply) == 0) {
		log_info("broker: token %s for account %s", tok.fingerprint,
			 account);
		return;
	}
	if (st == OM_OK) {
		st = OM_ERR_CONFIG;
		error = "the token in the cache cannot be sent";
	}
	log_warn("broker: account %s: %s", account, error);
	strbuf_reset(reply);
	broker_proto_format_error(st, error, reply);
}

/* peek_token - the reply to TOKEN when the cache has a fresh token at
 * hand; 0 when only the locked path can answer */
static int peek_token(struct token_cache *cache, const char *account,
		      struct strbuf *reply)
{
	struct access_token tok;
	const char *error;
	enum om_status st;

	st = token_cache_peek(cache, account, &tok, &error);
	if (st == OM_ERR_TEMP && error == NULL)
		return 0;
	if (st != OM_OK) {
		log_warn("broker: %s", error);
		broker_proto_format_error(st, error, reply);
		return 1;
	}
	if (broker_proto_format_ok(tok.token, tok.expires, reply) < 0)
		return 0; /* the locked path says why */
	log_info("broker: token %s for account %s", tok.fingerprint, account);
	return 1;
}

void serve_too_long(struct strbuf *reply)
{
	log_warn("broker: request longer than %d bytes; hanging up",
		 BROKER_REQUEST_MAX);
	broker_proto_format_error(OM_ERR_USAGE,
				  "request line too long (at most 256 bytes "
				  "with its LF)",
				  reply);
}

int serve_parse(const char *line, size_t len, struct broker_request *req_r,
		struct strbuf *reply)
{
	const char *error;

	if (broker_proto_parse_request(line, len, req_r, &error) == 0)
		return 0;
	log_warn("broker: bad request: %s", error);
	broker_proto_format_error(OM_ERR_USAGE, error, reply);
	return -1;
}

enum serve_next serve_request(struct token_cache *cache,
			      const struct broker_request *req, int peek,
			      struct strbuf *reply)
{
	if (req->cmd == BROKER_TOKEN) {
		if (!peek)
			serve_answer_token(cache, req->account, reply);
		else if (!peek_token(cache, req->account, reply))
			return SERVE_REFRESH;
		return SERVE_REPLY;
	}
	if (req->cmd == BROKER_INVALIDATE)
		token_cache_invalidate(cache, req->account,
				       req->fingerprint[0] ? req->fingerprint
							   : NULL);
	broker_proto_format_ok(NULL, 0, reply);
	return SERVE_REPLY;
}

/* answer_line - one request line to its reply; -1 to hang up after it */
static int answer_line(struct token_cache *cache, const char *line, size_t len,
		       struct strbuf *reply)
{
	struct broker_request req;

	if (serve_parse(line, len, &req, reply) < 0)
		return -1;
	serve_request(cache, &req, 0, reply);
	return 0;
}

/* serve_conn - one connection (spawn, Accept=yes): requests on in,
 * replies on out, until EOF or trouble; a refresh is done right here */
static void serve_conn(struct token_cache *cache, int in, int out)
{
	char line[BROKER_REQUEST_MAX + 1];
	struct strbuf reply;
	size_t len;
	int i, r;

	/* one deadline for the whole connection: this process serves
	   nobody else, but a silent client must not keep it forever */
	long long deadline = fdio_now_ms() + SERVE_REQUEST_TIMEOUT_MS;

	strbuf_init(&reply, BROKER_REPLY_MAX);
	for (i = 0; i < SERVE_REQUESTS_PER_CONN && !serve_stop; i++) {
		r = read_request(in, deadline, line, sizeof(line) - 1, &len);
		strbuf_reset(&reply);
		if (r == -2) {
			serve_too_long(&reply);
		} else if (r < 0)
			log_warn("broker: request malformed or too slow; "
				 "hanging up");
		if (r <= 0) {
			if (reply.len > 0)
				fdio_write_all(out, reply.data, reply.len);
			break;
		}
		r = answer_line(cache, line, len, &reply);
		if (fdio_write_all(out, reply.data, reply.len) < 0 || r < 0)
			break;
	}
	strbuf_free(&reply);
}

/* quiet_stderr - under spawn(8) stderr is the client's socket */
static void quiet_stderr(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) == 0 && S_ISSOCK(st.st_mode)) {
		log_to_stderr(0);
		log_to_syslog(1);
	}
}

static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	char *end;
	int i;

	o->mode = 0600;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			o->listen_path = argv[++i];
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			o->group = argv[++i];
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			o->mode = (mode_t)strtoul(argv[++i], &end, 8);
			if (*end != '\0' || o->mode > 0777)
				break;
		} else
			break;
	}
	if (i == argc && (o->listen_path != NULL || o->group == NULL))
		return 0;
	fprintf(stderr, "usage: oauthmail %s\n", SERVE_USAGE);
	return -1;
}

/* log_listening - where, and who may connect (SOCKET ACCESS in
 * oauthmail-serve(8)) */
static void log_listening(const char *path)
{
	struct stat st;

	if (path == NULL)
		log_info("broker: listening on the systemd socket");
	else if (stat(path, &st) == 0)
		log_info("broker: listening on %s (mode %04o, uid %ld, "
			 "gid %ld)",
			 path, (unsigned)(st.st_mode & 07777), (long)st.st_uid,
			 (long)st.st_gid);
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	struct serve_opts o = {0};
	struct token_cache *cache;
	const char *error;
	int ret, fd;

	if (cli_help(argc, argv, SERVE_USAGE))
		return OM_OK;
	if (parse_opts(argc, argv, &o) < 0)
		return OM_ERR_USAGE;
	if (log_get_min_level() > LOG_LEVEL_INFO)
		log_set_min_level(LOG_LEVEL_INFO);
	log_stderr_min_level(LOG_LEVEL_INFO); /* a daemon: say what it does */
	quiet_stderr();
	if ((ret = cli_open_cache(cli, &cache)) != OM_OK)
		return ret;
	cli_catch_stop_signals(on_signal);
	fd = o.listen_path
		     ? listener_unix(o.listen_path, o.mode, o.group, &error)
		     : listener_systemd();
	if (o.listen_path != NULL && fd < 0) {
		log_error("serve: %s", error);
		ret = OM_ERR_CONFIG;
	} else if (fd >= 0 && listener_is_listening(fd)) {
		log_listening(o.listen_path);
		ret = serve_loop(cache, fd, &serve_stop);
	} else if (fd >= 0) {
		serve_conn(cache, fd, fd); /* systemd Accept=yes */
	} else {
		serve_conn(cache, STDIN_FILENO, STDOUT_FILENO);
	}
	if (o.listen_path != NULL && fd >= 0)
		unlink(o.listen_path);
	token_cache_close(&cache);
	return ret;
}
