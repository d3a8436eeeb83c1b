/*
 * tls_sni - Postfix's tls_server_sni_maps: smtpd's certificates by the
 * name a client sends (SNI); see tls_params.h.
 *
 * Postfix reads the certificates out of the table itself (postmap -F
 * stores the files' contents).  Panacea's tables hold the chain file
 * names, as written: the files must be read before the jail, so the
 * values of the tables whose text can be read ahead (hash, btree,
 * texthash: their source files) are loaded at start, one certificate
 * context per distinct value.  At each handshake the real lookup (the
 * name, then each parent with a leading dot) picks the value, and with
 * it the context; a value found in another kind of table that was not
 * loaded at start is logged and the default certificate is used.
 */
#include <string.h>

#include "map_text.h"
#include "maps.h"
#include "msg.h"
#include "strutil.h"
#include "tls_params.h"
#include "xalloc.h"

#define SNI_NAME_MAX 255

struct sni_chain {
	char *value; /* the table's value: chain files */
	struct tls_ctx *ctx;
};

static struct {
	struct maps *maps;
	struct sni_chain *chains;
	size_t count;
} sni;

static struct tls_ctx *
find_chain(const char *value)
{
	size_t i;

	for (i = 0; i < sni.count; i++)
		if (strcmp(sni.chains[i].value, value) == 0)
			return sni.chains[i].ctx;
	return NULL;
}

/* map_text_read()'s callback: loads the chain files of one entry. */
static int
load_entry(char *line, long lineno, void *arg, struct buf *err)
{
	struct tls_ctx *ctx;
	char *key, *value;

	(void)lineno;
	(void)arg;
	if (map_text_entry(line, 0, &key, &value, err) < 0)
		return -1;
	if (find_chain(value) != NULL)
		return 0;
	if ((ctx = tls_server_ctx_empty(err)) == NULL)
		return -1;
	if (tls_ctx_add_chain_files(ctx, value, err) < 0) {
		tls_ctx_free(ctx);
		return -1;
	}
	sni.chains =
	    xrealloc(sni.chains, (sni.count + 1) * sizeof(*sni.chains));
	sni.chains[sni.count].value = xstrdup(value);
	sni.chains[sni.count].ctx = ctx;
	sni.count++;
	return 0;
}

/* 1 when name is a host name (letters, digits, '-', '.'). */
static int
valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= SNI_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n &&
	       name[0] != '.' && strstr(name, "..") == NULL;
}

/* The lookup: the name, then ".parent" for each parent domain. */
static struct tls_ctx *
choose(const char *name, void *arg)
{
	struct buf value = BUF_INIT, err = BUF_INIT;
	struct tls_ctx *ctx = NULL;
	const char *key;
	int rc = 0;

	(void)arg;
	if (!valid_name(name)) {
		msg_warn("TLS SNI name is invalid: %.100s", name);
		return NULL;
	}
	for (key = name; key != NULL && rc == 0;
	     key = strchr(key + (*key == '.'), '.'))
		rc = maps_lookup(sni.maps, key, &value, &err);
	if (rc < 0) {
		msg_warn("tls_server_sni_maps: %s; using the default "
			 "certificate",
			 buf_cstr(&err));
	} else if (rc == 0) {
		msg_info("TLS SNI %s not matched, using the default "
			 "certificate",
			 name);
	} else if ((ctx = find_chain(buf_cstr(&value))) == NULL) {
		msg_warn("tls_server_sni_maps: the chain files \"%.200s\" of "
			 "%s were not loaded at start (only hash, btree and "
			 "texthash tables are read ahead); using the default "
			 "certificate",
			 buf_cstr(&value), name);
	}
	buf_free(&value);
	buf_free(&err);
	return ctx;
}

void
tls_sni_init(struct tls_ctx *ctx, const char *spec)
{
	struct buf err = BUF_INIT;
	char **tables, *colon;
	int i;

	if ((sni.maps = maps_open(spec, &err)) == NULL ||
	    (tables = maps_split(spec, NULL, &err)) == NULL)
		msg_fatal("tls_server_sni_maps: %s", buf_cstr(&err));
	for (i = 0; tables[i] != NULL; i++) {
		if ((colon = strchr(tables[i], ':')) == NULL)
			continue;
		*colon = '\0';
		if (strcmp(tables[i], "hash") != 0 &&
		    strcmp(tables[i], "btree") != 0 &&
		    strcmp(tables[i], "texthash") != 0)
			continue;
		if (map_text_read(colon + 1, load_entry, NULL, NULL, &err) < 0)
			msg_fatal("tls_server_sni_maps: %s", buf_cstr(&err));
	}
	str_list_free(tables);
	tls_server_ctx_sni(ctx, choose, NULL);
	buf_free(&err);
}
