/*
 * test_tls - real TLS handshakes between a forked server and a client over
 * a socketpair, with a CA and a server certificate made by the openssl
 * command at test time: unauthenticated and verified levels, STARTTLS
 * after a plaintext exchange, DANE-EE and DANE-TA (tafile) authentication,
 * data both ways through the stream_io vtable, session info, end of file and
 * EPIPE, deadlines, the CVE-2011-0411 guard, and clear errors for bad
 * certificate files.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "buf.h"
#include "iostuff.h"
#include "stream.h"
#include "tls.h"

#define HOST "mail.example.org"
#define CA_CN "Panacea Test CA"
#define BIG (300 * 1024) /* more than any socket buffer: partial writes */
#define EXIT_HANDSHAKE 10

static char dir[64];
static char ca_pem[128], srv_pem[128], srv_key[128], other_key[128];
static char enc_key[128], junk[128];
static struct tls_ctx *server_ctx;

static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

static int
make_certs(void)
{
	char ext[128];
	FILE *fp;

	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", dir);
	snprintf(srv_pem, sizeof(srv_pem), "%s/server.pem", dir);
	snprintf(srv_key, sizeof(srv_key), "%s/server.key", dir);
	snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
	snprintf(enc_key, sizeof(enc_key), "%s/encrypted.key", dir);
	snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
	snprintf(ext, sizeof(ext), "%s/ext.cnf", dir);
	if ((fp = fopen(ext, "w")) == NULL)
		return -1;
	fputs("subjectAltName=DNS:" HOST "\n"
	      "basicConstraints=CA:FALSE\n"
	      "keyUsage=digitalSignature\n"
	      "extendedKeyUsage=serverAuth\n",
	      fp);
	fclose(fp);
	if ((fp = fopen(junk, "w")) == NULL)
		return -1;
	fputs("this is not a certificate\n", fp);
	fclose(fp);
	return sh("cd %s && exec >/dev/null 2>&1 && "
		  "openssl req -x509 -newkey ec -pkeyopt "
		  "ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
		  "-out ca.pem -days 2 -subj '/CN=" CA_CN "' "
		  "-addext basicConstraints=critical,CA:TRUE "
		  "-addext keyUsage=critical,keyCertSign,cRLSign && "
		  "openssl req -newkey ec -pkeyopt "
		  "ec_paramgen_curve:prime256v1 -nodes -keyout server.key "
		  "-out server.csr -subj '/CN=" HOST "' && "
		  "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
		  "-CAcreateserial -days 2 -extfile ext.cnf -out server.pem && "
		  "openssl genpkey -algorithm EC -pkeyopt "
		  "ec_paramgen_curve:prime256v1 -out other.key && "
		  "openssl genpkey -algorithm EC -pkeyopt "
		  "ec_paramgen_curve:prime256v1 -aes256 -pass pass:sesame "
		  "-out encrypted.key",
		  dir);
}

static int
group_setup(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	strcpy(dir, "/tmp/test_tls.XXXXXX");
	if (mkdtemp(dir) == NULL || make_certs() < 0)
		return -1;
	/* Made before any fork, as a daemon does before chroot. */
	server_ctx = tls_server_ctx_new(srv_pem, srv_key, &err);
	if (server_ctx == NULL)
		fprintf(stderr, "server ctx: %s\n", buf_cstr(&err));
	buf_free(&err);
	return server_ctx == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	tls_ctx_free(server_ctx);
	return sh("rm -rf %s", dir);
}

static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 31 + 7);
}

/* --- the server child ------------------------------------------------- */

/* Serves commands over TLS until QUIT: ECHO, BIG (receive BIG bytes and
 * check them), SEND (send BIG bytes), ABORT (exit without close_notify).
 * Exit status 0 when all went well. */
