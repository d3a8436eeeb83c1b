/*
 * sendmail's spool: where a message waits between standard input and
 * smtpd or maildrop/, so that its size costs disk, never memory.  The
 * file has no name (O_TMPFILE, or unlinked at once where the file system
 * lacks it): nobody else can open it, and it vanishes with the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "sendmail.h"

int
spool_create(void)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT;
	int fd, saved;

	if (dir == NULL || *dir != '/')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 &&
	    (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		buf_printf(&path, "%s/sendmail.XXXXXX", dir);
		fd = mkostemp(path.data, O_CLOEXEC);
		if (fd >= 0)
			unlink(path.data);
	}
	saved = errno;
	buf_free(&path);
	errno = saved;
	return fd;
}
