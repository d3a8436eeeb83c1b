/*
 * qmgr_request - the client side of public/qmgr (qmgr_request.h).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "iostuff.h"
#include "msg.h"
#include "qmgr_request.h"
#include "sock.h"

int
qmgr_request(const char *queue_dir, const char *request, int timeout_ms)
{
	struct buf path = BUF_INIT;
	int fd, saved, r = -1;

	buf_printf(&path, "%s/public/qmgr", queue_dir);
	fd = sock_connect_unix(buf_cstr(&path), timeout_ms);
	if (fd >= 0) {
		r = io_write_full(fd, request, strlen(request), timeout_ms);
		saved = errno;
		close(fd);
		errno = saved;
	}
	buf_free(&path);
	return r < 0 ? -1 : 0;
}

int
qmgr_wakeup(const char *queue_dir)
{
	static const char wakeup[] = {QMGR_REQ_WAKEUP, '\0'};

	if (qmgr_request(queue_dir, wakeup, QMGR_WAKEUP_TIMEOUT_MS) < 0) {
		/* Its timer finds the mail (not started yet, or busy). */
		msg_debug("qmgr wakeup: %s", strerror(errno));
		return -1;
	}
	return 0;
}
