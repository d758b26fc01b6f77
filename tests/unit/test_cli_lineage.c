/* Unit tests for client/lineage.c: the on-disk files of a certificate (round trip, modes,
 * names, a key that does not match its leaf, a rewrite of meta.json alone, the list). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "client/lineage.h"
#include "common/file.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/pem.h"
#include "testutil.h"

static char *g_dir;
static EVP_PKEY *g_ca_key, *g_leaf_key;
static char *g_chain; /* leaf PEM then CA PEM */

/* A certificate for key signed by signer (self-signed when signer is key), named cn. */
static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *signer, const char *cn, const char *issuer_cn,
                       long serial)
{
    X509 *x = X509_new();
    X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();

    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_set_version(x, 2), 1);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
    ck_assert_int_eq(
        X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
        1);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC,
                                                (const unsigned char *)issuer_cn, -1, -1, 0),
                     1);
    ck_assert_int_eq(X509_set_subject_name(x, subj), 1);
    ck_assert_int_eq(X509_set_issuer_name(x, iss), 1);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 90L * 86400));
    ck_assert_int_eq(X509_set_pubkey(x, key), 1);
    ck_assert_int_gt(X509_sign(x, signer, EVP_sha256()), 0);
    X509_NAME_free(subj);
    X509_NAME_free(iss);
    return x;
}

static void setup(void)
{
    X509 *ca = NULL, *leaf = NULL;
    char *a = NULL, *b = NULL;

    g_dir = tu_tmpdir();
    ck_assert_int_eq(key_generate(KEY_EC_P256, &g_ca_key), MC_OK);
    ck_assert_int_eq(key_generate(KEY_EC_P256, &g_leaf_key), MC_OK);
    ca = make_cert(g_ca_key, g_ca_key, "Test CA", "Test CA", 1);
    leaf = make_cert(g_leaf_key, g_ca_key, "example.com", "Test CA", 2);
    ck_assert_int_eq(pem_write_cert(leaf, &a), MC_OK);
    ck_assert_int_eq(pem_write_cert(ca, &b), MC_OK);
    ck_assert_int_ge(asprintf(&g_chain, "%s%s", a, b), 0);
    free(a);
    free(b);
    X509_free(ca);
    X509_free(leaf);
}

static void teardown(void)
{
    char cmd[512];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(g_dir);
    free(g_chain);
    EVP_PKEY_free(g_ca_key);
    EVP_PKEY_free(g_leaf_key);
}

static cJSON *meta_for(const char *name)
{
    cJSON *m = cJSON_CreateObject();
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(m, "name", name));
    ck_assert_ptr_nonnull(cJSON_AddStringToObject(m, "directory", "https://ca.test/dir"));
    return m;
}

static char *path(const char *a, const char *b, const char *c)
{
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/%s/%s", a, b, c), 0);
    return p;
}

static mode_t mode_of(const char *p)
{
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return st.st_mode & 07777;
}

START_TEST(test_round_trip)
{
    cJSON *m = meta_for("web"), *back = NULL;
    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    char *text = NULL, *p = NULL;
    size_t len = 0;
    const char *s = NULL;
    char *sub = NULL;

    /* a nested state directory is created too */
    ck_assert_int_ge(asprintf(&sub, "%s/state/live", g_dir), 0);
    ck_assert_int_eq(lineage_write(sub, "web", g_chain, g_leaf_key, m), MC_OK);
    ck_assert_int_eq(lineage_read(sub, "web", &leaf, &key, &back), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(key, g_leaf_key), 1);
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), g_leaf_key), 1);
    ck_assert_int_eq(json_get_string(back, "directory", &s), MC_OK);
    ck_assert_str_eq(s, "https://ca.test/dir");

    /* fullchain is the downloaded chain; chain.pem the CA only; cert.pem the leaf */
    p = path(sub, "web", "fullchain.pem");
    ck_assert_int_eq(file_read_all(p, 1 << 20, &text, &len), MC_OK);
    ck_assert_str_eq(text, g_chain);
    free(text);
    free(p);
    p = path(sub, "web", "chain.pem");
    ck_assert_int_eq(file_read_all(p, 1 << 20, &text, &len), MC_OK);
    ck_assert_ptr_nonnull(strstr(g_chain, text));
    ck_assert_ptr_ne(strstr(g_chain, text), g_chain);
    free(text);
    free(p);
    p = path(sub, "web", "cert.pem");
    ck_assert_int_eq(file_read_all(p, 1 << 20, &text, &len), MC_OK);
    ck_assert_int_eq(strncmp(text, g_chain, len), 0);
    free(text);
    free(p);

    /* modes: key 0600, lineage and created state folders 0700 */
    p = path(sub, "web", "privkey.pem");
    ck_assert_int_eq(mode_of(p), 0600);
    free(p);
    p = path(sub, "web", "");
    ck_assert_int_eq(mode_of(p), 0700);
    free(p);
    ck_assert_int_eq(mode_of(sub), 0700);

    X509_free(leaf);
    EVP_PKEY_free(key);
    cJSON_Delete(back);
    cJSON_Delete(m);
    free(sub);
}
END_TEST

