/*
 * ldns_known_bugs - inputs the fuzz targets that parse DNS messages with
 * ldns_wire2pkt() leave out, because of a bug in ldns itself, not in
 * Panacea: a message whose records include more than one TSIG record
 * leaks every TSIG record but the last (ldns_pkt_set_tsig() overwrites
 * without freeing; NLnetLabs/ldns issue 317, open, in Debian 12's
 * 1.8.3 too).  Left in, LeakSanitizer stops every long run on it and
 * nothing after it is explored.  Panacea never asks for TSIG and reads
 * replies from its recursive resolver, which does not pass TSIG records
 * on; a daemon that met one anyway would lose a few dozen bytes a reply
 * until it exits after max_use.
 *
 * ldns_known_leak() walks the message as far as it is well formed
 * (bounded by size) and says 1 when it holds two TSIG records or more.
 */
#ifndef PANACEA_FUZZ_LDNS_KNOWN_BUGS_H
#define PANACEA_FUZZ_LDNS_KNOWN_BUGS_H

#include <stddef.h>
#include <stdint.h>

/* The offset after the name at off, or 0 when it runs past size. */
static inline size_t
ldns_known_skip_name(const uint8_t *p, size_t size, size_t off)
{
	while (off < size) {
		uint8_t len = p[off];

		if (len == 0)
			return off + 1;
		if ((len & 0xc0) == 0xc0)
			return off + 2 <= size ? off + 2 : 0;
		off += 1 + (size_t)len;
	}
	return 0;
}

static inline int
ldns_known_leak(const uint8_t *p, size_t size)
{
	size_t off = 12, i, n, qd;
	int tsig = 0;

	if (size < 12)
		return 0;
	qd = (size_t)p[4] << 8 | p[5];
	n = ((size_t)p[6] << 8 | p[7]) + ((size_t)p[8] << 8 | p[9]) +
	    ((size_t)p[10] << 8 | p[11]);
	for (i = 0; i < qd; i++)
		if ((off = ldns_known_skip_name(p, size, off)) == 0 ||
		    (off += 4) > size)
			return 0;
	for (i = 0; i < n; i++) {
		if ((off = ldns_known_skip_name(p, size, off)) == 0 ||
		    off + 10 > size)
			return 0;
		if (((unsigned)p[off] << 8 | p[off + 1]) == 250 && ++tsig > 1)
			return 1;
		off += 10 + ((size_t)p[off + 8] << 8 | p[off + 9]);
	}
	return 0;
}

#endif
