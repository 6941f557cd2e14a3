/* tls_conn.h - a TCP connection to a mail server that becomes TLS
 * (implicit or after STARTTLS), with bounded, timed line reads */
#ifndef OAUTHMAIL_TLS_CONN_H
#define OAUTHMAIL_TLS_CONN_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;
struct tls_conn;

/* tls_conn_open - connect to host:port (every address getaddrinfo
 * gives, each within timeout_ms); plain TCP until tls_conn_start_tls */
int tls_conn_open(const char *host, int port, int timeout_ms,
		  struct tls_conn **conn_r, const char **error_r);

/* tls_conn_start_tls - TLS handshake (1.2 or later) with certificate and
 * host name verification always on; SNI for host names.  ca_file (may
 * be NULL) adds a trust anchor to the system's. */
int tls_conn_start_tls(struct tls_conn *conn, const char *ca_file,
		       const char **error_r);

/* tls_conn_write - send all of (data, len) within the timeout */
int tls_conn_write(struct tls_conn *conn, const void *data, size_t len,
		   const char **error_r);

/* tls_conn_read_line - the next line without its CRLF into line
 * (replaced, not appended); a line longer than line->max is an error.
 * 0, or -1 with error_r (also on EOF). */
int tls_conn_read_line(struct tls_conn *conn, struct strbuf *line,
		       const char **error_r);

/* tls_conn_read_some - up to len bytes: buffered ones first.  >0 bytes,
 * 0 at EOF, -1 error, -2 nothing yet (call again after poll). */
ssize_t tls_conn_read_some(struct tls_conn *conn, void *buf, size_t len,
			   const char **error_r);

/* tls_conn_pending - 1 when bytes are buffered (poll would not see them) */
int tls_conn_pending(const struct tls_conn *conn);

/* tls_conn_fd - the socket, for poll */
int tls_conn_fd(const struct tls_conn *conn);

/* tls_conn_describe - "TLSv1.3 TLS_AES_256_GCM_SHA384", or "plain" */
const char *tls_conn_describe(const struct tls_conn *conn);

/* tls_conn_close - close and free; NULLs the pointer */
void tls_conn_close(struct tls_conn **conn);

#endif
