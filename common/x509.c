/* common/x509.c: reading certificates, and the RFC 8737 tls-alpn-01 certificate. */
#include "common/x509.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/clock.h"
#include "common/log.h"

/* A key authorization is token "." thumbprint, well under 200 bytes; refuse silly sizes. */
#define KEY_AUTHZ_MAX_LEN 4096
#define TLSALPN_BACKDATE_S (24 * 60 * 60)
#define TLSALPN_LIFETIME_S (7 * 24 * 60 * 60)
/* 16 random bytes: comfortably unique, and positive once the top bit is cleared. */
#define SERIAL_BYTES 16

enum mc_err x509_sans(X509 *cert, struct ident_list *out)
{
    GENERAL_NAMES *gens = NULL;
    int crit = -1;
    enum mc_err err;

    if (cert == NULL || out == NULL)
        return MC_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    if (gens == NULL)
        return crit == -1 ? MC_OK : MC_ERR_INVALID; /* absent: an empty list */
    /* A certificate may carry email or URI names too; callers asked for DNS and IP. */
    err = ident_list_add_general_names(out, gens, true);
    if (err != MC_OK)
        ident_list_free(out);
    GENERAL_NAMES_free(gens);
    return err;
}

enum mc_err x509_serial_hex(X509 *cert, char **out)
{
    BIGNUM *bn = NULL;
    char *hex = NULL, *p;
    enum mc_err err = MC_ERR_CRYPTO;

    if (cert == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    if (bn == NULL)
        goto out;
    hex = BN_bn2hex(bn); /* uppercase, whole bytes: "0A1B"; "-" for negative serials */
    if (hex == NULL)
        goto out;
    p = hex;
    if (*p == '-')
        p++;
    while (p[0] == '0' && p[1] != '\0')
        p++;
    err = MC_ERR_NOMEM;
    *out = malloc(strlen(p) + 2);
    if (*out == NULL)
        goto out;
    {
        size_t o = 0;

        if (hex[0] == '-')
            (*out)[o++] = '-';
        for (; *p != '\0'; p++)
            (*out)[o++] = (char)tolower((unsigned char)*p);
        (*out)[o] = '\0';
    }
    err = MC_OK;
out:
    BN_free(bn);
    OPENSSL_free(hex);
    return err;
}

/* Copies os into a new buffer. */
static enum mc_err copy_octets(const ASN1_OCTET_STRING *os, uint8_t **out, size_t *n)
{
    int len;

    if (os == NULL)
        return MC_ERR_NOT_FOUND;
    len = ASN1_STRING_length(os);
    if (len <= 0)
        return MC_ERR_INVALID;
    *out = malloc((size_t)len);
    if (*out == NULL)
        return MC_ERR_NOMEM;
    memcpy(*out, ASN1_STRING_get0_data(os), (size_t)len);
    *n = (size_t)len;
    return MC_OK;
}

enum mc_err x509_aki(X509 *cert, uint8_t **out, size_t *n)
{
    if (cert == NULL || out == NULL || n == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    *n = 0;
    return copy_octets(X509_get0_authority_key_id(cert), out, n);
}

enum mc_err x509_ski(X509 *cert, uint8_t **out, size_t *n)
{
    if (cert == NULL || out == NULL || n == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    *n = 0;
    return copy_octets(X509_get0_subject_key_id(cert), out, n);
}

static enum mc_err asn1_time_to_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    if (t == NULL)
        return MC_ERR_INVALID;
    memset(&tm, 0, sizeof(tm));
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return MC_ERR_INVALID;
    *out = (int64_t)timegm(&tm);
    return MC_OK;
}

enum mc_err x509_validity(X509 *cert, int64_t *not_before, int64_t *not_after)
{
    enum mc_err err;

    if (cert == NULL || not_before == NULL || not_after == NULL)
        return MC_ERR_INVALID;
    err = asn1_time_to_unix(X509_get0_notBefore(cert), not_before);
    if (err != MC_OK)
        return err;
    return asn1_time_to_unix(X509_get0_notAfter(cert), not_after);
}

/* A random positive serial (RFC 5280 section 4.1.2.2: at most 20 octets). */
static enum mc_err random_serial(X509 *cert)
{
    uint8_t buf[SERIAL_BYTES];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *ai = NULL;
    enum mc_err err = MC_ERR_CRYPTO;

