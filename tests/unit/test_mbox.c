/*
 * test_mbox - mbox formatting, the loop check, dotlock and fcntl locks,
 * and the safe_open refusals, on real files, links and processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "mbox.h"
#include "unit_helpers.h"

static char dir[UNIT_DIR_MAX];

static int
setup(void **state)
{
	(void)state;
	return unit_tmpdir(dir, "test_mbox");
}

static int
teardown(void **state)
{
	(void)state;
	return unit_rmtree(dir);
}

static const char *
path_of(const char *name)
{
	return unit_path(dir, name);
}

static void
convert(const char *in, int flags, const char *want)
{
	struct buf out = BUF_INIT;

	mbox_convert(in, strlen(in), flags, &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void
test_convert_crlf_and_quoting(void **state)
{
	(void)state;
	convert("Subject: x\r\n\r\nFrom me\r\nFrom\r\n>From x\r\n",
		MBOX_QUOTE_FROM, "Subject: x\n\n>From me\nFrom\n>From x\n");
	/* Maildir: no quoting; a bare CR stays; a last line gets its LF. */
	convert("a\r\nFrom b\rc\r\nlast", 0, "a\nFrom b\rc\nlast\n");
	/* "From " at the very start is quoted, "from " is not. */
	convert("From x\nfrom y\n", MBOX_QUOTE_FROM, ">From x\nfrom y\n");
	convert("", MBOX_QUOTE_FROM, "");
}

static void
test_from_line(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	mbox_from_line(&out, "alice@example.org", 0);
	assert_string_equal(
	    buf_cstr(&out),
	    "From alice@example.org Thu Jan  1 00:00:00 1970\n");
	buf_reset(&out);
	mbox_from_line(&out, "", 1700000000);
	assert_string_equal(buf_cstr(&out),
			    "From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n");
	buf_reset(&out);
	mbox_from_line(&out, "\"a b\"@x", 0);
	assert_string_equal(buf_cstr(&out),
			    "From \"a_b\"@x Thu Jan  1 00:00:00 1970\n");
	buf_free(&out);
}

static void
test_delivered_to(void **state)
{
	const char *msg = "Received: x\r\nDelivered-To: Bob@Example.ORG\r\n"
			  "delivered-to:  <carol@x>\r\n\r\n"
			  "Delivered-To: dave@x\r\n";

	(void)state;
	assert_true(mbox_delivered_to(msg, strlen(msg), "bob@example.org"));
	assert_true(mbox_delivered_to(msg, strlen(msg), "<carol@x>"));
	assert_true(mbox_delivered_to(msg, strlen(msg), "carol@x"));
	/* The body is not the header section. */
	assert_false(mbox_delivered_to(msg, strlen(msg), "dave@x"));
	assert_false(mbox_delivered_to(msg, strlen(msg), "bob@example"));
	assert_false(mbox_delivered_to("", 0, "bob@example.org"));
}

