/* common/jose.c: JWK import/export, RFC 7638 thumbprints, JWS sign/verify in the flattened
 * JSON serialization, and the HMAC of External Account Binding. OpenSSL 3 EVP API only. */
#include "common/jose.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "common/b64url.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/log.h"

/* Longest base64url text we decode for one JWK member: an 8192-bit modulus is 1366
 * characters, so this leaves room and still bounds the work. */
#define JWK_MEMBER_MAX_LEN 4096
/* HMAC keys (EAB MAC keys) longer than this are refused; real ones are 32 to 64 bytes. */
#define JOSE_HMAC_KEY_MAX 4096
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
/* OpenSSL itself refuses public exponents above 64 bits for large moduli. */
#define RSA_E_MAX_BYTES 8

struct ec_curve {
    const char *crv;   /* the JWK "crv" */
    const char *group; /* OpenSSL group name */
    enum key_type type;
    enum jose_alg alg;
    size_t clen; /* coordinate and r/s length in bytes (RFC 7518 sections 3.4, 6.2.1.2) */
};

static const struct ec_curve ec_curves[] = {
    {"P-256", "prime256v1", KEY_EC_P256, JOSE_ALG_ES256, 32},
    {"P-384", "secp384r1", KEY_EC_P384, JOSE_ALG_ES384, 48},
    {"P-521", "secp521r1", KEY_EC_P521, JOSE_ALG_ES512, 66},
};
#define EC_CURVE_COUNT (sizeof(ec_curves) / sizeof(ec_curves[0]))

static const struct {
    const char *name;
    enum jose_alg alg;
} alg_names[] = {
    {"RS256", JOSE_ALG_RS256}, {"ES256", JOSE_ALG_ES256}, {"ES384", JOSE_ALG_ES384},
    {"ES512", JOSE_ALG_ES512}, {"EdDSA", JOSE_ALG_EDDSA}, {"HS256", JOSE_ALG_HS256},
    {"HS384", JOSE_ALG_HS384}, {"HS512", JOSE_ALG_HS512},
};
#define ALG_NAME_COUNT (sizeof(alg_names) / sizeof(alg_names[0]))

const char *jose_alg_name(enum jose_alg alg)
{
    for (size_t i = 0; i < ALG_NAME_COUNT; i++) {
        if (alg_names[i].alg == alg)
            return alg_names[i].name;
    }
    return "unknown";
}

enum mc_err jose_alg_parse(const char *name, enum jose_alg *out)
{
    if (name == NULL || out == NULL)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < ALG_NAME_COUNT; i++) {
        if (strcmp(name, alg_names[i].name) == 0) {
            *out = alg_names[i].alg;
            return MC_OK;
        }
    }
    return MC_ERR_UNSUPPORTED;
}

bool jose_alg_is_hmac(enum jose_alg alg)
{
    return alg == JOSE_ALG_HS256 || alg == JOSE_ALG_HS384 || alg == JOSE_ALG_HS512;
}

static const struct ec_curve *curve_by_type(enum key_type t)
{
    for (size_t i = 0; i < EC_CURVE_COUNT; i++) {
        if (ec_curves[i].type == t)
            return &ec_curves[i];
    }
    return NULL;
}

static const struct ec_curve *curve_by_alg(enum jose_alg alg)
{
    for (size_t i = 0; i < EC_CURVE_COUNT; i++) {
        if (ec_curves[i].alg == alg)
            return &ec_curves[i];
    }
    return NULL;
}

static const EVP_MD *alg_md(enum jose_alg alg)
{
    switch (alg) {
    case JOSE_ALG_RS256:
    case JOSE_ALG_ES256:
    case JOSE_ALG_HS256:
        return EVP_sha256();
    case JOSE_ALG_ES384:
    case JOSE_ALG_HS384:
        return EVP_sha384();
    case JOSE_ALG_ES512:
    case JOSE_ALG_HS512:
        return EVP_sha512();
    default:
        return NULL; /* EdDSA hashes internally */
    }
}

enum mc_err jose_alg_for_key(EVP_PKEY *key, enum jose_alg *out)
{
    enum key_type t;
    const struct ec_curve *c;
    int bits;

    if (key == NULL || out == NULL)
        return MC_ERR_INVALID;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        /* Any size in range, not only the named ones: a JWK may carry an odd size. */
        bits = EVP_PKEY_get_bits(key);
        if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
            return MC_ERR_UNSUPPORTED;
        *out = JOSE_ALG_RS256;
        return MC_OK;
    case EVP_PKEY_EC:
        if (key_classify(key, &t) != MC_OK)
            return MC_ERR_UNSUPPORTED;
        c = curve_by_type(t);
        if (c == NULL)
            return MC_ERR_UNSUPPORTED;
        *out = c->alg;
        return MC_OK;
    case EVP_PKEY_ED25519:
        *out = JOSE_ALG_EDDSA;
        return MC_OK;
    default:
        return MC_ERR_UNSUPPORTED;
    }
}

enum mc_err jose_alg_check_key(enum jose_alg alg, EVP_PKEY *key)
{
    enum jose_alg want;
    enum mc_err err;

    if (key == NULL)
        return MC_ERR_INVALID;
    err = jose_alg_for_key(key, &want);
    if (err != MC_OK)
        return err;
    return alg == want ? MC_OK : MC_ERR_MISMATCH;
}

/* SHA-2 digests fetched once: passing EVP_sha256() and friends makes OpenSSL look the
 * implementation up by name on every call. Used for ES* and the thumbprint. */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_sha384, *md_sha512; /* process lifetime, never freed */

