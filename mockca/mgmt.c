/* mgmt.c: mockca's management API (mgmt.h has every path and answer). Pebble's endpoints
 * answer as Pebble's do, down to the status codes its users' scripts test for; ours are
 * listed after them in the route table. */
#include "mockca/mgmt.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"
#include "mockca/acme/afault.h"
#include "mockca/acme/ari.h"
#include "mockca/acme/nonce.h"
#include "mockca/ca.h"
#include "mockca/cc/cc.h"
#include "mockca/cconf.h"
#include "mockca/internal.h"
#include "mockca/store.h"

#define MGMT_THREADS 2
/* The largest body a route takes is /set-renewal-info/'s: a leaf PEM (a few KB even for
 * RSA 4096 and many names) and a small JSON text. */
#define MGMT_MAX_BODY (64 * 1024)
#define MGMT_ARI_JSON_DEPTH 4
#define MGMT_EXPLANATION_MAX 1024 /* store_cert_set_window's cap */
#define MGMT_MAX_INDEX_DIGITS 3
#define MGMT_CLOCK_JSON_DEPTH 2

/* ---- helpers ------------------------------------------------------------------------- */

static void mgmt_error(struct http_response *resp, int status, const char *message)
{
    if (http_response_error(resp, status, message) != MC_OK)
        resp->status = status;
}

/* A chain index as Pebble's strconv.Atoi reads it, limited to chains that exist: false
 * for anything else, which Pebble answers 404 (not 400) and so do we. */
static bool mgmt_index(const struct mockca *m, const struct http_request *req, size_t *out)
{
    const char *s = req->nparams > 0 ? req->params[0] : "";
    size_t n = strlen(s), v = 0;

    if (n == 0 || n > MGMT_MAX_INDEX_DIGITS)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    if (v >= ca_chain_count(m->ca))
        return false;
    *out = v;
    return true;
}

/* Link rel="alternate" to what of every other chain, as Pebble adds. */
static enum mc_err mgmt_alternates(const struct mockca *m, struct http_response *resp,
                                   const char *what, size_t self)
{
    char link[256];
    size_t n = ca_chain_count(m->ca);

    for (size_t i = 0; i < n; i++) {
        if (i == self)
            continue;
        snprintf(link, sizeof(link), "<%s/%s/%zu>;rel=\"alternate\"", m->mgmt_url, what, i);
        enum mc_err e = http_response_header(resp, "Link", link);
        if (e != MC_OK)
            return e;
    }
    return MC_OK;
}

enum mgmt_pem_kind { MGMT_ROOT, MGMT_INTERMEDIATE, MGMT_ROOT_KEY, MGMT_INTERMEDIATE_KEY };

static void mgmt_pem(struct mockca *m, const struct http_request *req, struct http_response *resp,
                     enum mgmt_pem_kind kind)
{
    static const char *const what[] = {"roots", "intermediates", "root-keys", "intermediate-keys"};
    char *pem = NULL;
    size_t idx = 0;
    enum mc_err e;
    bool key = kind == MGMT_ROOT_KEY || kind == MGMT_INTERMEDIATE_KEY;

    if (!mgmt_index(m, req, &idx)) {
        mgmt_error(resp, 404, "no chain with that index");
        return;
    }
    switch (kind) {
    case MGMT_ROOT:
        e = ca_root_pem(m->ca, idx, &pem);
        break;
    case MGMT_INTERMEDIATE:
        e = ca_intermediate_pem(m->ca, idx, 0, &pem);
        break;
    case MGMT_ROOT_KEY:
        e = ca_root_key_pem(m->ca, idx, &pem);
        break;
    default:
        e = ca_intermediate_key_pem(m->ca, idx, 0, &pem);
        break;
    }
    if (e == MC_ERR_NOT_FOUND) {
        mgmt_error(resp, 404, "no chain with that index");
        goto out;
    }
    if (e == MC_OK)
        e = mgmt_alternates(m, resp, what[kind], idx);
    if (e == MC_OK)
        e = http_response_body(resp, 200,
                               key ? "application/x-pem-file; charset=utf-8"
                                   : "application/pem-certificate-chain; charset=utf-8",
                               pem, strlen(pem));
    if (e != MC_OK) {
        http_response_reset(resp);
        mgmt_error(resp, 500, mc_strerror(e));
    }
out:
    free(pem);
}

