/*
 * master_services - the services of the table as master runs them.
 *
 * Each line of the services table becomes a struct master_service that
 * owns the service's listeners:
 *  - inet: the name is "port", "host:port" or "[ipv6]:port"
 *    (sock_parse_endpoint); a bare port listens on every address of
 *    inet_interfaces ("all" = the wildcard addresses of inet_protocols,
 *    "loopback-only" = 127.0.0.1);
 *  - unix and pass: $queue_directory/private/NAME (mode 0600) or public/NAME
 * (mode 0666), owned by mail_owner when master runs as root. Listeners are
 * opened once by master and inherited by every child.
 *
 * Reload (master_services_reload) matches services by (name, type):
 *  - gone from the table: children SIGTERM'd, listeners closed, the unix
 *    socket removed;
 *  - new: listeners opened (a failure is logged and the service skipped,
 *    master keeps running), then started;
 *  - changed (service_same() false, or its program moved with
 *    daemon_directory): the old children are SIGTERM'd and forgotten, the
 *    listeners are kept (an inet port cannot be bound again while old
 *    children still hold it), new children start with the new definition;
 *    a unix service that moved between private/ and public/ is removed
 *    and added instead;
 *  - unchanged: its listeners and open connections carry on, and its
 *    children are told that the configuration changed
 *    (master_reload_children, master_spawn.c): they finish what they do
 *    and exit, and new ones read the new panacea.conf.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "events.h"
#include "master.h"
#include "msg.h"
#include "services.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

struct master_service *master_services;
struct service_table master_table;

char *
master_service_path(const struct service_def *def)
{
	struct buf path = BUF_INIT;

	if (def->argv[0][0] == '/')
		return xstrdup(def->argv[0]);
	buf_printf(&path, "%s/%s", master_params.daemon_dir, def->argv[0]);
	return buf_steal(&path);
}

static char *
master_sock_path(const struct service_def *def)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s/%s", master_params.queue_dir,
		   def->is_private ? "private" : "public", def->name);
	return buf_steal(&path);
}

static void
master_add_fd(struct master_service *serv, int fd)
{
	serv->fds =
	    xreallocarray(serv->fds, (size_t)serv->nfds + 1, sizeof(int));
	serv->fds[serv->nfds++] = fd;
}

/* Listens on one host (NULL = wildcard) and port. */
static int
master_listen_host(struct master_service *serv, const char *host,
		   const char *port, struct buf *err)
{
	int fds[MASTER_INET_MAX];
	int n;
	int i;

	n = sock_listen_inet(host, port, master_params.inet_protocols,
			     MASTER_BACKLOG, fds, MASTER_INET_MAX, err);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		master_add_fd(serv, fds[i]);
	return 0;
}

static int
master_listen_inet(struct master_service *serv, struct buf *err)
{
	char *host = NULL;
	char *port = NULL;
	char **ifs;
	int ret = 0;
	int i;

	if (sock_parse_endpoint(serv->def->name, &host, &port) < 0) {
		buf_printf(err, "bad inet service name");
		return -1;
	}
	if (host != NULL) {
		ret = master_listen_host(serv, host, port, err);
	} else {
		ifs =
		    str_split(master_params.inet_interfaces, ", \t\r\n", NULL);
		for (i = 0; ifs[i] != NULL && ret == 0; i++) {
			if (str_casecmp(ifs[i], "all") == 0)
				ret = master_listen_host(serv, NULL, port, err);
			else if (str_casecmp(ifs[i], "loopback-only") == 0)
				ret = master_listen_host(serv, "127.0.0.1",
							 port, err);
			else
				ret =
				    master_listen_host(serv, ifs[i], port, err);
		}
		str_list_free(ifs);
	}
	if (ret == 0 && serv->nfds == 0) {
		buf_printf(err, "inet_interfaces is empty");
		ret = -1;
	}
	xfree(host);
	xfree(port);
	return ret;
}

static int
master_listen_unix(struct master_service *serv, struct buf *err)
{
	const char *name = serv->def->name;
	int fd;

	/* The name becomes a file name: keep it inside its folder. */
	if (*name == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		buf_printf(err, "bad unix service name");
		return -1;
	}
	serv->sock_path = master_sock_path(serv->def);
	/* Bound as mail_owner, whose folder it is: the file is born with its
	 * owner and mode, and no root call follows a link put there. */
	master_as_owner();
	fd = sock_listen_unix(serv->sock_path,
			      serv->def->is_private ? 0600 : 0666,
			      MASTER_BACKLOG, err);
	master_as_root();
	if (fd < 0) {
		xfree(serv->sock_path);
		serv->sock_path = NULL;
		return -1;
	}
	master_add_fd(serv, fd);
	return 0;
}

/* Closes the listeners and removes the socket file. */
static void
master_service_free(struct master_service *serv)
{
	int i;

	for (i = 0; i < serv->nfds; i++) {
		if (serv->listening)
			event_fd_remove(serv->fds[i]);
		close(serv->fds[i]);
	}
	if (serv->sock_path) {
		master_as_owner();
		if (unlink(serv->sock_path) < 0 && errno != ENOENT)
			msg_warn("remove %s: %s", serv->sock_path,
				 strerror(errno));
		master_as_root();
	}
	xfree(serv->fds);
	xfree(serv->sock_path);
	xfree(serv->path);
	xfree(serv);
}

/* A service with its listeners open, not started yet; NULL with a
 * message in err. */
