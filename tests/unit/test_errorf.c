/* test_errorf.c - error text: formatting, the ring of 8 buffers, the
 * 1024-byte cap, one ring per thread */
#include "oauthmail-config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/errorf.h"
#include "testlib.h"

static void test_format(void)
{
	const char *got[3];
	static const char *const want[3] = {"open(/x): No such file", "line 7",
					    ""};
	size_t i;

	got[0] = errorf("open(%s): %s", "/x", "No such file");
	got[1] = errorf("line %u", 7u);
	got[2] = errorf("%s", "");
	for (i = 0; i < 3; i++)
		check_str("formatted", got[i], want[i]);
}

/* the ring: a result survives the next 7 calls, the 8th reuses it */
static void test_ring(void)
{
	const char *first = errorf("first %d", 1);
	char name[32];
	int i;

	for (i = 0; i < 7; i++)
		errorf("other %d", i);
	check_str("survives 7 more calls", first, "first 1");
	errorf("eighth");
	check_str("the 8th call reuses the buffer", first, "eighth");
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "distinct buffer %d", i);
		check_true(name, errorf("a") != errorf("b"));
	}
}

static void test_cap(void)
{
	char big[3000];
	const char *got;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	got = errorf("%s", big);
	check_int("cut to 1023 bytes", (long long)strlen(got), 1023);
	check_true("the start kept", strncmp(got, big, 1023) == 0);
}

static void *other_thread(void *arg)
{
	char *out = arg;
	const char *got;
	int i;

	for (i = 0; i < 20; i++) /* go round its ring: not ours */
		got = errorf("thread %d", 2);
	snprintf(out, 32, "%s", got);
	return NULL;
}

static void test_threads(void)
{
	const char *mine = errorf("thread %d", 1);
	char theirs[32] = "";
	pthread_t t;

	check_int("thread started",
		  pthread_create(&t, NULL, other_thread, theirs), 0);
	pthread_join(t, NULL);
	check_str("own ring untouched by another thread", mine, "thread 1");
	check_str("the other thread's text", theirs, "thread 2");
}

int main(void)
{
	test_format();
	test_ring();
	test_cap();
	test_threads();
	return test_done("test_errorf");
}
