/*
 * tls_params - see tls_params.h.
 */
#include "buf.h"
#include "conf.h"
#include "msg.h"
#include "tls_params.h"

/* One set: the protocol and cipher parameters named by prefix and
 * infix ("" or "mandatory_"). */
static void
apply_set(struct tls_ctx *ctx, const struct tls_params *p, int mandatory,
	  int as_mandatory)
{
	struct buf name = BUF_INIT, list = BUF_INIT, err = BUF_INIT;
	const char *infix = mandatory ? "mandatory_" : "";
	struct tls_protocols prot;

	buf_printf(&name, "%s_tls_%sprotocols", p->prefix, infix);
	if (tls_protocols_parse(mandatory ? p->mandatory_protocols
					  : p->protocols,
				&prot, &err) < 0)
		msg_fatal("%s: %s", buf_cstr(&name), buf_cstr(&err));
	/* Only a value the administrator wrote is worth a warning. */
	if (prot.below_floor && conf_is_set(buf_cstr(&name)))
		msg_warn("%s allows protocols below TLSv1.2; Panacea uses "
			 "TLSv1.2 and later only",
			 buf_cstr(&name));
	buf_reset(&name);
	buf_printf(&name, "%s_tls_%sciphers", p->prefix, infix);
	/* Postfix: the mandatory exclusions add to the general ones. */
	if (tls_cipherlist_make(mandatory ? p->mandatory_ciphers : p->ciphers,
				p->high, p->medium, p->null, p->exclude_ciphers,
				mandatory ? p->mandatory_exclude_ciphers : NULL,
				&list, &err) < 0)
		msg_fatal("%s: %s", buf_cstr(&name), buf_cstr(&err));
	if (tls_ctx_set_policy(ctx, as_mandatory, &prot, buf_cstr(&list),
			       &err) < 0)
		msg_fatal("%s: %s", buf_cstr(&name), buf_cstr(&err));
	if (msg_verbose)
		msg_info("%s: protocols 0x%x..0x%x, ciphers %s",
			 buf_cstr(&name), prot.min, prot.max, buf_cstr(&list));
	buf_free(&name);
	buf_free(&list);
	buf_free(&err);
}

void
tls_params_apply(struct tls_ctx *ctx, const struct tls_params *p, int client,
		 int mandatory)
{
	if (!client) {
		apply_set(ctx, p, mandatory, 0);
		return;
	}
	apply_set(ctx, p, 0, 0);
	apply_set(ctx, p, 1, 1);
}
