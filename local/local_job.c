/*
 * local_job - the codec of local's mailbox jobs; see local_job.h.
 */
#include <string.h>

#include "attr_scan.h"
#include "local_job.h"

static const struct attr_scan_spec job_spec[] = {
    ATTR_SCAN_ROW_STR("kind", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 4, 7,
		      struct local_job, kind),
    ATTR_SCAN_ROW_STR("path", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 1,
		      LOCAL_JOB_FIELD_MAX, struct local_job, path),
    ATTR_SCAN_ROW_STR("sender", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 0,
		      LOCAL_JOB_FIELD_MAX, struct local_job, sender),
    ATTR_SCAN_ROW_STR("to", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 0,
		      LOCAL_JOB_FIELD_MAX, struct local_job, to),
    ATTR_SCAN_ROW_INT("uid", ATTR_SCAN_REQUIRED, 0, 0xfffffffeLL,
		      struct local_job, uid),
    ATTR_SCAN_ROW_INT("gid", ATTR_SCAN_REQUIRED, 0, 0xfffffffeLL,
		      struct local_job, gid),
    ATTR_SCAN_ROW_INT("locks", ATTR_SCAN_REQUIRED, 0, 1, struct local_job,
		      locks),
    ATTR_SCAN_ROW_INT("size", ATTR_SCAN_REQUIRED, 0, LOCAL_JOB_SIZE_MAX,
		      struct local_job, size),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec reply_spec[] = {
    ATTR_SCAN_ROW_INT("class", ATTR_SCAN_REQUIRED, 2, 5, struct local_job_reply,
		      cls),
    ATTR_SCAN_ROW_STR("dsn", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 5, 15,
		      struct local_job_reply, dsn),
    ATTR_SCAN_ROW_STR("text", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 0,
		      LOCAL_JOB_TEXT_MAX, struct local_job_reply, text),
    ATTR_SCAN_END,
};

void
local_job_encode(const struct local_job *job, struct attr_list *out)
{
	attr_print(out, job_spec, job);
}

int
local_job_decode(const struct attr_list *in, struct local_job *job,
		 struct buf *why)
{
	if (attr_scan(in, job_spec, job, why) < 0)
		return -1;
	if (local_job_kind(job) < 0) {
		buf_puts(why, "bad attribute \"kind\"");
		return -1;
	}
	return 0;
}

int
local_job_kind(const struct local_job *job)
{
	static const char *const kinds[] = {
	    [LOCAL_JOB_MBOX] = "mbox",
	    [LOCAL_JOB_MAILDIR] = "maildir",
	    [LOCAL_JOB_LOCK] = "lock",
	    [LOCAL_JOB_UNLOCK] = "unlock",
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (job->kind != NULL && strcmp(job->kind, kinds[i]) == 0)
			return (int)i;
	return -1;
}

void
local_job_free(struct local_job *job)
{
	attr_scan_free(job_spec, job);
}

void
local_job_reply_encode(const struct local_job_reply *r, struct attr_list *out)
{
	attr_print(out, reply_spec, r);
}

int
local_job_reply_decode(const struct attr_list *in, struct local_job_reply *r,
		       struct buf *why)
{
	if (attr_scan(in, reply_spec, r, why) < 0)
		return -1;
	if (r->cls == 3 || r->dsn[0] != '0' + r->cls || r->dsn[1] != '.') {
		buf_puts(why, "bad attribute \"dsn\"");
		return -1;
	}
	return 0;
}

void
local_job_reply_free(struct local_job_reply *r)
{
	attr_scan_free(reply_spec, r);
}
