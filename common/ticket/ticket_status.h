/* ticket_status.h - the outcome classes every ticket queue call returns */
#ifndef OAUTHMAIL_TICKET_STATUS_H
#define OAUTHMAIL_TICKET_STATUS_H

/* Transient or not is said here, by the call's result, and nowhere
 * else: `deliver` maps TICKET_ERR_TEMP to 75, the other subcommands to
 * exit 4. */
enum ticket_status {
	TICKET_OK = 0,
	TICKET_ERR_TEMP = -1,  /* retry later: busy, locked, disk full, I/O */
	TICKET_ERR_QUEUE = -2, /* the queue needs an admin: config, schema */
};

#endif
