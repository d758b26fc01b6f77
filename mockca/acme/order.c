/* order.c: newOrder, orders, newAuthz, authorizations, challenges, finalize and certificate
 * download (RFC 8555 sections 7.4, 7.4.1, 7.4.2, 7.5; RFC 8738; RFC 9773 "replaces"). */
#include "mockca/acme/order.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "common/ari.h"
#include "common/b64url.h"
#include "common/csr.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pem.h"
#include "mockca/acme/render.h"
#include "mockca/acme/request.h"
#include "mockca/acme/wfe.h"
#include "mockca/ca.h"
#include "mockca/cconf.h"
#include "mockca/internal.h"
#include "mockca/issueq.h"
#include "mockca/ratelimit.h"
#include "mockca/store.h"
#include "mockca/vaq.h"

#define ORDER_TIME_MAX_LEN 64
#define ORDER_CSR_MAX_B64 (48 * 1024) /* an 8192-bit RSA CSR with 100 names fits */
#define ORDER_URL_MAX 512
/* Issuance waits a random 0..this many ms before signing unless PEBBLE_VA_NOSLEEP (or a
 * PEBBLE_VA_SLEEPTIME below it) says less: enough that a client which does not poll the
 * processing order sees it, short enough not to slow a test suite. */
#define ORDER_ISSUE_SLEEP_MAX_MS 1000

/* Every type a new authorization offers; the store drops those an identifier cannot use
 * (IPs get no DNS types, wildcards only DNS types). */
static const enum chall_type order_types[] = {CHALL_HTTP01, CHALL_DNS01, CHALL_TLSALPN01,
                                              CHALL_DNSACCOUNT01};

/* ---- small helpers ---------------------------------------------------------------- */

/* The id captured from the path; empty or over-long ids are answered as unknown. */
static const char *order_param(const struct http_request *req, size_t i)
{
    const char *s = req->nparams > i ? req->params[i] : "";
    return strnlen(s, STORE_ID_LEN + 1) <= STORE_ID_LEN ? s : "";
}

static void order_not_found(struct http_response *resp, const char *what)
{
    wfe_problemf(resp, ACME_P_MALFORMED, 404, "no such %s", what);
}

static enum mc_err order_location(struct mockca *m, struct http_response *resp, const char *path,
                                  const char *id)
{
    char *url = NULL;
    enum mc_err e = render_url(m->base_url, path, id, &url);

    if (e == MC_OK)
        e = http_response_header(resp, "Location", url);
    free(url);
    return e;
}

static uint64_t order_rand(void *ctx)
{
    return mockca_rand(ctx);
}

static int order_digits(const char *s, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* RFC 3339 date-time (section 5.6): YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), 't' and
 * 'z' accepted as the RFC allows; fractions are dropped. Unix seconds in *out. */
static bool order_parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    size_t n = strnlen(s, ORDER_TIME_MAX_LEN + 1), i = 19;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    time_t t;

    if (n < 20 || n > ORDER_TIME_MAX_LEN)
        return false;
    if (order_digits(s, 4, &y) || s[4] != '-' || order_digits(s + 5, 2, &mo) || s[7] != '-' ||
        order_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        order_digits(s + 11, 2, &h) || s[13] != ':' || order_digits(s + 14, 2, &mi) ||
        s[16] != ':' || order_digits(s + 17, 2, &sec))
        return false;
    if (s[i] == '.') {
        i++;
        if (s[i] < '0' || s[i] > '9')
            return false;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') {
        sign = 0;
    } else if ((s[i] == '+' || s[i] == '-') && n - i == 6 && s[i + 3] == ':' &&
               order_digits(s + i + 1, 2, &oh) == 0 && order_digits(s + i + 4, 2, &om) == 0 &&
               oh <= 23 && om <= 59) {
        sign = s[i] == '+' ? 1 : -1;
    } else {
        return false;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec > 59 ? 59 : sec;
    t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* timegm normalizes Feb 30 to March */
        return false;
    *out = (int64_t)t - sign * (oh * 3600 + om * 60);
    return true;
}

bool mockca_parse_rfc3339(const char *s, int64_t *out)
{
    return s != NULL && order_parse_time(s, out);
}

/* Whether the domainBlocklist holds name (a wildcard's base name) or one of its parents. */
static bool order_blocked(const struct mockca *m, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < m->cfg.n_domain_blocklist; i++) {
        const char *b = m->cfg.domain_blocklist[i];
        size_t bn;
        if (b == NULL)
            continue;
        if (b[0] == '*' && b[1] == '.')
            b += 2;
        bn = strlen(b);
        if (bn > 0 && b[bn - 1] == '.')
            bn--;
        if (bn == 0 || bn > n)
            continue; /* Pebble crashes here when the entry is longer than the name */
        if (strncasecmp(name + n - bn, b, bn) == 0 && (bn == n || name[n - bn - 1] == '.'))
            return true;
    }
    return false;
}

/* The client-conformance grade of RFC 8738 section 3 (cconf.h, IDENT-001): an "ip"
 * identifier in the canonical text form (normalized is what ident_list_add made of it,
 * NULL when it refused it), and no IP address as a "dns" identifier (which the DNS syntax
 * check lets through for IPv4). A DNS name is not graded. */
