/* Unit tests for mockca/ca.c: chains as Pebble lays them out (PEBBLE_CHAIN_LENGTH and
 * alternate roots), leaf contents, validity, revocation, OCSP, CRL, pruning, supplied
 * roots and bounds. The .c file is included to reach the registry for the limit test. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../mockca/ca.c"

#include "common/clock.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"

/* A fixed instant (2030-01-02T03:04:05Z) so validity, OCSP and CRL times are exact. */
#define T0 ((int64_t)1893553445)

static struct mc_clock *clk;

static void setup(void)
{
    log_set_stream(NULL);
    clk = clock_new();
    ck_assert_ptr_nonnull(clk);
    clock_set(clk, T0 * 1000);
    clock_freeze(clk);
}

static void teardown(void)
{
    clock_free(clk);
    clk = NULL;
}

static struct ca *new_ca(unsigned chain_length, unsigned alternate_roots)
{
    struct ca_config cfg = {0};
    struct ca *ca = NULL;

    cfg.chain_length = chain_length;
    cfg.alternate_roots = alternate_roots;
    cfg.clock = clk;
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_OK);
    ck_assert_ptr_nonnull(ca);
    return ca;
}

static EVP_PKEY *gen(enum key_type t)
{
    EVP_PKEY *k = NULL;

    ck_assert_int_eq(key_generate(t, &k), MC_OK);
    return k;
}

static void add(struct ident_list *l, enum ident_type t, const char *v)
{
    ck_assert_int_eq(ident_list_add(l, t, v), MC_OK);
}

/* Issues a leaf for key with one DNS name; *serial (may be NULL) gets its hex. */
static X509 *issue_simple(struct ca *ca, EVP_PKEY *key, const char *name, int64_t validity,
                          char **serial)
{
    struct ident_list sans = {0};
    struct ca_issue_request req = {0};
    X509 *leaf = NULL;
    char *hex = NULL;

    add(&sans, IDENT_DNS, name);
    req.public_key = key;
    req.sans = &sans;
    req.promote_cn = true;
    req.validity = validity;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_OK);
    ck_assert_ptr_nonnull(leaf);
    ck_assert_ptr_nonnull(hex);
    ident_list_free(&sans);
    if (serial != NULL)
        *serial = hex;
    else
        free(hex);
    return leaf;
}

static X509 *cert_from_pem(const char *pem)
{
    X509 *x = NULL;

    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &x), MC_OK);
    return x;
}

static X509 *root_cert(struct ca *ca, size_t chain)
{
    char *pem = NULL;
    X509 *x;

    ck_assert_int_eq(ca_root_pem(ca, chain, &pem), MC_OK);
    x = cert_from_pem(pem);
    free(pem);
    return x;
}

static X509 *inter_cert(struct ca *ca, size_t chain, size_t i)
{
    char *pem = NULL;
    X509 *x;

    ck_assert_int_eq(ca_intermediate_pem(ca, chain, i, &pem), MC_OK);
    x = cert_from_pem(pem);
    free(pem);
    return x;
}

/* Verifies leaf as a TLS server certificate (strict RFC 5280 checks) against chain's root
 * as the only trust anchor and the intermediates from ca_chain_pem as untrusted, at the
 * frozen clock's time; crl (may be NULL) turns on revocation checking. Returns the
 * X509_V_ result; *depth gets the built chain's length. */
static int verify_in_chain(struct ca *ca, X509 *leaf, size_t chain, X509_CRL *crl, int *depth)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *certs = NULL;
    X509 *root = root_cert(ca, chain);
    char *pem = NULL;
    int rc;
    unsigned long flags = X509_V_FLAG_X509_STRICT;

    ck_assert_ptr_nonnull(store);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(X509_STORE_add_cert(store, root), 1);
    if (crl != NULL) {
        ck_assert_int_eq(X509_STORE_add_crl(store, crl), 1);
        flags |= X509_V_FLAG_CRL_CHECK;
    }
    ck_assert_int_eq(ca_chain_pem(ca, leaf, chain, &pem), MC_OK);
    ck_assert_int_eq(pem_read_certs(pem, strlen(pem), &certs), MC_OK);
    /* The download is the leaf, then the intermediates issuing-first, no root. */
    ck_assert_int_eq(X509_cmp(sk_X509_value(certs, 0), leaf), 0);
    ck_assert_int_eq(sk_X509_num(certs), 1 + (int)ca->ninter);
    for (int i = 1; i < sk_X509_num(certs); i++)
        ck_assert_int_ne(X509_cmp(sk_X509_value(certs, i), root), 0);
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf, certs), 1);
    X509_STORE_CTX_set_flags(ctx, flags);
    X509_STORE_CTX_set_time(ctx, 0, (time_t)T0);
    ck_assert_int_eq(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER), 1);
    rc = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    if (rc == X509_V_OK && depth != NULL)
        *depth = sk_X509_num(X509_STORE_CTX_get0_chain(ctx));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(certs, X509_free);
    X509_free(root);
    free(pem);
    return rc;
}

static bool ext_critical(X509 *x, int nid)
{
    int idx = X509_get_ext_by_NID(x, nid, -1);

    ck_assert_int_ge(idx, 0);
    return X509_EXTENSION_get_critical(X509_get_ext(x, idx)) == 1;
}

static void assert_aki_is_ski(X509 *child, X509 *parent)
{
    uint8_t *aki = NULL, *ski = NULL;
    size_t akin = 0, skin = 0;

    ck_assert_int_eq(x509_aki(child, &aki, &akin), MC_OK);
    ck_assert_int_eq(x509_ski(parent, &ski, &skin), MC_OK);
    ck_assert_uint_eq(akin, skin);
    ck_assert_int_eq(memcmp(aki, ski, akin), 0);
    free(aki);
    free(ski);
}

/* ---- chains ------------------------------------------------------------------------- */

