/*
 * routes.c - load and look up the --routes file.
 */
#include "routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

typedef struct route {
    char *ip;
    char *helo;
} route;

struct mt_routes {
    mt_strmap *map; /* route name -> route* */
    route **all;
    int n;
};

mt_routes *mt_routes_load(const char *path, mt_buf *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        mt_buf_printf(err, "cannot open routes file %s: %s", path, strerror(errno));
        return NULL;
    }
    mt_routes *r = mt_xcalloc(1, sizeof *r);
    r->map = mt_strmap_new(0);
    char *line = NULL;
    size_t cap = 0;
    int ln = 0;
    while (getline(&line, &cap, fp) >= 0) {
        ln++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        char *name = strtok_r(line, " \t\r\n", &save);
        if (name == NULL)
            continue;
        char *ip = strtok_r(NULL, " \t\r\n", &save);
        char *helo = strtok_r(NULL, " \t\r\n", &save);
        char *extra = strtok_r(NULL, " \t\r\n", &save);
        if (ip == NULL || extra != NULL) {
            mt_buf_printf(err, "%s:%d: expected 'ROUTE SENDING_IP [HELO]'", path, ln);
            free(line);
            fclose(fp);
            mt_routes_free(r);
            return NULL;
        }
        route *ro = mt_xcalloc(1, sizeof *ro);
        ro->ip = mt_xstrdup(ip);
        ro->helo = helo ? mt_xstrdup(helo) : NULL;
        r->all = mt_xrealloc(r->all, (size_t)(r->n + 1) * sizeof *r->all);
        r->all[r->n++] = ro;
        mt_strmap_put(r->map, name, strlen(name), ro);
    }
    free(line);
    fclose(fp);
    return r;
}

void mt_routes_free(mt_routes *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->n; i++) {
        free(r->all[i]->ip);
        free(r->all[i]->helo);
        free(r->all[i]);
    }
    free(r->all);
    mt_strmap_free(r->map);
    free(r);
}

int mt_routes_find(const mt_routes *r, const char *name, size_t n, const char **ip, const char **helo)
{
    if (r == NULL)
        return 0;
    route *ro = mt_strmap_get(r->map, name, n);
    if (ro == NULL) {
        const char *slash = NULL;
        for (size_t i = n; i > 0; i--)
            if (name[i - 1] == '/') {
                slash = name + i - 1;
                break;
            }
        if (slash)
            ro = mt_strmap_get(r->map, name, (size_t)(slash - name));
    }
    if (ro == NULL)
        ro = mt_strmap_get(r->map, "*", 1);
    if (ro == NULL)
        return 0;
    *ip = ro->ip;
    *helo = ro->helo;
    return 1;
}
