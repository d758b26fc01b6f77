/* common/json.c: capped parsing and typed getters over cJSON. */
#include "common/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* True if s[0..n) is a number by RFC 8259 section 6:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. cJSON hands such tokens to strtod, which
 * also takes "01", "1." and "1e"; we refuse those so that every reader sees one value. */
static bool json_number_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

/* A lexical pass before cJSON sees the text, for what cJSON does not check:
 * - nesting depth, so that "[[[[..." is refused with TOO_BIG without cJSON recursing into
 *   it (cJSON's own limit is 1000 levels of C recursion). A scalar is depth 0, "{}" and
 *   "[]" depth 1. String contents do not count.
 * - the escape \u0000: cJSON strings are C strings, so "a\u0000b" would silently become
 *   "a", and two readers would disagree.
 * - raw control bytes: RFC 8259 allows only space, tab, LF and CR between tokens and none
 *   unescaped in strings; cJSON skips or keeps any byte below 0x21.
 * - number syntax (see json_number_ok). */
static enum mc_err json_prescan(const char *s, size_t len, int max_depth)
{
    int depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_string) {
            if (c < 0x20)
                return MC_ERR_INVALID;
            if (c == '\\') {
                if (i + 5 < len && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
                    return MC_ERR_INVALID;
                i++; /* skip the escaped byte; \uXXXX digits are harmless */
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return MC_ERR_INVALID;
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = i;
            while (i + 1 < len && s[i + 1] != '\0' && strchr("0123456789+-.eE", s[i + 1]) != NULL)
                i++;
            if (!json_number_ok(s + start, i - start + 1))
                return MC_ERR_INVALID;
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '[':
        case '{':
            depth++;
            if (depth > max_depth)
                return MC_ERR_TOO_BIG;
            break;
        case ']':
        case '}':
            /* Unbalanced closers are a syntax error cJSON reports; do not go negative. */
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
    }
    return MC_OK;
}

/* Objects with at most this many members are checked pair by pair. */
#define JSON_DUP_SMALL 12

static int json_name_cmp(const void *a, const void *b)
{
    const char *const *x = a;
    const char *const *y = b;
    return strcmp(*x, *y);
}

/* Walks the tree; MC_ERR_INVALID if any object has two members with the same name
 * (after unescaping, so "a" and "\u0061" collide). Sorting keeps this O(n log n) per
 * large object; recursion is bounded by the depth cap already checked. */
static enum mc_err json_check_duplicates(const cJSON *node)
{
    enum mc_err rc = MC_OK;
    const char **names = NULL;

    if (cJSON_IsObject(node)) {
        size_t n = 0;
        for (const cJSON *c = node->child; c != NULL; c = c->next)
            n++;
        if (n > 1 && n <= JSON_DUP_SMALL) {
            /* ACME objects have a handful of members: comparing each pair costs less
             * than an allocation and a sort. */
            for (const cJSON *a = node->child; a != NULL; a = a->next) {
                for (const cJSON *b = a->next; b != NULL; b = b->next) {
                    if (strcmp(a->string != NULL ? a->string : "",
                               b->string != NULL ? b->string : "") == 0) {
                        rc = MC_ERR_INVALID;
                        goto out;
                    }
                }
            }
        } else if (n > 1) {
            names = calloc(n, sizeof(*names));
            if (names == NULL) {
                rc = MC_ERR_NOMEM;
                goto out;
            }
            size_t i = 0;
            for (const cJSON *c = node->child; c != NULL; c = c->next)
                names[i++] = c->string != NULL ? c->string : "";
            qsort(names, n, sizeof(*names), json_name_cmp);
            for (i = 1; i < n; i++) {
                if (strcmp(names[i - 1], names[i]) == 0) {
                    rc = MC_ERR_INVALID;
                    goto out;
                }
            }
        }
    }
    if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
        for (const cJSON *c = node->child; c != NULL; c = c->next) {
            rc = json_check_duplicates(c);
            if (rc != MC_OK)
                goto out;
        }
    }
out:
    free(names);
    return rc;
}

