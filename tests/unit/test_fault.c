/* Unit tests for common/fault.c: globs, counters, seeded probability, windows, JSON. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fault.h"
#include "common/json.h"

/* Parses a match from JSON text; aborts the test on failure. */
static void match_from(const char *text, struct fault_match *m)
{
    cJSON *j = NULL;
    char err[128];
    ck_assert_int_eq(json_parse(text, strlen(text), 4096, 4, &j), MC_OK);
    ck_assert_msg(fault_match_parse(j, m, err, sizeof(err)) == MC_OK, "%s: %s", text, err);
    cJSON_Delete(j);
}

/* Adds a rule from JSON with action code kind; returns its id. */
static uint64_t add_rule(struct fault_engine *e, const char *text, int kind)
{
    struct fault_match m;
    struct fault_action a;
    memset(&a, 0, sizeof(a));
    a.kind = kind;
    a.status = 500 + kind;
    snprintf(a.type, sizeof(a.type), "type-%d", kind);
    match_from(text, &m);
    cJSON *spec = cJSON_Parse(text);
    uint64_t id = 0;
    ck_assert_int_eq(fault_engine_add(e, &m, &a, spec, &id), MC_OK);
    ck_assert_ptr_null(m.target); /* ownership moved */
    cJSON_Delete(spec);
    return id;
}

/* Which action fires for one event: its kind, or -1. */
static int fire(struct fault_engine *e, const char *target, const char *kind, const char *subj)
{
    struct fault_action a;
    if (!fault_engine_check(e, target, kind, subj, &a, NULL))
        return -1;
    return a.kind;
}

START_TEST(test_glob)
{
    ck_assert(fault_glob_match(NULL, "anything"));
    ck_assert(fault_glob_match("*", "anything"));
    ck_assert(fault_glob_match("*", NULL));
    ck_assert(fault_glob_match("*.example.com.", "www.example.com."));
    ck_assert(fault_glob_match("*.example.com.", "a.b.EXAMPLE.com."));
    ck_assert(!fault_glob_match("*.example.com.", "example.com."));
    ck_assert(!fault_glob_match("*.example.com.", ".example.com."));
    ck_assert(!fault_glob_match("*.example.com.", "badexample.com."));
    ck_assert(!fault_glob_match("*.example.com.", NULL));
    ck_assert(fault_glob_match("/acme/new-*", "/acme/new-order"));
    ck_assert(fault_glob_match("/acme/new-*", "/ACME/New-"));
    ck_assert(!fault_glob_match("/acme/new-*", "/acme/ne"));
    ck_assert(fault_glob_match("Example.COM.", "example.com."));
    ck_assert(!fault_glob_match("example.com.", "example.com"));
    /* A star anywhere else is literal. */
    ck_assert(fault_glob_match("a*b", "a*b"));
    ck_assert(!fault_glob_match("a*b", "axb"));
}
END_TEST

START_TEST(test_target_kind_subject)
{
    struct fault_engine *e = fault_engine_new(1, NULL);
    ck_assert_ptr_nonnull(e);
    add_rule(e, "{\"target\":\"*.example.com.\",\"kind\":\"txt\",\"subject\":\"acct-1\"}", 1);
    ck_assert_int_eq(fire(e, "_acme-challenge.example.com.", "TXT", "acct-1"), 1);
    ck_assert_int_eq(fire(e, "example.com.", "TXT", "acct-1"), -1);
    ck_assert_int_eq(fire(e, "a.example.com.", "A", "acct-1"), -1);
    ck_assert_int_eq(fire(e, "a.example.com.", "TXT", "ACCT-1"), -1); /* subject is exact */
    ck_assert_int_eq(fire(e, "a.example.com.", NULL, "acct-1"), -1);
    ck_assert_int_eq(fire(e, "a.example.com.", "TXT", NULL), -1);
    ck_assert_int_eq(fire(e, NULL, "TXT", "acct-1"), -1);
    fault_engine_free(e);
}
END_TEST

