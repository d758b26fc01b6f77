/* tdiff.c: normalize, align and compare two transcripts (tdiff.h). */
#include "mockca/tdiff.h"

#include <ctype.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mockca/transcript.h"

#define TD_KEY_MAX 512
#define TD_MAX_DIFFS 200 /* per exchange pair: past it, the rest are summarized */

/* ---- normalization ---------------------------------------------------------------------- */

static bool td_is_b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '=')
            return false;
    return true;
}

static bool td_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) && s[i] != ':')
            return false;
    return true;
}

static bool td_is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

/* A path segment that is an object's identity rather than part of the protocol: numbers
 * (CertCentral), long hex (serials), long base64url (ACME ids, ARI ids "AKI.serial"). */
static bool td_is_id_segment(const char *s, size_t n)
{
    if (td_is_digits(s, n))
        return true;
    if (n >= 12 && td_is_hex(s, n))
        return true;
    if (n >= 16) {
        size_t upper = 0, lower = 0, digits = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '.')
                continue;
            if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '=')
                return false;
            if (isdigit((unsigned char)s[i]))
                digits++;
            else if (isupper((unsigned char)s[i]))
                upper++;
            else if (islower((unsigned char)s[i]))
                lower++;
        }
        /* Words joined by dashes ("finalize-order") are one case without digits; random
         * ids nearly always mix cases or hold a digit. */
        return upper + lower > 0 && (digits > 0 || (upper > 0 && lower > 0));
    }
    return false;
}

/* Appends src to dst (size n) as far as it fits. */
static void td_cat(char *dst, size_t n, const char *src, size_t len)
{
    size_t have = strlen(dst);

    if (have + 1 >= n)
        return;
    if (len > n - have - 1)
        len = n - have - 1;
    memcpy(dst + have, src, len);
    dst[have + len] = '\0';
}

/* A path with id segments as "{id}" (query string kept, its values as "{v}"). */
static void td_norm_path(const char *path, char *out, size_t n)
{
    const char *p = path;

    out[0] = '\0';
    while (*p != '\0' && *p != '?') {
        if (*p == '/') {
            td_cat(out, n, "/", 1);
            p++;
            continue;
        }
        size_t len = strcspn(p, "/?");
        if (td_is_id_segment(p, len))
            td_cat(out, n, "{id}", 4);
        else
            td_cat(out, n, p, len);
        p += len;
    }
    if (*p == '?')
        td_cat(out, n, "?{q}", 4);
}

/* "https://127.0.0.1:14000/x" -> "<base>/x" with the path normalized. */
static bool td_norm_url(const char *s, char *out, size_t n)
{
    const char *rest;

    if (strncmp(s, "https://", 8) == 0)
        rest = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        rest = s + 7;
    else
        return false;
    rest += strcspn(rest, "/");
    snprintf(out, n, "<base>");
    if (*rest != '\0') {
        char p[TD_KEY_MAX];
        td_norm_path(rest, p, sizeof(p));
        td_cat(out, n, p, strlen(p));
    }
    return true;
}

static bool td_is_rfc3339(const char *s)
{
    size_t n = strlen(s);

    return n >= 20 && n <= 40 && isdigit((unsigned char)s[0]) && s[4] == '-' && s[7] == '-' &&
           (s[10] == 'T' || s[10] == 't' || s[10] == ' ') && s[13] == ':';
}

static bool td_is_http_date(const char *s)
{
    static const char *const days[] = {"Mon, ", "Tue, ", "Wed, ", "Thu, ", "Fri, ", "Sat, ",
                                       "Sun, "};
    size_t n = strlen(s);

    if (n < 25 || n > 40 || strcmp(s + n - 4, " GMT") != 0)
        return false;
    for (size_t i = 0; i < 7; i++)
        if (strncmp(s, days[i], 5) == 0)
            return true;
    return false;
}

