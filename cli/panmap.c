/*
 * panmap - builds and queries lookup tables, as Postfix's postmap (and,
 * with -a, postalias).
 *
 * panmap [-c config_dir] [-a] type:file ...
 * panmap [-c config_dir] -q key|- type:file ...
 *
 * Without -q each hash: or btree: table is built from its text file
 * (hash:/etc/panacea/transport from /etc/panacea/transport; a name
 * without a type means hash:): "key value" lines in postmap's format, or
 * aliases(5) with -a.  The new table replaces the old one atomically
 * (lib/maps.h), so readers never see a half-built table.  The other types
 * are read as they are and have nothing to build.  With -q the tables,
 * of any type lib/maps implements, are searched in order and the value
 * printed; "-q -" reads keys from standard input and prints "key value"
 * for each key found.
 * Exit status: 0; 1 when -q finds nothing; 64 (EX_USAGE) bad arguments;
 * 65 (EX_DATAERR) a table that cannot be built or opened; 75
 * (EX_TEMPFAIL) a lookup failed (a server that does not answer, a key
 * over the length limit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "maps.h"
#include "msg.h"
#include "xalloc.h"

#define USAGE                                                                  \
	"panmap [-c config_dir] [-a] [-q key|-] type:name ...\n"               \
	"table types: hash btree (built by panmap from their text file), "     \
	"texthash cidr regexp pcre (text files read as they are), "            \
	"static:value inline:{key=value, ...} unix:passwd.byname "             \
	"unix:group.byname socketmap:inet:host:port:name "                     \
	"socketmap:unix:path:name tcp:host:port pgsql:/file.cf "               \
	"mysql:/file.cf "                                                      \
	"ldap:/file.cf proxy:type:name (through "                              \
	"the proxymap service)"

/* "file" means "hash:file". */
static char *
spec_of(const char *arg)
{
	struct buf b = BUF_INIT;

	if (strchr(arg, ':') && arg[0] != '/')
		buf_puts(&b, arg);
	else
		buf_printf(&b, "hash:%s", arg);
	return buf_steal(&b);
}

static int
query(struct maps *m, const char *key, int with_key)
{
	struct buf value = BUF_INIT, err = BUF_INIT;
	int r = maps_lookup(m, key, &value, &err);

	if (r < 0)
		fprintf(stderr, "panmap: lookup failed: %s\n", buf_cstr(&err));
	else if (r > 0 && with_key)
		printf("%s\t%s\n", key, buf_cstr(&value));
	else if (r > 0)
		printf("%s\n", buf_cstr(&value));
	buf_free(&value);
	buf_free(&err);
	return r;
}

static int
run_query(const char *key, char **specs, int n)
{
	struct buf list = BUF_INIT, err = BUF_INIT;
	struct maps *m;
	int found = 0, failed = 0, r;

	for (int i = 0; i < n; i++) {
		char *s = spec_of(specs[i]);
		buf_printf(&list, "%s%s", i ? "," : "", s);
		xfree(s);
	}
	if ((m = maps_open(buf_cstr(&list), &err)) == NULL) {
		fprintf(stderr, "panmap: %s\n", buf_cstr(&err));
		buf_free(&list);
		buf_free(&err);
		return EX_DATAERR;
	}
	if (strcmp(key, "-") == 0) {
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, stdin) >= 0) {
			line[strcspn(line, "\r\n")] = '\0';
			if (*line == '\0')
				continue;
			if ((r = query(m, line, 1)) > 0)
				found = 1;
			else if (r < 0)
				failed = 1;
		}
		free(line);
	} else if ((r = query(m, key, 0)) > 0) {
		found = 1;
	} else if (r < 0) {
		failed = 1;
	}
	maps_close(m);
	buf_free(&list);
	buf_free(&err);
	return failed ? EX_TEMPFAIL : found ? EX_OK : 1;
}

int
main(int argc, char **argv)
{
	const char *config_dir = NULL, *key = NULL;
	struct buf err = BUF_INIT;
	int c, flags = 0, status = EX_OK;

	cli_help(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "c:aq:v")) != -1) {
		switch (c) {
		case 'c':
			config_dir = optarg;
			break;
		case 'a':
			flags |= MAP_BUILD_ALIASES;
			break;
		case 'q':
			key = optarg;
			break;
		case 'v':
			break;
		default:
			cli_usage(USAGE);
		}
	}
	cli_init_operands(argc, argv, USAGE, config_dir);
	if (key)
		return run_query(key, argv + optind, argc - optind);
	for (int i = optind; i < argc; i++) {
		char *spec = spec_of(argv[i]);
		buf_reset(&err);
		if (map_build(spec, flags, &err) < 0) {
			fprintf(stderr, "panmap: %s\n", buf_cstr(&err));
			status = EX_DATAERR;
		}
		xfree(spec);
	}
	buf_free(&err);
	return status;
}
