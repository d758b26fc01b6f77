/* Unit tests of client/retry.c: Retry-After in delta-seconds and in the three HTTP-date
 * forms (RFC 9110 sections 5.6.7 and 10.2.3), nasty values, and exponential backoff with
 * jitter and caps. Table-driven. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "client/retry.h"
#include "testutil.h"

#define T1994 INT64_C(784111777) /* Sun, 06 Nov 1994 08:49:37 GMT */

struct ra_case {
    const char *value;
    int64_t now;
    enum mc_err err;
    int64_t want; /* when MC_OK */
};

static const struct ra_case ra_cases[] = {
    /* delta-seconds */
    {"0", 0, MC_OK, 0},
    {"120", 5, MC_OK, 120},
    {"  7\t", 0, MC_OK, 7},
    {"00042", 0, MC_OK, 42},
    {"315360000", 0, MC_OK, RETRY_AFTER_MAX_S},
    {"315360001", 0, MC_OK, RETRY_AFTER_MAX_S},
    {"99999999999999999999999999999999", 0, MC_OK, RETRY_AFTER_MAX_S}, /* no overflow */
    {"-5", 0, MC_ERR_INVALID, 0},
    {"+5", 0, MC_ERR_INVALID, 0},
    {"1.5", 0, MC_ERR_INVALID, 0},
    {"5s", 0, MC_ERR_INVALID, 0},
    {"0x10", 0, MC_ERR_INVALID, 0},
    {"1 2", 0, MC_ERR_INVALID, 0},
    {"", 0, MC_ERR_INVALID, 0},
    {"   ", 0, MC_ERR_INVALID, 0},
    /* IMF-fixdate */
    {"Sun, 06 Nov 1994 08:49:37 GMT", T1994 - 100, MC_OK, 100},
    {"Sun, 06 Nov 1994 08:49:37 GMT", T1994, MC_OK, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT", T1994 + 3600, MC_OK, 0},     /* past: clamped at 0 */
    {"Thu, 29 Feb 2024 00:00:00 GMT", 1709164800 - 30, MC_OK, 30}, /* leap day */
    {"Tue, 29 Feb 2000 12:00:00 GMT", 951825600 - 1, MC_OK, 1},    /* 400-year leap */
    {"Wed, 29 Feb 2023 00:00:00 GMT", 0, MC_ERR_INVALID, 0},       /* no such day */
    {"Mon, 29 Feb 2100 00:00:00 GMT", 0, MC_ERR_INVALID, 0},       /* century, not leap */
    {"Sun, 31 Apr 2024 00:00:00 GMT", 0, MC_ERR_INVALID, 0},
    {"Sun, 00 Nov 1994 08:49:37 GMT", 0, MC_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 24:00:00 GMT", 0, MC_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:60:00 GMT", 0, MC_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:37 UTC", 0, MC_ERR_INVALID, 0}, /* only GMT */
    {"Sun, 06 Nov 1994 08:49:37", 0, MC_ERR_INVALID, 0},
    {"Sun, 06 nov 1994 08:49:37 GMT", 0, MC_ERR_INVALID, 0}, /* case-sensitive */
    {"Sun, 6 Nov 1994 08:49:37 GMT", 0, MC_ERR_INVALID, 0},  /* two-digit day */
    {"Xyz, 06 Nov 1994 08:49:37 GMT", 0, MC_ERR_INVALID, 0},
    {"Sun, 06 Foo 1994 08:49:37 GMT", 0, MC_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT trailing", 0, MC_ERR_INVALID, 0},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 0, MC_OK, RETRY_AFTER_MAX_S}, /* far: clamped */
    /* RFC 850 (obsolete, must be accepted) */
    {"Sunday, 06-Nov-94 08:49:37 GMT", T1994 - 10, MC_OK, 10},
    {"Sunday, 06-Nov-94 08:49:37 GMT", T1994 + 10, MC_OK, 0},
    {"Thursday, 29-Feb-24 00:00:00 GMT", 1709164800 - 5, MC_OK, 5},
    {"Wednesday, 29-Feb-23 00:00:00 GMT", 1709164800, MC_ERR_INVALID, 0},
    {"Sunday, 06-Nov-1994 08:49:37 GMT", 0, MC_ERR_INVALID, 0},
    {"Funday, 06-Nov-94 08:49:37 GMT", 0, MC_ERR_INVALID, 0},
    /* asctime */
    {"Sun Nov  6 08:49:37 1994", T1994 - 2, MC_OK, 2},
    {"Sun Nov 16 08:49:37 1994", T1994, MC_OK, 10 * 86400},
    {"Thu Feb 29 00:00:00 2024", 1709164800, MC_OK, 0},
    {"Sun Nov 6 08:49:37 1994", 0, MC_ERR_INVALID, 0}, /* day must be padded */
    {"Sun Nov  6 08:49:37 94", 0, MC_ERR_INVALID, 0},
    {"Sun Feb 30 08:49:37 1994", 0, MC_ERR_INVALID, 0},
    /* garbage */
    {"tomorrow", 0, MC_ERR_INVALID, 0},
    {"Sun,", 0, MC_ERR_INVALID, 0},
    {"\x01\x02", 0, MC_ERR_INVALID, 0},
};

START_TEST(test_retry_after_table)
{
    for (size_t i = 0; i < sizeof ra_cases / sizeof ra_cases[0]; i++) {
        const struct ra_case *c = &ra_cases[i];
        int64_t got = -7;
        enum mc_err e = retry_after_parse(c->value, c->now, &got);
        ck_assert_msg(e == c->err, "case %zu \"%s\": err %d, want %d", i, c->value, e, c->err);
        if (c->err == MC_OK)
            ck_assert_msg(got == c->want, "case %zu \"%s\": %lld, want %lld", i, c->value,
                          (long long)got, (long long)c->want);
    }
}
END_TEST

START_TEST(test_retry_after_null_and_huge)
{
    char big[RETRY_MAX_HEADER + 10];
    int64_t got;

    ck_assert_int_eq(retry_after_parse(NULL, 0, &got), MC_ERR_INVALID);
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(retry_after_parse(big, 0, &got), MC_ERR_INVALID);
    /* Exactly at the cap still parses (and saturates). */
    big[RETRY_MAX_HEADER] = '\0';
    ck_assert_int_eq(retry_after_parse(big, 0, &got), MC_OK);
    ck_assert(got == RETRY_AFTER_MAX_S);
}
END_TEST

START_TEST(test_rfc850_two_digit_year)
{
    /* RFC 9110: a two-digit year more than 50 years ahead is the latest past year with
     * those digits. From 2026, "30" is 2030, "80" is 1980, "99" is 1999. */
    int64_t now2026 = INT64_C(1767225600); /* 2026-01-01T00:00:00Z */
    int64_t got;
    ck_assert_int_eq(retry_after_parse("Saturday, 01-Jan-00 00:00:00 GMT", now2026, &got), MC_OK);
    ck_assert(got == 0); /* 2000: the past */
    ck_assert_int_eq(retry_after_parse("Friday, 31-Dec-99 00:00:00 GMT", now2026, &got), MC_OK);
    ck_assert(got == 0); /* 1999, not 2099 */
    ck_assert_int_eq(retry_after_parse("Tuesday, 01-Jan-30 00:00:00 GMT", now2026, &got), MC_OK);
    ck_assert(got == INT64_C(126230400)); /* 2030-01-01 minus now: the future */
    ck_assert_int_eq(retry_after_parse("Monday, 01-Jan-80 00:00:00 GMT", now2026, &got), MC_OK);
    ck_assert(got == 0); /* 2080 is more than 50 years ahead: 1980 */
}
END_TEST

START_TEST(test_backoff_no_jitter)
{
    struct {
        int attempt;
        int64_t base, cap, want;
    } t[] = {
        {0, 500, 10000, 500},
        {1, 500, 10000, 1000},
        {2, 500, 10000, 2000},
        {4, 500, 10000, 8000},
        {5, 500, 10000, 10000},
        {50, 500, 10000, 10000},
        {INT_MAX, 500, 10000, 10000}, /* no overflow, no long loop */
        {-3, 500, 10000, 500},
        {3, 0, 10000, 0},
        {3, 1000, 100, 100},
        {3, -5, 100, 0},
        {70, INT64_MAX / 2, INT64_MAX, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t got = retry_backoff_ms(t[i].attempt, t[i].base, t[i].cap, RETRY_JITTER_NONE, NULL);
        ck_assert_msg(got == t[i].want, "case %zu: %lld want %lld", i, (long long)got,
                      (long long)t[i].want);
    }
}
END_TEST

START_TEST(test_backoff_jitter_bounds_and_spread)
{
    struct prng p;
    prng_seed(&p, 42);
    for (int attempt = 0; attempt < 8; attempt++) {
        int64_t d = retry_backoff_ms(attempt, 100, 5000, RETRY_JITTER_NONE, NULL);
        int64_t minf = INT64_MAX, maxf = 0, mine = INT64_MAX;
        for (int i = 0; i < 2000; i++) {
            int64_t f = retry_backoff_ms(attempt, 100, 5000, RETRY_JITTER_FULL, &p);
            int64_t e = retry_backoff_ms(attempt, 100, 5000, RETRY_JITTER_EQUAL, &p);
            ck_assert(f >= 0 && f <= d);
            ck_assert(e >= d / 2 && e <= d);
            minf = f < minf ? f : minf;
            maxf = f > maxf ? f : maxf;
            mine = e < mine ? e : mine;
        }
        /* Jitter spreads clients out: 2000 draws cover most of the range. */
        ck_assert(minf < d / 4);
        ck_assert(maxf > d * 3 / 4);
        ck_assert(mine < d * 3 / 4);
    }
    /* Same seed, same sequence: a run replays. */
    struct prng a, b;
    prng_seed(&a, 7);
    prng_seed(&b, 7);
    for (int i = 0; i < 50; i++)
        ck_assert(retry_backoff_ms(i % 6, 250, 8000, RETRY_JITTER_FULL, &a) ==
                  retry_backoff_ms(i % 6, 250, 8000, RETRY_JITTER_FULL, &b));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_retry");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_retry_after_table);
    tcase_add_test(tc, test_retry_after_null_and_huge);
    tcase_add_test(tc, test_rfc850_two_digit_year);
    tcase_add_test(tc, test_backoff_no_jitter);
    tcase_add_test(tc, test_backoff_jitter_bounds_and_spread);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