static void md_fetch_all(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
    md_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
}

/* The fetched SHA-2 of an ES* alg, or NULL (not ES*, or the fetch failed). */
static const EVP_MD *sha2_md(enum jose_alg alg)
{
    pthread_once(&md_once, md_fetch_all);
    switch (alg) {
    case JOSE_ALG_ES256:
        return md_sha256;
    case JOSE_ALG_ES384:
        return md_sha384;
    case JOSE_ALG_ES512:
        return md_sha512;
    default:
        return NULL;
    }
}

/* ---- JWK ---- */

/* Reads member name of jwk as strict base64url into a new buffer. Absent or not a
 * string is MC_ERR_INVALID: every member we ask for is required. */
static enum mc_err jwk_member(const cJSON *jwk, const char *name, uint8_t **out, size_t *len)
{
    const char *s = NULL;
    size_t slen;
    enum mc_err err;

    err = json_get_string(jwk, name, &s);
    if (err != MC_OK)
        return MC_ERR_INVALID;
    slen = strlen(s);
    if (slen > JWK_MEMBER_MAX_LEN)
        return MC_ERR_TOO_BIG;
    err = b64url_decode(s, slen, out, len);
    if (err == MC_ERR_NOMEM)
        return err;
    return err == MC_OK ? MC_OK : MC_ERR_INVALID;
}

/* Runs EVP_PKEY_fromdata for a public key of type name ("RSA", "EC") from params. */
static enum mc_err pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    enum mc_err err = MC_ERR_INVALID;

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    if (ctx == NULL) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    if (EVP_PKEY_fromdata_init(ctx) != 1) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    /* A failure here is the input's fault (for EC, usually a point off the curve). */
    if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    err = MC_OK;
out:
    if (err != MC_OK)
        log_openssl_errors(LOGL_DEBUG, "jose.jwk_import");
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return err;
}

static enum mc_err jwk_import_rsa(const cJSON *jwk, EVP_PKEY **out)
{
    uint8_t *n = NULL, *e = NULL;
    size_t nlen = 0, elen = 0;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    size_t bits;
    int top;
    enum mc_err err;

    err = jwk_member(jwk, "n", &n, &nlen);
    if (err != MC_OK)
        goto out;
    err = jwk_member(jwk, "e", &e, &elen);
    if (err != MC_OK)
        goto out;
    /* RFC 7518 section 6.3.1: both are unsigned big-endian integers in the minimum
     * number of octets, so a leading zero octet is malformed. */
    err = MC_ERR_INVALID;
    if (nlen == 0 || n[0] == 0 || elen == 0 || e[0] == 0)
        goto out;
    if ((n[nlen - 1] & 1) == 0) /* an RSA modulus is a product of odd primes */
        goto out;
    top = 0;
    for (int v = n[0]; v != 0; v >>= 1)
        top++;
    bits = (nlen - 1) * 8 + (size_t)top;
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        err = MC_ERR_UNSUPPORTED;
        goto out;
    }
    if (elen > RSA_E_MAX_BYTES) {
        err = MC_ERR_UNSUPPORTED;
        goto out;
    }
    if ((e[elen - 1] & 1) == 0 || (elen == 1 && e[0] == 1))
        goto out;
    err = MC_ERR_NOMEM;
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn_n == NULL || bn_e == NULL || bld == NULL)
        goto out;
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1)
        goto out;
    err = pkey_fromdata("RSA", bld, out);
out:
    free(n);
    free(e);
    BN_free(bn_n);
    BN_free(bn_e);
    OSSL_PARAM_BLD_free(bld);
    return err;
}

static enum mc_err jwk_import_ec(const cJSON *jwk, EVP_PKEY **out)
{
    const char *crv = NULL;
    const struct ec_curve *c = NULL;
    uint8_t *x = NULL, *y = NULL;
    size_t xlen = 0, ylen = 0;
    uint8_t pub[1 + 2 * 66];
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *cctx = NULL;
    enum mc_err err;

    if (json_get_string(jwk, "crv", &crv) != MC_OK)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < EC_CURVE_COUNT; i++) {
        if (strcmp(crv, ec_curves[i].crv) == 0)
            c = &ec_curves[i];
    }
    if (c == NULL)
        return MC_ERR_UNSUPPORTED;
    err = jwk_member(jwk, "x", &x, &xlen);
    if (err != MC_OK)
        goto out;
    err = jwk_member(jwk, "y", &y, &ylen);
    if (err != MC_OK)
        goto out;
    /* RFC 7518 section 6.2.1.2: the full coordinate length, even with leading zeros. */
    err = MC_ERR_INVALID;
    if (xlen != c->clen || ylen != c->clen)
        goto out;
    pub[0] = 0x04; /* SEC 1 uncompressed point */
    memcpy(pub + 1, x, c->clen);
    memcpy(pub + 1 + c->clen, y, c->clen);
    err = MC_ERR_NOMEM;
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL)
        goto out;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * c->clen) != 1)
        goto out;
    err = pkey_fromdata("EC", bld, &k);
    if (err != MC_OK)
        goto out;
    /* Import already decodes the point; the explicit check makes the on-curve and
     * range requirement independent of how a provider imports. */
    cctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    if (cctx == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (EVP_PKEY_public_check(cctx) != 1) {
        log_openssl_errors(LOGL_DEBUG, "jose.jwk_import");
        err = MC_ERR_INVALID;
        goto out;
    }
    *out = k;
    k = NULL;
    err = MC_OK;
out:
    free(x);
    free(y);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(cctx);
    EVP_PKEY_free(k);
    return err;
}