static void mgmt_root(void *ctx, const struct http_request *req, struct http_response *resp)
{
    mgmt_pem(ctx, req, resp, MGMT_ROOT);
}

static void mgmt_intermediate(void *ctx, const struct http_request *req, struct http_response *resp)
{
    mgmt_pem(ctx, req, resp, MGMT_INTERMEDIATE);
}

static void mgmt_root_key(void *ctx, const struct http_request *req, struct http_response *resp)
{
    mgmt_pem(ctx, req, resp, MGMT_ROOT_KEY);
}

static void mgmt_intermediate_key(void *ctx, const struct http_request *req,
                                  struct http_response *resp)
{
    mgmt_pem(ctx, req, resp, MGMT_INTERMEDIATE_KEY);
}

/* ---- /cert-status-by-serial/HEX ------------------------------------------------------ */

/* s as Go's big.Int.Text(16) writes the number it reads: lowercase, no leading zeros, so
 * `openssl x509 -serial` output (uppercase, maybe zero-padded) finds the certificate.
 * false when s is empty, not hex or too long to be a serial of ours. */
static bool mgmt_serial(const char *s, char *out, size_t outn)
{
    size_t n = strlen(s), j = 0;

    if (n == 0 || n > STORE_SERIAL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        if (j == 0 && c == '0' && i + 1 < n)
            continue;
        if (j + 1 >= outn)
            return false;
        out[j++] = c;
    }
    out[j] = '\0';
    return true;
}

/* Go's time.Time.String() of a UTC instant with whole seconds, the form Pebble writes
 * RevokedAt in ("2019-07-12 22:13:20 +0000 UTC"). */
static void mgmt_go_time(int64_t unix_s, char *buf, size_t n)
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm) == 0)
        snprintf(buf, n, "%s", "");
}

/* True when the certificate serial has passed its notAfter on mockca's clock. Pebble
 * knows only Valid and Revoked; ours adds Expired so that a test that moves the virtual
 * clock past a certificate's lifetime sees it (the CA keeps the date until ca_prune). */
static bool mgmt_cert_expired(struct mockca *m, const char *serial)
{
    int64_t na = 0;

    return ca_not_after(m->ca, serial, &na) == MC_OK && clock_now(m->clock) >= na;
}

static void mgmt_cert_status(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    char serial[STORE_SERIAL_MAX + 1], when[64];
    struct cert_snap snap;
    enum ca_status st = CA_STATUS_UNKNOWN;
    int reason = 0;
    int64_t revoked_at = 0;
    cJSON *j = NULL;
    enum mc_err e;

    memset(&snap, 0, sizeof(snap));
    if (!mgmt_serial(req->nparams > 0 ? req->params[0] : "", serial, sizeof(serial))) {
        mgmt_error(resp, 400, "the serial must be hexadecimal");
        return;
    }
    e = ca_status(m->ca, serial, &st, &reason, &revoked_at);
    if (e == MC_ERR_INVALID) {
        mgmt_error(resp, 400, "the serial must be hexadecimal");
        return;
    }
    if (e != MC_OK || st == CA_STATUS_UNKNOWN) {
        mgmt_error(resp, 404, "no certificate with that serial");
        return;
    }
    /* The store drops a leaf after its retention time while the CA keeps the status until
     * the certificate expires: answer the status with an empty PEM rather than a 404. */
    if (store_cert_get(m->store, serial, &snap) != MC_OK)
        memset(&snap, 0, sizeof(snap));
    j = cJSON_CreateObject();
    if (j == NULL ||
        cJSON_AddStringToObject(j, "Status", st == CA_STATUS_REVOKED ? "Revoked"
                                             : mgmt_cert_expired(m, serial) ? "Expired"
                                                                                   : "Valid") ==
            NULL ||
        cJSON_AddStringToObject(j, "Serial", serial) == NULL ||
        cJSON_AddStringToObject(j, "Certificate", snap.leaf_pem != NULL ? snap.leaf_pem : "") ==
            NULL) {
        mgmt_error(resp, 500, "out of memory");
        goto out;
    }
    if (st == CA_STATUS_REVOKED) {
        mgmt_go_time(revoked_at, when, sizeof(when));
        if (cJSON_AddNumberToObject(j, "Reason", reason) == NULL ||
            cJSON_AddStringToObject(j, "RevokedAt", when) == NULL) {
            mgmt_error(resp, 500, "out of memory");
            goto out;
        }
    }
    if (http_response_json(resp, 200, j) != MC_OK)
        mgmt_error(resp, 500, "out of memory");
out:
    cJSON_Delete(j);
    cert_snap_clear(&snap);
}

