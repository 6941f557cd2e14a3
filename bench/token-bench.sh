#!/bin/sh
# token-bench.sh - token cache benchmarks, printed as a table:
#   the hot path in-process (bench_token_cache), `oauthmail token` as a
#   fresh process on a valid token, and refresh storms: N processes at
#   once on an expired token, counting requests at the mock.
# usage: token-bench.sh BUILDDIR SRCDIR
top_builddir=$1
top_srcdir=$2
builddir=$top_builddir/bench
srcdir=$top_srcdir/tests
export top_builddir top_srcdir builddir srcdir
. "$srcdir/lib.sh"
t_init token-bench
mock_idp_start >/dev/null || exit 1
om_conf bench
om_authorize bench || { cat "$T/authorize.out"; exit 1; }

echo "## token cache"
echo
echo "| measurement | result | target | |"
echo "|---|---|---|---|"
"$top_builddir/bench/bench_token_cache" "$T" || echo "| in-process | failed | | |"

# fresh process: fork + exec + config + file read, median of 200 runs
"$PYTHON3" - "$OAUTHMAIL_BIN" <<'EOP'
import subprocess, sys, time, statistics
runs = []
for _ in range(200):
    t = time.perf_counter()
    subprocess.run([sys.argv[1], "token", "bench"], stdout=subprocess.DEVNULL, check=True)
    runs.append(time.perf_counter() - t)
print("| oauthmail token, valid token, fresh process | %.2f ms median (min %.2f) | | |"
      % (statistics.median(runs) * 1e3, min(runs) * 1e3))
EOP

expire() {
	om_edit_token "$T/tokens/bench.json" access_expires=now-10
}
for n in 50 200; do
	expire
	mock_ctl reset_stats >/dev/null
	start=$(date +%s.%N)
	pids=""
	i=0
	while [ $i -lt "$n" ]; do
		oauthmail token bench >/dev/null 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	wait $pids
	end=$(date +%s.%N)
	req=$(mock_stat grant.refresh_token)
	printf '| refresh storm: %d processes on an expired token | %d token request(s), all done in %.2f s | 1 request | %s |\n' \
		"$n" "$req" "$(awk "BEGIN { print $end - $start }")" \
		"$([ "$req" -eq 1 ] && echo met || echo MISSED)"
done
echo
