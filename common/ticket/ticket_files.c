/*
 * ticket_files.c - attachments and inline images, saved as files.
 *
 * Every non-body part of a filed message is saved under
 * files/<ticket>/ so help-desk front ends can serve it; inline images
 * (parts whose Content-ID the HTML references as cid:) are saved the
 * same way and the stored HTML is rewritten to point at them (the path
 * %-encoded there; the JSON has it as it is).
 *
 * Names come from the sender and are hostile until cleaned: only the
 * last path component is kept, control bytes and separators become
 * '_', leading dots, dashes and blanks go, the UTF-8 is repaired, the
 * length is capped (keeping the extension), and files are created
 * O_EXCL|O_NOFOLLOW so an existing file is never replaced: a clash
 * becomes name-2.ext, up to name-4.ext; past that (Outlook names every
 * signature logo image001.png) the name is made unique per message and
 * part, TAG-N-name.ext with TAG from the dedup key, then with a random
 * word added, so a taken name is never a delivery error and a delivery
 * makes a handful of open() calls at most.  A part over
 * max_attachment_size is not saved (the raw message in the Maildir
 * still has it).
 *
 * The rewritten HTML may grow to max_text_size + its length + 64K; past
 * that (thousands of cid: references) the HTML is stored as it came,
 * with its cid: links: never a delivery error.
 *
 * Failure modes: I/O errors return -1 with errno (ENOSPC, EIO) after
 * removing the half-written file; the caller undoes the rest.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "lib/errorf.h"
#include "lib/strbuf.h"
#include "ticket/ticket_files.h"
#include "ticket/ticket_ioerr.h"
#include "ticket/ticket_mail.h"

#define NAME_TRIES 4   /* name.ext, name-2.ext ... name-4.ext */
#define TAGGED_TRIES 4 /* TAG-N-name.ext, then TAG-N-RANDOM-name.ext */

static const struct {
	const char *type;
	const char *ext;
} type_exts[] = {
	{"image/png", ".png"},
	{"image/jpeg", ".jpg"},
	{"image/jpg", ".jpg"},
	{"image/gif", ".gif"},
	{"image/webp", ".webp"},
	{"image/bmp", ".bmp"},
	{"image/svg+xml", ".svg"},
	{"text/plain", ".txt"},
	{"text/html", ".html"},
	{"text/calendar", ".ics"},
	{"text/csv", ".csv"},
	{"text/rfc822-headers", ".txt"},
	{"message/rfc822", ".eml"},
	{"message/global", ".eml"},
	{"message/delivery-status", ".txt"},
	{"application/pdf", ".pdf"},
	{"application/zip", ".zip"},
};

static const char *ext_for(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(type_exts) / sizeof(type_exts[0]); i++)
		if (strcasecmp(type, type_exts[i].type) == 0)
			return type_exts[i].ext;
	return ".bin";
}

static int bad_byte(unsigned char c)
{
	return c < 0x20 || c == 0x7f || strchr("/\\:*?\"<>|", c) != NULL;
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static void utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

static void clean_base(const char *name, char *buf, size_t size)
{
	const char *base = name, *p;
	char *valid;
	size_t i, n;

	for (p = name; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	valid = g_utf8_make_valid(base, -1);
	for (p = valid;
	     *p == '.' || *p == ' ' || *p == '-' || *p == '~' || *p == '\t';
	     p++)
		;
	snprintf(buf, size, "%s", p);
	g_free(valid);
	for (i = 0; buf[i] != '\0'; i++)
		if (bad_byte((unsigned char)buf[i]))
			buf[i] = '_';
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '.'))
		buf[--n] = '\0';
}

void ticket_files_safe_name(const char *name, const char *ext, char *out,
			    size_t size)
{
	char buf[1024], stem[1024], tail[64] = "";
	const char *dot;
	size_t max = size - 1 < TICKET_FILE_NAME_MAX ? size - 1
						     : TICKET_FILE_NAME_MAX;

	clean_base(name ? name : "", buf, sizeof(buf));
	if (buf[0] == '\0') {
		clean_base(ext ? ext : "", tail, sizeof(tail));
		snprintf(out, size, "attachment%s%s",
			 tail[0] != '\0' ? "." : "", tail);
		return;
	}
	dot = strrchr(buf, '.');
	if (dot != NULL && dot != buf && strlen(dot) <= 16) {
		snprintf(tail, sizeof(tail), "%s", dot);
		snprintf(stem, sizeof(stem), "%.*s", (int)(dot - buf), buf);
	} else {
		snprintf(stem, sizeof(stem), "%s", buf);
	}
	utf8_cut(stem, max - strlen(tail));
	snprintf(out, size, "%s%s", stem, tail);
}

