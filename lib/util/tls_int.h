/*
 * tls_int - what lib/util/tls*.c share and nobody else sees: the
 * context's fields and two helpers.
 */
#ifndef PANACEA_TLS_INT_H
#define PANACEA_TLS_INT_H

#include <openssl/ssl.h>

#include "buf.h"
#include "tls.h"

struct tls_ctx {
	SSL_CTX *ssl_ctx;
	const EVP_MD *fpt_digest; /* client certificate fingerprints, or NULL */
	/* Client: the protocol range and cipher list of mandatory TLS
	 * (TLS_LEVEL_ENCRYPT and up), set on each such session; 0/NULL:
	 * the context's own (opportunistic) settings. */
	int mand_min, mand_max;
	char *mand_ciphers;
	/* Server session tickets (tls_ticket.c): the shared secret, the
	 * ticket cipher and lifetime in seconds; lifetime 0: none. */
	unsigned char ticket_secret[64];
	size_t ticket_secret_len;
	const EVP_CIPHER *ticket_cipher;
	long ticket_lifetime;
	/* Server SNI (tls_server_ctx_sni()): the chooser and its argument. */
	tls_sni_fn sni_fn;
	void *sni_arg;
};

/* 0 when path can be opened for reading; else err says why. */
int tls_check_readable(const char *what, const char *path, struct buf *err);
/* OpenSSL's passphrase callback that never prompts on a terminal: an
 * encrypted key fails at once. */
int tls_no_passphrase(char *buf, int size, int rwflag, void *userdata);

#endif