static _Noreturn void
serve(int fd, int starttls)
{
	struct stream s;
	struct buf line = BUF_INIT, err = BUF_INIT;
	unsigned char *data = malloc(BIG);
	struct tls_info info;
	size_t i;
	int st;

	stream_init(&s, fd, 5000);
	if (starttls) {
		if (stream_getline(&s, &line, 1000) != STREAM_LINE ||
		    strcmp(buf_cstr(&line), "STARTTLS") != 0)
			_exit(2);
		stream_puts(&s, "220 2.0.0 Ready to start TLS\r\n");
		if (stream_flush(&s) < 0)
			_exit(3);
		stream_discard_input(&s);
	}
	if (tls_server_start(server_ctx, &s, &info, &err) < 0)
		_exit(EXIT_HANDSHAKE);
	if (!tls_active(&s) || info.peer_cert || info.protocol[0] == '\0')
		_exit(4);
	while ((st = stream_getline(&s, &line, 1000)) == STREAM_LINE) {
		if (strcmp(buf_cstr(&line), "QUIT") == 0) {
			stream_puts(&s, "221 bye\r\n");
			_exit(tls_stop(&s, 1) == 0 && !tls_active(&s) ? 0 : 5);
		} else if (strcmp(buf_cstr(&line), "ABORT") == 0) {
			_exit(0);
		} else if (strcmp(buf_cstr(&line), "BIG") == 0) {
			if (stream_read_full(&s, data, BIG) < 0)
				_exit(6);
			for (i = 0; i < BIG; i++)
				if (data[i] != pattern(i))
					_exit(7);
			stream_puts(&s, "GOT BIG\r\n");
		} else if (strcmp(buf_cstr(&line), "SEND") == 0) {
			for (i = 0; i < BIG; i++)
				data[i] = pattern(i);
			stream_write(&s, data, BIG);
		} else {
			stream_printf(&s, "ECHO %s\r\n", buf_cstr(&line));
		}
		if (stream_flush(&s) < 0)
			_exit(8);
	}
	_exit(9);
}

struct peer {
	pid_t pid;
	int fd; /* the client's end */
};

static struct peer
spawn_server(int starttls)
{
	struct peer p;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p.pid = fork();
	assert_true(p.pid >= 0);
	if (p.pid == 0) {
		close(sv[0]);
		serve(sv[1], starttls);
	}
	close(sv[1]);
	p.fd = sv[0];
	return p;
}

