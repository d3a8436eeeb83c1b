/*
 * test_sock - lib/sock: endpoint parsing, real listeners on loopback
 * (IPv4, IPv6 when the machine has it, UNIX), connects with timeouts and
 * peer credentials.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "buf.h"
#include "iostuff.h"
#include "sock.h"
#include "xalloc.h"

static void
expect_endpoint(const char *spec, const char *host, const char *port)
{
	char *h, *p;

	if (sock_parse_endpoint(spec, &h, &p) != 0)
		fail_msg("\"%s\" refused", spec);
	if (host == NULL)
		assert_null(h);
	else
		assert_string_equal(h, host);
	assert_string_equal(p, port);
	xfree(h);
	xfree(p);
}

static void
test_parse_endpoint(void **state)
{
	static const char *bad[] = {
	    "",		  ":25",     "host:",	 "host:x25",   "host:65536",
	    "99999",	  "123456",  "-1",	 "[::1]",      "[::1]25",
	    "[]:25",	  "[::1:25", "::1:25",	 "a:b:25",     "[host]:25",
	    "host:25 ",	  "[::1]:",  "host:+25", "[[::1]]:25", "nosuchservice",
	    "host:smtp!",
	};
	char *h, *p;
	size_t i;

	(void)state;
	expect_endpoint("25", NULL, "25");
	expect_endpoint("0", NULL, "0");
	expect_endpoint("65535", NULL, "65535");
	expect_endpoint("*:587", NULL, "587");
	expect_endpoint("127.0.0.1:2525", "127.0.0.1", "2525");
	expect_endpoint("mail.example.com:25", "mail.example.com", "25");
	expect_endpoint("[::1]:110", "::1", "110");
	expect_endpoint("[2001:db8::5]:25", "2001:db8::5", "25");
	/* Service names, as in DESIGN.md's services table. */
	expect_endpoint("smtp", NULL, "25");
	expect_endpoint("submission", NULL, "587");
	expect_endpoint("127.0.0.1:pop3", "127.0.0.1", "110");
	expect_endpoint("[::1]:pop3s", "::1", "995");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = p = (char *)"unset";
		if (sock_parse_endpoint(bad[i], &h, &p) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_null(h);
		assert_null(p);
	}
}

/* Port the kernel chose for a listener bound to port 0. */
static int
local_port(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, &len), 0);
	return sock_addr_port((struct sockaddr *)ss);
}

/* Accepts one connection on a non-blocking listener. */
static int
accept_one(int lfd)
{
	int fd;

	assert_int_equal(io_wait_readable(lfd, 2000), 1);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

/* Connects to the listener, exchanges bytes both ways, checks the
 * descriptor flags of both ends and the addresses seen by the server. */
static void
round_trip(int lfd, const char *host, const char *expect_text)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char port[16], text[64], got[5];
	struct buf err = BUF_INIT;
	int cfd, sfd;

	assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	snprintf(port, sizeof(port), "%d", local_port(lfd, &ss));
	cfd = sock_connect_inet(host, port, 2000, &err);
	if (cfd < 0)
		fail_msg("connect %s:%s: %s", host, port, buf_cstr(&err));
	/* Connecting sockets come back blocking and close-on-exec. */
	assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	sfd = accept_one(lfd);
	assert_int_equal(getpeername(sfd, (struct sockaddr *)&ss, &len), 0);
	sock_addr_text((struct sockaddr *)&ss, text, sizeof(text));
	assert_string_equal(text, expect_text);
	assert_true(sock_addr_port((struct sockaddr *)&ss) > 0);
	assert_int_equal(io_write_full(cfd, "ping", 4, 1000), 0);
	assert_int_equal(io_read_full(sfd, got, 4, 1000), 0);
	assert_memory_equal(got, "ping", 4);
	assert_int_equal(io_write_full(sfd, "pong", 4, 1000), 0);
	assert_int_equal(io_read_full(cfd, got, 4, 1000), 0);
	assert_memory_equal(got, "pong", 4);
	close(cfd);
	close(sfd);
	buf_free(&err);
}