/* The normalized form of a string value, or NULL to keep it. name is its member name. */
static const char *td_norm_string(const char *name, const char *s, char *buf, size_t n)
{
    size_t len = strlen(s);

    if (name != NULL && (strcasecmp(name, "nonce") == 0 || strcasecmp(name, "Replay-Nonce") == 0))
        return "<nonce>";
    if (name != NULL && strcasecmp(name, "token") == 0)
        return "<token>";
    if (strncmp(s, "-----BEGIN ", 11) == 0) {
        size_t k = strcspn(s + 11, "-");
        snprintf(buf, n, "<pem:%.*s>", (int)(k < 40 ? k : 40), s + 11);
        return buf;
    }
    if (td_norm_url(s, buf, n))
        return buf;
    if (td_is_rfc3339(s) || td_is_http_date(s))
        return "<date>";
    if (len >= 16 && td_is_hex(s, len))
        return "<hex>";
    if (len >= 20 && td_is_b64url(s, len))
        return "<b64>";
    if (len >= 20 && td_is_id_segment(s, len))
        return "<id>";
    /* Link values: "<https://127.0.0.1:14000/dir>;rel=\"index\"", several joined by ", ":
     * normalize every URL inside angle brackets. */
    if (s[0] == '<') {
        const char *p = s;
        buf[0] = '\0';
        while (*p != '\0') {
            const char *lt = strchr(p, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;
            char url[TD_KEY_MAX], nu[TD_KEY_MAX];
            if (lt == NULL || gt == NULL || (size_t)(gt - lt) >= TD_KEY_MAX) {
                td_cat(buf, n, p, strlen(p));
                break;
            }
            td_cat(buf, n, p, (size_t)(lt - p) + 1);
            snprintf(url, sizeof(url), "%.*s", (int)(gt - lt - 1), lt + 1);
            if (td_norm_url(url, nu, sizeof(nu)))
                td_cat(buf, n, nu, strlen(nu));
            else
                td_cat(buf, n, url, strlen(url));
            p = gt;
            td_cat(buf, n, p, 1);
            p++;
        }
        return buf;
    }
    return NULL;
}

/* Replaces child c of j by r, keeping its member name (cJSON_ReplaceItemViaPointer alone
 * would drop it). */
static void td_replace(cJSON *j, cJSON *c, cJSON *r)
{
    if (r == NULL)
        return;
    if (cJSON_IsObject(j) && c->string != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(j, c->string, r);
    else
        cJSON_ReplaceItemViaPointer(j, c, r);
}

static int td_cmp_printed(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts an array whose order carries no meaning (an order's identifiers and
 * authorizations, an authorization's challenges: Pebble shuffles them). */
static void td_sort_array(cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    char **printed;
    cJSON *tmp;

    if (n < 2 || n > 256)
        return;
    printed = calloc((size_t)n, sizeof(*printed));
    if (printed == NULL)
        return;
    for (int i = 0; i < n; i++) {
        printed[i] = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, i));
        if (printed[i] == NULL)
            goto out;
    }
    qsort(printed, (size_t)n, sizeof(*printed), td_cmp_printed);
    tmp = cJSON_CreateArray();
    if (tmp == NULL)
        goto out;
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(tmp, cJSON_Parse(printed[i]));
    while (cJSON_GetArraySize(arr) > 0)
        cJSON_DeleteItemFromArray(arr, 0);
    while (cJSON_GetArraySize(tmp) > 0)
        cJSON_AddItemToArray(arr, cJSON_DetachItemFromArray(tmp, 0));
    cJSON_Delete(tmp);
out:
    for (int i = 0; i < n; i++)
        free(printed[i]);
    free(printed);
}

/* Rewrites j in place. */
static void td_norm_value(cJSON *j, int depth)
{
    cJSON *c, *next;
    char buf[TD_KEY_MAX * 2];

    if (depth > 64)
        return;
    for (c = j->child; c != NULL; c = next) {
        next = c->next;
        if (c->string != NULL &&
            (strcmp(c->string, "jwk") == 0 || strcmp(c->string, "newKey") == 0 ||
             strcmp(c->string, "csr") == 0 || strcmp(c->string, "signature") == 0)) {
            td_replace(j, c, cJSON_CreateString(c->string[0] == 'c' ? "<csr>" : "<key>"));
            continue;
        }
        if (cJSON_IsString(c)) {
            const char *v = td_norm_string(c->string, c->valuestring, buf, sizeof(buf));
            if (v != NULL)
                td_replace(j, c, cJSON_CreateString(v));
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            td_norm_value(c, depth + 1);
            if (cJSON_IsArray(c) && c->string != NULL &&
                (strcmp(c->string, "identifiers") == 0 || strcmp(c->string, "authorizations") == 0 ||
                 strcmp(c->string, "challenges") == 0))
                td_sort_array(c);
        }
    }
}

/* Values of members that are counters or ids by design. */
static void td_norm_numbers(cJSON *j, int depth)
{
    static const char *const names[] = {"id", "order_id", "certificate_id", "request_id",
                                        "serial_number", "container_id", "domain_id"};
    cJSON *c;

    if (depth > 64)
        return;
    cJSON_ArrayForEach(c, j)
    {
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            td_norm_numbers(c, depth + 1);
            continue;
        }
        if (c->string == NULL || !cJSON_IsNumber(c))
            continue;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(c->string, names[i]) == 0)
                cJSON_SetNumberValue(c, 0);
    }
}

