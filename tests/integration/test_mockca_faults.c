/* Integration tests of fault injection on mockca's ACME and CertCentral front ends
 * (mockca/acme/afault.h): every action fires where its rule matches and nowhere else,
 * seeds replay, the clock window, subjects, held validations and issuances, transport
 * faults as a libcurl client sees them, the management API and faults from the config. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "common/clock.h"
#include "mockca/acme/render.h"
#include "mockca/mockca.h"
#include "acme_client.h"
#include "testutil.h"

#define FIRE_WAIT_TRIES 400 /* x 25 ms */

static EVP_PKEY *g_key;
static char *g_kid;

static void teardown(void)
{
    free(g_kid);
    g_kid = NULL;
    EVP_PKEY_free(g_key);
    g_key = NULL;
    ac_stop();
}

static void start(void (*adjust)(struct mockca_config *cfg))
{
    ac_start(adjust, true);
    g_key = newkey();
    g_kid = account(g_key);
}

/* Adds a rule through the C API; returns its id. */
static uint64_t add_fault(const char *server, const char *match, const char *action)
{
    cJSON *jm = match != NULL ? cJSON_Parse(match) : NULL;
    cJSON *ja = cJSON_Parse(action);
    char err[256] = "";
    uint64_t id = 0;

    ck_assert_ptr_nonnull(ja);
    enum mc_err e = mockca_fault_add(g_m, server, jm, ja, &id, err, sizeof(err));
    ck_assert_msg(e == MC_OK, "mockca_fault_add: %s (%s)", mc_strerror(e), err);
    cJSON_Delete(jm);
    cJSON_Delete(ja);
    return id;
}

static void mgmt(const char *method, const char *path, const char *body, struct resp *r);

static uint64_t fired(uint64_t id)
{
    uint64_t n = 0;
    ck_assert_int_eq(mockca_fault_fired(g_m, id, &n), MC_OK);
    return n;
}

static const char *const k_names[] = {"faults.example.com"};

/* newOrder for k_names; the status. */
static long try_new_order(EVP_PKEY *key, const char *kid)
{
    struct resp r;
    post(ACME_PATH_NEW_ORDER, key, kid,
         "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"faults.example.com\"}]}", &r);
    long st = r.status;
    resp_free(&r);
    return st;
}

/* One exchange on a fresh connection of a copy of the test's curl handle (its TLS trust):
 * no keep-alive, so libcurl cannot quietly retry a dropped request on a new connection.
 * hdr (may be NULL) is one extra header line; *body (may be NULL) gets the body. Returns
 * the curl code; *status the HTTP status (0 without one). */
static CURLcode xfer(const char *method, const char *url, const char *hdr, const char *payload,
                     long *status, char **body, char **headers)
{
    CURL *c = curl_easy_duphandle(g_curl);
    struct curl_slist *h = NULL;
    char *b = NULL, *hd = NULL;
    CURLcode rc;

    ck_assert_ptr_nonnull(c);
    h = curl_slist_append(h, "Content-Type: application/json");
    if (hdr != NULL)
        h = curl_slist_append(h, hdr);
    curl_easy_setopt(c, CURLOPT_URL, url);
    /* The copy carries the original's last POST body: always set ours, or GET. */
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload != NULL ? payload : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(payload != NULL ? strlen(payload) : 0));
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
    rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (body != NULL)
        *body = b != NULL ? b : strdup("");
    else
        free(b);
    if (headers != NULL)
        *headers = hd != NULL ? hd : strdup("");
    else
        free(hd);
    return rc;
}

static CURLcode raw_get(const char *path, long *status)
{
    char *url = url_of(path);
    CURLcode c = xfer("GET", url, NULL, NULL, status, NULL, NULL);
    free(url);
    return c;
}

/* A completed exchange into a struct resp (asserts it completed). */
static void xfer_resp(const char *method, const char *url, const char *hdr, const char *payload,
                      struct resp *r)
{
    memset(r, 0, sizeof(*r));
    CURLcode c = xfer(method, url, hdr, payload, &r->status, &r->body, &r->headers);
    ck_assert_msg(c == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(c));
    r->len = strlen(r->body);
}

/* http() to g_base + path. */
static void http_path(const char *method, const char *path, const char *body, struct resp *r)
{
    char *url = url_of(path);
    http(method, url, body, r);
    free(url);
}