START_TEST(test_chains_verify_everywhere)
{
    static const unsigned lengths[] = {1, 2, 3};
    static const unsigned alts[] = {0, 2};
    EVP_PKEY *ec = gen(KEY_EC_P256);
    EVP_PKEY *rsa = gen(KEY_RSA2048);

    for (size_t li = 0; li < 3; li++) {
        for (size_t ai = 0; ai < 2; ai++) {
            unsigned len = lengths[li];
            struct ca *ca = new_ca(len, alts[ai]);
            X509 *leaves[2];
            X509 *issuing0 = inter_cert(ca, 0, 0);
            char *pem = NULL;

            ck_assert_uint_eq(ca_chain_count(ca), 1 + alts[ai]);
            ck_assert_int_eq(ca_root_pem(ca, 1 + alts[ai], &pem), MC_ERR_NOT_FOUND);
            ck_assert_ptr_null(pem);
            ck_assert_int_eq(ca_intermediate_pem(ca, 0, len, &pem), MC_ERR_NOT_FOUND);
            ck_assert_int_eq(ca_intermediate_key_pem(ca, 1 + alts[ai], 0, &pem),
                             MC_ERR_NOT_FOUND);
            leaves[0] = issue_simple(ca, ec, "ec.example.com", 0, NULL);
            leaves[1] = issue_simple(ca, rsa, "rsa.example.com", 0, NULL);

            for (size_t c = 0; c < ca_chain_count(ca); c++) {
                X509 *root = root_cert(ca, c);
                X509 *issuing = inter_cert(ca, c, 0);
                X509 *top = inter_cert(ca, c, len - 1);
                EVP_PKEY *ikey = NULL;

                /* Root: self-signed CA, critical BC and KU keyCertSign + cRLSign, SKI. */
                ck_assert_int_eq(X509_check_issued(root, root), X509_V_OK);
                ck_assert_int_eq(X509_check_ca(root), 1);
                ck_assert(ext_critical(root, NID_basic_constraints));
                ck_assert(ext_critical(root, NID_key_usage));
                ck_assert_uint_eq(X509_get_key_usage(root) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN),
                                  KU_KEY_CERT_SIGN | KU_CRL_SIGN);
                ck_assert_int_ge(X509_get_ext_by_NID(root, NID_subject_key_identifier, -1), 0);
                /* The top intermediate hangs off the root, the issuing one signs leaves,
                 * with the path lengths that make that the only shape allowed. */
                ck_assert_int_eq(X509_check_issued(root, top), X509_V_OK);
                assert_aki_is_ski(top, root);
                ck_assert_int_eq(X509_get_pathlen(top), (long)len - 1);
                ck_assert_int_eq(X509_get_pathlen(issuing), 0);
                ck_assert(ext_critical(issuing, NID_basic_constraints));
                for (size_t i = 0; i + 1 < len; i++) {
                    X509 *lo = inter_cert(ca, c, i), *hi = inter_cert(ca, c, i + 1);

                    ck_assert_int_eq(X509_check_issued(hi, lo), X509_V_OK);
                    assert_aki_is_ski(lo, hi);
                    X509_free(lo);
                    X509_free(hi);
                }
                /* Every chain's issuing intermediate is the same name and key. */
                ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(issuing),
                                               X509_get_subject_name(issuing0)),
                                 0);
                ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(issuing),
                                             X509_get0_pubkey(issuing0)),
                                 1);
                ck_assert_int_eq(ca_intermediate_key_pem(ca, c, 0, &pem), MC_OK);
                ck_assert_int_eq(pem_read_private_key(pem, strlen(pem), &ikey), MC_OK);
                ck_assert_int_eq(X509_check_private_key(issuing, ikey), 1);
                EVP_PKEY_free(ikey);
                free(pem);
                pem = NULL;
                if (c > 0) {
                    X509 *root0 = root_cert(ca, 0);

                    ck_assert_int_ne(X509_cmp(root, root0), 0);
                    ck_assert_int_ne(EVP_PKEY_eq(X509_get0_pubkey(root),
                                                 X509_get0_pubkey(root0)),
                                     1);
                    X509_free(root0);
                }
                for (size_t l = 0; l < 2; l++) {
                    int depth = 0;

                    ck_assert_int_eq(verify_in_chain(ca, leaves[l], c, NULL, &depth), X509_V_OK);
                    ck_assert_int_eq(depth, 2 + (int)len);
                }
                X509_free(root);
                X509_free(issuing);
                X509_free(top);
            }
            X509_free(leaves[0]);
            X509_free(leaves[1]);
            X509_free(issuing0);
            ca_free(ca);
        }
    }
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}
END_TEST

/* A leaf of one CA must not verify under another CA's root: the check above can fail. */
START_TEST(test_foreign_root_rejected)
{
    struct ca *a = new_ca(0, 0), *b = new_ca(0, 0);
    EVP_PKEY *k = gen(KEY_EC_P256);
    X509 *leaf = issue_simple(a, k, "a.example", 0, NULL);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *broot = root_cert(b, 0), *ainter = inter_cert(a, 0, 0);
    STACK_OF(X509) *untrusted = sk_X509_new_null();

    ck_assert_int_eq(X509_STORE_add_cert(store, broot), 1);
    sk_X509_push(untrusted, ainter);
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
    X509_STORE_CTX_set_time(ctx, 0, (time_t)T0);
    ck_assert_int_ne(X509_verify_cert(ctx), 1);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    X509_free(broot);
    X509_free(ainter);
    X509_free(leaf);
    EVP_PKEY_free(k);
    ca_free(a);
    ca_free(b);
}
END_TEST

START_TEST(test_rsa_ca_keys)
{
    struct ca_config cfg = {0};
    struct ca *ca = NULL;
    EVP_PKEY *k = gen(KEY_EC_P384);
    X509 *leaf, *root;
    int depth = 0;

    cfg.key_type = KEY_RSA2048;
    cfg.clock = clk;
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_OK);
    root = root_cert(ca, 0);
    ck_assert_int_eq(EVP_PKEY_get_base_id(X509_get0_pubkey(root)), EVP_PKEY_RSA);
    leaf = issue_simple(ca, k, "rsa-ca.example", 0, NULL);
    ck_assert_int_eq(verify_in_chain(ca, leaf, 0, NULL, &depth), X509_V_OK);
    ck_assert_int_eq(depth, 3);
    X509_free(root);
    X509_free(leaf);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

/* ---- leaf contents ------------------------------------------------------------------ */

static char *first_uri(GENERAL_NAMES *gens)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);

        if (gn->type == GEN_URI)
            return strdup((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier));
    }
    return NULL;
}

static char *aia_uri(X509 *x, int method)
{
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    char *uri = NULL;

    for (int i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

        if (OBJ_obj2nid(ad->method) == method && ad->location->type == GEN_URI)
            uri = strdup((const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier));
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    return uri;
}

static char *crl_dp_uri(X509 *x)
{
    CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    char *uri = NULL;

    if (dps != NULL && sk_DIST_POINT_num(dps) == 1) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, 0);

        if (dp->distpoint != NULL && dp->distpoint->type == 0)
            uri = first_uri(dp->distpoint->name.fullname);
    }
    CRL_DIST_POINTS_free(dps);
    return uri;
}

static char *subject_cn(X509 *x)
{
    char buf[256];
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));

    return n < 0 ? NULL : strdup(buf);
}

