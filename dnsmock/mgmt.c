/* mgmt.c: the management API. challtestsrv's endpoints (same paths, same JSON members,
 * same status codes) and dnsmock's own.
 *
 * challtestsrv compatibility notes, checked against Debian's pebble-challtestsrv 2.4.0 and
 * the pebble sources:
 * - Every body is JSON read the way Go's encoding/json reads it into a struct: member
 *   names match case-insensitively ("Host" or "host"), unknown members are ignored, a
 *   member of the wrong type is 400 with a message, an empty body is 400.
 * - Success is 200 with an empty body; a missing required member is 400.
 * - Histories answer 200 with a JSON array printed as Go's json.MarshalIndent(v, "", "   ")
 *   prints it, Content-Type application/json; charset=utf-8.
 * Where we are stricter: addresses, IPs, CAA tags and names are validated (challtestsrv
 * stores anything and answers nothing or a broken packet later); such calls get 400 and
 * change nothing. Every route takes POST only (challtestsrv takes any method), except
 * /dns-faults which also takes GET.
 *
 * Endpoints (body members; all answer 200 and an empty body unless noted):
 *   /set-default-ipv4, /set-default-ipv6   {ip} ("" or absent clears)
 *   /add-a, /add-aaaa                      {host, addresses: [ip...]}
 *   /clear-a, /clear-aaaa                  {host}
 *   /add-caa                               {host, policies: [{tag, value, flags?}]}
 *   /clear-caa                             {host}
 *   /set-cname                             {host, target}
 *   /clear-cname                           {host}
 *   /set-txt                               {host, value} (adds one more value)
 *   /clear-txt                             {host}
 *   /set-servfail, /clear-servfail         {host}
 *   /add-http01                            {token, content}
 *   /del-http01                            {token}
 *   /add-redirect                          {path, targetURL}
 *   /del-redirect                          {path}
 *   /add-tlsalpn01                         {host, content}
 *   /del-tlsalpn01                         {host}
 *   /dns-request-history, /http-request-history, /tlsalpn01-request-history
 *                                          {host} -> 200 [entries]
 *   /clear-request-history                 {host, type: "dns"|"http"|"tlsalpn"}
 * dnsmock's own:
 *   /add-ns {host, nameserver}   /clear-ns {host}
 *   /add-zone {zone, ns?, soa?: {mname, rname, serial, refresh, retry, expire, minimum}}
 *   /del-zone {zone} (404 if it is not a zone)
 *   /set-mode {mode: "strict"|"compat"}
 *   /reset {}: records, zones, SERVFAIL names, challenges, histories and fault rules
 *              cleared; start-up default IPs and mode restored
 *   /add-dns-fault {match?: {...}, action: {...}} -> 200 {"id": N}
 *   /del-dns-fault {id} (404 if none)   /clear-dns-faults {}
 *   /dns-faults (GET or POST) -> 200 {"seed": S, "rules": [...]}
 *   /set-fault-seed {seed} (a positive integer, or a string of digits for 64-bit seeds)
 */
#include "dnsmock/mgmt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "common/fault.h"
#include "common/json.h"
#include "common/log.h"
#include "dnsmock/dnsfault.h"
#include "dnsmock/history.h"
#include "dnsmock/internal.h"
#include "dnsmock/responders.h"
#include "dnsmock/zone.h"

#define MG_MAX_BODY (64 * 1024)
#define MG_MAX_DEPTH 16
#define MG_CAA_VALUE_MAX 1024
#define MG_TEXT_MAX 4096 /* tokens, key authorizations, paths, URLs */

/* --- responses ------------------------------------------------------------------------ */

static void mg_ok(struct http_response *resp)
{
    if (http_response_body(resp, 200, "text/plain; charset=utf-8", "", 0) != MC_OK)
        resp->status = 500;
}