/* ---- problem, nth ----------------------------------------------------------------------- */

START_TEST(test_problem_nth_newOrder)
{
    start(NULL);
    uint64_t id = add_fault("acme", "{\"target\":\"newOrder\",\"nth\":2}",
                            "{\"action\":\"problem\",\"type\":\"rateLimited\","
                            "\"detail\":\"slow down\",\"retry_after\":7}");
    struct resp r;
    http_path("GET", ACME_PATH_DIRECTORY, NULL, &r); /* other resource: not counted */
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 201); /* 1st newOrder */
    post(ACME_PATH_NEW_ORDER, g_key, g_kid,
         "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"faults.example.com\"}]}", &r);
    assert_problem(&r, 429, "rateLimited");
    char *ra = header(&r, "Retry-After");
    ck_assert_ptr_nonnull(ra);
    ck_assert_str_eq(ra, "7");
    free(ra);
    ck_assert_ptr_nonnull(strstr(r.body, "slow down"));
    ck_assert(header_has(&r, "Replay-Nonce", "")); /* the after hook still runs */
    resp_free(&r);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 201); /* 3rd: nth 2 only */
    ck_assert_uint_eq(fired(id), 1);
}
END_TEST

START_TEST(test_problem_any_type_and_status)
{
    start(NULL);
    add_fault("acme", "{\"target\":\"newNonce\",\"kind\":\"GET\",\"times\":1}",
              "{\"action\":\"problem\",\"type\":\"https://example.com/teapot\",\"status\":418,"
              "\"detail\":\"short and stout\"}");
    struct resp r;
    http_path("HEAD", ACME_PATH_NONCE, NULL, &r); /* HEAD: another kind */
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    http_path("GET", ACME_PATH_NONCE, NULL, &r);
    ck_assert_int_eq(r.status, 418);
    cJSON *j = body_json(&r);
    ck_assert_str_eq(jstr(j, "type"), "https://example.com/teapot");
    ck_assert_str_eq(jstr(j, "detail"), "short and stout");
    cJSON_Delete(j);
    resp_free(&r);
    http_path("GET", ACME_PATH_NONCE, NULL, &r); /* times 1: spent */
    ck_assert_int_eq(r.status, 204);
    resp_free(&r);
}
END_TEST

/* ---- badNonce --------------------------------------------------------------------------- */

START_TEST(test_bad_nonce_every_second)
{
    start(NULL);
    uint64_t id = add_fault("acme", "{\"target\":\"order\",\"every\":2}", "{\"action\":\"badNonce\"}");
    cJSON *o = NULL;
    char *url = new_order(g_key, g_kid, "{\"identifiers\":[{\"type\":\"dns\",\"value\":"
                                        "\"faults.example.com\"}]}", &o);
    struct resp r;
    for (int i = 1; i <= 4; i++) {
        post_url(url, g_key, g_kid, NULL, &r);
        if (i % 2 == 0) {
            assert_problem(&r, 400, "badNonce");
        } else {
            ck_assert_int_eq(r.status, 200);
        }
        resp_free(&r);
    }
    ck_assert_uint_eq(fired(id), 2);
    /* The rejected nonce is used up: replaying the JWS of a rejected request fails for
     * real, not because of the rule (the 5th request is not an even one). */
    char used[64];
    snprintf(used, sizeof(used), "%s", g_nonce);
    post_url(url, g_key, g_kid, NULL, &r); /* 5th: passes, consumes g_nonce */
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    post_url_nonce(url, g_key, g_kid, NULL, used, &r); /* 6th: rule fires, nonce stays bad */
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    free(url);
    cJSON_Delete(o);
}
END_TEST

/* ---- drop, truncate, garbage, delay ----------------------------------------------------- */

