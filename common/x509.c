/* common/x509.c: reading certificates, and the RFC 8737 tls-alpn-01 certificate. */
#include "common/x509.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
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