START_TEST(test_nth_every_times)
{
    struct fault_engine *e = fault_engine_new(1, NULL);
    uint64_t id = add_rule(e, "{\"nth\":3}", 1);
    for (int i = 1; i <= 10; i++)
        ck_assert_int_eq(fire(e, "x", NULL, NULL), i == 3 ? 1 : -1);
    ck_assert_int_eq(fault_engine_remove(e, id), MC_OK);

    add_rule(e, "{\"every\":4}", 2);
    for (int i = 1; i <= 12; i++)
        ck_assert_int_eq(fire(e, "x", NULL, NULL), i % 4 == 0 ? 2 : -1);
    fault_engine_clear(e);

    add_rule(e, "{\"times\":2}", 3);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), 3);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), 3);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(fire(e, "x", NULL, NULL), -1);
    fault_engine_clear(e);

    /* every with times: fires on 2 and 4, then never again. */
    add_rule(e, "{\"every\":2,\"times\":2}", 4);
    int fired = 0;
    for (int i = 1; i <= 10; i++) {
        int k = fire(e, "x", NULL, NULL);
        if (k == 4) {
            ck_assert(i == 2 || i == 4);
            fired++;
        }
    }
    ck_assert_int_eq(fired, 2);
    fault_engine_free(e);
}
END_TEST

/* The fire pattern of a probability rule over 1000 events, as a bitmap. */
static void pattern(uint64_t seed, unsigned char *bits, int *count)
{
    struct fault_engine *e = fault_engine_new(seed, NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert(fault_engine_seed(e) == seed);
    add_rule(e, "{\"probability\":0.25}", 1);
    *count = 0;
    for (int i = 0; i < 1000; i++) {
        bits[i] = fire(e, "x", NULL, NULL) == 1;
        *count += bits[i];
    }
    fault_engine_free(e);
}

START_TEST(test_probability_reproducible)
{
    unsigned char a[1000], b[1000], c[1000];
    int na, nb, nc;
    pattern(12345, a, &na);
    pattern(12345, b, &nb);
    pattern(54321, c, &nc);
    ck_assert(memcmp(a, b, sizeof(a)) == 0);
    ck_assert(memcmp(a, c, sizeof(a)) != 0);
    ck_assert_msg(na > 190 && na < 310, "fired %d of 1000 at p=0.25", na);
    ck_assert_msg(nc > 190 && nc < 310, "fired %d of 1000 at p=0.25", nc);

    /* A seed of 0 picks a fresh one from the OS and reports it. */
    struct fault_engine *e = fault_engine_new(0, NULL);
    ck_assert(fault_engine_seed(e) != 0);
    fault_engine_free(e);
}
END_TEST

START_TEST(test_draw_only_when_deterministic_pass)
{
    /* A probability rule for another target must not consume draws: the pattern on "x"
     * stays the same with unrelated traffic interleaved. */
    unsigned char a[1000];
    int na;
    pattern(777, a, &na);
    struct fault_engine *e = fault_engine_new(777, NULL);
    add_rule(e, "{\"target\":\"other\",\"probability\":0.5}", 2);
    add_rule(e, "{\"probability\":0.25}", 1);
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(fire(e, "x", NULL, NULL) == 1, a[i]);
    }
    fault_engine_free(e);
}
END_TEST

START_TEST(test_reseed_replays)
{
    struct fault_engine *e = fault_engine_new(99, NULL);
    add_rule(e, "{\"probability\":0.5,\"times\":30}", 1);
    add_rule(e, "{\"nth\":5}", 2);
    int first[200], second[200];
    for (int i = 0; i < 200; i++)
        first[i] = fire(e, "x", NULL, NULL);
    fault_engine_reseed(e, 99);
    for (int i = 0; i < 200; i++)
        second[i] = fire(e, "x", NULL, NULL);
    ck_assert(memcmp(first, second, sizeof(first)) == 0);
    int n1 = 0;
    for (int i = 0; i < 200; i++)
        n1 += first[i] == 1;
    ck_assert_int_eq(n1, 30); /* times capped the probability rule */

    cJSON *list = fault_engine_list(e);
    ck_assert_int_eq(cJSON_GetArraySize(list), 2);
    cJSON_Delete(list);
    fault_engine_reseed(e, 100);
    ck_assert(fault_engine_seed(e) == 100);
    list = fault_engine_list(e);
    int64_t v = -1;
    ck_assert_int_eq(json_get_int(cJSON_GetArrayItem(list, 0), "matched", 0, 1000, &v), MC_OK);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(json_get_int(cJSON_GetArrayItem(list, 0), "fired", 0, 1000, &v), MC_OK);
    ck_assert_int_eq(v, 0);
    cJSON_Delete(list);
    fault_engine_free(e);
}
END_TEST