/* Writes a lock file as another program would. */
static void
write_lock(const char *lock, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	FILE *f = fopen(lock, "w");

	assert_non_null(f);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
test_lock_owner_parse(void **state)
{
	char host[MBOX_LOCK_HOST_MAX + 1];
	long pid;

	(void)state;
	assert_int_equal(mbox_lock_owner_parse("123 mx1.example\n", 16, &pid,
					       host, sizeof(host)),
			 1);
	assert_int_equal(pid, 123);
	assert_string_equal(host, "mx1.example");
	/* liblockfile's shape: a pid, no host; a last line without its end
	 * still names its host. */
	assert_int_equal(
	    mbox_lock_owner_parse("4567\n", 5, &pid, host, sizeof(host)), 1);
	assert_int_equal(pid, 4567);
	assert_string_equal(host, "");
	assert_int_equal(
	    mbox_lock_owner_parse("89 mx", 5, &pid, host, sizeof(host)), 1);
	assert_int_equal(pid, 89);
	assert_string_equal(host, "mx");
	/* A host with anything after it, or that does not fit, is none. */
	assert_int_equal(
	    mbox_lock_owner_parse("89 a b\n", 7, &pid, host, sizeof(host)), 1);
	assert_string_equal(host, "");
	assert_int_equal(
	    mbox_lock_owner_parse("89 abcdef\n", 10, &pid, host, 4), 1);
	assert_string_equal(host, "");
	/* No pid: empty, words, zero, overflow, a NUL. */
	assert_int_equal(mbox_lock_owner_parse("", 0, &pid, host, sizeof(host)),
			 0);
	assert_int_equal(
	    mbox_lock_owner_parse("x 1\n", 4, &pid, host, sizeof(host)), 0);
	assert_int_equal(
	    mbox_lock_owner_parse("0 h\n", 4, &pid, host, sizeof(host)), 0);
	assert_int_equal(mbox_lock_owner_parse("99999999999999999999\n", 21,
					       &pid, host, sizeof(host)),
			 0);
	assert_int_equal(pid, 0);
	assert_int_equal(mbox_lock_owner_parse("\0"
					       "12\n",
					       4, &pid, host, sizeof(host)),
			 0);
}

static void
test_dotlock(void **state)
{
	struct buf why = BUF_INIT;
	const char *mbox = path_of("box");
	char lock[160];
	pid_t pid;
	int status, fd;

	(void)state;
	snprintf(lock, sizeof(lock), "%s.lock", mbox);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_OK);
	assert_int_equal(access(lock, F_OK), 0);
	/* Held by a live process (us): busy, however old. */
	assert_int_equal(mbox_dotlock(mbox, 0, &why), MBOX_LOCK_BUSY);
	assert_non_null(strstr(buf_cstr(&why), "exists"));
	assert_int_equal(mbox_dotunlock(mbox), 0);
	assert_int_not_equal(access(lock, F_OK), 0);

	/* A lock left by a dead process of this host (it names our host
	 * name): stale at once, however young. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(mbox_dotlock(mbox, 300, &why) == MBOX_LOCK_OK ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(access(lock, F_OK), 0);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_OK);
	assert_int_equal(mbox_dotunlock(mbox), 0);

	/* The same dead pid without a host (liblockfile's "PID\n"): it may
	 * be another machine's, so only the age rule: busy while young,
	 * taken when old. */
	struct timeval old[2] = {{time(NULL) - 600, 0}, {time(NULL) - 600, 0}};
	write_lock(lock, "%ld\n", (long)pid);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_BUSY);
	assert_int_equal(utimes(lock, old), 0);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_OK);
	assert_int_equal(mbox_dotunlock(mbox), 0);

	/* Another host's lock: its pid says nothing here, young is busy
	 * (even with a pid that is dead here), old is stale. */
	write_lock(lock, "%ld other-host.example\n", (long)pid);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_BUSY);
	assert_int_equal(utimes(lock, old), 0);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_OK);
	assert_int_equal(mbox_dotunlock(mbox), 0);

	/* A live owner on this host holds it however old it is. */
	char me[256];
	assert_int_equal(gethostname(me, sizeof(me)), 0);
	write_lock(lock, "%ld %s\n", (long)getpid(), me);
	assert_int_equal(utimes(lock, old), 0);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_BUSY);
	assert_int_equal(unlink(lock), 0);

	/* An empty lock (as some clients make), old: stale. */
	fd = open(lock, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_BUSY);
	assert_int_equal(utimes(lock, old), 0);
	assert_int_equal(mbox_dotlock(mbox, 300, &why), MBOX_LOCK_OK);
	assert_int_equal(mbox_dotunlock(mbox), 0);

	/* No directory to put it in: an error, not busy. */
	assert_int_equal(mbox_dotlock(path_of("nodir/box"), 300, &why),
			 MBOX_LOCK_ERROR);
	buf_free(&why);
}

