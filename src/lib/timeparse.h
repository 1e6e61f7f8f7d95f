/*
 * timeparse.h - log timestamps: classic syslog ("Nov 20 21:35:51", no year,
 * no zone) and RFC 3339 ("2026-11-20T21:35:51.123456+08:00").
 *
 * Classic syslog stamps carry no year.  A mt_yearctx infers it: either the
 * user says the year of the first line (--year), or the file's mtime bounds
 * it (a stamp that would lie more than a day after the mtime belongs to the
 * year before).  Month going backwards (Dec -> Jan) rolls the year forward.
 * Classic stamps are taken as UTC: syslog writes local time without a zone,
 * and the tool reports them unchanged rather than guessing a zone.
 */
#ifndef MT_TIMEPARSE_H
#define MT_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_yearctx {
    int year;       /* year of the current line */
    int last_month; /* 1..12, 0 before the first line */
    int64_t mtime;  /* file mtime (epoch s), 0 when unknown */
    int fixed;      /* year given by the user */
    /* the last classic stamp and its value: consecutive lines mostly share
     * their second, so a 15-byte compare replaces the parse */
    char last_stamp[16];
    int64_t last_t;
    /* the same for ISO stamps ("2026-11-20 21:35:51", Exim): the last
     * one's minute ("2026-11-20 21:35") and its value, so that the lines
     * of one minute cost a 16-byte compare and two digits */
    char last_minute[16];
    int64_t last_minute_t;
    int first_month; /* month of the first classic stamp seen, 0 before */
    int rollovers;   /* Dec -> Jan turns seen */
} mt_yearctx;

/* mt_yearctx_init - start inference; year > 0 fixes the first line's year,
 * otherwise mtime (or, if 0, the current time) bounds it. */
void mt_yearctx_init(mt_yearctx *yc, int year, int64_t mtime);

/* mt_time_parse - parse the timestamp at the start of s[0..n).  On success
 * returns the number of bytes consumed (the stamp, not the space after it)
 * and sets *t (epoch seconds UTC) and *usec; returns 0 when s does not start
 * with a timestamp of either form. */
size_t mt_time_parse(const char *s, size_t n, mt_yearctx *yc, int64_t *t, int32_t *usec);

/* mt_time_add_years - t moved by k calendar years (Feb 29 -> Feb 28). */
int64_t mt_time_add_years(int64_t t, int k);

/* mt_days_from_civil - days since 1970-01-01 of a proleptic Gregorian date. */
int64_t mt_days_from_civil(int y, int m, int d);

/* mt_time_civil - break epoch seconds into UTC calendar fields. */
void mt_time_civil(int64_t t, int *y, int *mo, int *d, int *h, int *mi, int *s);

#endif
