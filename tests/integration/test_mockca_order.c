/* Integration tests of mockca's second slice, in-process over HTTPS with libcurl: newOrder,
 * the order, newAuthz, authorizations (deactivation), challenges validated for real
 * (http-01 against a responder this test runs, dns-01 against the embedded dnsmock),
 * finalize with its CSR checks, and certificate download with alternate chains, each chain
 * verified with X509_verify_cert against mockca's root. Every request is a real JWS. */
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
#include <openssl/x509_vfy.h>

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
#include "mockca/internal.h" /* m->clock and m->store, to run retention */
#include "mockca/mockca.h"
#include "acme_client.h"

static unsigned g_alt_roots;
static bool g_blocklist;

static void start_with(void (*adjust)(struct mockca_config *))
{
    ac_start(adjust, false);
}

static void adjust_default(struct mockca_config *cfg)
{
    cfg->alternate_roots = g_alt_roots;
    if (g_blocklist) {
        cfg->domain_blocklist[0] = strdup("blocked.example");
        cfg->n_domain_blocklist = 1;
    }
}

static void setup(void)
{
    g_alt_roots = 0;
    g_blocklist = true;
    start_with(adjust_default);
}

static void setup_alt(void)
{
    g_alt_roots = 1;
    g_blocklist = false;
    start_with(adjust_default);
}

/* Pebble's validation sleep on, long: a challenge stays processing, and stop is prompt. */
static void adjust_sleepy(struct mockca_config *cfg)
{
    cfg->va_nosleep = false;
    cfg->va_sleep_max_s = 60;
}

static void setup_sleepy(void)
{
    start_with(adjust_sleepy);
}

static void teardown(void)
{
    ac_stop();
}

/* Verifies the PEM chain under chain index root's root and that the leaf's SANs are
 * names. */
