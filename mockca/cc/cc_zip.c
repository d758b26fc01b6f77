/* cc_zip.c: the stored-entry zip writer (see cc_zip.h). All multi-byte fields are
 * little-endian (APPNOTE.TXT section 4.4). */
#include "mockca/cc/cc_zip.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CC_ZIP_SIG_LOCAL 0x04034b50u
#define CC_ZIP_SIG_CENTRAL 0x02014b50u
#define CC_ZIP_SIG_END 0x06054b50u
#define CC_ZIP_LOCAL_LEN 30u   /* fixed part of a local file header */
#define CC_ZIP_CENTRAL_LEN 46u /* fixed part of a central directory header */
#define CC_ZIP_END_LEN 22u     /* end of central directory record, no comment */
/* "version needed to extract" 1.0: stored entries, no features beyond the basics;
 * "version made by": 3 (Unix) in the high byte, so external attributes are a Unix mode. */
#define CC_ZIP_VERSION_NEEDED 10u
#define CC_ZIP_VERSION_MADE ((3u << 8) | 20u)
#define CC_ZIP_FLAG_UTF8 0x0800u          /* names are UTF-8 (here: ASCII, a subset) */
#define CC_ZIP_UNIX_MODE (0100644u << 16) /* a regular file, rw-r--r-- */

static uint32_t cc_zip_table[256];
static pthread_once_t cc_zip_once = PTHREAD_ONCE_INIT;

static void cc_zip_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        cc_zip_table[i] = c;
    }
}

uint32_t cc_zip_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    pthread_once(&cc_zip_once, cc_zip_table_init);
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = cc_zip_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* MS-DOS time and date (APPNOTE section 4.4.6): 2-second resolution, years from 1980. */
static void cc_zip_dos_time(int64_t t, uint16_t *dtime, uint16_t *ddate)
{
    struct tm tm;
    time_t tt;
    if (t < 315532800) /* 1980-01-01T00:00:00Z */
        t = 315532800;
    if (t > 4354819198) /* 2107-12-31T23:59:58Z */
        t = 4354819198;
    tt = (time_t)t;
    memset(&tm, 0, sizeof(tm));
    gmtime_r(&tt, &tm);
    *dtime = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    *ddate = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

static bool cc_zip_name_ok(const char *name)
{
    size_t n;
    if (name == NULL)
        return false;
    n = strnlen(name, CC_ZIP_NAME_MAX + 1);
    if (n == 0 || n > CC_ZIP_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e || name[i] == '\\')
            return false;
    /* No ".." segment: an unzip that trusts names would write outside its directory. */
    for (const char *p = name; p != NULL; p = strchr(p, '/')) {
        if (*p == '/')
            p++;
        if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
            return false;
    }
    return true;
}

static uint8_t *cc_zip_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xffu);
    p[1] = (uint8_t)((v >> 8) & 0xffu);
    return p + 2;
}

static uint8_t *cc_zip_u32(uint8_t *p, uint32_t v)
{
    p = cc_zip_u16(p, v & 0xffffu);
    return cc_zip_u16(p, v >> 16);
}

/* The fields a local header and a central directory header share, from "version needed"
 * on (APPNOTE 4.3.7 and 4.3.12 list them in the same order). */
static uint8_t *cc_zip_common(uint8_t *p, uint16_t dtime, uint16_t ddate, uint32_t crc,
                              uint32_t size, size_t namelen)
{
    p = cc_zip_u16(p, CC_ZIP_VERSION_NEEDED);
    p = cc_zip_u16(p, CC_ZIP_FLAG_UTF8);
    p = cc_zip_u16(p, 0); /* method: stored */
    p = cc_zip_u16(p, dtime);
    p = cc_zip_u16(p, ddate);
    p = cc_zip_u32(p, crc);
    p = cc_zip_u32(p, size); /* compressed size: stored, so the same */
    p = cc_zip_u32(p, size);
    p = cc_zip_u16(p, (uint32_t)namelen);
    return cc_zip_u16(p, 0); /* extra field length */
}

