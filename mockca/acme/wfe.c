/* wfe.c: the ACME web front end: route table, hooks and the helpers handlers share. */
#include "mockca/acme/wfe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/jose.h"
#include "common/log.h"
#include "mockca/acme/account.h"
#include "mockca/acme/afault.h"
#include "mockca/acme/ari.h"
#include "mockca/acme/nonce.h"
#include "mockca/acme/order.h"
#include "mockca/acme/render.h"
#include "mockca/acme/revoke.h"
#include "mockca/internal.h"
#include "mockca/store.h"

#define WFE_URL_MAX 4096 /* a request URL longer than this is refused as malformed */
#define WFE_THREADS 4

static const struct http_route wfe_routes[] = {
    {"GET", ACME_PATH_DIRECTORY, account_directory},
    {"HEAD", ACME_PATH_NONCE, account_nonce},
    {"GET", ACME_PATH_NONCE, account_nonce},
    {"POST", ACME_PATH_NEW_ACCOUNT, account_new},
    {"POST", ACME_PATH_ACCOUNT "{}", account_update},
    {"POST", ACME_PATH_KEY_CHANGE, account_key_change},
    {"POST", ACME_PATH_ORDERS "{}", account_orders},
    {"POST", ACME_PATH_NEW_ORDER, order_new},
    {"POST", ACME_PATH_ORDER "{}", order_get},
    {"POST", ACME_PATH_NEW_AUTHZ, order_new_authz},
    {"POST", ACME_PATH_AUTHZ "{}", order_authz},
    {"POST", ACME_PATH_CHALLENGE "{}", order_challenge},
    {"POST", ACME_PATH_FINALIZE "{}", order_finalize},
    {"POST", ACME_PATH_CERT "{}", order_cert},
    {"POST", ACME_PATH_CERT "{}/alternate/{}", order_cert_alternate},
    {"POST", ACME_PATH_REVOKE, revoke_cert},
    {"GET", ACME_PATH_RENEWAL_INFO "{}", ari_renewal_info},
    /* The CA's own endpoints that leaves point at: unsigned, as OCSP and CRL clients are. */
    {"GET", MOCKCA_PATH_OCSP "/*", revoke_ocsp_get},
    {"POST", MOCKCA_PATH_OCSP, revoke_ocsp_post},
    {"GET", MOCKCA_PATH_CRL, revoke_crl},
    {"GET", MOCKCA_PATH_ISSUER, revoke_issuer},
};

/* ---- problem documents ---------------------------------------------------------------- */

static void wfe_problem_fallback(struct http_response *resp)
{
    if (http_response_problem(resp, 500, acme_problem_urn(ACME_P_SERVER_INTERNAL), "out of memory",
                              NULL) != MC_OK)
        resp->status = 500;
}

/* wfe_problem with the accepted algorithm set algs (0: request.c's default). */
static void wfe_problem_algs(struct http_response *resp, const struct acme_error *e, unsigned algs)
{
    struct acme_error copy = *e;
    cJSON *j = NULL, *arr = NULL;
    char *text = NULL;

    if (copy.type == ACME_P_NONE)
        copy.type = ACME_P_SERVER_INTERNAL;
    if (copy.status == 0)
        copy.status = acme_problem_status(copy.type);
    if (render_problem(&copy, NULL, &j) != MC_OK)
        goto fail;
    if (copy.type == ACME_P_BAD_SIGNATURE_ALGORITHM) {
        /* Section 6.2: the problem must say which algorithms the server takes. */
        if (algs == 0)
            algs = ACME_DEFAULT_ALGS;
        arr = cJSON_AddArrayToObject(j, "algorithms");
        if (arr == NULL)
            goto fail;
        for (int a = JOSE_ALG_RS256; a <= JOSE_ALG_HS512; a++) {
            if ((algs & (1u << a)) == 0 || jose_alg_is_hmac((enum jose_alg)a))
                continue;
            if (!cJSON_AddItemToArray(arr, cJSON_CreateString(jose_alg_name((enum jose_alg)a))))
                goto fail;
        }
    }
    text = cJSON_PrintUnformatted(j);
    if (text == NULL)
        goto fail;
    if (http_response_body(resp, copy.status, "application/problem+json", text, strlen(text)) !=
        MC_OK)
        goto fail;
    cJSON_free(text);
    cJSON_Delete(j);
    return;
fail:
    cJSON_free(text);
    cJSON_Delete(j);
    wfe_problem_fallback(resp);
}

