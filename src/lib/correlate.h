/*
 * correlate.h - join a Postfix log's lines by queue id into messages and
 * recipients, and turn each delivery line into an attempt record with its
 * retry count, delay and the recipient's final queue status.
 *
 * A message's attempts are held until the message leaves the queue
 * ("removed") or the input ends, because the final status of a recipient
 * is known only then.  Memory is therefore bounded by the messages in
 * flight, not by the size of the log.  Message structures are recycled.
 */
#ifndef MT_CORRELATE_H
#define MT_CORRELATE_H

#include "classify.h"
#include "msgmeta.h"
#include "reader_postfix.h"
#include "record.h"
#include "routes.h"

typedef void (*mt_attempt_fn)(const mt_attempt *a, void *arg);

typedef struct mt_join mt_join;

typedef struct mt_join_stats {
    uint64_t messages;       /* messages with at least one attempt */
    uint64_t in_flight_peak; /* most messages held at once */
    uint64_t reused_ids;     /* queue ids reused without a "removed" line */
} mt_join_stats;

/* mt_join_new - a joiner that classifies each attempt with cls and hands
 * it to fn(arg).  template_header names the header whose header_checks
 * INFO line carries the template id (NULL: "X-Template-Id").  routes may
 * be NULL.  All pointers must outlive the joiner. */
mt_join *mt_join_new(mt_classifier *cls, const mt_routes *routes, const char *template_header,
                     mt_attempt_fn fn, void *arg);

/* mt_join_set_messages - fill what the log leaves empty from a --messages
 * export (may be NULL); it must outlive the joiner. */
void mt_join_set_messages(mt_join *j, const mt_msgmeta *meta);

/* mt_join_set_counts_only - with on set, attempts come out without their
 * MX IP, without their MX host when they were classified ahead, without
 * their queue and message ids (unless mt_join_set_messages gave a table
 * looked up by them), and the accepted ones without their reply text,
 * which the joiner then need not keep: for a consumer that counts attempts
 * and shows only the failures' replies (the diagnosis); everything else in
 * the records is the same.  Off by default. */
void mt_join_set_counts_only(mt_join *j, int on);

/* mt_join_line - feed one parsed line.  file must stay valid until
 * mt_join_finish (records point at it). */
void mt_join_line(mt_join *j, const mt_pf_line *l, const char *file, uint64_t lineno);

/* mt_join_class - a delivery line's classification, made ahead of the
 * join (set: 1) by mt_join_classify_ahead, on a parsing thread, so that
 * the one joining thread need not.  The strings belong to the rules. */
typedef struct mt_join_class {
    const char *provider, *meaning;
    unsigned flags;
    mt_category category;
    int set;
    uint32_t domain_at; /* where the recipient's domain starts in to= (its
                           length when it has none), found ahead too */
} mt_join_class;

/* mt_join_classify_ahead - classify a delivery line with cls as the
 * joiner would classify its attempt (same recipient domain, MX host and
 * reply), into *out; out->set is 0 for other lines and for lines whose
 * recipient the joiner alone can tell (no address on the line).  Pure but
 * for cls: one per thread. */
void mt_join_classify_ahead(mt_classifier *cls, const mt_pf_line *l, mt_join_class *out);

/* mt_join_key_hash - the hash of the key the joiner files l under ("host
 * queue_id"); 0 for a line it ignores.  Pure: the parsing threads call it
 * so that the one joining thread need not. */
uint64_t mt_join_key_hash(const mt_pf_line *l);

/* mt_join_line_hashed - mt_join_line with h = mt_join_key_hash(l) done,
 * and, when pre is not NULL, the line classified ahead. */
void mt_join_line_hashed(mt_join *j, const mt_pf_line *l, uint64_t h, const mt_join_class *pre,
                         const char *file, uint64_t lineno);

/* mt_join_finish - emit every message still held; their recipients that
 * never got a final answer are "deferred" (still queued). */
void mt_join_finish(mt_join *j);

const mt_join_stats *mt_join_get_stats(const mt_join *j);
void mt_join_free(mt_join *j);

#endif
