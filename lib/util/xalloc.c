/*
 * xalloc - checked memory allocation; see xalloc.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xalloc.h"

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		msg_fatal("out of memory allocating %zu bytes", size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		msg_fatal("xcalloc: size overflow (%zu * %zu)", nmemb, size);
	p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		msg_fatal("out of memory allocating %zu * %zu bytes", nmemb,
			  size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		msg_fatal("out of memory reallocating %zu bytes", size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		msg_fatal("xreallocarray: size overflow (%zu * %zu)", nmemb,
			  size);
	return xrealloc(ptr, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t len)
{
	const char *end = memchr(s, '\0', len);

	return xmemdup(s, end ? (size_t)(end - s) : len);
}

void *
xmemdup(const void *p, size_t len)
{
	char *copy;

	if (len == SIZE_MAX)
		msg_fatal("xmemdup: size overflow");
	copy = xmalloc(len + 1);
	if (len)
		memcpy(copy, p, len);
	copy[len] = '\0';
	return copy;
}

void
xfree(void *ptr)
{
	free(ptr);
}
