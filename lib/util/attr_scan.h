/*
 * attr_scan - typed scan specifications for attribute lists (attr.h).
 *
 * A protocol describes its message once, as a table of attr_scan_spec
 * rows naming each attribute, its type, whether it is required, the range
 * of its value and where in a C struct it goes.  attr_scan() fills the
 * struct from a decoded list and refuses anything the table does not
 * allow; attr_print() writes the struct back as a list, in table order.
 * So the decoder and the encoder of a message cannot drift apart, and a
 * program never looks at a raw attribute of a message that has a table.
 *
 * The rules attr_scan() enforces, each a refusal with a reason in why:
 *   - every name in the list is in the table (at its level);
 *   - a single attribute appears at most once, a required one exactly once;
 *   - a string has no NUL, its length is in [min, max], and with
 *     ATTR_SCAN_LINE no control character (one printable line);
 *   - an integer is "0" or an optional '-' then digits without a leading
 *     zero, and its value is in [min, max];
 *   - a time in milliseconds is "SEC" or "SEC.mmm" (1 to 3 decimals),
 *     SEC as an integer above, and its value in ms is in [min, max];
 *   - a repeated string (ATTR_SCAN_STRS) or group (ATTR_SCAN_GROUP)
 *     appears between count_min and count_max times within what encloses
 *     it (the message or one group);
 *   - a group starts at its first member's name and runs until a name
 *     that is not one of its members, or its first member again (the
 *     next group); the members of a group are scanned by the same rules,
 *     and groups nest.  The runs of a group are contiguous: once another
 *     attribute of the enclosing level came, the group may not resume.
 * On a refusal the struct is left for attr_scan_free() to release; it
 * holds nothing the caller should use.
 *
 * Storage: a string is a char * (an allocated copy, NULL when absent), an
 * integer or time a long long (0 when absent), a repeated string a char **
 * with a size_t count, a group an array of elem_size structs with a
 * size_t count.  attr_scan_free() releases all of it and zeroes the
 * pointers and counts.
 */
#ifndef PANACEA_ATTR_SCAN_H
#define PANACEA_ATTR_SCAN_H

#include <stddef.h>

#include "attr.h"
#include "buf.h"

enum attr_scan_type {
	ATTR_SCAN_STR,
	ATTR_SCAN_INT,
	ATTR_SCAN_MSEC, /* decimal seconds, stored as milliseconds */
	ATTR_SCAN_STRS,
	ATTR_SCAN_GROUP,
};

#define ATTR_SCAN_REQUIRED 0x01 /* STR, INT, MSEC: must be present */
#define ATTR_SCAN_LINE 0x02	/* STR, STRS: no control characters */

/* Members of a group may nest at most this deep, and a level holds at
 * most this many rows (a fixed table, checked by attr_scan). */
#define ATTR_SCAN_DEPTH_MAX 4
#define ATTR_SCAN_ROWS_MAX 32

struct attr_scan_spec {
	const char *name; /* NULL ends a table */
	enum attr_scan_type type;
	unsigned flags;
	long long min, max;	     /* STR, STRS: length; INT, MSEC: value */
	size_t off;		     /* the field in the struct */
	size_t count_off;	     /* STRS, GROUP: the size_t count */
	size_t count_min, count_max; /* STRS, GROUP */
	size_t elem_size;	     /* GROUP */
	const struct attr_scan_spec *members; /* GROUP: its table */
};

/* Table rows.  T is the struct type, F its field, N its count field. */
#define ATTR_SCAN_ROW_STR(name, flags, lmin, lmax, T, F)                       \
	{                                                                      \
		(name), ATTR_SCAN_STR, (flags), (lmin), (lmax),                \
		    offsetof(T, F), 0, 0, 0, 0, NULL                           \
	}
#define ATTR_SCAN_ROW_INT(name, flags, vmin, vmax, T, F)                       \
	{                                                                      \
		(name), ATTR_SCAN_INT, (flags), (vmin), (vmax),                \
		    offsetof(T, F), 0, 0, 0, 0, NULL                           \
	}
#define ATTR_SCAN_ROW_MSEC(name, flags, vmin, vmax, T, F)                      \
	{                                                                      \
		(name), ATTR_SCAN_MSEC, (flags), (vmin), (vmax),               \
		    offsetof(T, F), 0, 0, 0, 0, NULL                           \
	}
#define ATTR_SCAN_ROW_STRS(name, flags, lmin, lmax, cmin, cmax, T, F, N)       \
	{                                                                      \
		(name), ATTR_SCAN_STRS, (flags), (lmin), (lmax),               \
		    offsetof(T, F), offsetof(T, N), (cmin), (cmax), 0, NULL    \
	}
/* key: the name of the group's first member (members[0].name). */
#define ATTR_SCAN_ROW_GROUP(key, cmin, cmax, T, F, N, E, members)              \
	{                                                                      \
		(key), ATTR_SCAN_GROUP, 0, 0, 0, offsetof(T, F),               \
		    offsetof(T, N), (cmin), (cmax), sizeof(E), (members)       \
	}
#define ATTR_SCAN_END                                                          \
	{                                                                      \
		NULL, ATTR_SCAN_STR, 0, 0, 0, 0, 0, 0, 0, 0, NULL              \
	}

/* Fills obj (zeroed by the caller) from list; 0, or -1 with the reason
 * appended to why. */
int attr_scan(const struct attr_list *list, const struct attr_scan_spec *spec,
	      void *obj, struct buf *why);
/* Appends obj's attributes to list in table order: strings that are NULL
 * are left out, integers and times always written. */
void attr_print(struct attr_list *list, const struct attr_scan_spec *spec,
		const void *obj);
void attr_scan_free(const struct attr_scan_spec *spec, void *obj);

/* Strict integer syntax of attr_scan (no sign '+', no white space, no
 * leading zero); 0 and *out set when s[0..len) is one in [min, max]. */
int attr_scan_int(const char *s, size_t len, long long min, long long max,
		  long long *out);

#endif
