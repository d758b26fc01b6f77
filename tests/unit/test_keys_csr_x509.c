/* Unit tests for common/keys.c, csr.c and x509.c: key types, save/load, identifiers,
 * CSR round trips, certificate readers and the RFC 8737 tls-alpn-01 certificate. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/csr.h"
#include "common/keys.h"
#include "common/x509.h"

/* ---- keys ---- */

START_TEST(test_key_type_names)
{
    static const struct {
        const char *name;
        enum key_type t;
    } ok[] = {
        {"rsa2048", KEY_RSA2048}, {"RSA3072", KEY_RSA3072}, {"rsa4096", KEY_RSA4096},
        {"rsa8192", KEY_RSA8192}, {"ec256", KEY_EC_P256},   {"EC384", KEY_EC_P384},
        {"ec521", KEY_EC_P521},   {"Ed25519", KEY_ED25519}, {"p256", KEY_EC_P256},
        {"P384", KEY_EC_P384},    {"p521", KEY_EC_P521},
    };
    enum key_type t;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(key_type_parse(ok[i].name, &t) == MC_OK, "%s", ok[i].name);
        ck_assert_int_eq(t, ok[i].t);
    }
    static const char *const bad[] = {"rsa1024", "rsa", "P-256",  "ec224",
                                      "ed448",   "",    "x25519", "rsa2048 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(key_type_parse(bad[i], &t) == MC_ERR_UNSUPPORTED, "%s", bad[i]);
    ck_assert_str_eq(key_type_name(KEY_RSA2048), "rsa2048");
    ck_assert_str_eq(key_type_name(KEY_EC_P256), "ec256");
    ck_assert_str_eq(key_type_name(KEY_EC_P521), "ec521");
    ck_assert_str_eq(key_type_name(KEY_ED25519), "ed25519");
    /* Every canonical name parses back to its type. */
    for (int k = KEY_RSA2048; k <= KEY_ED25519; k++) {
        ck_assert_int_eq(key_type_parse(key_type_name((enum key_type)k), &t), MC_OK);
        ck_assert_int_eq(t, k);
    }
}
END_TEST

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof(tmpl), "%s/mc-keys-XXXXXX", base != NULL && base[0] ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static const struct {
    enum key_type t;
    int bits;
} key_cases[] = {
    {KEY_RSA2048, 2048}, {KEY_RSA3072, 3072}, {KEY_RSA4096, 4096}, {KEY_RSA8192, 8192},
    {KEY_EC_P256, 256},  {KEY_EC_P384, 384},  {KEY_EC_P521, 521},  {KEY_ED25519, 256},
};

START_TEST(test_key_generate_save_load)
{
    enum key_type t = key_cases[_i].t;
    EVP_PKEY *k = NULL, *loaded = NULL;
    enum key_type got;
    char *dir = make_tmpdir();
    char path[600];
    struct stat st;

    ck_assert_int_eq(key_generate(t, &k), MC_OK);
    ck_assert_int_eq(key_classify(k, &got), MC_OK);
    ck_assert_int_eq(got, t);
    ck_assert_int_eq(key_bits(k), key_cases[_i].bits);

    snprintf(path, sizeof(path), "%s/%s.pem", dir, key_type_name(t));
    ck_assert_int_eq(key_save(path, k), MC_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* PKCS#8, not a traditional form. */
    FILE *f = fopen(path, "r");
    char line[80] = {0};
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    fclose(f);
    ck_assert_str_eq(line, "-----BEGIN PRIVATE KEY-----\n");

    ck_assert_int_eq(key_load(path, &loaded), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(k, loaded), 1);
    ck_assert_int_eq(key_classify(loaded, &got), MC_OK);
    ck_assert_int_eq(got, t);
    /* The loaded key is private: it signs. */
    ck_assert(EVP_PKEY_get_bits(loaded) > 0);

    unlink(path);
    rmdir(dir);
    free(dir);
    EVP_PKEY_free(loaded);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_key_classify_other)
{
    enum key_type got;
    EVP_PKEY *k;

    /* RSA sizes between the named ones round down. */
    k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2056);
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(key_classify(k, &got), MC_OK);
    ck_assert_int_eq(got, KEY_RSA2048);
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    ck_assert_int_eq(key_classify(k, &got), MC_ERR_UNSUPPORTED);
    EVP_PKEY_free(k);
    k = EVP_EC_gen("P-224");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(key_classify(k, &got), MC_ERR_UNSUPPORTED);
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    ck_assert_int_eq(key_classify(k, &got), MC_ERR_UNSUPPORTED);
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    ck_assert_int_eq(key_classify(k, &got), MC_ERR_UNSUPPORTED);
    EVP_PKEY_free(k);
    ck_assert_int_eq(key_generate((enum key_type)99, &k), MC_ERR_UNSUPPORTED);
}
END_TEST

