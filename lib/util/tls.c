/*
 * tls - TLS for streams (OpenSSL 3); see tls.h.
 *
 * The SSL object talks to the socket through a small BIO of our own that
 * uses recv/send with MSG_DONTWAIT and MSG_NOSIGNAL: every SSL call is
 * therefore non-blocking whatever the descriptor's flags, a peer that went
 * away gives EPIPE rather than SIGPIPE, and the waiting is done here with
 * poll(2) against one deadline per operation (iostuff.h), so a peer that
 * trickles bytes cannot stretch a handshake or a read past its timeout.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "iostuff.h"
#include "tls.h"
#include "tls_int.h"
#include "xalloc.h"

/* TLS 1.2 suites of a server nobody configured (pop3d): AEAD only, as
 * tls_medium_cipherlist's default; TLS 1.3 suites are OpenSSL's. */
#define TLS_SERVER_CIPHERS TLS_MEDIUM_CIPHERLIST

#define TLS_MAX_ERRORS 8 /* errors kept from one drain of the queue */

/* State of our socket BIO. */
struct sock_bio {
	int fd;
	int eof;	/* recv returned 0 */
	int last_errno; /* errno of the last failed recv/send */
};

struct tls_session {
	SSL *ssl;
	struct sock_bio sb;
	int fatal;	  /* SSL_shutdown must not be called any more */
	struct buf error; /* last error, for tls_stream_error() */
};

/* What the wait after an unfinished SSL call decided. */
enum step { STEP_RETRY, STEP_EOF, STEP_FAIL };

/* --- pure helpers ------------------------------------------------------ */

static const char *const level_names[] = {"none", "may", "encrypt", "verify",
					  "secure"};