static int
server_status(struct peer *p)
{
	int status;

	close(p->fd);
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static struct tls_ctx *
client_ctx(const char *ca)
{
	struct buf err = BUF_INIT;
	struct tls_ctx *ctx = tls_client_ctx_new(ca, NULL, &err);

	if (ctx == NULL)
		fail_msg("client ctx: %s", buf_cstr(&err));
	buf_free(&err);
	return ctx;
}

/* Frees the stream on sv[0] and closes both ends of the socket pair. */
static void
pair_close(struct stream *s, int sv[2])
{
	stream_free(s);
	close(sv[0]);
	close(sv[1]);
}

/* A client session against a forked serve(): the server, a client
 * context trusting ca (NULL: the system store only), the stream on the
 * client's end (5 s timeout) and room for the error text. */
struct client {
	struct peer p;
	struct tls_ctx *cctx;
	struct buf err;
	struct stream s;
};

static void
client_open(struct client *c, int starttls, const char *ca)
{
	struct buf empty = BUF_INIT;

	c->p = spawn_server(starttls);
	c->cctx = client_ctx(ca);
	c->err = empty;
	stream_init(&c->s, c->p.fd, 5000);
}

/* The client handshake for name at level, which must succeed. */
static void
client_handshake(struct client *c, const char *name, enum tls_level level,
		 struct tls_info *info)
{
	if (tls_client_start(c->cctx, &c->s, name, level, info, &c->err) < 0)
		fail_msg("handshake: %s", buf_cstr(&c->err));
}

/* Frees the session; the server must have exited with status. */
static void
client_close(struct client *c, int status)
{
	stream_free(&c->s);
	assert_int_equal(server_status(&c->p), status);
	tls_ctx_free(c->cctx);
	buf_free(&c->err);
}

static void
expect_line(struct stream *s, const char *want)
{
	struct buf line = BUF_INIT;

	assert_int_equal(stream_getline(s, &line, 1000), STREAM_LINE);
	assert_string_equal(buf_cstr(&line), want);
	buf_free(&line);
}

/* Echo, then BIG bytes each way, then QUIT and the server's
 * close_notify read as end of file. */
static void
talk(struct stream *s)
{
	unsigned char *data = malloc(BIG);
	struct buf line = BUF_INIT;
	size_t i;

	assert_non_null(data);
	stream_puts(s, "hello over TLS\r\n");
	assert_int_equal(stream_flush(s), 0);
	expect_line(s, "ECHO hello over TLS");

	for (i = 0; i < BIG; i++)
		data[i] = pattern(i);
	stream_puts(s, "BIG\r\n");
	stream_write(s, data, BIG);
	assert_int_equal(stream_flush(s), 0);
	expect_line(s, "GOT BIG");

	memset(data, 0, BIG);
	stream_puts(s, "SEND\r\n");
	assert_int_equal(stream_flush(s), 0);
	assert_int_equal(stream_read_full(s, data, BIG), 0);
	for (i = 0; i < BIG; i++)
		if (data[i] != pattern(i))
			fail_msg("byte %zu differs", i);

	stream_puts(s, "QUIT\r\n");
	assert_int_equal(stream_flush(s), 0);
	expect_line(s, "221 bye");
	assert_int_equal(stream_getline(s, &line, 1000), STREAM_EOF);
	assert_int_equal(stream_error(s), 0);
	buf_free(&line);
	free(data);
}

static void
check_info(const struct tls_info *info)
{
	struct buf f = BUF_INIT;
	char want[200];

	assert_true(strcmp(info->protocol, "TLSv1.3") == 0 ||
		    strcmp(info->protocol, "TLSv1.2") == 0);
	assert_true(info->cipher[0] != '\0');
	assert_true(info->cipher_bits >= 128);
	assert_true(info->alg_bits >= info->cipher_bits);
	assert_int_equal(info->peer_cert, 1);
	assert_string_equal(info->peer_cn, HOST);
	assert_string_equal(info->issuer_cn, CA_CN);
	tls_info_format(info, &f);
	snprintf(want, sizeof(want), "%s with cipher %s (%d/%d bits)",
		 info->protocol, info->cipher, info->cipher_bits,
		 info->alg_bits);
	assert_string_equal(buf_cstr(&f), want);
	buf_free(&f);
}

/* --- handshakes ------------------------------------------------------- */

/* Implicit TLS, opportunistic client trusting only the system store: the
 * test CA is unknown, so the session is encrypted but not verified. */
static void
test_may_unverified(void **state)
{
	struct client c;
	struct tls_info info;

	(void)state;
	client_open(&c, 0, NULL);
	client_handshake(&c, HOST, TLS_LEVEL_MAY, &info);
	assert_true(tls_active(&c.s));
	check_info(&info);
	assert_int_equal(info.verified, 0);
	assert_true(info.verify_error[0] != '\0');
	talk(&c.s);
	assert_int_equal(tls_stop(&c.s, 1), 0);
	assert_false(tls_active(&c.s));
	client_close(&c, 0);
}

/* STARTTLS after a plaintext exchange, verified against the test CA. */
static void
test_starttls_verified(void **state)
{
	struct client c;
	struct tls_info info;

	(void)state;
	client_open(&c, 1, ca_pem);
	assert_false(tls_active(&c.s));
	stream_puts(&c.s, "STARTTLS\r\n");
	assert_int_equal(stream_flush(&c.s), 0);
	expect_line(&c.s, "220 2.0.0 Ready to start TLS");
	client_handshake(&c, HOST, TLS_LEVEL_VERIFY, &info);
	check_info(&info);
	assert_int_equal(info.verified, 1);
	assert_string_equal(info.verify_error, "");
	assert_string_equal(tls_stream_error(&c.s), "");
	talk(&c.s);
	assert_int_equal(tls_stop(&c.s, 1), 0);
	client_close(&c, 0);
}

/* verify and secure refuse a certificate for another name or from an
 * unknown CA; the server sees the handshake fail too. */
static void
verify_fails(const char *ca, const char *name, enum tls_level level,
	     const char *why)
{
	struct client c;
	struct tls_info info;

	client_open(&c, 0, ca);
	assert_int_equal(
	    tls_client_start(c.cctx, &c.s, name, level, &info, &c.err), -1);
	assert_false(tls_active(&c.s));
	assert_non_null(strstr(buf_cstr(&c.err), "TLS handshake failed"));
	if (strstr(buf_cstr(&c.err), why) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", buf_cstr(&c.err), why);
	assert_int_equal(ERR_peek_error(), 0);
	client_close(&c, EXIT_HANDSHAKE);
}

static void
test_verify_wrong_name(void **state)
{
	(void)state;
	verify_fails(ca_pem, "other.example.net", TLS_LEVEL_VERIFY,
		     "hostname mismatch");
	verify_fails(ca_pem, "example.org", TLS_LEVEL_SECURE,
		     "hostname mismatch");
	/* No partial wildcards, no suffix match. */
	verify_fails(ca_pem, "xmail.example.org", TLS_LEVEL_SECURE,
		     "hostname mismatch");
}

static void
test_verify_untrusted(void **state)
{
	(void)state;
	/* The system store does not know the test CA. */
	verify_fails(NULL, HOST, TLS_LEVEL_VERIFY, "issuer certificate");
}

/* encrypt does not authenticate: a name mismatch is reported, not
 * fatal. */
static void
test_encrypt_reports_mismatch(void **state)
{
	struct client c;
	struct tls_info info;

	(void)state;
	client_open(&c, 0, ca_pem);
	client_handshake(&c, "other.example.net", TLS_LEVEL_ENCRYPT, &info);
	assert_int_equal(info.verified, 0);
	assert_string_equal(info.verify_error, "hostname mismatch");
	talk(&c.s);
	tls_stop(&c.s, 1);
	client_close(&c, 0);
}

static void
test_verify_needs_name(void **state)
{
	struct tls_ctx *cctx = client_ctx(ca_pem);
	struct buf err = BUF_INIT;
	struct stream s;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	stream_init(&s, sv[0], 1000);
	assert_int_equal(
	    tls_client_start(cctx, &s, NULL, TLS_LEVEL_VERIFY, NULL, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "peer name"));
	pair_close(&s, sv);
	tls_ctx_free(cctx);
	buf_free(&err);
}

/* The peer goes away without close_notify: reads see end of file, and
 * writes fail with EPIPE instead of killing us with SIGPIPE. */
static void
test_abrupt_close(void **state)
{
	struct peer p = spawn_server(0);
	struct tls_ctx *cctx = client_ctx(ca_pem);
	struct buf err = BUF_INIT, line = BUF_INIT;
	struct stream s;
	char chunk[4096];
	int i, rc = 0;

	(void)state;
	assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	stream_init(&s, p.fd, 5000);
	if (tls_client_start(cctx, &s, HOST, TLS_LEVEL_VERIFY, NULL, &err) < 0)
		fail_msg("handshake: %s", buf_cstr(&err));
	stream_puts(&s, "ABORT\r\n");
	assert_int_equal(stream_flush(&s), 0);
	assert_int_equal(stream_getline(&s, &line, 1000), STREAM_EOF);
	assert_int_equal(waitpid(p.pid, NULL, 0), p.pid);
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 100 && rc == 0; i++) {
		stream_write(&s, chunk, sizeof(chunk));
		rc = stream_flush(&s);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(stream_error(&s), STREAM_IOERR);
	assert_true(tls_stream_error(&s)[0] != '\0');
	/* Stopping a broken session frees it without close_notify. */
	tls_stop(&s, 1);
	assert_false(tls_active(&s));
	stream_free(&s);
	close(p.fd);
	tls_ctx_free(cctx);
	buf_free(&err);
	buf_free(&line);
}

/* --- deadlines and bad input ------------------------------------------ */

static void
expect_timeout(int server)
{
	struct tls_ctx *cctx = client_ctx(ca_pem);
	struct buf err = BUF_INIT;
	struct stream s;
	long long t0, took;
	int sv[2], rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	stream_init(&s, sv[0], 300);
	t0 = io_now_ms();
	rc = server
		 ? tls_server_start(server_ctx, &s, NULL, &err)
		 : tls_client_start(cctx, &s, HOST, TLS_LEVEL_MAY, NULL, &err);
	took = io_now_ms() - t0;
	assert_int_equal(rc, -1);
	assert_non_null(strstr(buf_cstr(&err), "timed out"));
	assert_true(took >= 250 && took < 3000);
	pair_close(&s, sv);
	tls_ctx_free(cctx);
	buf_free(&err);
}

/* A silent peer cannot hold a handshake past the stream's timeout. */
static void
test_handshake_deadline(void **state)
{
	(void)state;
	expect_timeout(1);
	expect_timeout(0);
}

/* A client that speaks plaintext where TLS is expected fails at once with
 * a protocol error. */
static void
test_plaintext_client(void **state)
{
	static const char req[] = "EHLO client.example.org\r\n";
	struct buf err = BUF_INIT;
	struct stream s;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], req, sizeof(req) - 1),
			 (ssize_t)sizeof(req) - 1);
	stream_init(&s, sv[0], 3000);
	assert_int_equal(tls_server_start(server_ctx, &s, NULL, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "TLS handshake failed"));
	assert_null(strstr(buf_cstr(&err), "timed out"));
	assert_int_equal(ERR_peek_error(), 0);
	pair_close(&s, sv);
	buf_free(&err);
}

