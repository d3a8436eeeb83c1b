/*
 * fuzz_milter_proto - libFuzzer target for what a mail filter sends
 * (lib/mail/milter_proto.h): the input is a stream of length-prefixed
 * packets, framed and decoded as lib/mail/milter.c does, and each
 * accepted header edit applied to a small message (milter_apply).  Every
 * string of an accepted reply ends within its packet; a reply code is
 * 4XX or 5XX; the edited message still ends its header section.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "milter.h"
#include "milter_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
within(const unsigned char *pkt, size_t len, const char *s)
{
	if (s == NULL)
		return;
	if ((const unsigned char *)s < pkt ||
	    (const unsigned char *)s + strlen(s) >= pkt + len + 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size >= 4) {
		long n = milter_frame_len(data, 4096);
		struct milter_reply r;
		const char *why;
		unsigned char *pkt;

		if (n < 0 || (size_t)n > size - 4)
			break;
		/* A copy with a NUL past its end, as milter.c reads it. */
		pkt = malloc((size_t)n + 1);
		memcpy(pkt, data + 4, (size_t)n);
		pkt[n] = 0;
		if (milter_parse(pkt, (size_t)n, &r, &why) == 0) {
			within(pkt, (size_t)n, r.text);
			within(pkt, (size_t)n, r.name);
			within(pkt, (size_t)n, r.value);
			for (int i = 0; i < MILTER_M_MAX; i++)
				within(pkt, (size_t)n, r.macros[i]);
			if (r.cmd == MILTER_R_REPLYCODE && r.text[0] != '4' &&
			    r.text[0] != '5')
				abort();
			if (r.cmd == MILTER_R_ADDHEADER ||
			    r.cmd == MILTER_R_CHGHEADER ||
			    r.cmd == MILTER_R_INSHEADER ||
			    r.cmd == MILTER_R_REPLBODY) {
				struct buf c = BUF_INIT, nb = BUF_INIT;
				buf_puts(&c, "A: 1\r\nB: 2\r\n\r\nbody\r\n");
				buf_append(&nb, r.data, r.len);
				milter_apply(
				    &c, &r, r.cmd == MILTER_R_REPLBODY ? 0 : 1,
				    r.cmd == MILTER_R_REPLBODY ? &nb : NULL, 0);
				if (strstr(buf_cstr(&c), "\r\n\r\n") == NULL &&
				    strncmp(buf_cstr(&c), "\r\n", 2) != 0)
					abort();
				buf_free(&c);
				buf_free(&nb);
			}
		}
		free(pkt);
		data += 4 + n;
		size -= 4 + (size_t)n;
	}
	return 0;
}