int
tls_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
tls_level_name(enum tls_level level)
{
	if ((int)level < 0 ||
	    (size_t)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

void
tls_info_format(const struct tls_info *info, struct buf *out)
{
	buf_printf(out, "%s with cipher %s (%d/%d bits)", info->protocol,
		   info->cipher, info->cipher_bits, info->alg_bits);
}

void
tls_copy_printable(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

void
tls_drain_errors(struct buf *out, const char *fallback)
{
	const char *data, *reason, *lib;
	unsigned long e;
	char tmp[256];
	int flags, n = 0;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (n++ >= TLS_MAX_ERRORS)
			continue; /* keep draining, stop reporting */
		if (n > 1)
			buf_puts(out, "; ");
		reason = ERR_reason_error_string(e);
		lib = ERR_lib_error_string(e);
		if (reason == NULL) {
			ERR_error_string_n(e, tmp, sizeof(tmp));
			buf_puts(out, tmp);
		} else if (lib != NULL) {
			buf_printf(out, "%s: %s", lib, reason);
		} else {
			buf_puts(out, reason);
		}
		if (data != NULL && (flags & ERR_TXT_STRING) && *data != '\0')
			buf_printf(out, " (%.200s)", data);
	}
	if (n == 0 && fallback != NULL)
		buf_puts(out, fallback);
}

/* --- protocols and ciphers (Postfix's syntax) ------------------------- */

static const struct {
	const char *name;
	int version;
} protocol_names[] = {
    {"SSLv2", 0x0200},		 {"SSLv3", SSL3_VERSION},
    {"TLSv1", TLS1_VERSION},	 {"TLSv1.1", TLS1_1_VERSION},
    {"TLSv1.2", TLS1_2_VERSION}, {"TLSv1.3", TLS1_3_VERSION},
};
#define N_PROTOCOLS (sizeof(protocol_names) / sizeof(protocol_names[0]))

/* A protocol name, or (bounds only) a hexadecimal number such as 0303,
 * 0x0303 or 303; -1 when it is neither. */
static int
protocol_version(const char *word, int hex_ok)
{
	size_t i;
	char *end;
	long v;

	for (i = 0; i < N_PROTOCOLS; i++)
		if (strcasecmp(word, protocol_names[i].name) == 0)
			return protocol_names[i].version;
	if (!hex_ok || *word == '\0')
		return -1;
	v = strtol(word, &end, 16);
	if (*end != '\0' || v < 0x0200 || v > 0xffff)
		return -1;
	return (int)v;
}

int
tls_protocols_parse(const char *spec, struct tls_protocols *out,
		    struct buf *err)
{
	int lo = 0, hi = INT_MAX, include = 0, exclude = 0, any_include = 0;
	int allowed = 0, below = 0, v;
	char word[64];
	size_t i, n;
	const char *p = spec;

	memset(out, 0, sizeof(*out));
	while (*p != '\0') {
		p += strspn(p, " \t\r\n,:");
		if ((n = strcspn(p, " \t\r\n,:")) == 0)
			break;
		if (n >= sizeof(word)) {
			buf_printf(err, "protocol name too long: \"%.20s...\"",
				   p);
			return -1;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (strncmp(word, ">=", 2) == 0 ||
		    strncmp(word, "<=", 2) == 0) {
			if ((v = protocol_version(word + 2, 1)) < 0)
				goto bad;
			if (word[0] == '>')
				lo = v > lo ? v : lo;
			else
				hi = v < hi ? v : hi;
			continue;
		}
		if ((v = protocol_version(word + (word[0] == '!'), 0)) < 0)
			goto bad;
		for (i = 0; i < N_PROTOCOLS; i++)
			if (protocol_names[i].version == v)
				break;
		if (word[0] == '!') {
			exclude |= 1 << i;
		} else {
			include |= 1 << i;
			any_include = 1;
		}
	}
	for (i = 0; i < N_PROTOCOLS; i++) {
		v = protocol_names[i].version;
		if (v < lo || v > hi || (exclude & (1 << i)) ||
		    (any_include && !(include & (1 << i))))
			continue;
		if (v < TLS1_2_VERSION) {
			below = 1; /* Panacea's floor: never below TLS 1.2 */
			continue;
		}
		allowed |= 1 << i;
		if (out->min == 0)
			out->min = v;
		out->max = v;
	}
	/* An upper bound beyond what Panacea names stays open-ended, as
	 * "all versions OpenSSL knows" does. */
	if (hi == INT_MAX && !any_include &&
	    !(exclude & (1 << (N_PROTOCOLS - 1))))
		out->max = 0;
	else if (hi != INT_MAX && hi > TLS1_3_VERSION &&
		 out->max == TLS1_3_VERSION)
		out->max = hi;
	out->below_floor = below;
	if (allowed == 0) {
		buf_printf(err,
			   "\"%s\" leaves no protocol version at or above "
			   "TLSv1.2 (Panacea's floor)",
			   spec);
		return -1;
	}
	return 0;
bad:
	buf_printf(err, "unknown TLS protocol \"%s\" in \"%s\"", word, spec);
	return -1;
}

int
tls_cipherlist_make(const char *grade, const char *high, const char *medium,
		    const char *null, const char *exclude,
		    const char *extra_exclude, struct buf *out, struct buf *err)
{
	const char *ex[2] = {exclude, extra_exclude}, *p;
	size_t n;
	int i;

	if (strcasecmp(grade, "high") == 0)
		buf_puts(out, high);
	else if (strcasecmp(grade, "medium") == 0)
		buf_puts(out, medium);
	else if (strcasecmp(grade, "null") == 0)
		buf_puts(out, null);
	else {
		buf_printf(err,
			   "unknown or unsupported cipher grade \"%s\" (use "
			   "high, medium or null; export and low are refused)",
			   grade);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		for (p = ex[i]; p != NULL && *p != '\0'; p += n) {
			p += strspn(p, " \t\r\n,:");
			if ((n = strcspn(p, " \t\r\n,:")) > 0)
				buf_printf(out, ":!%.*s", (int)n, p);
		}
	}
	return 0;
}

/* 1 when list leaves at least one TLS 1.2 cipher; err says why not. */
static int
set_list(SSL_CTX *c, const char *list, struct buf *err)
{
	ERR_clear_error();
	if (SSL_CTX_set_cipher_list(c, list) == 1)
		return 1;
	buf_printf(err, "cipher list \"%s\" selects no cipher: ", list);
	tls_drain_errors(err, "unknown error");
	return 0;
}

int
tls_ctx_set_policy(struct tls_ctx *ctx, int mandatory,
		   const struct tls_protocols *protocols, const char *ciphers,
		   struct buf *err)
{
	SSL_CTX *c = ctx->ssl_ctx;
	SSL *probe;
	int ok;

	if (!mandatory) {
		if (!set_list(c, ciphers, err))
			return -1;
		if (!SSL_CTX_set_min_proto_version(c, protocols->min) ||
		    !SSL_CTX_set_max_proto_version(c, protocols->max)) {
			buf_puts(err, "cannot set the TLS protocol range: ");
			tls_drain_errors(err, "unknown error");
			return -1;
		}
		return 0;
	}
	/* Checked now on a probe session, so that a bad list stops the
	 * daemon at start rather than failing each delivery. */
	ERR_clear_error();
	if ((probe = SSL_new(c)) == NULL) {
		buf_puts(err, "cannot create TLS session: ");
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	ok = SSL_set_cipher_list(probe, ciphers) == 1;
	SSL_free(probe);
	if (!ok) {
		buf_printf(err,
			   "cipher list \"%s\" selects no cipher: ", ciphers);
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	ctx->mand_min = protocols->min;
	ctx->mand_max = protocols->max;
	xfree(ctx->mand_ciphers);
	ctx->mand_ciphers = xstrdup(ciphers);
	return 0;
}

void
tls_ctx_server_preference(struct tls_ctx *ctx, int on)
{
	if (on)
		SSL_CTX_set_options(ctx->ssl_ctx,
				    SSL_OP_CIPHER_SERVER_PREFERENCE);
	else
		SSL_CTX_clear_options(ctx->ssl_ctx,
				      SSL_OP_CIPHER_SERVER_PREFERENCE);
}

/* --- socket BIO -------------------------------------------------------- */

static int
sock_bio_read(BIO *b, char *data, int len)
{
	struct sock_bio *sb = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = recv(sb->fd, data, (size_t)len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		sb->eof = 1;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_read(b);
		else
			sb->last_errno = errno;
		return -1;
	}
	return (int)n;
}

static int
sock_bio_write(BIO *b, const char *data, int len)
{
	struct sock_bio *sb = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = send(sb->fd, data, (size_t)len,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_write(b);
		else
			sb->last_errno = errno;
		return -1;
	}
	return (int)n;
}

static long
sock_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct sock_bio *sb = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* nothing is buffered here */
	case BIO_CTRL_EOF:
		return sb != NULL && sb->eof;
	default:
		return 0;
	}
}

static int
sock_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* The method is made once and lives as long as the process. */
static BIO_METHOD *
sock_bio_method(void)
{
	static BIO_METHOD *method;

	if (method != NULL)
		return method;
	method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
			      "panacea socket");
	if (method == NULL || !BIO_meth_set_read(method, sock_bio_read) ||
	    !BIO_meth_set_write(method, sock_bio_write) ||
	    !BIO_meth_set_ctrl(method, sock_bio_ctrl) ||
	    !BIO_meth_set_create(method, sock_bio_create)) {
		BIO_meth_free(method);
		method = NULL;
	}
	return method;
}

/* --- contexts ---------------------------------------------------------- */

int
tls_no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)userdata;
	return -1;
}

