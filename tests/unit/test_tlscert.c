/* Unit tests for mockca/tlscert.c: the generated root and leaf verify as a TLS client
 * would check them (OpenSSL's chain verification, then a real handshake through the HTTP
 * layer with libcurl), bad names are refused, and loading checks the key. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/file.h"
#include "common/http.h"
#include "common/keys.h"
#include "common/pem.h"
#include "common/x509.h"
#include "mockca/tlscert.h"
#include "testutil.h"

static const char *const names3[] = {"localhost", "127.0.0.1", "::1"};

static X509 *read_one(const char *pem)
{
    X509 *x = NULL;

    ck_assert_ptr_nonnull(pem);
    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &x), MC_OK);
    return x;
}

/* X509_verify_cert of leaf against a store holding only root, for TLS server use; host
 * and ip (either may be NULL) are checked as a TLS client checks them. */
static int verify(X509 *root, X509 *leaf, const char *host, const char *ip)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_VERIFY_PARAM *param;
    int ok;

    ck_assert_ptr_nonnull(store);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(X509_STORE_add_cert(store, root), 1);
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
    ck_assert_int_eq(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER), 1);
    param = X509_STORE_CTX_get0_param(ctx);
    if (host != NULL)
        ck_assert_int_eq(X509_VERIFY_PARAM_set1_host(param, host, 0), 1);
    if (ip != NULL)
        ck_assert_int_eq(X509_VERIFY_PARAM_set1_ip_asc(param, ip), 1);
    ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

