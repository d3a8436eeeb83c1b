/*
 * dovecot_auth - the codec of Dovecot's authentication protocol, client
 * side; see dovecot_auth.h.
 *
 * The parser copies each unescaped field into r->store and keeps its
 * offset; the pointers are set only at the end, once the store no longer
 * grows.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "dovecot_auth.h"
#include "strutil.h"

#define FIELDS_MAX 64 /* more fields than any line has: ignored */

/* Dovecot's tab-escaping of one value. */
static void
escape(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\001':
			buf_puts(out, "\0011");
			break;
		case '\0':
			buf_puts(out, "\0010");
			break;
		case '\t':
			buf_puts(out, "\001t");
			break;
		case '\r':
			buf_puts(out, "\001r");
			break;
		case '\n':
			buf_puts(out, "\001n");
			break;
		default:
			buf_putc(out, s[i]);
		}
	}
}

static void
escape_str(struct buf *out, const char *s)
{
	escape(out, s, strlen(s));
}

/* Appends the unescaped field to store: its offset, or -1 (a bad
 * escape). */
static long
unescape(struct buf *store, const char *s, size_t n)
{
	size_t off = store->len, i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\001') {
			if (++i == n)
				return -1;
			switch (s[i]) {
			case '1':
				c = '\001';
				break;
			case '0':
				c = '\0';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'n':
				c = '\n';
				break;
			default:
				return -1;
			}
		}
		buf_putc(store, c);
	}
	buf_putc(store, '\0');
	return (long)off;
}

/* Text a client may log: no NUL (the unescaped length is the string's),
 * no control character, at most max bytes. */
static int
text_ok(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len > max || strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
mech_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > DOVECOT_AUTH_MECH_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int
number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	unsigned flag;
} mech_flags[] = {
    {"anonymous", DOVECOT_MECH_ANONYMOUS},
    {"plaintext", DOVECOT_MECH_PLAINTEXT},
    {"dictionary", DOVECOT_MECH_DICTIONARY},
    {"active", DOVECOT_MECH_ACTIVE},
    {"forward-secrecy", DOVECOT_MECH_FORWARD_SECRECY},
    {"mutual-auth", DOVECOT_MECH_MUTUAL_AUTH},
    {"private", DOVECOT_MECH_PRIVATE},
};

static unsigned
flag_of(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(mech_flags) / sizeof(mech_flags[0]); i++)
		if (strcmp(word, mech_flags[i].name) == 0)
			return mech_flags[i].flag;
	return 0; /* a flag of a newer Dovecot: nothing we filter on */
}

void
dovecot_reply_free(struct dovecot_reply *r)
{
	buf_free(&r->store);
}

/* Splits line into unescaped fields in st (offsets and lengths); the
 * number of fields, or -1 with err set. */
static long
split(const char *line, size_t len, struct buf *st, long *off, size_t *flen,
      struct buf *err)
{
	size_t n = 0, start = 0, i;

	buf_reset(st);
	if (len > DOVECOT_AUTH_LINE_MAX) {
		buf_puts(err, "Dovecot auth: line too long");
		return -1;
	}
	if (memchr(line, '\0', len) != NULL || memchr(line, '\n', len)) {
		buf_puts(err, "Dovecot auth: NUL or LF in a line");
		return -1;
	}
	for (i = 0; i <= len && n < FIELDS_MAX; i++) {
		if (i < len && line[i] != '\t')
			continue;
		off[n] = unescape(st, line + start, i - start);
		if (off[n] < 0) {
			buf_puts(err, "Dovecot auth: bad escape");
			return -1;
		}
		flen[n] = st->len - 1 - (size_t)off[n];
		n++;
		start = i + 1;
	}
	return (long)n;
}

/* Decodes base64 text (a field of st) onto the end of st: the offset of
 * the bytes, or -1. */
static long
decode_field(struct buf *st, long off, size_t len, size_t *out_len)
{
	/* From a copy: the field itself is in the store, which grows. */
	struct buf text = BUF_INIT;
	long o = (long)st->len;
	int bad;

	buf_append(&text, st->data + off, len);
	bad = base64_decode(st, text.data, text.len, DOVECOT_AUTH_DATA_MAX) < 0;
	buf_free(&text);
	if (bad)
		return -1;
	*out_len = st->len - (size_t)o;
	buf_putc(st, '\0');
	return o;
}