static void
test_fcntl_lock(void **state)
{
	const char *path = path_of("flock");
	int fd, up[2], down[2], status;
	char c;
	pid_t pid;

	(void)state;
	fd = open(path, O_CREAT | O_RDWR, 0600);
	assert_true(fd >= 0);
	/* Two pipes: child to parent, parent to child. */
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd = open(path, O_RDWR);
		int r = mbox_fcntl_lock(cfd);
		c = (char)('0' + r);
		if (write(up[1], &c, 1) != 1)
			_exit(1);
		/* Hold the lock until the parent has tried. */
		if (read(down[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(read(up[0], &c, 1), 1);
	assert_int_equal(c, '0' + MBOX_LOCK_OK);
	assert_int_equal(mbox_fcntl_lock(fd), MBOX_LOCK_BUSY);
	assert_int_equal(write(down[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(mbox_fcntl_lock(fd), MBOX_LOCK_OK);
	close(fd);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}

static void
expect_refused(const char *path, uid_t uid, const char *text)
{
	struct buf why = BUF_INIT;
	struct stat st;
	int fd;

	fd = mbox_safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, uid,
			    (gid_t)-1, "5.2.0", &st, &why);
	assert_int_equal(fd, -1);
	assert_true(strncmp(buf_cstr(&why), "5.2.0 ", 6) == 0);
	if (strstr(buf_cstr(&why), text) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", buf_cstr(&why), text);
	buf_free(&why);
}

static void
test_safe_open(void **state)
{
	struct buf why = BUF_INIT;
	struct stat st;
	char target[160], link_path[160];
	int fd;

	(void)state;
	/* Created when missing, then opened again. */
	fd = mbox_safe_open(path_of("mbox"), O_WRONLY | O_APPEND | O_CREAT,
			    0600, getuid(), getgid(), "5.2.0", &st, &why);
	assert_true(fd >= 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	fd = mbox_safe_open(path_of("mbox"), O_WRONLY | O_APPEND | O_CREAT,
			    0600, getuid(), getgid(), "5.2.0", &st, &why);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 1);
	close(fd);
	/* Without O_CREAT a missing file is an error with a system code. */
	fd = mbox_safe_open(path_of("none"), O_WRONLY, 0600, getuid(), getgid(),
			    "5.2.0", &st, &why);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, ENOENT);

	/* A symbolic link, to an existing file or to nowhere. */
	snprintf(target, sizeof(target), "%s", path_of("mbox"));
	snprintf(link_path, sizeof(link_path), "%s", path_of("symlink"));
	assert_int_equal(symlink(target, link_path), 0);
	expect_refused(link_path, getuid(), "symbolic link");
	snprintf(link_path, sizeof(link_path), "%s", path_of("dangling"));
	assert_int_equal(symlink(path_of("victim"), link_path), 0);
	expect_refused(link_path, getuid(), "symbolic link");
	assert_int_not_equal(access(path_of("victim"), F_OK), 0);

	/* A hard link: both names refused. */
	snprintf(link_path, sizeof(link_path), "%s", path_of("hardlink"));
	assert_int_equal(link(target, link_path), 0);
	expect_refused(link_path, getuid(), "hard link");
	expect_refused(target, getuid(), "hard link");
	assert_int_equal(unlink(link_path), 0);

	/* Not a regular file. */
	assert_int_equal(mkdir(path_of("adir"), 0700), 0);
	expect_refused(path_of("adir"), getuid(), "not a regular file");
	assert_int_equal(mkfifo(path_of("fifo"), 0600), 0);
	expect_refused(path_of("fifo"), getuid(), "not a regular file");

	/* Another owner. */
	expect_refused(target, getuid() + 1, "bad file owner");
	buf_free(&why);
}

static void
test_errno_dsn(void **state)
{
	(void)state;
	assert_string_equal(mbox_errno_dsn(ENOSPC, "5.2.0"), "4.3.0");
	assert_string_equal(mbox_errno_dsn(EFBIG, "5.2.0"), "5.2.2");
	assert_string_equal(mbox_errno_dsn(EDQUOT, "5.2.0"), "4.2.2");
	assert_string_equal(mbox_errno_dsn(EACCES, "5.2.0"), "5.2.0");
}

static long long
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* A child that takes the fcntl lock of path, says so on the pipe go and
 * holds the lock for hold_ms (-1: until killed); returns once the lock
 * is held. */
static pid_t
lock_holder(const char *path, int go[2], int hold_ms)
{
	pid_t pid = fork();
	char c;

	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd = open(path, O_RDWR);
		if (mbox_fcntl_lock(cfd) != MBOX_LOCK_OK)
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		if (hold_ms < 0)
			pause();
		else
			usleep((useconds_t)hold_ms * 1000);
		_exit(0);
	}
	assert_int_equal(read(go[0], &c, 1), 1);
	return pid;
}

/* A lock released after 200 ms is taken soon after, not a whole
 * deliver_lock_delay later; a lock never released fails after the
 * budget of attempts * delay. */
static void
test_lock_wait(void **state)
{
	char path[] = "/tmp/test_mbox_wait.XXXXXX";
	int fd = mkstemp(path), go[2];
	pid_t pid;
	long long t0, dt;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(pipe(go), 0);
	pid = lock_holder(path, go, 200);
	t0 = now_ms();
	assert_int_equal(mbox_fcntl_lock_wait(fd, 5, 1), MBOX_LOCK_OK);
	dt = now_ms() - t0;
	assert_true(dt >= 150 && dt < 800);
	waitpid(pid, NULL, 0);
	mbox_fcntl_unlock(fd);

	pid = lock_holder(path, go, -1);
	t0 = now_ms();
	assert_int_equal(mbox_fcntl_lock_wait(fd, 2, 1), MBOX_LOCK_BUSY);
	dt = now_ms() - t0;
	assert_true(dt >= 1900 && dt < 4000);
	assert_int_equal(mbox_fcntl_lock_wait(fd, 1, 1), MBOX_LOCK_BUSY);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	close(go[0]);
	close(go[1]);
	unlink(path);
}

/* A dot-lock removed after 600 ms is taken when it goes, not at the next
 * tick of the clock (1 ms doubling: the try after 511 ms would be at
 * 1023 ms): the wait watches the lock's directory. */
static void
test_dotlock_wait_wakes_on_removal(void **state)
{
	struct buf why = BUF_INIT;
	const char *mbox = path_of("woken");
	long long t0, dt;
	int go[2], status;
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (mbox_dotlock(mbox, 300, &why) != MBOX_LOCK_OK ||
		    write(go[1], "x", 1) != 1)
			_exit(1);
		usleep(600 * 1000);
		_exit(mbox_dotunlock(mbox) == 0 ? 0 : 1);
	}
	assert_int_equal(read(go[0], &c, 1), 1);
	t0 = now_ms();
	assert_int_equal(mbox_dotlock_wait(mbox, 300, 5, 1, &why),
			 MBOX_LOCK_OK);
	dt = now_ms() - t0;
	assert_true(dt >= 500 && dt < 950);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(mbox_dotunlock(mbox), 0);
	buf_free(&why);
	close(go[0]);
	close(go[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_convert_crlf_and_quoting),
	    cmocka_unit_test(test_from_line),
	    cmocka_unit_test(test_delivered_to),
	    cmocka_unit_test(test_lock_owner_parse),
	    cmocka_unit_test(test_dotlock),
	    cmocka_unit_test(test_fcntl_lock),
	    cmocka_unit_test(test_lock_wait),
	    cmocka_unit_test(test_dotlock_wait_wakes_on_removal),
	    cmocka_unit_test(test_safe_open),
	    cmocka_unit_test(test_errno_dsn),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
