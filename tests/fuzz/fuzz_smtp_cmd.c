/*
 * fuzz_smtp_cmd - libFuzzer target for lib/smtp_cmd.
 *
 * The first input byte selects the advertised extensions, the second the
 * parse flags (SMTP_CMD_F_LENIENT among them: strict_rfc821_envelopes),
 * the rest is one command line.  Beyond "no crash", it checks that every
 * result string is inside the command's storage, that the reply is
 * always one well-formed line with the code of the error, and that a
 * MAIL or RCPT the strict syntax takes means the same to the lenient one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp_cmd.h"

static void
check_str(const struct smtp_cmd *c, const char *s, size_t store_len)
{
	if (s == NULL)
		return;
	/* Either a constant ("") or a string inside the owned storage. */
	if (*s && (s < c->store || s >= c->store + store_len))
		abort();
}

/* What the strict syntax takes, the lenient one takes the same way. */
static void
check_lenient_same(const struct smtp_cmd *strict, const uint8_t *line,
		   size_t len, unsigned ext, unsigned flags)
{
	struct smtp_cmd c;
	int i;

	if (smtp_cmd_parse((const char *)line, len, ext,
			   flags | SMTP_CMD_F_LENIENT, &c) != SMTP_CMD_OK ||
	    strcmp(c.path.addr, strict->path.addr) != 0 ||
	    c.path.flags != strict->path.flags || c.nparams != strict->nparams)
		abort();
	for (i = 0; i < c.nparams; i++)
		if (strcmp(c.params[i].keyword, strict->params[i].keyword) != 0)
			abort();
	smtp_cmd_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmd c;
	struct buf reply = BUF_INIT;
	unsigned ext, flags;
	size_t store_len, i;
	int err, code;

	if (size < 2)
		return 0;
	ext = data[0] & SMTP_EXT_ALL;
	flags = data[1] & (SMTP_CMD_F_UTF8 | SMTP_CMD_F_NO_BRACKETS |
			   SMTP_CMD_F_BARE_LOCAL | SMTP_CMD_F_LENIENT);
	err = smtp_cmd_parse((const char *)data + 2, size - 2, ext, flags, &c);
	store_len = 2 * (size - 2) + 2;
	if (err != (int)c.err)
		abort();
	check_str(&c, c.verb_text, store_len);
	check_str(&c, c.arg, store_len);
	check_str(&c, c.auth, store_len);
	check_str(&c, c.envid, store_len);
	check_str(&c, c.orcpt, store_len);
	check_str(&c, c.bad_param, store_len);
	check_str(&c, c.auth_mech, store_len);
	check_str(&c, c.auth_initial, store_len);
	if (c.nparams < 0 || c.nparams > SMTP_PARAM_MAX)
		abort();
	for (i = 0; i < (size_t)c.nparams; i++) {
		check_str(&c, c.params[i].keyword, store_len);
		check_str(&c, c.params[i].value, store_len);
	}
	smtp_cmd_reply(&c, &reply);
	code = smtp_cmd_reply_code(&c);
	if (err == SMTP_CMD_OK ? code != 0 : code < 500 || code > 559)
		abort();
	if (err != SMTP_CMD_OK && atoi(buf_cstr(&reply)) != code)
		abort();
	for (i = 0; i < reply.len; i++)
		if ((unsigned char)reply.data[i] < 32)
			abort();
	if (err == SMTP_CMD_OK &&
	    (c.verb == SMTP_VERB_MAIL || c.verb == SMTP_VERB_RCPT) &&
	    (c.path.flags & ADDR_8BIT) && !(ext & SMTP_EXT_SMTPUTF8) &&
	    !(flags & SMTP_CMD_F_UTF8))
		abort();
	if (err == SMTP_CMD_OK && c.verb == SMTP_VERB_RCPT &&
	    (c.path.flags & ADDR_NULL))
		abort();
	if ((c.notify & SMTP_NOTIFY_NEVER) && c.notify != SMTP_NOTIFY_NEVER)
		abort();
	if (err == SMTP_CMD_OK && !(flags & SMTP_CMD_F_LENIENT) &&
	    (c.verb == SMTP_VERB_MAIL || c.verb == SMTP_VERB_RCPT))
		check_lenient_same(&c, data + 2, size - 2, ext, flags);
	buf_free(&reply);
	smtp_cmd_free(&c);
	return 0;
}
