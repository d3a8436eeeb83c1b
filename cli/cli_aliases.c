/*
 * cli_aliases - newaliases (sendmail -bi, panmap's alias mode): builds
 * each hash: table of alias_database (default $alias_maps, as in Postfix)
 * from its aliases(5) text file with
 * map_build (lib/maps.h), which replaces the table atomically.
 */
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "conf.h"
#include "maps.h"
#include "msg.h"
#include "strutil.h"

int
cli_newaliases(void)
{
	struct buf err = BUF_INIT;
	int n, status = EX_OK;
	char **specs = str_split(conf_str("alias_database"), ", \t", &n);

	for (int i = 0; i < n; i++) {
		if (!str_has_prefix(specs[i], "hash:")) {
			/* unix:passwd.byname and the like have nothing to
			 * build. */
			continue;
		}
		buf_reset(&err);
		if (map_build(specs[i], MAP_BUILD_ALIASES, &err) < 0) {
			msg_warn("%s", buf_cstr(&err));
			status = EX_DATAERR;
		}
	}
	str_list_free(specs);
	buf_free(&err);
	return status;
}
