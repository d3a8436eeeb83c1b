/*
 * master_proto - what master and its children agree on.
 *
 * master starts a service program as
 *   PROG -c CONFIG_DIR -n SERVICE -t inet|unix|pass -s NLISTEN [-u] [-j]
 *        [-o name=value ...] [service args ...]
 * where -u asks the child to drop to mail_owner and -j to chroot to
 * queue_directory (the services table's unpriv and chroot columns).
 * Descriptors:
 *   MASTER_STATUS_FD  write end of master's status pipe (child -> master);
 *   MASTER_ALIVE_FD   read end of a pipe master never writes: end of file
 *                     on it means master is gone and the child must exit;
 *   MASTER_LISTEN_FD  the first of NLISTEN listening sockets.
 * The child writes one struct master_status per change (PIPE_BUF-atomic);
 * master trusts nothing in it beyond the two fields, and only for the pid
 * that sent it.  As in Postfix, a new child counts as available from the
 * moment it is forked: it writes nothing until it takes a connection
 * (TAKEN), then AVAIL when it is free again.  A child that is about to
 * exit (max_use, idle) may simply exit without a final AVAIL.
 *
 * A pass service's listener is a unix socket like a unix service's; a
 * process that connects to it sends one descriptor, a client's TCP
 * connection, with sock_send_fd() and closes, and the child serves that
 * connection (daemon.c receives it; postscreen is the front that does
 * this for smtpd, as Postfix's postscreen does through its pass service).
 *
 * A wakeup (the services table's wakeup column, unix services) is a
 * connection to the service's socket that writes MASTER_TRIGGER_WAKEUP
 * and closes.
 */
#ifndef PANACEA_MASTER_PROTO_H
#define PANACEA_MASTER_PROTO_H

#include <sys/types.h>

#define MASTER_STATUS_FD 3
#define MASTER_ALIVE_FD 4
#define MASTER_LISTEN_FD 5

#define MASTER_STAT_AVAIL 1 /* idle, ready to accept */
#define MASTER_STAT_TAKEN 0 /* busy with a client or request */

#define MASTER_TRIGGER_WAKEUP "W"

struct master_status {
	pid_t pid;
	int avail;
};

#endif
