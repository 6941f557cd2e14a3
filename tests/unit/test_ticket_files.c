/* test_ticket_files.c - safe attachment names, saving, cid: rewriting */
#include "oauthmail-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/strbuf.h"
#include "testlib.h"
#include "ticket/ticket_files.h"
#include "ticket/ticket_mail.h"
#include "ticket_testutil.h"

static const struct {
	const char *in;
	const char *want;
} names[] = {
	{"report.pdf", "report.pdf"},
	{"../../etc/passwd", "passwd"},
	{"C:\\Users\\x\\evil.exe", "evil.exe"},
	{"..hidden", "hidden"},
	{"...", "attachment.bin"},
	{"", "attachment.bin"},
	{"/", "attachment.bin"},
	{"-rf", "rf"},
	{" . leading blanks.txt", "leading blanks.txt"},
	{"trailing dots...", "trailing dots"},
	{"a\nb\tc\x01.txt", "a_b_c_.txt"},
	{"what?.txt", "what_.txt"},
	{"<script>.html", "_script_.html"},
	{"r\xc3\xa9sum\xc3\xa9.txt", "r\xc3\xa9sum\xc3\xa9.txt"},
	{"bad\xff utf8.txt", "bad\xef\xbf\xbd utf8.txt"},
};

static void test_names(void)
{
	char out[TICKET_FILE_NAME_MAX + 1], longname[400];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ticket_files_safe_name(names[i].in, "bin", out, sizeof(out));
		check_str(names[i].in, out, names[i].want);
	}
	memset(longname, 'x', 300);
	snprintf(longname + 300, 100, ".pdf");
	ticket_files_safe_name(longname, "bin", out, sizeof(out));
	check_int("capped", (long long)strlen(out), TICKET_FILE_NAME_MAX);
	check_str("extension kept", out + strlen(out) - 4, ".pdf");
	/* a multi-byte character is never cut in half */
	for (i = 0; i < 150; i++)
		memcpy(longname + 2 * i, "\xc3\xa9", 2);
	longname[300] = '\0';
	ticket_files_safe_name(longname, "bin", out, sizeof(out));
	check_true("utf-8 boundary",
		   strlen(out) <= TICKET_FILE_NAME_MAX && strlen(out) % 2 == 0);
}

static const char related[] =
	"From: a@b.example\nSubject: x\nMIME-Version: 1.0\n"
	"Content-Type: multipart/related; boundary=\"B\"\n\n"
	"--B\nContent-Type: text/html\n\n"
	"<img src=\"cid:one@x\"><img src='CID:two%40x'><img src=cid:nope@x>\n"
	"--B\nContent-Type: image/png\nContent-ID: <one@x>\n"
	"Content-Transfer-Encoding: base64\n\naGVsbG8=\n"
	"--B\nContent-Type: image/png\nContent-ID: <two@x>\n"
	"Content-Disposition: inline; filename=\"one.png\"\n\nworld\n"
	"--B\nContent-Type: application/octet-stream\n"
	"Content-Disposition: attachment; filename=\"big.bin\"\n\n"
	"0123456789012345678901234567890123456789\n"
	"--B--\n";

static void test_save(void)
{
	struct ticket_strv created = {NULL, 0};
	char dir[] = "/tmp/test_ticket_files.XXXXXX", path[256];
	struct ticket_mail *m = NULL;
	struct ticket_part *p;
	const char *error;
	struct stat st;

	check_true("mkdtemp", mkdtemp(dir) != NULL);
	check_int("parse",
		  ticket_mail_parse_mem(related, strlen(related), 4096, &m,
					&error),
		  0);
	ticket_files_mark_inline(m);
	check_int("parts", m->nparts, 3);
	check_int("one is inline", m->parts->inline_ref, 1);
	check_int("two is inline", m->parts->next->inline_ref, 1);
	check_int("big is not", m->parts->next->next->inline_ref, 0);
	snprintf(path, sizeof(path), "%s/files", dir);
	check_int("save",
		  ticket_files_save(path, "files", 123456, m, "k", 20, &created,
				    &error),
		  0);
	p = m->parts;
	check_str("cid name", p->path, "files/123456/one.png");
	check_int("decoded size", (long long)p->size, 5);
	check_str("clash gets -2", p->next->path, "files/123456/one-2.png");
	check_true("over the limit: skipped",
		   p->next->next->skipped && p->next->next->path == NULL);
	snprintf(path, sizeof(path), "%s/files/123456/big.bin", dir);
	check_true("and not on disk", stat(path, &st) < 0);
	check_int("created", (long long)created.n, 2);
	check_int("rewrite", ticket_files_rewrite_html(m), 0);
	check_true("one rewritten",
		   strstr(m->html.data, "src=\"files/123456/one.png\"") !=
			   NULL);
	check_true("two rewritten",
		   strstr(m->html.data, "src='files/123456/one-2.png'") !=
			   NULL);
	check_true("unknown cid kept",
		   strstr(m->html.data, "cid:nope@x") != NULL);
	ticket_files_undo(&created);
	snprintf(path, sizeof(path), "%s/files/123456/one.png", dir);
	check_true("undo removes", stat(path, &st) < 0);
	ticket_strv_free(&created);
	ticket_mail_free(&m);
	snprintf(path, sizeof(path), "%s/nodir/files", dir);
	testutil_rm_tree(dir);
}

