/*
 * cmd_status.c - oauthmail status, list and check: what state every
 * account's grant is in, for people (status, list), for scripts
 * (status --json) and for monitoring (check: one Nagios-style line
 * with perfdata, exit 0 OK / 1 WARNING / 2 CRITICAL / 3 UNKNOWN, or
 * --json).
 *
 * check looks ahead: a refresh token that will die of disuse, a client
 * secret near its end date, a refresh that keeps failing, an account
 * that needs a new sign-in, a token_dir or token file open to other
 * users.  A command line or config that check cannot use is UNKNOWN,
 * with the reason on the status line.  Each problem comes with the
 * command or the portal step that fixes it.  Nothing here prints a
 * token.
 */
#include "oauthmail-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "lib/crypto.h"
#include "lib/errorf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/number.h"
#include "lib/strbuf.h"
#include "token/oauthmail_conf.h"
#include "token/provider.h"
#include "token/token_cache.h"
#include "token/token_perms.h"
#include "token/token_store.h"

#define STATUS_USAGE \
	"status [ACCOUNT] [--json]\n  show each account's tokens and health"
#define LIST_USAGE "list\n  list the configured accounts"
#define CHECK_USAGE                                                           \
	"check [ACCOUNT...] [--warn-days N] [--crit-days N] [--json]\n"       \
	"  monitoring check (Nagios) of the accounts named (default: all):\n" \
	"  exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; warns N days "        \
	"(default 14)\n  before a refresh token or client secret expires, "   \
	"CRITICAL N days before\n  (--crit-days, default 0: when expired)"
#define DAY 86400

/* What we know about one account, gathered once for all three commands */
struct account_state {
	const struct account_config *acct;
	struct token_record rec;
	int have_file; /* 1 file read, 0 none, -1 unreadable */
	char read_error[256];
	char fp[CRYPTO_FINGERPRINT_LEN + 1];
	time_t refresh_expires; /* 0 unknown or none */
};

static const char *state_name(const struct account_state *s)
{
	if (s->have_file < 0)
		return "unreadable";
	if (s->have_file == 0)
		return s->acct->grant == GRANT_CLIENT_CREDENTIALS
			       ? "no_token_yet"
			       : "not_authorized";
	if (s->rec.reauth_needed)
		return "reauth_needed";
	if (s->rec.failures > 0)
		return "refresh_failing";
	return "ok";
}

static void gather(struct token_cache *cache, const struct account_config *a,
		   struct account_state *s)
{
	const char *error;
	int days = provider_refresh_token_days(a);
	int r;

	memset(s, 0, sizeof(*s));
	s->acct = a;
	r = token_cache_read_record(cache, a->name, &s->rec, &error);
	s->have_file = r == 0 ? 1 : r > 0 ? 0 : -1;
	if (r < 0)
		snprintf(s->read_error, sizeof(s->read_error), "%s", error);
	if (s->rec.access_token != NULL)
		crypto_fingerprint(s->rec.access_token,
				   strlen(s->rec.access_token), s->fp);
	if (s->rec.refresh_token != NULL && days > 0 && s->rec.refresh_issued)
		s->refresh_expires = s->rec.refresh_issued + (time_t)days * DAY;
	/* Google's 7 days hold only for apps in Testing mode: a refresh that
	   worked after them shows the app is In production (no horizon). */
	if (s->refresh_expires != 0 && a->provider == PROVIDER_GOOGLE &&
	    s->rec.last_refresh >= s->refresh_expires)
		s->refresh_expires = 0;
}

static long long left(time_t t)
{
	return (long long)(t - time(NULL));
}

/* days_left - whole days left, rounded down: a secret that expired an
   hour ago has -1 days, not 0 (0 is still inside the CRITICAL range 0:) */
static long long days_left(time_t t)
{
	long long l = left(t);

	return l < 0 ? -((-l + DAY - 1) / DAY) : l / DAY;
}

