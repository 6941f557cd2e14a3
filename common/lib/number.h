/* number.h - the one strict parser of decimal numbers from outside
 * (config values, HTTP headers, JSON strings, protocol lines, env) */
#ifndef OAUTHMAIL_NUMBER_H
#define OAUTHMAIL_NUMBER_H

#include <stddef.h>

/* number_parse - all of s (NUL-terminated) as a decimal number in
 * [min, max]: one or more digits and nothing else (no sign, no white
 * space, no junk), no overflow.  0 with *out_r set, or -1 (*out_r
 * untouched). */
int number_parse(const char *s, unsigned long long min, unsigned long long max,
		 unsigned long long *out_r);

/* number_parse_len - the same for the len bytes at s, which need not
 * end in NUL */
int number_parse_len(const char *s, size_t len, unsigned long long min,
		     unsigned long long max, unsigned long long *out_r);

/* number_prefix - the digits s starts with (of its first len bytes),
 * checked like number_parse, for numbers followed by more text (a unit
 * suffix, a separator).  0 with *out_r and *used_r (the digits' count)
 * set; -1 when s does not start with a digit, or the number overflows
 * or is outside [min, max]. */
int number_prefix(const char *s, size_t len, unsigned long long min,
		  unsigned long long max, unsigned long long *out_r,
		  size_t *used_r);

#endif