START_TEST(test_generate_verifies)
{
    struct tls_identity t = {0};
    struct ident_list sans = {0};
    X509 *root, *leaf, *other_root;
    struct tls_identity other = {0};
    EVP_PKEY *key = NULL;
    int64_t nb, na, now = (int64_t)time(NULL);
    bool seen[3] = {false, false, false};

    ck_assert_int_eq(tlscert_generate(names3, 3, &t), MC_OK);
    ck_assert_ptr_nonnull(t.cert_pem);
    ck_assert_ptr_nonnull(t.key_pem);
    ck_assert_ptr_nonnull(t.root_pem);
    ck_assert_ptr_nonnull(strstr(t.key_pem, "-----BEGIN PRIVATE KEY-----")); /* PKCS#8 */
    root = read_one(t.root_pem);
    leaf = read_one(t.cert_pem);

    /* The chain verifies for a TLS server, and for each of the names. */
    ck_assert_int_eq(verify(root, leaf, NULL, NULL), 1);
    ck_assert_int_eq(verify(root, leaf, "localhost", NULL), 1);
    ck_assert_int_eq(verify(root, leaf, NULL, "127.0.0.1"), 1);
    ck_assert_int_eq(verify(root, leaf, NULL, "::1"), 1);
    ck_assert_int_eq(verify(root, leaf, "example.com", NULL), 0);
    ck_assert_int_eq(verify(root, leaf, NULL, "127.0.0.2"), 0);
    /* ... and only against its own root. */
    ck_assert_int_eq(tlscert_generate(names3, 3, &other), MC_OK);
    other_root = read_one(other.root_pem);
    ck_assert_int_eq(verify(other_root, leaf, NULL, NULL), 0);
    ck_assert_int_ne(X509_NAME_cmp(X509_get_subject_name(root), X509_get_subject_name(other_root)),
                     0);

    /* Exactly the SANs asked for. */
    ck_assert_int_eq(x509_sans(leaf, &sans), MC_OK);
    ck_assert_uint_eq(sans.n, 3);
    for (size_t i = 0; i < sans.n; i++) {
        for (size_t k = 0; k < 3; k++) {
            if (strcmp(sans.v[i].value, names3[k]) == 0) {
                ck_assert_int_eq(sans.v[i].type, k == 0 ? IDENT_DNS : IDENT_IP);
                ck_assert(!seen[k]);
                seen[k] = true;
            }
        }
    }
    ck_assert(seen[0] && seen[1] && seen[2]);

    /* The profile: a CA root, a non-CA serverAuth leaf, P-256 keys, the key matches. */
    ck_assert_int_eq(X509_check_ca(root), 1);
    ck_assert_int_eq(X509_check_ca(leaf), 0);
    ck_assert(X509_get_key_usage(root) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    ck_assert(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE);
    ck_assert_uint_eq(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER);
    ck_assert_uint_eq(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
    ck_assert_int_eq(pem_read_private_key(t.key_pem, strlen(t.key_pem), &key), MC_OK);
    ck_assert_int_eq(X509_check_private_key(leaf, key), 1);
    ck_assert_int_eq(key_bits(key), 256);
    ck_assert_int_eq(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    ck_assert_int_eq(key_bits(X509_get0_pubkey(root)), 256);
    /* Backdated one hour, about two years for the leaf. */
    ck_assert_int_eq(x509_validity(leaf, &nb, &na), MC_OK);
    ck_assert_int_le(nb, now - 3500);
    ck_assert_int_ge(nb, now - 3700);
    ck_assert_int_ge(na - nb, 729LL * 86400);
    ck_assert_int_le(na - nb, 731LL * 86400);
    ck_assert_int_eq(x509_validity(root, &nb, &na), MC_OK);
    ck_assert_int_ge(na - nb, 3649LL * 86400);
    /* Random serials: the two leaves and roots differ. */
    {
        X509 *leaf2 = read_one(other.cert_pem);
        ck_assert_int_ne(
            ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf), X509_get0_serialNumber(leaf2)), 0);
        X509_free(leaf2);
    }

    EVP_PKEY_free(key);
    ident_list_free(&sans);
    X509_free(root);
    X509_free(leaf);
    X509_free(other_root);
    tls_identity_clear(&t);
    tls_identity_clear(&other);
    ck_assert_ptr_null(t.cert_pem);
    tls_identity_clear(NULL);
}
END_TEST

/* ---- a real handshake ---- */

static void hello(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    (void)req;
    if (http_response_body(resp, 200, "text/plain", "hello", 5) != MC_OK)
        resp->status = 500;
}

static size_t collect(char *p, size_t size, size_t nmemb, void *arg)
{
    char *buf = arg;
    size_t have = strlen(buf), n = size * nmemb;

    if (have + n < 64) {
        memcpy(buf + have, p, n);
        buf[have + n] = '\0';
    }
    return n;
}

/* GET https://host:port/hello with curl, trusting only root_pem (as a blob), hostname
 * verification on; host is resolved to 127.0.0.1 whatever the name. */
static CURLcode fetch(const char *host, uint16_t port, const char *root_pem, char *body)
{
    CURL *c = curl_easy_init();
    struct curl_blob blob = {(void *)root_pem, strlen(root_pem), CURL_BLOB_COPY};
    struct curl_slist *resolve = NULL;
    char url[128], entry[128];
    CURLcode rc;
    long status = 0;

    ck_assert_ptr_nonnull(c);
    body[0] = '\0';
    snprintf(url, sizeof(url), "https://%s:%u/hello", host, (unsigned)port);
    snprintf(entry, sizeof(entry), "%s:%u:127.0.0.1", host, (unsigned)port);
    resolve = curl_slist_append(NULL, entry);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    curl_easy_setopt(c, CURLOPT_CAPATH, NULL); /* the system store must not vouch for it */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        ck_assert_int_eq(status, 200);
    }
    curl_slist_free_all(resolve);
    curl_easy_cleanup(c);
    return rc;
}

