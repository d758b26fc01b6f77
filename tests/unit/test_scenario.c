/* Unit tests for mockca/scenario.c: every member of the scenario format, counts,
 * durations, and the errors a scenario author sees. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mockca/scenario.h"

static const char *full =
    "{\"name\": \"full-1\", \"description\": \"every field\", \"requires\": [\"acme-faults\"],"
    " \"config\": {\"pebble\": {\"httpPort\": 5555}, \"certcentral\": {\"autoApprove\": true}},"
    " \"env\": {\"PEBBLE_WFE_NONCEREJECT\": \"10\", \"X_Y\": \"z\"},"
    " \"faults\": [{\"name\": \"n1\", \"server\": \"acme\", \"match\": {\"target\": \"/order-plz\","
    "   \"nth\": 1}, \"action\": {\"action\": \"bad_nonce\"}},"
    "  {\"name\": \"d1\", \"server\": \"dns\", \"action\": {\"action\": \"servfail\"}}],"
    " \"clock\": [{\"after\": \"issued\", \"advance\": \"60d\"}, {\"after\": \"order\", \"count\": 2,"
    "   \"freeze\": true}],"
    " \"timeout\": 30, \"seed\": 99,"
    " \"expect\": {\"issued\": [[\"a.example\", \"b.example\"], [\"c.example\"]], \"revoked\": 1,"
    "   \"renewed\": \">=1\", \"accounts\": \"<=2\", \"orders\": \">0\", \"exit_code\": 3,"
    "   \"no_must_violations\": true, \"retry_after_respected\": true, \"faults_fired\": {\"n1\": \">=1\", \"d1\": 0},"
    "   \"exchanges\": [{\"listener\": \"acme\", \"method\": \"POST\", \"path\": \"/order-plz\","
    "     \"status\": 400, \"problem\": \"badNonce\", \"count\": \"<3\"}, {\"path\": \"/dir\"}]},"
    " \"client_support\": {\"certcli\": {\"command\": \"certcli issue ${X_Y}\"},"
    "   \"uacme\": {\"skip\": \"no EAB\"}}}";

START_TEST(test_full)
{
    struct scenario s;
    char err[256] = "";

    ck_assert_msg(scn_parse(full, strlen(full), &s, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_str_eq(s.name, "full-1");
    ck_assert_str_eq(s.description, "every field");
    ck_assert_uint_eq(s.n_requires, 1);
    ck_assert_str_eq(s.requires[0], "acme-faults");
    ck_assert_ptr_nonnull(s.config);
    ck_assert_uint_eq(s.n_env, 2);
    ck_assert_str_eq(s.env_names[1], "X_Y");
    ck_assert_str_eq(s.env_values[0], "10");
    ck_assert_uint_eq(s.n_faults, 2);
    ck_assert_str_eq(s.faults[0].server, "acme");
    ck_assert_ptr_nonnull(s.faults[0].match);
    ck_assert_ptr_null(s.faults[1].match);
    ck_assert_uint_eq(s.n_clock, 2);
    ck_assert_int_eq(s.clock[0].after, SCN_EV_ISSUED);
    ck_assert_int_eq(s.clock[0].advance_ms, 60LL * 86400 * 1000);
    ck_assert_int_eq(s.clock[0].count, 1);
    ck_assert_int_eq(s.clock[1].after, SCN_EV_ORDER);
    ck_assert_int_eq(s.clock[1].count, 2);
    ck_assert(s.clock[1].freeze);
    ck_assert_int_eq(s.timeout_s, 30);
    ck_assert_uint_eq(s.seed, 99);
    ck_assert_uint_eq(s.expect.n_issued, 2);
    ck_assert_uint_eq(s.expect.issued[0].n, 2);
    ck_assert_str_eq(s.expect.issued[1].v[0], "c.example");
    ck_assert(s.expect.has_revoked && s.expect.revoked.op == SCN_EQ && s.expect.revoked.n == 1);
    ck_assert(s.expect.has_renewed && s.expect.renewed.op == SCN_GE);
    ck_assert(s.expect.accounts.op == SCN_LE && s.expect.accounts.n == 2);
    ck_assert(s.expect.orders.op == SCN_GT && s.expect.orders.n == 0);
    ck_assert(s.expect.has_exit_code && s.expect.exit_code == 3);
    ck_assert(s.expect.has_no_must && s.expect.no_must_violations);
    ck_assert(s.expect.retry_after_respected);
    ck_assert_uint_eq(s.expect.n_fired, 2);
    ck_assert_str_eq(s.expect.fired[1].rule, "d1");
    ck_assert_uint_eq(s.expect.n_exchanges, 2);
    ck_assert_int_eq(s.expect.exchanges[0].status, 400);
    ck_assert_str_eq(s.expect.exchanges[0].problem, "badNonce");
    ck_assert(s.expect.exchanges[0].count.op == SCN_LT && s.expect.exchanges[0].count.n == 3);
    /* An exchange without a count means "at least once". */
    ck_assert(s.expect.exchanges[1].count.op == SCN_GE && s.expect.exchanges[1].count.n == 1);
    ck_assert_ptr_null(s.expect.exchanges[1].method);
    ck_assert_uint_eq(s.n_clients, 2);
    ck_assert_str_eq(scn_client(&s, "certcli")->command, "certcli issue ${X_Y}");
    ck_assert_str_eq(scn_client(&s, "uacme")->skip, "no EAB");
    ck_assert_ptr_null(scn_client(&s, "lego"));
    scn_free(&s);
    scn_free(&s); /* idempotent */
    scn_free(NULL);
}
END_TEST