int
dovecot_reply_parse(const char *line, size_t len, struct dovecot_reply *r,
		    struct buf *err)
{
	long off[FIELDS_MAX];
	size_t flen[FIELDS_MAX];
	long user = -1, reason = -1, sn;
	size_t user_len = 0, reason_len = 0;
	size_t n, i;
	struct buf *st = &r->store;
	const char *cmd;

	r->type = DOVECOT_REPLY_OTHER;
	r->major = r->minor = 0;
	r->mech = r->data = r->user = r->reason = NULL;
	r->flags = 0;
	r->id = 0;
	r->data_len = 0;
	r->temp = 0;
	if ((sn = split(line, len, st, off, flen, err)) < 0)
		return -1;
	n = (size_t)sn;
#define F(k) (st->data + off[k])
	cmd = F(0);
	if (strcmp(cmd, "VERSION") == 0) {
		unsigned long maj, min;

		if (n < 3 || number(F(1), 1000, &maj) < 0 ||
		    number(F(2), 1000000, &min) < 0) {
			buf_puts(err, "Dovecot auth: bad VERSION line");
			return -1;
		}
		r->type = DOVECOT_REPLY_VERSION;
		r->major = (unsigned)maj;
		r->minor = (unsigned)min;
		return 0;
	}
	if (strcmp(cmd, "MECH") == 0) {
		if (n < 2 || !mech_ok(F(1))) {
			buf_puts(err, "Dovecot auth: bad MECH line");
			return -1;
		}
		r->type = DOVECOT_REPLY_MECH;
		for (i = 2; i < n; i++)
			r->flags |= flag_of(F(i));
		r->mech = F(1);
		return 0;
	}
	if (strcmp(cmd, "DONE") == 0) {
		r->type = DOVECOT_REPLY_DONE;
		return 0;
	}
	if (strcmp(cmd, "OK") == 0)
		r->type = DOVECOT_REPLY_OK;
	else if (strcmp(cmd, "CONT") == 0)
		r->type = DOVECOT_REPLY_CONT;
	else if (strcmp(cmd, "FAIL") == 0)
		r->type = DOVECOT_REPLY_FAIL;
	else
		return 0; /* SPID, CUID, COOKIE, a newer line */
	if (n < 2 || number(F(1), 0xffffffffUL, &r->id) < 0) {
		buf_printf(err, "Dovecot auth: bad request id in %s", cmd);
		return -1;
	}
	if (r->type == DOVECOT_REPLY_CONT) {
		long o;

		/* Decoded after the fields: the store grows here last. */
		if (n < 3 ||
		    (o = decode_field(st, off[2], flen[2], &r->data_len)) < 0) {
			buf_puts(err, "Dovecot auth: bad data in CONT");
			return -1;
		}
		r->data = st->data + o;
		return 0;
	}
	for (i = 2; i < n; i++) {
		const char *f = F(i);

		if (strncmp(f, "user=", 5) == 0) {
			user = off[i] + 5;
			user_len = flen[i] - 5;
		} else if (strncmp(f, "reason=", 7) == 0) {
			reason = off[i] + 7;
			reason_len = flen[i] - 7;
		} else if (strcmp(f, "temp") == 0 ||
			   strcmp(f, "code=temp_fail") == 0) {
			r->temp = 1;
		}
	}
	if (user >= 0) {
		r->user = st->data + user;
		if (user_len == 0 ||
		    !text_ok(r->user, user_len, DOVECOT_AUTH_USER_MAX)) {
			r->user = NULL;
			buf_puts(err, "Dovecot auth: bad user name");
			return -1;
		}
	}
	if (reason >= 0) {
		r->reason = st->data + reason;
		if (!text_ok(r->reason, reason_len, DOVECOT_AUTH_REASON_MAX)) {
			r->user = r->reason = NULL;
			buf_puts(err, "Dovecot auth: bad reason");
			return -1;
		}
	}
#undef F
	return 0;
}

void
dovecot_request_free(struct dovecot_request *r)
{
	if (r->store.data != NULL)
		explicit_bzero(r->store.data, r->store.len);
	buf_free(&r->store);
}

int
dovecot_request_parse(const char *line, size_t len, struct dovecot_request *r,
		      struct buf *err)
{
	long off[FIELDS_MAX], sn;
	size_t flen[FIELDS_MAX];
	long text_off[6] = {-1, -1, -1, -1, -1, -1}, resp = -1;
	size_t text_len[6] = {0}, n, i, k;
	static const char *const names[6] = {
	    "service=", "lip=", "rip=", "lport=", "rport=", "mech"};
	struct buf *st = &r->store;
	const char *cmd;
	unsigned long v;