/* ---- /clock (ours) ---------------------------------------------------------------------- */

static void mgmt_clock_answer(struct mockca *m, struct http_response *resp)
{
    int64_t now = clock_now_ms(m->clock);
    char buf[40];
    cJSON *j = cJSON_CreateObject();

    if (j == NULL || cJSON_AddNumberToObject(j, "now_ms", (double)now) == NULL ||
        cJSON_AddStringToObject(j, "now", clock_format_rfc3339(now, buf, sizeof(buf))) == NULL ||
        cJSON_AddBoolToObject(j, "frozen", clock_is_frozen(m->clock)) == NULL ||
        http_response_json(resp, 200, j) != MC_OK) {
        http_response_reset(resp);
        mgmt_error(resp, 500, "out of memory");
    }
    cJSON_Delete(j);
}

static void mgmt_clock_get(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    mgmt_clock_answer(ctx, resp);
}

/* A boolean member that must be true when present ("freeze": true); false is refused
 * rather than read as "do not", so {"freeze": false} is not mistaken for a resume. */
static enum mc_err mgmt_true(const cJSON *j, const char *key, bool *out)
{
    bool v = false;
    enum mc_err e = json_get_bool(j, key, &v);

    *out = false;
    if (e == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (e != MC_OK || !v)
        return MC_ERR_INVALID;
    *out = true;
    return MC_OK;
}

static void mgmt_clock_post(void *ctx, const struct http_request *req, struct http_response *resp)
{
    static const char *const known[] = {"set_ms", "advance_ms", "freeze", "resume", "reset"};
    /* A century either way is far more than any test needs and keeps sums in range. */
    const int64_t max_ms = (int64_t)100 * 366 * 86400 * 1000;
    struct mockca *m = ctx;
    cJSON *j = NULL;
    const cJSON *it;
    int64_t set_ms = 0, advance_ms = 0;
    bool has_set, has_advance, freeze, resume, reset;
    enum mc_err e;

    if (json_parse((const char *)req->body, req->body_len, MGMT_MAX_BODY, MGMT_CLOCK_JSON_DEPTH,
                   &j) != MC_OK ||
        !cJSON_IsObject(j) || cJSON_GetArraySize(j) == 0) {
        mgmt_error(resp, 400,
                   "want a JSON object with set_ms, advance_ms, freeze, resume or reset");
        goto out;
    }
    cJSON_ArrayForEach(it, j)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(it->string, known[i]) == 0)
                ok = true;
        if (!ok) {
            mgmt_error(resp, 400, "unknown member (set_ms, advance_ms, freeze, resume, reset)");
            goto out;
        }
    }
    e = json_get_int(j, "set_ms", 0, max_ms, &set_ms);
    has_set = e == MC_OK;
    if (e != MC_OK && e != MC_ERR_NOT_FOUND) {
        mgmt_error(resp, 400, "set_ms: want milliseconds since the epoch");
        goto out;
    }
    e = json_get_int(j, "advance_ms", -max_ms, max_ms, &advance_ms);
    has_advance = e == MC_OK;
    if (e != MC_OK && e != MC_ERR_NOT_FOUND) {
        mgmt_error(resp, 400, "advance_ms: want a whole number of milliseconds");
        goto out;
    }
    if (mgmt_true(j, "freeze", &freeze) != MC_OK || mgmt_true(j, "resume", &resume) != MC_OK ||
        mgmt_true(j, "reset", &reset) != MC_OK || (freeze && resume)) {
        mgmt_error(resp, 400, "freeze, resume and reset take true; not freeze with resume");
        goto out;
    }
    if (has_set)
        clock_set(m->clock, set_ms);
    if (has_advance)
        clock_advance(m->clock, advance_ms);
    if (freeze)
        clock_freeze(m->clock);
    if (resume)
        clock_resume(m->clock);
    if (reset)
        clock_reset(m->clock);
    log_msg(LOGL_INFO, "mgmt.clock", "now_ms=%lld frozen=%d", (long long)clock_now_ms(m->clock),
            clock_is_frozen(m->clock) ? 1 : 0);
    mgmt_clock_answer(m, resp);