START_TEST(test_time_window)
{
    struct mc_clock *c = clock_new();
    clock_freeze(c);
    clock_set(c, 1000000);
    struct fault_engine *e = fault_engine_new(5, c);
    add_rule(e, "{\"from_ms\":2000000,\"until_ms\":3000000}", 1);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), -1);
    clock_set(c, 1999999);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), -1);
    clock_set(c, 2000000);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), 1);
    clock_advance(c, 999999);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), 1);
    clock_advance(c, 1);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), -1);

    /* Outside the window an event is not "matched" either. */
    cJSON *list = fault_engine_list(e);
    int64_t v = -1;
    ck_assert_int_eq(json_get_int(cJSON_GetArrayItem(list, 0), "matched", 0, 100, &v), MC_OK);
    ck_assert_int_eq(v, 2);
    cJSON_Delete(list);

    /* Open on one side. */
    fault_engine_clear(e);
    add_rule(e, "{\"until_ms\":2500000}", 2);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), -1);
    clock_set(c, 5);
    ck_assert_int_eq(fire(e, "x", NULL, NULL), 2);
    fault_engine_free(e);
    clock_free(c);
}
END_TEST

START_TEST(test_first_rule_wins_remove_clear)
{
    struct fault_engine *e = fault_engine_new(3, NULL);
    ck_assert(fault_engine_empty(e));
    ck_assert(fault_engine_empty(NULL));
    uint64_t id1 = add_rule(e, "{\"target\":\"/acme/*\"}", 1);
    ck_assert(!fault_engine_empty(e));
    uint64_t id2 = add_rule(e, "{}", 2);
    ck_assert(id1 == 1 && id2 == 2);
    uint64_t rid = 0;
    struct fault_action a;
    ck_assert(fault_engine_check(e, "/acme/new-order", "POST", NULL, &a, &rid));
    ck_assert_int_eq(a.kind, 1);
    ck_assert_int_eq(a.status, 501);
    ck_assert_str_eq(a.type, "type-1");
    ck_assert(rid == id1);
    ck_assert_int_eq(fire(e, "/dir", "GET", NULL), 2);

    ck_assert_int_eq(fault_engine_remove(e, id1), MC_OK);
    ck_assert_int_eq(fault_engine_remove(e, id1), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(fire(e, "/acme/new-order", "POST", NULL), 2);

    /* Ids are not reused. */
    uint64_t id3 = add_rule(e, "{}", 3);
    ck_assert(id3 == 3);
    fault_engine_clear(e);
    ck_assert(fault_engine_empty(e));
    ck_assert_int_eq(fire(e, "/dir", "GET", NULL), -1);
    cJSON *list = fault_engine_list(e);
    ck_assert_int_eq(cJSON_GetArraySize(list), 0);
    cJSON_Delete(list);
    ck_assert(add_rule(e, "{}", 4) == 4);
    fault_engine_free(e);
    fault_engine_free(NULL);
}
END_TEST

START_TEST(test_rule_limit)
{
    struct fault_engine *e = fault_engine_new(3, NULL);
    struct fault_action a;
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < FAULT_MAX_RULES; i++) {
        struct fault_match m;
        memset(&m, 0, sizeof(m));
        m.probability = 1.0;
        uint64_t id;
        ck_assert_int_eq(fault_engine_add(e, &m, &a, NULL, &id), MC_OK);
    }
    struct fault_match m;
    memset(&m, 0, sizeof(m));
    m.target = strdup("x"); /* consumed even on failure: no leak under ASan */
    uint64_t id = 0;
    ck_assert_int_eq(fault_engine_add(e, &m, &a, NULL, &id), MC_ERR_LIMIT);
    ck_assert_ptr_null(m.target);
    fault_engine_free(e);
}
END_TEST

START_TEST(test_list_shape)
{
    struct fault_engine *e = fault_engine_new(3, NULL);
    add_rule(e, "{\"target\":\"a.\",\"nth\":2}", 1);
    struct fault_match m;
    memset(&m, 0, sizeof(m));
    uint64_t id = 0;
    ck_assert_int_eq(fault_engine_add(e, &m, NULL, NULL, &id), MC_OK); /* no spec */
    fire(e, "a.", NULL, NULL);
    fire(e, "a.", NULL, NULL);
    fire(e, "b.", NULL, NULL);

    cJSON *list = fault_engine_list(e);
    char *text = NULL;
    ck_assert_int_eq(json_print(list, &text), MC_OK);
    ck_assert_str_eq(text, "[{\"id\":1,\"spec\":{\"target\":\"a.\",\"nth\":2},\"matched\":2,"
                           "\"fired\":1},{\"id\":2,\"spec\":null,\"matched\":2,\"fired\":2}]");
    free(text);
    cJSON_Delete(list);
    fault_engine_free(e);
}
END_TEST

