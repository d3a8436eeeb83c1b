/*
 * tls - TLS for streams (OpenSSL 3): STARTTLS and implicit TLS, server and
 * client side.
 *
 * A struct tls_ctx holds what outlives a connection: the certificate and
 * key of a server, or the trust anchors of a client.  Daemons make it
 * before they chroot (the files are read at once and never again).
 * tls_server_start() / tls_client_start() run the handshake on a
 * connected stream and, on success, switch the stream to TLS with
 * stream_set_io(s, &tls_stream_io, session): from then on the protocol
 * code reads and writes the stream exactly as before.
 *
 * Use (server, STARTTLS):
 *	stream_puts(s, "220 2.0.0 Ready to start TLS\r\n");
 *	stream_flush(s);
 *	stream_discard_input(s);	// CVE-2011-0411: see below
 *	if (tls_server_start(ctx, s, &info, &err) < 0)
 *		... log err, close the connection (the stream is unusable)
 * Implicit TLS (SMTPS 465, POP3S 995) is the same call right after
 * accept().
 *
 * Contract:
 *  - the caller MUST discard buffered plaintext (stream_discard_input())
 *    before the handshake: bytes a client pipelined after STARTTLS were
 *    sent in clear and must never be read as if they came over TLS
 *    (CVE-2011-0411).  tls_*_start() refuse to start (return -1) when the
 *    stream still holds unread input;
 *  - the handshake as a whole is bounded by the stream's timeout, and every
 *    later read or write by the timeout the stream passes; the descriptor
 *    (a socket) is used with MSG_DONTWAIT and poll(2), its flags are never
 *    changed, and a write to a closed peer gives EPIPE, never SIGPIPE;
 *  - protocol TLS 1.2 or later, no compression, no renegotiation, the
 *    server's cipher preference, no session cache and no session tickets
 *    unless tls_server_ctx_tickets() turns them on;
 *  - client side: TLS_LEVEL_MAY and TLS_LEVEL_ENCRYPT do not authenticate
 *    the server (the result is still reported in tls_info.verified);
 *    TLS_LEVEL_VERIFY and TLS_LEVEL_SECURE fail the handshake unless the
 *    chain leads to a trusted CA and the certificate matches peername
 *    (SSL_set1_host).  peername, when it is a DNS name, is also sent as
 *    SNI;
 *  - end of file from the peer, with or without close_notify, reads as
 *    end of file (0): SMTP and POP3 detect truncation themselves;
 *  - errors are reported as one line in err (OpenSSL's error queue drained
 *    and joined), naming the file for certificate and key problems; the
 *    error queue is left empty;
 *  - tls_stop() flushes the stream, sends close_notify when asked,
 *    restores plain descriptor I/O and frees the session; it must be
 *    called (or the stream freed after it) before stream_free() of a TLS
 *    stream, or the session leaks.
 */
#ifndef PANACEA_TLS_H
#define PANACEA_TLS_H

#include <stdint.h>

#include "buf.h"
#include "stream.h"

enum tls_level {
	TLS_LEVEL_NONE = 0, /* no TLS */
	TLS_LEVEL_MAY,	    /* opportunistic, unauthenticated */
	TLS_LEVEL_ENCRYPT,  /* mandatory, unauthenticated */
	TLS_LEVEL_VERIFY,   /* mandatory, chain + host name verified */
	TLS_LEVEL_SECURE,   /* the same here; kept for Postfix habits */
};

#define TLS_NAME_MAX 256 /* bound of names kept in struct tls_info */
#define TLS_FPT_MAX 192	 /* "AB:" per byte of a digest up to 64 bytes */

/* What a finished handshake agreed; all strings are printable ASCII
 * (other bytes of certificate names become '?'), possibly truncated. */
struct tls_info {
	char protocol[16];	      /* "TLSv1.3" */
	char cipher[64];	      /* "TLS_AES_256_GCM_SHA384" */
	int cipher_bits;	      /* secret bits used */
	int alg_bits;		      /* bits of the algorithm */
	int peer_cert;		      /* the peer presented a certificate */
	int verified;		      /* chain trusted (server: of the client's
				       * certificate) and name matched (client) */
	char peer_cn[TLS_NAME_MAX];   /* subject CN of the peer, or "" */
	char issuer_cn[TLS_NAME_MAX]; /* issuer CN of the peer, or "" */
	char verify_error[128];	      /* why not verified, or "" */
	/* Server with tls_server_ctx_ask_ccert(): the client certificate's
	 * fingerprint and its public key's, "AB:CD:..." (Postfix's form),
	 * or "" */
	char cert_fpt[TLS_FPT_MAX];
	char pkey_fpt[TLS_FPT_MAX];
	/* Postfix's key exchange words, "key-exchange X25519
	 * server-signature RSA-PSS (2048 bits) server-digest SHA256" (the
	 * parts OpenSSL knows; server side), or "" */
	char kex[160];
	/* Server: the SNI name that chose the certificate, or "". */
	char sni[TLS_NAME_MAX];
	/* Client: the chain leads to a trust anchor although the name did
	 * not match (Postfix's "Trusted"); with verified, the anchor was a
	 * TLSA record or a tafile= certificate (tls_client_start_dane). */
	int trusted;
	int dane;
};