START_TEST(test_tls_handshake)
{
    static const struct http_route routes[] = {{"GET", "/hello", hello}};
    struct tls_identity t = {0}, other = {0};
    struct http_server_config cfg = {0};
    struct http_server *s = NULL;
    char body[64];
    CURLcode rc;
    uint16_t port;

    ck_assert_int_eq(tlscert_generate(names3, 3, &t), MC_OK);
    cfg.bind_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.tls_cert_pem = t.cert_pem;
    cfg.tls_key_pem = t.key_pem;
    cfg.routes = routes;
    cfg.nroutes = 1;
    ck_assert_int_eq(http_server_start(&cfg, &s), MC_OK);
    port = http_server_port(s);

    rc = fetch("127.0.0.1", port, t.root_pem, body);
    ck_assert_msg(rc == CURLE_OK, "127.0.0.1: %s", curl_easy_strerror(rc));
    ck_assert_str_eq(body, "hello");
    rc = fetch("localhost", port, t.root_pem, body);
    ck_assert_msg(rc == CURLE_OK, "localhost: %s", curl_easy_strerror(rc));
    ck_assert_str_eq(body, "hello");
    /* A name the leaf does not carry fails hostname verification... */
    rc = fetch("mockca.test", port, t.root_pem, body);
    ck_assert_int_eq(rc, CURLE_PEER_FAILED_VERIFICATION);
    /* ... and another run's root does not vouch for this leaf. */
    ck_assert_int_eq(tlscert_generate(names3, 3, &other), MC_OK);
    rc = fetch("127.0.0.1", port, other.root_pem, body);
    ck_assert_int_ne(rc, CURLE_OK);

    http_server_stop(s);
    tls_identity_clear(&t);
    tls_identity_clear(&other);
}
END_TEST

/* ---- bad names ---- */

START_TEST(test_bad_names)
{
    static const char *const bad[] = {"",           "a..b",        "999.1.1.1", "1.2.3",
                                      "-a.example", "a_b.example", "exa mple",  "1.2.3.4.5",
                                      "::g",        ".",           "a.b-"};
    struct tls_identity t = {0};
    const char *one[2];
    const char *many[17];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        one[0] = bad[i];
        ck_assert_msg(tlscert_generate(one, 1, &t) == MC_ERR_INVALID, "accepted \"%s\"", bad[i]);
        ck_assert_ptr_null(t.cert_pem);
        /* A bad name among good ones spoils the lot. */
        one[0] = "localhost";
        one[1] = bad[i];
        ck_assert_int_eq(tlscert_generate(one, 2, &t), MC_ERR_INVALID);
    }
    one[0] = NULL;
    ck_assert_int_eq(tlscert_generate(one, 1, &t), MC_ERR_INVALID);
    ck_assert_int_eq(tlscert_generate(names3, 0, &t), MC_ERR_INVALID);
    ck_assert_int_eq(tlscert_generate(NULL, 1, &t), MC_ERR_INVALID);

    /* 16 names is the most; 17 is refused. */
    for (size_t i = 0; i < 17; i++)
        many[i] = "localhost";
    ck_assert_int_eq(tlscert_generate(many, 17, &t), MC_ERR_INVALID);
    ck_assert_ptr_null(t.cert_pem);
    ck_assert_int_eq(tlscert_generate(many, 16, &t), MC_OK);
    tls_identity_clear(&t);
    /* Names are case-insensitive and a trailing dot is the same name. */
    one[0] = "LocalHost.";
    ck_assert_int_eq(tlscert_generate(one, 1, &t), MC_OK);
    {
        X509 *leaf = read_one(t.cert_pem);
        struct ident_list sans = {0};
        ck_assert_int_eq(x509_sans(leaf, &sans), MC_OK);
        ck_assert_uint_eq(sans.n, 1);
        ck_assert_str_eq(sans.v[0].value, "localhost");
        ident_list_free(&sans);
        X509_free(leaf);
    }
    tls_identity_clear(&t);
}
END_TEST

/* ---- load ---- */

static char *dir;

static void load_setup(void)
{
    dir = tu_tmpdir();
}

static void load_teardown(void)
{
    static const char *const files[] = {"cert.pem",    "key.pem",   "other.pem",
                                        "garbage.pem", "chain.pem", "eckey.pem"};
    char p[512];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    free(dir);
    dir = NULL;
}

static void put(const char *name, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    ck_assert_int_eq(file_write_atomic(path, text, strlen(text), 0600), MC_OK);
}

