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
 * Anything else is logged and ignored.  public/qmgr is reachable by every
 * local user (as Postfix's public/qmgr and pickup), so nothing here may
 * do more than make mail due sooner.
 */
#ifndef PANACEA_QMGR_PROTO_H
#define PANACEA_QMGR_PROTO_H

#define QMGR_REQ_WAKEUP 'W'
#define QMGR_REQ_FLUSH 'F'
#define QMGR_REQ_FLUSH_SITE 'S'
#define QMGR_REQ_DELIVER_ONE 'I'

#endif
