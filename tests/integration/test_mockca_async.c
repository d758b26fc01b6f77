/* Integration tests of mockca's asynchronous issuance and Pebble's randomness, in-process
 * over HTTPS: finalize answers the order "processing" with Retry-After and a worker makes it
 * valid; Retry-After comes as delta-seconds or an IMF-fixdate within the configured
 * seconds; identifiers, authorizations and challenges are shuffled from the run's seed (the
 * same seed gives the same order); a random profile when asked; store retention from the
 * config; rate limits from the environment. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "common/clock.h"
#include "mockca/acme/render.h"
#include "mockca/ca.h"
#include "mockca/config.h"
#include "mockca/internal.h" /* m->clock, m->store, m->ca */
#include "mockca/mockca.h"
#include "mockca/store.h"
#include "acme_client.h"

static int g_form = MOCKCA_RETRY_AFTER_RANDOM;
static uint64_t g_seed;
static bool g_sleepy;

static void adjust(struct mockca_config *cfg)
{
    cfg->retry_after_form = g_form;
    cfg->retry_after_order_s = 7;
    cfg->retry_after_authz_s = 4;
    cfg->fault_seed = g_seed;
    if (g_sleepy) { /* issuance waits a little, so a poll can see "processing" */
        cfg->va_nosleep = false;
        cfg->va_sleep_max_s = 1;
    }
}

static void teardown(void)
{
    ac_stop();
    g_form = MOCKCA_RETRY_AFTER_RANDOM;
    g_seed = 0;
    g_sleepy = false;
}

/* Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 section 5.6.7) into Unix
 * seconds; false when v is not exactly one. */
static bool parse_imf(const char *v, int64_t *out)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char wd[4], mon[4], gmt[4];
    int d, y, h, mi, s, n = 0, m = -1;
    struct tm tm;
    time_t t;
    bool wd_ok = false;

    if (strlen(v) != 29 ||
        sscanf(v, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &d, mon, &y, &h, &mi, &s, gmt,
               &n) != 8 ||
        n != 29 || v[3] != ',' || v[7] != ' ' || strcmp(gmt, "GMT") != 0)
        return false;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, mons[i]) == 0)
            m = i;
    if (m < 0)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm);
    for (int i = 0; i < 7; i++)
        wd_ok = wd_ok || (strncmp(wd, days[i], 3) == 0 && tm.tm_wday == i);
    if (!wd_ok)
        return false;
    *out = (int64_t)t;
    return true;
}

/* Checks a Retry-After value: delta-seconds in [1, max_s], or a date at most max_s
 * seconds past mockca's clock (and not before it). Returns 's' or 'd' for the form. */
static char check_retry_after(const char *v, int64_t max_s)
{
    int64_t now = clock_now(g_m->clock), t = 0;
    char *end = NULL;

    ck_assert_ptr_nonnull(v);
    if (v[0] >= '0' && v[0] <= '9') {
        long long s = strtoll(v, &end, 10);
        ck_assert_msg(*end == '\0', "Retry-After \"%s\"", v);
        ck_assert_msg(s >= 1 && s <= max_s, "Retry-After %lld not in [1, %lld]", s,
                      (long long)max_s);
        return 's';
    }
    ck_assert_msg(parse_imf(v, &t), "Retry-After \"%s\" is neither form", v);
    /* One second of slack each way: the date is stamped in whole seconds. */
    ck_assert_msg(t >= now - 1 && t <= now + max_s + 1, "Retry-After %s is %lld s from now", v,
                  (long long)(t - now));
    return 'd';
}

/* newOrder for the n names; the order URL (new) and its JSON in *order. */
static char *order_for(EVP_PKEY *k, const char *kid, const char *const *names, size_t n,
                       cJSON **order)
{
    cJSON *p = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(p, "identifiers");
    char *payload, *loc;

    for (size_t i = 0; i < n; i++) {
        cJSON *id = cJSON_CreateObject();
        cJSON_AddStringToObject(id, "type", "dns");
        cJSON_AddStringToObject(id, "value", names[i]);
        cJSON_AddItemToArray(ids, id);
    }
    payload = cJSON_PrintUnformatted(p);
    loc = new_order(k, kid, payload, order);
    free(payload);
    cJSON_Delete(p);
    return loc;
}