static void order_grade_ident(struct mockca *m, enum ident_type t, const char *value,
                              const char *normalized)
{
    unsigned char bin[16];

    if (t == IDENT_IP)
        cconf_grade(m->cconf, CCONF_IDENT_IP, normalized != NULL && strcmp(value, normalized) == 0,
                    "ip identifier \"%.64s\" is not in canonical form%s%.64s", value,
                    normalized != NULL ? " " : "", normalized != NULL ? normalized : "");
    else if (inet_pton(AF_INET, value, bin) == 1 || inet_pton(AF_INET6, value, bin) == 1)
        cconf_grade(m->cconf, CCONF_IDENT_IP, false,
                    "the IP address \"%.64s\" was ordered as a dns identifier", value);
}

/* Reads one identifier object into l, with the checks newOrder and newAuthz share. */
static enum acme_problem order_ident(struct mockca *m, const cJSON *obj, struct ident_list *l,
                                     struct acme_error *err)
{
    const char *type = NULL, *value = NULL;
    enum ident_type t;
    enum mc_err e;

    if (!cJSON_IsObject(obj) || json_get_string(obj, "type", &type) != MC_OK ||
        json_get_string(obj, "value", &value) != MC_OK)
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "an identifier must be an object with string type and value");
    if (strcmp(type, "dns") == 0)
        t = IDENT_DNS;
    else if (strcmp(type, "ip") == 0)
        t = IDENT_IP;
    else
        return acme_error_set(err, ACME_P_UNSUPPORTED_IDENTIFIER, 0,
                              "identifier type \"%.32s\" is not supported", type);
    if (t == IDENT_DNS && strchr(value, '*') != NULL &&
        (value[0] != '*' || value[1] != '.' || strchr(value + 1, '*') != NULL))
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "a wildcard is allowed only as the whole leftmost label: \"%.64s\"",
                              value);
    e = ident_list_add(l, t, value);
    order_grade_ident(m, t, value, e == MC_OK ? l->v[l->n - 1].value : NULL);
    if (e == MC_ERR_LIMIT)
        return acme_error_set(err, ACME_P_MALFORMED, 0, "more than %d identifiers",
                              IDENT_MAX_COUNT);
    if (e == MC_ERR_NOMEM)
        return acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
    if (e != MC_OK)
        return acme_error_set(err, ACME_P_REJECTED_IDENTIFIER, 0,
                              "\"%.64s\" is not a valid %s identifier", value,
                              t == IDENT_DNS ? "DNS" : "IP");
    if (t == IDENT_DNS) {
        const char *v = l->v[l->n - 1].value;
        const char *base = v[0] == '*' ? v + 2 : v;
        if (order_blocked(m, base))
            return acme_error_set(err, ACME_P_REJECTED_IDENTIFIER, 0,
                                  "the policy forbids issuing for \"%.64s\"", v);
    }
    return ACME_P_NONE;
}

/* Whether a refused identifier object names a real identifier (an object with string
 * "type" and "value"), so that its problem can carry it as a subproblem. */
static bool order_ident_named(const cJSON *obj)
{
    const char *t = NULL, *v = NULL;
    return cJSON_IsObject(obj) && json_get_string(obj, "type", &t) == MC_OK &&
           json_get_string(obj, "value", &v) == MC_OK;
}

/* Appends e, for the identifier obj as the client sent it, to subs (RFC 8555 section
 * 6.7.1). false when out of memory. */
static bool order_add_subproblem(cJSON *subs, const struct acme_error *e, const cJSON *obj)
{
    cJSON *sj = NULL, *id = NULL;
    const char *t = NULL, *v = NULL;

    if (json_get_string(obj, "type", &t) != MC_OK || json_get_string(obj, "value", &v) != MC_OK ||
        render_problem(e, NULL, &sj) != MC_OK)
        return false;
    id = cJSON_AddObjectToObject(sj, "identifier");
    if (id == NULL || cJSON_AddStringToObject(id, "type", t) == NULL ||
        cJSON_AddStringToObject(id, "value", v) == NULL || !cJSON_AddItemToArray(subs, sj)) {
        cJSON_Delete(sj);
        return false;
    }
    return true;
}

/* Answers the refused identifiers at once: one problem whose "subproblems" name each
 * identifier (RFC 8555 section 6.7.1). Its type is theirs when they agree, else malformed,
 * as in the RFC's own example; a lone refusal keeps its own detail. */
static void order_answer_subproblems(struct http_response *resp, cJSON *subs,
                                     const struct acme_error *first, bool same_type)
{
    struct acme_error top = *first;
    cJSON *j = NULL;
    char *text = NULL;
    int n = cJSON_GetArraySize(subs);

    if (!same_type)
        acme_error_set(&top, ACME_P_MALFORMED, 0, "%d identifiers were refused; see subproblems",
                       n);
    else if (n > 1)
        acme_error_set(&top, first->type, first->status,
                       "%d identifiers were refused; see subproblems", n);
    if (render_problem(&top, NULL, &j) != MC_OK)
        goto fail;
    cJSON_AddItemToObject(j, "subproblems", cJSON_Duplicate(subs, 1));
    if (cJSON_GetObjectItemCaseSensitive(j, "subproblems") == NULL)
        goto fail;
    text = cJSON_PrintUnformatted(j);
    if (text == NULL || http_response_body(resp, top.status, "application/problem+json", text,
                                           strlen(text)) != MC_OK)
        goto fail;
    cJSON_free(text);
    cJSON_Delete(j);
    return;
fail:
    cJSON_free(text);
    cJSON_Delete(j);
    wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
}

static const struct mockca_profile *order_profile(const struct mockca *m, const char *name)
{
    for (size_t i = 0; i < m->cfg.n_profiles; i++)
        if (m->cfg.profiles[i].name != NULL && name != NULL &&
            strcmp(m->cfg.profiles[i].name, name) == 0)
            return &m->cfg.profiles[i];
    return NULL;
}

