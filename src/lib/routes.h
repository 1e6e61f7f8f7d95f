/*
 * routes.h - the --routes file: which sending IP and HELO name each route
 * (syslog name / transport, virtual MTA, egress source) uses.  Postfix's
 * delivery lines do not say; the operator does.
 *
 * Format: one route a line, "ROUTE SENDING_IP [HELO]", '#' comments.
 * ROUTE is the route as logged ("postfix-out/smtp"), its syslog name
 * ("postfix-out"), either prefixed by the logging host ("mx1:postfix/smtp")
 * when several hosts log the same names, a host alone ("mx1:"), or "*",
 * the default for routes not listed.
 */
#ifndef MT_ROUTES_H
#define MT_ROUTES_H

#include "util.h"

typedef struct mt_routes mt_routes;

/* mt_routes_load - read path; NULL with a message naming the line in err. */
mt_routes *mt_routes_load(const char *path, mt_buf *err);
void mt_routes_free(mt_routes *r);

/* mt_routes_find - the IP and HELO for route on host (host may be NULL):
 * "host:route", "host:syslogname", "route", "syslogname", "host:", then
 * "*"; the first listed wins.  Returns 0 when none applies.  Strings are
 * owned by the routes (helo may be NULL). */
int mt_routes_find(const mt_routes *r, const char *host, const char *route, const char **ip,
                   const char **helo);

#endif
