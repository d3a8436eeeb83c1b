#!/bin/sh
# uninstall.sh DESTDIR PREFIX [PURGE] - undo make install (make uninstall).
#
# Removes what install.sh wrote (scripts/layout.sh lists it): the
# daemons ($PREFIX/libexec/panacea), the commands and their links, the
# system links to $PREFIX/sbin/sendmail (only those that still point
# there), the manual pages, and, like a Debian package's "remove", the
# configuration files only where they are still the shipped ones:
# /etc/panacea/panacea.conf, services, aliases (with its aliases.db),
# the systemd unit and the rsyslog line.  A file the administrator
# changed stays, and so do the queue, the mailboxes and the accounts.
# PURGE=1 is Debian's "purge": /etc/panacea, the unit, the rsyslog line
# and the queue directory go whatever they hold; the accounts and the
# mailboxes still stay (INSTALL, "Uninstall").
# Without DESTDIR and as root a running master is stopped first.
set -eu

destdir=$1
prefix=${2:-/usr/local}
case ${3:-} in
1 | yes) purge=1 ;;
*) purge= ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/layout.sh"

system=
spool=$queue
if [ -z "$destdir" ] && [ "$(id -u)" = 0 ]; then
	system=1
fi

# The installation's own queue and owner (panacea.conf may name others
# than the defaults), read while panconf is still there.
if [ -n "$system" ] && [ -x "$sbin/panconf" ]; then
	spool=$("$sbin/panconf" -h -x queue_directory 2>/dev/null || echo "$queue")
	if "$sbin/panacea" status >/dev/null 2>&1; then
		"$sbin/panacea" stop
	fi
fi

# remove_if_same FILE - remove FILE when it is what stdin holds (the
# shipped version), or whatever it holds under PURGE=1; otherwise say
# that it stays.
remove_if_same() {
	f=$destdir$1
	if [ ! -e "$f" ] && [ ! -L "$f" ]; then
		cat >/dev/null
		return 0
	fi
	if [ -n "$purge" ] || cmp -s - "$f"; then
		rm -f "$f"
	else
		cat >/dev/null
		echo "uninstall: $1 was changed; kept (PURGE=1 removes it)" >&2
	fi
}

# The unit, and its enablement (what "systemctl enable" links).
for wants in "$destdir$unitdir"/*.wants/panacea.service; do
	[ -L "$wants" ] && rm -f "$wants"
done
render_unit | remove_if_same "$unitdir/panacea.service"
if [ -e "$destdir$rsyslog_conf" ]; then
	render_rsyslog "$spool" | remove_if_same "$rsyslog_conf"
fi

for prog in $daemons; do
	rm -f "$destdir$libexec/$prog"
done
[ -d "$destdir$libexec" ] && rmdir "$destdir$libexec" 2>/dev/null ||
	[ ! -d "$destdir$libexec" ] ||
	echo "uninstall: $libexec holds other files; kept" >&2
for prog in $commands; do
	rm -f "$destdir$sbin/$prog"
done
for name in mailq newaliases; do
	[ -L "$destdir$sbin/$name" ] && rm -f "$destdir$sbin/$name"
	[ -L "$destdir$ubin/$name" ] && rm -f "$destdir$ubin/$name"
done
# Another MTA's file (or link) at these places is not ours: only links
# to our sendmail go.
for link in $syslinks; do
	if [ -L "$destdir$link" ] &&
		[ "$(readlink "$destdir$link")" = "$sbin/sendmail" ]; then
		rm -f "$destdir$link"
	fi
done

for page in "$top"/man/*.[158]; do
	[ -f "$page" ] || continue
	section=${page##*.}
	rm -f "$destdir$man/man$section/$(basename "$page")"
done

# The configuration: the shipped templates go, the administrator's stay.
render_conf | remove_if_same "$etc/panacea.conf"
remove_if_same "$etc/services" <"$top/conf/services"
if [ ! -e "$destdir$etc/aliases" ] ||
	{ [ -z "$purge" ] && cmp -s "$top/conf/aliases" "$destdir$etc/aliases"; }; then
	rm -f "$destdir$etc/aliases.db"
fi
remove_if_same "$etc/aliases" <"$top/conf/aliases"
if [ -n "$purge" ]; then
	rm -rf "$destdir$etc" "$destdir$spool"
elif [ -d "$destdir$etc" ]; then
	rmdir "$destdir$etc" 2>/dev/null ||
		echo "uninstall: $etc keeps the administrator's files" >&2
fi

if [ -n "$system" ] && command -v systemctl >/dev/null; then
	systemctl daemon-reload 2>/dev/null || true
fi
if [ -n "$purge" ]; then
	echo "uninstalled (purged) from $destdir$prefix"
else
	echo "uninstalled from $destdir$prefix; kept: the queue $spool," \
		"the accounts; PURGE=1 also removes $etc and the queue"
fi
