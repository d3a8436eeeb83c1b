/*
 * map_unix - unix: tables, the system's account databases through NSS:
 * unix:passwd.byname (getpwnam) gives the passwd(5) line
 * "name:passwd:uid:gid:gecos:dir:shell", unix:group.byname (getgrnam)
 * the group(5) line "name:passwd:gid:member,member".  Keys are folded, as
 * Postfix does for these fixed-string tables.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "map_int.h"

enum unix_table { UNIX_PASSWD = 1, UNIX_GROUP };

static int
unix_open(struct map *m, const char *name, struct buf *err)
{
	if (strcmp(name, "passwd.byname") == 0)
		m->data = (void *)(long)UNIX_PASSWD;
	else if (strcmp(name, "group.byname") == 0)
		m->data = (void *)(long)UNIX_GROUP;
	else {
		buf_set(err, "");
		buf_printf(err,
			   "unix:%s: unknown unix table (passwd.byname or "
			   "group.byname)",
			   name);
		return -1;
	}
	return 0;
}

/* Not found, or a temporary error when NSS says so (errno set). */
static int
unix_miss(struct buf *err)
{
	if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF ||
	    errno == EPERM)
		return 0;
	buf_set(err, strerror(errno));
	return -1;
}

static int
unix_lookup(struct map *m, const char *key, struct buf *value, struct buf *err)
{
	errno = 0;
	if ((long)m->data == UNIX_PASSWD) {
		struct passwd *pw = getpwnam(key);
		if (pw == NULL)
			return unix_miss(err);
		buf_reset(value);
		buf_printf(value, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name,
			   pw->pw_passwd, (long)pw->pw_uid, (long)pw->pw_gid,
			   pw->pw_gecos, pw->pw_dir, pw->pw_shell);
		return 1;
	}
	struct group *gr = getgrnam(key);
	if (gr == NULL)
		return unix_miss(err);
	buf_reset(value);
	buf_printf(value, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd,
		   (long)gr->gr_gid);
	for (char **mem = gr->gr_mem; *mem; mem++)
		buf_printf(value, "%s%s", mem == gr->gr_mem ? "" : ",", *mem);
	return 1;
}

static void
unix_close(struct map *m)
{
	(void)m;
}

const struct map_type map_type_unix = {"unix", MAP_T_FOLD, unix_open,
				       unix_lookup, unix_close};
