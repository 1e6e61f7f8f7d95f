/*
 * cmd_check_message.c - `mailtriage check-message FILE.eml|-`: the message
 * checks (msgcheck.h), as numbered text lines or JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/dkim_keys.h"
#include "../lib/dns.h"
#include "../lib/message.h"
#include "../lib/msgcheck.h"
#include "cli.h"

static const char usage[] =
    "usage: mailtriage check-message [--json] [--mail-from ADDR] [--dkim-key NAME=FILE]... FILE.eml|-\n"
    "\n"
    "Check one message the way receivers' parsers and content scanners see it: a\n"
    "numbered list of checks, each pass, warn, fail or n/a with one line of why,\n"
    "and a score (applicable checks; a warn counts half).\n"
    "\n"
    "  structure    RFC 5322 form, line ends, MIME tree, boundaries, alternatives,\n"
    "               transfer encoding vs bytes, 998-octet lines, base64, QP\n"
    "  headers      From, Date, Message-ID, MIME-Version, Subject, List-Unsubscribe\n"
    "               (+Post), Reply-To, envelope vs header From, repeated singletons\n"
    "  charset      declared charset vs bytes (UTF-8, GB2312/GBK/GB18030), 8-bit and\n"
    "               RFC 2047 headers, UTF-8, the CJK share of the visible text\n"
    "  size         raw size, per part, attachments' share\n"
    "  attachments  declared type vs name vs magic bytes; executables, macros,\n"
    "               archives, double extensions\n"
    "  links        link/image domains vs the From domain's organisation, trackers,\n"
    "               shorteners, IP-literal URLs, link text showing another domain\n"
    "  dkim         every DKIM-Signature verified (rsa-sha256, ed25519-sha256), d=\n"
    "               alignment with From\n"
    "\n"
    "  --json                 {\"file\",\"score\",\"counts\",\"checks\":[{\"n\",\"id\",\"family\",\n"
    "                         \"status\",\"why\"}]}; ids are stable, DKIM ids start with dkim\n"
    "  --mail-from ADDR       the envelope sender, compared with the header From\n"
    "  --dkim-key NAME=FILE   the key record for NAME (selector._domainkey.domain),\n"
    "                         FILE holding the TXT record's text; repeatable.  Keys\n"
    "                         not given are looked up in the DNS\n"
    "  --resolver HOST[:PORT] the DNS server for DKIM keys not given with --dkim-key\n"
    "                         (default /etc/resolv.conf)\n"
    "  --timeout MS           per-try DNS timeout in milliseconds (default 2000, 2 tries)\n"
    "  --offline              no DNS: keys not given are reported as not verified\n"
    "  --now UNIXTIME         judge DKIM t= and x= at this time (default: now)\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit status: 0 the checks ran (whatever they found), 1 the message could not\n"
    "be read, 2 usage error.\n";

/* dns_key - an mt_dkim_key_fn over the DNS layer: the TXT record at name
 * (of several, the one that reads as a key record) */
static mt_dkim_key_status dns_key(const char *name, mt_buf *txt, char *why, size_t whylen, void *arg)
{
    mt_dns_answer *a = mt_dns_txt(arg, name);
    if (a == NULL) {
        snprintf(why, whylen, "DNS lookup of %s failed", name);
        return MT_DKIM_KEY_TEMPERROR;
    }
    mt_dkim_key_status st;
    switch (a->status) {
    case MT_DNS_OK: {
        size_t pick = 0;
        for (size_t i = 0; i < a->n; i++)
            if (a->rr[i].len >= 2 &&
                (strncmp(a->rr[i].data, "v=DKIM1", 7) == 0 || strstr(a->rr[i].data, "p="))) {
                pick = i;
                break;
            }
        mt_buf_append(txt, a->rr[pick].data, a->rr[pick].len);
        st = MT_DKIM_KEY_FOUND;
        break;
    }
    case MT_DNS_NODATA:
    case MT_DNS_NXDOMAIN:
        st = MT_DKIM_KEY_NONE;
        break;
    default:
        st = MT_DKIM_KEY_TEMPERROR;
        break;
    }
    snprintf(why, whylen, "DNS %s", mt_dns_status_name(a->status));
    mt_dns_answer_free(a);
    return st;
}