    if (RAND_bytes(buf, sizeof(buf)) != 1)
        goto out;
    buf[0] &= 0x7f;
    buf[0] |= 0x01; /* never zero, and always 16 bytes long */
    bn = BN_bin2bn(buf, sizeof(buf), NULL);
    if (bn == NULL)
        goto out;
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    if (ai == NULL || X509_set_serialNumber(cert, ai) != 1)
        goto out;
    err = MC_OK;
out:
    BN_free(bn);
    ASN1_INTEGER_free(ai);
    return err;
}

/* subjectAltName with exactly ident (RFC 8737 section 3). */
static X509_EXTENSION *san_ext(const struct ident *id)
{
    GENERAL_NAMES *gens = NULL;
    GENERAL_NAME *gn = NULL;
    ASN1_IA5STRING *ia5 = NULL;
    ASN1_OCTET_STRING *ip = NULL;
    X509_EXTENSION *ext = NULL;
    uint8_t bin[16];
    int binlen = 0;

    gens = sk_GENERAL_NAME_new_null();
    gn = GENERAL_NAME_new();
    if (gens == NULL || gn == NULL)
        goto out;
    if (id->type == IDENT_DNS) {
        ia5 = ASN1_IA5STRING_new();
        if (ia5 == NULL || ASN1_STRING_set(ia5, id->value, -1) != 1)
            goto out;
        GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
        ia5 = NULL;
    } else {
        if (inet_pton(AF_INET, id->value, bin) == 1)
            binlen = 4;
        else if (inet_pton(AF_INET6, id->value, bin) == 1)
            binlen = 16;
        else
            goto out;
        ip = ASN1_OCTET_STRING_new();
        if (ip == NULL || ASN1_OCTET_STRING_set(ip, bin, binlen) != 1)
            goto out;
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        ip = NULL;
    }
    if (sk_GENERAL_NAME_push(gens, gn) <= 0)
        goto out;
    gn = NULL;
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
out:
    ASN1_IA5STRING_free(ia5);
    ASN1_OCTET_STRING_free(ip);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(gens);
    return ext;
}

/* The critical id-pe-acmeIdentifier extension: extnValue is the DER of
 * Authorization ::= OCTET STRING (SIZE (32)), i.e. 04 20 <SHA-256(key authorization)>. */
static X509_EXTENSION *acme_identifier_ext(const char *key_authorization)
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    ASN1_OBJECT *obj = NULL;
    ASN1_OCTET_STRING *inner = NULL, *outer = NULL;
    unsigned char *der = NULL;
    int derlen;
    X509_EXTENSION *ext = NULL;

    if (EVP_Digest(key_authorization, strlen(key_authorization), md, &mdlen, EVP_sha256(), NULL) !=
            1 ||
        mdlen != sizeof(md))
        goto out;
    obj = OBJ_txt2obj(X509_OID_ACME_IDENTIFIER, 1);
    inner = ASN1_OCTET_STRING_new();
    outer = ASN1_OCTET_STRING_new();
    if (obj == NULL || inner == NULL || outer == NULL)
        goto out;
    if (ASN1_OCTET_STRING_set(inner, md, (int)mdlen) != 1)
        goto out;
    derlen = i2d_ASN1_OCTET_STRING(inner, &der);
    if (derlen <= 0 || ASN1_OCTET_STRING_set(outer, der, derlen) != 1)
        goto out;
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, outer);
out:
    ASN1_OBJECT_free(obj);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OCTET_STRING_free(outer);
    OPENSSL_free(der);
    return ext;
}

