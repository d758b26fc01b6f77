/* retry.c: Retry-After parsing and backoff (retry.h). */
#include <stdbool.h>
#include <string.h>

#include "client/retry.h"
#include "client/wire.h"

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_short[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const day_long[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};

/* HTTP-date names are case-sensitive (RFC 9110 section 5.6.7). Returns the index or -1
 * and advances *p past the name. */
static int match_name(const char **p, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(*p, names[i], n) == 0) {
            *p += n;
            return (int)i;
        }
    }
    return -1;
}

static int match_long_day(const char **p)
{
    /* Longest-first is implicit: no long day name is a prefix of another. */
    return match_name(p, day_long, 7);
}

static bool num(const char **p, int n, int *v)
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

static bool lit(const char **p, const char *s)
{
    size_t n = strlen(s);
    if (strncmp(*p, s, n) != 0)
        return false;
    *p += n;
    return true;
}

/* "HH:MM:SS" */
static bool time_of_day(const char **p, int *h, int *mi, int *s)
{
    return num(p, 2, h) && lit(p, ":") && num(p, 2, mi) && lit(p, ":") && num(p, 2, s);
}

/* Parses an HTTP-date in s (already trimmed) into Unix seconds. */
static enum mc_err http_date(const char *s, int64_t now, int64_t *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec;

    bool imf = match_name(&p, day_short, 7) >= 0 && *p == ',';
    const char *q = s;
    bool rfc850 = !imf && match_long_day(&q) >= 0;

    if (imf) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        p++;
        if (!lit(&p, " ") || !num(&p, 2, &d) || !lit(&p, " "))
            return MC_ERR_INVALID;
        mo = match_name(&p, month_names, 12);
        if (mo < 0 || !lit(&p, " ") || !num(&p, 4, &y) || !lit(&p, " ") ||
            !time_of_day(&p, &h, &mi, &sec) || !lit(&p, " GMT") || *p != '\0')
            return MC_ERR_INVALID;
    } else if (rfc850) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        int yy;
        p = q;
        if (!lit(&p, ", ") || !num(&p, 2, &d) || !lit(&p, "-"))
            return MC_ERR_INVALID;
        mo = match_name(&p, month_names, 12);
        if (mo < 0 || !lit(&p, "-") || !num(&p, 2, &yy) || !lit(&p, " ") ||
            !time_of_day(&p, &h, &mi, &sec) || !lit(&p, " GMT") || *p != '\0')
            return MC_ERR_INVALID;
        /* RFC 9110 section 5.6.7: a two-digit year more than 50 years in the future is
         * the most recent past year with those digits. */
        int64_t now_year = 1970 + now / 31556952; /* close enough to pick the century */
        int64_t cand = now_year - now_year % 100 + yy;
        if (cand > now_year + 50)
            cand -= 100;
        if (cand < 0 || cand > 9999)
            return MC_ERR_INVALID;
        y = (int)cand;
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space) */
        p = s;
        if (match_name(&p, day_short, 7) < 0 || !lit(&p, " "))
            return MC_ERR_INVALID;
        mo = match_name(&p, month_names, 12);
        if (mo < 0 || !lit(&p, " "))
            return MC_ERR_INVALID;
        if (*p == ' ') {
            p++;
            if (!num(&p, 1, &d))
                return MC_ERR_INVALID;
        } else if (!num(&p, 2, &d)) {
            return MC_ERR_INVALID;
        }
        if (!lit(&p, " ") || !time_of_day(&p, &h, &mi, &sec) || !lit(&p, " ") || !num(&p, 4, &y) ||
            *p != '\0')
            return MC_ERR_INVALID;
    }
    /* HTTP-date has no leap second (RFC 9110: second 00-60 is allowed in the grammar
     * through RFC 5322, so take 60 as the next second like wire_rfc3339 does). */
    return wire_civil_to_unix(y, mo + 1, d, h, mi, sec, out);
}

enum mc_err retry_after_parse(const char *value, int64_t now, int64_t *out_s)
{
    char buf[RETRY_MAX_HEADER + 1];

    if (value == NULL)
        return MC_ERR_INVALID;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strnlen(value, RETRY_MAX_HEADER + 1);
    if (n > RETRY_MAX_HEADER)
        return MC_ERR_INVALID;
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 0)
        return MC_ERR_INVALID;
    memcpy(buf, value, n);
    buf[n] = '\0';

    if (buf[0] >= '0' && buf[0] <= '9') {
        int64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            if (buf[i] < '0' || buf[i] > '9')
                return MC_ERR_INVALID;
            /* Saturate rather than overflow: "99999999999999999999" is a very long wait. */
            if (v < RETRY_AFTER_MAX_S)
                v = v * 10 + (buf[i] - '0');
        }
        *out_s = v > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : v;
        return MC_OK;
    }
    int64_t t;
    if (http_date(buf, now, &t) != MC_OK)
        return MC_ERR_INVALID;
    int64_t d = t - now;
    if (d < 0)
        d = 0;
    if (d > RETRY_AFTER_MAX_S)
        d = RETRY_AFTER_MAX_S;
    *out_s = d;
    return MC_OK;
}

int64_t retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, enum retry_jitter j,
                         struct prng *p)
{
    if (attempt < 0)
        attempt = 0;
    if (base_ms < 0)
        base_ms = 0;
    if (cap_ms < 0)
        cap_ms = 0;
    int64_t d = base_ms;
    /* Double until the cap: at most 63 steps, and never past INT64_MAX / 2. */
    for (int i = 0; i < attempt && i < 64 && d < cap_ms; i++)
        d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
    if (d > cap_ms)
        d = cap_ms;
    switch (j) {
    case RETRY_JITTER_FULL:
        return (int64_t)prng_below(p, (uint64_t)d + 1);
    case RETRY_JITTER_EQUAL:
        return d / 2 + (int64_t)prng_below(p, (uint64_t)(d - d / 2) + 1);
    case RETRY_JITTER_NONE:
    default:
        return d;
    }
}