int cmd_check_message(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"mail-from", required_argument, NULL, 'm'},
        {"dkim-key", required_argument, NULL, 'k'},
        {"now", required_argument, NULL, 'n'},
        {"resolver", required_argument, NULL, 'R'},
        {"timeout", required_argument, NULL, 't'},
        {"offline", no_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, offline = 0;
    mt_dns_opts dopts;
    memset(&dopts, 0, sizeof dopts);
    mt_msgcheck_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.now = time(NULL);
    mt_dkim_keys *keys = mt_dkim_keys_new();
    char err[512];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'm':
            mo.mail_from = optarg;
            break;
        case 'k':
            if (mt_dkim_keys_add_spec(keys, optarg, err, sizeof err) < 0) {
                fprintf(stderr, "mailtriage: %s\n", err);
                mt_dkim_keys_free(keys);
                return EXIT_USAGE;
            }
            break;
        case 'R':
            dopts.resolver = optarg;
            break;
        case 't':
            if (cli_int_option("--timeout", optarg, 1, 600000, &dopts.timeout_ms) < 0) {
                mt_dkim_keys_free(keys);
                return EXIT_USAGE;
            }
            break;
        case 'o':
            offline = 1;
            break;
        case 'n': {
            char *end;
            long long t = strtoll(optarg, &end, 10);
            if (*end || t < 0) {
                fprintf(stderr, "mailtriage: --now wants a Unix time in seconds, not '%s'\n", optarg);
                mt_dkim_keys_free(keys);
                return EXIT_USAGE;
            }
            mo.now = (time_t)t;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            mt_dkim_keys_free(keys);
            return EXIT_OK;
        default:
            fputs(usage, stderr);
            mt_dkim_keys_free(keys);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "mailtriage: check-message wants one FILE.eml (or - for stdin)\n\n");
        fputs(usage, stderr);
        mt_dkim_keys_free(keys);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    mt_message *m = mt_message_load_file(path, err, sizeof err);
    if (m == NULL) {
        fprintf(stderr, "mailtriage: %s\n", err);
        mt_dkim_keys_free(keys);
        return EXIT_INPUT;
    }
    if (mt_message_mbox_messages(m) > 1)
        fprintf(stderr,
                "mailtriage: %s is an mbox of %zu messages: only the first is used (split it to see the "
                "others)\n",
                path, mt_message_mbox_messages(m));
    mt_orgdomain *org = mt_orgdomain_open();
    mo.org = org;
    /* Keys given with --dkim-key answer first, the DNS the others (unless
     * --offline: then they are reported as not verified). */
    mt_dns *dns = NULL;
    if (!offline) {
        char derr[256];
        dns = mt_dns_new(&dopts, derr, sizeof derr);
        if (dns == NULL) {
            fprintf(stderr, "mailtriage: DNS: %s\n", derr);
            mt_orgdomain_close(org);
            mt_message_free(m);
            mt_dkim_keys_free(keys);
            return dopts.resolver ? EXIT_USAGE : EXIT_INPUT;
        }
        mt_dkim_keys_set_fallback(keys, dns_key, dns);
    }
    mo.dkim_key = mt_dkim_keys_lookup;
    mo.dkim_key_arg = keys;
    mt_checklist *l = mt_checklist_new();
    mt_msgcheck_run(m, &mo, l);
    mt_buf out;
    mt_buf_init(&out);
    const char *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
    if (json)
        mt_checklist_json(l, name, &out);
    else
        mt_checklist_text(l, name, &out);
    int rc = cli_write_stdout(&out) < 0 ? EXIT_INPUT : EXIT_OK;
    mt_buf_free(&out);
    mt_checklist_free(l);
    mt_orgdomain_close(org);
    mt_message_free(m);
    mt_dkim_keys_free(keys);
    mt_dns_free(dns);
    return rc;
}
