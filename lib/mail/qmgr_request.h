/*
 * qmgr_request - the client side of public/qmgr (lib/mail/qmgr_proto.h): the
 * one way a program asks qmgr to look at the queue.
 *
 * Every program that queues mail and wants it delivered now (smtpd after
 * a commit, pickup after a file, the commands) wakes qmgr with
 * qmgr_wakeup(); the commands that flush (panqueue -f/-s/-i, panacea
 * flush) send their request with qmgr_request().  A wakeup that does not
 * arrive costs nothing but time: qmgr's own timer scans the queue, so a
 * caller never waits long for one (QMGR_WAKEUP_TIMEOUT_MS; smtpd sends it
 * between the commit and its reply to the client) and never reports a
 * failure to anyone but the debug log.
 */
#ifndef PANACEA_QMGR_REQUEST_H
#define PANACEA_QMGR_REQUEST_H

#include "qmgr_proto.h"

/* How long a wakeup may wait for qmgr's socket. */
#define QMGR_WAKEUP_TIMEOUT_MS 100

/* Connects to queue_dir/public/qmgr, writes request (one or more lines of
 * qmgr_proto.h, without a terminating newline) and closes, within
 * timeout_ms for the connection and as much for the write.  0 when the
 * request was written, -1 (errno set) when qmgr could not be reached. */
int qmgr_request(const char *queue_dir, const char *request, int timeout_ms);

/* Asks qmgr to look for due messages now (QMGR_REQ_WAKEUP); 0 or -1 as
 * qmgr_request(), which callers may ignore (see above). */
int qmgr_wakeup(const char *queue_dir);

#endif
