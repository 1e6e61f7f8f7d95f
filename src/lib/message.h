/*
 * message.h - one email message loaded for inspection: the raw bytes, its
 * header fields exactly as written, the GMime 3 tree, the parser's
 * complaints, and a flat list of MIME parts with their encoded and decoded
 * bytes.  The checks (msgcheck_*.c), DKIM (dkim.c) and the matrix
 * (matrix.c) read a message through this module; nothing here judges it.
 */
#ifndef MT_MESSAGE_H
#define MT_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct mt_message mt_message;

/* One header field as it stands in the raw message: name (no colon),
 * value (after the colon, folding kept, line break dropped) and the whole
 * field including its terminating line break.  All point into the raw
 * message. */
typedef struct mt_hfield {
    mt_slice name;
    mt_slice value;
    mt_slice field;
} mt_hfield;

/* A complaint of GMime's parser (GMimeParserWarning code, its text). */
typedef struct mt_parse_warning {
    int code;
    int critical; /* a GMIME_CRIT_* code: parts of the input may be lost */
    long long offset;
    char *what; /* owned by the message */
} mt_parse_warning;

/* One MIME entity of the tree, in depth-first order.  Leaves carry
 * content; multiparts carry a boundary.  Owned by the message. */
typedef struct mt_part {
    int index;       /* position in depth-first order, 0 = the top */
    int depth;       /* 0 for the message's top entity */
    int parent;      /* index of the enclosing multipart, -1 for the top */
    char path[64];   /* "1", "1.2", ... as IMAP numbers parts; "0" top */
    char ctype[128]; /* lowercased "type/subtype" */
    char *charset;   /* declared charset parameter or NULL */
    char *filename;  /* file name (disposition or name=) or NULL */
    char *boundary;  /* multiparts only */
    char cte[32];    /* declared Content-Transfer-Encoding, lowercased, "" when absent */
    int is_multipart;
    int is_message;     /* message/rfc822 */
    int is_attachment;  /* disposition attachment, or a named non-text leaf */
    int is_inline_disp; /* disposition inline given */
    int nchildren;
    /* leaves: the content as it stands in the raw message (transfer
     * encoded), an offset range into the raw bytes */
    size_t enc_off, enc_len;
    void *obj; /* the GMimeObject (borrowed from the tree) */
} mt_part;

/* mt_message_load_file - read path ("-" for stdin) and parse it.  On
 * failure returns NULL with a reason in err (a message that GMime cannot
 * turn into a tree at all still loads: parts are then empty and
 * mt_message_tree_ok is 0).  The caller frees with mt_message_free. */
mt_message *mt_message_load_file(const char *path, char *err, size_t errlen);

/* mt_message_parse - parse len bytes at data (copied).  Never fails for
 * lack of structure; returns NULL only when len is 0 (err says so). */
mt_message *mt_message_parse(const char *data, size_t len, char *err, size_t errlen);

void mt_message_free(mt_message *m);

/* The raw bytes as read (a leading mbox "From " line excluded). */
const char *mt_message_raw(const mt_message *m, size_t *len);

/* Offset of the body (after the empty line ending the header), or len
 * when there is no body; *sep_found is 0 when no empty line ended the
 * header (the whole input is header). */
size_t mt_message_body_offset(const mt_message *m, int *sep_found);

/* mt_message_mbox_messages - for an mbox input, how many messages it
 * holds (only the first is loaded); 1 otherwise. */
size_t mt_message_mbox_messages(const mt_message *m);

/* Header fields in order. */
size_t mt_message_nfields(const mt_message *m);
const mt_hfield *mt_message_field(const mt_message *m, size_t i);
/* Lines in the header block that are neither a field nor a
 * continuation (no colon, bad name); counted, not kept. */
size_t mt_message_bad_header_lines(const mt_message *m);

/* mt_message_header_count - how many fields are named name (any case). */
size_t mt_message_header_count(const mt_message *m, const char *name);
/* mt_message_header_first - the first field named name, or NULL. */
const mt_hfield *mt_message_header_first(const mt_message *m, const char *name);

/* The GMime message (GMimeMessage *), borrowed; NULL when unparseable. */
void *mt_message_gmime(const mt_message *m);
int mt_message_tree_ok(const mt_message *m);

size_t mt_message_nwarnings(const mt_message *m);
const mt_parse_warning *mt_message_warning(const mt_message *m, size_t i);

size_t mt_message_nparts(const mt_message *m);
const mt_part *mt_message_part(const mt_message *m, size_t i);

/* mt_message_part_decoded - the part's content with the transfer encoding
 * undone (charset untouched), computed once and kept by the message.
 * Returns NULL for multiparts. */
const mt_buf *mt_message_part_decoded(const mt_message *m, size_t i);

/* mt_message_part_text_utf8 - a text leaf's content decoded and converted
 * from its declared charset (UTF-8 or ASCII when none) to UTF-8, invalid
 * sequences replaced by U+FFFD; NULL for non-text parts.  Kept by the
 * message. */
const mt_buf *mt_message_part_text_utf8(const mt_message *m, size_t i);

/* mt_message_from_domain - the header From's first mailbox's domain,
 * lowercased, into out (size outlen); returns out, "" when none. */
const char *mt_message_from_domain(const mt_message *m, char *out, size_t outlen);

/* mt_gmime_is_attachment - the rule every module uses for "attachment":
 * a GMimeObject with Content-Disposition attachment, or a named leaf that
 * is neither text nor marked inline. */
int mt_gmime_is_attachment(const void *gmime_object);

/* mt_gmime_init - initialise GMime once per process (idempotent). */
void mt_gmime_init(void);

#endif
