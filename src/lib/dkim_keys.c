/*
 * dkim_keys.c - offline DKIM key records and the fallback lookup.
 */
#include "dkim_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct key_entry {
    char *name; /* lowercased, no trailing dot */
    char *txt;
} key_entry;

struct mt_dkim_keys {
    key_entry *v;
    size_t n, cap;
    mt_dkim_key_fn fallback;
    void *fallback_arg;
};

mt_dkim_keys *mt_dkim_keys_new(void)
{
    return mt_xcalloc(1, sizeof(mt_dkim_keys));
}

void mt_dkim_keys_free(mt_dkim_keys *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->n; i++) {
        free(k->v[i].name);
        free(k->v[i].txt);
    }
    free(k->v);
    free(k);
}

static char *norm_name(const char *name, size_t n)
{
    while (n > 0 && (name[n - 1] == '.' || name[n - 1] == ' '))
        n--;
    while (n > 0 && *name == ' ') {
        name++;
        n--;
    }
    char *s = mt_xstrndup(name, n);
    mt_lower_ascii(s, n);
    return s;
}

/* "a" "b" -> ab; otherwise the text with line breaks dropped and trimmed */
static char *record_text(const char *t)
{
    mt_buf b;
    mt_buf_init(&b);
    const char *p = t;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p == '"') {
        while (*p) {
            if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && p[1])
                        p++;
                    mt_buf_putc(&b, *p++);
                }
                if (*p == '"')
                    p++;
            } else {
                p++;
            }
        }
    } else {
        for (; *p; p++)
            if (*p != '\r' && *p != '\n')
                mt_buf_putc(&b, *p);
        while (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
            b.data[--b.len] = '\0';
    }
    if (b.data == NULL)
        mt_buf_puts(&b, "");
    return b.data;
}

void mt_dkim_keys_add_text(mt_dkim_keys *k, const char *name, const char *txt)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 8;
        k->v = mt_xrealloc(k->v, k->cap * sizeof *k->v);
    }
    k->v[k->n].name = norm_name(name, strlen(name));
    k->v[k->n].txt = record_text(txt);
    k->n++;
}

int mt_dkim_keys_add_spec(mt_dkim_keys *k, const char *spec, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    if (eq == NULL || eq == spec || eq[1] == '\0') {
        snprintf(err, errlen, "--dkim-key wants SELECTOR._domainkey.DOMAIN=FILE, not '%s'", spec);
        return -1;
    }
    char *name = mt_xstrndup(spec, (size_t)(eq - spec));
    if (strstr(name, "._domainkey.") == NULL) {
        snprintf(err, errlen, "--dkim-key: '%s' is not SELECTOR._domainkey.DOMAIN", name);
        free(name);
        return -1;
    }
    FILE *f = fopen(eq + 1, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "--dkim-key: %s: %s", eq + 1, strerror(errno));
        free(name);
        return -1;
    }
    mt_buf b;
    mt_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < 65536)
        mt_buf_append(&b, chunk, n);
    fclose(f);
    mt_dkim_keys_add_text(k, name, b.data ? b.data : "");
    mt_buf_free(&b);
    free(name);
    return 0;
}

void mt_dkim_keys_set_fallback(mt_dkim_keys *k, mt_dkim_key_fn fn, void *arg)
{
    k->fallback = fn;
    k->fallback_arg = arg;
}

mt_dkim_key_status mt_dkim_keys_lookup(const char *name, mt_buf *txt, char *why, size_t whylen, void *arg)
{
    mt_dkim_keys *k = arg;
    char *n = norm_name(name, strlen(name));
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->v[i].name, n) == 0) {
            mt_buf_puts(txt, k->v[i].txt);
            free(n);
            return MT_DKIM_KEY_FOUND;
        }
    }
    free(n);
    if (k->fallback)
        return k->fallback(name, txt, why, whylen, k->fallback_arg);
    snprintf(why, whylen, "no key given for %s (--dkim-key; DNS lookup not available)", name);
    return MT_DKIM_KEY_UNAVAILABLE;
}