START_TEST(test_bad_names)
{
    cJSON *m = meta_for("x");
    char long_name[66];

    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    ck_assert(!lineage_name_ok("../x"));
    ck_assert(!lineage_name_ok(".hidden"));
    ck_assert(!lineage_name_ok(long_name));
    ck_assert(!lineage_name_ok(""));
    ck_assert(!lineage_name_ok("a/b"));
    ck_assert(!lineage_name_ok(NULL));
    long_name[64] = '\0';
    ck_assert(lineage_name_ok(long_name));
    ck_assert(lineage_name_ok("www.example.com_2-x"));
    ck_assert_int_eq(lineage_write(g_dir, "../x", g_chain, g_leaf_key, m), MC_ERR_INVALID);
    ck_assert_int_eq(lineage_write(g_dir, ".hidden", g_chain, g_leaf_key, m), MC_ERR_INVALID);
    long_name[64] = 'a';
    ck_assert_int_eq(lineage_write(g_dir, long_name, g_chain, g_leaf_key, m), MC_ERR_INVALID);
    ck_assert_int_eq(lineage_read(g_dir, "../x", NULL, NULL, NULL), MC_ERR_INVALID);
    ck_assert_int_eq(lineage_write_meta(g_dir, ".hidden", m), MC_ERR_INVALID);
    /* nothing was created outside */
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/../x", g_dir), 0);
    ck_assert_int_ne(access(p, F_OK), 0);
    free(p);
    cJSON_Delete(m);
}
END_TEST

START_TEST(test_key_mismatch_refused)
{
    cJSON *m = meta_for("web");
    EVP_PKEY *other = NULL, *key = NULL;
    X509 *leaf = NULL;
    char *p = NULL;

    ck_assert_int_eq(key_generate(KEY_EC_P256, &other), MC_OK);
    /* the writer refuses a key that is not the leaf's */
    ck_assert_int_eq(lineage_write(g_dir, "web", g_chain, other, m), MC_ERR_MISMATCH);
    ck_assert_int_eq(lineage_read(g_dir, "web", &leaf, &key, NULL), MC_ERR_NOT_FOUND);
    /* a key replaced behind our back is refused by the reader */
    ck_assert_int_eq(lineage_write(g_dir, "web", g_chain, g_leaf_key, m), MC_OK);
    p = path(g_dir, "web", "privkey.pem");
    ck_assert_int_eq(key_save(p, other), MC_OK);
    ck_assert_int_eq(lineage_read(g_dir, "web", &leaf, &key, NULL), MC_ERR_MISMATCH);
    ck_assert_ptr_null(leaf);
    ck_assert_ptr_null(key);
    free(p);
    EVP_PKEY_free(other);
    cJSON_Delete(m);
}
END_TEST

START_TEST(test_no_key_lineage)
{
    cJSON *m = meta_for("csr");
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL;
    char *p = NULL;

    ck_assert_int_eq(lineage_write(g_dir, "csr", g_chain, g_leaf_key, m), MC_OK);
    /* rewritten from a user-supplied CSR: the old key is gone */
    ck_assert_int_eq(lineage_write(g_dir, "csr", g_chain, NULL, m), MC_OK);
    p = path(g_dir, "csr", "privkey.pem");
    ck_assert_int_ne(access(p, F_OK), 0);
    ck_assert_int_eq(lineage_read(g_dir, "csr", &leaf, &key, NULL), MC_OK);
    ck_assert_ptr_nonnull(leaf);
    ck_assert_ptr_null(key);
    X509_free(leaf);
    free(p);
    cJSON_Delete(m);
    /* garbage is not a chain */
    m = meta_for("bad");
    ck_assert_int_eq(lineage_write(g_dir, "bad", "not a pem", NULL, m), MC_ERR_INVALID);
    cJSON_Delete(m);
}
END_TEST

