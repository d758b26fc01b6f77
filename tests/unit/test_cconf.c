/* Unit tests of the client-conformance grader (mockca/cconf.c, included to reach its
 * statics): the catalog's shape, Retry-After and User-Agent parsing, the nonce and polling
 * checks on a frozen clock (with the strict refusal), validation grading, attribution of
 * findings made off a request, reset, and the three renderings. */
#include "../../mockca/cconf.c"

#include <check.h>
#include <regex.h>

#include "common/b64url.h"
#include "common/json.h"
#include "mockca/config.h"

static struct mc_clock *g_clock;
static struct cconf *g_c;

static void setup(void)
{
    g_clock = clock_new();
    ck_assert_ptr_nonnull(g_clock);
    clock_set(g_clock, 1700000000000LL);
    clock_freeze(g_clock);
    ck_assert_int_eq(cconf_new("https://ca.test/dir", 7, g_clock, false, &g_c), MC_OK);
}

static void teardown(void)
{
    cconf_free(g_c);
    g_c = NULL;
    clock_free(g_clock);
    g_clock = NULL;
}

static enum report_outcome outcome(const char *id)
{
    return report_outcome_of(cconf_report(g_c), id);
}

START_TEST(test_catalog_shape)
{
    size_t n = 0;
    const struct report_req *cat = cconf_catalog(&n);
    regex_t re;

    ck_assert_uint_ge(n, 15);
    ck_assert_int_eq(regcomp(&re, "^ACME-CLIENT-[A-Z]+-[0-9]{3}$", REG_EXTENDED | REG_NOSUB), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(regexec(&re, cat[i].id, 0, NULL, 0) == 0, "bad id %s", cat[i].id);
        ck_assert_ptr_nonnull(strstr(cat[i].rfc, "RFC "));
        ck_assert(cat[i].level == REPORT_MUST || cat[i].level == REPORT_SHOULD);
        ck_assert_uint_gt(strlen(cat[i].text), 10);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(cat[i].id, cat[j].id);
        /* Nothing is exercised before a client talks. */
        ck_assert_int_eq(outcome(cat[i].id), REPORT_SKIP);
    }
    regfree(&re);
}
END_TEST

START_TEST(test_retry_after_forms)
{
    int64_t w = 0;
    const int64_t now = 784111777000LL; /* Sun, 06 Nov 1994 08:49:37 GMT */

    ck_assert(cconf_retry_after("3", now, &w));
    ck_assert_int_eq(w, 3000);
    ck_assert(cconf_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now, &w));
    ck_assert_int_eq(w, 3000);
    ck_assert(!cconf_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now, &w)); /* past */
    ck_assert(!cconf_retry_after("0", now, &w));
    ck_assert(!cconf_retry_after("soon", now, &w));
}
END_TEST

START_TEST(test_user_agent_product)
{
    ck_assert(cconf_ua_product("certcli/0.1 libcurl/8.5"));
    ck_assert(cconf_ua_product("acme.sh/3.0.7 (https://example.test)"));
    ck_assert(!cconf_ua_product("curl"));
    ck_assert(!cconf_ua_product("/1.0"));
    ck_assert(!cconf_ua_product("name/ (x)"));
}
END_TEST

START_TEST(test_url_path)
{
    char p[64];

    cconf_url_path("https://127.0.0.1:4000/my-order/abc?x=1", p, sizeof(p));
    ck_assert_str_eq(p, "/my-order/abc");
    cconf_url_path("/authZ/1", p, sizeof(p));
    ck_assert_str_eq(p, "/authZ/1");
    cconf_url_path("https://host", p, sizeof(p));
    ck_assert_str_eq(p, "/");
}
END_TEST

START_TEST(test_nonces)
{
    cconf_nonce(g_c, "n1", true);
    ck_assert_int_eq(outcome(CCONF_NONCE_ONCE), REPORT_PASS);
    /* Unknown (expired) nonces are refused without blame... */
    cconf_nonce(g_c, "n2", false);
    ck_assert_int_eq(outcome(CCONF_NONCE_RETRY), REPORT_PASS);
    /* ...sending it again is the badNonce retry done wrong... */
    cconf_nonce(g_c, "n2", false);
    ck_assert_int_eq(outcome(CCONF_NONCE_RETRY), REPORT_FAIL);
    /* ...and a spent nonce is reuse. */
    ck_assert_int_eq(outcome(CCONF_NONCE_ONCE), REPORT_PASS);
    cconf_nonce(g_c, "n1", false);
    ck_assert_int_eq(outcome(CCONF_NONCE_ONCE), REPORT_FAIL);
}
END_TEST