int
tls_check_readable(const char *what, const char *path, struct buf *err)
{
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		buf_printf(err, "cannot open %s %s: %s", what, path,
			   strerror(errno));
		return -1;
	}
	fclose(fp);
	return 0;
}

static SSL_CTX *
ctx_new(const SSL_METHOD *method, struct buf *err)
{
	SSL_CTX *c;

	ERR_clear_error();
	if ((c = SSL_CTX_new(method)) == NULL) {
		buf_puts(err, "cannot create TLS context: ");
		tls_drain_errors(err, "unknown error");
		return NULL;
	}
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				   SSL_OP_NO_TICKET |
				   SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_default_passwd_cb(c, tls_no_passphrase);
	if (!SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION)) {
		buf_puts(err, "cannot set minimum TLS version: ");
		tls_drain_errors(err, "unknown error");
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

static struct tls_ctx *
wrap(SSL_CTX *c)
{
	struct tls_ctx *ctx = xmalloc(sizeof(*ctx));

	ctx->ssl_ctx = c;
	ctx->fpt_digest = NULL;
	ctx->mand_min = ctx->mand_max = 0;
	ctx->mand_ciphers = NULL;
	ctx->ticket_secret_len = 0;
	ctx->ticket_cipher = NULL;
	ctx->ticket_lifetime = 0;
	ctx->sni_fn = NULL;
	ctx->sni_arg = NULL;
	return ctx;
}

/* Frees c and returns NULL after appending prefix and OpenSSL's errors. */
static struct tls_ctx *
ctx_fail(SSL_CTX *c, struct buf *err)
{
	tls_drain_errors(err, "unknown error");
	SSL_CTX_free(c);
	return NULL;
}

struct tls_ctx *
tls_server_ctx_empty(struct buf *err)
{
	SSL_CTX *c;

	if ((c = ctx_new(TLS_server_method(), err)) == NULL)
		return NULL;
	SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_num_tickets(c, 0);
	/* OpenSSL refuses to resume a session where client certificates are
	 * asked for unless the context has a session id context; the same
	 * one for every server context keeps SNI's switch neutral. */
	SSL_CTX_set_session_id_context(c, (const unsigned char *)"panacea", 7);
	SSL_CTX_set_dh_auto(c, 1);
	if (!SSL_CTX_set_cipher_list(c, TLS_SERVER_CIPHERS)) {
		buf_puts(err, "cannot set TLS cipher list: ");
		return ctx_fail(c, err);
	}
	return wrap(c);
}

/* 0 when the first certificate of cert_file and the key of key_file
 * belong together; -1 with err set (unreadable files are left to the
 * caller's OpenSSL calls, which say more). */
static int
key_matches(const char *cert_file, const char *key_file, struct buf *err)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(cert_file, "r")) != NULL) {
		x = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if ((fp = fopen(key_file, "r")) != NULL) {
		key = PEM_read_PrivateKey(fp, NULL, tls_no_passphrase, NULL);
		fclose(fp);
	}
	if (x != NULL && key != NULL && X509_check_private_key(x, key) != 1) {
		buf_printf(err, "private key %s does not match certificate %s",
			   key_file, cert_file);
		rc = -1;
	}
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}