cJSON *td_normalize(const cJSON *rec)
{
    cJSON *j = cJSON_Duplicate(rec, 1);
    cJSON *path;
    char buf[TD_KEY_MAX];

    if (j == NULL)
        return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "seq");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "time");
    path = cJSON_GetObjectItemCaseSensitive(j, "path");
    if (cJSON_IsString(path)) {
        td_norm_path(path->valuestring, buf, sizeof(buf));
        cJSON_ReplaceItemInObjectCaseSensitive(j, "path", cJSON_CreateString(buf));
    }
    td_norm_value(j, 0);
    td_norm_numbers(j, 0);
    return j;
}

/* ---- comparison ------------------------------------------------------------------------ */

static const char *td_str(const cJSON *o, const char *name)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(c) ? c->valuestring : "";
}

static void td_key(const cJSON *rec, char *out, size_t n)
{
    snprintf(out, n, "%s %s %s", td_str(rec, "listener"), td_str(rec, "method"),
             td_str(rec, "path"));
}

static const char *td_type(const cJSON *j)
{
    if (cJSON_IsObject(j))
        return "object";
    if (cJSON_IsArray(j))
        return "array";
    if (cJSON_IsString(j))
        return "string";
    if (cJSON_IsNumber(j))
        return "number";
    if (cJSON_IsBool(j))
        return "boolean";
    return "null";
}

struct td_ctx {
    cJSON *diffs;
    size_t count;
};

static void td_add(struct td_ctx *c, const char *what, const char *side, const char *name,
                   const char *change, const cJSON *o, const cJSON *n)
{
    cJSON *d;

    if (++c->count > TD_MAX_DIFFS)
        return;
    d = cJSON_CreateObject();
    if (d == NULL)
        return;
    cJSON_AddStringToObject(d, "what", what);
    if (side != NULL)
        cJSON_AddStringToObject(d, "side", side);
    cJSON_AddStringToObject(d, "name", name);
    cJSON_AddStringToObject(d, "change", change);
    if (o != NULL)
        cJSON_AddItemToObject(d, "old", cJSON_Duplicate(o, 1));
    if (n != NULL)
        cJSON_AddItemToObject(d, "new", cJSON_Duplicate(n, 1));
    cJSON_AddItemToArray(c->diffs, d);
}

