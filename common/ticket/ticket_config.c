/*
 * ticket_config.c - a ticket queue's directory and its ticketq.conf.
 *
 * The queue is a directory: Maildir tmp/ new/ cur/, files/ for saved
 * attachments, tickets.db (the index) and ticketq.conf.  The config
 * holds the queue's identity: the address replies come from, the
 * subject tag prefix, size limits, the reply command and the HMAC key
 * that signs our Message-IDs (so a forged one is recognised).
 *
 * Rules: the INI dialect of common/lib/ini.c, the keys a table of
 * lib/conftable.c (as oauthmail.conf's); every key is known, unknown
 * or repeated keys are FILE:LINE errors; the timeouts are capped so a
 * delivery ends well before the MTA's time limit kills it.  `init` creates missing parts
 * and never overwrites an existing config; the key comes from the
 * kernel's CSPRNG (getrandom).  The config is written 0640 (it holds the HMAC key:
 * readable by the queue's group, the help desk, never by others),
 * directories 0750.  When run as root, new parts take the owner and
 * group of the queue directory, so `ticketq init` as root prepares a
 * queue that the pipe(8) user owns.
 */
#include "oauthmail-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/conftable.h"
#include "lib/errorf.h"
#include "lib/ini.h"
#include "lib/number.h"
#include "lib/safefile.h"
#include "lib/strbuf.h"
#include "ticket/ticket_config.h"
#include "ticket/ticket_id.h"

/* A delivery may wait for the queue lock once and for the index a few
 * times (open, BEGIN, COMMIT): with these caps it still ends well
 * within Postfix's command_time_limit (1000 s), which would kill it and
 * bounce the mail (5.3.0). */
#define BUSY_TIMEOUT_MAX 120
#define LOCK_TIMEOUT_MAX 300
#define STR_(x) #x
#define STR(x) STR_(x)

#define CONFIG_MAX (64 * 1024)
#define DEFAULT_SENDMAIL "/usr/sbin/sendmail -t -i"

static int valid_address(const char *s);
static int valid_prefix(const char *s);
static int valid_domain(const char *s);
static conf_set_fn set_hmac_key, set_size;

#define KEY(k, set, field, bad) \
	CONF_KEY(k, set, struct ticket_config, field, bad)
#define CHECKED(k, field, valid, bad)                                    \
	CONF_STRING_KEY(k, conf_set_string, struct ticket_config, field, \
			valid, bad)
#define SECONDS(k, field, max)                               \
	CONF_INT_KEY(k, struct ticket_config, field, 1, max, \
		     k ": want seconds, 1 to " STR(max))
#define SIZE_WANTED "size: want bytes, or a number with K, M or G"

static const struct conf_key keys[] = {
	CHECKED("address", address, valid_address, "address: want user@domain"),
	KEY("name", conf_set_string, name, NULL),
	KEY("hmac_key", set_hmac_key, hmac_key,
	    "hmac_key: want 64 hex digits (ticketq init makes one)"),
	CHECKED("tag_prefix", tag_prefix, valid_prefix,
		"tag_prefix: printable ASCII, no [ ] or digits, at most 32"),
	CHECKED("message_id_domain", id_domain, valid_domain,
		"message_id_domain: a domain name"),
	KEY("sendmail", conf_set_path, sendmail,
	    "sendmail: want an absolute command path"),
	KEY("max_message_size", set_size, max_message_size, SIZE_WANTED),
	KEY("max_attachment_size", set_size, max_attachment_size, SIZE_WANTED),
	KEY("max_text_size", set_size, max_text_size, SIZE_WANTED),
	SECONDS("busy_timeout", busy_timeout, BUSY_TIMEOUT_MAX),
	SECONDS("lock_timeout", lock_timeout, LOCK_TIMEOUT_MAX),
};

#undef CHECKED
#undef KEY
#undef SECONDS

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static const struct conf_table table = {
	keys, KEY_COUNT, "unknown key '", "'", "'", "' set twice",
};

struct parse_ctx {
	struct ticket_config *cfg;
	unsigned char seen[KEY_COUNT];
};

