/*
 * dkim_dns - DKIM key records through lib/mail/dns; see dkim_dns.h.
 */
#include "dkim.h"
#include "dkim_dns.h"
#include "spf.h"
#include "spf_dns.h"

int
dkim_dns_lookup(void *ctx, const char *name, struct buf *txt)
{
	struct dkim_tag tags[DKIM_TAGS_MAX];
	struct spf_answer a;
	size_t i, n;
	int status, rc;

	(void)ctx;
	spf_answer_init(&a);
	status = spf_dns_lookup(NULL, name, SPF_T_TXT, &a);
	if (status == SPF_DNS_ERROR)
		rc = DKIM_DNS_ERROR;
	else if (status != SPF_DNS_FOUND || a.count == 0)
		rc = DKIM_DNS_NOTFOUND;
	else {
		for (i = 0; i < a.count; i++)
			if (dkim_tags_parse(a.rr[i].data ? a.rr[i].data : "",
					    a.rr[i].len, tags, DKIM_TAGS_MAX,
					    &n) == 0)
				break;
		if (i == a.count)
			i = 0; /* none parses: the first one's error */
		buf_append(txt, a.rr[i].data ? a.rr[i].data : "", a.rr[i].len);
		rc = DKIM_DNS_FOUND;
	}
	spf_answer_free(&a);
	return rc;
}
