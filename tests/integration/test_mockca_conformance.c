/* Integration tests of mockca's client-conformance grader (mockca/cconf.h), in-process:
 * for each requirement of the catalog a client behaviour that violates it (built with the
 * raw request helpers of acme_client.h) fails exactly that ID, attributed to the account
 * and User-Agent that made the request; a well-behaved issuance has no MUST violation;
 * strict mode refuses a poll that comes before Retry-After with a problem naming the ID
 * while lenient mode answers it; the three report forms come from the management API; and
 * certcli's library, run against mockca, has no MUST violation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "acme_client.h"
#include "client/issue.h"
#include "client/registration.h"
#include "client/solver.h"
#include "common/b64url.h"
#include "common/clock.h"
#include "common/file.h"
#include "common/http.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/log.h"
#include "mockca/acme/render.h"
#include "mockca/cconf.h"
#include "mockca/internal.h" /* g_m->cconf, g_m->tls, g_m->va */
#include "testutil.h"

#define UA "cconf-test/1.0"

static void adjust(struct mockca_config *cfg)
{
    cfg->retry_after_form = MOCKCA_RETRY_AFTER_SECONDS;
}

static void setup(void)
{
    g_user_agent = UA;
    ac_start(adjust, true);
}

static void teardown(void)
{
    ac_stop();
    g_user_agent = NULL;
}

/* ---- report helpers --------------------------------------------------------------------- */

static cJSON *report(void)
{
    cJSON *j = NULL;
    ck_assert_int_eq(cconf_to_json(g_m->cconf, &j), MC_OK);
    return j;
}

static const cJSON *req_of(const cJSON *rep, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rep, "requirements"))
    {
        if (strcmp(jstr(it, "id"), id) == 0)
            return it;
    }
    ck_abort_msg("no requirement %s", id);
    return NULL;
}

static const char *outcome(const cJSON *rep, const char *id)
{
    return jstr(req_of(rep, id), "outcome");
}

static void reset(void)
{
    ck_assert_int_eq(cconf_reset(g_m->cconf), MC_OK);
}

/* Asserts that id is the only failed requirement, that its first finding's actor names
 * account (NULL: "no account") and ua (NULL: "no User-Agent"), and that the exchange it
 * points at (when with_exchange) was made with ua. */
static void assert_only_fail(const char *id, const char *account, const char *ua,
                             bool with_exchange)
{
    cJSON *rep = report();
    const cJSON *it, *f, *x;
    char want[512];
    long xi;

    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rep, "requirements"))
    {
        if (strcmp(jstr(it, "id"), id) == 0)
            ck_assert_msg(strcmp(jstr(it, "outcome"), "fail") == 0, "%s is %s, want fail", id,
                          jstr(it, "outcome"));
        else
            ck_assert_msg(strcmp(jstr(it, "outcome"), "fail") != 0, "%s failed too: %s",
                          jstr(it, "id"), cJSON_PrintUnformatted(it));
    }
    f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(req_of(rep, id), "findings"), 0);
    ck_assert_ptr_nonnull(f);
    snprintf(want, sizeof(want), "%s (%s)", account != NULL ? account : "no account",
             ua != NULL ? ua : "no User-Agent");
    ck_assert_str_eq(jstr(f, "actor"), want);
    xi = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "exchange"));
    if (with_exchange) {
        ck_assert_int_ge(xi, 0);
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(rep, "exchanges"))
        {
            if ((long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "index")) != xi)
                continue;
            const cJSON *xua = cJSON_GetObjectItemCaseSensitive(x, "user_agent");
            if (ua != NULL)
                ck_assert_str_eq(cJSON_GetStringValue(xua), ua);
            else
                ck_assert(xua == NULL || cJSON_IsNull(xua));
            char *v = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(x, "violations"));
            ck_assert_ptr_nonnull(v);
            ck_assert_ptr_nonnull(strstr(v, id));
            free(v);
        }
    }
    cJSON_Delete(rep);
}