static void mg_fail(struct http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void mg_fail(struct http_response *resp, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (http_response_error(resp, status, msg) != MC_OK)
        resp->status = status;
}

/* An mc_err from the store as an answer: invalid input and full stores are the caller's
 * doing (400); anything else is ours (500). */
static void mg_store_fail(struct http_response *resp, enum mc_err err, const char *what)
{
    switch (err) {
    case MC_ERR_INVALID:
    case MC_ERR_UNSUPPORTED:
        mg_fail(resp, 400, "%s: invalid value", what);
        break;
    case MC_ERR_TOO_BIG:
        mg_fail(resp, 400, "%s: value too long", what);
        break;
    case MC_ERR_LIMIT:
        mg_fail(resp, 400, "%s: store limit reached", what);
        break;
    case MC_ERR_NOT_FOUND:
        mg_fail(resp, 404, "%s: not found", what);
        break;
    default:
        mg_fail(resp, 500, "%s: %s", what, mc_strerror(err));
        break;
    }
}

/* Go's json.MarshalIndent(v, "", "   ") for the values we print: the same bytes, so that
 * scripts which grep challtestsrv's history output keep working. */
struct mg_buf {
    char *p;
    size_t n, cap;
    bool failed;
};

static void mg_put(struct mg_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t ncap = b->cap == 0 ? 256 : b->cap;
        while (ncap < b->n + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void mg_puts(struct mg_buf *b, const char *s)
{
    mg_put(b, s, strlen(s));
}

static void mg_indent(struct mg_buf *b, int depth)
{
    mg_put(b, "\n", 1);
    for (int i = 0; i < depth; i++)
        mg_put(b, "   ", 3);
}

/* Go's string escaping: HTML-safe (<, >, & as \u003c...), U+2028/2029 escaped. */
static void mg_go_string(struct mg_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    mg_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        unsigned char c = *p;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            mg_put(b, esc, 2);
        } else if (c == '\n') {
            mg_puts(b, "\\n");
        } else if (c == '\r') {
            mg_puts(b, "\\r");
        } else if (c == '\t') {
            mg_puts(b, "\\t");
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            mg_put(b, esc, 6);
        } else if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            mg_puts(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
            p += 2;
        } else {
            mg_put(b, (const char *)p, 1);
        }
    }
    mg_put(b, "\"", 1);
}

static void mg_go_value(struct mg_buf *b, const cJSON *j, int depth)
{
    char num[64];
    if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
        bool obj = cJSON_IsObject(j);
        if (j->child == NULL) {
            mg_puts(b, obj ? "{}" : "[]");
            return;
        }
        mg_puts(b, obj ? "{" : "[");
        for (const cJSON *c = j->child; c != NULL; c = c->next) {
            mg_indent(b, depth + 1);
            if (obj) {
                mg_go_string(b, c->string != NULL ? c->string : "");
                mg_puts(b, ": ");
            }
            mg_go_value(b, c, depth + 1);
            if (c->next != NULL)
                mg_puts(b, ",");
        }
        mg_indent(b, depth);
        mg_puts(b, obj ? "}" : "]");
    } else if (cJSON_IsString(j)) {
        mg_go_string(b, j->valuestring);
    } else if (cJSON_IsNumber(j)) {
        double v = j->valuedouble;
        if (v == (double)(long long)v && v > -9e15 && v < 9e15)
            snprintf(num, sizeof(num), "%lld", (long long)v);
        else
            snprintf(num, sizeof(num), "%.17g", v);
        mg_puts(b, num);
    } else if (cJSON_IsBool(j)) {
        mg_puts(b, cJSON_IsTrue(j) ? "true" : "false");
    } else if (cJSON_IsRaw(j)) {
        mg_puts(b, j->valuestring);
    } else {
        mg_puts(b, "null");
    }
}

static void mg_history_reply(struct http_response *resp, const cJSON *arr)
{
    struct mg_buf b = {0};
    mg_go_value(&b, arr, 0);
    if (b.failed || b.p == NULL)
        mg_fail(resp, 500, "out of memory");
    else if (http_response_body(resp, 200, "application/json; charset=utf-8", b.p, b.n) != MC_OK)
        resp->status = 500;
    free(b.p);
}

static void mg_json_reply(struct http_response *resp, const cJSON *j)
{
    if (j == NULL) {
        mg_fail(resp, 500, "out of memory");
        return;
    }
    if (http_response_json(resp, 200, j) != MC_OK)
        mg_fail(resp, 500, "out of memory");
}

/* --- request bodies ------------------------------------------------------------------- */

/* Parses the body into a JSON object. empty_ok: an empty body reads as {} (dnsmock's own
 * argument-less calls); challtestsrv's calls answer an empty body with 400 as it does.
 * On failure the answer is written and NULL returned. */