static enum mc_err jwk_import_okp(const cJSON *jwk, EVP_PKEY **out)
{
    const char *crv = NULL;
    uint8_t *x = NULL;
    size_t xlen = 0;
    enum mc_err err;

    if (json_get_string(jwk, "crv", &crv) != MC_OK)
        return MC_ERR_INVALID;
    if (strcmp(crv, "Ed25519") != 0) /* Ed448, X25519, X448: not for ACME signatures */
        return MC_ERR_UNSUPPORTED;
    err = jwk_member(jwk, "x", &x, &xlen);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_INVALID;
    if (xlen != 32)
        goto out;
    *out = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xlen);
    if (*out == NULL) {
        log_openssl_errors(LOGL_DEBUG, "jose.jwk_import");
        goto out;
    }
    err = MC_OK;
out:
    free(x);
    return err;
}

enum mc_err jwk_from_json(const cJSON *jwk, EVP_PKEY **out)
{
    /* RFC 7518 sections 6.2.2, 6.3.2 and 6.4, RFC 8037 section 2: members that only a
     * private or symmetric key has. */
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    const char *kty = NULL;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (!cJSON_IsObject(jwk))
        return MC_ERR_INVALID;
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        if (cJSON_GetObjectItemCaseSensitive(jwk, private_members[i]) != NULL)
            return MC_ERR_INVALID;
    }
    if (json_get_string(jwk, "kty", &kty) != MC_OK)
        return MC_ERR_INVALID;
    if (strcmp(kty, "RSA") == 0)
        return jwk_import_rsa(jwk, out);
    if (strcmp(kty, "EC") == 0)
        return jwk_import_ec(jwk, out);
    if (strcmp(kty, "OKP") == 0)
        return jwk_import_okp(jwk, out);
    return MC_ERR_UNSUPPORTED;
}

/* Adds name: base64url(buf[0..n)) to obj. */
static enum mc_err add_b64(cJSON *obj, const char *name, const uint8_t *buf, size_t n)
{
    char *s = NULL;
    enum mc_err err;

    err = b64url_encode(buf, n, &s);
    if (err != MC_OK)
        return err;
    err = cJSON_AddStringToObject(obj, name, s) != NULL ? MC_OK : MC_ERR_NOMEM;
    free(s);
    return err;
}

/* Adds name: base64url of the big-endian bytes of BN parameter param of key, padded to
 * pad bytes (0: the minimum, as RFC 7518 section 6.3.1 wants for n and e). */
static enum mc_err add_bn_param(cJSON *obj, const char *name, EVP_PKEY *key, const char *param,
                                size_t pad)
{
    BIGNUM *bn = NULL;
    uint8_t *buf = NULL;
    size_t len;
    enum mc_err err = MC_ERR_CRYPTO;

    if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) {
        log_openssl_errors(LOGL_ERROR, "jose.jwk_export");
        goto out;
    }
    len = pad != 0 ? pad : (size_t)BN_num_bytes(bn);
    if (len == 0 || (size_t)BN_num_bytes(bn) > len)
        goto out;
    buf = malloc(len);
    if (buf == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (BN_bn2binpad(bn, buf, (int)len) != (int)len)
        goto out;
    err = add_b64(obj, name, buf, len);
out:
    BN_free(bn);
    free(buf);
    return err;
}

/* Adds "x" and "y" of an EC key, each clen bytes. One read of the encoded point is cheaper
 * than two BIGNUM reads (the CA takes a thumbprint on every challenge answer); a point kept
 * in another form (compressed) goes the BIGNUM way. */
static enum mc_err add_ec_point(cJSON *obj, EVP_PKEY *key, size_t clen)
{
    uint8_t pt[1 + 2 * 66];
    size_t len = 0;
    enum mc_err err;

    if (clen <= 66 &&
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) == 1 &&
        len == 1 + 2 * clen && pt[0] == 0x04) {
        err = add_b64(obj, "x", pt + 1, clen);
        if (err == MC_OK)
            err = add_b64(obj, "y", pt + 1 + clen, clen);
        return err;
    }
    ERR_clear_error();
    err = add_bn_param(obj, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, clen);
    if (err == MC_OK)
        err = add_bn_param(obj, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, clen);
    return err;
}

enum mc_err jwk_to_json(EVP_PKEY *key, cJSON **out)
{
    cJSON *j = NULL;
    enum jose_alg alg;
    const struct ec_curve *c;
    uint8_t raw[32];
    size_t rawlen = sizeof(raw);
    enum mc_err err;

    if (key == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    err = jose_alg_for_key(key, &alg);
    if (err != MC_OK)
        return err;
    j = cJSON_CreateObject();
    if (j == NULL)
        return MC_ERR_NOMEM;
    /* Members are added in lexicographic order, so the compact print of this object is
     * exactly the RFC 7638 section 3 thumbprint input. */
    err = MC_ERR_NOMEM;
    if (alg == JOSE_ALG_RS256) {
        err = add_bn_param(j, "e", key, OSSL_PKEY_PARAM_RSA_E, 0);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_NOMEM;
        if (cJSON_AddStringToObject(j, "kty", "RSA") == NULL)
            goto out;
        err = add_bn_param(j, "n", key, OSSL_PKEY_PARAM_RSA_N, 0);
    } else if (alg == JOSE_ALG_EDDSA) {
        if (cJSON_AddStringToObject(j, "crv", "Ed25519") == NULL ||
            cJSON_AddStringToObject(j, "kty", "OKP") == NULL)
            goto out;
        if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 || rawlen != sizeof(raw)) {
            log_openssl_errors(LOGL_ERROR, "jose.jwk_export");
            err = MC_ERR_CRYPTO;
            goto out;
        }
        err = add_b64(j, "x", raw, rawlen);
    } else {
        c = curve_by_alg(alg);
        if (c == NULL) {
            err = MC_ERR_UNSUPPORTED;
            goto out;
        }
        if (cJSON_AddStringToObject(j, "crv", c->crv) == NULL ||
            cJSON_AddStringToObject(j, "kty", "EC") == NULL)
            goto out;
        err = add_ec_point(j, key, c->clen);
    }
    if (err != MC_OK)
        goto out;
    *out = j;
    j = NULL;
out:
    cJSON_Delete(j);
    return err;
}

