/*
 * msgcheck_attach.c - attachments: what each is by declared type, by file
 * name and by its first bytes (magic); archives, Office documents with
 * macros, executables, double extensions, and mismatches between the
 * three.
 */
#include <string.h>
#include <strings.h>

#include "msgcheck.h"

/* the one-line whys are cut to their buffers on purpose */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define FAM "attachments"

typedef enum kind {
    K_UNKNOWN,
    K_TEXT,
    K_PDF,
    K_IMAGE,
    K_ZIP,
    K_RAR,
    K_7Z,
    K_GZIP,
    K_OOXML, /* docx/xlsx/pptx: a zip with [Content_Types].xml */
    K_OLE,   /* doc/xls/ppt/msi */
    K_EXE,   /* PE, ELF, Mach-O, scripts by name */
    K_HTML,
    K_AUDIOVIDEO,
} kind;

static const char *kind_name(kind k)
{
    static const char *const n[] = {"unknown",    "text",  "PDF",        "image",          "ZIP",
                                    "RAR",        "7-Zip", "gzip",       "Office (OOXML)", "Office (OLE2)",
                                    "executable", "HTML",  "audio/video"};
    return n[k];
}

static int is_archive(kind k)
{
    return k == K_ZIP || k == K_RAR || k == K_7Z || k == K_GZIP;
}

static kind by_magic(const unsigned char *p, size_t n)
{
    if (n >= 4 && !memcmp(p, "%PDF", 4))
        return K_PDF;
    if (n >= 4 && !memcmp(p, "PK\x03\x04", 4)) {
        if (memmem(p, n < 65536 ? n : 65536, "[Content_Types].xml", 19))
            return K_OOXML;
        return K_ZIP;
    }
    if (n >= 6 && !memcmp(p, "Rar!\x1a\x07", 6))
        return K_RAR;
    if (n >= 6 && !memcmp(p, "7z\xbc\xaf\x27\x1c", 6))
        return K_7Z;
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return K_GZIP;
    if (n >= 8 && !memcmp(p, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8))
        return K_OLE;
    if (n >= 2 && p[0] == 'M' && p[1] == 'Z')
        return K_EXE;
    if (n >= 4 && !memcmp(p,
                          "\x7f"
                          "ELF",
                          4))
        return K_EXE;
    if (n >= 4 && (!memcmp(p, "\xcf\xfa\xed\xfe", 4) || !memcmp(p, "\xce\xfa\xed\xfe", 4)))
        return K_EXE;
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return K_IMAGE;
    if (n >= 3 && !memcmp(p, "\xff\xd8\xff", 3))
        return K_IMAGE;
    if (n >= 4 && (!memcmp(p, "GIF8", 4)))
        return K_IMAGE;
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return K_IMAGE;
    if (n >= 2 && p[0] == '#' && p[1] == '!')
        return K_EXE;
    size_t k = 0;
    while (k < n && k < 64 && (p[k] == ' ' || p[k] == '\n' || p[k] == '\r' || p[k] == '\t'))
        k++;
    if (n - k >= 5 &&
        (!strncasecmp((const char *)p + k, "<html", 5) || !strncasecmp((const char *)p + k, "<!doc", 5)))
        return K_HTML;
    return K_UNKNOWN;
}

static const struct {
    const char *ext;
    kind k;
    int macro;
} exts[] = {
    {"pdf", K_PDF, 0},        {"zip", K_ZIP, 0},    {"rar", K_RAR, 0},    {"7z", K_7Z, 0},
    {"gz", K_GZIP, 0},        {"tgz", K_GZIP, 0},   {"docx", K_OOXML, 0}, {"xlsx", K_OOXML, 0},
    {"pptx", K_OOXML, 0},     {"docm", K_OOXML, 1}, {"xlsm", K_OOXML, 1}, {"pptm", K_OOXML, 1},
    {"dotm", K_OOXML, 1},     {"xlam", K_OOXML, 1}, {"doc", K_OLE, 0},    {"xls", K_OLE, 0},
    {"ppt", K_OLE, 0},        {"msi", K_EXE, 0},    {"exe", K_EXE, 0},    {"scr", K_EXE, 0},
    {"com", K_EXE, 0},        {"pif", K_EXE, 0},    {"bat", K_EXE, 0},    {"cmd", K_EXE, 0},
    {"vbs", K_EXE, 0},        {"vbe", K_EXE, 0},    {"js", K_EXE, 0},     {"jse", K_EXE, 0},
    {"wsf", K_EXE, 0},        {"wsh", K_EXE, 0},    {"ps1", K_EXE, 0},    {"jar", K_EXE, 0},
    {"hta", K_EXE, 0},        {"cpl", K_EXE, 0},    {"dll", K_EXE, 0},    {"lnk", K_EXE, 0},
    {"iso", K_EXE, 0},        {"img", K_EXE, 0},    {"png", K_IMAGE, 0},  {"jpg", K_IMAGE, 0},
    {"jpeg", K_IMAGE, 0},     {"gif", K_IMAGE, 0},  {"webp", K_IMAGE, 0}, {"txt", K_TEXT, 0},
    {"csv", K_TEXT, 0},       {"htm", K_HTML, 0},   {"html", K_HTML, 0},  {"mp3", K_AUDIOVIDEO, 0},
    {"mp4", K_AUDIOVIDEO, 0},
};