static void verify_chain(const char *pem, size_t root, const char *const *names, size_t n)
{
    STACK_OF(X509) *certs = NULL;
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *rootc = NULL;
    char *root_pem = NULL;
    struct ident_list want = {0}, got = {0};

    ck_assert_int_eq(pem_read_certs(pem, strlen(pem), &certs), MC_OK);
    ck_assert_int_ge(sk_X509_num(certs), 2); /* leaf and at least one intermediate */
    ck_assert_int_eq(mockca_root_pem(g_m, root, &root_pem), MC_OK);
    ck_assert_int_eq(pem_read_cert(root_pem, strlen(root_pem), &rootc), MC_OK);
    ck_assert_int_eq(X509_STORE_add_cert(st, rootc), 1);
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, sk_X509_value(certs, 0), certs), 1);
    ck_assert_msg(X509_verify_cert(ctx) == 1, "verify: %s",
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ident_list_add(&want, IDENT_DNS, names[i]), MC_OK);
    ck_assert_int_eq(x509_sans(sk_X509_value(certs, 0), &got), MC_OK);
    ck_assert(ident_list_same_set(&want, &got));
    ident_list_free(&want);
    ident_list_free(&got);
    X509_free(rootc);
    free(root_pem);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    sk_X509_pop_free(certs, X509_free);
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(test_http01_issuance)
{
    static const char *const names[] = {"a.example.com", "b.example.com"};
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    cJSON *o = issue(k, kid, names, 2, "http-01");
    struct resp r;
    char *ct;

    post_url(jstr(o, "certificate"), k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ct = header(&r, "Content-Type");
    ck_assert_str_eq(ct, "application/pem-certificate-chain");
    verify_chain(r.body, 0, names, 2);
    /* One chain only: no alternates. */
    ck_assert_int_eq(header_count(&r, "Link", "rel=\"alternate\""), 0);
    free(ct);
    resp_free(&r);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_dns01_wildcard_issuance)
{
    static const char *const names[] = {"example.org", "*.example.org"};
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    cJSON *o = issue(k, kid, names, 2, "dns-01");
    struct resp r;

    post_url(jstr(o, "certificate"), k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    verify_chain(r.body, 0, names, 2);
    resp_free(&r);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_alternate_chain)
{
    static const char *const names[] = {"alt.example.com"};
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    cJSON *o = issue(k, kid, names, 1, "http-01");
    struct resp r;
    char alt[512];

    post_url(jstr(o, "certificate"), k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    verify_chain(r.body, 0, names, 1);
    snprintf(alt, sizeof(alt), "%s/alternate/1", jstr(o, "certificate"));
    ck_assert_int_eq(header_count(&r, "Link", "rel=\"alternate\""), 1);
    ck_assert_int_eq(header_count(&r, "Link", alt), 1);
    resp_free(&r);
    post_url(alt, k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    verify_chain(r.body, 1, names, 1);
    resp_free(&r);
    /* Chain 2 does not exist. */
    snprintf(alt, sizeof(alt), "%s/alternate/2", jstr(o, "certificate"));
    post_url(alt, k, kid, NULL, &r);
    assert_problem(&r, 404, "malformed");
    resp_free(&r);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_wrong_keyauth)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k), *loc;
    cJSON *o, *a, *inv;
    const cJSON *c, *err;

    loc = new_order(k, kid, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"bad.example.com\"}]}",
                    &o);
    answer_all(k, kid, o, "http-01", true);
    inv = poll_status(k, kid, loc, "invalid");
    err = cJSON_GetObjectItemCaseSensitive(inv, "error");
    ck_assert_msg(err != NULL, "no error: %s", cJSON_PrintUnformatted(inv));
    /* Pebble and Boulder report a wrong key authorization as unauthorized. */
    ck_assert_str_eq(jstr(err, "type"), URN "unauthorized");
    a = fetch(
        k, kid,
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0)->valuestring);
    ck_assert_str_eq(jstr(a, "status"), "invalid");
    c = challenge_of(a, "http-01");
    ck_assert_str_eq(jstr(c, "status"), "invalid");
    ck_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(c, "error"), "type"),
                     URN "unauthorized");
    cJSON_Delete(a);
    cJSON_Delete(inv);
    cJSON_Delete(o);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_finalize_refusals)
{
    static const char *const names[] = {"f.example.com", "g.example.com"};
    static const char *const missing[] = {"f.example.com"};
    static const char *const extra[] = {"f.example.com", "g.example.com", "h.example.com"};
    EVP_PKEY *k = newkey(), *ck = newkey();
    char *kid = account(k), *loc, *csr;
    cJSON *o, *ready;
    struct resp r;

    loc = new_order(k, kid,
                    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"f.example.com\"},"
                    "{\"type\":\"dns\",\"value\":\"g.example.com\"}]}",
                    &o);
    /* Section 7.4: not ready yet. */
    csr = csr_b64(ck, NULL, names, 2);
    finalize(k, kid, o, csr, &r);
    assert_problem(&r, 403, "orderNotReady");
    resp_free(&r);
    free(csr);
    answer_all(k, kid, o, "http-01", false);
    ready = poll_status(k, kid, loc, "ready");
    csr = csr_b64(ck, NULL, missing, 1);
    finalize(k, kid, ready, csr, &r);
    assert_problem(&r, 400, "badCSR");
    resp_free(&r);
    free(csr);
    csr = csr_b64(ck, NULL, extra, 3);
    finalize(k, kid, ready, csr, &r);
    assert_problem(&r, 400, "badCSR");
    resp_free(&r);
    free(csr);
    csr = csr_b64(k, NULL, names, 2); /* the account key */
    finalize(k, kid, ready, csr, &r);
    assert_problem(&r, 400, "badCSR");
    resp_free(&r);
    free(csr);
    csr = csr_b64(ck, "other.example.com", names, 2); /* a CN that is no identifier */
    finalize(k, kid, ready, csr, &r);
    assert_problem(&r, 400, "badCSR");
    resp_free(&r);
    free(csr);
    finalize(k, kid, ready, "not-a-csr", &r);
    assert_problem(&r, 400, "badCSR");
    resp_free(&r);
    /* After every refusal the order is still ready, and a good CSR issues. */
    csr = csr_b64(ck, NULL, names, 2);
    finalize(k, kid, ready, csr, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    resp_free(&r);
    free(csr);
    cJSON_Delete(poll_status(k, kid, loc, "valid"));
    cJSON_Delete(ready);
    cJSON_Delete(o);
    free(loc);
    free(kid);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_new_order_refusals)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    struct resp r;
    static const struct {
        const char *payload;
        long status;
        const char *type;
    } cases[] = {
        {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"p.example.com\"}],\"profile\":\"nope\"}",
         400, "invalidProfile"},
        {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"blocked.example\"}]}", 400,
         "rejectedIdentifier"},
        {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"www.blocked.example\"}]}", 400,
         "rejectedIdentifier"},
        {"{\"identifiers\":[]}", 400, "malformed"},
        {"{}", 400, "malformed"},
        {"{\"identifiers\":[{\"type\":\"email\",\"value\":\"a@example.com\"}]}", 400,
         "unsupportedIdentifier"},
        {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.*.example.com\"}]}", 400, "malformed"},
        {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"x.example.com\"}],"
         "\"notBefore\":\"yesterday\"}",
         400, "malformed"},
        {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"x.example.com\"}],"
         "\"notBefore\":\"2030-01-02T00:00:00Z\",\"notAfter\":\"2030-01-01T00:00:00Z\"}",
         400, "malformed"},
        {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"x.example.com\"}],"
         "\"replaces\":\"not an ari id\"}",
         400, "malformed"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        post(ACME_PATH_NEW_ORDER, k, kid, cases[i].payload, &r);
        assert_problem(&r, cases[i].status, cases[i].type);
        resp_free(&r);
    }
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* Every refused identifier is named in one answer (RFC 8555 section 6.7.1): a subproblem
 * each, with the identifier as sent; the top type is theirs when they agree, else
 * malformed. Nothing is created. */
static void assert_subproblem(const cJSON *sub, const char *type, const char *id_type,
                              const char *id_value)
{
    char urn[128];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(sub, "identifier");
    snprintf(urn, sizeof(urn), URN "%s", type);
    ck_assert_str_eq(jstr(sub, "type"), urn);
    ck_assert_ptr_nonnull(id);
    ck_assert_str_eq(jstr(id, "type"), id_type);
    ck_assert_str_eq(jstr(id, "value"), id_value);
}

START_TEST(test_new_order_subproblems)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    struct resp r;
    cJSON *j, *subs;

    /* Two refusals of different types among a good name: top-level malformed. */
    post(ACME_PATH_NEW_ORDER, k, kid,
         "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"ok.example.com\"},"
         "{\"type\":\"dns\",\"value\":\"blocked.example\"},"
         "{\"type\":\"email\",\"value\":\"a@example.com\"}]}",
         &r);
    assert_problem(&r, 400, "malformed");
    j = body_json(&r);
    subs = cJSON_GetObjectItemCaseSensitive(j, "subproblems");
    ck_assert_int_eq(cJSON_GetArraySize(subs), 2);
    assert_subproblem(cJSON_GetArrayItem(subs, 0), "rejectedIdentifier", "dns", "blocked.example");
    assert_subproblem(cJSON_GetArrayItem(subs, 1), "unsupportedIdentifier", "email",
                      "a@example.com");
    cJSON_Delete(j);
    resp_free(&r);

    /* Two of one type: that type on top. */
    post(ACME_PATH_NEW_ORDER, k, kid,
         "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"blocked.example\"},"
         "{\"type\":\"dns\",\"value\":\"www.blocked.example\"}]}",
         &r);
    assert_problem(&r, 400, "rejectedIdentifier");
    j = body_json(&r);
    subs = cJSON_GetObjectItemCaseSensitive(j, "subproblems");
    ck_assert_int_eq(cJSON_GetArraySize(subs), 2);
    assert_subproblem(cJSON_GetArrayItem(subs, 1), "rejectedIdentifier", "dns",
                      "www.blocked.example");
    cJSON_Delete(j);
    resp_free(&r);

    /* An entry that is not an identifier at all is malformed at once, without subproblems. */
    post(ACME_PATH_NEW_ORDER, k, kid,
         "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"blocked.example\"},\"x\"]}", &r);
    assert_problem(&r, 400, "malformed");
    j = body_json(&r);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "subproblems"));
    cJSON_Delete(j);
    resp_free(&r);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_new_order_fields)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k), *loc;
    cJSON *o;

    loc = new_order(k, kid,
                    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"N.Example.com\"},"
                    "{\"type\":\"ip\",\"value\":\"127.0.0.1\"}],"
                    "\"notBefore\":\"2030-01-01T00:00:00Z\","
                    "\"notAfter\":\"2030-01-02T00:00:00+01:00\"}",
                    &o);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "authorizations")), 2);
    ck_assert_ptr_nonnull(strstr(jstr(o, "notBefore"), "2030-01-01T00:00:00"));
    ck_assert_ptr_nonnull(strstr(jstr(o, "notAfter"), "2030-01-01T23:00:00"));
    ck_assert_str_eq(jstr(o, "profile"), "default");
    cJSON_Delete(o);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_other_account)
{
    static const char *const names[] = {"mine.example.com"};
    EVP_PKEY *k = newkey(), *k2 = newkey();
    char *kid = account(k), *kid2 = account(k2), *loc, *csr;
    cJSON *o, *valid;
    const char *authz;
    struct resp r;

    loc = new_order(k, kid, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"mine.example.com\"}]}",
                    &o);
    authz =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0)->valuestring;
    post_url(loc, k2, kid2, NULL, &r);
    assert_problem(&r, 403, "unauthorized");
    resp_free(&r);
    post_url(authz, k2, kid2, NULL, &r);
    assert_problem(&r, 403, "unauthorized");
    resp_free(&r);
    csr = csr_b64(k2, NULL, names, 1);
    finalize(k2, kid2, o, csr, &r);
    assert_problem(&r, 403, "unauthorized");
    resp_free(&r);
    free(csr);
    cJSON_Delete(o);
    free(loc);
    /* Another account's certificate. */
    valid = issue(k, kid, names, 1, "http-01");
    post_url(jstr(valid, "certificate"), k2, kid2, NULL, &r);
    assert_problem(&r, 403, "unauthorized");
    resp_free(&r);
    cJSON_Delete(valid);
    free(kid);
    free(kid2);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}
