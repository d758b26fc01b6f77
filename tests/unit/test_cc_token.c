/* test_cc_token.c: the AuthKey request token (CertCentral A10) against the published
 * vector, its shape (64 characters: a 14-digit timestamp and 50 base36 digits), and its
 * refusal of malformed timestamps. */
#include <ctype.h>
#include <string.h>

#include <check.h>

#include "mockca/cc/cc.h"

START_TEST(t_vector)
{
    char tok[65];
    ck_assert_int_eq(cc_request_token("someToken", "20240101000000", "some-token-value", tok), MC_OK);
    ck_assert_str_eq(tok, "20240101000000345q4ar5ij8cr65xnydd7vw1dimi5ukr0t28yk6zyv25zz6iaw");
}
END_TEST

START_TEST(t_shape)
{
    char tok[65];
    /* many keys: every token is 64 lowercase base36 characters after the timestamp, even
     * when the HMAC is small enough to need leading zeros */
    for (int i = 0; i < 200; i++) {
        char key[32];
        snprintf(key, sizeof(key), "key-%d", i);
        ck_assert_int_eq(cc_request_token(key, "20991231235959", "csr", tok), MC_OK);
        ck_assert_uint_eq(strlen(tok), 64);
        ck_assert(strncmp(tok, "20991231235959", 14) == 0);
        for (int k = 14; k < 64; k++)
            ck_assert(isdigit((unsigned char)tok[k]) || (tok[k] >= 'a' && tok[k] <= 'z'));
    }
    /* different CSRs, different tokens */
    char other[65];
    ck_assert_int_eq(cc_request_token("k", "20240101000000", "a", tok), MC_OK);
    ck_assert_int_eq(cc_request_token("k", "20240101000000", "b", other), MC_OK);
    ck_assert_str_ne(tok, other);
}
END_TEST

START_TEST(t_bad_timestamp)
{
    char tok[65];
    ck_assert_int_eq(cc_request_token("k", "2024010100000", "csr", tok), MC_ERR_INVALID);
    ck_assert_int_eq(cc_request_token("k", "2024010100000x", "csr", tok), MC_ERR_INVALID);
    ck_assert_int_eq(cc_request_token("k", "202401010000000", "csr", tok), MC_ERR_INVALID);
    ck_assert_int_eq(cc_request_token(NULL, "20240101000000", "csr", tok), MC_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cc_token");
    TCase *tc = tcase_create("token");
    tcase_add_test(tc, t_vector);
    tcase_add_test(tc, t_shape);
    tcase_add_test(tc, t_bad_timestamp);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
