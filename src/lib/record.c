/*
 * record.c - names of the attempt record's enumerations and fields.
 */
#include "record.h"

#include <stdio.h>
#include <string.h>

#include "timeparse.h"

static const char *const stage_names[MT_STAGE_COUNT] = {
    "unknown", "connect", "greeting", "helo", "starttls", "mail", "rcpt", "data", "data_end", "quit",
};

static const char *const category_names[MT_CAT_COUNT] = {
    "none",         "greylisting",  "rate_limit",
    "reputation",   "content",      "authentication",
    "dns",          "policy",       "receiver_internal",
    "mailbox_full", "user_unknown", "mailbox_disabled",
    "network",      "tls",          "size",
    "relay_denied", "expired",      "other",
};

static const char *const status_names[MT_STATUS_COUNT] = {"sent", "deferred", "bounced", "expired"};

static const char *const final_names[MT_FINAL_COUNT] = {"delivered", "deferred", "bounced", "expired"};

const char *const mt_record_fields[] = {
    "timestamp",
    "source",
    "queue_id",
    "message_id",
    "route",
    "sending_ip",
    "helo_name",
    "mail_from_domain",
    "header_from_domain",
    "recipient",
    "recipient_domain",
    "provider",
    "mx_host",
    "mx_ip",
    "smtp_stage",
    "smtp_reply_code",
    "enhanced_status",
    "smtp_reply_text",
    "category",
    "message_template_id",
    "message_size_bytes",
    "attachment_types",
    "retry_count",
    "delay_seconds",
    "final_queue_status",
};
const int mt_record_nfields = (int)(sizeof mt_record_fields / sizeof mt_record_fields[0]);

const char *mt_stage_name(mt_stage s)
{
    return (unsigned)s < MT_STAGE_COUNT ? stage_names[s] : "unknown";
}

const char *mt_category_name(mt_category c)
{
    return (unsigned)c < MT_CAT_COUNT ? category_names[c] : "other";
}

const char *mt_status_name(mt_status s)
{
    return (unsigned)s < MT_STATUS_COUNT ? status_names[s] : "deferred";
}

const char *mt_final_name(mt_final f)
{
    return (unsigned)f < MT_FINAL_COUNT ? final_names[f] : "deferred";
}

static int lookup(const char *const *names, int count, const char *name, size_t n)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
            return i;
    return -1;
}

int mt_category_from_name(const char *name, size_t n)
{
    return lookup(category_names, MT_CAT_COUNT, name, n);
}

int mt_stage_from_name(const char *name, size_t n)
{
    return lookup(stage_names, MT_STAGE_COUNT, name, n);
}

void mt_time_format(int64_t t, int32_t usec, char *out)
{
    int y, mo, d, h, mi, s;
    mt_time_civil(t, &y, &mo, &d, &h, &mi, &s);
    if (usec > 0)
        snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, mo, d, h, mi, s, (int)usec);
    else
        snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
}

void mt_time_minutes(int64_t t, char *out, size_t n)
{
    if (t == 0) {
        snprintf(out, n, "-");
        return;
    }
    char b[40];
    mt_time_format(t, 0, b);
    snprintf(out, n, "%.10s %.5s", b, b + 11);
}
