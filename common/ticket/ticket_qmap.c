/*
 * ticket_qmap.c - the queue map: which queue directory a recipient's
 * mail goes to, when one host serves several queues (`ticketq lmtp
 * --queues FILE`, `ticketq deliver --queues FILE --recipient ADDR`).
 *
 * The file: one "ADDRESS DIRECTORY" pair per line, separated by blanks
 * (spaces or tabs); a line whose first non-blank is '#' is a comment;
 * blank lines are ignored; CRLF is accepted.  ADDRESS is user@domain
 * (address syntax as ticketq.conf's `address`) or "@domain", a catch-all
 * for the domain; DIRECTORY is an absolute path without "." or ".."
 * components, blanks or control bytes.  No trailing comments: a third
 * field is an error, so a typo never silently becomes part of a path.
 *
 * Rules: addresses compare case-insensitively (ASCII; stored folded to
 * lower case); an address listed twice is an error naming both lines;
 * several addresses may name one directory.  Lookup: the full address,
 * then without its "+extension" (the first '+' of the local part), then
 * "@domain".  Bounded: the file size (QMAP_FILE_MAX), line length
 * (QMAP_LINE_MAX), entry count (QMAP_ENTRIES_MAX), address length (254)
 * and directory length (QMAP_DIR_MAX); NUL bytes are errors.  Errors
 * read "FILE:LINE: why, and the fix".  Parsing touches no files: a
 * missing queue directory shows when the queue is opened.
 *
 * Loading as root (which then becomes the chosen queue's owner), the
 * map must belong to root and be writable by nobody else: whoever can
 * edit it chooses where mail goes and whose user stores it.
 */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_qmap.h"

#define QMAP_FILE_MAX (1024 * 1024)
#define QMAP_LINE_MAX 4096
#define QMAP_ENTRIES_MAX 10000
#define QMAP_ADDRESS_MAX 254
#define QMAP_DIR_MAX 1024
#define BLANKS " \t"

struct qmap_entry {
	char *address; /* folded to lower case */
	char *dir;
	unsigned int line;
};

struct ticket_qmap {
	struct qmap_entry *entries; /* in file order */
	size_t count, allocated;
	const struct qmap_entry **sorted; /* the entries by address */
};

/* parse state: where we are, for the error text */
struct qmap_parse {
	const char *filename;
	unsigned int line;
	struct ticket_qmap *map;
};

static void fold_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

void ticket_qmap_free(struct ticket_qmap **mapp)
{
	struct ticket_qmap *map = *mapp;
	size_t i;

	if (map == NULL)
		return;
	for (i = 0; i < map->count; i++) {
		free(map->entries[i].address);
		free(map->entries[i].dir);
	}
	free(map->entries);
	free(map->sorted);
	free(map);
	*mapp = NULL;
}

size_t ticket_qmap_count(const struct ticket_qmap *map)
{
	return map->count;
}

const char *ticket_qmap_dir(const struct ticket_qmap *map, size_t i)
{
	return i < map->count ? map->entries[i].dir : NULL;
}

static const char *fail(const struct qmap_parse *p, const char *why)
{
	return errorf("%s:%u: %s", p->filename, p->line, why);
}

