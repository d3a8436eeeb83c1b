/*
 * fuzz_queue_record - libFuzzer target for the envelope record decoder
 * (lib/queue_record.c).
 *
 * Records come from the queue's own files, but a damaged or tampered
 * database must not turn into memory errors in qmgr or the CLI.  On
 * success the envelope must satisfy every bound of queue.h and re-encode
 * to exactly the input (the format is canonical); a version 1 record
 * (no filter) re-encodes as version 2, which must decode and re-encode
 * to itself.  On failure the envelope must still be safe to free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s, size_t max)
{
	if (s == NULL || strlen(s) > max)
		abort();
}

static void
check_envelope(const struct queue_envelope *env)
{
	size_t i;

	check_str(env->sender, QUEUE_FIELD_MAX);
	check_str(env->client_name, QUEUE_FIELD_MAX);
	check_str(env->client_addr, QUEUE_FIELD_MAX);
	check_str(env->helo, QUEUE_FIELD_MAX);
	check_str(env->protocol, QUEUE_FIELD_MAX);
	check_str(env->auth_user, QUEUE_FIELD_MAX);
	check_str(env->envid, QUEUE_FIELD_MAX);
	check_str(env->filter, QUEUE_FIELD_MAX);
	if (env->arrival_usec >= 1000000 || (unsigned)env->ret > 2 ||
	    (env->hold != 0 && env->hold != 1) ||
	    (env->flags & ~(uint32_t)QUEUE_FLAGS_KNOWN) ||
	    env->nrcpt > QUEUE_RCPT_MAX)
		abort();
	for (i = 0; i < env->nrcpt; i++) {
		check_str(env->rcpts[i].address, QUEUE_FIELD_MAX);
		check_str(env->rcpts[i].orcpt, QUEUE_FIELD_MAX);
		check_str(env->rcpts[i].dsn, QUEUE_DSN_MAX);
		check_str(env->rcpts[i].text, QUEUE_FIELD_MAX);
		if (env->rcpts[i].address[0] == '\0' ||
		    (unsigned)env->rcpts[i].state > QUEUE_RCPT_STATE_MAX ||
		    env->rcpts[i].notify > 0x0f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_envelope env;
	struct buf again = BUF_INIT;

	struct buf third = BUF_INIT;

	if (queue_record_decode(data, size, &env) == QUEUE_OK) {
		check_envelope(&env);
		if (queue_record_encode(&env, &again) != QUEUE_OK)
			abort();
		if (data[0] == QUEUE_RECORD_VERSION) {
			if (again.len != size ||
			    memcmp(again.data, data, size) != 0)
				abort();
		} else {
			/* Version 1: the same envelope, two octets (the
			 * empty filter's length) longer. */
			queue_envelope_free(&env);
			if (again.len != size + 2 ||
			    queue_record_decode(again.data, again.len, &env) !=
				QUEUE_OK ||
			    env.filter[0] != '\0' ||
			    queue_record_encode(&env, &third) != QUEUE_OK ||
			    third.len != again.len ||
			    memcmp(third.data, again.data, again.len) != 0)
				abort();
		}
	}
	queue_envelope_free(&env);
	buf_free(&again);
	buf_free(&third);
	return 0;
}
