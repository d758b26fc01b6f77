/* wire.c: checks of server-supplied values (wire.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "client/wire.h"
#include "common/b64url.h"

enum mc_err wire_check_token(const char *s)
{
    if (s == NULL)
        return MC_ERR_INVALID;
    size_t n = strnlen(s, WIRE_MAX_TOKEN + 1);
    if (n == 0)
        return MC_ERR_INVALID;
    if (n > WIRE_MAX_TOKEN)
        return MC_ERR_TOO_BIG;
    return b64url_is_alphabet(s, n) ? MC_OK : MC_ERR_INVALID;
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Host name or IPv4 characters (RFC 3986 reg-name, minus sub-delims and pct-encoding,
 * which no ACME server needs and which only widen what a hostile one can inject). */
static bool is_host_char(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

/* The first check of a URL or URI: present, at most WIRE_MAX_URL bytes (*n), printable
 * ASCII without spaces. */
static enum mc_err url_chars(const char *s, size_t *n)
{
    if (s == NULL)
        return MC_ERR_INVALID;
    *n = strnlen(s, WIRE_MAX_URL + 1);
    if (*n > WIRE_MAX_URL)
        return MC_ERR_TOO_BIG;
    for (size_t i = 0; i < *n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return MC_ERR_INVALID;
    }
    return MC_OK;
}

enum mc_err wire_check_url(const char *s)
{
    size_t n;
    enum mc_err err = url_chars(s, &n);
    if (err != MC_OK)
        return err;
    const char *p;
    if (strncasecmp(s, "https://", 8) == 0)
        p = s + 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        p = s + 7;
    else
        return MC_ERR_INVALID;

    /* The authority ends at the first '/', '?' or '#'. */
    size_t alen = strcspn(p, "/?#");
    const char *end = p + alen;
    if (alen == 0)
        return MC_ERR_INVALID;
    if (memchr(p, '@', alen) != NULL)
        return MC_ERR_INVALID; /* userinfo: never legitimate here, a classic spoofing aid */

    const char *q = p;
    if (*q == '[') {
        /* IPv6 literal: hex digits, ':' and '.' (an embedded IPv4) inside brackets. */
        q++;
        const char *start = q;
        while (q < end && *q != ']') {
            unsigned char c = (unsigned char)*q;
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.'))
                return MC_ERR_INVALID;
            q++;
        }
        if (q == end || q == start)
            return MC_ERR_INVALID;
        q++; /* ']' */
    } else {
        const char *start = q;
        while (q < end && is_host_char((unsigned char)*q))
            q++;
        if (q == start)
            return MC_ERR_INVALID;
    }
    if (q < end) {
        if (*q != ':')
            return MC_ERR_INVALID;
        q++;
        if (q == end || end - q > 5)
            return MC_ERR_INVALID;
        long port = 0;
        for (; q < end; q++) {
            if (*q < '0' || *q > '9')
                return MC_ERR_INVALID;
            port = port * 10 + (*q - '0');
        }
        if (port < 1 || port > 65535)
            return MC_ERR_INVALID;
    }
    return MC_OK;
}

/* True when s starts with an RFC 3986 scheme and its ':' (before any '/', '?' or '#',
 * which would make the colon part of a relative path, query or fragment). */
static bool has_scheme(const char *s)
{
    unsigned char c0 = (unsigned char)s[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z')))
        return false;
    for (size_t i = 1; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':')
            return true;
        if (!(is_alnum(c) || c == '+' || c == '-' || c == '.'))
            return false;
    }
    return false;
}

enum mc_err wire_resolve_url(const char *base, const char *ref, char **out)
{
    enum mc_err err = MC_ERR_INVALID;
    CURLU *u = NULL;
    char *joined = NULL;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (base == NULL || ref == NULL || ref[0] == '\0')
        return MC_ERR_INVALID;
    size_t n = strnlen(ref, WIRE_MAX_URL + 1);
    if (n > WIRE_MAX_URL)
        return MC_ERR_TOO_BIG;
    /* The byte rules first, on what the server sent: nothing hostile reaches the parser,
     * and a control character cannot be normalised away into something that passes. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)ref[i];
        if (c <= 0x20 || c >= 0x7f)
            return MC_ERR_INVALID;
    }
    if (has_scheme(ref)) {
        /* Absolute: kept as sent, so it must pass as it is (http or https only). */
        err = wire_check_url(ref);
        if (err != MC_OK)
            return err;
        *out = strdup(ref);
        return *out != NULL ? MC_OK : MC_ERR_NOMEM;
    }
    err = wire_check_url(base);
    if (err != MC_OK)
        return err;
    u = curl_url();
    if (u == NULL)
        return MC_ERR_NOMEM;
    /* Setting a relative URL on a handle that holds one resolves it against that one
     * (RFC 3986 section 5.2.2 with remove_dot_segments). No flags: no guessing of a
     * scheme, no other schemes, no spaces, no URL-encoding that would hide a byte. */
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &joined, 0) != CURLUE_OK) {
        err = MC_ERR_INVALID;
        goto out;
    }
    /* The same checks as any URL from the wire: the merge may have brought in a new host
     * (a network-path reference "//host/x") that still has to be a plain http(s) one. */
    err = wire_check_url(joined);
    if (err != MC_OK)
        goto out;
    *out = strdup(joined);
    err = *out != NULL ? MC_OK : MC_ERR_NOMEM;
