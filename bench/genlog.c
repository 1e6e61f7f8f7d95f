/*
 * genlog -- deterministic generator of a realistic Postfix mail log.
 *
 *   genlog [--size MB | --messages N] [--seed S] [--start 2026-11-20T00:00:00Z]
 *          [--format syslog|rfc3339|exim] [--scenario NAME] [--rate MSGS_PER_HOUR]
 *          [--queue-lifetime HOURS] [--window-start HOURS] [--tls-field]
 *          [--list-scenarios] > file
 *
 * A small discrete-event simulation of an outbound mail platform: three hosts,
 * six Postfix instances (routes), ~48 sending customers with their templates,
 * recipients spread over Netease, Tencent, Gmail, Microsoft, Yahoo, ... and a
 * few hundred other domains.  Every message is received (smtpd or pickup),
 * cleaned up (message-id, header_checks INFO lines), queued (qmgr), delivered
 * per recipient domain by smtp with full delivery status lines, deferred and
 * retried with Postfix's backoff, bounced (5xx) or expired with a
 * non-delivery notification, and removed.  About one line in four is noise
 * from other programs.  Lines come out in time order; the same seed and the
 * same options give byte-identical output.
 *
 * Fault behaviour is table driven: bg_rules[] is the background (per provider
 * chance of each reply per delivery session), scenarios[] lists named sets of
 * fault_rule rows that take precedence over the background, one scenario per
 * diagnosis cause (receiver window, route, template, attachment, greylisting,
 * rate limit, network, authentication, recipients, policy block).
 *
 * A summary of what was generated goes to stderr as key=value lines,
 * including the totals pflogsumm should report for each syslog name, and
 * the cause, provider and scope (and window) the scenario should be
 * diagnosed as ("genlog: expect ...").
 *
 * Single C11 file, libc only (no libm): cc -O2 -std=c11 -o genlog genlog.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#define SEC 1000000LL /* times are in microseconds since the epoch */
#define ANY (-1)

/* ------------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded with splitmix64.  Three independent streams.     */

typedef struct {
    u64 s[4];
} rng_t;

static u64 splitmix64(u64 *x)
{
    u64 z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static u64 hash64(u64 x)
{
    return splitmix64(&x);
}
static void rng_seed(rng_t *r, u64 seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}
static inline u64 rotl(u64 x, int k)
{
    return (x << k) | (x >> (64 - k));
}
static inline u64 rng_next(rng_t *r)
{
    u64 *s = r->s;
    u64 res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}
static inline double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}
static inline u32 rng_below(rng_t *r, u32 n)
{
    return (u32)(((rng_next(r) >> 32) * (u64)n) >> 32);
}

/* natural log without libm (atanh series, |error| < 1e-9 on [sqrt(.5), sqrt(2)]) */
static double my_ln(double x)
{
    union {
        double d;
        u64 u;
    } v;
    v.d = x;
    int e = (int)((v.u >> 52) & 0x7ff) - 1023;
    v.u = (v.u & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL;
    double m = v.d;
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    double s = (m - 1) / (m + 1), s2 = s * s;
    double t =
        s * (2 + s2 * (2.0 / 3 +
                       s2 * (2.0 / 5 + s2 * (2.0 / 7 + s2 * (2.0 / 9 + s2 * (2.0 / 11 + s2 * (2.0 / 13)))))));
    return t + e * 0.69314718055994531;
}
/* exponential with the given mean */
static double rng_exp(rng_t *r, double mean)
{
    return -my_ln(1.0 - rng_unit(r)) * mean;
}

static rng_t R;  /* mail flow decisions */
static rng_t RT; /* text tokens (ids, reply tokens) */
static rng_t RN; /* noise lines */

/* ------------------------------------------------------------------------ */
/* Output buffer                                                              */

#define OBUF_CAP (16u << 20)
static char *obuf;
static size_t opos;
static u64 bytes_flushed;
static int muted; /* --warmup: simulate, write nothing */

static void out_flush(void)
{
    if (muted) {
        opos = 0;
        return;
    }
    if (opos && fwrite(obuf, 1, opos, stdout) != opos) {
        perror("genlog: write");
        exit(1);
    }
    bytes_flushed += opos;
    opos = 0;
}
static inline void P(const char *s, size_t n)
{
    memcpy(obuf + opos, s, n);
    opos += n;
}
static inline void PS(const char *s)
{
    P(s, strlen(s));
}
static inline void PC(char c)
{
    obuf[opos++] = c;
}
static void PU(u64 v)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        obuf[opos++] = t[--n];
}
static void PU0(u64 v, int width) /* zero padded */
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        t[n++] = '0';
    while (n)
        obuf[opos++] = t[--n];
}
static void PHEX(u64 v, int width, int upper)
{
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char t[20];
    int n = 0;
    do {
        t[n++] = dig[v & 15];
        v >>= 4;
    } while (v);
    while (n < width)
        t[n++] = '0';
    while (n)
        obuf[opos++] = t[--n];
}
static u64 bytes_total(void)
{
    return bytes_flushed + opos;
}

/* ------------------------------------------------------------------------ */
/* Calendar (no libc time zone functions: everything is UTC)                  */

static i64 days_from_civil(i64 y, unsigned m, unsigned d)
{
    y -= m <= 2;
    i64 era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (i64)doe - 719468;
}
static void civil_from_days(i64 z, int *yy, int *mm, int *dd)
{
    z += 719468;
    i64 era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    i64 y = (i64)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp + (mp < 10 ? 3 : -9);
    *yy = (int)(y + (m <= 2));
    *mm = (int)m;
    *dd = (int)d;
}
static const char *MON[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static void fmt_iso(char *buf, size_t n, i64 t_us)
{
    i64 s = t_us / SEC, days = s / 86400, r = s % 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    /* the values are in range; a cut would only shorten the text */
    int w = snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d", y % 10000, m % 100, d % 100,
                     (int)(r / 3600) % 100, (int)(r / 60 % 60), (int)(r % 60));
    if (w > 0 && (size_t)w + 1 < n) {
        buf[w] = 'Z';
        buf[w + 1] = '\0';
    }
}

/* ------------------------------------------------------------------------ */
/* Options and global state                                                   */

enum { FMT_SYSLOG, FMT_RFC3339, FMT_EXIM };
static int opt_format = FMT_SYSLOG;
static u64 opt_seed = 1;
static double opt_size_mb = 0;
static u64 opt_messages = 0;
static double opt_rate = 0;       /* messages per hour, 0 = derive */
static double opt_lifetime_h = 0; /* 0 = per route */
static double opt_window_start_h = -1;
static double opt_warmup_h = 0;
static int opt_tls_field = 0;
static int opt_one_name = 0; /* every instance logs as "postfix" */
static const char *opt_scenario = "healthy";
static i64 start_us;
static i64 window_start = -1, window_end = -1;

/* ------------------------------------------------------------------------ */
/* Timestamps                                                                 */

static i64 last_t; /* lines never go back in time */
static i64 ts_sec = -1;
static char ts_buf[40];
static size_t ts_len;

static void put_ts(i64 t)
{
    if (t < last_t)
        t = last_t;
    last_t = t;
    i64 sec = t / SEC;
    if (sec != ts_sec) {
        ts_sec = sec;
        i64 days = sec / 86400, r = sec % 86400;
        int y, m, d;
        civil_from_days(days, &y, &m, &d);
        if (opt_format == FMT_SYSLOG)
            ts_len = (size_t)snprintf(ts_buf, sizeof ts_buf, "%s %2d %02d:%02d:%02d", MON[m - 1], d,
                                      (int)(r / 3600), (int)(r / 60 % 60), (int)(r % 60));
        else if (opt_format == FMT_EXIM)
            ts_len = (size_t)snprintf(ts_buf, sizeof ts_buf, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d,
                                      (int)(r / 3600), (int)(r / 60 % 60), (int)(r % 60));
        else
            ts_len = (size_t)snprintf(ts_buf, sizeof ts_buf, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d,
                                      (int)(r / 3600), (int)(r / 60 % 60), (int)(r % 60));
    }
    P(ts_buf, ts_len);
    if (opt_format == FMT_RFC3339) {
        PC('.');
        PU0((u64)(t % SEC), 6);
        P("+00:00", 6);
    }
}

/* Postfix-style delay: >=10 s integer, >=1 s one decimal, else two decimals */
static void put_delay(i64 us)
{
    if (us < 0)
        us = 0;
    if (us >= 10 * SEC) {
        PU((u64)(us / SEC));
        return;
    }
    if (us >= SEC) {
        i64 t = us / 100000;
        PU((u64)(t / 10));
        if (t % 10) {
            PC('.');
            PC((char)('0' + t % 10));
        }
        return;
    }
    i64 h = us / 10000;
    if (h == 0) {
        PC('0');
        return;
    }
    PC('0');
    PC('.');
    PC((char)('0' + h / 10));
    if (h % 10)
        PC((char)('0' + h % 10));
}

/* ------------------------------------------------------------------------ */
/* Providers, domains, MX hosts                                               */

enum {
    P_NETEASE,
    P_TENCENT,
    P_SINA,
    P_SOHU,
    P_ALIYUN,
    P_GOOGLE,
    P_MICROSOFT,
    P_YAHOO,
    P_APPLE,
    P_OTHER,
    NPROV
};
static const char *prov_name[NPROV] = {"netease", "tencent",   "sina",  "sohu",  "aliyun",
                                       "google",  "microsoft", "yahoo", "apple", "other"};

/* recipient-choice categories (a corporate domain's provider comes from its MX) */
enum {
    C_NETEASE,
    C_TENCENT,
    C_SINA,
    C_SOHU,
    C_ALIYUN,
    C_GMAIL,
    C_MSCONS,
    C_YAHOO,
    C_APPLE,
    C_OTHERREAL,
    C_CORP,
    NCAT
};
enum { STY_CN, STY_QQ, STY_WEST };

typedef struct {
    const char *name;
    int cat, prov;
    double w;
    int style;
    u32 universe;
    const char *mx; /* "host/ip host/ip" */
} dspec;

static const dspec dspecs[] = {
    {"163.com", C_NETEASE, P_NETEASE, 50, STY_CN, 400000,
     "163mx01.mxmail.netease.com/220.181.12.11 163mx02.mxmail.netease.com/220.181.12.12 "
     "163mx03.mxmail.netease.com/220.181.12.13 163mx00.mxmail.netease.com/220.181.12.10"},
    {"126.com", C_NETEASE, P_NETEASE, 26, STY_CN, 300000,
     "126mx01.mxmail.netease.com/220.181.15.111 126mx02.mxmail.netease.com/220.181.15.112 "
     "126mx00.mxmail.netease.com/220.181.15.110"},
    {"yeah.net", C_NETEASE, P_NETEASE, 6, STY_CN, 60000, "yeahmx01.mxmail.netease.com/123.58.177.131"},
    {"vip.163.com", C_NETEASE, P_NETEASE, 5, STY_CN, 40000, "vip163mx01.mxmail.netease.com/123.126.97.31"},
    {"188.com", C_NETEASE, P_NETEASE, 2, STY_CN, 20000, "188mx00.mxmail.netease.com/123.126.97.41"},
    {"vip.126.com", C_NETEASE, P_NETEASE, 2, STY_CN, 20000, "vip126mx01.mxmail.netease.com/123.126.97.35"},
    {"qq.com", C_TENCENT, P_TENCENT, 82, STY_QQ, 900000,
     "mx3.qq.com/183.47.101.192 mx2.qq.com/183.57.48.46 mx1.qq.com/113.96.208.206"},
    {"foxmail.com", C_TENCENT, P_TENCENT, 10, STY_CN, 80000,
     "mx3.qq.com/183.47.101.192 mx2.qq.com/183.57.48.46"},
    {"vip.qq.com", C_TENCENT, P_TENCENT, 8, STY_QQ, 60000,
     "mx3.qq.com/183.47.101.192 mx1.qq.com/113.96.208.206"},
    {"sina.com", C_SINA, P_SINA, 60, STY_CN, 120000,
     "freemx1.sinamail.sina.com.cn/202.108.3.242 freemx2.sinamail.sina.com.cn/202.108.3.243"},
    {"sina.cn", C_SINA, P_SINA, 30, STY_CN, 60000, "freemx1.sinamail.sina.com.cn/202.108.3.242"},
    {"vip.sina.com", C_SINA, P_SINA, 10, STY_CN, 20000, "vipmx.sinamail.sina.com.cn/202.108.3.190"},
    {"sohu.com", C_SOHU, P_SOHU, 100, STY_CN, 100000,
     "sohumx.h.a.sohu.com/220.181.90.8 sohumx1.sohu.com/220.181.90.9"},
    {"aliyun.com", C_ALIYUN, P_ALIYUN, 100, STY_CN, 80000,
     "mx2.mail.aliyun.com/140.205.94.18 mx1.mail.aliyun.com/140.205.94.17"},
    {"gmail.com", C_GMAIL, P_GOOGLE, 95, STY_WEST, 900000,
     "gmail-smtp-in.l.google.com/142.250.27.26 alt1.gmail-smtp-in.l.google.com/142.250.153.27 "
     "alt2.gmail-smtp-in.l.google.com/74.125.200.27"},
    {"googlemail.com", C_GMAIL, P_GOOGLE, 5, STY_WEST, 40000, "gmail-smtp-in.l.google.com/142.250.27.26"},
    {"outlook.com", C_MSCONS, P_MICROSOFT, 38, STY_WEST, 400000,
     "outlook-com.olc.protection.outlook.com/52.101.68.12"},
    {"hotmail.com", C_MSCONS, P_MICROSOFT, 45, STY_WEST, 500000,
     "hotmail-com.olc.protection.outlook.com/52.101.11.18"},
    {"live.com", C_MSCONS, P_MICROSOFT, 12, STY_WEST, 100000,
     "live-com.olc.protection.outlook.com/52.101.9.0"},
    {"msn.com", C_MSCONS, P_MICROSOFT, 5, STY_WEST, 50000, "msn-com.olc.protection.outlook.com/52.101.10.5"},
    {"yahoo.com", C_YAHOO, P_YAHOO, 72, STY_WEST, 500000,
     "mta5.am0.yahoodns.net/67.195.204.72 mta6.am0.yahoodns.net/98.136.96.74 "
     "mta7.am0.yahoodns.net/67.195.228.94"},
    {"aol.com", C_YAHOO, P_YAHOO, 18, STY_WEST, 150000, "mx-aol.mail.gm0.yahoodns.net/67.195.204.79"},
    {"ymail.com", C_YAHOO, P_YAHOO, 10, STY_WEST, 50000, "mta6.am0.yahoodns.net/98.136.96.74"},
    {"icloud.com", C_APPLE, P_APPLE, 80, STY_WEST, 300000,
     "mx01.mail.icloud.com/17.57.155.34 mx02.mail.icloud.com/17.57.154.33"},
    {"me.com", C_APPLE, P_APPLE, 20, STY_WEST, 60000, "mx01.mail.icloud.com/17.57.155.34"},
    {"139.com", C_OTHERREAL, P_OTHER, 14, STY_CN, 80000, "mx1.mail.139.com/221.176.66.76"},
    {"21cn.com", C_OTHERREAL, P_OTHER, 5, STY_CN, 30000, "mx.21cn.com/14.18.245.164"},
    {"web.de", C_OTHERREAL, P_OTHER, 12, STY_WEST, 80000,
     "mx-ha03.web.de/212.227.17.8 mx-ha02.web.de/212.227.15.9"},
    {"gmx.de", C_OTHERREAL, P_OTHER, 10, STY_WEST, 80000, "mx00.emig.gmx.net/212.227.17.5"},
    {"mail.ru", C_OTHERREAL, P_OTHER, 12, STY_WEST, 100000, "mxs.mail.ru/94.100.180.104"},
    {"yandex.ru", C_OTHERREAL, P_OTHER, 9, STY_WEST, 80000, "mx.yandex.ru/77.88.21.249"},
    {"naver.com", C_OTHERREAL, P_OTHER, 8, STY_WEST, 60000, "mx1.naver.com/125.209.238.100"},
    {"orange.fr", C_OTHERREAL, P_OTHER, 8, STY_WEST, 60000, "smtp-in.orange.fr/80.12.242.16"},
    {"t-online.de", C_OTHERREAL, P_OTHER, 7, STY_WEST, 50000, "mx00.t-online.de/194.25.134.8"},
    {"comcast.net", C_OTHERREAL, P_OTHER, 8, STY_WEST, 60000, "mx1a1.comcast.net/96.114.157.80"},
    {"hinet.net", C_OTHERREAL, P_OTHER, 7, STY_CN, 30000, "ms1.hinet.net/168.95.4.10"},
};
#define NDSPEC ((int)(sizeof dspecs / sizeof dspecs[0]))
#define NCORP  240

typedef struct {
    char name[48];
    u8 prov, cat, style, greylist, dead, tls, dane, trusted;
    u16 mx0, nmx;
    u32 universe;
    double w;
} domain_t;

typedef struct {
    char host[80];
    char ip[16];
} mx_t;

static domain_t doms[NDSPEC + NCORP];
static int ndoms;
static mx_t mxs[1024];
static int nmx;

static int add_mx(const char *host, const char *ip)
{
    for (int i = 0; i < nmx; i++)
        if (!strcmp(mxs[i].host, host) && !strcmp(mxs[i].ip, ip))
            return i;
    snprintf(mxs[nmx].host, sizeof mxs[nmx].host, "%s", host);
    snprintf(mxs[nmx].ip, sizeof mxs[nmx].ip, "%s", ip);
    return nmx++;
}

/* per category: list of domains with cumulative weights */
static int cat_dom[NCAT][NCORP + 16];
static double cat_cum[NCAT][NCORP + 16];
static int cat_n[NCAT];

