/*
 * mailbox.h - the mail messages under a path: a file of one message
 * (.eml), an mbox (split at its "From " lines), a directory of them or a
 * Maildir (cur/ and new/; tmp/ and dot files skipped), or stdin ("-").
 */
#ifndef MT_MAILBOX_H
#define MT_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct mt_mailbox_stats {
    uint64_t files;      /* files read */
    uint64_t messages;   /* messages handed to the callback */
    uint64_t unreadable; /* files or directories that could not be read */
    uint64_t bytes;
} mt_mailbox_stats;

/* mt_mailbox_fn - one message buf[0..n) (not NUL-terminated, valid during
 * the call); name is "file" or "file:N" (N-th message of an mbox). */
typedef void (*mt_mailbox_fn)(const char *buf, size_t n, const char *name, void *arg);

/* mt_mailbox_read - call fn for every message under path, in file-name
 * order.  Unreadable files are counted, named in err (the last one) and
 * skipped.  Returns 0, or -1 when path itself cannot be read. */
int mt_mailbox_read(const char *path, mt_mailbox_fn fn, void *arg, mt_mailbox_stats *st, mt_buf *err);

/* mt_mailbox_list - call file(path) for every file under path (itself
 * when it is no directory), in the order mt_mailbox_read reads them.
 * Unreadable directories are counted and named in err; -1 when path
 * itself cannot be read. */
int mt_mailbox_list(const char *path, void (*file)(const char *path, void *arg), void *arg,
                    mt_mailbox_stats *st, mt_buf *err);

/* mt_mailbox_read_file - the messages of one file (a message or an mbox),
 * as mt_mailbox_read does for each file. */
int mt_mailbox_read_file(const char *path, mt_mailbox_fn fn, void *arg, mt_mailbox_stats *st, mt_buf *err);

/* mt_mailbox_read_file_buf - the same, reading the file into scratch
 * (owned by the caller, reused from file to file: one read and no
 * allocation per file once it is large enough).  The messages handed to
 * fn point into scratch. */
int mt_mailbox_read_file_buf(const char *path, mt_buf *scratch, mt_mailbox_fn fn, void *arg,
                             mt_mailbox_stats *st, mt_buf *err);

/* mt_mailbox_split - call fn for each message of buf[0..n): the whole
 * buffer, or each part of an mbox.  name as for mt_mailbox_fn. */
void mt_mailbox_split(const char *buf, size_t n, const char *name, mt_mailbox_fn fn, void *arg,
                      mt_mailbox_stats *st);

#endif
