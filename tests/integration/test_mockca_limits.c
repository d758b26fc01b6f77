/* Integration tests of mockca's limits and housekeeping, in-process over HTTPS with
 * libcurl and real JWS: the configurable rate limits (orders per account, failed
 * validations per identifier, accounts per address) with their 429 rateLimited and
 * Retry-After on a frozen clock; retention applied by POST /sweep and by the sweeper
 * thread; Pebble's POST /set-renewal-info/; newAccount's agreementRequired; and -strict's
 * User-Agent check. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "common/b64url.h"
#include "common/csr.h"
#include "common/http.h"
#include "common/jose.h"
#include "common/keys.h"
#include "common/pem.h"
#include "common/x509.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/zone.h"
#include "mockca/acme/render.h"
#include "mockca/internal.h" /* m->clock and m->store */
#include "common/ari.h"
#include "common/clock.h"
#include "mockca/mockca.h"
#include "acme_client.h"
#include "mockca/store.h"
#include "testutil.h"

static void start_with(void (*adjust)(struct mockca_config *))
{
    ac_start(adjust, true);
}

static void teardown(void)
{
    ac_stop();
}

/* ---- tests ------------------------------------------------------------------------------ */

/* ---- more helpers ------------------------------------------------------------------------ */

/* A fresh nonce (after the clock moved past the old one's lifetime). */
static void renew_nonce(void)
{
    struct resp r;
    char *u = url_of(ACME_PATH_NONCE);

    http("HEAD", u, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    free(u);
}

/* Moves the mockca clock (frozen by every fixture here) by ms, and takes a nonce minted
 * at the new time. */
static void advance_ms(int64_t ms)
{
    clock_advance(g_m->clock, ms);
    renew_nonce();
}

/* The Retry-After of r in seconds; the test fails when it is missing. */
static long retry_after(const struct resp *r)
{
    char *v = header(r, "Retry-After");
    long s;

    ck_assert_msg(v != NULL, "no Retry-After: %s", r->body);
    s = strtol(v, NULL, 10);
    free(v);
    return s;
}

/* newOrder for one dns name; the response (caller frees). */
static void order_for(EVP_PKEY *key, const char *kid, const char *name, struct resp *r)
{
    char payload[512];

    snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}",
             name);
    post(ACME_PATH_NEW_ORDER, key, kid, payload, r);
}

/* A call to the management API; body may be NULL. */
static long mgmt(const char *method, const char *path, const char *body, struct tu_http *out)
{
    char url[256];
    static const char *const hdrs[] = {"Content-Type: application/json", NULL};

    snprintf(url, sizeof(url), "%s%s", mockca_mgmt_url(g_m), path);
    ck_assert_int_eq(tu_http(method, url, body, hdrs, NULL, out), 0);
    return out->status;
}

static struct mockca_rate_limit g_orders_rl, g_failed_rl, g_accounts_rl;
static int64_t g_sweep_s;
static bool g_strict;

static void adjust_limits(struct mockca_config *cfg)
{
    cfg->rl_orders_per_account = g_orders_rl;
    cfg->rl_failed_validations = g_failed_rl;
    cfg->rl_accounts_per_address = g_accounts_rl;
    cfg->sweep_interval_s = g_sweep_s;
    cfg->strict = g_strict;
}

/* Starts with the limits above and freezes the clock, so every Retry-After is exact. */
static void start_frozen(void)
{
    start_with(adjust_limits);
    clock_freeze(g_m->clock);
}

static void reset_knobs(void)
{
    memset(&g_orders_rl, 0, sizeof(g_orders_rl));
    memset(&g_failed_rl, 0, sizeof(g_failed_rl));
    memset(&g_accounts_rl, 0, sizeof(g_accounts_rl));
    g_sweep_s = 0;
    g_strict = false;
    g_user_agent = NULL;
}

static void setup_orders_limit(void)
{
    reset_knobs();
    g_orders_rl.count = 2;
    g_orders_rl.window_s = 60;
    start_frozen();
}

static void setup_failed_limit(void)
{
    reset_knobs();
    g_failed_rl.count = 1;
    g_failed_rl.window_s = 600;
    start_frozen();
}

static void setup_accounts_limit(void)
{
    reset_knobs();
    g_accounts_rl.count = 1;
    g_accounts_rl.window_s = 3600;
    start_frozen();
}

static void setup_plain(void)
{
    reset_knobs();
    start_frozen();
}

static void setup_sweeper(void)
{
    reset_knobs();
    g_sweep_s = 1;
    start_frozen();
}

static void setup_strict(void)
{
    reset_knobs();
    g_strict = true;
    start_frozen();
}

