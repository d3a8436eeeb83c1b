/*
 * smtp_dane - what DANE (RFC 7672) makes of one MX host: the decision
 * table (pure, unit-tested) and the TLSA lookup that feeds it.
 *
 * At level dane or dane-only, for each server the facts are: were the MX
 * records (for a "[host]" next hop: by definition, as Postfix says) and
 * the host's address records DNSSEC-validated, and what did the TLSA
 * lookup at _PORT._tcp.HOST say.  RFC 7672 2.2 and postconf(5):
 *
 *   MX or addresses not validated    dane: may        dane-only: defer
 *   TLSA lookup failed (SERVFAIL...) defer (both: an attacker can make
 *                                    a lookup fail, RFC 7672 2.2)
 *   no TLSA records (or insecure)    dane: may        dane-only: defer
 *   TLSA records, none usable        dane: encrypt    dane-only: defer
 *   usable TLSA records              verify by the records (both)
 *
 * "Usable" is tls_tlsa_usable(): DANE-TA(2) or DANE-EE(3), selector 0
 * or 1, matching type 0, 1 or 2; PKIX-TA(0) and PKIX-EE(1) are not for
 * SMTP (RFC 7672 3.1.3) and count as unusable.
 */
#ifndef PANACEA_SMTP_DANE_H
#define PANACEA_SMTP_DANE_H

#include <stddef.h>

#include "buf.h"
#include "dns.h"

enum smtp_dane_mode {
	SMTP_DANE_OFF = 0,
	SMTP_DANE_ON,	/* dane */
	SMTP_DANE_ONLY, /* dane-only */
};

enum smtp_dane_action {
	SMTP_DANE_MAY,	   /* opportunistic TLS */
	SMTP_DANE_ENCRYPT, /* TLS required, not authenticated */
	SMTP_DANE_VERIFY,  /* TLS authenticated by the TLSA records */
	SMTP_DANE_DEFER,   /* do not use this server now */
};

struct smtp_dane_facts {
	enum smtp_dane_mode mode;
	int mx_secure, addr_secure;
	int tlsa_status; /* enum dns_status; -1: not looked up */
	int tlsa_secure;
	size_t tlsa_records; /* published records, malformed ones too */
	size_t tlsa_usable;
};

/* 1 when the TLSA records are worth asking for. */
int smtp_dane_wants_tlsa(const struct smtp_dane_facts *f);
/* The table above; *why (may be NULL) gets a static text for the log
 * or the deferral. */
enum smtp_dane_action smtp_dane_decide(const struct smtp_dane_facts *f,
				       const char **why);
/* Records of res that are usable. */
size_t smtp_dane_usable(const struct dns_tlsa_result *res);

#endif