static cJSON *mg_body(const struct http_request *req, struct http_response *resp, bool empty_ok)
{
    cJSON *j = NULL;
    size_t len = req->body_len;
    const char *text = (const char *)req->body;
    bool blank = true;
    for (size_t i = 0; i < len && blank; i++)
        blank = isspace((unsigned char)text[i]) != 0;
    if (len == 0 || text == NULL || blank) {
        if (empty_ok) {
            j = cJSON_CreateObject();
            if (j == NULL)
                mg_fail(resp, 500, "out of memory");
            return j;
        }
        mg_fail(resp, 400, "expected JSON POST body, was empty");
        return NULL;
    }
    enum mc_err err = json_parse(text, len, MG_MAX_BODY, MG_MAX_DEPTH, &j);
    if (err == MC_ERR_TOO_BIG) {
        mg_fail(resp, len > MG_MAX_BODY ? 413 : 400, "JSON body too large or nested too deep");
        return NULL;
    }
    if (err == MC_ERR_NOMEM) {
        mg_fail(resp, 500, "out of memory");
        return NULL;
    }
    if (err != MC_OK) {
        mg_fail(resp, 400, "invalid JSON body (syntax error, duplicate member, or NUL)");
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        mg_fail(resp, 400, "JSON body must be an object");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* A member as Go's encoding/json finds it for a struct field: exact name first, then
 * any case. */
static const cJSON *mg_member(const cJSON *obj, const char *key)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
    {
        if (c->string != NULL && strcmp(c->string, key) == 0)
            return c;
    }
    cJSON_ArrayForEach(c, obj)
    {
        if (c->string != NULL && strcasecmp(c->string, key) == 0)
            return c;
    }
    return NULL;
}

/* A string member: *out is "" when absent or null (Go's zero value). False, with the 400
 * written, for another type. */
static bool mg_str(struct http_response *resp, const cJSON *obj, const char *key,
                   const char **out)
{
    const cJSON *m = mg_member(obj, key);
    *out = "";
    if (m == NULL || cJSON_IsNull(m))
        return true;
    if (!cJSON_IsString(m) || m->valuestring == NULL) {
        mg_fail(resp, 400, "json: member \"%s\" must be a string", key);
        return false;
    }
    *out = m->valuestring;
    return true;
}

/* Like mg_str but the value must be non-empty and at most max bytes. */
static bool mg_req_str(struct http_response *resp, const cJSON *obj, const char *key, size_t max,
                       const char **out)
{
    if (!mg_str(resp, obj, key, out))
        return false;
    if ((*out)[0] == '\0') {
        mg_fail(resp, 400, "%s parameter of POST body must not be empty", key);
        return false;
    }
    if (strlen(*out) > max) {
        mg_fail(resp, 400, "%s parameter is longer than %zu bytes", key, max);
        return false;
    }
    return true;
}

/* An integral number member in [min, max]. *present tells whether it was there. */
static bool mg_int(struct http_response *resp, const cJSON *obj, const char *key, int64_t min,
                   int64_t max, int64_t *out, bool *present)
{
    const cJSON *m = mg_member(obj, key);
    *present = false;
    if (m == NULL || cJSON_IsNull(m))
        return true;
    double v = m->valuedouble;
    if (!cJSON_IsNumber(m) || v != (double)(int64_t)v || v < (double)min || v > (double)max) {
        mg_fail(resp, 400, "json: member \"%s\" must be an integer in [%" PRId64 ", %" PRId64 "]",
                key, min, max);
        return false;
    }
    *out = (int64_t)v;
    *present = true;
    return true;
}

/* A required DNS name member, canonicalized into out (ZONE_NAME_MAX bytes). */
static bool mg_name(struct http_response *resp, const cJSON *obj, const char *key, char *out)
{
    const char *s;
    if (!mg_req_str(resp, obj, key, ZONE_NAME_MAX, &s))
        return false;
    if (zone_name_normalize(s, out, ZONE_NAME_MAX) != MC_OK) {
        mg_fail(resp, 400, "%s: \"%s\" is not a valid DNS name", key, s);
        return false;
    }
    return true;
}

/* --- challtestsrv's DNS endpoints ----------------------------------------------------- */

static void mg_default_ip(struct dnsmock *d, const struct http_request *req,
                          struct http_response *resp, bool v6)
{
    cJSON *j = mg_body(req, resp, false);
    const char *ip;
    if (j == NULL)
        return;
    if (mg_str(resp, j, "ip", &ip)) {
        enum mc_err err = v6 ? zone_set_default_ipv6(d->zones, ip) : zone_set_default_ipv4(d->zones, ip);
        if (err == MC_ERR_INVALID)
            mg_fail(resp, 400, "ip: \"%s\" is not an %s address", ip, v6 ? "IPv6" : "IPv4");
        else if (err != MC_OK)
            mg_store_fail(resp, err, "ip");
        else
            mg_ok(resp);
    }
    cJSON_Delete(j);
}

static void mg_set_default_ipv4(void *ctx, const struct http_request *req,
                                struct http_response *resp)
{
    mg_default_ip(ctx, req, resp, false);
}

static void mg_set_default_ipv6(void *ctx, const struct http_request *req,
                                struct http_response *resp)
{
    mg_default_ip(ctx, req, resp, true);
}

/* How many records name holds of type now (for the pre-check that keeps a refused call
 * from changing anything). */
static size_t mg_rrset_size(struct zone_store *zs, const char *name, ldns_rr_type type)
{
    size_t n = 0;
    ldns_rr_list *l = ldns_rr_list_new();
    if (l == NULL)
        return 0;
    zone_rdlock(zs);
    if (zone_collect_locked(zs, name, type, l) == MC_OK)
        n = ldns_rr_list_rr_count(l);
    zone_unlock(zs);
    ldns_rr_list_deep_free(l);
    return n;
}

static void mg_add_addresses(struct dnsmock *d, const struct http_request *req,
                             struct http_response *resp, bool v6)
{
    char host[ZONE_NAME_MAX];
    const char *hs;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    const cJSON *arr = mg_member(j, "addresses");
    if (!mg_str(resp, j, "host", &hs))
        goto out;
    if (arr != NULL && !cJSON_IsNull(arr) && !cJSON_IsArray(arr)) {
        mg_fail(resp, 400, "json: member \"addresses\" must be an array of strings");
        goto out;
    }
    size_t n = arr != NULL && cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (hs[0] == '\0' || n == 0) {
        mg_fail(resp, 400, "host and addresses must not be empty");
        goto out;
    }
    if (!mg_name(resp, j, "host", host))
        goto out;
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        unsigned char bin[16];
        if (!cJSON_IsString(c) || c->valuestring == NULL) {
            mg_fail(resp, 400, "json: member \"addresses\" must be an array of strings");
            goto out;
        }
        if (inet_pton(v6 ? AF_INET6 : AF_INET, c->valuestring, bin) != 1) {
            mg_fail(resp, 400, "addresses: \"%s\" is not an %s address", c->valuestring,
                    v6 ? "IPv6" : "IPv4");
            goto out;
        }
    }
    if (mg_rrset_size(d->zones, host, v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A) + n >
        ZONE_MAX_PER_RRSET) {
        mg_fail(resp, 400, "addresses: at most %d per name", ZONE_MAX_PER_RRSET);
        goto out;
    }
    cJSON_ArrayForEach(c, arr)
    {
        enum mc_err err = v6 ? zone_add_aaaa(d->zones, host, c->valuestring)
                             : zone_add_a(d->zones, host, c->valuestring);
        if (err != MC_OK) {
            mg_store_fail(resp, err, "addresses");
            goto out;
        }
    }
    mg_ok(resp);
out:
    cJSON_Delete(j);
}