struct tls_ctx;

extern const struct stream_io tls_stream_io;

/* NULL with err set when a file cannot be read, the key does not match
 * the certificate, or OpenSSL fails.  tls_server_ctx_new() is
 * tls_server_ctx_empty() and one tls_ctx_add_cert(). */
struct tls_ctx *tls_server_ctx_new(const char *cert_file, const char *key_file,
				   struct buf *err);
/* A server context without a certificate yet: the caller adds at least
 * one with tls_ctx_add_cert() or tls_ctx_add_chain_files(). */
struct tls_ctx *tls_server_ctx_empty(struct buf *err);
/*
 * Certificates, server or client side (a client presents its own when a
 * server asks).  OpenSSL keeps one certificate per key type, so an RSA
 * and an ECDSA certificate can be added side by side; the handshake picks
 * the one the peer can verify.  0, or -1 with err set.
 *
 * tls_ctx_add_cert(): a PEM certificate chain (the certificate first,
 * then its issuers) and its key (key_file NULL or "": in cert_file).
 * tls_ctx_add_chain_files(): Postfix's *_tls_chain_files, a blank or
 * comma separated list of PEM files read as if concatenated: key1,
 * cert1, issuers of cert1, key2, cert2, ... with at most one key per
 * type.
 */
int tls_ctx_add_cert(struct tls_ctx *ctx, const char *cert_file,
		     const char *key_file, struct buf *err);
int tls_ctx_add_chain_files(struct tls_ctx *ctx, const char *files,
			    struct buf *err);
/* Trust anchors: the certificates of a PEM CA file and of every file in a
 * CA directory (either may be NULL or ""; hash links are not needed, the
 * directory is read now, not at verification time).  0, or -1 with err
 * set (an unreadable file, a directory without any certificate). */
int tls_ctx_load_ca(struct tls_ctx *ctx, const char *ca_file,
		    const char *ca_path, struct buf *err);
/* The system's trust store (OpenSSL's default CA file, or its default
 * CA directory when there is no such file; SSL_CERT_FILE and
 * SSL_CERT_DIR override them), read now so that it works in a jail.  0,
 * or -1 with err set when neither holds a certificate. */
int tls_ctx_load_system_ca(struct tls_ctx *ctx, struct buf *err);
/* Server: the DH parameters of a PEM file for the DHE suites, instead of
 * OpenSSL's choice by the certificate's strength.  1 when used; 0 when
 * they have fewer than min_bits (nothing changes; *bits says how many, the
 * caller warns); -1 with err set. */
int tls_server_ctx_dh_file(struct tls_ctx *ctx, const char *path, int min_bits,
			   int *bits, struct buf *err);
/*
 * Server: session tickets (TLS 1.2 RFC 5077 and TLS 1.3) valid for
 * lifetime seconds, encrypted with cipher (Postfix's
 * tls_session_ticket_cipher: CBC, 128-bit blocks, 128 to 256-bit keys)
 * under keys derived from secret (at most 64 bytes) and the time, so that
 * every process holding the same secret accepts the others' tickets
 * (tls_ticket.c).  0, or -1 with err set.
 */
int tls_server_ctx_tickets(struct tls_ctx *ctx, const unsigned char *secret,
			   size_t len, const char *cipher, long lifetime,
			   struct buf *err);
/*
 * Server: certificates by the name a client sends (SNI, Postfix's
 * tls_server_sni_maps).  At each handshake with a server name, fn(name,
 * arg) returns the context whose certificates to use (one made with
 * tls_server_ctx_empty() and tls_ctx_add_chain_files(), before the jail),
 * or NULL for ctx's own; tls_info.sni then holds the name.  Protocols,
 * ciphers, client certificate requests and tickets stay ctx's.
 */
typedef struct tls_ctx *(*tls_sni_fn)(const char *name, void *arg);
void tls_server_ctx_sni(struct tls_ctx *ctx, tls_sni_fn fn, void *arg);
/* The secret of tls_server_ctx_tickets(): len bytes (at most 64) of the
 * file path, which is made with fresh random bytes (mode 0600) when it
 * does not exist yet.  0, or -1 with err set. */
int tls_ticket_secret(const char *path, unsigned char *out, size_t len,
		      struct buf *err);
