/* testlib.h - table-driven unit tests: check, say got/want, count */
#ifndef OAUTHMAIL_TESTLIB_H
#define OAUTHMAIL_TESTLIB_H

#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

/* check_true - one boolean check, named by what */
static inline void check_true(const char *what, int ok)
{
	test_checks++;
	if (!ok) {
		test_failures++;
		printf("FAIL %s\n", what);
	}
}

/* check_str - compare strings; NULL equals NULL only */
static inline void check_str(const char *what, const char *got,
			     const char *want)
{
	int same = (got == NULL || want == NULL) ? got == want
						 : strcmp(got, want) == 0;

	test_checks++;
	if (!same) {
		test_failures++;
		printf("FAIL %s: got '%s' want '%s'\n", what,
		       got ? got : "(null)", want ? want : "(null)");
	}
}

/* check_int - compare integers */
static inline void check_int(const char *what, long long got, long long want)
{
	test_checks++;
	if (got != want) {
		test_failures++;
		printf("FAIL %s: got %lld want %lld\n", what, got, want);
	}
}

/* test_done - print the tally; the exit code for main() */
static inline int test_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
	return test_failures == 0 ? 0 : 1;
}

#endif