static void mg_add_a(void *ctx, const struct http_request *req, struct http_response *resp)
{
    mg_add_addresses(ctx, req, resp, false);
}

static void mg_add_aaaa(void *ctx, const struct http_request *req, struct http_response *resp)
{
    mg_add_addresses(ctx, req, resp, true);
}

/* The calls whose body is {host} and whose work is one store call. */
static void mg_host_op(struct dnsmock *d, const struct http_request *req,
                       struct http_response *resp,
                       enum mc_err (*op)(struct zone_store *, const char *))
{
    char host[ZONE_NAME_MAX];
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (mg_name(resp, j, "host", host)) {
        enum mc_err err = op(d->zones, host);
        if (err != MC_OK)
            mg_store_fail(resp, err, "host");
        else
            mg_ok(resp);
    }
    cJSON_Delete(j);
}

#define MG_HOST_ROUTE(fname, op)                                                              \
    static void fname(void *ctx, const struct http_request *req, struct http_response *resp) \
    {                                                                                         \
        mg_host_op(ctx, req, resp, op);                                                       \
    }

MG_HOST_ROUTE(mg_clear_a, zone_clear_a)
MG_HOST_ROUTE(mg_clear_aaaa, zone_clear_aaaa)
MG_HOST_ROUTE(mg_clear_caa, zone_clear_caa)
MG_HOST_ROUTE(mg_clear_cname, zone_clear_cname)
MG_HOST_ROUTE(mg_clear_txt, zone_clear_txt)
MG_HOST_ROUTE(mg_set_servfail, zone_set_servfail)
MG_HOST_ROUTE(mg_clear_servfail, zone_clear_servfail)
MG_HOST_ROUTE(mg_clear_ns, zone_clear_ns)

/* RFC 8659 section 4.1: a tag is 1-15 ASCII letters and digits. */
static bool mg_caa_tag_ok(const char *t)
{
    size_t n = strlen(t);
    if (n < 1 || n > 15)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)t[i]))
            return false;
    }
    return true;
}

static void mg_add_caa(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char host[ZONE_NAME_MAX];
    const char *hs;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    const cJSON *arr = mg_member(j, "policies");
    if (!mg_str(resp, j, "host", &hs))
        goto out;
    if (arr != NULL && !cJSON_IsNull(arr) && !cJSON_IsArray(arr)) {
        mg_fail(resp, 400, "json: member \"policies\" must be an array of {tag, value}");
        goto out;
    }
    size_t n = arr != NULL && cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (hs[0] == '\0' || n == 0) {
        mg_fail(resp, 400, "host and policies must not be empty");
        goto out;
    }
    if (!mg_name(resp, j, "host", host))
        goto out;
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        const char *tag, *value;
        int64_t flags;
        bool has_flags;
        if (!cJSON_IsObject(c)) {
            mg_fail(resp, 400, "json: member \"policies\" must be an array of {tag, value}");
            goto out;
        }
        if (!mg_str(resp, c, "tag", &tag) || !mg_str(resp, c, "value", &value) ||
            !mg_int(resp, c, "flags", 0, 255, &flags, &has_flags))
            goto out;
        if (!mg_caa_tag_ok(tag)) {
            mg_fail(resp, 400, "policies: tag \"%s\" must be 1-15 letters and digits", tag);
            goto out;
        }
        if (strlen(value) > MG_CAA_VALUE_MAX) {
            mg_fail(resp, 400, "policies: value longer than %d bytes", MG_CAA_VALUE_MAX);
            goto out;
        }
    }
    if (mg_rrset_size(d->zones, host, LDNS_RR_TYPE_CAA) + n > ZONE_MAX_PER_RRSET) {
        mg_fail(resp, 400, "policies: at most %d per name", ZONE_MAX_PER_RRSET);
        goto out;
    }
    cJSON_ArrayForEach(c, arr)
    {
        const char *tag = "", *value = "";
        int64_t flags = 0;
        bool has_flags;
        /* Validated above; these cannot fail now. */
        (void)mg_str(resp, c, "tag", &tag);
        (void)mg_str(resp, c, "value", &value);
        (void)mg_int(resp, c, "flags", 0, 255, &flags, &has_flags);
        enum mc_err err = zone_add_caa(d->zones, host, (uint8_t)flags, tag, value);
        if (err != MC_OK) {
            mg_store_fail(resp, err, "policies");
            goto out;
        }
    }
    mg_ok(resp);
out:
    cJSON_Delete(j);
}

static void mg_set_cname(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char host[ZONE_NAME_MAX], target[ZONE_NAME_MAX];
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (mg_name(resp, j, "host", host) && mg_name(resp, j, "target", target)) {
        enum mc_err err = zone_set_cname(d->zones, host, target);
        if (err != MC_OK)
            mg_store_fail(resp, err, "cname");
        else
            mg_ok(resp);
    }
    cJSON_Delete(j);
}

/* challtestsrv's /set-txt appends: two calls for one name give two TXT records, which is
 * what a wildcard plus base-domain order needs. */