START_TEST(test_leaf_extensions)
{
    struct ca_config cfg = {0};
    struct ca *ca = NULL;
    struct ident_list sans = {0}, got = {0};
    struct ca_issue_request req = {0};
    EVP_PKEY *ec = gen(KEY_EC_P256), *rsa = gen(KEY_RSA2048);
    X509 *leaf = NULL, *issuing;
    char *hex = NULL, *s;
    BASIC_CONSTRAINTS *bc;
    TLS_FEATURE *tlsf;
    int crit = -1;

    cfg.clock = clk;
    cfg.ocsp_url = "http://127.0.0.1:4002/ocsp";
    cfg.issuer_url = "http://127.0.0.1:4002/issuer,with-comma";
    cfg.crl_url = "http://127.0.0.1:4002/crl";
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_OK);
    issuing = inter_cert(ca, 0, 0);

    add(&sans, IDENT_DNS, "www.example.com");
    add(&sans, IDENT_DNS, "*.example.com");
    add(&sans, IDENT_IP, "192.0.2.1");
    add(&sans, IDENT_IP, "2001:db8::1");
    req.public_key = ec;
    req.sans = &sans;
    req.promote_cn = true;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_OK);

    /* SANs exactly, in order; non-critical because the subject has a CN. */
    ck_assert_int_eq(x509_sans(leaf, &got), MC_OK);
    ck_assert_uint_eq(got.n, 4);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(got.v[i].type, sans.v[i].type);
        ck_assert_str_eq(got.v[i].value, sans.v[i].value);
    }
    ident_list_free(&got);
    ck_assert(!ext_critical(leaf, NID_subject_alt_name));
    s = subject_cn(leaf);
    ck_assert_str_eq(s, "www.example.com");
    free(s);
    /* Serial: 16 bytes, lowercase hex as x509_serial_hex gives it. */
    ck_assert_uint_eq(strlen(hex), 32);
    {
        char *again = NULL;

        ck_assert_int_eq(x509_serial_hex(leaf, &again), MC_OK);
        ck_assert_str_eq(hex, again);
        free(again);
    }
    /* EKU serverAuth + clientAuth; KU digitalSignature only for EC, critical. */
    ck_assert_uint_ne(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE, 0);
    ck_assert_uint_eq(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER | XKU_SSL_CLIENT);
    ck_assert_uint_eq(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
    ck_assert(ext_critical(leaf, NID_key_usage));
    /* basicConstraints CA:FALSE, critical. */
    bc = X509_get_ext_d2i(leaf, NID_basic_constraints, &crit, NULL);
    ck_assert_ptr_nonnull(bc);
    ck_assert_int_eq(bc->ca, 0);
    ck_assert_int_eq(crit, 1);
    BASIC_CONSTRAINTS_free(bc);
    ck_assert_int_eq(X509_check_ca(leaf), 0);
    /* AKI is the issuing intermediate's SKI; SKI present; issuer name matches. */
    assert_aki_is_ski(leaf, issuing);
    ck_assert_int_ge(X509_get_ext_by_NID(leaf, NID_subject_key_identifier, -1), 0);
    ck_assert_int_eq(X509_check_issued(issuing, leaf), X509_V_OK);
    /* AIA and CRL DP with the configured URLs, commas and all. */
    s = aia_uri(leaf, NID_ad_OCSP);
    ck_assert_str_eq(s, cfg.ocsp_url);
    free(s);
    s = aia_uri(leaf, NID_ad_ca_issuers);
    ck_assert_str_eq(s, cfg.issuer_url);
    free(s);
    s = crl_dp_uri(leaf);
    ck_assert_str_eq(s, cfg.crl_url);
    free(s);
    /* No must-staple unless asked. */
    ck_assert_int_lt(X509_get_ext_by_NID(leaf, NID_tlsfeature, -1), 0);
    X509_free(leaf);
    free(hex);

    /* RSA subject key: keyEncipherment too; must-staple carries status_request (5). */
    req.public_key = rsa;
    req.must_staple = true;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_OK);
    ck_assert_uint_eq(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
    tlsf = X509_get_ext_d2i(leaf, NID_tlsfeature, NULL, NULL);
    ck_assert_ptr_nonnull(tlsf);
    ck_assert_int_eq(sk_ASN1_INTEGER_num(tlsf), 1);
    ck_assert_int_eq(ASN1_INTEGER_get(sk_ASN1_INTEGER_value(tlsf, 0)), 5);
    sk_ASN1_INTEGER_pop_free(tlsf, ASN1_INTEGER_free);
    ck_assert_int_eq(verify_in_chain(ca, leaf, 0, NULL, NULL), X509_V_OK);
    X509_free(leaf);
    free(hex);

    ident_list_free(&sans);
    X509_free(issuing);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    ca_free(ca);
}
END_TEST

START_TEST(test_leaf_cn_choices)
{
    struct ca *ca = new_ca(0, 0);
    struct ident_list sans = {0};
    struct ca_issue_request req = {0};
    EVP_PKEY *k = gen(KEY_EC_P256);
    X509 *leaf = NULL;
    char *hex = NULL, *s;
    char longname[80];

    /* 70 characters: too long for a CN, so promotion skips to the next DNS name. */
    memset(longname, 'a', 60);
    memcpy(longname + 60, ".example1", 10); /* includes the NUL */
    ck_assert_uint_eq(strlen(longname), 69);
    add(&sans, IDENT_IP, "192.0.2.7");
    add(&sans, IDENT_DNS, longname);
    add(&sans, IDENT_DNS, "short.example");
    req.public_key = k;
    req.sans = &sans;
    req.promote_cn = true;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_OK);
    s = subject_cn(leaf);
    ck_assert_str_eq(s, "short.example");
    free(s);
    X509_free(leaf);
    free(hex);

    /* No CN asked, none promoted: empty subject, so the SAN is critical. */
    req.promote_cn = false;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_OK);
    ck_assert_ptr_null(subject_cn(leaf));
    ck_assert_int_eq(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
    ck_assert(ext_critical(leaf, NID_subject_alt_name));
    ck_assert_int_eq(verify_in_chain(ca, leaf, 0, NULL, NULL), X509_V_OK);
    X509_free(leaf);
    free(hex);

    /* An explicit CN wins over promotion; an over-long one is refused. */
    req.common_name = "explicit.example";
    req.promote_cn = true;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_OK);
    s = subject_cn(leaf);
    ck_assert_str_eq(s, "explicit.example");
    free(s);
    X509_free(leaf);
    free(hex);
    req.common_name = longname;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_ERR_INVALID);
    ck_assert_ptr_null(leaf);
    ck_assert_ptr_null(hex);

    ident_list_free(&sans);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