enum mc_err jwk_thumbprint(EVP_PKEY *key, char **out)
{
    cJSON *j = NULL;
    char *text = NULL;
    uint8_t md[32];
    unsigned int mdlen = 0;
    enum mc_err err;

    if (key == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    err = jwk_to_json(key, &j);
    if (err != MC_OK)
        goto out;
    text = cJSON_PrintUnformatted(j);
    if (text == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (EVP_Digest(text, strlen(text), md, &mdlen, sha2_md(JOSE_ALG_ES256), NULL) != 1 ||
        mdlen != sizeof(md)) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    err = b64url_encode(md, mdlen, out);
out:
    cJSON_Delete(j);
    cJSON_free(text);
    return err;
}

bool jwk_equal(EVP_PKEY *a, EVP_PKEY *b)
{
    if (a == NULL || b == NULL)
        return false;
    return EVP_PKEY_eq(a, b) == 1;
}

/* ---- raw signatures ---- */

/* ---- ECDSA ----
 *
 * JWS carries r||s; OpenSSL speaks DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs). The two
 * conversions are done by hand on stack buffers: through ECDSA_SIG and BIGNUMs they cost
 * several allocations per request, and on the CA every request is verified. The message is
 * hashed here with a digest fetched once and the hash signed or verified with EVP_PKEY_sign
 * or EVP_PKEY_verify: EVP_DigestSignInit/VerifyInit looked the digest up by name on every
 * call (a few microseconds per request on each side in profiles). RSA and EdDSA keep the
 * EVP_DigestSign path: PKCS #1 needs the digest's identity, Ed25519 hashes internally. */

/* The largest DER ECDSA-Sig-Value we handle: P-521, two 66-byte integers each with a 0x00
 * pad and a 2-byte header, in a SEQUENCE with a 3-byte header (141 bytes). */
#define ECDSA_DER_MAX 160

/* Reads one DER INTEGER at der[*pos..end) into out[0..clen), left-padded; advances *pos.
 * False if it is not a non-negative INTEGER of at most clen significant bytes. */
static bool der_int_to_fixed(const uint8_t *der, size_t *pos, size_t end, uint8_t *out, size_t clen)
{
    size_t p = *pos, len;

    if (end - p < 2 || der[p] != 0x02)
        return false;
    len = der[p + 1];
    p += 2;
    if (len == 0 || len > 0x7f || len > end - p || (der[p] & 0x80) != 0)
        return false;
    /* A 0x00 in front of a high bit is sign padding, not part of the value. */
    while (len > 1 && der[p] == 0x00) {
        p++;
        len--;
    }
    if (len > clen)
        return false;
    memset(out, 0, clen - len);
    memcpy(out + clen - len, der + p, len);
    *pos = p + len;
    return true;
}

/* DER ECDSA-Sig-Value -> r||s in raw[0..2*clen) (RFC 7518 section 3.4). The DER comes from
 * OpenSSL's own signer, so a failure is MC_ERR_CRYPTO. */
static enum mc_err ecdsa_der_to_raw(const uint8_t *der, size_t derlen, size_t clen, uint8_t *raw)
{
    size_t pos = 0, len;

    if (derlen < 2 || der[0] != 0x30)
        return MC_ERR_CRYPTO;
    len = der[1];
    pos = 2;
    if (len == 0x81) { /* long form, one length byte: only P-521 needs it */
        if (derlen < 3)
            return MC_ERR_CRYPTO;
        len = der[2];
        pos = 3;
    } else if (len > 0x7f) {
        return MC_ERR_CRYPTO;
    }
    if (len != derlen - pos)
        return MC_ERR_CRYPTO;
    if (!der_int_to_fixed(der, &pos, derlen, raw, clen) ||
        !der_int_to_fixed(der, &pos, derlen, raw + clen, clen) || pos != derlen)
        return MC_ERR_CRYPTO;
    return MC_OK;
}

/* Appends v[0..clen) as a minimal DER INTEGER at out + *pos. */
static void fixed_to_der_int(const uint8_t *v, size_t clen, uint8_t *out, size_t *pos)
{
    size_t skip = 0, len;
    bool pad;

    while (skip + 1 < clen && v[skip] == 0x00)
        skip++;
    len = clen - skip;
    pad = (v[skip] & 0x80) != 0; /* an INTEGER is signed: keep a set high bit positive */
    out[(*pos)++] = 0x02;
    out[(*pos)++] = (uint8_t)(len + (pad ? 1 : 0));
    if (pad)
        out[(*pos)++] = 0x00;
    memcpy(out + *pos, v + skip, len);
    *pos += len;
}

/* r||s of exactly 2*clen bytes -> canonical DER in der (ECDSA_DER_MAX bytes). MC_ERR_VERIFY
 * for a wrong length (RFC 7518 section 3.4: the length is fixed by the curve). */
static enum mc_err ecdsa_raw_to_der(const uint8_t *raw, size_t rawlen, size_t clen, uint8_t *der,
                                    size_t *derlen)
{
    uint8_t body[ECDSA_DER_MAX];
    size_t blen = 0, pos = 0;

    if (rawlen != 2 * clen || clen == 0 || 2 * (clen + 3) + 3 > ECDSA_DER_MAX)
        return MC_ERR_VERIFY;
    fixed_to_der_int(raw, clen, body, &blen);
    fixed_to_der_int(raw + clen, clen, body, &blen);
    der[pos++] = 0x30;
    if (blen > 0x7f)
        der[pos++] = 0x81;
    der[pos++] = (uint8_t)blen;
    memcpy(der + pos, body, blen);
    *derlen = pos + blen;
    return MC_OK;
}

/* Each thread keeps the signing and the verifying context of the last EC key it used.
 * Making an EVP_PKEY_CTX costs OpenSSL 3.0 a walk over its whole name map (to find the
 * key's legacy type) plus a fetch, a few microseconds on every request in load profiles,
 * and both the CA and the client use one account key for request after request. ECDSA
 * contexts keep no state between EVP_PKEY_sign/verify calls, so one initialised context
 * serves any number of them. The cache holds a reference to its key, so a pointer match
 * is the same key, never a new one at a freed one's address. Per thread, because a
 * context must not be used by two threads at once; freed when the thread ends (the TLS
 * destructor), and the pointer in thread-local storage keeps it reachable until then. */
struct pk_cache {
    EVP_PKEY *key;
    EVP_PKEY_CTX *sign;
    EVP_PKEY_CTX *verify;
};

static pthread_once_t pk_once = PTHREAD_ONCE_INIT;
static pthread_key_t pk_key;
static bool pk_key_ok;
static _Thread_local struct pk_cache *pk_mine;

static void pk_cache_free(void *p)
{
    struct pk_cache *c = p;

    if (c == NULL)
        return;
    EVP_PKEY_CTX_free(c->sign);
    EVP_PKEY_CTX_free(c->verify);
    EVP_PKEY_free(c->key);
    free(c);
    pk_mine = NULL;
}

static void pk_init(void)
{
    pk_key_ok = pthread_key_create(&pk_key, pk_cache_free) == 0;
}

/* This thread's cache, pointed at key (holding a reference), or NULL when there is none
 * (no TLS key, no memory): the caller then makes a context of its own. */
static struct pk_cache *pk_cache_for(EVP_PKEY *key)
{
    struct pk_cache *c = pk_mine;

    pthread_once(&pk_once, pk_init);
    if (!pk_key_ok)
        return NULL;
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            return NULL;
        if (pthread_setspecific(pk_key, c) != 0) {
            free(c);
            return NULL;
        }
        pk_mine = c;
    }
    if (c->key != key) {
        if (EVP_PKEY_up_ref(key) != 1)
            return NULL;
        EVP_PKEY_CTX_free(c->sign);
        EVP_PKEY_CTX_free(c->verify);
        EVP_PKEY_free(c->key);
        c->sign = NULL;
        c->verify = NULL;
        c->key = key;
    }
    return c;
}

/* A context for key set up for signing (sign true) or verifying. *owned is set when the
 * context is the caller's to free (the cache could not keep it); else it is the cache's. */
static EVP_PKEY_CTX *pk_ctx(EVP_PKEY *key, bool sign, bool *owned)
{
    struct pk_cache *c = pk_cache_for(key);
    EVP_PKEY_CTX **slot = c == NULL ? NULL : sign ? &c->sign : &c->verify;
    EVP_PKEY_CTX *pctx;

    *owned = false;
    if (slot != NULL && *slot != NULL)
        return *slot;
    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (pctx == NULL)
        return NULL;
    if ((sign ? EVP_PKEY_sign_init(pctx) : EVP_PKEY_verify_init(pctx)) != 1) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    if (slot == NULL) {
        *owned = true;
        return pctx;
    }
    *slot = pctx;
    return pctx;
}

/* ES256/384/512 signature over in[0..n) as r||s; alg already checked against key. */
static enum mc_err ec_sign(EVP_PKEY *key, enum jose_alg alg, const struct ec_curve *c,
                           const uint8_t *in, size_t n, uint8_t **sig, size_t *siglen)
{
    const EVP_MD *md = sha2_md(alg);
    EVP_PKEY_CTX *pctx = NULL;
    bool owned = false;
    uint8_t dg[EVP_MAX_MD_SIZE], der[ECDSA_DER_MAX];
    unsigned dglen = 0;
    size_t derlen = sizeof(der);
    uint8_t *raw = NULL;
    enum mc_err err = MC_ERR_CRYPTO;

    if (md == NULL || EVP_Digest(in, n, dg, &dglen, md, NULL) != 1)
        goto out;
    pctx = pk_ctx(key, true, &owned);
    if (pctx == NULL || EVP_PKEY_sign(pctx, der, &derlen, dg, dglen) != 1)
        goto out;
    raw = malloc(2 * c->clen);
    if (raw == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = ecdsa_der_to_raw(der, derlen, c->clen, raw);
    if (err != MC_OK)
        goto out;
    *sig = raw;
    *siglen = 2 * c->clen;
    raw = NULL;
out:
    if (owned)
        EVP_PKEY_CTX_free(pctx);
    free(raw);
    return err;
}

/* ES256/384/512 verification of r||s over in[0..n); alg already checked against key. */
static enum mc_err ec_verify(EVP_PKEY *key, enum jose_alg alg, const struct ec_curve *c,
                             const uint8_t *in, size_t n, const uint8_t *sig, size_t siglen)
{
    const EVP_MD *md = sha2_md(alg);
    EVP_PKEY_CTX *pctx = NULL;
    bool owned = false;
    uint8_t dg[EVP_MAX_MD_SIZE], der[ECDSA_DER_MAX];
    unsigned dglen = 0;
    size_t derlen = 0;
    enum mc_err err;

    err = ecdsa_raw_to_der(sig, siglen, c->clen, der, &derlen);
    if (err != MC_OK)
        return err;
    if (md == NULL || EVP_Digest(in, n, dg, &dglen, md, NULL) != 1) {
        log_openssl_errors(LOGL_ERROR, "jose.verify");
        return MC_ERR_CRYPTO;
    }
    pctx = pk_ctx(key, false, &owned);
    if (pctx == NULL) {
        log_openssl_errors(LOGL_ERROR, "jose.verify");
        err = MC_ERR_CRYPTO;
        goto out;
    }
    /* 0 is a bad signature, below 0 a malformed one: both are the sender's fault. */
    if (EVP_PKEY_verify(pctx, der, derlen, dg, dglen) != 1) {
        log_openssl_errors(LOGL_DEBUG, "jose.verify");
        err = MC_ERR_VERIFY;
        goto out;
    }
    err = MC_OK;
out:
    if (owned)
        EVP_PKEY_CTX_free(pctx);
    return err;
}

/* jose_sign after the argument and key checks. */
static enum mc_err sign_checked(EVP_PKEY *key, enum jose_alg alg, const uint8_t *in, size_t n,
                                uint8_t **sig, size_t *siglen)
{
    EVP_MD_CTX *mctx = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    const struct ec_curve *c = curve_by_alg(alg);
    enum mc_err err;

    *sig = NULL;
    *siglen = 0;
    if (c != NULL) {
        err = ec_sign(key, alg, c, in, n, sig, siglen);
        goto out;
    }
    err = MC_ERR_CRYPTO;
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestSignInit(mctx, NULL, alg_md(alg), NULL, key) != 1)
        goto out;
    if (EVP_DigestSign(mctx, NULL, &len, in, n) != 1)
        goto out;
    buf = malloc(len);
    if (buf == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestSign(mctx, buf, &len, in, n) != 1)
        goto out;
    *sig = buf;
    *siglen = len;
    buf = NULL;
    err = MC_OK;
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "jose.sign");
    EVP_MD_CTX_free(mctx);
    free(buf);
    return err;
}