static const char *WA[] = {"nord",  "blue",  "silver", "green",  "red",   "sun",   "star",   "east",
                           "west",  "north", "river",  "lake",   "stone", "iron",  "oak",    "pine",
                           "cloud", "data",  "smart",  "bright", "first", "prime", "global", "metro",
                           "alpha", "delta", "nova",   "terra",  "aqua",  "vista", "jade",   "golden"};
static const char *WB[] = {"logistics", "tech",     "systems",   "trading", "design", "media",
                           "foods",     "health",   "finance",   "energy",  "labs",   "works",
                           "group",     "partners", "solutions", "retail",  "motors", "travel",
                           "consult",   "soft",     "pharma",    "textile"};
static const char *TLD[] = {".com",    ".de", ".co.uk", ".fr",     ".nl", ".com.cn", ".cn",
                            ".jp",     ".io", ".net",   ".com.au", ".it", ".es",     ".com.hk",
                            ".com.tw", ".sg", ".com",   ".com",    ".cn", ".com"};
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void rand_ip(rng_t *r, char *buf, size_t n, int a)
{
    if (!a) {
        static const int firsts[] = {23,  31,  37,  45,  46,  62,  77,  78,  80,  81,  85,  89,  91,
                                     94,  95,  103, 104, 106, 109, 110, 112, 113, 114, 115, 116, 117,
                                     118, 119, 120, 121, 122, 123, 124, 125, 139, 140, 144, 146, 151,
                                     159, 162, 171, 175, 176, 178, 180, 182, 183, 185, 188, 193, 195,
                                     202, 203, 210, 211, 212, 213, 217, 218, 219, 220, 221, 222, 223};
        a = firsts[rng_below(r, NELEM(firsts))];
    }
    snprintf(buf, n, "%d.%u.%u.%u", a, rng_below(r, 256), rng_below(r, 256), 1 + rng_below(r, 254));
}

static void build_domains(void)
{
    rng_t W;
    rng_seed(&W, opt_seed ^ 0xD0D0D0D0ULL);
    for (int i = 0; i < NDSPEC; i++) {
        const dspec *s = &dspecs[i];
        domain_t *d = &doms[ndoms++];
        snprintf(d->name, sizeof d->name, "%s", s->name);
        d->prov = (u8)s->prov;
        d->cat = (u8)s->cat;
        d->style = (u8)s->style;
        d->universe = s->universe;
        d->w = s->w;
        d->tls = 1;
        d->trusted =
            (s->prov == P_GOOGLE || s->prov == P_MICROSOFT || s->prov == P_YAHOO || s->prov == P_APPLE);
        d->mx0 = (u16)nmx;
        d->nmx = 0;
        /* MX lists are distinct per domain so that mx0..mx0+nmx-1 is contiguous */
        const char *p = s->mx;
        while (*p) {
            char host[80], ip[16];
            size_t h = 0, k = 0;
            while (*p && *p != '/')
                host[h++] = *p++;
            host[h] = 0;
            if (*p == '/')
                p++;
            while (*p && *p != ' ')
                ip[k++] = *p++;
            ip[k] = 0;
            while (*p == ' ')
                p++;
            snprintf(mxs[nmx].host, sizeof mxs[nmx].host, "%s", host);
            snprintf(mxs[nmx].ip, sizeof mxs[nmx].ip, "%s", ip);
            nmx++;
            d->nmx++;
        }
    }
    int dead_left = 2;
    for (int i = 0; i < NCORP; i++) {
        domain_t *d = &doms[ndoms];
        for (;;) {
            snprintf(d->name, sizeof d->name, "%s%s%s", WA[rng_below(&W, NELEM(WA))],
                     WB[rng_below(&W, NELEM(WB))], TLD[rng_below(&W, NELEM(TLD))]);
            int dup = 0;
            for (int j = NDSPEC; j < ndoms; j++)
                if (!strcmp(doms[j].name, d->name)) {
                    dup = 1;
                    break;
                }
            if (!dup)
                break;
        }
        ndoms++;
        d->cat = C_CORP;
        d->universe = 300 + rng_below(&W, 6000);
        d->w = 0.2 + 3.0 * rng_unit(&W) * rng_unit(&W);
        d->style =
            (strstr(d->name, ".cn") || strstr(d->name, ".hk") || strstr(d->name, ".tw")) ? STY_CN : STY_WEST;
        d->tls = 1;
        d->mx0 = (u16)nmx;
        double u = rng_unit(&W);
        char host[80], ip[16], dashed[48];
        size_t k;
        for (k = 0; d->name[k]; k++)
            dashed[k] = d->name[k] == '.' ? '-' : d->name[k];
        dashed[k] = 0;
        if (u < 0.40) { /* self hosted */
            d->prov = P_OTHER;
            d->tls = rng_unit(&W) < 0.8;
            d->dane = d->tls && rng_unit(&W) < 0.12;
            d->greylist = rng_unit(&W) < 0.25;
            if (dead_left && i >= 20 && !d->greylist) {
                d->dead = 1;
                d->w = 0.3;
                dead_left--;
            }
            int n = 1 + (rng_unit(&W) < 0.5);
            for (int j = 0; j < n; j++) {
                snprintf(host, sizeof host, "%s.%s", j ? "mx2" : (rng_unit(&W) < 0.5 ? "mx1" : "mail"),
                         d->name);
                rand_ip(&W, ip, sizeof ip, 0);
                add_mx(host, ip);
            }
            d->nmx = (u16)n;
        } else if (u < 0.75) { /* Microsoft 365 */
            d->prov = P_MICROSOFT;
            d->trusted = 1;
            snprintf(host, sizeof host, "%s.mail.protection.outlook.com", dashed);
            snprintf(ip, sizeof ip, "52.101.%u.%u", rng_below(&W, 200), 1 + rng_below(&W, 250));
            d->mx0 = (u16)add_mx(host, ip);
            d->nmx = 1;
        } else if (u < 0.93) { /* Google Workspace */
            d->prov = P_GOOGLE;
            d->trusted = 1;
            d->mx0 = (u16)add_mx("aspmx.l.google.com", "142.251.9.27");
            add_mx("alt1.aspmx.l.google.com", "142.250.153.26");
            d->nmx = 2;
        } else if (u < 0.965) { /* Tencent exmail */
            d->prov = P_TENCENT;
            d->mx0 = (u16)add_mx("mxbiz1.qq.com", "183.47.101.186");
            add_mx("mxbiz2.qq.com", "113.96.232.106");
            d->nmx = 2;
        } else { /* Netease qiye */
            d->prov = P_NETEASE;
            d->mx0 = (u16)add_mx("qiye163mx01.mxmail.netease.com", "220.181.97.153");
            add_mx("qiye163mx02.mxmail.netease.com", "220.181.97.154");
            d->nmx = 2;
        }
    }
    for (int i = 0; i < ndoms; i++) {
        int c = doms[i].cat;
        double prev = cat_n[c] ? cat_cum[c][cat_n[c] - 1] : 0;
        cat_dom[c][cat_n[c]] = i;
        cat_cum[c][cat_n[c]] = prev + doms[i].w;
        cat_n[c]++;
    }
}

