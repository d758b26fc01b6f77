/* Unit tests for common/file.c and common/pem.c. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/file.h"
#include "common/pem.h"

static char tmpdir[256];

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/mc_file_XXXXXX", base != NULL ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    /* Only the few files these tests create; bounded. */
    DIR *d = opendir(tmpdir);
    if (d != NULL) {
        struct dirent *de;
        int n = 0;
        while ((de = readdir(d)) != NULL && n++ < 100) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
            if (rmdir(p) != 0)
                unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 100) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

START_TEST(test_atomic_write_and_read)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/out.txt", tmpdir);
    ck_assert_int_eq(file_write_atomic(path, "first version\n", 14, 0644), MC_OK);
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(file_read_all(path, 1024, &buf, &len), MC_OK);
    ck_assert_uint_eq(len, 14);
    ck_assert_str_eq(buf, "first version\n");
    free(buf);

    /* Replaced, with the new mode, and no temporary left behind. */
    ck_assert_int_eq(file_write_atomic(path, "v2", 2, 0600), MC_OK);
    ck_assert_int_eq(file_read_all(path, 1024, &buf, &len), MC_OK);
    ck_assert_uint_eq(len, 2);
    ck_assert_str_eq(buf, "v2");
    free(buf);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(dir_entries(tmpdir), 1);

    /* Empty content is a valid file, read back as "". */
    ck_assert_int_eq(file_write_atomic(path, NULL, 0, 0640), MC_OK);
    ck_assert_int_eq(file_read_all(path, 1024, &buf, &len), MC_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(buf, "");
    free(buf);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
}
END_TEST

START_TEST(test_atomic_write_failure_leaves_nothing)
{
    char path[512];
    /* The target is a directory: rename fails, the directory stays, no temporary remains. */
    snprintf(path, sizeof(path), "%s/sub", tmpdir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(file_write_atomic(path, "x", 1, 0600), MC_ERR_IO);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(dir_entries(tmpdir), 1);

    /* A directory that does not exist. */
    snprintf(path, sizeof(path), "%s/nodir/f", tmpdir);
    ck_assert_int_eq(file_write_atomic(path, "x", 1, 0600), MC_ERR_IO);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_read_caps)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/cap.bin", tmpdir);
    char data[300];
    memset(data, 'z', sizeof(data));
    ck_assert_int_eq(file_write_atomic(path, data, sizeof(data), 0600), MC_OK);
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(file_read_all(path, 300, &buf, &len), MC_OK); /* exactly the cap */
    ck_assert_uint_eq(len, 300);
    free(buf);
    buf = NULL;
    ck_assert_int_eq(file_read_all(path, 299, &buf, &len), MC_ERR_TOO_BIG);
    ck_assert_ptr_null(buf);

    snprintf(path, sizeof(path), "%s/absent", tmpdir);
    ck_assert_int_eq(file_read_all(path, 100, &buf, &len), MC_ERR_NOT_FOUND);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(file_read_all(tmpdir, 100, &buf, &len), MC_ERR_IO);

    /* A file whose size stat does not report: the cap still holds. */
    ck_assert_int_eq(file_read_all("/proc/self/status", 10, &buf, &len), MC_ERR_TOO_BIG);
    ck_assert_int_eq(file_read_all("/proc/self/status", 1 << 20, &buf, &len), MC_OK);
    ck_assert(len > 10);
    free(buf);
}
END_TEST

static EVP_PKEY *gen_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(k);
    return k;
}

static X509 *self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *c = X509_new();
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(X509_set_version(c, 2), 1);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(c), 4242), 1);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(c), 0));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(c), 86400));
    X509_NAME *name = X509_get_subject_name(c);
    ck_assert_int_eq(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
        1);
    ck_assert_int_eq(X509_set_issuer_name(c, name), 1);
    ck_assert_int_eq(X509_set_pubkey(c, key), 1);
    ck_assert(X509_sign(c, key, EVP_sha256()) > 0);
    return c;
}