enum mc_err jose_sign(EVP_PKEY *key, enum jose_alg alg, const uint8_t *in, size_t n, uint8_t **sig,
                      size_t *siglen)
{
    enum mc_err err;

    if (key == NULL || sig == NULL || siglen == NULL || (in == NULL && n != 0))
        return MC_ERR_INVALID;
    *sig = NULL;
    *siglen = 0;
    err = jose_alg_check_key(alg, key);
    if (err != MC_OK)
        return err;
    return sign_checked(key, alg, in, n, sig, siglen);
}

/* jose_verify after the argument and key checks. */
static enum mc_err verify_checked(EVP_PKEY *key, enum jose_alg alg, const uint8_t *in, size_t n,
                                  const uint8_t *sig, size_t siglen)
{
    EVP_MD_CTX *mctx = NULL;
    const struct ec_curve *c = curve_by_alg(alg);
    enum mc_err err;

    if (siglen == 0)
        return MC_ERR_VERIFY;
    if (c != NULL)
        return ec_verify(key, alg, c, in, n, sig, siglen);
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit(mctx, NULL, alg_md(alg), NULL, key) != 1) {
        log_openssl_errors(LOGL_ERROR, "jose.verify");
        err = MC_ERR_CRYPTO;
        goto out;
    }
    /* 0 is a bad signature, below 0 a malformed one: both are the sender's fault. */
    if (EVP_DigestVerify(mctx, sig, siglen, in, n) != 1) {
        log_openssl_errors(LOGL_DEBUG, "jose.verify");
        err = MC_ERR_VERIFY;
        goto out;
    }
    err = MC_OK;
