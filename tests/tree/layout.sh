#!/bin/sh
# layout.sh - the dependency rules of common/README.md, one grep each:
#   common/lib/     includes nothing of ours but lib/ (and oauthmail-config.h)
#   common/token/   never includes mail/ or ticket/
#   common/mail/    never includes ticket/
#   common/ticket/  never includes token/ or mail/
#   sasl-xoauth2/   never includes mail/ or ticket/ (it runs in every smtp)
# and every include of ours is wing-qualified ("lib/strbuf.h", not
# "strbuf.h"): inside common/ always, elsewhere a bare name must be a
# header in the including file's own folder (tests/unit/testlib.h).
# Each offence is printed as FILE:LINE: the include: the rule it breaks.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init layout
cd "$top_srcdir" || exit 99

files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find common sasl-xoauth2 postfix-tool \
	dovecot-plugin tests bench -name '*.[ch]' 2>/dev/null | sort)
[ -n "$files" ] || t_skip "no sources"
headers=$T/headers
find common sasl-xoauth2 postfix-tool dovecot-plugin tests bench \
	-name '*.h' 2>/dev/null >"$headers"
[ -s "$headers" ] || t_skip "no headers"

# layout_check HEADERS FILE... - print every offence, one per line
layout_check() {
	awk '
	FNR == NR { have[$0] = 1; next }
	FNR == 1 {
		file = FILENAME
		dir = file; sub(/\/[^\/]*$/, "", dir)
		if (dir == file) dir = "."
		wing = ""
		if (file ~ /^common\/(lib|token|mail|ticket)\//) {
			wing = file; sub(/^common\//, "", wing); sub(/\/.*/, "", wing)
		} else if (file ~ /^sasl-xoauth2\//) wing = "sasl"
	}
	/^[ \t]*#[ \t]*include[ \t]*["<]/ {
		line = $0
		sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
		quoted = substr(line, 1, 1) == "\""
		name = substr(line, 2)
		sub(/[">].*/, "", name)
		top = name; sub(/\/.*/, "", top)
		ours = (name ~ /^(lib|token|mail|ticket)\//)
		if (!ours && !quoted) next	# a system or library header
		if (name == "oauthmail-config.h") next
		where = file ":" FNR ": #include \"" name "\": "
		if (ours && !(("common/" name) in have)) {
			print where "no such header in common/"; next
		}
		if (!ours) {
			if (wing != "" && wing != "sasl")
				print where "not wing-qualified (common/ writes " \
				    "\"<wing>/<header>.h\" even for its own wing)"
			else if (!((dir "/" name) in have))
				print where "not wing-qualified and not a header " \
				    "of " dir "/"
			next
		}
		if (wing == "lib" && top != "lib")
			print where "lib/ includes nothing of ours but lib/"
		else if (wing == "token" && (top == "mail" || top == "ticket"))
			print where "token/ never includes mail/ or ticket/"
		else if (wing == "mail" && top == "ticket")
			print where "mail/ never includes ticket/"
		else if (wing == "ticket" && (top == "token" || top == "mail"))
			print where "ticket/ never includes token/ or mail/"
		else if (wing == "sasl" && (top == "mail" || top == "ticket"))
			print where "sasl-xoauth2/ never includes mail/ or ticket/"
	}' "$@"
}

# shellcheck disable=SC2086 # $files is a list of paths without spaces
layout_check "$headers" $files >"$T/offences"
n=$(wc -l <"$T/offences")
if [ "$n" -eq 0 ]; then
	t_pass "$(echo $files | wc -w) files follow the layout rules"
else
	t_fail "$n include(s) break the layout rules (common/README.md):"
	cat "$T/offences"
fi
t_done