/* Compares two JSON values at path (fields by name, arrays by index). */
static void td_fields(struct td_ctx *c, const char *side, const char *path, const cJSON *o,
                      const cJSON *n, int depth)
{
    char sub[TD_KEY_MAX];
    const cJSON *x;

    if (depth > 32 || (o == NULL && n == NULL))
        return;
    if (strcmp(td_type(o), td_type(n)) != 0) {
        cJSON *to = cJSON_CreateString(td_type(o)), *tn = cJSON_CreateString(td_type(n));
        td_add(c, "field", side, path[0] != '\0' ? path : "(body)", "type", to, tn);
        cJSON_Delete(to);
        cJSON_Delete(tn);
        return;
    }
    if (cJSON_IsObject(o)) {
        cJSON_ArrayForEach(x, o)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(n, x->string);
            snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] != '\0' ? "." : "", x->string);
            if (y == NULL)
                td_add(c, "field", side, sub, "removed", x, NULL);
            else
                td_fields(c, side, sub, x, y, depth + 1);
        }
        cJSON_ArrayForEach(x, n)
        {
            if (cJSON_GetObjectItemCaseSensitive(o, x->string) == NULL) {
                snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] != '\0' ? "." : "", x->string);
                td_add(c, "field", side, sub, "added", NULL, x);
            }
        }
        return;
    }
    if (cJSON_IsArray(o)) {
        int no = cJSON_GetArraySize(o), nn = cJSON_GetArraySize(n);
        for (int i = 0; i < no || i < nn; i++) {
            snprintf(sub, sizeof(sub), "%s[%d]", path, i);
            if (i >= nn)
                td_add(c, "field", side, sub, "removed", cJSON_GetArrayItem(o, i), NULL);
            else if (i >= no)
                td_add(c, "field", side, sub, "added", NULL, cJSON_GetArrayItem(n, i));
            else
                td_fields(c, side, sub, cJSON_GetArrayItem(o, i), cJSON_GetArrayItem(n, i),
                          depth + 1);
        }
        return;
    }
    if (!cJSON_Compare(o, n, 1))
        td_add(c, "field", side, path[0] != '\0' ? path : "(body)", "changed", o, n);
}

/* Headers by name, case-insensitively. */
static void td_headers(struct td_ctx *c, const char *side, const cJSON *o, const cJSON *n)
{
    const cJSON *x;

    cJSON_ArrayForEach(x, o)
    {
        const cJSON *y = cJSON_GetObjectItem(n, x->string);
        if (y == NULL)
            td_add(c, "header", side, x->string, "removed", x, NULL);
        else if (!cJSON_Compare(x, y, 1))
            td_add(c, "header", side, x->string, "changed", x, y);
    }
    cJSON_ArrayForEach(x, n)
    {
        if (cJSON_GetObjectItem(o, x->string) == NULL)
            td_add(c, "header", side, x->string, "added", NULL, x);
    }
}

static cJSON *td_pair(const cJSON *o, const cJSON *n)
{
    struct td_ctx c = {cJSON_CreateArray(), 0};
    static const char *const sides[] = {"request", "response"};
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(o, "status");
    const cJSON *sn = cJSON_GetObjectItemCaseSensitive(n, "status");

    if (c.diffs == NULL)
        return NULL;
    if ((so != NULL || sn != NULL) && !cJSON_Compare(so, sn, 1))
        td_add(&c, "status", NULL, "status", "changed", so, sn);
    for (size_t i = 0; i < 2; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, sides[i]);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(n, sides[i]);
        td_headers(&c, sides[i], cJSON_GetObjectItemCaseSensitive(a, "headers"),
                   cJSON_GetObjectItemCaseSensitive(b, "headers"));
        td_fields(&c, sides[i], "", cJSON_GetObjectItemCaseSensitive(a, "body"),
                  cJSON_GetObjectItemCaseSensitive(b, "body"), 0);
    }
    if (c.count > TD_MAX_DIFFS) {
        cJSON *more = cJSON_CreateNumber((double)(c.count - TD_MAX_DIFFS));
        c.count = 0;
        td_add(&c, "more", NULL, "differences not listed", "changed", NULL, more);
        cJSON_Delete(more);
    }
    return c.diffs;
}