START_TEST(test_no_urls_no_aia)
{
    struct ca *ca = new_ca(0, 0);
    EVP_PKEY *k = gen(KEY_EC_P256);
    X509 *leaf = issue_simple(ca, k, "plain.example", 0, NULL);

    ck_assert_int_lt(X509_get_ext_by_NID(leaf, NID_info_access, -1), 0);
    ck_assert_int_lt(X509_get_ext_by_NID(leaf, NID_crl_distribution_points, -1), 0);
    X509_free(leaf);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

/* ---- validity ----------------------------------------------------------------------- */

static void issue_times(struct ca *ca, EVP_PKEY *k, int64_t nb, int64_t na, int64_t validity,
                        enum mc_err want, int64_t want_nb, int64_t want_na)
{
    struct ident_list sans = {0};
    struct ca_issue_request req = {0};
    X509 *leaf = NULL;
    char *hex = NULL;
    int64_t got_nb = 0, got_na = 0;

    add(&sans, IDENT_DNS, "time.example");
    req.public_key = k;
    req.sans = &sans;
    req.not_before = nb;
    req.not_after = na;
    req.validity = validity;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), want);
    if (want == MC_OK) {
        ck_assert_int_eq(x509_validity(leaf, &got_nb, &got_na), MC_OK);
        ck_assert_int_eq(got_nb, want_nb);
        ck_assert_int_eq(got_na, want_na);
    } else {
        ck_assert_ptr_null(leaf);
        ck_assert_ptr_null(hex);
    }
    X509_free(leaf);
    free(hex);
    ident_list_free(&sans);
}

START_TEST(test_validity)
{
    struct ca *ca = new_ca(0, 0);
    EVP_PKEY *k = gen(KEY_EC_P256);
    struct ident_list none = {0};
    struct ca_issue_request req = {0};
    X509 *leaf = NULL;
    char *hex = NULL;

    /* A defaulted notBefore is backdated an hour; the validity then counts from now. */
    issue_times(ca, k, 0, 0, 0, MC_OK, T0 - 3600, T0 + 90 * 86400);
    issue_times(ca, k, 0, 0, 3600, MC_OK, T0 - 3600, T0 + 3600);
    issue_times(ca, k, T0 - 86400, 0, 0, MC_OK, T0 - 86400, T0 - 86400 + 90 * 86400);
    issue_times(ca, k, T0 + 100, T0 + 200, 0, MC_OK, T0 + 100, T0 + 200);
    issue_times(ca, k, 0, T0 + 7 * 86400, 0, MC_OK, T0 - 3600, T0 + 7 * 86400);
    /* A date past 2049 needs GeneralizedTime; it must round-trip too. */
    issue_times(ca, k, 0, (int64_t)4102444800 + 5, 0, MC_OK, T0 - 3600, (int64_t)4102444800 + 5);
    /* Already expired at issuance, though after the backdated notBefore: refused. */
    issue_times(ca, k, 0, T0 - 60, 0, MC_ERR_INVALID, 0, 0);
    issue_times(ca, k, 0, T0, 0, MC_ERR_INVALID, 0, 0);
    issue_times(ca, k, T0 + 200, T0 + 100, 0, MC_ERR_INVALID, 0, 0);
    issue_times(ca, k, T0 + 100, T0 + 100, 0, MC_ERR_INVALID, 0, 0);
    issue_times(ca, k, 0, T0 - 1, 0, MC_ERR_INVALID, 0, 0);
    issue_times(ca, k, 0, 0, -5, MC_ERR_INVALID, 0, 0);

    /* No SANs at all is refused. */
    req.public_key = k;
    req.sans = &none;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_ERR_INVALID);
    req.sans = NULL;
    ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_ERR_INVALID);
    ck_assert_ptr_null(leaf);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

/* ---- revocation --------------------------------------------------------------------- */