/* key_classify remembers its answer on the key (ex_data): asked again, from several threads
 * at once, and for a copy of the key, it gives the same type every time; an unsupported key
 * stays unsupported. */
struct classify_job {
    EVP_PKEY *key;
    enum key_type want;
    int wrong;
};

static void *classify_many(void *arg)
{
    struct classify_job *j = arg;

    for (int i = 0; i < 2000; i++) {
        enum key_type got = KEY_RSA8192;
        if (key_classify(j->key, &got) != MC_OK || got != j->want)
            j->wrong++;
    }
    return NULL;
}

START_TEST(test_key_classify_repeat)
{
    static const enum key_type types[] = {KEY_EC_P256, KEY_EC_P384, KEY_EC_P521, KEY_RSA2048};
    pthread_t th[4];
    struct classify_job jobs[4];
    enum key_type got;

    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(key_generate(types[i], &jobs[i].key), MC_OK);
        jobs[i].want = types[i];
        jobs[i].wrong = 0;
    }
    /* Every thread on every key, so each key is classified by several threads at once. */
    for (size_t round = 0; round < 4; round++) {
        for (size_t i = 0; i < 4; i++) {
            struct classify_job *j = &jobs[(i + round) % 4];
            ck_assert_int_eq(pthread_create(&th[i], NULL, classify_many, j), 0);
        }
        for (size_t i = 0; i < 4; i++)
            ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    }
    for (size_t i = 0; i < 4; i++) {
        EVP_PKEY *dup = EVP_PKEY_dup(jobs[i].key);
        ck_assert_int_eq(jobs[i].wrong, 0);
        ck_assert_ptr_nonnull(dup);
        ck_assert_int_eq(key_classify(dup, &got), MC_OK);
        ck_assert_int_eq(got, types[i]);
        EVP_PKEY_free(dup);
        EVP_PKEY_free(jobs[i].key);
    }
    EVP_PKEY *k = EVP_EC_gen("P-224");
    ck_assert_ptr_nonnull(k);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(key_classify(k, &got), MC_ERR_UNSUPPORTED);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_key_load_forms)
{
    char *dir = make_tmpdir();
    char path[600];
    EVP_PKEY *k = NULL, *loaded = NULL;
    enum key_type got;

    /* The traditional "BEGIN EC PRIVATE KEY" form that older tools write. */
    ck_assert_int_eq(key_generate(KEY_EC_P384, &k), MC_OK);
    snprintf(path, sizeof(path), "%s/trad.pem", dir);
    BIO *bio = BIO_new_file(path, "w");
    ck_assert_ptr_nonnull(bio);
    ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0, NULL, NULL), 1);
    BIO_free(bio);
    FILE *f;
    ck_assert_int_eq(key_load(path, &loaded), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(k, loaded), 1);
    ck_assert_int_eq(key_classify(loaded, &got), MC_OK);
    ck_assert_int_eq(got, KEY_EC_P384);
    EVP_PKEY_free(loaded);
    loaded = NULL;
    unlink(path);

    /* Not a key; no file. */
    f = fopen(path, "w");
    fputs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    ck_assert_int_ne(key_load(path, &loaded), MC_OK);
    ck_assert_ptr_null(loaded);
    unlink(path);
    ck_assert_int_eq(key_load(path, &loaded), MC_ERR_NOT_FOUND);
    /* Saving into a directory that does not exist fails cleanly. */
    snprintf(path, sizeof(path), "%s/no/such/dir/k.pem", dir);
    ck_assert_int_ne(key_save(path, k), MC_OK);

    rmdir(dir);
    free(dir);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- identifiers ---- */

static enum mc_err add1(enum ident_type t, const char *v, char *out, size_t outlen)
{
    struct ident_list l = {0};
    enum mc_err err = ident_list_add(&l, t, v);
    if (err == MC_OK) {
        ck_assert_uint_eq(l.n, 1);
        snprintf(out, outlen, "%s", l.v[0].value);
    }
    ident_list_free(&l);
    return err;
}