static void
test_listen_ipv4(void **state)
{
	struct buf err = BUF_INIT;
	int fds[4], n;

	(void)state;
	n = sock_listen_inet("127.0.0.1", "0", "all", 16, fds, 4, &err);
	if (n != 1)
		fail_msg("listen: %s", buf_cstr(&err));
	round_trip(fds[0], "127.0.0.1", "127.0.0.1");
	close(fds[0]);
	/* inet_protocols = ipv6 excludes an IPv4 host. */
	assert_int_equal(
	    sock_listen_inet("127.0.0.1", "0", "ipv6", 16, fds, 4, &err), -1);
	assert_true(err.len > 0);
	assert_int_equal(
	    sock_listen_inet("127.0.0.1", "0", "ipv5", 16, fds, 4, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "inet_protocols"));
	buf_free(&err);
}

static int
have_ipv6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sin6;
	int ok;

	if (fd < 0)
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

static void
test_listen_ipv6(void **state)
{
	struct buf err = BUF_INIT;
	int fds[4], n, on = 0;
	socklen_t len = sizeof(on);

	(void)state;
	if (!have_ipv6()) {
		skip();
		return;
	}
	n = sock_listen_inet("::1", "0", "all", 16, fds, 4, &err);
	if (n != 1)
		fail_msg("listen: %s", buf_cstr(&err));
	assert_int_equal(
	    getsockopt(fds[0], IPPROTO_IPV6, IPV6_V6ONLY, &on, &len), 0);
	assert_int_equal(on, 1);
	round_trip(fds[0], "::1", "::1");
	close(fds[0]);
	buf_free(&err);
}

/* The wildcard gives one listener per protocol; each accepts its own. */
static void
test_listen_wildcard(void **state)
{
	struct sockaddr_storage ss;
	struct buf err = BUF_INIT;
	int fds[4], n, i;

	(void)state;
	n = sock_listen_inet(NULL, "0", "ipv4", 16, fds, 4, &err);
	if (n != 1)
		fail_msg("listen: %s", buf_cstr(&err));
	local_port(fds[0], &ss);
	assert_int_equal(ss.ss_family, AF_INET);
	round_trip(fds[0], "127.0.0.1", "127.0.0.1");
	close(fds[0]);

	n = sock_listen_inet(NULL, "0", "all", 16, fds, 4, &err);
	if (n < 1)
		fail_msg("listen: %s", buf_cstr(&err));
	assert_int_equal(n, have_ipv6() ? 2 : 1);
	for (i = 0; i < n; i++) {
		local_port(fds[i], &ss);
		if (ss.ss_family == AF_INET)
			round_trip(fds[i], "127.0.0.1", "127.0.0.1");
		else
			round_trip(fds[i], "::1", "::1");
		close(fds[i]);
	}
	/* max bounds how many are opened. */
	n = sock_listen_inet(NULL, "0", "all", 16, fds, 1, &err);
	assert_int_equal(n, 1);
	close(fds[0]);
	buf_free(&err);
}

static void
test_listen_port_in_use(void **state)
{
	struct sockaddr_storage ss;
	struct buf err = BUF_INIT;
	char port[16];
	int fds[4], fds2[4];

	(void)state;
	assert_int_equal(
	    sock_listen_inet("127.0.0.1", "0", "all", 16, fds, 4, &err), 1);
	snprintf(port, sizeof(port), "%d", local_port(fds[0], &ss));
	assert_int_equal(
	    sock_listen_inet("127.0.0.1", port, "all", 16, fds2, 4, &err), -1);
	assert_int_equal(errno, EADDRINUSE);
	assert_non_null(strstr(buf_cstr(&err), "127.0.0.1"));
	close(fds[0]);
	buf_free(&err);
}

static char tmpdir[64];

