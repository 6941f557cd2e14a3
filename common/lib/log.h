/* log.h - one logging API for programs and plugins */
#ifndef OAUTHMAIL_LOG_H
#define OAUTHMAIL_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* log_output_fn - where finished lines go (stderr, syslog, SASL, Dovecot) */
typedef void log_output_fn(enum log_level level, const char *line, void *ctx);

/* log_init - name the program; lines go to stderr until told otherwise */
void log_init(const char *ident);
/* log_to_stderr - turn the stderr output on or off */
void log_to_stderr(int on);
/* log_stderr_min_level - a higher threshold for stderr only (a CLI shows
 * warnings on the terminal and logs everything to syslog) */
void log_stderr_min_level(enum log_level level);
/* log_to_syslog - turn syslog output (facility mail) on or off */
void log_to_syslog(int on);
/* log_set_output - replace every output by one callback (plugins) */
void log_set_output(log_output_fn *fn, void *ctx);
/* log_set_min_level - drop lines below this level (default INFO) */
void log_set_min_level(enum log_level level);
/* log_get_min_level - current threshold */
enum log_level log_get_min_level(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* printable - outside text made safe to echo: control bytes become '?',
 * cut to max bytes with "..." appended.  Returns one of a small ring of
 * per-thread buffers, valid until a few more calls. */
const char *printable(const char *text, size_t max);
/* printable_len - the same for (ptr, len) text that need not end in NUL */
const char *printable_len(const char *text, size_t len, size_t max);

#endif
