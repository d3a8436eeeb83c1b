/*
 * fuzz_postscreen - postscreen's parsers of outside text: the DNSBL site
 * list (panacea.conf), a lookup child's result line, a cache entry (a
 * file mail_owner can write), and the log text of a client's pregreet
 * and MAIL/RCPT address.  The first byte picks the parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "postscreen.h"
#include "xalloc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_dnsbl_sites sites;
	struct buf b = BUF_INIT;
	char zone[300];
	long long g, d;
	int score;
	char *text, *p;

	if (size < 1)
		return 0;
	text = xstrndup((const char *)data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		if (ps_dnsbl_sites_parse(text, &sites, &b) == 0)
			ps_dnsbl_sites_free(&sites);
		break;
	case 1:
		(void)ps_dnsbl_result_parse(text, &score, zone, sizeof(zone));
		break;
	case 2:
		(void)ps_cache_value_parse((const char *)data + 1, size - 1, &g,
					   &d);
		break;
	default:
		ps_escape(&b, (const char *)data + 1, size - 1, 100);
		p = ps_path_arg(text);
		xfree(p);
		break;
	}
	buf_free(&b);
	xfree(text);
	return 0;
}
