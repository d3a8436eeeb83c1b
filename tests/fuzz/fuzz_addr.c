/*
 * fuzz_addr - libFuzzer target for lib/addr.
 *
 * The first input byte selects the parse flags, the rest is the path.
 * Beyond "no crash", it checks the contract: bounded fields, no control
 * or (without SMTPUTF8) 8-bit octets in a result, and that the canonical
 * form parses again to the same address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static void
check_text(const char *s, unsigned flags)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 32 || *p == 127)
			abort();
		if (*p >= 0x80 && !(flags & ADDR_F_UTF8))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr a, b;
	char path[sizeof(a.addr) + 2];
	unsigned flags;
	size_t n;

	if (size < 1)
		return 0;
	flags = data[0] & 0x0f;
	if (addr_parse((const char *)data + 1, size - 1, flags, &a) != ADDR_OK)
		return 0;
	if (strlen(a.local_unquoted) > ADDR_LOCAL_MAX ||
	    strlen(a.domain) > ADDR_DOMAIN_MAX)
		abort();
	check_text(a.addr, flags);
	check_text(a.local_unquoted, flags);
	if (a.flags & ADDR_NULL) {
		if (a.addr[0] || a.local[0] || a.domain[0])
			abort();
		return 0;
	}
	if (!addr_is_plain(&a) != !!(a.flags & ADDR_ROUTING))
		abort();
	/* Re-quoting may lengthen the local part past what parses again. */
	n = strlen(a.addr);
	if (strlen(a.local) > ADDR_LOCAL_MAX || n + 2 > ADDR_PATH_MAX)
		return 0;
	path[0] = '<';
	memcpy(path + 1, a.addr, n);
	path[n + 1] = '>';
	if (addr_parse(path, n + 2, flags & ~ADDR_F_NO_BRACKETS, &b) != 0)
		abort();
	if (strcmp(a.addr, b.addr) != 0 ||
	    strcmp(a.local_unquoted, b.local_unquoted) != 0 ||
	    strcmp(a.domain, b.domain) != 0 ||
	    (a.flags & ADDR_ROUTING) != (b.flags & ADDR_ROUTING) ||
	    (a.flags & ADDR_POSTMASTER) != (b.flags & ADDR_POSTMASTER))
		abort();
	return 0;
}
