#!/bin/sh
# fuzz-run.sh TARGET - a short libFuzzer run of one target (make check-fuzz),
# seeded from its corpus; new inputs go to a scratch dir, not the source tree.
t=$1
name=$(basename "$t")
seconds=${FUZZ_SECONDS:-20}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	"$scratch" "${srcdir:-.}/fuzz/corpus/$name" >"$scratch/.log" 2>&1
rc=$?
tail -n 25 "$scratch/.log"
exit $rc
