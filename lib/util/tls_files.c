/*
 * tls_files - what a TLS context reads from files: trust anchors (a CA
 * file and a CA directory), Postfix's chain files (keys each followed by
 * their certificate chain) and Diffie-Hellman parameters; see tls.h.
 *
 * Everything is read at once, before the daemon's jail: a CA directory
 * in particular is loaded certificate by certificate rather than handed
 * to OpenSSL's lazy directory lookup, which would look for hash-named
 * files at verification time, inside the chroot, where the directory is
 * not.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"
#include "tls_int.h"

#define CHAIN_KEYS_MAX 8 /* keys in one chain file list: RSA, ECDSA, ... */

/* Number of certificates (and CRLs) in a store. */
static int
store_count(X509_STORE *st)
{
	return sk_X509_OBJECT_num(X509_STORE_get0_objects(st));
}

/* Every certificate of every readable file in dir (hash links or not);
 * files that hold none (a README) are passed over. */
static int
load_ca_dir(X509_STORE *st, const char *dir, struct buf *err)
{
	struct buf path = BUF_INIT;
	struct dirent *e;
	struct stat sb;
	DIR *d;
	int before = store_count(st);

	if ((d = opendir(dir)) == NULL) {
		buf_printf(err, "cannot open CA directory %s: %s", dir,
			   strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, e->d_name);
		if (stat(buf_cstr(&path), &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		X509_STORE_load_file(st, buf_cstr(&path));
		ERR_clear_error();
	}
	closedir(d);
	buf_free(&path);
	if (store_count(st) == before) {
		buf_printf(err, "no CA certificate found in directory %s", dir);
		return -1;
	}
	return 0;
}

int
tls_ctx_load_ca(struct tls_ctx *ctx, const char *ca_file, const char *ca_path,
		struct buf *err)
{
	SSL_CTX *c = ctx->ssl_ctx;

	if (ca_file != NULL && *ca_file != '\0') {
		if (tls_check_readable("CA file", ca_file, err) < 0)
			return -1;
		ERR_clear_error();
		if (SSL_CTX_load_verify_locations(c, ca_file, NULL) != 1) {
			buf_printf(err, "cannot load CA certificates from %s: ",
				   ca_file);
			tls_drain_errors(err, "unknown error");
			return -1;
		}
	}
	if (ca_path != NULL && *ca_path != '\0' &&
	    load_ca_dir(SSL_CTX_get_cert_store(c), ca_path, err) < 0)
		return -1;
	return 0;
}

int
tls_ctx_load_system_ca(struct tls_ctx *ctx, struct buf *err)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx->ssl_ctx);
	const char *file = getenv(X509_get_default_cert_file_env());
	const char *dir = getenv(X509_get_default_cert_dir_env());
	int before = store_count(st);

	/* OpenSSL's own default paths would leave the directory to a lazy
	 * lookup that fails inside the jail; the bundle file (Debian's
	 * ca-certificates.crt) holds the same CAs and is read now, the
	 * directory only when there is no bundle. */
	if (file == NULL)
		file = X509_get_default_cert_file();
	if (dir == NULL)
		dir = X509_get_default_cert_dir();
	X509_STORE_load_file(st, file);
	ERR_clear_error();
	if (store_count(st) > before)
		return 0;
	if (load_ca_dir(st, dir, err) < 0) {
		buf_reset(err);
		buf_printf(err, "no CA certificate found in %s or %s", file,
			   dir);
		return -1;
	}
	return 0;
}

/* --- chain files --------------------------------------------------------- */

/* A key, its certificate and the issuers that follow it. */
struct chain {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) * issuers;
};

static void
chain_clear(struct chain *ch)
{
	EVP_PKEY_free(ch->key);
	X509_free(ch->cert);
	sk_X509_pop_free(ch->issuers, X509_free);
	memset(ch, 0, sizeof(*ch));
}

/* Installs a complete chain in the context; one key per type. */
static int
chain_use(SSL_CTX *c, struct chain *ch, int *types, int *ntypes,
	  struct buf *err)
{
	int type, i;