out:
    curl_free(joined);
    curl_url_cleanup(u);
    return err;
}

enum mc_err wire_check_uri(const char *s)
{
    size_t n;
    enum mc_err err = url_chars(s, &n);
    if (err != MC_OK)
        return err;
    unsigned char c0 = (unsigned char)s[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z')))
        return MC_ERR_INVALID;
    size_t i = 1;
    while (i < n && (is_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i >= n || s[i] != ':' || i + 1 >= n)
        return MC_ERR_INVALID;
    return MC_OK;
}

enum mc_err wire_check_status(enum wire_obj kind, const char *status)
{
    static const char *const account[] = {"valid", "deactivated", "revoked", NULL};
    static const char *const order[] = {"pending", "ready", "processing", "valid", "invalid", NULL};
    static const char *const authz[] = {"pending", "valid",   "invalid", "deactivated",
                                        "expired", "revoked", NULL};
    static const char *const chal[] = {"pending", "processing", "valid", "invalid", NULL};
    const char *const *set;

    if (status == NULL)
        return MC_ERR_INVALID;
    switch (kind) {
    case WIRE_ACCOUNT:
        set = account;
        break;
    case WIRE_ORDER:
        set = order;
        break;
    case WIRE_AUTHZ:
        set = authz;
        break;
    case WIRE_CHALLENGE:
        set = chal;
        break;
    default:
        return MC_ERR_INVALID;
    }
    for (size_t i = 0; set[i] != NULL; i++)
        if (strcmp(set[i], status) == 0)
            return MC_OK;
    return MC_ERR_INVALID;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int mo)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mo == 2 && is_leap(y) ? 29 : dim[mo - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm),
 * exact for any year here and free of timegm's locale and TZ state. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

enum mc_err wire_civil_to_unix(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
    if (y < 0 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
        return MC_ERR_INVALID;
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + s;
    return MC_OK;
}

/* Reads exactly n digits at *p into *v and advances *p. */
static bool digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return true;
}

enum mc_err wire_rfc3339(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t t;

    if (s == NULL || strnlen(s, 64) >= 64)
        return MC_ERR_INVALID;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return MC_ERR_INVALID;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return MC_ERR_INVALID;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return MC_ERR_INVALID;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return MC_ERR_INVALID;
        while (*p >= '0' && *p <= '9')
            p++; /* bounded by the 64-byte length check above */
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        p++;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return MC_ERR_INVALID;
    } else {
        return MC_ERR_INVALID;
    }
    if (*p != '\0')
        return MC_ERR_INVALID;
    if (wire_civil_to_unix(y, mo, d, h, mi, sec, &t) != MC_OK)
        return MC_ERR_INVALID;
    /* Local time = UTC + offset, so UTC = local - offset. */
    *out = t - (int64_t)sign * (oh * 3600 + om * 60);
    return MC_OK;
}
