#!/bin/sh
# install.sh DESTDIR PREFIX BIN - install Panacea (make install).
#
# Layout (DESIGN.md "Programs and folders"; INSTALL tells the whole story):
#   $PREFIX/libexec/panacea/   master and every daemon of the services table
#   $PREFIX/sbin/              sendmail, panqueue, pansuper, panmap, panconf,
#                              pancat, panacea; mailq and newaliases are
#                              links to sendmail (also in $PREFIX/bin)
#   /usr/sbin/sendmail, /usr/bin/mailq, /usr/bin/newaliases,
#   /usr/lib/sendmail          links to $PREFIX/sbin/sendmail, as Debian's
#                              Postfix has them (an existing file, or a
#                              link to another program: another MTA's, is
#                              left alone)
#   $PREFIX/share/man/man{1,5,8}   the manual pages of man/
#   /etc/panacea/              panacea.conf, services, aliases (+ .db): an
#                              existing file is never overwritten
#   /etc/systemd/system/panacea.service   runs panacea start/stop/reload
# Everything goes under DESTDIR when it is set.  Without DESTDIR and as
# root the system is also prepared: the mail_owner account (default
# "panacea"), the mail_only_owner account (default "vmail"), the queue
# directory with its owners and modes (maildrop/ 03733, lib/mail/maildrop.h),
# and what the chroot jail needs in it (resolver
# files, time zone, CA certificates, a syslog socket folder).
set -eu

destdir=$1
prefix=${2:-/usr/local}
bin=${3:-bin}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/layout.sh"

install -d -m 0755 "$destdir$libexec" "$destdir$sbin" "$destdir$ubin" \
	"$destdir$etc" "$destdir$unitdir" "$destdir$man/man1" \
	"$destdir$man/man5" "$destdir$man/man8"

for prog in $daemons; do
	if [ -x "$bin/$prog" ]; then
		install -m 0755 "$bin/$prog" "$destdir$libexec/$prog"
	else
		echo "install: $prog is not built; skipped" >&2
	fi
done
for prog in $commands; do
	install -m 0755 "$bin/$prog" "$destdir$sbin/$prog"
done
# mailq and newaliases are sendmail under another name (it reads argv[0]).
for name in mailq newaliases; do
	ln -sf sendmail "$destdir$sbin/$name"
	ln -sf "$sbin/sendmail" "$destdir$ubin/$name"
done

# The places every program on the box looks for the MTA.  A file there,
# or a link to another program, belongs to another MTA package: leave it
# and say so (make uninstall then has nothing of another MTA's to put
# back).  A dangling link is a removed MTA's: it is replaced.
syslink() {
	link=$1
	if [ -L "$destdir$link" ] &&
		[ "$(readlink "$destdir$link")" != "$sbin/sendmail" ] &&
		[ -e "$destdir$link" ]; then
		echo "install: $link links to $(readlink "$destdir$link")" \
			"(another MTA?); left alone: remove that MTA first" \
			"(see INSTALL)" >&2
		return 0
	fi
	if [ -e "$destdir$link" ] && [ ! -L "$destdir$link" ]; then
		echo "install: $link exists and is not a link (another MTA?);" \
			"left alone: remove that MTA first (see INSTALL)" >&2
		return 0
	fi
	install -d -m 0755 "$destdir$(dirname "$link")"
	ln -sfn "$sbin/sendmail" "$destdir$link"
}
for link in $syslinks; do
	syslink "$link"
done

