/* Unit tests for common/clock.c and common/prng.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/prng.h"

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(test_clock_running_and_null)
{
    struct mc_clock *c = clock_new();
    ck_assert_ptr_nonnull(c);
    ck_assert(!clock_is_frozen(c));
    int64_t r = real_ms();
    int64_t v = clock_now_ms(c);
    ck_assert(v >= r - 1000 && v <= r + 1000);
    ck_assert(labs((long)(clock_now_ms(NULL) - real_ms())) < 1000);
    ck_assert(labs((long)(clock_now(NULL) - (int64_t)time(NULL))) <= 1);
    clock_free(c);
    clock_free(NULL);
}
END_TEST

START_TEST(test_clock_freeze_advance_set_resume)
{
    struct mc_clock *c = clock_new();
    ck_assert_ptr_nonnull(c);

    clock_freeze(c);
    ck_assert(clock_is_frozen(c));
    int64_t f = clock_now_ms(c);
    sleep_ms(30);
    ck_assert_int_eq(clock_now_ms(c), f); /* frozen: real time passing does not move it */

    clock_advance(c, 86400000);
    ck_assert_int_eq(clock_now_ms(c), f + 86400000);
    clock_advance(c, -1000);
    ck_assert_int_eq(clock_now_ms(c), f + 86399000);

    clock_set(c, 1700000000123LL);
    ck_assert(clock_is_frozen(c)); /* set keeps the state */
    ck_assert_int_eq(clock_now_ms(c), 1700000000123LL);
    ck_assert_int_eq(clock_now(c), 1700000000LL);

    /* Resume runs on from the frozen instant, not from real time. */
    clock_resume(c);
    ck_assert(!clock_is_frozen(c));
    sleep_ms(30);
    int64_t after = clock_now_ms(c);
    ck_assert(after >= 1700000000123LL + 25 && after < 1700000000123LL + 5000);

    /* Set while running keeps running. */
    clock_set(c, 1000000);
    ck_assert(!clock_is_frozen(c));
    int64_t v = clock_now_ms(c);
    ck_assert(v >= 1000000 && v < 1000000 + 5000);

    /* Advance while running moves the offset. */
    clock_advance(c, 3600000);
    v = clock_now_ms(c);
    ck_assert(v >= 4600000 && v < 4600000 + 5000);

    /* Reset: real time, running. */
    clock_freeze(c);
    clock_reset(c);
    ck_assert(!clock_is_frozen(c));
    ck_assert(labs((long)(clock_now_ms(c) - real_ms())) < 1000);

    /* Negative instants floor to whole seconds. */
    clock_freeze(c);
    clock_set(c, -1);
    ck_assert_int_eq(clock_now(c), -1);
    clock_free(c);
}
END_TEST

START_TEST(test_rfc3339)
{
    char buf[32];
    ck_assert_str_eq(clock_format_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000Z");
    ck_assert_str_eq(clock_format_rfc3339(1700000000123LL, buf, sizeof(buf)),
                     "2023-11-14T22:13:20.123Z");
    ck_assert_str_eq(clock_format_rfc3339(951782400999LL, buf, sizeof(buf)),
                     "2000-02-29T00:00:00.999Z");
    ck_assert_str_eq(clock_format_rfc3339(-1, buf, sizeof(buf)), "1969-12-31T23:59:59.999Z");
    /* Out of RFC 3339's four-digit years: clamped, never a five-digit year. */
    ck_assert_str_eq(clock_format_rfc3339(INT64_MAX, buf, sizeof(buf)), "9999-12-31T23:59:59.999Z");
    ck_assert_str_eq(clock_format_rfc3339(INT64_MIN, buf, sizeof(buf)), "0000-01-01T00:00:00.000Z");
    char small[8];
    ck_assert_str_eq(clock_format_rfc3339(0, small, sizeof(small)), "1970-01");
}
END_TEST

START_TEST(test_prng_determinism)
{
    struct prng a, b, c;
    prng_seed(&a, 42);
    prng_seed(&b, 42);
    prng_seed(&c, 43);
    int same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = prng_next(&a);
        ck_assert(x == prng_next(&b));
        if (x == prng_next(&c))
            same_ac++;
    }
    ck_assert_int_lt(same_ac, 2);

    /* Seed 0 still gives a working (non-stuck) generator. */
    struct prng z;
    prng_seed(&z, 0);
    uint64_t z1 = prng_next(&z), z2 = prng_next(&z);
    ck_assert(z1 != z2);
}
END_TEST

START_TEST(test_prng_ranges)
{
    struct prng p;
    prng_seed(&p, 7);
    ck_assert(prng_below(&p, 0) == 0);
    ck_assert(prng_below(&p, 1) == 0);

    /* Every value of [0, 10) is hit with roughly equal counts. */
    int counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t v = prng_below(&p, 10);
        ck_assert(v < 10);
        counts[v]++;
    }
    for (int i = 0; i < 10; i++)
        ck_assert_msg(counts[i] > 9300 && counts[i] < 10700, "bucket %d: %d", i, counts[i]);

    /* n = 2/3 of 2^64: a plain x % n would land in the lower half of [0, n) two times in
     * three; an unbiased draw lands there half the time. */
    uint64_t n = 0xAAAAAAAAAAAAAAAAULL;
    int lower = 0;
    for (int i = 0; i < 3000; i++) {
        uint64_t v = prng_below(&p, n);
        ck_assert(v < n);
        if (v < n / 2)
            lower++;
    }
    ck_assert_msg(lower > 1350 && lower < 1650, "lower half: %d of 3000", lower);

    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = prng_unit(&p);
        ck_assert(u >= 0.0 && u < 1.0);
        sum += u;
    }
    ck_assert(sum / 100000 > 0.49 && sum / 100000 < 0.51);
}
END_TEST

START_TEST(test_prng_seed_from_os)
{
    uint64_t a = prng_seed_from_os();
    uint64_t b = prng_seed_from_os();
    ck_assert(a != 0 && b != 0);
    ck_assert(a != b);
}
END_TEST

static Suite *clock_prng_suite(void)
{
    Suite *s = suite_create("clock_prng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_clock_running_and_null);
    tcase_add_test(tc, test_clock_freeze_advance_set_resume);
    tcase_add_test(tc, test_rfc3339);
    tcase_add_test(tc, test_prng_determinism);
    tcase_add_test(tc, test_prng_ranges);
    tcase_add_test(tc, test_prng_seed_from_os);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(clock_prng_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