static int ext_index(const char *e)
{
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(exts[i].ext, e) == 0)
            return (int)i;
    return -1;
}

static kind by_type(const char *ct)
{
    if (!strcmp(ct, "application/pdf"))
        return K_PDF;
    if (!strcmp(ct, "application/zip") || !strcmp(ct, "application/x-zip-compressed"))
        return K_ZIP;
    if (!strcmp(ct, "application/x-rar-compressed") || !strcmp(ct, "application/vnd.rar"))
        return K_RAR;
    if (!strcmp(ct, "application/x-7z-compressed"))
        return K_7Z;
    if (!strcmp(ct, "application/gzip") || !strcmp(ct, "application/x-gzip"))
        return K_GZIP;
    if (!strncmp(ct, "application/vnd.openxmlformats", 30) || !strncmp(ct, "application/vnd.ms-word.", 24) ||
        !strncmp(ct, "application/vnd.ms-excel.", 25) || !strncmp(ct, "application/vnd.ms-powerpoint.", 30))
        return K_OOXML;
    if (!strcmp(ct, "application/msword") || !strcmp(ct, "application/vnd.ms-excel") ||
        !strcmp(ct, "application/vnd.ms-powerpoint"))
        return K_OLE;
    if (!strcmp(ct, "application/x-msdownload") || !strcmp(ct, "application/x-msdos-program") ||
        !strcmp(ct, "application/x-dosexec") || !strcmp(ct, "application/x-executable") ||
        !strcmp(ct, "application/javascript") || !strcmp(ct, "application/x-sh"))
        return K_EXE;
    if (!strncmp(ct, "image/", 6))
        return K_IMAGE;
    if (!strcmp(ct, "text/html"))
        return K_HTML;
    if (!strncmp(ct, "text/", 5))
        return K_TEXT;
    if (!strncmp(ct, "audio/", 6) || !strncmp(ct, "video/", 6))
        return K_AUDIOVIDEO;
    return K_UNKNOWN; /* application/octet-stream and the like say nothing */
}

static int compatible(kind a, kind b)
{
    if (a == K_UNKNOWN || b == K_UNKNOWN || a == b)
        return 1;
    /* an OOXML file is a zip; a zip named .docx is what we see first */
    if ((a == K_OOXML && b == K_ZIP) || (a == K_ZIP && b == K_OOXML))
        return 1;
    if ((a == K_TEXT && b == K_HTML) || (a == K_HTML && b == K_TEXT))
        return 1;
    return 0;
}

static int has_macros(kind magic, const unsigned char *p, size_t n)
{
    if (magic == K_OOXML || magic == K_ZIP)
        return memmem(p, n, "vbaProject.bin", 14) != NULL;
    if (magic == K_OLE) /* directory entry names are UTF-16LE */
        return memmem(p, n, "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T", 23) != NULL ||
               memmem(p, n, "V\0B\0A\0\0\0", 8) != NULL || memmem(p, n, "Macros", 6) != NULL;
    return 0;
}

/* zip local header flag bit 0: encrypted entry (scanners cannot look in) */
static int zip_encrypted(const unsigned char *p, size_t n)
{
    return n >= 8 && !memcmp(p, "PK\x03\x04", 4) && (p[6] & 1);
}

/* the first file in a zip (local headers, read up to 64 entries) whose name
 * has an executable extension, copied into out; 0 when none */
static int zip_executable(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    size_t seen = 0;
    for (const unsigned char *q = memmem(p, n, "PK\x03\x04", 4); q && seen < 64;
         q = memmem(q + 4, n - (size_t)(q + 4 - p), "PK\x03\x04", 4)) {
        seen++;
        size_t off = (size_t)(q - p);
        if (off + 30 > n)
            break;
        size_t nl = (size_t)q[26] | ((size_t)q[27] << 8);
        if (nl == 0 || nl > 255 || off + 30 + nl > n)
            continue;
        char name[256];
        memcpy(name, q + 30, nl);
        name[nl] = '\0';
        const char *dot = strrchr(name, '.');
        if (dot == NULL)
            continue;
        int x = ext_index(dot + 1);
        if (x >= 0 && exts[x].k == K_EXE) {
            snprintf(out, outlen, "%s", name);
            return 1;
        }
    }
    return 0;
}

static void append(char *dst, size_t cap, const char *s)
{
    size_t l = strlen(dst);
    if (l + 3 >= cap)
        return;
    snprintf(dst + l, cap - l, "%s%s", l ? ", " : "", s);
}