out:
    EVP_MD_CTX_free(mctx);
    return err;
}

enum mc_err jose_verify(EVP_PKEY *key, enum jose_alg alg, const uint8_t *in, size_t n,
                        const uint8_t *sig, size_t siglen)
{
    enum mc_err err;

    if (key == NULL || (in == NULL && n != 0) || (sig == NULL && siglen != 0))
        return MC_ERR_INVALID;
    if (jose_alg_is_hmac(alg))
        return MC_ERR_MISMATCH;
    err = jose_alg_check_key(alg, key);
    if (err != MC_OK)
        return err;
    return verify_checked(key, alg, in, n, sig, siglen);
}

enum mc_err jose_hmac(enum jose_alg alg, const uint8_t *key, size_t keylen, const uint8_t *in,
                      size_t n, uint8_t *out, size_t *outlen)
{
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    const char *digest;
    enum mc_err err = MC_ERR_CRYPTO;

    switch (alg) {
    case JOSE_ALG_HS256:
        digest = "SHA256";
        break;
    case JOSE_ALG_HS384:
        digest = "SHA384";
        break;
    case JOSE_ALG_HS512:
        digest = "SHA512";
        break;
    default:
        return MC_ERR_UNSUPPORTED;
    }
    /* An empty MAC key authenticates nothing; EVP_MAC_init also reads a NULL key as
     * "keep the old one". */
    if (key == NULL || keylen == 0 || out == NULL || outlen == NULL || (in == NULL && n != 0))
        return MC_ERR_INVALID;
    if (keylen > JOSE_HMAC_KEY_MAX)
        return MC_ERR_TOO_BIG;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        goto out;
    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key, keylen, params) != 1)
        goto out;
    if (n > 0 && EVP_MAC_update(ctx, in, n) != 1)
        goto out;
    if (EVP_MAC_final(ctx, out, outlen, 64) != 1)
        goto out;
    err = MC_OK;
