/*
 * psl - the organisational domain of a name (RFC 7489 3.2) from the
 * Public Suffix List (https://publicsuffix.org/list/; Debian's
 * publicsuffix package installs it as
 * /usr/share/publicsuffix/public_suffix_list.dat).
 *
 * The list is read once into a hash set of its rules as written: plain
 * ("co.uk"), wildcard ("*.ck") and exception ("!www.ck").  Reading is
 * bounded (PSL_FILE_MAX bytes, PSL_RULES_MAX rules, rules of at most 253
 * bytes; longer lines are skipped), so a damaged file costs nothing
 * worse than a smaller list.  Rules in Unicode (U-labels) are kept as
 * they are: a name in A-labels (xn--) does not match them, and the
 * default rule then makes its last label the public suffix.
 *
 * psl_org_domain(): the public suffix is the longest matching rule (a
 * wildcard matches any one label), an exception rule wins and makes its
 * parent the suffix, no match means the last label (the "*" default
 * rule); the organisational domain is the suffix plus one more label of
 * the name, or the name itself when it is a public suffix.
 */
#ifndef PANACEA_PSL_H
#define PANACEA_PSL_H

#include <stddef.h>

#include "buf.h"

#define PSL_FILE_MAX (4 * 1024 * 1024)
#define PSL_RULES_MAX 100000
#define PSL_NAME_MAX 253

struct psl;

/* The rules of a list's text (len bytes, no NUL needed); never NULL. */
struct psl *psl_parse(const char *text, size_t len);
/* Reads path; NULL with err when it cannot be read or is too large. */
struct psl *psl_load(const char *path, struct buf *err);
void psl_free(struct psl *p);
size_t psl_count(const struct psl *p);

/* The organisational domain of name (a trailing dot is ignored, case is
 * folded) into out (outlen >= PSL_NAME_MAX + 1): 0, or -1 when name is
 * empty, too long or has an empty label. */
int psl_org_domain(const struct psl *p, const char *name, char *out,
		   size_t outlen);

#endif
