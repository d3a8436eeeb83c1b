/*
 * sock - listening and connecting sockets; see sock.h.
 *
 * Connects are made non-blocking so that a timeout bounds them (a
 * blocking connect(2) to a black-holed address waits for minutes), then
 * the descriptor is switched back to blocking: callers do their own
 * deadline I/O through iostuff.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "iostuff.h"
#include "sock.h"
#include "xalloc.h"

#define PROTO_V4 1
#define PROTO_V6 2

static int set_err(struct buf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records a message in err (when given), keeps errno, returns -1. */
static int
set_err(struct buf *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (err != NULL) {
		buf_reset(err);
		va_start(ap, fmt);
		buf_vprintf(err, fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
}

static void
close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

/* 1..5 digits, value <= 65535. */
static int
port_ok(const char *p)
{
	size_t n = strlen(p), i;
	long v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	return v <= 65535;
}

/*
 * A service name ("smtp") as the port: /etc/services first, then the
 * names of mail services, so that a machine without netbase still reads
 * the services table of DESIGN.md.  Returns the number text or NULL.
 */
static char *
port_by_name(const char *name)
{
	static const struct {
		const char *name;
		const char *port;
	} mail[] = {
	    {"smtp", "25"},   {"submission", "587"}, {"submissions", "465"},
	    {"smtps", "465"}, {"pop3", "110"},	     {"pop3s", "995"},
	};
	struct servent *se;
	char num[8];
	size_t i, n = strlen(name);

	if (n == 0 || n > 32)
		return NULL;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-')
			return NULL;
	if ((se = getservbyname(name, "tcp")) != NULL) {
		snprintf(num, sizeof(num), "%d", ntohs((uint16_t)se->s_port));
		return xstrdup(num);
	}
	for (i = 0; i < sizeof(mail) / sizeof(mail[0]); i++)
		if (strcmp(mail[i].name, name) == 0)
			return xstrdup(mail[i].port);
	return NULL;
}

int
sock_parse_endpoint(const char *spec, char **host, char **port)
{
	const char *colon, *close, *hstart, *pstart;
	size_t hlen;

	*host = NULL;
	*port = NULL;
	if (spec[0] == '[') {
		close = strchr(spec, ']');
		if (close == NULL || close == spec + 1 || close[1] != ':')
			return -1;
		hstart = spec + 1;
		hlen = (size_t)(close - hstart);
		/* Brackets hold an IPv6 address, nothing else. */
		if (memchr(hstart, '[', hlen) != NULL ||
		    memchr(hstart, ':', hlen) == NULL)
			return -1;
		pstart = close + 2;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		hstart = spec;
		hlen = (size_t)(colon - spec);
		/* An unbracketed IPv6 address is ambiguous. */
		if (hlen == 0 || memchr(spec, ':', hlen) != NULL ||
		    memchr(spec, '[', hlen) != NULL ||
		    memchr(spec, ']', hlen) != NULL)
			return -1;
		pstart = colon + 1;
	} else {
		hstart = NULL;
		hlen = 0;
		pstart = spec;
	}
	if (port_ok(pstart))
		*port = xstrdup(pstart);
	else if ((*port = port_by_name(pstart)) == NULL)
		return -1;
	if (hstart != NULL && !(hlen == 1 && hstart[0] == '*'))
		*host = xstrndup(hstart, hlen);
	return 0;
}

/* inet_protocols: "all", or a list of "ipv4" and "ipv6". */
static int
parse_protocols(const char *spec, int *mask)
{
	char word[16];
	const char *p = spec ? spec : "all";
	size_t n;

	*mask = 0;
	while (*p) {
		n = strcspn(p, ", \t");
		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(word))
			return -1;
		memcpy(word, p, n);
		word[n] = '\0';
		if (strcmp(word, "all") == 0)
			*mask |= PROTO_V4 | PROTO_V6;
		else if (strcmp(word, "ipv4") == 0)
			*mask |= PROTO_V4;
		else if (strcmp(word, "ipv6") == 0)
			*mask |= PROTO_V6;
		else
			return -1;
		p += n;
	}
	return *mask ? 0 : -1;
}

/* A non-blocking, close-on-exec listener bound to sa, or -1. */
static int
listen_addr(const struct sockaddr *sa, socklen_t salen, int backlog)
{
	int fd, on = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		goto fail;
	/* A separate IPv4 listener takes IPv4: no mapped addresses here. */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		goto fail;
	if (bind(fd, sa, salen) < 0 || listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}

static void
close_all(int *fds, int n)
{
	int saved = errno;

	while (n-- > 0)
		close(fds[n]);
	errno = saved;
}

static int
listen_wildcard(int port, int mask, int backlog, int *fds, int max,
		struct buf *err)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int n = 0, fd;

	if ((mask & PROTO_V4) && n < max) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
		sin.sin_port = htons((unsigned short)port);
		fd = listen_addr((struct sockaddr *)&sin, sizeof(sin), backlog);
		if (fd < 0)
			return set_err(err, "listen on 0.0.0.0:%d: %s", port,
				       strerror(errno));
		fds[n++] = fd;
	}
	if ((mask & PROTO_V6) && n < max) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = in6addr_any;
		sin6.sin6_port = htons((unsigned short)port);
		fd = listen_addr((struct sockaddr *)&sin6, sizeof(sin6),
				 backlog);
		if (fd >= 0) {
			fds[n++] = fd;
		} else if (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL) {
			/* No IPv6 on this machine is fine; anything else
			 * (the port is taken) is not. */
			set_err(err, "listen on [::]:%d: %s", port,
				strerror(errno));
			close_all(fds, n);
			return -1;
		}
	}
	if (n == 0) {
		errno = EAFNOSUPPORT;
		return set_err(err, "listen on port %d: no usable protocol",
			       port);
	}
	return n;
}