out:
    if (err != MC_OK)
        log_openssl_errors(LOGL_ERROR, "jose.hmac");
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return err;
}

/* ---- JWS ---- */

void jws_free(struct jws *j)
{
    if (j == NULL)
        return;
    free(j->protected_b64);
    free(j->payload_b64);
    cJSON_Delete(j->protected);
    free(j->payload);
    free(j->signature);
    free(j);
}

/* Decodes a base64url member; MC_ERR_INVALID for anything but strict base64url. */
static enum mc_err decode_member(const char *s, uint8_t **out, size_t *len)
{
    enum mc_err err = b64url_decode(s, strlen(s), out, len);

    if (err == MC_ERR_NOMEM)
        return err;
    return err == MC_OK ? MC_OK : MC_ERR_INVALID;
}

enum mc_err jws_parse(const char *body, size_t len, struct jws **out)
{
    cJSON *root = NULL;
    const cJSON *item;
    const char *prot = NULL, *payload = NULL, *signature = NULL;
    uint8_t *hdr = NULL;
    size_t hdrlen = 0;
    const char *alg = NULL;
    struct jws *j = NULL;
    enum mc_err err;

    if (body == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (len > JWS_MAX_LEN)
        return MC_ERR_TOO_BIG;
    /* The compact serialization and anything else that is not JSON fails here. */
    err = json_parse(body, len, JWS_MAX_LEN, JSON_DEFAULT_MAX_DEPTH, &root);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_INVALID;
    if (!cJSON_IsObject(root))
        goto out;
    /* RFC 8555 section 6.2: flattened serialization with a protected header only. So
     * exactly these three members: "header" (unprotected), "signatures" (general) and
     * anything else are refused. */
    cJSON_ArrayForEach(item, root)
    {
        if (item->string == NULL || !cJSON_IsString(item) || item->valuestring == NULL)
            goto out;
        if (strcmp(item->string, "protected") == 0)
            prot = item->valuestring;
        else if (strcmp(item->string, "payload") == 0)
            payload = item->valuestring;
        else if (strcmp(item->string, "signature") == 0)
            signature = item->valuestring;
        else
            goto out;
    }
    if (prot == NULL || payload == NULL || signature == NULL)
        goto out;
    if (prot[0] == '\0' || signature[0] == '\0')
        goto out;

    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = MC_ERR_NOMEM;
    j->protected_b64 = strdup(prot);
    j->payload_b64 = strdup(payload);
    if (j->protected_b64 == NULL || j->payload_b64 == NULL)
        goto out;
    err = decode_member(prot, &hdr, &hdrlen);
    if (err != MC_OK)
        goto out;
    err = decode_member(payload, &j->payload, &j->payload_len);
    if (err != MC_OK)
        goto out;
    if (j->payload == NULL) { /* keep the promise of a NUL-terminated payload */
        j->payload = calloc(1, 1);
        if (j->payload == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    }
    err = decode_member(signature, &j->signature, &j->signature_len);
    if (err != MC_OK)
        goto out;
    err = json_parse((const char *)hdr, hdrlen, JWS_MAX_LEN, JSON_DEFAULT_MAX_DEPTH, &j->protected);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_INVALID;
    if (!cJSON_IsObject(j->protected))
        goto out;
    if (json_get_string(j->protected, "alg", &alg) != MC_OK)
        goto out;
    err = jose_alg_parse(alg, &j->alg);
    if (err != MC_OK)
        goto out;
    /* RFC 7515 section 4.1.11: we implement no extension, so any "crit" must be refused. */
    if (cJSON_GetObjectItemCaseSensitive(j->protected, "crit") != NULL) {
        err = MC_ERR_UNSUPPORTED;
        goto out;
    }
    *out = j;
    j = NULL;
    err = MC_OK;
out:
    cJSON_Delete(root);
    free(hdr);
    jws_free(j);
    return err;
}

/* protected_b64 "." payload_b64, the JWS Signing Input (RFC 7515 section 5.1), new. */
static enum mc_err signing_input(const char *prot, const char *payload, char **out, size_t *len)
{
    size_t plen = strlen(prot), ylen = strlen(payload);
    char *s;

    s = malloc(plen + 1 + ylen + 1);
    if (s == NULL)
        return MC_ERR_NOMEM;
    memcpy(s, prot, plen);
    s[plen] = '.';
    memcpy(s + plen + 1, payload, ylen);
    s[plen + 1 + ylen] = '\0';
    *out = s;
    *len = plen + 1 + ylen;
    return MC_OK;
}

enum mc_err jws_verify(const struct jws *j, EVP_PKEY *key)
{
    char *in = NULL;
    size_t n = 0;
    enum mc_err err;

    if (j == NULL || key == NULL)
        return MC_ERR_INVALID;
    if (jose_alg_is_hmac(j->alg))
        return MC_ERR_MISMATCH;
    err = jose_alg_check_key(j->alg, key);
    if (err != MC_OK)
        return err;
    err = signing_input(j->protected_b64, j->payload_b64, &in, &n);
    if (err != MC_OK)
        return err;
    /* The alg was checked against the key above: once per request is enough. */
    err = verify_checked(key, j->alg, (const uint8_t *)in, n, j->signature, j->signature_len);
    free(in);
    return err;
}

enum mc_err jws_verify_hmac(const struct jws *j, const uint8_t *key, size_t keylen)
{
    char *in = NULL;
    size_t n = 0;
    uint8_t mac[64];
    size_t maclen = 0;
    enum mc_err err;

    if (j == NULL || key == NULL)
        return MC_ERR_INVALID;
    if (!jose_alg_is_hmac(j->alg))
        return MC_ERR_MISMATCH;
    err = signing_input(j->protected_b64, j->payload_b64, &in, &n);
    if (err != MC_OK)
        return err;
    err = jose_hmac(j->alg, key, keylen, (const uint8_t *)in, n, mac, &maclen);
    if (err != MC_OK)
        goto out;
    /* Length first (public), then a constant-time compare of the MAC itself. */
    if (j->signature_len != maclen || CRYPTO_memcmp(mac, j->signature, maclen) != 0)
        err = MC_ERR_VERIFY;
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    free(in);
    return err;
}

/* How jws_build signs: with key when set, else HMAC with mac[0..maclen). */
struct jws_signer {
    EVP_PKEY *key;
    const uint8_t *mac;
    size_t maclen;
};

static enum mc_err jws_build(const struct jws_signer *sg, enum jose_alg alg, const cJSON *header,
                             const uint8_t *payload, size_t n, cJSON **out)
{
    cJSON *prot = NULL, *jws = NULL, *dup;
    const cJSON *item;
    char *prot_text = NULL, *prot_b64 = NULL, *payload_b64 = NULL, *sig_b64 = NULL;
    char *in = NULL;
    size_t inlen = 0;
    uint8_t *sig = NULL;
    size_t siglen = 0;
    uint8_t mac[64];
    enum mc_err err;

    if (out == NULL || (payload == NULL && n != 0))
        return MC_ERR_INVALID;
    *out = NULL;
    if (header != NULL && !cJSON_IsObject(header))
        return MC_ERR_INVALID;
    err = MC_ERR_NOMEM;
    prot = cJSON_CreateObject();
    if (prot == NULL)
        goto out;
    if (cJSON_AddStringToObject(prot, "alg", jose_alg_name(alg)) == NULL)
        goto out;
    if (header != NULL) {
        cJSON_ArrayForEach(item, header)
        {
            if (item->string == NULL || strcmp(item->string, "alg") == 0)
                continue; /* ours wins: it is the one the signature is made with */
            dup = cJSON_Duplicate(item, 1);
            if (dup == NULL)
                goto out;
            cJSON_AddItemToObject(prot, item->string, dup);
        }
    }
    prot_text = cJSON_PrintUnformatted(prot);
    if (prot_text == NULL)
        goto out;
    err = b64url_encode((const uint8_t *)prot_text, strlen(prot_text), &prot_b64);
    if (err != MC_OK)
        goto out;
    err = b64url_encode(payload, n, &payload_b64);
    if (err != MC_OK)
        goto out;
    err = signing_input(prot_b64, payload_b64, &in, &inlen);
    if (err != MC_OK)
        goto out;
    if (sg->key != NULL) {
        /* jws_sign checked alg against the key already. */
        err = sign_checked(sg->key, alg, (const uint8_t *)in, inlen, &sig, &siglen);
        if (err != MC_OK)
            goto out;
        err = b64url_encode(sig, siglen, &sig_b64);
    } else {
        err = jose_hmac(alg, sg->mac, sg->maclen, (const uint8_t *)in, inlen, mac, &siglen);
        if (err != MC_OK)
            goto out;
        err = b64url_encode(mac, siglen, &sig_b64);
        OPENSSL_cleanse(mac, sizeof(mac));
    }
    if (err != MC_OK)
        goto out;
    err = MC_ERR_NOMEM;
    jws = cJSON_CreateObject();
    if (jws == NULL || cJSON_AddStringToObject(jws, "protected", prot_b64) == NULL ||
        cJSON_AddStringToObject(jws, "payload", payload_b64) == NULL ||
        cJSON_AddStringToObject(jws, "signature", sig_b64) == NULL)
        goto out;
    *out = jws;
    jws = NULL;
    err = MC_OK;
out:
    cJSON_Delete(prot);
    cJSON_Delete(jws);
    cJSON_free(prot_text);
    free(prot_b64);
    free(payload_b64);
    free(sig_b64);
    free(in);
    free(sig);
    return err;
}

enum mc_err jws_sign(EVP_PKEY *key, enum jose_alg alg, const cJSON *header, const uint8_t *payload,
                     size_t n, cJSON **out)
{
    struct jws_signer sg = {.key = key};
    enum mc_err err;

    if (key == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (jose_alg_is_hmac(alg))
        return MC_ERR_MISMATCH;
    err = jose_alg_check_key(alg, key);
    if (err != MC_OK)
        return err;
    return jws_build(&sg, alg, header, payload, n, out);
}

enum mc_err jws_sign_hmac(enum jose_alg alg, const uint8_t *key, size_t keylen, const cJSON *header,
                          const uint8_t *payload, size_t n, cJSON **out)
{
    struct jws_signer sg = {.mac = key, .maclen = keylen};

    if (key == NULL || keylen == 0 || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (!jose_alg_is_hmac(alg))
        return MC_ERR_MISMATCH;
    return jws_build(&sg, alg, header, payload, n, out);
}
