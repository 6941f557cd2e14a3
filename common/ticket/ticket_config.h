/* ticket_config.h - a ticket queue: its directory and DIR/ticketq.conf */
#ifndef OAUTHMAIL_TICKET_CONFIG_H
#define OAUTHMAIL_TICKET_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define TICKET_CONFIG_NAME "ticketq.conf"
#define TICKET_HMAC_KEY_LEN 32

struct ticket_config {
	char *dir;  /* the queue directory, as given */
	char *path; /* DIR/ticketq.conf */
	unsigned char hmac_key[TICKET_HMAC_KEY_LEN];
	char *address; /* queue address: From of replies, never a participant */
	char *name;    /* display name for From, may be "" */
	char *tag_prefix; /* subject tag "[<prefix><number>]", default "#" */
	char *id_domain;  /* right-hand side of our Message-IDs */
	char *sendmail;	  /* reply command, split on blanks, no shell */
	uint64_t max_message_size;    /* bytes, 0 = no limit */
	uint64_t max_attachment_size; /* bytes, 0 = no limit */
	uint64_t max_text_size;	      /* stored text/html per message */
	int busy_timeout;	      /* seconds to wait for the database */
	int lock_timeout;	      /* seconds to wait for the queue lock */
};

/* ticket_config_parse - parse config text (pure: no files touched);
 * dir is recorded as the queue directory.  0, or -1 with error_r
 * "FILE:LINE: why". */
int ticket_config_parse(const char *dir, const char *filename, const char *text,
			size_t len, struct ticket_config **cfg_r,
			const char **error_r);

/* ticket_config_load - read DIR/ticketq.conf.  0; 1 when the queue has
 * no config (not initialised); -1 with error_r. */
int ticket_config_load(const char *dir, struct ticket_config **cfg_r,
		       const char **error_r);

/* ticket_config_init - create the queue: DIR (parent must exist), the
 * Maildir, files/, and a config with a fresh random HMAC key.  Parts
 * that exist are kept; an existing config is never overwritten.
 * *created_r says whether a config was written.  0, or -1. */
int ticket_config_init(const char *dir, const char *address, int *created_r,
		       const char **error_r);

/* ticket_config_free - free and NULL */
void ticket_config_free(struct ticket_config **cfg);

/* ticket_config_valid_address - 1 when s is a plain user@domain: at
 * most 254 bytes, no blanks or control bytes, quotes, brackets, commas
 * or semicolons; with local_optional "@domain" too.  Else 0. */
int ticket_config_valid_address(const char *s, int local_optional);

/* ticket_config_default_address - "ticketq@<host name>" into buf */
void ticket_config_default_address(char *buf, size_t size);

#endif