START_TEST(test_rewrite_meta_only)
{
    cJSON *m = meta_for("web"), *back = NULL;
    char *p = NULL, *before = NULL, *after = NULL, *ex = NULL;
    size_t len = 0;
    struct stat st1, st2;
    int64_t s = 0, e = 0, nc = 0;

    ck_assert_int_eq(lineage_write(g_dir, "web", g_chain, g_leaf_key, m), MC_OK);
    p = path(g_dir, "web", "cert.pem");
    ck_assert_int_eq(stat(p, &st1), 0);
    ck_assert_int_eq(file_read_all(p, 1 << 20, &before, &len), MC_OK);
    ck_assert_int_eq(
        lineage_meta_set_ari(m, 1800000000, 1800086400, "https://ca.test/why", 1800003600), MC_OK);
    ck_assert_int_eq(lineage_write_meta(g_dir, "web", m), MC_OK);
    ck_assert_int_eq(stat(p, &st2), 0);
    ck_assert_int_eq(file_read_all(p, 1 << 20, &after, &len), MC_OK);
    /* the certificate file is the same file, untouched */
    ck_assert_int_eq(st1.st_ino, st2.st_ino);
    ck_assert_str_eq(before, after);
    ck_assert_int_eq(lineage_read(g_dir, "web", NULL, NULL, &back), MC_OK);
    ck_assert_int_eq(lineage_meta_get_ari(back, &s, &e, &ex, &nc), MC_OK);
    ck_assert_int_eq(s, 1800000000);
    ck_assert_int_eq(e, 1800086400);
    ck_assert_int_eq(nc, 1800003600);
    ck_assert_str_eq(ex, "https://ca.test/why");
    /* no temporary files left behind */
    char **names = NULL;
    size_t n = 0;
    ck_assert_int_eq(lineage_list(g_dir, &names, &n), MC_OK);
    ck_assert_uint_eq(n, 1);
    lineage_free_names(names, n);
    /* a meta-only write needs the lineage */
    ck_assert_int_eq(lineage_write_meta(g_dir, "nope", m), MC_ERR_NOT_FOUND);
    free(p);
    free(before);
    free(after);
    free(ex);
    cJSON_Delete(back);
    cJSON_Delete(m);
}
END_TEST

START_TEST(test_list_sorted)
{
    const char *order[] = {"zeta", "alpha", "Mid", "beta-2"};
    char **names = NULL;
    size_t n = 0;
    char *p = NULL;

    /* empty and missing directories list nothing */
    ck_assert_int_eq(lineage_list(g_dir, &names, &n), MC_OK);
    ck_assert_uint_eq(n, 0);
    p = path(g_dir, "missing", "");
    ck_assert_int_eq(lineage_list(p, &names, &n), MC_OK);
    ck_assert_uint_eq(n, 0);
    free(p);
    for (size_t i = 0; i < 4; i++) {
        cJSON *m = meta_for(order[i]);
        ck_assert_int_eq(lineage_write(g_dir, order[i], g_chain, g_leaf_key, m), MC_OK);
        cJSON_Delete(m);
    }
    /* folders that are not lineages (accounts/, a stray file) are skipped */
    p = path(g_dir, "accounts", "");
    ck_assert_int_eq(mkdir(p, 0700), 0);
    free(p);
    ck_assert_int_eq(lineage_list(g_dir, &names, &n), MC_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(names[0], "Mid");
    ck_assert_str_eq(names[1], "alpha");
    ck_assert_str_eq(names[2], "beta-2");
    ck_assert_str_eq(names[3], "zeta");
    lineage_free_names(names, n);
    lineage_free_names(NULL, 0);
}
END_TEST

START_TEST(test_meta_new)
{
    struct ident_list ids = {0};
    cJSON *m = NULL;
    X509 *leaf = NULL;
    const char *s = NULL;
    const cJSON *arr = NULL;

    ck_assert_int_eq(pem_read_cert(g_chain, strlen(g_chain), &leaf), MC_OK);
    ck_assert_int_eq(ident_list_add(&ids, IDENT_DNS, "example.com"), MC_OK);
    ck_assert_int_eq(ident_list_add(&ids, IDENT_IP, "192.0.2.1"), MC_OK);
    struct lineage_meta_in in = {.name = "web",
                                 .directory = "https://ca.test/dir",
                                 .idents = &ids,
                                 .key_type = "ec256",
                                 .issued_at = 1800000000,
                                 .leaf = leaf};
    ck_assert_int_eq(lineage_meta_new(&in, &m), MC_OK);
    ck_assert_int_eq(json_get_string(m, "serial", &s), MC_OK);
    ck_assert_str_eq(s, "2");
    ck_assert_int_eq(json_get_string(m, "issued_at", &s), MC_OK);
    ck_assert_str_eq(s, "2027-01-15T08:00:00Z");
    ck_assert_int_eq(json_get_array(m, "identifiers", &arr), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "type")->valuestring, "ip");
    ck_assert_int_eq(json_get_string(m, "not_after", &s), MC_OK);
    ck_assert_int_eq(lineage_write(g_dir, "web", g_chain, g_leaf_key, m), MC_OK);
    cJSON_Delete(m);
    ident_list_free(&ids);
    X509_free(leaf);
}
END_TEST

static Suite *lineage_suite(void)
{
    Suite *s = suite_create("cli_lineage");
    TCase *tc = tcase_create("files");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_bad_names);
    tcase_add_test(tc, test_key_mismatch_refused);
    tcase_add_test(tc, test_no_key_lineage);
    tcase_add_test(tc, test_rewrite_meta_only);
    tcase_add_test(tc, test_list_sorted);
    tcase_add_test(tc, test_meta_new);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(lineage_suite());
}
