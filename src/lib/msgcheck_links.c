/*
 * msgcheck_links.c - links and domains: link, image and tracking hosts
 * against the header From's organisational domain; redirects/trackers,
 * shorteners, link count, IP-literal URLs, http links, and anchor text
 * that shows another domain than the link goes to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "links.h"
#include "msgcheck.h"

/* the one-line whys are cut to their buffers on purpose */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define FAM "links"

static void add_unique(char *list, size_t cap, size_t *count, const char *item)
{
    /* comma-separated, at most 5 shown */
    size_t il = strlen(item);
    for (const char *p = list; (p = strstr(p, item)) != NULL; p += il)
        if ((p == list || p[-1] == ' ') && (p[il] == ',' || p[il] == '\0'))
            return;
    (*count)++;
    if (*count > 5)
        return;
    size_t l = strlen(list);
    snprintf(list + l, cap - l, "%s%s", l ? ", " : "", item);
}

/* the host shown by an anchor text that looks like a URL or a domain */
static int text_host(const char *text, char *host, size_t hostlen)
{
    while (*text == ' ')
        text++;
    if (strncasecmp(text, "http://", 7) == 0 || strncasecmp(text, "https://", 8) == 0)
        return mt_url_host(text, host, hostlen);
    /* www.example.com or example.com/path as the whole text */
    size_t n = strcspn(text, " /");
    if (text[n] == ' ' || n < 4 || n >= hostlen)
        return -1;
    const char *dot = memchr(text, '.', n);
    if (dot == NULL || dot == text || dot == text + n - 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.'))
            return -1;
    }
    /* the last label alphabetic: a TLD, not a version number or price */
    const char *last = strrchr(text, '.');
    if (last == NULL || (size_t)(last - text) >= n)
        return -1;
    for (const char *p = last + 1; p < text + n; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return -1;
    memcpy(host, text, n);
    host[n] = '\0';
    mt_lower_ascii(host, n);
    return 0;
}

void mt_msgcheck_links(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    mt_links links = {0};
    size_t np = mt_message_nparts(m);
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (pt->is_multipart || pt->is_message || pt->is_attachment || strncmp(pt->ctype, "text/", 5) != 0)
            continue;
        const mt_buf *u = mt_message_part_text_utf8(m, i);
        if (u == NULL || u->len == 0)
            continue;
        if (strcmp(pt->ctype, "text/html") == 0)
            mt_links_from_html(u->data, u->len, &links);
        else
            mt_links_from_text(u->data, u->len, &links);
    }
    char from[256], forg[256] = "";
    mt_message_from_domain(m, from, sizeof from);
    if (from[0])
        mt_orgdomain_of(o->org, from, forg, sizeof forg);

    size_t nlinks = 0, nimg = 0, nforeign = 0, nimg_foreign = 0, ntrack = 0, ntrack_foreign = 0, nshort = 0,
           nip = 0, nhttp = 0, nmismatch = 0;
    char foreign[400] = "", img_foreign[400] = "", track_hosts[400] = "", shorts[300] = "", ips[300] = "",
         mism[400] = "";
    size_t c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0;
    for (size_t i = 0; i < links.n; i++) {
        const mt_link *l = &links.v[i];
        char host[256], org[256];
        if (mt_url_host(l->url, host, sizeof host) < 0)
            continue;
        int ip = mt_host_is_ip(host);
        if (ip)
            snprintf(org, sizeof org, "%s", host);
        else
            mt_orgdomain_of(o->org, host, org, sizeof org);
        int same = forg[0] && strcmp(org, forg) == 0;
        if (l->kind == MT_LINK_IMG) {
            nimg++;
            if (!same) {
                nimg_foreign++;
                add_unique(img_foreign, sizeof img_foreign, &c2, org);
            }
        } else {
            nlinks++;
            if (!same) {
                nforeign++;
                add_unique(foreign, sizeof foreign, &c1, org);
            }
        }
        if (strncasecmp(l->url, "http://", 7) == 0)
            nhttp++;
        if (ip) {
            nip++;
            add_unique(ips, sizeof ips, &c5, host);
        }
        if (mt_host_is_shortener(host)) {
            nshort++;
            add_unique(shorts, sizeof shorts, &c4, host);
        }
        if (l->kind != MT_LINK_TEXT && mt_url_is_tracking(l->url)) {
            ntrack++;
            if (!same) {
                ntrack_foreign++;
                add_unique(track_hosts, sizeof track_hosts, &c3, host);
            }
        }
        if (l->kind == MT_LINK_HREF && l->text) {
            char th[256], torg[256];
            if (text_host(l->text, th, sizeof th) == 0 && mt_orgdomain_known_tld(o->org, th)) {
                mt_orgdomain_of(o->org, th, torg, sizeof torg);
                int ok = strcmp(torg, org) == 0;
                char *target = ok ? NULL : mt_url_unwrap(l->url);
                char tgh[256], tgorg[256];
                if (target && mt_url_host(target, tgh, sizeof tgh) == 0) {
                    mt_orgdomain_of(o->org, tgh, tgorg, sizeof tgorg);
                    ok = strcmp(tgorg, torg) == 0;
                }
                free(target);
                if (!ok) {
                    nmismatch++;
                    if (nmismatch <= 3) {
                        size_t ml = strlen(mism);
                        snprintf(mism + ml, sizeof mism - ml, "%stext shows %s, link goes to %s",
                                 ml ? "; " : "", th, host);
                    }
                }
            }
        }
    }
    if (nlinks == 0)
        mt_checklist_add(out, FAM, "links-count", MT_CHECK_NA, "no links");
    else
        mt_checklist_add(out, FAM, "links-count", nlinks > 40 ? MT_CHECK_WARN : MT_CHECK_PASS,
                         "%zu link(s), %zu image(s)%s", nlinks, nimg,
                         nlinks > 40 ? ": many links weigh on content filters" : "");
    if (nlinks == 0)
        mt_checklist_add(out, FAM, "links-domains", MT_CHECK_NA, "no links");
    else if (forg[0] == '\0')
        mt_checklist_add(out, FAM, "links-domains", MT_CHECK_NA, "no From domain to compare with");
    else if (nforeign)
        mt_checklist_add(out, FAM, "links-domains", MT_CHECK_WARN,
                         "%zu of %zu link(s) leave the From organisation %s: %s%s", nforeign, nlinks, forg,
                         foreign, c1 > 5 ? ", ..." : "");
    else
        mt_checklist_add(out, FAM, "links-domains", MT_CHECK_PASS, "every link is in %s", forg);
    if (nimg == 0)
        mt_checklist_add(out, FAM, "links-images", MT_CHECK_NA, "no remote images");
    else if (nimg_foreign && forg[0])
        mt_checklist_add(out, FAM, "links-images", MT_CHECK_WARN,
                         "%zu of %zu image(s) load from outside %s: %s%s", nimg_foreign, nimg, forg,
                         img_foreign, c2 > 5 ? ", ..." : "");
    else
        mt_checklist_add(out, FAM, "links-images", MT_CHECK_PASS, "%zu image(s) from %s", nimg,
                         forg[0] ? forg : "the sender");
    if (ntrack == 0)
        mt_checklist_add(out, FAM, "links-tracking", nlinks ? MT_CHECK_PASS : MT_CHECK_NA,
                         nlinks ? "no click-tracking redirects" : "no links");
    else if (ntrack_foreign)
        mt_checklist_add(
            out, FAM, "links-tracking", MT_CHECK_WARN,
            "%zu tracked link(s), %zu through redirect hosts outside the brand: %s (seed: compare a "
            "tracked and an untracked version)",
            ntrack, ntrack_foreign, track_hosts);
    else
        mt_checklist_add(out, FAM, "links-tracking", MT_CHECK_PASS,
                         "%zu tracked link(s), through the brand's own domain", ntrack);
    if (nshort)
        mt_checklist_add(out, FAM, "links-shorteners", MT_CHECK_FAIL,
                         "%zu link(s) through public URL shorteners (%s): filters distrust them", nshort,
                         shorts);
    else
        mt_checklist_add(out, FAM, "links-shorteners", nlinks ? MT_CHECK_PASS : MT_CHECK_NA,
                         nlinks ? "no URL shorteners" : "no links");
    if (nip)
        mt_checklist_add(out, FAM, "links-ip-literal", MT_CHECK_FAIL, "%zu URL(s) to bare IP addresses (%s)",
                         nip, ips);
    else
        mt_checklist_add(out, FAM, "links-ip-literal", nlinks + nimg ? MT_CHECK_PASS : MT_CHECK_NA,
                         nlinks + nimg ? "no IP-literal URLs" : "no links");
    if (nhttp)
        mt_checklist_add(out, FAM, "links-https", MT_CHECK_WARN, "%zu link(s) or image(s) over plain http",
                         nhttp);
    else
        mt_checklist_add(out, FAM, "links-https", nlinks + nimg ? MT_CHECK_PASS : MT_CHECK_NA,
                         nlinks + nimg ? "every URL is https" : "no links");
    if (nmismatch)
        mt_checklist_add(out, FAM, "links-text-mismatch", MT_CHECK_FAIL,
                         "%zu link(s) whose text shows another domain than the target: %s", nmismatch, mism);
    else
        mt_checklist_add(out, FAM, "links-text-mismatch", nlinks ? MT_CHECK_PASS : MT_CHECK_NA,
                         nlinks ? "no link text showing another domain" : "no links");
    mt_links_free(&links);
}
