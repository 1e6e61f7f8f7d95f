/*
 * bounce_json.h - bounce notifications sent as JSON in a mail (Amazon SES
 * through SNS).  Internal to bounce.c.
 */
#ifndef MT_BOUNCE_JSON_H
#define MT_BOUNCE_JSON_H

#include <stddef.h>

#include "bounce_lhost.h"

/* mt_bounce_json_scan - when text[0..n) holds an SES notification, append
 * its recipients to out and set *kind (an mt_bounce_kind: failure,
 * delivered, complaint); returns how many were added, 0 otherwise. */
int mt_bounce_json_scan(const char *text, size_t n, mt_bounce_rcpts *out, int *kind);

#endif