/* The profile of an order that names none: the first one, or with randomProfile one drawn
 * from the seeded generator, as Pebble does. NULL when there are none. */
static const char *order_default_profile(struct mockca *m)
{
    size_t i = 0;

    if (m->cfg.n_profiles == 0)
        return NULL;
    if (m->cfg.random_profile && m->cfg.n_profiles > 1)
        i = (size_t)(mockca_rand(m) % m->cfg.n_profiles);
    return m->cfg.profiles[i].name;
}

/* Answers the order snapshot o with status; Location when asked. A processing order
 * carries Retry-After (Pebble's retryAfter.order), and so does a pending one that is polled
 * (status 200: its wait is for validations, so retryAfter.authz). */
static void order_answer_snap(struct mockca *m, struct http_response *resp,
                              const struct order_snap *o, int status, bool location)
{
    cJSON *j = NULL;

    if (render_order(m->base_url, o, &j) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot render the order");
        goto out;
    }
    if (location && order_location(m, resp, ACME_PATH_ORDER, o->id) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot set Location");
        goto out;
    }
    if (o->status == ORDER_PROCESSING)
        mockca_retry_after(m, resp, m->cfg.retry_after_order_s);
    else if (o->status == ORDER_PENDING && status == 200)
        mockca_retry_after(m, resp, m->cfg.retry_after_authz_s);
    wfe_json(resp, status, j);
out:
    cJSON_Delete(j);
}

/* Answers the stored order id with status; Location when asked. */
static void order_answer(struct mockca *m, struct http_response *resp, const char *id, int status,
                         bool location)
{
    struct order_snap o;

    memset(&o, 0, sizeof(o));
    if (store_order_get(m->store, id, &o) != MC_OK)
        order_not_found(resp, "order");
    else
        order_answer_snap(m, resp, &o, status, location);
    order_snap_clear(&o);
}

static void order_answer_authz(struct mockca *m, struct http_response *resp,
                               const struct authz_snap *a, int status, bool location)
{
    cJSON *j = NULL;

    if (render_authz(m->base_url, a, &j) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot render the authorization");
        goto out;
    }
    if (location && order_location(m, resp, ACME_PATH_AUTHZ, a->id) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot set Location");
        goto out;
    }
    if (a->status == AUTHZ_PENDING)
        mockca_retry_after(m, resp, m->cfg.retry_after_authz_s);
    wfe_json(resp, status, j);
out:
    cJSON_Delete(j);
}

/* ---- newOrder and the order ------------------------------------------------------------ */

/* Reads an optional RFC 3339 member into *out (0 when absent). */
static enum acme_problem order_opt_time(const cJSON *payload, const char *name, int64_t *out,
                                        struct acme_error *err)
{
    const char *s = NULL;
    enum mc_err e = json_get_string(payload, name, &s);

    *out = 0;
    if (e == MC_ERR_NOT_FOUND)
        return ACME_P_NONE;
    if (e != MC_OK || !order_parse_time(s, out) || *out <= 0)
        return acme_error_set(err, ACME_P_MALFORMED, 0, "%s must be an RFC 3339 date-time", name);
    return ACME_P_NONE;
}

/* RFC 9773 section 5: the certificate an order "replaces" must be one this account
 * ordered (unauthorized otherwise) and not one another order already replaces
 * (alreadyReplaced, 409), as Pebble checks; one we never issued is malformed, as Pebble
 * answers. It is marked replaced at once, check and mark in one store call, so that two
 * concurrent orders cannot both replace it; *hex (new) names it for undoing the mark if
 * the order is not created. false with the problem written. */
/* The rate limits of newOrder (config.h): an identifier with failedValidationsPerIdentifier
 * failed validations in the window is refused, then the order counts against
 * ordersPerAccount. Counting happens before the store creates the order, so a request
 * that passed every check counts even if the store then fails: an overcount by an
 * internal error is harmless, an undercount would let a loop through. false when resp
 * holds the 429. */
static bool order_rate_limits(struct mockca *m, const char *account_id,
                              const struct ident_list *idents, struct http_response *resp)
{
    const struct mockca_rate_limit *fv = &m->cfg.rl_failed_validations;
    const struct mockca_rate_limit *op = &m->cfg.rl_orders_per_account;
    char key[sizeof(VAQ_FAILED_KEY_PREFIX) + 4 + IDENT_MAX_LEN + 1], detail[ACME_DETAIL_MAX];
    int64_t retry_ms = 0;
    enum mc_err e;

    for (size_t i = 0; fv->count > 0 && i < idents->n; i++) {
        const struct ident *id = &idents->v[i];
        const char *v = id->value;
        if (id->type == IDENT_DNS && strncmp(v, "*.", 2) == 0)
            v += 2; /* a wildcard's failures are its base name's (vaq counts without "*.") */
        snprintf(key, sizeof(key), "%s%s:%s", VAQ_FAILED_KEY_PREFIX,
                 id->type == IDENT_IP ? "ip" : "dns", v);
        if (ratelimit_count(m->limits, key, fv->window_s * 1000) < fv->count)
            continue;
        /* Over the limit: take() counts nothing when it refuses and gives the wait. Should
         * failures leave the window between the two calls, take() counts one failure too
         * many and the order goes ahead, which is the right answer for it. */
        e = ratelimit_take(m->limits, key, fv->count, fv->window_s * 1000, &retry_ms);
        if (e != MC_ERR_LIMIT)
            continue;
        snprintf(detail, sizeof(detail),
                 "too many failed validations for \"%.253s\": %u in %lld seconds", id->value,
                 fv->count, (long long)fv->window_s);
        mockca_rate_limited(resp, retry_ms, detail);
        log_msg(LOGL_INFO, "acme.rate_limited", "limit=failedValidationsPerIdentifier ident=%s",
                id->value);
        return false;
    }
    if (op->count == 0)
        return true;
    snprintf(key, sizeof(key), "orders:%s", account_id);
    e = ratelimit_take(m->limits, key, op->count, op->window_s * 1000, &retry_ms);
    if (e == MC_ERR_LIMIT) {
        snprintf(detail, sizeof(detail), "too many new orders for this account: %u in %lld seconds",
                 op->count, (long long)op->window_s);
        mockca_rate_limited(resp, retry_ms, detail);
        log_msg(LOGL_INFO, "acme.rate_limited", "limit=ordersPerAccount account=%s", account_id);
        return false;
    }
    if (e != MC_OK)
        log_msg(LOGL_WARN, "acme.rate_limit", "limit=ordersPerAccount err=%s", mc_strerror(e));
    return true;
}

