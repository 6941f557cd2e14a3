#!/bin/sh
# style.sh - the mechanical style gates of STYLE.md: clang-format clean,
# no banned calls (strcpy strcat sprintf gets strtok atoi system).
# The format check uses clang-format-14, the version scripts/install-deps
# installs (Debian 12's): another version formats some lines otherwise.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init style
cd "$top_srcdir" || exit 99
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find common sasl-xoauth2 postfix-tool dovecot-plugin tests bench -name '*.[ch]')
[ -n "$files" ] || t_skip "no sources"

CLANG_FORMAT=clang-format-14
if command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
	bad=""
	for f in $files; do
		"$CLANG_FORMAT" --style=file "$f" | cmp -s "$f" - || bad="$bad $f"
	done
	if [ -z "$bad" ]; then t_pass "clang-format clean"; else
		t_fail "not clang-format clean (run $CLANG_FORMAT -i):$bad"; fi
else
	echo "$CLANG_FORMAT not installed (scripts/install-deps installs it): format check not run"
fi

banned='(^|[^_a-z0-9])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|system)[ ]*\('
hits=$(grep -n -E "$banned" $files | grep -v 'banned-ok' || :)
if [ -z "$hits" ]; then t_pass "no banned calls"; else
	t_fail "banned calls:"; echo "$hits"; fi
t_done