void mt_msgcheck_attachments(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    (void)o;
    size_t np = mt_message_nparts(m), natt = 0;
    char inv[600] = "", mism[400] = "", exe[400] = "", mac[400] = "", arc[400] = "", dbl[400] = "";
    int mism_fail = 0, arc_enc = 0;
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (pt->is_multipart || pt->is_message || !pt->is_attachment)
            continue;
        natt++;
        const mt_buf *d = mt_message_part_decoded(m, i);
        const unsigned char *p = (const unsigned char *)(d && d->data ? d->data : "");
        size_t n = d ? d->len : 0;
        const char *name = pt->filename ? pt->filename : "(no name)";
        kind km = by_magic(p, n);
        kind kt = by_type(pt->ctype);
        kind kn = K_UNKNOWN;
        int macro_ext = 0;
        const char *dot = pt->filename ? strrchr(pt->filename, '.') : NULL;
        if (dot) {
            int x = ext_index(dot + 1);
            if (x >= 0) {
                kn = exts[x].k;
                macro_ext = exts[x].macro;
            }
            /* double extension: an earlier known extension before a
             * dangerous last one, or blanks hiding the last one */
            const char *prev = dot;
            while (prev > pt->filename && prev[-1] != '.')
                prev--;
            if (prev > pt->filename + 1) {
                char e1[16];
                size_t l1 = (size_t)(dot - prev);
                if (l1 > 0 && l1 < sizeof e1) {
                    memcpy(e1, prev, l1);
                    e1[l1] = '\0';
                    int x1 = ext_index(e1);
                    if (x1 >= 0 && (kn == K_EXE || is_archive(kn)) && exts[x1].k != kn)
                        append(dbl, sizeof dbl, name);
                }
            }
            if (dot > pt->filename && (strstr(pt->filename, "   ") || strstr(pt->filename, "\xe2\x80\xae")))
                append(dbl, sizeof dbl, name);
        }
        char item[200];
        snprintf(item, sizeof item, "%.60s (%s, %s, %zu bytes)", name, pt->ctype, kind_name(km), n);
        append(inv, sizeof inv, item);
        if (!compatible(km, kn) || !compatible(km, kt) || !compatible(kn, kt)) {
            snprintf(item, sizeof item, "%.60s: type says %s, name says %s, bytes say %s", name,
                     kind_name(kt), kind_name(kn), kind_name(km));
            append(mism, sizeof mism, item);
            if (km == K_EXE || kn == K_EXE)
                mism_fail = 1;
        }
        char inner[256];
        if (km == K_EXE || kn == K_EXE || kt == K_EXE)
            append(exe, sizeof exe, name);
        else if (km == K_ZIP && zip_executable(p, n, inner, sizeof inner)) {
            char both[400];
            snprintf(both, sizeof both, "%.60s (holds %.60s)", name, inner);
            append(exe, sizeof exe, both);
        }
        if (macro_ext || has_macros(km, p, n))
            append(mac, sizeof mac, name);
        if (is_archive(km) || (km == K_UNKNOWN && is_archive(kn))) {
            append(arc, sizeof arc, name);
            if (zip_encrypted(p, n))
                arc_enc = 1;
        }
    }
    if (natt == 0) {
        static const char *const ids[] = {"attachments-inventory",   "attachments-type-match",
                                          "attachments-executables", "attachments-macros",
                                          "attachments-archives",    "attachments-double-extension"};
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
            mt_checklist_add(out, FAM, ids[i], MT_CHECK_NA, "no attachments");
        return;
    }
    mt_checklist_add(out, FAM, "attachments-inventory", MT_CHECK_PASS, "%zu: %s", natt, inv);
    if (mism[0])
        mt_checklist_add(out, FAM, "attachments-type-match", mism_fail ? MT_CHECK_FAIL : MT_CHECK_WARN, "%s",
                         mism);
    else
        mt_checklist_add(out, FAM, "attachments-type-match", MT_CHECK_PASS,
                         "declared type, file name and content agree");
    if (exe[0])
        mt_checklist_add(out, FAM, "attachments-executables", MT_CHECK_FAIL,
                         "executable content or name (refused by most receivers): %s", exe);
    else
        mt_checklist_add(out, FAM, "attachments-executables", MT_CHECK_PASS, "no executable");
    if (mac[0])
        mt_checklist_add(out, FAM, "attachments-macros", MT_CHECK_FAIL, "Office document(s) with macros: %s",
                         mac);
    else
        mt_checklist_add(out, FAM, "attachments-macros", MT_CHECK_PASS, "no Office macros");
    if (arc[0])
        mt_checklist_add(out, FAM, "attachments-archives", arc_enc ? MT_CHECK_FAIL : MT_CHECK_WARN,
                         "%s archive(s): %s; content scanners unpack or distrust them, test without",
                         arc_enc ? "encrypted" : "compressed", arc);
    else
        mt_checklist_add(out, FAM, "attachments-archives", MT_CHECK_PASS, "no archives");
    if (dbl[0])
        mt_checklist_add(out, FAM, "attachments-double-extension", MT_CHECK_FAIL,
                         "file names that hide their real type: %s", dbl);
    else
        mt_checklist_add(out, FAM, "attachments-double-extension", MT_CHECK_PASS, "no double extensions");
}