START_TEST(test_pem_key_round_trip)
{
    EVP_PKEY *k = gen_key();
    char *priv = NULL, *pub = NULL;
    ck_assert_int_eq(pem_write_private_key(k, &priv), MC_OK);
    ck_assert_ptr_nonnull(strstr(priv, "-----BEGIN PRIVATE KEY-----")); /* PKCS#8 */
    ck_assert_int_eq(pem_write_public_key(k, &pub), MC_OK);
    ck_assert_ptr_nonnull(strstr(pub, "-----BEGIN PUBLIC KEY-----"));

    EVP_PKEY *k2 = NULL, *p2 = NULL;
    ck_assert_int_eq(pem_read_private_key(priv, strlen(priv), &k2), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(k, k2), 1);
    ck_assert_int_eq(pem_read_public_key(pub, strlen(pub), &p2), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(k, p2), 1);

    /* Only len bytes count: the text need not be NUL-terminated. */
    size_t n = strlen(priv);
    char *copy = malloc(n + 5);
    memcpy(copy, priv, n);
    memcpy(copy + n, "\xff\xff\xff\xff\xff", 5);
    EVP_PKEY *k3 = NULL;
    ck_assert_int_eq(pem_read_private_key(copy, n, &k3), MC_OK);
    EVP_PKEY_free(k3);
    free(copy);

    /* A public key is not a private key. */
    EVP_PKEY *bad = NULL;
    ck_assert_int_eq(pem_read_private_key(pub, strlen(pub), &bad), MC_ERR_INVALID);
    ck_assert_ptr_null(bad);
    ck_assert(ERR_peek_error() == 0);

    /* An encrypted key is refused, never a passphrase prompt. */
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(
        PEM_write_bio_PrivateKey(b, k, EVP_aes_128_cbc(), (unsigned char *)"pw", 2, NULL, NULL), 1);
    char *enc = NULL;
    long elen = BIO_get_mem_data(b, &enc);
    ck_assert_int_eq(pem_read_private_key(enc, (size_t)elen, &bad), MC_ERR_INVALID);
    ck_assert(ERR_peek_error() == 0);
    BIO_free(b);

    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(p2);
    free(priv);
    free(pub);
}
END_TEST