/* Postfix's tls_ssl_options: OpenSSL option names without SSL_OP_
 * (ENABLE_MIDDLEBOX_COMPAT, LEGACY_SERVER_CONNECT, NO_TICKET,
 * NO_COMPRESSION, NO_RENEGOTIATION,
 * NO_SESSION_RESUMPTION_ON_RENEGOTIATION, PRIORITIZE_CHACHA; any case)
 * or hexadecimal masks "0x...", blank or comma separated.  Mask bits that
 * other parameters own (protocol versions, server cipher order) go to
 * dropped, not to out.  0, or -1 with err set (an unknown name). */
int tls_ssl_options_parse(const char *spec, uint64_t *out, uint64_t *dropped,
			  struct buf *err);
/* Adds options to a context (never clears Panacea's own). */
void tls_ctx_set_options(struct tls_ctx *ctx, uint64_t options);
/* The key exchange groups, most preferred first (Postfix's
 * tls_eecdh_auto_curves; blank, comma or colon separated): names OpenSSL
 * cannot use are left out and listed in skipped.  0, or -1 with err set
 * when none is left. */
int tls_ctx_set_groups(struct tls_ctx *ctx, const char *list,
		       struct buf *skipped, struct buf *err);
/*
 * A server asks each client for a certificate (Postfix's
 * smtpd_tls_ask_ccert): any certificate, or none, is accepted by the
 * handshake; struct tls_info then says whether one came, whether its
 * chain leads to a CA of ca_file or ca_path (tls_ctx_load_ca()), and
 * its fingerprints by digest ("sha256", "sha1", "md5", ...).  0, or -1
 * with err set (an unknown digest, an unreadable CA file).
 */
int tls_server_ctx_ask_ccert(struct tls_ctx *ctx, const char *ca_file,
			     const char *ca_path, const char *digest,
			     struct buf *err);
/* Trust anchors as tls_ctx_load_ca(); both NULL or "": the system's
 * trust store. */
struct tls_ctx *tls_client_ctx_new(const char *ca_file, const char *ca_path,
				   struct buf *err);
void tls_ctx_free(struct tls_ctx *ctx);

/* 0 with the stream switched to TLS and info filled (info may be NULL);
 * -1 with err set (the connection must then be closed). */
int tls_server_start(struct tls_ctx *ctx, struct stream *s,
		     struct tls_info *info, struct buf *err);
int tls_client_start(struct tls_ctx *ctx, struct stream *s,
		     const char *peername, enum tls_level level,
		     struct tls_info *info, struct buf *err);
/*
 * Client: TLS authenticated by DANE (RFC 7672) or by the trust anchors of
 * a destination (Postfix's tafile=, which is the same machinery: each
 * anchor is a DANE-TA(2) record holding the whole certificate).  The
 * caller passes usable records only (usage 2 or 3, selector 0 or 1,
 * matching type 0, 1 or 2; tls_tlsa_usable()); the handshake fails
 * unless the server's chain matches one of them.  DANE-EE(3) matches
 * skip the name check (RFC 7672 3.1.1); DANE-TA(2) matches need the
 * certificate to carry base or one of names (RFC 7672 3.2.2).  base is
 * also sent as SNI unless sni is set.  The protocol range
 * and ciphers are the mandatory ones.  Returns as tls_client_start(); on
 * success info->verified and info->dane are set.
 */
struct tls_tlsa {
	uint8_t usage, selector, mtype;
	const unsigned char *data;
	size_t len;
};
struct tls_dane {
	const char *base;	  /* TLSA base domain: first reference name */
	const char *const *names; /* more names, NULL-terminated, or NULL */
	const char *sni;	  /* SNI; NULL or "": base */
	const struct tls_tlsa *rr;
	size_t count;
};
int tls_client_start_dane(struct tls_ctx *ctx, struct stream *s,
			  const struct tls_dane *dane, struct tls_info *info,
			  struct buf *err);
/*
 * Client: what one destination changes for its sessions (Postfix's
 * smtp_tls_policy_maps attributes).  Every field is optional (NULL or
 * 0: the context's and the level's).
 */
struct tls_client_opts {
	const char *const *names;     /* more names the certificate may carry
				       * (match=), NULL-terminated */
	const char *sni;	      /* SNI instead of the peer name */
	int min_version, max_version; /* protocols=, tls_protocols_parse() */
	const char *ciphers;	      /* OpenSSL list (ciphers=, exclude=) */
	const struct tls_dane *dane;  /* DANE or tafile= authentication */
};
/* tls_client_start() and tls_client_start_dane() with opts (may be
 * NULL); with opts->dane the level is ignored (authentication by the
 * records, mandatory settings). */