void wfe_problem(struct http_response *resp, const struct acme_error *e)
{
    wfe_problem_algs(resp, e, 0);
}

void wfe_problemf(struct http_response *resp, enum acme_problem type, int status, const char *fmt,
                  ...)
{
    struct acme_error e;
    va_list ap;

    memset(&e, 0, sizeof(e));
    e.type = type;
    e.status = status != 0 ? status : acme_problem_status(type);
    va_start(ap, fmt);
    vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
    va_end(ap);
    wfe_problem(resp, &e);
}

/* ---- helpers ---------------------------------------------------------------------------- */

enum mc_err wfe_link(struct http_response *resp, const char *url, const char *rel)
{
    /* Every response carries one (rel="index"): a stack buffer for the usual length saves
     * an allocation per request. */
    char small[512];
    size_t n = strlen(url) + strlen(rel) + 16;
    char *v = n <= sizeof(small) ? small : malloc(n);
    enum mc_err e;

    if (v == NULL)
        return MC_ERR_NOMEM;
    snprintf(v, n, "<%s>;rel=\"%s\"", url, rel);
    e = http_response_header(resp, "Link", v);
    if (v != small)
        free(v);
    return e;
}

void wfe_json(struct http_response *resp, int status, const cJSON *j)
{
    if (http_response_json(resp, status, j) != MC_OK)
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot print the response");
}

bool wfe_check(struct mockca *m, const struct http_request *req, const char *query,
               enum acme_auth auth, enum acme_payload payload, struct acme_signed *out,
               struct http_response *resp)
{
    struct acme_check_input in;
    struct acme_error err;
    char *url = NULL;
    size_t n;
    bool ok = false;

    memset(out, 0, sizeof(*out));
    memset(&err, 0, sizeof(err));
    n = strlen(m->base_url) + strlen(req->path) + (query != NULL ? strlen(query) + 1 : 0) + 1;
    if (n > WFE_URL_MAX) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "request URL too long");
        return false;
    }
    url = malloc(n);
    if (url == NULL) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        return false;
    }
    snprintf(url, n, "%s%s%s%s", m->base_url, req->path, query != NULL ? "?" : "",
             query != NULL ? query : "");
    memset(&in, 0, sizeof(in));
    in.url = url;
    in.content_type = http_request_header(req, "Content-Type");
    in.body = req->body;
    in.body_len = req->body_len;
    in.auth = auth;
    in.payload = payload;
    if (acme_check_request(&m->check, &in, out, &err) != ACME_P_NONE) {
        wfe_problem_algs(resp, &err, m->check.algs);
        goto out;
    }
    ok = true;
out:
    free(url);
    return ok;
}

/* ---- the chokepoint's callbacks --------------------------------------------------------- */

/* Pebble rejects a share of good nonces (PEBBLE_WFE_NONCEREJECT) so that clients prove they
 * retry badNonce; the nonce is consumed either way, as Pebble's is. */
static bool wfe_redeem_nonce(void *ctx, const char *nonce)
{
    struct mockca *m = ctx;
    bool reject = false;

    if (nonce_redeem(m->nonces, nonce) != MC_OK)
        return false;
    if (m->cfg.nonce_reject_pct > 0) {
        pthread_mutex_lock(&m->rng_mu);
        reject = prng_below(&m->rng, 100) < m->cfg.nonce_reject_pct;
        pthread_mutex_unlock(&m->rng_mu);
        if (reject)
            log_msg(LOGL_DEBUG, "acme.nonce_reject", "pct=%u", m->cfg.nonce_reject_pct);
    }
    return !reject;
}

static bool wfe_find_account(void *ctx, const char *id, struct acme_account_view *out)
{
    struct mockca *m = ctx;
    struct account_snap a;

    memset(&a, 0, sizeof(a));
    if (store_account_get(m->store, id, &a) != MC_OK)
        return false;
    out->key = a.key;
    a.key = NULL;
    out->valid = a.status == ACCT_VALID;
    account_snap_clear(&a);
    return out->key != NULL;
}