static void mg_set_txt(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char host[ZONE_NAME_MAX];
    const char *value;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (mg_name(resp, j, "host", host) && mg_req_str(resp, j, "value", ZONE_TXT_MAX, &value)) {
        enum mc_err err = zone_add_txt(d->zones, host, value, strlen(value));
        if (err != MC_OK)
            mg_store_fail(resp, err, "value");
        else
            mg_ok(resp);
    }
    cJSON_Delete(j);
}

/* --- challenge responders ------------------------------------------------------------- */

/* Calls with one or two string members and one chal_store call. A delete of something
 * absent is 200, as in challtestsrv. */
static void mg_chal_op(struct dnsmock *d, const struct http_request *req,
                       struct http_response *resp, const char *k1, const char *k2,
                       enum mc_err (*op2)(struct chal_store *, const char *, const char *),
                       enum mc_err (*op1)(struct chal_store *, const char *))
{
    const char *v1, *v2 = NULL;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (!mg_req_str(resp, j, k1, MG_TEXT_MAX, &v1))
        goto out;
    if (k2 != NULL && !mg_req_str(resp, j, k2, MG_TEXT_MAX, &v2))
        goto out;
    enum mc_err err = k2 != NULL ? op2(d->chals, v1, v2) : op1(d->chals, v1);
    if (err == MC_OK || (k2 == NULL && err == MC_ERR_NOT_FOUND))
        mg_ok(resp);
    else
        mg_store_fail(resp, err, k1);
out:
    cJSON_Delete(j);
}

static void mg_add_http01(void *ctx, const struct http_request *req, struct http_response *resp)
{
    mg_chal_op(ctx, req, resp, "token", "content", chal_add_http01, NULL);
}

static void mg_del_http01(void *ctx, const struct http_request *req, struct http_response *resp)
{
    mg_chal_op(ctx, req, resp, "token", NULL, NULL, chal_del_http01);
}

static void mg_add_redirect(void *ctx, const struct http_request *req,
                            struct http_response *resp)
{
    mg_chal_op(ctx, req, resp, "path", "targetURL", chal_add_redirect, NULL);
}

static void mg_del_redirect(void *ctx, const struct http_request *req,
                            struct http_response *resp)
{
    mg_chal_op(ctx, req, resp, "path", NULL, NULL, chal_del_redirect);
}

static void mg_add_tlsalpn01(void *ctx, const struct http_request *req,
                             struct http_response *resp)
{
    mg_chal_op(ctx, req, resp, "host", "content", chal_add_tlsalpn01, NULL);
}

static void mg_del_tlsalpn01(void *ctx, const struct http_request *req,
                             struct http_response *resp)
{
    mg_chal_op(ctx, req, resp, "host", NULL, NULL, chal_del_tlsalpn01);
}

/* --- histories ------------------------------------------------------------------------ */

static void mg_history(struct dnsmock *d, const struct http_request *req,
                       struct http_response *resp, enum history_kind kind)
{
    const char *host;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (mg_req_str(resp, j, "host", ZONE_NAME_MAX, &host)) {
        cJSON *arr = history_get(d->history, kind, host);
        if (arr == NULL)
            mg_fail(resp, 500, "out of memory");
        else
            mg_history_reply(resp, arr);
        cJSON_Delete(arr);
    }
    cJSON_Delete(j);
}

static void mg_dns_history(void *ctx, const struct http_request *req, struct http_response *resp)
{
    mg_history(ctx, req, resp, HISTORY_DNS);
}

static void mg_http_history(void *ctx, const struct http_request *req,
                            struct http_response *resp)
{
    mg_history(ctx, req, resp, HISTORY_HTTP);
}

static void mg_tlsalpn_history(void *ctx, const struct http_request *req,
                               struct http_response *resp)
{
    mg_history(ctx, req, resp, HISTORY_TLSALPN);
}

static void mg_clear_history(void *ctx, const struct http_request *req,
                             struct http_response *resp)
{
    struct dnsmock *d = ctx;
    const char *host, *type;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (!mg_str(resp, j, "host", &host) || !mg_str(resp, j, "type", &type))
        goto out;
    if (host[0] == '\0') {
        mg_fail(resp, 400, "host parameter must not be empty");
        goto out;
    }
    enum history_kind kind;
    if (strcmp(type, "dns") == 0) {
        kind = HISTORY_DNS;
    } else if (strcmp(type, "http") == 0) {
        kind = HISTORY_HTTP;
    } else if (strcmp(type, "tlsalpn") == 0) {
        kind = HISTORY_TLSALPN;
    } else {
        mg_fail(resp, 400, "\"%.64s\" event type unknown", type);
        goto out;
    }
    history_clear(d->history, kind, host);
    mg_ok(resp);
out:
    cJSON_Delete(j);
}

/* --- dnsmock's own: NS, zones, mode, reset -------------------------------------------- */

static void mg_add_ns(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char host[ZONE_NAME_MAX], ns[ZONE_NAME_MAX];
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (mg_name(resp, j, "host", host) && mg_name(resp, j, "nameserver", ns)) {
        enum mc_err err = zone_add_ns(d->zones, host, ns);
        if (err != MC_OK)
            mg_store_fail(resp, err, "nameserver");
        else
            mg_ok(resp);
    }
    cJSON_Delete(j);
}

/* Reads an optional uint32 member of the SOA object into *v (left alone when absent). */
static bool mg_soa_u32(struct http_response *resp, const cJSON *soa, const char *key,
                       uint32_t *v)
{
    int64_t x;
    bool present;
    if (!mg_int(resp, soa, key, 0, UINT32_MAX, &x, &present))
        return false;
    if (present)
        *v = (uint32_t)x;
    return true;
}