int tls_client_start_opts(struct tls_ctx *ctx, struct stream *s,
			  const char *peername, enum tls_level level,
			  const struct tls_client_opts *opts,
			  struct tls_info *info, struct buf *err);
/* The certificates of a PEM file as DANE-TA(2) full-certificate records
 * (selector 0, matching type 0): Postfix's tafile=.  *rr (data
 * allocated) and *count, freed with tls_tafile_free(); 0, or -1 with err
 * set (unreadable, or no certificate). */
int tls_tafile_load(const char *path, struct tls_tlsa **rr, size_t *count,
		    struct buf *err);
void tls_tafile_free(struct tls_tlsa *rr, size_t count);
/* 1 when OpenSSL can use a record of these fields as RFC 7672 allows
 * (DANE-TA and DANE-EE; the PKIX usages 0 and 1 are not for SMTP). */
int tls_tlsa_usable(unsigned usage, unsigned selector, unsigned mtype);

/*
 * Protocols and ciphers (Postfix's *_tls_protocols and *_tls_ciphers).
 * Panacea never goes below TLS 1.2: tls_protocols_parse() drops older
 * versions a value allows and says so in below_floor (the caller warns),
 * and fails when nothing at or above TLS 1.2 is left.
 */
struct tls_protocols {
	int min, max;	 /* OpenSSL versions; max 0: no upper bound */
	int below_floor; /* the value allowed versions below TLS 1.2 */
};
/* Both syntaxes: "!SSLv2, !SSLv3" (and plain names to include) and
 * ">=TLSv1.2, <=TLSv1.3" (names or hexadecimal numbers such as 0303),
 * separated by blanks, commas or colons; empty allows every version.
 * 0, or -1 with err set. */
int tls_protocols_parse(const char *spec, struct tls_protocols *out,
			struct buf *err);
/* Panacea's defaults of tls_high_cipherlist and tls_medium_cipherlist:
 * AEAD suites only (no CBC; DESIGN.md, TLS), forward-secret ones in the
 * high grade. */
#define TLS_HIGH_CIPHERLIST                                                    \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL"
#define TLS_MEDIUM_CIPHERLIST                                                  \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:kRSA+AESGCM:"     \
	"!aNULL"
/* Appends the OpenSSL cipher list of a grade ("high", "medium", "null":
 * the list given for it) minus each cipher or type named in exclude and
 * extra_exclude (blank, comma or colon separated; either may be NULL).
 * 0, or -1 with err set for another grade. */
int tls_cipherlist_make(const char *grade, const char *high, const char *medium,
			const char *null, const char *exclude,
			const char *extra_exclude, struct buf *out,
			struct buf *err);
/* Protocol range and cipher list (TLS 1.2 and older; TLS 1.3 suites stay
 * OpenSSL's) of a context: mandatory 0 for every session of a server and
 * the opportunistic ones of a client, 1 for a client's sessions at
 * TLS_LEVEL_ENCRYPT and above.  0, or -1 with err set (a list that
 * selects no cipher). */
int tls_ctx_set_policy(struct tls_ctx *ctx, int mandatory,
		       const struct tls_protocols *protocols,
		       const char *ciphers, struct buf *err);
/* Server: choose by the server's cipher order (on by default). */
void tls_ctx_server_preference(struct tls_ctx *ctx, int on);

/* 1 when the stream talks TLS. */
int tls_active(const struct stream *s);
/* 1 when the TLS layer holds received bytes that a read would return
 * without waiting for the descriptor (poll(2) cannot see them: a relay
 * must read them first); 0 on a plain stream. */
int tls_pending(const struct stream *s);
/* The last TLS error of a stream's reads or writes, or "" (for logs). */
const char *tls_stream_error(const struct stream *s);
/* See the contract; 0, or -1 when flushing or close_notify failed (the
 * session is freed and plain I/O restored either way).  No-op on a plain
 * stream. */
int tls_stop(struct stream *s, int close_notify);

/* Pure helpers. */
/* "none", "may", "encrypt", "verify", "secure" (case-insensitive);
 * -1 for anything else. */
int tls_level_parse(const char *name);
const char *tls_level_name(enum tls_level level);
/* Appends "TLSv1.3 with cipher NAME (256/256 bits)" (Postfix's shape for
 * logs and the Received: comment). */
void tls_info_format(const struct tls_info *info, struct buf *out);
/* Copies src to dst (size > 0), replacing bytes outside printable ASCII
 * by '?' and truncating to size - 1. */
void tls_copy_printable(char *dst, size_t size, const char *src);
/* Appends OpenSSL's queued errors to out, "; "-separated, and empties the
 * queue; appends fallback when the queue was empty. */
void tls_drain_errors(struct buf *out, const char *fallback);

#endif
