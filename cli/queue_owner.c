/*
 * queue_owner - how a command opens the queue; see queue_owner.h.
 */
#include <pwd.h>
#include <unistd.h>

#include "conf.h"
#include "msg.h"
#include "priv.h"
#include "queue_owner.h"

struct queue *
queue_open_as_owner(void)
{
	const char *owner = conf_str("mail_owner");
	struct queue *q = NULL;
	struct passwd *pw;

	if (priv_is_root()) {
		priv_drop(owner, NULL);
	} else if ((pw = getpwnam(owner)) == NULL || pw->pw_uid != getuid()) {
		msg_fatal("only root or the mail_owner (%s) may open the queue",
			  owner);
	}
	if (queue_open(conf_str("queue_directory"), NULL, &q) != QUEUE_OK)
		msg_fatal("cannot open the queue in %s/db",
			  conf_str("queue_directory"));
	return q;
}
