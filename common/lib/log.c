/*
 * log.c - logging for oauthmail programs and plugins.
 *
 * Programs log to stderr and, when asked, to syslog with facility
 * LOG_MAIL (where mail admins look).  Plugins running inside another
 * process (Cyrus SASL, Dovecot) replace every output with a callback,
 * so lines reach the host's own log.  Lines are formatted once, capped
 * at LOG_LINE_MAX bytes, and never contain secrets: callers log token
 * fingerprints, not tokens, and pass outside text through printable().
 */
#include "oauthmail-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "lib/log.h"

#define LOG_LINE_MAX 2048
#define PRINTABLE_RING 4
#define PRINTABLE_MAX 1024

static const char *log_ident = "oauthmail";
static int log_stderr_on = 1;
static int log_syslog_on;
static log_output_fn *log_callback;
static void *log_callback_ctx;
static enum log_level log_min_level = LOG_LEVEL_INFO;
static enum log_level log_stderr_level = LOG_LEVEL_DEBUG;

void log_init(const char *ident)
{
	log_ident = ident;
}

void log_to_stderr(int on)
{
	log_stderr_on = on;
}

void log_to_syslog(int on)
{
	if (on && !log_syslog_on)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	else if (!on && log_syslog_on)
		closelog();
	log_syslog_on = on;
}

void log_set_output(log_output_fn *fn, void *ctx)
{
	log_callback = fn;
	log_callback_ctx = ctx;
}

void log_stderr_min_level(enum log_level level)
{
	log_stderr_level = level;
}

void log_set_min_level(enum log_level level)
{
	log_min_level = level;
}

enum log_level log_get_min_level(void)
{
	return log_min_level;
}

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG:
		return LOG_DEBUG;
	case LOG_LEVEL_INFO:
		return LOG_INFO;
	case LOG_LEVEL_WARN:
		return LOG_WARNING;
	default:
		return LOG_ERR;
	}
}

static const char *level_prefix(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG:
		return "debug: ";
	case LOG_LEVEL_WARN:
		return "warning: ";
	case LOG_LEVEL_ERROR:
		return "error: ";
	default:
		return "";
	}
}

static void log_emit(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];

	if (level < log_min_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_callback != NULL) {
		log_callback(level, line, log_callback_ctx);
		return;
	}
	if (log_stderr_on && level >= log_stderr_level)
		fprintf(stderr, "%s: %s%s\n", log_ident, level_prefix(level),
			line);
	if (log_syslog_on)
		syslog(syslog_priority(level), "%s%s", level_prefix(level),
		       line);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
}

const char *printable_len(const char *text, size_t len, size_t max)
{
	static _Thread_local char ring[PRINTABLE_RING][PRINTABLE_MAX + 4];
	static _Thread_local unsigned int next;
	char *out = ring[next++ % PRINTABLE_RING];
	size_t i, n;

	if (text == NULL)
		return "(null)";
	if (max > PRINTABLE_MAX)
		max = PRINTABLE_MAX;
	n = len < max ? len : max;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (len > max) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

const char *printable(const char *text, size_t max)
{
	if (text == NULL)
		return "(null)";
	return printable_len(text, strnlen(text, max + 1), max);
}
