/*
 * test_msg - unit tests of lib/msg.c: the maillog_file it creates is
 * 0640 whatever the umask, group adm when root makes it and the group
 * exists, and a file that exists keeps its mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"

static char dir[] = "/tmp/test_msg.XXXXXX";

static void
path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void
check_new_file(mode_t umask_value, const char *name)
{
	char path[256], text[4096];
	struct group *adm = getgrnam(MSG_MAILLOG_GROUP);
	struct stat st;
	ssize_t n;
	int fd;

	path_of(path, sizeof(path), name);
	umask(umask_value);
	assert_int_equal(msg_log_to(path), 0);
	umask(022);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (geteuid() == 0 && adm != NULL)
		assert_int_equal(st.st_gid, adm->gr_gid);
	msg_info("a line for %s", name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	assert_non_null(strstr(text, name));
}

static void
test_new_file_0640_group_adm(void **state)
{
	(void)state;
	check_new_file(0, "maillog.umask0");
	check_new_file(077, "maillog.umask077");
}

static void
test_existing_file_keeps_its_mode(void **state)
{
	char path[256];
	struct stat st;
	int fd;

	(void)state;
	path_of(path, sizeof(path), "maillog.admin");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0600), 0);
	close(fd);
	assert_int_equal(msg_log_to(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_gid, getegid());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_file_0640_group_adm),
	    cmocka_unit_test(test_existing_file_keeps_its_mode),
	};
	char cmd[300];
	int rc;

	msg_init("test_msg");
	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
