/*
 * routes.c - load and look up the --routes file.
 */
#include "routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

typedef struct route_t {
    char *ip;
    char *helo;
} route_t;

struct mt_routes {
    mt_strmap *map; /* route name -> route* */
    route_t **all;
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
        route_t *ro = mt_xcalloc(1, sizeof *ro);
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

int mt_routes_find(const mt_routes *r, const char *host, const char *route, const char **ip,
                   const char **helo)
{
    if (r == NULL || route == NULL)
        return 0;
    const char *slash = strrchr(route, '/');
    size_t in = slash ? (size_t)(slash - route) : strlen(route);
    size_t hn = host ? strlen(host) : 0;
    char key[512];
    route_t *ro = NULL;
    /* candidates, most specific first */
    for (int step = 0; step < 6 && ro == NULL; step++) {
        int n = -1;
        switch (step) {
        case 0:
            if (host)
                n = snprintf(key, sizeof key, "%s:%s", host, route);
            break;
        case 1:
            if (host && slash)
                n = snprintf(key, sizeof key, "%s:%.*s", host, (int)in, route);
            break;
        case 2:
            n = snprintf(key, sizeof key, "%s", route);
            break;
        case 3:
            if (slash)
                n = snprintf(key, sizeof key, "%.*s", (int)in, route);
            break;
        case 4:
            if (host)
                n = snprintf(key, sizeof key, "%.*s:", (int)hn, host);
            break;
        default:
            n = snprintf(key, sizeof key, "*");
        }
        if (n > 0 && (size_t)n < sizeof key)
            ro = mt_strmap_get(r->map, key, (size_t)n);
    }
    if (ro == NULL)
        return 0;
    *ip = ro->ip;
    *helo = ro->helo;
    return 1;
}