static bool order_mark_replaced(struct mockca *m, const char *account_id, const uint8_t *serial,
                                size_t serial_len, char **hex, struct http_response *resp)
{
    enum mc_err e;

    if (ari_serial_hex(serial, serial_len, hex) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot read the replaced serial");
        return false;
    }
    e = store_cert_mark_replaced(m->store, *hex, account_id);
    /* The client's part of RFC 9773 section 5 (cconf.h, ARI-001): it replaces a
     * certificate it got here. alreadyReplaced is a race between orders, not graded. */
    if (e == MC_OK || e == MC_ERR_NOT_FOUND || e == MC_ERR_MISMATCH)
        cconf_grade(m->cconf, CCONF_ARI_REPLACES, e == MC_OK,
                    "replaces names certificate %s, which %s", *hex,
                    e == MC_ERR_NOT_FOUND ? "this server did not issue" : "another account holds");
    if (e == MC_OK)
        return true;
    if (e == MC_ERR_MISMATCH)
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0,
                     "the certificate named by replaces belongs to another account");
    else if (e == MC_ERR_EXISTS)
        wfe_problemf(resp, ACME_P_ALREADY_REPLACED, 409,
                     "another order already replaces the certificate named by replaces");
    else if (e == MC_ERR_NOT_FOUND)
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "no certificate issued here matches replaces");
    else
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot check replaces: %s",
                     mc_strerror(e));
    free(*hex);
    *hex = NULL;
    return false;
}

void order_new(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct acme_error err;
    struct ident_list idents = {0};
    struct order_request orq;
    const cJSON *arr = NULL, *it;
    const char *profile = NULL, *replaces = NULL;
    uint8_t *aki = NULL, *serial = NULL;
    size_t aki_len = 0, serial_len = 0;
    char id[STORE_ID_LEN + 1], *replaced_hex = NULL;
    cJSON *subs = NULL;
    struct acme_error first;
    bool same_type = true;
    enum mc_err e;

    memset(&err, 0, sizeof(err));
    memset(&first, 0, sizeof(first));
    memset(&orq, 0, sizeof(orq));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &s, resp))
        return;
    if (json_get_array(s.payload, "identifiers", &arr) != MC_OK || cJSON_GetArraySize(arr) == 0) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "identifiers must be a non-empty array");
        goto out;
    }
    if (cJSON_GetArraySize(arr) > IDENT_MAX_COUNT) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "more than %d identifiers", IDENT_MAX_COUNT);
        goto out;
    }
    subs = cJSON_CreateArray();
    if (subs == NULL) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    /* Every identifier is looked at, so one answer names every refused one; an entry that
     * is not an identifier at all (or out of memory) is answered at once. */
    cJSON_ArrayForEach(it, arr)
    {
        if (order_ident(m, it, &idents, &err) == ACME_P_NONE)
            continue;
        if (err.type == ACME_P_SERVER_INTERNAL || !order_ident_named(it)) {
            wfe_problem(resp, &err);
            goto out;
        }
        if (cJSON_GetArraySize(subs) == 0)
            first = err;
        else if (err.type != first.type)
            same_type = false;
        if (!order_add_subproblem(subs, &err, it)) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
            goto out;
        }
    }
    if (cJSON_GetArraySize(subs) > 0) {
        order_answer_subproblems(resp, subs, &first, same_type);
        goto out;
    }
    if (order_opt_time(s.payload, "notBefore", &orq.not_before, &err) != ACME_P_NONE ||
        order_opt_time(s.payload, "notAfter", &orq.not_after, &err) != ACME_P_NONE) {
        wfe_problem(resp, &err);
        goto out;
    }
    if (orq.not_before != 0 && orq.not_after != 0 && orq.not_after <= orq.not_before) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "notAfter must be after notBefore");
        goto out;
    }
    e = json_get_string(s.payload, "profile", &profile);
    if (e == MC_ERR_INVALID) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "profile must be a string");
        goto out;
    }
    if (e == MC_OK && order_profile(m, profile) == NULL) {
        wfe_problemf(resp, ACME_P_INVALID_PROFILE, 0, "profile \"%.64s\" is not offered", profile);
        goto out;
    }
    if (e != MC_OK)
        profile = order_default_profile(m);
    e = json_get_string(s.payload, "replaces", &replaces);
    if (e == MC_ERR_INVALID ||
        (e == MC_OK && ari_parse_id(replaces, &aki, &aki_len, &serial, &serial_len) != MC_OK)) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0,
                     "replaces must be an ARI certificate identifier (RFC 9773 section 4.1)");
        goto out;
    }
    orq.replaces = e == MC_OK ? replaces : NULL;
    if (!order_rate_limits(m, s.account_id, &idents, resp))
        goto out;
    if (orq.replaces != NULL && !order_mark_replaced(m, s.account_id, serial, serial_len,
                                                     &replaced_hex, resp))
        goto out;
    orq.idents = &idents;
    orq.profile = profile;
    orq.types = order_types;
    orq.n_types = sizeof(order_types) / sizeof(order_types[0]);
    orq.reuse_pct = m->cfg.authz_reuse_pct;
    orq.rand64 = order_rand;
    orq.rand_ctx = m;
    e = store_order_new(m->store, s.account_id, &orq, id);
    if (e != MC_OK && replaced_hex != NULL) /* no order replaces it after all */
        store_cert_unmark_replaced(m->store, replaced_hex);
    if (e == MC_ERR_UNSUPPORTED) {
        wfe_problemf(resp, ACME_P_UNSUPPORTED_IDENTIFIER, 0,
                     "no challenge type can prove one of the identifiers");
        goto out;
    }
    if (e == MC_ERR_STATE || e == MC_ERR_NOT_FOUND) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "the account is not valid");
        goto out;
    }
    if (e == MC_ERR_LIMIT) {
        wfe_problemf(resp, ACME_P_RATE_LIMITED, 0, "the store is full");
        goto out;
    }
    if (e != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot create the order: %s",
                     mc_strerror(e));
        goto out;
    }
    log_msg(LOGL_INFO, "acme.order_new", "order=%s account=%s names=%zu", id, s.account_id,
            idents.n);
    order_answer(m, resp, id, 201, true);
