#!/bin/sh
# pkg_install.sh - the Debian package, built, checked, installed on this
# machine, tried, and purged again.  scripts/check's "package" stage runs
# it (not make check: it installs packages system-wide, as root):
#
#   pkg_install.sh SRCDIR WORKDIR
#
# From a clean copy of SRCDIR (the `make dist` tarball, which also proves
# the tarball is complete) it builds the binary packages with
# `dpkg-buildpackage -us -uc -b` (nocheck, parallel=2), runs lintian on
# the .changes (an error fails), installs the .debs (apt-get), runs the
# installed programs (--version, the example config, saslpluginviewer
# without SASL_PATH, ticketq init and a delivery), checks what postinst
# made and the units (systemd-analyze verify; the broker confined as its
# unit confines it still writes token files), then purges the packages
# and checks that nothing of theirs is left.  Install to purge is one
# quick go: other tests on this machine must not see our plugin in
# libsasl2's directory for long.
#
# Each check is one result, WORKDIR/tests/pkg/NN-NAME.trs (":test-result:
# PASS|FAIL|SKIP", as automake writes them) with its log NN-NAME.log
# beside it; scripts/check counts them.  Exit 0 when all passed, 77 when
# the stage cannot run here (one SKIP result says why), else 1.
set -u
umask 022

SRC=${1:?usage: pkg_install.sh SRCDIR WORKDIR}
WORK=${2:?usage: pkg_install.sh SRCDIR WORKDIR}
SRC=$(cd "$SRC" && pwd) || exit 99
RES=$WORK/tests/pkg
PACKAGES="oauthmail libsasl2-modules-xoauth2 ticketq"
PATH=$PATH:/usr/sbin:/sbin
DEBIAN_FRONTEND=noninteractive
export PATH DEBIAN_FRONTEND
nresult=0
nfailed=0
installed=0

rm -rf "$WORK" && mkdir -p "$RES" || exit 99

# start NAME - a new check; its log is $LOG
start() {
	nresult=$((nresult + 1))
	LOG=$RES/$(printf %02d "$nresult")-$1.log
	NAME=$1
	: >"$LOG"
	rm -f "$RES/.bad"
}
# result PASS|FAIL|SKIP - the check's result, as automake's .trs
result() {
	echo ":test-result: $1" >"${LOG%.log}.trs"
	echo "$1: package/$NAME"
	[ "$1" = FAIL ] && nfailed=$((nfailed + 1))
	return 0
}
# check NAME FUNC - one check: FUNC runs in a subshell, its output is the
# log; it passes when FUNC returns 0 and called no fail
check() {
	start "$1"
	if (set -u; "$2") >>"$LOG" 2>&1 && [ ! -e "$RES/.bad" ]; then
		result PASS
	else
		result FAIL
		tail -n 5 "$LOG" | sed 's/^/    /'
		return 1
	fi
}
# fail MESSAGE - inside a check: what is wrong (the check goes on, and fails)
fail() {
	echo "FAIL: $*"
	: >"$RES/.bad"
	return 1
}
skip() {
	start skip
	echo "SKIP: $*" | tee "$LOG"
	result SKIP
	exit 77
}

# --- can it run here? --------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "needs root (it installs the packages on this machine)"
[ -r /etc/debian_version ] || skip "not a Debian system"
for tool in dpkg-buildpackage dh lintian apt-get saslpluginviewer \
	systemd-analyze adduser; do
	command -v "$tool" >/dev/null 2>&1 ||
		skip "$tool not installed (scripts/install-deps installs it: PACKAGE list)"
done
for p in $PACKAGES; do
	case $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) in
	*" installed"|*unpacked*|*half*|*triggers*)
		skip "package $p is installed already: purge it first (apt-get purge $PACKAGES)" ;;
	esac
done
for f in /var/lib/oauthmail /var/spool/ticketq /etc/oauthmail; do
	[ -e "$f" ] && skip "$f exists: the purge at the end would not leave this machine as it was"
done
getent passwd ticketq >/dev/null && skip "a user ticketq exists: the purge would remove it"
getent group ticketq >/dev/null && skip "a group ticketq exists: the purge would remove it"

