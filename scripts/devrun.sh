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
# The shipped templates, beside this script (the tree it came from).
src=$(cd "$(dirname "$0")/.." && pwd)
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

# The services table is the shipped one (conf/services) with loopback
# ports for the inet services (smtp 2525, submission 2587, pop3 2110); a
# line is commented out while its program is not built (it appears once
# the program is built and ./run is removed).
dev_services() {
	while IFS= read -r line; do
		case $line in
		"" | "#"*)
			echo "$line"
			continue
			;;
		esac
		# shellcheck disable=SC2086
		set -- $line
		name=$1
		prog=$8
		case "$name $2" in
		"smtp inet") name=127.0.0.1:2525 ;;
		"submission inet") name=127.0.0.1:2587 ;;
		"pop3 inet") name=127.0.0.1:2110 ;;
		esac
		shift
		if [ -x "$top/$bin/$prog" ]; then
			echo "$name $*"
		else
			echo "#$name $* (not built yet)"
		fi
	done <"$src/conf/services"
}

if [ ! -d "$run" ]; then
	echo "devrun: writing $run"
	mkdir -p "$run/etc" "$run/spool" "$run/mail"
	# The shipped template, then what the development instance sets
	# differently (a later line replaces an earlier one).
	{
		sed -e "s|@daemon_directory@|$top/$bin|" \
			-e "s|@queue_directory@|$run/spool|" \
			-e "s|@mail_owner@|$owner|" "$src/conf/panacea.conf"
		cat <<CONF

# Development instance written by 'make run'; remove ./run to regenerate.
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
	} >"$run/etc/panacea.conf"
	dev_services >"$run/etc/services"
	# The shipped aliases and their table, as make install makes them:
	# local(8) warns about a missing alias_maps table otherwise.
	cp "$src/conf/aliases" "$run/etc/aliases"
	"$top/$bin/panmap" -c "$run/etc" -a "hash:$run/etc/aliases"
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
