/*
 * msgmeta.h - the --messages FILE join (SPEC §3): a CSV export from the
 * sending application, keyed by Message-ID or queue id, that supplies
 * what Postfix does not log unless told to: template, header From domain,
 * attachment types, size.  Values from the export fill fields the log
 * left empty; the log wins where it has a value.
 *
 * The CSV has a header row; recognised columns are message_id, queue_id,
 * message_template_id, header_from_domain, attachment_types,
 * message_size_bytes, mail_from_domain (SPEC §3 names).  Other columns are
 * ignored and reported once.  Message-IDs may carry their angle brackets.
 */
#ifndef MT_MSGMETA_H
#define MT_MSGMETA_H

#include <stdint.h>

#include "util.h"

typedef struct mt_msgmeta mt_msgmeta;

typedef struct mt_msgmeta_row {
    const char *template_id, *header_from_domain, *attachment_types, *mail_from_domain;
    int64_t size; /* -1 unknown */
} mt_msgmeta_row;

/* mt_msgmeta_load - read the export; NULL with a message naming the file
 * and line in err.  *ignored receives the unknown column names, comma
 * separated (owned by the map), or NULL. */
mt_msgmeta *mt_msgmeta_load(const char *path, mt_buf *err, const char **ignored);
void mt_msgmeta_free(mt_msgmeta *m);

/* mt_msgmeta_parse - the same from data[0..len) in memory; name is used in
 * messages.  (The fuzz target's entry point.) */
mt_msgmeta *mt_msgmeta_parse(const char *data, size_t len, const char *name, mt_buf *err,
                             const char **ignored);

/* mt_msgmeta_find - the row for a message, by Message-ID first (without
 * angle brackets), then queue id; NULL when neither is known. */
const mt_msgmeta_row *mt_msgmeta_find(const mt_msgmeta *m, const char *message_id, const char *queue_id);

/* mt_msgmeta_count - rows loaded */
size_t mt_msgmeta_count(const mt_msgmeta *m);

#endif