out:
    cJSON_Delete(j);
}

/* ---- /sweep (ours) ----------------------------------------------------------------------- */

/* One housekeeping pass now (what the sweeper thread does every sweepIntervalSeconds):
 * for users with a frozen or advanced clock who want retention applied at once. */
static void mgmt_sweep(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct store_counts sc;
    struct mallinfo2 mi;
    size_t dropped = 0, pruned = 0;
    cJSON *j = NULL;

    (void)req;
    mockca_sweep(m, &dropped, &pruned);
    store_counts(m->store, &sc);
    /* The allocator's view (all arenas), so a memory measurement can tell objects still
     * held (heapInUse) from freed memory not handed back (heapFree). */
    mi = mallinfo2();
    j = cJSON_CreateObject();
    if (j == NULL || cJSON_AddNumberToObject(j, "dropped", (double)dropped) == NULL ||
        cJSON_AddNumberToObject(j, "pruned", (double)pruned) == NULL ||
        cJSON_AddNumberToObject(j, "accounts", (double)sc.accounts) == NULL ||
        cJSON_AddNumberToObject(j, "orders", (double)sc.orders) == NULL ||
        cJSON_AddNumberToObject(j, "authzs", (double)sc.authzs) == NULL ||
        cJSON_AddNumberToObject(j, "challenges", (double)sc.challenges) == NULL ||
        cJSON_AddNumberToObject(j, "certs", (double)sc.certs) == NULL ||
        cJSON_AddNumberToObject(j, "registry", (double)ca_registry_count(m->ca)) == NULL ||
        cJSON_AddNumberToObject(j, "nonces", (double)nonce_store_count(m->nonces)) == NULL ||
        cJSON_AddNumberToObject(j, "heapInUse", (double)(mi.uordblks + mi.hblkhd)) == NULL ||
        cJSON_AddNumberToObject(j, "heapFree", (double)mi.fordblks) == NULL ||
        http_response_json(resp, 200, j) != MC_OK) {
        http_response_reset(resp);
        mgmt_error(resp, 500, "out of memory");
    }
    cJSON_Delete(j);
}

/* ---- /set-renewal-info/ (Pebble's) ------------------------------------------------------ */

/* ARIResponse: a renewalInfo document (RFC 9773 section 4.2). Pebble stores the text and
 * serves it back unread; we keep the window and explanationURL, so the text must be one:
 * {"suggestedWindow": {"start": RFC 3339, "end": RFC 3339}, "explanationURL"?: string}. */
static bool mgmt_ari_response(const char *text, int64_t *start, int64_t *end,
                              const char **explanation, cJSON **owned)
{
    const cJSON *w, *st, *en, *ex;
    cJSON *j = NULL;

    *owned = NULL;
    if (json_parse(text, strlen(text), MGMT_MAX_BODY, MGMT_ARI_JSON_DEPTH, &j) != MC_OK ||
        !cJSON_IsObject(j))
        goto bad;
    w = cJSON_GetObjectItemCaseSensitive(j, "suggestedWindow");
    st = cJSON_GetObjectItemCaseSensitive(w, "start");
    en = cJSON_GetObjectItemCaseSensitive(w, "end");
    if (!cJSON_IsObject(w) || !cJSON_IsString(st) || !cJSON_IsString(en) ||
        !mockca_parse_rfc3339(st->valuestring, start) ||
        !mockca_parse_rfc3339(en->valuestring, end) || *end <= *start)
        goto bad;
    ex = cJSON_GetObjectItemCaseSensitive(j, "explanationURL");
    *explanation = NULL;
    if (ex != NULL && !cJSON_IsNull(ex)) {
        if (!cJSON_IsString(ex) || strlen(ex->valuestring) > MGMT_EXPLANATION_MAX)
            goto bad;
        *explanation = ex->valuestring;
    }
    *owned = j;
    return true;
bad:
    cJSON_Delete(j);
    return false;
}

