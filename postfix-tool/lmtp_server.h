/* lmtp_server.h - the poll() loop of `ticketq lmtp`: many LMTP sessions
 * in one process */
#ifndef OAUTHMAIL_LMTP_SERVER_H
#define OAUTHMAIL_LMTP_SERVER_H

#include <signal.h>
#include <stddef.h>

#include "lmtp_session.h"

#define LMTP_SESSIONS_MAX 1000

/* lmtp_server_run - accept on the listening socket lfd and serve up to
 * max_sessions sessions at once, each dropped after timeout_s seconds
 * without input (421 4.4.2), until *stop is set.  0, or -1 when the
 * listening socket fails. */
int lmtp_server_run(int lfd, const struct lmtp_hooks *hooks,
		    size_t max_sessions, int timeout_s,
		    volatile sig_atomic_t *stop);

#endif
