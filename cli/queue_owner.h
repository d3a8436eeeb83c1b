/*
 * queue_owner - how a command (not a daemon) opens the queue.
 *
 * Every process opens the queue environment as mail_owner (DESIGN.md).
 * queue_open_as_owner() does so for a command run by a person: as root it
 * first becomes mail_owner for good (priv_drop, no jail); an ordinary
 * user must be mail_owner (the development instance) or gets a fatal
 * error; then it opens $queue_directory/db.  Any failure is fatal.  The
 * configuration must be loaded.
 */
#ifndef PANACEA_QUEUE_OWNER_H
#define PANACEA_QUEUE_OWNER_H

#include "queue.h"

struct queue *queue_open_as_owner(void);

#endif
