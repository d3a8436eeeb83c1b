/*
 * panacea spf check DOMAIN IP [SENDER [HELO]] - the SPF (RFC 7208)
 * verdict smtpd would reach for mail from IP whose sender is in DOMAIN,
 * with smtpd's evaluator and the DNS servers of dns_nameservers, for an
 * administrator who publishes or debugs a record.
 *
 * Prints the domain's SPF record(s), then "result: R", the matching
 * mechanism, the explanation of a fail and the reason.  SENDER defaults
 * to postmaster@DOMAIN, HELO to DOMAIN.  Exit status: 0 pass, 1 any
 * other result, 75 (EX_TEMPFAIL) temperror, 64 (EX_USAGE) bad
 * arguments.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"
#include "panacea.h"
#include "spf.h"
#include "spf_dns.h"

int
panacea_spf(int argc, char **argv)
{
	struct spf_query q;
	struct spf_outcome o;
	struct spf_answer txt;
	struct buf err = BUF_INIT, sender = BUF_INIT;
	size_t i;
	int r;

	if (argc < 3 || argc > 5 || strcmp(argv[0], "check") != 0)
		return EX_USAGE;
	memset(&q, 0, sizeof(q));
	if (spf_ip_parse(argv[2], &q.ip) < 0) {
		fprintf(stderr, "panacea: fatal: not an IP address: %s\n",
			argv[2]);
		return EX_USAGE;
	}
	if (dns_init(conf_str("dns_nameservers"), &err) < 0) {
		fprintf(stderr, "panacea: fatal: DNS resolver: %s\n",
			buf_cstr(&err));
		buf_free(&err);
		return EX_TEMPFAIL;
	}
	if (argc > 3)
		buf_puts(&sender, argv[3]);
	else
		buf_printf(&sender, "postmaster@%s", argv[1]);
	q.lookup = spf_dns_lookup;
	q.helo = argc > 4 ? argv[4] : argv[1];
	q.rcpt_domain = conf_str("myhostname");
	spf_answer_init(&txt);
	if (spf_dns_lookup(NULL, argv[1], SPF_T_TXT, &txt) == SPF_DNS_FOUND)
		for (i = 0; i < txt.count; i++)
			if (spf_record_is_spf(txt.rr[i].data, txt.rr[i].len))
				printf("record: %s\n", buf_cstr(&txt.rr[i]));
	spf_answer_free(&txt);
	spf_outcome_init(&o);
	r = spf_check_host(&q, argv[1], buf_cstr(&sender), &o);
	printf("result: %s\n", spf_result_name(r));
	if (o.mechanism[0])
		printf("mechanism: %s\n", o.mechanism);
	if (o.exp.len)
		printf("explanation: %s\n", buf_cstr(&o.exp));
	printf("reason: %s\n", buf_cstr(&o.reason));
	spf_outcome_free(&o);
	buf_free(&sender);
	buf_free(&err);
	dns_end();
	return r == SPF_PASS ? 0 : r == SPF_TEMPERROR ? EX_TEMPFAIL : 1;
}