/* CVE-2011-0411: plaintext pipelined after STARTTLS must be discarded
 * before the handshake; start refuses while any is buffered. */
static void
test_pending_plaintext_refused(void **state)
{
	static const char pipelined[] =
	    "STARTTLS\r\nMAIL FROM:<evil@example.net>\r\n";
	struct buf err = BUF_INIT, line = BUF_INIT;
	struct stream s;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], pipelined, sizeof(pipelined) - 1),
			 (ssize_t)sizeof(pipelined) - 1);
	stream_init(&s, sv[0], 1000);
	assert_int_equal(stream_getline(&s, &line, 1000), STREAM_LINE);
	assert_string_equal(buf_cstr(&line), "STARTTLS");
	assert_true(stream_pending(&s) > 0);
	assert_int_equal(tls_server_start(server_ctx, &s, NULL, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "plaintext"));
	assert_false(tls_active(&s));
	stream_discard_input(&s);
	assert_int_equal(stream_pending(&s), 0);
	pair_close(&s, sv);
	buf_free(&err);
	buf_free(&line);
}

/* --- contexts --------------------------------------------------------- */

static void
expect_ctx_error(const char *cert, const char *key, const char *want1,
		 const char *want2)
{
	struct buf err = BUF_INIT;

	assert_null(tls_server_ctx_new(cert, key, &err));
	if (strstr(buf_cstr(&err), want1) == NULL ||
	    (want2 != NULL && strstr(buf_cstr(&err), want2) == NULL))
		fail_msg("\"%s\" lacks \"%s\"", buf_cstr(&err), want1);
	assert_int_equal(ERR_peek_error(), 0);
	buf_free(&err);
}