/* print_signed_in - who signed in at authorize (the id_token's user) */
static void print_signed_in(const struct account_state *s)
{
	const char *who = s->rec.signed_in_as, *user = s->acct->user;

	if (s->have_file <= 0 || s->acct->grant == GRANT_CLIENT_CREDENTIALS)
		return;
	if (who == NULL)
		printf("  signed in as   not verified (no id_token at "
		       "authorize, or authorized before it was checked)\n");
	else if (user != NULL && strcasecmp(who, user) != 0)
		printf("  signed in as   %s (not the account's user %s)\n",
		       printable(who, 320), user);
	else
		printf("  signed in as   %s\n", printable(who, 320));
}

static void print_human(const struct account_state *s,
			const struct oauthmail_config *cfg)
{
	const struct account_config *a = s->acct;
	const struct token_record *r = &s->rec;

	printf("account %s (%s%s%s)\n", a->name, provider_name(a->provider),
	       a->user ? ", " : "", a->user ? a->user : "");
	printf("  state          %s\n", state_name(s));
	printf("  token file     %s/%s.json\n", cfg->token_dir, a->name);
	if (s->have_file < 0)
		printf("  error          %s\n", s->read_error);
	if (r->access_token != NULL)
		printf("  access token   %s, %s %s (%s)\n", s->fp,
		       left(r->access_expires) > 0 ? "valid until" : "expired",
		       cli_time(r->access_expires),
		       cli_duration(left(r->access_expires)));
	if (r->refresh_token != NULL)
		printf("  refresh token  issued %s%s%s%s\n",
		       cli_time(r->refresh_issued),
		       s->refresh_expires ? "; expires " : "",
		       s->refresh_expires ? cli_time(s->refresh_expires) : "",
		       s->refresh_expires ? " if unused" : "");
	if (s->have_file > 0)
		printf("  authorized     %s\n  last refresh   %s\n",
		       cli_time(r->authorized), cli_time(r->last_refresh));
	print_signed_in(s);
	if (a->client_secret_expires)
		printf("  client secret  expires %s (%s)\n",
		       cli_time(a->client_secret_expires),
		       cli_duration(left(a->client_secret_expires)));
	if (r->last_error != NULL)
		printf("  last error     %s: %s\n",
		       cli_time(r->last_error_time), r->last_error);
}

static void add_time(cJSON *o, const char *key, time_t t)
{
	char buf[32];
	struct tm tm;

	if (t == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, key, buf);
}