/* The Retry-After table is filled by cconf_end; here it is filled directly. */
START_TEST(test_poll_tolerance_and_strict)
{
    struct acme_error err;
    const char *acct = "https://ca.test/my-account/1";
    const char *url = "https://ca.test/my-order/o1";
    int64_t now = clock_now_ms(g_clock);

    memset(&err, 0, sizeof(err));
    /* No Retry-After was given: not graded. */
    ck_assert_int_eq(cconf_poll(g_c, acct, url, &err), ACME_P_NONE);
    ck_assert_int_eq(outcome(CCONF_POLL), REPORT_SKIP);
    /* 3 s asked, polled after 2.6 s: within the tolerance (250 ms + 300 ms). */
    pthread_mutex_lock(&g_c->mu);
    cconf_polls_set(g_c, acct, "/my-order/o1", now, 3000);
    pthread_mutex_unlock(&g_c->mu);
    clock_advance(g_clock, 2600);
    ck_assert_int_eq(cconf_poll(g_c, acct, url, &err), ACME_P_NONE);
    ck_assert_int_eq(outcome(CCONF_POLL), REPORT_PASS);
    /* Another account's deadline is not this one's. */
    now = clock_now_ms(g_clock);
    pthread_mutex_lock(&g_c->mu);
    cconf_polls_set(g_c, "https://ca.test/my-account/2", "/my-order/o1", now, 3000);
    pthread_mutex_unlock(&g_c->mu);
    ck_assert_int_eq(cconf_poll(g_c, acct, url, &err), ACME_P_NONE);
    ck_assert_int_eq(outcome(CCONF_POLL), REPORT_PASS);
    /* Strict: at once is refused, naming the requirement. */
    cconf_set_strict(g_c, true);
    ck_assert(cconf_is_strict(g_c));
    ck_assert_int_eq(cconf_poll(g_c, "https://ca.test/my-account/2", url, &err),
                     ACME_P_RATE_LIMITED);
    ck_assert_int_eq(err.status, 429);
    ck_assert_ptr_nonnull(strstr(err.detail, CCONF_POLL));
    ck_assert_int_eq(outcome(CCONF_POLL), REPORT_FAIL);
}
END_TEST

/* One ACME exchange through the listener hooks: a POST to path whose flattened JWS has kid
 * (NULL: a jwk) and payload ("" for a POST-as-GET), answered status with Retry-After ra
 * and Location loc (each may be NULL). signer: the request check noted the JWS, as
 * acme/request.c does once the protected header is read. */
static void exchange(const char *path, const char *kid, const char *payload, bool signer,
                     int status, const char *ra, const char *loc)
{
    struct http_request req;
    struct http_response resp;
    cJSON *h = cJSON_CreateObject(), *jws = cJSON_CreateObject();
    char *prot_json = NULL, *prot = NULL, *pay = NULL, *body = NULL;

    /* The header and the JWS are built with cJSON (escaped); the signature is never
     * checked here. */
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(jws);
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(h, "alg", "ES256"));
    if (kid != NULL)
        ck_assert_ptr_nonnull(cJSON_AddStringToObject(h, "kid", kid));
    else
        ck_assert_ptr_nonnull(
            cJSON_AddStringToObject(cJSON_AddObjectToObject(h, "jwk"), "kty", "EC"));
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(h, "nonce", "n"));
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(h, "url", "u"));
    prot_json = cJSON_PrintUnformatted(h);
    ck_assert_ptr_nonnull(prot_json);
    ck_assert_int_eq(b64url_encode((const uint8_t *)prot_json, strlen(prot_json), &prot), MC_OK);
    ck_assert_int_eq(b64url_encode((const uint8_t *)payload, strlen(payload), &pay), MC_OK);
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(jws, "protected", prot));
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(jws, "payload", pay));
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(jws, "signature", "AA"));
    body = cJSON_PrintUnformatted(jws);
    ck_assert_ptr_nonnull(body);
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = path;
    req.body = (const uint8_t *)body;
    req.body_len = strlen(body);
    memset(&resp, 0, sizeof(resp));
    resp.status = status; /* set before cconf_begin: nothing is graded there */
    if (ra != NULL)
        ck_assert_int_eq(http_response_header(&resp, "Retry-After", ra), MC_OK);
    if (loc != NULL)
        ck_assert_int_eq(http_response_header(&resp, "Location", loc), MC_OK);
    cconf_begin(g_c, &req, &resp);
    if (signer)
        cconf_signer(g_c, kid, payload[0] != '\0');
    cconf_end(g_c, &req, &resp);
    http_response_reset(&resp);
    cJSON_free(body);
    cJSON_free(prot_json);
    cJSON_Delete(jws);
    cJSON_Delete(h);
    free(prot);
    free(pay);
}

