/*
 * spf_dns - SPF's reading of DNS replies, and its lookups through
 * lib/mail/dns; see spf_dns.h.
 *
 * SPF asks for names that are not host names (macros put local parts,
 * addresses and anything a sender wrote into them), so the owners of a
 * reply are compared as wire names, not as validated text as
 * dns_parse.c does.  The records that come back are still checked:
 * TXT strings are bounded by their own lengths, addresses by their size,
 * and MX or PTR targets must be printable names of at most 253 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "spf_dns.h"

#define SPF_CNAME_MAX 8

/* The wire name of text (no final dot), or NULL. */
static ldns_rdf *
wire_name(const char *text)
{
	char abs[SPF_DOMAIN_MAX + 2];
	size_t len = strlen(text);

	if (len == 0 || len > SPF_DOMAIN_MAX)
		return NULL;
	memcpy(abs, text, len);
	abs[len] = '.';
	abs[len + 1] = '\0';
	return ldns_dname_new_frm_str(abs);
}

/* The text of a wire name for SPF: printable ASCII labels (a dot or a
 * space inside a label would change the name's meaning as text), lower
 * case, no final dot, "" for the root; 0, or -1. */
static int
name_text(const ldns_rdf *rdf, char *out, size_t outlen)
{
	const uint8_t *d;
	size_t size, pos = 0, n = 0, len, i;

	if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
		return -1;
	d = ldns_rdf_data(rdf);
	size = ldns_rdf_size(rdf);
	for (;;) {
		if (pos >= size)
			return -1;
		if ((len = d[pos++]) == 0)
			break;
		if (len > size - pos || n + len + 2 > outlen)
			return -1;
		if (n > 0)
			out[n++] = '.';
		for (i = 0; i < len; i++) {
			int c = d[pos + i];

			if (c <= 0x20 || c >= 0x7f || c == '.')
				return -1;
			out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		pos += len;
	}
	out[n] = '\0';
	return 0;
}

static void
add_record(const ldns_rr *rr, int type, struct spf_answer *out)
{
	char name[SPF_DOMAIN_MAX + 2];
	const ldns_rdf *rdf;
	struct buf txt = BUF_INIT;
	size_t j, n;

	switch (type) {
	case SPF_T_A:
	case SPF_T_AAAA:
		rdf = ldns_rr_rdf(rr, 0);
		n = type == SPF_T_A ? 4 : 16;
		if (ldns_rr_rd_count(rr) == 1 && ldns_rdf_size(rdf) == n)
			spf_answer_add(out, ldns_rdf_data(rdf), n);
		else
			out->total++;
		break;
	case SPF_T_MX:
	case SPF_T_PTR:
		rdf = ldns_rr_rdf(rr, type == SPF_T_MX ? 1 : 0);
		if (ldns_rr_rd_count(rr) == (type == SPF_T_MX ? 2u : 1u) &&
		    name_text(rdf, name, sizeof(name)) == 0)
			spf_answer_add(out, name, strlen(name));
		else
			out->total++;
		break;
	case SPF_T_TXT:
		for (j = 0; j < ldns_rr_rd_count(rr); j++) {
			const uint8_t *d;

			rdf = ldns_rr_rdf(rr, j);
			d = ldns_rdf_data(rdf);
			n = ldns_rdf_size(rdf);
			if (n == 0 || (size_t)d[0] + 1 > n)
				continue;
			buf_append(&txt, d + 1, d[0]);
		}
		spf_answer_add(out, txt.data ? txt.data : "", txt.len);
		buf_free(&txt);
		break;
	}
}

int
spf_dns_extract(const ldns_pkt *reply, const char *qname, int type,
		struct spf_answer *out, char *canon, size_t canonlen,
		int *cname)
{
	const ldns_rr_list *answer = ldns_pkt_answer(reply);
	ldns_rdf *cur = wire_name(qname), *next;
	size_t i, hops;
	int status;

	spf_answer_reset(out);
	*cname = 0;
	if (cur == NULL)
		return SPF_DNS_NXDOMAIN;
	/* Follows the CNAMEs the reply holds for the name. */
	for (hops = 0; hops < SPF_CNAME_MAX; hops++) {
		next = NULL;
		for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(answer, i);

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) ==
				LDNS_RDF_TYPE_DNAME &&
			    ldns_dname_compare(ldns_rr_owner(rr), cur) == 0) {
				next = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
				break;
			}
		}
		if (next == NULL)
			break;
		ldns_rdf_deep_free(cur);
		cur = next;
		*cname = 1;
	}
	for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);

		if ((int)ldns_rr_get_type(rr) == type &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_dname_compare(ldns_rr_owner(rr), cur) == 0)
			add_record(rr, type, out);
	}
	if (out->total > 0) {
		status = SPF_DNS_FOUND;
		*cname = 0;
	} else if (ldns_pkt_get_rcode(reply) == LDNS_RCODE_NXDOMAIN) {
		status = SPF_DNS_NXDOMAIN;
		*cname = 0;
	} else {
		status = SPF_DNS_NODATA;
	}
	if (*cname) {
		char *text = ldns_rdf2str(cur);
		size_t len = text ? strlen(text) : 0;

		if (len > 0 && text[len - 1] == '.')
			len--;
		if (text == NULL || len == 0 || len >= canonlen)
			*cname = 0;
		else {
			memcpy(canon, text, len);
			canon[len] = '\0';
		}
		free(text);
	}
	ldns_rdf_deep_free(cur);
	return status;
}

int
spf_dns_lookup(void *ctx, const char *name, int type, struct spf_answer *out)
{
	char cur[SPF_DOMAIN_MAX + 2], canon[SPF_DOMAIN_MAX + 2];
	ldns_pkt *reply;
	int status, cname, hops;

	(void)ctx;
	if (strlen(name) > SPF_DOMAIN_MAX)
		return SPF_DNS_NXDOMAIN;
	strcpy(cur, name);
	for (hops = 0; hops <= SPF_CNAME_MAX; hops++) {
		status = dns_query(cur, type, &reply, NULL);
		if (status == DNS_TEMPFAIL)
			return SPF_DNS_ERROR;
		if (status != DNS_OK)
			return SPF_DNS_NXDOMAIN;
		status = spf_dns_extract(reply, cur, type, out, canon,
					 sizeof(canon), &cname);
		ldns_pkt_free(reply);
		if (!cname)
			return status;
		strcpy(cur, canon);
	}
	return SPF_DNS_ERROR;
}
