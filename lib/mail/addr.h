/*
 * addr - RFC 5321 Path and Mailbox parser (MAIL FROM / RCPT TO arguments).
 *
 * Grammar (RFC 5321 section 4.1.2, RFC 6531 for SMTPUTF8):
 *   Path    = "<" [ A-d-l ":" ] Mailbox ">"      A-d-l = "@" Domain *("," "@"
 * Domain) Mailbox = Local-part "@" ( Domain / address-literal ) Local-part =
 * Dot-string / Quoted-string plus the null path "<>" and the special
 * "<Postmaster>" (no domain).
 *
 * Contract:
 *  - addr_parse() parses exactly len bytes (no NUL needed) and fills *out;
 *    it returns ADDR_OK or an ADDR_ERR_* code.  out is always initialised,
 *    so it may be inspected (it is empty) after an error.
 *  - Angle brackets are required unless ADDR_F_NO_BRACKETS (Postfix's
 *    strict_rfc821_envelopes = no); the null path needs ADDR_F_NULL_OK
 *    (MAIL FROM only).  A source route is checked for syntax, ignored, and
 *    reported with ADDR_SOURCE_ROUTE: "<@site:user@remote>" yields
 *    user@remote, so relay checks see the real destination.
 *  - A quoted local part is kept in canonical form: quotes are dropped
 *    when the content is a valid dot-atom ("joe"@x -> joe@x), otherwise
 *    it is re-quoted with only '"' and '\' escaped.  local_unquoted is the
 *    internal form (quotes and escapes removed) for table lookups.
 *  - Domains are LDH labels (1-63 octets each, 255 total) or address
 *    literals [IPv4] / [IPv6:...], checked with inet_pton; general
 *    address literals ([tag:...]) are refused.  Domains are not
 *    lower-cased.
 *  - 8-bit octets are accepted only with ADDR_F_UTF8 and only as
 *    well-formed UTF-8 (RFC 6531), in the local part and in domain labels;
 *    control characters are never accepted.
 *  - Limits (RFC 5321 section 4.5.3.1): local part <= 64, domain <= 255,
 *    whole path including brackets and source route <= 256 octets, all
 *    measured on the input.
 *  - Relay tricks are parsed, not refused: "user@remote@site" splits at the
 *    last '@' (local part "user@remote", re-quoted), and '%', '!' or '@' in
 *    the local part set ADDR_ROUTING.  The caller must treat such an
 *    address as foreign (never deliver it locally, never relay it for an
 *    unauthorised client); addr_is_plain() says whether it is safe.
 *  - A local part without a domain is refused, except "postmaster" (any
 *    case), which sets ADDR_POSTMASTER, and except with ADDR_F_BARE_LOCAL.
 */
#ifndef PANACEA_ADDR_H
#define PANACEA_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX 64
#define ADDR_DOMAIN_MAX 255
#define ADDR_PATH_MAX 256
/* A re-quoted local part can grow by the quotes. */
#define ADDR_LOCAL_BUF (2 * ADDR_LOCAL_MAX + 3)

/* Input flags. */
#define ADDR_F_NULL_OK 0x01	/* "<>" allowed (MAIL FROM) */
#define ADDR_F_UTF8 0x02	/* SMTPUTF8 transaction: UTF-8 allowed */
#define ADDR_F_NO_BRACKETS 0x04 /* tolerate a path without < > */
#define ADDR_F_BARE_LOCAL 0x08	/* tolerate a local part without domain */

/* Result flags (struct addr.flags). */
#define ADDR_NULL 0x01	       /* the null path <> */
#define ADDR_SOURCE_ROUTE 0x02 /* a source route was present and ignored */
#define ADDR_QUOTED 0x04       /* the local part was a quoted string */
#define ADDR_ROUTING 0x08      /* '%', '!' or '@' in the local part */
#define ADDR_POSTMASTER 0x10   /* "postmaster" without domain */
#define ADDR_LITERAL 0x20      /* the domain is an address literal */
#define ADDR_8BIT 0x40	       /* non-ASCII (UTF-8) octets present */
#define ADDR_NO_BRACKETS 0x80  /* accepted without < > */
#define ADDR_NO_DOMAIN 0x100   /* no domain part (postmaster, bare local) */

enum addr_err {
	ADDR_OK = 0,
	ADDR_ERR_SYNTAX,	  /* anything else malformed */
	ADDR_ERR_NO_BRACKETS,	  /* missing < > */
	ADDR_ERR_NULL,		  /* <> where not allowed */
	ADDR_ERR_LOCAL_TOO_LONG,  /* local part > 64 */
	ADDR_ERR_DOMAIN_TOO_LONG, /* domain > 255 or a label > 63 */
	ADDR_ERR_PATH_TOO_LONG,	  /* path > 256 */
	ADDR_ERR_8BIT,		  /* non-ASCII without SMTPUTF8 */
	ADDR_ERR_BAD_UTF8,	  /* malformed UTF-8 */
	ADDR_ERR_BAD_DOMAIN,	  /* domain syntax */
	ADDR_ERR_BAD_LITERAL,	  /* address literal syntax or value */
	ADDR_ERR_NO_DOMAIN,	  /* local part without @domain */
};

struct addr {
	unsigned flags;
	/* Canonical local part: dot-atom, or quoted string when needed. */
	char local[ADDR_LOCAL_BUF];
	/* Local part with quoting removed (internal form). */
	char local_unquoted[ADDR_LOCAL_MAX + 1];
	/* Domain as given, address literals with their brackets; "" if none. */
	char domain[ADDR_DOMAIN_MAX + 1];
	/* local "@" domain, or local alone, or "" for the null path. */
	char addr[ADDR_LOCAL_BUF + 1 + ADDR_DOMAIN_MAX + 1];
};

int addr_parse(const char *s, size_t len, unsigned flags, struct addr *out);

/*
 * 1 when the address is a plain mailbox: not null, no routing characters
 * in the local part.  A source route alone does not make an address
 * unsafe, since it has already been dropped.
 */
int addr_is_plain(const struct addr *a);

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629) that starts at p,
 * n octets available; 0 when malformed.  Shared with smtp_cmd.
 */
size_t addr_utf8_seq(const unsigned char *p, size_t n);

/* A short English text for an error code ("bad address syntax"). */
const char *addr_strerror(int err);

#endif