	if (ch->cert == NULL) {
		buf_puts(err, "a private key is not followed by its "
			      "certificate");
		return -1;
	}
	type = EVP_PKEY_get_base_id(ch->key);
	for (i = 0; i < *ntypes; i++)
		if (types[i] == type) {
			buf_printf(err, "more than one %s key",
				   EVP_PKEY_get0_type_name(ch->key));
			return -1;
		}
	if (*ntypes >= CHAIN_KEYS_MAX) {
		buf_puts(err, "too many keys");
		return -1;
	}
	types[(*ntypes)++] = type;
	ERR_clear_error();
	if (SSL_CTX_use_cert_and_key(c, ch->cert, ch->key, ch->issuers, 1) !=
	    1) {
		buf_puts(err, "a private key does not match the certificate "
			      "after it: ");
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	chain_clear(ch);
	return 0;
}

/* The files one after the other, as if concatenated. */
static BIO *
read_all(const char *files, struct buf *err)
{
	BIO *all = BIO_new(BIO_s_mem());
	char name[4096], chunk[4096];
	const char *p;
	size_t n, got;
	FILE *fp;

	for (p = files; all != NULL && *p != '\0'; p += n) {
		p += strspn(p, " \t\r\n,");
		if ((n = strcspn(p, " \t\r\n,")) == 0)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if ((fp = fopen(name, "r")) == NULL) {
			buf_printf(err, "cannot open %s: %s", name,
				   strerror(errno));
			BIO_free(all);
			return NULL;
		}
		while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			BIO_write(all, chunk, (int)got);
		fclose(fp);
		/* A file without a final newline must not glue its last
		 * line to the next file's first. */
		BIO_write(all, "\n", 1);
	}
	if (all == NULL)
		buf_puts(err, "out of memory");
	return all;
}

/* One PEM object again as PEM, for OpenSSL's typed readers. */
static BIO *
one_object(const char *name, const char *header, const unsigned char *data,
	   long len)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (b != NULL && PEM_write_bio(b, name, header, data, len) <= 0) {
		BIO_free(b);
		b = NULL;
	}
	return b;
}

