/*
 * spf.h - our own RFC 7208 SPF evaluator: record discovery, the full
 * record grammar, macro expansion (section 7) and check_host() with every
 * processing limit (10 DNS mechanisms/modifiers across include and
 * redirect, 2 void lookups, 10 names per mx and ptr), loops and exp=.
 *
 * Each evaluation also builds a lookup tree: one node per SPF record read
 * (the top domain, each include and redirect target) with the DNS
 * mechanisms it cost, so a report can show which include eats the budget.
 */
#ifndef MT_SPF_H
#define MT_SPF_H

#include <stddef.h>

#include "dns.h"
#include "util.h"

typedef enum mt_spf_result {
    MT_SPF_NONE = 0,
    MT_SPF_NEUTRAL,
    MT_SPF_PASS,
    MT_SPF_FAIL,
    MT_SPF_SOFTFAIL,
    MT_SPF_TEMPERROR,
    MT_SPF_PERMERROR
} mt_spf_result;

/* mt_spf_result_name - "none", "neutral", "pass", "fail", "softfail",
 * "temperror", "permerror". */
const char *mt_spf_result_name(mt_spf_result r);

/* One record read during an evaluation. */
typedef struct mt_spf_node {
    char *via;            /* the term that led here ("include:x", "redirect=x"), NULL at the top */
    char *domain;         /* the domain whose record this is */
    char *record;         /* the record text, NULL when none was found */
    int own_lookups;      /* DNS mechanisms/modifiers counted in this record's terms */
    int total_lookups;    /* own + every descendant's */
    mt_spf_result result; /* what this record's evaluation gave */
    char *note;           /* why (the matching term, or the error), may be NULL */
    struct mt_spf_node **kids;
    size_t nkids;
} mt_spf_node;

/* The outcome of one check_host(); owned by the caller (mt_spf_outcome_free). */
typedef struct mt_spf_outcome {
    mt_spf_result result;
    char *mechanism;      /* the term that matched, NULL if none did */
    char *problem;        /* for permerror/temperror/none: what went wrong, else NULL */
    char *explanation;    /* fail only: the exp= text when one was obtained, else NULL */
    const char *identity; /* "mailfrom" or "helo" */
    char *domain;         /* the domain checked */
    int dns_lookups;      /* DNS mechanisms/modifiers counted (limit 10) */
    int void_lookups;     /* lookups that found nothing (limit 2) */
    int dns_queries;      /* DNS queries actually sent */
    mt_spf_node *tree;
} mt_spf_outcome;

typedef struct mt_spf_request {
    const char *ip;       /* the client address, IPv4 or IPv6 (printable) */
    const char *sender;   /* MAIL FROM; "" or NULL is the null sender (HELO identity used) */
    const char *helo;     /* the HELO/EHLO name, may be NULL */
    const char *receiver; /* %{r}; NULL: "unknown" */
} mt_spf_request;

/* mt_spf_check - run check_host() for the request's identity (RFC 7208
 * §2.3/§2.4: MAIL FROM, or postmaster@HELO for the null sender) against
 * the DNS behind d.  Fills *out (the caller frees it with
 * mt_spf_outcome_free).  Returns 0, or -1 when ip is not an address (out
 * then says permerror with the problem). */
int mt_spf_check(mt_dns *d, const mt_spf_request *req, mt_spf_outcome *out);

void mt_spf_outcome_free(mt_spf_outcome *o);

/* mt_spf_tree_text - the lookup tree as indented text lines into b. */
void mt_spf_tree_text(const mt_spf_node *n, mt_buf *b, int depth);

/* mt_spf_tree_json - the lookup tree as a JSON object into b. */
void mt_spf_tree_json(const mt_spf_node *n, mt_buf *b);

/* --- the record grammar, without DNS (check-domain warnings, fuzzing) --- */

/* What a syntax check of one record found. */
typedef struct mt_spf_syntax {
    int ok;             /* 1: the record parses */
    char error[160];    /* when not ok: the first problem */
    int dns_terms;      /* include, a, mx, ptr, exists, redirect in this record */
    int has_all;        /* an "all" mechanism is present */
    char all_qualifier; /* its qualifier: '+', '-', '~', '?' */
    int has_ptr;
    int has_redirect;
    int duplicate_includes; /* include targets named twice */
} mt_spf_syntax;

/* mt_spf_parse_check - check rec[0..len) against RFC 7208's grammar
 * (version, terms separated by spaces, mechanisms, modifiers, CIDR
 * lengths, domain-spec ends, macro syntax) and summarise it in *s. */
void mt_spf_parse_check(const char *rec, size_t len, mt_spf_syntax *s);

/* mt_spf_expand_test - expand a macro-string with a fixed context
 * (sender strong-bad@email.example.com, ip 192.0.2.3, helo
 * mx.example.org, domain email.example.com; %{p} is "unknown") into out;
 * 0, or -1 on a macro syntax error.  For tests and the fuzz target. */
int mt_spf_expand_test(const char *s, size_t len, int exp, mt_buf *out);

#endif