static int
listen_host(const char *host, const char *port, int mask, int backlog, int *fds,
	    int max, struct buf *err)
{
	struct addrinfo hints, *res, *ai;
	char text[64];
	int n = 0, fd, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = mask == PROTO_V4   ? AF_INET
			  : mask == PROTO_V6 ? AF_INET6
					     : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		errno = EADDRNOTAVAIL;
		return set_err(err, "%s: %s", host, gai_strerror(rc));
	}
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		fd = listen_addr(ai->ai_addr, ai->ai_addrlen, backlog);
		if (fd < 0) {
			sock_addr_text(ai->ai_addr, text, sizeof(text));
			set_err(err, "listen on %s port %s: %s", text, port,
				strerror(errno));
			close_all(fds, n);
			freeaddrinfo(res);
			return -1;
		}
		fds[n++] = fd;
	}
	freeaddrinfo(res);
	return n;
}

int
sock_listen_inet(const char *host, const char *port, const char *inet_protocols,
		 int backlog, int *fds, int max, struct buf *err)
{
	int mask;

	if (!port_ok(port)) {
		errno = EINVAL;
		return set_err(err, "bad port \"%s\"", port);
	}
	if (parse_protocols(inet_protocols, &mask) < 0) {
		errno = EINVAL;
		return set_err(err, "bad inet_protocols \"%s\"",
			       inet_protocols);
	}
	if (max < 1) {
		errno = EINVAL;
		return set_err(err, "no room for listeners");
	}
	if (host == NULL)
		return listen_wildcard((int)strtol(port, NULL, 10), mask,
				       backlog, fds, max, err);
	return listen_host(host, port, mask, backlog, fds, max, err);
}

/*
 * The socket file is made by bind(2) alone: its owner and group are the
 * caller's effective ids and its mode is 0777 less the umask in force at
 * the bind.  Nothing is chmod'ed or chown'ed by name afterwards: the
 * folder may be writable by a less privileged user, who could rename a
 * symbolic link over the new name between bind and such a call and have
 * it change the file the link points to (DESIGN.md, Rule 1).  lstat and
 * unlink do not follow a final symbolic link.
 */