START_TEST(test_revoke_and_status)
{
    struct ca *ca = new_ca(0, 0);
    EVP_PKEY *k = gen(KEY_EC_P256);
    char *serial = NULL;
    X509 *leaf = issue_simple(ca, k, "rev.example", 0, &serial);
    enum ca_status st = CA_STATUS_REVOKED;
    int reason = -1;
    int64_t at = 0;
    char upper[64];

    ck_assert_int_eq(ca_status(ca, serial, &st, &reason, &at), MC_OK);
    ck_assert_int_eq(st, CA_STATUS_GOOD);
    ck_assert_int_eq(ca_revoke(ca, serial, 7), MC_ERR_INVALID);
    ck_assert_int_eq(ca_revoke(ca, serial, 11), MC_ERR_INVALID);
    ck_assert_int_eq(ca_revoke(ca, serial, -1), MC_ERR_INVALID);
    ck_assert_int_eq(ca_revoke(ca, "abcdef0123", 1), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(ca_revoke(ca, "0123456789abcdef0123456789abcdef0123456789", 1),
                     MC_ERR_NOT_FOUND);
    ck_assert_int_eq(ca_revoke(ca, "xyz", 1), MC_ERR_INVALID);
    ck_assert_int_eq(ca_revoke(ca, "", 1), MC_ERR_INVALID);
    ck_assert_int_eq(ca_status(ca, serial, &st, NULL, NULL), MC_OK);
    ck_assert_int_eq(st, CA_STATUS_GOOD); /* the refusals changed nothing */

    clock_advance(clk, 5000);
    ck_assert_int_eq(ca_revoke(ca, serial, CA_REASON_KEY_COMPROMISE), MC_OK);
    ck_assert_int_eq(ca_revoke(ca, serial, CA_REASON_SUPERSEDED), MC_ERR_EXISTS);
    /* Case and leading zeros do not matter. */
    upper[0] = '0';
    for (size_t i = 0; serial[i] != '\0'; i++)
        upper[i + 1] = (char)toupper((unsigned char)serial[i]);
    upper[strlen(serial) + 1] = '\0';
    ck_assert_int_eq(ca_status(ca, upper, &st, &reason, &at), MC_OK);
    ck_assert_int_eq(st, CA_STATUS_REVOKED);
    ck_assert_int_eq(reason, CA_REASON_KEY_COMPROMISE);
    ck_assert_int_eq(at, T0 + 5);
    ck_assert_int_eq(ca_status(ca, "abcdef", &st, &reason, &at), MC_OK);
    ck_assert_int_eq(st, CA_STATUS_UNKNOWN);
    ck_assert_int_eq(ca_status(ca, "not-hex", &st, NULL, NULL), MC_ERR_INVALID);

    X509_free(leaf);
    free(serial);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

/* ---- OCSP --------------------------------------------------------------------------- */

static uint8_t *ocsp_request_der(OCSP_REQUEST *req, size_t *n)
{
    unsigned char *der = NULL;
    int len = i2d_OCSP_REQUEST(req, &der);

    ck_assert_int_gt(len, 0);
    *n = (size_t)len;
    return der;
}

static OCSP_RESPONSE *ocsp_roundtrip(struct ca *ca, const uint8_t *der, size_t n)
{
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    const unsigned char *p;
    OCSP_RESPONSE *ors;

    ck_assert_int_eq(ca_ocsp_respond(ca, der, n, &resp, &resp_len), MC_OK);
    ck_assert_ptr_nonnull(resp);
    p = resp;
    ors = d2i_OCSP_RESPONSE(NULL, &p, (long)resp_len);
    ck_assert_ptr_nonnull(ors);
    ck_assert(p == resp + resp_len);
    free(resp);
    return ors;
}

START_TEST(test_ocsp)
{
    struct ca *ca = new_ca(2, 1), *other = new_ca(0, 0);
    EVP_PKEY *k = gen(KEY_EC_P256);
    char *rserial = NULL;
    X509 *good = issue_simple(ca, k, "good.example", 0, NULL);
    X509 *revoked = issue_simple(ca, k, "revoked.example", 0, &rserial);
    X509 *issuing = inter_cert(ca, 0, 0), *upper = inter_cert(ca, 0, 1), *root = root_cert(ca, 0);
    X509 *other_issuing = inter_cert(other, 0, 0);
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id_good = OCSP_cert_to_id(EVP_sha1(), good, issuing);
    OCSP_CERTID *id_rev = OCSP_cert_to_id(EVP_sha256(), revoked, issuing);
    ASN1_INTEGER *unknown_serial = ASN1_INTEGER_new();
    OCSP_CERTID *id_unknown;
    OCSP_RESPONSE *ors;
    OCSP_BASICRESP *bs;
    STACK_OF(X509) *signers = sk_X509_new_null();
    STACK_OF(X509) *wrong = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    int status, reason;
    ASN1_GENERALIZEDTIME *revtime, *thisupd, *nextupd;
    int day = 0, sec = 0;
    uint8_t *der;
    size_t n;

    clock_advance(clk, 60000);
    ck_assert_int_eq(ca_revoke(ca, rserial, CA_REASON_KEY_COMPROMISE), MC_OK);
    clock_advance(clk, 60000);

    ck_assert_int_eq(ASN1_INTEGER_set_uint64(unknown_serial, 0x4242424242ULL), 1);
    id_unknown = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuing),
                                  X509_get0_pubkey_bitstr(issuing), unknown_serial);
    ck_assert_ptr_nonnull(id_good);
    ck_assert_ptr_nonnull(id_rev);
    ck_assert_ptr_nonnull(id_unknown);
    ck_assert_ptr_nonnull(OCSP_request_add0_id(req, OCSP_CERTID_dup(id_good)));
    ck_assert_ptr_nonnull(OCSP_request_add0_id(req, OCSP_CERTID_dup(id_rev)));
    ck_assert_ptr_nonnull(OCSP_request_add0_id(req, OCSP_CERTID_dup(id_unknown)));
    ck_assert_int_eq(OCSP_request_add1_nonce(req, NULL, -1), 1);
    der = ocsp_request_der(req, &n);
    ors = ocsp_roundtrip(ca, der, n);
    ck_assert_int_eq(OCSP_response_status(ors), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    bs = OCSP_response_get1_basic(ors);
    ck_assert_ptr_nonnull(bs);
    ck_assert_int_eq(OCSP_check_nonce(req, bs), 1);

    /* Signed by the issuing intermediate: it verifies to chain 0's root when only our
     * intermediates are offered (OCSP_NOINTERN ignores the certificate in the response),
     * and does not verify with another CA's intermediate. */
    sk_X509_push(signers, issuing);
    sk_X509_push(signers, upper);
    sk_X509_push(wrong, other_issuing);
    X509_STORE_add_cert(store, root);
    X509_STORE_set_flags(store, X509_V_FLAG_USE_CHECK_TIME);
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)T0);
    ck_assert_int_eq(OCSP_basic_verify(bs, signers, store, OCSP_NOINTERN), 1);
    ck_assert_int_le(OCSP_basic_verify(bs, wrong, store, OCSP_NOINTERN | OCSP_NOVERIFY), 0);
    ERR_clear_error();

    ck_assert_int_eq(OCSP_resp_find_status(bs, id_good, &status, &reason, &revtime, &thisupd,
                                           &nextupd),
                     1);
    ck_assert_int_eq(status, V_OCSP_CERTSTATUS_GOOD);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(thisupd, (time_t)(T0 + 120)), 0);
    ck_assert_int_eq(ASN1_TIME_diff(&day, &sec, thisupd, nextupd), 1);
    ck_assert_int_eq(day * 86400 + sec, 3600);
    ck_assert_int_eq(OCSP_resp_find_status(bs, id_rev, &status, &reason, &revtime, NULL, NULL),
                     1);
    ck_assert_int_eq(status, V_OCSP_CERTSTATUS_REVOKED);
    ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(revtime, (time_t)(T0 + 60)), 0);
    ck_assert_int_eq(OCSP_resp_find_status(bs, id_unknown, &status, &reason, NULL, NULL, NULL),
                     1);
    ck_assert_int_eq(status, V_OCSP_CERTSTATUS_UNKNOWN);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(ors);
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);

    /* A CertID naming another issuer, even with a serial we issued, is unknown; no nonce
     * asked, none sent. */
    {
        OCSP_CERTID *foreign = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(other_issuing),
                                                X509_get0_pubkey_bitstr(other_issuing),
                                                X509_get0_serialNumber(good));

        req = OCSP_REQUEST_new();
        ck_assert_ptr_nonnull(OCSP_request_add0_id(req, OCSP_CERTID_dup(foreign)));
        der = ocsp_request_der(req, &n);
        ors = ocsp_roundtrip(ca, der, n);
        bs = OCSP_response_get1_basic(ors);
        ck_assert_ptr_nonnull(bs);
        ck_assert_int_eq(OCSP_check_nonce(req, bs), 2); /* neither has one */
        ck_assert_int_eq(OCSP_resp_find_status(bs, foreign, &status, NULL, NULL, NULL, NULL), 1);
        ck_assert_int_eq(status, V_OCSP_CERTSTATUS_UNKNOWN);
        OCSP_BASICRESP_free(bs);
        OCSP_RESPONSE_free(ors);
        OCSP_CERTID_free(foreign);
    }

    /* Malformed: garbage, nothing, trailing bytes after a valid request. */
    {
        static const uint8_t garbage[] = {0x30, 0x82, 0xff, 0xff, 0x01, 0x02, 0x03, 'x'};
        uint8_t *padded = malloc(n + 1);

        ors = ocsp_roundtrip(ca, garbage, sizeof(garbage));
        ck_assert_int_eq(OCSP_response_status(ors), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
        ck_assert_ptr_null(OCSP_response_get1_basic(ors));
        OCSP_RESPONSE_free(ors);
        ors = ocsp_roundtrip(ca, NULL, 0);
        ck_assert_int_eq(OCSP_response_status(ors), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
        OCSP_RESPONSE_free(ors);
        ck_assert_ptr_nonnull(padded);
        memcpy(padded, der, n);
        padded[n] = 0;
        ors = ocsp_roundtrip(ca, padded, n + 1);
        ck_assert_int_eq(OCSP_response_status(ors), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
        OCSP_RESPONSE_free(ors);
        free(padded);
        ERR_clear_error();
    }
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);

    /* Unspecified (0) is sent without a reason (RFC 5280 section 5.3.1). */
    {
        char *s0 = NULL;
        X509 *l0 = issue_simple(ca, k, "zero.example", 0, &s0);
        OCSP_CERTID *id0 = OCSP_cert_to_id(NULL, l0, issuing);

        ck_assert_int_eq(ca_revoke(ca, s0, CA_REASON_UNSPECIFIED), MC_OK);
        req = OCSP_REQUEST_new();
        ck_assert_ptr_nonnull(OCSP_request_add0_id(req, OCSP_CERTID_dup(id0)));
        der = ocsp_request_der(req, &n);
        ors = ocsp_roundtrip(ca, der, n);
        bs = OCSP_response_get1_basic(ors);
        ck_assert_int_eq(OCSP_resp_find_status(bs, id0, &status, &reason, NULL, NULL, NULL), 1);
        ck_assert_int_eq(status, V_OCSP_CERTSTATUS_REVOKED);
        ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_NOSTATUS);
        OCSP_BASICRESP_free(bs);
        OCSP_RESPONSE_free(ors);
        OPENSSL_free(der);
        OCSP_REQUEST_free(req);
        OCSP_CERTID_free(id0);
        X509_free(l0);
        free(s0);
    }

    OCSP_CERTID_free(id_good);
    OCSP_CERTID_free(id_rev);
    OCSP_CERTID_free(id_unknown);
    ASN1_INTEGER_free(unknown_serial);
    sk_X509_free(signers);
    sk_X509_free(wrong);
    X509_STORE_free(store);
    X509_free(good);
    X509_free(revoked);
    X509_free(issuing);
    X509_free(upper);
    X509_free(root);
    X509_free(other_issuing);
    free(rserial);
    EVP_PKEY_free(k);
    ca_free(ca);
    ca_free(other);
}
END_TEST