/* dir_problem - why dir is not an acceptable queue directory, or NULL */
static const char *dir_problem(const char *dir)
{
	const char *c;

	if (dir[0] != '/')
		return "the queue directory must be an absolute path "
		       "(starting with /)";
	if (strlen(dir) > QMAP_DIR_MAX)
		return "the queue directory path is longer than 1024 bytes";
	for (c = dir; *c != '\0'; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			return "control byte in the queue directory path";
	for (c = dir; c != NULL; c = strchr(c + 1, '/'))
		if (strncmp(c, "/./", 3) == 0 || strcmp(c, "/.") == 0 ||
		    strncmp(c, "/../", 4) == 0 || strcmp(c, "/..") == 0)
			return "'.' or '..' in the queue directory path: "
			       "write the directory's real path";
	return NULL;
}

static int address_problem(const struct qmap_parse *p, const char *address,
			   const char **error_r)
{
	if (strlen(address) > QMAP_ADDRESS_MAX) {
		*error_r = fail(p, "address longer than 254 bytes");
		return -1;
	}
	if (!ticket_config_valid_address(address, 1)) {
		*error_r = errorf("%s:%u: '%s' is not an address: want "
				  "user@domain or @domain, then the queue "
				  "directory",
				  p->filename, p->line, address);
		return -1;
	}
	return 0;
}

/* grow - room for twice as many entries (at least 16) */
static int grow(struct ticket_qmap *map)
{
	size_t n = map->allocated < 8 ? 16 : map->allocated * 2;
	struct qmap_entry *e = realloc(map->entries, n * sizeof(*e));

	if (e == NULL)
		return -1;
	map->entries = e;
	map->allocated = n;
	return 0;
}

static int add_entry(struct qmap_parse *p, const char *address, const char *dir,
		     const char **error_r)
{
	struct ticket_qmap *map = p->map;
	struct qmap_entry *e;

	if (map->count == QMAP_ENTRIES_MAX) {
		*error_r = fail(p, "more than 10000 queues in one map: split "
				   "the host's mail among several services");
		return -1;
	}
	if (map->count == map->allocated && grow(map) < 0) {
		*error_r = "out of memory";
		return -1;
	}
	e = &map->entries[map->count];
	e->line = p->line;
	e->address = strdup(address);
	e->dir = strdup(dir);
	if (e->address == NULL || e->dir == NULL) {
		free(e->address);
		free(e->dir);
		*error_r = "out of memory";
		return -1;
	}
	fold_lower(e->address);
	map->count++;
	return 0;
}

/* parse_fields - "ADDRESS DIRECTORY" in line (NUL-terminated, no
 * newline, modified in place) into a new entry */
static int parse_fields(struct qmap_parse *p, char *line, const char **error_r)
{
	char *address, *dir, *rest;
	const char *why;

	address = line + strspn(line, BLANKS);
	if (*address == '\0' || *address == '#')
		return 0;
	dir = address + strcspn(address, BLANKS);
	if (*dir != '\0')
		*dir++ = '\0';
	dir += strspn(dir, BLANKS);
	rest = dir + strcspn(dir, BLANKS);
	if (*rest != '\0')
		*rest++ = '\0';
	rest += strspn(rest, BLANKS);
	if (*dir == '\0') {
		*error_r = fail(p, "no queue directory: want ADDRESS "
				   "DIRECTORY on one line");
		return -1;
	}
	if (*rest != '\0') {
		*error_r = fail(p, "text after the queue directory: want "
				   "ADDRESS DIRECTORY (no blanks in the path, "
				   "comments on their own line)");
		return -1;
	}
	if (address_problem(p, address, error_r) < 0)
		return -1;
	if ((why = dir_problem(dir)) != NULL) {
		*error_r = fail(p, why);
		return -1;
	}
	return add_entry(p, address, dir, error_r);
}

/* parse_line - one line of (text, len), without its newline */
static int parse_line(struct qmap_parse *p, const char *text, size_t len,
		      const char **error_r)
{
	char buf[QMAP_LINE_MAX + 1];

	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (len > QMAP_LINE_MAX) {
		*error_r = fail(p, "line longer than 4096 bytes");
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		*error_r = fail(p, "NUL byte: the map must be text");
		return -1;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	return parse_fields(p, buf, error_r);
}

static int by_address(const void *a, const void *b)
{
	const struct qmap_entry *const *ea = a, *const *eb = b;

	return strcmp((*ea)->address, (*eb)->address);
}

/* build_index - sort the entries by address; a repeated address is an
 * error naming both lines */
static int build_index(struct qmap_parse *p, const char **error_r)
{
	struct ticket_qmap *map = p->map;
	const struct qmap_entry *a, *b;
	size_t i;

	map->sorted = calloc(map->count + 1, sizeof(*map->sorted));
	if (map->sorted == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	for (i = 0; i < map->count; i++)
		map->sorted[i] = &map->entries[i];
	qsort(map->sorted, map->count, sizeof(*map->sorted), by_address);
	for (i = 1; i < map->count; i++) {
		a = map->sorted[i - 1];
		b = map->sorted[i];
		if (strcmp(a->address, b->address) != 0)
			continue;
		if (a->line > b->line) {
			a = map->sorted[i];
			b = map->sorted[i - 1];
		}
		*error_r = errorf("%s:%u: '%s' is already mapped on line %u: "
				  "keep one of the two lines",
				  p->filename, b->line, b->address, a->line);
		return -1;
	}
	return 0;
}

static int parse_text(struct qmap_parse *p, const char *text, size_t len,
		      const char **error_r)
{
	const char *end = text + len, *nl;

	if (len > QMAP_FILE_MAX) {
		*error_r = errorf("%s: larger than 1 MB: a queue map is one "
				  "short line per queue",
				  p->filename);
		return -1;
	}
	while (text < end) {
		p->line++;
		nl = memchr(text, '\n', (size_t)(end - text));
		if (nl == NULL)
			nl = end;
		if (parse_line(p, text, (size_t)(nl - text), error_r) < 0)
			return -1;
		text = nl + 1;
	}
	if (p->map->count == 0) {
		*error_r = errorf("%s: no queues in the map: add lines "
				  "\"ADDRESS DIRECTORY\"",
				  p->filename);
		return -1;
	}
	return build_index(p, error_r);
}

int ticket_qmap_parse(const char *filename, const char *text, size_t len,
		      struct ticket_qmap **map_r, const char **error_r)
{
	struct qmap_parse p = {filename, 0, NULL};

	p.map = calloc(1, sizeof(*p.map));
	if (p.map == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (parse_text(&p, text, len, error_r) < 0) {
		ticket_qmap_free(&p.map);
		return -1;
	}
	*map_r = p.map;
	return 0;
}

/* root_may_trust - as root, 0 when only root can change the map at
 * path (or it does not exist: the read says so); -1 with error_r */
static int root_may_trust(const char *path, const char **error_r)
{
	struct stat st;

	if (geteuid() != 0 || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return 0;
	*error_r = errorf("%s: writable by others than root, who would choose "
			  "where mail goes: chown root %s; chmod go-w %s",
			  path, path, path);
	return -1;
}

int ticket_qmap_load(const char *path, struct ticket_qmap **map_r,
		     const char **error_r)
{
	struct strbuf sb;
	int ret;

	if (root_may_trust(path, error_r) < 0)
		return -1;
	strbuf_init(&sb, QMAP_FILE_MAX);
	ret = safefile_read(path, QMAP_FILE_MAX, &sb, error_r);
	if (ret == 1) {
		*error_r = errorf("%s: no such file: create the queue map "
				  "(ticketq(1), QUEUE MAP)",
				  path);
		ret = -1;
	}
	if (ret == 0)
		ret = ticket_qmap_parse(path, sb.data ? sb.data : "", sb.len,
					map_r, error_r);
	strbuf_free(&sb);
	return ret;
}

static int address_vs_entry(const void *key, const void *elem)
{
	const struct qmap_entry *const *e = elem;

	return strcmp(key, (*e)->address);
}

static const char *find(const struct ticket_qmap *map, const char *address)
{
	const struct qmap_entry *const *e =
		bsearch(address, map->sorted, map->count, sizeof(*map->sorted),
			address_vs_entry);

	return e != NULL ? (*e)->dir : NULL;
}

/* without_extension - "user+ext@domain" as "user@domain" in buf, or 0
 * when the local part has no extension (or nothing before the '+') */
static int without_extension(const char *address, char *buf, size_t size)
{
	const char *at = strrchr(address, '@');
	const char *plus = strchr(address, '+');

	if (at == NULL || plus == NULL || plus > at || plus == address)
		return 0;
	snprintf(buf, size, "%.*s%s", (int)(plus - address), address, at);
	return 1;
}

const char *ticket_qmap_lookup(const struct ticket_qmap *map,
			       const char *recipient)
{
	char address[QMAP_ADDRESS_MAX + 1], base[QMAP_ADDRESS_MAX + 1];
	const char *dir, *at;
	size_t len = strlen(recipient);

	if (len == 0 || len > QMAP_ADDRESS_MAX)
		return NULL;
	memcpy(address, recipient, len + 1);
	fold_lower(address);
	at = strrchr(address, '@');
	if (at == NULL || at == address || at[1] == '\0')
		return NULL;
	if ((dir = find(map, address)) != NULL)
		return dir;
	if (without_extension(address, base, sizeof(base)) &&
	    (dir = find(map, base)) != NULL)
		return dir;
	return find(map, at);
}
