/*
 * milter_proto - the wire format of Sendmail's mail filter protocol,
 * version 6 (and 2 to 4), as an MTA speaks it: the packets the MTA sends
 * (encoders that append to a buffer) and the packets a filter sends
 * (a decoder of one packet, pure and bounded, with a fuzz target).
 *
 * A packet is a 4-octet big-endian length, then that many octets: a
 * command letter and its data.  Strings in the data end with NUL; a
 * packet whose strings run past its end, or whose length is 0 or above
 * MILTER_PACKET_MAX, is refused.  The connection logic (timeouts,
 * negotiation policy, several filters) is lib/mail/milter.c's.
 */
#ifndef PANACEA_MILTER_PROTO_H
#define PANACEA_MILTER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The longest packet we accept: a body chunk of a filter that
 * negotiated SMFIP_MDS_1M, and some room for the command letter.  We
 * never offer more, so larger is a broken or hostile filter. */
#define MILTER_PACKET_MAX (1024 * 1024 + 64)
/* Body chunks we send (libmilter's MILTER_CHUNK_SIZE). */
#define MILTER_CHUNK 65535

/* Commands, MTA to filter. */
#define MILTER_C_ABORT 'A'
#define MILTER_C_BODY 'B'
#define MILTER_C_CONNECT 'C'
#define MILTER_C_MACRO 'D'
#define MILTER_C_EOM 'E'
#define MILTER_C_HELO 'H'
#define MILTER_C_QUIT_NC 'K'
#define MILTER_C_HEADER 'L'
#define MILTER_C_MAIL 'M'
#define MILTER_C_EOH 'N'
#define MILTER_C_OPTNEG 'O'
#define MILTER_C_QUIT 'Q'
#define MILTER_C_RCPT 'R'
#define MILTER_C_DATA 'T'
#define MILTER_C_UNKNOWN 'U'

/* Replies, filter to MTA. */
#define MILTER_R_ADDRCPT '+'
#define MILTER_R_DELRCPT '-'
#define MILTER_R_ADDRCPT_PAR '2'
#define MILTER_R_SHUTDOWN '4'
#define MILTER_R_ACCEPT 'a'
#define MILTER_R_REPLBODY 'b'
#define MILTER_R_CONTINUE 'c'
#define MILTER_R_DISCARD 'd'
#define MILTER_R_CHGFROM 'e'
#define MILTER_R_CONN_FAIL 'f'
#define MILTER_R_ADDHEADER 'h'
#define MILTER_R_INSHEADER 'i'
#define MILTER_R_SETSYMLIST 'l'
#define MILTER_R_CHGHEADER 'm'
#define MILTER_R_PROGRESS 'p'
#define MILTER_R_QUARANTINE 'q'
#define MILTER_R_REJECT 'r'
#define MILTER_R_SKIP 's'
#define MILTER_R_TEMPFAIL 't'
#define MILTER_R_REPLYCODE 'y'
#define MILTER_R_OPTNEG 'O' /* the filter's answer to OPTNEG */

/* Actions a filter may take at end of message (OPTNEG). */
#define MILTER_A_ADDHDRS 0x001
#define MILTER_A_CHGBODY 0x002
#define MILTER_A_ADDRCPT 0x004
#define MILTER_A_DELRCPT 0x008
#define MILTER_A_CHGHDRS 0x010
#define MILTER_A_QUARANTINE 0x020
#define MILTER_A_CHGFROM 0x040
#define MILTER_A_ADDRCPT_PAR 0x080
#define MILTER_A_SETSYMLIST 0x100
#define MILTER_A_ALL 0x1ff

/* Protocol steps (OPTNEG): NO* a step the filter does not want, NR_* a
 * step it will not answer. */