/* The SHA2-256 digest of the server certificate's public key (a DANE
 * "3 1 1" record). */
static void
server_spki_sha256(unsigned char out[32])
{
	FILE *f = fopen(srv_pem, "r");
	unsigned char *der = NULL;
	X509 *x;
	int len;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	assert_true(len > 0);
	SHA256(der, (size_t)len, out);
	OPENSSL_free(der);
	X509_free(x);
}

/* One DANE handshake; 0 or -1 (the server then failed too). */
static int
dane_try(const struct tls_dane *dane, struct tls_info *info, struct buf *why)
{
	struct tls_client_opts o;
	struct client c;
	int rc;

	memset(&o, 0, sizeof(o));
	o.dane = dane;
	client_open(&c, 0, NULL);
	rc = tls_client_start_opts(c.cctx, &c.s, NULL, TLS_LEVEL_MAY, &o, info,
				   &c.err);
	buf_set(why, buf_cstr(&c.err));
	if (rc == 0)
		talk(&c.s);
	if (rc == 0)
		assert_int_equal(tls_stop(&c.s, 1), 0);
	client_close(&c, rc == 0 ? 0 : EXIT_HANDSHAKE);
	return rc;
}

static void
test_dane(void **state)
{
	unsigned char digest[32];
	struct tls_tlsa rr[2], *ta;
	struct tls_dane dane;
	struct tls_info info;
	struct buf why = BUF_INIT;
	const char *names[] = {"nothing.example", HOST, NULL};
	size_t nta;

	(void)state;
	/* DANE-EE: the key matches, the name is not checked (RFC 7672
	 * 3.1.1), the system store is not needed. */
	server_spki_sha256(digest);
	memset(rr, 0, sizeof(rr));
	rr[0].usage = 3;
	rr[0].selector = 1;
	rr[0].mtype = 1;
	rr[0].data = digest;
	rr[0].len = sizeof(digest);
	memset(&dane, 0, sizeof(dane));
	dane.base = "other.example.net";
	dane.rr = rr;
	dane.count = 1;
	assert_int_equal(dane_try(&dane, &info, &why), 0);
	assert_int_equal(info.verified, 1);
	assert_int_equal(info.dane, 1);

	/* Another digest: the handshake fails. */
	digest[0] ^= 0xff;
	assert_int_equal(dane_try(&dane, &info, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "TLS handshake failed"));

	/* Only PKIX usages: nothing usable, refused before connecting. */
	rr[0].usage = 1;
	assert_int_equal(dane_try(&dane, &info, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "no usable TLSA record"));

	/* DANE-TA from a PEM file (tafile=): the chain must lead to it and
	 * the certificate carry the base domain or one of the names. */
	assert_int_equal(tls_tafile_load(ca_pem, &ta, &nta, &why), 0);
	assert_int_equal(nta, 1);
	assert_int_equal(ta[0].usage, 2);
	dane.rr = ta;
	dane.count = nta;
	dane.base = HOST;
	assert_int_equal(dane_try(&dane, &info, &why), 0);
	assert_int_equal(info.verified, 1);
	dane.base = "other.example.net";
	assert_int_equal(dane_try(&dane, &info, &why), -1);
	dane.names = names;
	assert_int_equal(dane_try(&dane, &info, &why), 0);
	tls_tafile_free(ta, nta);

	buf_reset(&why);
	assert_int_equal(tls_tafile_load(junk, &ta, &nta, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "no certificate"));
	buf_free(&why);
}