/* ---- asynchronous issuance ---------------------------------------------------------------- */

START_TEST(test_finalize_is_async)
{
    static const char *const names[] = {"async.example.com"};
    EVP_PKEY *k = newkey(), *ck = newkey();
    char *kid, *loc, *csr, *ra;
    cJSON *order = NULL, *ready, *fin, *valid;
    struct resp r;

    g_form = _i == 0 ? MOCKCA_RETRY_AFTER_SECONDS : MOCKCA_RETRY_AFTER_DATE;
    g_sleepy = _i == 1;
    ac_start(adjust, false);
    kid = account(k);
    loc = order_for(k, kid, names, 1, &order);
    answer_all(k, kid, order, "http-01", false);
    ready = poll_status(k, kid, loc, "ready");
    csr = csr_b64(ck, names[0], names, 1);
    finalize(k, kid, ready, csr, &r);
    ck_assert_msg(r.status == 200, "finalize: %ld %s", r.status, r.body);
    fin = body_json(&r);
    /* RFC 8555 section 7.4: "processing" while the CA signs; the client is told when to
     * look again. */
    ck_assert_str_eq(jstr(fin, "status"), "processing");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(fin, "certificate"));
    ra = header(&r, "Retry-After");
    ck_assert_int_eq(check_retry_after(ra, 7), _i == 0 ? 's' : 'd');
    free(ra);
    resp_free(&r);
    valid = poll_status(k, kid, loc, "valid");
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(valid, "certificate"));
    cJSON_Delete(valid);
    cJSON_Delete(fin);
    cJSON_Delete(ready);
    cJSON_Delete(order);
    free(csr);
    free(loc);
    free(kid);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(k);
}
END_TEST

/* A client polling right after finalize (issuance waits a random 0..1 s here) sees the
 * order processing with Retry-After, or already valid; never anything else. */
