#!/bin/sh
# deps.sh - install the Debian packages Panacea's build and tests need.
#
# Checks each package with dpkg-query; installs the missing ones with
# apt-get when run as root on Debian, and says what it installs.  As an
# ordinary user it only lists what is missing.  Quick when nothing is.
set -eu

# libpq-dev, libmariadb-dev, libldap-dev: the headers of the pgsql:,
# mysql: and ldap: tables (the libraries themselves are loaded when such
# a table is opened).
BUILD_PKGS="gcc make pkg-config libssl-dev libsasl2-dev libldns-dev libdb-dev libpcre2-dev \
libpq-dev libmariadb-dev libldap-dev"
# publicsuffix: the Public Suffix List DMARC's organisational domains
# come from (smtpd_dmarc_public_suffix_list; test_dmarc reads it too).
RUN_PKGS="libsasl2-modules libsasl2-modules-db sasl2-bin openssl publicsuffix"
# Recommended packages a test tool needs at run time are listed too,
# since the install skips recommends: swaks needs libnet-ssleay-perl for
# STARTTLS; fetchmail checks certificates against ca-certificates.
# Integration tests never skip for a missing tool (they fail): every one
# they run is here.  clang-format: make check's format check.
# postgrey and postfix-policyd-spf-python (policyd-spf): the policy servers
# the check_policy_service tests start; policyd-spf's resolver library
# (python3-dns, pulled in as a dependency, not a recommendation) is named
# so that the choice between python3-dns and python3-dnspython is ours.
# fail2ban (fail2ban-regex and its stock postfix/dovecot filters) and
# pflogsumm: test_logtools and test_pflogsumm read Panacea's log with them.
# postgresql, postgresql-client, mariadb-server, mariadb-client, slapd:
# test_directory starts its own PostgreSQL, MariaDB and OpenLDAP servers
# (the system's are stopped below).
# python3-spf ships the RFC 7208 test suite (rfc7208-tests.yml.gz) that
# test_spf_suite reads with python3-yaml.
# dovecot-lmtpd (and dovecot-core's doveadm): the LMTP server test_lmtp
# delivers to, a private instance the test starts.
# python3-pytest-xdist: make integration runs the test files two at a time.
# libmilter-dev: the mail filter fixture (tests/fixtures/pan-milter.c) is
# written against Sendmail's libmilter; opendkim and opendkim-tools: the
# real filter test_milter signs through (the system's is stopped below).
# unbound: test_dane's validating resolver (a private instance on
# loopback; the system's is stopped below); ldnsutils signs its zone.
# python3-dkim (dkimpy, python3-nacl for its Ed25519) and opendkim-tools
# (opendkim-testmsg): test_dkim checks Panacea's DKIM against two other
# implementations.
TEST_PKGS="libcmocka-dev python3 python3-pytest python3-pytest-xdist swaks libnet-ssleay-perl \
curl ldnsutils nsd db5.3-util postfix postfix-pcre procps iproute2 netbase clang \
clang-format libclang-rt-14-dev mutt fetchmail ca-certificates strace gdb \
binutils bsdutils postgrey postfix-policyd-spf-python python3-dns fail2ban \
pflogsumm python3-spf python3-yaml dovecot-core dovecot-lmtpd postgresql \
postgresql-client mariadb-server mariadb-client slapd libmilter-dev opendkim \
opendkim-tools unbound python3-dkim python3-nacl"
# bench/pop3 compares pop3d with a private Dovecot instance.
BENCH_PKGS="dovecot-pop3d"

# One dpkg-query for every package (make check runs this each time: a
# query a package took 15 s on a loaded machine).
ALL_PKGS="$BUILD_PKGS $RUN_PKGS $TEST_PKGS $BENCH_PKGS"
# shellcheck disable=SC2086
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' $ALL_PKGS 2>/dev/null |
	awk '$NF == "installed" { printf "%s ", $1 }')"
missing=""
for p in $ALL_PKGS; do
	case "$installed" in
	*" $p "*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: not a Debian system; please install:$missing" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages (run 'make deps' as root):$missing" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix is only wanted for smtp-source/smtp-sink; keep it unconfigured
# and stopped so that it never competes with Panacea.
echo "postfix postfix/main_mailer_type select No configuration" |
	debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing </dev/null
# Dovecot is only wanted for bench/pop3 and test_lmtp, which run their
# own instances: the system's must not hold ports 110 and 995.
case "$missing" in
*dovecot*)
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now dovecot.service dovecot.socket \
			>/dev/null 2>&1 || true
	elif command -v invoke-rc.d >/dev/null 2>&1; then
		invoke-rc.d dovecot stop >/dev/null 2>&1 || true
	fi
	;;
esac
# The same for the directory servers test_directory runs privately, and
# opendkim, which test_milter runs privately, and unbound (test_dane runs
# its own; a system resolver on 127.0.0.1:53 would also change what every
# other program of the machine asks).
for svc in postgresql mariadb slapd opendkim unbound; do
	case "$missing" in
	*"$svc"*)
		if command -v systemctl >/dev/null 2>&1 &&
			[ -d /run/systemd/system ]; then
			systemctl disable --now "$svc.service" >/dev/null 2>&1 ||
				true
		elif command -v invoke-rc.d >/dev/null 2>&1; then
			invoke-rc.d "$svc" stop >/dev/null 2>&1 || true
		fi
		;;
	esac
done