/* Reads the objects of all, in order, into the context. */
static int
use_objects(SSL_CTX *c, BIO *all, struct buf *err)
{
	struct chain ch = {0};
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	int types[CHAIN_KEYS_MAX], ntypes = 0, n = 0, rc = -1;
	long len;
	BIO *one = NULL;

	ERR_clear_error();
	while (PEM_read_bio(all, &name, &header, &data, &len) == 1) {
		n++;
		one = one_object(name, header, data, len);
		if (strstr(name, "PRIVATE KEY") != NULL) {
			if (ch.key != NULL &&
			    chain_use(c, &ch, types, &ntypes, err) < 0)
				goto out_one;
			ch.key = one ? PEM_read_bio_PrivateKey(
					   one, NULL, tls_no_passphrase, NULL)
				     : NULL;
			if (ch.key == NULL) {
				buf_printf(err,
					   "PEM object %d: cannot read the "
					   "private key (PEM, not encrypted): ",
					   n);
				goto out_one;
			}
		} else if (strcmp(name, "CERTIFICATE") == 0 ||
			   strcmp(name, "TRUSTED CERTIFICATE") == 0) {
			X509 *x =
			    one ? PEM_read_bio_X509_AUX(one, NULL, NULL, NULL)
				: NULL;

			if (x == NULL) {
				buf_printf(err,
					   "PEM object %d: cannot read the "
					   "certificate: ",
					   n);
				goto out_one;
			}
			if (ch.key == NULL) {
				X509_free(x);
				buf_printf(err,
					   "PEM object %d: a certificate "
					   "without a private key before it",
					   n);
				goto out_one;
			}
			if (ch.cert == NULL) {
				ch.cert = x;
			} else {
				if (ch.issuers == NULL)
					ch.issuers = sk_X509_new_null();
				sk_X509_push(ch.issuers, x);
			}
		} else {
			buf_printf(err, "PEM object %d: unexpected \"%s\"", n,
				   name);
			goto out_one;
		}
		BIO_free(one);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	/* The loop ends at the end of the input (no start line) or at a
	 * broken object. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE &&
	    ERR_peek_last_error() != 0) {
		buf_printf(err, "PEM object %d: ", n + 1);
		tls_drain_errors(err, "unreadable");
		goto out;
	}
	ERR_clear_error();
	if (ch.key == NULL && ntypes == 0) {
		buf_puts(err, "no private key and certificate found");
		goto out;
	}
	if (ch.key != NULL && chain_use(c, &ch, types, &ntypes, err) < 0)
		goto out;
	rc = 0;
	goto out;
out_one:
	tls_drain_errors(err, NULL);
	BIO_free(one);
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	chain_clear(&ch);
	ERR_clear_error();
	return rc;
}

int
tls_ctx_add_chain_files(struct tls_ctx *ctx, const char *files, struct buf *err)
{
	BIO *all;
	int rc;

	if ((all = read_all(files, err)) == NULL)
		return -1;
	rc = use_objects(ctx->ssl_ctx, all, err);
	BIO_free(all);
	return rc;
}

/* --- Diffie-Hellman parameters ------------------------------------------ */

int
tls_server_ctx_dh_file(struct tls_ctx *ctx, const char *path, int min_bits,
		       int *bits, struct buf *err)
{
	EVP_PKEY *dh;
	BIO *b;

	*bits = 0;
	if (tls_check_readable("DH parameter file", path, err) < 0)
		return -1;
	ERR_clear_error();
	if ((b = BIO_new_file(path, "r")) == NULL) {
		buf_printf(err, "cannot open DH parameter file %s: ", path);
		tls_drain_errors(err, "unknown error");
		return -1;
	}
	dh = PEM_read_bio_Parameters(b, NULL);
	BIO_free(b);
	if (dh == NULL || !EVP_PKEY_is_a(dh, "DH")) {
		buf_printf(err, "%s holds no PEM DH parameters", path);
		EVP_PKEY_free(dh);
		ERR_clear_error();
		return -1;
	}
	*bits = EVP_PKEY_get_bits(dh);
	if (*bits < min_bits) {
		EVP_PKEY_free(dh);
		return 0; /* the caller keeps OpenSSL's own and warns */
	}
	SSL_CTX_set_dh_auto(ctx->ssl_ctx, 0);
	if (SSL_CTX_set0_tmp_dh_pkey(ctx->ssl_ctx, dh) != 1) {
		buf_printf(err, "cannot use the DH parameters of %s: ", path);
		tls_drain_errors(err, "unknown error");
		EVP_PKEY_free(dh);
		SSL_CTX_set_dh_auto(ctx->ssl_ctx, 1);
		return -1;
	}
	return 1;
}

void
tls_tafile_free(struct tls_tlsa *rr, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		OPENSSL_free((void *)rr[i].data);
	free(rr);
}

int
tls_tafile_load(const char *path, struct tls_tlsa **rr, size_t *count,
		struct buf *err)
{
	struct tls_tlsa *out = NULL;
	unsigned char *der;
	size_t n = 0;
	X509 *x;
	FILE *f;
	int len;

	*rr = NULL;
	*count = 0;
	if ((f = fopen(path, "r")) == NULL) {
		buf_printf(err, "cannot open trust anchor file %s: %s", path,
			   strerror(errno));
		return -1;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		der = NULL;
		len = i2d_X509(x, &der);
		X509_free(x);
		if (len <= 0)
			continue;
		out = realloc(out, (n + 1) * sizeof(*out));
		if (out == NULL)
			abort();
		out[n].usage = 2;
		out[n].selector = 0;
		out[n].mtype = 0;
		out[n].data = der;
		out[n].len = (size_t)len;
		n++;
	}
	/* The end of the file reads as a PEM "no start line" error. */
	ERR_clear_error();
	fclose(f);
	if (n == 0) {
		buf_printf(err, "no certificate in trust anchor file %s", path);
		free(out);
		return -1;
	}
	*rr = out;
	*count = n;
	return 0;
}
