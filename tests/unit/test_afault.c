/* Unit tests of mockca/acme/afault.c: action parsing (defaults, refusals), rule namespaces
 * (a rule meets only its own server's and action's events, with all three glob forms),
 * event names, the config's "faults" and MOCKCA_FAULTS, and the Retry-After header forms
 * (an HTTP-date is on real time). */
#include <check.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "mockca/config.h"
#include "testutil.h"

#include "mockca/acme/afault.c"

static enum mc_err parse(enum afault_server srv, const char *text, struct fault_action *a,
                         char *err, size_t errn)
{
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    enum mc_err e = afault_action_parse(srv, j, a, err, errn);
    cJSON_Delete(j);
    return e;
}

START_TEST(test_action_defaults)
{
    struct fault_action a;
    char err[200];

    ck_assert_int_eq(parse(AFAULT_ACME, "{\"action\":\"problem\"}", &a, err, sizeof(err)), MC_OK);
    ck_assert_int_eq(a.kind, AFAULT_PROBLEM);
    ck_assert_int_eq(a.status, 500);
    ck_assert_str_eq(a.type, "urn:ietf:params:acme:error:serverInternal");
    ck_assert_int_eq(parse(AFAULT_ACME, "{\"action\":\"problem\",\"type\":\"rateLimited\","
                                        "\"retry_after\":5}", &a, err, sizeof(err)), MC_OK);
    ck_assert_int_eq(a.status, 429);
    ck_assert_str_eq(a.retry_after, "5");
    ck_assert_int_eq(parse(AFAULT_ACME, "{\"action\":\"problem\",\"retry_after\":5,"
                                        "\"retry_after_form\":\"date\"}", &a, err, sizeof(err)),
                     MC_OK);
    ck_assert_str_eq(a.retry_after, "@5");
    ck_assert_int_eq(parse(AFAULT_CC, "{\"action\":\"error\",\"retry_after\":"
                                      "\"Wed, 21 Oct 2015 07:28:00 GMT\"}", &a, err, sizeof(err)),
                     MC_OK);
    ck_assert_int_eq(a.status, 500);
    ck_assert_str_eq(a.type, "internal_error");
    ck_assert_str_eq(a.retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
    ck_assert_int_eq(parse(AFAULT_ACME, "{\"action\":\"badNonce\"}", &a, err, sizeof(err)), MC_OK);
    ck_assert_int_eq(a.status, 400);
    ck_assert_int_eq(parse(AFAULT_ACME, "{\"action\":\"stall_validation\"}", &a, err, sizeof(err)),
                     MC_OK);
    ck_assert_int_eq(a.delay_ms, AFAULT_DEFAULT_RECHECK_MS);
    ck_assert_int_eq(parse(AFAULT_CC, "{\"action\":\"garbage\"}", &a, err, sizeof(err)), MC_OK);
    ck_assert_int_eq(a.status, 200);
}
END_TEST

START_TEST(test_action_refusals)
{
    static const struct {
        enum afault_server srv;
        const char *text;
        const char *msg;
    } bad[] = {
        {AFAULT_ACME, "{\"action\":\"explode\"}", "one of"},
        {AFAULT_CC, "{\"action\":\"badNonce\"}", "not a certcentral"},
        {AFAULT_ACME, "{\"action\":\"error\"}", "not a acme"},
        {AFAULT_CC, "{\"action\":\"stuck_processing\"}", "not a certcentral"},
        {AFAULT_ACME, "{\"action\":\"delay\"}", "delay_ms"},
        {AFAULT_ACME, "{\"action\":\"delay\",\"delay_ms\":30001}", "delay_ms"},
        {AFAULT_ACME, "{\"action\":\"stall_validation\",\"delay_ms\":10001}", "delay_ms"},
        {AFAULT_ACME, "{\"action\":\"drop\",\"status\":500}", "unknown member"},
        {AFAULT_ACME, "{\"action\":\"problem\",\"stauts\":500}", "unknown member"},
        {AFAULT_ACME, "{\"action\":\"problem\",\"status\":600}", "status"},
        {AFAULT_ACME, "{\"action\":\"problem\",\"type\":\"nonsense\"}", "type"},
        {AFAULT_ACME, "{\"action\":\"problem\",\"detail\":\"a\\r\\nb\"}", "detail"},
        {AFAULT_ACME, "{\"action\":\"problem\",\"retry_after\":-1}", "retry_after"},
        {AFAULT_ACME, "{\"action\":\"problem\",\"retry_after_form\":\"date\"}", "without"},
        {AFAULT_ACME, "{\"action\":\"problem\",\"retry_after\":1,\"retry_after_form\":\"x\"}",
         "retry_after_form"},
        {AFAULT_ACME, "{\"action\":\"problem\",\"retry_after\":\"@1\"}", "retry_after"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fault_action a;
        char err[200] = "";
        ck_assert_msg(parse(bad[i].srv, bad[i].text, &a, err, sizeof(err)) == MC_ERR_INVALID,
                      "accepted %s", bad[i].text);
        ck_assert_msg(strstr(err, bad[i].msg) != NULL, "%s: message \"%s\"", bad[i].text, err);
    }
}
END_TEST

/* Adds {server, match, action} and reports whether an event (ns, target, kind, subject)
 * fires it. */
static bool fires(const char *rule, const char *ns, const char *target, const char *kind,
                  const char *subject)
{
    struct fault_engine *e = fault_engine_new(1, NULL);
    cJSON *j = cJSON_Parse(rule);
    char err[200] = "", ev[256];
    uint64_t id = 0;

    ck_assert_ptr_nonnull(j);
    ck_assert_msg(afault_add_rule(e, j, &id, err, sizeof(err)) == MC_OK, "%s: %s", rule, err);
    ck_assert(afault_ns_event(ns, target, ev, sizeof(ev)));
    bool f = fault_engine_check(e, ev, kind, subject, NULL, NULL);
    cJSON_Delete(j);
    fault_engine_free(e);
    return f;
}

START_TEST(test_rule_namespaces)
{
    const char *any_acme = "{\"action\":{\"action\":\"drop\"}}";
    ck_assert(fires(any_acme, AFAULT_NS_ACME, "newOrder", "POST", NULL));
    ck_assert(!fires(any_acme, AFAULT_NS_CC, "product", "GET", NULL));
    ck_assert(!fires(any_acme, AFAULT_NS_VA, "www.example.com", "http-01", NULL));
    ck_assert(!fires(any_acme, AFAULT_NS_ISSUE, "processing", NULL, NULL));
    const char *cc = "{\"server\":\"certcentral\",\"match\":{\"target\":\"order/*\"},"
                     "\"action\":{\"action\":\"drop\"}}";
    ck_assert(fires(cc, AFAULT_NS_CC, "order/certificate/{}", "GET", NULL));
    ck_assert(!fires(cc, AFAULT_NS_CC, "product", "GET", NULL));
    ck_assert(!fires(cc, AFAULT_NS_ACME, "order", "POST", NULL));
    const char *va = "{\"match\":{\"target\":\"*.example.com\",\"kind\":\"dns-01\"},"
                     "\"action\":{\"action\":\"stall_validation\"}}";
    ck_assert(fires(va, AFAULT_NS_VA, "www.example.com", "dns-01", "acct"));
    ck_assert(!fires(va, AFAULT_NS_VA, "example.com", "dns-01", NULL));
    ck_assert(!fires(va, AFAULT_NS_VA, "www.example.com", "http-01", NULL));
    ck_assert(!fires(va, AFAULT_NS_ACME, "www.example.com", "dns-01", NULL));
    const char *exact = "{\"match\":{\"target\":\"newOrder\",\"subject\":\"a1\"},"
                        "\"action\":{\"action\":\"badNonce\"}}";
    ck_assert(fires(exact, AFAULT_NS_ACME, "neworder", "POST", "a1"));
    ck_assert(!fires(exact, AFAULT_NS_ACME, "newOrder", "POST", "a2"));
    ck_assert(!fires(exact, AFAULT_NS_ACME, "newOrderX", "POST", "a1"));
}
END_TEST

START_TEST(test_rule_refusals)
{
    static const char *const bad[] = {
        "{\"server\":\"dns\",\"action\":{\"action\":\"drop\"}}",
        "{\"match\":{},\"action\":{\"action\":\"drop\"},\"extra\":1}",
        "{\"match\":{\"nth\":1,\"every\":2},\"action\":{\"action\":\"drop\"}}",
        "{\"match\":{\"target\":\"\"},\"action\":{\"action\":\"drop\"}}",
        "{\"match\":[],\"action\":{\"action\":\"drop\"}}",
        "{\"match\":{}}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fault_match m;
        struct fault_action a;
        char err[200] = "";
        cJSON *j = cJSON_Parse(bad[i]);
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(afault_rule_parse(j, &m, &a, err, sizeof(err)) == MC_ERR_INVALID,
                      "accepted %s", bad[i]);
        ck_assert_msg(err[0] != '\0', "%s: no message", bad[i]);
        fault_match_clear(&m);
        cJSON_Delete(j);
    }
}
END_TEST

/* A path where a resource name or route belongs would never fire: refused, and the
 * message names what to write instead. A path no resource serves stays usable (404s). */
START_TEST(test_rule_path_targets)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"match\":{\"target\":\"/order-plz\"},\"action\":{\"action\":\"drop\"}}",
         "write \"newOrder\""},
        {"{\"match\":{\"target\":\"/my-order/*\"},\"action\":{\"action\":\"drop\"}}",
         "write \"order\""},
        {"{\"server\":\"certcentral\",\"match\":{\"target\":\"/services/v2/order/certificate/*\"},"
         "\"action\":{\"action\":\"drop\"}}",
         "write \"order/certificate/*\""},
        {"{\"server\":\"certcentral\",\"match\":{\"target\":\"/order/certificate\"},"
         "\"action\":{\"action\":\"drop\"}}",
         "starts with '/'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fault_match m;
        struct fault_action a;
        char err[400] = "";
        cJSON *j = cJSON_Parse(bad[i].text);
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(afault_rule_parse(j, &m, &a, err, sizeof(err)) == MC_ERR_INVALID,
                      "accepted %s", bad[i].text);
        ck_assert_msg(strstr(err, bad[i].msg) != NULL, "%s: message \"%s\"", bad[i].text, err);
        fault_match_clear(&m);
        cJSON_Delete(j);
    }
    const char *unknown = "{\"match\":{\"target\":\"/elsewhere\"},\"action\":{\"action\":\"drop\"}}";
    ck_assert(fires(unknown, AFAULT_NS_ACME, afault_acme_resource("/elsewhere"), "GET", NULL));
    ck_assert(!fires(unknown, AFAULT_NS_ACME, afault_acme_resource("/order-plz"), "POST", NULL));
}
END_TEST

