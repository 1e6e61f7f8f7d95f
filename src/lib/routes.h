/*
 * routes.h - the --routes file: which sending IP and HELO name each route
 * (syslog name / transport, virtual MTA, egress source) uses.  Postfix's
 * delivery lines do not say; the operator does.
 *
 * Format: one route a line, "ROUTE SENDING_IP [HELO]", '#' comments.
 * ROUTE "*" is the default for routes not listed.
 */
#ifndef MT_ROUTES_H
#define MT_ROUTES_H

#include "util.h"

typedef struct mt_routes mt_routes;

/* mt_routes_load - read path; NULL with a message naming the line in err. */
mt_routes *mt_routes_load(const char *path, mt_buf *err);
void mt_routes_free(mt_routes *r);

/* mt_routes_find - the IP and HELO for route[0..n): exact match, then the
 * route's syslog name (the part before its last '/'), then "*".  Returns 0
 * when none applies.  Strings are owned by the routes (helo may be NULL). */
int mt_routes_find(const mt_routes *r, const char *route, size_t n, const char **ip, const char **helo);

#endif
