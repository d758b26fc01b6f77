/* Unit tests for the paths that skip OpenSSL 3.0's key encoder and decoder: public keys
 * written into certificates and CSRs from the key's parameters (x509_pubkey_encode) and
 * read back from them (x509_pubkey_decode), CSRs parsed without decoding their key
 * (csr_parse_der_keyless), leaves issued as PEM (ca_issue_pem) and chains built from the
 * stored leaf text (ca_chain_pem_text), and the load generator's check of a downloaded
 * certificate. Each must give what the slow path gives. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/csr.h"
#include "common/keys.h"
#include "common/pem.h"
#include "common/x509.h"
#include "mockca/ca.h"

/* leaf_plausible is static in bench.c. */
#include "../../client/bench.c"

static const enum key_type key_cases[] = {KEY_EC_P256, KEY_EC_P384, KEY_EC_P521, KEY_ED25519,
                                          KEY_RSA2048};

static EVP_PKEY *gen(enum key_type t)
{
    EVP_PKEY *k = NULL;

    ck_assert_int_eq(key_generate(t, &k), MC_OK);
    return k;
}

/* DER of a SubjectPublicKeyInfo, new buffer. */
static int spki_der(X509_PUBKEY *pub, unsigned char **der)
{
    int n = i2d_X509_PUBKEY(pub, der);

    ck_assert_int_gt(n, 0);
    return n;
}

/* The encoding is byte for byte OpenSSL's own (i2d_PUBKEY), and decodes to the same key. */
START_TEST(test_pubkey_encode_decode)
{
    EVP_PKEY *k = gen(key_cases[_i]), *back = NULL;
    X509_PUBKEY *pub = X509_PUBKEY_new();
    unsigned char *want = NULL, *got = NULL;
    int nwant, ngot;

    ck_assert_ptr_nonnull(pub);
    ck_assert_int_eq(x509_pubkey_encode(pub, k), MC_OK);
    nwant = i2d_PUBKEY(k, &want);
    ck_assert_int_gt(nwant, 0);
    ngot = spki_der(pub, &got);
    ck_assert_int_eq(ngot, nwant);
    ck_assert_mem_eq(got, want, (size_t)nwant);
    ck_assert_int_eq(x509_pubkey_decode(pub, &back), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(back, k), 1);
    OPENSSL_free(want);
    OPENSSL_free(got);
    EVP_PKEY_free(back);
    X509_PUBKEY_free(pub);
    EVP_PKEY_free(k);
}
END_TEST

/* A point off the curve, an Ed25519 key of the wrong length and an RSA key whose modulus
 * is not an INTEGER are refused, as the decoder refuses them. */
START_TEST(test_pubkey_decode_rejects)
{
    X509_PUBKEY *pub = X509_PUBKEY_new();
    EVP_PKEY *k = NULL;
    unsigned char *bits;
    /* SEQUENCE { OCTET STRING 01, INTEGER 3 }: not an RSAPublicKey. */
    static const unsigned char not_rsa[] = {0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x03};

    ck_assert_ptr_nonnull(pub);
    bits = OPENSSL_zalloc(65);
    bits[0] = 0x04; /* uncompressed (0, 0): not on P-256 */
    ck_assert_int_eq(X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                            V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1),
                                            bits, 65),
                     1);
    ck_assert_int_eq(x509_pubkey_decode(pub, &k), MC_ERR_INVALID);
    ck_assert_ptr_null(k);

    bits = OPENSSL_zalloc(31);
    ck_assert_int_eq(X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF, NULL,
                                            bits, 31),
                     1);
    ck_assert_int_eq(x509_pubkey_decode(pub, &k), MC_ERR_INVALID);

    bits = OPENSSL_memdup(not_rsa, sizeof(not_rsa));
    ck_assert_int_eq(X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL,
                                            NULL, bits, (int)sizeof(not_rsa)),
                     1);
    ck_assert_int_eq(x509_pubkey_decode(pub, &k), MC_ERR_INVALID);
    ck_assert_ptr_null(k);
    X509_PUBKEY_free(pub);
}
END_TEST