int
sock_listen_unix(const char *path, int mode, int backlog, struct buf *err)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return set_err(err, "%s: socket path too long", path);
	}
	strcpy(sun.sun_path, path);
	/* Only a socket is stale; never remove another kind of file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return set_err(err, "%s: exists and is not a socket",
				       path);
		}
		if (unlink(path) < 0)
			return set_err(err, "unlink %s: %s", path,
				       strerror(errno));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return set_err(err, "socket: %s", strerror(errno));
	old_mask = umask(0777 & ~(mode_t)mode);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (rc < 0) {
		set_err(err, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(fd, backlog) < 0) {
		set_err(err, "listen %s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}

/* Waits for a non-blocking connect on fd; 0 or -1 with errno. */
static int
finish_connect(int fd, int timeout_ms)
{
	int ready, soerr = 0;
	socklen_t len = sizeof(soerr);

	ready = io_wait_writable(fd, timeout_ms);
	if (ready < 0)
		return -1;
	if (ready == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/*
 * connect(2) on a fresh non-blocking fd, bounded by timeout_ms.  A UNIX
 * socket whose backlog is full answers EAGAIN rather than EINPROGRESS
 * and does not retry by itself, so that case polls again briefly.  After
 * EINTR the connection goes on in the background, as after EINPROGRESS.
 */
static int
connect_fd(int fd, const struct sockaddr *sa, socklen_t salen, int timeout_ms)
{
	long long deadline = io_deadline(timeout_ms);

	for (;;) {
		if (connect(fd, sa, salen) == 0)
			return 0;
		if (errno == EINPROGRESS || errno == EINTR)
			return finish_connect(fd, io_left_ms(deadline));
		if (errno != EAGAIN || sa->sa_family != AF_UNIX)
			return -1;
		if (io_left_ms(deadline) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

int
sock_connect_addr(const struct sockaddr *sa, socklen_t salen,
		  const struct sockaddr *bind_addr, socklen_t bindlen,
		  int timeout_ms)
{
	int fd;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -1;
	if (bind_addr != NULL && bind(fd, bind_addr, bindlen) < 0)
		goto fail;
	if (connect_fd(fd, sa, salen, timeout_ms) < 0)
		goto fail;
	if (io_set_nonblock(fd, 0) < 0)
		goto fail;
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}

/*
 * Never through a symbolic link at the end of path: the queue's public/
 * and private/ are mail_owner's, who could otherwise point a root
 * client (sendmail, mailq, local) at any socket on the system (DESIGN.md,
 * Rule 1).  The name is opened O_PATH | O_NOFOLLOW, checked to be a
 * socket, and connected to through /proc/self/fd/N, which names that very
 * inode.  Without /proc (a chrooted daemon, which runs as mail_owner and
 * gains nothing from a link) the name itself is used.
 */
int
sock_connect_unix(const char *path, int timeout_ms)
{
	struct sockaddr_un sun;
	struct stat st;
	char proc[64];
	const char *name = path;
	int pfd, fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(pfd, &st) < 0) {
		close_keep_errno(pfd);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		close(pfd);
		errno = S_ISLNK(st.st_mode) ? ELOOP : ECONNREFUSED;
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	if (access(proc, F_OK) == 0)
		name = proc;
	strcpy(sun.sun_path, name);
	fd = sock_connect_addr((struct sockaddr *)&sun, sizeof(sun), NULL, 0,
			       timeout_ms);
	close_keep_errno(pfd);
	return fd;
}

int
sock_connect_inet(const char *host, const char *port, int timeout_ms,
		  struct buf *err)
{
	struct addrinfo hints, *res, *ai;
	char text[64];
	int fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		errno = EHOSTUNREACH;
		return set_err(err, "%s: %s", host, gai_strerror(rc));
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = sock_connect_addr(ai->ai_addr, ai->ai_addrlen, NULL, 0,
				       timeout_ms);
		if (fd >= 0)
			break;
		sock_addr_text(ai->ai_addr, text, sizeof(text));
		set_err(err, "connect to %s[%s]:%s: %s", host, text, port,
			strerror(errno));
	}
	freeaddrinfo(res);
	return fd;
}

void
sock_addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	const void *addr = NULL;

	if (outlen == 0)
		return;
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (addr == NULL ||
	    inet_ntop(sa->sa_family, addr, out, (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "%s",
			 sa->sa_family == AF_UNIX ? "unix" : "unknown");
}

int
sock_addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

int
sock_peer_cred(int fd, pid_t *pid, uid_t *uid, gid_t *gid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	if (pid != NULL)
		*pid = cred.pid;
	if (uid != NULL)
		*uid = cred.uid;
	if (gid != NULL)
		*gid = cred.gid;
	return 0;
}

int
sock_send_fd(int sock, int fd)
{
	return sock_send_fds(sock, &fd, 1);
}

int
sock_send_fds(int sock, const int *fds, size_t n)
{
	char byte = 'F';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(SOCK_SEND_FDS_MAX * sizeof(int))];
	} u;
	struct msghdr m;
	struct cmsghdr *c;
	ssize_t sent;

	if (n == 0 || n > SOCK_SEND_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&u, 0, sizeof(u));
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.space;
	m.msg_controllen = CMSG_SPACE(n * sizeof(int));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	do
		sent = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	return sent == 1 ? 0 : -1;
}

/* Closes every descriptor a control message carried. */
static void
close_passed(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL;
	     c = CMSG_NXTHDR(m, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
	}
}

int
sock_recv_fd(int sock, int timeout_ms)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	/* Room for a few: a peer sending more is detected, not truncated
	 * silently (MSG_CTRUNC would leak nothing either way). */
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct msghdr m;
	struct cmsghdr *c;
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	ssize_t n;
	int fd, r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.space;
	m.msg_controllen = sizeof(u.space);
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (n == 0 && c == NULL) {
		errno = ECONNRESET;
		return -1;
	}
	if (c == NULL || c->cmsg_level != SOL_SOCKET ||
	    c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) ||
	    CMSG_NXTHDR(&m, c) != NULL || (m.msg_flags & MSG_CTRUNC)) {
		close_passed(&m);
		errno = EPROTO;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}
