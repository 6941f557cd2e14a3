/* strbuf.h - growable byte buffers with a mandatory size cap */
#ifndef OAUTHMAIL_STRBUF_H
#define OAUTHMAIL_STRBUF_H

#include <stddef.h>

/* The data is always NUL-terminated; len does not count the NUL.
 * Appends past max fail and leave the buffer as it was. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* strbuf_init - empty buffer that may hold at most max bytes */
void strbuf_init(struct strbuf *sb, size_t max);
/* strbuf_append - add n bytes; 0, or -1 when over the cap or out of memory */
int strbuf_append(struct strbuf *sb, const void *data, size_t n);
/* strbuf_append_str - add a NUL-terminated string */
int strbuf_append_str(struct strbuf *sb, const char *s);
/* strbuf_printf - append formatted text */
int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* strbuf_reset - make empty, keep memory (wiped) */
void strbuf_reset(struct strbuf *sb);
/* strbuf_steal - hand the data to the caller; the buffer becomes empty */
char *strbuf_steal(struct strbuf *sb);
/* strbuf_free - wipe and free (safe for secrets) */
void strbuf_free(struct strbuf *sb);

/* wipe - clear memory that held a secret; the compiler may not skip it */
void wipe(void *p, size_t n);
/* wipe_free_str - wipe a NUL-terminated string, free it, NULL the pointer */
void wipe_free_str(char **p);

#endif
