/*
 * strutil - small string helpers shared by parsers.
 *
 * str_split() breaks a configuration list ("a, b  c") into words: the
 * separators are the bytes of seps, or white space and commas when seps
 * is NULL; empty words are dropped.  The
 * result is a NULL-terminated array of xstrdup'ed words, freed by
 * str_list_free(); the count is stored through count when non-NULL.
 * The other helpers are byte-exact and locale-independent.
 */
#ifndef PANACEA_STRUTIL_H
#define PANACEA_STRUTIL_H

#include <stddef.h>

char **str_split(const char *s, const char *seps, int *count);
void str_list_free(char **list);
/* Strips leading and trailing white space in place; returns s. */
char *str_trim(char *s);
/* ASCII-only case-insensitive compare (locale-independent). */
int str_casecmp(const char *a, const char *b);
int str_ncasecmp(const char *a, const char *b, size_t n);
void str_lower(char *s);
/* 1 when s starts with prefix. */
int str_has_prefix(const char *s, const char *prefix);
/* 1 when name is in the comma/space separated list (case-insensitive). */
int str_list_match(const char *list, const char *name);
/* The value of one hexadecimal digit (either case), or -1 for any other
 * character (negative ones included). */
int str_hexval(int c);

#endif