START_TEST(test_ident_normalize)
{
    char out[300];
    static const struct {
        enum ident_type t;
        const char *in, *want;
    } ok[] = {
        {IDENT_DNS, "example.com", "example.com"},
        {IDENT_DNS, "EXAMPLE.Com", "example.com"},
        {IDENT_DNS, "example.com.", "example.com"},
        {IDENT_DNS, "*.example.com", "*.example.com"},
        {IDENT_DNS, "*.EXAMPLE.com.", "*.example.com"},
        {IDENT_DNS, "xn--bcher-kva.example", "xn--bcher-kva.example"},
        {IDENT_DNS, "a-b.c0m", "a-b.c0m"},
        {IDENT_DNS, "localhost", "localhost"},
        {IDENT_IP, "192.0.2.1", "192.0.2.1"},
        {IDENT_IP, "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {IDENT_IP, "::1", "::1"},
        {IDENT_IP, "::ffff:192.0.2.1", "::ffff:192.0.2.1"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(add1(ok[i].t, ok[i].in, out, sizeof(out)) == MC_OK, "%s", ok[i].in);
        ck_assert_str_eq(out, ok[i].want);
    }

    char label63[80], label64[80], long_name[300], max_name[300];
    memset(label63, 'a', 63);
    memcpy(label63 + 63, ".com", 5);
    memset(label64, 'a', 64);
    memcpy(label64 + 64, ".com", 5);
    /* 253 characters is the longest name; 254 is one too many. */
    memset(max_name, 'a', 253);
    for (int i = 63; i < 253; i += 64)
        max_name[i] = '.';
    max_name[253] = '\0';
    memcpy(long_name, max_name, 254);
    long_name[253] = 'a';
    long_name[254] = '\0';
    ck_assert_int_eq(add1(IDENT_DNS, label63, out, sizeof(out)), MC_OK);
    ck_assert_int_eq(add1(IDENT_DNS, max_name, out, sizeof(out)), MC_OK);

    static const char *const bad_dns[] = {
        "a..b",
        "-a.com",
        "a-.com",
        "a.-b.com",
        "a.*.com",
        "*",
        "*.",
        "**.com",
        "*a.com",
        "",
        ".",
        "..",
        ".com",
        "exa_mple.com",
        "exa mple.com",
        "example.com..",
        "ex\xc3\xa4mple.com",
        "a.b/c",
        "*.*.example.com",
    };
    for (size_t i = 0; i < sizeof(bad_dns) / sizeof(bad_dns[0]); i++)
        ck_assert_msg(add1(IDENT_DNS, bad_dns[i], out, sizeof(out)) == MC_ERR_INVALID, "'%s'",
                      bad_dns[i]);
    ck_assert_int_eq(add1(IDENT_DNS, label64, out, sizeof(out)), MC_ERR_INVALID);
    ck_assert_int_eq(add1(IDENT_DNS, long_name, out, sizeof(out)), MC_ERR_INVALID);

    static const char *const bad_ip[] = {
        "1.2.3.999",    "1.2.3", "1.2.3.4.5", "example.com", "2001:db8::1::2",
        "fe80::1%eth0", "",      " 1.2.3.4",  "1.2.3.4/32"};
    for (size_t i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++)
        ck_assert_msg(add1(IDENT_IP, bad_ip[i], out, sizeof(out)) == MC_ERR_INVALID, "'%s'",
                      bad_ip[i]);
    ck_assert_int_eq(add1((enum ident_type)7, "example.com", out, sizeof(out)), MC_ERR_INVALID);
}
END_TEST

START_TEST(test_ident_list_limit_and_sets)
{
    struct ident_list a = {0}, b = {0};
    char name[32];
    for (int i = 0; i < IDENT_MAX_COUNT; i++) {
        snprintf(name, sizeof(name), "h%d.example.com", i);
        ck_assert_int_eq(ident_list_add(&a, IDENT_DNS, name), MC_OK);
    }
    ck_assert_int_eq(ident_list_add(&a, IDENT_DNS, "one-more.example.com"), MC_ERR_LIMIT);
    ck_assert_uint_eq(a.n, IDENT_MAX_COUNT);
    ident_list_free(&a);
    ck_assert_uint_eq(a.n, 0);
    ck_assert_ptr_null(a.v);
    ident_list_free(NULL);

    ck_assert_int_eq(ident_list_add(&a, IDENT_DNS, "a.example"), MC_OK);
    ck_assert_int_eq(ident_list_add(&a, IDENT_IP, "192.0.2.1"), MC_OK);
    ck_assert_int_eq(ident_list_add(&b, IDENT_IP, "192.0.2.1"), MC_OK);
    ck_assert(!ident_list_same_set(&a, &b));
    ck_assert_int_eq(ident_list_add(&b, IDENT_DNS, "A.Example."), MC_OK);
    ck_assert_int_eq(ident_list_add(&b, IDENT_DNS, "a.example"), MC_OK); /* a duplicate */
    ck_assert(ident_list_same_set(&a, &b));
    ck_assert(ident_list_same_set(&b, &a));
    /* The same text as another type is another identifier. */
    struct ident_list c = {0};
    ck_assert_int_eq(ident_list_add(&c, IDENT_DNS, "a.example"), MC_OK);
    ck_assert_int_eq(ident_list_add(&c, IDENT_DNS, "b.example"), MC_OK);
    ck_assert(!ident_list_same_set(&a, &c));
    ident_list_free(&a);
    ident_list_free(&b);
    ident_list_free(&c);
}
END_TEST

/* ---- CSR ---- */

static void make_sans(struct ident_list *l)
{
    ck_assert_int_eq(ident_list_add(l, IDENT_DNS, "Example.COM."), MC_OK);
    ck_assert_int_eq(ident_list_add(l, IDENT_DNS, "*.example.com"), MC_OK);
    ck_assert_int_eq(ident_list_add(l, IDENT_IP, "192.0.2.1"), MC_OK);
    ck_assert_int_eq(ident_list_add(l, IDENT_IP, "2001:DB8::1"), MC_OK);
}

/* The extnValue bytes of extension nid in req, or NULL. */
static const ASN1_OCTET_STRING *req_ext_data(X509_REQ *req, int nid, int *crit,
                                             STACK_OF(X509_EXTENSION) * *exts)
{
    *exts = X509_REQ_get_extensions(req);
    int loc = X509v3_get_ext_by_NID(*exts, nid, -1);
    if (loc < 0)
        return NULL;
    X509_EXTENSION *e = sk_X509_EXTENSION_value(*exts, loc);
    *crit = X509_EXTENSION_get_critical(e);
    return X509_EXTENSION_get_data(e);
}

static const enum key_type csr_key_types[] = {KEY_EC_P256, KEY_RSA2048, KEY_ED25519, KEY_EC_P384};

START_TEST(test_csr_roundtrip)
{
    EVP_PKEY *k = NULL;
    struct ident_list sans = {0};
    X509_REQ *req = NULL, *req2 = NULL;
    uint8_t *der = NULL;
    size_t n = 0;
    struct csr_info info;

    ck_assert_int_eq(key_generate(csr_key_types[_i], &k), MC_OK);
    make_sans(&sans);
    ck_assert_int_eq(csr_build(k, "example.com", &sans, true, &req), MC_OK);
    ck_assert_int_eq(csr_to_der(req, &der, &n), MC_OK);
    ck_assert_uint_gt(n, 100);
    ck_assert_int_eq(csr_parse_der(der, n, &req2), MC_OK);
    ck_assert_int_eq(csr_read(req2, &info), MC_OK);
    ck_assert_str_eq(info.cn, "example.com");
    ck_assert_uint_eq(info.sans.n, 4);
    ck_assert(ident_list_same_set(&info.sans, &sans));
    ck_assert_str_eq(info.sans.v[0].value, "example.com");
    ck_assert_str_eq(info.sans.v[3].value, "2001:db8::1");
    ck_assert_int_eq(info.sans.v[3].type, IDENT_IP);
    ck_assert(info.must_staple);
    ck_assert_int_eq(EVP_PKEY_eq(info.key, k), 1);
    csr_info_free(&info);
    csr_info_free(NULL);

    /* The TLS Feature extension is exactly SEQUENCE { INTEGER 5 }, not critical. */
    STACK_OF(X509_EXTENSION) *exts = NULL;
    int crit = -1;
    const ASN1_OCTET_STRING *tf = req_ext_data(req2, NID_tlsfeature, &crit, &exts);
    ck_assert_ptr_nonnull(tf);
    static const uint8_t want_tf[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    ck_assert_int_eq(ASN1_STRING_length(tf), sizeof(want_tf));
    ck_assert_mem_eq(ASN1_STRING_get0_data(tf), want_tf, sizeof(want_tf));
    ck_assert_int_eq(crit, 0);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);

    /* Without must-staple and without CN. */
    X509_REQ_free(req);
    req = NULL;
    ck_assert_int_eq(csr_build(k, NULL, &sans, false, &req), MC_OK);
    ck_assert_int_eq(csr_read(req, &info), MC_OK);
    ck_assert_ptr_null(info.cn);
    ck_assert(!info.must_staple);
    ck_assert_uint_eq(info.sans.n, 4);
    csr_info_free(&info);

    free(der);
    X509_REQ_free(req);
    X509_REQ_free(req2);
    ident_list_free(&sans);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_csr_bad)
{
    EVP_PKEY *k = NULL;
    struct ident_list sans = {0}, none = {0};
    X509_REQ *req = NULL, *req2 = NULL;
    uint8_t *der = NULL;
    size_t n = 0;
    struct csr_info info;

    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    make_sans(&sans);
    ck_assert_int_eq(csr_build(k, "example.com", &none, false, &req), MC_ERR_INVALID);
    ck_assert_ptr_null(req);
    ck_assert_int_eq(csr_build(k, "example.com", &sans, false, &req), MC_OK);
    ck_assert_int_eq(csr_to_der(req, &der, &n), MC_OK);

    /* A changed byte inside the signed part (a SAN) breaks the signature. */
    uint8_t *p = memmem(der, n, "example.com", 11);
    ck_assert_ptr_nonnull(p);
    p[0] = 'f';
    ck_assert_int_eq(csr_parse_der(der, n, &req2), MC_OK);
    ck_assert_int_eq(csr_read(req2, &info), MC_ERR_VERIFY);
    ck_assert_ptr_null(info.cn);
    ck_assert_ptr_null(info.key);
    X509_REQ_free(req2);
    req2 = NULL;
    p[0] = 'e';
    /* And so does a changed signature byte (the last byte of the DER). */
    der[n - 1] ^= 0x01;
    ck_assert_int_eq(csr_parse_der(der, n, &req2), MC_OK);
    ck_assert_int_eq(csr_read(req2, &info), MC_ERR_VERIFY);
    X509_REQ_free(req2);
    req2 = NULL;
    der[n - 1] ^= 0x01;

    /* Trailing bytes, truncation, garbage, oversize. */
    uint8_t *longer = malloc(n + 1);
    memcpy(longer, der, n);
    longer[n] = 0;
    ck_assert_int_eq(csr_parse_der(longer, n + 1, &req2), MC_ERR_INVALID);
    ck_assert_int_eq(csr_parse_der(der, n - 1, &req2), MC_ERR_INVALID);
    ck_assert_int_eq(csr_parse_der((const uint8_t *)"hello", 5, &req2), MC_ERR_INVALID);
    ck_assert_ptr_null(req2);
    uint8_t *big = calloc(1, 70000);
    ck_assert_int_eq(csr_parse_der(big, 70000, &req2), MC_ERR_TOO_BIG);
    free(big);
    free(longer);

    /* A CSR whose SAN holds an email address: not an identifier a CA can take. */
    X509_REQ *mail = X509_REQ_new();
    X509_REQ_set_pubkey(mail, k);
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *e =
        X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:ok.example,email:a@b.example");
    ck_assert_ptr_nonnull(e);
    sk_X509_EXTENSION_push(exts, e);
    X509_REQ_add_extensions(mail, exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ck_assert_int_gt(X509_REQ_sign(mail, k, EVP_sha256()), 0);
    ck_assert_int_eq(csr_read(mail, &info), MC_ERR_INVALID);
    X509_REQ_free(mail);

    /* A SAN DNS name that is not LDH. */
    mail = X509_REQ_new();
    X509_REQ_set_pubkey(mail, k);
    exts = sk_X509_EXTENSION_new_null();
    e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:bad_name.example");
    sk_X509_EXTENSION_push(exts, e);
    X509_REQ_add_extensions(mail, exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ck_assert_int_gt(X509_REQ_sign(mail, k, EVP_sha256()), 0);
    ck_assert_int_eq(csr_read(mail, &info), MC_ERR_INVALID);
    X509_REQ_free(mail);

    free(der);
    X509_REQ_free(req);
    ident_list_free(&sans);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- X.509 readers ---- */

/* A self-signed cert made with OpenSSL directly: serial 0x00abcdef01 (a leading zero
 * octet to strip), SAN DNS+IP+email, SKI/AKI, validity in both time encodings. */
static X509 *make_plain_cert(EVP_PKEY *k, int64_t nb, int64_t na, bool with_ids)
{
    X509 *c = X509_new();
    X509_set_version(c, X509_VERSION_3);
    BIGNUM *bn = NULL;
    BN_hex2bn(&bn, "00ABCDEF01");
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_NAME *name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
    X509_set_subject_name(c, name);
    X509_set_issuer_name(c, name);
    X509_NAME_free(name);
    ASN1_TIME_set(X509_getm_notBefore(c), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(c), (time_t)na);
    X509_set_pubkey(c, k);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, c, c, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(
        NULL, &ctx, NID_subject_alt_name,
        "DNS:WWW.Example.org,IP:198.51.100.7,email:ops@example.org,IP:2001:db8:0:0::5");
    ck_assert_ptr_nonnull(e);
    X509_add_ext(c, e, -1);
    X509_EXTENSION_free(e);
    if (with_ids) {
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
        ck_assert_ptr_nonnull(e);
        X509_add_ext(c, e, -1);
        X509_EXTENSION_free(e);
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
        ck_assert_ptr_nonnull(e);
        X509_add_ext(c, e, -1);
        X509_EXTENSION_free(e);
    }
    ck_assert_int_gt(X509_sign(c, k, EVP_sha256()), 0);
    return c;
}

START_TEST(test_x509_readers)
{
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    /* 2023-11-14 (UTCTime) and 2052-05-24 (GeneralizedTime, year >= 2050). */
    const int64_t nb = 1700000000, na = 2600000000LL;
    X509 *c = make_plain_cert(k, nb, na, true);

    struct ident_list sans = {0};
    ck_assert_int_eq(x509_sans(c, &sans), MC_OK);
    ck_assert_uint_eq(sans.n, 3); /* the email name is not an identifier */
    ck_assert_int_eq(sans.v[0].type, IDENT_DNS);
    ck_assert_str_eq(sans.v[0].value, "www.example.org");
    ck_assert_int_eq(sans.v[1].type, IDENT_IP);
    ck_assert_str_eq(sans.v[1].value, "198.51.100.7");
    ck_assert_str_eq(sans.v[2].value, "2001:db8::5");
    ident_list_free(&sans);

    char *serial = NULL;
    ck_assert_int_eq(x509_serial_hex(c, &serial), MC_OK);
    ck_assert_str_eq(serial, "abcdef01");
    free(serial);

    /* SKI "hash" is the SHA-1 of the subjectPublicKey (RFC 5280 section 4.2.1.2 (1));
     * a self-signed AKI names the same key. */
    uint8_t want[EVP_MAX_MD_SIZE];
    unsigned int wantlen = 0;
    ck_assert_int_eq(X509_pubkey_digest(c, EVP_sha1(), want, &wantlen), 1);
    uint8_t *ski = NULL, *aki = NULL;
    size_t skilen = 0, akilen = 0;
    ck_assert_int_eq(x509_ski(c, &ski, &skilen), MC_OK);
    ck_assert_uint_eq(skilen, 20);
    ck_assert_mem_eq(ski, want, 20);
    ck_assert_int_eq(x509_aki(c, &aki, &akilen), MC_OK);
    ck_assert_uint_eq(akilen, 20);
    ck_assert_mem_eq(aki, want, 20);
    free(ski);
    free(aki);

    int64_t got_nb = 0, got_na = 0;
    ck_assert_int_eq(x509_validity(c, &got_nb, &got_na), MC_OK);
    ck_assert_int_eq(got_nb, nb);
    ck_assert_int_eq(got_na, na);

    /* A plain cert has no acmeIdentifier. */
    uint8_t digest[32];
    ck_assert_int_eq(x509_acme_identifier(c, digest), MC_ERR_NOT_FOUND);
    X509_free(c);

    /* Without SKI/AKI: NOT_FOUND. */
    c = make_plain_cert(k, nb, nb + 86400, false);
    ck_assert_int_eq(x509_ski(c, &ski, &skilen), MC_ERR_NOT_FOUND);
    ck_assert_ptr_null(ski);
    ck_assert_int_eq(x509_aki(c, &aki, &akilen), MC_ERR_NOT_FOUND);
    X509_free(c);

    /* No SAN at all: an empty list. A zero serial prints as "0". */
    c = X509_new();
    X509_set_pubkey(c, k);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 0);
    ASN1_TIME_set(X509_getm_notBefore(c), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(c), (time_t)nb);
    ck_assert_int_gt(X509_sign(c, k, EVP_sha256()), 0);
    ck_assert_int_eq(x509_sans(c, &sans), MC_OK);
    ck_assert_uint_eq(sans.n, 0);
    ck_assert_int_eq(x509_serial_hex(c, &serial), MC_OK);
    ck_assert_str_eq(serial, "0");
    free(serial);
    X509_free(c);

    EVP_PKEY_free(k);
}
END_TEST

/* ---- tls-alpn-01 ---- */

static const struct {
    enum ident_type t;
    const char *in, *want;
    int gen;
} alpn_cases[] = {
    {IDENT_DNS, "Example.COM", "example.com", GEN_DNS},
    {IDENT_IP, "192.0.2.7", "192.0.2.7", GEN_IPADD},
    {IDENT_IP, "2001:db8:0::7", "2001:db8::7", GEN_IPADD},
};

START_TEST(test_tlsalpn01)
{
    const char *ka = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
                     "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    struct ident id = {.type = alpn_cases[_i].t, .value = (char *)alpn_cases[_i].in};
    EVP_PKEY *k = NULL;
    X509 *c = NULL;

    ck_assert_int_eq(x509_make_tlsalpn01(&id, ka, &k, &c), MC_OK);
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(c);

    /* A fresh P-256 key, and the certificate is self-signed with it. */
    enum key_type t;
    ck_assert_int_eq(key_classify(k, &t), MC_OK);
    ck_assert_int_eq(t, KEY_EC_P256);
    ck_assert_int_eq(X509_verify(c, k), 1);
    ck_assert_int_eq(X509_check_private_key(c, k), 1);
    ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)), 0);

    /* SAN: exactly the identifier, as the right GeneralName type. */
    GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
    ck_assert_ptr_nonnull(gens);
    ck_assert_int_eq(sk_GENERAL_NAME_num(gens), 1);
    ck_assert_int_eq(sk_GENERAL_NAME_value(gens, 0)->type, alpn_cases[_i].gen);
    GENERAL_NAMES_free(gens);
    struct ident_list sans = {0};
    ck_assert_int_eq(x509_sans(c, &sans), MC_OK);
    ck_assert_uint_eq(sans.n, 1);
    ck_assert_int_eq(sans.v[0].type, alpn_cases[_i].t);
    ck_assert_str_eq(sans.v[0].value, alpn_cases[_i].want);
    ident_list_free(&sans);

    /* The acmeIdentifier extension: critical, extnValue = 04 20 SHA-256(ka). */
    uint8_t want[32];
    ck_assert_int_eq(EVP_Digest(ka, strlen(ka), want, NULL, EVP_sha256(), NULL), 1);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    int loc = X509_get_ext_by_OBJ(c, obj, -1);
    ASN1_OBJECT_free(obj);
    ck_assert_int_ge(loc, 0);
    X509_EXTENSION *e = X509_get_ext(c, loc);
    ck_assert_int_eq(X509_EXTENSION_get_critical(e), 1);
    const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(e);
    ck_assert_int_eq(ASN1_STRING_length(data), 34);
    const uint8_t *raw = ASN1_STRING_get0_data(data);
    ck_assert_int_eq(raw[0], 0x04);
    ck_assert_int_eq(raw[1], 0x20);
    ck_assert_mem_eq(raw + 2, want, 32);
    uint8_t got[32];
    ck_assert_int_eq(x509_acme_identifier(c, got), MC_OK);
    ck_assert_mem_eq(got, want, 32);

    /* Validity around now: a day back, about a week ahead. */
    int64_t nb = 0, na = 0, now = (int64_t)time(NULL);
    ck_assert_int_eq(x509_validity(c, &nb, &na), MC_OK);
    ck_assert_int_le(nb, now - 86400 + 5);
    ck_assert_int_ge(nb, now - 86400 - 60);
    ck_assert_int_ge(na, now + 7 * 86400 - 60);
    ck_assert_int_le(na, now + 7 * 86400 + 60);

    /* A random, positive, non-zero serial; a second cert gets another. */
    char *s1 = NULL, *s2 = NULL;
    ck_assert_int_eq(x509_serial_hex(c, &s1), MC_OK);
    ck_assert_str_ne(s1, "0");
    ck_assert(s1[0] != '-');
    EVP_PKEY *k2 = NULL;
    X509 *c2 = NULL;
    ck_assert_int_eq(x509_make_tlsalpn01(&id, ka, &k2, &c2), MC_OK);
    ck_assert_int_eq(x509_serial_hex(c2, &s2), MC_OK);
    ck_assert_str_ne(s1, s2);
    ck_assert_int_ne(EVP_PKEY_eq(k, k2), 1);
    free(s1);
    free(s2);
    X509_free(c2);
    EVP_PKEY_free(k2);

    X509_free(c);
    EVP_PKEY_free(k);
}
END_TEST

/* A cert carrying an acmeIdentifier extension built by hand. */
static X509 *cert_with_acme_ext(EVP_PKEY *k, const uint8_t *value, int len, int crit)
{
    X509 *c = make_plain_cert(k, 1700000000, 1700086400, false);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(os, value, len);
    X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, crit, os);
    ck_assert_ptr_nonnull(e);
    X509_add_ext(c, e, -1);
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    ck_assert_int_gt(X509_sign(c, k, EVP_sha256()), 0);
    return c;
}

