/*
 * timeparse.c - syslog and RFC 3339 timestamps, without libc's locale- and
 * zone-dependent functions (they are slow and read global state).
 */
#include "timeparse.h"

#include <string.h>
#include <time.h>

int64_t mt_days_from_civil(int y, int m, int d)
{
    /* Howard Hinnant's algorithm */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void mt_time_civil(int64_t t, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
    int64_t days = t / 86400;
    int64_t rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (mm <= 2));
    *mo = mm;
    *d = dd;
}

void mt_yearctx_init(mt_yearctx *yc, int year, int64_t mtime)
{
    yc->last_month = 0;
    yc->last_stamp[0] = '\0';
    yc->last_t = 0;
    memset(yc->last_minute, 0, sizeof yc->last_minute);
    yc->last_minute_t = 0;
    yc->first_month = 0;
    yc->rollovers = 0;
    yc->fixed = year > 0;
    yc->mtime = mtime > 0 ? mtime : (int64_t)time(NULL);
    if (year > 0) {
        yc->year = year;
    } else {
        int y, mo, d, h, mi, s;
        mt_time_civil(yc->mtime, &y, &mo, &d, &h, &mi, &s);
        yc->year = y;
    }
}

int64_t mt_time_add_years(int64_t t, int k)
{
    int y, mo, d, h, mi, s;
    mt_time_civil(t, &y, &mo, &d, &h, &mi, &s);
    y += k;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        d = 28;
    return mt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int month_of(const char *s)
{
    /* switch on the three letters; syslog always writes English names */
    switch (s[0]) {
    case 'J':
        if (s[1] == 'a' && s[2] == 'n')
            return 1;
        if (s[1] == 'u' && s[2] == 'n')
            return 6;
        if (s[1] == 'u' && s[2] == 'l')
            return 7;
        return 0;
    case 'F':
        return s[1] == 'e' && s[2] == 'b' ? 2 : 0;
    case 'M':
        if (s[1] == 'a' && s[2] == 'r')
            return 3;
        if (s[1] == 'a' && s[2] == 'y')
            return 5;
        return 0;
    case 'A':
        if (s[1] == 'p' && s[2] == 'r')
            return 4;
        if (s[1] == 'u' && s[2] == 'g')
            return 8;
        return 0;
    case 'S':
        return s[1] == 'e' && s[2] == 'p' ? 9 : 0;
    case 'O':
        return s[1] == 'c' && s[2] == 't' ? 10 : 0;
    case 'N':
        return s[1] == 'o' && s[2] == 'v' ? 11 : 0;
    case 'D':
        return s[1] == 'e' && s[2] == 'c' ? 12 : 0;
    default:
        return 0;
    }
}

static int valid_hms(int h, int mi, int s)
{
    return h <= 23 && mi <= 59 && s <= 60;
}

static size_t parse_syslog(const char *s, size_t n, mt_yearctx *yc, int64_t *t, int32_t *usec)
{
    /* "Nov 20 21:35:51", "Nov  2 21:35:51" (space-padded) or "Nov 2 21:35:51" */
    if (n < 14)
        return 0;
    if (n > 15 && yc->last_stamp[0] && s[15] == ' ' && memcmp(s, yc->last_stamp, 15) == 0) {
        *t = yc->last_t;
        *usec = 0;
        return 15;
    }
    int mon = month_of(s);
    if (mon == 0 || s[3] != ' ')
        return 0;
    size_t k = 4;
    if (s[k] == ' ')
        k++;
    int day = 0, nd = 0;
    while (k < n && nd < 2 && s[k] >= '0' && s[k] <= '9') {
        day = day * 10 + (s[k] - '0');
        k++;
        nd++;
    }
    int h, mi, sec;
    if (nd == 0 || k + 9 > n || s[k] != ' ' || !digits(s + k + 1, 2, &h) || s[k + 3] != ':' ||
        !digits(s + k + 4, 2, &mi) || s[k + 6] != ':' || !digits(s + k + 7, 2, &sec) ||
        !valid_hms(h, mi, sec) || day < 1 || day > 31)
        return 0;
    size_t used = k + 9;
    int32_t us = 0;
    if (used < n && s[used] == '.') { /* some syslogds add fractions */
        size_t k = used + 1;
        int32_t scale = 100000;
        while (k < n && s[k] >= '0' && s[k] <= '9') {
            if (scale > 0) {
                us += (s[k] - '0') * scale;
                scale /= 10;
            }
            k++;
        }
        used = k;
    }
    if (yc->last_month == 0) {
        yc->first_month = mon;
        if (!yc->fixed) {
            /* the first stamp may not lie after the file's mtime */
            int64_t guess = (mt_days_from_civil(yc->year, mon, day)) * 86400;
            if (guess > yc->mtime + 86400)
                yc->year--;
        }
    } else if (mon < yc->last_month && yc->last_month - mon >= 6) {
        yc->year++; /* Dec -> Jan */
        yc->rollovers++;
    }
    yc->last_month = mon;
    *t = mt_days_from_civil(yc->year, mon, day) * 86400 + h * 3600 + mi * 60 + sec;
    *usec = us;
    if (used == 15) {
        memcpy(yc->last_stamp, s, 15);
        yc->last_stamp[15] = '\0';
        yc->last_t = *t;
    } else {
        yc->last_stamp[0] = '\0';
    }
    return used;
}

static size_t parse_rfc3339(const char *s, size_t n, int64_t *t, int32_t *usec)
{
    /* 2026-11-20T21:35:51[.ffffff](Z|+hh:mm|-hh:mm) */
    int y, mo, d, h, mi, sec;
    if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || !valid_hms(h, mi, sec))
        return 0;
    size_t k = 19;
    int32_t us = 0;
    if (k < n && s[k] == '.') {
        int32_t scale = 100000;
        k++;
        while (k < n && s[k] >= '0' && s[k] <= '9') {
            if (scale > 0) {
                us += (s[k] - '0') * scale;
                scale /= 10;
            }
            k++;
        }
    }
    int off = 0;
    if (k < n && (s[k] == 'Z' || s[k] == 'z')) {
        k++;
    } else if (k + 6 <= n && (s[k] == '+' || s[k] == '-')) {
        int oh, om;
        if (!digits(s + k + 1, 2, &oh) || s[k + 3] != ':' || !digits(s + k + 4, 2, &om))
            return 0;
        off = (oh * 3600 + om * 60) * (s[k] == '-' ? -1 : 1);
        k += 6;
    } else if (k + 5 <= n && (s[k] == '+' || s[k] == '-')) {
        int oh, om; /* +hhmm */
        if (!digits(s + k + 1, 2, &oh) || !digits(s + k + 3, 2, &om))
            return 0;
        off = (oh * 3600 + om * 60) * (s[k] == '-' ? -1 : 1);
        k += 5;
    }
    /* no zone at all: taken as UTC, like classic syslog stamps */
    *t = mt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *usec = us;
    return k;
}

size_t mt_time_parse(const char *s, size_t n, mt_yearctx *yc, int64_t *t, int32_t *usec)
{
    if (n == 0)
        return 0;
    if (s[0] >= '0' && s[0] <= '9')
        return parse_rfc3339(s, n, t, usec);
    return parse_syslog(s, n, yc, t, usec);
}