START_TEST(test_event_names)
{
    char out[128];
    ck_assert_str_eq(afault_acme_resource("/order-plz"), "newOrder");
    ck_assert_str_eq(afault_acme_resource("/my-order/abc"), "order");
    ck_assert_str_eq(afault_acme_resource("/chalZ/x"), "challenge");
    ck_assert_str_eq(afault_acme_resource("/certZ/01/alternate/1"), "cert");
    ck_assert_str_eq(afault_acme_resource("/ocsp/MEUw"), "ocsp");
    ck_assert_str_eq(afault_acme_resource("/elsewhere"), "/elsewhere");
    ck_assert(afault_cc_route("/services/v2/order/certificate/123/check-dcv", out, sizeof(out)));
    ck_assert_str_eq(out, "order/certificate/{}/check-dcv");
    ck_assert(afault_cc_route("/services/v2/order/certificate/ssl_basic", out, sizeof(out)));
    ck_assert_str_eq(out, "order/certificate/ssl_basic");
    ck_assert(!afault_cc_route("/dir", out, sizeof(out)));
    ck_assert(!afault_cc_route("/services/v2/order/certificate/123", out, 10));
}
END_TEST

static const char *g_env_file;
static const char *g_env_seed;
static const char *fake_getenv(const char *name)
{
    if (strcmp(name, "MOCKCA_FAULTS") == 0)
        return g_env_file;
    if (strcmp(name, "MOCKCA_FAULT_SEED") == 0)
        return g_env_seed;
    return NULL;
}