/* A CSR csr_build wrote verifies under OpenSSL's own parse; csr_read reads it as built and
 * as parsed either way, and a flipped signature bit fails the keyless path too. */
START_TEST(test_csr_keyless)
{
    EVP_PKEY *k = gen(key_cases[_i]);
    struct ident_list sans = {0};
    struct csr_info info;
    X509_REQ *req = NULL, *plain = NULL, *keyless = NULL;
    uint8_t *der = NULL;
    size_t n = 0;

    ck_assert_int_eq(ident_list_add(&sans, IDENT_DNS, "a.example"), MC_OK);
    ck_assert_int_eq(ident_list_add(&sans, IDENT_IP, "192.0.2.1"), MC_OK);
    ck_assert_int_eq(csr_build(k, "a.example", &sans, true, &req), MC_OK);
    ck_assert_int_eq(csr_read(req, &info), MC_OK); /* as built: key only encoded */
    ck_assert_int_eq(EVP_PKEY_eq(info.key, k), 1);
    csr_info_free(&info);
    ck_assert_int_eq(csr_to_der(req, &der, &n), MC_OK);

    ck_assert_int_eq(csr_parse_der(der, n, &plain), MC_OK);
    ck_assert_ptr_nonnull(X509_REQ_get0_pubkey(plain));
    ck_assert_int_eq(X509_REQ_verify(plain, X509_REQ_get0_pubkey(plain)), 1);

    ck_assert_int_eq(csr_parse_der_keyless(der, n, &keyless), MC_OK);
    ck_assert_ptr_null(X509_REQ_get0_pubkey(keyless));
    ck_assert_int_eq(csr_read(keyless, &info), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(info.key, k), 1);
    ck_assert_str_eq(info.cn, "a.example");
    ck_assert_uint_eq(info.sans.n, 2);
    ck_assert(info.must_staple);
    csr_info_free(&info);
    X509_REQ_free(keyless);
    keyless = NULL;

    der[n - 1] ^= 0x01; /* the signature's last byte */
    ck_assert_int_eq(csr_parse_der_keyless(der, n, &keyless), MC_OK);
    ck_assert_int_eq(csr_read(keyless, &info), MC_ERR_VERIFY);
    X509_REQ *none = NULL;
    ck_assert_int_eq(csr_parse_der_keyless(der, n - 1, &none), MC_ERR_INVALID);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(csr_parse_der_keyless((const uint8_t *)"hello", 5, &none), MC_ERR_INVALID);
    X509_REQ_free(req);

    X509_REQ_free(keyless);
    X509_REQ_free(plain);
    free(der);
    ident_list_free(&sans);
    EVP_PKEY_free(k);
}
END_TEST

/* ca_issue_pem's leaf carries the subject key, is signed by the issuing intermediate, and
 * its download chain from the stored text is the one ca_chain_pem builds from an X509. */
START_TEST(test_issue_pem_chain_text)
{
    struct ca_config cfg = {0};
    struct ca *ca = NULL;
    EVP_PKEY *k = gen(KEY_EC_P256);
    struct ident_list sans = {0};
    struct ca_issue_request r = {0};
    char *pem = NULL, *serial = NULL, *chain = NULL, *chain2 = NULL, *hex = NULL, *cut = NULL;
    X509 *leaf = NULL;
    STACK_OF(X509) *certs = NULL;

    cfg.chain_length = 2;
    cfg.alternate_roots = 1;
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_OK);
    ck_assert_int_eq(ident_list_add(&sans, IDENT_DNS, "pem.example"), MC_OK);
    r.public_key = k;
    r.sans = &sans;
    ck_assert_int_eq(ca_issue_pem(ca, &r, &pem, &serial), MC_OK);
    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &leaf), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), k), 1);
    ck_assert_int_eq(x509_serial_hex(leaf, &hex), MC_OK);
    ck_assert_str_eq(hex, serial);

    for (size_t c = 0; c < ca_chain_count(ca); c++) {
        ck_assert_int_eq(ca_chain_pem_text(ca, pem, c, &chain), MC_OK);
        ck_assert_int_eq(ca_chain_pem(ca, leaf, c, &chain2), MC_OK);
        ck_assert_str_eq(chain, chain2);
        ck_assert_int_eq(pem_read_certs(chain, strlen(chain), &certs), MC_OK);
        ck_assert_int_eq(sk_X509_num(certs), 3); /* leaf and two intermediates, no root */
        ck_assert_int_eq(X509_verify(sk_X509_value(certs, 0),
                                     X509_get0_pubkey(sk_X509_value(certs, 1))),
                         1);
        sk_X509_pop_free(certs, X509_free);
        certs = NULL;
        free(chain);
        free(chain2);
        chain = chain2 = NULL;
    }
    ck_assert_int_eq(ca_chain_pem_text(ca, pem, ca_chain_count(ca), &chain), MC_ERR_NOT_FOUND);
    cut = strdup(pem);
    cut[strlen(cut) - 1] = '\0'; /* no final newline: would glue two PEM lines */
    ck_assert_int_eq(ca_chain_pem_text(ca, cut, 0, &chain), MC_ERR_INVALID);
    ck_assert_ptr_null(chain);

    free(cut);
    free(hex);
    X509_free(leaf);
    free(pem);
    free(serial);
    ident_list_free(&sans);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

