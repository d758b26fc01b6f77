/* Unit tests for common/ari.c: the RFC 9773 section 4.1 certificate identifier, against
 * the RFC's own example and certificates made here with OpenSSL. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/ari.h"
#include "common/keys.h"
#include "common/pem.h"
#include "common/x509.h"

/* RFC 9773 section 4.1: keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:
 * 01:C8:D4 and serial 0x87654321 (DER content 00 87 65 43 21) give this identifier. */
static const char rfc_id[] = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
static const uint8_t rfc_aki[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                                  0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
static const uint8_t rfc_serial[] = {0x00, 0x87, 0x65, 0x43, 0x21};

/* RFC 9773 Appendix A: the example certificate the section 4.1 identifier is taken from. */
static const char rfc_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt\n"
    "cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS\n"
    "BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu\n"
    "7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf\n"
    "qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B\n"
    "yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb\n"
    "+FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK\n"
    "-----END CERTIFICATE-----\n";

START_TEST(test_rfc_example_parse)
{
    uint8_t *aki = NULL, *serial = NULL;
    size_t an = 0, sn = 0;
    char *hex = NULL;

    ck_assert_int_eq(ari_parse_id(rfc_id, &aki, &an, &serial, &sn), MC_OK);
    ck_assert_uint_eq(an, sizeof(rfc_aki));
    ck_assert_mem_eq(aki, rfc_aki, an);
    ck_assert_uint_eq(sn, sizeof(rfc_serial));
    ck_assert_mem_eq(serial, rfc_serial, sn);
    ck_assert_int_eq(ari_serial_hex(serial, sn, &hex), MC_OK);
    ck_assert_str_eq(hex, "87654321");
    free(aki);
    free(serial);
    free(hex);
}
END_TEST

START_TEST(test_rfc_example_cert)
{
    X509 *x = NULL;
    char *id = NULL, *hex_a = NULL, *hex_b = NULL;

    ck_assert_int_eq(pem_read_cert(rfc_cert_pem, strlen(rfc_cert_pem), &x), MC_OK);
    ck_assert_int_eq(ari_cert_id(x, &id), MC_OK);
    ck_assert_str_eq(id, rfc_id);
    ck_assert_int_eq(x509_serial_hex(x, &hex_a), MC_OK);
    ck_assert_int_eq(ari_serial_hex(rfc_serial, sizeof(rfc_serial), &hex_b), MC_OK);
    ck_assert_str_eq(hex_a, hex_b);
    free(id);
    free(hex_a);
    free(hex_b);
    X509_free(x);
}
END_TEST

/* ---- certificates made here ---- */

static EVP_PKEY *issuer_key;
static X509 *issuer;

static void add_ext(X509 *x, X509 *iss, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, iss, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

static X509 *new_cert(const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();

    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_set_version(x, X509_VERSION_3), 1);
    ck_assert_int_eq(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
        1);
    ck_assert_int_eq(X509_set_subject_name(x, name), 1);
    X509_NAME_free(name);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
    ck_assert_int_eq(X509_set_pubkey(x, issuer_key), 1);
    return x;
}

static void setup(void)
{
    ASN1_INTEGER *one = ASN1_INTEGER_new();

    ck_assert_int_eq(key_generate(KEY_EC_P256, &issuer_key), MC_OK);
    issuer = new_cert("ari test issuer");
    ck_assert_int_eq(ASN1_INTEGER_set_int64(one, 1), 1);
    ck_assert_int_eq(X509_set_serialNumber(issuer, one), 1);
    ASN1_INTEGER_free(one);
    ck_assert_int_eq(X509_set_issuer_name(issuer, X509_get_subject_name(issuer)), 1);
    add_ext(issuer, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(issuer, issuer, NID_subject_key_identifier, "hash");
    ck_assert_int_gt(X509_sign(issuer, issuer_key, EVP_sha256()), 0);
}

static void teardown(void)
{
    X509_free(issuer);
    EVP_PKEY_free(issuer_key);
    issuer = NULL;
    issuer_key = NULL;
}

/* A leaf signed by issuer with serial given as big-endian magnitude bytes (or the
 * ASN1_INTEGER ai when not NULL), with an AKI keyIdentifier when with_aki. */
static X509 *make_leaf(const uint8_t *mag, size_t n, ASN1_INTEGER *ai, bool with_aki)
{
    X509 *x = new_cert("leaf.example");

    if (ai == NULL) {
        BIGNUM *bn = BN_bin2bn(mag, (int)n, NULL);
        ck_assert_ptr_nonnull(bn);
        ai = BN_to_ASN1_INTEGER(bn, NULL);
        ck_assert_ptr_nonnull(ai);
        BN_free(bn);
        ck_assert_int_eq(X509_set_serialNumber(x, ai), 1);
        ASN1_INTEGER_free(ai);
    } else {
        ck_assert_int_eq(X509_set_serialNumber(x, ai), 1);
    }
    ck_assert_int_eq(X509_set_issuer_name(x, X509_get_subject_name(issuer)), 1);
    if (with_aki)
        add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    ck_assert_int_gt(X509_sign(x, issuer_key, EVP_sha256()), 0);
    return x;
}

static const struct {
    uint8_t mag[20];
    size_t n;
    uint8_t der[21]; /* the expected serial octets of the identifier */
    size_t der_n;
    const char *serial_b64;
    const char *hex;
} serial_cases[] = {
    {{0x01}, 1, {0x01}, 1, "AQ", "1"},
    {{0x7f}, 1, {0x7f}, 1, "fw", "7f"},
    {{0x80}, 1, {0x00, 0x80}, 2, "AIA", "80"},
    {{0x87, 0x65, 0x43, 0x21}, 4, {0x00, 0x87, 0x65, 0x43, 0x21}, 5, "AIdlQyE", "87654321"},
    {{0x0a, 0xbc}, 2, {0x0a, 0xbc}, 2, "Crw", "abc"},
    {{0x40, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
      0x0f},
     16,
     {0x40, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
      0x0f},
     16,
     "QAECAwQFBgcICQoLDA0ODw",
     "400102030405060708090a0b0c0d0e0f"},
    /* 20 octets with the high bit: the most RFC 5280 allows, plus the sign octet. */
    {{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66,
      0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x01, 0x02, 0x03, 0x04},
     20,
     {0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66,
      0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x01, 0x02, 0x03, 0x04},
     21,
     "AP_u3cy7qpmId2ZVRDMiEQABAgME",
     "ffeeddccbbaa9988776655443322110001020304"},
};

START_TEST(test_cert_round_trip)
{
    X509 *x = make_leaf(serial_cases[_i].mag, serial_cases[_i].n, NULL, true);
    uint8_t *want_aki = NULL, *aki = NULL, *serial = NULL;
    size_t want_an = 0, an = 0, sn = 0;
    char *id = NULL, *hex = NULL, *xhex = NULL;
    const char *dot;

    ck_assert_int_eq(ari_cert_id(x, &id), MC_OK);
    ck_assert_int_eq(x509_aki(x, &want_aki, &want_an), MC_OK);
    ck_assert_int_eq(x509_ski(issuer, &aki, &an), MC_OK);
    ck_assert_uint_eq(an, want_an); /* the AKI we set is the issuer's SKI */
    ck_assert_mem_eq(aki, want_aki, an);
    free(aki);
    aki = NULL;
    dot = strchr(id, '.');
    ck_assert_ptr_nonnull(dot);
    ck_assert_str_eq(dot + 1, serial_cases[_i].serial_b64);

    ck_assert_int_eq(ari_parse_id(id, &aki, &an, &serial, &sn), MC_OK);
    ck_assert_uint_eq(an, want_an);
    ck_assert_mem_eq(aki, want_aki, an);
    ck_assert_uint_eq(sn, serial_cases[_i].der_n);
    ck_assert_mem_eq(serial, serial_cases[_i].der, sn);

    ck_assert_int_eq(ari_serial_hex(serial, sn, &hex), MC_OK);
    ck_assert_int_eq(x509_serial_hex(x, &xhex), MC_OK);
    ck_assert_str_eq(hex, xhex);
    ck_assert_str_eq(hex, serial_cases[_i].hex);
    free(want_aki);
    free(aki);
    free(serial);
    free(id);
    free(hex);
    free(xhex);
    X509_free(x);
}
END_TEST

START_TEST(test_random_serials_match_x509)
{
    /* Random serials, high bit set in half of them: the identifier's serial always
     * round-trips to the hex x509_serial_hex gives. Bounded: 64 certificates. */
    for (int k = 0; k < 64; k++) {
        uint8_t mag[16];
        X509 *x;
        uint8_t *aki = NULL, *serial = NULL;
        size_t an = 0, sn = 0;
        char *id = NULL, *hex = NULL, *xhex = NULL;

        ck_assert_int_eq(RAND_bytes(mag, sizeof(mag)), 1);
        mag[0] = (uint8_t)((k & 1) ? (mag[0] | 0x80) : ((mag[0] & 0x7f) | 0x01));
        x = make_leaf(mag, sizeof(mag), NULL, true);
        ck_assert_int_eq(ari_cert_id(x, &id), MC_OK);
        ck_assert_int_eq(ari_parse_id(id, &aki, &an, &serial, &sn), MC_OK);
        ck_assert_uint_eq(sn, (k & 1) ? 17 : 16);
        ck_assert_mem_eq(serial + sn - 16, mag, 16);
        ck_assert_int_eq(ari_serial_hex(serial, sn, &hex), MC_OK);
        ck_assert_int_eq(x509_serial_hex(x, &xhex), MC_OK);
        ck_assert_str_eq(hex, xhex);
        free(aki);
        free(serial);
        free(id);
        free(hex);
        free(xhex);
        X509_free(x);
    }
}
END_TEST

START_TEST(test_no_aki)
{
    static const uint8_t mag[] = {0x12, 0x34};
    X509 *x = make_leaf(mag, sizeof(mag), NULL, false);
    char *id = (char *)"untouched";

    ck_assert_int_eq(ari_cert_id(x, &id), MC_ERR_NOT_FOUND);
    ck_assert_ptr_null(id);
    X509_free(x);
    /* The self-signed issuer has an SKI but no AKI. */
    ck_assert_int_eq(ari_cert_id(issuer, &id), MC_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_nonpositive_serial)
{
    /* RFC 5280 section 4.1.2.2 serials are positive; a negative or zero one would give an
     * identifier ari_parse_id refuses, so there is none. */
    ASN1_INTEGER *ai = ASN1_INTEGER_new();
    X509 *x;
    char *id = NULL;

    ck_assert_int_eq(ASN1_INTEGER_set_int64(ai, -5), 1);
    x = make_leaf(NULL, 0, ai, true);
    ck_assert_int_eq(ari_cert_id(x, &id), MC_ERR_INVALID);
    ck_assert_ptr_null(id);
    X509_free(x);
    ck_assert_int_eq(ASN1_INTEGER_set_int64(ai, 0), 1);
    x = make_leaf(NULL, 0, ai, true);
    ck_assert_int_eq(ari_cert_id(x, &id), MC_ERR_INVALID);
    X509_free(x);
    ASN1_INTEGER_free(ai);
}
END_TEST

/* ---- parse rejects ---- */

static void expect_invalid(const char *id)
{
    uint8_t *aki = (uint8_t *)"x", *serial = (uint8_t *)"x";
    size_t an = 7, sn = 7;

    ck_assert_msg(ari_parse_id(id, &aki, &an, &serial, &sn) == MC_ERR_INVALID, "accepted %s",
                  id != NULL ? id : "(null)");
    ck_assert_ptr_null(aki);
    ck_assert_ptr_null(serial);
    ck_assert_uint_eq(an, 0);
    ck_assert_uint_eq(sn, 0);
}

static void expect_ok(const char *id)
{
    uint8_t *aki = NULL, *serial = NULL;
    size_t an = 0, sn = 0;

    ck_assert_msg(ari_parse_id(id, &aki, &an, &serial, &sn) == MC_OK, "refused %s", id);
    free(aki);
    free(serial);
}

START_TEST(test_parse_rejects)
{
    static const char *const bad[] = {
        "aYhba4dGQEHhs3uEe6CuLN4ByNQAIdlQyE",   /* no dot */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl.QyE", /* two dots */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ..AIdlQyE", /* two dots, adjacent */
        ".AIdlQyE",                             /* empty AKI */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.",         /* empty serial */
        ".",
        "",
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE", /* padding */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE=",
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE==",
        "aYhba4dGQEHhs3uEe6CuLN4ByN+.AIdlQyE", /* base64, not base64url */
        "aYhba4dGQEHhs3uEe6CuLN4ByN/.AIdlQyE",
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl QyE", /* space */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\n",
        "aYhba4dGQEHhs3uEe6CuLN4ByNR.AIdlQyE", /* non-zero unused bits */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQ",   /* length 1 mod 4 */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAE",     /* serial 00 01: needless leading zero */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAAB",    /* serial 00 00 01 */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.gA",      /* serial 80: high bit without 00 */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.h2VDIQ",  /* serial 87 65 43 21 without 00 */
        "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AA",      /* serial 00: zero */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid(bad[i]);
    expect_invalid(NULL);

    /* The accepted neighbours of some of the above. */
    expect_ok("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AQ");  /* serial 01 */
    expect_ok("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIA"); /* serial 00 80 */
    expect_ok("aYhba4dGQEHhs3uEe6CuLN4ByNQ.fw");  /* serial 7f */
}
END_TEST

START_TEST(test_parse_length_cap)
{
    /* 252 'A' (189 zero octets of AKI) then ".AQI" is exactly ARI_ID_MAX; ".AQID" is one
     * over, with both parts still valid base64url. */
    char id[ARI_ID_MAX + 64];

    ck_assert_int_eq(ARI_ID_MAX, 256);
    memset(id, 'A', 252);
    memcpy(id + 252, ".AQI", 5);
    ck_assert_uint_eq(strlen(id), ARI_ID_MAX);
    expect_ok(id);
    memcpy(id + 252, ".AQID", 6);
    ck_assert_uint_eq(strlen(id), ARI_ID_MAX + 1);
    expect_invalid(id);
    /* Much longer, too. */
    memset(id, 'A', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    id[4] = '.';
    expect_invalid(id);
}
END_TEST

START_TEST(test_serial_hex)
{
    static const struct {
        uint8_t b[6];
        size_t n;
        const char *hex;
    } cases[] = {
        {{0x01}, 1, "1"},          {{0x00, 0x80}, 2, "80"},
        {{0x0a, 0xbc}, 2, "abc"},  {{0x00, 0x87, 0x65, 0x43, 0x21}, 5, "87654321"},
        {{0x10, 0x00}, 2, "1000"}, {{0x00}, 1, "0"},
    };
    char *hex = NULL;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(ari_serial_hex(cases[i].b, cases[i].n, &hex), MC_OK);
        ck_assert_str_eq(hex, cases[i].hex);
        free(hex);
        hex = NULL;
    }
    ck_assert_int_eq(ari_serial_hex(cases[0].b, 0, &hex), MC_ERR_INVALID);
    ck_assert_ptr_null(hex);
}
END_TEST

static Suite *ari_suite(void)
{
    Suite *s = suite_create("ari");
    TCase *tc = tcase_create("rfc");

    tcase_add_test(tc, test_rfc_example_parse);
    tcase_add_test(tc, test_rfc_example_cert);
    tcase_add_test(tc, test_parse_rejects);
    tcase_add_test(tc, test_parse_length_cap);
    tcase_add_test(tc, test_serial_hex);
    suite_add_tcase(s, tc);

    tc = tcase_create("certs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_cert_round_trip, 0,
                        (int)(sizeof(serial_cases) / sizeof(serial_cases[0])));
    tcase_add_test(tc, test_random_serials_match_x509);
    tcase_add_test(tc, test_no_aki);
    tcase_add_test(tc, test_nonpositive_serial);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ari_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
