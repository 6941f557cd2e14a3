/*
 * fuzz_replay.c - run a libFuzzer target over its corpus without
 * libFuzzer, so every normal (gcc, ASan, valgrind) build checks that
 * the saved inputs still pass.  The corpus is
 * $srcdir/fuzz/corpus/<target>/ where <target> is argv[0]'s basename
 * without a "_replay" suffix; FUZZ_CORPUS overrides it.
 */
#include "oauthmail-config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/safefile.h"
#include "lib/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_INPUT_MAX (4 * 1024 * 1024)

static int replay_file(const char *path)
{
	struct strbuf sb;
	const char *error;
	int ret;

	strbuf_init(&sb, FUZZ_INPUT_MAX);
	ret = safefile_read(path, FUZZ_INPUT_MAX, &sb, &error);
	if (ret != 0) {
		printf("%s: %s\n", path, ret > 0 ? "vanished" : error);
		strbuf_free(&sb);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)(sb.data ? sb.data : ""),
			       sb.len);
	strbuf_free(&sb);
	return 0;
}

static void corpus_dir(const char *argv0, char *buf, size_t size)
{
	const char *base = strrchr(argv0, '/');
	const char *srcdir = getenv("srcdir");
	const char *env = getenv("FUZZ_CORPUS");
	size_t n;

	if (env != NULL) {
		snprintf(buf, size, "%s", env);
		return;
	}
	base = base ? base + 1 : argv0;
	n = strlen(base);
	if (n > 7 && strcmp(base + n - 7, "_replay") == 0)
		n -= 7;
	snprintf(buf, size, "%s/fuzz/corpus/%.*s", srcdir ? srcdir : ".",
		 (int)n, base);
}

int main(int argc, char **argv)
{
	char dir[4096], path[8192];
	struct dirent *de;
	DIR *d;
	int count = 0, bad = 0;

	(void)argc;
	corpus_dir(argv[0], dir, sizeof(dir));
	d = opendir(dir);
	if (d == NULL) {
		printf("no corpus at %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		bad += replay_file(path) < 0;
		count++;
	}
	closedir(d);
	printf("%s: replayed %d inputs\n", dir, count);
	return bad == 0 && count > 0 ? 0 : 1;
}
