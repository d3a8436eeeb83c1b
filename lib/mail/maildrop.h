/*
 * maildrop - local submissions kept while the mail system is down.
 *
 * When master is not running, sendmail writes each message as one file
 * into $queue_directory/maildrop/; the pickup daemon moves the files into
 * the queue when the system comes back (DESIGN.md, "The queue").
 *
 * Folder.  maildrop/ belongs to mail_owner and has mode 03733: every user
 * may create files in it (wx) but nobody but mail_owner may list it; the
 * sticky bit stops users from removing or renaming each other's files;
 * the set-group-id bit gives every new file mail_owner's group, so a file
 * written 0640 by a user is readable by pickup and by no other user.  No
 * program runs with extra privileges for this (no setgid helper).
 *
 * Trust.  A file is written by an ordinary user and is untrusted input:
 * the submitting uid is the file's owner as the kernel recorded it (never
 * anything written inside), and the reader checks the name (a queue id),
 * the type (a regular file reached without following a symbolic link,
 * one link only), the size (message_size_limit plus the envelope) and
 * every field before anything reaches the queue.
 *
 * File format: MAILDROP_MAGIC, then one attribute list (lib/util/attr.h)
 * with the envelope
 *   sender   the envelope sender ("" for the null sender)
 *   rcpt     one per recipient (at least one)
 *   notify   DSN NOTIFY bits (queue.h QUEUE_NOTIFY_*) for every recipient
 *   ret      "full", "hdrs" or ""        envid  DSN ENVID or ""
 *   flags    queue.h envelope flags (QUEUE_FLAG_8BITMIME, ...)
 * then the message itself up to the end of the file, lines ending in
 * CRLF, not dot-stuffed.  A writer creates "t" + ID, writes, fsyncs and
 * renames it to ID, a new queue id (queue_id_new), so a reader never sees
 * a half-written file under a final name.
 */
#ifndef PANACEA_MAILDROP_H
#define PANACEA_MAILDROP_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "queue.h"

#define MAILDROP_MAGIC "PANDROP1\n"
#define MAILDROP_MODE 0640
#define MAILDROP_DIR_MODE 03733
/* The envelope list may be no longer than this. */
#define MAILDROP_ENVELOPE_MAX (1024 * 1024)

/* What a reader learns about one file. */
struct maildrop_file {
	char id[QUEUE_ID_SIZE];
	struct queue_envelope env; /* sender, recipients, DSN fields, flags */
	uid_t uid;		   /* the file's owner: who submitted it */
	time_t mtime;
	off_t content_len; /* bytes of the message after the envelope */
	int fd;		   /* open, positioned at the message */
};

/*
 * Writes a message (env: sender, recipients with notify, envid, ret,
 * flags; content of len bytes, CRLF lines) into dir.  Returns 0 and the
 * file's id in id, or -1 with "reason" in err (nothing left behind).
 */
int maildrop_write(const char *dir, const struct queue_envelope *env,
		   const void *content, size_t len, char id[QUEUE_ID_SIZE],
		   struct buf *err);
/* The same with the content read from content_fd, from its current
 * offset to its end (a spooled message: memory stays bounded). */
int maildrop_write_fd(const char *dir, const struct queue_envelope *env,
		      int content_fd, char id[QUEUE_ID_SIZE], struct buf *err);

/*
 * Opens and checks dir/name for pickup or listing; max_content bounds the
 * message.  Returns 0 with *f filled (close with maildrop_close), 1 when
 * the name is not a finished maildrop file (skip it quietly: "t" files
 * being written, anything else), or -1 with the reason in err (a bad
 * file: the caller logs and removes it).
 */
int maildrop_open(const char *dir, const char *name, off_t max_content,
		  struct maildrop_file *f, struct buf *err);
void maildrop_close(struct maildrop_file *f);

/*
 * Pure parts, for unit tests: the encoding of the file's head (magic and
 * envelope list) and its decoding from the start of data (0 and *used, 1
 * when data is too short to tell, -1 with err for a malformed head).
 */
void maildrop_encode_head(const struct queue_envelope *env, struct buf *out);
int maildrop_decode_head(const char *data, size_t len,
			 struct queue_envelope *env, size_t *used,
			 struct buf *err);

/*
 * The Received: header of a local submission, in Postfix's shape:
 *   Received: by MYHOSTNAME (Panacea, from userid UID)
 *   	id QUEUEID; DATE
 * appended to out with CRLF line ends.
 */
void maildrop_received(struct buf *out, const char *myhostname, uid_t uid,
		       const char *queue_id, time_t when);

#endif
