/*
 * auth_ticket - the tickets of successful logins; see auth.h.
 *
 * A ticket is 128 bits from getrandom(2) in lowercase hex: it cannot be
 * guessed within its lifetime, so holding one is proof that the auth
 * service saw that user's credentials a moment ago.  It is kept only in
 * this process's memory (a restart forgets them all: a login then fails
 * and the client tries again), redeemed at most once, and expires after
 * auth_ticket_lifetime on the monotonic clock.  Lookups compare every
 * live ticket in constant time, so the time a redeem takes says nothing
 * about how close a guess was.
 */
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "iostuff.h"
#include "msg.h"
#include "xalloc.h"

struct ticket {
	char id[AUTH_PROTO_TICKET_LEN + 1]; /* "" when the slot is free */
	char *user;
	char *service;
	char *client_address;
	char *server_address; /* the front's side: for the log (lip=) */
	long long expires_ms;
};

static struct ticket tickets[AUTH_TICKET_MAX];
static long long lifetime_ms = 60 * 1000;

static void
ticket_clear(struct ticket *t)
{
	explicit_bzero(t->id, sizeof(t->id));
	xfree(t->user);
	xfree(t->service);
	xfree(t->client_address);
	xfree(t->server_address);
	t->user = t->service = t->client_address = t->server_address = NULL;
	t->expires_ms = 0;
}

void
auth_ticket_init(long long ms)
{
	lifetime_ms = ms;
}

int
auth_ticket_issue(const char *user, const char *service,
		  const char *client_address, const char *server_address,
		  char out[AUTH_PROTO_TICKET_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[AUTH_PROTO_TICKET_LEN / 2];
	long long now = io_now_ms();
	struct ticket *slot = NULL;

	for (size_t i = 0; i < AUTH_TICKET_MAX; i++) {
		struct ticket *t = &tickets[i];
		if (t->id[0] != '\0' && t->expires_ms <= now)
			ticket_clear(t);
		if (t->id[0] == '\0' && slot == NULL)
			slot = t;
	}
	if (slot == NULL) {
		msg_warn("%d tickets alive: no room for one for %s",
			 AUTH_TICKET_MAX, user);
		return -1;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		msg_warn("getrandom: %m");
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		slot->id[2 * i] = hex[raw[i] >> 4];
		slot->id[2 * i + 1] = hex[raw[i] & 0xf];
	}
	slot->id[AUTH_PROTO_TICKET_LEN] = '\0';
	explicit_bzero(raw, sizeof(raw));
	slot->user = xstrdup(user);
	slot->service = xstrdup(service);
	slot->client_address = xstrdup(client_address);
	slot->server_address = xstrdup(server_address);
	slot->expires_ms = now + lifetime_ms;
	memcpy(out, slot->id, AUTH_PROTO_TICKET_LEN + 1);
	return 0;
}

int
auth_ticket_redeem(const char *ticket, struct buf *user, struct buf *service,
		   struct buf *client_address, struct buf *server_address)
{
	long long now = io_now_ms();
	struct ticket *found = NULL;

	if (!auth_proto_ticket_ok(ticket))
		return -1;
	for (size_t i = 0; i < AUTH_TICKET_MAX; i++) {
		struct ticket *t = &tickets[i];
		if (t->id[0] == '\0')
			continue;
		if (CRYPTO_memcmp(t->id, ticket, AUTH_PROTO_TICKET_LEN) == 0)
			found = t;
	}
	if (found == NULL)
		return -1;
	if (found->expires_ms <= now) {
		ticket_clear(found);
		return -1;
	}
	buf_reset(user);
	buf_puts(user, found->user);
	buf_reset(service);
	buf_puts(service, found->service);
	buf_reset(client_address);
	buf_puts(client_address, found->client_address);
	buf_reset(server_address);
	buf_puts(server_address, found->server_address);
	ticket_clear(found);
	return 0;
}