START_TEST(test_drop_and_truncate_are_transport_errors)
{
    start(NULL);
    uint64_t d = add_fault("acme", "{\"target\":\"directory\",\"nth\":1}", "{\"action\":\"drop\"}");
    /* nth counts the events offered to the rule: the 1st, which the drop rule took, never
     * reached this one. */
    uint64_t t = add_fault("acme", "{\"target\":\"directory\",\"nth\":1}",
                           "{\"action\":\"truncate\"}");
    long st = 0;
    CURLcode c = raw_get(ACME_PATH_DIRECTORY, &st);
    ck_assert_msg(c == CURLE_GOT_NOTHING || c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR,
                  "drop gave curl %d (%s)", (int)c, curl_easy_strerror(c));
    c = raw_get(ACME_PATH_DIRECTORY, &st);
    ck_assert_msg(c == CURLE_PARTIAL_FILE || c == CURLE_RECV_ERROR,
                  "truncate gave curl %d (%s)", (int)c, curl_easy_strerror(c));
    c = raw_get(ACME_PATH_DIRECTORY, &st); /* 3rd: neither */
    ck_assert_int_eq(c, CURLE_OK);
    ck_assert_int_eq(st, 200);
    ck_assert_uint_eq(fired(d), 1);
    ck_assert_uint_eq(fired(t), 1);
}
END_TEST

START_TEST(test_garbage_and_delay)
{
    start(NULL);
    uint64_t g = add_fault("acme", "{\"target\":\"newOrder\",\"nth\":1}",
                           "{\"action\":\"garbage\"}");
    uint64_t d = add_fault("acme", "{\"target\":\"newNonce\",\"times\":1}",
                           "{\"action\":\"delay\",\"delay_ms\":200}");
    struct resp r;
    post(ACME_PATH_NEW_ORDER, g_key, g_kid,
         "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"faults.example.com\"}]}", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(header_has(&r, "Content-Type", "application/json"));
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    ck_assert_msg(j == NULL || !cJSON_IsObject(j), "garbage parsed as an object");
    cJSON_Delete(j);
    resp_free(&r);
    http_path("HEAD", ACME_PATH_NONCE, NULL, &r); /* delayed, then a normal answer */
    ck_assert_int_eq(r.status, 200);
    ck_assert(header_has(&r, "Replay-Nonce", ""));
    resp_free(&r);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 201);
    ck_assert_uint_eq(fired(g), 1);
    ck_assert_uint_eq(fired(d), 1);
}
END_TEST

/* ---- subject, window, seed -------------------------------------------------------------- */

START_TEST(test_subject_is_the_account)
{
    start(NULL);
    EVP_PKEY *k2 = newkey();
    char *kid2 = account(k2);
    const char *id2 = strrchr(kid2, '/') + 1;
    char match[160];
    snprintf(match, sizeof(match), "{\"target\":\"newOrder\",\"subject\":\"%s\"}", id2);
    uint64_t id = add_fault("acme", match, "{\"action\":\"problem\",\"type\":\"serverInternal\"}");
    ck_assert_int_eq(try_new_order(g_key, g_kid), 201);
    ck_assert_int_eq(try_new_order(k2, kid2), 500);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 201);
    ck_assert_uint_eq(fired(id), 1);
    free(kid2);
    EVP_PKEY_free(k2);
}
END_TEST

START_TEST(test_window_on_the_virtual_clock)
{
    start(NULL);
    struct mc_clock *c = mockca_clock(g_m);
    clock_freeze(c);
    int64_t now = clock_now_ms(c);
    char match[160];
    snprintf(match, sizeof(match),
             "{\"target\":\"newOrder\",\"from_ms\":%lld,\"until_ms\":%lld}",
             (long long)(now + 60000), (long long)(now + 120000));
    uint64_t id = add_fault("acme", match, "{\"action\":\"problem\",\"status\":503}");
    ck_assert_int_eq(try_new_order(g_key, g_kid), 201); /* before the window */
    clock_advance(c, 61000);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 503); /* inside */
    clock_advance(c, 60000);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 201); /* after */
    ck_assert_uint_eq(fired(id), 1);
}
END_TEST

static uint64_t g_seed;
static void adjust_seed(struct mockca_config *cfg)
{
    cfg->fault_seed = g_seed;
}

/* 24 newNonce requests under a probability 0.5 rule, as a bit pattern. */
static uint32_t pattern_for_seed(uint64_t seed)
{
    uint32_t bits = 0;
    g_seed = seed;
    ac_start(adjust_seed, false);
    add_fault("acme", "{\"target\":\"newNonce\",\"probability\":0.5}",
              "{\"action\":\"problem\",\"status\":503}");
    for (int i = 0; i < 24; i++) {
        struct resp r;
        http_path("GET", ACME_PATH_NONCE, NULL, &r);
        ck_assert(r.status == 204 || r.status == 503);
        if (r.status == 503)
            bits |= 1u << i;
        resp_free(&r);
    }
    ck_assert_uint_eq(mockca_fault_seed(g_m), seed);
    ac_stop();
    return bits;
}

