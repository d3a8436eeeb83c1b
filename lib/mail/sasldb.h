/*
 * sasldb - read the users of a libsasl2 sasldb (saslpasswd2's database).
 *
 * The sasldb is a Berkeley DB file whose keys are
 * "authid" NUL "realm" NUL "property" and whose values are the property
 * values (userPassword: the password, not NUL-terminated).  Panacea needs
 * to know who the mail-only users are (DESIGN.md: users that exist only
 * there): smtpd for its local recipient check, local for mailbox
 * ownership.  sasldb_users() never reads a password.
 *
 * sasldb_users() calls fn(user, realm) once per user that has a
 * userPassword, in database order.  The file is read in a child process
 * that sends back only the names (fork, pipe, waitpid on that child), so
 * that none of the file's passwords, which Berkeley DB caches with the
 * names, is ever in the caller's memory (smtpd builds its recipient
 * table with it).  Returns the number of users, or -1
 * when the file cannot be opened (a missing file is 0 users).  Keys with
 * a bad shape (missing separators, empty or over-long names, control
 * characters) are skipped.
 *
 * sasldb_passwords() is the same walk for APOP, which needs a clear
 * password (the auth service, auth/): it also gives
 * each user's password, NUL-terminated, len bytes (len excludes the NUL).
 * A password longer than SASLDB_VALUE_MAX bytes, or with a NUL byte in
 * it, skips the user with a warning.  The password is in a buffer of this
 * module that is wiped as soon as fn returns: fn copies what it keeps.
 */
#ifndef PANACEA_SASLDB_H
#define PANACEA_SASLDB_H

#include <stddef.h>

#define SASLDB_NAME_MAX 255
#define SASLDB_VALUE_MAX 8191 /* libsasl2's sasldb plugin reads 8 KiB */

int sasldb_users(const char *path,
		 void (*fn)(const char *user, const char *realm, void *ctx),
		 void *ctx);
int sasldb_passwords(const char *path,
		     void (*fn)(const char *user, const char *realm,
				const char *password, size_t len, void *ctx),
		     void *ctx);

#endif
