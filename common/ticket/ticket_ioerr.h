/* ticket_ioerr.h - the text of an I/O error, with the fix where known */
#ifndef OAUTHMAIL_TICKET_IOERR_H
#define OAUTHMAIL_TICKET_IOERR_H

/* ticket_ioerr_text - strerror(err); for EFBIG also the file-size
 * limit (RLIMIT_FSIZE) in bytes and how to raise it.  The text is an
 * errorf() buffer: valid for the next few errorf() calls. */
const char *ticket_ioerr_text(int err);

#endif
