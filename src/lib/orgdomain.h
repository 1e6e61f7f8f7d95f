/*
 * orgdomain.h - organisational domains (the registrable domain, DMARC's
 * "organizational domain") through libpsl and the Public Suffix List.
 */
#ifndef MT_ORGDOMAIN_H
#define MT_ORGDOMAIN_H

#include <stddef.h>

typedef struct mt_orgdomain mt_orgdomain;

/* mt_orgdomain_open - load the newest list libpsl knows of (the system's
 * publicsuffix file or its built-in copy).  Never NULL: without any list,
 * the last two labels are used and mt_orgdomain_has_list says 0. */
mt_orgdomain *mt_orgdomain_open(void);
void mt_orgdomain_close(mt_orgdomain *o);
int mt_orgdomain_has_list(const mt_orgdomain *o);

/* mt_orgdomain_of - the organisational domain of host (lowercased) into
 * out (size outlen); returns out.  A public suffix itself or an IP
 * literal comes back unchanged (lowercased). */
const char *mt_orgdomain_of(const mt_orgdomain *o, const char *host, char *out, size_t outlen);

/* mt_orgdomain_known_tld - 1 when host ends in a top-level domain the
 * list names ("com", "cn"), 0 for "pdf" or "txt" (file names look like
 * domains); 1 when there is no list at all. */
int mt_orgdomain_known_tld(const mt_orgdomain *o, const char *host);

/* mt_orgdomain_same - 1 when a and b have the same organisational domain. */
int mt_orgdomain_same(const mt_orgdomain *o, const char *a, const char *b);

#endif
