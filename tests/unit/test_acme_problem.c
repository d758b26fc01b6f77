/* Unit tests of mockca/acme/problem.c: every type round-trips through its URN and short
 * name, and the statuses are the ones Pebble and Boulder send. */
#include <string.h>

#include <check.h>

#include "mockca/acme/problem.h"

START_TEST(test_every_type_round_trips)
{
    for (int p = ACME_P_NONE + 1; p < ACME_P_COUNT; p++) {
        const char *urn = acme_problem_urn((enum acme_problem)p);
        const char *name = acme_problem_name((enum acme_problem)p);
        ck_assert_msg(strncmp(urn, "urn:ietf:params:acme:error:", 27) == 0, "type %d: %s", p,
                      urn);
        ck_assert_str_eq(urn + 27, name);
        ck_assert_int_eq(acme_problem_parse(urn), p);
        ck_assert_int_eq(acme_problem_parse(name), p);
        int st = acme_problem_status((enum acme_problem)p);
        ck_assert_msg(st >= 400 && st <= 599, "type %s: status %d", name, st);
    }
}
END_TEST

START_TEST(test_statuses_and_names)
{
    ck_assert_str_eq(acme_problem_urn(ACME_P_BAD_NONCE), "urn:ietf:params:acme:error:badNonce");
    ck_assert_str_eq(acme_problem_urn(ACME_P_BAD_CSR), "urn:ietf:params:acme:error:badCSR");
    ck_assert_int_eq(acme_problem_status(ACME_P_MALFORMED), 400);
    ck_assert_int_eq(acme_problem_status(ACME_P_UNAUTHORIZED), 403);
    ck_assert_int_eq(acme_problem_status(ACME_P_ORDER_NOT_READY), 403);
    ck_assert_int_eq(acme_problem_status(ACME_P_ALREADY_REPLACED), 409);
    ck_assert_int_eq(acme_problem_status(ACME_P_RATE_LIMITED), 429);
    ck_assert_int_eq(acme_problem_status(ACME_P_SERVER_INTERNAL), 500);
    ck_assert_int_eq(acme_problem_status(ACME_P_ACCOUNT_DOES_NOT_EXIST), 400);
}
END_TEST

START_TEST(test_unknown_and_out_of_range)
{
    ck_assert_int_eq(acme_problem_parse("urn:ietf:params:acme:error:noSuchThing"), ACME_P_NONE);
    ck_assert_int_eq(acme_problem_parse("urn:ietf:params:acme:error:"), ACME_P_NONE);
    ck_assert_int_eq(acme_problem_parse(""), ACME_P_NONE);
    ck_assert_int_eq(acme_problem_parse(NULL), ACME_P_NONE);
    ck_assert_int_eq(acme_problem_parse("MALFORMED"), ACME_P_NONE); /* case matters */
    ck_assert_str_eq(acme_problem_urn(ACME_P_NONE), "");
    ck_assert_str_eq(acme_problem_urn(ACME_P_COUNT), "");
    ck_assert_str_eq(acme_problem_name((enum acme_problem)-1), "");
}
END_TEST

START_TEST(test_error_set)
{
    struct acme_error e;
    ck_assert_int_eq(acme_error_set(&e, ACME_P_MALFORMED, 415, "Content-Type %s", "text/plain"),
                     ACME_P_MALFORMED);
    ck_assert_int_eq(e.status, 415);
    ck_assert_str_eq(e.detail, "Content-Type text/plain");
    acme_error_set(&e, ACME_P_RATE_LIMITED, 0, "%s", "slow down");
    ck_assert_int_eq(e.status, 429);
    /* A detail longer than the buffer is cut, never overrun. */
    char big[2 * ACME_DETAIL_MAX];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    acme_error_set(&e, ACME_P_MALFORMED, 0, "%s", big);
    ck_assert_uint_eq(strlen(e.detail), ACME_DETAIL_MAX - 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acme_problem");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_every_type_round_trips);
    tcase_add_test(tc, test_statuses_and_names);
    tcase_add_test(tc, test_unknown_and_out_of_range);
    tcase_add_test(tc, test_error_set);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