START_TEST(test_acme_identifier_bad)
{
    EVP_PKEY *k = NULL;
    uint8_t good[34] = {0x04, 0x20};
    uint8_t out[32];
    X509 *c;

    memset(good + 2, 0x5a, 32);
    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);

    c = cert_with_acme_ext(k, good, 34, 1);
    ck_assert_int_eq(x509_acme_identifier(c, out), MC_OK);
    ck_assert_int_eq(out[31], 0x5a);
    X509_free(c);
    /* Not critical. */
    c = cert_with_acme_ext(k, good, 34, 0);
    ck_assert_int_eq(x509_acme_identifier(c, out), MC_ERR_INVALID);
    X509_free(c);
    /* The raw 32 bytes without the OCTET STRING wrapping (a known client bug). */
    c = cert_with_acme_ext(k, good + 2, 32, 1);
    ck_assert_int_eq(x509_acme_identifier(c, out), MC_ERR_INVALID);
    X509_free(c);
    /* An OCTET STRING of 31 bytes; trailing garbage after the OCTET STRING. */
    uint8_t shortv[33] = {0x04, 0x1f};
    c = cert_with_acme_ext(k, shortv, 33, 1);
    ck_assert_int_eq(x509_acme_identifier(c, out), MC_ERR_INVALID);
    X509_free(c);
    uint8_t trailing[35];
    memcpy(trailing, good, 34);
    trailing[34] = 0;
    c = cert_with_acme_ext(k, trailing, 35, 1);
    ck_assert_int_eq(x509_acme_identifier(c, out), MC_ERR_INVALID);
    X509_free(c);

    /* Bad inputs to the maker. */
    EVP_PKEY *kk = NULL;
    X509 *cc = NULL;
    struct ident bad = {.type = IDENT_DNS, .value = "a..b"};
    ck_assert_int_eq(x509_make_tlsalpn01(&bad, "x.y", &kk, &cc), MC_ERR_INVALID);
    ck_assert_ptr_null(kk);
    ck_assert_ptr_null(cc);
    struct ident badip = {.type = IDENT_IP, .value = "1.2.3.999"};
    ck_assert_int_eq(x509_make_tlsalpn01(&badip, "x.y", &kk, &cc), MC_ERR_INVALID);
    struct ident okid = {.type = IDENT_DNS, .value = "example.com"};
    ck_assert_int_eq(x509_make_tlsalpn01(&okid, NULL, &kk, &cc), MC_ERR_INVALID);

    EVP_PKEY_free(k);
}
END_TEST

