/* Unit tests of common/b64url.c: RFC 4648 section 10 vectors in the url alphabet, the
 * RFC 7515 appendix C example, and every way an encoding can be refused. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "common/b64url.h"

static const struct {
    const char *plain;
    const char *enc;
} vectors[] = {
    /* RFC 4648 section 10, padding removed. */
    {"", ""},         {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

START_TEST(test_rfc4648_vectors)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char *enc = NULL;
        uint8_t *dec = NULL;
        size_t n = 0;
        size_t plen = strlen(vectors[i].plain);
        ck_assert_int_eq(b64url_encode((const uint8_t *)vectors[i].plain, plen, &enc), MC_OK);
        ck_assert_str_eq(enc, vectors[i].enc);
        ck_assert_uint_eq(b64url_encoded_len(plen), strlen(vectors[i].enc));
        ck_assert_int_eq(b64url_decode(enc, strlen(enc), &dec, &n), MC_OK);
        ck_assert_uint_eq(n, plen);
        ck_assert_mem_eq(dec, vectors[i].plain, n);
        free(enc);
        free(dec);
    }
}
END_TEST

START_TEST(test_rfc7515_appendix_c)
{
    /* RFC 7515 appendix C: octets 3 236 255 224 193 encode to "A-z_4ME". */
    const uint8_t octets[] = {3, 236, 255, 224, 193};
    char *enc = NULL;
    uint8_t *dec = NULL;
    size_t n = 0;
    ck_assert_int_eq(b64url_encode(octets, sizeof(octets), &enc), MC_OK);
    ck_assert_str_eq(enc, "A-z_4ME");
    ck_assert_int_eq(b64url_decode("A-z_4ME", 7, &dec, &n), MC_OK);
    ck_assert_uint_eq(n, sizeof(octets));
    ck_assert_mem_eq(dec, octets, n);
    free(enc);
    free(dec);
}
END_TEST

START_TEST(test_all_byte_values_round_trip)
{
    uint8_t all[256];
    for (size_t i = 0; i < sizeof(all); i++)
        all[i] = (uint8_t)i;
    for (size_t len = 0; len <= sizeof(all); len += 17) {
        char *enc = NULL;
        uint8_t *dec = NULL;
        size_t n = 0;
        ck_assert_int_eq(b64url_encode(all, len, &enc), MC_OK);
        ck_assert(b64url_is_alphabet(enc, strlen(enc)));
        ck_assert_int_eq(b64url_decode(enc, strlen(enc), &dec, &n), MC_OK);
        ck_assert_uint_eq(n, len);
        ck_assert_mem_eq(dec, all, len);
        free(enc);
        free(dec);
    }
}
END_TEST

START_TEST(test_rejects)
{
    static const char *bad[] = {
        "Zg==",     /* padding */
        "Zm9v+g",   /* standard alphabet '+' */
        "Zm9v/g",   /* standard alphabet '/' */
        "Zm9 v",    /* whitespace */
        "Zm9v\n",   /* newline */
        "Z",        /* length 1 mod 4 */
        "Zm9vY",    /* length 1 mod 4 */
        "Zh",       /* "f" is "Zg": 'h' leaves a non-zero unused bit */
        "Zm9",      /* "fo" is "Zm8": '9' leaves non-zero unused bits */
        "Zm9v\x80", /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t *dec = (uint8_t *)"sentinel";
        size_t n = 99;
        ck_assert_msg(b64url_decode(bad[i], strlen(bad[i]), &dec, &n) == MC_ERR_INVALID,
                      "accepted %s", bad[i]);
        ck_assert_ptr_null(dec);
        ck_assert_uint_eq(n, 0);
    }
    ck_assert(!b64url_is_alphabet("abc.def", 7));
    ck_assert(b64url_is_alphabet("abc-_DEF09", 10));
}
END_TEST

START_TEST(test_decode_not_nul_terminated)
{
    /* Only in[0..n) is read: the trailing '!' is outside the range. */
    const char buf[] = {'Z', 'm', '9', 'v', '!'};
    uint8_t *dec = NULL;
    size_t n = 0;
    ck_assert_int_eq(b64url_decode(buf, 4, &dec, &n), MC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(dec, "foo", 3);
    ck_assert_uint_eq(dec[3], 0);
    free(dec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("b64url");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rfc4648_vectors);
    tcase_add_test(tc, test_rfc7515_appendix_c);
    tcase_add_test(tc, test_all_byte_values_round_trip);
    tcase_add_test(tc, test_rejects);
    tcase_add_test(tc, test_decode_not_nul_terminated);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