/* The records to compare: normalized, polling repeats collapsed unless asked; idx[k] is
 * the position of the kept record in the input. */
static enum mc_err td_prepare(const cJSON *recs, bool keep, cJSON **out, int **idx, size_t *n)
{
    cJSON *arr = cJSON_CreateArray();
    int total = cJSON_GetArraySize(recs), *pos = NULL;
    char prev[TD_KEY_MAX] = "", key[TD_KEY_MAX];
    size_t k = 0;

    *out = NULL;
    *idx = NULL;
    *n = 0;
    if (arr == NULL)
        return MC_ERR_NOMEM;
    pos = calloc((size_t)total + 1, sizeof(*pos));
    if (pos == NULL) {
        cJSON_Delete(arr);
        return MC_ERR_NOMEM;
    }
    for (int i = 0; i < total; i++) {
        cJSON *r = td_normalize(cJSON_GetArrayItem(recs, i));
        if (r == NULL) {
            free(pos);
            cJSON_Delete(arr);
            return MC_ERR_NOMEM;
        }
        td_key(r, key, sizeof(key));
        if (!keep && k > 0 && strcmp(key, prev) == 0 && strcmp(td_str(r, "method"), "POST") != 0) {
            /* A poll (GET or HEAD) repeated: keep the last answer. */
            cJSON_ReplaceItemInArray(arr, (int)k - 1, r);
            pos[k - 1] = i;
            continue;
        }
        if (!keep && k > 0 && strcmp(key, prev) == 0 && strcmp(td_str(r, "method"), "POST") == 0) {
            /* POST-as-GET polls (RFC 8555 section 6.3) repeat the same way. */
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(r, "request"), "body");
            const cJSON *pl = cJSON_GetObjectItemCaseSensitive(b, "payload");
            if (cJSON_IsString(pl) && pl->valuestring[0] == '\0') {
                cJSON_ReplaceItemInArray(arr, (int)k - 1, r);
                pos[k - 1] = i;
                continue;
            }
        }
        if (k >= TD_MAX_RECORDS) {
            cJSON_Delete(r);
            free(pos);
            cJSON_Delete(arr);
            return MC_ERR_TOO_BIG;
        }
        cJSON_AddItemToArray(arr, r);
        pos[k++] = i;
        snprintf(prev, sizeof(prev), "%s", key);
    }
    *out = arr;
    *idx = pos;
    *n = k;
    return MC_OK;
}

static cJSON *td_change(const char *kind, const cJSON *rec, int oi, int ni)
{
    cJSON *c = cJSON_CreateObject();
    char key[TD_KEY_MAX];

    if (c == NULL)
        return NULL;
    td_key(rec, key, sizeof(key));
    cJSON_AddStringToObject(c, "kind", kind);
    cJSON_AddStringToObject(c, "key", key);
    if (oi >= 0)
        cJSON_AddNumberToObject(c, "old_index", oi);
    else
        cJSON_AddNullToObject(c, "old_index");
    if (ni >= 0)
        cJSON_AddNumberToObject(c, "new_index", ni);
    else
        cJSON_AddNullToObject(c, "new_index");
    return c;
}

