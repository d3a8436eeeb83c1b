#!/bin/sh
# devrun.sh BIN - start the development instance of DESIGN.md.
#
# Writes ./run/ (configuration, services table, queue and mail folders)
# unless it exists, then runs master in the foreground with the build in
# place (daemon_directory = <tree>/BIN).  As an ordinary user nothing is
# dropped; as root the mail_owner, mail_only_owner and auth_owner
# accounts (panacea, vmail, panacea-auth) are created when missing and the
# daemons run chrooted and unprivileged, as on an installed system.
set -eu

bin=${1:-bin}
top=$(pwd)
run="$top/run"
owner=panacea
vmail=vmail

auth_owner=panacea-auth
if [ "$(id -u)" = 0 ]; then
	for account in "$owner" "$vmail" "$auth_owner"; do
		if ! getent passwd "$account" >/dev/null; then
			echo "devrun: creating system account $account"
			useradd --system --home-dir /nonexistent \
				--no-create-home --shell /usr/sbin/nologin \
				--user-group "$account"
		fi
	done
	# The auth service reads Debian's root:sasl sasldbs through it.
	if getent group sasl >/dev/null; then
		usermod -a -G sasl "$auth_owner"
	fi
else
	owner=$(id -un)
	vmail=$owner
fi

# A service line is written only when its program is built: the table
# lists what exists (later programs appear once they are built and ./run
# is removed).
service() {
	prog=$1
	shift
	if [ -x "$top/$bin/$prog" ]; then
		echo "$*"
	else
		echo "#$* (not built yet)"
	fi
}

if [ ! -d "$run" ]; then
	echo "devrun: writing $run"
	mkdir -p "$run/etc" "$run/spool" "$run/mail"
	cat >"$run/etc/panacea.conf" <<CONF
# Development instance written by 'make run'; remove ./run to regenerate.
queue_directory = $run/spool
daemon_directory = $top/$bin
mail_owner = $owner
mail_only_owner = $vmail
maillog_file = -
myhostname = panacea.localhost
mydestination = \$myhostname, localhost
mynetworks = 127.0.0.0/8 [::1]/128
mail_spool_directory = $run/mail
sasldb_path = \$config_directory/sasldb2
# Loopback clients are resolved without DNS; never query the machine's
# resolver from the development instance.
dns_nameservers = 127.0.0.1:53
CONF
	{
		echo "# service type private unpriv chroot wakeup maxproc command + args"
		service smtpd "127.0.0.1:2525 inet n - y - 100 smtpd"
		service smtpd "127.0.0.1:2587 inet n - y - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_auth_required=yes"
		service pop3d "127.0.0.1:2110 inet n - y - - pop3d"
		service pop3session "pop3session unix - n n - - pop3session"
		service qmgr "qmgr unix n - y 300 1 qmgr"
		service local "local unix - n n - - local"
		service smtp "smtp unix - - y - - smtp"
		service smtpd "submit unix n - y - - smtpd -o smtpd_local_submission=yes"
		service pickup "pickup unix n - y 60 1 pickup"
		service showq "showq unix n - y - - showq"
		service auth "auth unix - n n - 1 auth"
	} >"$run/etc/services"
	if command -v saslpasswd2 >/dev/null; then
		echo demo | saslpasswd2 -c -p -f "$run/etc/sasldb2" \
			-u panacea.localhost demo
		echo "devrun: demo account: user demo, password demo"
	fi
	# Owners as on an installed system (scripts/install.sh): everything
	# here is root's, as mkdir made it; master gives the queue's
	# subfolders to mail_owner (master_files.c), never the jail itself.
	# The spool is made like the system's /var/mail, the sasldb is not
	# for other users to read.
	if [ "$(id -u)" = 0 ] && [ -d /var/mail ]; then
		chown --reference=/var/mail "$run/mail"
		chmod --reference=/var/mail "$run/mail"
	fi
	# Only the auth service reads it (man auth): root:auth_owner 0640;
	# an unprivileged instance is one user, who owns it.
	if [ -f "$run/etc/sasldb2" ]; then
		if [ "$(id -u)" = 0 ]; then
			chown "root:$(id -gn "$auth_owner")" "$run/etc/sasldb2"
		fi
		chmod 0640 "$run/etc/sasldb2"
	fi
fi
[ -n "${PANACEA_DEVRUN_SETUP_ONLY:-}" ] && exit 0

echo "devrun: master in the foreground (Ctrl-C stops it); log on stderr"
exec "$top/$bin/master" -f -c "$run/etc"