/* A JWS body signed by key with the header members given (url, nonce; kid NULL: jwk). */
static char *signed_body(EVP_PKEY *key, const char *kid, const char *url, const char *nonce,
                         const char *payload)
{
    cJSON *h = cJSON_CreateObject(), *jws = NULL;
    enum jose_alg alg;
    char *body;

    cJSON_AddStringToObject(h, "nonce", nonce != NULL ? nonce : g_nonce);
    cJSON_AddStringToObject(h, "url", url);
    if (kid != NULL) {
        cJSON_AddStringToObject(h, "kid", kid);
    } else {
        cJSON *jwk = NULL;
        ck_assert_int_eq(jwk_to_json(key, &jwk), MC_OK);
        cJSON_AddItemToObject(h, "jwk", jwk);
    }
    ck_assert_int_eq(jose_alg_for_key(key, &alg), MC_OK);
    ck_assert_int_eq(jws_sign(key, alg, h, (const uint8_t *)payload,
                              payload != NULL ? strlen(payload) : 0, &jws),
                     MC_OK);
    body = cJSON_PrintUnformatted(jws);
    cJSON_Delete(jws);
    cJSON_Delete(h);
    return body;
}

static char *order_payload(const char *type, const char *value)
{
    cJSON *o = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(o, "identifiers");
    cJSON *id = cJSON_CreateObject();
    char *p;
    ck_assert_ptr_nonnull(ids);
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(id, "type", type));
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(id, "value", value));
    cJSON_AddItemToArray(ids, id);
    p = cJSON_PrintUnformatted(o);
    ck_assert_ptr_nonnull(p);
    cJSON_Delete(o);
    return p;
}

/* Waits (in-process, no ACME request) until order_url's order has status want. */
static void wait_order(const char *order_url, const char *want)
{
    const char *id = strrchr(order_url, '/') + 1;
    for (int i = 0; i < POLL_TRIES; i++) {
        struct mockca_order_info oi;
        memset(&oi, 0, sizeof(oi));
        ck_assert_int_eq(mockca_order_info(g_m, id, &oi), MC_OK);
        bool done = strcmp(oi.status, want) == 0;
        mockca_order_info_clear(&oi);
        if (done)
            return;
        pause_a_little();
    }
    ck_abort_msg("order %s never became %s", order_url, want);
}

/* Moves mockca's clock past any Retry-After, so the next poll is on time. */
static void wait_retry_after(void)
{
    clock_advance(mockca_clock(g_m), 10000);
}

/* ---- one test per requirement ----------------------------------------------------------- */

