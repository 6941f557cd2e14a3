/* ticket_files.h - attachments and inline images saved for a ticket */
#ifndef OAUTHMAIL_TICKET_FILES_H
#define OAUTHMAIL_TICKET_FILES_H

#include <stddef.h>
#include <stdint.h>

struct ticket_mail;
struct ticket_strv;

#define TICKET_FILE_NAME_MAX 100 /* bytes of a saved file name */

/* ticket_files_safe_name - a safe file name from an untrusted one: no
 * path separators or control bytes, no leading dots, dashes or blanks,
 * valid UTF-8, at most TICKET_FILE_NAME_MAX bytes (the extension is
 * kept), never empty ("attachment" + ext when nothing is left). */
void ticket_files_safe_name(const char *name, const char *ext, char *out,
			    size_t size);

/* ticket_files_save - save every attachment part of mail under
 * root/<ticket>/ with a unique safe name (O_EXCL; when the name and
 * name-2 ... name-4 are taken, "<tag>-<part>-name" with the first 8
 * bytes of tag, a per-message word such as the dedup key), set each
 * part's path to "<rel>/<ticket>/<name>" and its size; parts over max bytes
 * (0 = no limit) are skipped and marked.  Paths created are added to
 * created (for undo).  0, or -1 with error_r and errno (ENOSPC ...). */
int ticket_files_save(const char *root, const char *rel, uint64_t ticket,
		      struct ticket_mail *mail, const char *tag, uint64_t max,
		      struct ticket_strv *created, const char **error_r);

/* ticket_files_mark_inline - flag parts whose Content-ID the HTML
 * references (cid:, any case, quoted or not, %-encoded) */
void ticket_files_mark_inline(struct ticket_mail *mail);

/* ticket_files_rewrite_html - point cid: references in mail->html at
 * the saved files' paths.  0 (html unchanged when the rewritten HTML
 * would pass its size cap), or -1 out of memory (html unchanged). */
int ticket_files_rewrite_html(struct ticket_mail *mail);

/* ticket_files_undo - remove the files listed in created */
void ticket_files_undo(struct ticket_strv *created);

#endif