START_TEST(test_probability_replays_from_seed)
{
    uint32_t a = pattern_for_seed(4242), b = pattern_for_seed(4242), c = pattern_for_seed(777);
    ck_assert_uint_eq(a, b);
    ck_assert_uint_ne(a, c);
    ck_assert_uint_ne(a, 0); /* some fired, some did not */
    ck_assert_uint_ne(a, 0xffffffu);
}
END_TEST

/* ---- held validations and issuance ------------------------------------------------------ */

static void wait_fired(uint64_t id, uint64_t n)
{
    for (int i = 0; i < FIRE_WAIT_TRIES && fired(id) < n; i++)
        pause_a_little();
    ck_assert_uint_ge(fired(id), n);
}

static const char *status_of(const char *url)
{
    static char buf[32];
    cJSON *j = fetch(g_key, g_kid, url);
    snprintf(buf, sizeof(buf), "%s", jstr(j, "status"));
    cJSON_Delete(j);
    return buf;
}

START_TEST(test_stalled_validation_until_deleted)
{
    start(NULL);
    uint64_t id = add_fault("acme", "{\"target\":\"faults.example.com\",\"kind\":\"http-01\"}",
                            "{\"action\":\"stall_validation\",\"delay_ms\":20}");
    cJSON *o = NULL;
    char *url = new_order(g_key, g_kid, "{\"identifiers\":[{\"type\":\"dns\",\"value\":"
                                        "\"faults.example.com\"}]}", &o);
    const cJSON *az = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "authorizations"), 0);
    answer_all(g_key, g_kid, o, "http-01", false);
    wait_fired(id, 3);
    cJSON *a = fetch(g_key, g_kid, az->valuestring);
    ck_assert_str_eq(jstr(a, "status"), "pending");
    ck_assert_str_eq(jstr(challenge_of(a, "http-01"), "status"), "processing");
    cJSON_Delete(a);
    ck_assert_str_eq(status_of(url), "pending");
    struct resp r;
    char body[64];
    snprintf(body, sizeof(body), "{\"id\":%llu}", (unsigned long long)id);
    mgmt("POST", "/del-fault", body, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    cJSON *done = poll_status(g_key, g_kid, url, "ready");
    cJSON_Delete(done);
    free(url);
    cJSON_Delete(o);
}
END_TEST

START_TEST(test_stalled_validation_until_times_run_out)
{
    start(NULL);
    uint64_t other = add_fault("acme", "{\"target\":\"*.other.test\"}",
                               "{\"action\":\"stall_validation\"}");
    uint64_t id = add_fault("acme", "{\"target\":\"*.example.com\",\"times\":4}",
                            "{\"action\":\"stall_validation\",\"delay_ms\":10}");
    cJSON *o = NULL;
    char *url = new_order(g_key, g_kid, "{\"identifiers\":[{\"type\":\"dns\",\"value\":"
                                        "\"faults.example.com\"}]}", &o);
    answer_all(g_key, g_kid, o, "http-01", false);
    cJSON *done = poll_status(g_key, g_kid, url, "ready");
    cJSON_Delete(done);
    ck_assert_uint_eq(fired(id), 4);
    ck_assert_uint_eq(fired(other), 0);
    free(url);
    cJSON_Delete(o);
}
END_TEST