/* ---- CRL ---------------------------------------------------------------------------- */

static X509_CRL *get_crl(struct ca *ca)
{
    uint8_t *der = NULL;
    size_t n = 0;
    const unsigned char *p;
    X509_CRL *crl;

    ck_assert_int_eq(ca_crl_der(ca, &der, &n), MC_OK);
    p = der;
    crl = d2i_X509_CRL(NULL, &p, (long)n);
    ck_assert_ptr_nonnull(crl);
    ck_assert(p == der + n);
    free(der);
    return crl;
}

/* An empty CRL has no revokedCertificates at all: OpenSSL gives a NULL stack. */
static int revoked_count(X509_CRL *crl)
{
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);

    return revs == NULL ? 0 : sk_X509_REVOKED_num(revs);
}

static uint64_t crl_number(X509_CRL *crl)
{
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    uint64_t v = 0;

    ck_assert_ptr_nonnull(num);
    ck_assert_int_eq(ASN1_INTEGER_get_uint64(&v, num), 1);
    ASN1_INTEGER_free(num);
    return v;
}

/* The reason listed for serial (-1: listed without a reason; -2: not listed). */
static int crl_reason(X509_CRL *crl, X509 *leaf)
{
    X509_REVOKED *rev = NULL;
    ASN1_ENUMERATED *code;
    int r;

    if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(leaf)) != 1)
        return -2;
    code = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    if (code == NULL)
        return -1;
    r = (int)ASN1_ENUMERATED_get(code);
    ASN1_ENUMERATED_free(code);
    return r;
}

START_TEST(test_crl)
{
    struct ca *ca = new_ca(2, 0);
    EVP_PKEY *k = gen(KEY_EC_P256);
    char *sa = NULL, *sb = NULL, *sc = NULL, *sd = NULL;
    X509 *a = issue_simple(ca, k, "a.example", 0, &sa);
    X509 *b = issue_simple(ca, k, "b.example", 0, &sb);
    X509 *c = issue_simple(ca, k, "c.example", 0, &sc);
    X509 *d = issue_simple(ca, k, "d.example", 0, &sd);
    X509 *issuing = inter_cert(ca, 0, 0), *root = root_cert(ca, 0);
    X509_CRL *crl;
    uint64_t n0, n1, n2;
    uint8_t *ski = NULL;
    size_t skin = 0;
    ASN1_OCTET_STRING *akid_os;
    AUTHORITY_KEYID *akid;

    crl = get_crl(ca);
    ck_assert_int_eq(revoked_count(crl), 0);
    n0 = crl_number(crl);
    X509_CRL_free(crl);

    ck_assert_int_eq(ca_revoke(ca, sa, CA_REASON_KEY_COMPROMISE), MC_OK);
    ck_assert_int_eq(ca_revoke(ca, sb, CA_REASON_SUPERSEDED), MC_OK);
    ck_assert_int_eq(ca_revoke(ca, sc, CA_REASON_UNSPECIFIED), MC_OK);
    crl = get_crl(ca);
    ck_assert_int_eq(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
    ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(issuing)), 1);
    ck_assert_int_le(X509_CRL_verify(crl, X509_get0_pubkey(root)), 0);
    ERR_clear_error();
    ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuing)), 0);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), (time_t)T0), 0);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl), (time_t)(T0 + 3600)), 0);
    ck_assert_int_eq(revoked_count(crl), 3);
    ck_assert_int_eq(crl_reason(crl, a), CA_REASON_KEY_COMPROMISE);
    ck_assert_int_eq(crl_reason(crl, b), CA_REASON_SUPERSEDED);
    ck_assert_int_eq(crl_reason(crl, c), -1);
    ck_assert_int_eq(crl_reason(crl, d), -2);
    n1 = crl_number(crl);
    ck_assert_uint_gt(n1, n0);
    /* AKI: the issuing intermediate's SKI. */
    akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
    ck_assert_ptr_nonnull(akid);
    akid_os = akid->keyid;
    ck_assert_ptr_nonnull(akid_os);
    ck_assert_int_eq(x509_ski(issuing, &ski, &skin), MC_OK);
    ck_assert_uint_eq((size_t)ASN1_STRING_length(akid_os), skin);
    ck_assert_int_eq(memcmp(ASN1_STRING_get0_data(akid_os), ski, skin), 0);
    AUTHORITY_KEYID_free(akid);
    free(ski);

    /* The CRL works for real revocation checking: d passes, a is revoked. */
    ck_assert_int_eq(verify_in_chain(ca, d, 0, crl, NULL), X509_V_OK);
    ck_assert_int_eq(verify_in_chain(ca, a, 0, crl, NULL), X509_V_ERR_CERT_REVOKED);
    X509_CRL_free(crl);

    ck_assert_int_eq(ca_revoke(ca, sd, CA_REASON_CESSATION_OF_OPERATION), MC_OK);
    crl = get_crl(ca);
    n2 = crl_number(crl);
    ck_assert_uint_gt(n2, n1);
    ck_assert_int_eq(revoked_count(crl), 4);
    ck_assert_int_eq(crl_reason(crl, d), CA_REASON_CESSATION_OF_OPERATION);
    X509_CRL_free(crl);
    /* Asking again without a change keeps the number. */
    crl = get_crl(ca);
    ck_assert_uint_eq(crl_number(crl), n2);
    X509_CRL_free(crl);

    X509_free(a);
    X509_free(b);
    X509_free(c);
    X509_free(d);
    X509_free(issuing);
    X509_free(root);
    free(sa);
    free(sb);
    free(sc);
    free(sd);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

