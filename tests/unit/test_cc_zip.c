/* test_cc_zip.c: the stored-entry zip writer (mockca/cc/cc_zip.c), read back with libzip
 * (a test-only dependency): names, bytes and CRC-32s as a real unzip sees them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <zip.h>

#include "mockca/cc/cc_zip.h"

/* Reads entry name from za completely; libzip checks the CRC-32 at the end of the read
 * and fails it (ZIP_ER_CRC) on a mismatch. */
static void expect_entry(zip_t *za, const char *name, const void *want, size_t wlen)
{
    zip_stat_t st;
    zip_file_t *f;
    char *got = malloc(wlen + 16);
    zip_int64_t n, extra;
    ck_assert_ptr_nonnull(got);
    zip_stat_init(&st);
    ck_assert_int_eq(zip_stat(za, name, 0, &st), 0);
    ck_assert_uint_eq(st.size, wlen);
    ck_assert_uint_eq(st.comp_method, ZIP_CM_STORE);
    ck_assert_uint_eq(st.crc, cc_zip_crc32(0, want, wlen));
    f = zip_fopen(za, name, 0);
    ck_assert_ptr_nonnull(f);
    n = zip_fread(f, got, wlen);
    ck_assert_int_eq(n, (zip_int64_t)wlen);
    extra = zip_fread(f, got + wlen, 16); /* end of entry: where libzip checks the CRC */
    ck_assert_int_eq(extra, 0);
    ck_assert_int_eq(zip_fclose(f), 0);
    ck_assert_int_eq(memcmp(got, want, wlen), 0);
    free(got);
}

START_TEST(crc32_check_value)
{
    /* The CRC-32 check value of "123456789" (the catalogue's "CRC-32/ISO-HDLC"). */
    ck_assert_uint_eq(cc_zip_crc32(0, "123456789", 9), 0xCBF43926u);
    /* Continuing over a split input equals one pass. */
    ck_assert_uint_eq(cc_zip_crc32(cc_zip_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    ck_assert_uint_eq(cc_zip_crc32(0, "", 0), 0);
}
END_TEST

START_TEST(two_files_round_trip)
{
    const char *pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    uint8_t bin[300];
    struct cc_zip_entry e[2];
    uint8_t *z = NULL;
    size_t zl = 0;
    zip_error_t ze;
    zip_source_t *src;
    zip_t *za;
    zip_stat_t st;
    struct tm tm, want;
    time_t mt;

    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (uint8_t)(i * 7 + 3); /* every byte value, NULs included */
    e[0].name = "star_example_com.crt";
    e[0].data = pem;
    e[0].len = strlen(pem);
    e[1].name = "sub/DigiCertCA.bin";
    e[1].data = bin;
    e[1].len = sizeof(bin);
    /* An even second: it survives DOS time's 2-second steps exactly. */
    ck_assert_int_eq(cc_zip_build(e, 2, 1795512014, &z, &zl), MC_OK);
    ck_assert_ptr_nonnull(z);

    zip_error_init(&ze);
    src = zip_source_buffer_create(z, zl, 0, &ze);
    ck_assert_ptr_nonnull(src);
    za = zip_open_from_source(src, ZIP_CHECKCONS | ZIP_RDONLY, &ze);
    ck_assert_msg(za != NULL, "libzip: %s", zip_error_strerror(&ze));
    ck_assert_int_eq(zip_get_num_entries(za, 0), 2);
    ck_assert_str_eq(zip_get_name(za, 0, 0), "star_example_com.crt");
    ck_assert_str_eq(zip_get_name(za, 1, 0), "sub/DigiCertCA.bin");
    expect_entry(za, "star_example_com.crt", pem, strlen(pem));
    expect_entry(za, "sub/DigiCertCA.bin", bin, sizeof(bin));
    zip_stat_init(&st);
    ck_assert_int_eq(zip_stat_index(za, 0, 0, &st), 0);
    /* The DOS stamp holds the UTC fields of mtime; libzip reads DOS fields as local time,
     * so its time_t, broken down in local time, gives back those fields. */
    ck_assert(st.valid & ZIP_STAT_MTIME);
    mt = 1795512014;
    gmtime_r(&mt, &want);
    localtime_r(&st.mtime, &tm);
    ck_assert_int_eq(tm.tm_year, want.tm_year);
    ck_assert_int_eq(tm.tm_mon, want.tm_mon);
    ck_assert_int_eq(tm.tm_mday, want.tm_mday);
    ck_assert_int_eq(tm.tm_hour, want.tm_hour);
    ck_assert_int_eq(tm.tm_min, want.tm_min);
    ck_assert_int_eq(tm.tm_sec, want.tm_sec);
    zip_close(za); /* read-only: frees za and src */
    zip_error_fini(&ze);
    free(z);
}
END_TEST

START_TEST(empty_archive_and_refusals)
{
    struct cc_zip_entry e[2] = {{"a.txt", "x", 1}, {"a.txt", "y", 1}};
    uint8_t *z = NULL;
    size_t zl = 0;
    /* Zero entries: the end record alone, which libzip opens as an empty archive. */
    ck_assert_int_eq(cc_zip_build(NULL, 0, 0, &z, &zl), MC_OK);
    ck_assert_uint_eq(zl, 22);
    {
        zip_error_t ze;
        zip_source_t *src;
        zip_t *za;
        zip_error_init(&ze);
        src = zip_source_buffer_create(z, zl, 0, &ze);
        ck_assert_ptr_nonnull(src);
        za = zip_open_from_source(src, ZIP_CHECKCONS | ZIP_RDONLY, &ze);
        ck_assert_msg(za != NULL, "libzip: %s", zip_error_strerror(&ze));
        ck_assert_int_eq(zip_get_num_entries(za, 0), 0);
        zip_close(za);
        zip_error_fini(&ze);
    }
    free(z);
    ck_assert_int_eq(cc_zip_build(e, 2, 0, &z, &zl), MC_ERR_INVALID); /* duplicate */
    ck_assert_ptr_null(z);
    e[1].name = "../evil";
    ck_assert_int_eq(cc_zip_build(e, 2, 0, &z, &zl), MC_ERR_INVALID);
    e[1].name = "dir/../../evil";
    ck_assert_int_eq(cc_zip_build(e, 2, 0, &z, &zl), MC_ERR_INVALID);
    e[1].name = "/abs";
    ck_assert_int_eq(cc_zip_build(e, 2, 0, &z, &zl), MC_ERR_INVALID);
    e[1].name = "";
    ck_assert_int_eq(cc_zip_build(e, 2, 0, &z, &zl), MC_ERR_INVALID);
    ck_assert_int_eq(cc_zip_build(e, CC_ZIP_FILES_MAX + 1, 0, &z, &zl), MC_ERR_TOO_BIG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cc_zip");
    TCase *t = tcase_create("zip");
    tcase_add_test(t, crc32_check_value);
    tcase_add_test(t, two_files_round_trip);
    tcase_add_test(t, empty_archive_and_refusals);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
