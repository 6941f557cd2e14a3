/*
 * number.c - decimal numbers from outside, parsed strictly.
 *
 * strtol() and friends skip leading white space, take a sign (and turn
 * "-1" into a huge unsigned value), stop silently at junk and clamp on
 * overflow; every caller has to remember four checks.  Here a number is
 * digits only, checked for overflow digit by digit and for its range,
 * and (ptr, len) input need not be NUL-terminated.  Every value we
 * parse is a count, a size, a port, a time or a code: none is negative.
 */
#include "oauthmail-config.h"

#include <limits.h>
#include <string.h>

#include "lib/number.h"

int number_prefix(const char *s, size_t len, unsigned long long min,
		  unsigned long long max, unsigned long long *out_r,
		  size_t *used_r)
{
	unsigned long long v = 0;
	unsigned int d;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		d = (unsigned int)(s[i] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (i == 0 || v < min || v > max)
		return -1;
	*out_r = v;
	*used_r = i;
	return 0;
}

int number_parse_len(const char *s, size_t len, unsigned long long min,
		     unsigned long long max, unsigned long long *out_r)
{
	unsigned long long v;
	size_t used;

	if (number_prefix(s, len, min, max, &v, &used) < 0 || used != len)
		return -1;
	*out_r = v;
	return 0;
}

int number_parse(const char *s, unsigned long long min, unsigned long long max,
		 unsigned long long *out_r)
{
	return number_parse_len(s, strlen(s), min, max, out_r);
}