/* certcli bench counts a download as an issuance only when it holds a certificate. */
START_TEST(test_bench_leaf_check)
{
    struct ca_config cfg = {0};
    struct ca *ca = NULL;
    EVP_PKEY *k = gen(KEY_EC_P256);
    struct ident_list sans = {0};
    struct ca_issue_request r = {0};
    char *pem = NULL, *serial = NULL, *chain = NULL, *csr_pem = NULL, *bad = NULL;
    X509_REQ *req = NULL;

    ck_assert_int_eq(ca_new(&cfg, &ca), MC_OK);
    ck_assert_int_eq(ident_list_add(&sans, IDENT_DNS, "bench.example"), MC_OK);
    r.public_key = k;
    r.sans = &sans;
    ck_assert_int_eq(ca_issue_pem(ca, &r, &pem, &serial), MC_OK);
    ck_assert_int_eq(ca_chain_pem_text(ca, pem, 0, &chain), MC_OK);
    ck_assert(leaf_plausible(chain, strlen(chain)));
    ck_assert(leaf_plausible(pem, strlen(pem)));

    ck_assert(!leaf_plausible(NULL, 0));
    ck_assert(!leaf_plausible("garbage", 7));
    ck_assert(!leaf_plausible("<html>busy</html>\n", 18));
    /* A CSR is well-formed PEM but not a certificate. */
    ck_assert_int_eq(csr_build(k, NULL, &sans, false, &req), MC_OK);
    ck_assert_int_eq(pem_write_csr(req, &csr_pem), MC_OK);
    ck_assert(!leaf_plausible(csr_pem, strlen(csr_pem)));
    /* The certificate's DER cut short by ten bytes, in well-formed PEM. */
    X509 *leaf = NULL;
    unsigned char *der = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    BUF_MEM *mem = NULL;
    int n;
    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &leaf), MC_OK);
    n = i2d_X509(leaf, &der);
    ck_assert_int_gt(n, 10);
    ck_assert_int_gt(PEM_write_bio(b, PEM_STRING_X509, "", der, n - 10), 0);
    BIO_get_mem_ptr(b, &mem);
    bad = strndup(mem->data, mem->length);
    ck_assert(!leaf_plausible(bad, strlen(bad)));
    BIO_free(b);
    OPENSSL_free(der);
    X509_free(leaf);

    free(bad);
    free(csr_pem);
    X509_REQ_free(req);
    free(chain);
    free(pem);
    free(serial);
    ident_list_free(&sans);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

static Suite *spki_suite(void)
{
    Suite *s = suite_create("spki");
    TCase *tc = tcase_create("spki");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_pubkey_encode_decode, 0,
                        (int)(sizeof(key_cases) / sizeof(key_cases[0])));
    tcase_add_test(tc, test_pubkey_decode_rejects);
    tcase_add_loop_test(tc, test_csr_keyless, 0, (int)(sizeof(key_cases) / sizeof(key_cases[0])));
    tcase_add_test(tc, test_issue_pem_chain_text);
    tcase_add_test(tc, test_bench_leaf_check);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(spki_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