Suite *keys_csr_x509_suite(void)
{
    Suite *s = suite_create("keys_csr_x509");
    TCase *tc = tcase_create("keys");
    /* RSA-8192 generation alone can take tens of seconds on a busy machine. */
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_key_type_names);
    tcase_add_loop_test(tc, test_key_generate_save_load, 0,
                        (int)(sizeof(key_cases) / sizeof(key_cases[0])));
    tcase_add_test(tc, test_key_classify_other);
    tcase_add_test(tc, test_key_classify_repeat);
    tcase_add_test(tc, test_key_load_forms);
    suite_add_tcase(s, tc);

    tc = tcase_create("ident");
    tcase_add_test(tc, test_ident_normalize);
    tcase_add_test(tc, test_ident_list_limit_and_sets);
    suite_add_tcase(s, tc);

    tc = tcase_create("csr");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_csr_roundtrip, 0,
                        (int)(sizeof(csr_key_types) / sizeof(csr_key_types[0])));
    tcase_add_test(tc, test_csr_bad);
    suite_add_tcase(s, tc);

    tc = tcase_create("x509");
    tcase_add_test(tc, test_x509_readers);
    tcase_add_loop_test(tc, test_tlsalpn01, 0, (int)(sizeof(alpn_cases) / sizeof(alpn_cases[0])));
    tcase_add_test(tc, test_acme_identifier_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(keys_csr_x509_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