int
tls_ctx_add_cert(struct tls_ctx *ctx, const char *cert_file,
		 const char *key_file, struct buf *err)
{
	SSL_CTX *c = ctx->ssl_ctx;

	if (cert_file == NULL || *cert_file == '\0') {
		buf_puts(err, "no TLS certificate file configured");
		return -1;
	}
	if (key_file == NULL || *key_file == '\0')
		key_file = cert_file; /* key and chain in one file */
	if (tls_check_readable("certificate file", cert_file, err) < 0 ||
	    tls_check_readable("private key file", key_file, err) < 0)
		return -1;
	/* OpenSSL keeps one certificate per key type, and a key goes to
	 * the slot of its own type: a key of another type than the
	 * certificate would pair with an earlier certificate and leave
	 * this one without a key, so the pair is checked first. */
	if (key_matches(cert_file, key_file, err) < 0)
		return -1;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1) {
		buf_printf(
		    err, "cannot load certificate chain from %s: ", cert_file);
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(c, key_file, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH)
			buf_printf(err,
				   "private key %s does not match certificate "
				   "%s: ",
				   key_file, cert_file);
		else
			buf_printf(err,
				   "cannot load private key from %s (PEM, not "
				   "encrypted): ",
				   key_file);
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	if (SSL_CTX_check_private_key(c) != 1) {
		buf_printf(err,
			   "private key %s does not match certificate %s: ",
			   key_file, cert_file);
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	return 0;
}

struct tls_ctx *
tls_server_ctx_new(const char *cert_file, const char *key_file, struct buf *err)
{
	struct tls_ctx *ctx;

	if (cert_file == NULL || *cert_file == '\0') {
		buf_puts(err, "no TLS certificate file configured");
		return NULL;
	}
	if ((ctx = tls_server_ctx_empty(err)) == NULL)
		return NULL;
	if (tls_ctx_add_cert(ctx, cert_file, key_file, err) < 0) {
		tls_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Accepts every client certificate: whether the chain was trusted is
 * read after the handshake (SSL_get_verify_result), and the access
 * policy decides what an untrusted or absent certificate means. */
static int
accept_any_ccert(int preverify_ok, X509_STORE_CTX *store)
{
	(void)preverify_ok;
	(void)store;
	return 1;
}

int
tls_server_ctx_ask_ccert(struct tls_ctx *ctx, const char *ca_file,
			 const char *ca_path, const char *digest,
			 struct buf *err)
{
	SSL_CTX *c = ctx->ssl_ctx;

	if ((ctx->fpt_digest = EVP_get_digestbyname(digest)) == NULL) {
		buf_printf(err, "unknown fingerprint digest \"%s\"", digest);
		return -1;
	}
	if (tls_ctx_load_ca(ctx, ca_file, ca_path, err) < 0)
		return -1;
	if (ca_file != NULL && *ca_file != '\0') {
		STACK_OF(X509_NAME) * names;

		/* The CAs a client may choose its certificate by (Postfix:
		 * those of the CA file, not of the CA directory). */
		if ((names = SSL_load_client_CA_file(ca_file)) != NULL)
			SSL_CTX_set_client_CA_list(c, names);
		ERR_clear_error();
	}
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, accept_any_ccert);
	return 0;
}

/* The servername callback: the chooser's context, or ours. */
static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_ctx *ctx = arg, *chosen;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	if (name == NULL || *name == '\0' ||
	    (chosen = ctx->sni_fn(name, ctx->sni_arg)) == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	if (SSL_set_SSL_CTX(ssl, chosen->ssl_ctx) == NULL) {
		ERR_clear_error();
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

void
tls_server_ctx_sni(struct tls_ctx *ctx, tls_sni_fn fn, void *arg)
{
	ctx->sni_fn = fn;
	ctx->sni_arg = arg;
	SSL_CTX_set_tlsext_servername_callback(ctx->ssl_ctx, sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx->ssl_ctx, ctx);
}

/* "AB:CD:..." of a digest, as Postfix writes fingerprints. */
static void
format_fpt(const unsigned char *md, unsigned len, char *dst, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (unsigned i = 0; i < len && n + 3 < size; i++) {
		if (i > 0)
			dst[n++] = ':';
		dst[n++] = hex[md[i] >> 4];
		dst[n++] = hex[md[i] & 15];
	}
	dst[n] = '\0';
}

/* The certificate's and its public key's fingerprints (DER, digest md). */
static void
fill_fingerprints(X509 *peer, const EVP_MD *md, struct tls_info *info)
{
	unsigned char buf[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned len = 0;
	int der_len;

	if (X509_digest(peer, md, buf, &len) == 1)
		format_fpt(buf, len, info->cert_fpt, sizeof(info->cert_fpt));
	if ((der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(peer), &der)) > 0 &&
	    EVP_Digest(der, (size_t)der_len, buf, &len, md, NULL) == 1)
		format_fpt(buf, len, info->pkey_fpt, sizeof(info->pkey_fpt));
	OPENSSL_free(der);
	ERR_clear_error();
}

struct tls_ctx *
tls_client_ctx_new(const char *ca_file, const char *ca_path, struct buf *err)
{
	struct tls_ctx *ctx;
	SSL_CTX *c;

	if ((c = ctx_new(TLS_client_method(), err)) == NULL)
		return NULL;
	ctx = wrap(c);
	if ((ca_file != NULL && *ca_file != '\0') ||
	    (ca_path != NULL && *ca_path != '\0')) {
		if (tls_ctx_load_ca(ctx, ca_file, ca_path, err) < 0) {
			tls_ctx_free(ctx);
			return NULL;
		}
	} else if (tls_ctx_load_system_ca(ctx, err) < 0) {
		tls_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	xfree(ctx->mand_ciphers);
	OPENSSL_cleanse(ctx->ticket_secret, sizeof(ctx->ticket_secret));
	xfree(ctx);
}

/* --- sessions ---------------------------------------------------------- */

static void
session_free(struct tls_session *ts)
{
	if (ts == NULL)
		return;
	SSL_free(ts->ssl); /* frees the BIO too */
	buf_free(&ts->error);
	xfree(ts);
}

static struct tls_session *
session_new(struct tls_ctx *ctx, int fd, struct buf *err)
{
	struct tls_session *ts;
	BIO_METHOD *method;
	BIO *bio;

	ERR_clear_error();
	if ((method = sock_bio_method()) == NULL) {
		buf_puts(err, "cannot create TLS socket BIO: ");
		tls_drain_errors(err, "unknown error");
		return NULL;
	}
	ts = xcalloc(1, sizeof(*ts));
	ts->sb.fd = fd;
	if ((ts->ssl = SSL_new(ctx->ssl_ctx)) == NULL ||
	    (bio = BIO_new(method)) == NULL) {
		buf_puts(err, "cannot create TLS session: ");
		tls_drain_errors(err, "unknown error");
		session_free(ts);
		return NULL;
	}
	BIO_set_data(bio, &ts->sb);
	SSL_set_bio(ts->ssl, bio, bio);
	/* For callbacks (tickets, SNI): the context the session began in. */
	SSL_set_app_data(ts->ssl, ctx);
	return ts;
}

/* Decides what to do after an SSL call returned ret (not success): wait
 * for the socket and retry, end of file, or failure (ts->error set, errno
 * set for the caller). */
static enum step
wait_for(struct tls_session *ts, int ret, long long deadline)
{
	int code = SSL_get_error(ts->ssl, ret), r;

	switch (code) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		r = code == SSL_ERROR_WANT_READ
			? io_wait_readable(ts->sb.fd, io_left_ms(deadline))
			: io_wait_writable(ts->sb.fd, io_left_ms(deadline));
		if (r > 0)
			return STEP_RETRY;
		buf_reset(&ts->error);
		if (r == 0) {
			buf_puts(&ts->error, "timed out");
			errno = ETIMEDOUT;
		} else {
			buf_puts(&ts->error, strerror(errno));
		}
		return STEP_FAIL;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return STEP_EOF;
	case SSL_ERROR_SYSCALL:
		ts->fatal = 1;
		buf_reset(&ts->error);
		tls_drain_errors(&ts->error, NULL);
		if (ts->error.len == 0) {
			if (ts->sb.last_errno != 0) {
				buf_puts(&ts->error,
					 strerror(ts->sb.last_errno));
			} else {
				buf_puts(&ts->error,
					 "connection closed by peer");
			}
		}
		errno = ts->sb.last_errno ? ts->sb.last_errno : ECONNRESET;
		return STEP_FAIL;
	default:
		ts->fatal = 1;
		buf_reset(&ts->error);
		tls_drain_errors(&ts->error, "TLS protocol error");
		errno = EPROTO;
		return STEP_FAIL;
	}
}

/* Subject or issuer CN of a certificate, printable, into dst. */
static void
name_cn(X509_NAME *name, char *dst, size_t size)
{
	unsigned char *utf8 = NULL;
	X509_NAME_ENTRY *entry;
	int idx;

	dst[0] = '\0';
	if (name == NULL ||
	    (idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		return;
	entry = X509_NAME_get_entry(name, idx);
	if (ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry)) < 0)
		return;
	tls_copy_printable(dst, size, (const char *)utf8);
	OPENSSL_free(utf8);
}

/* Short name of an OpenSSL nid, or NULL. */
static const char *
nid_name(int nid)
{
	return nid == NID_undef ? NULL : OBJ_nid2sn(nid);
}

/* The key exchange group and, for a server, how it signed (Postfix's
 * words for smtpd_tls_received_header and the log). */
static void
fill_kex(SSL *ssl, struct tls_info *info)
{
	EVP_PKEY *key = SSL_get_privatekey(ssl);
	const char *group = NULL, *sig = NULL, *md = NULL;
	int nid, n = 0;

	nid = (int)SSL_get_negotiated_group(ssl);
	/* "X25519", "prime256v1", as Postfix writes them. */
	if (nid != 0 && nid != NID_undef && (group = nid_name(nid)) == NULL)
		group = SSL_group_to_name(ssl, nid);
	if (group != NULL)
		n = snprintf(info->kex, sizeof(info->kex), "key-exchange %s",
			     group);
	if (key != NULL && SSL_get_signature_type_nid(ssl, &nid) == 1)
		sig = nid == EVP_PKEY_RSA_PSS ? "RSA-PSS"
		      : nid == EVP_PKEY_EC    ? "ECDSA"
		      : nid == EVP_PKEY_RSA   ? "RSA"
					      : nid_name(nid);
	if (sig != NULL && n >= 0 && (size_t)n < sizeof(info->kex))
		n += snprintf(info->kex + n, sizeof(info->kex) - (size_t)n,
			      "%sserver-signature %s (%d bits)", n ? " " : "",
			      sig, EVP_PKEY_get_bits(key));
	if (sig != NULL && SSL_get_signature_nid(ssl, &nid) == 1)
		md = nid_name(nid);
	if (md != NULL && n >= 0 && (size_t)n < sizeof(info->kex))
		snprintf(info->kex + n, sizeof(info->kex) - (size_t)n,
			 " server-digest %s", md);
	ERR_clear_error();
}

static void
fill_info(SSL *ssl, const EVP_MD *fpt_digest, struct tls_info *info)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
	X509 *peer = SSL_get0_peer_certificate(ssl);
	long result;

	memset(info, 0, sizeof(*info));
	tls_copy_printable(info->protocol, sizeof(info->protocol),
			   SSL_get_version(ssl));
	if (cipher != NULL) {
		tls_copy_printable(info->cipher, sizeof(info->cipher),
				   SSL_CIPHER_get_name(cipher));
		info->cipher_bits =
		    SSL_CIPHER_get_bits(cipher, &info->alg_bits);
	}
	if (SSL_is_server(ssl))
		fill_kex(ssl, info);
	if (peer == NULL)
		return;
	info->peer_cert = 1;
	name_cn(X509_get_subject_name(peer), info->peer_cn,
		sizeof(info->peer_cn));
	name_cn(X509_get_issuer_name(peer), info->issuer_cn,
		sizeof(info->issuer_cn));
	if (fpt_digest != NULL)
		fill_fingerprints(peer, fpt_digest, info);
	result = SSL_get_verify_result(ssl);
	info->verified = result == X509_V_OK;
	/* The chain was good; only the name was not ours. */
	info->trusted =
	    info->verified || result == X509_V_ERR_HOSTNAME_MISMATCH;
	info->dane =
	    info->verified && SSL_get0_dane_authority(ssl, NULL, NULL) >= 0;
	if (!info->verified)
		tls_copy_printable(info->verify_error,
				   sizeof(info->verify_error),
				   X509_verify_cert_error_string(result));
}

/* 1 when name is an IP address literal (no SNI for those, RFC 6066). */
static int
is_ip_literal(const char *name)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);

	if (ip == NULL)
		return 0;
	ASN1_OCTET_STRING_free(ip);
	return 1;
}

/* Client-side settings of a new session; 0 or -1 with err set. */
static int
client_setup(struct tls_session *ts, const char *peername, enum tls_level level,
	     struct buf *err)
{
	int verify = level >= TLS_LEVEL_VERIFY;

	if (verify && (peername == NULL || *peername == '\0')) {
		buf_printf(err, "TLS level %s needs a peer name to verify",
			   tls_level_name(level));
		return -1;
	}
	SSL_set_verify(ts->ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
		       NULL);
	if (peername == NULL || *peername == '\0')
		return 0;
	SSL_set_hostflags(ts->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ts->ssl, peername) != 1 ||
	    (!is_ip_literal(peername) &&
	     SSL_set_tlsext_host_name(ts->ssl, peername) != 1)) {
		buf_printf(err, "bad TLS peer name \"%.100s\": ", peername);
		tls_drain_errors(err, "rejected by OpenSSL");
		return -1;
	}
	return 0;
}