static void
test_bad_files(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	expect_ctx_error("/nonexistent/cert.pem", srv_key,
			 "/nonexistent/cert.pem", "No such file");
	expect_ctx_error(srv_pem, "/nonexistent/key.pem",
			 "/nonexistent/key.pem", "No such file");
	expect_ctx_error(junk, srv_key, "cannot load certificate chain", junk);
	expect_ctx_error(srv_pem, junk, "cannot load private key", junk);
	expect_ctx_error(srv_pem, other_key, "does not match", other_key);
	/* An encrypted key fails at once; nobody is asked for a
	 * passphrase. */
	expect_ctx_error(srv_pem, enc_key, "cannot load private key", enc_key);
	expect_ctx_error("", srv_key, "no TLS certificate file", NULL);

	assert_null(tls_client_ctx_new("/nonexistent/ca.pem", NULL, &err));
	assert_non_null(strstr(buf_cstr(&err), "/nonexistent/ca.pem"));
	buf_reset(&err);
	assert_null(tls_client_ctx_new(junk, NULL, &err));
	assert_non_null(strstr(buf_cstr(&err), junk));
	buf_free(&err);
}

/* --- pure helpers ----------------------------------------------------- */

static void
test_levels(void **state)
{
	(void)state;
	assert_int_equal(tls_level_parse("none"), TLS_LEVEL_NONE);
	assert_int_equal(tls_level_parse("may"), TLS_LEVEL_MAY);
	assert_int_equal(tls_level_parse("Encrypt"), TLS_LEVEL_ENCRYPT);
	assert_int_equal(tls_level_parse("verify"), TLS_LEVEL_VERIFY);
	assert_int_equal(tls_level_parse("SECURE"), TLS_LEVEL_SECURE);
	assert_int_equal(tls_level_parse("dane"), -1);
	assert_int_equal(tls_level_parse(""), -1);
	assert_int_equal(tls_level_parse("mayx"), -1);
	assert_string_equal(tls_level_name(TLS_LEVEL_ENCRYPT), "encrypt");
	assert_string_equal(tls_level_name((enum tls_level)42), "unknown");
}

static void
test_copy_printable(void **state)
{
	char out[8];

	(void)state;
	tls_copy_printable(out, sizeof(out),
			   "a\tb\x80"
			   "c");
	assert_string_equal(out, "a?b?c");
	tls_copy_printable(out, sizeof(out), "0123456789");
	assert_string_equal(out, "0123456");
	tls_copy_printable(out, 1, "abc");
	assert_string_equal(out, "");
}