static void mg_add_zone(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char apex[ZONE_NAME_MAX], ns[ZONE_NAME_MAX];
    const char *nss;
    struct zone_soa soa;
    bool have_soa = false;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (!mg_name(resp, j, "zone", apex) || !mg_str(resp, j, "ns", &nss))
        goto out;
    if (nss[0] != '\0' && zone_name_normalize(nss, ns, sizeof(ns)) != MC_OK) {
        mg_fail(resp, 400, "ns: \"%s\" is not a valid DNS name", nss);
        goto out;
    }
    const cJSON *js = mg_member(j, "soa");
    if (js != NULL && !cJSON_IsNull(js)) {
        const char *mname, *rname;
        if (!cJSON_IsObject(js)) {
            mg_fail(resp, 400, "json: member \"soa\" must be an object");
            goto out;
        }
        /* zone.h's defaults for whatever the caller left out. */
        memset(&soa, 0, sizeof(soa));
        const char *base = strcmp(apex, ".") == 0 ? "" : apex;
        int w1 = snprintf(soa.mname, sizeof(soa.mname), "ns1.%s", base);
        int w2 = snprintf(soa.rname, sizeof(soa.rname), "hostmaster.%s", base);
        bool fits = w1 > 0 && (size_t)w1 < sizeof(soa.mname) && w2 > 0 &&
                    (size_t)w2 < sizeof(soa.rname);
        soa.serial = 1;
        soa.refresh = 3600;
        soa.retry = 900;
        soa.expire = 604800;
        soa.minimum = 0;
        if (!mg_str(resp, js, "mname", &mname) || !mg_str(resp, js, "rname", &rname))
            goto out;
        if (!fits && (mname[0] == '\0' || rname[0] == '\0')) {
            mg_fail(resp, 400, "soa: zone name too long for the default mname/rname; give both");
            goto out;
        }
        if (mname[0] != '\0' && zone_name_normalize(mname, soa.mname, sizeof(soa.mname)) != MC_OK) {
            mg_fail(resp, 400, "soa.mname: not a valid DNS name");
            goto out;
        }
        if (rname[0] != '\0' && zone_name_normalize(rname, soa.rname, sizeof(soa.rname)) != MC_OK) {
            mg_fail(resp, 400, "soa.rname: not a valid DNS name");
            goto out;
        }
        if (!mg_soa_u32(resp, js, "serial", &soa.serial) ||
            !mg_soa_u32(resp, js, "refresh", &soa.refresh) ||
            !mg_soa_u32(resp, js, "retry", &soa.retry) ||
            !mg_soa_u32(resp, js, "expire", &soa.expire) ||
            !mg_soa_u32(resp, js, "minimum", &soa.minimum))
            goto out;
        have_soa = true;
    }
    enum mc_err err = zone_add_zone(d->zones, apex, have_soa ? &soa : NULL,
                                    nss[0] != '\0' ? ns : NULL);
    if (err != MC_OK)
        mg_store_fail(resp, err, "zone");
    else
        mg_ok(resp);
out:
    cJSON_Delete(j);
}

static void mg_del_zone(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char apex[ZONE_NAME_MAX];
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (mg_name(resp, j, "zone", apex)) {
        enum mc_err err = zone_remove_zone(d->zones, apex);
        if (err == MC_ERR_NOT_FOUND)
            mg_fail(resp, 404, "zone: %s is not a zone (no SOA)", apex);
        else if (err != MC_OK)
            mg_store_fail(resp, err, "zone");
        else
            mg_ok(resp);
    }
    cJSON_Delete(j);
}

static void mg_set_mode(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    const char *mode;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (mg_str(resp, j, "mode", &mode)) {
        if (strcmp(mode, "strict") == 0) {
            zone_set_mode(d->zones, ZONE_MODE_STRICT);
            mg_ok(resp);
        } else if (strcmp(mode, "compat") == 0) {
            zone_set_mode(d->zones, ZONE_MODE_COMPAT);
            mg_ok(resp);
        } else {
            mg_fail(resp, 400, "mode must be \"strict\" or \"compat\"");
        }
    }
    cJSON_Delete(j);
}

static void mg_reset(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    cJSON *j = mg_body(req, resp, true);
    if (j == NULL)
        return;
    zone_clear_all(d->zones);
    /* Validated at start-up, so these cannot fail. */
    if (zone_set_default_ipv4(d->zones, d->default_ipv4) != MC_OK ||
        zone_set_default_ipv6(d->zones, d->default_ipv6) != MC_OK) {
        mg_fail(resp, 500, "could not restore the default addresses");
        goto out;
    }
    zone_set_mode(d->zones, d->strict ? ZONE_MODE_STRICT : ZONE_MODE_COMPAT);
    chal_store_clear(d->chals);
    history_clear_all(d->history);
    fault_engine_clear(d->faults);
    log_msg(LOGL_INFO, "mgmt.reset", "remote=%s", req->remote_addr);
    mg_ok(resp);
out:
    cJSON_Delete(j);
}

/* --- DNS faults ----------------------------------------------------------------------- */

/* Queries are matched in canonical form ("www.example.com."), so a rule's target is put in
 * that form too: "*.Example.com" becomes "*.example.com.", an exact name is normalized as
 * every other name here; "*" and "prefix*" globs are left as they are. A target that is
 * not a name gets 400 rather than a rule that can never fire. */