/* A forwarded message is named after its subject, as osTicket does. */
static const char *message_subject(const struct ticket_part *p)
{
	GMimeMessage *msg = GMIME_IS_MESSAGE_PART(p->obj)
				    ? g_mime_message_part_get_message(
					      GMIME_MESSAGE_PART(p->obj))
				    : NULL;
	const char *s = msg ? g_mime_message_get_subject(msg) : NULL;

	return s != NULL && *s != '\0' ? s : "message";
}

static void part_name(const struct ticket_part *p, unsigned int index,
		      char *out, size_t size)
{
	const char *ext = ext_for(p->content_type);
	char raw[512];

	if (p->name != NULL && p->name[0] != '\0') {
		ticket_files_safe_name(p->name, ext + 1, out, size);
		return;
	}
	if (p->content_id != NULL && p->content_id[0] != '\0')
		snprintf(raw, sizeof(raw), "%.*s%s",
			 (int)strcspn(p->content_id, "@"), p->content_id, ext);
	else if (p->is_message)
		snprintf(raw, sizeof(raw), "%s%s", message_subject(p), ext);
	else if (strcasecmp(p->content_type, "text/rfc822-headers") == 0)
		snprintf(raw, sizeof(raw), "original-headers%s", ext);
	else
		snprintf(raw, sizeof(raw), "part-%u%s", index, ext);
	ticket_files_safe_name(raw, ext + 1, out, size);
}

static int open_excl(const char *dir, const char *final, char *path,
		     size_t psize)
{
	snprintf(path, psize, "%s/%s", dir, final);
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0640);
}

/* Create dir/name, or dir/stem-N.ext when taken, or a name unique to
 * this message's part (tag and index) when those are taken too. */