/* ---- prune -------------------------------------------------------------------------- */

START_TEST(test_prune)
{
    struct ca *ca = new_ca(0, 0);
    EVP_PKEY *k = gen(KEY_EC_P256);
    char *s_short = NULL, *s_long = NULL;
    X509 *l_short = issue_simple(ca, k, "short.example", 86400, &s_short);
    X509 *l_long = issue_simple(ca, k, "long.example", 100 * 86400, &s_long);
    enum ca_status st;
    X509_CRL *crl;
    uint64_t n1;

    ck_assert_int_eq(ca_revoke(ca, s_short, CA_REASON_SUPERSEDED), MC_OK);
    crl = get_crl(ca);
    n1 = crl_number(crl);
    X509_CRL_free(crl);

    ck_assert_uint_eq(ca_prune(ca), 0);
    clock_advance(clk, (86400 + 1800) * 1000LL); /* expired, but within the hour's grace */
    ck_assert_uint_eq(ca_prune(ca), 0);
    ck_assert_int_eq(ca_status(ca, s_short, &st, NULL, NULL), MC_OK);
    ck_assert_int_eq(st, CA_STATUS_REVOKED);
    clock_advance(clk, 3600 * 1000LL);
    ck_assert_uint_eq(ca_prune(ca), 1);
    ck_assert_int_eq(ca_status(ca, s_short, &st, NULL, NULL), MC_OK);
    ck_assert_int_eq(st, CA_STATUS_UNKNOWN);
    ck_assert_int_eq(ca_revoke(ca, s_short, 1), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(ca_status(ca, s_long, &st, NULL, NULL), MC_OK);
    ck_assert_int_eq(st, CA_STATUS_GOOD);
    ck_assert_uint_eq(ca_prune(ca), 0);
    crl = get_crl(ca);
    ck_assert_int_eq(revoked_count(crl), 0);
    ck_assert_uint_gt(crl_number(crl), n1);
    X509_CRL_free(crl);

    clock_advance(clk, 200 * 86400 * 1000LL);
    ck_assert_uint_eq(ca_prune(ca), 1);
    ck_assert_uint_eq(ca->count, 0);

    X509_free(l_short);
    X509_free(l_long);
    free(s_short);
    free(s_long);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

/* ---- supplied roots, bounds, limits ------------------------------------------------- */

START_TEST(test_supplied_root)
{
    struct ca *a = new_ca(2, 0), *other = new_ca(0, 0), *b = NULL;
    struct ca_config cfg = {0};
    char *root_pem = NULL, *root_key = NULL, *other_key = NULL, *b_root = NULL;
    char *i1_pem = NULL, *i1_key = NULL, *leaf_pem = NULL, *leaf_key = NULL;
    EVP_PKEY *k = gen(KEY_EC_P256);
    X509 *leaf;
    int depth = 0;

    ck_assert_int_eq(ca_root_pem(a, 0, &root_pem), MC_OK);
    ck_assert_int_eq(ca_root_key_pem(a, 0, &root_key), MC_OK);
    ck_assert_int_eq(ca_root_key_pem(other, 0, &other_key), MC_OK);
    cfg.clock = clk;
    cfg.alternate_roots = 1;
    cfg.root_cert_pem = root_pem;
    cfg.root_key_pem = root_key;
    ck_assert_int_eq(ca_new(&cfg, &b), MC_OK);
    ck_assert_int_eq(ca_root_pem(b, 0, &b_root), MC_OK);
    ck_assert_str_eq(b_root, root_pem);
    free(b_root);
    ck_assert_int_eq(ca_root_pem(b, 1, &b_root), MC_OK);
    ck_assert_str_ne(b_root, root_pem); /* alternate roots are still generated */
    free(b_root);
    leaf = issue_simple(b, k, "supplied.example", 0, NULL);
    ck_assert_int_eq(verify_in_chain(b, leaf, 0, NULL, &depth), X509_V_OK);
    ck_assert_int_eq(depth, 3);
    ck_assert_int_eq(verify_in_chain(b, leaf, 1, NULL, NULL), X509_V_OK);
    ca_free(b);
    b = NULL;

    /* The key of another CA: mismatch. Half a pair: invalid. */
    cfg.root_key_pem = other_key;
    ck_assert_int_eq(ca_new(&cfg, &b), MC_ERR_MISMATCH);
    ck_assert_ptr_null(b);
    cfg.root_key_pem = NULL;
    ck_assert_int_eq(ca_new(&cfg, &b), MC_ERR_INVALID);
    cfg.root_key_pem = "garbage";
    ck_assert_int_eq(ca_new(&cfg, &b), MC_ERR_INVALID);

    /* A leaf and its own key match, but a leaf is no CA. */
    ck_assert_int_eq(pem_write_cert(leaf, &leaf_pem), MC_OK);
    ck_assert_int_eq(pem_write_private_key(k, &leaf_key), MC_OK);
    cfg.root_cert_pem = leaf_pem;
    cfg.root_key_pem = leaf_key;
    ck_assert_int_eq(ca_new(&cfg, &b), MC_ERR_INVALID);

    /* A CA with pathlen 1 can anchor one intermediate, not two. */
    ck_assert_int_eq(ca_intermediate_pem(a, 0, 1, &i1_pem), MC_OK);
    ck_assert_int_eq(ca_intermediate_key_pem(a, 0, 1, &i1_key), MC_OK);
    cfg.root_cert_pem = i1_pem;
    cfg.root_key_pem = i1_key;
    cfg.alternate_roots = 0;
    cfg.chain_length = 2;
    ck_assert_int_eq(ca_new(&cfg, &b), MC_ERR_INVALID);
    cfg.chain_length = 1;
    ck_assert_int_eq(ca_new(&cfg, &b), MC_OK);
    ca_free(b);

    X509_free(leaf);
    EVP_PKEY_free(k);
    free(root_pem);
    free(root_key);
    free(other_key);
    free(i1_pem);
    free(i1_key);
    free(leaf_pem);
    free(leaf_key);
    ca_free(a);
    ca_free(other);
}
END_TEST

START_TEST(test_bounds)
{
    struct ca_config cfg = {0};
    struct ca *ca = NULL;
    EVP_PKEY *k = gen(KEY_EC_P256);
    X509 *leaf;
    int depth = 0;

    cfg.clock = clk;
    cfg.chain_length = CA_MAX_CHAIN_LENGTH + 1;
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_ERR_INVALID);
    ck_assert_ptr_null(ca);
    cfg.chain_length = 1;
    cfg.alternate_roots = CA_MAX_CHAINS; /* 1 + CA_MAX_CHAINS chains */
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_ERR_INVALID);
    cfg.alternate_roots = 0;
    cfg.name_prefix = "";
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_ERR_INVALID);
    cfg.name_prefix = "a-prefix-that-is-far-too-long-for-a-common-name";
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_ERR_INVALID);
    cfg.name_prefix = NULL;
    ck_assert_int_eq(ca_new(NULL, &ca), MC_ERR_INVALID);

    /* The largest allowed shapes work. */
    cfg.alternate_roots = CA_MAX_CHAINS - 1;
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_OK);
    ck_assert_uint_eq(ca_chain_count(ca), CA_MAX_CHAINS);
    ca_free(ca);
    ca = NULL;
    cfg.alternate_roots = 0;
    cfg.chain_length = CA_MAX_CHAIN_LENGTH;
    cfg.name_prefix = "Bounds";
    ck_assert_int_eq(ca_new(&cfg, &ca), MC_OK);
    leaf = issue_simple(ca, k, "deep.example", 0, NULL);
    ck_assert_int_eq(verify_in_chain(ca, leaf, 0, NULL, &depth), X509_V_OK);
    ck_assert_int_eq(depth, 2 + CA_MAX_CHAIN_LENGTH);
    {
        X509 *root = root_cert(ca, 0);
        char *cn = subject_cn(root);

        ck_assert_int_eq(strncmp(cn, "Bounds Root CA ", 15), 0);
        free(cn);
        X509_free(root);
    }
    X509_free(leaf);

    /* The registry bound: past CA_MAX_CERTS, issuance is refused. */
    ca->count = CA_MAX_CERTS;
    {
        struct ident_list sans = {0};
        struct ca_issue_request req = {0};
        char *hex = NULL;

        add(&sans, IDENT_DNS, "full.example");
        req.public_key = k;
        req.sans = &sans;
        leaf = NULL;
        ck_assert_int_eq(ca_issue(ca, &req, &leaf, &hex), MC_ERR_LIMIT);
        ck_assert_ptr_null(leaf);
        ident_list_free(&sans);
    }
    ca->count = 0;
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

