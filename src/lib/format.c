/*
 * format.c - format names and detection.
 *
 * Detection reads the first non-empty lines: a JSON object line is KumoMTA
 * (its "type" is a KumoMTA record type) or a generic NDJSON export (SPEC §3
 * keys); a CSV header row is PowerMTA accounting (type, timeLogged,
 * dsnStatus…) or a generic export (SPEC §3 names); SMTP dialogue markers
 * are a transcript; otherwise the line parsers vote: the first line that
 * either the Postfix or the Exim reader recognises decides.
 */
#include "format.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "reader_exim.h"
#include "reader_postfix.h"
#include "reader_record.h"
#include "record.h"
#include "timeparse.h"

static const char *const names[MT_FORMAT_COUNT] = {
    "auto", "postfix", "exim", "pmta", "kumo", "csv", "ndjson", "transcript", "opensmtpd", "haraka",
};

const char mt_format_names[] = "postfix, exim, pmta, kumo, csv, ndjson, transcript, opensmtpd, haraka";

const char *mt_format_name(mt_format f)
{
    return f >= 0 && f < MT_FORMAT_COUNT ? names[f] : "auto";
}

int mt_format_from_name(const char *name)
{
    for (int i = 0; i < MT_FORMAT_COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    if (strcmp(name, "powermta") == 0)
        return MT_FORMAT_PMTA;
    if (strcmp(name, "kumomta") == 0)
        return MT_FORMAT_KUMO;
    return -1;
}

static int is_spec_field(const char *p, size_t n)
{
    for (int i = 0; i < mt_record_nfields; i++)
        if (strlen(mt_record_fields[i]) == n && strncasecmp(mt_record_fields[i], p, n) == 0)
            return 1;
    return 0;
}

static const char *const kumo_types[] = {"Reception", "Delivery",   "TransientFailure",
                                         "Bounce",    "Expiration", "AdminBounce",
                                         "Feedback",  "Rejection",  NULL};

static mt_format detect_json(const char *line, size_t n)
{
    json_error_t e;
    json_t *o = json_loadb(line, n, JSON_DISABLE_EOF_CHECK, &e);
    mt_format f = MT_FORMAT_AUTO;
    if (json_is_object(o)) {
        const char *type = json_string_value(json_object_get(o, "type"));
        int kumo = 0;
        for (int i = 0; type && kumo_types[i]; i++)
            if (strcmp(type, kumo_types[i]) == 0)
                kumo = 1;
        if (kumo &&
            (json_object_get(o, "queue") || json_object_get(o, "response") || json_object_get(o, "id")))
            f = MT_FORMAT_KUMO;
        else {
            int spec = 0;
            const char *key;
            json_t *v;
            json_object_foreach(o, key, v)
            {
                (void)v;
                spec += is_spec_field(key, strlen(key));
            }
            if (spec >= 2)
                f = MT_FORMAT_NDJSON;
        }
    }
    json_decref(o);
    return f;
}

static mt_format detect_csv_header(const char *line, size_t n)
{
    int spec = 0, pmta = 0, cols = 0;
    size_t k = 0;
    while (k <= n) {
        size_t s = k;
        while (k < n && line[k] != ',')
            k++;
        const char *c = line + s;
        size_t cn = k - s;
        while (cn && (c[0] == ' ' || c[0] == '"')) {
            c++;
            cn--;
        }
        while (cn && (c[cn - 1] == ' ' || c[cn - 1] == '"'))
            cn--;
        cols++;
        spec += is_spec_field(c, cn);
        if ((cn == 4 && memcmp(c, "type", 4) == 0) || (cn == 10 && memcmp(c, "timeLogged", 10) == 0) ||
            (cn == 9 && memcmp(c, "dsnStatus", 9) == 0) || (cn == 4 && memcmp(c, "rcpt", 4) == 0) ||
            (cn == 7 && memcmp(c, "dsnDiag", 7) == 0))
            pmta++;
        k++;
    }
    if (cols >= 3 && pmta >= 3)
        return MT_FORMAT_PMTA;
    if (cols >= 2 && spec >= 2)
        return MT_FORMAT_CSV;
    return MT_FORMAT_AUTO;
}

static int transcript_line(const char *l, size_t n)
{
    static const char *const marks[] = {"S: ", "C: ",  "<- ",        "-> ",           " -> ",       "<-  ",
                                        "<~ ", " ~> ", "=== Trying", "=== Connected", "CONNECTED(", NULL};
    for (int i = 0; marks[i]; i++) {
        size_t k = strlen(marks[i]);
        if (n >= k && memcmp(l, marks[i], k) == 0)
            return 1;
    }
    return 0;
}

mt_format mt_format_detect(const char *text, size_t len)
{
    mt_yearctx yc;
    mt_yearctx_init(&yc, 2000, 0);
    mt_pf_line pl;
    size_t pos = 0;
    int seen = 0;
    while (pos < len && seen < 50) {
        const char *l = text + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - l) : len - pos;
        pos += n + 1;
        if (n && l[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        if (seen++ == 0) {
            if (l[0] == '{') {
                mt_format f = detect_json(l, n);
                if (f != MT_FORMAT_AUTO)
                    return f;
            } else if (memchr(l, ',', n)) {
                mt_format f = detect_csv_header(l, n);
                if (f != MT_FORMAT_AUTO)
                    return f;
            }
        }
        if (transcript_line(l, n))
            return MT_FORMAT_TRANSCRIPT;
        const char *sd = memmem(l, n < 80 ? n : 80, " smtpd[", 7);
        if (sd && (memmem(l, n, " mta delivery evpid=", 20) || memmem(l, n, " smtp connected address=", 24) ||
                   memmem(l, n, " smtp message msgid=", 20)))
            return MT_FORMAT_OPENSMTPD;
        if (mt_haraka_probe(l, n))
            return MT_FORMAT_HARAKA;
        if (mt_exim_probe(l, n))
            return MT_FORMAT_EXIM;
        mt_pf_kind k = mt_pf_parse(l, n, &yc, &pl);
        if (k != MT_PF_MALFORMED && k != MT_PF_FOREIGN)
            return MT_FORMAT_POSTFIX;
    }
    return MT_FORMAT_AUTO;
}