enum mc_err json_parse(const char *text, size_t len, size_t max_len, int max_depth, cJSON **out)
{
    enum mc_err rc = MC_ERR_INVALID;
    char *copy = NULL;
    cJSON *root = NULL;
    const char *end = NULL;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (text == NULL && len > 0)
        return MC_ERR_INVALID;
    if (len > max_len)
        return MC_ERR_TOO_BIG;
    if (max_depth < 0)
        max_depth = 0;
    if (len > 0 && memchr(text, '\0', len) != NULL)
        return MC_ERR_INVALID;
    rc = json_prescan(text, len, max_depth);
    if (rc != MC_OK)
        goto out;

    /* A private NUL-terminated copy: cJSON never reads past our buffer even where its
     * length handling is loose, and the caller's text need not be terminated. */
    copy = malloc(len + 1);
    if (copy == NULL) {
        rc = MC_ERR_NOMEM;
        goto out;
    }
    if (len > 0)
        memcpy(copy, text, len);
    copy[len] = '\0';

    root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 0);
    if (root == NULL) {
        rc = MC_ERR_INVALID;
        goto out;
    }
    /* Only JSON whitespace (RFC 8259 section 2) may follow the value. */
    while (end != NULL && end < copy + len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end == NULL || end != copy + len) {
        rc = MC_ERR_INVALID;
        goto out;
    }
    rc = json_check_duplicates(root);
    if (rc != MC_OK)
        goto out;
    *out = root;
    root = NULL;
out:
    cJSON_Delete(root);
    free(copy);
    return rc;
}

/* The member named key, or NULL when absent or JSON null; MC_ERR_INVALID if obj is not
 * an object. */
static enum mc_err json_member(const cJSON *obj, const char *key, const cJSON **item)
{
    *item = NULL;
    if (!cJSON_IsObject(obj) || key == NULL)
        return MC_ERR_INVALID;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (it == NULL || cJSON_IsNull(it))
        return MC_ERR_NOT_FOUND;
    *item = it;
    return MC_OK;
}

enum mc_err json_get_string(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *it = NULL;
    enum mc_err rc = json_member(obj, key, &it);
    if (rc != MC_OK)
        return rc;
    if (!cJSON_IsString(it) || it->valuestring == NULL)
        return MC_ERR_INVALID;
    *out = it->valuestring;
    return MC_OK;
}

enum mc_err json_get_bool(const cJSON *obj, const char *key, bool *out)
{
    const cJSON *it = NULL;
    enum mc_err rc = json_member(obj, key, &it);
    if (rc != MC_OK)
        return rc;
    if (!cJSON_IsBool(it))
        return MC_ERR_INVALID;
    *out = cJSON_IsTrue(it);
    return MC_OK;
}

enum mc_err json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const cJSON *it = NULL;
    enum mc_err rc = json_member(obj, key, &it);
    if (rc != MC_OK)
        return rc;
    if (!cJSON_IsNumber(it))
        return MC_ERR_INVALID;
    double v = it->valuedouble;
    if (!isfinite(v) || floor(v) != v)
        return MC_ERR_INVALID;
    /* -2^63 is exact as a double; 2^63 is the first value that does not fit. */
    if (v < -9223372036854775808.0 || v >= 9223372036854775808.0)
        return MC_ERR_INVALID;
    int64_t i = (int64_t)v;
    if (i < min || i > max)
        return MC_ERR_INVALID;
    *out = i;
    return MC_OK;
}

enum mc_err json_get_object(const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *it = NULL;
    enum mc_err rc = json_member(obj, key, &it);
    if (rc != MC_OK)
        return rc;
    if (!cJSON_IsObject(it))
        return MC_ERR_INVALID;
    *out = it;
    return MC_OK;
}

enum mc_err json_get_array(const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *it = NULL;
    enum mc_err rc = json_member(obj, key, &it);
    if (rc != MC_OK)
        return rc;
    if (!cJSON_IsArray(it))
        return MC_ERR_INVALID;
    *out = it;
    return MC_OK;
}

enum mc_err json_print(const cJSON *j, char **out)
{
    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (j == NULL)
        return MC_ERR_INVALID;
    char *s = cJSON_PrintUnformatted(j);
    if (s == NULL)
        return MC_ERR_NOMEM;
    *out = s;
    return MC_OK;
}