END_TEST

START_TEST(test_authz_deactivation)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k), *loc;
    cJSON *o, *a, *inv;
    const char *authz;
    struct resp r;

    loc =
        new_order(k, kid, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"d.example.com\"}]}", &o);
    authz =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0)->valuestring;
    post_url(authz, k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(header_count(&r, "Retry-After", ""), 1);
    resp_free(&r);
    post_url(authz, k, kid, "{\"status\":\"valid\"}", &r);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);
    post_url(authz, k, kid, "{\"status\":\"deactivated\"}", &r);
    ck_assert_int_eq(r.status, 200);
    a = body_json(&r);
    ck_assert_str_eq(jstr(a, "status"), "deactivated");
    cJSON_Delete(a);
    resp_free(&r);
    /* The order follows (store.h): invalid. */
    inv = fetch(k, kid, loc);
    ck_assert_str_eq(jstr(inv, "status"), "invalid");
    cJSON_Delete(inv);
    cJSON_Delete(o);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_new_authz)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k), *loc;
    cJSON *a;
    struct resp r;

    post(ACME_PATH_NEW_AUTHZ, k, kid,
         "{\"identifier\":{\"type\":\"dns\",\"value\":\"pre.example.com\"}}", &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    loc = header(&r, "Location");
    ck_assert_ptr_nonnull(loc);
    ck_assert_ptr_nonnull(strstr(loc, ACME_PATH_AUTHZ));
    a = body_json(&r);
    ck_assert_str_eq(jstr(a, "status"), "pending");
    ck_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(a, "identifier"), "value"),
                     "pre.example.com");
    resp_free(&r);
    /* It validates like any other. */
    {
        const cJSON *c = challenge_of(a, "http-01");
        char *ka = keyauth_of(k, jstr(c, "token"));
        provision_http(jstr(c, "token"), ka);
        post_url(jstr(c, "url"), k, kid, "{}", &r);
        ck_assert_int_eq(r.status, 200);
        resp_free(&r);
        free(ka);
        cJSON_Delete(poll_status(k, kid, loc, "valid"));
    }
    post(ACME_PATH_NEW_AUTHZ, k, kid,
         "{\"identifier\":{\"type\":\"dns\",\"value\":\"*.pre.example.com\"}}", &r);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);
    cJSON_Delete(a);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