START_TEST(test_content_type)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    char *body;
    struct resp r;

    reset();
    body = signed_body(k, kid, kid, NULL, NULL);
    http_hdrs("POST", kid, hdrs, body, &r);
    assert_problem(&r, 415, "malformed");
    assert_only_fail(CCONF_CONTENT_TYPE, kid, UA, true);
    resp_free(&r);
    free(body);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_user_agent)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    cJSON *a;
    struct resp r;

    /* Lenient: no User-Agent is recorded, the request answered as usual. */
    reset();
    g_user_agent = NULL;
    a = fetch(k, kid, kid);
    cJSON_Delete(a);
    assert_only_fail(CCONF_UA_PRESENT, kid, NULL, true);
    /* A User-Agent without a version fails the SHOULD only. */
    reset();
    g_user_agent = "curl";
    a = fetch(k, kid, kid);
    cJSON_Delete(a);
    assert_only_fail(CCONF_UA_PRODUCT, kid, "curl", true);
    /* Strict: a POST without a User-Agent is refused, naming the requirement. */
    cconf_set_strict(g_m->cconf, true);
    reset();
    g_user_agent = NULL;
    post_url(kid, k, kid, NULL, &r);
    assert_problem(&r, 400, "malformed");
    ck_assert_ptr_nonnull(strstr(r.body, CCONF_UA_PRESENT));
    resp_free(&r);
    assert_only_fail(CCONF_UA_PRESENT, kid, NULL, true);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_nonce_reuse)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char spent[64];
    struct resp r;

    snprintf(spent, sizeof(spent), "%s", g_nonce);
    post_url(kid, k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    reset();
    post_url_nonce(kid, k, kid, NULL, spent, &r);
    assert_problem(&r, 400, "badNonce");
    assert_only_fail(CCONF_NONCE_ONCE, kid, UA, true);
    resp_free(&r);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_bad_nonce_retry)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    struct resp r;
    cJSON *rep;

    /* A good client retries badNonce with the nonce the error carried. */
    reset();
    post_url_nonce(kid, k, kid, NULL, "bm9uY2Utd2UtbmV2ZXItaXNzdWVk", &r);
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    post_url(kid, k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    rep = report();
    ck_assert_str_eq(outcome(rep, CCONF_NONCE_RETRY), "pass");
    cJSON_Delete(rep);
    /* A bad one sends the refused nonce again. */
    reset();
    post_url_nonce(kid, k, kid, NULL, "cmVmdXNlZC1hbmQtcmV0cmllZA", &r);
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    post_url_nonce(kid, k, kid, NULL, "cmVmdXNlZC1hbmQtcmV0cmllZA", &r);
    assert_problem(&r, 400, "badNonce");
    assert_only_fail(CCONF_NONCE_RETRY, kid, UA, true);
    resp_free(&r);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_url_mismatch)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *other = url_of(ACME_PATH_NEW_ORDER);
    char *body;
    struct resp r;

    reset();
    body = signed_body(k, kid, other, NULL, NULL);
    http("POST", kid, body, &r);
    assert_problem(&r, 403, "unauthorized");
    assert_only_fail(CCONF_URL, kid, UA, true);
    resp_free(&r);
    free(body);
    free(other);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_jwk_where_kid_required)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *p = order_payload("dns", "jwk.example.com");
    struct resp r;

    reset();
    post(ACME_PATH_NEW_ORDER, k, NULL, p, &r);
    assert_problem(&r, 400, "malformed");
    /* A jwk request names no account: the actor is "no account". */
    assert_only_fail(CCONF_JWS_KID, NULL, UA, true);
    resp_free(&r);
    free(p);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_kid_where_jwk_required)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    struct resp r;

    reset();
    post(ACME_PATH_NEW_ACCOUNT, k, kid, "{\"termsOfServiceAgreed\":true}", &r);
    assert_problem(&r, 400, "malformed");
    assert_only_fail(CCONF_JWS_JWK, kid, UA, true);
    resp_free(&r);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_hmac_outside_eab)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    static const uint8_t mac[32] = {1, 2, 3};
    cJSON *h = cJSON_CreateObject(), *jws = NULL;
    char *body;
    struct resp r;

    reset();
    cJSON_AddStringToObject(h, "nonce", g_nonce);
    cJSON_AddStringToObject(h, "url", kid);
    cJSON_AddStringToObject(h, "kid", kid);
    ck_assert_int_eq(
        jws_sign_hmac(JOSE_ALG_HS256, mac, sizeof(mac), h, (const uint8_t *)"", 0, &jws), MC_OK);
    body = cJSON_PrintUnformatted(jws);
    http("POST", kid, body, &r);
    assert_problem(&r, 400, "badSignatureAlgorithm");
    assert_only_fail(CCONF_JWS_ALG, kid, UA, true);
    resp_free(&r);
    free(body);
    cJSON_Delete(jws);
    cJSON_Delete(h);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_post_as_get_payload)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *p = order_payload("dns", "pag.example.com");
    cJSON *o = NULL;
    char *loc = new_order(k, kid, p, &o);
    struct resp r;

    wait_retry_after();
    reset();
    post_url(loc, k, kid, "{}", &r);
    assert_problem(&r, 400, "malformed");
    assert_only_fail(CCONF_PAG_EMPTY, kid, UA, true);
    resp_free(&r);
    cJSON_Delete(o);
    free(loc);
    free(p);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_get_instead_of_post_as_get)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *p = order_payload("dns", "get.example.com");
    cJSON *o = NULL;
    char *loc = new_order(k, kid, p, &o);
    struct resp r;

    reset();
    http_hdrs("GET", loc, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 405);
    /* A GET carries no JWS, so no account: the User-Agent still names the client. */
    assert_only_fail(CCONF_PAG_NO_GET, NULL, UA, true);
    resp_free(&r);
    cJSON_Delete(o);
    free(loc);
    free(p);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_request_after_deactivation)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    struct resp r;

    post_url(kid, k, kid, "{\"status\":\"deactivated\"}", &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    reset();
    post_url(kid, k, kid, NULL, &r);
    assert_problem(&r, 403, "unauthorized");
    assert_only_fail(CCONF_ACCT_DEACTIVATED, kid, UA, true);
    resp_free(&r);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* A pending order is answered with Retry-After; polling it again at once is too early. */
START_TEST(test_poll_lenient_and_strict)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *p = order_payload("dns", "poll.example.com");
    cJSON *o = NULL, *rep;
    char *loc, *ra;
    struct resp r;

    /* The grader reads mockca's clock: frozen, "at once" stays early however slowly this
     * machine runs; only wait_retry_after moves it. */
    clock_freeze(mockca_clock(g_m));
    reset();
    loc = new_order(k, kid, p, &o);
    post_url(loc, k, kid, NULL, &r); /* the first poll: answered with Retry-After */
    ck_assert_int_eq(r.status, 200);
    ra = header(&r, "Retry-After");
    ck_assert_ptr_nonnull(ra);
    free(ra);
    resp_free(&r);
    post_url(loc, k, kid, NULL, &r); /* at once: too early, but lenient answers it */
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    assert_only_fail(CCONF_POLL, kid, UA, true);
    /* On time: passes. */
    reset();
    wait_retry_after();
    post_url(loc, k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    rep = report();
    ck_assert_str_eq(outcome(rep, CCONF_POLL), "pass");
    cJSON_Delete(rep);
    /* Strict: the early poll is refused, naming the requirement. */
    cconf_set_strict(g_m->cconf, true);
    reset();
    post_url(loc, k, kid, NULL, &r);
    assert_problem(&r, 429, "rateLimited");
    ck_assert_ptr_nonnull(strstr(r.body, CCONF_POLL));
    resp_free(&r);
    assert_only_fail(CCONF_POLL, kid, UA, true);
    cJSON_Delete(o);
    free(loc);
    free(p);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* An order made ready through http-01, without polling over ACME. */
static char *ready_order(EVP_PKEY *k, const char *kid, const char *name, cJSON **order)
{
    char *p = order_payload("dns", name);
    char *loc = new_order(k, kid, p, order);

    answer_all(k, kid, *order, "http-01", false);
    wait_order(loc, "ready");
    free(p);
    return loc;
}

START_TEST(test_csr_names_and_key)
{
    EVP_PKEY *k = newkey(), *ck = newkey();
    char *kid = account(k);
    cJSON *o = NULL;
    char *loc = ready_order(k, kid, "csr.example.com", &o);
    const char *wrong[] = {"csr.example.com", "other.example.com"};
    const char *right[] = {"csr.example.com"};
    char *csr;
    struct resp r;

    reset();
    csr = csr_b64(ck, NULL, wrong, 2);
    finalize(k, kid, o, csr, &r);
    assert_problem(&r, 400, "badCSR");
    assert_only_fail(CCONF_CSR_NAMES, kid, UA, true);
    resp_free(&r);
    free(csr);
    reset();
    csr = csr_b64(k, NULL, right, 1);
    finalize(k, kid, o, csr, &r);
    assert_problem(&r, 400, "badCSR");
    assert_only_fail(CCONF_CSR_KEY, kid, UA, true);
    resp_free(&r);
    free(csr);
    cJSON_Delete(o);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_wrong_key_authorization)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *p = order_payload("dns", "keyauth.example.com");
    cJSON *o = NULL;
    char *loc = new_order(k, kid, p, &o);

    reset();
    answer_all(k, kid, o, "http-01", true);
    wait_order(loc, "invalid");
    /* Found by the validation worker: no exchange, but the account and its last
     * User-Agent. */
    assert_only_fail(CCONF_CHAL_KEYAUTH, kid, UA, false);
    cJSON_Delete(o);
    free(loc);
    free(p);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_tls_alpn_without_acme_tls)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *p = order_payload("dns", "alpn.example.com");
    cJSON *o = NULL, *a;
    char *loc = new_order(k, kid, p, &o);
    struct http_server_config hc;
    struct http_server *tls = NULL;
    struct resp r;

    /* An HTTPS server that offers no ALPN protocol plays the client's responder. */
    memset(&hc, 0, sizeof(hc));
    hc.bind_addr = "127.0.0.1";
    hc.tls_cert_pem = g_m->tls.cert_pem;
    hc.tls_key_pem = g_m->tls.key_pem;
    ck_assert_int_eq(http_server_start(&hc, &tls), MC_OK);
    g_m->va.tls_port = http_server_port(tls);
    a = fetch(k, kid, cJSON_GetArrayItem(cJSON_GetObjectItem(o, "authorizations"), 0)->valuestring);
    reset();
    post_url(jstr(challenge_of(a, "tls-alpn-01"), "url"), k, kid, "{}", &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    wait_order(loc, "invalid");
    assert_only_fail(CCONF_ALPN, kid, UA, false);
    http_server_stop(tls);
    cJSON_Delete(a);
    cJSON_Delete(o);
    free(loc);
    free(p);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_ip_as_dns_identifier)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *p = order_payload("dns", "127.0.0.1");
    struct resp r;

    reset();
    post(ACME_PATH_NEW_ORDER, k, kid, p, &r);
    assert_only_fail(CCONF_IDENT_IP, kid, UA, true);
    resp_free(&r);
    free(p);
    /* "ip" in a non-canonical form fails it too; the canonical form passes. */
    reset();
    p = order_payload("ip", "0:0::1");
    post(ACME_PATH_NEW_ORDER, k, kid, p, &r);
    assert_only_fail(CCONF_IDENT_IP, kid, UA, true);
    resp_free(&r);
    free(p);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_ari_replaces_unknown)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    const char *p = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"ari.example.com\"}],"
                    "\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\"}";
    struct resp r;

    reset();
    post(ACME_PATH_NEW_ORDER, k, kid, p, &r);
    assert_problem(&r, 400, "malformed");
    assert_only_fail(CCONF_ARI_REPLACES, kid, UA, true);
    resp_free(&r);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- a good client ---------------------------------------------------------------------- */