START_TEST(test_load)
{
    struct tls_identity g = {0}, g2 = {0}, t = {0};
    char cert[512], key[512], other[512], garbage[512], chain[512], missing[512];
    char *chain_text = NULL;
    X509 *a, *b;

    ck_assert_int_eq(tlscert_generate(names3, 3, &g), MC_OK);
    ck_assert_int_eq(tlscert_generate(names3, 1, &g2), MC_OK);
    put("cert.pem", g.cert_pem, cert, sizeof(cert));
    put("key.pem", g.key_pem, key, sizeof(key));
    put("other.pem", g2.key_pem, other, sizeof(other));
    put("garbage.pem", "this is not PEM\n", garbage, sizeof(garbage));
    snprintf(missing, sizeof(missing), "%s/missing.pem", dir);

    /* A generated pair loads back: the same certificate, a key that matches. */
    ck_assert_int_eq(tlscert_load(cert, key, &t), MC_OK);
    ck_assert_ptr_null(t.root_pem);
    ck_assert_str_eq(t.cert_pem, g.cert_pem);
    ck_assert_str_eq(t.key_pem, g.key_pem);
    tls_identity_clear(&t);

    /* A chain file keeps every certificate in order. */
    chain_text = malloc(strlen(g.cert_pem) + strlen(g.root_pem) + 16);
    ck_assert_ptr_nonnull(chain_text);
    snprintf(chain_text, strlen(g.cert_pem) + strlen(g.root_pem) + 16, "# leaf\n%s%s", g.cert_pem,
             g.root_pem);
    put("chain.pem", chain_text, chain, sizeof(chain));
    ck_assert_int_eq(tlscert_load(chain, key, &t), MC_OK);
    ck_assert_ptr_nonnull(strstr(t.cert_pem, g.root_pem));
    ck_assert(strncmp(t.cert_pem, g.cert_pem, strlen(g.cert_pem)) == 0);
    a = read_one(t.cert_pem);
    b = read_one(g.cert_pem);
    ck_assert_int_eq(X509_cmp(a, b), 0);
    X509_free(a);
    X509_free(b);
    tls_identity_clear(&t);
    free(chain_text);

    /* The key of another run does not match. */
    ck_assert_int_eq(tlscert_load(cert, other, &t), MC_ERR_MISMATCH);
    ck_assert_ptr_null(t.cert_pem);
    ck_assert_ptr_null(t.key_pem);
    /* Missing files, either one. */
    ck_assert_int_eq(tlscert_load(missing, key, &t), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(tlscert_load(cert, missing, &t), MC_ERR_NOT_FOUND);
    /* Garbage in either place; a key where the certificate should be. */
    ck_assert_int_eq(tlscert_load(garbage, key, &t), MC_ERR_INVALID);
    ck_assert_int_eq(tlscert_load(cert, garbage, &t), MC_ERR_INVALID);
    ck_assert_int_eq(tlscert_load(key, key, &t), MC_ERR_INVALID);
    ck_assert_ptr_null(t.cert_pem);

    /* A traditional "EC PRIVATE KEY" file loads and comes out as PKCS#8. */
    {
        EVP_PKEY *k = NULL;
        BIO *bio = BIO_new(BIO_s_mem());
        char *p = NULL, *text;
        long n;
        char eckey[512];

        ck_assert_int_eq(pem_read_private_key(g.key_pem, strlen(g.key_pem), &k), MC_OK);
        ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0, NULL, NULL),
                         1);
        n = BIO_get_mem_data(bio, &p);
        text = strndup(p, (size_t)n);
        ck_assert_ptr_nonnull(strstr(text, "BEGIN EC PRIVATE KEY"));
        put("eckey.pem", text, eckey, sizeof(eckey));
        ck_assert_int_eq(tlscert_load(cert, eckey, &t), MC_OK);
        ck_assert_str_eq(t.key_pem, g.key_pem);
        tls_identity_clear(&t);
        free(text);
        BIO_free(bio);
        EVP_PKEY_free(k);
    }

    tls_identity_clear(&g);
    tls_identity_clear(&g2);
}
END_TEST

static Suite *tlscert_suite(void)
{
    Suite *s = suite_create("tlscert");
    TCase *tc = tcase_create("generate");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_generate_verifies);
    tcase_add_test(tc, test_tls_handshake);
    tcase_add_test(tc, test_bad_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("load");
    tcase_add_checked_fixture(tc, load_setup, load_teardown);
    tcase_add_test(tc, test_load);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tlscert_suite());
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
