/*
 * links.h - the links of a message body: URLs in HTML attributes (href,
 * src) with their anchor text, URLs in plain text; a URL's host; tracking
 * redirects and the target they carry; shorteners and IP literals.  Used
 * by the link checks and by the matrix (which rewrites links).
 */
#ifndef MT_LINKS_H
#define MT_LINKS_H

#include <stddef.h>

typedef enum mt_link_kind {
    MT_LINK_HREF, /* <a href>, <area href> */
    MT_LINK_IMG,  /* <img src>, background= */
    MT_LINK_TEXT, /* a bare URL in text */
} mt_link_kind;

typedef struct mt_link {
    mt_link_kind kind;
    char *url;  /* as written, HTML entities &amp; decoded */
    char *text; /* anchor text (visible, trimmed), HREF only, else NULL */
    size_t off; /* the URL's byte range in the source, as written */
    size_t len;
} mt_link;

typedef struct mt_links {
    mt_link *v;
    size_t n, cap;
} mt_links;

/* mt_links_from_html / mt_links_from_text - append the links of s[0..n)
 * to out (http, https and protocol-relative URLs; mailto: and others are
 * skipped).  The caller frees with mt_links_free. */
void mt_links_from_html(const char *s, size_t n, mt_links *out);
void mt_links_from_text(const char *s, size_t n, mt_links *out);
void mt_links_free(mt_links *l);

/* mt_url_host - the host of url, lowercased, without userinfo, port or
 * IPv6 brackets, into host (size hostlen).  Returns 0, or -1 when url has
 * no host. */
int mt_url_host(const char *url, char *host, size_t hostlen);

/* mt_host_is_ip - 1 for an IPv4 or IPv6 literal (also decimal/hex forms). */
int mt_host_is_ip(const char *host);

/* mt_host_is_shortener - 1 for public URL shorteners (bit.ly, t.cn, ...). */
int mt_host_is_shortener(const char *host);

/* mt_url_is_tracking - 1 when url looks like a click-tracking redirect:
 * it carries a target URL, or its host or path is an ESP's tracker's. */
int mt_url_is_tracking(const char *url);

/* mt_url_unwrap - the target a tracking URL carries in a query parameter
 * (url=, u=, redirect=, target=, ...), percent-decoded, malloc'd; NULL
 * when it carries none. */
char *mt_url_unwrap(const char *url);

#endif
