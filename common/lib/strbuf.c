/*
 * strbuf.c - growable byte buffers with a cap, and secret wiping.
 *
 * Every buffer that holds outside input has a maximum size: a server
 * that sends 10 MB where we expect 2 KB gets an error, not our memory.
 * Buffers are wiped before they are freed or grown, because they may
 * hold tokens, secrets or request bodies.
 */
#include "oauthmail-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h> /* explicit_bzero */

#include "lib/strbuf.h"

void wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void wipe_free_str(char **p)
{
	if (*p == NULL)
		return;
	wipe(*p, strlen(*p));
	free(*p);
	*p = NULL;
}

void strbuf_init(struct strbuf *sb, size_t max)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->max = max;
}

static int strbuf_grow(struct strbuf *sb, size_t need)
{
	size_t cap = sb->cap ? sb->cap : 256;
	char *p;

	while (cap < need + 1)
		cap *= 2;
	if (cap > sb->max + 1)
		cap = sb->max + 1;
	p = malloc(cap);
	if (p == NULL)
		return -1;
	if (sb->data != NULL) {
		memcpy(p, sb->data, sb->len + 1);
		wipe(sb->data, sb->cap);
		free(sb->data);
	}
	sb->data = p;
	sb->cap = cap;
	return 0;
}

int strbuf_append(struct strbuf *sb, const void *data, size_t n)
{
	if (n > sb->max || sb->len > sb->max - n)
		return -1;
	if (sb->len + n + 1 > sb->cap && strbuf_grow(sb, sb->len + n) < 0)
		return -1;
	if (n > 0)
		memcpy(sb->data + sb->len, data, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
	return 0;
}

int strbuf_append_str(struct strbuf *sb, const char *s)
{
	return strbuf_append(sb, s, strlen(s));
}

int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	char *big;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small)) {
		ret = strbuf_append(sb, small, (size_t)n);
		wipe(small, (size_t)n);
		return ret;
	}
	if ((size_t)n > sb->max || (big = malloc((size_t)n + 1)) == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ret = strbuf_append(sb, big, (size_t)n);
	wipe(big, (size_t)n);
	free(big);
	return ret;
}

void strbuf_reset(struct strbuf *sb)
{
	if (sb->data != NULL) {
		wipe(sb->data, sb->len);
		sb->data[0] = '\0';
	}
	sb->len = 0;
}

char *strbuf_steal(struct strbuf *sb)
{
	char *p = sb->data;

	if (p == NULL)
		p = calloc(1, 1);
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	return p;
}

void strbuf_free(struct strbuf *sb)
{
	if (sb->data != NULL) {
		wipe(sb->data, sb->cap);
		free(sb->data);
	}
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}
