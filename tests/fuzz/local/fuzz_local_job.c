/*
 * fuzz_local_job - libFuzzer target for the messages between local and
 * its mailbox workers (local/local_job): any bytes, decoded as a job and
 * as a reply; what is accepted keeps the contract and re-encodes to a
 * list that decodes the same, what is refused has a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "buf.h"
#include "local_job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_job(const struct attr_list *l)
{
	struct local_job job, again;
	struct attr_list out = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;

	memset(&job, 0, sizeof(job));
	memset(&again, 0, sizeof(again));
	if (local_job_decode(l, &job, &why) < 0) {
		if (why.len == 0)
			abort();
		goto out;
	}
	if (local_job_kind(&job) < 0 || job.locks < 0 || job.locks > 1 ||
	    job.size < 0 || strlen(job.path) > LOCAL_JOB_FIELD_MAX)
		abort();
	local_job_encode(&job, &out);
	if (local_job_decode(&out, &again, &why) < 0 ||
	    strcmp(job.path, again.path) != 0 || job.size != again.size)
		abort();
out:
	local_job_free(&job);
	local_job_free(&again);
	attr_list_free(&out);
	buf_free(&why);
}

static void
check_reply(const struct attr_list *l)
{
	struct local_job_reply r;
	struct buf why = BUF_INIT;

	memset(&r, 0, sizeof(r));
	if (local_job_reply_decode(l, &r, &why) < 0) {
		if (why.len == 0)
			abort();
	} else if ((r.cls != 2 && r.cls != 4 && r.cls != 5) ||
		   r.dsn[0] != '0' + r.cls ||
		   strlen(r.text) > LOCAL_JOB_TEXT_MAX) {
		abort();
	}
	local_job_reply_free(&r);
	buf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_list l = ATTR_LIST_INIT;
	size_t used;

	if (attr_decode((const char *)data, size, LOCAL_JOB_LIST_MAX, &l,
			&used) == ATTR_OK) {
		check_job(&l);
		check_reply(&l);
	}
	attr_list_free(&l);
	return 0;
}
