/*
 * ticket_mail.c - read one message for the ticket queue, with GMime 3.
 *
 * The message is parsed from its Maildir file in GMime's persist mode:
 * headers are in memory, part contents stay on disk and are read
 * through decode and charset filters only when needed, so a 50 MB
 * attachment is never held in memory.  What the queue needs is pulled
 * out once: Message-ID, the threading candidates (In-Reply-To, then
 * References newest first), addresses (lower-cased addr-specs), the
 * decoded subject, the first text/plain and text/html bodies as UTF-8
 * (capped at max_text; extra inline text parts are appended), every
 * other part as an attachment candidate, and for delivery reports the
 * Message-IDs of the bounced message (message/rfc822 or
 * text/rfc822-headers parts).
 *
 * Rules: the parser runs in loose mode with fallback charsets (UTF-8,
 * then windows-1252) and counts its warnings; stored text is always
 * valid UTF-8 without NULs.  Nesting deeper than 32 levels and more
 * than 1000 parts are ignored (the raw file keeps them).  A message
 * GMime cannot read at all is returned flagged unparsed, never as an
 * error: the caller still stores it.
 */
#include "oauthmail-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/fdio.h"
#include "lib/strbuf.h"
#include "ticket/ticket_mail.h"

#define WALK_DEPTH_MAX 32
#define PARTS_MAX 1000
#define REFS_MAX 100
#define ADDRS_MAX 200
#define SUBJECT_MAX 998
#define CHUNK (64 * 1024)

static const char *const kind_names[] = {
	"customer", "reply", "auto-reply", "bounce", "note", "loop",
};

static const char *const flag_names[] = {
	"unparsed", "malformed",     "truncated",
	"list",	    "out-of-office", "no-auto-answer",
};

#define FLAG_COUNT (sizeof(flag_names) / sizeof(flag_names[0]))