START_TEST(test_poll_processing)
{
    static const char *const names[] = {"poll.example.com"};
    EVP_PKEY *k = newkey(), *ck = newkey();
    char *kid, *loc, *csr, *ra;
    cJSON *order = NULL, *ready, *o;
    struct resp r;

    g_sleepy = true;
    g_form = MOCKCA_RETRY_AFTER_SECONDS;
    ac_start(adjust, false);
    kid = account(k);
    loc = order_for(k, kid, names, 1, &order);
    answer_all(k, kid, order, "http-01", false);
    ready = poll_status(k, kid, loc, "ready");
    csr = csr_b64(ck, names[0], names, 1);
    finalize(k, kid, ready, csr, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    post_url(loc, k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    o = body_json(&r);
    if (strcmp(jstr(o, "status"), "processing") == 0) {
        ra = header(&r, "Retry-After");
        ck_assert_int_eq(check_retry_after(ra, 7), 's');
        free(ra);
    } else {
        ck_assert_str_eq(jstr(o, "status"), "valid");
    }
    cJSON_Delete(o);
    resp_free(&r);
    cJSON_Delete(poll_status(k, kid, loc, "valid"));
    cJSON_Delete(ready);
    cJSON_Delete(order);
    free(csr);
    free(loc);
    free(kid);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- Retry-After ---------------------------------------------------------------------------- */

/* The default form is drawn per response: both appear, each within the configured
 * seconds, on a pending order (retryAfter.authz), a pending authorization and a pending
 * challenge. */
START_TEST(test_retry_after_random_forms)
{
    static const char *const names[] = {"ra.example.com"};
    EVP_PKEY *k = newkey();
    char *kid, *loc, *ra;
    cJSON *order = NULL;
    const cJSON *authzs;
    const char *az;
    int seconds = 0, dates = 0;
    struct resp r;

    g_seed = 12345;
    ac_start(adjust, false);
    kid = account(k);
    loc = order_for(k, kid, names, 1, &order);
    authzs = cJSON_GetObjectItemCaseSensitive(order, "authorizations");
    az = cJSON_GetArrayItem(authzs, 0)->valuestring;
    for (int i = 0; i < 40 && (seconds == 0 || dates == 0); i++) {
        const char *url = i % 2 == 0 ? loc : az;
        post_url(url, k, kid, NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ra = header(&r, "Retry-After");
        if (check_retry_after(ra, 4) == 's')
            seconds++;
        else
            dates++;
        free(ra);
        resp_free(&r);
    }
    ck_assert_int_gt(seconds, 0);
    ck_assert_int_gt(dates, 0);
    {
        cJSON *a = fetch(k, kid, az);
        const cJSON *ch = challenge_of(a, "dns-01");
        post_url(jstr(ch, "url"), k, kid, NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ra = header(&r, "Retry-After");
        check_retry_after(ra, 4);
        free(ra);
        resp_free(&r);
        cJSON_Delete(a);
    }
    cJSON_Delete(order);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- shuffling ---------------------------------------------------------------------------- */

/* Appends s to the NUL-terminated out of cap bytes; the test fails rather than overflow. */
static void append_to(char *out, size_t cap, const char *s)
{
    size_t have = strlen(out), add = strlen(s);
    ck_assert_uint_lt(have + add, cap);
    memcpy(out + have, s, add + 1);
}

/* One run with seed: an account, an order for five names; returns the identifiers in the
 * order's order and each authorization's challenge types, as one string (new). */
static char *shuffle_run(uint64_t seed)
{
    static const char *const names[] = {"a.example.com", "b.example.com", "c.example.com",
                                        "d.example.com", "e.example.com"};
    EVP_PKEY *k = newkey();
    char *kid, *loc, *out = calloc(1, 4096);
    cJSON *order = NULL;
    const cJSON *it;

    g_seed = seed;
    ac_start(adjust, false);
    ck_assert_uint_eq(mockca_fault_seed(g_m), seed);
    kid = account(k);
    loc = order_for(k, kid, names, 5, &order);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(order, "identifiers"))
    {
        append_to(out, 4096, jstr(it, "value"));
        append_to(out, 4096, " ");
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(order, "authorizations"))
    {
        cJSON *a = fetch(k, kid, it->valuestring);
        const cJSON *c;
        append_to(out, 4096, "|");
        append_to(out, 4096, jstr(cJSON_GetObjectItemCaseSensitive(a, "identifier"), "value"));
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(a, "challenges"))
        {
            append_to(out, 4096, ",");
            append_to(out, 4096, jstr(c, "type"));
        }
        cJSON_Delete(a);
    }
    cJSON_Delete(order);
    free(loc);
    free(kid);
    EVP_PKEY_free(k);
    ac_stop();
    return out;
}

START_TEST(test_shuffle_replays_from_seed)
{
    char *a = shuffle_run(777), *b = shuffle_run(777), *c = NULL;
    bool differs = false;

    ck_assert_str_eq(a, b);
    /* Another seed gives another order sooner or later (5! x 4!^5 orders: at once, in
     * practice). */
    for (uint64_t s = 778; s < 788 && !differs; s++) {
        free(c);
        c = shuffle_run(s);
        differs = strcmp(a, c) != 0;
    }
    ck_assert_msg(differs, "ten seeds gave the order of seed 777: %s", a);
    free(a);
    free(b);
    free(c);
    ac_start(adjust, false); /* for the fixture's teardown */
}
END_TEST

/* ---- a random profile ------------------------------------------------------------------- */

static void adjust_profiles(struct mockca_config *cfg)
{
    adjust(cfg);
    cfg->random_profile = true;
    cfg->profiles[1].name = strdup("shortlived");
    cfg->profiles[1].description = strdup("");
    cfg->profiles[1].validity_s = 7 * 86400;
    cfg->n_profiles = 2;
}

START_TEST(test_random_profile)
{
    EVP_PKEY *k = newkey();
    char *kid;
    bool seen_default = false, seen_short = false;

    ac_start(adjust_profiles, false);
    kid = account(k);
    for (int i = 0; i < 40 && !(seen_default && seen_short); i++) {
        char name[64], *loc;
        const char *const names[] = {name};
        cJSON *order = NULL;
        snprintf(name, sizeof(name), "p%d.example.com", i);
        loc = order_for(k, kid, names, 1, &order);
        if (strcmp(jstr(order, "profile"), "default") == 0)
            seen_default = true;
        else if (strcmp(jstr(order, "profile"), "shortlived") == 0)
            seen_short = true;
        else
            ck_abort_msg("profile %s", jstr(order, "profile"));
        cJSON_Delete(order);
        free(loc);
    }
    ck_assert(seen_default && seen_short);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- retention from the config ------------------------------------------------------------ */

static void adjust_retention(struct mockca_config *cfg)
{
    adjust(cfg);
    cfg->retention_s = 60;
    cfg->valid_authz_lifetime_s = 120;
}

START_TEST(test_retention_config)
{
    static const char *const names[] = {"short.example.com"};
    EVP_PKEY *k = newkey();
    char *kid;
    cJSON *o;
    struct store_counts sc;

    ac_start(adjust_retention, false);
    kid = account(k);
    o = issue(k, kid, names, 1, "http-01");
    store_counts(g_m->store, &sc);
    ck_assert_uint_eq(sc.orders, 1);
    ck_assert_uint_eq(sc.authzs, 1);
    ck_assert_uint_eq(sc.certs, 1);
    clock_advance(g_m->clock, 30 * 1000); /* within retentionSeconds */
    mockca_sweep(g_m, NULL, NULL);
    store_counts(g_m->store, &sc);
    ck_assert_uint_eq(sc.orders, 1);
    /* Past the valid authorization's 120 s and the 60 s of retention after it. */
    clock_advance(g_m->clock, 200 * 1000);
    mockca_sweep(g_m, NULL, NULL);
    store_counts(g_m->store, &sc);
    ck_assert_uint_eq(sc.orders, 0);
    ck_assert_uint_eq(sc.authzs, 0);
    ck_assert_uint_eq(sc.challenges, 0);
    ck_assert_uint_eq(sc.certs, 0);
    ck_assert_uint_eq(sc.accounts, 1); /* valid accounts stay */
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* The registry of issued certificates empties once they expire and an hour passes. */
static void adjust_shortcert(struct mockca_config *cfg)
{
    adjust(cfg);
    cfg->profiles[0].validity_s = 3600;
}

START_TEST(test_registry_pruned)
{
    static const char *const names[] = {"reg.example.com"};
    EVP_PKEY *k = newkey();
    char *kid;

    ac_start(adjust_shortcert, false);
    kid = account(k);
    cJSON_Delete(issue(k, kid, names, 1, "http-01"));
    cJSON_Delete(issue(k, kid, names, 1, "http-01"));
    ck_assert_uint_eq(ca_registry_count(g_m->ca), 2);
    clock_advance(g_m->clock, 3LL * 3600 * 1000);
    mockca_sweep(g_m, NULL, NULL);
    ck_assert_uint_eq(ca_registry_count(g_m->ca), 0);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- rate limits from the environment --------------------------------------------------- */

static const char *env_limits(const char *name)
{
    if (strcmp(name, "MOCKCA_RATE_ORDERS_PER_ACCOUNT") == 0)
        return "2/3600";
    return NULL;
}

static void adjust_env(struct mockca_config *cfg)
{
    char err[256];

    adjust(cfg);
    ck_assert_int_eq(mockca_config_apply_env(cfg, env_limits, err, sizeof(err)), MC_OK);
}

START_TEST(test_env_rate_limit)
{
    EVP_PKEY *k = newkey();
    char *kid, *ra;
    struct resp r;

    ac_start(adjust_env, false);
    kid = account(k);
    for (int i = 0; i < 3; i++) {
        char body[128];
        snprintf(body, sizeof(body),
                 "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"rl%d.example.com\"}]}", i);
        post(ACME_PATH_NEW_ORDER, k, kid, body, &r);
        if (i < 2) {
            ck_assert_int_eq(r.status, 201);
        } else {
            assert_problem(&r, 429, "rateLimited");
            ra = header(&r, "Retry-After");
            ck_assert_ptr_nonnull(ra);
            free(ra);
        }
        resp_free(&r);
    }
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_async");
    TCase *tc = tcase_create("async");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_finalize_is_async, 0, 2);
    tcase_add_test(tc, test_poll_processing);
    tcase_add_test(tc, test_retry_after_random_forms);
    tcase_add_test(tc, test_shuffle_replays_from_seed);
    tcase_add_test(tc, test_random_profile);
    tcase_add_test(tc, test_retention_config);
    tcase_add_test(tc, test_registry_pruned);
    tcase_add_test(tc, test_env_rate_limit);
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
