/*
 * content_filter - the content filter route's syntax; see
 * content_filter.h.
 */
#include <string.h>

#include "content_filter.h"

int
content_filter_valid(const char *spec)
{
	const char *colon = strchr(spec, ':');
	size_t tlen, i;

	if (colon == NULL || colon == spec || *spec == '.')
		return 0;
	tlen = (size_t)(colon - spec);
	if (tlen > CONTENT_FILTER_TRANSPORT_MAX)
		return 0;
	for (i = 0; i < tlen; i++) {
		char c = spec[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	if (strlen(colon + 1) > CONTENT_FILTER_DEST_MAX)
		return 0;
	for (const char *p = colon + 1; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}