void wfe_check_config(struct mockca *m)
{
    memset(&m->check, 0, sizeof(m->check));
    m->check.account_url_prefix = m->account_prefix;
    m->check.max_body = ACME_DEFAULT_MAX_BODY;
    m->check.redeem_nonce = wfe_redeem_nonce;
    m->check.find_account = wfe_find_account;
    m->check.ctx = m;
}

/* ---- hooks ------------------------------------------------------------------------------ */

/* RFC 8555 section 6.1: ACME clients MUST send a User-Agent. Pebble does not check it,
 * so neither do we by default (a test's own HTTP client may not set one); -strict refuses
 * an ACME POST without one as malformed. The OCSP responder is exempt: its clients are
 * not ACME clients. */
static bool wfe_user_agent_ok(const struct mockca *m, const struct http_request *req)
{
    const char *ua;

    if (!m->cfg.strict || strcmp(req->method, "POST") != 0 ||
        strcmp(req->path, MOCKCA_PATH_OCSP) == 0)
        return true;
    ua = http_request_header(req, "User-Agent");
    return ua != NULL && ua[0] != '\0';
}

static void wfe_before(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;

    if (!atomic_load(&m->ready)) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 503, "mockca is starting");
        return;
    }
    /* Faults answer before any check (DESIGN.md: the router consults them first), so a
     * rule can refuse even a request that would be malformed; delay and truncate let the
     * request go on. */
    if (afault_acme_before(m, req, resp) && (resp->status != 0 || resp->drop))
        return;
    if (!wfe_user_agent_ok(m, req))
        wfe_problemf(resp, ACME_P_MALFORMED, 0,
                     "a User-Agent header is required (RFC 8555 section 6.1)");
}

/* Every response carries a fresh nonce (section 6.5: the server must send one on every
 * response to a POST, and errors are where clients need it most), Link rel="index" (section
 * 7.1: every response but the directory's own), and Cache-Control: no-store, since nothing
 * here may be replayed from a cache. */
static void wfe_after(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    char nonce[NONCE_LEN + 1];

    if (resp->drop)
        return;
    if (nonce_issue(m->nonces, nonce) != MC_OK ||
        http_response_header(resp, "Replay-Nonce", nonce) != MC_OK)
        log_msg(LOGL_WARN, "acme.nonce_header", "err=cannot_add");
    if (atomic_load(&m->ready) && strcmp(req->path, ACME_PATH_DIRECTORY) != 0 &&
        wfe_link(resp, m->dir_url, "index") != MC_OK)
        log_msg(LOGL_WARN, "acme.link_header", "err=cannot_add");
    if (http_response_header(resp, "Cache-Control", "no-store") != MC_OK)
        log_msg(LOGL_WARN, "acme.cache_header", "err=cannot_add");
}

/* The layer's own refusals as problem documents: Pebble and Boulder send malformed with
 * the HTTP status for an unknown resource, a wrong method and an oversized body. */
static void wfe_error(void *ctx, const struct http_request *req, int status, const char *message,
                      struct http_response *resp)
{
    (void)ctx;
    (void)req;
    if (status == 404 || status == 405 || status == 413)
        wfe_problemf(resp, ACME_P_MALFORMED, status, "%s", message);
    else
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, status, "%s", message);
}

void wfe_server_config(struct mockca *m, const char *bind_addr, uint16_t port,
                       struct http_server_config *out)
{
    memset(out, 0, sizeof(*out));
    out->bind_addr = bind_addr;
    out->port = port;
    out->tls_cert_pem = m->tls.cert_pem;
    out->tls_key_pem = m->tls.key_pem;
    out->routes = wfe_routes;
    out->nroutes = sizeof(wfe_routes) / sizeof(wfe_routes[0]);
    out->ctx = m;
    out->max_body = ACME_DEFAULT_MAX_BODY;
    out->threads = WFE_THREADS;
    out->before = wfe_before;
    out->after = wfe_after;
    out->error = wfe_error;
}
