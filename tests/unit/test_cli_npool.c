/* Unit tests of client/npool.c: the session's bounded nonce pool (FIFO, oldest dropped
 * when full, base64url-only nonces with a length cap). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/npool.h"
#include "testutil.h"

static void put_ok(struct npool *p, const char *n)
{
    ck_assert_int_eq(npool_put(p, n, strlen(n)), MC_OK);
}

static void take_is(struct npool *p, const char *want)
{
    char *got = NULL;
    ck_assert_int_eq(npool_take(p, &got), MC_OK);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_empty_take_is_not_found)
{
    struct npool p;
    char *got = (char *)"x";
    npool_init(&p);
    ck_assert_int_eq(npool_take(&p, &got), MC_ERR_NOT_FOUND);
    ck_assert_ptr_null(got);
    ck_assert_uint_eq(npool_count(&p), 0);
    npool_clear(&p);
    npool_clear(NULL);
}
END_TEST

START_TEST(test_fifo)
{
    struct npool p;
    npool_init(&p);
    put_ok(&p, "aaa");
    put_ok(&p, "bbb");
    put_ok(&p, "c-_9");
    ck_assert_uint_eq(npool_count(&p), 3);
    take_is(&p, "aaa");
    put_ok(&p, "ddd");
    take_is(&p, "bbb");
    take_is(&p, "c-_9");
    take_is(&p, "ddd");
    ck_assert_uint_eq(npool_count(&p), 0);
    npool_clear(&p);
}
END_TEST

START_TEST(test_full_drops_oldest)
{
    struct npool p;
    char buf[32];
    npool_init(&p);
    for (int i = 0; i < NPOOL_CAP + 5; i++) {
        snprintf(buf, sizeof buf, "n%d", i);
        put_ok(&p, buf);
        ck_assert_uint_le(npool_count(&p), NPOOL_CAP);
    }
    ck_assert_uint_eq(npool_count(&p), NPOOL_CAP);
    /* The newest NPOOL_CAP survive, oldest first. */
    for (int i = 5; i < NPOOL_CAP + 5; i++) {
        snprintf(buf, sizeof buf, "n%d", i);
        take_is(&p, buf);
    }
    npool_clear(&p);
}
END_TEST

START_TEST(test_rejects)
{
    struct {
        const char *v;
        size_t len;
        enum mc_err err;
    } t[] = {
        {"", 0, MC_ERR_INVALID},
        {"abc=", 4, MC_ERR_INVALID}, /* padding */
        {"ab+c", 4, MC_ERR_INVALID}, /* base64, not base64url */
        {"ab/c", 4, MC_ERR_INVALID},
        {"ab c", 4, MC_ERR_INVALID},
        {"ab\r\nX-Evil: 1", 13, MC_ERR_INVALID}, /* header smuggling */
        {"ab\"c", 4, MC_ERR_INVALID},            /* JSON smuggling */
        {"ab\0c", 4, MC_ERR_INVALID},            /* embedded NUL */
        {"\xc3\xa9t\xc3\xa9", 6, MC_ERR_INVALID},
    };
    struct npool p;
    npool_init(&p);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(npool_put(&p, t[i].v, t[i].len) == t[i].err, "case %zu", i);
    ck_assert_int_eq(npool_put(&p, NULL, 3), MC_ERR_INVALID);
    ck_assert_uint_eq(npool_count(&p), 0);

    char *huge = malloc(NPOOL_MAX_NONCE + 2);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'A', NPOOL_MAX_NONCE + 1);
    huge[NPOOL_MAX_NONCE + 1] = '\0';
    ck_assert_int_eq(npool_put(&p, huge, NPOOL_MAX_NONCE + 1), MC_ERR_TOO_BIG);
    ck_assert_int_eq(npool_put(&p, huge, NPOOL_MAX_NONCE), MC_OK); /* at the cap: fine */
    ck_assert_uint_eq(npool_count(&p), 1);
    free(huge);
    npool_clear(&p);
    ck_assert_uint_eq(npool_count(&p), 0);
}
END_TEST

START_TEST(test_not_nul_terminated)
{
    /* Header values arrive as (pointer, length) slices of a larger line. */
    const char line[] = "abcdef\r\n";
    struct npool p;
    npool_init(&p);
    ck_assert_int_eq(npool_put(&p, line, 6), MC_OK);
    take_is(&p, "abcdef");
    npool_clear(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_npool");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_empty_take_is_not_found);
    tcase_add_test(tc, test_fifo);
    tcase_add_test(tc, test_full_drops_oldest);
    tcase_add_test(tc, test_rejects);
    tcase_add_test(tc, test_not_nul_terminated);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
