/*
 * tls_ticket - server session tickets (RFC 5077, TLS 1.3 tickets) whose
 * keys every process derives from one shared secret; see tls.h.
 *
 * Postfix shares ticket keys through its tlsmgr service.  Panacea needs
 * no service for it: time is cut into periods of the ticket lifetime,
 * and the keys of a period are HMAC-SHA256(secret, label, period), so
 * every smtpd process that read the same secret before its jail makes
 * the same keys at the same time, with no message between them.  A
 * ticket made in one period is still accepted in the next (and then
 * renewed), so none is refused before its lifetime is over; OpenSSL's
 * session timeout, set to the lifetime, refuses the older ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "tls_int.h"

#define NAME_LEN 16 /* the key name OpenSSL puts in each ticket */
#define MAC_KEY_LEN 32

/* The keys of one period. */
struct period_keys {
	unsigned char name[NAME_LEN];
	unsigned char mac[MAC_KEY_LEN];
	unsigned char cipher[EVP_MAX_KEY_LENGTH];
};

/* HMAC-SHA256(secret, "panacea ticket " label period) into out. */
static void
derive_one(const struct tls_ctx *ctx, const char *label, uint64_t period,
	   unsigned char *out, size_t len)
{
	unsigned char msg[64], md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	size_t n = 0, i;

	n = (size_t)snprintf((char *)msg, sizeof(msg), "panacea ticket %s ",
			     label);
	for (i = 0; i < 8; i++)
		msg[n++] = (unsigned char)(period >> (56 - 8 * i));
	HMAC(EVP_sha256(), ctx->ticket_secret, (int)ctx->ticket_secret_len, msg,
	     n, md, &md_len);
	memcpy(out, md, len < md_len ? len : md_len);
	OPENSSL_cleanse(md, sizeof(md));
}

static void
derive(const struct tls_ctx *ctx, uint64_t period, struct period_keys *k)
{
	derive_one(ctx, "name", period, k->name, sizeof(k->name));
	derive_one(ctx, "mac", period, k->mac, sizeof(k->mac));
	derive_one(ctx, "cipher", period, k->cipher,
		   (size_t)EVP_CIPHER_get_key_length(ctx->ticket_cipher));
}

static int
set_mac(EVP_MAC_CTX *hctx, unsigned char *key)
{
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key,
						      MAC_KEY_LEN);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

/* OpenSSL's ticket key callback: 1 use (or accept), 2 accept and renew,
 * 0 not ours (a full handshake follows), -1 error. */
