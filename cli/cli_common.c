/*
 * cli_common - set-up shared by the commands; see cli.h.
 */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "msg.h"
#include "priv.h"

void
cli_init(const char *argv0, const char *config_dir)
{
	msg_init(argv0);
	conf_load(conf_choose_dir(config_dir), NULL, 0);
}

struct queue *
cli_open_queue(void)
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
