/*
 * pickup_milter - non_smtpd_milters for the mail pickup queues from
 * maildrop/ (what sendmail(1) kept while the mail system was down): the
 * same filters, events and changes as smtpd gives a local submission
 * (lib/mail/milter.h), one filter session per message.
 */
#ifndef PANACEA_PICKUP_MILTER_H
#define PANACEA_PICKUP_MILTER_H

#include "buf.h"
#include "milter.h"
#include "queue.h"

/* Reads non_smtpd_milters and the milter parameters (a bad one stops
 * pickup); 1 when there are filters. */
int pickup_milter_init(void);

enum pickup_milter_result {
	PICKUP_MILTER_ACCEPT,
	PICKUP_MILTER_HOLD,    /* queue it on hold (quarantine, or refused:
				* kept for the administrator, never lost) */
	PICKUP_MILTER_DISCARD, /* drop it (logged) */
	PICKUP_MILTER_DEFER,   /* leave the file for the next scan */
};

/* The message (content as it would be queued, replaced by what the
 * filters make of it) of env's sender and recipients through the
 * filters; edits gets their envelope changes. */
enum pickup_milter_result pickup_milter_run(const char *id,
					    const struct queue_envelope *env,
					    struct buf *content,
					    struct milter_edits *edits);

#endif
