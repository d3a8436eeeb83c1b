/*
 * dkim_keys - who signs what: OpenDKIM's KeyTable and SigningTable, in
 * their format and with their meaning, so that an administrator's
 * files move across unchanged.
 *
 * KeyTable (dkim_key_table): lines "NAME DOMAIN:SELECTOR:PATH"; PATH is
 * a PEM private key (RSA or Ed25519: its type gives a=); DOMAIN "%" is
 * the signing address's domain.  SigningTable (dkim_signing_table):
 * lines "PATTERN NAME".  A plain file is looked up, as OpenDKIM does,
 * with the full address, then its domain, then each parent domain with
 * a leading dot (".example.com" for any subdomain); "refile:PATH" makes
 * every PATTERN a wildcard ('*' matches any run, case-insensitive),
 * tried in file order.  '#' starts a comment; blank lines are skipped.
 *
 * Every key named by the signing table is read at load time (so a
 * daemon loads before it drops root: the files can stay root's, mode
 * 0600) and checked; a missing or unusable key, a name the key table
 * lacks or a syntax error fails the load with a message.
 *
 * dkim_keys_find(): the signers of an address: every line whose
 * pattern is the first that matches (plain: every line of the first
 * key found), in file order, at most max: two lines with the same
 * pattern and an RSA and an Ed25519 key give two signatures (RFC 8463
 * 4 asks signers to keep RSA beside Ed25519 for now).
 */
#ifndef PANACEA_DKIM_KEYS_H
#define PANACEA_DKIM_KEYS_H

#include <stddef.h>

#include "buf.h"
#include "dkim.h"

struct dkim_keys;

/* NULL with a message in err, or the tables and their keys. */
struct dkim_keys *dkim_keys_load(const char *key_table,
				 const char *signing_table, struct buf *err);
void dkim_keys_free(struct dkim_keys *k);

/* Fills out (at most max) with the signers for address ("user@domain");
 * their domain and selector strings live in k or in domains (for
 * DOMAIN "%"), which needs room for max entries. */
size_t dkim_keys_find(const struct dkim_keys *k, const char *address,
		      struct dkim_signer *out, char (*domains)[254],
		      size_t max);

/* The most signatures one message gets. */
#define DKIM_KEYS_SIGNERS 4

/* Signs the message (data, len: as it will be queued) for its From:
 * address (sender when it has none) with every key dkim_keys_find
 * gives, except those whose domain and selector already signed it (a
 * message that comes back, as from a content filter, is signed once);
 * appends the DKIM-Signature fields to out, logs each with id, and
 * returns how many it added. */
size_t dkim_keys_sign(const struct dkim_keys *k, const char *data, size_t len,
		      const char *sender, const char *id, struct buf *out);

/* A '*' wildcard match without case (refile: patterns). */
int dkim_wildcard(const char *pattern, const char *s);

/* The first address of a From: field value (inside "<>", or the bare
 * addr-spec without comments), lower case in out; 0, or -1. */
int dkim_from_address(const char *value, size_t len, char *out, size_t outlen);

#endif
