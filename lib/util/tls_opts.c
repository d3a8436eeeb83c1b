/*
 * tls_opts - OpenSSL options by Postfix's names (tls_ssl_options) and the
 * key exchange groups (tls_eecdh_auto_curves); see tls.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "tls_int.h"

/* The names postconf(5) lists, without SSL_OP_. */
static const struct {
	const char *name;
	uint64_t bits;
} ssl_option_names[] = {
    {"ENABLE_MIDDLEBOX_COMPAT", SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
    {"LEGACY_SERVER_CONNECT", SSL_OP_LEGACY_SERVER_CONNECT},
    {"NO_TICKET", SSL_OP_NO_TICKET},
    {"NO_COMPRESSION", SSL_OP_NO_COMPRESSION},
    {"NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION},
    {"NO_SESSION_RESUMPTION_ON_RENEGOTIATION",
     SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION},
    {"PRIORITIZE_CHACHA", SSL_OP_PRIORITIZE_CHACHA},
};

int
tls_ssl_options_parse(const char *spec, uint64_t *out, uint64_t *dropped,
		      struct buf *err)
{
	/* Bits other parameters own: the protocol range and the server's
	 * cipher order (tls_preempt_cipherlist). */
	const uint64_t owned =
	    SSL_OP_NO_SSL_MASK | SSL_OP_CIPHER_SERVER_PREFERENCE;
	const char *p = spec;
	char word[64], *end;
	size_t n, i;
	uint64_t v;

	*out = *dropped = 0;
	while (*p != '\0') {
		p += strspn(p, " \t\r\n,");
		if ((n = strcspn(p, " \t\r\n,")) == 0)
			break;
		if (n >= sizeof(word)) {
			buf_printf(err, "unknown TLS option \"%.20s...\"", p);
			return -1;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (strncasecmp(word, "0x", 2) == 0) {
			v = strtoull(word + 2, &end, 16);
			if (word[2] == '\0' || *end != '\0') {
				buf_printf(err, "bad TLS option mask \"%s\"",
					   word);
				return -1;
			}
			*dropped |= v & owned;
			*out |= v & ~owned;
			continue;
		}
		for (i = 0;
		     i < sizeof(ssl_option_names) / sizeof(ssl_option_names[0]);
		     i++)
			if (strcasecmp(word, ssl_option_names[i].name) == 0)
				break;
		if (i ==
		    sizeof(ssl_option_names) / sizeof(ssl_option_names[0])) {
			buf_printf(err, "unknown TLS option \"%s\"", word);
			return -1;
		}
		*out |= ssl_option_names[i].bits;
	}
	return 0;
}

void
tls_ctx_set_options(struct tls_ctx *ctx, uint64_t options)
{
	SSL_CTX_set_options(ctx->ssl_ctx, options);
}

int
tls_ctx_set_groups(struct tls_ctx *ctx, const char *list, struct buf *skipped,
		   struct buf *err)
{
	struct buf usable = BUF_INIT;
	const char *p = list;
	char word[64];
	size_t n;
	int rc = 0;

	/* Postfix: names OpenSSL does not know or cannot use are passed
	 * over, so a list can name curves ahead of the library. */
	while (*p != '\0') {
		p += strspn(p, " \t\r\n,:");
		if ((n = strcspn(p, " \t\r\n,:")) == 0)
			break;
		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		p += n;
		ERR_clear_error();
		if (n < sizeof(word) &&
		    SSL_CTX_set1_groups_list(ctx->ssl_ctx, word) == 1) {
			buf_printf(&usable, "%s%s", usable.len ? ":" : "",
				   word);
		} else {
			buf_printf(skipped, "%s%.*s", skipped->len ? " " : "",
				   (int)n, p - n);
		}
	}
	ERR_clear_error();
	if (usable.len == 0) {
		buf_printf(err, "no curve of \"%s\" is known to OpenSSL", list);
		rc = -1;
	} else if (SSL_CTX_set1_groups_list(ctx->ssl_ctx, buf_cstr(&usable)) !=
		   1) {
		buf_printf(err,
			   "cannot use the curves %s: ", buf_cstr(&usable));
		tls_drain_errors(err, "unknown error");
		rc = -1;
	}
	buf_free(&usable);
	return rc;
}
