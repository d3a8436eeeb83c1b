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

int
receive_override_parse(const char *value, unsigned *flags, struct buf *err)
{
	static const struct {
		const char *word;
		unsigned flag;
	} words[] = {
	    {"no_unknown_recipient_checks",
	     RECEIVE_NO_UNKNOWN_RECIPIENT_CHECKS},
	    {"no_header_body_checks", RECEIVE_NO_HEADER_BODY_CHECKS},
	    {"no_address_mappings", RECEIVE_NO_ADDRESS_MAPPINGS},
	    {"no_milters", RECEIVE_NO_MILTERS},
	};
	const char *p = value;
	size_t n, i;

	*flags = 0;
	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			return 0;
		n = strcspn(p, " \t,");
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].word) == n &&
			    strncmp(p, words[i].word, n) == 0)
				break;
		if (i == sizeof(words) / sizeof(words[0])) {
			buf_set(err, "");
			buf_printf(err, "unknown option \"%.*s\"",
				   (int)(n > 64 ? 64 : n), p);
			return -1;
		}
		*flags |= words[i].flag;
		p += n;
	}
}