VERSION=$(sed -n 's/^AC_INIT(\[oauthmail\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)

# --- build ---------------------------------------------------------------
changelog_version() {
	got=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version) || return 1
	echo "configure.ac: $VERSION, debian/changelog: $got"
	[ "${got%-*}" = "$VERSION" ] || fail "debian/changelog's upstream version is not configure.ac's"
}
dist() {
	[ -x "$SRC/configure" ] || { echo "no $SRC/configure: run autoreconf -fi there"; return 1; }
	mkdir -p "$WORK/dist" && cd "$WORK/dist" &&
		"$SRC/configure" --enable-silent-rules >configure.out 2>&1 ||
		{ tail -n 20 configure.out; return 1; }
	make dist >make-dist.out 2>&1 || { tail -n 30 make-dist.out; return 1; }
	ls -l "oauthmail-$VERSION.tar.gz"
}
build() {
	cd "$WORK" && tar -xzf "dist/oauthmail-$VERSION.tar.gz" &&
		ln -s "dist/oauthmail-$VERSION.tar.gz" "oauthmail_$VERSION.orig.tar.gz" &&
		cd "oauthmail-$VERSION" || return 1
	DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b || return 1
	ls -l "$WORK"/*.deb
}
check changelog-version changelog_version
check dist dist || exit 1
check build build || exit 1
lint() {
	lintian --fail-on error --display-info "$WORK"/oauthmail_*_"$ARCH".changes
}
check lintian lint

# --- installed: the whole window between install and purge ------------
purge() {
	apt-get purge -y $PACKAGES || return 1
	left=""
	for p in $PACKAGES; do
		case $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) in
		""|"unknown ok not-installed"|*" not-installed") ;;
		*) left="$left package:$p" ;;
		esac
	done
	for f in /var/lib/oauthmail /var/spool/ticketq /etc/oauthmail \
		"/usr/lib/$MULTIARCH/sasl2/libxoauth2.so" /usr/bin/oauthmail \
		/usr/bin/ticketq /lib/systemd/system/oauthmail-serve.socket; do
		[ -e "$f" ] && left="$left $f"
	done
	getent passwd ticketq >/dev/null && left="$left user:ticketq"
	getent group ticketq >/dev/null && left="$left group:ticketq"
	[ -z "$left" ] || fail "left after the purge:$left"
	echo "purged, nothing left"
}
on_exit() {
	[ "$installed" = 1 ] && check purge purge
	rm -f "$RES/.bad"
	[ "$nfailed" -eq 0 ] || exit 1
	exit 0
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP

install_debs() {
	cd "$WORK" && apt-get install -y \
		--no-install-recommends ./oauthmail_*.deb \
		./libsasl2-modules-xoauth2_*.deb ./ticketq_*.deb
}
installed=1
check install install_debs || exit 1

postinst_made() {
	ls -ld /var/lib/oauthmail /etc/oauthmail /var/spool/ticketq
	getent passwd ticketq
	want=root
	getent passwd postfix >/dev/null && want=postfix
	[ "$(stat -c '%a %U' /var/lib/oauthmail)" = "700 $want" ] ||
		fail "/var/lib/oauthmail: want mode 700, owner $want"
	uid=$(getent passwd ticketq | cut -d: -f3)
	[ "$uid" -lt 1000 ] || fail "ticketq is not a system user (uid $uid)"
	[ "$(getent passwd ticketq | cut -d: -f6)" = /var/spool/ticketq ] ||
		fail "ticketq's home is not /var/spool/ticketq"
	[ "$(stat -c '%a %U' /var/spool/ticketq)" = "750 ticketq" ] ||
		fail "/var/spool/ticketq: want mode 750, owner ticketq"
	# a second configure run (dpkg-reconfigure, upgrades) changes nothing
	dpkg-reconfigure oauthmail ticketq || fail "postinst configure, run again"
	[ "$(stat -c '%a %U' /var/lib/oauthmail)" = "700 $want" ] ||
		fail "second postinst run changed /var/lib/oauthmail"
}
files_in_place() {
	for f in "/usr/lib/$MULTIARCH/sasl2/libxoauth2.so" \
		/usr/share/doc/oauthmail/examples/oauthmail.conf \
		/usr/share/man/man1/oauthmail.1.gz /usr/share/man/man8/oauthmail-serve.8.gz \
		/usr/share/man/man8/sasl-xoauth2.8.gz /usr/share/man/man1/ticketq.1.gz \
		/lib/systemd/system/oauthmail-serve.socket \
		/lib/systemd/system/oauthmail-check.timer; do
		ls -l "$f" || fail "$f is missing"
	done
	dpkg -S "/usr/lib/$MULTIARCH/sasl2/libxoauth2.so" | grep '^libsasl2-modules-xoauth2:' ||
		fail "the plugin is not libsasl2-modules-xoauth2's"
}
versions() {
	for prog in oauthmail ticketq; do
		got=$("/usr/bin/$prog" --version) || fail "$prog --version exited $?"
		echo "$got"
		[ "$got" = "$prog $VERSION" ] || fail "want '$prog $VERSION'"
	done
	# the config path follows --sysconfdir=/etc
	env -u OAUTHMAIL_CONF /usr/bin/oauthmail --help | grep -E ' /etc/oauthmail/oauthmail\.conf\.$' ||
		fail "default config path is not /etc/oauthmail/oauthmail.conf"
}
example_parses() {
	/usr/bin/oauthmail -c /usr/share/doc/oauthmail/examples/oauthmail.conf list
}
sasl_plugin() {
	env -u SASL_PATH saslpluginviewer -c >"$WORK/saslpluginviewer.out" 2>&1
	cat "$WORK/saslpluginviewer.out"
	grep -q 'SASL mechanism: XOAUTH2,' "$WORK/saslpluginviewer.out" ||
		fail "XOAUTH2 not listed by saslpluginviewer -c (no SASL_PATH)"
	grep -q 'SASL mechanism: OAUTHBEARER,' "$WORK/saslpluginviewer.out" ||
		fail "OAUTHBEARER not listed"
}
ticketq_init() {
	q=$WORK/scratch/queue
	mkdir -p "$WORK/scratch" && chmod 755 "$WORK/scratch" || return 1
	/usr/bin/ticketq --queue "$q" init --address help@example.test --owner ticketq ||
		fail "ticketq init"
	[ "$(stat -c %U "$q")" = ticketq ] || fail "the queue is not ticketq's"
	printf 'From: alice@example.test\nTo: help@example.test\nSubject: printer\nMessage-ID: <p1@example.test>\n\njammed\n' |
		/usr/bin/ticketq --queue "$q" deliver || fail "deliver exited $?"
	/usr/bin/ticketq --queue "$q" list | tee "$WORK/list.out"
	grep -q printer "$WORK/list.out" || fail "the delivered message opened no ticket"
}
units() {
	man=""
	command -v man >/dev/null 2>&1 || man=--man=no
	cd /lib/systemd/system && systemd-analyze verify $man \
		oauthmail-serve.socket oauthmail-serve.service \
		oauthmail-check.service oauthmail-check.timer \
		ticketq-lmtp.socket ticketq-lmtp.service >"$WORK/verify.out" 2>&1
	rc=$?
	cat "$WORK/verify.out"
	[ "$rc" -eq 0 ] && [ ! -s "$WORK/verify.out" ] ||
		fail "systemd-analyze verify exited $rc or complained"
}
# confined UNIT ARGS... - the installed oauthmail ARGS, confined as UNIT
# confines it: its CapabilityBoundingSet, no new privileges, everything
# read-only but its ReadWritePaths (systemd itself does not run here)
confined() {
	unit=/lib/systemd/system/$1
	shift
	grep -qx 'NoNewPrivileges=yes' "$unit" || fail "$unit: no NoNewPrivileges=yes"
	grep -qx 'ProtectSystem=strict' "$unit" || fail "$unit: no ProtectSystem=strict"
	rw=$(sed -n 's/^ReadWritePaths=//p' "$unit")
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z ' 'a-z\n' |
		sed -n 's/^cap_\(.*\)/,+\1/p' | tr -d '\n')
	echo "${unit##*/}: bounding set -all$caps, read-write '$rw'"
	unshare -m sh -c '
		mount --make-rprivate / || exit 99
		[ -z "$1" ] || mount --bind "$1" "$1" || exit 99
		mount -o remount,bind,ro / || exit 99
		[ -z "$1" ] || mount -o remount,bind,rw "$1" || exit 99
		[ -w / ] && { echo "/ is still writable"; exit 99; }
		caps=$2
		shift 2
		exec setpriv --no-new-privs --inh-caps=-all --bounding-set="-all$caps" \
			-- /usr/bin/oauthmail "$@"' sh "$rw" "$caps" "$@"
}
# token_file EXPIRES [AGE_DAYS] - an account pkgtest with a token file in
# the package's token_dir, owned like it, its refresh token issued (and
# last used) AGE_DAYS ago (default 0); its config is $WORK/pkgtest.conf.
# Its refresh goes to a closed port on 127.0.0.1.
token_file() {
	printf 'token_dir = /var/lib/oauthmail\n[account pkgtest]\nauthority = http://127.0.0.1:1\nclient_id = c\nuser = t@example.test\n' \
		>"$WORK/pkgtest.conf"
	now=$(($(date +%s) - ${2:-0} * 86400))
	printf '{"version":1,"account":"pkgtest","provider":"microsoft","client_id":"c","user":"t@example.test","scope":"s","access_token":"EwBpkgtest0123456789","refresh_token":"rt","access_expires":%s,"refresh_issued":%s,"authorized":%s,"last_refresh":%s,"reauth_needed":false,"failures":0}\n' \
		"$1" "$now" "$now" "$now" >/var/lib/oauthmail/pkgtest.json
	chmod 600 /var/lib/oauthmail/pkgtest.json
	chown --reference=/var/lib/oauthmail /var/lib/oauthmail/pkgtest.json
}
# broker_hardened - confined as oauthmail-serve.service, the broker still
# writes a token file (the failed refresh of an expired token is recorded
# in it), and the file keeps token_dir's owner
broker_hardened() {
	f=/var/lib/oauthmail/pkgtest.json
	token_file $(($(date +%s) - 10))
	before=$(cksum <"$f")
	echo 'TOKEN pkgtest' | confined oauthmail-serve.service -c "$WORK/pkgtest.conf" serve
	echo "serve exited $?"
	ls -l /var/lib/oauthmail
	[ "$(cksum <"$f")" != "$before" ] || fail "the confined broker did not write $f"
	[ "$(stat -c %U "$f")" = "$(stat -c %U /var/lib/oauthmail)" ] ||
		fail "the token file lost token_dir's owner"
	rm -f "$f" /var/lib/oauthmail/pkgtest.lock
}
# check_hardened - confined as oauthmail-check.service and with the
# unit's own arguments, oauthmail check reads the token files (owned by
# postfix) and reports OK; weeks before the refresh token's 90-day horizon
# (80 days unused) it warns, with the fix
check_hardened() {
	unit=/lib/systemd/system/oauthmail-check.service
	args=$(sed -n 's|^ExecStart=/usr/bin/oauthmail check||p' "$unit")
	echo "the unit runs: oauthmail check$args"
	grep -q '^ExecStart=/usr/bin/oauthmail check' "$unit" || fail "$unit runs no oauthmail check"
	token_file $(($(date +%s) + 3600))
	# shellcheck disable=SC2086
	confined oauthmail-check.service -c "$WORK/pkgtest.conf" check $args >"$WORK/check.out"
	echo "check exited $?"
	cat "$WORK/check.out"
	grep -q '^OAUTHMAIL OK - pkgtest' "$WORK/check.out" || fail "want OAUTHMAIL OK for pkgtest"
	token_file $(($(date +%s) + 3600)) 80
	# shellcheck disable=SC2086
	confined oauthmail-check.service -c "$WORK/pkgtest.conf" check $args >"$WORK/check.out"
	rc=$?
	echo "80 days unused: check exited $rc"
	cat "$WORK/check.out"
	[ "$rc" -eq 1 ] || fail "80 days unused: want exit 1 (WARNING), got $rc"
	grep -q '^OAUTHMAIL WARNING - pkgtest: refresh token expires in .*run: oauthmail refresh pkgtest --force' \
		"$WORK/check.out" || fail "80 days unused: want the warning with its fix"
	rm -f /var/lib/oauthmail/pkgtest.json /var/lib/oauthmail/pkgtest.lock
}
check postinst postinst_made
check files files_in_place
check version versions
check example-config example_parses
check saslpluginviewer sasl_plugin
check ticketq-init ticketq_init
check systemd-units units
check broker-hardened broker_hardened
check check-hardened check_hardened
exit 0   # on_exit purges
