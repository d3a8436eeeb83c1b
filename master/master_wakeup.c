/*
 * master_wakeup - periodic triggers for services with a wakeup time.
 *
 * A unix service whose wakeup column is N gets a trigger every N seconds
 * and once right at start; "N?" skips the start and wakes only a service
 * that has had a child (Postfix's conditional wakeup).  A trigger is a
 * non-blocking connection to the service's own socket that writes
 * MASTER_TRIGGER_WAKEUP and closes (master_proto.h): the waiting
 * connection makes the listener readable, so master_spawn starts a child
 * when none is idle.  master never waits on the socket: a full backlog or
 * a throttled service simply misses that trigger.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "events.h"
#include "master.h"
#include "master_proto.h"
#include "msg.h"

static void
master_wakeup_send(struct master_service *serv)
{
	struct sockaddr_un sun;
	const char *msg = MASTER_TRIGGER_WAKEUP;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(serv->sock_path) >= sizeof(sun.sun_path)) {
		msg_warn("%s: socket path too long for a wakeup",
			 serv->sock_path);
		return;
	}
	strcpy(sun.sun_path, serv->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		msg_warn("socket: %s", strerror(errno));
		return;
	}
	/* As mail_owner: the name is in mail_owner's folder and may have
	 * become a link to any socket on the system (Rule 1). */
	master_as_owner();
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	master_as_root();
	if (rc < 0) {
		if (errno == EAGAIN)
			msg_debug("wakeup %s: backlog full", serv->sock_path);
		else
			msg_warn("connect to %s: %s", serv->sock_path,
				 strerror(errno));
	} else if (send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) <
		   0) {
		msg_warn("wakeup %s: %s", serv->sock_path, strerror(errno));
	}
	close(fd);
}

static void
master_wakeup_event(void *ctx)
{
	struct master_service *serv = ctx;

	serv->wakeup_timer = 0;
	if (!serv->throttled && (!serv->def->wakeup_if_used || serv->used))
		master_wakeup_send(serv);
	serv->wakeup_timer = event_timer_add(
	    (long long)serv->def->wakeup * 1000, master_wakeup_event, serv);
}

void
master_wakeup_init(struct master_service *serv)
{
	const struct service_def *def = serv->def;

	if (def->wakeup <= 0)
		return;
	if (def->type != SERVICE_UNIX) {
		msg_warn("service %s/%s: wakeup is for unix services; ignored",
			 def->name, service_type_name(def->type));
		return;
	}
	serv->wakeup_timer = event_timer_add(
	    def->wakeup_if_used ? (long long)def->wakeup * 1000 : 0,
	    master_wakeup_event, serv);
}

void
master_wakeup_cancel(struct master_service *serv)
{
	if (serv->wakeup_timer)
		event_timer_cancel(serv->wakeup_timer);
	serv->wakeup_timer = 0;
}