static int
make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sock.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
remove_tmpdir(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/sock", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

static void
test_unix_listen(void **state)
{
	struct buf err = BUF_INIT;
	char path[128], got[3];
	struct stat st;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int lfd, lfd2, cfd, sfd;

	(void)state;
	snprintf(path, sizeof(path), "%s/sock", tmpdir);
	lfd = sock_listen_unix(path, 0622, 16, &err);
	if (lfd < 0)
		fail_msg("listen: %s", buf_cstr(&err));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0622);
	assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);

	cfd = sock_connect_unix(path, 1000);
	assert_true(cfd >= 0);
	assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	sfd = accept_one(lfd);
	assert_int_equal(io_write_full(cfd, "hi!", 3, 1000), 0);
	assert_int_equal(io_read_full(sfd, got, 3, 1000), 0);
	assert_memory_equal(got, "hi!", 3);
	/* Kernel-verified credentials: this very process on both ends. */
	assert_int_equal(sock_peer_cred(sfd, &pid, &uid, &gid), 0);
	assert_int_equal(pid, getpid());
	assert_int_equal(uid, geteuid());
	assert_int_equal(gid, getegid());
	assert_int_equal(sock_peer_cred(sfd, NULL, NULL, NULL), 0);
	close(cfd);
	close(sfd);

	/* A stale socket is replaced; the old one no longer gets clients. */
	lfd2 = sock_listen_unix(path, 0600, 16, &err);
	if (lfd2 < 0)
		fail_msg("relisten: %s", buf_cstr(&err));
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	cfd = sock_connect_unix(path, 1000);
	assert_true(cfd >= 0);
	sfd = accept_one(lfd2);
	assert_int_equal(io_wait_readable(lfd, 0), 0);
	close(cfd);
	close(sfd);
	close(lfd);
	close(lfd2);
	buf_free(&err);
}

static void
test_unix_errors(void **state)
{
	struct buf err = BUF_INIT;
	char path[256];
	int fd;

	(void)state;
	/* Never removes a file that is not a socket. */
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sock_listen_unix(path, 0600, 16, &err), -1);
	assert_int_equal(access(path, F_OK), 0);
	assert_non_null(strstr(buf_cstr(&err), "not a socket"));
	/* Connecting to it is refused, so is a missing path. */
	assert_int_equal(sock_connect_unix(path, 1000), -1);
	assert_int_equal(errno, ECONNREFUSED);
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(sock_connect_unix(path, 1000), -1);
	assert_int_equal(errno, ENOENT);
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(sock_listen_unix(path, 0600, 16, &err), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(sock_connect_unix(path, 1000), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	buf_free(&err);
}

/* Rule 1 (DESIGN.md): a link renamed over a socket name in a folder
 * someone else can write must not take a client elsewhere. */
static void
test_unix_connect_no_link(void **state)
{
	struct buf err = BUF_INIT;
	char path[128], link[128];
	int lfd, cfd, sfd;

	(void)state;
	snprintf(path, sizeof(path), "%s/real", tmpdir);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	lfd = sock_listen_unix(path, 0600, 16, &err);
	assert_true(lfd >= 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(sock_connect_unix(link, 1000), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(io_wait_readable(lfd, 0), 0);
	/* The socket itself still takes clients. */
	cfd = sock_connect_unix(path, 1000);
	assert_true(cfd >= 0);
	sfd = accept_one(lfd);
	close(sfd);
	close(cfd);
	close(lfd);
	unlink(link);
	unlink(path);
	buf_free(&err);
}

static void
test_connect_refused(void **state)
{
	struct sockaddr_storage ss;
	struct buf err = BUF_INIT;
	char port[16];
	int fds[1];

	(void)state;
	/* A port that was just free: nobody listens there now. */
	assert_int_equal(
	    sock_listen_inet("127.0.0.1", "0", "ipv4", 1, fds, 1, &err), 1);
	snprintf(port, sizeof(port), "%d", local_port(fds[0], &ss));
	close(fds[0]);
	assert_int_equal(sock_connect_inet("127.0.0.1", port, 2000, &err), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_non_null(strstr(buf_cstr(&err), "127.0.0.1"));
	buf_free(&err);
}

/*
 * A connect that cannot complete: a UNIX listener with a full backlog
 * takes no more connections, so sock_connect_unix must give up at its
 * deadline with ETIMEDOUT.
 */
static void
test_connect_timeout(void **state)
{
	struct buf err = BUF_INIT;
	char path[128];
	int lfd, fds[16], n = 0, fd;
	long long t0, dt;

	(void)state;
	snprintf(path, sizeof(path), "%s/sock", tmpdir);
	lfd = sock_listen_unix(path, 0600, 0, &err);
	assert_true(lfd >= 0);
	/* Fill the backlog (never accepted). */
	while (n < 16 && (fd = sock_connect_unix(path, 100)) >= 0)
		fds[n++] = fd;
	assert_true(n < 16);
	assert_int_equal(errno, ETIMEDOUT);
	t0 = io_now_ms();
	assert_int_equal(sock_connect_unix(path, 300), -1);
	dt = io_now_ms() - t0;
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(dt >= 290 && dt < 3000);
	while (n > 0)
		close(fds[--n]);
	close(lfd);
	buf_free(&err);
}

/* Binding the client end first: the server sees that source address. */
static void
test_connect_addr_bind(void **state)
{
	struct sockaddr_storage ss, peer;
	struct sockaddr_in src;
	socklen_t len = sizeof(peer);
	struct buf err = BUF_INIT;
	char text[64];
	int fds[1], cfd, sfd;

	(void)state;
	assert_int_equal(
	    sock_listen_inet("127.0.0.1", "0", "ipv4", 16, fds, 1, &err), 1);
	local_port(fds[0], &ss);
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "127.0.0.2", &src.sin_addr), 1);
	cfd = sock_connect_addr((struct sockaddr *)&ss,
				sizeof(struct sockaddr_in),
				(struct sockaddr *)&src, sizeof(src), 2000);
	assert_true(cfd >= 0);
	sfd = accept_one(fds[0]);
	assert_int_equal(getpeername(sfd, (struct sockaddr *)&peer, &len), 0);
	sock_addr_text((struct sockaddr *)&peer, text, sizeof(text));
	assert_string_equal(text, "127.0.0.2");
	close(cfd);
	close(sfd);
	close(fds[0]);
	buf_free(&err);
}

static void
test_addr_text(void **state)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	char text[64];

	(void)state;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(2525);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr),
			 1);
	sock_addr_text((struct sockaddr *)&sin6, text, sizeof(text));
	assert_string_equal(text, "2001:db8::1");
	assert_int_equal(sock_addr_port((struct sockaddr *)&sin6), 2525);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	sock_addr_text((struct sockaddr *)&sun, text, sizeof(text));
	assert_string_equal(text, "unix");
	assert_int_equal(sock_addr_port((struct sockaddr *)&sun), -1);
}