static void add_str(cJSON *o, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *state_json(const struct account_state *s)
{
	const struct account_config *a = s->acct;
	const struct token_record *r = &s->rec;
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	add_str(o, "account", a->name);
	add_str(o, "provider", provider_name(a->provider));
	add_str(o, "user", a->user);
	add_str(o, "signed_in_as", r->signed_in_as);
	add_str(o, "grant",
		a->grant == GRANT_CLIENT_CREDENTIALS ? "client_credentials"
						     : "authorization_code");
	add_str(o, "state", state_name(s));
	add_str(o, "access_token_fingerprint", s->fp[0] ? s->fp : NULL);
	add_time(o, "access_expires", r->access_expires);
	add_time(o, "refresh_token_issued", r->refresh_issued);
	add_time(o, "refresh_token_expires", s->refresh_expires);
	add_time(o, "authorized", r->authorized);
	add_time(o, "last_refresh", r->last_refresh);
	add_time(o, "client_secret_expires", a->client_secret_expires);
	cJSON_AddBoolToObject(o, "reauth_needed", r->reauth_needed);
	add_str(o, "last_error",
		r->last_error	   ? r->last_error
		: s->have_file < 0 ? s->read_error
				   : NULL);
	add_time(o, "last_error_time", r->last_error_time);
	return o;
}

/* gather_all - states for one named account or all; count in *n */
static struct account_state *gather_all(struct cli *cli,
					struct token_cache *cache,
					const char *only, size_t *n)
{
	const struct oauthmail_config *cfg = cli->cfg;
	struct account_state *states;
	size_t i;

	*n = 0;
	states = calloc(cfg->account_count + 1, sizeof(*states));
	if (states == NULL)
		return NULL;
	for (i = 0; i < cfg->account_count; i++) {
		if (only != NULL && strcmp(cfg->accounts[i]->name, only) != 0)
			continue;
		gather(cache, cfg->accounts[i], &states[(*n)++]);
	}
	return states;
}

static void free_states(struct account_state *states, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		token_record_free(&states[i].rec);
	free(states);
}

static int print_json(const struct account_state *states, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	char *out;
	size_t i;

	for (i = 0; arr != NULL && i < n; i++)
		cJSON_AddItemToArray(arr, state_json(&states[i]));
	out = arr ? cJSON_Print(arr) : NULL;
	if (out != NULL)
		printf("%s\n", out);
	free(out);
	cJSON_Delete(arr);
	return out != NULL ? OM_OK : OM_ERR_TEMP;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct account_state *states;
	struct token_cache *cache;
	const char *only = NULL;
	size_t i, n;
	int as_json = 0, ret;

	if (cli_help(argc, argv, STATUS_USAGE))
		return OM_OK;
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (argv[i][0] != '-' && only == NULL)
			only = argv[i];
		else {
			fprintf(stderr, "usage: oauthmail %s\n", STATUS_USAGE);
			return OM_ERR_USAGE;
		}
	}
	if (only != NULL && cli_account(cli, only) == NULL)
		return OM_ERR_CONFIG;
	if ((ret = cli_open_cache(cli, &cache)) != OM_OK)
		return ret;
	if ((ret = cli_token_perms(cli, only)) != OM_OK) {
		token_cache_close(&cache);
		return ret;
	}
	states = gather_all(cli, cache, only, &n);
	if (states == NULL)
		ret = OM_ERR_TEMP;
	else if (as_json)
		ret = print_json(states, n);
	else
		for (i = 0; i < n; i++)
			print_human(&states[i], cli->cfg);
	if (states != NULL && n == 0 && !as_json)
		printf("no accounts in %s\n", cli->cfg->path);
	free_states(states, n);
	token_cache_close(&cache);
	return ret;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct account_state *states;
	struct token_cache *cache;
	size_t i, n;
	int ret;

	if (cli_help(argc, argv, LIST_USAGE))
		return OM_OK;
	if (argc > 1) {
		fprintf(stderr, "usage: oauthmail %s\n", LIST_USAGE);
		return OM_ERR_USAGE;
	}
	if ((ret = cli_open_cache(cli, &cache)) != OM_OK)
		return ret;
	states = gather_all(cli, cache, NULL, &n);
	for (i = 0; states != NULL && i < n; i++)
		printf("%-20s %-9s %-16s %s\n", states[i].acct->name,
		       provider_name(states[i].acct->provider),
		       state_name(&states[i]),
		       states[i].acct->user ? states[i].acct->user : "-");
	free_states(states, n);
	token_cache_close(&cache);
	return states != NULL ? OM_OK : OM_ERR_TEMP;
}

enum level { LEVEL_OK, LEVEL_WARNING, LEVEL_CRITICAL, LEVEL_UNKNOWN };

static const char *const level_names[] = {"OK", "WARNING", "CRITICAL",
					  "UNKNOWN"};

#define PROBLEMS_MAX 8

/* What check found for one account: each problem with its fix */
struct finding {
	enum level level;
	size_t count;
	char problem[PROBLEMS_MAX][768];
};

/* The command line of check */
struct check_opts {
	int warn_days;
	int crit_days;
	int as_json;
	const char **names; /* the accounts named; none: all */
	size_t count;
};