out:
    cJSON_Delete(subs);
    free(replaced_hex);
    free(aki);
    free(serial);
    ident_list_free(&idents);
    acme_signed_free(&s);
}

void order_get(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct order_snap o;
    const char *id = order_param(req, 0);

    memset(&o, 0, sizeof(o));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_EMPTY, &s, resp))
        return;
    if (store_order_get(m->store, id, &o) != MC_OK) {
        order_not_found(resp, "order");
        goto out;
    }
    if (strcmp(o.account_id, s.account_id) != 0) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "the order belongs to another account");
        goto out;
    }
    order_answer(m, resp, id, 200, false);
out:
    order_snap_clear(&o);
    acme_signed_free(&s);
}

/* ---- authorizations --------------------------------------------------------------------- */

void order_new_authz(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct acme_error err;
    struct ident_list l = {0};
    struct authz_snap a;
    const cJSON *obj = NULL;
    char id[STORE_ID_LEN + 1];
    enum mc_err e;

    memset(&err, 0, sizeof(err));
    memset(&a, 0, sizeof(a));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &s, resp))
        return;
    if (json_get_object(s.payload, "identifier", &obj) != MC_OK) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "identifier must be an object");
        goto out;
    }
    if (order_ident(m, obj, &l, &err) != ACME_P_NONE) {
        wfe_problem(resp, &err);
        goto out;
    }
    /* Section 7.4.1: a pre-authorization names the exact identifier, so it cannot cover
     * a wildcard. */
    if (l.v[0].type == IDENT_DNS && l.v[0].value[0] == '*') {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "a wildcard cannot be pre-authorized");
        goto out;
    }
    e = store_authz_new(m->store, s.account_id, &l.v[0], order_types,
                        sizeof(order_types) / sizeof(order_types[0]), id);
    if (e == MC_ERR_UNSUPPORTED) {
        wfe_problemf(resp, ACME_P_UNSUPPORTED_IDENTIFIER, 0,
                     "no challenge type can prove the identifier");
        goto out;
    }
    if (e == MC_ERR_STATE || e == MC_ERR_NOT_FOUND) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "the account is not valid");
        goto out;
    }
    if (e == MC_OK)
        e = store_authz_get(m->store, id, &a);
    if (e != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot create the authorization: %s",
                     mc_strerror(e));
        goto out;
    }
    order_answer_authz(m, resp, &a, 201, true);
out:
    authz_snap_clear(&a);
    ident_list_free(&l);
    acme_signed_free(&s);
}

void order_authz(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct authz_snap a;
    const char *id = order_param(req, 0), *status = NULL;
    enum mc_err e;

    memset(&a, 0, sizeof(a));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_ANY, &s, resp))
        return;
    if (store_authz_get(m->store, id, &a) != MC_OK) {
        order_not_found(resp, "authorization");
        goto out;
    }
    if (strcmp(a.account_id, s.account_id) != 0) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "the authorization belongs to another account");
        goto out;
    }
    if (s.payload != NULL) {
        if (json_get_string(s.payload, "status", &status) != MC_OK ||
            strcmp(status, "deactivated") != 0) {
            wfe_problemf(resp, ACME_P_MALFORMED, 0,
                         "the only update is {\"status\": \"deactivated\"}");
            goto out;
        }
        e = store_authz_deactivate(m->store, id);
        if (e == MC_ERR_STATE) {
            wfe_problemf(resp, ACME_P_MALFORMED, 0,
                         "an authorization that is %s cannot be deactivated",
                         authz_status_name(a.status));
            goto out;
        }
        authz_snap_clear(&a);
        if (e == MC_OK)
            e = store_authz_get(m->store, id, &a);
        if (e != MC_OK) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot deactivate: %s", mc_strerror(e));
            goto out;
        }
    }
    order_answer_authz(m, resp, &a, 200, false);
out:
    authz_snap_clear(&a);
    acme_signed_free(&s);
}

/* ---- challenges ------------------------------------------------------------------------- */

