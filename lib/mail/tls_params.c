/*
 * tls_params - see tls_params.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "msg.h"
#include "priv.h"
#include "tls_params.h"

/* DH parameters smaller than this are not used (DESIGN.md, TLS). */
#define TLS_DH_MIN_BITS 2048
/* Postfix's bounds of smtpd_tls_session_cache_timeout. */
#define TICKET_MIN_LIFETIME 120
#define TICKET_MAX_LIFETIME (100LL * 24 * 3600)
#define TICKET_SECRET_LEN 32
#define TICKET_SECRET_FILE "smtpd_tls_ticket_secret"

/* A parameter with a value (the client binds no eccert_file, ...). */
static int
given(const char *v)
{
	return v != NULL && *v != '\0';
}

/* "smtpd_tls_chain_files" and the like, for messages. */
static const char *
pname(const struct tls_params *p, const char *suffix)
{
	static struct buf name = BUF_INIT;

	buf_reset(&name);
	buf_printf(&name, "%s_tls_%s", p->prefix, suffix);
	return buf_cstr(&name);
}

int
tls_params_have_cert(const struct tls_params *p)
{
	return given(p->chain_files) || given(p->cert_file) ||
	       given(p->eccert_file);
}

/* Certificates and keys into ctx, server or client; fatal on error. */
static void
add_certs(struct tls_ctx *ctx, const struct tls_params *p)
{
	struct buf err = BUF_INIT;

	if (given(p->chain_files)) {
		/* Postfix: the chain files make the others obsolete. */
		if (given(p->cert_file) || given(p->key_file) ||
		    given(p->eccert_file) || given(p->eckey_file))
			msg_warn("%s is set: ignoring %s_tls_cert_file, "
				 "_key_file, _eccert_file and _eckey_file",
				 pname(p, "chain_files"), p->prefix);
		if (tls_ctx_add_chain_files(ctx, p->chain_files, &err) < 0)
			msg_fatal("%s: %s", pname(p, "chain_files"),
				  buf_cstr(&err));
		buf_free(&err);
		return;
	}
	if (given(p->cert_file) &&
	    tls_ctx_add_cert(ctx, p->cert_file, p->key_file, &err) < 0)
		msg_fatal("%s: %s", pname(p, "cert_file"), buf_cstr(&err));
	if (given(p->eccert_file) &&
	    tls_ctx_add_cert(ctx, p->eccert_file, p->eckey_file, &err) < 0)
		msg_fatal("%s: %s", pname(p, "eccert_file"), buf_cstr(&err));
	buf_free(&err);
}

struct tls_ctx *
tls_params_server_ctx(const struct tls_params *p)
{
	struct buf err = BUF_INIT;
	struct tls_ctx *ctx;

	if ((ctx = tls_server_ctx_empty(&err)) == NULL)
		msg_fatal("cannot set up TLS: %s", buf_cstr(&err));
	add_certs(ctx, p);
	buf_free(&err);
	return ctx;
}

struct tls_ctx *
tls_params_client_ctx(const struct tls_params *p)
{
	struct buf err = BUF_INIT;
	struct tls_ctx *ctx;

	if ((ctx = tls_client_ctx_new(p->ca_file, p->ca_path, &err)) == NULL)
		msg_fatal("%s: %s",
			  given(p->ca_file) ? pname(p, "CAfile")
					    : pname(p, "CApath"),
			  buf_cstr(&err));
	add_certs(ctx, p);
	buf_free(&err);
	return ctx;
}

/* tls_ssl_options and tls_eecdh_auto_curves, both roles. */
static void
apply_common(struct tls_ctx *ctx, const struct tls_params *p)
{
	struct buf err = BUF_INIT, skipped = BUF_INIT;
	uint64_t options, dropped;

	if (tls_ssl_options_parse(p->ssl_options ? p->ssl_options : "",
				  &options, &dropped, &err) < 0)
		msg_fatal("tls_ssl_options: %s", buf_cstr(&err));
	if (dropped)
		msg_warn("tls_ssl_options: ignoring mask bits 0x%llx: "
			 "protocols and the server's cipher order have "
			 "parameters of their own",
			 (unsigned long long)dropped);
	tls_ctx_set_options(ctx, options);
	if (p->auto_curves == NULL)
		return;
	if (tls_ctx_set_groups(ctx, p->auto_curves, &skipped, &err) < 0)
		msg_fatal("tls_eecdh_auto_curves: %s", buf_cstr(&err));
	if (skipped.len && conf_is_set("tls_eecdh_auto_curves"))
		msg_warn("tls_eecdh_auto_curves: skipping curves OpenSSL "
			 "cannot use: %s",
			 buf_cstr(&skipped));
	buf_free(&err);
	buf_free(&skipped);
}

