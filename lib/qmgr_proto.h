/*
 * qmgr_proto - requests to qmgr on $queue_directory/public/qmgr.
 *
 * A client connects, writes its requests and closes; qmgr answers
 * nothing.  A request is one line ("\n" separates several, at most
 * DAEMON_TRIGGER_MAX bytes in all); its first byte says what to do:
 *   W          wake up: look for due messages now (smtpd after each
 *              commit, master's wakeup timer, sendmail);
 *   F          flush: every message not on hold becomes due now, and
 *              every destination marked dead is tried again (panqueue -f);
 *   S<domain>  flush one site (panqueue -s);
 *   I<queueid> deliver one message now (panqueue -i).
 * Anything else is logged (once per connection) and ignored.  public/qmgr
 * is reachable by every local user (as Postfix's public/qmgr and pickup),
 * so nothing here may do more than make mail due sooner, and nobody may
 * make qmgr spend its time on requests rather than on scheduling:
 *  - connections: at most DAEMON_TRIGGER_CONN_MAX pending, each for at
 *    most 5 s; one more closes the oldest (lib/daemon.h);
 *  - bytes: DAEMON_TRIGGER_MAX per connection, else it is dropped;
 *  - work: F, S and I requests are merged (each site and id once, F
 *    subsumes them) and carried out at most once a second, with one walk
 *    of the queue for all of them (qmgr/qmgr_trigger.c); W only asks for
 *    a scan, which qmgr runs at most every QMGR_SCAN_GAP_MS anyway.
 * So a flush or deliver-one takes effect at once after a quiet second, and
 * within a second otherwise.
 */
#ifndef PANACEA_QMGR_PROTO_H
#define PANACEA_QMGR_PROTO_H

#define QMGR_REQ_WAKEUP 'W'
#define QMGR_REQ_FLUSH 'F'
#define QMGR_REQ_FLUSH_SITE 'S'
#define QMGR_REQ_DELIVER_ONE 'I'

#endif
