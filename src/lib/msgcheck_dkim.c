/*
 * msgcheck_dkim.c - every DKIM-Signature verified (dkim.c), and whether a
 * passing one is aligned with the header From (DMARC relaxed alignment).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "msgcheck.h"

/* the one-line whys are cut to their buffers on purpose */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define FAM      "dkim"
#define MAX_SIGS 16

void mt_msgcheck_dkim(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    size_t len;
    const char *raw = mt_message_raw(m, &len);
    mt_dkim_sig sigs[MAX_SIGS];
    size_t n = mt_dkim_verify(raw, len, o->dkim_key, o->dkim_key_arg, o->now, sigs, MAX_SIGS);
    char from[256];
    mt_message_from_domain(m, from, sizeof from);
    if (n == 0) {
        mt_checklist_add(out, FAM, "dkim-signed", MT_CHECK_FAIL,
                         "no DKIM-Signature: receivers (Netease, Gmail, Yahoo) expect passing, aligned DKIM");
        mt_checklist_add(out, FAM, "dkim-alignment", MT_CHECK_NA, "no signature");
        return;
    }
    mt_checklist_add(out, FAM, "dkim-signed", MT_CHECK_PASS, "%zu DKIM-Signature field(s)%s", n,
                     n > MAX_SIGS ? " (only the first 16 verified)" : "");
    size_t shown = n < MAX_SIGS ? n : MAX_SIGS;
    int pass_aligned = 0, pass_other = 0, aligned_unverified = 0;
    char pass_dom[256] = "";
    for (size_t i = 0; i < shown; i++) {
        const mt_dkim_sig *s = &sigs[i];
        char id[32];
        snprintf(id, sizeof id, "dkim-signature-%zu", i + 1);
        int aligned = from[0] && s->d[0] && mt_orgdomain_same(o->org, s->d, from);
        char head[400];
        snprintf(head, sizeof head, "d=%s s=%s a=%s c=%s", s->d[0] ? s->d : "?", s->s[0] ? s->s : "?",
                 s->a[0] ? s->a : "?", s->c[0] ? s->c : "?");
        switch (s->result) {
        case MT_DKIM_PASS: {
            if (aligned)
                pass_aligned = 1;
            else {
                pass_other = 1;
                snprintf(pass_dom, sizeof pass_dom, "%s", s->d);
            }
            char notes[300] = "";
            mt_check_status st = MT_CHECK_PASS;
            if (s->l >= 0 && (size_t)s->l < s->body_len) {
                snprintf(notes + strlen(notes), sizeof notes - strlen(notes),
                         "; l=%lld signs only %lld of %zu body bytes: anyone can append content", s->l, s->l,
                         s->body_len);
                st = MT_CHECK_WARN;
            }
            if (s->testing) {
                snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "; key in testing mode (t=y)");
                st = MT_CHECK_WARN;
            }
            if (s->reason[0]) {
                snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "; %s", s->reason);
                st = MT_CHECK_WARN;
            }
            if (strcmp(s->a, "rsa-sha1") == 0) {
                snprintf(notes + strlen(notes), sizeof notes - strlen(notes),
                         "; rsa-sha1 is obsolete (RFC 8301)");
                st = MT_CHECK_WARN;
            }
            if (s->key_bits && s->key_bits < 2048 && strcmp(s->a, "ed25519-sha256") != 0) {
                snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "; %d-bit key (2048 advised)",
                         s->key_bits);
                if (st == MT_CHECK_PASS)
                    st = MT_CHECK_WARN;
            }
            mt_checklist_add(out, FAM, id, st, "%s: pass%s", head, notes);
            break;
        }
        case MT_DKIM_FAIL:
        case MT_DKIM_PERMERROR:
            mt_checklist_add(out, FAM, id, MT_CHECK_FAIL, "%s: %s: %s", head, mt_dkim_result_name(s->result),
                             s->reason);
            break;
        case MT_DKIM_TEMPERROR:
        case MT_DKIM_NEUTRAL:
            if (aligned)
                aligned_unverified = 1;
            mt_checklist_add(out, FAM, id, MT_CHECK_WARN, "%s: not verified (%s): %s", head,
                             mt_dkim_result_name(s->result), s->reason);
            break;
        }
    }
    if (from[0] == '\0')
        mt_checklist_add(out, FAM, "dkim-alignment", MT_CHECK_NA, "no header From domain");
    else if (pass_aligned)
        mt_checklist_add(out, FAM, "dkim-alignment", MT_CHECK_PASS,
                         "a passing signature's d= shares From's organisational domain (%s)", from);
    else if (pass_other)
        mt_checklist_add(out, FAM, "dkim-alignment", MT_CHECK_FAIL,
                         "DKIM passes for %s but From is %s: DMARC needs an aligned signature", pass_dom,
                         from);
    else if (aligned_unverified)
        mt_checklist_add(out, FAM, "dkim-alignment", MT_CHECK_WARN,
                         "a signature with d= aligned to %s exists but could not be verified here", from);
    else
        mt_checklist_add(out, FAM, "dkim-alignment", MT_CHECK_FAIL,
                         "no passing DKIM signature aligned with %s", from);
}