START_TEST(test_config_faults)
{
    struct mockca_config cfg;
    char err[256] = "";
    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    const char *good = "{\"pebble\":{},\"faults\":[{\"match\":{\"target\":\"newOrder\"},"
                       "\"action\":{\"action\":\"drop\"}}]}";
    ck_assert_int_eq(mockca_config_apply_json(&cfg, good, strlen(good), err, sizeof(err)), MC_OK);
    ck_assert_ptr_nonnull(cfg.faults_json);
    const char *badj = "{\"pebble\":{},\"faults\":[{\"action\":{\"action\":\"nope\"}}]}";
    ck_assert_int_eq(mockca_config_apply_json(&cfg, badj, strlen(badj), err, sizeof(err)),
                     MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "faults[0]"));
    ck_assert_ptr_nonnull(cfg.faults_json); /* unchanged on error */

    char *dir = tu_tmpdir(), path[512];
    snprintf(path, sizeof(path), "%s/faults.json", dir);
    const char *file = "{\"faults\":[{\"server\":\"certcentral\",\"action\":{\"action\":\"drop\"}}]}";
    ck_assert_int_eq(file_write_atomic(path, file, strlen(file), 0644), MC_OK);
    g_env_file = path;
    g_env_seed = "18446744073709551615";
    ck_assert_int_eq(mockca_config_apply_env(&cfg, fake_getenv, err, sizeof(err)), MC_OK);
    ck_assert_uint_eq(cfg.fault_seed, UINT64_MAX);
    cJSON *arr = cJSON_Parse(cfg.faults_json);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 2); /* appended after the config's */
    cJSON_Delete(arr);
    g_env_seed = "0";
    ck_assert_int_eq(mockca_config_apply_env(&cfg, fake_getenv, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "MOCKCA_FAULT_SEED"));
    g_env_seed = NULL;
    const char *badf = "[{\"action\":{\"action\":\"error\"}}]"; /* error is certcentral's */
    ck_assert_int_eq(file_write_atomic(path, badf, strlen(badf), 0644), MC_OK);
    ck_assert_int_eq(mockca_config_apply_env(&cfg, fake_getenv, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "MOCKCA_FAULTS[0]"));
    unlink(path);
    rmdir(dir);
    free(dir);
    mockca_config_free(&cfg);
}
END_TEST