/* data_directory as postscreen makes it: for mail_owner, mode 0700. */
static void
make_data_directory(const char *dir)
{
	struct buf err = BUF_INIT;
	uid_t uid;
	gid_t gid;
	int fd;

	if (mkdir(dir, 0700) != 0 || !priv_is_root())
		return;
	if (priv_lookup_user(conf_str("mail_owner"), &uid, &gid, &err) < 0 ||
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0) {
		msg_warn("data_directory %s: %s", dir,
			 err.len ? buf_cstr(&err) : "cannot open it");
	} else {
		if (fchown(fd, uid, gid) != 0)
			msg_warn("data_directory %s: give it to mail_owner: %m",
				 dir);
		close(fd);
	}
	buf_free(&err);
}

/* smtpd_tls_session_cache_timeout and tls_session_ticket_cipher: Postfix
 * turns tickets on unless the timeout is 0 or the cipher empty. */
static void
apply_tickets(struct tls_ctx *ctx, const struct tls_params *p)
{
	unsigned char secret[TICKET_SECRET_LEN];
	struct buf err = BUF_INIT, path = BUF_INIT;
	long long lifetime = p->cache_timeout;

	if (lifetime > TICKET_MAX_LIFETIME)
		msg_fatal("%s: %lld seconds is more than 100 days",
			  pname(p, "session_cache_timeout"), lifetime);
	if (lifetime <= 0 || !given(p->ticket_cipher))
		return;
	if (lifetime < TICKET_MIN_LIFETIME)
		lifetime = TICKET_MIN_LIFETIME;
	if (!given(p->data_directory))
		msg_fatal("%s: data_directory is empty: no place for the "
			  "session ticket secret",
			  pname(p, "session_cache_timeout"));
	make_data_directory(p->data_directory);
	buf_printf(&path, "%s/%s", p->data_directory, TICKET_SECRET_FILE);
	if (tls_ticket_secret(buf_cstr(&path), secret, sizeof(secret), &err) <
	    0)
		msg_fatal("session tickets: %s", buf_cstr(&err));
	if (tls_server_ctx_tickets(ctx, secret, sizeof(secret),
				   p->ticket_cipher, (long)lifetime, &err) < 0)
		msg_fatal("tls_session_ticket_cipher: %s", buf_cstr(&err));
	explicit_bzero(secret, sizeof(secret));
	buf_free(&path);
	buf_free(&err);
}

/* smtpd_tls_eecdh_grade and smtpd_tls_dh1024_param_file. */
static void
apply_server_kex(struct tls_ctx *ctx, const struct tls_params *p)
{
	static const char *const grades[] = {"auto", "strong", "ultra", "none"};
	const char *grade = given(p->eecdh_grade) ? p->eecdh_grade : "auto";
	struct buf err = BUF_INIT;
	size_t i;
	int bits;

	for (i = 0; i < sizeof(grades) / sizeof(grades[0]); i++)
		if (strcasecmp(grade, grades[i]) == 0)
			break;
	if (i == sizeof(grades) / sizeof(grades[0]))
		msg_fatal("%s: unknown grade \"%s\" (use auto, strong, ultra "
			  "or none)",
			  pname(p, "eecdh_grade"), grade);
	/* Postfix 3.6 and later use the auto curves whatever the grade:
	 * TLS 1.3 has no key exchange without a group, so "none" could
	 * only break it. */
	if (i > 0)
		msg_warn("%s = %s is taken as auto, as Postfix 3.6 and later "
			 "do: the curves are tls_eecdh_auto_curves",
			 pname(p, "eecdh_grade"), grade);
	if (!given(p->dh_file) || strcasecmp(p->dh_file, "auto") == 0)
		return;
	switch (tls_server_ctx_dh_file(ctx, p->dh_file, TLS_DH_MIN_BITS, &bits,
				       &err)) {
	case -1:
		msg_fatal("%s: %s", pname(p, "dh1024_param_file"),
			  buf_cstr(&err));
	case 0:
		msg_warn("%s: %s has %d-bit parameters, fewer than %d: using "
			 "OpenSSL's own instead",
			 pname(p, "dh1024_param_file"), p->dh_file, bits,
			 TLS_DH_MIN_BITS);
		break;
	}
	buf_free(&err);
}

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
	/* Tickets first: a NO_TICKET of tls_ssl_options must win. */
	if (!client)
		apply_tickets(ctx, p);
	apply_common(ctx, p);
	if (!client) {
		apply_server_kex(ctx, p);
		if (given(p->sni_maps))
			tls_sni_init(ctx, p->sni_maps);
		apply_set(ctx, p, mandatory, 0);
		return;
	}
	apply_set(ctx, p, 0, 0);
	apply_set(ctx, p, 1, 1);
}