static enum mc_err mg_fault_target_canonical(struct fault_match *m, char *err, size_t errn)
{
    char canon[ZONE_NAME_MAX + 2];
    const char *t = m->target;
    size_t len;

    if (t == NULL || strcmp(t, "*") == 0)
        return MC_OK;
    len = strlen(t);
    if (len > 0 && t[len - 1] == '*' && strncmp(t, "*.", 2) != 0)
        return MC_OK;
    bool wildcard = strncmp(t, "*.", 2) == 0;
    if (zone_name_normalize(wildcard ? t + 2 : t, canon + (wildcard ? 2 : 0),
                            sizeof(canon) - 2) != MC_OK) {
        snprintf(err, errn, "target \"%s\" is not a DNS name or glob", t);
        return MC_ERR_INVALID;
    }
    if (wildcard && strcmp(canon + 2, ".") == 0)
        memcpy(canon, "*", 2); /* every name below the root: all names */
    else if (wildcard)
        memcpy(canon, "*.", 2);
    char *copy = strdup(canon);
    if (copy == NULL) {
        snprintf(err, errn, "out of memory");
        return MC_ERR_NOMEM;
    }
    free(m->target);
    m->target = copy;
    return MC_OK;
}

static void mg_add_dns_fault(void *ctx, const struct http_request *req,
                             struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char err[256] = "";
    struct fault_match m;
    struct fault_action a;
    cJSON *empty = NULL;
    memset(&m, 0, sizeof(m));
    memset(&a, 0, sizeof(a));
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    const cJSON *c;
    cJSON_ArrayForEach(c, j)
    {
        if (c->string == NULL || (strcmp(c->string, "match") != 0 && strcmp(c->string, "action") != 0)) {
            mg_fail(resp, 400, "unknown member \"%s\" (expected match and action)",
                    c->string != NULL ? c->string : "");
            goto out;
        }
    }
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(j, "match");
    const cJSON *ja = cJSON_GetObjectItemCaseSensitive(j, "action");
    if (jm == NULL || cJSON_IsNull(jm)) {
        empty = cJSON_CreateObject();
        if (empty == NULL) {
            mg_fail(resp, 500, "out of memory");
            goto out;
        }
        jm = empty;
    }
    if (!cJSON_IsObject(jm)) {
        mg_fail(resp, 400, "json: member \"match\" must be an object");
        goto out;
    }
    if (ja == NULL || !cJSON_IsObject(ja)) {
        mg_fail(resp, 400, "json: member \"action\" must be an object");
        goto out;
    }
    if (fault_match_parse(jm, &m, err, sizeof(err)) != MC_OK) {
        mg_fail(resp, 400, "match: %s", err[0] != '\0' ? err : "invalid");
        goto out;
    }
    if (mg_fault_target_canonical(&m, err, sizeof(err)) != MC_OK) {
        mg_fail(resp, 400, "match: %s", err);
        goto out;
    }
    if (dnsfault_action_parse(ja, &a, err, sizeof(err)) != MC_OK) {
        mg_fail(resp, 400, "action: %s", err[0] != '\0' ? err : "invalid");
        goto out;
    }
    uint64_t id = 0;
    enum mc_err e = fault_engine_add(d->faults, &m, &a, j, &id);
    if (e == MC_ERR_LIMIT) {
        mg_fail(resp, 400, "at most %d fault rules", FAULT_MAX_RULES);
        goto out;
    }
    if (e != MC_OK) {
        mg_store_fail(resp, e, "fault");
        goto out;
    }
    log_msg(LOGL_INFO, "mgmt.fault_added", "id=%" PRIu64, id);
    cJSON *r = cJSON_CreateObject();
    if (r != NULL && cJSON_AddNumberToObject(r, "id", (double)id) == NULL) {
        cJSON_Delete(r);
        r = NULL;
    }
    mg_json_reply(resp, r);
    cJSON_Delete(r);
out:
    fault_match_clear(&m);
    cJSON_Delete(empty);
    cJSON_Delete(j);
}

static void mg_del_dns_fault(void *ctx, const struct http_request *req,
                             struct http_response *resp)
{
    struct dnsmock *d = ctx;
    int64_t id = 0;
    bool present;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    if (!mg_int(resp, j, "id", 1, INT64_C(9007199254740992), &id, &present))
        goto out;
    if (!present) {
        mg_fail(resp, 400, "id parameter of POST body must not be empty");
        goto out;
    }
    if (fault_engine_remove(d->faults, (uint64_t)id) != MC_OK)
        mg_fail(resp, 404, "no fault rule with id %" PRId64, id);
    else
        mg_ok(resp);
out:
    cJSON_Delete(j);
}

static void mg_clear_dns_faults(void *ctx, const struct http_request *req,
                                struct http_response *resp)
{
    struct dnsmock *d = ctx;
    cJSON *j = mg_body(req, resp, true);
    if (j == NULL)
        return;
    fault_engine_clear(d->faults);
    mg_ok(resp);
    cJSON_Delete(j);
}

