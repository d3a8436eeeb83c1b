/*
 * fuzz_dkim - libFuzzer target for the DKIM parsers and
 * canonicalisation (lib/mail/dkim_parse.c, dkim_canon.c) and the
 * verifier that runs them (dkim.c).
 *
 * The input is read three ways: as a tag list, a DKIM-Signature value
 * and a key record (what a signer or a domain's owner writes); as a
 * whole message, split, canonicalised and verified, where every key
 * lookup answers with the input itself, so that a signature's fields
 * and a key record meet in one input.  Outputs must stay within their
 * bounds and every verdict must be one of the seven results.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "dkim_canon.h"
#include "dkim_parse.h"

struct world {
	const uint8_t *data;
	size_t size;
};

static int
lookup(void *ctx, const char *name, struct buf *txt)
{
	struct world *w = ctx;

	if (strlen(name) > DKIM_DOMAIN_MAX)
		abort();
	if (w->size > 0 && w->data[0] == 'T')
		return DKIM_DNS_ERROR;
	buf_append(txt, w->data, w->size);
	return DKIM_DNS_FOUND;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dkim_sig sig;
	static struct dkim_key key;
	struct dkim_tag tags[DKIM_TAGS_MAX];
	struct dkim_verdict v[4];
	struct world w = {data, size};
	struct dkim_msg m;
	struct buf out = BUF_INIT;
	const char *s = (const char *)data, *why;
	size_t n, off, len, i;

	if (size > 65536)
		return 0;
	if (dkim_tags_parse(s, size, tags, DKIM_TAGS_MAX, &n) == 0) {
		if (n > DKIM_TAGS_MAX)
			abort();
		for (i = 0; i < n; i++)
			if (tags[i].val_off + tags[i].val_len > size)
				abort();
	}
	if (dkim_sig_parse(s, size, &sig, &why) == DKIM_PARSE_OK &&
	    (sig.nh == 0 || sig.nh > DKIM_H_MAX || sig.blen > DKIM_B_MAX ||
	     strlen(sig.d) > DKIM_DOMAIN_MAX))
		abort();
	if (dkim_key_parse(s, size, &key, &why) == DKIM_PARSE_OK &&
	    (key.plen == 0 || key.plen > DKIM_P_MAX))
		abort();
	if (dkim_sig_b_span(s, size, &off, &len) == 0 && off + len > size)
		abort();
	if (dkim_msg_split(s, size, &m) == 0) {
		if ((size_t)(m.body - s) + m.body_len != size)
			abort();
		for (i = 0; i < m.nfields; i++)
			dkim_canon_header((int)(i & 1), m.f[i].p, m.f[i].len, 1,
					  &out);
		dkim_canon_body(0, m.body, m.body_len, &out);
		dkim_canon_body(1, m.body, m.body_len, &out);
		dkim_msg_free(&m);
	}
	n = dkim_verify(s, size, lookup, &w, 1, 4, v, 4, NULL);
	for (i = 0; i < n; i++)
		if (v[i].result < DKIM_PASS || v[i].result > DKIM_PERMERROR ||
		    v[i].reason == NULL)
			abort();
	buf_free(&out);
	return 0;
}