	memset(r, 0, offsetof(struct dovecot_request, store));
	r->type = DOVECOT_REQUEST_OTHER;
	if ((sn = split(line, len, st, off, flen, err)) < 0)
		return -1;
	n = (size_t)sn;
#define F(k) (st->data + off[k])
	cmd = F(0);
	if (strcmp(cmd, "VERSION") == 0) {
		if (n < 3 || number(F(1), 1000, &v) < 0) {
			buf_puts(err, "Dovecot auth: bad VERSION line");
			return -1;
		}
		r->type = DOVECOT_REQUEST_VERSION;
		r->major = (unsigned)v;
		return 0;
	}
	if (strcmp(cmd, "CPID") == 0) {
		r->type = DOVECOT_REQUEST_CPID;
		return 0;
	}
	if (strcmp(cmd, "AUTH") == 0)
		r->type = DOVECOT_REQUEST_AUTH;
	else if (strcmp(cmd, "CONT") == 0)
		r->type = DOVECOT_REQUEST_CONT;
	else if (strcmp(cmd, "CANCEL") == 0)
		r->type = DOVECOT_REQUEST_CANCEL;
	else
		return 0;
	if (n < 2 || number(F(1), 0xffffffffUL, &r->id) < 0) {
		buf_printf(err, "Dovecot auth: bad request id in %s", cmd);
		return -1;
	}
	if (r->type == DOVECOT_REQUEST_CANCEL)
		return 0;
	if (r->type == DOVECOT_REQUEST_CONT) {
		long o;

		if (n < 3 ||
		    (o = decode_field(st, off[2], flen[2], &r->resp_len)) < 0) {
			buf_puts(err, "Dovecot auth: bad data in CONT");
			return -1;
		}
		r->resp = st->data + o;
		r->has_resp = 1;
		return 0;
	}
	if (n < 3 || !mech_ok(F(2))) {
		buf_puts(err, "Dovecot auth: bad mechanism in AUTH");
		return -1;
	}
	text_off[5] = off[2];
	text_len[5] = flen[2];
	for (i = 3; i < n; i++) {
		const char *f = F(i);

		for (k = 0; k < 5; k++)
			if (strncmp(f, names[k], strlen(names[k])) == 0)
				break;
		if (k < 5) {
			text_off[k] = off[i] + (long)strlen(names[k]);
			text_len[k] = flen[i] - strlen(names[k]);
		} else if (strcmp(f, "secured") == 0) {
			r->secured = 1;
		} else if (strncmp(f, "ssl_cipher_bits=", 16) == 0) {
			if (number(f + 16, 100000, &v) < 0) {
				buf_puts(err, "Dovecot auth: bad "
					      "ssl_cipher_bits");
				return -1;
			}
			r->ssf = (unsigned)v;
		} else if (strncmp(f, "resp=", 5) == 0) {
			resp = i;
		}
	}
	for (k = 0; k < 5; k++)
		if (text_off[k] >= 0 &&
		    !text_ok(st->data + text_off[k], text_len[k], 63)) {
			buf_printf(err, "Dovecot auth: bad %.*s in AUTH",
				   (int)strlen(names[k]) - 1, names[k]);
			return -1;
		}
	if (resp >= 0) {
		long o = decode_field(st, off[resp] + 5, flen[resp] - 5,
				      &r->resp_len);

		if (o < 0) {
			buf_puts(err, "Dovecot auth: bad resp in AUTH");
			return -1;
		}
		r->resp = st->data + o;
		r->has_resp = 1;
	}
	/* Pointers last: the store no longer grows. */
	r->mech = st->data + text_off[5];
	r->service = text_off[0] >= 0 ? st->data + text_off[0] : NULL;
	r->local_ip = text_off[1] >= 0 ? st->data + text_off[1] : NULL;
	r->remote_ip = text_off[2] >= 0 ? st->data + text_off[2] : NULL;
	r->local_port = text_off[3] >= 0 ? st->data + text_off[3] : NULL;
	r->remote_port = text_off[4] >= 0 ? st->data + text_off[4] : NULL;
#undef F
	return 0;
}

void
dovecot_ok_encode(struct buf *out, unsigned long id, const char *user)
{
	buf_printf(out, "OK\t%lu\tuser=", id);
	escape_str(out, user);
	buf_putc(out, '\n');
}

