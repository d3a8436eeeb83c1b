/*
 * map_cf - the configuration file of a directory table ("pgsql:/etc/
 * panacea/users.cf", ldap:, mysql:), in Postfix's format for those files
 * (pgsql_table(5), ldap_table(5)): "name = value" lines as in main.cf,
 * '#' comments, a line that starts with white space continues the one
 * before, the last setting of a name wins.  Values are taken as written:
 * no $name expansion (Postfix does none in these files either).
 *
 * The name of such a table must be an absolute path: Postfix's obsolete
 * form ("pgsql:name" with name_hosts etc. in main.cf) would put the
 * password in the world-readable configuration and is refused.  A name
 * the type does not know is a warning naming FILE:LINE, not an error, so
 * that a file written for Postfix with a setting Panacea lacks still
 * opens; a value that does not parse is an error "FILE: name: reason".
 */
#ifndef PANACEA_MAP_CF_H
#define PANACEA_MAP_CF_H

#include "buf.h"
#include "map_int.h"

struct map_cf;

/* Reads path (watched through w when non-NULL); known is a
 * NULL-terminated list of the names the type reads.  NULL with err. */
struct map_cf *map_cf_read(const char *type, const char *path,
			   const char *const *known, struct map_watch *w,
			   struct buf *err);
/* The value of name, or dflt when the file does not set it. */
const char *map_cf_str(const struct map_cf *cf, const char *name,
		       const char *dflt);
/* A number in [min, max] (dflt when unset); 0, or -1 with err. */
int map_cf_int(const struct map_cf *cf, const char *name, long dflt, long min,
	       long max, long *out, struct buf *err);
void map_cf_free(struct map_cf *cf);

#endif
