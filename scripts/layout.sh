# shellcheck shell=sh disable=SC2034,SC2154
# layout.sh - what make install puts where, for install.sh and
# uninstall.sh (sourced by both after they set destdir, prefix and top):
# one list, so that uninstall removes exactly what install wrote.
# INSTALL ("Install", "Uninstall") tells the same in prose.

libexec="$prefix/libexec/panacea"
sbin="$prefix/sbin"
ubin="$prefix/bin"
man="$prefix/share/man"
etc=/etc/panacea
unitdir=/etc/systemd/system
owner=panacea
queue=/var/spool/panacea
rsyslog_conf=/etc/rsyslog.d/panacea.conf

daemons="master auth smtpd qmgr smtp lmtp local virtual pipe pop3d pop3session pickup showq proxymap anvil postscreen"
commands="sendmail panqueue pansuper panmap panconf pancat panacea"
# The places every program on the box looks for the MTA (links to
# $sbin/sendmail; /usr/sbin and /usr/bin already are $sbin and $ubin
# when PREFIX is /usr).
syslinks="/usr/lib/sendmail"
if [ "$prefix" != /usr ]; then
	syslinks="/usr/sbin/sendmail /usr/bin/mailq /usr/bin/newaliases $syslinks"
fi

# The shipped panacea.conf with this installation's folders and owner.
render_conf() {
	sed -e "s|@daemon_directory@|$libexec|" -e "s|@queue_directory@|$queue|" \
		-e "s|@mail_owner@|$owner|" "$top/conf/panacea.conf"
}

# The systemd unit: panacea start/stop/reload.
render_unit() {
	cat <<UNIT
[Unit]
Description=Panacea mail transfer agent
Documentation=man:panacea(8)
After=network-online.target nss-lookup.target
Wants=network-online.target
Conflicts=postfix.service exim4.service sendmail.service

[Service]
Type=forking
PIDFile=$queue/pid/master.pid
ExecStart=$sbin/panacea start
ExecStop=$sbin/panacea stop
ExecReload=$sbin/panacea reload
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
}

# The line install adds to rsyslog's configuration, for the queue
# directory $1 (panacea.conf's, which may not be the default).
render_rsyslog() {
	echo "\$AddUnixListenSocket $1/dev/log"
}
