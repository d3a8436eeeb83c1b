/*
 * strutil - small string helpers shared by parsers; see strutil.h.
 *
 * Everything here is byte-exact and independent of the locale: the
 * character classes are spelled out instead of using <ctype.h>, whose
 * answers depend on setlocale() and are undefined for negative chars.
 */
#include <string.h>

#include "strutil.h"
#include "xalloc.h"

#define STR_DEFAULT_SEPS " \t\r\n,"

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

char **
str_split(const char *s, const char *seps, int *count)
{
	char **list = NULL;
	size_t n = 0;
	size_t len;

	if (seps == NULL)
		seps = STR_DEFAULT_SEPS;
	list = xreallocarray(NULL, 1, sizeof(*list));
	for (;;) {
		s += strspn(s, seps);
		if (*s == '\0')
			break;
		len = strcspn(s, seps);
		list = xreallocarray(list, n + 2, sizeof(*list));
		list[n++] = xstrndup(s, len);
		s += len;
	}
	list[n] = NULL;
	if (count != NULL)
		*count = (int)n;
	return list;
}

void
str_list_free(char **list)
{
	char **p;

	if (list == NULL)
		return;
	for (p = list; *p != NULL; p++)
		xfree(*p);
	xfree(list);
}

char *
str_trim(char *s)
{
	size_t start = 0;
	size_t end = strlen(s);

	while (start < end && is_space((unsigned char)s[start]))
		start++;
	while (end > start && is_space((unsigned char)s[end - 1]))
		end--;
	memmove(s, s + start, end - start);
	s[end - start] = '\0';
	return s;
}

int
str_casecmp(const char *a, const char *b)
{
	return str_ncasecmp(a, b, (size_t)-1);
}

int
str_ncasecmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;
	int d;

	for (; n > 0; n--, p++, q++) {
		d = lower(*p) - lower(*q);
		if (d != 0 || *p == '\0')
			return d;
	}
	return 0;
}

void
str_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)lower((unsigned char)*s);
}

int
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
str_list_match(const char *list, const char *name)
{
	size_t len;
	size_t name_len = strlen(name);

	for (;;) {
		list += strspn(list, STR_DEFAULT_SEPS);
		if (*list == '\0')
			return 0;
		len = strcspn(list, STR_DEFAULT_SEPS);
		if (len == name_len && str_ncasecmp(list, name, len) == 0)
			return 1;
		list += len;
	}
}

int
str_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