for page in "$top"/man/*.[158]; do
	[ -f "$page" ] || continue
	section=${page##*.}
	install -m 0644 "$page" "$destdir$man/man$section/$(basename "$page")"
done

# The shipped templates (conf/): panacea.conf with this installation's
# folders and owner, services as it is.
if [ ! -e "$destdir$etc/panacea.conf" ]; then
	render_conf >"$destdir$etc/panacea.conf"
fi
if [ ! -e "$destdir$etc/services" ]; then
	install -m 0644 "$top/conf/services" "$destdir$etc/services"
fi
if [ ! -e "$destdir$etc/aliases" ]; then
	install -m 0644 "$top/conf/aliases" "$destdir$etc/aliases"
fi
if [ ! -e "$destdir$etc/aliases.db" ]; then
	"$bin/panmap" -c "$destdir$etc" -a "hash:$destdir$etc/aliases"
fi

if [ ! -e "$destdir$unitdir/panacea.service" ]; then
	render_unit >"$destdir$unitdir/panacea.service"
fi

# The system itself: only for a real installation by root.
if [ -n "$destdir" ] || [ "$(id -u)" != 0 ]; then
	echo "installed into $destdir$prefix (configuration in $destdir$etc)"
	exit 0
fi

owner=$("$sbin/panconf" -h -x mail_owner)
queue=$("$sbin/panconf" -h -x queue_directory)
if ! getent passwd "$owner" >/dev/null; then
	echo "install: creating system account $owner"
	useradd --system --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin --user-group "$owner"
fi
group=$(id -gn "$owner")
# The owner of mail-only users' mailboxes (DESIGN.md, rule 4): an account
# of its own, never mail_owner.
vmail=$("$sbin/panconf" -h -x mail_only_owner)
if ! getent passwd "$vmail" >/dev/null; then
	echo "install: creating system account $vmail"
	useradd --system --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin --user-group "$vmail"
fi

# The auth service's account (man auth): the only one that reads the
# sasldb.  A member of Debian's group "sasl", whose /etc/sasldb2 is
# root:sasl 0640; a sasldb of root's group is given to auth_owner's group.
auth_owner=$("$sbin/panconf" -h -x auth_owner)
if ! getent passwd "$auth_owner" >/dev/null; then
	echo "install: creating system account $auth_owner"
	useradd --system --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin --user-group "$auth_owner"
fi
if getent group sasl >/dev/null; then
	usermod -a -G sasl "$auth_owner"
fi
sasldb=$("$sbin/panconf" -h -x sasldb_path)
if [ -f "$sasldb" ] && [ "$(stat -c %g "$sasldb")" = 0 ]; then
	chgrp "$(id -gn "$auth_owner")" "$sasldb"
	chmod 0640 "$sasldb"
fi

# The queue: root's folder (a jailed daemon cannot change its own jail),
# mail_owner's subfolders.  Modes as master makes them (master_files.c).
install -d -m 0755 -o root -g root "$queue" "$queue/pid"
install -d -m 0700 -o "$owner" -g "$group" "$queue/db" "$queue/private"
install -d -m 0711 -o "$owner" -g "$group" "$queue/public"
install -d -o "$owner" -g "$group" "$queue/maildrop"
chown "$owner:$group" "$queue/maildrop"
chmod 3733 "$queue/maildrop"

# The chroot jail ($queue).  Daemons open their tables, keys, SASL
# plugins and log before chroot; what libc or OpenSSL may still read
# later is copied in (and must be copied again when it changes: the
# panacea.service start does not do it, "make install" does).
install -d -m 0755 "$queue/etc" "$queue/etc/ssl/certs" "$queue/dev" \
	"$queue/usr/share/zoneinfo"
for f in resolv.conf hosts services nsswitch.conf host.conf localtime; do
	[ -e "/etc/$f" ] && cp -L "/etc/$f" "$queue/etc/$f"
done
[ -e /etc/ssl/certs/ca-certificates.crt ] &&
	cp -L /etc/ssl/certs/ca-certificates.crt "$queue/etc/ssl/certs/"
# syslog inside the jail: rsyslog listens on $queue/dev/log too.
if [ -d /etc/rsyslog.d ] && [ ! -e "$rsyslog_conf" ]; then
	render_rsyslog "$queue" >"$rsyslog_conf"
	echo "install: restart rsyslog for $queue/dev/log"
fi
command -v systemctl >/dev/null && systemctl daemon-reload 2>/dev/null || true
echo "installed into $prefix (configuration in $etc, queue in $queue)"
echo "start with: $sbin/panacea start   (or: systemctl enable --now panacea)"
