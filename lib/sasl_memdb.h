/*
 * sasl_memdb - the users' passwords of a sasldb, held in memory and served
 * to libsasl2 by an auxprop plugin registered in-process.
 *
 * Why: libsasl2's own sasldb plugin opens the sasldb file at every
 * password check, and a chrooted daemon (smtpd) cannot see the file any
 * more.  DESIGN.md wants the SASL database opened before chroot: this
 * module reads it then, whole, and answers libsasl2 from memory.
 *
 * Trade-off: a process sees the sasldb as it was when it started.  A
 * user added, removed or given a new password with saslpasswd2 reaches a
 * process only when it restarts; smtpd processes are short-lived
 * (max_use, max_idle), and a reload (SIGHUP to master) makes fresh ones.
 * The passwords also sit in the memory of every such process (as they
 * do in the sasldb file, which holds them in clear); they are wiped on
 * sasl_memdb_clear() and on every reload.
 *
 * Contract:
 *  - sasl_memdb_load(path, err) replaces the table with every
 *    (user, realm, userPassword) of the sasldb at path (sasldb.h bounds
 *    names and values).  Returns the number of users, 0 for a missing
 *    file (warned), or -1 with err set when the file cannot be read (the
 *    old table is then kept);
 *  - sasl_memdb_register() adds the plugin, named SASL_MEMDB_PLUGIN, to
 *    libsasl2; call it after each sasl_server_init() (sasl_server_done()
 *    forgets every auxprop plugin).  The application's SASL_CB_GETOPT
 *    answers auxprop_plugin=SASL_MEMDB_PLUGIN to make libsasl2 use it;
 *  - the plugin follows libsasl2's auxprop conventions, as its sasldb
 *    plugin does: the name it is given is "user" (realm: the connection's
 *    user_realm, else its server FQDN) or "user@realm" (split at the
 *    first '@'); names and realms match exactly, as sasldb keys do.  An
 *    authentication-id lookup serves the requested properties whose names
 *    start with '*', an authorization-id lookup (SASL_AUXPROP_AUTHZID)
 *    those without; a property that has a value already is left alone
 *    unless SASL_AUXPROP_OVERRIDE is set (or, for userPassword,
 *    SASL_AUXPROP_VERIFY_AGAINST_HASH).  Only userPassword is known.  An
 *    unknown authentication id is SASL_NOUSER when anything was looked
 *    up for it; an authorization-id lookup is never SASL_NOUSER;
 *  - the plugin stores nothing (sasl_setpass() through it fails);
 *  - sasl_memdb_clear() wipes (explicit_bzero) and frees the table;
 *    sasl_memdb_users() is its size.
 */
#ifndef PANACEA_SASL_MEMDB_H
#define PANACEA_SASL_MEMDB_H

#include <stddef.h>

#include "buf.h"

#define SASL_MEMDB_PLUGIN "panacea_memdb"

int sasl_memdb_load(const char *path, struct buf *err);
/* A libsasl2 result code (SASL_OK on success). */
int sasl_memdb_register(void);
void sasl_memdb_clear(void);
size_t sasl_memdb_users(void);

#endif