enum mc_err td_diff(const cJSON *old_recs, const cJSON *new_recs, const struct td_options *opt,
                    cJSON **out)
{
    cJSON *a = NULL, *b = NULL, *res = NULL, *changes = NULL;
    int *ia = NULL, *ib = NULL;
    uint32_t *dp = NULL;
    char **ka = NULL, **kb = NULL;
    size_t na = 0, nb = 0;
    bool keep = opt != NULL && opt->keep_repeats;
    enum mc_err e;

    *out = NULL;
    if (!cJSON_IsArray(old_recs) || !cJSON_IsArray(new_recs))
        return MC_ERR_INVALID;
    e = td_prepare(old_recs, keep, &a, &ia, &na);
    if (e == MC_OK)
        e = td_prepare(new_recs, keep, &b, &ib, &nb);
    if (e != MC_OK)
        goto out;
    e = MC_ERR_NOMEM;
    ka = calloc(na + 1, sizeof(*ka));
    kb = calloc(nb + 1, sizeof(*kb));
    dp = calloc((na + 1) * (nb + 1), sizeof(*dp));
    res = cJSON_CreateObject();
    if (ka == NULL || kb == NULL || dp == NULL || res == NULL)
        goto out;
    for (size_t i = 0; i < na; i++) {
        char k[TD_KEY_MAX];
        td_key(cJSON_GetArrayItem(a, (int)i), k, sizeof(k));
        ka[i] = strdup(k);
        if (ka[i] == NULL)
            goto out;
    }
    for (size_t j = 0; j < nb; j++) {
        char k[TD_KEY_MAX];
        td_key(cJSON_GetArrayItem(b, (int)j), k, sizeof(k));
        kb[j] = strdup(k);
        if (kb[j] == NULL)
            goto out;
    }
    /* LCS table from the end: dp[i][j] = LCS of a[i..] and b[j..]. */
#define DP(i, j) dp[(size_t)(i) * (nb + 1) + (size_t)(j)]
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            DP(i, j) = strcmp(ka[i], kb[j]) == 0
                           ? DP(i + 1, j + 1) + 1
                           : (DP(i + 1, j) >= DP(i, j + 1) ? DP(i + 1, j) : DP(i, j + 1));
    changes = cJSON_AddArrayToObject(res, "changes");
    if (changes == NULL)
        goto out;
    {
        size_t i = 0, j = 0;
        while (i < na || j < nb) {
            cJSON *c = NULL;
            if (i < na && j < nb && strcmp(ka[i], kb[j]) == 0) {
                cJSON *d = td_pair(cJSON_GetArrayItem(a, (int)i), cJSON_GetArrayItem(b, (int)j));
                if (d == NULL)
                    goto out;
                if (cJSON_GetArraySize(d) > 0) {
                    c = td_change("changed", cJSON_GetArrayItem(a, (int)i), ia[i], ib[j]);
                    if (c == NULL) {
                        cJSON_Delete(d);
                        goto out;
                    }
                    cJSON_AddItemToObject(c, "diffs", d);
                } else {
                    cJSON_Delete(d);
                }
                i++;
                j++;
            } else if (j < nb && (i >= na || DP(i, j + 1) >= DP(i + 1, j))) {
                c = td_change("new", cJSON_GetArrayItem(b, (int)j), -1, ib[j]);
                j++;
                if (c == NULL)
                    goto out;
            } else {
                c = td_change("missing", cJSON_GetArrayItem(a, (int)i), ia[i], -1);
                i++;
                if (c == NULL)
                    goto out;
            }
            if (c != NULL)
                cJSON_AddItemToArray(changes, c);
        }
    }
#undef DP
    cJSON_AddBoolToObject(res, "equal", cJSON_GetArraySize(changes) == 0);
    cJSON_AddNumberToObject(res, "old", cJSON_GetArraySize(old_recs));
    cJSON_AddNumberToObject(res, "new", cJSON_GetArraySize(new_recs));
    *out = res;
    res = NULL;
    e = MC_OK;
out:
    for (size_t i = 0; ka != NULL && i < na; i++)
        free(ka[i]);
    for (size_t j = 0; kb != NULL && j < nb; j++)
        free(kb[j]);
    free(ka);
    free(kb);
    free(dp);
    free(ia);
    free(ib);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(res);
    return e;
}

/* ---- output ------------------------------------------------------------------------------ */

static void td_print_value(FILE *f, const cJSON *v)
{
    char *s;

    if (v == NULL) {
        fputs("-", f);
        return;
    }
    s = cJSON_PrintUnformatted(v);
    if (s == NULL)
        return;
    if (strlen(s) > 120)
        fprintf(f, "%.117s...", s);
    else
        fputs(s, f);
    free(s);
}

