/*
 * orgdomain.c - registrable domains via libpsl.
 */
#include "orgdomain.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct mt_orgdomain {
    psl_ctx_t *psl; /* owned when loaded from a file */
    const psl_ctx_t *use;
};

mt_orgdomain *mt_orgdomain_open(void)
{
    mt_orgdomain *o = mt_xcalloc(1, sizeof *o);
    o->psl = psl_latest(NULL);
    o->use = o->psl ? o->psl : psl_builtin();
    return o;
}

void mt_orgdomain_close(mt_orgdomain *o)
{
    if (o == NULL)
        return;
    if (o->psl)
        psl_free(o->psl);
    free(o);
}

int mt_orgdomain_has_list(const mt_orgdomain *o)
{
    return o->use != NULL;
}

const char *mt_orgdomain_of(const mt_orgdomain *o, const char *host, char *out, size_t outlen)
{
    char low[256];
    snprintf(low, sizeof low, "%s", host);
    size_t n = strlen(low);
    while (n > 0 && low[n - 1] == '.')
        low[--n] = '\0';
    mt_lower_ascii(low, n);
    const char *r = NULL;
    if (o->use)
        r = psl_registrable_domain(o->use, low);
    if (r == NULL && o->use == NULL) {
        /* no list at all: the last two labels */
        const char *dot = strrchr(low, '.');
        if (dot) {
            const char *p = dot;
            while (p > low && p[-1] != '.')
                p--;
            r = p;
        }
    }
    snprintf(out, outlen, "%s", r ? r : low);
    return out;
}

int mt_orgdomain_known_tld(const mt_orgdomain *o, const char *host)
{
    if (o->use == NULL)
        return 1;
    const char *dot = strrchr(host, '.');
    char tld[64];
    snprintf(tld, sizeof tld, "%s", dot ? dot + 1 : host);
    mt_lower_ascii(tld, strlen(tld));
    return psl_is_public_suffix2(o->use, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

int mt_orgdomain_same(const mt_orgdomain *o, const char *a, const char *b)
{
    char x[256], y[256];
    mt_orgdomain_of(o, a, x, sizeof x);
    mt_orgdomain_of(o, b, y, sizeof y);
    return x[0] != '\0' && strcmp(x, y) == 0;
}