static int pick_cum(const double *cum, int n, double u)
{
    double x = u * cum[n - 1];
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* audience: category weights of recipients */
static const double aud_w[2][NCAT] = {
    /* netease tencent sina sohu aliyun gmail mscons yahoo apple otherreal corp */
    {40, 32, 5, 3, 3, 3, 2, 1, 1, 2, 8},      /* Chinese audience */
    {8, 6, 1, 0.5, 0.5, 28, 16, 9, 5, 8, 18}, /* global audience */
};
static double aud_cum[2][NCAT];

static int pick_domain(int audience)
{
    int c = pick_cum(aud_cum[audience], NCAT, rng_unit(&R));
    return cat_dom[c][pick_cum(cat_cum[c], cat_n[c], rng_unit(&R))];
}

/* ------------------------------------------------------------------------ */
/* Recipient local parts                                                      */

static const char *PY_FAM[] = {
    "wang", "li",    "zhang", "liu",  "chen", "yang",  "huang", "zhao", "wu",    "zhou",  "xu",   "sun",
    "ma",   "zhu",   "hu",    "guo",  "he",   "gao",   "lin",   "luo",  "zheng", "liang", "xie",  "song",
    "tang", "han",   "feng",  "deng", "cao",  "peng",  "zeng",  "xiao", "tian",  "dong",  "yuan", "pan",
    "cai",  "jiang", "yu",    "du",   "ye",   "cheng", "wei",   "su",   "lu",    "ding",  "ren",  "shen"};
static const char *PY_GIV[] = {
    "wei",  "fang", "na",  "min",  "jing",     "li",     "qiang",  "lei",    "jun",  "yang", "yong",
    "yan",  "jie",  "tao", "ming", "chao",     "xiu",    "hua",    "ping",   "gang", "ying", "hui",
    "hong", "xin",  "lin", "bo",   "yu",       "hao",    "kai",    "jia",    "rui",  "ting", "xuan",
    "zi",   "han",  "yi",  "chen", "xiaoming", "xiaoyu", "haoran", "yuxuan", "zihan"};
static const char *W_FIRST[] = {
    "james",   "john",  "robert",   "michael",  "william", "david",     "richard", "joseph", "thomas",
    "charles", "mary",  "patricia", "jennifer", "linda",   "elizabeth", "barbara", "susan",  "jessica",
    "sarah",   "karen", "anna",     "maria",    "laura",   "emma",      "olivia",  "lucas",  "noah",
    "liam",    "mia",   "sofia",    "daniel",   "kevin",   "julia",     "max",     "lena",   "paul"};
static const char *W_LAST[] = {
    "smith",    "johnson",   "williams", "brown",    "jones",  "garcia",   "miller", "davis", "rodriguez",
    "martinez", "hernandez", "lopez",    "gonzalez", "wilson", "anderson", "taylor", "moore", "jackson",
    "martin",   "lee",       "perez",    "thompson", "white",  "harris",   "clark",  "lewis", "walker",
    "hall",     "young",     "king",     "wright",   "scott",  "green",    "baker",  "adams", "nelson",
    "hill",     "campbell",  "mueller",  "schmidt",  "dubois", "rossi",    "kim"};

static void put_local(u32 dom, u32 local)
{
    u64 h = hash64(((u64)dom << 32) ^ local ^ 0x5bd1e995ULL);
    int sty = doms[dom].style;
    if (sty == STY_QQ && (h & 0xff) < 180) {
        PU(100000 + (h >> 20) % 3899900000ULL);
        return;
    }
    u64 x = h >> 8;
#define TAKE(arr) arr[(x /= 61, x % (u64)NELEM(arr))]
    if (sty == STY_WEST) {
        switch (h % 6) {
        case 0:
            PS(TAKE(W_FIRST));
            PC('.');
            PS(TAKE(W_LAST));
            break;
        case 1:
            PS(TAKE(W_FIRST));
            PS(TAKE(W_LAST));
            break;
        case 2:
            PC(TAKE(W_FIRST)[0]);
            PS(TAKE(W_LAST));
            PU(x % 100);
            break;
        case 3:
            PS(TAKE(W_FIRST));
            PC('_');
            PS(TAKE(W_LAST));
            PU(x % 90 + 10);
            break;
        case 4:
            PS(TAKE(W_FIRST));
            PU(1950 + x % 60);
            break;
        default:
            PS(TAKE(W_LAST));
            PC('.');
            PS(TAKE(W_FIRST));
            break;
        }
    } else {
        switch (h % 6) {
        case 0:
            PS(TAKE(PY_FAM));
            PS(TAKE(PY_GIV));
            PU(1970 + x % 40);
            break;
        case 1:
            PS(TAKE(PY_GIV));
            PC('_');
            PS(TAKE(PY_FAM));
            break;
        case 2:
            PS(TAKE(PY_FAM));
            PS(TAKE(PY_GIV));
            PS(TAKE(PY_GIV));
            break;
        case 3:
            PS(TAKE(PY_FAM));
            PC('.');
            PS(TAKE(PY_GIV));
            PU0(x % 100, 2);
            break;
        case 4:
            PS(TAKE(PY_FAM));
            PS(TAKE(PY_GIV));
            PC('_');
            PU(x % 1000);
            break;
        default:
            PS(TAKE(PY_GIV));
            PS(TAKE(PY_FAM));
            PU(x % 10000);
            break;
        }
    }
#undef TAKE
}
static void put_rcpt(u32 dom, u32 local)
{
    put_local(dom, local);
    PC('@');
    PS(doms[dom].name);
}

/* per-recipient persistent properties */
static int rcpt_invalid(u32 dom, u32 local)
{
    return hash64(((u64)dom << 32) ^ local ^ 0x77ULL) % 10000 < 110;
}
static int rcpt_overquota(u32 dom, u32 local)
{
    int p = doms[dom].prov;
    if (p != P_GOOGLE && p != P_OTHER && p != P_MICROSOFT)
        return 0;
    return hash64(((u64)dom << 32) ^ local ^ 0x99ULL) % 10000 < 15;
}

/* ------------------------------------------------------------------------ */
/* Routes (Postfix instances) and hosts                                      */

#define NHOSTS 3
static const char *host_name[NHOSTS] = {"mx1", "mx2", "mx3"};
static u32 host_pid[NHOSTS];

enum { HDR_TPL = 1, HDR_FROM = 2, HDR_CTYPE = 4 };
static const char *syslog_names[] = {"postfix", "postfix-out1", "postfix-cn"};
#define NSYSLOG 3

typedef struct {
    int host;
    int sname;
    const char *ip;
    const char *helo;
    int long_ids;
    int lifetime_h;
    int hdr;
    int pf311;
    /* runtime */
    u32 qmgr_pid, pickup_pid, cleanup_pid[2], bounce_pid, smtpd_pid[4];
    u32 smtp_pid[16];
    u16 smtp_use[16];
    u32 *inode_free;
    u32 ninode_free, inode_cap, inode_next;
    i64 scan_phase;
    char recent_short[8][16];
    int nrecent;
} route_t;

static route_t routes[] = {
    {0,
     0,
     "203.0.113.10",
     "mx1.example.net",
     0,
     120,
     HDR_TPL | HDR_FROM | HDR_CTYPE,
     0,
     0,
     0,
     {0},
     0,
     {0},
     {0},
     {0},
     NULL,
     0,
     0,
     0,
     0,
     {{0}},
     0},
    {0,
     1,
     "203.0.113.11",
     "out1.mx1.example.net",
     0,
     48,
     HDR_TPL,
     0,
     0,
     0,
     {0},
     0,
     {0},
     {0},
     {0},
     NULL,
     0,
     0,
     0,
     0,
     {{0}},
     0},
    {1,
     0,
     "203.0.113.20",
     "mx2.example.net",
     1,
     120,
     HDR_TPL | HDR_FROM | HDR_CTYPE,
     0,
     0,
     0,
     {0},
     0,
     {0},
     {0},
     {0},
     NULL,
     0,
     0,
     0,
     0,
     {{0}},
     0},
    {1,
     2,
     "203.0.113.21",
     "cn.mx2.example.net",
     1,
     24,
     HDR_TPL | HDR_FROM | HDR_CTYPE,
     0,
     0,
     0,
     {0},
     0,
     {0},
     {0},
     {0},
     NULL,
     0,
     0,
     0,
     0,
     {{0}},
     0},
    {2,
     0,
     "198.51.100.30",
     "mx3.example.net",
     0,
     72,
     HDR_TPL | HDR_CTYPE,
     1,
     0,
     0,
     {0},
     0,
     {0},
     {0},
     {0},
     NULL,
     0,
     0,
     0,
     0,
     {{0}},
     0},
    {2,
     1,
     "198.51.100.31",
     "out1.mx3.example.net",
     1,
     24,
     HDR_TPL | HDR_FROM,
     1,
     0,
     0,
     {0},
     0,
     {0},
     {0},
     {0},
     NULL,
     0,
     0,
     0,
     0,
     {{0}},
     0},
};
#define NROUTES ((int)(sizeof routes / sizeof routes[0]))

static u32 new_pid(int host)
{
    host_pid[host] += 1 + rng_below(&RT, 40);
    if (host_pid[host] > 4000000)
        host_pid[host] = 300 + rng_below(&RT, 1000);
    return host_pid[host];
}

static void init_routes(void)
{
    for (int h = 0; h < NHOSTS; h++)
        host_pid[h] = 1000 + rng_below(&RT, 200000);
    for (int i = 0; i < NROUTES; i++) {
        route_t *r = &routes[i];
        r->qmgr_pid = new_pid(r->host);
        r->pickup_pid = new_pid(r->host);
        r->bounce_pid = new_pid(r->host);
        for (int j = 0; j < 2; j++)
            r->cleanup_pid[j] = new_pid(r->host);
        for (int j = 0; j < 4; j++)
            r->smtpd_pid[j] = new_pid(r->host);
        for (int j = 0; j < 16; j++) {
            r->smtp_pid[j] = new_pid(r->host);
            r->smtp_use[j] = (u16)rng_below(&RT, 90);
        }
        r->inode_cap = 1024;
        r->inode_free = malloc(r->inode_cap * sizeof(u32));
        /* 5 or 6 hex digits: short queue ids of 10 or 11 characters */
        r->inode_next = 0x50000u * (u32)(1 + i) + rng_below(&RT, 0x20000);
        r->scan_phase = (i64)rng_below(&RT, 300) * SEC;
    }
}

static u32 smtp_pid(route_t *r)
{
    int k = (int)rng_below(&RT, 16);
    if (++r->smtp_use[k] > 100) {
        r->smtp_use[k] = 0;
        r->smtp_pid[k] = new_pid(r->host);
    }
    return r->smtp_pid[k];
}

static u32 inode_alloc(route_t *r)
{
    if (r->ninode_free)
        return r->inode_free[--r->ninode_free]; /* LIFO: recently freed inodes come back first */
    return r->inode_next += 1 + rng_below(&RT, 3);
}
static void inode_release(route_t *r, u32 ino)
{
    if (r->ninode_free == r->inode_cap) {
        r->inode_cap *= 2;
        r->inode_free = realloc(r->inode_free, r->inode_cap * sizeof(u32));
        if (!r->inode_free) {
            perror("genlog");
            exit(1);
        }
    }
    r->inode_free[r->ninode_free++] = ino;
}

/* ------------------------------------------------------------------------ */
/* Senders and templates                                                      */

#define NSENDERS 48
#define MAXTPL   200
static const char *BRAND_A[] = {"bright", "lucky",  "tianyu",   "jade",      "meituo", "kuaile",
                                "nova",   "peak",   "homeland", "cloudnine", "orient", "greenleaf",
                                "happy",  "dragon", "panda",    "lotus",     "silk",   "harbor",
                                "maple",  "sunny",  "urban",    "pixel",     "swift",  "zen"};
static const char *BRAND_B[] = {"mart",  "shop",  "games", "air", "edu",  "bank", "fit",  "realty", "travel",
                                "books", "foods", "mall",  "pay", "tech", "news", "club", "store",  "cloud"};
static const char *BRAND_TLD[] = {".com", ".cn", ".com.cn", ".net", ".io", ".com"};

typedef struct {
    char domain[48];
    char mail_from[64];
    char from_local[16];
    char display[32];
    int route, audience, bulk, tpl0, ntpl, sasl;
} sender_t;
static sender_t senders[NSENDERS];
static double sender_cum[NSENDERS];

typedef struct {
    u32 size;
    u8 ctype;
    u8 att;
    u8 has_hdr;
} tmpl_t;
static tmpl_t tmpls[MAXTPL + 1];
static int ntmpl;

static const char *ATT_CT[] = {
    "application/pdf; name=\"invoice.pdf\"",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"report.xlsx\"",
    "image/jpeg; name=\"photo.jpg\"", "application/zip; name=\"documents.zip\"",
    "application/msword; name=\"contract.doc\""};

/* dst = a b, truncated to n-1 characters */
static void sjoin(char *dst, size_t n, const char *a, const char *b)
{
    size_t k = 0;
    for (; *a && k + 1 < n; a++)
        dst[k++] = *a;
    for (; *b && k + 1 < n; b++)
        dst[k++] = *b;
    dst[k] = 0;
}

static void build_senders(void)
{
    rng_t W;
    rng_seed(&W, opt_seed ^ 0x5E5E5E5EULL);
    double cum = 0;
    for (int i = 0; i < NSENDERS; i++) {
        sender_t *s = &senders[i];
        for (;;) {
            const char *a = BRAND_A[rng_below(&W, NELEM(BRAND_A))],
                       *b = BRAND_B[rng_below(&W, NELEM(BRAND_B))];
            snprintf(s->domain, sizeof s->domain, "%s%s%s%s", a, rng_unit(&W) < 0.3 ? "-" : "", b,
                     BRAND_TLD[rng_below(&W, NELEM(BRAND_TLD))]);
            snprintf(s->display, sizeof s->display, "%c%s%s", a[0] - 32, a + 1, b);
            int dup = 0;
            for (int j = 0; j < i; j++)
                if (!strcmp(senders[j].domain, s->domain))
                    dup = 1;
            if (!dup)
                break;
        }
        s->audience = (rng_unit(&W) < 0.45) ? 0 : 1;
        s->bulk = rng_unit(&W) < 0.6;
        s->sasl = rng_unit(&W) < 0.5;
        if (s->bulk) {
            sjoin(s->mail_from, sizeof s->mail_from, "bounce@em.", s->domain);
            snprintf(s->from_local, sizeof s->from_local, "%s", rng_unit(&W) < 0.5 ? "news" : "hello");
        } else {
            sjoin(s->mail_from, sizeof s->mail_from, "noreply@", s->domain);
            snprintf(s->from_local, sizeof s->from_local, "%s", rng_unit(&W) < 0.5 ? "noreply" : "service");
        }
        double u = rng_unit(&W);
        if (s->audience == 0)
            s->route = u < 0.6 ? 3 : u < 0.85 ? 0 : 5;
        else {
            static const int g[] = {0, 1, 1, 2, 4, 4, 5};
            s->route = g[rng_below(&W, NELEM(g))];
        }
        s->ntpl = 1 + (int)rng_below(&W, 5);
        s->tpl0 = ntmpl + 1;
        int uses_hdr = rng_unit(&W) < 0.8;
        for (int t = 0; t < s->ntpl && ntmpl < MAXTPL; t++) {
            tmpl_t *tp = &tmpls[++ntmpl];
            double v = rng_unit(&W);
            tp->ctype = v < 0.25 ? 0 : v < 0.85 ? 1 : 2; /* text/html, alternative, mixed */
            tp->size = (u32)(4000 + rng_unit(&W) * rng_unit(&W) * 90000);
            if (tp->ctype == 2) {
                tp->att = (u8)rng_below(&W, NELEM(ATT_CT));
                tp->size += (u32)(60000 + rng_unit(&W) * rng_unit(&W) * 3000000);
            }
            tp->has_hdr = (u8)uses_hdr;
        }
        cum += 1.0 / (1.0 + i * 0.35);
        sender_cum[i] = cum;
    }
}

/* ------------------------------------------------------------------------ */
/* SMTP replies and the fault tables                                          */

enum { ST_NONE, ST_CONNECT, ST_GREETING, ST_MAIL, ST_LOST_RCPT, ST_RCPT, ST_DATA_END, ST_LOST_DATA };

typedef struct {
    const char *name;
    int stage;
    char cls;
    const char *dsn;
    const char *text;
} reply_t;

/* Text placeholders: %H MX host, %h its first label, %I MX ip, %S sending ip, %R recipient, %D recipient
 * domain, %F envelope sender domain, %B header From (brand) domain, %T unix time, %Q token, %X hex id,
 * %G gmail id, %Z ISO time, %N number, %n the same number again, %% percent. */
enum {
    R_OK = 0,
    R_NE_451_432,
    R_NE_DT_SPM,
    R_NE_HL_ICC,
    R_NE_RP_QRC,
    R_NE_UNKNOWN,
    R_QQ_UNKNOWN,
    R_QQ_FREQ,
    R_G_4728,
    R_G_430,
    R_G_UNKNOWN,
    R_G_OVERQUOTA,
    R_MS_4650,
    R_MS_UNKNOWN,
    R_MS_OVERQUOTA,
    R_Y_TSS04,
    R_Y_UNKNOWN,
    R_AP_UNKNOWN,
    R_CONN_TIMEOUT,
    R_CONN_REFUSED,
    R_LOST_RCPT,
    R_LOST_DATA,
    R_GREYLIST,
    R_GEN_UNKNOWN,
    R_GEN_FULL,
    R_GEN_421,
    /* replies only the scenarios use */
    R_NE_451_432_MAIL,
    R_NE_HL_IFC,
    R_NE_MI_DMC,
    R_NE_MI_SPF,
    R_NE_DT_SPM_554,
    R_G_4726,
    R_G_5726,
    R_GREYLIST_QUIET,
    NREPLY
};
static const reply_t replies[NREPLY] = {
    [R_OK] = {"ok", ST_NONE, 'S', "2.0.0", ""},
    [R_NE_451_432] = {"netease-451-4.3.2", ST_DATA_END, 'D', "4.3.2", "451 4.3.2 Internal server error"},
    [R_NE_DT_SPM] = {"netease-DT:SPM", ST_DATA_END, 'D', "4.0.0",
                     "451 DT:SPM 163 smtp%N,%Q %T, please try again "
                     "http://mail.163.com/help/help_spam_16.htm?ip=%S&hostid=smtp%N&time=%T"},
    [R_NE_HL_ICC] = {"netease-HL:ICC", ST_GREETING, 'D', "4.0.0",
                     "421 HL:ICC %h,%Q Connection denied, too many connections from your IP %S. "
                     "http://mail.163.com/help/help_spam_16.htm?ip=%S&hostid=%h&time=%T"},
    [R_NE_RP_QRC] = {"netease-RP:QRC", ST_RCPT, 'D', "4.0.0",
                     "451 RP:QRC %h,%Q %T, too many recipients in a short time, please try again later"},
    [R_NE_UNKNOWN] = {"netease-user-unknown", ST_RCPT, 'B', "5.0.0", "550 User not found: %R"},
    [R_QQ_UNKNOWN] =
        {"qq-mailbox-not-found", ST_RCPT, 'B', "5.0.0",
         "550 Mailbox not found. http://service.exmail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728"},
    [R_QQ_FREQ] = {"qq-frequency-limited", ST_MAIL, 'B', "5.0.0",
                   "550 Connection frequency limited. "
                   "http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000722"},
    [R_G_4728] =
        {"gmail-4.7.28", ST_DATA_END, 'D', "4.7.28",
         "421-4.7.28 [%S      15] Our system has detected an unusual rate of 421-4.7.28 unsolicited mail "
         "originating from your IP address. To protect our 421-4.7.28 users from spam, mail sent from your "
         "IP address has been temporarily 421-4.7.28 rate limited. For more information, go to 421-4.7.28  "
         "https://support.google.com/mail/?p=UnsolicitedRateLimitError to 421 4.7.28 review our Bulk Email "
         "Senders Guidelines. %G - gsmtp"},
    [R_G_430] = {"gmail-4.3.0", ST_DATA_END, 'D', "4.3.0",
                 "451 4.3.0 Mail server temporarily rejected message. %G - gsmtp"},
    [R_G_UNKNOWN] =
        {"gmail-5.1.1", ST_RCPT, 'B', "5.1.1",
         "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 "
         "double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more "
         "information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser %G - gsmtp"},
    [R_G_OVERQUOTA] = {"gmail-4.2.2", ST_RCPT, 'D', "4.2.2",
                       "452-4.2.2 The recipient's inbox is out of storage space. Please direct the 452-4.2.2 "
                       "recipient to 452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp %G - gsmtp"},
    [R_MS_4650] = {"microsoft-4.7.650", ST_MAIL, 'D', "4.7.650",
                   "451 4.7.650 The mail server [%S] has been temporarily rate limited due to IP reputation. "
                   "For e-mail delivery information, see https://postmaster.live.com (S775) [Name=Protocol "
                   "Filter Agent][AGT=PFA][MxId=11B%X] [%Q.namprd04.prod.outlook.com %Z]"},
    [R_MS_UNKNOWN] = {"microsoft-5.5.0", ST_RCPT, 'B', "5.5.0",
                      "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
                      "[%Q.eurprd02.prod.outlook.com %Z]"},
    [R_MS_OVERQUOTA] = {"microsoft-4.2.2", ST_RCPT, 'D', "4.2.2",
                        "452 4.2.2 The recipient's mailbox is full and can't accept messages now. Please try "
                        "resending this message later, or contact the recipient directly."},
    [R_Y_TSS04] = {"yahoo-TSS04", ST_MAIL, 'D', "4.7.0",
                   "421 4.7.0 [TSS04] Messages from %S temporarily deferred due to unexpected volume or user "
                   "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"},
    [R_Y_UNKNOWN] =
        {"yahoo-554-no-account", ST_RCPT, 'B', "5.0.0",
         "554 delivery error: dd This user doesn't have a %D account (%R) [0] - mta%N.mail.gq1.yahoo.com"},
    [R_AP_UNKNOWN] = {"icloud-5.1.1", ST_RCPT, 'B', "5.1.1", "550 5.1.1 <%R>: user does not exist"},
    [R_CONN_TIMEOUT] = {"connect-timeout", ST_CONNECT, 'D', "4.4.1", "Connection timed out"},
    [R_CONN_REFUSED] = {"connect-refused", ST_CONNECT, 'D', "4.4.1", "Connection refused"},
    [R_LOST_RCPT] = {"lost-connection-rcpt", ST_LOST_RCPT, 'D', "4.4.2", "RCPT TO"},
    [R_LOST_DATA] = {"lost-connection-data", ST_LOST_DATA, 'D', "4.4.2",
                     "end of data -- message may be sent more than once"},
    [R_GREYLIST] = {"greylisted", ST_RCPT, 'D', "4.2.0",
                    "450 4.2.0 <%R>: Recipient address rejected: Greylisted, see "
                    "http://postgrey.schweikert.ch/help/%D.html"},
    [R_GEN_UNKNOWN] = {"user-unknown", ST_RCPT, 'B', "5.1.1",
                       "550 5.1.1 <%R>: Recipient address rejected: User unknown in virtual mailbox table"},
    [R_GEN_FULL] = {"mailbox-full", ST_RCPT, 'D', "4.2.2", "452 4.2.2 <%R>: Mailbox full, try again later"},
    [R_GEN_421] = {"service-unavailable", ST_GREETING, 'D', "4.3.2",
                   "421 4.3.2 Service not available, closing transmission channel"},
    [R_NE_451_432_MAIL] = {"netease-451-4.3.2-mail", ST_MAIL, 'D', "4.3.2",
                           "451 4.3.2 Internal server error"},
    [R_NE_HL_IFC] =
        {"netease-HL:IFC", ST_GREETING, 'D', "4.0.0",
         "421 HL:IFC %h,%Q %T, Connection denied, too many mails from your IP %S in a short time. "
         "http://mail.163.com/help/help_spam_16.htm?ip=%S&hostid=%h&time=%T"},
    [R_NE_MI_DMC] =
        {"netease-MI:DMC", ST_MAIL, 'D', "4.0.0",
         "451 MI:DMC %h,%Q %T, Current connection has sent too many mails, please reduce the "
         "number of mails per connection. http://mail.163.com/help/help_spam_16.htm?ip=%S&hostid=%h"
         "&time=%T"},
    [R_NE_MI_SPF] =
        {"netease-MI:SPF", ST_MAIL, 'B', "5.0.0",
         "550 MI:SPF %h,%Q %T, SPF check failed: the sending IP %S is not permitted by the SPF record "
         "of %F. http://mail.163.com/help/help_spam_16.htm?ip=%S&hostid=%h&time=%T"},
    [R_NE_DT_SPM_554] = {"netease-554-DT:SPM", ST_DATA_END, 'B', "5.0.0",
                         "554 DT:SPM 163 smtp%N,%Q %T, Mail rejected, please see "
                         "http://mail.163.com/help/help_spam_16.htm?ip=%S&hostid=smtp%n&time=%T"},
    [R_G_4726] =
        {"gmail-4.7.26", ST_DATA_END, 'D', "4.7.26",
         "421-4.7.26 [%S      15] This mail is unauthenticated, which poses a security risk 421-4.7.26 "
         "to the sender and Gmail users, and has been blocked. The sender 421-4.7.26 must authenticate "
         "with at least one of SPF or DKIM. For this 421-4.7.26 message, DKIM checks did not pass and "
         "SPF check for [%F] 421-4.7.26 did not pass with ip: [%S]. The sender should visit 421-4.7.26  "
         "https://support.google.com/mail/answer/81126#authentication for 421 4.7.26 instructions on "
         "setting up authentication. %G - gsmtp"},
    [R_G_5726] = {"gmail-5.7.26", ST_DATA_END, 'B', "5.7.26",
                  "550-5.7.26 Unauthenticated email from %B is not accepted due to 550-5.7.26 domain's DMARC "
                  "policy. Please contact the administrator of 550-5.7.26 %B domain if this was a legitimate "
                  "mail. To learn about 550-5.7.26 the DMARC initiative, go to 550 5.7.26  "
                  "https://support.google.com/mail/?p=DmarcRejection %G - gsmtp"},
    /* greylisting that does not say so */
    [R_GREYLIST_QUIET] = {"greylisted-quietly", ST_RCPT, 'D', "4.7.1",
                          "450 4.7.1 <%R>: Recipient address rejected: please try again later"},
};

static const int prov_unknown[NPROV] = {R_NE_UNKNOWN,  R_QQ_UNKNOWN, R_GEN_UNKNOWN, R_GEN_UNKNOWN,
                                        R_GEN_UNKNOWN, R_G_UNKNOWN,  R_MS_UNKNOWN,  R_Y_UNKNOWN,
                                        R_AP_UNKNOWN,  R_GEN_UNKNOWN};
static const int prov_overquota[NPROV] = {R_GEN_FULL,    R_GEN_FULL,     R_GEN_FULL, R_GEN_FULL, R_GEN_FULL,
                                          R_G_OVERQUOTA, R_MS_OVERQUOTA, R_GEN_FULL, R_GEN_FULL, R_GEN_FULL};

/* Background faults: chance per delivery session (one connection for one recipient domain). */
typedef struct {
    int prov;
    int reply;
    double prob;
} bg_rule;
static const bg_rule bg_rules[] = {
    {P_NETEASE, R_NE_451_432, 0.006},  {P_NETEASE, R_NE_DT_SPM, 0.004},    {P_NETEASE, R_NE_HL_ICC, 0.002},
    {P_NETEASE, R_NE_RP_QRC, 0.001},   {P_NETEASE, R_CONN_TIMEOUT, 0.001}, {P_TENCENT, R_CONN_TIMEOUT, 0.003},
    {P_TENCENT, R_LOST_RCPT, 0.002},   {P_TENCENT, R_QQ_FREQ, 0.0003},     {P_SINA, R_CONN_TIMEOUT, 0.003},
    {P_SINA, R_LOST_RCPT, 0.001},      {P_SOHU, R_CONN_TIMEOUT, 0.004},    {P_SOHU, R_GEN_421, 0.002},
    {P_ALIYUN, R_CONN_TIMEOUT, 0.002}, {P_ALIYUN, R_LOST_DATA, 0.001},     {P_GOOGLE, R_G_4728, 0.004},
    {P_GOOGLE, R_G_430, 0.001},        {P_MICROSOFT, R_MS_4650, 0.005},    {P_MICROSOFT, R_LOST_DATA, 0.0005},
    {P_YAHOO, R_Y_TSS04, 0.010},       {P_APPLE, R_LOST_RCPT, 0.001},      {P_OTHER, R_CONN_TIMEOUT, 0.002},
    {P_OTHER, R_CONN_REFUSED, 0.001},  {P_OTHER, R_LOST_RCPT, 0.001},      {P_OTHER, R_GEN_421, 0.001},
};
#define NBG ((int)(sizeof bg_rules / sizeof bg_rules[0]))

/* Scenario rules: checked in order before the background; the first that fires decides the session.
 * prov/route/tmpl may be ANY; in_window limits a rule to the scenario window; first_only to a
 * message's first delivery attempt; cohort narrows it further.  Rules with a per-recipient cohort
 * (CO_NEWPAIR, CO_BADADDR) are checked for each recipient of a session that gets as far as RCPT TO,
 * after the recipient's own properties (invalid, over quota, background greylisting). */
enum {
    CO_ALL,      /* no further condition */
    CO_SENDER,   /* the scenario's sender (picked at start from the seed's senders, see pick_cohorts) */
    CO_TEMPLATE, /* messages built from the scenario's template */
    CO_ATTACH,   /* messages that carry the scenario's attachment type */
    CO_LOAD,     /* prob scaled by the arrival intensity of the hour: prob * (diurnal / max)^2 */
    CO_NEWPAIR,  /* per recipient: first RCPT TO of a new (route, sender, recipient) triplet (greylisting) */
    CO_BADADDR,  /* per recipient: the address does not exist (the stale part of a sender's list) */
};
typedef struct {
    int prov, route, tmpl, in_window, first_only;
    double prob;
    int reply, cohort;
} fault_rule;

/* the cohort a scenario picks at start (the seed decides the senders and templates) */
enum {
    PICK_NONE,
    PICK_SENDER_NETEASE, /* the sender with the most Netease mail */
    PICK_SENDER_CN,      /* the sender with the most Netease + Tencent mail, other than the one above */
    PICK_SENDER_AUTH,    /* the bulk sender (bounce@em.DOMAIN) with the most mail to both Gmail and Netease */
    PICK_TEMPLATE,       /* a logged text template of a Chinese-audience sender with several templates */
    PICK_ATTACH,         /* the attachment type application/zip */
};

typedef struct {
    const char *name, *help;
    double window_hours; /* length of the scenario window, 0 = none */
    const fault_rule *rules;
    int nrules;
    int pick;
    /* PICK_TEMPLATE / PICK_ATTACH: share of every sender's messages that use the template / carry the
     * attachment; PICK_SENDER_CN: share of the sender's Netease and Tencent recipients that do not exist */
    double share;
    int extra_hdr; /* header_checks INFO lines that every route logs in this scenario (HDR_*) */
    /* the "genlog: expect" line: scope is "field:value", "-" (whole provider), or "field:" that the
     * picked cohort completes; provider "-" is every provider */
    const char *cause, *provider, *scope;
} scenario_t;

#define ROUTE_CN 3 /* mx2 postfix-cn: the only route whose syslog name no other host uses */

static const fault_rule sc_netease_window[] = {
    /* every sender, every route: Netease answers 451 4.3.2 after DATA for two hours */
    {P_NETEASE, ANY, ANY, 1, 0, 1.0, R_NE_451_432, CO_ALL},
};
static const fault_rule sc_route_fails[] = {
    /* one route: every Netease attempt, the whole log, at MAIL FROM; its mail expires */
    {P_NETEASE, ROUTE_CN, ANY, 0, 0, 1.0, R_NE_451_432_MAIL, CO_ALL},
};
static const fault_rule sc_template[] = {
    {P_NETEASE, ANY, ANY, 0, 0, 1.0, R_NE_451_432, CO_TEMPLATE},
};
static const fault_rule sc_attach[] = {
    {P_NETEASE, ANY, ANY, 0, 0, 1.0, R_NE_451_432, CO_ATTACH},
};
static const fault_rule sc_greylist[] = {
    {P_SINA, ANY, ANY, 0, 0, 1.0, R_GREYLIST, CO_NEWPAIR},
};
static const fault_rule sc_greylist_quiet[] = {
    {P_SINA, ANY, ANY, 0, 0, 1.0, R_GREYLIST_QUIET, CO_NEWPAIR},
};
static const fault_rule sc_rate[] = {
    /* at the busiest hour about 44% of the Netease sessions are refused, at the quietest about 3% */
    {P_NETEASE, ANY, ANY, 0, 0, 0.30, R_NE_HL_ICC, CO_LOAD},
    {P_NETEASE, ANY, ANY, 0, 0, 0.12, R_NE_HL_IFC, CO_LOAD},
    {P_NETEASE, ANY, ANY, 0, 0, 0.10, R_NE_MI_DMC, CO_LOAD},
};
static const fault_rule sc_volume[] = {
    /* the generic 451 4.3.2 after DATA, but as often as the load is high: no throttling words */
    {P_NETEASE, ANY, ANY, 0, 0, 0.45, R_NE_451_432, CO_LOAD},
};
static const fault_rule sc_network[] = {
    {ANY, ROUTE_CN, ANY, 1, 0, 1.0, R_CONN_TIMEOUT, CO_ALL},
};
static const fault_rule sc_auth[] = {
    {P_GOOGLE, ANY, ANY, 0, 0, 0.6, R_G_4726, CO_SENDER},
    {P_GOOGLE, ANY, ANY, 0, 0, 1.0, R_G_5726, CO_SENDER},
    {P_NETEASE, ANY, ANY, 0, 0, 1.0, R_NE_MI_SPF, CO_SENDER},
};
static const fault_rule sc_rcpt[] = {
    {P_NETEASE, ANY, ANY, 0, 0, 1.0, R_NE_UNKNOWN, CO_BADADDR},
    {P_TENCENT, ANY, ANY, 0, 0, 1.0, R_QQ_UNKNOWN, CO_BADADDR},
};
static const fault_rule sc_policy[] = {
    {P_NETEASE, ANY, ANY, 0, 0, 1.0, R_NE_DT_SPM_554, CO_SENDER},
};

static const scenario_t scenarios[] = {
    {"healthy", "realistic background of occasional deferrals and bounces", 0, NULL, 0, PICK_NONE, 0, 0,
     "none", "-", "-"},
    {"netease-receiver-window",
     "a 2-hour window in which every Netease delivery attempt from every sender gets 451 4.3.2 after DATA; "
     "retries after it succeed",
     2.0, sc_netease_window, NELEM(sc_netease_window), PICK_NONE, 0, 0, "receiver_transient", "netease", "-"},
    {"route-fails-netease",
     "route mx2 postfix-cn (203.0.113.21) gets 451 4.3.2 at MAIL FROM on every Netease attempt for the whole "
     "log, so its Netease mail expires (24 h lifetime); other routes' Netease mail is fine",
     0, sc_route_fails, NELEM(sc_route_fails), PICK_NONE, 0, 0, "sender_reputation", "netease",
     "route:postfix-cn/smtp"},
    {"template-fails-after-data",
     "one logged template (5% of every sender's messages use it) gets 451 4.3.2 after DATA at Netease on "
     "every attempt, from every route; the senders' other templates pass",
     0, sc_template, NELEM(sc_template), PICK_TEMPLATE, 0.05, 0, "content", "netease",
     "message_template_id:"},
    {"attachment-fails-after-data",
     "messages with an application/zip attachment (6% of every sender's messages, plus the zip templates) "
     "get 451 4.3.2 after DATA at Netease; every route logs Content-Type",
     0, sc_attach, NELEM(sc_attach), PICK_ATTACH, 0.06, HDR_CTYPE, "content", "netease", "attachment_types:"},
    {"greylisting",
     "Sina (sina.com, sina.cn, vip.sina.com) greylists the first RCPT TO of every new sender/recipient pair "
     "with 450 4.2.0; the retry 5-10 minutes later is accepted",
     0, sc_greylist, NELEM(sc_greylist), PICK_NONE, 0, 0, "greylisting", "sina", "-"},
    {"greylisting-quiet",
     "Sina greylists like the greylisting scenario, but its reply has no greylisting words (450 4.7.1 "
     "... please try again later): the pattern alone must tell",
     0, sc_greylist_quiet, NELEM(sc_greylist_quiet), PICK_NONE, 0, 0, "greylisting", "sina", "-"},
    {"netease-rate-limit",
     "Netease refuses connections (421 HL:ICC, 421 HL:IFC) and MAIL FROM (451 MI:DMC) with a chance that "
     "follows the square of the hourly arrival rate; retries succeed",
     0, sc_rate, NELEM(sc_rate), PICK_NONE, 0, 0, "rate_limit", "netease", "-"},
    {"netease-volume-451",
     "Netease answers the generic 451 4.3.2 after DATA with a chance that follows the square of the hourly "
     "arrival rate (no throttling words in the reply); retries succeed",
     0, sc_volume, NELEM(sc_volume), PICK_NONE, 0, 0, "rate_limit", "netease", "-"},
    {"route-network",
     "route mx2 postfix-cn cannot connect to any receiver (Connection timed out) for 3 hours, then recovers",
     3.0, sc_network, NELEM(sc_network), PICK_NONE, 0, 0, "network", "-", "route:postfix-cn/smtp"},
    {"sender-auth",
     "one bulk envelope sender domain fails authentication: Gmail 421-4.7.26 / 550-5.7.26 (DMARC) and "
     "Netease 550 MI:SPF on all its mail; other senders pass",
     0, sc_auth, NELEM(sc_auth), PICK_SENDER_AUTH, 0, 0, "authentication", "google", "mail_from_domain:"},
    {"recipient-bounces",
     "one sender's list is stale: 30% of its Netease and Tencent recipients do not exist "
     "(550 User not found / 550 Mailbox not found)",
     0, sc_rcpt, NELEM(sc_rcpt), PICK_SENDER_CN, 0.30, 0, "recipient", "netease", "mail_from_domain:"},
    {"policy-block", "Netease refuses all mail of one sender domain after DATA with 554 DT:SPM (permanent)",
     0, sc_policy, NELEM(sc_policy), PICK_SENDER_NETEASE, 0, 0, "policy_block", "netease",
     "mail_from_domain:"},
};
static const scenario_t *scen;
static int sc_sender = -1, sc_tmpl = -1, sc_att = -1; /* the picked cohort */
static char sc_scope[128];                            /* the expect line's scope */

/* arrival intensity by hour of day (UTC), peaks in the Chinese daytime and the European morning */
static const double diurnal[24] = {1.5, 1.6, 1.6, 1.5, 1.3, 1.2, 1.1, 1.2, 1.3, 1.2, 1.0, 0.9,
                                   0.8, 0.9, 1.0, 0.9, 0.7, 0.5, 0.4, 0.4, 0.5, 0.7, 1.0, 1.3};

/* share of a sender's recipients in one category */
static double aud_share(const sender_t *s, int cat)
{
    double t = 0;
    for (int c = 0; c < NCAT; c++)
        t += aud_w[s->audience][c];
    return aud_w[s->audience][cat] / t;
}

/* choose the scenario's cohort from the seed's senders and templates (no random numbers drawn) */
static void pick_cohorts(void)
{
    const char *field = scen->scope;
    size_t fl = strlen(field);
    if (!fl || field[fl - 1] != ':') {
        snprintf(sc_scope, sizeof sc_scope, "%s", field);
        return;
    }
    double best = -1, best_ne = -1;
    int ne = 0;
    for (int i = 0; i < NSENDERS; i++) {
        double w = sender_cum[i] - (i ? sender_cum[i - 1] : 0);
        double v = w * aud_share(&senders[i], C_NETEASE);
        if (v > best_ne) {
            best_ne = v;
            ne = i;
        }
    }
    switch (scen->pick) {
    case PICK_SENDER_NETEASE:
        sc_sender = ne;
        break;
    case PICK_SENDER_CN:
    case PICK_SENDER_AUTH:
        for (int i = 0; i < NSENDERS; i++) {
            const sender_t *s = &senders[i];
            double w = sender_cum[i] - (i ? sender_cum[i - 1] : 0), v;
            if (scen->pick == PICK_SENDER_CN) {
                if (i == ne)
                    continue;
                v = w * (aud_share(s, C_NETEASE) + aud_share(s, C_TENCENT));
            } else {
                if (!s->bulk)
                    continue;
                double a = aud_share(s, C_NETEASE), b = aud_share(s, C_GMAIL);
                v = w * (a < b ? a : b);
            }
            if (v > best) {
                best = v;
                sc_sender = i;
            }
        }
        break;
    case PICK_TEMPLATE:
        for (int i = 0; i < NSENDERS; i++) {
            const sender_t *s = &senders[i];
            double w = sender_cum[i] - (i ? sender_cum[i - 1] : 0);
            if (s->audience != 0 || s->ntpl < 2)
                continue;
            for (int t = s->tpl0; t < s->tpl0 + s->ntpl && t <= ntmpl; t++) {
                double v = w * aud_share(s, C_NETEASE) / s->ntpl;
                if (tmpls[t].has_hdr && tmpls[t].ctype != 2 && v > best) {
                    best = v;
                    sc_tmpl = t;
                }
            }
        }
        break;
    case PICK_ATTACH:
        sc_att = 3; /* ATT_CT[3] */
        break;
    }
    if (sc_sender >= 0) {
        const char *at = strchr(senders[sc_sender].mail_from, '@');
        snprintf(sc_scope, sizeof sc_scope, "%s%s", field, at ? at + 1 : senders[sc_sender].mail_from);
    } else if (sc_tmpl >= 0)
        snprintf(sc_scope, sizeof sc_scope, "%stpl-%d", field, sc_tmpl);
    else if (sc_att >= 0) {
        size_t n = strcspn(ATT_CT[sc_att], ";");
        snprintf(sc_scope, sizeof sc_scope, "%s%.*s", field, (int)n, ATT_CT[sc_att]);
    } else {
        fprintf(stderr, "genlog: scenario %s found no cohort for seed %llu\n", scen->name,
                (unsigned long long)opt_seed);
        exit(2);
    }
}

/* set of (route, sender, recipient) triplets a greylisting receiver has seen */
static u64 *pairs;
static u32 pairs_n, pairs_cap;
static int pair_add(u64 h)
{
    if (!h)
        h = 1;
    if (pairs_n * 2 >= pairs_cap) {
        u32 nc = pairs_cap ? pairs_cap * 2 : 4096;
        u64 *nt = calloc(nc, sizeof(u64));
        if (!nt) {
            perror("genlog");
            exit(1);
        }
        for (u32 i = 0; i < pairs_cap; i++)
            if (pairs[i]) {
                u32 j = (u32)(pairs[i] & (nc - 1));
                while (nt[j])
                    j = (j + 1) & (nc - 1);
                nt[j] = pairs[i];
            }
        free(pairs);
        pairs = nt;
        pairs_cap = nc;
    }
    u32 j = (u32)(h & (pairs_cap - 1));
    while (pairs[j]) {
        if (pairs[j] == h)
            return 0;
        j = (j + 1) & (pairs_cap - 1);
    }
    pairs[j] = h;
    pairs_n++;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Messages and events                                                        */

#define MAXR 10
enum { RS_PENDING, RS_SENT, RS_BOUNCED, RS_EXPIRED };

typedef struct {
    u32 dom, local;
    u16 reply; /* outcome of the current attempt */
    u8 state, grp, tries;
} rcpt_t;

typedef struct {
    i64 end_us, b, c, d;
    u16 mx;       /* MX used for the final status */
    u16 mx_first; /* first MX tried when two timed out (0xffff: none) */
    u8 tls, conn_use, sess_reply, dom_idx_pad;
    u32 pid;
} grp_t;

typedef struct {
    char qid[24];
    u8 qlen, route, nrcpt, is_dsn, ngrp, outstanding, rounds, bounced_round;
    u8 ever_deferred, pflog_deferred_counted, alive, pad;
    u8 ctype, att; /* the template's, or the scenario's attachment */
    u16 sender, tmpl;
    u32 size, inode;
    i64 arrival, round_start;
    rcpt_t r[MAXR];
    grp_t g[MAXR];
} msg_t;

static msg_t *msgs;
static u32 nmsgs_cap, nmsgs_used;
static u32 *msg_free;
static u32 nmsg_free;

static u32 msg_alloc(void)
{
    u32 i;
    if (nmsg_free)
        i = msg_free[--nmsg_free];
    else {
        if (nmsgs_used == nmsgs_cap) {
            nmsgs_cap = nmsgs_cap ? nmsgs_cap * 2 : 4096;
            msgs = realloc(msgs, (size_t)nmsgs_cap * sizeof(msg_t));
            msg_free = realloc(msg_free, (size_t)nmsgs_cap * sizeof(u32));
            if (!msgs || !msg_free) {
                perror("genlog");
                exit(1);
            }
        }
        i = nmsgs_used++;
    }
    memset(&msgs[i], 0, sizeof(msg_t));
    msgs[i].alive = 1;
    return i;
}
static void msg_release(u32 i)
{
    msgs[i].alive = 0;
    msg_free[nmsg_free++] = i;
}

enum { EV_ARRIVAL, EV_ROUND, EV_SESSION_END };
typedef struct {
    i64 t;
    u64 seq;
    u32 type, msg, arg;
} event_t;
static event_t *heap;
static u32 heap_n, heap_cap;
static u64 ev_seq;

static inline int ev_less(const event_t *a, const event_t *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}
static void ev_push(i64 t, u32 type, u32 msg, u32 arg)
{
    if (heap_n == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 4096;
        heap = realloc(heap, (size_t)heap_cap * sizeof(event_t));
        if (!heap) {
            perror("genlog");
            exit(1);
        }
    }
    event_t e = {t, ev_seq++, type, msg, arg};
    u32 i = heap_n++;
    while (i) {
        u32 p = (i - 1) / 2;
        if (!ev_less(&e, &heap[p]))
            break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = e;
}
static event_t ev_pop(void)
{
    event_t top = heap[0], last = heap[--heap_n];
    u32 i = 0;
    for (;;) {
        u32 l = 2 * i + 1, r = l + 1, m = i;
        const event_t *mv = &last;
        if (l < heap_n && ev_less(&heap[l], mv)) {
            m = l;
            mv = &heap[l];
        }
        if (r < heap_n && ev_less(&heap[r], mv)) {
            m = r;
        }
        if (m == i)
            break;
        heap[i] = heap[m];
        i = m;
    }
    if (heap_n)
        heap[i] = last;
    return top;
}

/* ------------------------------------------------------------------------ */
/* Statistics                                                                 */

typedef struct {
    u64 messages, recipients, attempts, sent, deferrals, deferred_messages, bounced;
    u64 expired_messages, expired_recipients, bounce_notifications, dsn_sent, removed;
    u64 lines, noise_lines, tls_field_lines, reused_ids, conn_reuse;
} stats_t;
static stats_t st;
static u64 warm_msgs; /* messages already queued when the log starts (--warmup) */
typedef struct {
    u64 attempts, sent, deferrals, bounced, expired, recipients;
} pstat_t;
static pstat_t pst[NPROV];
/* what pflogsumm can see per syslog name (lines with a Postfix 3.11 tls= field are invisible to it) */
typedef struct {
    u64 received, delivered, deferred, deferrals, bounced;
} pflog_t;
static pflog_t pfl[NSYSLOG];
static u64 stage_def[8];

/* set of queue ids that pflogsumm has seen deferred (pflogsumm counts distinct ids) */
static u64 *qset[NSYSLOG];
static u32 qset_n[NSYSLOG], qset_cap[NSYSLOG];
static int qset_add(int s, const char *qid, int len)
{
    u64 h = 1469598103934665603ULL;
    for (int i = 0; i < len; i++)
        h = (h ^ (u8)qid[i]) * 1099511628211ULL;
    if (!h)
        h = 1;
    if (qset_n[s] * 2 >= qset_cap[s]) {
        u32 nc = qset_cap[s] ? qset_cap[s] * 2 : 1024;
        u64 *nt = calloc(nc, sizeof(u64));
        if (!nt) {
            perror("genlog");
            exit(1);
        }
        for (u32 i = 0; i < qset_cap[s]; i++)
            if (qset[s][i]) {
                u32 j = (u32)(qset[s][i] & (nc - 1));
                while (nt[j])
                    j = (j + 1) & (nc - 1);
                nt[j] = qset[s][i];
            }
        free(qset[s]);
        qset[s] = nt;
        qset_cap[s] = nc;
    }
    u32 j = (u32)(h & (qset_cap[s] - 1));
    while (qset[s][j]) {
        if (qset[s][j] == h)
            return 0;
        j = (j + 1) & (qset_cap[s] - 1);
    }
    qset[s][j] = h;
    qset_n[s]++;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* --format exim: the same mail flow as Exim's mainlog would tell it          */
/*
 * Each finished Postfix line is rewritten in place into the Exim line that
 * says the same, or dropped when Exim writes none:
 *   cleanup message-id=<X>               remembered for the arrival (id=X)
 *   qmgr from=<S>, size=N (first time)   ID <= S H=app.internal [10.10.0.11] P=esmtp S=N id=X
 *   smtp status=sent (250 …)             ID => R R=dnslookup T=<instance> H=mx [ip] I=[sending ip] C="250 …"
 * QT=… (deliveries only) smtp status=deferred (host … said: 451 … (in reply to end of DATA command)) ID == R
 * R=… T=… defer
 * (-46) H=mx [ip] I=[…]: SMTP error from remote mail server after end of data: 451 … smtp status=bounced ID
 * ** R … (same shape) connect to …: Connection timed out   ID == R … defer (110) H=mx [ip]: Connection timed
 * out lost connection … while sending X    ID == R … defer (-18) H=mx [ip]: Remote host closed connection in
 *                                        response to X
 *   qmgr removed                         ID Completed
 * Everything else (smtpd, pickup, bounce notices, other programs' noise,
 * Postfix's per-message expiry notice) is dropped.  The Exim id is a hash
 * of host and queue id in Exim's 6-6-2 base-62 form.
 */
static size_t line_start, body_start; /* --format exim: the line being written */
static int line_host;
static const char *line_prog, *line_daemon;
static int exim_line(void);

typedef struct {
    u64 key;
    char msgid[120];
    char from[96];
    int arrived;
} exim_msg_t;
#define EXIM_TAB (1u << 18)
static exim_msg_t *exim_tab;
static char exim_tmp[70000];

static exim_msg_t *exim_slot(u64 key, int create)
{
    if (exim_tab == NULL)
        exim_tab = calloc(EXIM_TAB, sizeof *exim_tab);
    exim_msg_t *e = &exim_tab[key & (EXIM_TAB - 1)];
    if (e->key != key) {
        if (!create)
            return NULL;
        memset(e, 0, sizeof *e); /* direct-mapped: a collision forgets the older message's id */
        e->key = key;
    }
    return e;
}

static size_t exim_put(size_t k, const char *p, size_t n)
{
    if (k + n < sizeof exim_tmp) {
        memcpy(exim_tmp + k, p, n);
        k += n;
    }
    return k;
}
#define EXIM_PS(k, str) exim_put((k), (str), strlen(str))

static const char *exim_find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; p + n <= end; p++)
        if (*p == needle[0] && memcmp(p, needle, n) == 0)
            return p;
    return NULL;
}

/* ": X[IP]" -> "H=X [IP]" */
static size_t exim_host(size_t k, const char *h, const char *end)
{
    const char *lb = memchr(h, '[', (size_t)(end - h));
    const char *rb = lb ? memchr(lb, ']', (size_t)(end - lb)) : NULL;
    if (!lb || !rb)
        return k;
    k = EXIM_PS(k, " H=");
    k = exim_put(k, h, (size_t)(lb - h));
    k = EXIM_PS(k, " ");
    return exim_put(k, lb, (size_t)(rb - lb + 1));
}

static int exim_line(void)
{
    const char *b = obuf + body_start, *end = obuf + opos;
    const char *c = memchr(b, ':', (size_t)(end - b));
    if (c == NULL || c + 2 > end || c[1] != ' ' || line_daemon == NULL) {
        opos = line_start;
        return 0;
    }
    u64 key = hash64(((u64)line_host << 56) ^ hash64(0x5bd1e995ULL));
    for (const char *q = b; q < c; q++)
        key = hash64(key ^ (u8)*q);
    const char *rest = c + 2;
    size_t rn = (size_t)(end - rest);
    size_t k = 0;
    char id[17];
    static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    u64 h = hash64(key);
    for (int i = 0; i < 16; i++) {
        if (i == 6 || i == 13) {
            id[i] = '-';
            continue;
        }
        id[i] = al[h % 62];
        h /= 62;
        if (h == 0)
            h = hash64(key + (u64)i);
    }
    id[16] = 0;
    int keep = 0;
    if (!strcmp(line_daemon, "cleanup") && rn > 12 && !memcmp(rest, "message-id=<", 12)) {
        exim_msg_t *e = exim_slot(key, 1);
        size_t l = rn - 13 < sizeof e->msgid - 1 ? rn - 13 : sizeof e->msgid - 1;
        memcpy(e->msgid, rest + 12, l);
        e->msgid[l] = 0;
        e->arrived = 0;
    } else if (!strcmp(line_daemon, "qmgr") && rn == 7 && !memcmp(rest, "removed", 7)) {
        k = exim_put(k, id, 16);
        k = EXIM_PS(k, " Completed");
        exim_msg_t *e = exim_slot(key, 0);
        if (e)
            e->key = 0;
        keep = 1;
    } else if (!strcmp(line_daemon, "qmgr") && rn > 6 && !memcmp(rest, "from=<", 6) &&
               exim_find(rest, end, ", size=")) {
        exim_msg_t *e = exim_slot(key, 1);
        if (!e->arrived) {
            e->arrived = 1;
            const char *gt = memchr(rest + 6, '>', rn - 6);
            const char *sz = exim_find(rest, end, ", size=");
            size_t fl = gt ? (size_t)(gt - rest - 6) : 0;
            if (fl >= sizeof e->from)
                fl = sizeof e->from - 1;
            memcpy(e->from, rest + 6, fl);
            e->from[fl] = 0;
            k = exim_put(k, id, 16);
            k = EXIM_PS(k, " <= ");
            k = fl ? exim_put(k, rest + 6, fl) : EXIM_PS(k, "<>");
            k = EXIM_PS(k, " H=app.internal [10.10.0.11] P=esmtp S=");
            const char *v = sz + 7, *ve = v;
            while (ve < end && *ve >= '0' && *ve <= '9')
                ve++;
            k = exim_put(k, v, (size_t)(ve - v));
            if (e->msgid[0]) {
                k = EXIM_PS(k, " id=");
                k = EXIM_PS(k, e->msgid);
            }
            keep = 1;
        }
    } else if (!strcmp(line_daemon, "smtp") && rn > 4 && !memcmp(rest, "to=<", 4)) {
        const char *gt = memchr(rest + 4, '>', rn - 4);
        const char *st_ = exim_find(rest, end, ", status=");
        const char *relay = exim_find(rest, end, ", relay=");
        const char *dl = exim_find(rest, end, ", delay=");
        if (gt && st_) {
            const char *w = st_ + 9, *we = w;
            while (we < end && *we != ' ')
                we++;
            const char *reason = we + 2 < end && we[1] == '(' ? we + 2 : NULL;
            const char *rend = end;
            if (reason && rend[-1] == ')')
                rend--;
            int sent = we - w == 4 && !memcmp(w, "sent", 4);
            int bounced = we - w == 7 && !memcmp(w, "bounced", 7);
            k = exim_put(k, id, 16);
            k = EXIM_PS(k, sent ? " => " : bounced ? " ** " : " == ");
            k = exim_put(k, rest + 4, (size_t)(gt - rest - 4));
            k = EXIM_PS(k, " R=dnslookup T=");
            k = EXIM_PS(k, line_prog);
            const char *sip = NULL;
            for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
                if (routes[i].host == line_host && !strcmp(syslog_names[routes[i].sname], line_prog))
                    sip = routes[i].ip;
            if (sent) {
                if (relay)
                    k = exim_host(k, relay + 8, end);
                if (sip) {
                    k = EXIM_PS(k, " I=[");
                    k = EXIM_PS(k, sip);
                    k = EXIM_PS(k, "]");
                }
                if (reason) {
                    k = EXIM_PS(k, " C=\"");
                    for (const char *q = reason; q < rend; q++)
                        k = *q == '"' ? EXIM_PS(k, "\\\"") : exim_put(k, q, 1);
                    k = EXIM_PS(k, "\"");
                }
            } else if (reason && exim_find(reason, rend, "host ") == reason &&
                       exim_find(reason, rend, " said: ")) {
                const char *said = exim_find(reason, rend, " said: ");
                const char *irt = NULL;
                for (const char *q = said; (q = exim_find(q, rend, " (in reply to ")) != NULL; q++)
                    irt = q;
                if (!bounced)
                    k = EXIM_PS(k, " defer (-46)");
                k = exim_host(k, reason + 5, said);
                if (sip) {
                    k = EXIM_PS(k, " I=[");
                    k = EXIM_PS(k, sip);
                    k = EXIM_PS(k, "]");
                }
                k = EXIM_PS(k, ": SMTP error from remote mail server after ");
                const char *cmd = irt ? irt + 14 : NULL;
                exim_msg_t *e = exim_slot(key, 0);
                if (cmd && exim_find(cmd, rend, "end of DATA") == cmd)
                    k = EXIM_PS(k, "end of data");
                else if (cmd && exim_find(cmd, rend, "RCPT TO") == cmd) {
                    k = EXIM_PS(k, "RCPT TO:<");
                    k = exim_put(k, rest + 4, (size_t)(gt - rest - 4));
                    k = EXIM_PS(k, ">");
                } else if (cmd && exim_find(cmd, rend, "MAIL FROM") == cmd) {
                    k = EXIM_PS(k, "MAIL FROM:<");
                    k = EXIM_PS(k, e ? e->from : "");
                    k = EXIM_PS(k, ">");
                } else if (cmd && exim_find(cmd, rend, "DATA") == cmd)
                    k = EXIM_PS(k, "DATA");
                else
                    k = EXIM_PS(k, "initial connection");
                k = EXIM_PS(k, ": ");
                k = exim_put(k, said + 7, (size_t)((irt ? irt : rend) - said - 7));
            } else if (reason && exim_find(reason, rend, "host ") == reason &&
                       exim_find(reason, rend, " refused to talk to me: ")) {
                const char *rt = exim_find(reason, rend, " refused to talk to me: ");
                if (!bounced)
                    k = EXIM_PS(k, " defer (-46)");
                k = exim_host(k, reason + 5, rt);
                k = EXIM_PS(k, ": SMTP error from remote mail server after initial connection: ");
                k = exim_put(k, rt + 24, (size_t)(rend - rt - 24));
            } else if (reason && exim_find(reason, rend, "connect to ") == reason) {
                const char *colon = exim_find(reason + 11, rend, ": ");
                k = EXIM_PS(k, bounced ? "" : " defer (110)");
                k = exim_host(k, reason + 11, colon ? colon : rend);
                k = EXIM_PS(k, ": ");
                if (colon)
                    k = exim_put(k, colon + 2, (size_t)(rend - colon - 2));
            } else if (reason && exim_find(reason, rend, "lost connection with ") == reason) {
                const char *wh = exim_find(reason, rend, " while sending ");
                const char *wr = exim_find(reason, rend, " while receiving ");
                k = EXIM_PS(k, bounced ? "" : " defer (-18)");
                k = exim_host(k, reason + 21, wh ? wh : wr ? wr : rend);
                k = EXIM_PS(k, ": Remote host closed connection in response to ");
                if (wh && exim_find(wh + 15, rend, "RCPT TO") == wh + 15) {
                    k = EXIM_PS(k, "RCPT TO:<");
                    k = exim_put(k, rest + 4, (size_t)(gt - rest - 4));
                    k = EXIM_PS(k, ">");
                } else if (wh)
                    k = exim_put(k, wh + 15, (size_t)(rend - wh - 15));
                else
                    k = EXIM_PS(k, "initial connection");
            } else {
                k = EXIM_PS(k, bounced ? " :" : " defer (-1):");
                if (reason) {
                    k = EXIM_PS(k, " ");
                    k = exim_put(k, reason, (size_t)(rend - reason));
                }
            }
            if (dl && sent) { /* Exim logs QT= on deliveries only (deliver.c) */
                const char *v = dl + 8, *ve = v;
                while (ve < end && ((*ve >= '0' && *ve <= '9') || *ve == '.'))
                    ve++;
                k = EXIM_PS(k, " QT=");
                k = exim_put(k, v, (size_t)(ve - v));
                k = EXIM_PS(k, "s");
            }
            keep = 1;
        }
    }
    if (!keep) {
        opos = line_start;
        return 0;
    }
    /* the stamp stays; the rest becomes the Exim line */
    opos = line_start + 19;
    PC(' ');
    P(exim_tmp, k);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Line helpers                                                               */

static int in_noise;
static void emit_noise(i64 t);

static void line_begin(i64 t, int host, const char *prog, const char *daemon, u32 pid)
{
    if (opos > OBUF_CAP - 16384)
        out_flush();
    line_start = opos;
    line_host = host;
    line_prog = prog;
    line_daemon = daemon;
    put_ts(t);
    PC(' ');
    PS(host_name[host]);
    PC(' ');
    PS(prog);
    if (daemon) {
        PC('/');
        PS(daemon);
    }
    if (pid) {
        PC('[');
        PU(pid);
        PC(']');
    }
    P(": ", 2);
    body_start = opos;
}
static void line_end_core(void)
{
    if (opt_format == FMT_EXIM && !exim_line())
        return; /* no Exim counterpart */
    PC('\n');
    st.lines++;
    if (in_noise)
        return;
    /* keep noise at about one line in four */
    double p = (st.noise_lines * 3 < st.lines - st.noise_lines) ? 0.55 : 0.15;
    if (rng_unit(&RN) < p)
        emit_noise(last_t);
}
static void line_end_noise(void)
{
    if (opt_format == FMT_EXIM && !exim_line())
        return;
    PC('\n');
    st.lines++;
    st.noise_lines++;
}

static void pf_begin(i64 t, const route_t *r, const char *daemon, u32 pid)
{
    line_begin(t, r->host, syslog_names[opt_one_name ? 0 : r->sname], daemon, pid);
}
static void put_qid(const msg_t *m)
{
    P(m->qid, m->qlen);
    P(": ", 2);
}

static void put_token(rng_t *r, int n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < n; i++)
        PC(al[rng_below(r, 62)]);
}

/* expand a reply text */
static u32 last_n; /* %N, for %n */
static void put_reply_text(const char *s, const msg_t *m, const rcpt_t *rc, const mx_t *mx, i64 t)
{
    for (; *s; s++) {
        if (*s != '%') {
            PC(*s);
            continue;
        }
        switch (*++s) {
        case 'H':
            PS(mx->host);
            break;
        case 'h': {
            const char *q = mx->host;
            while (*q && *q != '.')
                PC(*q++);
            break;
        }
        case 'I':
            PS(mx->ip);
            break;
        case 'S':
            PS(routes[m->route].ip);
            break;
        case 'R':
            put_rcpt(rc->dom, rc->local);
            break;
        case 'D':
            PS(doms[rc->dom].name);
            break;
        case 'T':
            PU((u64)(t / SEC));
            break;
        case 'Q':
            put_token(&RT, 24);
            break;
        case 'X':
            PHEX(rng_next(&RT) & 0xffffffffffffULL, 12, 1);
            break;
        case 'G': /* Gmail trace id */
            PC((char)('a' + rng_below(&RT, 26)));
            PHEX(rng_next(&RT) & 0xffffffffffULL, 10, 0);
            PS("si");
            PU(1000000 + rng_below(&RT, 8999999));
            put_token(&RT, 3);
            PC('.');
            PU(rng_below(&RT, 400));
            break;
        case 'Z': {
            char b[32];
            fmt_iso(b, sizeof b, t);
            b[19] = 0;
            PS(b);
            PC('.');
            PU0(rng_below(&RT, 10000000), 7);
            PC('Z');
            break;
        }
        case 'N':
            last_n = rng_below(&RT, 100);
            PU0(last_n, 2);
            break;
        case 'n':
            PU0(last_n, 2);
            break;
        case 'F': {
            const char *at = strchr(senders[m->sender].mail_from, '@');
            PS(at ? at + 1 : senders[m->sender].mail_from);
            break;
        }
        case 'B':
            PS(senders[m->sender].domain);
            break;
        case '%':
            PC('%');
            break;
        default:
            PC('%');
            PC(*s);
            break;
        }
    }
}

static void put_success(const msg_t *m, const rcpt_t *rc, i64 t)
{
    int p = doms[rc->dom].prov;
    (void)m;
    switch (p) {
    case P_NETEASE:
        PS("250 Mail OK queued as mx");
        PU0(rng_below(&RT, 40), 2);
        PC(',');
        put_token(&RT, 26);
        PS("--.");
        PU(rng_below(&RT, 60000));
        PS("S2 ");
        PU((u64)(t / SEC));
        break;
    case P_TENCENT:
        PS("250 OK: queued as.");
        break;
    case P_GOOGLE:
        PS("250 2.0.0 OK  ");
        PU((u64)(t / SEC));
        PC(' ');
        put_reply_text("%G - gsmtp", m, rc, &mxs[0], t);
        break;
    case P_MICROSOFT:
        PS("250 2.6.0 <");
        PHEX(rng_next(&RT), 16, 0);
        PC('@');
        PS(senders[m->sender].domain);
        PS("> [InternalId=");
        PU(rng_next(&RT) % 100000000000000ULL);
        PS(", Hostname=");
        put_token(&RT, 14);
        PS(".namprd12.prod.outlook.com] ");
        PU(m->size + 2000 + rng_below(&RT, 3000));
        PS(" bytes in 0.");
        PU0(rng_below(&RT, 1000), 3);
        PS(", ");
        PU(rng_below(&RT, 9000));
        PC('.');
        PU0(rng_below(&RT, 1000), 3);
        PS(" KB/sec Queued mail for delivery");
        break;
    case P_YAHOO:
        PS("250 ok dirdel");
        break;
    case P_SINA:
        PS("250 ok queue id ");
        PU(rng_next(&RT) % 10000000000000ULL);
        break;
    default:
        PS("250 2.0.0 Ok: queued as ");
        PHEX(rng_next(&RT) & 0xFFFFFFFFFFULL, 10, 1);
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Queue ids                                                                  */

static const char LQ_ALPHA[] =
    "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy"; /* 51 symbols, no vowels, no z */

static void make_qid(msg_t *m, i64 t)
{
    route_t *r = &routes[m->route];
    m->inode = inode_alloc(r);
    char *q = m->qid;
    int n = 0;
    if (!r->long_ids) {
        if (r->nrecent && rng_below(&R, 1500) == 0) {
            /* a short id comes back once its old holder was removed (same inode, same microseconds) */
            const char *old = r->recent_short[rng_below(&R, (u32)r->nrecent)];
            int inflight = 0;
            for (u32 i = 0; i < nmsgs_used && !inflight; i++)
                if (msgs[i].alive && msgs[i].route == m->route && !strcmp(msgs[i].qid, old))
                    inflight = 1;
            if (!inflight) {
                n = (int)strlen(old);
                memcpy(q, old, (size_t)n + 1);
                m->qlen = (u8)n;
                st.reused_ids++;
                return;
            }
        }
        static const char hx[] = "0123456789ABCDEF";
        u32 us = (u32)(t % SEC);
        for (int i = 4; i >= 0; i--)
            q[n++] = hx[(us >> (4 * i)) & 15];
        char tmp[12];
        int k = 0;
        u32 ino = m->inode;
        do {
            tmp[k++] = hx[ino & 15];
            ino >>= 4;
        } while (ino);
        while (k)
            q[n++] = tmp[--k];
    } else {
        u64 sec = (u64)(t / SEC), us = (u64)(t % SEC);
        char tmp[16];
        int k;
        for (k = 0; k < 6; k++) {
            tmp[k] = LQ_ALPHA[sec % 51];
            sec /= 51;
        }
        while (k)
            q[n++] = tmp[--k];
        for (k = 0; k < 4; k++) {
            tmp[k] = LQ_ALPHA[us % 51];
            us /= 51;
        }
        while (k)
            q[n++] = tmp[--k];
        q[n++] = 'z';
        u32 ino = m->inode;
        k = 0;
        do {
            tmp[k++] = LQ_ALPHA[ino % 51];
            ino /= 51;
        } while (ino);
        while (k)
            q[n++] = tmp[--k];
    }
    q[n] = 0;
    m->qlen = (u8)n;
}

static void remember_short(route_t *r, const msg_t *m)
{
    if (r->long_ids)
        return;
    int k = r->nrecent < 8 ? r->nrecent++ : (int)rng_below(&RT, 8);
    memcpy(r->recent_short[k], m->qid, (size_t)m->qlen + 1);
}

/* ------------------------------------------------------------------------ */
/* Message life cycle                                                         */

static void start_round(u32 mi, i64 t, int emit_qmgr);

static void put_msgid(const msg_t *m)
{
    const sender_t *s = &senders[m->sender];
    PC('<');
    switch (rng_below(&RT, 3)) {
    case 0:
        PHEX(rng_next(&RT), 16, 0);
        PC('.');
        PU((u64)(m->arrival / SEC));
        PC('@');
        PS(s->domain);
        break;
    case 1: {
        u64 a = rng_next(&RT), b = rng_next(&RT);
        PHEX(a >> 32, 8, 0);
        PC('-');
        PHEX((a >> 16) & 0xffff, 4, 0);
        PC('-');
        PHEX(0x4000 | (a & 0x0fff), 4, 0);
        PC('-');
        PHEX(0x8000 | (b >> 50), 4, 0);
        PC('-');
        PHEX(b & 0xffffffffffffULL, 12, 0);
        PC('@');
        PS(s->domain);
        break;
    }
    default:
        PU(1000000 + rng_below(&RT, 9000000));
        PC('.');
        PU(rng_below(&RT, 1000));
        PC('.');
        PU((u64)(m->arrival / 1000));
        PS(".JavaMail.app@app");
        PU(1 + m->sender % 6);
        PS(".internal");
        break;
    }
    PC('>');
}

static void emit_arrival(i64 t)
{
    u32 mi = msg_alloc();
    msg_t *m = &msgs[mi];
    int si = pick_cum(sender_cum, NSENDERS, rng_unit(&R));
    const sender_t *s = &senders[si];
    m->sender = (u16)si;
    m->route = (u8)s->route;
    m->tmpl = (u16)(s->tpl0 + (int)rng_below(&R, (u32)s->ntpl));
    if (scen->pick == PICK_TEMPLATE && rng_unit(&R) < scen->share)
        m->tmpl = (u16)sc_tmpl;
    const tmpl_t *tp = &tmpls[m->tmpl];
    m->size = (u32)(tp->size * (0.9 + 0.2 * rng_unit(&R)));
    m->ctype = tp->ctype;
    m->att = tp->att;
    if (scen->pick == PICK_ATTACH && rng_unit(&R) < scen->share) {
        m->ctype = 2;
        m->att = (u8)sc_att;
        m->size += (u32)(60000 + rng_unit(&R) * rng_unit(&R) * 1500000);
    }
    double u = rng_unit(&R);
    m->nrcpt = (u8)(u < 0.86 ? 1 : u < 0.96 ? 2 + rng_below(&R, 2) : 4 + rng_below(&R, MAXR - 3));
    for (int i = 0; i < m->nrcpt; i++) {
        rcpt_t *rc = &m->r[i];
        rc->dom = (u32)pick_domain(s->audience);
        rc->local = rng_below(&R, doms[rc->dom].universe);
        if (scen->pick == PICK_SENDER_CN && si == sc_sender &&
            (doms[rc->dom].prov == P_NETEASE || doms[rc->dom].prov == P_TENCENT) &&
            rng_unit(&R) < scen->share) /* a stale address: beyond the domain's live mailboxes */
            rc->local = doms[rc->dom].universe + rng_below(&R, doms[rc->dom].universe);
        rc->state = RS_PENDING;
        pst[doms[rc->dom].prov].recipients++;
    }
    m->arrival = t;
    make_qid(m, t);
    route_t *r = &routes[m->route];
    st.messages++;
    st.recipients += m->nrcpt;

    int via_smtpd = rng_unit(&R) < 0.75;
    int app = 1 + (int)(rng_below(&R, 6));
    u32 smtpd = r->smtpd_pid[rng_below(&R, 4)];
    i64 tt = t;
    if (via_smtpd) {
        pf_begin(tt, r, "smtpd", smtpd);
        PS("connect from app");
        PU((u64)app);
        PS(".internal[10.10.0.");
        PU((u64)(10 + app));
        PC(']');
        line_end_core();
        tt += 1000 + rng_below(&R, 20000);
        pf_begin(tt, r, "smtpd", smtpd);
        put_qid(m);
        PS("client=app");
        PU((u64)app);
        PS(".internal[10.10.0.");
        PU((u64)(10 + app));
        PC(']');
        if (s->sasl) {
            PS(", sasl_method=PLAIN, sasl_username=api-");
            PS(s->domain);
        }
        line_end_core();
        pfl[r->sname].received++;
    } else {
        pf_begin(tt, r, "pickup", r->pickup_pid);
        put_qid(m);
        PS("uid=1001 from=<");
        PS(s->mail_from);
        PC('>');
        line_end_core();
        pfl[r->sname].received++;
    }
    tt += 2000 + rng_below(&R, 30000);
    u32 cpid = r->cleanup_pid[rng_below(&R, 2)];
    pf_begin(tt, r, "cleanup", cpid);
    put_qid(m);
    PS("message-id=");
    put_msgid(m);
    line_end_core();

    /* header_checks / mime_header_checks INFO lines */
#define HDR_TAIL()                                                                                           \
    do {                                                                                                     \
        if (via_smtpd) {                                                                                     \
            PS(" from app");                                                                                 \
            PU((u64)app);                                                                                    \
            PS(".internal[10.10.0.");                                                                        \
            PU((u64)(10 + app));                                                                             \
            PS("]; from=<");                                                                                 \
        } else                                                                                               \
            PS(" from local; from=<");                                                                       \
        PS(s->mail_from);                                                                                    \
        PS("> to=<");                                                                                        \
        put_rcpt(m->r[0].dom, m->r[0].local);                                                                \
        PC('>');                                                                                             \
        if (via_smtpd) {                                                                                     \
            PS(" proto=ESMTP helo=<app");                                                                    \
            PU((u64)app);                                                                                    \
            PS(".internal>");                                                                                \
        }                                                                                                    \
        line_end_core();                                                                                     \
    } while (0)
    int hdr = r->hdr | scen->extra_hdr;
    if ((hdr & HDR_TPL) && tp->has_hdr) {
        pf_begin(tt, r, "cleanup", cpid);
        put_qid(m);
        PS("info: header X-Template-Id: tpl-");
        PU(m->tmpl);
        HDR_TAIL();
    }
    if (hdr & HDR_FROM) {
        pf_begin(tt, r, "cleanup", cpid);
        put_qid(m);
        PS("info: header From: \"");
        PS(s->display);
        PS("\" <");
        PS(s->from_local);
        PC('@');
        PS(s->domain);
        PC('>');
        HDR_TAIL();
    }
    if (hdr & HDR_CTYPE) {
        pf_begin(tt, r, "cleanup", cpid);
        put_qid(m);
        PS("info: header Content-Type: ");
        if (m->ctype == 0)
            PS("text/html; charset=UTF-8");
        else {
            PS(m->ctype == 1 ? "multipart/alternative; boundary=\"----=_Part_"
                             : "multipart/mixed; boundary=\"----=_Part_");
            PU(rng_below(&RT, 100000));
            PC('_');
            PU(rng_below(&RT, 1000000000));
            PC('.');
            PU((u64)(t / 1000));
            PC('"');
        }
        HDR_TAIL();
        if (m->ctype == 2) {
            pf_begin(tt, r, "cleanup", cpid);
            put_qid(m);
            PS("info: header Content-Type: ");
            PS(ATT_CT[m->att]);
            HDR_TAIL();
        }
    }
#undef HDR_TAIL
    /* DKIM signing milter: counts as noise (another program) */
    line_begin(tt, r->host, "opendkim", NULL, 700 + (u32)r->host * 11);
    put_qid(m);
    PS("DKIM-Signature field added (s=s2026, d=");
    PS(s->domain);
    PC(')');
    line_end_noise();

    tt += 5000 + (i64)rng_exp(&R, 120000);
    pf_begin(tt, r, "qmgr", r->qmgr_pid);
    put_qid(m);
    PS("from=<");
    PS(s->mail_from);
    PS(">, size=");
    PU(m->size);
    PS(", nrcpt=");
    PU(m->nrcpt);
    PS(" (queue active)");
    line_end_core();
    if (via_smtpd) {
        pf_begin(tt + 2000, r, "smtpd", smtpd);
        PS("disconnect from app");
        PU((u64)app);
        PS(".internal[10.10.0.");
        PU((u64)(10 + app));
        PS("] ehlo=1 ");
        if (s->sasl)
            PS("auth=1 ");
        PS("mail=1 rcpt=");
        PU(m->nrcpt);
        PS(" data=1 quit=1 commands=");
        PU((u64)(m->nrcpt + 4 + s->sasl));
        line_end_core();
    }
    start_round(mi, tt, 0);
}

/* fault decision for one delivery session */
static int session_fault(const msg_t *m, int dom, i64 t)
{
    const domain_t *d = &doms[dom];
    if (d->dead)
        return R_CONN_TIMEOUT;
    for (int i = 0; i < scen->nrules; i++) {
        const fault_rule *f = &scen->rules[i];
        if (f->prov != ANY && f->prov != d->prov)
            continue;
        if (f->route != ANY && f->route != m->route)
            continue;
        if (f->tmpl != ANY && f->tmpl != m->tmpl)
            continue;
        if (f->in_window && (t < window_start || t >= window_end))
            continue;
        if (f->first_only && m->rounds)
            continue;
        double prob = f->prob;
        switch (f->cohort) {
        case CO_NEWPAIR:
        case CO_BADADDR:
            continue; /* per recipient: rcpt_fault */
        case CO_SENDER:
            if (m->sender != sc_sender)
                continue;
            break;
        case CO_TEMPLATE:
            if (m->tmpl != sc_tmpl)
                continue;
            break;
        case CO_ATTACH:
            if (m->ctype != 2 || m->att != sc_att)
                continue;
            break;
        case CO_LOAD: {
            double l = diurnal[(t / SEC) % 86400 / 3600] / 1.6; /* 1.6: the busiest hour */
            prob *= l * l;
            break;
        }
        }
        if (prob >= 1.0 || rng_unit(&R) < prob)
            return f->reply;
    }
    double u = rng_unit(&R);
    for (int i = 0; i < NBG; i++) {
        if (bg_rules[i].prov != d->prov)
            continue;
        if (u < bg_rules[i].prob)
            return bg_rules[i].reply;
        u -= bg_rules[i].prob;
    }
    return R_OK;
}

/* scenario fault for one recipient of a session that reached RCPT TO, or -1 */
static int rcpt_fault(const msg_t *m, const rcpt_t *rc, i64 t)
{
    const domain_t *d = &doms[rc->dom];
    for (int i = 0; i < scen->nrules; i++) {
        const fault_rule *f = &scen->rules[i];
        if (f->cohort != CO_NEWPAIR && f->cohort != CO_BADADDR)
            continue;
        if (f->prov != ANY && f->prov != d->prov)
            continue;
        if (f->route != ANY && f->route != m->route)
            continue;
        if (f->tmpl != ANY && f->tmpl != m->tmpl)
            continue;
        if (f->in_window && (t < window_start || t >= window_end))
            continue;
        if (f->first_only && m->rounds)
            continue;
        if (f->cohort == CO_BADADDR && rc->local < d->universe)
            continue;
        if (f->cohort == CO_NEWPAIR && !pair_add(hash64(((u64)m->route << 56) ^ ((u64)m->sender << 44) ^
                                                        ((u64)rc->dom << 32) ^ rc->local)))
            continue;
        if (f->prob >= 1.0 || rng_unit(&R) < f->prob)
            return f->reply;
    }
    return -1;
}

static i64 conn_time(int prov)
{
    int far = prov <= P_ALIYUN; /* Chinese providers: longer RTT from the sending hosts */
    return (i64)((far ? 0.35 : 0.08) * SEC + rng_exp(&R, (far ? 0.6 : 0.25) * SEC));
}

static void start_round(u32 mi, i64 t, int emit_qmgr)
{
    msg_t *m = &msgs[mi];
    route_t *r = &routes[m->route];
    m->round_start = t;
    if (emit_qmgr) {
        pf_begin(t, r, "qmgr", r->qmgr_pid);
        put_qid(m);
        if (m->is_dsn)
            PS("from=<>, size=");
        else {
            PS("from=<");
            PS(senders[m->sender].mail_from);
            PS(">, size=");
        }
        PU(m->size);
        PS(", nrcpt=");
        PU(m->nrcpt);
        PS(" (queue active)");
        line_end_core();
    }
    m->ngrp = 0;
    m->bounced_round = 0;
    if (m->is_dsn) {
        grp_t *g = &m->g[0];
        m->r[0].grp = 0;
        g->b = 10000 + (i64)rng_exp(&R, 50000);
        g->c = 2000 + (i64)rng_exp(&R, 20000);
        g->d = 5000 + (i64)rng_exp(&R, 40000);
        g->pid = smtp_pid(r);
        g->end_us = t + g->b + g->c + g->d;
        m->ngrp = 1;
        m->outstanding = 1;
        ev_push(g->end_us, EV_SESSION_END, mi, 0);
        return;
    }
    for (int i = 0; i < m->nrcpt; i++) {
        rcpt_t *rc = &m->r[i];
        if (rc->state != RS_PENDING)
            continue;
        int gi = -1;
        for (int j = 0; j < i; j++)
            if (m->r[j].state == RS_PENDING && m->r[j].dom == rc->dom) {
                gi = m->r[j].grp;
                break;
            }
        if (gi < 0)
            gi = m->ngrp++;
        rc->grp = (u8)gi;
    }
    for (int gi = 0; gi < m->ngrp; gi++) {
        grp_t *g = &m->g[gi];
        int dom = -1, nr = 0;
        for (int i = 0; i < m->nrcpt; i++)
            if (m->r[i].state == RS_PENDING && m->r[i].grp == gi) {
                dom = (int)m->r[i].dom;
                nr++;
            }
        const domain_t *d = &doms[dom];
        int f = session_fault(m, dom, t);
        int stg = replies[f].stage;
        g->sess_reply = (u8)f;
        g->b = 2000 + (i64)rng_exp(&R, 80000);
        g->pid = smtp_pid(r);
        g->mx = (u16)(d->mx0 + (d->nmx > 1 && rng_unit(&R) < 0.2 ? 1 + rng_below(&R, (u32)d->nmx - 1) : 0));
        g->mx_first = 0xffff;
        g->conn_use = 0;
        g->tls = 0;
        if (stg == ST_CONNECT) {
            g->c = 30 * SEC + (i64)rng_exp(&R, 0.05 * SEC);
            if (d->nmx > 1) {
                g->mx_first = d->mx0;
                g->mx = (u16)(d->mx0 + 1);
                g->c += 30 * SEC;
            }
            g->d = 0;
        } else {
            g->c = conn_time(d->prov);
            if (stg != ST_GREETING && d->prov != P_OTHER && rng_unit(&R) < 0.2) {
                g->conn_use = (u8)(2 + rng_below(&R, 9));
                g->c = 1000 + (i64)rng_exp(&R, 5000);
            }
            g->tls = d->tls && stg != ST_GREETING;
            if (stg == ST_GREETING)
                g->d = 0;
            else if (stg == ST_MAIL || stg == ST_LOST_RCPT)
                g->d = 20000 + (i64)rng_exp(&R, 100000);
            else
                g->d = (i64)(0.05 * SEC + rng_exp(&R, 0.15 * SEC) + (double)m->size * 0.9 + nr * 20000.0);
            if (stg == ST_LOST_DATA)
                g->d += 60 * SEC; /* smtp_data_done_timeout-ish stall */
        }
        /* per recipient outcome */
        int accepted = 0, x;
        for (int i = 0; i < m->nrcpt; i++) {
            rcpt_t *rc = &m->r[i];
            if (rc->state != RS_PENDING || rc->grp != gi)
                continue;
            if (stg == ST_CONNECT || stg == ST_GREETING || stg == ST_MAIL || stg == ST_LOST_RCPT)
                rc->reply = (u16)f;
            else if (rcpt_invalid(rc->dom, rc->local))
                rc->reply = (u16)prov_unknown[d->prov];
            else if (rcpt_overquota(rc->dom, rc->local))
                rc->reply = (u16)prov_overquota[d->prov];
            else if (d->greylist && rc->tries == 0 && rng_unit(&R) < 0.9)
                rc->reply = R_GREYLIST;
            else if ((x = rcpt_fault(m, rc, t)) >= 0)
                rc->reply = (u16)x;
            else if (stg == ST_RCPT)
                rc->reply = (u16)f;
            else {
                rc->reply = R_OK;
                accepted++;
            }
        }
        if (accepted && (stg == ST_DATA_END || stg == ST_LOST_DATA))
            for (int i = 0; i < m->nrcpt; i++)
                if (m->r[i].state == RS_PENDING && m->r[i].grp == gi && m->r[i].reply == R_OK)
                    m->r[i].reply = (u16)f;
        if (!accepted && stg != ST_CONNECT && stg != ST_GREETING && stg != ST_MAIL && stg != ST_LOST_RCPT)
            g->d = 20000 + (i64)rng_exp(&R, 80000); /* every RCPT refused: no DATA */
        g->end_us = t + g->b + g->c + g->d;
        ev_push(g->end_us, EV_SESSION_END, mi, (u32)gi);
    }
    m->outstanding = m->ngrp;
}

static void make_dsn(u32 mi, i64 t)
{
    msg_t *m = &msgs[mi];
    route_t *r = &routes[m->route];
    u32 di = msg_alloc();
    m = &msgs[mi]; /* msgs may have moved */
    msg_t *d = &msgs[di];
    d->is_dsn = 1;
    d->route = m->route;
    d->sender = m->sender;
    d->nrcpt = 1;
    d->r[0].state = RS_PENDING;
    d->arrival = t;
    d->size = 2800 + rng_below(&R, 3500);
    make_qid(d, t);
    st.bounce_notifications++;
    u32 cpid = r->cleanup_pid[rng_below(&R, 2)];
    pf_begin(t, r, "cleanup", cpid);
    put_qid(d);
    PS("message-id=<");
    {
        char b[32];
        fmt_iso(b, sizeof b, t);
        /* YYYYMMDDhhmmss */
        char c[16] = {b[0],  b[1],  b[2],  b[3],  b[5],  b[6],  b[8], b[9],
                      b[11], b[12], b[14], b[15], b[17], b[18], 0,    0};
        PS(c);
    }
    PC('.');
    P(d->qid, d->qlen);
    PC('@');
    PS(r->helo);
    PC('>');
    line_end_core();
    pf_begin(t + 300, r, "qmgr", r->qmgr_pid);
    put_qid(d);
    PS("from=<>, size=");
    PU(d->size);
    PS(", nrcpt=1 (queue active)");
    line_end_core();
    pf_begin(t + 600, r, "bounce", r->bounce_pid);
    put_qid(m);
    PS("sender non-delivery notification: ");
    P(d->qid, d->qlen);
    line_end_core();
    start_round(di, t + 600, 0);
}

static void finish_message(u32 mi, i64 t)
{
    msg_t *m = &msgs[mi];
    route_t *r = &routes[m->route];
    pf_begin(t, r, "qmgr", r->qmgr_pid);
    put_qid(m);
    PS("removed");
    line_end_core();
    st.removed++;
    remember_short(r, m);
    inode_release(r, m->inode);
    msg_release(mi);
}

static void finish_round(u32 mi, i64 t)
{
    msg_t *m = &msgs[mi];
    route_t *r = &routes[m->route];
    m->rounds++;
    if (m->is_dsn) {
        finish_message(mi, t + 200);
        return;
    }
    int pending = 0;
    for (int i = 0; i < m->nrcpt; i++)
        pending += m->r[i].state == RS_PENDING;
    i64 lifetime = opt_lifetime_h > 0 ? (i64)(opt_lifetime_h * 3600 * SEC) : (i64)r->lifetime_h * 3600 * SEC;
    int expire = pending && t - m->arrival >= lifetime;
    if (expire) {
        pf_begin(t, r, "qmgr", r->qmgr_pid);
        put_qid(m);
        PS("from=<");
        PS(senders[m->sender].mail_from);
        PS(">, status=expired, returned to sender");
        line_end_core();
        for (int i = 0; i < m->nrcpt; i++)
            if (m->r[i].state == RS_PENDING) {
                m->r[i].state = RS_EXPIRED;
                pst[doms[m->r[i].dom].prov].expired++;
            }
        st.expired_messages++;
        st.expired_recipients += (u64)pending;
    }
    if (expire || m->bounced_round) {
        make_dsn(mi, t + 100);
        m = &msgs[mi];
    }
    if (!pending || expire) {
        finish_message(mi, t + 1000);
        return;
    }
    /* Postfix backoff: time since arrival, clamped to [minimal_backoff_time, maximal_backoff_time],
     * picked up by the next deferred queue scan (queue_run_delay 300s) */
    i64 age = t - m->arrival, back = age < 300 * SEC ? 300 * SEC : age > 4000 * SEC ? 4000 * SEC : age;
    i64 due = t + back, scan = 300 * SEC;
    i64 next = ((due - r->scan_phase + scan - 1) / scan) * scan + r->scan_phase + (i64)rng_below(&R, 3 * SEC);
    ev_push(next, EV_ROUND, mi, 0);
}

static void put_tls_proto(int prov)
{
    switch (prov) {
    case P_GOOGLE:
        PS("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature "
           "ECDSA (P-256) server-digest SHA256");
        break;
    case P_YAHOO:
        PS("TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519 server-signature "
           "RSA-PSS (2048 bits) server-digest SHA256");
        break;
    case P_MICROSOFT:
    case P_NETEASE:
    case P_SINA:
        PS("TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)");
        break;
    case P_TENCENT:
    case P_SOHU:
        PS("TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)");
        break;
    default:
        PS("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature "
           "RSA-PSS (2048 bits) server-digest SHA256");
        break;
    }
}

static void session_end(u32 mi, int gi, i64 t)
{
    msg_t *m = &msgs[mi];
    route_t *r = &routes[m->route];
    grp_t *g = &m->g[gi];
    int sn = r->sname;
    if (m->is_dsn) {
        pf_begin(t, r, "smtp", g->pid);
        put_qid(m);
        PS("to=<");
        PS(senders[m->sender].mail_from);
        PS(">, relay=bounce-in.example.net[192.0.2.25]:25, delay=");
        put_delay(t - m->arrival);
        PS(", delays=");
        put_delay(m->round_start - m->arrival);
        PC('/');
        put_delay(g->b);
        PC('/');
        put_delay(g->c);
        PC('/');
        put_delay(g->d);
        PS(", dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ");
        PHEX(rng_next(&RT) & 0xFFFFFFFFFFULL, 10, 1);
        PC(')');
        line_end_core();
        st.dsn_sent++;
        pfl[sn].delivered++;
        m->r[0].state = RS_SENT;
        if (--m->outstanding == 0)
            finish_round(mi, t);
        return;
    }
    const mx_t *mx = &mxs[g->mx];
    int f = g->sess_reply;
    int dom = -1;
    for (int i = 0; i < m->nrcpt; i++)
        if (m->r[i].state == RS_PENDING && m->r[i].grp == gi) {
            dom = (int)m->r[i].dom;
            break;
        }
    const domain_t *d = &doms[dom];
    int pf311 = opt_tls_field && r->pf311 && g->tls;
    if (g->mx_first != 0xffff) {
        const mx_t *m0 = &mxs[g->mx_first];
        pf_begin(t - 30 * SEC, r, "smtp", g->pid);
        PS("connect to ");
        PS(m0->host);
        PC('[');
        PS(m0->ip);
        PS("]:25: ");
        PS(replies[f].text);
        line_end_core();
    }
    if (g->tls && !g->conn_use) {
        pf_begin(t - g->d, r, "smtp", g->pid);
        PS(d->dane ? "Verified" : d->trusted ? "Trusted" : "Untrusted");
        PS(" TLS connection established to ");
        PS(mx->host);
        PC('[');
        PS(mx->ip);
        PS("]:25: ");
        put_tls_proto(d->prov);
        line_end_core();
    }
    if (g->conn_use)
        st.conn_reuse++;
    for (int i = 0; i < m->nrcpt; i++) {
        rcpt_t *rc = &m->r[i];
        if (rc->state != RS_PENDING || rc->grp != gi)
            continue;
        const reply_t *rp = &replies[rc->reply];
        int rstg = rp->stage;
        pf_begin(t, r, "smtp", g->pid);
        put_qid(m);
        PS("to=<");
        put_rcpt(rc->dom, rc->local);
        PS(">, relay=");
        if (rstg == ST_CONNECT)
            PS("none");
        else {
            PS(mx->host);
            PC('[');
            PS(mx->ip);
            PS("]:25");
        }
        if (g->conn_use) {
            PS(", conn_use=");
            PU(g->conn_use);
        }
        PS(", delay=");
        put_delay(t - m->arrival);
        PS(", delays=");
        put_delay(m->round_start - m->arrival);
        PC('/');
        put_delay(g->b);
        PC('/');
        put_delay(g->c);
        PC('/');
        put_delay(g->d);
        if (pf311) {
            PS(d->dane ? ", tls=dane" : ", tls=may");
            st.tls_field_lines++;
        }
        PS(", dsn=");
        PS(rp->dsn);
        PS(rp->cls == 'S'   ? ", status=sent ("
           : rp->cls == 'D' ? ", status=deferred ("
                            : ", status=bounced (");
        switch (rstg) {
        case ST_NONE:
            put_success(m, rc, t);
            break;
        case ST_CONNECT:
            PS("connect to ");
            PS(mx->host);
            PC('[');
            PS(mx->ip);
            PS("]:25: ");
            PS(rp->text);
            break;
        case ST_GREETING:
            PS("host ");
            PS(mx->host);
            PC('[');
            PS(mx->ip);
            PS("] refused to talk to me: ");
            put_reply_text(rp->text, m, rc, mx, t);
            break;
        case ST_LOST_RCPT:
        case ST_LOST_DATA:
            PS("lost connection with ");
            PS(mx->host);
            PC('[');
            PS(mx->ip);
            PS("] while sending ");
            PS(rp->text);
            break;
        default:
            PS("host ");
            PS(mx->host);
            PC('[');
            PS(mx->ip);
            PS("] said: ");
            put_reply_text(rp->text, m, rc, mx, t);
            PS(rstg == ST_MAIL   ? " (in reply to MAIL FROM command)"
               : rstg == ST_RCPT ? " (in reply to RCPT TO command)"
                                 : " (in reply to end of DATA command)");
            break;
        }
        PC(')');
        line_end_core();
        int vis = !pf311;
        pstat_t *ps = &pst[d->prov];
        st.attempts++;
        ps->attempts++;
        if (rp->cls == 'S') {
            rc->state = RS_SENT;
            st.sent++;
            ps->sent++;
            if (vis)
                pfl[sn].delivered++;
        } else if (rp->cls == 'D') {
            rc->tries++;
            st.deferrals++;
            ps->deferrals++;
            stage_def[rstg]++;
            if (!m->ever_deferred) {
                m->ever_deferred = 1;
                st.deferred_messages++;
            }
            if (vis) {
                pfl[sn].deferrals++;
                if (qset_add(sn, m->qid, m->qlen))
                    pfl[sn].deferred++;
            }
        } else {
            rc->state = RS_BOUNCED;
            st.bounced++;
            ps->bounced++;
            m->bounced_round++;
            if (vis)
                pfl[sn].bounced++;
        }
    }
    if (--m->outstanding == 0)
        finish_round(mi, t);
}

/* ------------------------------------------------------------------------ */
/* Noise: other programs and unrelated Postfix activity                       */

static void noise_ip(char *b, size_t n)
{
    rand_ip(&RN, b, n, 0);
}

static void emit_noise(i64 t)
{
    in_noise = 1;
    int host = (int)rng_below(&RN, NHOSTS);
    u32 k = rng_below(&RN, 100);
    char ip[16];
    noise_ip(ip, sizeof ip);
    u32 pid = 3000 + rng_below(&RN, 60000);
    static const char *users[] = {"ops", "support", "billing", "alice", "bob", "postmaster", "noc", "sales"};
    const char *user = users[rng_below(&RN, NELEM(users))];
    if (k < 14) {
        line_begin(t, host, "amavis", NULL, 2000 + (u32)host);
        PC('(');
        PU0(2000 + (u32)host, 5);
        PC('-');
        PU0(rng_below(&RN, 100), 2);
        PS(") Passed CLEAN {RelayedInbound}, [");
        PS(ip);
        PS("]:");
        PU(1024 + rng_below(&RN, 60000));
        PS(" [");
        PS(ip);
        PS("] <");
        PS(W_FIRST[rng_below(&RN, NELEM(W_FIRST))]);
        PS("@");
        PS(WA[rng_below(&RN, NELEM(WA))]);
        PS("mail.com> -> <");
        PS(user);
        PS("@example.net>, Queue-ID: ");
        PHEX(rng_next(&RN) & 0xFFFFFFFFFFULL, 10, 1);
        PS(", Message-ID: <");
        PHEX(rng_next(&RN), 16, 0);
        PS("@mail.gmail.com>, mail_id: ");
        put_token(&RN, 12);
        PS(", Hits: -");
        PU(rng_below(&RN, 5));
        PC('.');
        PU(rng_below(&RN, 10));
        PS(", size: ");
        PU(2000 + rng_below(&RN, 90000));
        PS(", queued_as: ");
        PHEX(rng_next(&RN) & 0xFFFFFFFFFFULL, 10, 1);
        PS(", ");
        PU(40 + rng_below(&RN, 400));
        PS(" ms");
    } else if (k < 30) {
        line_begin(t, host, "dovecot", NULL, 0);
        switch (rng_below(&RN, 3)) {
        case 0:
            PS("imap-login: Login: user=<");
            PS(user);
            PS("@example.net>, method=PLAIN, rip=");
            PS(ip);
            PS(", lip=10.0.0.");
            PU(5 + (u32)host);
            PS(", mpid=");
            PU(pid);
            PS(", TLS, session=<");
            put_token(&RN, 16);
            PC('>');
            break;
        case 1:
            PS("imap(");
            PS(user);
            PS("@example.net)<");
            PU(pid);
            PS("><");
            put_token(&RN, 16);
            PS(">: Logged out in=");
            PU(rng_below(&RN, 5000));
            PS(" out=");
            PU(rng_below(&RN, 90000));
            PS(" deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0");
            break;
        default:
            PS("lmtp(");
            PS(user);
            PS("@example.net)<");
            PU(pid);
            PS("><");
            put_token(&RN, 22);
            PS(">: msgid=<");
            PHEX(rng_next(&RN), 16, 0);
            PS("@mail.example.org>: saved mail to INBOX");
            break;
        }
    } else if (k < 58) {
        line_begin(t, host, "postfix", "smtpd", pid);
        switch (rng_below(&RN, 6)) {
        case 0:
            PS("connect from unknown[");
            PS(ip);
            PC(']');
            break;
        case 1:
            PS("disconnect from unknown[");
            PS(ip);
            PS("] ehlo=1 auth=0/1 quit=1 commands=2/3");
            break;
        case 2:
            PS("lost connection after AUTH from unknown[");
            PS(ip);
            PC(']');
            break;
        case 3:
            PS("warning: unknown[");
            PS(ip);
            PS("]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
            break;
        case 4: {
            const char *w = WA[rng_below(&RN, NELEM(WA))];
            PS("NOQUEUE: reject: RCPT from unknown[");
            PS(ip);
            PS("]: 554 5.7.1 <info@");
            PS(w);
            PS("-deals.biz>: Relay access denied; from=<spam@");
            PS(ip);
            PS("> to=<info@");
            PS(w);
            PS("-deals.biz> proto=ESMTP helo=<User>");
            break;
        }
        default:
            PS("connect from mail-");
            PS(WB[rng_below(&RN, NELEM(WB))]);
            PS(".outbound.example.org[");
            PS(ip);
            PC(']');
            break;
        }
    } else if (k < 70) {
        line_begin(t, host, "postfix", "postscreen", 900 + (u32)host);
        switch (rng_below(&RN, 3)) {
        case 0:
            PS("CONNECT from [");
            PS(ip);
            PS("]:");
            PU(1024 + rng_below(&RN, 60000));
            PS(" to [203.0.113.");
            PU(2 + (u32)host);
            PS("]:25");
            break;
        case 1:
            PS("PASS OLD [");
            PS(ip);
            PS("]:");
            PU(1024 + rng_below(&RN, 60000));
            break;
        default:
            PS("DNSBL rank ");
            PU(1 + rng_below(&RN, 5));
            PS(" for [");
            PS(ip);
            PS("]:");
            PU(1024 + rng_below(&RN, 60000));
            break;
        }
    } else if (k < 77) {
        line_begin(t, host, "postfix", "anvil", pid);
        PS("statistics: max connection rate ");
        PU(1 + rng_below(&RN, 9));
        PS("/60s for (smtp:");
        PS(ip);
        PS(") at ");
        char b[32];
        fmt_iso(b, sizeof b, t);
        PS(MON[(b[5] - '0') * 10 + b[6] - '0' - 1]);
        PC(' ');
        int day = (b[8] - '0') * 10 + b[9] - '0';
        if (day < 10)
            PC(' ');
        PU((u64)day);
        PC(' ');
        P(b + 11, 8);
    } else if (k < 84) {
        line_begin(t, host, "policyd-spf", NULL, pid);
        PS("prepend Received-SPF: ");
        PS(rng_below(&RN, 4) ? "Pass" : "Softfail");
        PS(" (mailfrom) identity=mailfrom; client-ip=");
        PS(ip);
        PS("; helo=mail.");
        PS(WA[rng_below(&RN, NELEM(WA))]);
        PS(".org; envelope-from=news@");
        PS(WA[rng_below(&RN, NELEM(WA))]);
        PS(".org; receiver=<UNKNOWN>");
    } else if (k < 90) {
        line_begin(t, host, "opendkim", NULL, 700 + (u32)host * 11);
        PHEX(rng_next(&RN) & 0xFFFFFFFFFFULL, 10, 1);
        PS(": ");
        PS(rng_below(&RN, 2) ? "s=google d=" : "no signature data");
        if (!strcmp(obuf + opos - 2, "d=")) {
            PS(WA[rng_below(&RN, NELEM(WA))]);
            PS("mail.com SSL");
        }
    } else if (k < 95) {
        line_begin(t, host, "postfix", "scache", pid);
        PS("statistics: domain lookup hits=");
        PU(rng_below(&RN, 900));
        PS(" miss=");
        PU(rng_below(&RN, 400));
        PS(" success=");
        PU(rng_below(&RN, 100));
        PC('%');
    } else {
        line_begin(t, host, "postfix", "smtpd", pid);
        PS("Anonymous TLS connection established from unknown[");
        PS(ip);
        PS("]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
           "server-signature RSA-PSS (2048 bits) server-digest SHA256");
    }
    line_end_noise();
    in_noise = 0;
}

/* ------------------------------------------------------------------------ */
/* Main                                                                       */

static void usage(FILE *f)
{
    fprintf(f, "usage: genlog [--size MB | --messages N] [--seed S] [--start 2026-11-20T00:00:00Z]\n"
               "              [--format syslog|rfc3339|exim] [--scenario NAME] [--rate MSGS_PER_HOUR]\n"
               "              [--queue-lifetime HOURS] [--window-start HOURS] [--warmup HOURS]\n"
               "              [--tls-field] [--one-syslog-name] > file\n"
               "  --size MB            stop once MB*10^6 bytes are written (log ends mid-flight)\n"
               "  --messages N         N messages arrive, then the queues drain (default 10000)\n"
               "  --rate R             arrivals per hour (default 3000 with --size, N/24 with --messages)\n"
               "  --queue-lifetime H   override every instance's maximal_queue_lifetime\n"
               "  --window-start H     scenario window start, hours after --start (default 35%% of the "
               "arrival span)\n"
               "  --warmup H           simulate H hours before --start without writing them, so the log\n"
               "                       starts mid-flight (lines for queue ids whose arrival is not in it)\n"
               "  --tls-field          host mx3 runs Postfix 3.11: delivery lines carry tls=may|dane\n"
               "  --one-syslog-name    every instance logs as \"postfix\" (pflogsumm then reads all of it)\n"
               "  --list-scenarios     print the scenarios\n"
               "summary of what was generated: key=value lines on stderr\n");
}

static int parse_start(const char *s)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &se) < 3)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    start_us = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se) * SEC;
    return 0;
}

int main(int argc, char **argv)
{
    parse_start("2026-11-20T00:00:00Z");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV()                                                                                              \
    do {                                                                                                     \
        if (!v) {                                                                                            \
            fprintf(stderr, "genlog: %s needs a value\n", a);                                                \
            return 2;                                                                                        \
        }                                                                                                    \
        i++;                                                                                                 \
    } while (0)
        if (!strcmp(a, "--size")) {
            NEEDV();
            opt_size_mb = strtod(v, NULL);
        } else if (!strcmp(a, "--messages")) {
            NEEDV();
            opt_messages = strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--seed")) {
            NEEDV();
            opt_seed = strtoull(v, NULL, 0);
        } else if (!strcmp(a, "--start")) {
            NEEDV();
            if (parse_start(v)) {
                fprintf(stderr, "genlog: bad --start %s\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--format")) {
            NEEDV();
            if (!strcmp(v, "syslog"))
                opt_format = FMT_SYSLOG;
            else if (!strcmp(v, "rfc3339"))
                opt_format = FMT_RFC3339;
            else if (!strcmp(v, "exim"))
                opt_format = FMT_EXIM;
            else {
                fprintf(stderr, "genlog: unknown format %s\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--scenario")) {
            NEEDV();
            opt_scenario = v;
        } else if (!strcmp(a, "--rate")) {
            NEEDV();
            opt_rate = strtod(v, NULL);
        } else if (!strcmp(a, "--queue-lifetime")) {
            NEEDV();
            opt_lifetime_h = strtod(v, NULL);
        } else if (!strcmp(a, "--window-start")) {
            NEEDV();
            opt_window_start_h = strtod(v, NULL);
        } else if (!strcmp(a, "--warmup")) {
            NEEDV();
            opt_warmup_h = strtod(v, NULL);
        } else if (!strcmp(a, "--tls-field"))
            opt_tls_field = 1;
        else if (!strcmp(a, "--one-syslog-name"))
            opt_one_name = 1;
        else if (!strcmp(a, "--list-scenarios")) {
            for (int k = 0; k < NELEM(scenarios); k++)
                printf("%-26s %s\n", scenarios[k].name, scenarios[k].help);
            return 0;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "genlog: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
#undef NEEDV
    }
    if (opt_size_mb > 0 && opt_messages) {
        fprintf(stderr, "genlog: give --size or --messages, not both\n");
        return 2;
    }
    if (opt_size_mb <= 0 && !opt_messages)
        opt_messages = 10000;
    for (int k = 0; k < NELEM(scenarios); k++)
        if (!strcmp(scenarios[k].name, opt_scenario))
            scen = &scenarios[k];
    if (!scen) {
        fprintf(stderr, "genlog: unknown scenario %s (try --list-scenarios)\n", opt_scenario);
        return 2;
    }

    struct timespec ts0, ts1;
    timespec_get(&ts0, TIME_UTC);

    rng_seed(&R, opt_seed);
    rng_seed(&RT, opt_seed ^ 0xA5A5A5A5A5A5A5A5ULL);
    rng_seed(&RN, opt_seed ^ 0x3C3C3C3C3C3C3C3CULL);
    obuf = malloc(OBUF_CAP);
    if (!obuf) {
        perror("genlog");
        return 1;
    }
    build_domains();
    build_senders();
    pick_cohorts();
    init_routes();
    for (int a = 0; a < 2; a++) {
        double c = 0;
        for (int k = 0; k < NCAT; k++) {
            c += aud_w[a][k];
            aud_cum[a][k] = c;
        }
    }

    u64 target = (u64)(opt_size_mb * 1e6);
    double rate = opt_rate > 0 ? opt_rate : opt_messages ? (double)opt_messages / 24.0 : 3000.0;
    if (rate < 1e-3)
        rate = 1e-3;
    double span_h = opt_messages ? (double)opt_messages / rate : (double)target / 2700.0 / rate;
    if (scen->window_hours > 0) {
        double ws = opt_window_start_h >= 0 ? opt_window_start_h : span_h * 0.35;
        if (opt_window_start_h < 0 && ws < 1)
            ws = 1;
        window_start = start_us + (i64)(ws * 3600 * SEC);
        window_end = window_start + (i64)(scen->window_hours * 3600 * SEC);
    }
    double dmax = 0, dsum = 0;
    for (int h = 0; h < 24; h++) {
        dsum += diurnal[h];
        if (diurnal[h] > dmax)
            dmax = diurnal[h];
    }
    double cand_mean = 3600.0 * SEC / (rate * dmax / (dsum / 24));
    i64 sim_start = start_us - (i64)(opt_warmup_h * 3600 * SEC);
    last_t = sim_start;
    muted = opt_warmup_h > 0;

    u64 arrivals = 0;
    ev_push(sim_start + (i64)rng_exp(&R, cand_mean), EV_ARRIVAL, 0, 0);
    while (heap_n) {
        event_t e = ev_pop();
        if (muted && e.t >= start_us) {
            /* end of the warm-up: count from here on; messages still queued stay queued */
            muted = 0;
            opos = 0;
            memset(&st, 0, sizeof st);
            memset(pst, 0, sizeof pst);
            memset(pfl, 0, sizeof pfl);
            memset(stage_def, 0, sizeof stage_def);
            for (int s = 0; s < NSYSLOG; s++) {
                if (qset[s])
                    memset(qset[s], 0, qset_cap[s] * sizeof(u64));
                qset_n[s] = 0;
            }
            for (u32 i = 0; i < nmsgs_used; i++)
                msgs[i].ever_deferred = 0;
            warm_msgs = 0;
            for (u32 i = 0; i < nmsgs_used; i++)
                warm_msgs += msgs[i].alive && !msgs[i].is_dsn;
        }
        switch (e.type) {
        case EV_ARRIVAL: {
            int hour = (int)((e.t / SEC) % 86400 / 3600);
            if (rng_unit(&R) * dmax < diurnal[hour]) {
                emit_arrival(e.t);
                arrivals += !muted;
            }
            if (!opt_messages || arrivals < opt_messages)
                ev_push(e.t + 1 + (i64)rng_exp(&R, cand_mean), EV_ARRIVAL, 0, 0);
            break;
        }
        case EV_ROUND:
            start_round(e.msg, e.t, 1);
            break;
        case EV_SESSION_END:
            session_end(e.msg, (int)e.arg, e.t);
            break;
        }
        if (target && !muted && bytes_total() >= target)
            break;
    }
    out_flush();
    fflush(stdout);
    timespec_get(&ts1, TIME_UTC);
    double el = (double)(ts1.tv_sec - ts0.tv_sec) + (ts1.tv_nsec - ts0.tv_nsec) / 1e9;

    u64 pend_m = 0, pend_r = 0;
    if (muted) {
        fprintf(stderr, "genlog: the warm-up covered the whole run, nothing written\n");
    }
    for (u32 i = 0; i < nmsgs_used; i++) {
        if (!msgs[i].alive || msgs[i].is_dsn)
            continue;
        pend_m++;
        for (int j = 0; j < msgs[i].nrcpt; j++)
            pend_r += msgs[i].r[j].state == RS_PENDING;
    }
    char sb[32], eb[32], wsb[32], web[32];
    fmt_iso(sb, sizeof sb, start_us);
    fmt_iso(eb, sizeof eb, last_t);
    fprintf(stderr,
            "genlog: seed=%llu scenario=%s format=%s start=%s end=%s rate_per_hour=%.1f tls_field=%d\n",
            (unsigned long long)opt_seed, scen->name,
            opt_format == FMT_SYSLOG ? "syslog"
            : opt_format == FMT_EXIM ? "exim"
                                     : "rfc3339",
            sb, eb, rate, opt_tls_field);
    if (window_start >= 0) {
        fmt_iso(wsb, sizeof wsb, window_start);
        fmt_iso(web, sizeof web, window_end);
        fprintf(stderr, "genlog: window_start=%s window_end=%s\n", wsb, web);
    }
#define U(x) ((unsigned long long)(x))
    fprintf(
        stderr,
        "genlog: messages=%llu recipients=%llu attempts=%llu sent=%llu deferrals=%llu deferred_messages=%llu "
        "bounced=%llu expired_messages=%llu expired_recipients=%llu bounce_notifications=%llu dsn_sent=%llu "
        "removed=%llu pending_messages=%llu pending_recipients=%llu\n",
        U(st.messages), U(st.recipients), U(st.attempts), U(st.sent), U(st.deferrals),
        U(st.deferred_messages), U(st.bounced), U(st.expired_messages), U(st.expired_recipients),
        U(st.bounce_notifications), U(st.dsn_sent), U(st.removed), U(pend_m), U(pend_r));
    fprintf(stderr,
            "genlog: lines=%llu noise_lines=%llu bytes=%llu tls_field_lines=%llu reused_queue_ids=%llu "
            "conn_reuse_sessions=%llu queued_at_start=%llu\n",
            U(st.lines), U(st.noise_lines), U(bytes_total()), U(st.tls_field_lines), U(st.reused_ids),
            U(st.conn_reuse), U(warm_msgs));
    fprintf(stderr,
            "genlog: deferrals_by_stage connect=%llu greeting=%llu mail=%llu rcpt=%llu data_end=%llu "
            "lost_rcpt=%llu lost_data=%llu\n",
            U(stage_def[ST_CONNECT]), U(stage_def[ST_GREETING]), U(stage_def[ST_MAIL]), U(stage_def[ST_RCPT]),
            U(stage_def[ST_DATA_END]), U(stage_def[ST_LOST_RCPT]), U(stage_def[ST_LOST_DATA]));
    for (int p = 0; p < NPROV; p++)
        fprintf(stderr,
                "genlog: provider=%s recipients=%llu attempts=%llu sent=%llu deferrals=%llu bounced=%llu "
                "expired=%llu\n",
                prov_name[p], U(pst[p].recipients), U(pst[p].attempts), U(pst[p].sent), U(pst[p].deferrals),
                U(pst[p].bounced), U(pst[p].expired));
    for (int s = 0; s < NSYSLOG; s++)
        fprintf(stderr,
                "genlog: pflogsumm syslog_name=%s received=%llu delivered=%llu deferred=%llu deferrals=%llu "
                "bounced=%llu\n",
                syslog_names[s], U(pfl[s].received), U(pfl[s].delivered), U(pfl[s].deferred),
                U(pfl[s].deferrals), U(pfl[s].bounced));
    fprintf(stderr, "genlog: expect cause=%s provider=%s scope=%s\n", scen->cause, scen->provider, sc_scope);
    if (window_start >= 0)
        fprintf(stderr, "genlog: expect window=%s..%s\n", wsb, web);
    fprintf(stderr, "genlog: elapsed_seconds=%.2f mb_per_second=%.0f\n", el,
            el > 0 ? bytes_total() / 1e6 / el : 0.0);
#undef U
    return 0;
}