void
dovecot_fail_encode(struct buf *out, unsigned long id, int temp)
{
	buf_printf(out, "FAIL\t%lu%s\n", id, temp ? "\ttemp" : "");
}

void
dovecot_mech_encode(struct buf *out, const char *mech, unsigned flags)
{
	size_t i;

	buf_puts(out, "MECH\t");
	escape_str(out, mech);
	for (i = 0; i < sizeof(mech_flags) / sizeof(mech_flags[0]); i++)
		if (flags & mech_flags[i].flag)
			buf_printf(out, "\t%s", mech_flags[i].name);
	buf_putc(out, '\n');
}

void
dovecot_hello_encode(struct buf *out, unsigned long pid)
{
	buf_printf(out, "VERSION\t1\t2\nCPID\t%lu\n", pid);
}

static void
field(struct buf *out, const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	buf_printf(out, "\t%s=", name);
	escape_str(out, value);
}

void
dovecot_auth_encode(struct buf *out, const struct dovecot_auth_request *r)
{
	buf_printf(out, "AUTH\t%lu\t", r->id);
	escape_str(out, r->mech);
	field(out, "service", r->service);
	/* No master login follows: smtpd only needs the outcome. */
	buf_puts(out, "\tnologin");
	field(out, "lip", r->local_ip);
	field(out, "rip", r->remote_ip);
	field(out, "lport", r->local_port);
	field(out, "rport", r->remote_port);
	if (r->secured)
		buf_puts(out, "\tsecured");
	if (r->ssf > 0)
		buf_printf(out, "\tssl_cipher_bits=%u", r->ssf);
	if (r->resp != NULL) {
		/* An empty initial response is "resp=" (RFC 4954's "="). */
		buf_puts(out, "\tresp=");
		base64_encode(out, r->resp, r->resp_len);
	}
	buf_putc(out, '\n');
}

void
dovecot_cont_encode(struct buf *out, unsigned long id, const void *data,
		    size_t len)
{
	buf_printf(out, "CONT\t%lu\t", id);
	base64_encode(out, data, len);
	buf_putc(out, '\n');
}

void
dovecot_cancel_encode(struct buf *out, unsigned long id)
{
	buf_printf(out, "CANCEL\t%lu\n", id);
}

int
dovecot_security_parse(const char *opts, unsigned *forbid, unsigned *require,
		       struct buf *err)
{
	static const struct {
		const char *word;
		unsigned flag;
		int required;
	} words[] = {
	    {"noplaintext", DOVECOT_MECH_PLAINTEXT, 0},
	    {"noanonymous", DOVECOT_MECH_ANONYMOUS, 0},
	    {"nodictionary", DOVECOT_MECH_DICTIONARY, 0},
	    {"noactive", DOVECOT_MECH_ACTIVE, 0},
	    {"mutual_auth", DOVECOT_MECH_MUTUAL_AUTH, 1},
	    {"forward_secrecy", DOVECOT_MECH_FORWARD_SECRECY, 1},
	};
	char **list;
	int count, i, r = 0;
	size_t k;

	*forbid = *require = 0;
	list = str_split(opts != NULL ? opts : "", " ,\t", &count);
	for (i = 0; i < count; i++) {
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (str_casecmp(list[i], words[k].word) == 0)
				break;
		if (k == sizeof(words) / sizeof(words[0])) {
			buf_printf(err, "unknown SASL security option \"%s\"",
				   list[i]);
			r = -1;
			break;
		}
		if (words[k].required)
			*require |= words[k].flag;
		else
			*forbid |= words[k].flag;
	}
	str_list_free(list);
	return r;
}

unsigned
dovecot_mech_flags_by_name(const char *mech)
{
	static const struct {
		const char *name;
		unsigned flags;
	} known[] = {
	    {"PLAIN", DOVECOT_MECH_PLAINTEXT},
	    {"LOGIN", DOVECOT_MECH_PLAINTEXT},
	    {"ANONYMOUS", DOVECOT_MECH_ANONYMOUS},
	    {"CRAM-MD5", DOVECOT_MECH_DICTIONARY},
	    {"DIGEST-MD5", DOVECOT_MECH_DICTIONARY | DOVECOT_MECH_MUTUAL_AUTH},
	    {"SCRAM-SHA-1", DOVECOT_MECH_MUTUAL_AUTH},
	    {"SCRAM-SHA-256", DOVECOT_MECH_MUTUAL_AUTH},
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (str_casecmp(mech, known[i].name) == 0)
			return known[i].flags;
	return 0;
}