/* Queues the validation of challenge c of authorization a for the account that signed s. A
 * job that cannot be queued fails the challenge (serverInternal), so the client sees a
 * final state instead of waiting forever. */
static void order_enqueue(struct mockca *m, const struct acme_signed *s, const struct authz_snap *a,
                          const struct challenge_snap *c)
{
    struct vaq_job job;
    struct acme_error err;
    char *thumb = NULL, *acct_url = NULL, keyauth[VAQ_KEYAUTH_MAX + 1];
    enum mc_err e;

    memset(&job, 0, sizeof(job));
    memset(&err, 0, sizeof(err));
    e = jwk_thumbprint(s->key, &thumb);
    if (e == MC_OK)
        e = render_url(m->base_url, ACME_PATH_ACCOUNT, s->account_id, &acct_url);
    if (e == MC_OK) {
        int w = snprintf(keyauth, sizeof(keyauth), "%s.%s", c->token, thumb);
        if (w < 0 || (size_t)w >= sizeof(keyauth))
            e = MC_ERR_INVALID;
    }
    if (e == MC_OK) {
        job.challenge_id = c->id;
        job.type = c->type;
        job.ident = &a->ident;
        job.wildcard = a->wildcard;
        job.token = c->token;
        job.key_authorization = keyauth;
        job.account_url = acct_url;
        e = m->vaq != NULL ? vaq_push(m->vaq, &job) : MC_ERR_STATE;
    }
    if (e != MC_OK) {
        acme_error_set(&err, ACME_P_SERVER_INTERNAL, 0, "cannot queue the validation: %s",
                       mc_strerror(e));
        if (store_challenge_fail(m->store, c->id, &err) != MC_OK)
            log_msg(LOGL_WARN, "acme.challenge", "challenge=%s err=cannot_fail", c->id);
    }
    free(thumb);
    free(acct_url);
}

void order_challenge(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct authz_snap a;
    struct challenge_snap c;
    cJSON *j = NULL;
    char *up = NULL;
    const char *id = order_param(req, 0);
    enum mc_err e;

    memset(&a, 0, sizeof(a));
    memset(&c, 0, sizeof(c));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_ANY, &s, resp))
        return;
    if (store_challenge_get(m->store, id, &c) != MC_OK ||
        store_authz_get(m->store, c.authz_id, &a) != MC_OK) {
        order_not_found(resp, "challenge");
        goto out;
    }
    if (strcmp(a.account_id, s.account_id) != 0) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "the challenge belongs to another account");
        goto out;
    }
    if (s.payload != NULL) {
        /* Section 7.5.1: the response is an empty object (clients may add nothing else
         * we need); starting it twice just answers its current state. */
        e = store_challenge_begin(m->store, id);
        if (e == MC_OK) {
            order_enqueue(m, &s, &a, &c);
        } else if (e != MC_ERR_STATE) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot start the challenge: %s",
                         mc_strerror(e));
            goto out;
        }
        if (store_challenge_get(m->store, id, &c) != MC_OK) {
            order_not_found(resp, "challenge");
            goto out;
        }
    }
    if (render_challenge(m->base_url, &c, &j) != MC_OK ||
        render_url(m->base_url, ACME_PATH_AUTHZ, c.authz_id, &up) != MC_OK ||
        wfe_link(resp, up, "up") != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot render the challenge");
        goto out;
    }
    if (c.status == CHALL_PROCESSING || c.status == CHALL_PENDING)
        mockca_retry_after(m, resp, m->cfg.retry_after_authz_s);
    wfe_json(resp, 200, j);
out:
    free(up);
    cJSON_Delete(j);
    authz_snap_clear(&a);
    acme_signed_free(&s);
}

/* ---- finalize ------------------------------------------------------------------------- */

/* The CSR checks of section 7.4; ACME_P_NONE or badCSR with a detail. */
static enum acme_problem order_check_csr(struct cconf *cc, const struct order_snap *o,
                                         EVP_PKEY *account_key, const struct csr_info *info,
                                         struct acme_error *err)
{
    enum key_type kt;
    bool cn_ok, key_ok = !jwk_equal(info->key, account_key);
    bool names_ok = ident_list_same_set(&info->sans, &o->idents);

    /* The client's duties among these (cconf.h): both graded before either refuses. */
    cconf_grade(cc, CCONF_CSR_KEY, key_ok, "the CSR's key is the account key");
    cconf_grade(cc, CCONF_CSR_NAMES, names_ok,
                "the CSR names %zu identifiers, not exactly the order's %zu", info->sans.n,
                o->idents.n);
    if (key_classify(info->key, &kt) != MC_OK)
        return acme_error_set(err, ACME_P_BAD_CSR, 0, "the CSR's key type or size is not accepted");
    if (!key_ok)
        return acme_error_set(err, ACME_P_BAD_CSR, 0, "the CSR's key must not be the account key");
    if (!names_ok)
        return acme_error_set(err, ACME_P_BAD_CSR, 0,
                              "the CSR's names must be exactly the order's identifiers");
    if (info->cn != NULL) {
        cn_ok = false;
        for (size_t i = 0; i < o->idents.n; i++)
            if (strcasecmp(o->idents.v[i].value, info->cn) == 0)
                cn_ok = true;
        if (!cn_ok)
            return acme_error_set(err, ACME_P_BAD_CSR, 0,
                                  "the CSR's common name \"%.64s\" is not an identifier", info->cn);
    }
    return ACME_P_NONE;
}

/* One issuance for the issuance queue: what order_issue needs of the order and of its CSR,
 * owned by the job (the CSR's key and names moved out of finalize). */
