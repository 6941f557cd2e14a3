/*
 * ticket_ioerr.c - the text of an I/O error, with the fix where known.
 *
 * One error needs more than strerror(): EFBIG, a write past the
 * process's file-size limit (RLIMIT_FSIZE, `ulimit -f`).  Postfix
 * local(8) sets that limit from mailbox_size_limit for the commands it
 * runs from aliases and .forward files, so a queue whose index or
 * Maildir file grows past it stops taking mail.  The programs ignore
 * SIGXFSZ, which would kill them (exit 153) with a partial file left
 * in tmp/; the write then fails with EFBIG, the file is removed, the
 * delivery defers (75) and the text says which limit and what to do.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/errorf.h"
#include "ticket/ticket_ioerr.h"

const char *ticket_ioerr_text(int err)
{
	struct rlimit rl;

	if (err != EFBIG)
		return strerror(err);
	if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return strerror(err);
	return errorf("%s: over this process's file-size limit of %llu "
		      "bytes (ulimit -f; Postfix local(8) sets it from "
		      "mailbox_size_limit): raise the limit, or deliver "
		      "through pipe(8)",
		      strerror(err), (unsigned long long)rl.rlim_cur);
}