enum mc_err x509_make_tlsalpn01(const struct ident *ident, const char *key_authorization,
                                EVP_PKEY **key, X509 **cert)
{
    struct ident_list norm = {0};
    EVP_PKEY *k = NULL;
    X509 *c = NULL;
    X509_NAME *name = NULL;
    X509_EXTENSION *ext = NULL;
    time_t now;
    enum mc_err err;

    if (ident == NULL || ident->value == NULL || key_authorization == NULL || key == NULL ||
        cert == NULL)
        return MC_ERR_INVALID;
    *key = NULL;
    *cert = NULL;
    if (strnlen(key_authorization, KEY_AUTHZ_MAX_LEN + 1) > KEY_AUTHZ_MAX_LEN)
        return MC_ERR_TOO_BIG;
    /* The SAN must be the identifier in its one canonical form. */
    err = ident_list_add(&norm, ident->type, ident->value);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    k = EVP_EC_gen("P-256");
    c = X509_new();
    name = X509_NAME_new();
    if (k == NULL || c == NULL || name == NULL)
        goto out;
    if (X509_set_version(c, X509_VERSION_3) != 1)
        goto out;
    err = random_serial(c);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    /* A fixed CN: a DNS identifier may be longer than a CN may be (64). The identifier
     * is in the SAN, where RFC 8737 puts it. */
    if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
                                   (const unsigned char *)"ACME tls-alpn-01 challenge", -1, -1,
                                   0) != 1)
        goto out;
    if (X509_set_subject_name(c, name) != 1 || X509_set_issuer_name(c, name) != 1)
        goto out;
    now = (time_t)clock_now(NULL);
    if (X509_time_adj_ex(X509_getm_notBefore(c), 0, -TLSALPN_BACKDATE_S, &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(c), 0, TLSALPN_LIFETIME_S, &now) == NULL)
        goto out;
    if (X509_set_pubkey(c, k) != 1)
        goto out;
    ext = san_ext(&norm.v[0]);
    if (ext == NULL || X509_add_ext(c, ext, -1) != 1)
        goto out;
    X509_EXTENSION_free(ext);
    ext = acme_identifier_ext(key_authorization);
    if (ext == NULL || X509_add_ext(c, ext, -1) != 1)
        goto out;
    if (X509_sign(c, k, EVP_sha256()) <= 0)
        goto out;
    *key = k;
    *cert = c;
    k = NULL;
    c = NULL;
    err = MC_OK;
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "x509.tlsalpn01");
    ident_list_free(&norm);
    EVP_PKEY_free(k);
    X509_free(c);
    X509_NAME_free(name);
    X509_EXTENSION_free(ext);
    return err;
}

enum mc_err x509_acme_identifier(X509 *cert, uint8_t out[32])
{
    ASN1_OBJECT *obj = NULL;
    ASN1_OCTET_STRING *inner = NULL;
    const ASN1_OCTET_STRING *data;
    const unsigned char *p, *end;
    X509_EXTENSION *ext;
    int loc;
    enum mc_err err = MC_ERR_INVALID;

    if (cert == NULL || out == NULL)
        return MC_ERR_INVALID;
    obj = OBJ_txt2obj(X509_OID_ACME_IDENTIFIER, 1);
    if (obj == NULL)
        return MC_ERR_NOMEM;
    loc = X509_get_ext_by_OBJ(cert, obj, -1);
    if (loc < 0) {
        err = MC_ERR_NOT_FOUND;
        goto out;
    }
    /* RFC 5280 section 4.2: an extension appears at most once. */
    if (X509_get_ext_by_OBJ(cert, obj, loc) >= 0)
        goto out;
    ext = X509_get_ext(cert, loc);
    /* RFC 8737 section 3: the extension MUST be critical. */
    if (ext == NULL || X509_EXTENSION_get_critical(ext) != 1)
        goto out;
    data = X509_EXTENSION_get_data(ext);
    p = ASN1_STRING_get0_data(data);
    end = p + ASN1_STRING_length(data);
    inner = d2i_ASN1_OCTET_STRING(NULL, &p, ASN1_STRING_length(data));
    if (inner == NULL || p != end || ASN1_STRING_length(inner) != 32)
        goto out;
    memcpy(out, ASN1_STRING_get0_data(inner), 32);
    err = MC_OK;
out:
    ASN1_OBJECT_free(obj);
    ASN1_OCTET_STRING_free(inner);
    return err;
}

/* ---- SubjectPublicKeyInfo without the decoded-key cache ------------------------------- */

/* Sets pub's algorithm to oid_nid with a parameter (an OID when param_nid is not NID_undef,
 * else absent) and its key bits to n bytes of enc (copied). */