static int
ticket_cb(SSL *ssl, unsigned char key_name[NAME_LEN], unsigned char *iv,
	  EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	/* The session's context, not SSL_get_SSL_CTX(): SNI may have
	 * switched that to one that only holds certificates. */
	const struct tls_ctx *ctx = SSL_get_app_data(ssl);
	uint64_t now = (uint64_t)time(NULL) / (uint64_t)ctx->ticket_lifetime;
	struct period_keys k;
	int i, rc = 0;

	if (enc) {
		derive(ctx, now, &k);
		memcpy(key_name, k.name, NAME_LEN);
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(
				       ctx->ticket_cipher)) != 1 ||
		    EVP_EncryptInit_ex(cctx, ctx->ticket_cipher, NULL, k.cipher,
				       iv) != 1 ||
		    !set_mac(hctx, k.mac))
			rc = -1;
		else
			rc = 1;
		OPENSSL_cleanse(&k, sizeof(k));
		return rc;
	}
	for (i = 0; i < 2 && rc == 0; i++) {
		derive(ctx, now - (uint64_t)i, &k);
		if (memcmp(key_name, k.name, NAME_LEN) != 0)
			continue;
		if (EVP_DecryptInit_ex(cctx, ctx->ticket_cipher, NULL, k.cipher,
				       iv) != 1 ||
		    !set_mac(hctx, k.mac))
			rc = -1;
		else
			rc = i == 0 ? 1 : 2;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

int
tls_server_ctx_tickets(struct tls_ctx *ctx, const unsigned char *secret,
		       size_t len, const char *cipher, long lifetime,
		       struct buf *err)
{
	SSL_CTX *c = ctx->ssl_ctx;
	const EVP_CIPHER *ci = EVP_get_cipherbyname(cipher);

	/* Postfix's rule: a CBC cipher of 128-bit blocks, 128 to 256-bit
	 * keys (the ticket format has room for nothing else). */
	if (ci == NULL || EVP_CIPHER_get_mode(ci) != EVP_CIPH_CBC_MODE ||
	    EVP_CIPHER_get_block_size(ci) != 16 ||
	    EVP_CIPHER_get_key_length(ci) < 16 ||
	    EVP_CIPHER_get_key_length(ci) > 32) {
		buf_printf(err,
			   "\"%s\" is not a CBC cipher with 128-bit blocks "
			   "and a 128 to 256-bit key",
			   cipher);
		ERR_clear_error();
		return -1;
	}
	if (len == 0 || len > sizeof(ctx->ticket_secret) || lifetime <= 0) {
		buf_puts(err, "bad ticket secret or lifetime");
		return -1;
	}
	memcpy(ctx->ticket_secret, secret, len);
	ctx->ticket_secret_len = len;
	ctx->ticket_cipher = ci;
	ctx->ticket_lifetime = lifetime;
	SSL_CTX_set_timeout(c, lifetime);
	SSL_CTX_set_num_tickets(c, 1);
	SSL_CTX_clear_options(c, SSL_OP_NO_TICKET);
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(c, ticket_cb) != 1) {
		buf_puts(err, "cannot set the ticket key callback: ");
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	return 0;
}

/* Reads exactly len bytes of path; 0, or -1 with errno set. */
static int
read_secret(const char *path, unsigned char *out, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, out, len);
	close(fd);
	if (n != (ssize_t)len) {
		errno = n < 0 ? errno : EINVAL;
		return -1;
	}
	return 0;
}

int
tls_ticket_secret(const char *path, unsigned char *out, size_t len,
		  struct buf *err)
{
	struct buf tmp = BUF_INIT;
	unsigned char fresh[64];
	int fd, rc = -1;

	if (len > sizeof(fresh))
		len = sizeof(fresh);
	if (read_secret(path, out, len) == 0)
		return 0;
	if (errno != ENOENT) {
		buf_printf(err, "cannot read %s: %s", path,
			   errno == EINVAL ? "too short" : strerror(errno));
		return -1;
	}
	/* Made under another name and linked into place, so that processes
	 * starting together all end up with the one that won. */
	buf_printf(&tmp, "%s.%ld", path, (long)getpid());
	if (RAND_bytes(fresh, (int)len) != 1) {
		buf_puts(err, "cannot make a ticket secret: ");
		tls_drain_errors(err, "no randomness");
		goto out;
	}
	if ((fd = open(buf_cstr(&tmp),
		       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0600)) < 0) {
		buf_printf(err, "cannot create %s: %s", buf_cstr(&tmp),
			   strerror(errno));
		goto out;
	}
	if (write(fd, fresh, len) != (ssize_t)len || fsync(fd) != 0) {
		buf_printf(err, "cannot write %s: %s", buf_cstr(&tmp),
			   strerror(errno));
		close(fd);
		unlink(buf_cstr(&tmp));
		goto out;
	}
	close(fd);
	if (link(buf_cstr(&tmp), path) != 0 && errno != EEXIST) {
		buf_printf(err, "cannot create %s: %s", path, strerror(errno));
		unlink(buf_cstr(&tmp));
		goto out;
	}
	unlink(buf_cstr(&tmp));
	if (read_secret(path, out, len) != 0) {
		buf_printf(err, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(fresh, sizeof(fresh));
	buf_free(&tmp);
	return rc;
}