START_TEST(test_stuck_processing_until_deleted)
{
    start(NULL);
    uint64_t id = add_fault("acme", NULL, "{\"action\":\"stuck_processing\",\"delay_ms\":20}");
    cJSON *o = NULL;
    char *url = new_order(g_key, g_kid, "{\"identifiers\":[{\"type\":\"dns\",\"value\":"
                                        "\"faults.example.com\"}]}", &o);
    answer_all(g_key, g_kid, o, "http-01", false);
    cJSON *ready = poll_status(g_key, g_kid, url, "ready"); /* validation is not held */
    cJSON_Delete(ready);
    EVP_PKEY *ck = newkey();
    char *csr = csr_b64(ck, k_names[0], k_names, 1);
    struct resp r;
    finalize(g_key, g_kid, o, csr, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    wait_fired(id, 3);
    ck_assert_str_eq(status_of(url), "processing");
    /* Deleted through the management API's clear: the issuance then runs. */
    mgmt("POST", "/clear-faults", "{}", &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    cJSON *valid = poll_status(g_key, g_kid, url, "valid");
    ck_assert_ptr_nonnull(jstr(valid, "certificate"));
    cJSON_Delete(valid);
    free(csr);
    EVP_PKEY_free(ck);
    free(url);
    cJSON_Delete(o);
}
END_TEST

/* ---- CertCentral ------------------------------------------------------------------------ */

static void cc_get(const char *route, const char *key, struct resp *r)
{
    char url[512], hdr[160];
    snprintf(url, sizeof(url), "%s%s", mockca_cc_url(g_m), route);
    snprintf(hdr, sizeof(hdr), "X-DC-DEVKEY: %s", key);
    xfer_resp("GET", url, hdr, NULL, r);
}

START_TEST(test_cc_error_503_with_date)
{
    start(NULL);
    const char *key = mockca_cc_api_key(g_m);
    ck_assert_ptr_nonnull(key);
    /* The virtual clock far from real time: the date must follow the wall clock, which
     * is what a client compares it with, not this one. */
    struct mc_clock *c = mockca_clock(g_m);
    clock_freeze(c);
    clock_set(c, INT64_C(978307200000)); /* 2001-01-01T00:00:00Z */
    uint64_t id = add_fault("certcentral", "{\"target\":\"product\",\"kind\":\"GET\",\"nth\":1}",
                            "{\"action\":\"error\",\"status\":503,\"code\":\"service_unavailable\","
                            "\"message\":\"maintenance\",\"retry_after\":30,"
                            "\"retry_after_form\":\"date\"}");
    uint64_t other = add_fault("certcentral", "{\"subject\":\"not-this-key\"}",
                               "{\"action\":\"error\",\"status\":500}");
    struct resp r;
    cc_get("order/certificate", key, &r); /* another route: untouched */
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    int64_t before = (int64_t)time(NULL);
    cc_get("product", key, &r);
    int64_t after = (int64_t)time(NULL);
    ck_assert_int_eq(r.status, 503);
    cJSON *j = body_json(&r);
    const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "errors"), 0);
    ck_assert_ptr_nonnull(e0);
    ck_assert_str_eq(jstr(e0, "code"), "service_unavailable");
    ck_assert_str_eq(jstr(e0, "message"), "maintenance");
    cJSON_Delete(j);
    char *ra = header(&r, "Retry-After");
    ck_assert_ptr_nonnull(ra);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(ra, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ck_assert_msg(end != NULL && *end == '\0', "not an IMF-fixdate: %s", ra);
    int64_t t = (int64_t)timegm(&tm);
    ck_assert_int_ge(t, before + 30);
    ck_assert_int_le(t, after + 30);
    free(ra);
    resp_free(&r);
    cc_get("product", key, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    /* An ACME rule does not spill onto CertCentral, nor a CertCentral one onto ACME. */
    uint64_t acme_all = add_fault("acme", NULL, "{\"action\":\"problem\",\"status\":500}");
    cc_get("product", key, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    ck_assert_uint_eq(fired(acme_all), 0);
    ck_assert_uint_eq(fired(id), 1);
    ck_assert_uint_eq(fired(other), 0);
}
END_TEST

START_TEST(test_cc_route_ids_and_drop)
{
    start(NULL);
    const char *key = mockca_cc_api_key(g_m);
    uint64_t id = add_fault("certcentral", "{\"target\":\"order/certificate/{}\"}",
                            "{\"action\":\"drop\"}");
    struct resp r;
    cc_get("order/certificate", key, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    long st = 0;
    char url[512], hdr[160];
    snprintf(url, sizeof(url), "%sorder/certificate/12345", mockca_cc_url(g_m));
    snprintf(hdr, sizeof(hdr), "X-DC-DEVKEY: %s", key);
    CURLcode c = xfer("GET", url, hdr, NULL, &st, NULL, NULL);
    ck_assert_msg(c != CURLE_OK, "drop answered (status %ld)", st);
    ck_assert_uint_eq(fired(id), 1);
}
END_TEST

/* ---- management API and config ---------------------------------------------------------- */

static void mgmt(const char *method, const char *path, const char *body, struct resp *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", mockca_mgmt_url(g_m), path);
    xfer_resp(method, url, NULL, body, r);
}

START_TEST(test_mgmt_add_list_del_clear)
{
    start(NULL);
    struct resp r;
    mgmt("POST", "/add-fault",
         "{\"server\":\"acme\",\"match\":{\"target\":\"newOrder\"},"
         "\"action\":{\"action\":\"problem\",\"type\":\"rateLimited\"}}",
         &r);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = body_json(&r);
    uint64_t id = (uint64_t)cJSON_GetObjectItem(j, "id")->valuedouble;
    cJSON_Delete(j);
    resp_free(&r);
    mgmt("POST", "/add-fault", "{\"action\":{\"action\":\"explode\"}}", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "action"));
    resp_free(&r);
    mgmt("POST", "/add-fault", "{\"server\":\"certcentral\",\"action\":{\"action\":\"badNonce\"}}",
         &r);
    ck_assert_int_eq(r.status, 400);
    resp_free(&r);
    mgmt("POST", "/add-fault",
         "{\"server\":\"certcentral\",\"match\":{\"target\":\"product\"},"
         "\"action\":{\"action\":\"error\",\"status\":429,\"retry_after\":3}}",
         &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 429);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 429);
    mgmt("GET", "/faults", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    j = body_json(&r);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "seed")));
    const cJSON *rules = cJSON_GetObjectItem(j, "rules");
    ck_assert_int_eq(cJSON_GetArraySize(rules), 2);
    const cJSON *r0 = cJSON_GetArrayItem(rules, 0);
    ck_assert_int_eq((int)cJSON_GetObjectItem(r0, "fired")->valuedouble, 2);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(r0, "spec"), "server"), "acme");
    cJSON_Delete(j);
    resp_free(&r);
    char body[64];
    snprintf(body, sizeof(body), "{\"id\":%llu}", (unsigned long long)id);
    mgmt("POST", "/del-fault", body, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    mgmt("POST", "/del-fault", body, &r);
    ck_assert_int_eq(r.status, 404);
    resp_free(&r);
    ck_assert_int_eq(try_new_order(g_key, g_kid), 201);
    mgmt("POST", "/clear-faults", NULL, &r);
    ck_assert_msg(r.status == 200, "clear-faults: %ld %s", r.status, r.body);
    resp_free(&r);
    mgmt("GET", "/faults", NULL, &r);
    j = body_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rules")), 0);
    cJSON_Delete(j);
    resp_free(&r);
}
END_TEST

