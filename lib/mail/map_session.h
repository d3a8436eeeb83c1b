/*
 * map_session - the server session of a directory table (pgsql:, mysql:,
 * ldap:): made at the first lookup of a process, kept for the next ones,
 * and made again once when the server dropped it.
 *
 * Rules, the same for the three tables:
 *  - a session belongs to the process that made it.  A child forked after
 *    a lookup (local's workers, smtpd's helpers) must neither talk on its
 *    parent's session (their requests would interleave on one socket) nor
 *    end it (that would end the parent's too): the child sets it aside,
 *    never uses or frees it, and makes its own;
 *  - a lookup on a session an earlier lookup made that finds it lost
 *    (the server restarted, a proxy closed an idle connection) is tried
 *    once more on a new session; a new session that fails is the lookup's
 *    error (a deferral for the caller), never a second new one.
 */
#ifndef PANACEA_MAP_SESSION_H
#define PANACEA_MAP_SESSION_H

#include <sys/types.h>

#include "buf.h"

struct map_session {
	void *conn;	 /* PGconn *, MYSQL *, LDAP *; NULL: none */
	pid_t pid;	 /* the process that made conn */
	void *inherited; /* a parent's, set aside across fork */
};

/* What a table does for map_session_lookup: connect sets s->conn (0, or
 * -1 with err); run asks the open session for the lookup (1 found, 0 not
 * found, -1 a lookup error in err, -2 the session is lost); drop ends
 * s->conn and sets it NULL. */
struct map_session_ops {
	int (*connect)(void *table, struct buf *err);
	int (*run)(void *table, void *ctx, struct buf *found, struct buf *err);
	void (*drop)(void *table);
};

/* One lookup by the rules above; run's result (-2 never). */
int map_session_lookup(struct map_session *s, const struct map_session_ops *ops,
		       void *table, void *ctx, struct buf *found,
		       struct buf *err);

/* Whether this process made the open session (and so may end it). */
int map_session_mine(const struct map_session *s);

#endif