static enum mc_err parse_err(const char *text, char *err, size_t errn)
{
    cJSON *j = NULL;
    struct fault_match m;
    ck_assert_int_eq(json_parse(text, strlen(text), 4096, 4, &j), MC_OK);
    enum mc_err rc = fault_match_parse(j, &m, err, errn);
    fault_match_clear(&m);
    cJSON_Delete(j);
    return rc;
}

START_TEST(test_parse)
{
    struct fault_match m;
    match_from("{\"target\":\"*.x.\",\"kind\":\"A\",\"subject\":\"s\",\"nth\":3,"
               "\"probability\":0.5,\"times\":1,\"from_ms\":-5,\"until_ms\":10}",
               &m);
    ck_assert_str_eq(m.target, "*.x.");
    ck_assert_str_eq(m.kind, "A");
    ck_assert_str_eq(m.subject, "s");
    ck_assert(m.nth == 3 && m.every == 0 && m.times == 1);
    ck_assert(m.probability == 0.5);
    ck_assert(m.from_ms == -5 && m.until_ms == 10);
    fault_match_clear(&m);
    ck_assert_ptr_null(m.target);
    match_from("{}", &m);
    ck_assert(m.probability == 1.0 && m.target == NULL);
    fault_match_clear(&m);
    match_from("{\"probability\":1}", &m);
    fault_match_clear(&m);

    char err[128];
    static const char *const bad[] = {
        "{\"targte\":\"x\"}",
        "{\"target\":5}",
        "{\"kind\":true}",
        "{\"subject\":[]}",
        "{\"nth\":\"3\"}",
        "{\"nth\":-1}",
        "{\"nth\":1.5}",
        "{\"every\":{}}",
        "{\"times\":-2}",
        "{\"from_ms\":\"0\"}",
        "{\"until_ms\":0.5}",
        "{\"probability\":0}",
        "{\"probability\":-0.1}",
        "{\"probability\":1.01}",
        "{\"probability\":\"0.5\"}",
        "{\"nth\":2,\"every\":3}",
        "{\"from_ms\":10,\"until_ms\":10}",
        "[]",
        "\"x\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_msg(parse_err(bad[i], err, sizeof(err)) == MC_ERR_INVALID, "%s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
    }
    ck_assert(strstr((parse_err("{\"targte\":1}", err, sizeof(err)), err), "targte") != NULL);
    ck_assert_int_eq(parse_err("{\"nth\":2,\"every\":3}", NULL, 0), MC_ERR_INVALID);
}
END_TEST

struct fire_count {
    struct fault_engine *e;
    int fired;
};

static void *fault_worker(void *arg)
{
    struct fire_count *fc = arg;
    for (int i = 0; i < 500; i++)
        fc->fired += fire(fc->e, "x", "GET", NULL) == 1;
    return NULL;
}

START_TEST(test_threads_times_exact)
{
    /* Four threads race on one rule limited to 37 fires: exactly 37, and the list agrees. */
    struct fault_engine *e = fault_engine_new(8, NULL);
    add_rule(e, "{\"times\":37,\"probability\":0.5}", 1);
    pthread_t t[4];
    struct fire_count fc[4];
    for (int i = 0; i < 4; i++) {
        fc[i].e = e;
        fc[i].fired = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, fault_worker, &fc[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += fc[i].fired;
    }
    ck_assert_int_eq(total, 37);
    cJSON *list = fault_engine_list(e);
    int64_t v = 0;
    ck_assert_int_eq(json_get_int(cJSON_GetArrayItem(list, 0), "matched", 0, 10000, &v), MC_OK);
    ck_assert_int_eq(v, 2000);
    cJSON_Delete(list);
    fault_engine_free(e);
}
END_TEST

static Suite *fault_suite(void)
{
    Suite *s = suite_create("fault");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_glob);
    tcase_add_test(tc, test_target_kind_subject);
    tcase_add_test(tc, test_nth_every_times);
    tcase_add_test(tc, test_probability_reproducible);
    tcase_add_test(tc, test_draw_only_when_deterministic_pass);
    tcase_add_test(tc, test_reseed_replays);
    tcase_add_test(tc, test_time_window);
    tcase_add_test(tc, test_first_rule_wins_remove_clear);
    tcase_add_test(tc, test_rule_limit);
    tcase_add_test(tc, test_list_shape);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_threads_times_exact);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fault_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