static void adjust_config_faults(struct mockca_config *cfg)
{
    char err[256] = "";
    const char *text =
        "{\"pebble\":{},\"faults\":[{\"server\":\"acme\",\"match\":{\"target\":\"newAccount\","
        "\"nth\":2},\"action\":{\"action\":\"problem\",\"type\":\"serverInternal\"}}]}";
    ck_assert_int_eq(mockca_config_apply_json(cfg, text, strlen(text), err, sizeof(err)), MC_OK);
}

START_TEST(test_config_faults_loaded_at_start)
{
    start(adjust_config_faults); /* start() made account 1: the 1st newAccount */
    EVP_PKEY *k2 = newkey();
    ck_assert_int_eq(new_account(k2, "{\"termsOfServiceAgreed\":true}", NULL), 500);
    ck_assert_int_eq(new_account(k2, "{\"termsOfServiceAgreed\":true}", NULL), 201);
    uint64_t n = 0;
    ck_assert_int_eq(mockca_fault_fired(g_m, 1, &n), MC_OK);
    ck_assert_uint_eq(n, 1);
    EVP_PKEY_free(k2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_problem_nth_newOrder);
    tcase_add_test(tc, test_problem_any_type_and_status);
    tcase_add_test(tc, test_bad_nonce_every_second);
    tcase_add_test(tc, test_drop_and_truncate_are_transport_errors);
    tcase_add_test(tc, test_garbage_and_delay);
    tcase_add_test(tc, test_subject_is_the_account);
    tcase_add_test(tc, test_window_on_the_virtual_clock);
    tcase_add_test(tc, test_probability_replays_from_seed);
    tcase_add_test(tc, test_stalled_validation_until_deleted);
    tcase_add_test(tc, test_stalled_validation_until_times_run_out);
    tcase_add_test(tc, test_stuck_processing_until_deleted);
    tcase_add_test(tc, test_cc_error_503_with_date);
    tcase_add_test(tc, test_cc_route_ids_and_drop);
    tcase_add_test(tc, test_mgmt_add_list_del_clear);
    tcase_add_test(tc, test_config_faults_loaded_at_start);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
