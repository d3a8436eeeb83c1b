/*
 * auth_proto - the auth service's requests and replies; see auth_proto.h.
 *
 * Every field is looked up once, by name, and a name given twice is
 * malformed: a list means one thing only, whichever pair a reader would
 * look at first.  Encoders write only well-formed lists: a reason (free
 * text from libsasl2 or the service) is cut to its bound and its control
 * characters replaced, so that a reply the service sends always parses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_proto.h"

static const char *const request_names[] = {
    [AUTH_REQ_MECHS] = "mechs",	  [AUTH_REQ_START] = "start",
    [AUTH_REQ_STEP] = "step",	  [AUTH_REQ_CHECKPASS] = "checkpass",
    [AUTH_REQ_APOP] = "apop",	  [AUTH_REQ_CANCEL] = "cancel",
    [AUTH_REQ_REDEEM] = "redeem",
};

static const char *const status_names[] = {
    [AUTH_REPLY_OK] = "ok",
    [AUTH_REPLY_CONTINUE] = "continue",
    [AUTH_REPLY_FAIL] = "fail",
    [AUTH_REPLY_NOMECH] = "nomech",
    [AUTH_REPLY_TEMPFAIL] = "tempfail",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- field checks ------------------------------------------------------ */

/* The only pair named name, or NULL when absent; *dup set when repeated. */
static const struct attr *
find_once(const struct attr_list *in, const char *name, int *dup)
{
	const struct attr *found = NULL;

	for (size_t i = 0; i < in->count; i++) {
		if (strcmp(in->items[i].name, name) != 0)
			continue;
		if (found != NULL)
			*dup = 1;
		found = &in->items[i];
	}
	return found;
}

/* Text: no NUL, no control character (bytes >= 0x80 are allowed: UTF-8
 * user names). */
static int
text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

enum field_kind { F_TEXT, F_BYTES };

/*
 * Looks up name; 0 with *out (and *len) set, or NULL/0 when absent and
 * optional; -1 with err set when required and absent, repeated, longer
 * than max or (F_TEXT) not text.
 */
static int
field(const struct attr_list *in, const char *name, enum field_kind kind,
      size_t min, size_t max, int required, const char **out, size_t *len,
      struct buf *err)
{
	int dup = 0;
	const struct attr *a = find_once(in, name, &dup);

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (dup) {
		buf_printf(err, "attribute %s given twice", name);
		return -1;
	}
	if (a == NULL) {
		if (!required)
			return 0;
		buf_printf(err, "attribute %s missing", name);
		return -1;
	}
	if (a->len < min || a->len > max) {
		buf_printf(err, "attribute %s: length %zu not in %zu..%zu",
			   name, a->len, min, max);
		return -1;
	}
	if (kind == F_TEXT && !text_ok(a->value, a->len)) {
		buf_printf(err, "attribute %s: not text", name);
		return -1;
	}
	*out = a->value;
	if (len != NULL)
		*len = a->len;
	return 0;
}

static int
text(const struct attr_list *in, const char *name, size_t min, size_t max,
     int required, const char **out, struct buf *err)
{
	return field(in, name, F_TEXT, min, max, required, out, NULL, err);
}

/* The required attribute name (1 to 16 bytes) as an index into its n
 * names; "unknown NAME" when it is none of them.  0, or -1 with err. */
static int
name_index(const struct attr_list *in, const char *name,
	   const char *const *names, unsigned n, unsigned *index,
	   struct buf *err)
{
	const char *v;
	unsigned i;

