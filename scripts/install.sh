#!/bin/sh
# install.sh DESTDIR PREFIX BIN - install the built programs.
#
# Daemons (everything master starts) go to $PREFIX/libexec/panacea, master
# and the administration commands to $PREFIX/sbin, the default
# configuration to /etc/panacea (never overwriting an existing file), with
# daemon_directory pointing at the installed daemons.  The system-MTA
# links (sendmail, mailq, newaliases) and the man pages come with the
# command-line issue.
set -eu

destdir=$1
prefix=$2
bin=$3
libexec="$prefix/libexec/panacea"
sbin="$prefix/sbin"
etc=/etc/panacea

install -d "$destdir$libexec" "$destdir$sbin" "$destdir$etc"
for prog in smtpd qmgr smtp local pop3d; do
	[ -x "$bin/$prog" ] && install -m 0755 "$bin/$prog" "$destdir$libexec/$prog"
done
install -m 0755 "$bin/master" "$destdir$libexec/master"
ln -sf "$libexec/master" "$destdir$sbin/panacea-master"
for prog in pancat panqueue pansuper panmap panconf; do
	[ -x "$bin/$prog" ] && install -m 0755 "$bin/$prog" "$destdir$sbin/$prog"
done

if [ ! -e "$destdir$etc/panacea.conf" ]; then
	cat >"$destdir$etc/panacea.conf" <<CONF
# Panacea configuration: see panconf -d for every parameter and default.
daemon_directory = $libexec
CONF
fi
if [ ! -e "$destdir$etc/services" ]; then
	cat >"$destdir$etc/services" <<'SERVICES'
# service   type  private unpriv chroot wakeup maxproc command + args
smtp        inet  n       -      y      -      100     smtpd
submission  inet  n       -      y      -      -       smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_auth_required=yes
SERVICES
fi
echo "installed into $destdir$prefix (configuration in $destdir$etc)"