START_TEST(test_pem_cert_round_trip_and_chain)
{
    EVP_PKEY *k = gen_key();
    X509 *c1 = self_signed(k, "one.example");
    X509 *c2 = self_signed(k, "two.example");
    char *p1 = NULL, *p2 = NULL;
    ck_assert_int_eq(pem_write_cert(c1, &p1), MC_OK);
    ck_assert_int_eq(pem_write_cert(c2, &p2), MC_OK);
    ck_assert_ptr_nonnull(strstr(p1, "-----BEGIN CERTIFICATE-----"));

    X509 *r1 = NULL;
    ck_assert_int_eq(pem_read_cert(p1, strlen(p1), &r1), MC_OK);
    ck_assert_int_eq(X509_cmp(c1, r1), 0);
    ck_assert_int_eq(X509_verify(r1, k), 1);
    X509_free(r1);

    size_t l1 = strlen(p1), l2 = strlen(p2);
    char *chain = malloc(l1 + l2 + 1);
    memcpy(chain, p1, l1);
    memcpy(chain + l1, p2, l2 + 1);
    STACK_OF(X509) *sk = NULL;
    ck_assert_int_eq(pem_read_certs(chain, l1 + l2, &sk), MC_OK);
    ck_assert_int_eq(sk_X509_num(sk), 2);
    ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 0), c1), 0);
    ck_assert_int_eq(X509_cmp(sk_X509_value(sk, 1), c2), 0);
    sk_X509_pop_free(sk, X509_free);

    /* pem_read_cert takes the first of a chain. */
    ck_assert_int_eq(pem_read_cert(chain, l1 + l2, &r1), MC_OK);
    ck_assert_int_eq(X509_cmp(c1, r1), 0);
    X509_free(r1);

    /* A chain whose second block is cut short is not a chain of one. */
    sk = NULL;
    ck_assert_int_eq(pem_read_certs(chain, l1 + l2 / 2, &sk), MC_ERR_INVALID);
    ck_assert_ptr_null(sk);
    ck_assert(ERR_peek_error() == 0);
    ck_assert_int_eq(pem_read_certs("no pem here", 11, &sk), MC_ERR_INVALID);

    free(chain);
    free(p1);
    free(p2);
    X509_free(c1);
    X509_free(c2);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_pem_csr_round_trip)
{
    EVP_PKEY *k = gen_key();
    X509_REQ *req = X509_REQ_new();
    ck_assert_ptr_nonnull(req);
    X509_NAME *name = X509_REQ_get_subject_name(req);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"csr.example", -1, -1, 0),
                     1);
    ck_assert_int_eq(X509_REQ_set_pubkey(req, k), 1);
    ck_assert(X509_REQ_sign(req, k, EVP_sha256()) > 0);

    char *pem = NULL;
    ck_assert_int_eq(pem_write_csr(req, &pem), MC_OK);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN CERTIFICATE REQUEST-----"));
    X509_REQ *r2 = NULL;
    ck_assert_int_eq(pem_read_csr(pem, strlen(pem), &r2), MC_OK);
    ck_assert_int_eq(X509_REQ_verify(r2, k), 1);
    char cn[64];
    ck_assert(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(r2), NID_commonName, cn,
                                        sizeof(cn)) > 0);
    ck_assert_str_eq(cn, "csr.example");
    X509_REQ_free(r2);

    /* A CSR is not a certificate. */
    X509 *c = NULL;
    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &c), MC_ERR_INVALID);
    ck_assert_ptr_null(c);

    free(pem);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_pem_bad_input)
{
    EVP_PKEY *k = NULL;
    X509 *c = NULL;
    X509_REQ *r = NULL;
    const char *garbage = "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n"
                          "-----END CERTIFICATE-----\n";
    ck_assert_int_eq(pem_read_cert(garbage, strlen(garbage), &c), MC_ERR_INVALID);
    ck_assert_int_eq(pem_read_private_key("hello", 5, &k), MC_ERR_INVALID);
    ck_assert_int_eq(pem_read_public_key("", 0, &k), MC_ERR_INVALID);
    ck_assert_int_eq(pem_read_csr(garbage, strlen(garbage), &r), MC_ERR_INVALID);
    ck_assert(ERR_peek_error() == 0);

    /* Truncated: a real key cut in the middle of its base64. */
    EVP_PKEY *g = gen_key();
    char *priv = NULL;
    ck_assert_int_eq(pem_write_private_key(g, &priv), MC_OK);
    ck_assert_int_eq(pem_read_private_key(priv, strlen(priv) / 2, &k), MC_ERR_INVALID);
    ck_assert_ptr_null(k);
    ck_assert(ERR_peek_error() == 0);

    /* Over the cap, even when the PEM inside is fine. */
    size_t big = PEM_MAX_LEN + 1;
    char *buf = malloc(big);
    memset(buf, '\n', big);
    memcpy(buf, priv, strlen(priv));
    ck_assert_int_eq(pem_read_private_key(buf, big, &k), MC_ERR_TOO_BIG);
    ck_assert_int_eq(pem_read_cert(buf, big, &c), MC_ERR_TOO_BIG);
    ck_assert_int_eq(pem_read_csr(buf, big, &r), MC_ERR_TOO_BIG);
    ck_assert_int_eq(pem_read_private_key(buf, PEM_MAX_LEN, &k), MC_OK); /* at the cap */
    EVP_PKEY_free(k);
    free(buf);
    free(priv);
    EVP_PKEY_free(g);
}
END_TEST

static Suite *file_pem_suite(void)
{
    Suite *s = suite_create("file_pem");
    TCase *tf = tcase_create("file");
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_test(tf, test_atomic_write_and_read);
    tcase_add_test(tf, test_atomic_write_failure_leaves_nothing);
    tcase_add_test(tf, test_read_caps);
    suite_add_tcase(s, tf);
    TCase *tp = tcase_create("pem");
    tcase_add_test(tp, test_pem_key_round_trip);
    tcase_add_test(tp, test_pem_cert_round_trip_and_chain);
    tcase_add_test(tp, test_pem_csr_round_trip);
    tcase_add_test(tp, test_pem_bad_input);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(file_pem_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