void ticket_config_free(struct ticket_config **cfgp)
{
	struct ticket_config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	wipe(cfg->hmac_key, sizeof(cfg->hmac_key));
	free(cfg->dir);
	free(cfg->path);
	free(cfg->address);
	free(cfg->name);
	free(cfg->tag_prefix);
	free(cfg->id_domain);
	free(cfg->sendmail);
	free(cfg);
	*cfgp = NULL;
}

void ticket_config_default_address(char *buf, size_t size)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, size, "ticketq@%s", host);
}

/* set_size - "50M", "1024", "2G": bytes (uint64_t) */
static int set_size(const struct conf_key *key, void *field, const char *s)
{
	uint64_t *out = field;
	const char *end;
	unsigned long long v;
	uint64_t mult = 1;
	size_t n;

	(void)key;
	if (number_prefix(s, strlen(s), 0, UINT64_MAX, &v, &n) < 0)
		return -1;
	end = s + n;
	if (*end == 'k' || *end == 'K')
		mult = 1024;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024;
	else if (*end == 'g' || *end == 'G')
		mult = 1024ULL * 1024 * 1024;
	if (mult != 1)
		end++;
	if (*end != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = (uint64_t)v * mult;
	return 0;
}

/* set_hmac_key - 64 hex digits into the key's bytes */
static int set_hmac_key(const struct conf_key *ck, void *field, const char *s)
{
	unsigned char *key = field;
	size_t i;
	unsigned int byte;

	(void)ck;
	if (strlen(s) != TICKET_HMAC_KEY_LEN * 2)
		return -1;
	for (i = 0; i < TICKET_HMAC_KEY_LEN; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &byte) != 1)
			return -1;
		key[i] = (unsigned char)byte;
	}
	return 0;
}

int ticket_config_valid_address(const char *s, int local_optional)
{
	const char *at = strrchr(s, '@');

	if (at == NULL || (at == s && !local_optional) || at[1] == '\0' ||
	    strlen(s) > 254)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || strchr("<>,;\"()[]\\", *s))
			return 0;
	return 1;
}

static int valid_address(const char *s)
{
	return ticket_config_valid_address(s, 0);
}

static int valid_prefix(const char *s)
{
	if (strlen(s) > 32)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s > '~' ||
		    strchr("[]", *s) != NULL || isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int valid_domain(const char *s)
{
	if (*s == '\0' || strlen(s) > 253)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(".-_", *s) == NULL)
			return 0;
	return 1;
}