START_TEST(test_well_behaved_issuance)
{
    static const char *const pass[] = {
        CCONF_UA_PRESENT,  CCONF_UA_PRODUCT,       CCONF_CONTENT_TYPE, CCONF_JWS_ALG,
        CCONF_JWS_JWK,     CCONF_JWS_KID,          CCONF_URL,          CCONF_NONCE_ONCE,
        CCONF_PAG_EMPTY,   CCONF_ACCT_DEACTIVATED, CCONF_CSR_NAMES,    CCONF_CSR_KEY,
        CCONF_CHAL_KEYAUTH};
    const char *names[] = {"good.example.com"};
    EVP_PKEY *k = newkey();
    char *kid;
    cJSON *o, *rep, *totals;

    reset();
    kid = account(k);
    o = issue_ex(k, kid, names, 1, "http-01", NULL, NULL);
    ck_assert_str_eq(jstr(o, "status"), "valid");
    rep = report();
    totals = cJSON_GetObjectItemCaseSensitive(rep, "totals");
    ck_assert_msg(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(totals, "must_fail")) == 0,
                  "MUST violations: %s", cJSON_PrintUnformatted(rep));
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
        ck_assert_msg(strcmp(outcome(rep, pass[i]), "pass") == 0, "%s is %s", pass[i],
                      outcome(rep, pass[i]));
    cJSON_Delete(rep);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- the management API ------------------------------------------------------------------ */