enum mc_err cc_zip_build(const struct cc_zip_entry *files, size_t n, int64_t mtime_s, uint8_t **out,
                         size_t *outlen)
{
    uint32_t *crcs = NULL, *offsets = NULL;
    uint8_t *buf = NULL, *p;
    uint16_t dtime, ddate;
    size_t total = CC_ZIP_END_LEN, cd_start;
    enum mc_err e = MC_ERR_INVALID;

    *out = NULL;
    *outlen = 0;
    if (n > CC_ZIP_FILES_MAX)
        return MC_ERR_TOO_BIG;
    if (n > 0 && files == NULL)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        size_t nl;
        if (!cc_zip_name_ok(files[i].name) || (files[i].data == NULL && files[i].len > 0))
            return MC_ERR_INVALID;
        for (size_t k = 0; k < i; k++)
            if (strcmp(files[k].name, files[i].name) == 0)
                return MC_ERR_INVALID;
        nl = strlen(files[i].name);
        /* Each term is bounded (name 255, the data by the check), so no sum overflows. */
        if (files[i].len > CC_ZIP_TOTAL_MAX || total > CC_ZIP_TOTAL_MAX)
            return MC_ERR_TOO_BIG;
        total += CC_ZIP_LOCAL_LEN + CC_ZIP_CENTRAL_LEN + 2 * nl + files[i].len;
    }
    if (total > CC_ZIP_TOTAL_MAX)
        return MC_ERR_TOO_BIG;
    crcs = calloc(n > 0 ? n : 1, sizeof(*crcs));
    offsets = calloc(n > 0 ? n : 1, sizeof(*offsets));
    buf = malloc(total);
    if (crcs == NULL || offsets == NULL || buf == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    cc_zip_dos_time(mtime_s, &dtime, &ddate);
    p = buf;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(files[i].name);
        crcs[i] = cc_zip_crc32(0, files[i].data, files[i].len);
        offsets[i] = (uint32_t)(p - buf);
        p = cc_zip_u32(p, CC_ZIP_SIG_LOCAL);
        p = cc_zip_common(p, dtime, ddate, crcs[i], (uint32_t)files[i].len, nl);
        memcpy(p, files[i].name, nl);
        p += nl;
        if (files[i].len > 0)
            memcpy(p, files[i].data, files[i].len);
        p += files[i].len;
    }
    cd_start = (size_t)(p - buf);
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(files[i].name);
        p = cc_zip_u32(p, CC_ZIP_SIG_CENTRAL);
        p = cc_zip_u16(p, CC_ZIP_VERSION_MADE);
        p = cc_zip_common(p, dtime, ddate, crcs[i], (uint32_t)files[i].len, nl);
        p = cc_zip_u16(p, 0); /* file comment length */
        p = cc_zip_u16(p, 0); /* disk number start */
        p = cc_zip_u16(p, 0); /* internal attributes: binary */
        p = cc_zip_u32(p, CC_ZIP_UNIX_MODE);
        p = cc_zip_u32(p, offsets[i]);
        memcpy(p, files[i].name, nl);
        p += nl;
    }
    {
        size_t cd_len = (size_t)(p - buf) - cd_start;
        p = cc_zip_u32(p, CC_ZIP_SIG_END);
        p = cc_zip_u16(p, 0); /* this disk */
        p = cc_zip_u16(p, 0); /* the disk the central directory starts on */
        p = cc_zip_u16(p, (uint32_t)n);
        p = cc_zip_u16(p, (uint32_t)n);
        p = cc_zip_u32(p, (uint32_t)cd_len);
        p = cc_zip_u32(p, (uint32_t)cd_start);
        p = cc_zip_u16(p, 0); /* comment length */
    }
    *outlen = (size_t)(p - buf);
    *out = buf;
    buf = NULL;
    e = MC_OK;
out:
    free(buf);
    free(crcs);
    free(offsets);
    return e;
}