static void renew_nonce(void);

START_TEST(test_cert_retention)
{
    static const char *const names[] = {"keep.example.com"};
    EVP_PKEY *k = newkey();
    char *kid = account(k);
    cJSON *o = issue(k, kid, names, 1, "http-01");
    struct store_counts sc;
    struct resp r;

    store_counts(g_m->store, &sc);
    ck_assert_uint_eq(sc.certs, 1);
    /* Kept as long as a valid order (24 h by default), then dropped by the sweep. */
    clock_advance(g_m->clock, 23LL * 3600 * 1000);
    ck_assert_uint_eq(store_sweep(g_m->store), 0);
    renew_nonce();
    post_url(jstr(o, "certificate"), k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    clock_advance(g_m->clock, 2LL * 3600 * 1000);
    ck_assert_uint_ge(store_sweep(g_m->store), 2); /* the order and the certificate */
    store_counts(g_m->store, &sc);
    ck_assert_uint_eq(sc.certs, 0);
    renew_nonce();
    post_url(jstr(o, "certificate"), k, kid, NULL, &r);
    assert_problem(&r, 404, "malformed");
    resp_free(&r);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_sleepy_stop_is_prompt)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k), *loc;
    cJSON *o;
    const cJSON *au;
    double t0;
    int processing = 0;

    /* Four challenges each wait a random 0..60 s: some are surely still waiting. */
    loc = new_order(k, kid,
                    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"s1.example.com\"},"
                    "{\"type\":\"dns\",\"value\":\"s2.example.com\"},"
                    "{\"type\":\"dns\",\"value\":\"s3.example.com\"},"
                    "{\"type\":\"dns\",\"value\":\"s4.example.com\"}]}",
                    &o);
    answer_all(k, kid, o, "http-01", false);
    cJSON_ArrayForEach(au, cJSON_GetObjectItemCaseSensitive(o, "authorizations"))
    {
        cJSON *a = fetch(k, kid, au->valuestring), *c2;
        const cJSON *c = challenge_of(a, "http-01");
        struct resp r;

        /* POSTing {} again answers the challenge as it is. */
        post_url(jstr(c, "url"), k, kid, "{}", &r);
        ck_assert_int_eq(r.status, 200);
        c2 = body_json(&r);
        if (strcmp(jstr(c2, "status"), "processing") == 0) {
            processing++;
            ck_assert_int_eq(header_count(&r, "Retry-After", ""), 1);
        }
        cJSON_Delete(c2);
        resp_free(&r);
        cJSON_Delete(a);
    }
    ck_assert_int_ge(processing, 1);
    cJSON_Delete(o);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
    /* Stop wakes the sleeping workers at once. */
    t0 = now_s();
    curl_easy_cleanup(g_curl);
    g_curl = NULL;
    mockca_stop(g_m);
    g_m = NULL;
    ck_assert_msg(now_s() - t0 < 3.0, "stop took %.1f s", now_s() - t0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_order");
    TCase *tc = tcase_create("flows");
    TCase *alt = tcase_create("alternate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_http01_issuance);
    tcase_add_test(tc, test_dns01_wildcard_issuance);
    tcase_add_test(tc, test_wrong_keyauth);
    tcase_add_test(tc, test_finalize_refusals);
    tcase_add_test(tc, test_new_order_refusals);
    tcase_add_test(tc, test_new_order_subproblems);
    tcase_add_test(tc, test_new_order_fields);
    tcase_add_test(tc, test_other_account);
    tcase_add_test(tc, test_authz_deactivation);
    tcase_add_test(tc, test_new_authz);
    tcase_add_test(tc, test_cert_retention);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(alt, setup_alt, teardown);
    tcase_set_timeout(alt, 60);
    tcase_add_test(alt, test_alternate_chain);
    suite_add_tcase(s, alt);
    {
        TCase *sleepy = tcase_create("sleepy");
        tcase_add_checked_fixture(sleepy, setup_sleepy, teardown);
        tcase_set_timeout(sleepy, 30);
        tcase_add_test(sleepy, test_sleepy_stop_is_prompt);
        suite_add_tcase(s, sleepy);
    }
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