/* A pipe's write end passed over a socketpair still writes into the
 * pipe, arrives close-on-exec, and the sender's copy stays usable. */
static void
test_pass_fd(void **state)
{
	int sv[2], p[2], got;
	char c = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(sock_send_fd(sv[0], p[1]), 0);
	got = sock_recv_fd(sv[1], 1000);
	assert_true(got >= 0);
	assert_int_not_equal(got, p[1]);
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(got, "x", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	close(got);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/* Plain data, two descriptors in one message, end of file, silence. */
static void
test_recv_fd_errors(void **state)
{
	int sv[2], p[2], fds[2], before;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(sock_recv_fd(sv[1], 50), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(write(sv[0], "F", 1), 1);
	assert_int_equal(sock_recv_fd(sv[1], 1000), -1);
	assert_int_equal(errno, EPROTO);

	assert_int_equal(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = p[1];
	assert_int_equal(sock_send_fds(sv[0], fds, 2), 0);
	/* The two received copies are closed: the next descriptor number
	 * free is the same before and after. */
	before = dup(0);
	close(before);
	assert_int_equal(sock_recv_fd(sv[1], 1000), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(dup(0), before);
	close(before);

	close(sv[0]);
	assert_int_equal(sock_recv_fd(sv[1], 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_endpoint),
	    cmocka_unit_test(test_listen_ipv4),
	    cmocka_unit_test(test_listen_ipv6),
	    cmocka_unit_test(test_listen_wildcard),
	    cmocka_unit_test(test_listen_port_in_use),
	    cmocka_unit_test_setup_teardown(test_unix_listen, make_tmpdir,
					    remove_tmpdir),
	    cmocka_unit_test_setup_teardown(test_unix_errors, make_tmpdir,
					    remove_tmpdir),
	    cmocka_unit_test_setup_teardown(test_unix_connect_no_link,
					    make_tmpdir, remove_tmpdir),
	    cmocka_unit_test(test_connect_refused),
	    cmocka_unit_test_setup_teardown(test_connect_timeout, make_tmpdir,
					    remove_tmpdir),
	    cmocka_unit_test(test_connect_addr_bind),
	    cmocka_unit_test(test_addr_text),
	    cmocka_unit_test(test_pass_fd),
	    cmocka_unit_test(test_recv_fd_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
