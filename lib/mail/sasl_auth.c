/*
 * sasl_auth - SASL authentication with libsasl2; see sasl_auth.h.
 *
 * libsasl2 reads its options through a global SASL_CB_GETOPT callback,
 * which is asked before the configuration file, so the password check
 * method, the auxprop plugin and the sasldb path given here always win.
 * The option strings live in this module for the life of the process
 * because libsasl2 keeps the pointers it is given.
 *
 * A server session uses each libsasl2 connection for at most one
 * exchange: every start makes a new one, and any failure and every reset
 * dispose of it (CVE-2011-1720).  Listing mechanisms uses a connection
 * that no exchange has touched.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sasl/sasl.h>

#include "msg.h"
#include "sasl_auth.h"
#include "xalloc.h"

/* libsasl2 declares every callback as int (*)(void). */
#define SASL_CB_FN(f) ((int (*)(void))(void (*)(void))(f))

#define MECH_NAME_MAX 20 /* SASL_MECHNAMEMAX of RFC 4422 */

struct sasl_auth_server {
	char *service;
	char *server_fqdn;
	char *user_realm;
	char *local_addr;
	char *remote_addr;
	int allow_plaintext;
	unsigned external_ssf;
	sasl_conn_t *conn;
	int in_progress; /* start() said CONTINUE, no final answer yet */
	char *mech;
	char *username;
};

struct sasl_auth_client {
	sasl_conn_t *conn;
	char *username;
	sasl_secret_t *secret;
	size_t secret_size;
	sasl_callback_t callbacks[4];
};

static char *opt_sasldb_path;
static char *opt_mech_list;
static int server_ready;
static int client_ready;

/* --- global setup ------------------------------------------------------ */

static int
getopt_cb(void *context, const char *plugin_name, const char *option,
	  const char **result, unsigned *len)
{
	const char *value = NULL;

	(void)context;
	(void)plugin_name;
	if (strcmp(option, "pwcheck_method") == 0)
		value = "auxprop";
	else if (strcmp(option, "auxprop_plugin") == 0)
		value = "sasldb";
	else if (strcmp(option, "sasldb_path") == 0)
		value = opt_sasldb_path;
	else if (strcmp(option, "mech_list") == 0)
		value = opt_mech_list;
	if (value == NULL)
		return SASL_FAIL; /* not ours: libsasl2's default */
	*result = value;
	if (len != NULL)
		*len = (unsigned)strlen(value);
	return SASL_OK;
}

static int
log_cb(void *context, int level, const char *message)
{
	(void)context;
	if (message == NULL)
		return SASL_OK;
	switch (level) {
	case SASL_LOG_ERR:
	case SASL_LOG_FAIL:
		msg_warn("SASL authentication problem: %s", message);
		break;
	case SASL_LOG_WARN:
		msg_warn("SASL authentication failure: %s", message);
		break;
	case SASL_LOG_NOTE:
		if (msg_verbose)
			msg_info("SASL: %s", message);
		break;
	default:
		if (msg_verbose > 1)
			msg_debug("SASL: %s", message);
		break;
	}
	return SASL_OK;
}