static struct master_service *
master_service_create(const struct service_def *def, struct buf *err)
{
	struct master_service *serv = xcalloc(1, sizeof(*serv));
	int ret;

	serv->def = def;
	serv->path = master_service_path(def);
	if (def->type == SERVICE_INET)
		ret = master_listen_inet(serv, err);
	else
		ret = master_listen_unix(serv, err);
	if (ret < 0) {
		master_service_free(serv);
		return NULL;
	}
	return serv;
}

/* Starts watching for clients and wakeups. */
static void
master_service_activate(struct master_service *serv)
{
	master_wakeup_init(serv);
	master_avail_listen(serv);
}

/* Stops everything that would start a child; the old children are told to
 * go (SIGTERM) and forgotten by this service. */
static void
master_service_deactivate(struct master_service *serv)
{
	int i;

	master_wakeup_cancel(serv);
	if (serv->throttle_timer) {
		event_timer_cancel(serv->throttle_timer);
		serv->throttle_timer = 0;
	}
	if (serv->listening) {
		for (i = 0; i < serv->nfds; i++)
			event_fd_remove(serv->fds[i]);
		serv->listening = 0;
	}
	master_detach_children(serv, SIGTERM);
	serv->throttled = 0;
	serv->used = 0;
	serv->limit_warn_ms = 0;
}

static void
master_service_append(struct master_service *serv)
{
	struct master_service **pp = &master_services;

	while (*pp)
		pp = &(*pp)->next;
	serv->next = NULL;
	*pp = serv;
}

static void
master_service_unlink_list(struct master_service *serv)
{
	struct master_service **pp;

	for (pp = &master_services; *pp; pp = &(*pp)->next) {
		if (*pp == serv) {
			*pp = serv->next;
			return;
		}
	}
}

static struct master_service *
master_service_find(const char *name, enum service_type type)
{
	struct master_service *serv;

	for (serv = master_services; serv; serv = serv->next)
		if (serv->def->type == type &&
		    strcmp(serv->def->name, name) == 0)
			return serv;
	return NULL;
}

void
master_services_start(void)
{
	struct master_service *serv;
	struct buf err = BUF_INIT;
	size_t i;

	for (i = 0; i < master_table.count; i++) {
		const struct service_def *def = &master_table.items[i];

		if ((serv = master_service_create(def, &err)) == NULL)
			msg_fatal("service %s/%s: %s", def->name,
				  service_type_name(def->type), buf_cstr(&err));
		master_service_append(serv);
	}
	for (serv = master_services; serv; serv = serv->next)
		master_service_activate(serv);
	buf_free(&err);
}

static void
master_service_remove(struct master_service *serv)
{
	msg_debug("service %s/%s: removed", serv->def->name,
		  service_type_name(serv->def->type));
	master_service_deactivate(serv);
	master_service_unlink_list(serv);
	master_service_free(serv);
}

static void
master_service_add(const struct service_def *def)
{
	struct master_service *serv;
	struct buf err = BUF_INIT;

	if ((serv = master_service_create(def, &err)) == NULL) {
		msg_warn("service %s/%s: %s: not started", def->name,
			 service_type_name(def->type), buf_cstr(&err));
	} else {
		msg_debug("service %s/%s: added", def->name,
			  service_type_name(def->type));
		master_service_append(serv);
		master_service_activate(serv);
	}
	buf_free(&err);
}

/* A changed definition on the same listeners. */
static void
master_service_restart(struct master_service *serv,
		       const struct service_def *def, char *path)
{
	msg_debug("service %s/%s: changed, restarting", def->name,
		  service_type_name(def->type));
	master_service_deactivate(serv);
	serv->def = def;
	xfree(serv->path);
	serv->path = path;
	master_service_activate(serv);
}

void
master_services_reload(struct service_table *newtab)
{
	struct master_service *serv;
	struct master_service *next;
	const struct service_def *def;
	char *path;
	size_t i;

	for (serv = master_services; serv; serv = next) {
		next = serv->next;
		def = services_find(newtab, serv->def->name, serv->def->type);
		if (def == NULL || (def->type != SERVICE_INET &&
				    def->is_private != serv->def->is_private)) {
			master_service_remove(serv);
			continue;
		}
		path = master_service_path(def);
		if (service_same(serv->def, def) &&
		    strcmp(path, serv->path) == 0) {
			serv->def = def;
			xfree(path);
			continue;
		}
		master_service_restart(serv, def, path);
	}
	for (i = 0; i < newtab->count; i++) {
		def = &newtab->items[i];
		if (master_service_find(def->name, def->type) == NULL)
			master_service_add(def);
	}
	/* Every service now points into newtab. */
	services_free(&master_table);
	master_table = *newtab;
	newtab->items = NULL;
	newtab->count = 0;
}

void
master_services_stop(void)
{
	struct master_service *serv;
	int i;

	for (serv = master_services; serv; serv = serv->next) {
		master_wakeup_cancel(serv);
		if (serv->throttle_timer)
			event_timer_cancel(serv->throttle_timer);
		serv->throttle_timer = 0;
		if (serv->listening)
			for (i = 0; i < serv->nfds; i++)
				event_fd_remove(serv->fds[i]);
		serv->listening = 0;
	}
	master_spawn_close_alive();
	master_kill_all(SIGTERM, MASTER_STOP_GRACE_MS);
	while ((serv = master_services) != NULL) {
		master_services = serv->next;
		master_service_free(serv);
	}
	services_free(&master_table);
}

void
master_services_unlink(void)
{
	struct master_service *serv;

	master_as_owner();
	for (serv = master_services; serv; serv = serv->next)
		if (serv->sock_path)
			(void)unlink(serv->sock_path);
	master_as_root();
}