static int set_string(char **field, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

static int config_cb(const struct ini_event *ev, void *vctx,
		     const char **error_r)
{
	struct parse_ctx *ctx = vctx;

	if (ev->kind != NULL) {
		*error_r = "ticketq.conf has no sections";
		return -1;
	}
	return conf_table_set(&table, ctx->seen, ctx->cfg, ev->key, ev->value,
			      error_r);
}

static int config_defaults(struct ticket_config *cfg, const char *dir)
{
	cfg->max_message_size = 100ULL * 1024 * 1024;
	cfg->max_attachment_size = 50ULL * 1024 * 1024;
	cfg->max_text_size = 1024 * 1024;
	cfg->busy_timeout = 60;
	cfg->lock_timeout = 120;
	if ((cfg->dir = strdup(dir)) == NULL ||
	    asprintf(&cfg->path, "%s/%s", dir, TICKET_CONFIG_NAME) < 0) {
		cfg->path = NULL;
		return -1;
	}
	return 0;
}

static int config_finish(struct ticket_config *cfg, const char *filename,
			 const struct parse_ctx *ctx, const char **error_r)
{
	const char *at;

	if (!conf_table_seen(&table, ctx->seen, "hmac_key") ||
	    !conf_table_seen(&table, ctx->seen, "address")) {
		*error_r = errorf("%s: 'address' and 'hmac_key' are required "
				  "(ticketq init writes both)",
				  filename);
		return -1;
	}
	at = strrchr(cfg->address, '@');
	if ((cfg->name == NULL && set_string(&cfg->name, "") < 0) ||
	    (cfg->tag_prefix == NULL &&
	     set_string(&cfg->tag_prefix, "#") < 0) ||
	    (cfg->sendmail == NULL &&
	     set_string(&cfg->sendmail, DEFAULT_SENDMAIL) < 0) ||
	    (cfg->id_domain == NULL &&
	     set_string(&cfg->id_domain, at + 1) < 0)) {
		*error_r = "out of memory";
		return -1;
	}
	return 0;
}

int ticket_config_parse(const char *dir, const char *filename, const char *text,
			size_t len, struct ticket_config **cfg_r,
			const char **error_r)
{
	struct parse_ctx ctx;
	struct ticket_config *cfg = calloc(1, sizeof(*cfg));

	memset(&ctx, 0, sizeof(ctx));
	if (cfg == NULL || config_defaults(cfg, dir) < 0) {
		ticket_config_free(&cfg);
		*error_r = "out of memory";
		return -1;
	}
	ctx.cfg = cfg;
	if (ini_parse(filename, text, len, config_cb, &ctx, error_r) < 0 ||
	    config_finish(cfg, filename, &ctx, error_r) < 0) {
		ticket_config_free(&cfg);
		return -1;
	}
	*cfg_r = cfg;
	return 0;
}

int ticket_config_load(const char *dir, struct ticket_config **cfg_r,
		       const char **error_r)
{
	struct strbuf sb;
	char *path;
	int ret;

	if (asprintf(&path, "%s/%s", dir, TICKET_CONFIG_NAME) < 0) {
		*error_r = "out of memory";
		return -1;
	}
	strbuf_init(&sb, CONFIG_MAX);
	ret = safefile_read(path, CONFIG_MAX, &sb, error_r);
	if (ret == 0)
		ret = ticket_config_parse(dir, path, sb.data ? sb.data : "",
					  sb.len, cfg_r, error_r);
	strbuf_free(&sb);
	free(path);
	return ret;
}

static int own_like_queue(const char *path, const struct stat *qst)
{
	if (geteuid() != 0)
		return 0;
	return lchown(path, qst->st_uid, qst->st_gid);
}

static int make_dir(const char *path, const struct stat *qst,
		    const char **error_r)
{
	if (mkdir(path, 0750) < 0) {
		if (errno == EEXIST)
			return 0;
		*error_r = errorf("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if (qst != NULL && own_like_queue(path, qst) < 0) {
		*error_r = errorf("chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_config(const char *dir, const char *address,
			const char **error_r)
{
	unsigned char key[TICKET_HMAC_KEY_LEN];
	struct strbuf sb;
	char path[4096];
	size_t i;
	int ret = -1;

	if (ticket_id_random(key, sizeof(key)) < 0) {
		*error_r = "no random bytes for the HMAC key (getrandom)";
		return -1;
	}
	strbuf_init(&sb, CONFIG_MAX);
	strbuf_printf(&sb,
		      "# ticketq queue config (ticketq(1)).  Keep hmac_key "
		      "secret: it signs our Message-IDs.\n"
		      "address = %s\n"
		      "# name = Help Desk\n"
		      "# tag_prefix = #\n"
		      "# sendmail = " DEFAULT_SENDMAIL " -f %s\n"
		      "# max_message_size = 100M\n"
		      "# max_attachment_size = 50M\n"
		      "# max_text_size = 1M\n"
		      "hmac_key = ",
		      address, address);
	for (i = 0; i < sizeof(key); i++)
		strbuf_printf(&sb, "%02x", key[i]);
	if (strbuf_append_str(&sb, "\n") == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, TICKET_CONFIG_NAME);
		ret = safefile_write(path, sb.data, sb.len, 0640, 1, error_r);
	} else {
		*error_r = "out of memory";
	}
	wipe(key, sizeof(key));
	strbuf_free(&sb);
	return ret;
}

int ticket_config_init(const char *dir, const char *address, int *created_r,
		       const char **error_r)
{
	static const char *const subdirs[] = {"tmp", "new", "cur", "files"};
	char path[4096];
	struct stat st;
	size_t i;

	*created_r = 0;
	if (!valid_address(address)) {
		*error_r =
			errorf("queue address '%s': want user@domain", address);
		return -1;
	}
	if (make_dir(dir, NULL, error_r) < 0)
		return -1;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*error_r = errorf("%s: not a directory", dir);
		return -1;
	}
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (make_dir(path, &st, error_r) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, TICKET_CONFIG_NAME);
	if (access(path, F_OK) == 0)
		return 0;
	if (write_config(dir, address, error_r) < 0)
		return -1;
	*created_r = 1;
	return 0;
}