static void mgmt_call(const char *method, const char *path, const char *body, struct tu_http *out)
{
    char url[256];
    const char *json_ct[] = {"Content-Type: application/json", NULL};

    snprintf(url, sizeof(url), "%s%s", mockca_mgmt_url(g_m), path);
    ck_assert_int_eq(tu_http(method, url, body, body != NULL ? json_ct : NULL, NULL, out), 0);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(test_reports_through_management_api)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    char *p = order_payload("dns", "mgmt.example.com");
    cJSON *o = NULL, *j = NULL;
    char *loc = new_order(k, kid, p, &o);
    size_t n = 0;
    const struct report_req *cat = cconf_catalog(&n);
    struct tu_http h;
    struct resp r;

    mgmt_call("POST", "/conformance/reset", NULL, &h);
    ck_assert_int_eq(h.status, 204);
    tu_http_free(&h);
    http_hdrs("GET", loc, NULL, NULL, &r); /* fails PAG-002 */
    resp_free(&r);

    mgmt_call("GET", "/conformance", NULL, &h);
    ck_assert_int_eq(h.status, 200);
    ck_assert_int_eq(json_parse(h.body, h.body_len, 1 << 26, 64, &j), MC_OK);
    ck_assert_str_eq(jstr(j, "suite"), "acme-client");
    ck_assert_str_eq(outcome(j, CCONF_PAG_NO_GET), "fail");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "requirements")), (int)n);
    cJSON_Delete(j);
    tu_http_free(&h);

    mgmt_call("GET", "/conformance/junit", NULL, &h);
    ck_assert_int_eq(h.status, 200);
    ck_assert_uint_eq(count_of(h.body, "<testcase"), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strstr(h.body, cat[i].id) != NULL, "%s missing", cat[i].id);
    ck_assert_uint_eq(count_of(h.body, "<failure"), 1);
    tu_http_free(&h);

    mgmt_call("GET", "/conformance/html", NULL, &h);
    ck_assert_int_eq(h.status, 200);
    ck_assert_ptr_nonnull(strstr(h.body, "<html"));
    ck_assert_ptr_nonnull(strstr(h.body, "violation"));
    ck_assert_ptr_nonnull(strstr(h.body, "req-" CCONF_PAG_NO_GET));
    tu_http_free(&h);

    mgmt_call("POST", "/conformance/mode", "{\"strict\":true}", &h);
    ck_assert_int_eq(h.status, 200);
    ck_assert_ptr_nonnull(strstr(h.body, "true"));
    tu_http_free(&h);
    ck_assert(cconf_is_strict(g_m->cconf));
    mgmt_call("POST", "/conformance/mode", "{\"strict\":1}", &h);
    ck_assert_int_eq(h.status, 400);
    tu_http_free(&h);

    mgmt_call("POST", "/conformance/reset", NULL, &h);
    ck_assert_int_eq(h.status, 204);
    tu_http_free(&h);
    j = report();
    ck_assert_str_eq(outcome(j, CCONF_PAG_NO_GET), "skip");
    cJSON_Delete(j);

    cJSON_Delete(o);
    free(loc);
    free(p);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- certcli against mockca ------------------------------------------------------------- */

