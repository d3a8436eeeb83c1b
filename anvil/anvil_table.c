/*
 * anvil_table - the counters of the anvil service; see anvil.h.
 *
 * A hash table of idents (chained, doubled when it holds more idents
 * than buckets).  The table holds at most what smtpd's clients make it
 * hold: one entry per client address seen in the last time unit or
 * still connected, which anvil_table_expire() keeps at that.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "anvil.h"
#include "buf.h"
#include "xalloc.h"

struct entry {
	struct entry *next;
	char *ident;
	int count;	    /* connections in flight */
	long long start_ms; /* the window's start */
	int rate[ANVIL_RATE_MAX];
};

struct peak {
	int value;
	char *ident; /* NULL for the cache size */
	long long when_ms;
};

struct anvil_table {
	long long unit_ms;
	struct entry **buckets;
	size_t nbuckets;
	size_t n;
	struct peak rate_peak[ANVIL_RATE_MAX];
	struct peak count_peak;
	struct peak size_peak;
};

static const char *const rate_names[ANVIL_RATE_MAX] = {
    "connection", "message", "recipient", "newtls", "auth",
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct anvil_table *
anvil_table_new(long long unit_ms)
{
	struct anvil_table *t = xcalloc(1, sizeof(*t));

	t->unit_ms = unit_ms > 0 ? unit_ms : 1;
	t->nbuckets = 64;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	return t;
}

static void
peak_clear(struct peak *p)
{
	xfree(p->ident);
	memset(p, 0, sizeof(*p));
}

void
anvil_table_free(struct anvil_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct entry *e = t->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			xfree(e->ident);
			xfree(e);
		}
	}
	for (int k = 0; k < ANVIL_RATE_MAX; k++)
		peak_clear(&t->rate_peak[k]);
	peak_clear(&t->count_peak);
	peak_clear(&t->size_peak);
	xfree(t->buckets);
	xfree(t);
}