int
tls_tlsa_usable(unsigned usage, unsigned selector, unsigned mtype)
{
	return (usage == 2 || usage == 3) && selector <= 1 && mtype <= 2;
}

/* The DANE settings of a client session (tls_client_start_dane). */
static int
dane_setup(struct tls_ctx *ctx, struct tls_session *ts,
	   const struct tls_dane *dane, struct buf *err)
{
	size_t i, usable = 0;
	int rc;

	if (dane->base == NULL || *dane->base == '\0') {
		buf_puts(err, "DANE needs a TLSA base domain");
		return -1;
	}
	/* SNI first: SSL_dane_enable() sends base only when none is set. */
	if (dane->sni != NULL && *dane->sni != '\0') {
		char sni[TLS_NAME_MAX];

		snprintf(sni, sizeof(sni), "%s", dane->sni);
		if (SSL_set_tlsext_host_name(ts->ssl, sni) != 1)
			goto fail;
	}
	if (SSL_CTX_dane_enable(ctx->ssl_ctx) <= 0 ||
	    SSL_dane_enable(ts->ssl, dane->base) <= 0)
		goto fail;
	/* RFC 7672 3.1.1: the key of a DANE-EE record is the server's
	 * whatever names its certificate carries. */
	SSL_dane_set_flags(ts->ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	SSL_set_hostflags(ts->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	for (i = 0; dane->names != NULL && dane->names[i] != NULL; i++)
		if (*dane->names[i] != '\0' &&
		    SSL_add1_host(ts->ssl, dane->names[i]) != 1)
			goto fail;
	for (i = 0; i < dane->count; i++) {
		const struct tls_tlsa *t = &dane->rr[i];

		if (!tls_tlsa_usable(t->usage, t->selector, t->mtype))
			continue;
		rc = SSL_dane_tlsa_add(ts->ssl, t->usage, t->selector, t->mtype,
				       t->data, t->len);
		if (rc > 0)
			usable++;
		/* A record OpenSSL cannot parse (a certificate that is not
		 * DER) is unusable, not a failure of the others. */
		ERR_clear_error();
	}
	if (usable == 0) {
		buf_puts(err, "no usable TLSA record");
		return -1;
	}
	SSL_set_verify(ts->ssl, SSL_VERIFY_PEER, NULL);
	return 0;
fail:
	buf_puts(err, "cannot set up DANE: ");
	tls_drain_errors(err, "rejected by OpenSSL");
	return -1;
}

static int
handshake(struct tls_session *ts, int server, int timeout_ms, struct buf *err)
{
	long long deadline = io_deadline(timeout_ms);
	long result;
	int ret;

	for (;;) {
		ERR_clear_error();
		ret = server ? SSL_accept(ts->ssl) : SSL_connect(ts->ssl);
		if (ret == 1)
			return 0;
		switch (wait_for(ts, ret, deadline)) {
		case STEP_RETRY:
			continue;
		case STEP_EOF:
			buf_puts(err, "TLS handshake failed: connection closed "
				      "by peer");
			return -1;
		case STEP_FAIL:
			buf_printf(err, "TLS handshake failed: %s",
				   buf_cstr(&ts->error));
			result = SSL_get_verify_result(ts->ssl);
			if (!server && result != X509_V_OK)
				buf_printf(
				    err, " (certificate: %s)",
				    X509_verify_cert_error_string(result));
			return -1;
		}
	}
}

/* A client session at a mandatory level gets the mandatory settings. */
static int
mandatory_setup(struct tls_ctx *ctx, struct tls_session *ts, struct buf *err)
{
	if (ctx->mand_ciphers == NULL)
		return 0;
	if (!SSL_set_min_proto_version(ts->ssl, ctx->mand_min) ||
	    !SSL_set_max_proto_version(ts->ssl, ctx->mand_max) ||
	    !SSL_set_cipher_list(ts->ssl, ctx->mand_ciphers)) {
		buf_puts(err, "cannot apply mandatory TLS settings: ");
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	return 0;
}

/* What a destination changes (struct tls_client_opts), after the level's
 * own settings. */
static int
opts_setup(struct tls_session *ts, const struct tls_client_opts *o,
	   struct buf *err)
{
	size_t i;

	for (i = 0; o->names != NULL && o->names[i] != NULL; i++)
		if (*o->names[i] != '\0' &&
		    SSL_add1_host(ts->ssl, o->names[i]) != 1)
			goto fail;
	if (o->sni != NULL && *o->sni != '\0' && !is_ip_literal(o->sni)) {
		char sni[TLS_NAME_MAX];

		snprintf(sni, sizeof(sni), "%s", o->sni);
		if (SSL_set_tlsext_host_name(ts->ssl, sni) != 1)
			goto fail;
	}
	if ((o->min_version != 0 &&
	     !SSL_set_min_proto_version(ts->ssl, o->min_version)) ||
	    (o->min_version != 0 &&
	     !SSL_set_max_proto_version(ts->ssl, o->max_version)) ||
	    (o->ciphers != NULL && *o->ciphers != '\0' &&
	     !SSL_set_cipher_list(ts->ssl, o->ciphers)))
		goto fail;
	return 0;
fail:
	buf_puts(err, "cannot apply the destination's TLS settings: ");
	tls_drain_errors(err, "rejected by OpenSSL");
	return -1;
}

static int
start(struct tls_ctx *ctx, struct stream *s, int server, const char *peername,
      enum tls_level level, const struct tls_client_opts *opts,
      struct tls_info *info, struct buf *err)
{
	const struct tls_dane *dane = opts != NULL ? opts->dane : NULL;

	struct tls_session *ts;

	if (tls_active(s)) {
		buf_puts(err, "TLS is already active");
		return -1;
	}
	if (stream_pending(s) > 0) {
		/* CVE-2011-0411: plaintext must not survive into TLS. */
		buf_puts(err, "unread plaintext input before TLS handshake");
		return -1;
	}
	if ((ts = session_new(ctx, s->fd, err)) == NULL)
		return -1;
	if (!server && level >= TLS_LEVEL_ENCRYPT &&
	    mandatory_setup(ctx, ts, err) < 0) {
		session_free(ts);
		return -1;
	}
	if (!server &&
	    ((dane != NULL ? dane_setup(ctx, ts, dane, err)
			   : client_setup(ts, peername, level, err)) < 0 ||
	     (opts != NULL && opts_setup(ts, opts, err) < 0))) {
		session_free(ts);
		return -1;
	}
	if (handshake(ts, server, s->timeout_ms, err) < 0) {
		session_free(ts);
		return -1;
	}
	if (info != NULL) {
		fill_info(ts->ssl, ctx->fpt_digest, info);
		/* SNI chose the certificates of another context. */
		if (server && SSL_get_SSL_CTX(ts->ssl) != ctx->ssl_ctx)
			tls_copy_printable(
			    info->sni, sizeof(info->sni),
			    SSL_get_servername(ts->ssl,
					       TLSEXT_NAMETYPE_host_name));
	}
	stream_set_io(s, &tls_stream_io, ts);
	return 0;
}

int
tls_server_start(struct tls_ctx *ctx, struct stream *s, struct tls_info *info,
		 struct buf *err)
{
	return start(ctx, s, 1, NULL, TLS_LEVEL_ENCRYPT, NULL, info, err);
}

int
tls_client_start(struct tls_ctx *ctx, struct stream *s, const char *peername,
		 enum tls_level level, struct tls_info *info, struct buf *err)
{
	return start(ctx, s, 0, peername, level, NULL, info, err);
}

int
tls_client_start_dane(struct tls_ctx *ctx, struct stream *s,
		      const struct tls_dane *dane, struct tls_info *info,
		      struct buf *err)
{
	struct tls_client_opts o;

	memset(&o, 0, sizeof(o));
	o.dane = dane;
	return start(ctx, s, 0, NULL, TLS_LEVEL_SECURE, &o, info, err);
}

int
tls_client_start_opts(struct tls_ctx *ctx, struct stream *s,
		      const char *peername, enum tls_level level,
		      const struct tls_client_opts *opts, struct tls_info *info,
		      struct buf *err)
{
	if (opts != NULL && opts->dane != NULL)
		level = TLS_LEVEL_SECURE;
	return start(ctx, s, 0, peername, level, opts, info, err);
}

int
tls_active(const struct stream *s)
{
	return s->io == &tls_stream_io && s->io_ctx != NULL;
}

int
tls_pending(const struct stream *s)
{
	const struct tls_session *ts = s->io_ctx;

	return tls_active(s) &&
	       (SSL_pending(ts->ssl) > 0 || SSL_has_pending(ts->ssl));
}

const char *
tls_stream_error(const struct stream *s)
{
	const struct tls_session *ts = s->io_ctx;

	return tls_active(s) ? buf_cstr(&ts->error) : "";
}

int
tls_stop(struct stream *s, int close_notify)
{
	struct tls_session *ts;
	long long deadline;
	int rc = 0, ret, peer_closed;

	if (!tls_active(s))
		return 0;
	ts = s->io_ctx;
	if (stream_flush(s) < 0)
		rc = -1;
	deadline = io_deadline(s->timeout_ms);
	/* One close_notify; the peer's answer is not awaited (SMTP and POP3
	 * are done by now, and waiting would only add a round trip).  When
	 * the peer has closed first, ours is a courtesy that may find the
	 * socket gone: not an error. */
	peer_closed = (SSL_get_shutdown(ts->ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
	while (close_notify && rc == 0 && !ts->fatal) {
		ERR_clear_error();
		if ((ret = SSL_shutdown(ts->ssl)) >= 0)
			break;
		if (wait_for(ts, ret, deadline) != STEP_RETRY && !peer_closed)
			rc = -1;
		if (peer_closed)
			break;
	}
	ERR_clear_error();
	stream_set_io(s, NULL, NULL);
	session_free(ts);
	return rc;
}

/* --- stream_io --------------------------------------------------------- */

static ssize_t
tls_io_read(void *ctx, void *data, size_t len, int timeout_ms)
{
	struct tls_session *ts = ctx;
	long long deadline = io_deadline(timeout_ms);
	size_t n;

	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	for (;;) {
		ERR_clear_error();
		if (SSL_read_ex(ts->ssl, data, len, &n) == 1)
			return (ssize_t)n;
		switch (wait_for(ts, 0, deadline)) {
		case STEP_RETRY:
			continue;
		case STEP_EOF:
			return 0;
		case STEP_FAIL:
			return -1;
		}
	}
}

static ssize_t
tls_io_write(void *ctx, const void *data, size_t len, int timeout_ms)
{
	struct tls_session *ts = ctx;
	long long deadline = io_deadline(timeout_ms);
	size_t n;

	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (len == 0)
		return 0;
	for (;;) {
		ERR_clear_error();
		/* Without partial writes, success means all of len. */
		if (SSL_write_ex(ts->ssl, data, len, &n) == 1)
			return (ssize_t)n;
		switch (wait_for(ts, 0, deadline)) {
		case STEP_RETRY:
			continue;
		case STEP_EOF:
			buf_set(&ts->error, "peer closed the TLS session");
			errno = EPIPE;
			return -1;
		case STEP_FAIL:
			return -1;
		}
	}
}

const struct stream_io tls_stream_io = {tls_io_read, tls_io_write};
