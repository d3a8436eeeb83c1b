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
 *   S<domain>  flush one site (panqueue -s); the domain (or [address])
 *              is printable ASCII without spaces, at most QMGR_SITE_MAX
 *              bytes; "S" alone is a wakeup;
 *   I<queueid> deliver one message now (panqueue -i).
 * A line may also be a run of W and F ("WW" from repeated wakeups): a
 * flush if it has an F.  qmgr_request_parse() is the only reader of this
 * grammar.  Anything else is logged (once per connection) and ignored.
 * public/qmgr is reachable by every local user (as Postfix's public/qmgr and
 * pickup), so nothing here may do more than make mail due sooner, and nobody
 * may make qmgr spend its time on requests rather than on scheduling:
 *  - connections: at most DAEMON_TRIGGER_CONN_MAX pending, each for at
 *    most 5 s; one more closes the oldest (lib/mail/daemon.h);
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

#include <stddef.h>

#define QMGR_SITE_MAX 255 /* S<domain>: bytes of the domain */

/* One request line, parsed: the only reading of the grammar above. */
enum qmgr_request_type {
	QMGR_REQUEST_NONE,	  /* an empty line: nothing to do */
	QMGR_REQUEST_WAKEUP,	  /* "W", or a run of W and F without F */
	QMGR_REQUEST_FLUSH,	  /* a run of W and F with an F */
	QMGR_REQUEST_FLUSH_SITE,  /* "S" + site ("S" alone: a wakeup) */
	QMGR_REQUEST_DELIVER_ONE, /* "I" + a queue id */
};

struct qmgr_request {
	enum qmgr_request_type type;
	char arg[QMGR_SITE_MAX + 1]; /* the site or queue id, else "" */
};

/* Parses line[0..len) (no newline): 0, or -1 when it is malformed: an
 * unknown first byte, a site over QMGR_SITE_MAX bytes or with a control
 * character, space or NUL, an I without a valid queue id. */
int qmgr_request_parse(const char *line, size_t len, struct qmgr_request *req);

#endif
