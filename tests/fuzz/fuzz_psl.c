/*
 * fuzz_psl - libFuzzer target for the Public Suffix List reader and the
 * organisational domain lookup (lib/mail/psl.c).
 *
 * The input is read as a list, and each of its lines is also looked up,
 * in that list and in a fixed one with wildcards and exceptions.  The
 * organisational domain must be a suffix of the name (ending at a label
 * boundary) no longer than the name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "psl.h"

static void
check(const struct psl *p, const char *name)
{
	char out[PSL_NAME_MAX + 1];
	size_t n = strlen(name), o;

	if (psl_org_domain(p, name, out, sizeof(out)) < 0)
		return;
	o = strlen(out);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (o == 0 || o > n || strncasecmp(name + n - o, out, o) != 0 ||
	    (o < n && name[n - o - 1] != '.'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char fixed[] =
	    "com\nuk\nco.uk\n*.ck\n!www.ck\n*.kawasaki.jp\n!city.kawasaki.jp\n";
	struct psl *p = psl_parse((const char *)data, len);
	struct psl *f = psl_parse(fixed, sizeof(fixed) - 1);
	char name[PSL_NAME_MAX + 8];
	size_t s = 0;

	while (s < len) {
		const uint8_t *nl = memchr(data + s, '\n', len - s);
		size_t e = nl ? (size_t)(nl - data) : len, n = e - s;

		if (n < sizeof(name) && memchr(data + s, '\0', n) == NULL) {
			memcpy(name, data + s, n);
			name[n] = '\0';
			check(p, name);
			check(f, name);
		}
		s = e + 1;
	}
	psl_free(p);
	psl_free(f);
	return 0;
}