/* A long ticket full of Outlook's image001.png: a taken name is never a
 * delivery error, and the open() count stays small. */
static void test_clash(void)
{
	static const char *const taken[] = {"one.png", "one-2.png", "one-3.png",
					    "one-4.png"};
	struct ticket_strv created = {NULL, 0};
	char dir[] = "/tmp/test_ticket_files.XXXXXX", path[256];
	struct ticket_mail *m = NULL;
	const char *error = NULL;
	size_t i;
	FILE *fp;

	check_true("mkdtemp", mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/files", dir);
	mkdir(path, 0750);
	snprintf(path, sizeof(path), "%s/files/7", dir);
	mkdir(path, 0750);
	for (i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		snprintf(path, sizeof(path), "%s/files/7/%s", dir, taken[i]);
		if ((fp = fopen(path, "w")) != NULL)
			fclose(fp);
	}
	ticket_mail_parse_mem(related, strlen(related), 4096, &m, &error);
	snprintf(path, sizeof(path), "%s/files", dir);
	check_int("clash: saved",
		  ticket_files_save(path, "files", 7, m, "0123abcdef99", 0,
				    &created, &error),
		  0);
	check_str("clash: tagged", m->parts->path,
		  "files/7/0123abcd-1-one.png");
	check_str("clash: tagged 2", m->parts->next->path,
		  "files/7/0123abcd-2-one.png");
	ticket_mail_free(&m);
	/* the same message again (a crash left its files): still saved */
	ticket_mail_parse_mem(related, strlen(related), 4096, &m, &error);
	snprintf(path, sizeof(path), "%s/files", dir);
	check_int("clash again: saved",
		  ticket_files_save(path, "files", 7, m, "0123abcdef99", 0,
				    &created, &error),
		  0);
	check_true("clash again: random word",
		   m->parts->path != NULL &&
			   strncmp(m->parts->path, "files/7/0123abcd-1-", 19) ==
				   0 &&
			   strlen(m->parts->path) == 19 + 9 + 7);
	ticket_strv_free(&created);
	ticket_mail_free(&m);
	testutil_rm_tree(dir);
}

/* Thousands of cid: links to a long path: the HTML stays as it came
 * (a cap, not an out-of-memory error that would retry forever). */
static void test_rewrite_cap(void)
{
	struct ticket_mail *m = NULL;
	const char *error = NULL;
	struct strbuf msg;
	char *before;
	int i;

	strbuf_init(&msg, 1 << 20);
	strbuf_append_str(&msg, "From: a@b.example\nSubject: x\n"
				"MIME-Version: 1.0\nContent-Type: "
				"multipart/related; boundary=\"B\"\n\n"
				"--B\nContent-Type: text/html\n\n");
	for (i = 0; i < 500; i++)
		strbuf_append_str(&msg, "<img src=cid:a>");
	strbuf_append_str(&msg, "\n--B\nContent-Type: image/png\n"
				"Content-ID: <a>\n\nx\n--B--\n");
	check_int("cap: parse",
		  ticket_mail_parse_mem(msg.data, msg.len, 8192, &m, &error),
		  0);
	strbuf_free(&msg);
	m->parts->path = malloc(201);
	memset(m->parts->path, 'p', 200);
	m->parts->path[200] = '\0';
	before = strdup(m->html.data);
	check_int("cap: not an error", ticket_files_rewrite_html(m), 0);
	check_str("cap: html as it came", m->html.data, before);
	m->parts->path[20] = '\0';
	check_int("cap: short path", ticket_files_rewrite_html(m), 0);
	check_true("cap: short path rewritten",
		   strstr(m->html.data, "cid:a") == NULL);
	free(before);
	ticket_mail_free(&m);
}

/* A name with quotes, blanks, '#', '%' and '&' is %-encoded in the
 * HTML attribute; the part's path (for the JSON) stays as it is. */
static void test_rewrite_escape(void)
{
	static const char text[] =
		"From: a@b.example\nMIME-Version: 1.0\n"
		"Content-Type: multipart/related; boundary=B\n\n"
		"--B\nContent-Type: text/html\n\n<img src=\"cid:a\">\n"
		"--B\nContent-Type: image/png\nContent-ID: <a>\n\nx\n--B--\n";
	static const char raw[] = "files/1/it's a \"#1\" 50% & more.png";
	struct ticket_mail *m = NULL;
	const char *error = NULL;

	ticket_mail_parse_mem(text, strlen(text), 4096, &m, &error);
	m->parts->path = strdup(raw);
	check_int("escape: rewrite", ticket_files_rewrite_html(m), 0);
	check_true("escape: %-encoded",
		   strstr(m->html.data,
			  "src=\"files/1/it%27s%20a%20%22%231%22%2050%25%20%26"
			  "%20more.png\"") != NULL);
	check_str("escape: path as it is", m->parts->path, raw);
	ticket_mail_free(&m);
}

static void test_save_error(void)
{
	struct ticket_strv created = {NULL, 0};
	struct ticket_mail *m = NULL;
	const char *error = NULL;

	ticket_mail_parse_mem(related, strlen(related), 4096, &m, &error);
	check_int("unwritable root",
		  ticket_files_save("/proc/no/such/dir", "files", 1, m, "k", 0,
				    &created, &error),
		  -1);
	check_true("says why", error != NULL && strstr(error, "mkdir") != NULL);
	ticket_mail_free(&m);
}

/* Under a file-size limit (SIGXFSZ ignored, as ticketq deliver does)
 * an attachment over it fails with the limit named, and after the
 * caller's undo nothing of the message is left in files/.  In a child:
 * the limit must not reach the test itself (nor can the child print:
 * its output is a file too). */
static int save_limited(const char *root)
{
	struct rlimit rl;
	struct ticket_strv created = {NULL, 0};
	struct ticket_mail *m = NULL;
	const char *error = "";
	int r;

	signal(SIGXFSZ, SIG_IGN);
	if (getrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 2;
	rl.rlim_cur = 16; /* big.bin has 41 bytes, the images 5 and 6 */
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 2;
	ticket_mail_parse_mem(related, strlen(related), 4096, &m, &error);
	r = ticket_files_save(root, "files", 1, m, "k", 0, &created, &error);
	ticket_files_undo(&created);
	ticket_strv_free(&created);
	ticket_mail_free(&m);
	if (r == 0)
		return 3;
	return strstr(error, "big.bin") != NULL &&
			       strstr(error, "file-size limit of 16 bytes") !=
				       NULL
		       ? 0
		       : 4;
}

static void test_save_fsize(void)
{
	char dir[] = "/tmp/test_ticket_files.XXXXXX", root[256];
	int status = -1;
	pid_t pid;

	check_true("mkdtemp", mkdtemp(dir) != NULL);
	snprintf(root, sizeof(root), "%s/files", dir);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(save_limited(root));
	check_true("fork", pid > 0 && waitpid(pid, &status, 0) == pid);
	check_int("file-size limit: fails, names the file and the limit",
		  WIFEXITED(status) ? WEXITSTATUS(status) : 100, 0);
	check_int("nothing left in files/", testutil_count(root, "1"), 0);
	testutil_rm_tree(dir);
}

int main(void)
{
	test_names();
	test_save();
	test_clash();
	test_rewrite_cap();
	test_rewrite_escape();
	test_save_error();
	test_save_fsize();
	g_mime_shutdown();
	return test_done("test_ticket_files");
}
