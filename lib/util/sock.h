/*
 * sock - listening and connecting sockets.
 *
 * Endpoint syntax (services table, smtp next hops): "port", "host:port",
 * "[ipv6]:port", "*:port".  Hosts here are numeric addresses or names
 * resolved with getaddrinfo (for listeners only; the smtp client resolves
 * with ldns and connects with sock_connect_addr).
 *
 * Listeners are created non-blocking and close-on-exec with SO_REUSEADDR;
 * IPv6 listeners are IPV6_V6ONLY.  A wildcard host listens on 0.0.0.0 and
 * on :: as inet_protocols allows ("all", "ipv4", "ipv6"); when the machine
 * has no IPv6, the IPv6 half is skipped silently.
 * Connecting sockets are returned blocking and close-on-exec.
 * Errors: -1 and a message in err (when err is non-NULL) or errno.
 */
#ifndef PANACEA_SOCK_H
#define PANACEA_SOCK_H

#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"

/* Splits spec; *host is NULL for a bare port or "*".  A port may be a
 * service name ("smtp", "submission", "pop3"): *port is then its
 * number, from /etc/services or, for the mail services, built in.  Both results
 * are xmalloc'ed.  0, or -1 for a malformed spec (bad brackets, empty or
 * unknown service name, port > 65535). */
int sock_parse_endpoint(const char *spec, char **host, char **port);

/* Opens listeners for host (NULL = wildcard) and port; stores up to max
 * descriptors in fds and returns how many, or -1. */
int sock_listen_inet(const char *host, const char *port,
		     const char *inet_protocols, int backlog, int *fds, int max,
		     struct buf *err);
/* Removes a stale socket file at path (never another kind of file) and
 * binds a new one with exactly mode (umask aside), owned by the caller's
 * effective uid and gid.  No chmod or chown by name follows: a caller that
 * wants another owner switches its effective ids around the call
 * (master binds as mail_owner, whose folders these are). */
int sock_listen_unix(const char *path, int mode, int backlog, struct buf *err);

/* Connects to the socket at path, never through a symbolic link as its
 * last component (ELOOP; ECONNREFUSED when it is no socket). */
int sock_connect_unix(const char *path, int timeout_ms);
/* Resolves host with getaddrinfo and tries each address in turn, each
 * with timeout_ms. */
int sock_connect_inet(const char *host, const char *port, int timeout_ms,
		      struct buf *err);
/* Connects to sa, binding first to bind_addr when non-NULL. */
int sock_connect_addr(const struct sockaddr *sa, socklen_t salen,
		      const struct sockaddr *bind_addr, socklen_t bindlen,
		      int timeout_ms);

/* Numeric text of an address ("127.0.0.1", "::1"); out of size >= 64. */
void sock_addr_text(const struct sockaddr *sa, char *out, size_t outlen);
/* The port of an address, host order; -1 when not AF_INET/AF_INET6. */
int sock_addr_port(const struct sockaddr *sa);
/* Kernel-verified credentials of a UNIX-domain peer (SO_PEERCRED). */
int sock_peer_cred(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/* Passes descriptor fd over the UNIX-domain socket sock (SCM_RIGHTS, with
 * one data byte): 0, or -1 with errno.  The sender keeps its copy. */
int sock_send_fd(int sock, int fd);
/* The same for n descriptors (at most SOCK_SEND_FDS_MAX) in one message.
 * sock_recv_fd refuses a message with more than one; test_sock sends two
 * to see it do so. */
#define SOCK_SEND_FDS_MAX 4
int sock_send_fds(int sock, const int *fds, size_t n);
/* Receives one descriptor sent by sock_send_fd, waiting at most
 * timeout_ms (-1 = no limit); it arrives close-on-exec.  The descriptor,
 * or -1 with errno: ETIMEDOUT, ECONNRESET at end of file, EPROTO when
 * the message carries no descriptor or more than one (any received are
 * closed), or the system error. */
int sock_recv_fd(int sock, int timeout_ms);

#endif
