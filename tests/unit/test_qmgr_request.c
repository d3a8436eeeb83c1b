/*
 * test_qmgr_request - lib/qmgr_request: what reaches a listener on
 * QUEUE_DIR/public/qmgr, and the answer when nobody listens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "iostuff.h"
#include "qmgr_request.h"
#include "sock.h"

static char qdir[64];

static int
make_queue_dir(void **state)
{
	char path[128];

	(void)state;
	snprintf(qdir, sizeof(qdir), "/tmp/test_qmgr_request.XXXXXX");
	if (mkdtemp(qdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/public", qdir);
	return mkdir(path, 0700);
}

static int
remove_queue_dir(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/public/qmgr", qdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/public", qdir);
	rmdir(path);
	return rmdir(qdir);
}

/* Listens on public/qmgr; the listening descriptor. */
static int
listen_qmgr(void)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	int fd;

	buf_printf(&path, "%s/public/qmgr", qdir);
	fd = sock_listen_unix(buf_cstr(&path), 0600, 4, &err);
	if (fd < 0)
		fail_msg("listen: %s", buf_cstr(&err));
	buf_free(&path);
	buf_free(&err);
	return fd;
}

/* What one client wrote before it closed. */
static void
expect_received(int lfd, const char *want)
{
	char got[64];
	size_t len = 0;
	ssize_t n;
	int fd = accept(lfd, NULL, NULL);

	assert_true(fd >= 0);
	while ((n = io_read_timeout(fd, got + len, sizeof(got) - 1 - len,
				    1000)) > 0)
		len += (size_t)n;
	assert_true(n == 0);
	got[len] = '\0';
	assert_string_equal(got, want);
	close(fd);
}

static void
test_wakeup_sends_w(void **state)
{
	int lfd = listen_qmgr();

	(void)state;
	assert_int_equal(qmgr_wakeup(qdir), 0);
	expect_received(lfd, "W");
	close(lfd);
}

static void
test_request_sends_text(void **state)
{
	int lfd = listen_qmgr();

	(void)state;
	assert_int_equal(qmgr_request(qdir, "Sexample.org", 1000), 0);
	expect_received(lfd, "Sexample.org");
	assert_int_equal(qmgr_request(qdir, "F\nIABCDEFGHJK0123456", 1000),
			 0);
	expect_received(lfd, "F\nIABCDEFGHJK0123456");
	close(lfd);
}

/* No qmgr: -1 at once, and nothing else happens. */
static void
test_no_qmgr(void **state)
{
	char path[128];
	int fd;

	(void)state;
	assert_int_equal(qmgr_wakeup(qdir), -1);
	assert_int_equal(qmgr_request(qdir, "F", 1000), -1);
	/* A socket nobody accepts on any more: refused, not waited for. */
	fd = listen_qmgr();
	close(fd);
	assert_int_equal(qmgr_wakeup(qdir), -1);
	/* Something that is no socket. */
	snprintf(path, sizeof(path), "%s/public/qmgr", qdir);
	unlink(path);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(qmgr_wakeup(qdir), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_wakeup_sends_w,
					    make_queue_dir, remove_queue_dir),
	    cmocka_unit_test_setup_teardown(test_request_sends_text,
					    make_queue_dir, remove_queue_dir),
	    cmocka_unit_test_setup_teardown(test_no_qmgr, make_queue_dir,
					    remove_queue_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
