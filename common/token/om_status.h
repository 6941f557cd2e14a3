/* om_status.h - outcome classes shared by the library, the CLI exit codes
 * (docs/internals.md, "Exit codes") and the plugins' retry decisions */
#ifndef OAUTHMAIL_STATUS_H
#define OAUTHMAIL_STATUS_H

enum om_status {
	OM_OK = 0,
	OM_ERR_USAGE = 1,  /* bad command line */
	OM_ERR_CONFIG = 2, /* fix oauthmail.conf or the app registration */
	OM_ERR_REAUTH = 3, /* run: oauthmail authorize ACCOUNT */
	OM_ERR_TEMP = 4,   /* provider or network: try again later */
};

#endif