static void mg_dns_faults(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char seed[32];
    cJSON *r = cJSON_CreateObject();
    cJSON *rules = fault_engine_list(d->faults);
    (void)req;
    /* A 64-bit seed does not survive a double: print its digits as a raw number. */
    snprintf(seed, sizeof(seed), "%" PRIu64, fault_engine_seed(d->faults));
    cJSON *js = cJSON_CreateRaw(seed);
    if (r == NULL || rules == NULL || js == NULL) {
        cJSON_Delete(js);
        cJSON_Delete(rules);
        cJSON_Delete(r);
        mg_fail(resp, 500, "out of memory");
        return;
    }
    cJSON_AddItemToObject(r, "seed", js);
    cJSON_AddItemToObject(r, "rules", rules);
    mg_json_reply(resp, r);
    cJSON_Delete(r);
}

static void mg_set_fault_seed(void *ctx, const struct http_request *req,
                              struct http_response *resp)
{
    struct dnsmock *d = ctx;
    uint64_t seed = 0;
    cJSON *j = mg_body(req, resp, false);
    if (j == NULL)
        return;
    const cJSON *m = mg_member(j, "seed");
    if (m != NULL && cJSON_IsString(m) && m->valuestring != NULL) {
        const char *s = m->valuestring;
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || end == s || *end != '\0' || errno != 0) {
            mg_fail(resp, 400, "seed must be a positive integer");
            goto out;
        }
        seed = v;
    } else if (m != NULL && cJSON_IsNumber(m)) {
        double v = m->valuedouble;
        if (v < 1 || v > 9007199254740992.0 || v != (double)(uint64_t)v) {
            mg_fail(resp, 400, "seed must be a positive integer (give large seeds as strings)");
            goto out;
        }
        seed = (uint64_t)v;
    } else {
        mg_fail(resp, 400, "json: member \"seed\" must be a positive integer");
        goto out;
    }
    if (seed == 0) {
        mg_fail(resp, 400, "seed must be a positive integer");
        goto out;
    }
    fault_engine_reseed(d->faults, seed);
    log_msg(LOGL_INFO, "mgmt.fault_seed", "seed=%" PRIu64, seed);
    mg_ok(resp);
out:
    cJSON_Delete(j);
}

/* --- server --------------------------------------------------------------------------- */

static const struct http_route mg_routes[] = {
    {"POST", "/set-default-ipv4", mg_set_default_ipv4},
    {"POST", "/set-default-ipv6", mg_set_default_ipv6},
    {"POST", "/add-a", mg_add_a},
    {"POST", "/clear-a", mg_clear_a},
    {"POST", "/add-aaaa", mg_add_aaaa},
    {"POST", "/clear-aaaa", mg_clear_aaaa},
    {"POST", "/add-caa", mg_add_caa},
    {"POST", "/clear-caa", mg_clear_caa},
    {"POST", "/set-cname", mg_set_cname},
    {"POST", "/clear-cname", mg_clear_cname},
    {"POST", "/set-txt", mg_set_txt},
    {"POST", "/clear-txt", mg_clear_txt},
    {"POST", "/set-servfail", mg_set_servfail},
    {"POST", "/clear-servfail", mg_clear_servfail},
    {"POST", "/add-http01", mg_add_http01},
    {"POST", "/del-http01", mg_del_http01},
    {"POST", "/add-redirect", mg_add_redirect},
    {"POST", "/del-redirect", mg_del_redirect},
    {"POST", "/add-tlsalpn01", mg_add_tlsalpn01},
    {"POST", "/del-tlsalpn01", mg_del_tlsalpn01},
    {"POST", "/dns-request-history", mg_dns_history},
    {"POST", "/http-request-history", mg_http_history},
    {"POST", "/tlsalpn01-request-history", mg_tlsalpn_history},
    {"POST", "/clear-request-history", mg_clear_history},
    {"POST", "/add-ns", mg_add_ns},
    {"POST", "/clear-ns", mg_clear_ns},
    {"POST", "/add-zone", mg_add_zone},
    {"POST", "/del-zone", mg_del_zone},
    {"POST", "/set-mode", mg_set_mode},
    {"POST", "/reset", mg_reset},
    {"POST", "/add-dns-fault", mg_add_dns_fault},
    {"POST", "/del-dns-fault", mg_del_dns_fault},
    {"POST", "/clear-dns-faults", mg_clear_dns_faults},
    {"GET", "/dns-faults", mg_dns_faults},
    {"POST", "/dns-faults", mg_dns_faults},
    {"POST", "/set-fault-seed", mg_set_fault_seed},
};

/* One debug line per call, refused ones included. */
static void mg_after(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    if (log_enabled(LOGL_DEBUG))
        log_msg(LOGL_DEBUG, "mgmt.request", "method=%s path=%s status=%d remote=%s",
                req->method, req->path, resp->status, req->remote_addr);
}

enum mc_err mgmt_start(struct dnsmock *d, const char *addr, struct http_server **out)
{
    char host[64];
    uint16_t port = 0;
    *out = NULL;
    enum mc_err err = http_split_hostport(addr, host, sizeof(host), &port);
    if (err != MC_OK)
        return err;
    struct http_server_config cfg = {
        /* ":8055" means every interface, as Go reads challtestsrv's flag. */
        .bind_addr = host[0] != '\0' ? host : "0.0.0.0",
        .port = port,
        .routes = mg_routes,
        .nroutes = sizeof(mg_routes) / sizeof(mg_routes[0]),
        .ctx = d,
        .max_body = MG_MAX_BODY,
        .threads = 2,
        .after = mg_after,
    };
    return http_server_start(&cfg, out);
}