static void note(struct finding *f, enum level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* no_pipes - a '|' in a status text (a provider's error_description,
   say) would start the perfdata for Nagios: make it '/' */
static void no_pipes(char *text)
{
	for (; *text != '\0'; text++)
		if (*text == '|')
			*text = '/';
}

/* note - add a problem to the account's finding; the level is the worst
   of them */
static void note(struct finding *f, enum level level, const char *fmt, ...)
{
	va_list ap;

	if (level > f->level)
		f->level = level;
	if (f->count == PROBLEMS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(f->problem[f->count], sizeof(f->problem[0]), fmt, ap);
	va_end(ap);
	no_pipes(f->problem[f->count++]);
}

/* refresh_warn_days - the warning window for the refresh token: warn_days,
   or a third of the horizon when that is shorter than warn_days (Google
   Testing apps: 7 days; warning all the time would say nothing) */
static int refresh_warn_days(const struct account_config *a, int warn_days)
{
	int days = provider_refresh_token_days(a);

	return warn_days < days ? warn_days : days / 3;
}

/* refresh_crit_days - crit_days, within the refresh warning window */
static int refresh_crit_days(const struct account_config *a,
			     const struct check_opts *o)
{
	int warn = refresh_warn_days(a, o->warn_days);

	return o->crit_days < warn ? o->crit_days : warn;
}

/* soon - WARNING inside the warning window, CRITICAL inside the
   critical one (seconds left l) */
static enum level soon(long long l, int crit_days)
{
	return l <= (long long)crit_days * DAY ? LEVEL_CRITICAL : LEVEL_WARNING;
}

static void check_refresh_token(const struct account_state *s,
				const struct check_opts *o, struct finding *f)
{
	const struct account_config *a = s->acct;
	int days = provider_refresh_token_days(a);
	long long warn = refresh_warn_days(a, o->warn_days);
	long long l = left(s->refresh_expires);
	enum level level = soon(l, refresh_crit_days(a, o));

	if (s->refresh_expires == 0)
		return;
	if (l <= 0 && a->provider == PROVIDER_GOOGLE)
		note(f, LEVEL_WARNING,
		     "%s: refresh token issued %s ago and not used since "
		     "%s: if the app is in Testing mode it has expired; "
		     "publish the app (In production), then run: oauthmail "
		     "authorize %s",
		     a->name, cli_duration(-left(s->rec.refresh_issued)),
		     cli_time(s->refresh_expires), a->name);
	else if (l <= 0)
		note(f, LEVEL_CRITICAL,
		     "%s: refresh token expired on %s (%d days unused); run: "
		     "oauthmail authorize %s",
		     a->name, cli_time(s->refresh_expires), days, a->name);
	else if (l <= warn * DAY && a->provider == PROVIDER_GOOGLE)
		note(f, level,
		     "%s: refresh token expires in %s (%s): Google gives apps "
		     "in "
		     "Testing mode 7-day refresh tokens; publish the app (In "
		     "production), then run: oauthmail authorize %s",
		     a->name, cli_duration(l), cli_time(s->refresh_expires),
		     a->name);
	else if (l <= warn * DAY)
		note(f, level,
		     "%s: refresh token expires in %s (%s) unless used; run: "
		     "oauthmail refresh %s --force (each refresh renews it)",
		     a->name, cli_duration(l), cli_time(s->refresh_expires),
		     a->name);
}

static void check_secret(const struct account_config *a,
			 const struct check_opts *o, struct finding *f)
{
	long long l = left(a->client_secret_expires);

	if (a->client_secret_expires == 0)
		return;
	if (l <= 0)
		note(f, LEVEL_CRITICAL,
		     "%s: client secret expired on %s; create a new one (Entra "
		     "admin center > App registrations > Certificates & "
		     "secrets), write it to client_secret_file, set "
		     "client_secret_expires",
		     a->name, cli_time(a->client_secret_expires));
	else if (l <= (long long)o->warn_days * DAY)
		note(f, soon(l, o->crit_days),
		     "%s: client secret expires in %s (%s); create a new one "
		     "(Entra admin center > App registrations > Certificates & "
		     "secrets), write it to client_secret_file, set "
		     "client_secret_expires",
		     a->name, cli_duration(l),
		     cli_time(a->client_secret_expires));
}

/* check_perms - token_dir others can write: CRITICAL (token, refresh and
   status refuse it); a token file or token_dir open to more: WARNING */
static void check_perms(const struct account_state *s, const char *token_dir,
			struct finding *f)
{
	const char *why;
	enum token_perms_level p;

	p = token_perms_account(token_dir, s->acct->name, &why);
	if (p != TOKEN_PERMS_OK)
		note(f,
		     p == TOKEN_PERMS_REFUSE ? LEVEL_CRITICAL : LEVEL_WARNING,
		     "%s: %s", s->acct->name, why);
}

static void evaluate(const struct account_state *s, const char *token_dir,
		     const struct check_opts *o, struct finding *f)
{
	const struct account_config *a = s->acct;
	const struct token_record *r = &s->rec;

	memset(f, 0, sizeof(*f));
	check_perms(s, token_dir, f);
	if (s->have_file < 0)
		note(f, LEVEL_CRITICAL, "%s: %s", a->name, s->read_error);
	else if (s->have_file == 0 && a->grant != GRANT_CLIENT_CREDENTIALS)
		note(f, LEVEL_CRITICAL,
		     "%s: not authorized yet; run: oauthmail authorize %s",
		     a->name, a->name);
	else if (r->reauth_needed && r->last_error != NULL)
		note(f, LEVEL_CRITICAL, "%s", r->last_error);
	else if (r->reauth_needed)
		note(f, LEVEL_CRITICAL,
		     "%s: needs authorization; run: oauthmail authorize %s",
		     a->name, a->name);
	else if (r->failures > 0)
		note(f,
		     left(r->access_expires) > 0 ? LEVEL_WARNING
						 : LEVEL_CRITICAL,
		     "%s: refresh failing: %s", a->name,
		     r->last_error ? r->last_error : "?");
	if (!r->reauth_needed)
		check_refresh_token(s, o, f);
	check_secret(a, o, f);
}

/* finding_text - "NAME ok", or the problems joined by "; " */
static void finding_text(const struct account_state *s, const struct finding *f,
			 struct strbuf *out)
{
	size_t i;

	if (f->count == 0)
		strbuf_printf(out, "%s ok", s->acct->name);
	for (i = 0; i < f->count; i++)
		strbuf_printf(out, "%s%s", i ? "; " : "", f->problem[i]);
}

/* perfdata - Nagios plugin format, 'label'=value[UOM];warn;crit;min;max:
   seconds left on the access token, days left for the refresh token and
   the client secret, the thresholds as ranges ("14:" alerts below 14) */
static void perfdata(const struct account_state *s, const struct check_opts *o,
		     struct strbuf *perf)
{
	const struct account_config *a = s->acct;

	if (s->rec.access_token != NULL)
		strbuf_printf(perf, " '%s_token_s'=%llds;;;", a->name,
			      left(s->rec.access_expires));
	if (s->refresh_expires != 0)
		strbuf_printf(perf, " '%s_refresh_days'=%lld;%d:;%d:;;",
			      a->name, days_left(s->refresh_expires),
			      refresh_warn_days(a, o->warn_days),
			      refresh_crit_days(a, o));
	if (a->client_secret_expires != 0)
		strbuf_printf(perf, " '%s_secret_days'=%lld;%d:;%d:;;", a->name,
			      days_left(a->client_secret_expires), o->warn_days,
			      o->crit_days);
}

/* report - the Nagios status line with perfdata; with more than one
   account, one line per account after it (long output) */
static enum level report(const struct account_state *states,
			 const struct finding *found, size_t n,
			 const struct check_opts *o)
{
	struct strbuf text, perf, line;
	enum level worst = LEVEL_OK;
	size_t i;

	strbuf_init(&text, 256 * 1024);
	strbuf_init(&perf, 64 * 1024);
	for (i = 0; i < n; i++) {
		if (found[i].level > worst)
			worst = found[i].level;
		strbuf_append_str(&text, i ? "; " : "");
		finding_text(&states[i], &found[i], &text);
		perfdata(&states[i], o, &perf);
	}
	printf("OAUTHMAIL %s - %s%s%s\n", level_names[worst],
	       text.data ? text.data : "", perf.len ? " |" : "",
	       perf.len ? perf.data : "");
	for (i = 0; n > 1 && i < n; i++) {
		strbuf_init(&line, 64 * 1024);
		finding_text(&states[i], &found[i], &line);
		printf("%s: %s: %s\n", states[i].acct->name,
		       level_names[found[i].level], line.data);
		strbuf_free(&line);
	}
	strbuf_free(&text);
	strbuf_free(&perf);
	return worst;
}

static void add_number(cJSON *o, const char *key, int known, long long v)
{
	if (known)
		cJSON_AddNumberToObject(o, key, (double)v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *finding_json(const struct account_state *s,
			   const struct finding *f)
{
	const struct account_config *a = s->acct;
	cJSON *o = cJSON_CreateObject(), *problems;
	size_t i;

	if (o == NULL)
		return NULL;
	add_str(o, "account", a->name);
	add_str(o, "status", level_names[f->level]);
	problems = cJSON_AddArrayToObject(o, "problems");
	for (i = 0; problems != NULL && i < f->count; i++)
		cJSON_AddItemToArray(problems,
				     cJSON_CreateString(f->problem[i]));
	add_number(o, "token_seconds_left", s->rec.access_token != NULL,
		   left(s->rec.access_expires));
	add_number(o, "refresh_token_days_left", s->refresh_expires != 0,
		   days_left(s->refresh_expires));
	add_number(o, "client_secret_days_left", a->client_secret_expires != 0,
		   days_left(a->client_secret_expires));
	add_time(o, "access_expires", s->rec.access_expires);
	add_time(o, "refresh_token_expires", s->refresh_expires);
	add_time(o, "client_secret_expires", a->client_secret_expires);
	return o;
}

/* print_check_json - {"status", "exit", "summary", "warn_days",
   "crit_days", "accounts": [...]} (docs/oauthmail.1, check --json) */
static void print_check_json(enum level level, const char *summary,
			     const struct account_state *states,
			     const struct finding *found, size_t n,
			     const struct check_opts *o)
{
	cJSON *root = cJSON_CreateObject(), *list;
	char *out = NULL;
	size_t i;

	if (root != NULL) {
		add_str(root, "status", level_names[level]);
		cJSON_AddNumberToObject(root, "exit", level);
		add_str(root, "summary", summary);
		cJSON_AddNumberToObject(root, "warn_days", o->warn_days);
		cJSON_AddNumberToObject(root, "crit_days", o->crit_days);
		list = cJSON_AddArrayToObject(root, "accounts");
		for (i = 0; list != NULL && i < n; i++)
			cJSON_AddItemToArray(
				list, finding_json(&states[i], &found[i]));
		out = cJSON_Print(root);
	}
	printf("%s\n", out ? out : "{\"status\": \"UNKNOWN\", \"exit\": 3}");
	free(out);
	cJSON_Delete(root);
}

/* unknown - the check could not run: exit 3 with the reason on the
   status line (or in the JSON) */
static int unknown(const struct check_opts *o, const char *reason)
{
	const char *why = printable(reason, 600);

	if (o->as_json)
		print_check_json(LEVEL_UNKNOWN, why, NULL, NULL, 0, o);
	else
		printf("OAUTHMAIL UNKNOWN - %s\n", why);
	return LEVEL_UNKNOWN;
}

/* days_option - the value of --warn-days / --crit-days; NULL, or why not */
static const char *days_option(int argc, char **argv, int *i, int *days_r)
{
	unsigned long long v;

	if (*i + 1 >= argc || number_parse(argv[*i + 1], 0, 365, &v) != 0)
		return errorf("%s wants a whole number of days from 0 to 365",
			      argv[*i]);
	*days_r = (int)v;
	(*i)++;
	return NULL;
}

/* check_options - parse the command line into o; NULL, or what is wrong
   with it (o->as_json is set even then) */
static const char *check_options(int argc, char **argv, struct check_opts *o)
{
	const char *bad = NULL;
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			o->as_json = 1;
	for (i = 1; i < argc && bad == NULL; i++) {
		if (strcmp(argv[i], "--json") == 0)
			continue;
		else if (strcmp(argv[i], "--warn-days") == 0)
			bad = days_option(argc, argv, &i, &o->warn_days);
		else if (strcmp(argv[i], "--crit-days") == 0)
			bad = days_option(argc, argv, &i, &o->crit_days);
		else if (argv[i][0] == '-')
			bad = errorf("unknown option %s",
				     printable(argv[i], 64));
		else
			o->names[o->count++] = argv[i];
	}
	if (bad == NULL && o->crit_days > o->warn_days)
		bad = errorf("--crit-days %d is more than --warn-days %d",
			     o->crit_days, o->warn_days);
	return bad;
}

/* check_load - the config and the token cache; NULL, or why not */
static const char *check_load(struct cli *cli, struct token_cache **cache_r)
{
	const char *error;

	if (cli->cfg == NULL &&
	    config_load(cli->config_path, &cli->cfg, &error) < 0)
		return errorf("configuration error: %s", error);
	if (token_cache_open(cli->cfg, cache_r, &error) < 0)
		return errorf("configuration error: %s", error);
	return NULL;
}

/* check_gather - the states of the accounts named (all when none), in
   the order named; NULL with why_r for a name not in the config */
static struct account_state *check_gather(struct cli *cli,
					  struct token_cache *cache,
					  const struct check_opts *o, size_t *n,
					  const char **why_r)
{
	const struct oauthmail_config *cfg = cli->cfg;
	const struct account_config *a;
	struct account_state *states;
	size_t i;

	*n = 0;
	*why_r = "out of memory";
	if (o->count == 0)
		return gather_all(cli, cache, NULL, n);
	if ((states = calloc(o->count, sizeof(*states))) == NULL)
		return NULL;
	for (i = 0; i < o->count; i++) {
		if ((a = config_find_account(cfg, o->names[i])) == NULL) {
			*why_r = errorf("account '%s' is not in %s (see: "
					"oauthmail list)",
					printable(o->names[i], 64), cfg->path);
			free_states(states, *n);
			*n = 0;
			return NULL;
		}
		gather(cache, a, &states[(*n)++]);
	}
	return states;
}

/* check_run - evaluate and print; the exit code */
static int check_run(struct cli *cli, struct token_cache *cache,
		     const struct check_opts *o)
{
	struct account_state *states;
	struct finding *found;
	struct strbuf summary;
	enum level worst = LEVEL_OK;
	const char *why;
	size_t i, n;

	if ((states = check_gather(cli, cache, o, &n, &why)) == NULL)
		return unknown(o, why);
	if (n == 0) {
		free_states(states, n);
		return unknown(o, errorf("no accounts in %s", cli->cfg->path));
	}
	if ((found = calloc(n, sizeof(*found))) == NULL) {
		free_states(states, n);
		return unknown(o, "out of memory");
	}
	for (i = 0; i < n; i++)
		evaluate(&states[i], cli->cfg->token_dir, o, &found[i]);
	if (o->as_json) {
		strbuf_init(&summary, 256 * 1024);
		for (i = 0; i < n; i++) {
			if (found[i].level > worst)
				worst = found[i].level;
			strbuf_append_str(&summary, i ? "; " : "");
			finding_text(&states[i], &found[i], &summary);
		}
		print_check_json(worst, summary.data, states, found, n, o);
		strbuf_free(&summary);
	} else
		worst = report(states, found, n, o);
	free(found);
	free_states(states, n);
	return (int)worst;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct check_opts o = {14, 0, 0, NULL, 0};
	struct token_cache *cache = NULL;
	const char *why;
	int ret;

	if (cli_help(argc, argv, CHECK_USAGE))
		return OM_OK;
	if ((o.names = calloc((size_t)argc, sizeof(*o.names))) == NULL)
		return unknown(&o, "out of memory");
	if ((why = check_options(argc, argv, &o)) != NULL) {
		fprintf(stderr, "usage: oauthmail %s\n", CHECK_USAGE);
		ret = unknown(&o, errorf("usage: %s (see: oauthmail check "
					 "--help)",
					 why));
	} else if ((why = check_load(cli, &cache)) != NULL)
		ret = unknown(&o, why);
	else
		ret = check_run(cli, cache, &o);
	token_cache_close(&cache);
	free(o.names);
	return ret;
}