static void
test_drain_errors(void **state)
{
	struct buf out = BUF_INIT;
	BIO *bio;

	(void)state;
	ERR_clear_error();
	tls_drain_errors(&out, "nothing queued");
	assert_string_equal(buf_cstr(&out), "nothing queued");
	buf_reset(&out);
	bio = BIO_new_file("/nonexistent/file", "r");
	assert_null(bio);
	assert_int_not_equal(ERR_peek_error(), 0);
	tls_drain_errors(&out, "nothing queued");
	assert_int_equal(ERR_peek_error(), 0);
	assert_null(strstr(buf_cstr(&out), "nothing queued"));
	assert_non_null(strstr(buf_cstr(&out), "/nonexistent/file"));
	assert_null(strchr(buf_cstr(&out), '\n'));
	buf_free(&out);
}

/* Postfix's protocol syntaxes, with Panacea's TLS 1.2 floor. */
static void
check_protocols(const char *spec, int rc, int min, int max, int below)
{
	struct tls_protocols p;
	struct buf err = BUF_INIT;

	assert_int_equal(tls_protocols_parse(spec, &p, &err), rc);
	if (rc == 0) {
		assert_int_equal(p.min, min);
		assert_int_equal(p.max, max);
		assert_int_equal(p.below_floor, below);
	} else {
		assert_true(err.len > 0);
	}
	buf_free(&err);
}

static void
test_protocols(void **state)
{
	(void)state;
	check_protocols("", 0, 0x303, 0, 1);
	check_protocols(">=TLSv1.2", 0, 0x303, 0, 0);
	check_protocols(">=TLSv1", 0, 0x303, 0, 1);
	check_protocols("!SSLv2, !SSLv3", 0, 0x303, 0, 1);
	check_protocols("!SSLv2:!SSLv3:!TLSv1:!TLSv1.1", 0, 0x303, 0, 0);
	check_protocols("!TLSv1.3", 0, 0x303, 0x303, 1);
	check_protocols("<=TLSv1.2", 0, 0x303, 0x303, 1);
	check_protocols(">=0x0304", 0, 0x304, 0, 0);
	check_protocols(">=303 <=0304", 0, 0x303, 0x304, 0);
	check_protocols("TLSv1.3", 0, 0x304, 0x304, 0);
	check_protocols("TLSv1 TLSv1.2", 0, 0x303, 0x303, 1);
	check_protocols(">=TLSv1.2, <=0305", 0, 0x303, 0x305, 0);
	check_protocols("<=TLSv1.1", -1, 0, 0, 0);
	check_protocols("!TLSv1.2 !TLSv1.3", -1, 0, 0, 0);
	check_protocols("!0x0303", -1, 0, 0, 0);
	check_protocols("TLSv9", -1, 0, 0, 0);
	check_protocols(">=", -1, 0, 0, 0);
}

static void
test_cipherlist(void **state)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(tls_cipherlist_make("HIGH", "H", "M", "N",
					     "aNULL, MD5", "RC4", &out, &err),
			 0);
	assert_string_equal(buf_cstr(&out), "H:!aNULL:!MD5:!RC4");
	buf_reset(&out);
	assert_int_equal(
	    tls_cipherlist_make("medium", "H", "M", "N", "", NULL, &out, &err),
	    0);
	assert_string_equal(buf_cstr(&out), "M");
	assert_int_equal(
	    tls_cipherlist_make("export", "H", "M", "N", "", NULL, &out, &err),
	    -1);
	assert_true(err.len > 0);
	buf_free(&out);
	buf_free(&err);
}