/* An IMF-fixdate to seconds since the epoch; -1 when it is not one. */
static int64_t imf_to_epoch(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != '\0')
        return -1;
    return (int64_t)timegm(&tm);
}

START_TEST(test_retry_after_header_forms)
{
    struct fault_action a;
    struct http_response resp;
    char err[256] = "";

    memset(&resp, 0, sizeof(resp));
    ck_assert_int_eq(parse(AFAULT_ACME, "{\"action\":\"problem\",\"retry_after\":7}", &a, err,
                           sizeof(err)), MC_OK);
    afault_retry_after_header(&a, &resp);
    ck_assert_uint_eq(resp.nheaders, 1);
    ck_assert_str_eq(resp.headers[0].name, "Retry-After");
    ck_assert_str_eq(resp.headers[0].value, "7");
    http_response_reset(&resp);

    /* The date form: 30 s past the wall clock when it is sent, whatever a run's virtual
     * clock says (the function has no clock to read: clients compare with their own). */
    ck_assert_int_eq(parse(AFAULT_ACME, "{\"action\":\"problem\",\"retry_after\":30,"
                                        "\"retry_after_form\":\"date\"}", &a, err, sizeof(err)),
                     MC_OK);
    int64_t before = (int64_t)time(NULL);
    afault_retry_after_header(&a, &resp);
    int64_t after = (int64_t)time(NULL);
    ck_assert_uint_eq(resp.nheaders, 1);
    int64_t t = imf_to_epoch(resp.headers[0].value);
    ck_assert_int_ge(t, before + 30);
    ck_assert_int_le(t, after + 30);
    http_response_reset(&resp);

    /* A string is sent as it is. */
    ck_assert_int_eq(parse(AFAULT_CC, "{\"action\":\"error\",\"retry_after\":"
                                      "\"Wed, 21 Oct 2015 07:28:00 GMT\"}", &a, err, sizeof(err)),
                     MC_OK);
    afault_retry_after_header(&a, &resp);
    ck_assert_str_eq(resp.headers[0].value, "Wed, 21 Oct 2015 07:28:00 GMT");
    http_response_reset(&resp);

    /* No retry_after: no header. */
    ck_assert_int_eq(parse(AFAULT_ACME, "{\"action\":\"problem\"}", &a, err, sizeof(err)), MC_OK);
    afault_retry_after_header(&a, &resp);
    ck_assert_uint_eq(resp.nheaders, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("afault");
    TCase *tc = tcase_create("afault");
    tcase_add_test(tc, test_action_defaults);
    tcase_add_test(tc, test_action_refusals);
    tcase_add_test(tc, test_rule_namespaces);
    tcase_add_test(tc, test_rule_refusals);
    tcase_add_test(tc, test_rule_path_targets);
    tcase_add_test(tc, test_event_names);
    tcase_add_test(tc, test_config_faults);
    tcase_add_test(tc, test_retry_after_header_forms);
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
