/*
 * errorf.c - error text for the "int f(..., const char **error_r)" style.
 *
 * Library functions return 0/-1 and say why through error_r.  The text
 * lives in a small per-thread ring, so callers neither free it nor
 * worry about another thread; they copy it if it must outlive a few
 * further errors.
 */
#include "oauthmail-config.h"

#include <stdarg.h>
#include <stdio.h>

#include "lib/errorf.h"

#define ERRORF_RING 8
#define ERRORF_MAX 1024

const char *errorf(const char *fmt, ...)
{
	static _Thread_local char ring[ERRORF_RING][ERRORF_MAX];
	static _Thread_local unsigned int next;
	char *out = ring[next++ % ERRORF_RING];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, ERRORF_MAX, fmt, ap);
	va_end(ap);
	return out;
}