#define MILTER_P_NOCONNECT 0x00000001
#define MILTER_P_NOHELO 0x00000002
#define MILTER_P_NOMAIL 0x00000004
#define MILTER_P_NORCPT 0x00000008
#define MILTER_P_NOBODY 0x00000010
#define MILTER_P_NOHDRS 0x00000020
#define MILTER_P_NOEOH 0x00000040
#define MILTER_P_NR_HDR 0x00000080
#define MILTER_P_NOUNKNOWN 0x00000100
#define MILTER_P_NODATA 0x00000200
#define MILTER_P_SKIP 0x00000400
#define MILTER_P_RCPT_REJ 0x00000800
#define MILTER_P_NR_CONN 0x00001000
#define MILTER_P_NR_HELO 0x00002000
#define MILTER_P_NR_MAIL 0x00004000
#define MILTER_P_NR_RCPT 0x00008000
#define MILTER_P_NR_DATA 0x00010000
#define MILTER_P_NR_UNKN 0x00020000
#define MILTER_P_NR_EOH 0x00040000
#define MILTER_P_NR_BODY 0x00080000
#define MILTER_P_HDR_LEADSPC 0x00100000
#define MILTER_P_MDS_256K 0x10000000
#define MILTER_P_MDS_1M 0x20000000

/* The stages a filter may ask macros for (SETSYMLIST, OPTNEG). */
enum milter_stage {
	MILTER_M_CONNECT,
	MILTER_M_HELO,
	MILTER_M_MAIL,
	MILTER_M_RCPT,
	MILTER_M_DATA,
	MILTER_M_EOM,
	MILTER_M_EOH,
	MILTER_M_MAX
};

/* The length of a packet from its 4-octet prefix: the length, or -1
 * when it is 0 or above max (a framing error: the connection is done). */
long milter_frame_len(const unsigned char hdr[4], size_t max);

/* Encoders: each appends one whole packet (length included) to out. */
void milter_put_optneg(struct buf *out, uint32_t version, uint32_t actions,
		       uint32_t protocol);
/* SMFIC_MACRO for command cmd: names[i] = values[i] for i < n; a NULL
 * value is left out. */
void milter_put_macros(struct buf *out, char cmd, const char *const *names,
		       const char *const *values, size_t n);
/* family: 4, 6, 'L' (local socket), or 'U' (unknown: no port or
 * address). */
void milter_put_connect(struct buf *out, const char *hostname, char family,
			unsigned port, const char *addr);
void milter_put_helo(struct buf *out, const char *helo);
/* MAIL and RCPT: "<address>" and each ESMTP argument. */
void milter_put_envelope(struct buf *out, char cmd, const char *addr,
			 const char *const *args, size_t nargs);
void milter_put_header(struct buf *out, const char *name, size_t namelen,
		       const char *value, size_t valuelen);
void milter_put_body(struct buf *out, const void *data, size_t len);
void milter_put_unknown(struct buf *out, const char *line);
/* A command without data: DATA, EOH, EOM, ABORT, QUIT, QUIT_NC. */
void milter_put_simple(struct buf *out, char cmd);

/* One decoded packet from a filter.  Pointers point into the packet
 * given to milter_parse (which must outlive the reply); every string is
 * NUL-terminated within it. */
struct milter_reply {
	char cmd;
	/* OPTNEG */
	uint32_t version, actions, protocol;
	const char *macros[MILTER_M_MAX]; /* stage macro lists, or NULL */
	/* REPLYCODE: the whole reply text ("550 5.7.1 text"); QUARANTINE
	 * the reason; SETSYMLIST the list. */
	const char *text;
	uint32_t index; /* CHGHEADER, INSHEADER; SETSYMLIST the stage */
	/* ADDHEADER, CHGHEADER, INSHEADER: name and value;
	 * ADDRCPT, DELRCPT, ADDRCPT_PAR, CHGFROM: name is the address,
	 * value the ESMTP arguments (or NULL). */
	const char *name, *value;
	const unsigned char *data; /* REPLBODY */
	size_t len;
};

/* Decodes the packet p[0..len) (without the length prefix): 0, or -1
 * with why set to a static text for an unknown command or bad data. */
int milter_parse(const unsigned char *p, size_t len, struct milter_reply *r,
		 const char **why);

/* A REPLYCODE's text is a valid SMTP reply: 4XX or 5XX, then a space or
 * '-' (multi-line, CRLF-separated). 1 or 0. */
int milter_replycode_valid(const char *text);

#endif
