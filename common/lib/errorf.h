/* errorf.h - formatted error text for error_r out-params */
#ifndef OAUTHMAIL_ERRORF_H
#define OAUTHMAIL_ERRORF_H

/* errorf - format an error message into a per-thread ring of buffers.
 * The result stays valid for the next 7 errorf() calls in this thread;
 * copy it to keep it longer.  Never put a secret into it. */
const char *errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
