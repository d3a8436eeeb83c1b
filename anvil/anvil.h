/*
 * anvil - the counting service's own declarations (anvil.c serves,
 * anvil_table.c counts).
 *
 * anvil_table is the pure part, unit tested (tests/unit/anvil/): per
 * ident ("SERVICE:CLIENT_ADDRESS", lib/mail/anvil_proto.h) the
 * connections in flight and, within a window of anvil_rate_time_unit,
 * the connections, messages, recipients, new TLS sessions and AUTH
 * commands, as Postfix's anvil(8) counts them: the window starts at an
 * ident's first event and every rate of the ident starts over at its
 * first event after the window ended.  An ident with no connection in
 * flight whose window has ended is forgotten by anvil_table_expire().
 * Time is passed in (milliseconds of a monotonic clock), so the tests
 * need no clock.
 *
 * The table also keeps the peaks since its last report (the largest
 * count, each largest rate, the largest number of idents, with the ident
 * and when), which anvil_table_report() writes as Postfix's lines
 *   statistics: max connection rate N/Us for (IDENT) at Mon dd hh:mm:ss
 *   statistics: max connection count N for (IDENT) at ...
 *   statistics: max message rate N/Us ... (recipient, newtls, auth)
 *   statistics: max cache size N at ...
 * (only the ones that saw an event) and then forgets.
 */
#ifndef PANACEA_ANVIL_H
#define PANACEA_ANVIL_H

#include <stddef.h>
#include <time.h>

enum anvil_rate {
	ANVIL_RATE_CONN,
	ANVIL_RATE_MAIL,
	ANVIL_RATE_RCPT,
	ANVIL_RATE_NEWTLS,
	ANVIL_RATE_AUTH,
	ANVIL_RATE_MAX
};

struct anvil_table;

/* unit_ms: anvil_rate_time_unit, > 0. */
struct anvil_table *anvil_table_new(long long unit_ms);
void anvil_table_free(struct anvil_table *t);

/* One more connection of ident: *count in flight and *rate of
 * connections in the window, this one included. */
void anvil_table_connect(struct anvil_table *t, const char *ident,
			 long long now_ms, int *count, int *rate);
/* One connection of ident less; -1 when it has none in flight. */
int anvil_table_disconnect(struct anvil_table *t, const char *ident,
			   long long now_ms);
/* The rate of kind for ident in the window after counting one event
 * (count_it) or without counting (a report). */
int anvil_table_event(struct anvil_table *t, const char *ident,
		      enum anvil_rate kind, int count_it, long long now_ms);
/* Forgets the idents with nothing in flight and an ended window. */
void anvil_table_expire(struct anvil_table *t, long long now_ms);
size_t anvil_table_size(const struct anvil_table *t);

/* Calls log(line, ctx) for each statistics line (without a newline),
 * now_ms being wall_now on the wall clock, and forgets the peaks. */
void anvil_table_report(struct anvil_table *t, long long now_ms,
			time_t wall_now,
			void (*log)(const char *line, void *ctx), void *ctx);

#endif
