/*
 * match_list - Postfix's list parameters (mydestination, relay_domains,
 * mynetworks, debug_peer_list, authorized_mailq_users, ...).
 *
 * A value is a list of entries separated by commas and white space.  An
 * entry "/file/name" stands for the entries of that file (separated the
 * same way, a '#' starts a comment that runs to the end of its line;
 * files may name files, MATCH_LIST_DEPTH_MAX deep); an entry "type:table"
 * is a lookup table (lib/maps: the subject is looked up and any value
 * means a match); any other entry is a word the caller's kind of list
 * gives a meaning to; "!entry" negates an entry.  Entries are tried in
 * order and the first that matches decides (a negated one: no match), as
 * in Postfix.
 *
 * Domain lists (match_list_domain): a word "example.com" matches that
 * domain and, with parent (Postfix's parent_domain_matches_subdomains:
 * relay_domains, debug_peer_list, ...), its subdomains; ".example.com"
 * matches the subdomains; case does not matter.  A table is asked for the
 * domain, then for each parent domain: "example.com" with parent,
 * ".example.com" without.
 *
 * Lists of other things take the words and look the tables up
 * themselves: match_list_words() gives the plain words (mynetworks hands
 * them to cidr_list_parse), match_list_tables() says whether a table has
 * a key (a client address).
 *
 * Errors: match_list_open() fails with "PARAM: message" for a file that
 * cannot be read (a path that is not absolute is a word) or a table that
 * cannot be opened; a table that fails at lookup time is -1 with err set.
 * Tables are opened before chroot and stay open, as lib/maps says.
 */
#ifndef PANACEA_MATCH_LIST_H
#define PANACEA_MATCH_LIST_H

#include "buf.h"

#define MATCH_LIST_DEPTH_MAX 4
#define MATCH_LIST_FILE_MAX (1024 * 1024)

struct match_list;

struct match_list *match_list_open(const char *param, const char *value,
				   struct buf *err);
void match_list_free(struct match_list *l);
/* 1 when the list matches domain, 0 when not, -1 on a table error. */
int match_list_domain(const struct match_list *l, const char *domain,
		      int parent, struct buf *err);
/*
 * Host lists (Postfix's mynetworks, debug_peer_list): a word that is an
 * address or a network (cidr.h: "192.0.2.0/24", "[2001:db8::]/32", an
 * address alone) matches the client's address, any other word matches
 * its name as a domain list does, a table is asked for the name (and its
 * parents) then for the address.  name or addr may be "" (unknown).  A
 * word shaped like a network that does not parse is an open error.
 */
int match_list_client(const struct match_list *l, const char *name,
		      const char *addr, int parent, struct buf *err);
/* 1 when a word is s (case-insensitive) or a table has key s; 0; -1. */
int match_list_string(const struct match_list *l, const char *s,
		      struct buf *err);
/* The plain words that are not negated, joined by single spaces (a new
 * string); negated words are refused at open for such lists by the
 * caller if it cannot honour them. */
char *match_list_words(const struct match_list *l);
/* 1 when a table that is not negated has key; 0; -1 (err). */
int match_list_tables(const struct match_list *l, const char *key,
		      struct buf *err);
/* 1 when the list has a type:table entry. */
int match_list_has_tables(const struct match_list *l);
/* Calls fn with each plain word, negated ones too (without the '!'), in
 * order: for a caller that resolves the words before chroot (showq: user
 * names). */
void match_list_each_word(const struct match_list *l,
			  void (*fn)(const char *word, void *ctx), void *ctx);

#endif