START_TEST(test_parse_serial_hex)
{
    uint8_t s[CA_SERIAL_BYTES];

    ck_assert_int_eq(parse_serial_hex("ab", s), MC_OK);
    ck_assert_uint_eq(s[CA_SERIAL_BYTES - 1], 0xab);
    ck_assert_uint_eq(s[0], 0);
    ck_assert_int_eq(parse_serial_hex("000000000000000000000000000000000000000001", s), MC_OK);
    ck_assert_uint_eq(s[CA_SERIAL_BYTES - 1], 1);
    ck_assert_int_eq(parse_serial_hex("4000000000000000000000000000000F", s), MC_OK);
    ck_assert_uint_eq(s[0], 0x40);
    ck_assert_uint_eq(s[CA_SERIAL_BYTES - 1], 0x0f);
    ck_assert_int_eq(parse_serial_hex("140000000000000000000000000000000", s), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(parse_serial_hex("12 4", s), MC_ERR_INVALID);
    ck_assert_int_eq(parse_serial_hex("-12", s), MC_ERR_INVALID);
    ck_assert_int_eq(parse_serial_hex(NULL, s), MC_ERR_INVALID);
}
END_TEST

/* ---- concurrency -------------------------------------------------------------------- */

struct worker {
    struct ca *ca;
    EVP_PKEY *key;
    int revoked;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < 20; i++) {
        struct ident_list sans = {0};
        struct ca_issue_request req = {0};
        X509 *leaf = NULL;
        char *hex = NULL;

        if (ident_list_add(&sans, IDENT_DNS, "load.example") != MC_OK)
            return NULL;
        req.public_key = w->key;
        req.sans = &sans;
        if (ca_issue(w->ca, &req, &leaf, &hex) == MC_OK) {
            if (i % 2 == 0 && ca_revoke(w->ca, hex, CA_REASON_SUPERSEDED) == MC_OK)
                w->revoked++;
            X509_free(leaf);
            free(hex);
        }
        ident_list_free(&sans);
    }
    return NULL;
}

START_TEST(test_concurrent)
{
    struct ca *ca = new_ca(0, 0);
    EVP_PKEY *k = gen(KEY_EC_P256);
    struct worker w[4];
    pthread_t th[4];
    X509_CRL *crl;

    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.ca = ca, .key = k, .revoked = 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    ck_assert_uint_eq(ca->count, 80);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(w[i].revoked, 10);
    crl = get_crl(ca);
    ck_assert_int_eq(revoked_count(crl), 40);
    X509_CRL_free(crl);
    EVP_PKEY_free(k);
    ca_free(ca);
}
END_TEST

static Suite *ca_suite(void)
{
    Suite *s = suite_create("ca");
    TCase *tc = tcase_create("ca");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_chains_verify_everywhere);
    tcase_add_test(tc, test_foreign_root_rejected);
    tcase_add_test(tc, test_rsa_ca_keys);
    tcase_add_test(tc, test_leaf_extensions);
    tcase_add_test(tc, test_leaf_cn_choices);
    tcase_add_test(tc, test_no_urls_no_aia);
    tcase_add_test(tc, test_validity);
    tcase_add_test(tc, test_revoke_and_status);
    tcase_add_test(tc, test_ocsp);
    tcase_add_test(tc, test_crl);
    tcase_add_test(tc, test_prune);
    tcase_add_test(tc, test_supplied_root);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_parse_serial_hex);
    tcase_add_test(tc, test_concurrent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ca_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