const char *ticket_mail_kind_name(enum ticket_kind kind)
{
	if ((size_t)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "customer";
	return kind_names[kind];
}

const char *ticket_mail_class_name(enum ticket_kind kind, unsigned int flags)
{
	if (kind == TICKET_KIND_AUTOREPLY && (flags & TICKET_FLAG_LIST))
		return "list";
	return ticket_mail_kind_name(kind);
}

int ticket_mail_kind_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(name, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

void ticket_mail_flags_format(unsigned int flags, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < FLAG_COUNT; i++) {
		if (!(flags & (1U << i)))
			continue;
		snprintf(buf + len, size - len, "%s%s", len ? " " : "",
			 flag_names[i]);
		len = strlen(buf);
	}
}

unsigned int ticket_mail_flags_parse(const char *words)
{
	unsigned int flags = 0;
	size_t i, n;

	while (words != NULL && *words != '\0') {
		words += strspn(words, " ");
		n = strcspn(words, " ");
		for (i = 0; i < FLAG_COUNT; i++)
			if (n == strlen(flag_names[i]) &&
			    strncmp(words, flag_names[i], n) == 0)
				flags |= 1U << i;
		words += n;
	}
	return flags;
}

int ticket_strv_has(const struct ticket_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

int ticket_strv_add(struct ticket_strv *sv, const char *s, size_t max)
{
	char **v;

	if (s == NULL || *s == '\0' || sv->n >= max || ticket_strv_has(sv, s))
		return 0;
	v = realloc(sv->v, (sv->n + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	sv->v = v;
	if ((v[sv->n] = strdup(s)) == NULL)
		return -1;
	sv->n++;
	return 0;
}

char *ticket_strv_join(const struct ticket_strv *sv, const char *sep)
{
	size_t i, len = 1, at = 0, n;
	char *out;

	for (i = 0; i < sv->n; i++)
		len += strlen(sv->v[i]) + (i ? strlen(sep) : 0);
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (i = 0; i < sv->n; i++) {
		n = (size_t)snprintf(out + at, len - at, "%s%s", i ? sep : "",
				     sv->v[i]);
		at += n;
	}
	out[at] = '\0';
	return out;
}

void ticket_strv_free(struct ticket_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

int ticket_utf8_clean(struct strbuf *buf)
{
	struct strbuf out;
	const char *p, *end, *bad;

	if (buf->len == 0 ||
	    (g_utf8_validate(buf->data, (gssize)buf->len, &bad) &&
	     memchr(buf->data, '\0', buf->len) == NULL))
		return 0;
	strbuf_init(&out, buf->max + buf->len * 2 + 16);
	p = buf->data;
	end = buf->data + buf->len;
	while (p < end) {
		g_utf8_validate(p, end - p, &bad);
		if (strbuf_append(&out, p, (size_t)(bad - p)) < 0 ||
		    (bad < end && strbuf_append(&out, "\xef\xbf\xbd", 3) < 0)) {
			strbuf_free(&out);
			return -1;
		}
		p = bad < end ? bad + 1 : end;
	}
	strbuf_free(buf);
	*buf = out;
	buf->max = buf->len > buf->max ? buf->len : buf->max;
	return 0;
}

static void parser_warning(gint64 offset, GMimeParserWarning code,
			   const gchar *item, gpointer user_data)
{
	struct ticket_mail *m = user_data;

	(void)offset;
	(void)item;
	switch (code) {
	case GMIME_WARN_MALFORMED_MULTIPART:
	case GMIME_WARN_TRUNCATED_MESSAGE:
	case GMIME_WARN_MALFORMED_MESSAGE:
	case GMIME_CRIT_INVALID_HEADER_NAME:
	case GMIME_CRIT_CONFLICTING_HEADER:
	case GMIME_CRIT_CONFLICTING_PARAMETER:
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
	case GMIME_CRIT_NESTING_OVERFLOW:
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		m->warnings++;
		break;
	default:
		break;
	}
}

static GMimeParserOptions *parser_options(struct ticket_mail *m)
{
	static const char *fallback[] = {"utf-8", "windows-1252", NULL};
	GMimeParserOptions *o = g_mime_parser_options_new();

	g_mime_parser_options_set_address_compliance_mode(
		o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(
		o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(
		o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(o, TRUE);
	g_mime_parser_options_set_fallback_charsets(o, fallback);
	if (m != NULL)
		g_mime_parser_options_set_warning_callback(o, parser_warning,
							   m);
	return o;
}

static void library_init(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/* The part's content, decoded (and converted to UTF-8 when asked), as
 * a stream to read from; NULL when it has none. */
static GMimeStream *part_reader(GMimeObject *obj, int to_utf8)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
	GMimeContentEncoding enc;
	GMimeStream *src, *fs;
	GMimeFilter *f;
	const char *cs;

	if (w == NULL || (src = g_mime_data_wrapper_get_stream(w)) == NULL)
		return NULL;
	fs = g_mime_stream_filter_new(src);
	enc = g_mime_data_wrapper_get_encoding(w);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	cs = g_mime_object_get_content_type_parameter(obj, "charset");
	if (to_utf8 && cs != NULL &&
	    g_ascii_strcasecmp(g_mime_charset_canon_name(cs), "utf-8") != 0 &&
	    (f = g_mime_filter_charset_new(cs, "utf-8")) != NULL) {
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	if (to_utf8) {
		f = g_mime_filter_dos2unix_new(FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	g_mime_stream_reset(fs);
	return fs;
}

/* Append a text part, decoded to UTF-8, to out (stop at its cap). */
static int read_text(GMimeObject *obj, struct strbuf *out, int *truncated)
{
	GMimeStream *rs = part_reader(obj, 1);
	char buf[8192];
	ssize_t n;
	size_t room;

	if (rs == NULL)
		return 0;
	while ((n = g_mime_stream_read(rs, buf, sizeof(buf))) > 0) {
		room = out->max - out->len;
		if ((size_t)n > room) {
			strbuf_append(out, buf, room);
			*truncated = 1;
			break;
		}
		if (strbuf_append(out, buf, (size_t)n) < 0)
			break;
	}
	g_object_unref(rs);
	return 0;
}

/* An attached message: the embedded message as it was (its headers and
 * body, not the part's own MIME headers), never more than max + 1 bytes
 * written: the stream's bound ends the write past max. */
static int copy_message(struct ticket_part *part, int fd, uint64_t max,
			uint64_t *size_r)
{
	GMimeMessage *msg = GMIME_IS_MESSAGE_PART(part->obj)
				    ? g_mime_message_part_get_message(
					      GMIME_MESSAGE_PART(part->obj))
				    : NULL;
	gint64 end =
		max > 0 && max < (uint64_t)G_MAXINT64 ? (gint64)max + 1 : -1;
	GMimeStream *out;
	ssize_t n;

	*size_r = 0;
	if (msg == NULL)
		return 0;
	out = g_mime_stream_fs_new_with_bounds(fd, 0, end);
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(out), FALSE);
	n = g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, out);
	if (end >= 0 && g_mime_stream_tell(out) >= end) {
		g_object_unref(out);
		*size_r = (uint64_t)end;
		return 1;
	}
	g_object_unref(out); /* no flush: that would fsync */
	if (n < 0)
		return -1;
	*size_r = (uint64_t)n;
	return 0;
}

/* A decoded part, chunk by chunk, stopping past max. */
static int copy_decoded(GMimeStream *rs, int fd, uint64_t max, uint64_t *size_r)
{
	char *buf = malloc(CHUNK);
	ssize_t n;
	int ret = 0;

	*size_r = 0;
	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	while ((n = g_mime_stream_read(rs, buf, CHUNK)) > 0) {
		*size_r += (uint64_t)n;
		if (max > 0 && *size_r > max) {
			ret = 1;
			break;
		}
		if (fdio_write_all(fd, buf, (size_t)n) < 0) {
			ret = -1;
			break;
		}
	}
	free(buf);
	return ret;
}

int ticket_mail_part_copy(struct ticket_part *part, int fd, uint64_t max,
			  uint64_t *size_r)
{
	GMimeStream *rs;
	int ret;

	if (part->is_message)
		return copy_message(part, fd, max, size_r);
	rs = part_reader(part->obj, 0);
	if (rs == NULL) {
		*size_r = 0;
		return 0;
	}
	ret = copy_decoded(rs, fd, max, size_r);
	g_object_unref(rs);
	return ret;
}

static char *lower_dup(const char *s)
{
	char *p = strdup(s), *q;

	for (q = p; q != NULL && *q != '\0'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}

static int addrs_add(struct ticket_strv *sv, InternetAddressList *list,
		     int depth)
{
	int i, n = list ? internet_address_list_length(list) : 0;
	InternetAddress *ia;
	char *addr;

	for (i = 0; i < n && depth < 3; i++) {
		ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (addrs_add(sv,
				      internet_address_group_get_members(
					      INTERNET_ADDRESS_GROUP(ia)),
				      depth + 1) < 0)
				return -1;
			continue;
		}
		addr = lower_dup(internet_address_mailbox_get_addr(
			INTERNET_ADDRESS_MAILBOX(ia)));
		if (addr == NULL || ticket_strv_add(sv, addr, ADDRS_MAX) < 0) {
			free(addr);
			return -1;
		}
		free(addr);
	}
	return 0;
}

int ticket_mail_addrs(InternetAddressList *list, struct ticket_strv *out)
{
	return addrs_add(out, list, 0);
}

static int first_mailbox(InternetAddressList *list, char **addr_r,
			 char **name_r)
{
	struct ticket_strv sv = {NULL, 0};
	InternetAddress *ia;
	const char *name;

	if (addrs_add(&sv, list, 0) < 0) {
		ticket_strv_free(&sv);
		return -1;
	}
	if (sv.n > 0) {
		*addr_r = sv.v[0];
		sv.v[0] = strdup("");
	}
	if (name_r != NULL && internet_address_list_length(list) > 0) {
		ia = internet_address_list_get_address(list, 0);
		name = internet_address_get_name(ia);
		*name_r = strdup(name ? name : "");
	}
	ticket_strv_free(&sv);
	return 0;
}

/* In-Reply-To first, then References newest first. */
static int collect_refs(struct ticket_strv *sv, GMimeObject *obj,
			GMimeParserOptions *o)
{
	const char *irt = g_mime_object_get_header(obj, "In-Reply-To");
	const char *refs = g_mime_object_get_header(obj, "References");
	GMimeReferences *r;
	int i, ret = 0;

	if (irt != NULL && (r = g_mime_references_parse(o, irt)) != NULL) {
		for (i = 0; i < g_mime_references_length(r) && ret == 0; i++)
			ret = ticket_strv_add(
				sv, g_mime_references_get_message_id(r, i),
				REFS_MAX);
		g_mime_references_free(r);
	}
	if (refs != NULL && (r = g_mime_references_parse(o, refs)) != NULL) {
		for (i = g_mime_references_length(r) - 1; i >= 0 && ret == 0;
		     i--)
			ret = ticket_strv_add(
				sv, g_mime_references_get_message_id(r, i),
				REFS_MAX);
		g_mime_references_free(r);
	}
	return ret;
}

static int add_part(struct ticket_mail *m, GMimeObject *obj, int is_message)
{
	struct ticket_part *p, **tail;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *name = NULL, *cid = NULL;
	char *mime = ct ? g_mime_content_type_get_mime_type(ct) : NULL;

	if (m->nparts >= PARTS_MAX) {
		g_free(mime);
		return 0;
	}
	if (GMIME_IS_PART(obj)) {
		name = g_mime_part_get_filename(GMIME_PART(obj));
		cid = g_mime_part_get_content_id(GMIME_PART(obj));
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL ||
	    (p->content_type = lower_dup(
		     mime ? mime : "application/octet-stream")) == NULL) {
		free(p);
		g_free(mime);
		return -1;
	}
	g_free(mime);
	p->obj = obj;
	p->is_message = is_message;
	p->name = name != NULL ? strdup(name) : NULL;
	p->content_id = cid != NULL ? strdup(cid) : NULL;
	for (tail = &m->parts; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	m->nparts++;
	return 0;
}

static void dsn_from_message(struct ticket_mail *m, GMimeMessage *inner,
			     GMimeParserOptions *o)
{
	const char *mid;

	if (inner == NULL)
		return;
	mid = g_mime_message_get_message_id(inner);
	if (mid != NULL)
		ticket_strv_add(&m->dsn_refs, mid, REFS_MAX);
	collect_refs(&m->dsn_refs, GMIME_OBJECT(inner), o);
}

/* A header block (no body) parsed as a message: NULL when GMime finds
 * none.  The caller unrefs it. */
static GMimeMessage *parse_header_block(const char *headers, size_t len,
					GMimeParserOptions *o)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(headers, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(s);
	GMimeMessage *msg;

	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, o);
	g_object_unref(parser);
	g_object_unref(s);
	return msg;
}

/* A headers-only copy of the bounced message (text/rfc822-headers):
 * its Message-ID, In-Reply-To and References, as for message/rfc822
 * (a reply sent from the help desk's own mail client has a Message-ID
 * we never stored, but answers one we did). */
static void dsn_from_headers_part(struct ticket_mail *m, GMimeObject *obj)
{
	GMimeParserOptions *o = parser_options(NULL); /* not our warnings */
	struct strbuf sb;
	int trunc = 0;
	GMimeMessage *inner;

	strbuf_init(&sb, 64 * 1024);
	read_text(obj, &sb, &trunc);
	inner = parse_header_block(sb.data ? sb.data : "", sb.len, o);
	dsn_from_message(m, inner, o);
	if (inner != NULL)
		g_object_unref(inner);
	g_mime_parser_options_free(o);
	strbuf_free(&sb);
}

static int is_inline_text(GMimeObject *obj, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *disp = g_mime_object_get_disposition(obj);

	if (!g_mime_content_type_is_type(ct, "text", subtype))
		return 0;
	if (disp != NULL && g_ascii_strcasecmp(disp, "attachment") == 0)
		return 0;
	return g_mime_part_get_filename(GMIME_PART(obj)) == NULL;
}

static int walk_leaf(struct ticket_mail *m, GMimeObject *obj, int *trunc)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	if (g_mime_content_type_is_type(ct, "text", "rfc822-headers"))
		dsn_from_headers_part(m, obj);
	if (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
	    g_mime_content_type_is_type(ct, "message",
					"global-delivery-status")) {
		m->is_dsn = 1;
		if (m->text.len > 0)
			strbuf_append_str(&m->text, "\n\n");
		return read_text(obj, &m->text, trunc);
	}
	if (is_inline_text(obj, "plain")) {
		if (m->text.len > 0)
			strbuf_append_str(&m->text, "\n\n");
		return read_text(obj, &m->text, trunc);
	}
	if (is_inline_text(obj, "html") && m->html.len == 0)
		return read_text(obj, &m->html, trunc);
	return add_part(m, obj, 0);
}

static int walk(struct ticket_mail *m, GMimeObject *obj, int depth,
		GMimeParserOptions *o, int *trunc)
{
	GMimeContentType *ct;
	int i, n, ret = 0;

	if (obj == NULL || depth > WALK_DEPTH_MAX)
		return 0;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		dsn_from_message(m,
				 g_mime_message_part_get_message(
					 GMIME_MESSAGE_PART(obj)),
				 o);
		return add_part(m, obj, 1);
	}
	if (GMIME_IS_MULTIPART(obj)) {
		ct = g_mime_object_get_content_type(obj);
		if (g_mime_content_type_is_type(ct, "multipart", "report")) {
			const char *rt = g_mime_content_type_get_parameter(
				ct, "report-type");

			if (rt != NULL &&
			    g_ascii_strcasecmp(rt, "delivery-status") == 0)
				m->is_dsn = 1;
		}
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n && ret == 0; i++)
			ret = walk(m,
				   g_mime_multipart_get_part(
					   GMIME_MULTIPART(obj), i),
				   depth + 1, o, trunc);
		return ret;
	}
	if (GMIME_IS_PART(obj))
		return walk_leaf(m, obj, trunc);
	return 0;
}

/* --- the Subject, around a GMime 3.2.13 bug ------------------------
 *
 * GMime joins adjacent encoded words of one charset and decodes their
 * base64 as one run; after a word that ends in '=' padding its decoder
 * stops, and the text of the words that follow is lost:
 * "=?utf-8?B?YQ==?= =?utf-8?B?Yg==?=" decodes to "a" (checked with a
 * test program against Debian 12's libgmime-3.0-0 3.2.13, strict and
 * loose mode alike; a Q word or plain text after it survives, and so
 * does "=?utf-8?B?YWJj?= =?utf-8?B?ZA==?=" without padding).  A
 * subject tag in such a word vanished, and the reply opened a new
 * ticket.  When the raw Subject has a padded B word followed by another
 * encoded word, each encoded word is decoded alone, still by GMime
 * (g_mime_utils_header_decode_text), plain text by
 * g_mime_utils_decode_8bit, and the pieces joined as RFC 2047 6.2 says
 * (blanks between two encoded words dropped).  Every other subject is
 * GMime's own decoding.  Limitation: a character split across such
 * words (which RFC 2047 forbids) decodes as two broken halves. */

/* Length of the encoded word "=?charset?B?text?=" at p, 0 if there is
 * none; *padded_b says it is a B word ending in '=' padding. */
static size_t encoded_word_len(const char *p, int *padded_b)
{
	const char *q, *t, *end;

	if (p[0] != '=' || p[1] != '?')
		return 0;
	q = p + 2 + strcspn(p + 2, "? \t\r\n");
	if (*q != '?' || q == p + 2 || q[1] == '\0' ||
	    strchr("BbQq", q[1]) == NULL || q[2] != '?')
		return 0;
	t = q + 3;
	end = t + strcspn(t, "? \t\r\n");
	if (end[0] != '?' || end[1] != '=')
		return 0;
	*padded_b = (q[1] == 'B' || q[1] == 'b') && end > t && end[-1] == '=';
	return (size_t)(end + 2 - p);
}

/* 1 when GMime would lose text: a padded B word, then (after blanks
 * only) another encoded word. */
static int subject_needs_words(const char *raw)
{
	const char *p = raw;
	int padded = 0, after_padded = 0;
	size_t n;

	for (; *p != '\0'; p++) {
		n = encoded_word_len(p, &padded);
		if (n > 0 && after_padded)
			return 1;
		if (n > 0) {
			after_padded = padded;
			p += n - 1;
		} else if (strchr(" \t\r\n", *p) == NULL) {
			after_padded = 0;
		}
	}
	return 0;
}

/* Plain text between encoded words, unfolded and made UTF-8; blanks
 * only between two encoded words are dropped (RFC 2047 6.2). */
static void append_plain(GString *out, GMimeParserOptions *o, const char *p,
			 size_t len, int between_words)
{
	GString *run = g_string_new(NULL);
	char *text;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != '\r' && p[i] != '\n')
			g_string_append_c(run, p[i]);
	if (run->len > 0 &&
	    !(between_words && strspn(run->str, " \t") == run->len)) {
		text = g_mime_utils_decode_8bit(o, run->str, run->len);
		g_string_append(out, text);
		g_free(text);
	}
	g_string_free(run, TRUE);
}

static void append_word(GString *out, GMimeParserOptions *o, const char *p,
			size_t len)
{
	char *word = g_strndup(p, len);
	char *text = g_mime_utils_header_decode_text(o, word);

	g_string_append(out, text);
	g_free(text);
	g_free(word);
}

/* The raw Subject decoded one encoded word at a time (g_free it). */
static char *subject_by_words(GMimeParserOptions *o, const char *raw)
{
	GString *out = g_string_new(NULL);
	const char *p = raw + strspn(raw, " \t\r\n"), *plain = p;
	int prev_word = 0, padded;
	size_t n;

	while (*p != '\0') {
		if ((n = encoded_word_len(p, &padded)) == 0) {
			p++;
			continue;
		}
		append_plain(out, o, plain, (size_t)(p - plain), prev_word);
		append_word(out, o, p, n);
		p += n;
		plain = p;
		prev_word = 1;
	}
	append_plain(out, o, plain, (size_t)(p - plain), 0);
	return g_string_free(out, FALSE);
}

/* The raw (undecoded, folded) Subject, or NULL. */
static const char *raw_subject(GMimeMessage *msg)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	GMimeHeader *h =
		hl ? g_mime_header_list_get_header(hl, "Subject") : NULL;

	return h ? g_mime_header_get_raw_value(h) : NULL;
}

/* The raw Subject unfolded and capped, for the tag search, into
 * *copy_r (NULL when there is none).  0, or -1 out of memory. */
static int raw_subject_copy(GMimeMessage *msg, char **copy_r)
{
	const char *raw = raw_subject(msg);
	GString *out;

	*copy_r = NULL;
	if (raw == NULL)
		return 0;
	out = g_string_new(NULL);
	for (raw += strspn(raw, " \t\r\n");
	     *raw != '\0' && out->len < SUBJECT_MAX; raw++)
		if (*raw != '\r' && *raw != '\n')
			g_string_append_c(out, *raw);
	*copy_r = strdup(out->str);
	g_string_free(out, TRUE);
	return *copy_r == NULL ? -1 : 0;
}

/* The decoded Subject (g_free it): GMime's, unless it loses text. */
static char *decoded_subject(GMimeMessage *msg, GMimeParserOptions *o)
{
	const char *raw = raw_subject(msg);
	const char *s = g_mime_message_get_subject(msg);

	if (raw != NULL && subject_needs_words(raw))
		return subject_by_words(o, raw);
	return g_strdup(s ? s : "");
}

static int fill_strings(struct ticket_mail *m, GMimeParserOptions *o)
{
	GMimeMessage *msg = m->msg;
	char *s = decoded_subject(msg, o);
	GDateTime *dt = g_mime_message_get_date(msg);
	size_t n;

	if (g_mime_message_get_message_id(msg) != NULL &&
	    (m->message_id = strdup(g_mime_message_get_message_id(msg))) ==
		    NULL) {
		g_free(s);
		return -1;
	}
	n = strlen(s) > SUBJECT_MAX ? SUBJECT_MAX : strlen(s);
	m->subject = strndup(s, n);
	g_free(s);
	if (m->subject == NULL || raw_subject_copy(msg, &m->raw_subject) < 0)
		return -1;
	if (!g_utf8_validate(m->subject, -1, NULL)) {
		char *fixed = g_utf8_make_valid(m->subject, -1);

		free(m->subject);
		m->subject = strdup(fixed);
		g_free(fixed);
		if (m->subject == NULL)
			return -1;
	}
	m->date = dt != NULL ? (time_t)g_date_time_to_unix(dt) : 0;
	return 0;
}

static int fill(struct ticket_mail *m, GMimeParserOptions *o)
{
	GMimeMessage *msg = m->msg;
	int trunc = 0;

	if (fill_strings(m, o) < 0 ||
	    first_mailbox(g_mime_message_get_from(msg), &m->from_addr,
			  &m->from_name) < 0 ||
	    first_mailbox(g_mime_message_get_reply_to(msg), &m->reply_to,
			  NULL) < 0 ||
	    addrs_add(&m->to, g_mime_message_get_to(msg), 0) < 0 ||
	    addrs_add(&m->cc, g_mime_message_get_cc(msg), 0) < 0 ||
	    collect_refs(&m->refs, GMIME_OBJECT(msg), o) < 0 ||
	    walk(m, g_mime_message_get_mime_part(msg), 0, o, &trunc) < 0 ||
	    ticket_utf8_clean(&m->text) < 0 || ticket_utf8_clean(&m->html) < 0)
		return -1;
	if (trunc)
		m->flags |= TICKET_FLAG_TRUNCATED;
	if (m->warnings > 0)
		m->flags |= TICKET_FLAG_MALFORMED;
	return 0;
}

static int parse_stream(GMimeStream *stream, size_t max_text,
			struct ticket_mail **mail_r, const char **error_r)
{
	struct ticket_mail *m = calloc(1, sizeof(*m));
	GMimeParserOptions *o;
	GMimeParser *parser;

	if (m == NULL) {
		g_object_unref(stream);
		*error_r = "out of memory";
		return -1;
	}
	strbuf_init(&m->text, max_text);
	strbuf_init(&m->html, max_text);
	o = parser_options(m);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m->msg = g_mime_parser_construct_message(parser, o);
	g_object_unref(parser);
	g_object_unref(stream);
	if (m->msg == NULL)
		m->flags |= TICKET_FLAG_UNPARSED;
	if ((m->msg == NULL && (m->subject = strdup("")) == NULL) ||
	    (m->msg != NULL && fill(m, o) < 0)) {
		g_mime_parser_options_free(o);
		ticket_mail_free(&m);
		*error_r = "out of memory while parsing the message";
		return -1;
	}
	g_mime_parser_options_free(o);
	*mail_r = m;
	return 0;
}

int ticket_mail_parse_fd(int fd, size_t max_text, struct ticket_mail **mail_r,
			 const char **error_r)
{
	library_init();
	return parse_stream(g_mime_stream_fs_new(fd), max_text, mail_r,
			    error_r);
}

int ticket_mail_parse_mem(const char *data, size_t len, size_t max_text,
			  struct ticket_mail **mail_r, const char **error_r)
{
	library_init();
	return parse_stream(g_mime_stream_mem_new_with_buffer(data, len),
			    max_text, mail_r, error_r);
}

static void parts_free(struct ticket_part *p)
{
	struct ticket_part *next;

	for (; p != NULL; p = next) {
		next = p->next;
		free(p->name);
		free(p->content_type);
		free(p->content_id);
		free(p->path);
		free(p);
	}
}

void ticket_mail_free(struct ticket_mail **mp)
{
	struct ticket_mail *m = *mp;

	if (m == NULL)
		return;
	parts_free(m->parts);
	if (m->msg != NULL)
		g_object_unref(m->msg);
	free(m->message_id);
	free(m->from_addr);
	free(m->from_name);
	free(m->reply_to);
	free(m->subject);
	free(m->raw_subject);
	ticket_strv_free(&m->refs);
	ticket_strv_free(&m->dsn_refs);
	ticket_strv_free(&m->to);
	ticket_strv_free(&m->cc);
	strbuf_free(&m->text);
	strbuf_free(&m->html);
	free(m);
	*mp = NULL;
}

const char *ticket_mail_header(const struct ticket_mail *m, const char *name)
{
	if (m->msg == NULL)
		return NULL;
	return g_mime_object_get_header(GMIME_OBJECT(m->msg), name);
}

char *ticket_mail_message_id(const char *headers, size_t len)
{
	GMimeParserOptions *o;
	GMimeMessage *msg;
	char *mid = NULL;

	library_init();
	o = parser_options(NULL);
	msg = parse_header_block(headers, len, o);
	if (msg != NULL && g_mime_message_get_message_id(msg) != NULL)
		mid = strdup(g_mime_message_get_message_id(msg));
	if (msg != NULL)
		g_object_unref(msg);
	g_mime_parser_options_free(o);
	return mid;
}