static void
grow(struct anvil_table *t)
{
	size_t n = t->nbuckets * 2;
	struct entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < t->nbuckets; i++) {
		struct entry *e = t->buckets[i], *next;
		for (; e; e = next) {
			size_t j = (size_t)(hash(e->ident) % n);
			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	xfree(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static void
peak_note(struct peak *p, int value, const char *ident, long long now_ms)
{
	if (value <= p->value)
		return;
	p->value = value;
	p->when_ms = now_ms;
	if (ident != NULL && (p->ident == NULL || strcmp(p->ident, ident))) {
		xfree(p->ident);
		p->ident = xstrdup(ident);
	}
}

static struct entry *
find(const struct anvil_table *t, const char *ident)
{
	struct entry *e = t->buckets[hash(ident) % t->nbuckets];

	while (e && strcmp(e->ident, ident) != 0)
		e = e->next;
	return e;
}

/* The entry of ident, made when missing, with its window brought up to
 * now: a window that has ended starts over. */
static struct entry *
entry_at(struct anvil_table *t, const char *ident, long long now_ms)
{
	struct entry *e = find(t, ident);
	size_t i;

	if (e == NULL) {
		if (t->n >= t->nbuckets)
			grow(t);
		i = (size_t)(hash(ident) % t->nbuckets);
		e = xcalloc(1, sizeof(*e));
		e->ident = xstrdup(ident);
		e->start_ms = now_ms;
		e->next = t->buckets[i];
		t->buckets[i] = e;
		t->n++;
		peak_note(&t->size_peak, t->n > INT_MAX ? INT_MAX : (int)t->n,
			  NULL, now_ms);
	} else if (now_ms - e->start_ms >= t->unit_ms) {
		e->start_ms = now_ms;
		memset(e->rate, 0, sizeof(e->rate));
	}
	return e;
}

static int
count_rate(struct anvil_table *t, struct entry *e, enum anvil_rate kind,
	   long long now_ms)
{
	if (e->rate[kind] < INT_MAX)
		e->rate[kind]++;
	peak_note(&t->rate_peak[kind], e->rate[kind], e->ident, now_ms);
	return e->rate[kind];
}

void
anvil_table_connect(struct anvil_table *t, const char *ident, long long now_ms,
		    int *count, int *rate)
{
	struct entry *e = entry_at(t, ident, now_ms);

	if (e->count < INT_MAX)
		e->count++;
	peak_note(&t->count_peak, e->count, e->ident, now_ms);
	*rate = count_rate(t, e, ANVIL_RATE_CONN, now_ms);
	*count = e->count;
}

int
anvil_table_disconnect(struct anvil_table *t, const char *ident,
		       long long now_ms)
{
	struct entry *e = find(t, ident);

	(void)now_ms;
	if (e == NULL || e->count <= 0)
		return -1;
	e->count--;
	return 0;
}

int
anvil_table_event(struct anvil_table *t, const char *ident,
		  enum anvil_rate kind, int count_it, long long now_ms)
{
	struct entry *e;

	if (!count_it) {
		/* A report makes no entry and moves no window. */
		e = find(t, ident);
		if (e == NULL || now_ms - e->start_ms >= t->unit_ms)
			return 0;
		return e->rate[kind];
	}
	e = entry_at(t, ident, now_ms);
	return count_rate(t, e, kind, now_ms);
}

void
anvil_table_expire(struct anvil_table *t, long long now_ms)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct entry **pe = &t->buckets[i];
		while (*pe) {
			struct entry *e = *pe;
			if (e->count == 0 &&
			    now_ms - e->start_ms >= t->unit_ms) {
				*pe = e->next;
				xfree(e->ident);
				xfree(e);
				t->n--;
			} else {
				pe = &e->next;
			}
		}
	}
}

size_t
anvil_table_size(const struct anvil_table *t)
{
	return t->n;
}

/* "Mon dd hh:mm:ss" of a peak, as Postfix writes it (ctime's middle). */
static void
when_text(char *out, size_t len, long long when_ms, long long now_ms,
	  time_t wall_now)
{
	time_t when = wall_now - (time_t)((now_ms - when_ms) / 1000);
	struct tm tm;

	if (localtime_r(&when, &tm) == NULL ||
	    strftime(out, len, "%b %e %H:%M:%S", &tm) == 0)
		snprintf(out, len, "?");
}

void
anvil_table_report(struct anvil_table *t, long long now_ms, time_t wall_now,
		   void (*log)(const char *line, void *ctx), void *ctx)
{
	struct buf line = BUF_INIT;
	long long unit_s = t->unit_ms / 1000;
	char when[32];

	for (int k = 0; k <= ANVIL_RATE_MAX; k++) {
		/* Postfix's order: connection rate, connection count, then
		 * the other rates. */
		const struct peak *p = k == 0	? &t->rate_peak[0]
				       : k == 1 ? &t->count_peak
						: &t->rate_peak[k - 1];
		if (p->value == 0)
			continue;
		when_text(when, sizeof(when), p->when_ms, now_ms, wall_now);
		buf_reset(&line);
		if (k == 1)
			buf_printf(&line,
				   "statistics: max connection count %d for "
				   "(%s) at %s",
				   p->value, p->ident, when);
		else
			buf_printf(&line,
				   "statistics: max %s rate %d/%llds for (%s) "
				   "at %s",
				   rate_names[k == 0 ? 0 : k - 1], p->value,
				   unit_s, p->ident, when);
		log(buf_cstr(&line), ctx);
	}
	if (t->size_peak.value > 0) {
		when_text(when, sizeof(when), t->size_peak.when_ms, now_ms,
			  wall_now);
		buf_reset(&line);
		buf_printf(&line, "statistics: max cache size %d at %s",
			   t->size_peak.value, when);
		log(buf_cstr(&line), ctx);
	}
	for (int k = 0; k < ANVIL_RATE_MAX; k++)
		peak_clear(&t->rate_peak[k]);
	peak_clear(&t->count_peak);
	peak_clear(&t->size_peak);
	buf_free(&line);
}
