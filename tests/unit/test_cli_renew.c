/* Unit tests for client/renew.c: the renewal-due decision (a third of the lifetime, half
 * for short-lived certificates, --days, an ARI window that only brings renewal forward,
 * expiry, and the exact boundaries), and the RFC 3339 writer lineage metadata uses. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "client/renew.h"
#include "client/wire.h"
#include "testutil.h"

#define DAY 86400LL
#define T0 1800000000LL /* an arbitrary notBefore (2027-01-15) */

struct due_case {
    const char *what;
    int64_t lifetime; /* not_after = T0 + lifetime */
    int64_t now;      /* seconds after T0 */
    int days;
    int64_t ari_start; /* seconds after T0; 0: no window */
    enum renew_reason want;
    int64_t want_due; /* seconds after T0 */
};

static const struct due_case due_cases[] = {
    /* 90 days: due at 60 days (30 left). */
    {"90d at 59 days", 90 * DAY, 59 * DAY, 0, 0, RENEW_NOT_DUE, 60 * DAY},
    {"90d at 61 days", 90 * DAY, 61 * DAY, 0, 0, RENEW_LIFETIME, 60 * DAY},
    {"90d exactly at due", 90 * DAY, 60 * DAY, 0, 0, RENEW_LIFETIME, 60 * DAY},
    {"90d one second before due", 90 * DAY, 60 * DAY - 1, 0, 0, RENEW_NOT_DUE, 60 * DAY},
    /* 6 days: short-lived, due at half (3 days). */
    {"6d before half", 6 * DAY, 3 * DAY - 1, 0, 0, RENEW_NOT_DUE, 3 * DAY},
    {"6d at half", 6 * DAY, 3 * DAY, 0, 0, RENEW_LIFETIME, 3 * DAY},
    {"6d at a third left is long past half", 6 * DAY, 4 * DAY, 0, 0, RENEW_LIFETIME, 3 * DAY},
    /* exactly 10 days still counts as short-lived; 10 days + 1 s does not */
    {"10d at half", 10 * DAY, 5 * DAY, 0, 0, RENEW_LIFETIME, 5 * DAY},
    {"10d+1s uses a third", 10 * DAY + 3, 5 * DAY, 0, 0, RENEW_NOT_DUE,
     10 * DAY + 3 - (10 * DAY + 3) / 3},
    /* --days replaces the lifetime rule, both ways */
    {"--days 10 at 79 days", 90 * DAY, 79 * DAY, 10, 0, RENEW_NOT_DUE, 80 * DAY},
    {"--days 10 at 80 days", 90 * DAY, 80 * DAY, 10, 0, RENEW_DAYS, 80 * DAY},
    {"--days 10 ignores the lifetime point", 90 * DAY, 70 * DAY, 10, 0, RENEW_NOT_DUE, 80 * DAY},
    {"--days 45 earlier than the lifetime point", 90 * DAY, 46 * DAY, 45, 0, RENEW_DAYS, 45 * DAY},
    /* ARI window before the lifetime point brings renewal forward */
    {"ARI window begun", 90 * DAY, 41 * DAY, 0, 40 * DAY, RENEW_ARI, 40 * DAY},
    {"ARI window exactly at now", 90 * DAY, 40 * DAY, 0, 40 * DAY, RENEW_ARI, 40 * DAY},
    {"ARI window not begun", 90 * DAY, 39 * DAY, 0, 40 * DAY, RENEW_NOT_DUE, 40 * DAY},
    /* ARI window after the lifetime point never postpones */
    {"ARI later than lifetime, at lifetime", 90 * DAY, 61 * DAY, 0, 70 * DAY, RENEW_LIFETIME,
     60 * DAY},
    {"ARI later than lifetime, before it", 90 * DAY, 50 * DAY, 0, 70 * DAY, RENEW_NOT_DUE,
     60 * DAY},
    {"ARI with --days", 90 * DAY, 50 * DAY, 10, 50 * DAY, RENEW_ARI, 50 * DAY},
    /* expiry */
    {"expired exactly at notAfter", 90 * DAY, 90 * DAY, 0, 0, RENEW_EXPIRED, 60 * DAY},
    {"expired long ago", 90 * DAY, 200 * DAY, 0, 40 * DAY, RENEW_EXPIRED, 40 * DAY},
    {"one second before expiry", 90 * DAY, 90 * DAY - 1, 0, 0, RENEW_LIFETIME, 60 * DAY},
};

START_TEST(test_due_table)
{
    const struct due_case *c = &due_cases[_i];
    struct ari_window w = {0};
    int64_t due = -1;

    w.start = c->ari_start != 0 ? T0 + c->ari_start : 0;
    w.end = c->ari_start != 0 ? w.start + DAY : 0;
    enum renew_reason r =
        renew_due(T0, T0 + c->lifetime, T0 + c->now, c->days, c->ari_start != 0 ? &w : NULL, &due);
    ck_assert_msg(r == c->want, "%s: got %s want %s", c->what, renew_reason_name(r),
                  renew_reason_name(c->want));
    ck_assert_msg(due == T0 + c->want_due, "%s: due %lld want %lld", c->what, (long long)(due - T0),
                  (long long)c->want_due);
}
END_TEST

START_TEST(test_zeroed_window_is_no_window)
{
    struct ari_window w = {0};
    int64_t due = 0;

    ck_assert_int_eq(renew_due(T0, T0 + 90 * DAY, T0 + 10 * DAY, 0, &w, &due), RENEW_NOT_DUE);
    ck_assert_int_eq(due, T0 + 60 * DAY);
    /* due_at may be NULL */
    ck_assert_int_eq(renew_due(T0, T0 + 90 * DAY, T0 + 61 * DAY, 0, NULL, NULL), RENEW_LIFETIME);
}
END_TEST

START_TEST(test_reason_names)
{
    ck_assert_str_eq(renew_reason_name(RENEW_NOT_DUE), "not-due");
    ck_assert_str_eq(renew_reason_name(RENEW_LIFETIME), "lifetime");
    ck_assert_str_eq(renew_reason_name(RENEW_DAYS), "days");
    ck_assert_str_eq(renew_reason_name(RENEW_ARI), "ari");
    ck_assert_str_eq(renew_reason_name(RENEW_EXPIRED), "expired");
}
END_TEST

START_TEST(test_rfc3339_round_trip)
{
    char buf[32];
    int64_t t = 0;

    ck_assert_str_eq(renew_format_rfc3339(1795490655, buf, sizeof buf), "2026-11-24T03:24:15Z");
    ck_assert_int_eq(wire_rfc3339(buf, &t), MC_OK);
    ck_assert_int_eq(t, 1795490655);
    ck_assert_str_eq(renew_format_rfc3339(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
}
END_TEST

static Suite *renew_suite(void)
{
    Suite *s = suite_create("cli_renew");
    TCase *tc = tcase_create("due");

    tcase_add_loop_test(tc, test_due_table, 0, (int)(sizeof due_cases / sizeof due_cases[0]));
    tcase_add_test(tc, test_zeroed_window_is_no_window);
    tcase_add_test(tc, test_reason_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("rfc3339");
    tcase_add_test(tc, test_rfc3339_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(renew_suite());
}