struct order_issue_job {
    struct mockca *m;
    char order_id[STORE_ID_LEN + 1];
    char account_id[STORE_ID_LEN + 1];
    char *profile; /* NULL: none */
    int64_t not_before, not_after;
    struct csr_info info;
};

static void order_issue_job_free(void *arg)
{
    struct order_issue_job *j = arg;

    if (j == NULL)
        return;
    free(j->profile);
    csr_info_free(&j->info);
    free(j);
}

/* Issues for order j (now processing) and completes it; on failure the order is made
 * invalid with serverInternal. */
static void order_issue(void *arg)
{
    struct order_issue_job *j = arg;
    struct mockca *m = j->m;
    const struct csr_info *info = &j->info;
    const struct mockca_profile *p = order_profile(m, j->profile);
    struct ca_issue_request r;
    struct acme_error err;
    char *serial = NULL, *pem = NULL;
    enum mc_err e;

    memset(&r, 0, sizeof(r));
    memset(&err, 0, sizeof(err));
    r.public_key = info->key;
    r.sans = &info->sans;
    r.common_name = info->cn;
    r.promote_cn = p != NULL && p->promote_cn;
    r.must_staple = info->must_staple;
    r.not_before = j->not_before;
    r.not_after = j->not_after;
    r.validity = p != NULL ? p->validity_s : 0;
    e = ca_issue_pem(m->ca, &r, &pem, &serial);
    if (e == MC_OK)
        e = store_cert_add(m->store, serial, j->account_id, j->order_id, pem);
    if (e == MC_OK)
        e = store_order_complete(m->store, j->order_id, serial);
    if (e != MC_OK) {
        acme_error_set(&err, ACME_P_SERVER_INTERNAL, 0, "issuance failed: %s", mc_strerror(e));
        if (store_order_fail(m->store, j->order_id, &err) != MC_OK)
            log_msg(LOGL_WARN, "acme.finalize", "order=%s err=cannot_fail", j->order_id);
    } else {
        log_msg(LOGL_INFO, "acme.issued", "order=%s serial=%s", j->order_id, serial);
    }
    free(serial);
    free(pem);
}

/* Pebble's issuance is asynchronous; so is ours, with a short random wait before signing
 * unless PEBBLE_VA_NOSLEEP, so that clients must poll. */
static int64_t order_issue_delay(struct mockca *m)
{
    int64_t max_ms;

    if (m->cfg.va_nosleep || m->cfg.va_sleep_max_s <= 0)
        return 0;
    max_ms = m->cfg.va_sleep_max_s * 1000;
    if (max_ms > ORDER_ISSUE_SLEEP_MAX_MS)
        max_ms = ORDER_ISSUE_SLEEP_MAX_MS;
    return (int64_t)(mockca_rand(m) % (uint64_t)(max_ms + 1));
}

/* Hands order o (now processing) and the CSR in *info (moved into the job, zeroed here) to
 * the issuance workers. When the job cannot be queued the order is made invalid with
 * serverInternal, so the client sees a final state instead of polling forever: false then. */
static bool order_queue_issue(struct mockca *m, const struct order_snap *o, struct csr_info *info)
{
    struct order_issue_job *j = calloc(1, sizeof(*j));
    struct issueq_job qj;
    struct acme_error err;
    enum mc_err e = MC_ERR_NOMEM;

    memset(&qj, 0, sizeof(qj));
    if (j != NULL) {
        j->m = m;
        memcpy(j->order_id, o->id, sizeof(j->order_id));
        memcpy(j->account_id, o->account_id, sizeof(j->account_id));
        j->not_before = o->not_before;
        j->not_after = o->not_after;
        j->info = *info;
        memset(info, 0, sizeof(*info));
        e = MC_OK;
        if (o->profile != NULL) {
            j->profile = strdup(o->profile);
            if (j->profile == NULL)
                e = MC_ERR_NOMEM;
        }
    }
    if (e == MC_OK) {
        qj.run = order_issue;
        qj.free_fn = order_issue_job_free;
        qj.arg = j;
        qj.delay_ms = order_issue_delay(m);
        /* A stuck_processing fault rule may name the account (afault.h). */
        snprintf(qj.subject, sizeof(qj.subject), "%s", o->account_id);
        e = m->issueq != NULL ? issueq_push(m->issueq, &qj) : MC_ERR_STATE;
    }
    if (e == MC_OK)
        return true; /* the queue owns j now */
    order_issue_job_free(j);
    memset(&err, 0, sizeof(err));
    acme_error_set(&err, ACME_P_SERVER_INTERNAL, 0, "cannot queue the issuance: %s",
                   mc_strerror(e));
    if (store_order_fail(m->store, o->id, &err) != MC_OK)
        log_msg(LOGL_WARN, "acme.finalize", "order=%s err=cannot_fail", o->id);
    return false;
}