START_TEST(test_minimal_defaults)
{
    const char *t = "{\"name\": \"m\", \"expect\": {}}";
    struct scenario s;
    char err[256];

    ck_assert_int_eq(scn_parse(t, strlen(t), &s, err, sizeof(err)), MC_OK);
    ck_assert_int_eq(s.timeout_s, 60);
    ck_assert_uint_eq(s.seed, 0);
    ck_assert(!s.expect.has_exit_code);
    ck_assert(!s.expect.retry_after_respected); /* not judged unless asked */
    scn_free(&s);
}
END_TEST

/* Each bad document and a fragment its message must contain (the member's path). */
static const struct {
    const char *text;
    const char *want;
} bad[] = {
    {"[]", "want a JSON object"},
    {"{\"name\": \"x\"", "not valid JSON"},
    {"{\"expect\": {}}", "name: required"},
    {"{\"name\": \"a b\", \"expect\": {}}", "name: want"},
    {"{\"name\": \"x\"}", "expect: required"},
    {"{\"name\": \"x\", \"expect\": {}, \"extra\": 1}", "unknown member \"extra\""},
    {"{\"name\": \"x\", \"expect\": {\"revokd\": 1}}", "expect: unknown member \"revokd\""},
    {"{\"name\": \"x\", \"expect\": {\"revoked\": \"about 3\"}}", "expect.revoked"},
    {"{\"name\": \"x\", \"expect\": {\"revoked\": -1}}", "expect.revoked"},
    {"{\"name\": \"x\", \"expect\": {\"exit_code\": 300}}", "expect.exit_code"},
    {"{\"name\": \"x\", \"expect\": {\"retry_after_respected\": 1}}",
     "expect.retry_after_respected"},
    {"{\"name\": \"x\", \"expect\": {\"issued\": [[]]}}", "expect.issued[0]"},
    {"{\"name\": \"x\", \"expect\": {\"issued\": [[\"a\", 3]]}}", "expect.issued[0][1]"},
    {"{\"name\": \"x\", \"expect\": {\"faults_fired\": {\"nope\": 1}}}", "no fault rule of that name"},
    {"{\"name\": \"x\", \"expect\": {\"exchanges\": [{\"listener\": \"ftp\"}]}}", "listener"},
    {"{\"name\": \"x\", \"expect\": {\"exchanges\": [{\"status\": 99}]}}", "status"},
    {"{\"name\": \"x\", \"expect\": {}, \"clock\": [{\"after\": \"lunch\", \"advance\": \"1d\"}]}",
     "clock[0]: after"},
    {"{\"name\": \"x\", \"expect\": {}, \"clock\": [{\"after\": \"issued\", \"advance\": \"1y\"}]}",
     "clock[0]: advance"},
    {"{\"name\": \"x\", \"expect\": {}, \"clock\": [{\"after\": \"issued\"}]}", "wants \"advance\""},
    {"{\"name\": \"x\", \"expect\": {}, \"faults\": [{\"name\": \"f\", \"server\": \"smtp\","
     " \"action\": {\"action\": \"drop\"}}]}", "faults[0]: server"},
    {"{\"name\": \"x\", \"expect\": {}, \"faults\": [{\"name\": \"f\", \"server\": \"acme\","
     " \"match\": {\"probability\": 2}, \"action\": {\"action\": \"drop\"}}]}", "faults[0].match"},
    {"{\"name\": \"x\", \"expect\": {}, \"faults\": [{\"name\": \"f\", \"server\": \"acme\"}]}",
     "faults[0]: action"},
    {"{\"name\": \"x\", \"expect\": {}, \"faults\": [{\"name\": \"f\", \"server\": \"dns\","
     " \"action\": {\"action\": \"drop\"}}, {\"name\": \"f\", \"server\": \"dns\","
     " \"action\": {\"action\": \"drop\"}}]}", "used twice"},
    {"{\"name\": \"x\", \"expect\": {}, \"env\": {\"1X\": \"v\"}}", "env.1X"},
    {"{\"name\": \"x\", \"expect\": {}, \"env\": {\"X\": 1}}", "env.X"},
    {"{\"name\": \"x\", \"expect\": {}, \"config\": {\"boulder\": {}}}", "config"},
    {"{\"name\": \"x\", \"expect\": {}, \"timeout\": 0}", "timeout"},
    {"{\"name\": \"x\", \"expect\": {}, \"seed\": -4}", "seed"},
    {"{\"name\": \"x\", \"expect\": {}, \"client_support\": {\"lego\": {}}}",
     "client_support.lego: want exactly one"},
    {"{\"name\": \"x\", \"expect\": {}, \"client_support\": {\"lego\": {\"command\": \"a\","
     " \"skip\": \"b\"}}}", "want exactly one"},
    {"{\"name\": \"x\", \"expect\": {}, \"requires\": [\"\"]}", "requires[0]"},
};

