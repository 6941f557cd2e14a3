/*
 * postconf.c - run postconf(1) and parse its output, for
 * `oauthmail postfix check`.
 *
 * We never parse main.cf ourselves: postconf knows the defaults, the
 * $name expansion (-x) and master.cf's syntax (-M).  postconf runs
 * through fork/exec (no shell), its output is capped, and a postconf
 * that fails or hangs is an error with its message.
 */
#include "oauthmail-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/errorf.h"
#include "lib/log.h"
#include "postconf.h"
#include "lib/strbuf.h"

#define POSTCONF_OUTPUT_MAX (4 * 1024 * 1024)
#define POSTCONF_TIMEOUT_MS 20000

static void child(int out, const char *const *argv)
{
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	execv(argv[0], (char *const *)argv);
	dprintf(out, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int collect(int fd, struct strbuf *out)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[8192];
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, POSTCONF_TIMEOUT_MS) <= 0)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		if (strbuf_append(out, buf, (size_t)n) < 0)
			return -1;
	}
}

/* run - postconf [-c dir] flag, output into out; 0 or -1 */
static int run(const char *dir, const char *flag, struct strbuf *out,
	       const char **error_r)
{
	const char *argv[5] = {OAUTHMAIL_POSTCONF, flag, NULL, NULL, NULL};
	int fds[2], status = 0, ret;
	pid_t pid;

	if (dir != NULL) {
		argv[1] = "-c";
		argv[2] = dir;
		argv[3] = flag;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*error_r = errorf("cannot run postconf: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		*error_r = errorf("cannot run postconf: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child(fds[1], argv);
	close(fds[1]);
	ret = collect(fds[0], out);
	close(fds[0]);
	if (ret < 0)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (ret < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*error_r = errorf("%s %s failed: %s", OAUTHMAIL_POSTCONF, flag,
				  printable(out->data ? out->data : "", 300));
		return -1;
	}
	return 0;
}

/* next_field - the next white-space separated word of *p, NUL-ended */
static char *next_field(char **p)
{
	char *s = *p, *start;

	while (*s == ' ' || *s == '\t')
		s++;
	start = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return start;
}

static int add_service(struct postconf *pc, char *line)
{
	struct postconf_service *svc, *list;
	char *p = line;

	list = realloc(pc->services,
		       (pc->service_count + 1) * sizeof(*pc->services));
	if (list == NULL)
		return -1;
	pc->services = list;
	svc = &list[pc->service_count];
	svc->name = strdup(next_field(&p));
	svc->type = strdup(next_field(&p));
	svc->private_ = strdup(next_field(&p));
	svc->unpriv = strdup(next_field(&p));
	svc->chroot = strdup(next_field(&p));
	(void)next_field(&p); /* wakeup */
	(void)next_field(&p); /* maxproc */
	svc->command = strdup(next_field(&p));
	while (*p == ' ' || *p == '\t')
		p++;
	svc->args = strdup(p);
	pc->service_count++; /* counted even when short: freed with the rest */
	return svc->name && svc->type && svc->private_ && svc->unpriv &&
			       svc->chroot && svc->command && svc->args
		       ? 0
		       : -1;
}

static int parse_services(struct postconf *pc, char *text)
{
	char *line, *nl;

	for (line = text; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		if (add_service(pc, line) < 0)
			return -1;
	}
	return 0;
}

int postconf_load(const char *config_dir, struct postconf *pc,
		  const char **error_r)
{
	struct strbuf main_out, master_out;
	int ret = -1;

	memset(pc, 0, sizeof(*pc));
	pc->config_dir = config_dir;
	strbuf_init(&main_out, POSTCONF_OUTPUT_MAX);
	strbuf_init(&master_out, POSTCONF_OUTPUT_MAX);
	if (run(config_dir, "-x", &main_out, error_r) == 0 &&
	    run(config_dir, "-M", &master_out, error_r) == 0) {
		pc->main_text = strbuf_steal(&main_out);
		ret = master_out.data == NULL
			      ? 0
			      : parse_services(pc, master_out.data);
		if (ret < 0)
			*error_r = "out of memory";
	}
	strbuf_free(&main_out);
	strbuf_free(&master_out);
	return ret;
}

const char *postconf_get(const struct postconf *pc, const char *name)
{
	size_t n = strlen(name);
	const char *p = pc->main_text, *end;

	while (p != NULL && *p != '\0') {
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) >= n + 2 && strncmp(p, name, n) == 0 &&
		    strncmp(p + n, " =", 2) == 0) {
			p += n + 2;
			while (p < end && *p == ' ')
				p++;
			return errorf("%.*s", (int)(end - p), p);
		}
		p = *end ? end + 1 : end;
	}
	return "";
}

int postconf_has_word(const char *value, const char *word)
{
	size_t n = strlen(word), len;
	const char *p = value;

	while (*p != '\0') {
		p += strspn(p, " ,\t");
		len = strcspn(p, " ,\t");
		if (len == n && strncasecmp(p, word, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

int postconf_chrooted(const struct postconf_service *svc)
{
	return strcmp(svc->chroot, "y") == 0;
}

void postconf_free(struct postconf *pc)
{
	size_t i;

	for (i = 0; i < pc->service_count; i++) {
		struct postconf_service *s = &pc->services[i];

		free(s->name);
		free(s->type);
		free(s->private_);
		free(s->unpriv);
		free(s->chroot);
		free(s->command);
		free(s->args);
	}
	free(pc->services);
	free(pc->main_text);
	memset(pc, 0, sizeof(*pc));
}
