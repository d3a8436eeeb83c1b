/*
 * map_session - the server session of a directory table; see
 * map_session.h.
 */
#include <unistd.h>

#include "map_session.h"

/* The parents' sessions this process set aside: never used, never
 * ended (that would end the parent's too), and kept reachable for the
 * process's life, since the table that held one may be closed and freed
 * (a child of a daemon that forks after lookups exits soon). */
#define ASIDE_MAX 64
static void *aside[ASIDE_MAX];
static size_t naside;

int
map_session_lookup(struct map_session *s, const struct map_session_ops *ops,
		   void *table, void *ctx, struct buf *found, struct buf *err)
{
	int old, r;

	if (s->conn != NULL && s->pid != getpid()) {
		s->inherited = s->conn;
		if (naside < ASIDE_MAX)
			aside[naside++] = s->conn;
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