/* Pebble's body: {"Certificate": leaf PEM, "ARIResponse": renewalInfo JSON as a string};
 * Go's decoder matches the names without case, so "certificate" and "ariResponse" do too
 * (cJSON_GetObjectItem is case-insensitive). 200 with an empty body, 400 for a body,
 * PEM or ARIResponse that does not parse, 404 for a certificate this CA does not hold. */
static void mgmt_set_renewal_info(void *ctx, const struct http_request *req,
                                  struct http_response *resp)
{
    struct mockca *m = ctx;
    cJSON *j = NULL, *ari = NULL;
    const cJSON *cert, *text;
    const char *explanation = NULL;
    X509 *x = NULL;
    char *serial = NULL;
    int64_t start = 0, end = 0;
    enum mc_err e;

    if (json_parse((const char *)req->body, req->body_len, MGMT_MAX_BODY, MGMT_CLOCK_JSON_DEPTH,
                   &j) != MC_OK ||
        !cJSON_IsObject(j)) {
        mgmt_error(resp, 400, "want a JSON object with Certificate and ARIResponse");
        goto out;
    }
    cert = cJSON_GetObjectItem(j, "Certificate");
    text = cJSON_GetObjectItem(j, "ARIResponse");
    if (!cJSON_IsString(cert) || !cJSON_IsString(text)) {
        mgmt_error(resp, 400, "Certificate and ARIResponse must be strings");
        goto out;
    }
    if (pem_read_cert(cert->valuestring, strlen(cert->valuestring), &x) != MC_OK ||
        x509_serial_hex(x, &serial) != MC_OK) {
        mgmt_error(resp, 400, "Certificate: want a PEM certificate");
        goto out;
    }
    if (!mgmt_ari_response(text->valuestring, &start, &end, &explanation, &ari)) {
        mgmt_error(resp, 400,
                   "ARIResponse: want {\"suggestedWindow\": {\"start\", \"end\"}} with RFC 3339 "
                   "times, start before end, and an optional explanationURL");
        goto out;
    }
    e = ari_set_window(m, serial, start, end, explanation);
    if (e == MC_ERR_NOT_FOUND) {
        mgmt_error(resp, 404, "no certificate with that serial");
        goto out;
    }
    if (e != MC_OK) {
        mgmt_error(resp, e == MC_ERR_INVALID ? 400 : 500, mc_strerror(e));
        goto out;
    }
    log_msg(LOGL_INFO, "mgmt.set_renewal_info", "serial=%s start=%lld end=%lld", serial,
            (long long)start, (long long)end);
    resp->status = 200;
out:
    free(serial);
    X509_free(x);
    cJSON_Delete(ari);
    cJSON_Delete(j);
}

/* GET|POST /cc/...: CertCentral's management actions (mockca/cc/cc.h, cc_mgmt_handle),
 * JSON in and out, errors in CertCentral's envelope: POST /cc/api-keys {"role", "key"?,
 * "account_id"?} -> 201 {"key", "role", "account_id"}; POST /cc/email-dcv/approve
 * {"order_id", "dns_name"} or {"domain_id"}; GET /cc/emails; POST
 * /cc/organization/ID/validation {"type": "ov"|"ev", "status"}; POST /cc/sweep. The
 * sub-path is the last capture. */
static void mgmt_cc(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;

    cc_mgmt_handle(m->cc, req, resp);
}

/* The listener is bound before mgmt_url is written and the start finishes; a request in
 * that window gets 503 instead of reading half-built state. */
static void mgmt_before(void *ctx, const struct http_request *req, struct http_response *resp)
{
    const struct mockca *m = ctx;

    (void)req;
    if (!atomic_load(&m->ready))
        mgmt_error(resp, 503, "starting");
}

/* ---- client conformance (cconf.h) ------------------------------------------------------ */

/* GET /conformance, /conformance/junit, /conformance/html: the grader's report in each of
 * report.h's forms; POST /conformance/reset: a new empty report (204); POST
 * /conformance/mode {"strict": bool}: strict or lenient from now on (200 {"strict": bool}). */
static void mgmt_conformance_form(struct mockca *m, enum cconf_form form, const char *type,
                                  struct http_response *resp)
{
    char *text = NULL;
    size_t len = 0;

    if (cconf_render(m->cconf, form, &text, &len) != MC_OK) {
        mgmt_error(resp, 500, "cannot render the conformance report");
        return;
    }
    if (http_response_body(resp, 200, type, text, len) != MC_OK)
        mgmt_error(resp, 500, "out of memory");
    free(text);
}