static enum mc_err spki_set(X509_PUBKEY *pub, int oid_nid, int param_nid, const uint8_t *enc,
                            size_t n)
{
    ASN1_OBJECT *param = NULL;
    unsigned char *bits = NULL;

    if (n == 0 || n > INT_MAX)
        return MC_ERR_INVALID;
    bits = OPENSSL_malloc(n);
    if (bits == NULL)
        return MC_ERR_NOMEM;
    memcpy(bits, enc, n);
    if (param_nid != NID_undef) {
        param = OBJ_nid2obj(param_nid);
        if (param == NULL) {
            OPENSSL_free(bits);
            return MC_ERR_INVALID;
        }
    }
    /* On success pub owns bits; OBJ_nid2obj's objects are static and not freed. */
    if (X509_PUBKEY_set0_param(pub, OBJ_nid2obj(oid_nid),
                               param != NULL ? V_ASN1_OBJECT : V_ASN1_UNDEF, param, bits,
                               (int)n) != 1) {
        OPENSSL_free(bits);
        return MC_ERR_CRYPTO;
    }
    return MC_OK;
}

/* An EC key on a named curve: id-ecPublicKey with the curve's OID, the point as the key
 * holds it (uncompressed unless it was given compressed). MC_ERR_NOT_FOUND when the
 * curve has no name (explicit parameters): the caller takes the generic path. */
static enum mc_err spki_ec(X509_PUBKEY *pub, EVP_PKEY *key)
{
    char group[80];
    uint8_t point[1 + 2 * 66]; /* P-521 uncompressed */
    size_t glen = 0, plen = 0;
    int nid;

    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1)
        return MC_ERR_NOT_FOUND;
    nid = OBJ_txt2nid(group);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(group);
    if (nid == NID_undef)
        return MC_ERR_NOT_FOUND;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                        sizeof(point), &plen) != 1)
        return MC_ERR_NOT_FOUND;
    return spki_set(pub, NID_X9_62_id_ecPublicKey, nid, point, plen);
}

/* Copies alg and bits into pub (X509_PUBKEY_set0_param takes its arguments over). */
static enum mc_err spki_copy(X509_PUBKEY *pub, const X509_ALGOR *alg, const ASN1_BIT_STRING *bits)
{
    const ASN1_OBJECT *obj = NULL;
    const void *pval = NULL;
    ASN1_OBJECT *o = NULL;
    void *v = NULL;
    unsigned char *enc = NULL;
    int ptype = V_ASN1_UNDEF, n = ASN1_STRING_length(bits);
    bool has_value;

    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    has_value = ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL;
    o = OBJ_dup(obj);
    if (ptype == V_ASN1_OBJECT)
        v = OBJ_dup(pval);
    else if (has_value)
        v = ASN1_STRING_dup(pval);
    if (n > 0)
        enc = OPENSSL_memdup(ASN1_STRING_get0_data(bits), (size_t)n);
    if (o != NULL && (v != NULL || !has_value) && enc != NULL &&
        X509_PUBKEY_set0_param(pub, o, ptype, v, enc, n) == 1)
        return MC_OK;
    ASN1_OBJECT_free(o);
    if (ptype == V_ASN1_OBJECT)
        ASN1_OBJECT_free(v);
    else
        ASN1_STRING_free(v);
    OPENSSL_free(enc);
    return MC_ERR_CRYPTO;
}

/* Any key: OpenSSL's DER SubjectPublicKeyInfo (the encoder only), its two parts copied. */
static enum mc_err spki_generic(X509_PUBKEY *pub, EVP_PKEY *key)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    X509_ALGOR *alg = NULL;
    ASN1_BIT_STRING *bits = NULL;
    int dlen, tag, cls;
    long len;
    enum mc_err err = MC_ERR_CRYPTO;

    dlen = i2d_PUBKEY(key, &der);
    if (dlen <= 0)
        goto out;
    /* SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey
     * BIT STRING }: read field by field, since d2i_X509_PUBKEY would decode the key. */
    p = der;
    if ((ASN1_get_object(&p, &len, &tag, &cls, dlen) & 0x80) != 0 || tag != V_ASN1_SEQUENCE)
        goto out;
    alg = d2i_X509_ALGOR(NULL, &p, len);
    if (alg == NULL)
        goto out;
    bits = d2i_ASN1_BIT_STRING(NULL, &p, (long)(der + dlen - p));
    if (bits == NULL || p != der + dlen)
        goto out;
    err = spki_copy(pub, alg, bits);