/* ---- rate limits ------------------------------------------------------------------------ */

START_TEST(test_orders_per_account)
{
    EVP_PKEY *k = newkey(), *k2 = newkey();
    char *kid = account(k), *kid2 = account(k2);
    struct resp r;

    order_for(k, kid, "a.example.com", &r);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    order_for(k, kid, "b.example.com", &r);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    /* The third in the window: 429 with the whole window to wait (the clock is frozen). */
    order_for(k, kid, "c.example.com", &r);
    assert_problem(&r, 429, "rateLimited");
    ck_assert_int_eq(retry_after(&r), 60);
    resp_free(&r);
    /* Another account has its own count. */
    order_for(k2, kid2, "c.example.com", &r);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    /* 29.5 s later, 30.5 s are left: Retry-After rounds up to 31. */
    advance_ms(29500);
    order_for(k, kid, "c.example.com", &r);
    assert_problem(&r, 429, "rateLimited");
    ck_assert_int_eq(retry_after(&r), 31);
    resp_free(&r);
    /* Past the window the next order goes through, and the one after it is counted anew. */
    advance_ms(30501);
    order_for(k, kid, "c.example.com", &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    resp_free(&r);
    free(kid);
    free(kid2);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}
END_TEST

START_TEST(test_accounts_per_address)
{
    EVP_PKEY *k = newkey(), *k2 = newkey();
    char *kid = account(k);
    struct resp r;

    post(ACME_PATH_NEW_ACCOUNT, k2, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    assert_problem(&r, 429, "rateLimited");
    ck_assert_int_eq(retry_after(&r), 3600);
    resp_free(&r);
    /* Not created: the key still has no account. */
    post(ACME_PATH_NEW_ACCOUNT, k2, NULL, "{\"onlyReturnExisting\":true}", &r);
    assert_problem(&r, 400, "accountDoesNotExist");
    resp_free(&r);
    /* Finding an existing account again is not a creation and is not refused. */
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    advance_ms(3600LL * 1000 + 1);
    post(ACME_PATH_NEW_ACCOUNT, k2, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    resp_free(&r);
    free(kid);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}
END_TEST

START_TEST(test_failed_validations_per_identifier)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k), *loc;
    cJSON *order, *a;
    const cJSON *au;
    struct resp r;

    loc = new_order(k, kid, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"fail.example.com\"}]}",
                    &order);
    answer_all(k, kid, order, "http-01", true); /* a wrong key authorization */
    au = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(order, "authorizations"), 0);
    a = poll_status(k, kid, au->valuestring, "invalid");
    cJSON_Delete(a);
    /* The identifier has used its one failure in the window; others have not. */
    order_for(k, kid, "fail.example.com", &r);
    assert_problem(&r, 429, "rateLimited");
    ck_assert_int_eq(retry_after(&r), 600);
    ck_assert_ptr_nonnull(strstr(r.body, "fail.example.com"));
    resp_free(&r);
    order_for(k, kid, "*.fail.example.com", &r); /* a wildcard counts as its base name */
    assert_problem(&r, 429, "rateLimited");
    resp_free(&r);
    order_for(k, kid, "other.example.com", &r);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    advance_ms(599LL * 1000);
    order_for(k, kid, "fail.example.com", &r);
    assert_problem(&r, 429, "rateLimited");
    ck_assert_int_eq(retry_after(&r), 1);
    resp_free(&r);
    advance_ms(1001);
    order_for(k, kid, "fail.example.com", &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    resp_free(&r);
    cJSON_Delete(order);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* No limit configured (the default): many orders and accounts, no 429. */
START_TEST(test_limits_off_by_default)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    struct resp r;

    for (int i = 0; i < 8; i++) {
        EVP_PKEY *o = newkey();
        char name[64], *okid = account(o);
        snprintf(name, sizeof(name), "n%d.example.com", i);
        order_for(k, kid, name, &r);
        ck_assert_int_eq(r.status, 201);
        resp_free(&r);
        free(okid);
        EVP_PKEY_free(o);
    }
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- retention -------------------------------------------------------------------------- */

START_TEST(test_sweep_endpoint)
{
    static const char *const names[] = {"swept.example.com"};
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    cJSON *o = issue(k, kid, names, 1, "http-01"), *j;
    struct store_counts before, after;
    struct tu_http h;
    struct resp r;

    store_counts(g_m->store, &before);
    ck_assert_uint_eq(before.certs, 1);
    ck_assert_uint_ge(before.orders, 1);
    /* Nothing is old enough yet. */
    ck_assert_int_eq(mgmt("POST", "/sweep", NULL, &h), 200);
    j = cJSON_Parse(h.body);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "dropped")->valueint, 0);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "certs")->valueint, 1);
    cJSON_Delete(j);
    tu_http_free(&h);
    /* Past retention (24 h): the sweep drops the order, its authorization and challenges,
     * and the certificate. */
    clock_advance(g_m->clock, 25LL * 3600 * 1000);
    ck_assert_int_eq(mgmt("POST", "/sweep", NULL, &h), 200);
    j = cJSON_Parse(h.body);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_ge(cJSON_GetObjectItem(j, "dropped")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "certs")->valueint, 0);
    cJSON_Delete(j);
    tu_http_free(&h);
    store_counts(g_m->store, &after);
    ck_assert_uint_eq(after.certs, 0);
    ck_assert_uint_lt(after.orders, before.orders);
    /* (The valid authorization stays: it is kept 30 days for reuse, not 24 h.) */
    renew_nonce();
    post_url(jstr(o, "certificate"), k, kid, NULL, &r);
    assert_problem(&r, 404, "malformed");
    resp_free(&r);
    /* GET is not the method. */
    ck_assert_int_eq(mgmt("GET", "/sweep", NULL, &h), 405);
    tu_http_free(&h);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* The thread sweeps on its own every sweepIntervalSeconds (1 s here) of real time, also
 * when the mockca clock is frozen. */
