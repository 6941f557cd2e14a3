/* provider.h - what Microsoft, Google and custom providers need */
#ifndef OAUTHMAIL_PROVIDER_H
#define OAUTHMAIL_PROVIDER_H

#include "token/oauthmail_conf.h"

/* provider_apply_defaults - fill endpoints, scope and mail servers an
 * account left out, from its provider, authority and tenant.  0, or -1
 * with error_r when the combination cannot work (e.g. client
 * credentials against tenant "common"). */
int provider_apply_defaults(struct account_config *acct, const char **error_r);

/* provider_name - "microsoft", "google", "custom" */
const char *provider_name(enum provider_kind kind);
/* provider_parse - the reverse; -1 when unknown */
int provider_parse(const char *name, enum provider_kind *kind_r);

/* provider_cloud_name - "global", "usgov", "usgovdod", "china" */
const char *provider_cloud_name(enum ms_cloud cloud);
/* provider_cloud_parse - the reverse; -1 when unknown */
int provider_cloud_parse(const char *name, enum ms_cloud *cloud_r);

/* provider_tenant_valid - common, organizations, consumers, a tenant ID
 * or a domain (letters, digits, . - _); 0 otherwise */
int provider_tenant_valid(const char *tenant);

/* provider_refresh_token_days - how long an unused refresh token lives
 * (Microsoft 90 days, inactivity; Google testing apps 7 days); 0 =
 * unknown */
int provider_refresh_token_days(const struct account_config *acct);

/* provider_url_allowed - https, or http to a loopback host only */
int provider_url_allowed(const char *url);

#endif
