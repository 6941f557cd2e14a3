#!/bin/sh
# valgrind-wrap.sh - run a test; C test programs run under memcheck,
# scripts run as they are and wrap the programs they call themselves
# (lib.sh looks at OAUTHMAIL_VALGRIND).
case "$1" in
*.sh) exec "$@" ;;
esac
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--track-fds=no "$@"
