/*
 * smtp_dane - the DANE decision table; see smtp_dane.h.
 */
#include "smtp_dane.h"
#include "tls.h"

int
smtp_dane_wants_tlsa(const struct smtp_dane_facts *f)
{
	/* RFC 7672 2.2.2: TLSA records of a host whose name or addresses
	 * an attacker could have chosen would prove nothing. */
	return f->mode != SMTP_DANE_OFF && f->mx_secure && f->addr_secure;
}

static enum smtp_dane_action
fallback(const struct smtp_dane_facts *f, enum smtp_dane_action dane,
	 const char *text, const char **why)
{
	if (why != NULL)
		*why = text;
	return f->mode == SMTP_DANE_ONLY ? SMTP_DANE_DEFER : dane;
}

enum smtp_dane_action
smtp_dane_decide(const struct smtp_dane_facts *f, const char **why)
{
	if (why != NULL)
		*why = "";
	if (f->mode == SMTP_DANE_OFF)
		return SMTP_DANE_MAY;
	if (!f->mx_secure)
		return fallback(f, SMTP_DANE_MAY,
				"MX records not DNSSEC-validated", why);
	if (!f->addr_secure)
		return fallback(f, SMTP_DANE_MAY,
				"address records not DNSSEC-validated", why);
	if (f->tlsa_status == DNS_TEMPFAIL || f->tlsa_status < 0) {
		if (why != NULL)
			*why = "TLSA lookup error";
		return SMTP_DANE_DEFER;
	}
	if (f->tlsa_status != DNS_OK || f->tlsa_records == 0)
		return fallback(f, SMTP_DANE_MAY, "no TLSA records", why);
	if (!f->tlsa_secure)
		return fallback(f, SMTP_DANE_MAY,
				"TLSA records not DNSSEC-validated", why);
	if (f->tlsa_usable == 0)
		return fallback(f, SMTP_DANE_ENCRYPT, "no usable TLSA records",
				why);
	return SMTP_DANE_VERIFY;
}

size_t
smtp_dane_usable(const struct dns_tlsa_result *res)
{
	size_t i, n = 0;

	for (i = 0; i < res->count; i++)
		if (tls_tlsa_usable(res->rr[i].usage, res->rr[i].selector,
				    res->rr[i].mtype))
			n++;
	return n;
}