START_TEST(test_sweeper_thread)
{
    static const char *const names[] = {"thread.example.com"};
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    cJSON *o = issue(k, kid, names, 1, "http-01");
    struct store_counts sc;
    int i;

    store_counts(g_m->store, &sc);
    ck_assert_uint_eq(sc.certs, 1);
    clock_advance(g_m->clock, 25LL * 3600 * 1000);
    for (i = 0; i < 300; i++) { /* 300 x 50 ms: 15 s for a 1 s period, on a loaded machine */
        struct timespec ts = {0, 50000000L};
        store_counts(g_m->store, &sc);
        if (sc.certs == 0)
            break;
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(sc.certs == 0, "the sweeper did not run");
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- POST /set-renewal-info/ ------------------------------------------------------------- */

/* The leaf PEM (new string) and ARI id (new string) of a valid order's certificate. */
static char *leaf_of(EVP_PKEY *k, const char *kid, const cJSON *o, char **ari_id)
{
    struct resp r;
    X509 *x = NULL;
    char *pem = NULL;

    post_url(jstr(o, "certificate"), k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(pem_read_cert(r.body, strlen(r.body), &x), MC_OK);
    ck_assert_int_eq(pem_write_cert(x, &pem), MC_OK);
    ck_assert_int_eq(ari_cert_id(x, ari_id), MC_OK);
    X509_free(x);
    resp_free(&r);
    return pem;
}

/* GET renewalInfo; the JSON (caller frees) after asserting 200. */
static cJSON *renewal_info(const char *id)
{
    char path[512], *u;
    struct resp r;
    cJSON *j;

    snprintf(path, sizeof(path), "%s%s", ACME_PATH_RENEWAL_INFO, id);
    u = url_of(path);
    http("GET", u, NULL, &r);
    free(u);
    ck_assert_msg(r.status == 200, "renewalInfo: %ld %s", r.status, r.body);
    j = body_json(&r);
    resp_free(&r);
    return j;
}

/* Whether an RFC 3339 time from renewalInfo names the second want ("...T00:00:00Z"),
 * whatever fraction it carries. */
static void assert_time(const char *got, const char *want)
{
    ck_assert_msg(strncmp(got, want, 19) == 0 && (got[19] == 'Z' || got[19] == '.'),
                  "time %s, want %s", got, want);
}

/* {"Certificate": pem, "ARIResponse": ari} with the member names given. */
static char *sri_body(const char *cert_name, const char *pem, const char *ari_name,
                      const char *ari)
{
    cJSON *b = cJSON_CreateObject();
    char *s;

    cJSON_AddStringToObject(b, cert_name, pem);
    cJSON_AddStringToObject(b, ari_name, ari);
    s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return s;
}

START_TEST(test_set_renewal_info)
{
    static const char *const names[] = {"ari.example.com"};
    static const char *const window =
        "{\"suggestedWindow\":{\"start\":\"2031-01-01T00:00:00Z\",\"end\":"
        "\"2031-01-02T00:00:00Z\"},\"explanationURL\":\"https://ca.example/why\"}";
    EVP_PKEY *k = newkey();
    char *kid = account(k), *id = NULL, *pem, *body;
    cJSON *o = issue(k, kid, names, 1, "http-01"), *ri;
    const cJSON *w;
    struct tu_http h;

    pem = leaf_of(k, kid, o, &id);
    ri = renewal_info(id);
    w = cJSON_GetObjectItemCaseSensitive(ri, "suggestedWindow");
    ck_assert_int_ne(strncmp(jstr(w, "start"), "2031-01-01", 10), 0);
    cJSON_Delete(ri);

    /* Pebble's body, as its users' scripts send it. */
    body = sri_body("Certificate", pem, "ARIResponse", window);
    ck_assert_int_eq(mgmt("POST", "/set-renewal-info/", body, &h), 200);
    tu_http_free(&h);
    free(body);
    ri = renewal_info(id);
    w = cJSON_GetObjectItemCaseSensitive(ri, "suggestedWindow");
    assert_time(jstr(w, "start"), "2031-01-01T00:00:00Z");
    assert_time(jstr(w, "end"), "2031-01-02T00:00:00Z");
    ck_assert_str_eq(jstr(ri, "explanationURL"), "https://ca.example/why");
    cJSON_Delete(ri);

    /* Member names without case (Go's decoder), and an offset time. */
    body = sri_body("certificate", pem, "ariResponse",
                    "{\"suggestedWindow\":{\"start\":\"2032-06-01T02:00:00+02:00\",\"end\":"
                    "\"2032-06-01T12:00:00Z\"}}");
    ck_assert_int_eq(mgmt("POST", "/set-renewal-info/", body, &h), 200);
    tu_http_free(&h);
    free(body);
    ri = renewal_info(id);
    w = cJSON_GetObjectItemCaseSensitive(ri, "suggestedWindow");
    assert_time(jstr(w, "start"), "2032-06-01T00:00:00Z");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(ri, "explanationURL"));
    cJSON_Delete(ri);

    /* Refusals: 400 for what does not parse, 404 for a certificate not ours. */
    ck_assert_int_eq(mgmt("POST", "/set-renewal-info/", "not json", &h), 400);
    tu_http_free(&h);
    body = sri_body("Certificate", "not a pem", "ARIResponse", window);
    ck_assert_int_eq(mgmt("POST", "/set-renewal-info/", body, &h), 400);
    tu_http_free(&h);
    free(body);
    body = sri_body("Certificate", pem, "ARIResponse", "{\"suggestedWindow\":42}");
    ck_assert_int_eq(mgmt("POST", "/set-renewal-info/", body, &h), 400);
    tu_http_free(&h);
    free(body);
    body = sri_body("Certificate", pem, "ARIResponse",
                    "{\"suggestedWindow\":{\"start\":\"2031-01-02T00:00:00Z\",\"end\":"
                    "\"2031-01-01T00:00:00Z\"}}");
    ck_assert_int_eq(mgmt("POST", "/set-renewal-info/", body, &h), 400);
    tu_http_free(&h);
    free(body);
    body = sri_body("Certificate", pem, "ARIResponse", "{\"suggestedWindow\":{\"start\":\"soon\"");
    ck_assert_int_eq(mgmt("POST", "/set-renewal-info/", body, &h), 400);
    tu_http_free(&h);
    free(body);
    body = sri_body("Certificate", mockca_tls_root_pem(g_m), "ARIResponse", window);
    ck_assert_int_eq(mgmt("POST", "/set-renewal-info/", body, &h), 404);
    tu_http_free(&h);
    free(body);
    /* The window set earlier is untouched by the refusals. */
    ri = renewal_info(id);
    w = cJSON_GetObjectItemCaseSensitive(ri, "suggestedWindow");
    assert_time(jstr(w, "start"), "2032-06-01T00:00:00Z");
    cJSON_Delete(ri);

    free(pem);
    free(id);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- request checks ---------------------------------------------------------------------- */

START_TEST(test_terms_of_service_required)
{
    EVP_PKEY *k = newkey();
    static const char *const payloads[] = {"{}", "{\"termsOfServiceAgreed\":false}",
                                           "{\"contact\":[\"mailto:a@example.com\"]}"};
    struct resp r;

    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        post(ACME_PATH_NEW_ACCOUNT, k, NULL, payloads[i], &r);
        assert_problem(&r, 403, "agreementRequired");
        ck_assert_int_eq(header_count(&r, "Link", "rel=\"terms-of-service\""), 1);
        ck_assert_int_eq(header_count(&r, "Link", "data:text/plain"), 1);
        resp_free(&r);
    }
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{\"onlyReturnExisting\":true}", &r);
    assert_problem(&r, 400, "accountDoesNotExist");
    resp_free(&r);
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    /* An existing account is found again without agreeing anew (section 7.3.1). */
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{}", &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_user_agent_strict)
{
    EVP_PKEY *k = newkey();
    struct resp r;

    g_user_agent = NULL;
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    assert_problem(&r, 400, "malformed");
    ck_assert_ptr_nonnull(strstr(r.body, "User-Agent"));
    resp_free(&r);
    g_user_agent = "hardening-test/1.0";
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    resp_free(&r);
    g_user_agent = NULL;
    EVP_PKEY_free(k);
}
END_TEST

/* Without -strict, as Pebble, a missing User-Agent is accepted. */
START_TEST(test_user_agent_lenient)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k); /* g_user_agent is NULL: no header */

    ck_assert_ptr_nonnull(kid);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- config ------------------------------------------------------------------------------ */

START_TEST(test_config_rate_limits)
{
    struct mockca_config c;
    char err[256];
    static const char good[] =
        "{\"pebble\":{\"rateLimits\":{\"ordersPerAccount\":{\"count\":5,\"windowSeconds\":60},"
        "\"failedValidationsPerIdentifier\":{\"count\":3,\"windowSeconds\":3600},"
        "\"accountsPerAddress\":{\"count\":0}},\"sweepIntervalSeconds\":7}}";
    static const char *const bad[] = {
        "{\"pebble\":{\"rateLimits\":[]}}",
        "{\"pebble\":{\"rateLimits\":{\"ordersPerAccount\":{\"count\":5}}}}",
        "{\"pebble\":{\"rateLimits\":{\"ordersPerAccount\":{\"count\":-1,\"windowSeconds\":1}}}}",
        "{\"pebble\":{\"rateLimits\":{\"ordersPerAccount\":{\"count\":1,\"windowSeconds\":0}}}}",
        ("{\"pebble\":{\"rateLimits\":{\"accountsPerAddress\":{\"count\":1.5,"
         "\"windowSeconds\":1}}}}"),
        "{\"pebble\":{\"sweepIntervalSeconds\":-1}}",
    };

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_uint_eq(c.rl_orders_per_account.count, 0);
    ck_assert_uint_eq(c.rl_failed_validations.count, 0);
    ck_assert_uint_eq(c.rl_accounts_per_address.count, 0);
    ck_assert_int_eq(c.sweep_interval_s, 30);
    ck_assert_int_eq(mockca_config_apply_json(&c, good, strlen(good), err, sizeof(err)), MC_OK);
    ck_assert_uint_eq(c.rl_orders_per_account.count, 5);
    ck_assert_int_eq(c.rl_orders_per_account.window_s, 60);
    ck_assert_uint_eq(c.rl_failed_validations.count, 3);
    ck_assert_int_eq(c.rl_failed_validations.window_s, 3600);
    ck_assert_uint_eq(c.rl_accounts_per_address.count, 0);
    ck_assert_int_eq(c.sweep_interval_s, 7);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_msg(mockca_config_apply_json(&c, bad[i], strlen(bad[i]), err, sizeof(err)) ==
                          MC_ERR_INVALID,
                      "accepted %s", bad[i]);
        ck_assert_msg(strstr(err, "rateLimits") != NULL || strstr(err, "sweepInterval") != NULL,
                      "%s: %s", bad[i], err);
        /* All or nothing: the good values stay. */
        ck_assert_uint_eq(c.rl_orders_per_account.count, 5);
        ck_assert_int_eq(c.sweep_interval_s, 7);
    }
    mockca_config_free(&c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_limits");
    struct {
        const char *name;
        void (*setup)(void);
        const TTest *test;
    } cases[] = {
        {"orders", setup_orders_limit, test_orders_per_account},
        {"accounts", setup_accounts_limit, test_accounts_per_address},
        {"failed", setup_failed_limit, test_failed_validations_per_identifier},
        {"off", setup_plain, test_limits_off_by_default},
        {"sweep", setup_plain, test_sweep_endpoint},
        {"sweeper", setup_sweeper, test_sweeper_thread},
        {"ari", setup_plain, test_set_renewal_info},
        {"tos", setup_plain, test_terms_of_service_required},
        {"ua_strict", setup_strict, test_user_agent_strict},
        {"ua_lenient", setup_plain, test_user_agent_lenient},
    };
    TCase *cfg = tcase_create("config");

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, cases[i].setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    tcase_add_test(cfg, test_config_rate_limits);
    suite_add_tcase(s, cfg);
    return s;
}

int main(void)
{
    Suite *s = suite();
    SRunner *sr = srunner_create(s);
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