/* The deadline remembered for actor's next poll of path: its wait, or -1 for none. */
static int64_t deadline_wait(const char *actor, const char *path)
{
    int64_t w = -1;
    pthread_mutex_lock(&g_c->mu);
    for (size_t i = 0; i < CCONF_POLLS; i++)
        if (g_c->polls[i].used && strcmp(g_c->polls[i].actor, actor) == 0 &&
            strcmp(g_c->polls[i].path, path) == 0)
            w = g_c->polls[i].wait_ms;
    pthread_mutex_unlock(&g_c->mu);
    return w;
}

static bool agent_known(const char *account)
{
    bool found = false;
    pthread_mutex_lock(&g_c->mu);
    for (size_t i = 0; i < CCONF_AGENTS; i++)
        found = found || (g_c->agents[i].used && strcmp(g_c->agents[i].account, account) == 0);
    pthread_mutex_unlock(&g_c->mu);
    return found;
}

/* What cconf_end learns from an exchange (the account of a kid or of a new account's
 * Location, a Retry-After deadline, an action that ends the waits) is the same whether it
 * decodes the request (while the report keeps exchanges) or takes what the request check
 * noted (once the report is full); and a request the check never noted still counts. */
START_TEST(test_exchanges_before_and_after_the_report_fills)
{
    const char *acct = "https://ca.test/my-account/5", *fresh = "https://ca.test/my-account/6";
    struct report_exchange x;
    cJSON *j = NULL;

    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(cconf_reset(g_c), MC_OK);
        memset(g_c->polls, 0, CCONF_POLLS * sizeof(*g_c->polls));
        memset(g_c->agents, 0, sizeof(g_c->agents));
        if (round == 1) {
            memset(&x, 0, sizeof(x));
            x.method = "POST";
            x.url = "/filler";
            for (int i = 0; i < REPORT_MAX_EXCHANGES; i++)
                report_add_exchange(cconf_report(g_c), &x);
            ck_assert(report_exchanges_full(cconf_report(g_c)));
        } else {
            ck_assert(!report_exchanges_full(cconf_report(g_c)));
        }
        /* A new account: jwk-signed, its URL is the Location. */
        exchange("/new-acct", NULL, "{}", true, 201, NULL, fresh);
        ck_assert_msg(agent_known(fresh), "round %d: new account not noted", round);
        /* A poll answered with Retry-After: the deadline is the kid's. */
        exchange("/my-order/o1", acct, "", true, 200, "3", NULL);
        ck_assert_msg(deadline_wait(acct, "/my-order/o1") == 3000, "round %d: wait %lld", round,
                      (long long)deadline_wait(acct, "/my-order/o1"));
        /* An action (non-empty payload) forgets the account's deadlines. */
        exchange("/chall/c1", acct, "{}", true, 200, NULL, NULL);
        ck_assert_int_eq(deadline_wait(acct, "/my-order/o1"), -1);
        /* Not noted by the request check (it stopped before the header): decoded. */
        exchange("/my-order/o2", acct, "", false, 200, "2", NULL);
        ck_assert_msg(deadline_wait(acct, "/my-order/o2") == 2000, "round %d", round);
    }
    /* Every exchange is counted, kept or not. */
    ck_assert_int_eq(cconf_to_json(g_c, &j), MC_OK);
    ck_assert_int_eq((int)cJSON_GetNumberValue(
                         cJSON_GetObjectItem(cJSON_GetObjectItem(j, "totals"), "exchanges")),
                     REPORT_MAX_EXCHANGES + 4);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_validation_grading)
{
    struct va_result res;
    struct cconf_agent *a;
    cJSON *j = NULL;
    const cJSON *req = NULL, *it, *f;

    pthread_mutex_lock(&g_c->mu);
    cconf_agent_note(g_c, "https://ca.test/my-account/9", "agent/2.0", 1);
    pthread_mutex_unlock(&g_c->mu);
    a = &g_c->agents[0];
    ck_assert(a->used);
    memset(&res, 0, sizeof(res));
    /* A failure that is not a wrong answer grades nothing. */
    acme_error_set(&res.error, ACME_P_CONNECTION, 0, "nothing listening");
    cconf_validation(g_c, "https://ca.test/my-account/9", "http-01", &res);
    ck_assert_int_eq(outcome(CCONF_CHAL_KEYAUTH), REPORT_SKIP);
    res.client_fault = VA_FAULT_KEYAUTH;
    cconf_validation(g_c, "https://ca.test/my-account/9", "http-01", &res);
    ck_assert_int_eq(outcome(CCONF_CHAL_KEYAUTH), REPORT_FAIL);
    ck_assert_int_eq(outcome(CCONF_ALPN), REPORT_SKIP);
    res.client_fault = VA_FAULT_ALPN;
    cconf_validation(g_c, NULL, "tls-alpn-01", &res);
    ck_assert_int_eq(outcome(CCONF_ALPN), REPORT_FAIL);
    /* The finding names the account and its last User-Agent, and no exchange. */
    ck_assert_int_eq(cconf_to_json(g_c, &j), MC_OK);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "requirements"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "id")), CCONF_CHAL_KEYAUTH) == 0)
            req = it;
    }
    ck_assert_ptr_nonnull(req);
    f = cJSON_GetArrayItem(cJSON_GetObjectItem(req, "findings"), 0);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(f, "actor")),
                     "https://ca.test/my-account/9 (agent/2.0)");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "exchange")), -1);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_reset_and_render)
{
    char *text = NULL;
    size_t len = 0, n = 0;
    cJSON *j = NULL;

    cconf_grade(g_c, CCONF_URL, false, "url %s", "mismatch");
    cconf_grade(g_c, CCONF_CONTENT_TYPE, true, "unused");
    ck_assert_int_eq(outcome(CCONF_URL), REPORT_FAIL);
    ck_assert_int_eq(outcome(CCONF_CONTENT_TYPE), REPORT_PASS);

    ck_assert_int_eq(cconf_render(g_c, CCONF_JSON, &text, &len), MC_OK);
    ck_assert_uint_eq(strlen(text), len);
    ck_assert_int_eq(json_parse(text, len, 1 << 24, 64, &j), MC_OK);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "target")), "https://ca.test/dir");
    cJSON_Delete(j);
    free(text);
    ck_assert_int_eq(cconf_render(g_c, CCONF_JUNIT, &text, &len), MC_OK);
    cconf_catalog(&n);
    {
        size_t count = 0;
        for (const char *p = strstr(text, "<testcase"); p != NULL; p = strstr(p + 1, "<testcase"))
            count++;
        ck_assert_uint_eq(count, n);
    }
    ck_assert_ptr_nonnull(strstr(text, "<failure"));
    free(text);
    ck_assert_int_eq(cconf_render(g_c, CCONF_HTML, &text, &len), MC_OK);
    ck_assert_ptr_nonnull(strstr(text, "req-" CCONF_URL));
    free(text);

    ck_assert_int_eq(cconf_reset(g_c), MC_OK);
    ck_assert_int_eq(outcome(CCONF_URL), REPORT_SKIP);
    /* NULL graders are no-ops. */
    cconf_grade(NULL, CCONF_URL, false, "x");
    cconf_nonce(NULL, "n", true);
    ck_assert_ptr_null(cconf_report(NULL));
    ck_assert(!cconf_is_strict(NULL));
    ck_assert_int_eq(cconf_reset(NULL), MC_OK);
}
END_TEST