	if (text(in, name, 1, 16, 1, &v, err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			break;
	if (i == n) {
		buf_printf(err, "unknown %s", name);
		return -1;
	}
	*index = i;
	return 0;
}

/* A flag is "0" or "1"; absent is 0. */
static int
flag(const struct attr_list *in, const char *name, int *out, struct buf *err)
{
	const char *v;

	*out = 0;
	if (text(in, name, 1, 1, 0, &v, err) < 0)
		return -1;
	if (v == NULL)
		return 0;
	if (*v != '0' && *v != '1') {
		buf_printf(err, "attribute %s: not 0 or 1", name);
		return -1;
	}
	*out = *v == '1';
	return 0;
}

static int
all_of(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

#define DIGITS "0123456789"
#define LOWER_HEX "0123456789abcdef"
#define HEX "0123456789abcdefABCDEF"

/* A port: "" or 1..5 digits, at most 65535. */
static int
port(const struct attr_list *in, const char *name, const char **out,
     struct buf *err)
{
	if (text(in, name, 0, 5, 0, out, err) < 0)
		return -1;
	if (*out == NULL)
		*out = "";
	if (!all_of(*out, DIGITS) || (**out && atoi(*out) > 65535)) {
		buf_printf(err, "attribute %s: not a port", name);
		return -1;
	}
	return 0;
}

/* A numeric address as sock_addr_text() writes it, maybe with an IPv6
 * scope ("fe80::1%eth0"); "" when unknown. */
static int
address(const struct attr_list *in, const char *name, const char **out,
	struct buf *err)
{
	if (text(in, name, 0, AUTH_PROTO_ADDR_MAX, 0, out, err) < 0)
		return -1;
	if (*out == NULL)
		*out = "";
	if (!all_of(
		*out,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" DIGITS
		".:%_-")) {
		buf_printf(err, "attribute %s: not a numeric address", name);
		return -1;
	}
	return 0;
}

static int
mech_ok(const char *s)
{
	return all_of(
	    s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" DIGITS "-_");
}

int
auth_proto_ticket_ok(const char *s)
{
	return s != NULL && strlen(s) == AUTH_PROTO_TICKET_LEN &&
	       all_of(s, LOWER_HEX);
}

/* --- requests ---------------------------------------------------------- */

static void
add_flag(struct attr_list *out, const char *name, int on)
{
	attr_add_str(out, name, on ? "1" : "0");
}

static void
add_opt(struct attr_list *out, const char *name, const char *value)
{
	attr_add_str(out, name, value != NULL ? value : "");
}

void
auth_request_encode(const struct auth_request *r, struct attr_list *out)
{
	attr_add_str(out, "request", request_names[r->type]);
	switch (r->type) {
	case AUTH_REQ_MECHS:
		add_opt(out, "service", r->service);
		add_opt(out, "client_address", r->client_address);
		add_opt(out, "client_port", r->client_port);
		add_opt(out, "server_address", r->server_address);
		add_opt(out, "server_port", r->server_port);
		add_flag(out, "allow_plaintext", r->allow_plaintext);
		attr_add_int(out, "external_ssf", r->external_ssf);
		break;
	case AUTH_REQ_START:
		add_opt(out, "mech", r->mech);
		add_flag(out, "has_response", r->has_response);
		if (r->has_response)
			attr_add(out, "response", r->response, r->response_len);
		add_flag(out, "want_ticket", r->want_ticket);
		break;
	case AUTH_REQ_STEP:
		attr_add(out, "response", r->response, r->response_len);
		break;
	case AUTH_REQ_CHECKPASS:
		add_opt(out, "user", r->user);
		add_opt(out, "password", r->password);
		add_flag(out, "want_ticket", r->want_ticket);
		break;
	case AUTH_REQ_APOP:
		add_opt(out, "user", r->user);
		add_opt(out, "timestamp", r->timestamp);
		add_opt(out, "digest", r->digest);
		add_flag(out, "want_ticket", r->want_ticket);
		break;
	case AUTH_REQ_CANCEL:
		break;
	case AUTH_REQ_REDEEM:
		add_opt(out, "ticket", r->ticket);
		break;
	}
}

static int
parse_mechs(const struct attr_list *in, struct auth_request *r, struct buf *err)
{
	const char *ssf;

	if (text(in, "service", 1, 4, 1, &r->service, err) < 0)
		return -1;
	if (strcmp(r->service, "smtp") != 0 && strcmp(r->service, "pop") != 0) {
		buf_puts(err, "attribute service: not smtp or pop");
		return -1;
	}
	if (address(in, "client_address", &r->client_address, err) < 0 ||
	    port(in, "client_port", &r->client_port, err) < 0 ||
	    address(in, "server_address", &r->server_address, err) < 0 ||
	    port(in, "server_port", &r->server_port, err) < 0 ||
	    flag(in, "allow_plaintext", &r->allow_plaintext, err) < 0 ||
	    text(in, "external_ssf", 1, 5, 0, &ssf, err) < 0)
		return -1;
	if (ssf != NULL && (!all_of(ssf, DIGITS) || atoi(ssf) > 65535)) {
		buf_puts(err, "attribute external_ssf: not a number of bits");
		return -1;
	}
	r->external_ssf = ssf != NULL ? (unsigned)atoi(ssf) : 0;
	return 0;
}

static int
parse_user(const struct attr_list *in, struct auth_request *r, struct buf *err)
{
	return text(in, "user", 1, AUTH_PROTO_USER_MAX, 1, &r->user, err) < 0 ||
		       flag(in, "want_ticket", &r->want_ticket, err) < 0
		   ? -1
		   : 0;
}

int
auth_request_parse(const struct attr_list *in, struct auth_request *r,
		   struct buf *err)
{
	size_t len;
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (name_index(in, "request", request_names, NELEM(request_names), &i,
		       err) < 0)
		return -1;
	r->type = (enum auth_request_type)i;
	switch (r->type) {
	case AUTH_REQ_MECHS:
		return parse_mechs(in, r, err);
	case AUTH_REQ_START:
		if (text(in, "mech", 1, AUTH_PROTO_MECH_MAX, 1, &r->mech, err) <
		    0)
			return -1;
		if (!mech_ok(r->mech)) {
			buf_puts(err, "attribute mech: not a mechanism name");
			return -1;
		}
		if (flag(in, "has_response", &r->has_response, err) < 0 ||
		    field(in, "response", F_BYTES, 0, AUTH_PROTO_DATA_MAX,
			  r->has_response, &r->response, &r->response_len,
			  err) < 0 ||
		    flag(in, "want_ticket", &r->want_ticket, err) < 0)
			return -1;
		if (!r->has_response && r->response != NULL) {
			buf_puts(err, "attribute response without "
				      "has_response");
			return -1;
		}
		return 0;
	case AUTH_REQ_STEP:
		return field(in, "response", F_BYTES, 0, AUTH_PROTO_DATA_MAX, 1,
			     &r->response, &r->response_len, err);
	case AUTH_REQ_CHECKPASS:
		if (parse_user(in, r, err) < 0 ||
		    field(in, "password", F_BYTES, 0, AUTH_PROTO_PASSWORD_MAX,
			  1, &r->password, &len, err) < 0)
			return -1;
		if (memchr(r->password, '\0', len) != NULL) {
			buf_puts(err, "attribute password: has a NUL byte");
			return -1;
		}
		return 0;
	case AUTH_REQ_APOP:
		if (parse_user(in, r, err) < 0 ||
		    text(in, "timestamp", 3, AUTH_PROTO_TIMESTAMP_MAX, 1,
			 &r->timestamp, err) < 0 ||
		    text(in, "digest", AUTH_PROTO_DIGEST_LEN,
			 AUTH_PROTO_DIGEST_LEN, 1, &r->digest, err) < 0)
			return -1;
		len = strlen(r->timestamp);
		if (r->timestamp[0] != '<' || r->timestamp[len - 1] != '>') {
			buf_puts(err, "attribute timestamp: not <...>");
			return -1;
		}
		if (!all_of(r->digest, HEX)) {
			buf_puts(err, "attribute digest: not hex");
			return -1;
		}
		return 0;
	case AUTH_REQ_CANCEL:
		return 0;
	case AUTH_REQ_REDEEM:
		if (text(in, "ticket", AUTH_PROTO_TICKET_LEN,
			 AUTH_PROTO_TICKET_LEN, 1, &r->ticket, err) < 0)
			return -1;
		if (!auth_proto_ticket_ok(r->ticket)) {
			buf_puts(err, "attribute ticket: not a ticket");
			return -1;
		}
		return 0;
	}
	return -1;
}

/* --- replies ----------------------------------------------------------- */

/* Free text, cut to max and with control characters replaced. */
static void
add_clean(struct attr_list *out, const char *name, const char *s, size_t max)
{
	char clean[AUTH_PROTO_REASON_MAX + 1];
	size_t n = 0;

	for (; s[n] != '\0' && n < max && n < sizeof(clean) - 1; n++) {
		unsigned char c = (unsigned char)s[n];
		clean[n] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	clean[n] = '\0';
	attr_add_str(out, name, clean);
}

void
auth_reply_encode(const struct auth_reply *r, struct attr_list *out)
{
	attr_add_str(out, "status", status_names[r->status]);
	switch (r->status) {
	case AUTH_REPLY_OK:
		if (r->mechs != NULL)
			attr_add_str(out, "mechs", r->mechs);
		if (r->user != NULL)
			attr_add_str(out, "user", r->user);
		if (r->ticket != NULL)
			attr_add_str(out, "ticket", r->ticket);
		if (r->service != NULL)
			attr_add_str(out, "service", r->service);
		if (r->client_address != NULL)
			attr_add_str(out, "client_address", r->client_address);
		if (r->server_address != NULL)
			attr_add_str(out, "server_address", r->server_address);
		break;
	case AUTH_REPLY_CONTINUE:
		attr_add(out, "challenge",
			 r->challenge != NULL ? r->challenge : "",
			 r->challenge_len);
		break;
	case AUTH_REPLY_FAIL:
	case AUTH_REPLY_TEMPFAIL:
		if (r->reason != NULL)
			add_clean(out, "reason", r->reason,
				  AUTH_PROTO_REASON_MAX);
		break;
	case AUTH_REPLY_NOMECH:
		break;
	}
}

int
auth_reply_parse(const struct attr_list *in, struct auth_reply *r,
		 struct buf *err)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (name_index(in, "status", status_names, NELEM(status_names), &i,
		       err) < 0)
		return -1;
	r->status = (enum auth_reply_status)i;
	switch (r->status) {
	case AUTH_REPLY_OK:
		if (text(in, "mechs", 0, AUTH_PROTO_MECHS_MAX, 0, &r->mechs,
			 err) < 0 ||
		    text(in, "user", 1, AUTH_PROTO_USER_MAX, 0, &r->user, err) <
			0 ||
		    text(in, "ticket", AUTH_PROTO_TICKET_LEN,
			 AUTH_PROTO_TICKET_LEN, 0, &r->ticket, err) < 0 ||
		    text(in, "service", 1, 4, 0, &r->service, err) < 0 ||
		    address(in, "client_address", &r->client_address, err) <
			0 ||
		    address(in, "server_address", &r->server_address, err) < 0)
			return -1;
		if (r->ticket != NULL && !auth_proto_ticket_ok(r->ticket)) {
			buf_puts(err, "attribute ticket: not a ticket");
			return -1;
		}
		if (r->service != NULL && strcmp(r->service, "smtp") != 0 &&
		    strcmp(r->service, "pop") != 0) {
			buf_puts(err, "attribute service: not smtp or pop");
			return -1;
		}
		if (r->mechs != NULL &&
		    !all_of(r->mechs,
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz" DIGITS "-_ ")) {
			buf_puts(err, "attribute mechs: not a mechanism list");
			return -1;
		}
		if (find_once(in, "client_address", &(int){0}) == NULL)
			r->client_address = NULL;
		if (find_once(in, "server_address", &(int){0}) == NULL)
			r->server_address = NULL;
		return 0;
	case AUTH_REPLY_CONTINUE:
		return field(in, "challenge", F_BYTES, 0, AUTH_PROTO_DATA_MAX,
			     1, &r->challenge, &r->challenge_len, err);
	case AUTH_REPLY_FAIL:
	case AUTH_REPLY_TEMPFAIL:
		return text(in, "reason", 0, AUTH_PROTO_REASON_MAX, 0,
			    &r->reason, err);
	case AUTH_REPLY_NOMECH:
		return 0;
	}
	return -1;
}
