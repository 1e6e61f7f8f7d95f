/*
 * dns.h - DNS lookups over c-ares: asynchronous, many queries in flight,
 * an optional resolver address ("HOST[:PORT]"), and answers reduced to a
 * plain result state plus the records a checker needs.
 *
 * Two ways in:
 *   - mt_dns_submit + mt_dns_wait: start any number of queries, each with
 *     a callback; mt_dns_wait drives them all (at most max_inflight on the
 *     wire at once, the rest queued) until every callback has run.
 *   - mt_dns_query (and mt_dns_txt for "the TXT strings of a name", the
 *     entry point DKIM key lookups use): one query, waited for.
 * Both may be mixed on one handle; a handle is not shared between threads.
 */
#ifndef MT_DNS_H
#define MT_DNS_H

#include <stddef.h>
#include <stdint.h>

/* Record types we ask for (the wire values). */
enum {
    MT_DNS_A = 1,
    MT_DNS_CNAME = 5,
    MT_DNS_PTR = 12,
    MT_DNS_MX = 15,
    MT_DNS_TXT = 16,
    MT_DNS_AAAA = 28,
    MT_DNS_SPF = 99 /* the RFC 4408 SPF type; RDATA like TXT */
};

/* The result state of one query. */
typedef enum mt_dns_status {
    MT_DNS_OK = 0,    /* an answer with at least one record of the type */
    MT_DNS_NODATA,    /* the name exists, no record of the type */
    MT_DNS_NXDOMAIN,  /* the name does not exist */
    MT_DNS_SERVFAIL,  /* the server said SERVFAIL */
    MT_DNS_REFUSED,   /* the server refused the query */
    MT_DNS_TIMEOUT,   /* no answer within timeout x tries */
    MT_DNS_MALFORMED, /* an answer we could not parse */
    MT_DNS_BADNAME,   /* the name cannot be asked (too long, empty label) */
    MT_DNS_ERROR      /* anything else (connection refused, out of memory) */
} mt_dns_status;

/* mt_dns_status_name - "ok", "nodata", "nxdomain", "servfail", "refused",
 * "timeout", "malformed", "badname", "error". */
const char *mt_dns_status_name(mt_dns_status s);

/* One record of an answer.  For TXT and SPF, data holds the record's
 * character-strings joined without separator (len bytes, may contain NUL;
 * a NUL follows data[len]) and nstrings counts them.  For MX, PTR and
 * CNAME, data is the target name (no trailing dot) and pref the MX
 * preference.  For A and AAAA, addr holds 4 or 16 bytes and data the
 * printable address. */
typedef struct mt_dns_rr {
    int type;
    char *data;
    size_t len;
    int nstrings;
    unsigned pref;
    unsigned char addr[16];
} mt_dns_rr;

/* An answer: owned by whoever got it from mt_dns_query (mt_dns_answer_free)
 * or, in a callback, by the library (valid only during the callback). */
typedef struct mt_dns_answer {
    mt_dns_status status;
    int type;
    char *name;  /* the name asked */
    char *cname; /* for A/AAAA/TXT: the canonical name when a CNAME was followed, else NULL */
    size_t n;
    mt_dns_rr *rr;
} mt_dns_answer;

void mt_dns_answer_free(mt_dns_answer *a);

typedef struct mt_dns_opts {
    const char *resolver; /* "HOST", "HOST:PORT", "[V6]:PORT"; NULL: /etc/resolv.conf */
    int timeout_ms;       /* per try; 0: 2000 */
    int tries;            /* 0: 2 */
    int max_inflight;     /* 0: 128 */
} mt_dns_opts;

typedef struct mt_dns mt_dns;

/* mt_dns_new - a resolver handle, or NULL with a message in err (a bad
 * resolver address, c-ares failing to start). */
mt_dns *mt_dns_new(const mt_dns_opts *o, char *err, size_t errlen);
void mt_dns_free(mt_dns *d);

typedef void (*mt_dns_cb)(void *arg, const mt_dns_answer *a);

/* mt_dns_submit - queue a query for name (no trailing dot needed) of the
 * given type; cb(arg, answer) runs from within mt_dns_wait (or a later
 * mt_dns_query).  The callback may submit further queries. */
void mt_dns_submit(mt_dns *d, const char *name, int type, mt_dns_cb cb, void *arg);

/* mt_dns_wait - run until no query is queued or in flight. */
void mt_dns_wait(mt_dns *d);

/* mt_dns_query - one query, answered (or failed) before return.  The
 * caller owns the answer.  Other queries in flight progress meanwhile. */
mt_dns_answer *mt_dns_query(mt_dns *d, const char *name, int type);

/* mt_dns_txt - the TXT records of name: mt_dns_query(d, name, MT_DNS_TXT).
 * Each rr[i].data is one record's strings joined (RFC 6376 §3.6.2.2 and
 * RFC 7208 §3.3 both join them without separator). */
mt_dns_answer *mt_dns_txt(mt_dns *d, const char *name);

/* mt_dns_queries - how many queries this handle has sent (for counts). */
uint64_t mt_dns_queries(const mt_dns *d);

/* mt_dns_parse - parse a raw DNS response (abuf, alen) to a query of
 * qtype into *out (zeroed first; free with mt_dns_answer_free's rules:
 * the caller frees out->rr and out->cname via mt_dns_answer_clear).
 * rcode-level states come from the header; a response that does not
 * parse is MT_DNS_MALFORMED.  Exposed for the fuzz target. */
void mt_dns_parse(const unsigned char *abuf, int alen, int qtype, mt_dns_answer *out);
void mt_dns_answer_clear(mt_dns_answer *a);

/* mt_dns_reverse_name - the in-addr.arpa / ip6.arpa name of a printable
 * IPv4 or IPv6 address into buf (at least 80 bytes); 0, or -1 if ip is not
 * an address. */
int mt_dns_reverse_name(const char *ip, char *buf, size_t len);

#endif