static const sasl_callback_t global_callbacks[] = {
    {SASL_CB_GETOPT, SASL_CB_FN(getopt_cb), NULL},
    {SASL_CB_LOG, SASL_CB_FN(log_cb), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

int
sasl_auth_server_init(const struct sasl_auth_server_config *cfg,
		      struct buf *err)
{
	int r;

	if (cfg->sasldb_path == NULL || *cfg->sasldb_path == '\0') {
		buf_puts(err, "no sasldb_path configured");
		return -1;
	}
	if (cfg->preload) {
		buf_puts(err, "the sasldb is no longer preloaded: passwords "
			      "are checked by the auth service");
		return -1;
	}
	sasl_auth_server_set_dbpath(cfg->sasldb_path);
	xfree(opt_mech_list);
	opt_mech_list = cfg->mech_list != NULL && *cfg->mech_list != '\0'
			    ? xstrdup(cfg->mech_list)
			    : NULL;
	if (!server_ready) {
		r = sasl_server_init(global_callbacks, "panacea");
		if (r != SASL_OK) {
			buf_printf(err, "cannot initialize SASL server: %s",
				   sasl_errstring(r, NULL, NULL));
			return -1;
		}
		server_ready = 1;
		if (access(cfg->sasldb_path, R_OK) != 0)
			msg_warn("SASL database %s is not readable: %s",
				 cfg->sasldb_path, strerror(errno));
	}
	return 0;
}

void
sasl_auth_server_set_dbpath(const char *path)
{
	xfree(opt_sasldb_path);
	opt_sasldb_path = xstrdup(path);
}

void
sasl_auth_done(void)
{
	if (server_ready)
		sasl_server_done();
	if (client_ready)
		sasl_client_done();
	server_ready = client_ready = 0;
	xfree(opt_sasldb_path);
	xfree(opt_mech_list);
	opt_sasldb_path = opt_mech_list = NULL;
}

/* Security properties: no security layer (the stream is plain or TLS and
 * stays so), never anonymous, plaintext mechanisms only when allowed. */
static int
set_secprops(sasl_conn_t *conn, int allow_plaintext)
{
	sasl_security_properties_t props;

	memset(&props, 0, sizeof(props));
	props.min_ssf = 0;
	props.max_ssf = 0;
	props.maxbufsize = 0;
	props.security_flags = SASL_SEC_NOANONYMOUS;
	if (!allow_plaintext)
		props.security_flags |= SASL_SEC_NOPLAINTEXT;
	return sasl_setprop(conn, SASL_SEC_PROPS, &props);
}

/* --- server sessions --------------------------------------------------- */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
server_dispose(struct sasl_auth_server *srv)
{
	if (srv->conn != NULL)
		sasl_dispose(&srv->conn);
	srv->conn = NULL;
	srv->in_progress = 0;
}

/* A new libsasl2 connection for srv; 0, or -1 with err set. */
static int
server_open(struct sasl_auth_server *srv, struct buf *err)
{
	sasl_ssf_t ssf = srv->external_ssf;
	int r;

	server_dispose(srv);
	r = sasl_server_new(srv->service, srv->server_fqdn, srv->user_realm,
			    srv->local_addr, srv->remote_addr, NULL, 0,
			    &srv->conn);
	if (r != SASL_OK) {
		buf_printf(err, "cannot create SASL server context: %s",
			   sasl_errstring(r, NULL, NULL));
		srv->conn = NULL;
		return -1;
	}
	if ((r = sasl_setprop(srv->conn, SASL_SSF_EXTERNAL, &ssf)) != SASL_OK ||
	    (r = set_secprops(srv->conn, srv->allow_plaintext)) != SASL_OK) {
		buf_printf(err, "cannot set SASL security properties: %s",
			   sasl_errdetail(srv->conn));
		server_dispose(srv);
		return -1;
	}
	return 0;
}

struct sasl_auth_server *
sasl_auth_server_new(const struct sasl_auth_server_params *params,
		     struct buf *err)
{
	struct sasl_auth_server *srv;

	if (!server_ready) {
		buf_puts(err, "SASL server not initialized");
		return NULL;
	}
	srv = xcalloc(1, sizeof(*srv));
	srv->service = xstrdup(params->service);
	srv->server_fqdn = xstrdup(params->server_fqdn);
	srv->user_realm = dup_or_null(params->user_realm);
	srv->local_addr = dup_or_null(params->local_addr);
	srv->remote_addr = dup_or_null(params->remote_addr);
	srv->allow_plaintext = params->allow_plaintext;
	srv->external_ssf = params->external_ssf;
	if (server_open(srv, err) < 0) {
		sasl_auth_server_free(srv);
		return NULL;
	}
	return srv;
}

void
sasl_auth_server_reset(struct sasl_auth_server *srv)
{
	server_dispose(srv);
	xfree(srv->mech);
	xfree(srv->username);
	srv->mech = NULL;
	srv->username = NULL;
}

void
sasl_auth_server_free(struct sasl_auth_server *srv)
{
	if (srv == NULL)
		return;
	sasl_auth_server_reset(srv);
	xfree(srv->service);
	xfree(srv->server_fqdn);
	xfree(srv->user_realm);
	xfree(srv->local_addr);
	xfree(srv->remote_addr);
	xfree(srv);
}

int
sasl_auth_server_mechs(struct sasl_auth_server *srv, struct buf *out,
		       struct buf *err)
{
	const char *list;
	unsigned len;
	int count, r;

	buf_reset(out);
	if (srv->conn == NULL && server_open(srv, err) < 0)
		return -1;
	r = sasl_listmech(srv->conn, NULL, "", " ", "", &list, &len, &count);
	if (r != SASL_OK) {
		buf_printf(err, "cannot list SASL mechanisms: %s",
			   sasl_errdetail(srv->conn));
		return -1;
	}
	if (count == 0 || len == 0) {
		buf_puts(err, "no SASL mechanism available");
		return -1;
	}
	buf_append(out, list, len);
	return 0;
}

int
sasl_auth_server_has_mech(struct sasl_auth_server *srv, const char *mech)
{
	struct buf list = BUF_INIT, err = BUF_INIT;
	const char *p;
	size_t n = strlen(mech);
	int found = 0;

	if (n > 0 && sasl_auth_server_mechs(srv, &list, &err) == 0) {
		for (p = buf_cstr(&list); *p != '\0' && !found;) {
			size_t w = strcspn(p, " ");

			found = w == n && strncasecmp(p, mech, n) == 0;
			p += w + (p[w] == ' ');
		}
	}
	buf_free(&list);
	buf_free(&err);
	return found;
}

/* 1 when name is acceptable as an authenticated user name. */
static int
good_username(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > SASL_AUTH_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

/* A copy of name without "@realm" when it ends so (case-insensitive);
 * names of other realms keep theirs. */
static char *
strip_realm(const char *name, const char *realm)
{
	size_t n = strlen(name), r = strlen(realm);

	if (r > 0 && n > r + 1 && name[n - r - 1] == '@' &&
	    strcasecmp(name + n - r, realm) == 0)
		return xstrndup(name, n - r - 1);
	return xstrdup(name);
}

/* 1 when mech looks like a SASL mechanism name (RFC 4422 3.1). */
static int
good_mech_name(const char *mech)
{
	size_t i, n = strlen(mech);

	if (n == 0 || n > MECH_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = mech[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* Ends a failed exchange: reason for the log, connection disposed. */
static enum sasl_auth_result
server_fail(struct sasl_auth_server *srv, enum sasl_auth_result result,
	    const char *why, struct buf *reason)
{
	buf_puts(reason, why);
	server_dispose(srv);
	return result;
}

static enum sasl_auth_result
server_result(struct sasl_auth_server *srv, int r, const char *out,
	      unsigned outlen, struct buf *challenge, struct buf *reason)
{
	const void *user = NULL;

	switch (r) {
	case SASL_CONTINUE:
		srv->in_progress = 1;
		buf_append(challenge, out != NULL ? out : "", outlen);
		return SASL_AUTH_CONTINUE;
	case SASL_OK:
		srv->in_progress = 0;
		if (sasl_getprop(srv->conn, SASL_USERNAME, &user) != SASL_OK ||
		    user == NULL)
			return server_fail(srv, SASL_AUTH_FAIL,
					   "no user name after authentication",
					   reason);
		if (!good_username(user))
			return server_fail(srv, SASL_AUTH_FAIL,
					   "unacceptable user name", reason);
		srv->username = strip_realm(user, srv->user_realm != NULL
						      ? srv->user_realm
						      : srv->server_fqdn);
		return SASL_AUTH_OK;
	case SASL_NOMECH:
	case SASL_TOOWEAK:
	case SASL_ENCRYPT:
		return server_fail(srv, SASL_AUTH_NOMECH,
				   sasl_errdetail(srv->conn), reason);
	case SASL_TRYAGAIN:
	case SASL_UNAVAIL:
	case SASL_NOMEM:
		return server_fail(srv, SASL_AUTH_TEMPFAIL,
				   sasl_errdetail(srv->conn), reason);
	default:
		return server_fail(srv, SASL_AUTH_FAIL,
				   sasl_errdetail(srv->conn), reason);
	}
}

enum sasl_auth_result
sasl_auth_server_start(struct sasl_auth_server *srv, const char *mech,
		       const void *resp, size_t resp_len, struct buf *challenge,
		       struct buf *reason)
{
	enum sasl_auth_result bad = SASL_AUTH_FAIL;
	const char *out = NULL, *why = NULL;
	unsigned outlen = 0;
	int r;

	sasl_auth_server_reset(srv);
	if (!good_mech_name(mech)) {
		bad = SASL_AUTH_NOMECH;
		why = "bad mechanism name";
	} else if (resp_len > UINT_MAX) {
		bad = SASL_AUTH_FAIL;
		why = "response too long";
	} else if (server_open(srv, reason) < 0) {
		bad = SASL_AUTH_TEMPFAIL;
		why = ""; /* server_open said why */
	}
	if (why != NULL) {
		buf_reset(challenge);
		return server_fail(srv, bad, why, reason);
	}
	srv->mech = xstrdup(mech);
	r = sasl_server_start(srv->conn, mech, resp, (unsigned)resp_len, &out,
			      &outlen);
	buf_reset(challenge); /* only now: resp may point into it */
	return server_result(srv, r, out, outlen, challenge, reason);
}

enum sasl_auth_result
sasl_auth_server_step(struct sasl_auth_server *srv, const void *resp,
		      size_t resp_len, struct buf *challenge,
		      struct buf *reason)
{
	const char *out = NULL;
	unsigned outlen = 0;
	int r;

	if (!srv->in_progress || srv->conn == NULL)
		return server_fail(srv, SASL_AUTH_FAIL,
				   "no SASL exchange in progress", reason);
	if (resp_len > UINT_MAX)
		return server_fail(srv, SASL_AUTH_FAIL, "response too long",
				   reason);
	r = sasl_server_step(srv->conn, resp != NULL ? resp : "",
			     (unsigned)resp_len, &out, &outlen);
	/* challenge is replaced only now: resp may point into it. */
	buf_reset(challenge);
	return server_result(srv, r, out, outlen, challenge, reason);
}

enum sasl_auth_result
sasl_auth_server_checkpass(struct sasl_auth_server *srv, const char *user,
			   const char *password, struct buf *reason)
{
	size_t ulen = strlen(user), plen = strlen(password);
	int r;

	sasl_auth_server_reset(srv);
	if (ulen == 0 || ulen > SASL_AUTH_NAME_MAX || plen > UINT_MAX)
		return server_fail(srv, SASL_AUTH_FAIL,
				   "bad user name or password length", reason);
	if (server_open(srv, reason) < 0)
		return server_fail(srv, SASL_AUTH_TEMPFAIL, "", reason);
	srv->mech = xstrdup("PASSWORD");
	r = sasl_checkpass(srv->conn, user, (unsigned)ulen, password,
			   (unsigned)plen);
	/* One step, never a challenge. */
	return server_result(srv, r == SASL_CONTINUE ? SASL_FAIL : r, NULL, 0,
			     NULL, reason);
}

const char *
sasl_auth_server_username(const struct sasl_auth_server *srv)
{
	return srv->username;
}

const char *
sasl_auth_server_mech(const struct sasl_auth_server *srv)
{
	return srv->mech;
}

/* --- client sessions --------------------------------------------------- */

static int
client_simple_cb(void *context, int id, const char **result, unsigned *len)
{
	struct sasl_auth_client *cli = context;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_FAIL;
	*result = cli->username;
	if (len != NULL)
		*len = (unsigned)strlen(cli->username);
	return SASL_OK;
}

static int
client_secret_cb(sasl_conn_t *conn, void *context, int id,
		 sasl_secret_t **psecret)
{
	struct sasl_auth_client *cli = context;

	(void)conn;
	if (id != SASL_CB_PASS || psecret == NULL)
		return SASL_BADPARAM;
	*psecret = cli->secret;
	return SASL_OK;
}

struct sasl_auth_client *
sasl_auth_client_new(const char *service, const char *server_host,
		     const char *username, const char *password,
		     int allow_plaintext, struct buf *err)
{
	struct sasl_auth_client *cli;
	size_t plen = strlen(password);
	int r;

	if (!client_ready) {
		if ((r = sasl_client_init(NULL)) != SASL_OK) {
			buf_printf(err, "cannot initialize SASL client: %s",
				   sasl_errstring(r, NULL, NULL));
			return NULL;
		}
		client_ready = 1;
	}
	if (plen > UINT_MAX - 1) {
		buf_puts(err, "SASL password too long");
		return NULL;
	}
	cli = xcalloc(1, sizeof(*cli));
	cli->username = xstrdup(username);
	cli->secret_size = sizeof(sasl_secret_t) + plen + 1;
	cli->secret = xcalloc(1, cli->secret_size);
	cli->secret->len = (unsigned long)plen;
	memcpy(cli->secret->data, password, plen);
	cli->callbacks[0] =
	    (sasl_callback_t){SASL_CB_USER, SASL_CB_FN(client_simple_cb), cli};
	cli->callbacks[1] = (sasl_callback_t){
	    SASL_CB_AUTHNAME, SASL_CB_FN(client_simple_cb), cli};
	cli->callbacks[2] =
	    (sasl_callback_t){SASL_CB_PASS, SASL_CB_FN(client_secret_cb), cli};
	cli->callbacks[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
	r = sasl_client_new(service, server_host, NULL, NULL, cli->callbacks, 0,
			    &cli->conn);
	if (r != SASL_OK) {
		buf_printf(err, "cannot create SASL client context: %s",
			   sasl_errstring(r, NULL, NULL));
		cli->conn = NULL;
		sasl_auth_client_free(cli);
		return NULL;
	}
	if (set_secprops(cli->conn, allow_plaintext) != SASL_OK) {
		buf_printf(err, "cannot set SASL security properties: %s",
			   sasl_errdetail(cli->conn));
		sasl_auth_client_free(cli);
		return NULL;
	}
	return cli;
}

void
sasl_auth_client_free(struct sasl_auth_client *cli)
{
	if (cli == NULL)
		return;
	if (cli->conn != NULL)
		sasl_dispose(&cli->conn);
	if (cli->secret != NULL)
		explicit_bzero(cli->secret, cli->secret_size);
	xfree(cli->secret);
	xfree(cli->username);
	xfree(cli);
}

static enum sasl_auth_result
client_result(struct sasl_auth_client *cli, int r, struct buf *reason)
{
	switch (r) {
	case SASL_OK:
		return SASL_AUTH_OK;
	case SASL_CONTINUE:
		return SASL_AUTH_CONTINUE;
	case SASL_NOMECH:
	case SASL_TOOWEAK:
	case SASL_ENCRYPT:
		buf_puts(reason, sasl_errdetail(cli->conn));
		return SASL_AUTH_NOMECH;
	case SASL_INTERACT:
		buf_puts(reason, "SASL mechanism wants unsupported input");
		return SASL_AUTH_FAIL;
	case SASL_TRYAGAIN:
	case SASL_UNAVAIL:
	case SASL_NOMEM:
		buf_puts(reason, sasl_errdetail(cli->conn));
		return SASL_AUTH_TEMPFAIL;
	default:
		buf_puts(reason, sasl_errdetail(cli->conn));
		return SASL_AUTH_FAIL;
	}
}

enum sasl_auth_result
sasl_auth_client_start(struct sasl_auth_client *cli, const char *mechs,
		       const char **mech, struct buf *initial, int *has_initial,
		       struct buf *reason)
{
	sasl_interact_t *interact = NULL;
	const char *out = NULL;
	unsigned outlen = 0;
	enum sasl_auth_result res;

	buf_reset(initial);
	*has_initial = 0;
	*mech = NULL;
	res = client_result(
	    cli,
	    sasl_client_start(cli->conn, mechs, &interact, &out, &outlen, mech),
	    reason);
	if (res != SASL_AUTH_OK && res != SASL_AUTH_CONTINUE)
		return res;
	if (out != NULL) {
		*has_initial = 1;
		buf_append(initial, out, outlen);
	}
	return res;
}

enum sasl_auth_result
sasl_auth_client_step(struct sasl_auth_client *cli, const void *challenge,
		      size_t challenge_len, struct buf *response,
		      struct buf *reason)
{
	sasl_interact_t *interact = NULL;
	const char *out = NULL;
	unsigned outlen = 0;
	enum sasl_auth_result res;

	buf_reset(response);
	if (challenge_len > UINT_MAX) {
		buf_puts(reason, "SASL challenge too long");
		return SASL_AUTH_FAIL;
	}
	res = client_result(
	    cli,
	    sasl_client_step(cli->conn, challenge != NULL ? challenge : "",
			     (unsigned)challenge_len, &interact, &out, &outlen),
	    reason);
	if ((res == SASL_AUTH_OK || res == SASL_AUTH_CONTINUE) && out != NULL)
		buf_append(response, out, outlen);
	return res;
}