static int open_unique(const char *dir, const char *name, const char *tag,
		       unsigned int index, char *path, size_t psize,
		       char *final, size_t fsize)
{
	const char *dot = strrchr(name, '.');
	int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
	const char *ext = name + stem;
	int i, fd;

	for (i = 1; i <= NAME_TRIES; i++) {
		if (i == 1)
			snprintf(final, fsize, "%s", name);
		else
			snprintf(final, fsize, "%.*s-%d%s", stem, name, i, ext);
		fd = open_excl(dir, final, path, psize);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	tag = tag != NULL && tag[0] != '\0' ? tag : "msg";
	for (i = 0; i < TAGGED_TRIES; i++) {
		if (i == 0)
			snprintf(final, fsize, "%.8s-%u-%s", tag, index, name);
		else
			snprintf(final, fsize, "%.8s-%u-%08x-%s", tag, index,
				 (unsigned int)g_random_int(), name);
		fd = open_excl(dir, final, path, psize);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

static int make_dirs(const char *root, const char *dir, const char **error_r)
{
	if ((mkdir(root, 0750) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0750) < 0 && errno != EEXIST)) {
		*error_r = errorf("mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int save_part(const char *dir, const char *rel, uint64_t ticket,
		     const char *tag, struct ticket_part *p, unsigned int index,
		     uint64_t max, struct ticket_strv *created,
		     const char **error_r)
{
	char name[TICKET_FILE_NAME_MAX + 16], final[TICKET_FILE_NAME_MAX + 64];
	char path[4096 + 256];
	int fd, r, saved;

	part_name(p, index, name, sizeof(name));
	fd = open_unique(dir, name, tag, index, path, sizeof(path), final,
			 sizeof(final));
	if (fd < 0) {
		*error_r = errorf("create %s/%s: %s", dir, name,
				  ticket_ioerr_text(errno));
		return -1;
	}
	r = ticket_mail_part_copy(p, fd, max, &p->size);
	saved = errno;
	if (close(fd) < 0 && r == 0) {
		r = -1;
		saved = errno;
	}
	if (r != 0) {
		unlink(path);
		p->skipped = r == 1;
		errno = saved;
		if (r < 0)
			*error_r = errorf("write %s: %s", path,
					  ticket_ioerr_text(errno));
		return r < 0 ? -1 : 0;
	}
	if (ticket_strv_add(created, path, (size_t)-1) < 0 ||
	    asprintf(&p->path, "%s/%llu/%s", rel, (unsigned long long)ticket,
		     final) < 0) {
		p->path = NULL;
		*error_r = "out of memory";
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int ticket_files_save(const char *root, const char *rel, uint64_t ticket,
		      struct ticket_mail *m, const char *tag, uint64_t max,
		      struct ticket_strv *created, const char **error_r)
{
	struct ticket_part *p;
	char dir[4096 + 32];
	unsigned int i = 0;

	if (m->parts == NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s/%llu", root, (unsigned long long)ticket);
	if (make_dirs(root, dir, error_r) < 0)
		return -1;
	for (p = m->parts; p != NULL; p = p->next)
		if (save_part(dir, rel, ticket, tag, p, ++i, max, created,
			      error_r) < 0)
			return -1;
	return 0;
}

void ticket_files_undo(struct ticket_strv *created)
{
	size_t i;

	for (i = 0; i < created->n; i++)
		unlink(created->v[i]);
}

/* Length of the cid URL's id at p, and the id itself %-decoded. */
static size_t cid_at(const char *p, const char *end, char *id, size_t size)
{
	size_t n = 0, o = 0;
	unsigned int hex;

	while (p + n < end && strchr("\"' \t\r\n>)", p[n]) == NULL)
		n++;
	for (size_t i = 0; i < n && o + 1 < size; i++) {
		if (p[i] == '%' && i + 2 < n &&
		    sscanf(p + i + 1, "%2x", &hex) == 1 && hex != 0) {
			id[o++] = (char)hex;
			i += 2;
		} else {
			id[o++] = p[i];
		}
	}
	id[o] = '\0';
	if (o > 1 && id[0] == '<' && id[o - 1] == '>') {
		memmove(id, id + 1, o - 2);
		id[o - 2] = '\0';
	}
	return n;
}

static struct ticket_part *find_cid(struct ticket_mail *m, const char *id)
{
	struct ticket_part *p;

	for (p = m->parts; p != NULL; p = p->next)
		if (p->content_id != NULL && strcmp(p->content_id, id) == 0)
			return p;
	for (p = m->parts; p != NULL; p = p->next)
		if (p->content_id != NULL && strcasecmp(p->content_id, id) == 0)
			return p;
	return NULL;
}

void ticket_files_mark_inline(struct ticket_mail *m)
{
	const char *p, *end;
	struct ticket_part *part;
	char id[512];

	if (m->html.len == 0)
		return;
	p = m->html.data;
	end = p + m->html.len;
	while ((p = strcasestr(p, "cid:")) != NULL) {
		p += 4;
		p += cid_at(p, end, id, sizeof(id));
		if ((part = find_cid(m, id)) != NULL)
			part->inline_ref = 1;
	}
}

/* Append, telling the size cap (1) from a real allocation failure (-1). */
static int put(struct strbuf *out, const char *data, size_t n)
{
	if (n > out->max || out->len > out->max - n)
		return 1;
	return strbuf_append(out, data, n);
}

/* A saved file's path as a URL in an HTML attribute: %-encoded, so
 * quotes, blanks, '#', '%' and '&' in a name break nothing. */
static int put_url(struct strbuf *out, const char *path)
{
	char *url = g_uri_escape_string(path, "/", FALSE);
	int r;

	if (url == NULL)
		return -1;
	r = put(out, url, strlen(url));
	g_free(url);
	return r;
}

static int rewrite_into(struct ticket_mail *m, struct strbuf *out)
{
	const char *p = m->html.data, *end = p + m->html.len, *hit;
	struct ticket_part *part;
	char id[512];
	size_t n;
	int r;

	while ((hit = strcasestr(p, "cid:")) != NULL) {
		n = cid_at(hit + 4, end, id, sizeof(id));
		part = find_cid(m, id);
		if ((r = put(out, p, (size_t)(hit - p))) != 0 ||
		    (r = part && part->path ? put_url(out, part->path)
					    : put(out, hit, 4 + n)) != 0)
			return r;
		p = hit + 4 + n;
	}
	return put(out, p, (size_t)(end - p));
}

int ticket_files_rewrite_html(struct ticket_mail *m)
{
	struct strbuf out;
	int r;

	if (m->html.len == 0 || strcasestr(m->html.data, "cid:") == NULL)
		return 0;
	strbuf_init(&out, m->html.max + m->html.len + 64 * 1024);
	r = rewrite_into(m, &out);
	if (r != 0) {
		/* over the cap: the original HTML stays, links and all */
		strbuf_free(&out);
		return r < 0 ? -1 : 0;
	}
	strbuf_free(&m->html);
	m->html = out;
	return 0;
}