static uint16_t g_solver_port;

static void adjust_certcli(struct mockca_config *cfg)
{
    cfg->http_port = g_solver_port;
    /* certcli's session caps a wait at max_wait_s (1 s below); a Retry-After of 1 s lets it
     * honour every one, which is what is graded. */
    cfg->retry_after_authz_s = 1;
    cfg->retry_after_order_s = 1;
}

START_TEST(test_certcli_has_no_must_violation)
{
    struct solver_config sc = {0};
    struct solver *http = NULL;
    struct sess_opts so;
    struct sess *s = NULL;
    struct reg_new rq = {0};
    struct issue_req ir = {0};
    struct issue_result res;
    EVP_PKEY *acct = newkey(), *ck = newkey();
    char *dir = NULL, *root = NULL;
    bool created = false;
    cJSON *rep, *totals;
    const cJSON *it;
    enum mc_err e;

    ac_stop(); /* this test starts its own mockca, with the solver's port */
    sc.kind = SOLVER_HTTP_STANDALONE;
    sc.address = "127.0.0.1";
    ck_assert_int_eq(solver_new(&sc, &http), MC_OK);
    g_solver_port = solver_port(http);
    ac_start(adjust_certcli, true);
    dir = tu_tmpdir();
    ck_assert_int_ge(asprintf(&root, "%s/root.pem", dir), 0);
    ck_assert_int_eq(
        file_write_atomic(root, mockca_tls_root_pem(g_m), strlen(mockca_tls_root_pem(g_m)), 0644),
        MC_OK);
    reset();

    sess_opts_init(&so);
    so.directory_url = mockca_directory_url(g_m);
    so.ca_bundle = root;
    so.max_wait_s = 1;
    so.seed = 1;
    ck_assert_int_eq(sess_new(&so, &s), MC_OK);
    ck_assert_int_eq(sess_set_account(s, acct, NULL), MC_OK);
    rq.agree_tos = true;
    ck_assert_int_eq(reg_register(s, &rq, &created, NULL), MC_OK);
    ck_assert_int_eq(ident_list_add(&ir.idents, IDENT_DNS, "certcli.example.com"), MC_OK);
    ir.cert_key = ck;
    ir.solvers = &http;
    ir.n_solvers = 1;
    ir.poll_timeout_s = 30;
    e = issue_cert(s, &ir, &res);
    ck_assert_msg(e == MC_OK, "issue_cert: %s (%s)", mc_strerror(e), sess_last_error(s));

    rep = report();
    totals = cJSON_GetObjectItemCaseSensitive(rep, "totals");
    /* Every failed requirement is printed, so a regression names itself. */
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rep, "requirements"))
    {
        char *f = cJSON_PrintUnformatted(cJSON_GetObjectItem(it, "findings"));
        fprintf(stderr, "certcli: %s %s %s %s\n", jstr(it, "outcome"), jstr(it, "level"),
                jstr(it, "id"), strcmp(jstr(it, "outcome"), "fail") == 0 ? f : "");
        free(f);
    }
    ck_assert_msg(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(totals, "must_fail")) == 0,
                  "certcli has MUST violations");
    ck_assert_str_eq(outcome(rep, CCONF_UA_PRESENT), "pass");
    ck_assert_str_eq(outcome(rep, CCONF_CSR_NAMES), "pass");
    ck_assert_str_eq(outcome(rep, CCONF_CHAL_KEYAUTH), "pass");
    cJSON_Delete(rep);

    issue_result_free(&res);
    ident_list_free(&ir.idents);
    sess_free(s);
    EVP_PKEY_free(acct);
    EVP_PKEY_free(ck);
    ac_stop();
    solver_free(http);
    unlink(root);
    rmdir(dir);
    free(root);
    free(dir);
    ac_start(adjust, true); /* teardown stops it */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_conformance");
    TCase *t = tcase_create("conformance");

    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_content_type);
    tcase_add_test(t, test_user_agent);
    tcase_add_test(t, test_nonce_reuse);
    tcase_add_test(t, test_bad_nonce_retry);
    tcase_add_test(t, test_url_mismatch);
    tcase_add_test(t, test_jwk_where_kid_required);
    tcase_add_test(t, test_kid_where_jwk_required);
    tcase_add_test(t, test_hmac_outside_eab);
    tcase_add_test(t, test_post_as_get_payload);
    tcase_add_test(t, test_get_instead_of_post_as_get);
    tcase_add_test(t, test_request_after_deactivation);
    tcase_add_test(t, test_poll_lenient_and_strict);
    tcase_add_test(t, test_csr_names_and_key);
    tcase_add_test(t, test_wrong_key_authorization);
    tcase_add_test(t, test_tls_alpn_without_acme_tls);
    tcase_add_test(t, test_ip_as_dns_identifier);
    tcase_add_test(t, test_ari_replaces_unknown);
    tcase_add_test(t, test_well_behaved_issuance);
    tcase_add_test(t, test_reports_through_management_api);
    tcase_add_test(t, test_certcli_has_no_must_violation);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    /* mockca's info lines would bury a failure's message in CI's log; MC_TEST_LOG=info
     * brings them back. */
    int level = log_level_parse(getenv("MC_TEST_LOG"));
    log_set_level(level >= 0 ? (enum log_level)level : LOGL_WARN);
    return tu_run(suite());
}