static const char *env_strict(const char *name)
{
    return strcmp(name, "MOCKCA_CONFORMANCE_STRICT") == 0 ? "true" : NULL;
}

static const char *env_bad(const char *name)
{
    return strcmp(name, "MOCKCA_CONFORMANCE_STRICT") == 0 ? "maybe" : NULL;
}

/* The mode's two configuration sources (config.c): the "conformance" object and the
 * environment. */
START_TEST(test_config_sources)
{
    static const char on[] = "{\"pebble\": {}, \"conformance\": {\"strict\": true}}";
    static const char bad[] = "{\"pebble\": {}, \"conformance\": {\"strict\": \"yes\"}}";
    struct mockca_config cfg;
    char err[256];

    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    ck_assert(!cfg.conformance_strict);
    ck_assert_int_eq(mockca_config_apply_json(&cfg, on, strlen(on), err, sizeof(err)), MC_OK);
    ck_assert(cfg.conformance_strict);
    ck_assert_int_eq(mockca_config_apply_json(&cfg, bad, strlen(bad), err, sizeof(err)),
                     MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "conformance.strict"));
    mockca_config_free(&cfg);
    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    ck_assert_int_eq(mockca_config_apply_env(&cfg, env_strict, err, sizeof(err)), MC_OK);
    ck_assert(cfg.conformance_strict);
    ck_assert_int_eq(mockca_config_apply_env(&cfg, env_bad, err, sizeof(err)), MC_ERR_INVALID);
    mockca_config_free(&cfg);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cconf");
    TCase *t = tcase_create("cconf");

    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_catalog_shape);
    tcase_add_test(t, test_retry_after_forms);
    tcase_add_test(t, test_user_agent_product);
    tcase_add_test(t, test_url_path);
    tcase_add_test(t, test_nonces);
    tcase_add_test(t, test_poll_tolerance_and_strict);
    tcase_add_test(t, test_exchanges_before_and_after_the_report_fills);
    tcase_add_test(t, test_validation_grading);
    tcase_add_test(t, test_reset_and_render);
    tcase_add_test(t, test_config_sources);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    int failed;

    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