START_TEST(test_errors)
{
    struct scenario s;
    char err[256];

    err[0] = '\0';
    ck_assert_msg(scn_parse(bad[_i].text, strlen(bad[_i].text), &s, err, sizeof(err)) != MC_OK,
                  "accepted: %s", bad[_i].text);
    ck_assert_msg(strstr(err, bad[_i].want) != NULL, "%s: message \"%s\" lacks \"%s\"",
                  bad[_i].text, err, bad[_i].want);
    scn_free(&s);
}
END_TEST

START_TEST(test_counts_and_durations)
{
    struct scn_count c = {SCN_GE, 2};
    char buf[32];
    int64_t ms = 0;

    ck_assert(scn_count_ok(&c, 2) && scn_count_ok(&c, 5) && !scn_count_ok(&c, 1));
    ck_assert_str_eq(scn_count_str(&c, buf, sizeof(buf)), ">=2");
    c.op = SCN_LT;
    ck_assert(scn_count_ok(&c, 1) && !scn_count_ok(&c, 2));
    ck_assert(scn_parse_duration("90m", &ms) && ms == 90 * 60000);
    ck_assert(scn_parse_duration("500ms", &ms) && ms == 500);
    ck_assert(scn_parse_duration("2w", &ms) && ms == 14LL * 86400000);
    ck_assert(!scn_parse_duration("m5", &ms));
    ck_assert(!scn_parse_duration("5", &ms));
    ck_assert(!scn_parse_duration("99999d", &ms)); /* past ten years */
    ck_assert_str_eq(scn_event_name(SCN_EV_REVOKED), "revoked");
}
END_TEST

START_TEST(test_load_shipped_fixtures)
{
    /* Every shipped scenario parses: a typo in one would only show when it runs. */
    static const char *const names[] = {"http-01", "dns-01", "eab", "revoke", "cc-instant-dv",
                                        "503-retry-after-date", "dns-servfail"};
    char path[1024], err[512];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct scenario s;
        snprintf(path, sizeof(path), "%s/fixtures/scenarios/%s.json", MC_SOURCE_DIR, names[i]);
        ck_assert_msg(scn_load(path, &s, err, sizeof(err)) == MC_OK, "%s", err);
        ck_assert_str_eq(s.name, names[i]);
        ck_assert_ptr_nonnull(scn_client(&s, "certcli"));
        scn_free(&s);
    }
    ck_assert(scn_load("/nonexistent/x.json", &(struct scenario){0}, err, sizeof(err)) != MC_OK);
    ck_assert_ptr_nonnull(strstr(err, "cannot read"));
}
END_TEST

static Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_full);
    tcase_add_test(tc, test_minimal_defaults);
    tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, test_counts_and_durations);
    tcase_add_test(tc, test_load_shipped_fixtures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scenario_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