static void mgmt_conformance(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)req;
    mgmt_conformance_form(ctx, CCONF_JSON, "application/json", resp);
}

static void mgmt_conformance_junit(void *ctx, const struct http_request *req,
                                   struct http_response *resp)
{
    (void)req;
    mgmt_conformance_form(ctx, CCONF_JUNIT, "application/xml", resp);
}

static void mgmt_conformance_html(void *ctx, const struct http_request *req,
                                  struct http_response *resp)
{
    (void)req;
    mgmt_conformance_form(ctx, CCONF_HTML, "text/html; charset=utf-8", resp);
}

static void mgmt_conformance_reset(void *ctx, const struct http_request *req,
                                   struct http_response *resp)
{
    struct mockca *m = ctx;

    (void)req;
    if (cconf_reset(m->cconf) != MC_OK) {
        mgmt_error(resp, 500, "out of memory");
        return;
    }
    if (http_response_body(resp, 204, "text/plain", "", 0) != MC_OK)
        resp->status = 204;
}

static void mgmt_conformance_mode(void *ctx, const struct http_request *req,
                                  struct http_response *resp)
{
    struct mockca *m = ctx;
    cJSON *j = NULL, *out = NULL;
    bool strict = false;

    if (json_parse((const char *)req->body, req->body_len, MGMT_MAX_BODY, 2, &j) != MC_OK ||
        !cJSON_IsObject(j) || cJSON_GetArraySize(j) != 1 ||
        json_get_bool(j, "strict", &strict) != MC_OK) {
        mgmt_error(resp, 400, "want {\"strict\": true|false}");
        goto out;
    }
    cconf_set_strict(m->cconf, strict);
    log_msg(LOGL_INFO, "mgmt.conformance_mode", "strict=%d", strict ? 1 : 0);
    out = cJSON_CreateObject();
    if (out == NULL || cJSON_AddBoolToObject(out, "strict", cconf_is_strict(m->cconf)) == NULL ||
        http_response_json(resp, 200, out) != MC_OK)
        mgmt_error(resp, 500, "out of memory");
out:
    cJSON_Delete(out);
    cJSON_Delete(j);
}

/* ---- the route table ------------------------------------------------------------------- */

/* ---- fault rules (ours; mockca/acme/afault.h has the rule form) ------------------------ */

#define MGMT_FAULT_JSON_DEPTH 6

/* The body as a JSON object, or a 400 sent and NULL. An empty body reads as {} when
 * empty_ok. */
static cJSON *mgmt_fault_body(const struct http_request *req, struct http_response *resp,
                              bool empty_ok)
{
    cJSON *j = NULL;

    if (empty_ok && req->body_len == 0)
        return cJSON_CreateObject();
    if (json_parse((const char *)req->body, req->body_len, MGMT_MAX_BODY, MGMT_FAULT_JSON_DEPTH,
                   &j) != MC_OK ||
        !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        mgmt_error(resp, 400, "want a JSON object");
        return NULL;
    }
    return j;
}

static void mgmt_json(struct http_response *resp, int status, cJSON *j)
{
    if (j == NULL || http_response_json(resp, status, j) != MC_OK)
        mgmt_error(resp, 500, "out of memory");
    cJSON_Delete(j);
}

/* POST /add-fault {"server"?, "match"?, "action"} -> 200 {"id": N}. */
static void mgmt_add_fault(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    char err[256] = "";
    uint64_t id = 0;
    cJSON *j = mgmt_fault_body(req, resp, false), *r = NULL;
    enum mc_err e;

    if (j == NULL)
        return;
    e = afault_add_rule(m->faults, j, &id, err, sizeof(err));
    if (e == MC_ERR_INVALID || e == MC_ERR_LIMIT) {
        mgmt_error(resp, 400, err[0] != '\0' ? err : "invalid fault rule");
        goto out;
    }
    if (e != MC_OK) {
        mgmt_error(resp, 500, mc_strerror(e));
        goto out;
    }
    r = cJSON_CreateObject();
    if (r != NULL && cJSON_AddNumberToObject(r, "id", (double)id) == NULL) {
        cJSON_Delete(r);
        r = NULL;
    }
    mgmt_json(resp, 200, r);
out:
    cJSON_Delete(j);
}

