/*
 * dkim.h - DKIM (RFC 6376) signature verification with OpenSSL 3:
 * rsa-sha256 and ed25519-sha256 (RFC 8463), rsa-sha1 accepted but
 * reported obsolete (RFC 8301); simple and relaxed canonicalisation; l=,
 * t=, x=.  The key record comes from a caller's callback (name -> TXT
 * text) so the same verifier runs on keys given on the command line, from
 * files, or from the DNS layer.
 */
#ifndef MT_DKIM_H
#define MT_DKIM_H

#include <stddef.h>
#include <time.h>

#include "util.h"

/* What a key lookup found. */
typedef enum mt_dkim_key_status {
    MT_DKIM_KEY_FOUND,       /* txt holds the record's text (strings joined) */
    MT_DKIM_KEY_NONE,        /* no such record (NXDOMAIN / no TXT) */
    MT_DKIM_KEY_TEMPERROR,   /* lookup failed for now (timeout, SERVFAIL) */
    MT_DKIM_KEY_UNAVAILABLE, /* no way to look it up (offline, no key given) */
} mt_dkim_key_status;

/* mt_dkim_key_fn - look up the TXT record at name
 * ("selector._domainkey.domain"), appending its text to txt; on anything
 * but MT_DKIM_KEY_FOUND a short reason may be written to why (size
 * whylen).  Called once per signature. */
typedef mt_dkim_key_status (*mt_dkim_key_fn)(const char *name, mt_buf *txt, char *why, size_t whylen,
                                             void *arg);

/* A signature's outcome (RFC 8601 words). */
typedef enum mt_dkim_result {
    MT_DKIM_PASS,
    MT_DKIM_FAIL,      /* the signature or body hash does not verify */
    MT_DKIM_PERMERROR, /* the signature or key cannot be used */
    MT_DKIM_TEMPERROR, /* the key could not be fetched now */
    MT_DKIM_NEUTRAL,   /* not verified: no key available */
} mt_dkim_result;

const char *mt_dkim_result_name(mt_dkim_result r);

typedef struct mt_dkim_sig {
    long long t, x;  /* -1 when absent */
    long long l;     /* -1 when absent */
    size_t body_len; /* canonicalised body length */
    mt_dkim_result result;
    int key_bits;     /* RSA modulus bits, 256 for Ed25519, 0 unknown */
    int testing;      /* key record t=y */
    int has_from;     /* h= includes From */
    char reason[256]; /* why, one line; for a pass the notes (testing key, l=) */
    char d[256], s[128], a[32], c[32], i[256];
} mt_dkim_sig;

/* One DKIM-Signature tag=value list.  Tags point into the text. */
typedef struct mt_dkim_tag {
    mt_slice name;
    mt_slice value; /* surrounding whitespace trimmed */
} mt_dkim_tag;

/* mt_dkim_tags_parse - split "a=b; c=d" (RFC 6376 3.2) into at most max
 * tags.  Returns the number of tags, or -1 with a reason in why when the
 * list is malformed (a tag without '=', a bad tag name, a duplicate tag,
 * more than max tags). */
int mt_dkim_tags_parse(const char *s, size_t n, mt_dkim_tag *tags, int max, char *why, size_t whylen);

/* One DKIM key record (RFC 6376 3.6.1), parsed and checked for use. */
typedef struct mt_dkim_key {
    int ed25519;              /* k=ed25519; else k=rsa (the default) */
    struct evp_pkey_st *pkey; /* the public key, owned (mt_dkim_key_free) */
    int bits;                 /* RSA modulus bits, 256 for Ed25519; set for a refused short RSA key too */
    int testing;              /* t=y */
    int strict;               /* t=s: i= must not be a subdomain of d= */
    int sha1_ok, sha256_ok;   /* h= allows the hash (both 1 without h=) */
    char restr[128];          /* "h=..., s=..." as published, "" without */
} mt_dkim_key;

/* mt_dkim_key_parse - the one parser of DKIM key records, for the
 * verifier and for check-domain.  Reads the TXT text rec (len bytes,
 * strings already joined): tag-list syntax, v=DKIM1 first when given,
 * p= present, s= naming email or "*", p= not empty (revoked), k= rsa or
 * ed25519, p= valid base64 holding a 32-byte Ed25519 key or an RSA
 * SubjectPublicKeyInfo / bare RSAPublicKey of at least 1024 bits.
 * Returns 0 with *key filled (the caller frees it with mt_dkim_key_free),
 * or -1 with a one-line reason in why (key->pkey is then NULL; key->bits
 * still says the size of a refused short RSA key).  The signature-dependent
 * checks (k= against a=, h=, t=s against i=) are the caller's: the flags
 * above say what the record allows. */
int mt_dkim_key_parse(const char *rec, size_t len, mt_dkim_key *key, char *why, size_t whylen);
void mt_dkim_key_free(mt_dkim_key *key);

/* mt_dkim_verify - verify every DKIM-Signature field in the message
 * (raw bytes, LF or CRLF line ends; bare LF is read as CRLF).  Results
 * are written to sigs (at most max, in header order); returns how many
 * signatures the message has (may exceed max). */
size_t mt_dkim_verify(const char *msg, size_t len, mt_dkim_key_fn fn, void *arg, time_t now,
                      mt_dkim_sig *sigs, size_t max);

#endif
