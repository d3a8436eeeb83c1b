/*
 * map_session - the server session of a directory table; see
 * map_session.h.
 */
#include <unistd.h>

#include "map_session.h"

int
map_session_lookup(struct map_session *s, const struct map_session_ops *ops,
		   void *table, void *ctx, struct buf *found, struct buf *err)
{
	int old, r;

	if (s->conn != NULL && s->pid != getpid()) {
		s->inherited = s->conn;
		s->conn = NULL;
	}
	for (int attempt = 0;; attempt++) {
		old = s->conn != NULL;
		if (!old) {
			if (ops->connect(table, err) < 0)
				return -1;
			s->pid = getpid();
		}
		if ((r = ops->run(table, ctx, found, err)) != -2)
			return r;
		ops->drop(table);
		if (!old || attempt > 0)
			return -1;
	}
}

int
map_session_mine(const struct map_session *s)
{
	return s->conn != NULL && s->pid == getpid();
}
