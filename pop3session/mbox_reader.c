/*
 * mbox_reader - splits an mbox into messages (contract in mbox_reader.h).
 *
 * A line is decided from its first bytes (at most five: "From " or an
 * empty "\r\n"); until then they are held in head.  An empty line is held
 * too, until the next line says whether it separates two messages (the
 * next line is a From_ line, or the input ends) or is content.  Content
 * bytes go to a counting pop3_wire, so that the size given here is by
 * construction the size pop3d sends, and with the From_ line to the
 * message's hash.
 */
#include <string.h>

#include <openssl/evp.h>

#include "mbox_reader.h"
#include "msg.h"
#include "xalloc.h"

enum { K_UNDECIDED, K_FROM, K_CONTENT, K_BLANK };

static const char from_[] = "From ";

void
mbox_scan_init(struct mbox_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->status = MBOX_SCAN_OK;
	sc->kind = K_UNDECIDED;
}

void
mbox_scan_free(struct mbox_scan *sc)
{
	xfree(sc->msgs);
	if (sc->md != NULL)
		EVP_MD_CTX_free(sc->md);
	memset(sc, 0, sizeof(*sc));
}

static struct mbox_msg *
cur_msg(struct mbox_scan *sc)
{
	return &sc->msgs[sc->count - 1];
}

static void
hash_update(struct mbox_scan *sc, const char *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(sc->md, p, n) != 1)
		msg_fatal("SHA-256 update failed");
}

static void
msg_begin(struct mbox_scan *sc)
{
	struct mbox_msg *m;

	if (sc->count == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 64;
		sc->msgs = xreallocarray(sc->msgs, sc->cap, sizeof(*sc->msgs));
	}
	m = &sc->msgs[sc->count++];
	memset(m, 0, sizeof(*m));
	m->start = sc->line_start;
	if (sc->md == NULL && (sc->md = EVP_MD_CTX_new()) == NULL)
		msg_fatal("out of memory for a digest");
	if (EVP_DigestInit_ex(sc->md, EVP_sha256(), NULL) != 1)
		msg_fatal("SHA-256 init failed");
	pop3_wire_init(&sc->wire, POP3_WIRE_UNQUOTE, -1);
	sc->have_msg = 1;
}

static void
msg_end(struct mbox_scan *sc, unsigned long long end)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct mbox_msg *m = cur_msg(sc);

	pop3_wire_finish(&sc->wire, NULL);
	m->octets = sc->wire.octets;
	m->end = end;
	if (EVP_DigestFinal_ex(sc->md, md, &mdlen) != 1 ||
	    mdlen * 2 < MBOX_UIDL_LEN)
		msg_fatal("SHA-256 final failed");
	for (int i = 0; i < MBOX_UIDL_LEN / 2; i++) {
		m->uidl[2 * i] = hex[md[i] >> 4];
		m->uidl[2 * i + 1] = hex[md[i] & 15];
	}
	m->uidl[MBOX_UIDL_LEN] = '\0';
}

static void
content(struct mbox_scan *sc, const char *p, size_t n)
{
	pop3_wire_feed(&sc->wire, p, n, NULL);
	hash_update(sc, p, n);
}

/* A held empty line turned out to be content. */
static void
commit_blank(struct mbox_scan *sc)
{
	if (sc->nblank > 0)
		content(sc, sc->blank, sc->nblank);
	sc->nblank = 0;
}

static void
line_done(struct mbox_scan *sc)
{
	if (sc->kind == K_FROM)
		cur_msg(sc)->body = sc->offset;
	sc->prev_blank = 0;
	sc->kind = K_UNDECIDED;
	sc->nhead = 0;
	sc->line_start = sc->offset;
}

static int
not_mbox(struct mbox_scan *sc)
{
	sc->status = MBOX_SCAN_NOT_MBOX;
	return sc->status;
}

/* The held head is an empty line. */
static void
decided_blank(struct mbox_scan *sc)
{
	commit_blank(sc);
	memcpy(sc->blank, sc->head, sc->nhead);
	sc->nblank = sc->nhead;
	sc->blank_start = sc->line_start;
	sc->nhead = 0;
	sc->kind = K_UNDECIDED;
	sc->prev_blank = 1;
	sc->line_start = sc->offset;
}

static void
decided_from(struct mbox_scan *sc)
{
	if (sc->have_msg)
		msg_end(sc, sc->nblank ? sc->blank_start : sc->line_start);
	sc->nblank = 0;
	msg_begin(sc);
	hash_update(sc, sc->head, sc->nhead);
	sc->kind = K_FROM;
}

static void
decided_content(struct mbox_scan *sc)
{
	commit_blank(sc);
	sc->kind = K_CONTENT;
	content(sc, sc->head, sc->nhead);
	if (sc->head[sc->nhead - 1] == '\n')
		line_done(sc);
}

/* -1: not decided yet; else the kind of the line in head. */
static int
decide(struct mbox_scan *sc)
{
	const char *h = sc->head;
	size_t n = sc->nhead;
	int can_sep = sc->prev_blank || sc->line_start == 0;

	if (h[0] == '\n' || (n == 2 && h[0] == '\r' && h[1] == '\n'))
		return K_BLANK;
	if (h[0] == '\r')
		return n == 1 ? -1 : K_CONTENT;
	if (!can_sep || h[n - 1] != from_[n - 1])
		return K_CONTENT;
	return n == sizeof(from_) - 1 ? K_FROM : -1;
}

int
mbox_scan_feed(struct mbox_scan *sc, const char *data, size_t len)
{
	size_t i = 0, n;
	const char *nl;
	int k;

	while (i < len && sc->status == MBOX_SCAN_OK && !sc->finished) {
		if (sc->kind != K_UNDECIDED) {
			nl = memchr(data + i, '\n', len - i);
			n = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
			if (sc->kind == K_CONTENT)
				content(sc, data + i, n);
			else
				hash_update(sc, data + i, n);
			sc->offset += n;
			i += n;
			if (nl)
				line_done(sc);
			continue;
		}
		sc->head[sc->nhead++] = data[i++];
		sc->offset++;
		if ((k = decide(sc)) < 0)
			continue;
		if (k == K_BLANK) {
			if (!sc->have_msg)
				return not_mbox(sc);
			decided_blank(sc);
		} else if (k == K_FROM) {
			decided_from(sc);
		} else {
			if (!sc->have_msg)
				return not_mbox(sc);
			decided_content(sc);
		}
	}
	return sc->status;
}

int
mbox_scan_finish(struct mbox_scan *sc)
{
	if (sc->status != MBOX_SCAN_OK || sc->finished)
		return sc->status;
	sc->finished = 1;
	if (sc->kind == K_UNDECIDED && sc->nhead > 0) {
		/* A short last line without LF. */
		if (!sc->have_msg)
			return not_mbox(sc);
		commit_blank(sc);
		content(sc, sc->head, sc->nhead);
		sc->nhead = 0;
	}
	if (!sc->have_msg)
		return sc->status;
	if (sc->kind == K_FROM)
		cur_msg(sc)->body = sc->offset;
	msg_end(sc, sc->nblank ? sc->blank_start : sc->offset);
	sc->nblank = 0;
	return sc->status;
}
