/*
 * domaincheck.h - the sender checks behind `mailtriage check-domain`: SPF
 * (with warnings and the lookup tree), DKIM keys, DMARC (RFC 7489
 * organisational domain and the RFC 9989 tree walk), reverse DNS / FCrDNS /
 * HELO for each IP, MX, and DNS blocklists.  Every check ends pass, warn,
 * fail or error (error: the DNS could not tell) with its evidence: the
 * records read and the lookups made.
 */
#ifndef MT_DOMAINCHECK_H
#define MT_DOMAINCHECK_H

#include <stddef.h>

#include "dns.h"
#include "orgdomain.h"
#include "util.h"

typedef enum mt_chk_status { MT_CHK_PASS = 0, MT_CHK_WARN, MT_CHK_FAIL, MT_CHK_ERROR } mt_chk_status;

/* "pass", "warn", "fail", "error". */
const char *mt_chk_status_name(mt_chk_status s);

typedef struct mt_check {
    char *area; /* "spf", "dkim", "dmarc", "rdns", "helo", "mx", "dnsbl" */
    char *name; /* what exactly: "record", "check_host 192.0.2.1", "key s1", ... */
    mt_chk_status status;
    char *summary; /* one line */
    char **evidence;
    size_t nevidence;
    char *json_extra; /* a JSON value (the SPF lookup tree) or NULL */
} mt_check;

typedef struct mt_domain_report {
    char *domain;
    mt_check *checks;
    size_t n;
    int counts[4]; /* by mt_chk_status */
} mt_domain_report;

typedef struct mt_domaincheck_opts {
    const char *const *ips;
    size_t nips;
    const char *helo;
    const char *const *selectors; /* none: a short list of common ones */
    size_t nselectors;
    const char *mail_from;       /* the envelope domain (or address); NULL: the domain itself */
    const char *const *ip_zones; /* IP DNSBLs; NULL: the defaults */
    size_t nip_zones;
    const char *const *domain_zones; /* domain DNSBLs; NULL: the defaults */
    size_t ndomain_zones;
    const char *only;        /* comma-separated areas to run ("spf,dkim"); NULL: all */
    const mt_orgdomain *org; /* organisational domains (mt_orgdomain_open); NULL: opened per run */
} mt_domaincheck_opts;

/* mt_domaincheck_run - run every check for domain through d into *out
 * (the caller frees it with mt_domain_report_free). */
void mt_domaincheck_run(mt_dns *d, const char *domain, const mt_domaincheck_opts *o, mt_domain_report *out);
void mt_domain_report_free(mt_domain_report *r);

/* mt_domain_report_text / _json - render one report into b. */
void mt_domain_report_text(const mt_domain_report *r, mt_buf *b);
void mt_domain_report_json(const mt_domain_report *r, mt_buf *b);

/* mt_dkim_key_check - classify one DKIM key record (RFC 6376 §3.6.1) as
 * check-domain reports it: the record is read by mt_dkim_key_parse (dkim.h,
 * the verifier's parser) and anything it refuses fails; a usable key warns
 * under 2048 RSA bits, for t=y and for h= without sha256.  Status and a
 * summary into sum; the key size in *bits (0 if unknown).  No DNS. */
mt_chk_status mt_dkim_key_check(const char *rec, size_t len, char *sum, size_t sumlen, int *bits);

/* mt_dmarc_record_check - syntax and policy of one DMARC record
 * (RFC 7489 §6.3): status and summary; *p_out gets the policy
 * ("none", "quarantine", "reject" or "" when absent/bad). */
mt_chk_status mt_dmarc_record_check(const char *rec, size_t len, char *sum, size_t sumlen, char *p_out,
                                    size_t p_len);

#endif
