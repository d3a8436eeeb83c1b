/*
 * sasldb - read the users of a libsasl2 sasldb (saslpasswd2's database).
 *
 * The sasldb is a Berkeley DB file whose keys are
 * "authid" NUL "realm" NUL "property".  Panacea needs to know who the
 * mail-only users are (DESIGN.md: users that exist only there): smtpd for
 * its local recipient check, local for mailbox ownership.  Passwords are
 * never read.
 *
 * sasldb_users() calls fn(user, realm) once per user that has a
 * userPassword, in database order.  Returns the number of users, or -1
 * when the file cannot be opened (a missing file is 0 users).  Keys with
 * a bad shape (missing separators, empty or over-long names, control
 * characters) are skipped.
 */
#ifndef PANACEA_SASLDB_H
#define PANACEA_SASLDB_H

#define SASLDB_NAME_MAX 255

int sasldb_users(const char *path,
		 void (*fn)(const char *user, const char *realm, void *ctx),
		 void *ctx);

#endif