void td_print(const cJSON *result, FILE *f)
{
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(result, "changes"), *c;

    if (cJSON_GetArraySize(changes) == 0) {
        fprintf(f, "no protocol changes\n");
        return;
    }
    cJSON_ArrayForEach(c, changes)
    {
        const char *kind = td_str(c, "kind");
        const cJSON *oi = cJSON_GetObjectItemCaseSensitive(c, "old_index");
        const cJSON *ni = cJSON_GetObjectItemCaseSensitive(c, "new_index");
        const cJSON *d;
        if (strcmp(kind, "new") == 0)
            fprintf(f, "+ new request: %s (new #%d)\n", td_str(c, "key"), ni->valueint);
        else if (strcmp(kind, "missing") == 0)
            fprintf(f, "- missing request: %s (old #%d)\n", td_str(c, "key"), oi->valueint);
        else
            fprintf(f, "~ %s (old #%d, new #%d)\n", td_str(c, "key"), oi->valueint, ni->valueint);
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(c, "diffs"))
        {
            const char *what = td_str(d, "what"), *change = td_str(d, "change");
            if (strcmp(what, "status") == 0) {
                fprintf(f, "    status ");
            } else if (strcmp(what, "more") == 0) {
                fprintf(f, "    ... ");
                td_print_value(f, cJSON_GetObjectItemCaseSensitive(d, "new"));
                fprintf(f, " more differences\n");
                continue;
            } else {
                fprintf(f, "    %s %s %s %s: ", td_str(d, "side"), what, td_str(d, "name"), change);
            }
            if (strcmp(change, "type") == 0)
                fprintf(f, "type ");
            td_print_value(f, cJSON_GetObjectItemCaseSensitive(d, "old"));
            fprintf(f, " -> ");
            td_print_value(f, cJSON_GetObjectItemCaseSensitive(d, "new"));
            fputc('\n', f);
        }
    }
}

/* ---- the command ----------------------------------------------------------------------- */

static void td_usage(FILE *f)
{
    fprintf(f, "Usage: mockca diff [--json] [--keep-repeats] OLD NEW\n"
               "Compares two transcripts (JSON lines written by -transcript or `mockca run`)\n"
               "with nonces, ids, keys, dates, serials, tokens and blobs normalized, and prints\n"
               "what changed in the protocol: new or missing requests, changed statuses,\n"
               "headers and JSON fields.\n"
               "  --json          one JSON object on stdout instead of text\n"
               "  --keep-repeats  do not collapse polling repeats into one exchange\n"
               "Exit status: 0 no changes, 1 changes, 2 usage or read error.\n");
}

int td_main(int argc, char **argv)
{
    static const struct option lopts[] = {{"json", no_argument, NULL, 'j'},
                                          {"keep-repeats", no_argument, NULL, 'k'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    struct td_options opt = {false};
    cJSON *a = NULL, *b = NULL, *res = NULL;
    char err[512];
    bool json = false;
    int rc = 2, c;

    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "jkh", lopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'k':
            opt.keep_repeats = true;
            break;
        case 'h':
            td_usage(stdout);
            return 0;
        default:
            td_usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 2) {
        td_usage(stderr);
        return 2;
    }
    if (tr_load(argv[optind], 0, &a, err, sizeof(err)) != MC_OK ||
        tr_load(argv[optind + 1], 0, &b, err, sizeof(err)) != MC_OK) {
        fprintf(stderr, "mockca diff: %s\n", err);
        goto out;
    }
    if (td_diff(a, b, &opt, &res) != MC_OK) {
        fprintf(stderr, "mockca diff: cannot compare (over %d exchanges, or out of memory)\n",
                TD_MAX_RECORDS);
        goto out;
    }
    if (json) {
        char *s = cJSON_PrintUnformatted(res);
        if (s == NULL)
            goto out;
        printf("%s\n", s);
        free(s);
    } else {
        td_print(res, stdout);
    }
    rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "equal")) ? 0 : 1;
out:
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(res);
    return rc;
}
