/*
 * map_dl - the client library of a directory table type (libpq for
 * pgsql:, libldap for ldap:, libmariadb for mysql:), loaded when the
 * first table of that type is opened, as Postfix loads its pgsql, ldap
 * and mysql modules (dynamicmaps.cf).
 *
 * Why not linked: every program that opens tables (master, local and
 * smtpd among them) would map the client libraries and theirs (libpq
 * alone brings Kerberos, GnuTLS, libldap and libsasl2) at every start,
 * root's processes included, whether or not a directory is configured;
 * that measured 50-100 % more start-up time per exec on the test VM.
 * Only a process that opens such a table (proxymap, panmap, a daemon
 * configured with one) loads it; tables are opened before chroot, so
 * the library is there before the jail.  The headers are used at build
 * time (the prototypes are the ones the pointers are declared with) and
 * the soname is the one the build found (Makefile).
 */
#ifndef PANACEA_MAP_DL_H
#define PANACEA_MAP_DL_H

#include <stddef.h>

#include "buf.h"

/* Loads soname (once per process: a handle is never closed) and sets
 * each ptrs[i] to the symbol names[i]; 0, or -1 with err saying which
 * package (what) to install. */
int map_dl_load(const char *soname, const char *what, const char *const *names,
		void **ptrs, size_t n, struct buf *err);

#endif
