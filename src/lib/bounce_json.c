/*
 * bounce_json.c - Amazon SES notifications (SNS e-mail): a JSON object in
 * the text of the mail, with the recipients of a Bounce, a Complaint or
 * a Delivery.  jansson parses it; we pick the fields.
 */
#include "bounce_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void copy(char *dst, size_t cap, const char *s)
{
    size_t l = strlen(s);
    if (l >= cap)
        l = cap - 1;
    memcpy(dst, s, l);
    dst[l] = '\0';
}

int mt_bounce_json_scan(const char *t, size_t n, mt_bounce_rcpts *out, int *kind)
{
    const char *a = memchr(t, '{', n);
    if (a == NULL)
        return 0;
    const char *k = strstr(a, "\"notificationType\"");
    const char *k2 = strstr(a, "\"eventType\"");
    if (k == NULL && k2 == NULL)
        return 0;
    /* SNS wraps long lines as "!\n " */
    size_t an = n - (size_t)(a - t), m = 0;
    char *j = mt_xmalloc(an + 1);
    for (size_t i = 0; i < an; i++) {
        if (a[i] == '!' && i + 2 < an && a[i + 1] == '\n' && a[i + 2] == ' ') {
            i += 2;
            continue;
        }
        if (a[i] == '\n')
            continue;
        j[m++] = a[i];
    }
    json_error_t e;
    json_t *root = json_loadb(j, m, JSON_DISABLE_EOF_CHECK, &e);
    free(j);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return 0;
    }
    const char *type = str(root, "notificationType");
    if (type[0] == '\0')
        type = str(root, "eventType");
    int added = 0;
    json_t *list = NULL;
    const char *key = "emailAddress";
    if (strcmp(type, "Bounce") == 0) {
        *kind = 0;
        list = json_object_get(json_object_get(root, "bounce"), "bouncedRecipients");
    } else if (strcmp(type, "Complaint") == 0) {
        *kind = 4;
        list = json_object_get(json_object_get(root, "complaint"), "complainedRecipients");
    } else if (strcmp(type, "Delivery") == 0) {
        *kind = 2;
        list = json_object_get(json_object_get(root, "delivery"), "recipients");
        key = NULL;
    }
    json_t *delivery = json_object_get(root, "delivery");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        mt_bounce_rcpt *r = mt_bounce_rcpts_add(out);
        added++;
        if (key == NULL) {
            copy(r->addr, sizeof r->addr, json_is_string(v) ? json_string_value(v) : "");
            copy(r->action, sizeof r->action, "delivered");
            copy(r->status, sizeof r->status, "2.6.0");
            const char *sr = str(delivery, "smtpResponse");
            mt_buf_puts(&r->diag, sr);
            copy(r->remote_mta, sizeof r->remote_mta, str(delivery, "reportingMTA"));
            continue;
        }
        copy(r->addr, sizeof r->addr, str(v, key));
        copy(r->action, sizeof r->action, str(v, "action"));
        copy(r->status, sizeof r->status, str(v, "status"));
        const char *d = str(v, "diagnosticCode");
        const char *semi = strchr(d, ';');
        if (semi && semi - d < 12) {
            copy(r->dtype, sizeof r->dtype, "SMTP");
            d = semi + 1;
            while (*d == ' ')
                d++;
        }
        mt_buf_puts(&r->diag, d);
    }
    json_decref(root);
    return added;
}