/* POST /del-fault {"id": N}: 200, 404 for no such rule. */
static void mgmt_del_fault(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    int64_t id = 0;
    cJSON *j = mgmt_fault_body(req, resp, false);

    if (j == NULL)
        return;
    if (json_get_int(j, "id", 1, INT64_C(9007199254740992), &id) != MC_OK)
        mgmt_error(resp, 400, "id: a positive integer is required");
    else if (fault_engine_remove(m->faults, (uint64_t)id) != MC_OK)
        mgmt_error(resp, 404, "no fault rule with that id");
    else if (http_response_body(resp, 200, "text/plain; charset=utf-8", "", 0) != MC_OK)
        resp->status = 200;
    cJSON_Delete(j);
}

/* POST /clear-faults: every rule gone (the seed stays). */
static void mgmt_clear_faults(void *ctx, const struct http_request *req,
                              struct http_response *resp)
{
    struct mockca *m = ctx;
    cJSON *j = mgmt_fault_body(req, resp, true);

    if (j == NULL)
        return;
    fault_engine_clear(m->faults);
    if (http_response_body(resp, 200, "text/plain; charset=utf-8", "", 0) != MC_OK)
        resp->status = 200;
    cJSON_Delete(j);
}

/* GET /faults -> {"seed": S, "rules": [{"id", "spec", "matched", "fired"}]}. */
static void mgmt_faults(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    char seed[32];
    cJSON *r = cJSON_CreateObject(), *rules = fault_engine_list(m->faults), *js;

    (void)req;
    /* A 64-bit seed does not survive a double: its digits go out as a raw number. */
    snprintf(seed, sizeof(seed), "%" PRIu64, fault_engine_seed(m->faults));
    js = cJSON_CreateRaw(seed);
    if (r == NULL || rules == NULL || js == NULL) {
        cJSON_Delete(js);
        cJSON_Delete(rules);
        cJSON_Delete(r);
        mgmt_error(resp, 500, "out of memory");
        return;
    }
    cJSON_AddItemToObject(r, "seed", js);
    cJSON_AddItemToObject(r, "rules", rules);
    mgmt_json(resp, 200, r);
}

static const struct http_route mgmt_routes[] = {
    /* Pebble's management API. */
    {"GET", "/roots/{}", mgmt_root},
    {"GET", "/intermediates/{}", mgmt_intermediate},
    {"GET", "/root-keys/{}", mgmt_root_key},
    {"GET", "/intermediate-keys/{}", mgmt_intermediate_key},
    {"GET", "/cert-status-by-serial/{}", mgmt_cert_status},
    {"POST", "/set-renewal-info/", mgmt_set_renewal_info},
    /* Ours. */
    {"GET", "/clock", mgmt_clock_get},
    {"POST", "/clock", mgmt_clock_post},
    {"POST", "/sweep", mgmt_sweep},
    {"POST", "/add-fault", mgmt_add_fault},
    {"POST", "/del-fault", mgmt_del_fault},
    {"POST", "/clear-faults", mgmt_clear_faults},
    {"GET", "/faults", mgmt_faults},
    {"GET", "/cc/*", mgmt_cc},
    {"POST", "/cc/*", mgmt_cc},
    {"GET", "/conformance", mgmt_conformance},
    {"GET", "/conformance/junit", mgmt_conformance_junit},
    {"GET", "/conformance/html", mgmt_conformance_html},
    {"POST", "/conformance/reset", mgmt_conformance_reset},
    {"POST", "/conformance/mode", mgmt_conformance_mode},
};

void mgmt_server_config(struct mockca *m, const char *bind_addr, uint16_t port,
                        struct http_server_config *out)
{
    memset(out, 0, sizeof(*out));
    out->bind_addr = bind_addr;
    out->port = port;
    out->tls_cert_pem = m->tls.cert_pem;
    out->tls_key_pem = m->tls.key_pem;
    out->routes = mgmt_routes;
    out->nroutes = sizeof(mgmt_routes) / sizeof(mgmt_routes[0]);
    out->ctx = m;
    out->threads = MGMT_THREADS;
    out->max_body = MGMT_MAX_BODY;
    out->before = mgmt_before;
}
