#!/bin/sh
# docs_refs.sh - every file of the tree the documentation names exists:
# a guide that says "the configuration below is the one
# tests/rig/rig_postfix_relay.sh runs" must point at a real test.  Reads
# the man pages, the guides and the READMEs, takes every path under one
# of our top-level folders (tests/, common/, postfix-tool/, ...) and
# prints each missing one as FILE:LINE: PATH.  A glob must match a file.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init docs_refs
cd "$top_srcdir" || exit 99

docs=$(git ls-files 'docs/*.md' 'docs/*.[1-8]' '*README.md' 'tests/*.md' \
	2>/dev/null)
[ -n "$docs" ] || docs=$(find docs tests common -name '*.md' -o \
	-name '*.[1-8]' 2>/dev/null | sort)
[ -n "$docs" ] || t_skip "no documentation"

# cited FILE... - "FILE:LINE: PATH" for each path a document names
# (roff escapes undone: \- is -, \fB \fR are fonts)
cited() {
	for f in "$@"; do
		sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g' "$f" |
			grep -noE '(^|[^A-Za-z0-9_./-])(tests|common|postfix-tool|sasl-xoauth2|dovecot-plugin|bench|scripts|debian)/[A-Za-z0-9_./*-]*[A-Za-z0-9_*]' |
			sed -E "s#^([0-9]+):[^A-Za-z]*#$f:\\1: #"
	done
}

missing=$T/missing
: >"$missing"
cited $docs | sort -u | while read -r where path; do
	# a glob (postfix-tool/ticketq_*.c) must match at least one file
	set -- $path
	[ -e "$1" ] || echo "$where $path" >>"$missing"
done
if [ -s "$missing" ]; then
	t_fail "documents name files that do not exist:"
	sed 's/^/  /' "$missing"
else
	t_pass "every file the documentation names exists ($(cited $docs | wc -l) references)"
fi
t_done