void order_finalize(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct acme_error err;
    struct order_snap o;
    struct csr_info info;
    X509_REQ *csr = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    const char *id = order_param(req, 0), *b64 = NULL;
    enum mc_err e;

    memset(&err, 0, sizeof(err));
    memset(&o, 0, sizeof(o));
    memset(&info, 0, sizeof(info));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &s, resp))
        return;
    if (store_order_get(m->store, id, &o) != MC_OK) {
        order_not_found(resp, "order");
        goto out;
    }
    if (strcmp(o.account_id, s.account_id) != 0) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "the order belongs to another account");
        goto out;
    }
    /* Section 7.4: finalizing an order that is not ready is 403 orderNotReady. */
    if (o.status != ORDER_READY) {
        wfe_problemf(resp, ACME_P_ORDER_NOT_READY, 403, "the order is %s, not ready",
                     order_status_name(o.status));
        goto out;
    }
    if (json_get_string(s.payload, "csr", &b64) != MC_OK) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "csr must be a base64url string");
        goto out;
    }
    if (strnlen(b64, ORDER_CSR_MAX_B64 + 1) > ORDER_CSR_MAX_B64 ||
        b64url_decode(b64, strlen(b64), &der, &der_len) != MC_OK ||
        csr_parse_der_keyless(der, der_len, &csr) != MC_OK) {
        wfe_problemf(resp, ACME_P_BAD_CSR, 0, "the CSR does not parse");
        goto out;
    }
    e = csr_read(csr, &info);
    if (e != MC_OK) {
        wfe_problemf(resp, ACME_P_BAD_CSR, 0, "%s",
                     e == MC_ERR_VERIFY ? "the CSR's signature does not verify"
                                        : "the CSR's names do not parse");
        goto out;
    }
    if (order_check_csr(m->cconf, &o, s.key, &info, &err) != ACME_P_NONE) {
        wfe_problem(resp, &err);
        goto out;
    }
    e = store_order_begin_finalize(m->store, id);
    if (e == MC_ERR_STATE) {
        wfe_problemf(resp, ACME_P_ORDER_NOT_READY, 403, "the order is no longer ready");
        goto out;
    }
    if (e != MC_OK) {
        order_not_found(resp, "order");
        goto out;
    }
    /* Section 7.4: the order is answered "processing" with Retry-After, as Pebble does, and
     * signed by a worker; the client polls it to "valid". The snapshot is taken before the
     * job is queued, so the answer is always the processing order. */
    order_snap_clear(&o);
    if (store_order_get(m->store, id, &o) != MC_OK) {
        order_not_found(resp, "order");
        goto out;
    }
    if (order_queue_issue(m, &o, &info))
        order_answer_snap(m, resp, &o, 200, true);
    else
        order_answer(m, resp, id, 200, true); /* now invalid */
out:
    csr_info_free(&info);
    X509_REQ_free(csr);
    free(der);
    order_snap_clear(&o);
    acme_signed_free(&s);
}

/* ---- certificates ------------------------------------------------------------------ */

static void order_cert_chain(struct mockca *m, const struct http_request *req,
                             struct http_response *resp, const char *serial, long chain)
{
    struct acme_signed s;
    struct cert_snap c;
    X509 *leaf = NULL;
    char *pem = NULL, *base = NULL, alt[ORDER_URL_MAX];
    size_t n = ca_chain_count(m->ca);
    enum mc_err e;

    memset(&c, 0, sizeof(c));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_EMPTY, &s, resp))
        return;
    if (store_cert_get(m->store, serial, &c) != MC_OK) {
        order_not_found(resp, "certificate");
        goto out;
    }
    if (strcmp(c.account_id, s.account_id) != 0) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "the certificate belongs to another account");
        goto out;
    }
    if (chain < 0 || (size_t)chain >= n) {
        order_not_found(resp, "alternate chain");
        goto out;
    }
    /* The leaf is sent as stored (parsing it again per download cost 7% of mockca's CPU
     * in profiles); only a text without its final newline goes through the parser. */
    e = ca_chain_pem_text(m->ca, c.leaf_pem, (size_t)chain, &pem);
    if (e == MC_ERR_INVALID) {
        e = pem_read_cert(c.leaf_pem, strlen(c.leaf_pem), &leaf);
        if (e == MC_OK)
            e = ca_chain_pem(m->ca, leaf, (size_t)chain, &pem);
    }
    if (e != MC_OK || render_url(m->base_url, ACME_PATH_CERT, serial, &base) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot build the chain");
        goto out;
    }
    /* Section 7.4.2: every other chain as Link rel="alternate". */
    for (size_t i = 0; i < n; i++) {
        if (i == (size_t)chain || (chain != 0 && i == 0))
            continue;
        snprintf(alt, sizeof(alt), "%s/alternate/%zu", base, i);
        if (wfe_link(resp, alt, "alternate") != MC_OK)
            log_msg(LOGL_WARN, "acme.cert", "err=too_many_links");
    }
    if (chain != 0 && wfe_link(resp, base, "alternate") != MC_OK)
        log_msg(LOGL_WARN, "acme.cert", "err=too_many_links");
    if (http_response_body(resp, 200, "application/pem-certificate-chain", pem, strlen(pem)) !=
        MC_OK)
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
out:
    free(pem);
    free(base);
    X509_free(leaf);
    cert_snap_clear(&c);
    acme_signed_free(&s);
}

/* A serial as ca_issue writes it; anything else is answered as unknown. */
static const char *order_serial_param(const struct http_request *req)
{
    const char *s = req->nparams > 0 ? req->params[0] : "";
    return strnlen(s, STORE_SERIAL_MAX + 1) <= STORE_SERIAL_MAX ? s : "";
}

void order_cert(void *ctx, const struct http_request *req, struct http_response *resp)
{
    order_cert_chain(ctx, req, resp, order_serial_param(req), 0);
}

void order_cert_alternate(void *ctx, const struct http_request *req, struct http_response *resp)
{
    const char *s = req->nparams > 1 ? req->params[1] : "";
    char *end = NULL;
    long n;

    errno = 0;
    n = strtol(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || errno != 0 || end == NULL || *end != '\0' || n >= CA_MAX_CHAINS)
        n = -1; /* answered 404 after the request's own checks */
    order_cert_chain(ctx, req, resp, order_serial_param(req), n);
}