out:
    OPENSSL_free(der);
    X509_ALGOR_free(alg);
    ASN1_BIT_STRING_free(bits);
    return err;
}

enum mc_err x509_pubkey_encode(X509_PUBKEY *pub, EVP_PKEY *key)
{
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (pub == NULL || key == NULL)
        return MC_ERR_INVALID;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        err = spki_ec(pub, key);
    } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
        uint8_t raw[32];
        size_t n = sizeof(raw);

        if (EVP_PKEY_get_raw_public_key(key, raw, &n) == 1)
            err = spki_set(pub, NID_ED25519, NID_undef, raw, n);
    }
    if (err == MC_ERR_NOT_FOUND)
        err = spki_generic(pub, key);
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "x509.pubkey");
    return err;
}

/* An EC public key on a named curve from its curve and point (the point is checked to be
 * on the curve by the import, as the decoder would). */
static enum mc_err key_from_ec(const ASN1_OBJECT *curve, const unsigned char *pt, int n,
                               EVP_PKEY **out)
{
    const char *group = OBJ_nid2sn(OBJ_obj2nid(curve));
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx = NULL;
    enum mc_err err = MC_ERR_INVALID;

    if (group == NULL || n <= 0)
        return MC_ERR_INVALID;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, (size_t)n);
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
        err = MC_OK;
    EVP_PKEY_CTX_free(ctx);
    return err;
}

/* An RSA public key from RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent
 * INTEGER } (RFC 8017 appendix A.1.1), both positive, nothing after. */
static enum mc_err key_from_rsa(const unsigned char *der, int n, EVP_PKEY **out)
{
    const unsigned char *p = der;
    STACK_OF(ASN1_TYPE) *seq = NULL;
    BIGNUM *bn[2] = {NULL, NULL};
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    enum mc_err err = MC_ERR_INVALID;

    seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, n);
    if (seq == NULL || p != der + n || sk_ASN1_TYPE_num(seq) != 2)
        goto out;
    for (int i = 0; i < 2; i++) {
        const ASN1_TYPE *t = sk_ASN1_TYPE_value(seq, i);

        if (t == NULL || t->type != V_ASN1_INTEGER)
            goto out;
        bn[i] = ASN1_INTEGER_to_BN(t->value.integer, NULL);
        if (bn[i] == NULL || BN_is_zero(bn[i]))
            goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn[0]) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn[1]) != 1)
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
        err = MC_OK;
out:
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    BN_free(bn[0]);
    BN_free(bn[1]);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return err;
}

enum mc_err x509_pubkey_decode(X509_PUBKEY *pub, EVP_PKEY **out)
{
    ASN1_OBJECT *alg = NULL;
    const unsigned char *bits = NULL, *p;
    unsigned char *der = NULL;
    X509_ALGOR *algor = NULL;
    const ASN1_OBJECT *aobj = NULL;
    const void *pval = NULL;
    int nbits = 0, ptype = V_ASN1_UNDEF, n;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (pub == NULL || X509_PUBKEY_get0_param(&alg, &bits, &nbits, &algor, pub) != 1)
        return MC_ERR_INVALID;
    X509_ALGOR_get0(&aobj, &ptype, &pval, algor);
    /* The common types are imported from their parameters: OpenSSL 3.0's decoder costs
     * about 50 us of set-up per key. */
    switch (OBJ_obj2nid(alg)) {
    case NID_X9_62_id_ecPublicKey:
        if (ptype == V_ASN1_OBJECT)
            return key_from_ec(pval, bits, nbits, out);
        break; /* explicit curve parameters: the decoder's business */
    case NID_ED25519:
        if (ptype != V_ASN1_UNDEF || nbits != 32)
            return MC_ERR_INVALID;
        *out = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, bits, (size_t)nbits);
        return *out != NULL ? MC_OK : MC_ERR_INVALID;
    case NID_rsaEncryption:
        if (ptype != V_ASN1_NULL)
            return MC_ERR_INVALID;
        return key_from_rsa(bits, nbits, out);
    default:
        break;
    }
    n = i2d_X509_PUBKEY(pub, &der);
    if (n <= 0)
        return MC_ERR_INVALID;
    p = der;
    *out = d2i_PUBKEY(NULL, &p, n);
    OPENSSL_free(der);
    return *out != NULL ? MC_OK : MC_ERR_INVALID;
}