static void
test_ssl_options(void **state)
{
	struct buf err = BUF_INIT;
	uint64_t opts, dropped;

	(void)state;
	assert_int_equal(tls_ssl_options_parse("", &opts, &dropped, &err), 0);
	assert_true(opts == 0 && dropped == 0);
	assert_int_equal(tls_ssl_options_parse("no_ticket, PRIORITIZE_CHACHA",
					       &opts, &dropped, &err),
			 0);
	assert_true(opts == (SSL_OP_NO_TICKET | SSL_OP_PRIORITIZE_CHACHA));
	/* A mask: protocol and server order bits go to dropped. */
	assert_int_equal(
	    tls_ssl_options_parse("0x08200000", &opts, &dropped, &err), 0);
	assert_true(opts == SSL_OP_PRIORITIZE_CHACHA);
	assert_true(dropped == SSL_OP_NO_TLSv1_2);
	assert_int_equal(
	    tls_ssl_options_parse("NO_TICKET bogus", &opts, &dropped, &err),
	    -1);
	assert_non_null(strstr(buf_cstr(&err), "\"bogus\""));
	buf_reset(&err);
	assert_int_equal(tls_ssl_options_parse("0x", &opts, &dropped, &err),
			 -1);
	buf_free(&err);
}

static void
test_groups(void **state)
{
	struct buf err = BUF_INIT, skipped = BUF_INIT;
	struct tls_ctx *ctx = tls_server_ctx_empty(&err);

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(
	    tls_ctx_set_groups(ctx, "X25519, nosuch:secp384r1", &skipped, &err),
	    0);
	assert_string_equal(buf_cstr(&skipped), "nosuch");
	buf_reset(&skipped);
	assert_int_equal(
	    tls_ctx_set_groups(ctx, "nosuch other", &skipped, &err), -1);
	assert_string_equal(buf_cstr(&skipped), "nosuch other");
	assert_int_equal(ERR_peek_error(), 0);
	tls_ctx_free(ctx);
	buf_free(&err);
	buf_free(&skipped);
}

/* The error of tls_ctx_add_chain_files() on the files, which must hold
 * want. */
static void
expect_chain_error(const char *files, const char *want)
{
	struct buf err = BUF_INIT;
	struct tls_ctx *ctx = tls_server_ctx_empty(&err);

	assert_non_null(ctx);
	assert_int_equal(tls_ctx_add_chain_files(ctx, files, &err), -1);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", buf_cstr(&err), want);
	assert_int_equal(ERR_peek_error(), 0);
	tls_ctx_free(ctx);
	buf_free(&err);
}

static void
test_chain_files(void **state)
{
	struct buf err = BUF_INIT, files = BUF_INIT;
	struct tls_ctx *ctx = tls_server_ctx_empty(&err);

	(void)state;
	/* Key and chain in two files, read as one. */
	buf_printf(&files, "%s,%s", srv_key, srv_pem);
	assert_int_equal(tls_ctx_add_chain_files(ctx, buf_cstr(&files), &err),
			 0);
	tls_ctx_free(ctx);
	buf_reset(&files);
	buf_printf(&files, "%s %s", srv_pem, srv_key);
	expect_chain_error(buf_cstr(&files), "PEM object 1: a certificate "
					     "without a private key before it");
	expect_chain_error(srv_key, "not followed by its certificate");
	buf_reset(&files);
	buf_printf(&files, "%s %s", other_key, srv_pem);
	expect_chain_error(buf_cstr(&files), "does not match");
	buf_reset(&files);
	buf_printf(&files, "%s %s %s %s", srv_key, srv_pem, srv_key, srv_pem);
	expect_chain_error(buf_cstr(&files), "more than one EC key");
	expect_chain_error(enc_key, "cannot read the private key");
	expect_chain_error("/nonexistent/chain.pem", "No such file");
	expect_chain_error(junk, "no private key and certificate found");
	buf_free(&err);
	buf_free(&files);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_may_unverified),
	    cmocka_unit_test(test_starttls_verified),
	    cmocka_unit_test(test_verify_wrong_name),
	    cmocka_unit_test(test_verify_untrusted),
	    cmocka_unit_test(test_encrypt_reports_mismatch),
	    cmocka_unit_test(test_verify_needs_name),
	    cmocka_unit_test(test_abrupt_close),
	    cmocka_unit_test(test_handshake_deadline),
	    cmocka_unit_test(test_plaintext_client),
	    cmocka_unit_test(test_pending_plaintext_refused),
	    cmocka_unit_test(test_dane),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_copy_printable),
	    cmocka_unit_test(test_drain_errors),
	    cmocka_unit_test(test_protocols),
	    cmocka_unit_test(test_cipherlist),
	    cmocka_unit_test(test_ssl_options),
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_chain_files),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
