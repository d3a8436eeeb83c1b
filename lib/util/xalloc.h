/*
 * xalloc - checked memory allocation.
 *
 * Every allocation in Panacea goes through these wrappers.  They never
 * return NULL: running out of memory, or a size computation that would
 * overflow size_t, is fatal (msg_fatal), because a mail daemon that cannot
 * allocate cannot make progress safely and master will restart it.
 *
 * xfree(NULL) is a no-op, as free(NULL) is.
 */
#ifndef PANACEA_XALLOC_H
#define PANACEA_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* realloc of nmemb * size bytes, fatal when the product overflows. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Copies at most len bytes of s and always NUL-terminates. */
char *xstrndup(const char *s, size_t len);
/* Copies len bytes of p and appends a NUL byte (for text views). */
void *xmemdup(const void *p, size_t len);
void xfree(void *ptr);

#endif
