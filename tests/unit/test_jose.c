/* Unit tests for common/jose.c against published vectors: RFC 7515 appendix A.2 (RS256)
 * and A.3 (ES256), RFC 7638 section 3.1 (thumbprint), RFC 8037 appendix A (Ed25519),
 * RFC 4231 (HMAC-SHA-2), plus round trips and malformed input. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "common/b64url.h"
#include "common/jose.h"
#include "common/keys.h"

/* ---- vectors ---- */

/* RFC 7515 appendix A.2 (the RSA key of RFC 7517 appendix A.1). */
static const char *const A2_N =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm"
    "4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5r"
    "exMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyx"
    "XFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
static const char *const A2_SIG =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
    "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
/* The JWS Payload of appendices A.1 to A.3, with its CRLF line breaks. */
static const char *const A_PAYLOAD =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
static const char *const A_PAYLOAD_B64 = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6L"
                                         "y9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

/* RFC 7515 appendix A.3. */
static const char *const A3_X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char *const A3_Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char *const A3_D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
static const char *const A3_SIG =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/* RFC 7638 section 3.1. */
static const char *const T_N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char *const T_THUMB = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* RFC 8037 appendix A. */
static const char *const ED_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
static const char *const ED_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char *const ED_THUMB = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
static const char *const ED_PROT_B64 = "eyJhbGciOiJFZERTQSJ9";
static const char *const ED_PAYLOAD = "Example of Ed25519 signing";
static const char *const ED_PAYLOAD_B64 = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char *const ED_SIG =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/* ---- helpers ---- */

static cJSON *parse_json(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    return j;
}

static uint8_t *dec(const char *b64, size_t *n)
{
    uint8_t *out = NULL;
    ck_assert_int_eq(b64url_decode(b64, strlen(b64), &out, n), MC_OK);
    return out;
}

static char *enc(const uint8_t *in, size_t n)
{
    char *out = NULL;
    ck_assert_int_eq(b64url_encode(in, n, &out), MC_OK);
    return out;
}

/* Imports a JWK given as JSON text; returns the error, key in *out. */
static enum mc_err import_text(const char *text, EVP_PKEY **out)
{
    cJSON *j = parse_json(text);
    enum mc_err err = jwk_from_json(j, out);
    cJSON_Delete(j);
    return err;
}

static EVP_PKEY *import_ok(const char *text)
{
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(import_text(text, &k), MC_OK);
    ck_assert_ptr_nonnull(k);
    return k;
}

static EVP_PKEY *rsa_jwk(const char *n, const char *e)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", n, e);
    return import_ok(buf);
}

static EVP_PKEY *a3_key(void)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", A3_X,
             A3_Y);
    return import_ok(buf);
}

/* A flattened JWS text from its three parts. */
static char *flat(const char *prot, const char *payload, const char *sig)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "protected", prot);
    cJSON_AddStringToObject(j, "payload", payload);
    cJSON_AddStringToObject(j, "signature", sig);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ck_assert_ptr_nonnull(s);
    return s;
}

static enum mc_err parse_text(const char *text, struct jws **out)
{
    return jws_parse(text, strlen(text), out);
}

/* ---- RFC 7515 A.2 ---- */

START_TEST(test_rfc7515_a2_rs256)
{
    EVP_PKEY *k = rsa_jwk(A2_N, "AQAB");
    char *prot_b64 = enc((const uint8_t *)"{\"alg\":\"RS256\"}", 15);
    char *payload_b64 = enc((const uint8_t *)A_PAYLOAD, strlen(A_PAYLOAD));
    ck_assert_str_eq(prot_b64, "eyJhbGciOiJSUzI1NiJ9");
    ck_assert_str_eq(payload_b64, A_PAYLOAD_B64);

    char input[512];
    snprintf(input, sizeof(input), "%s.%s", prot_b64, payload_b64);
    size_t siglen = 0;
    uint8_t *sig = dec(A2_SIG, &siglen);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_int_eq(key_bits(k), 2048);
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_RS256, (uint8_t *)input, strlen(input), sig, siglen),
                     MC_OK);
    /* A changed payload byte, a flipped signature bit, a truncated signature. */
    input[strlen(input) - 1] ^= 1;
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_RS256, (uint8_t *)input, strlen(input), sig, siglen),
                     MC_ERR_VERIFY);
    input[strlen(input) - 1] ^= 1;
    sig[100] ^= 0x40;
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_RS256, (uint8_t *)input, strlen(input), sig, siglen),
                     MC_ERR_VERIFY);
    sig[100] ^= 0x40;
    ck_assert_int_eq(
        jose_verify(k, JOSE_ALG_RS256, (uint8_t *)input, strlen(input), sig, siglen - 1),
        MC_ERR_VERIFY);
    /* The right key with the wrong alg. */
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_ES256, (uint8_t *)input, strlen(input), sig, siglen),
                     MC_ERR_MISMATCH);

    /* The same JWS in the flattened serialization through jws_parse and jws_verify. */
    char *body = flat(prot_b64, payload_b64, A2_SIG);
    struct jws *j = NULL;
    ck_assert_int_eq(parse_text(body, &j), MC_OK);
    ck_assert_int_eq(j->alg, JOSE_ALG_RS256);
    ck_assert_uint_eq(j->payload_len, strlen(A_PAYLOAD));
    ck_assert_str_eq((const char *)j->payload, A_PAYLOAD);
    ck_assert_int_eq(jws_verify(j, k), MC_OK);
    jws_free(j);
    free(body);

    /* Truncated signature text: still base64url, one byte short. */
    char *short_sig = enc(sig, siglen - 1);
    body = flat(prot_b64, payload_b64, short_sig);
    ck_assert_int_eq(parse_text(body, &j), MC_OK);
    ck_assert_int_eq(jws_verify(j, k), MC_ERR_VERIFY);
    jws_free(j);
    free(body);
    free(short_sig);

    free(sig);
    free(prot_b64);
    free(payload_b64);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- RFC 7515 A.3 ---- */

START_TEST(test_rfc7515_a3_es256)
{
    EVP_PKEY *k = a3_key();
    char *prot_b64 = enc((const uint8_t *)"{\"alg\":\"ES256\"}", 15);
    ck_assert_str_eq(prot_b64, "eyJhbGciOiJFUzI1NiJ9");
    char input[512];
    snprintf(input, sizeof(input), "%s.%s", prot_b64, A_PAYLOAD_B64);
    size_t siglen = 0;
    uint8_t *sig = dec(A3_SIG, &siglen);
    ck_assert_uint_eq(siglen, 64); /* raw r||s, RFC 7518 section 3.4 */
    const uint8_t *in = (const uint8_t *)input;
    size_t n = strlen(input);

    ck_assert_int_eq(jose_verify(k, JOSE_ALG_ES256, in, n, sig, 64), MC_OK);
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_ES256, in, n, sig, 63), MC_ERR_VERIFY);
    uint8_t long_sig[65];
    memcpy(long_sig, sig, 64);
    long_sig[64] = 0;
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_ES256, in, n, long_sig, 65), MC_ERR_VERIFY);
    /* A 0x00 prefix makes r one byte longer but the same number: still refused. */
    uint8_t padded[65] = {0};
    memcpy(padded + 1, sig, 64);
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_ES256, in, n, padded, 65), MC_ERR_VERIFY);
    sig[40] ^= 1;
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_ES256, in, n, sig, 64), MC_ERR_VERIFY);
    sig[40] ^= 1;
    /* RS256 and ES384 on a P-256 key, and HS256 with a public key. */
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_RS256, in, n, sig, 64), MC_ERR_MISMATCH);
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_ES384, in, n, sig, 64), MC_ERR_MISMATCH);
    ck_assert_int_eq(jose_verify(k, JOSE_ALG_HS256, in, n, sig, 64), MC_ERR_MISMATCH);

    /* Through jws_parse: 63 and 65-byte signatures parse but do not verify. */
    struct jws *j = NULL;
    char *body = flat(prot_b64, A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(body, &j), MC_OK);
    ck_assert_int_eq(jws_verify(j, k), MC_OK);
    jws_free(j);
    free(body);
    for (size_t len = 63; len <= 65; len += 2) {
        char *s = enc(len == 63 ? sig : long_sig, len);
        body = flat(prot_b64, A_PAYLOAD_B64, s);
        ck_assert_int_eq(parse_text(body, &j), MC_OK);
        ck_assert_int_eq(jws_verify(j, k), MC_ERR_VERIFY);
        jws_free(j);
        free(body);
        free(s);
    }

    /* The RFC's JWS claims RS256 for the RSA key of A.2: an EC key is a MISMATCH. */
    char *rs_prot = enc((const uint8_t *)"{\"alg\":\"RS256\"}", 15);
    body = flat(rs_prot, A_PAYLOAD_B64, A2_SIG);
    ck_assert_int_eq(parse_text(body, &j), MC_OK);
    ck_assert_int_eq(jws_verify(j, k), MC_ERR_MISMATCH);
    jws_free(j);
    free(body);
    free(rs_prot);

    /* The JWK exported again has the RFC's coordinates, also when the key keeps its point
     * compressed (jwk_to_json then reads x and y one by one). */
    for (int compressed = 0; compressed < 2; compressed++) {
        cJSON *jwk = NULL;
        if (compressed)
            ck_assert_int_eq(EVP_PKEY_set_utf8_string_param(
                                 k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"),
                             1);
        ck_assert_int_eq(jwk_to_json(k, &jwk), MC_OK);
        ck_assert_str_eq(cJSON_GetObjectItem(jwk, "x")->valuestring, A3_X);
        ck_assert_str_eq(cJSON_GetObjectItem(jwk, "y")->valuestring, A3_Y);
        ck_assert_str_eq(cJSON_GetObjectItem(jwk, "crv")->valuestring, "P-256");
        cJSON_Delete(jwk);
    }

    free(sig);
    free(prot_b64);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- RFC 7638 ---- */

START_TEST(test_rfc7638_thumbprint)
{
    /* With optional members too: they must not change the thumbprint. */
    char buf[1024];
    snprintf(
        buf, sizeof(buf),
        "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}",
        T_N);
    EVP_PKEY *k = import_ok(buf);
    char *tp = NULL;
    ck_assert_int_eq(jwk_thumbprint(k, &tp), MC_OK);
    ck_assert_str_eq(tp, T_THUMB);
    free(tp);

    /* jwk_to_json: required members only, in lexicographic order (section 3.2). */
    cJSON *j = NULL;
    ck_assert_int_eq(jwk_to_json(k, &j), MC_OK);
    char *text = cJSON_PrintUnformatted(j);
    char want[1024];
    snprintf(want, sizeof(want), "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%s\"}", T_N);
    ck_assert_str_eq(text, want);
    cJSON_free(text);

    /* Export then import is the same key. */
    EVP_PKEY *k2 = NULL;
    ck_assert_int_eq(jwk_from_json(j, &k2), MC_OK);
    ck_assert(jwk_equal(k, k2));
    cJSON_Delete(j);

    EVP_PKEY *other = rsa_jwk(A2_N, "AQAB");
    ck_assert(!jwk_equal(k, other));
    ck_assert(!jwk_equal(k, NULL));
    EVP_PKEY_free(other);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k);

    /* EC export keeps full-length coordinates (A.3's key). */
    k = a3_key();
    ck_assert_int_eq(jwk_to_json(k, &j), MC_OK);
    text = cJSON_PrintUnformatted(j);
    snprintf(want, sizeof(want), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
             A3_X, A3_Y);
    ck_assert_str_eq(text, want);
    cJSON_free(text);
    cJSON_Delete(j);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- RFC 8037 ---- */

START_TEST(test_rfc8037_ed25519)
{
    size_t dlen = 0, xlen = 0;
    uint8_t *d = dec(ED_D, &dlen);
    uint8_t *x = dec(ED_X, &xlen);
    ck_assert_uint_eq(dlen, 32);
    ck_assert_uint_eq(xlen, 32);

    /* A.1: the private key. */
    EVP_PKEY *priv = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, d, dlen);
    ck_assert_ptr_nonnull(priv);

    /* A.2: its public JWK. */
    cJSON *j = NULL;
    ck_assert_int_eq(jwk_to_json(priv, &j), MC_OK);
    char *text = cJSON_PrintUnformatted(j);
    char want[256];
    snprintf(want, sizeof(want), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", ED_X);
    ck_assert_str_eq(text, want);
    cJSON_free(text);
    EVP_PKEY *pub = NULL;
    ck_assert_int_eq(jwk_from_json(j, &pub), MC_OK);
    ck_assert(jwk_equal(pub, priv));
    cJSON_Delete(j);

    /* A.3: the thumbprint, from the private and the public key. */
    char *tp = NULL;
    ck_assert_int_eq(jwk_thumbprint(priv, &tp), MC_OK);
    ck_assert_str_eq(tp, ED_THUMB);
    free(tp);
    ck_assert_int_eq(jwk_thumbprint(pub, &tp), MC_OK);
    ck_assert_str_eq(tp, ED_THUMB);
    free(tp);

    /* A.4: Ed25519 is deterministic, so the signature is exactly the RFC's. */
    char *payload_b64 = enc((const uint8_t *)ED_PAYLOAD, strlen(ED_PAYLOAD));
    ck_assert_str_eq(payload_b64, ED_PAYLOAD_B64);
    char input[256];
    snprintf(input, sizeof(input), "%s.%s", ED_PROT_B64, ED_PAYLOAD_B64);
    uint8_t *sig = NULL;
    size_t siglen = 0;
    ck_assert_int_eq(
        jose_sign(priv, JOSE_ALG_EDDSA, (uint8_t *)input, strlen(input), &sig, &siglen), MC_OK);
    char *sig_b64 = enc(sig, siglen);
    ck_assert_str_eq(sig_b64, ED_SIG);
    free(sig_b64);

    /* jws_sign with no other header members makes the same protected header. */
    cJSON *jws = NULL;
    ck_assert_int_eq(
        jws_sign(priv, JOSE_ALG_EDDSA, NULL, (const uint8_t *)ED_PAYLOAD, strlen(ED_PAYLOAD), &jws),
        MC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(jws, "protected")->valuestring, ED_PROT_B64);
    ck_assert_str_eq(cJSON_GetObjectItem(jws, "payload")->valuestring, ED_PAYLOAD_B64);
    ck_assert_str_eq(cJSON_GetObjectItem(jws, "signature")->valuestring, ED_SIG);
    cJSON_Delete(jws);

    /* A.5: verification with the public key only. */
    ck_assert_int_eq(jose_verify(pub, JOSE_ALG_EDDSA, (uint8_t *)input, strlen(input), sig, siglen),
                     MC_OK);
    char *body = flat(ED_PROT_B64, ED_PAYLOAD_B64, ED_SIG);
    struct jws *pj = NULL;
    ck_assert_int_eq(parse_text(body, &pj), MC_OK);
    ck_assert_int_eq(pj->alg, JOSE_ALG_EDDSA);
    ck_assert_int_eq(jws_verify(pj, pub), MC_OK);
    jws_free(pj);
    free(body);
    sig[0] ^= 1;
    ck_assert_int_eq(jose_verify(pub, JOSE_ALG_EDDSA, (uint8_t *)input, strlen(input), sig, siglen),
                     MC_ERR_VERIFY);
    ck_assert_int_eq(
        jose_verify(pub, JOSE_ALG_EDDSA, (uint8_t *)input, strlen(input), sig, siglen - 1),
        MC_ERR_VERIFY);
    ck_assert_int_eq(jose_verify(pub, JOSE_ALG_ES256, (uint8_t *)input, strlen(input), sig, 64),
                     MC_ERR_MISMATCH);

    free(sig);
    free(payload_b64);
    free(d);
    free(x);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(priv);
}
END_TEST

/* ---- RFC 4231 ---- */

struct hmac_case {
    const char *name;
    const char *key_hex; /* "aa*131" style keys are expanded below */
    size_t key_repeat;   /* when non-zero: key_hex is one byte repeated this often */
    const char *data;
    const char *want[3]; /* SHA-256, SHA-384, SHA-512 */
};

static const struct hmac_case hmac_cases[] = {
    {"4231-1",
     "0b",
     20,
     "Hi There",
     {"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa"
      "9cb6",
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3"
      "f4e4be9d914eeb61f1702e696c203a126854"}},
    {"4231-2",
     "4a656665", /* "Jefe" */
     0,
     "what do ya want for nothing?",
     {"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab2"
      "1649",
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0"
      "e6fdcaeab1a34d4a6b4b636e070a38bce737"}},
    {"4231-6",
     "aa",
     131,
     "Test Using Larger Than Block-Size Key - Hash Key First",
     {"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f4"
      "4952",
      "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a"
      "1e5295e64f73f63f0aec8b915a985d786598"}},
    {"4231-7",
     "aa",
     131,
     "This is a test using a larger than block-size key and a larger than block-size data. The "
     "key needs to be hashed before being used by the HMAC algorithm.",
     {"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
      "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46"
      "523e",
      "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4"
      "de15134676fb6de0446065c97440fa8c6a58"}},
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    ck_assert_uint_le(n, cap);
    for (size_t i = 0; i < n; i++) {
        char b[3] = {hex[2 * i], hex[2 * i + 1], 0};
        out[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    return n;
}

START_TEST(test_rfc4231_hmac)
{
    static const enum jose_alg algs[3] = {JOSE_ALG_HS256, JOSE_ALG_HS384, JOSE_ALG_HS512};
    const struct hmac_case *c = &hmac_cases[_i];
    uint8_t key[256];
    size_t keylen;

    if (c->key_repeat != 0) {
        uint8_t b;
        unhex(c->key_hex, &b, 1);
        memset(key, b, c->key_repeat);
        keylen = c->key_repeat;
    } else {
        keylen = unhex(c->key_hex, key, sizeof(key));
    }
    for (int a = 0; a < 3; a++) {
        uint8_t mac[64], want[64];
        size_t maclen = 0;
        size_t wantlen = unhex(c->want[a], want, sizeof(want));
        ck_assert_int_eq(jose_hmac(algs[a], key, keylen, (const uint8_t *)c->data, strlen(c->data),
                                   mac, &maclen),
                         MC_OK);
        ck_assert_msg(maclen == wantlen && memcmp(mac, want, wantlen) == 0, "%s %s", c->name,
                      jose_alg_name(algs[a]));
    }
}
END_TEST

START_TEST(test_hmac_bad_inputs)
{
    uint8_t mac[64];
    size_t maclen = 0;
    const uint8_t key[4] = {1, 2, 3, 4};
    ck_assert_int_eq(jose_hmac(JOSE_ALG_RS256, key, 4, key, 4, mac, &maclen), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(jose_hmac(JOSE_ALG_EDDSA, key, 4, key, 4, mac, &maclen), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(jose_hmac(JOSE_ALG_HS256, key, 0, key, 4, mac, &maclen), MC_ERR_INVALID);
    /* An empty message is fine (HMAC of ""). */
    ck_assert_int_eq(jose_hmac(JOSE_ALG_HS256, key, 4, NULL, 0, mac, &maclen), MC_OK);
    ck_assert_uint_eq(maclen, 32);
}
END_TEST

/* ---- algorithms ---- */

START_TEST(test_alg_names)
{
    static const char *names[] = {"RS256", "ES256", "ES384", "ES512",
                                  "EdDSA", "HS256", "HS384", "HS512"};
    enum jose_alg a;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ck_assert_int_eq(jose_alg_parse(names[i], &a), MC_OK);
        ck_assert_str_eq(jose_alg_name(a), names[i]);
        ck_assert(jose_alg_is_hmac(a) == (names[i][0] == 'H'));
    }
    ck_assert_int_eq(jose_alg_parse("none", &a), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(jose_alg_parse("rs256", &a), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(jose_alg_parse("PS256", &a), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(jose_alg_parse("Ed25519", &a), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(jose_alg_parse("", &a), MC_ERR_UNSUPPORTED);
}
END_TEST

/* ---- round trips for every key type ---- */

struct rt_case {
    enum key_type type;
    enum jose_alg alg;
};

static const struct rt_case rt_cases[] = {
    {KEY_RSA2048, JOSE_ALG_RS256}, {KEY_EC_P256, JOSE_ALG_ES256}, {KEY_EC_P384, JOSE_ALG_ES384},
    {KEY_EC_P521, JOSE_ALG_ES512}, {KEY_ED25519, JOSE_ALG_EDDSA},
};

START_TEST(test_roundtrip)
{
    const struct rt_case *c = &rt_cases[_i];
    EVP_PKEY *k = NULL, *k2 = NULL, *pub = NULL;
    enum jose_alg a;

    ck_assert_int_eq(key_generate(c->type, &k), MC_OK);
    ck_assert_int_eq(key_generate(c->type, &k2), MC_OK);
    ck_assert_int_eq(jose_alg_for_key(k, &a), MC_OK);
    ck_assert_int_eq(a, c->alg);
    ck_assert_int_eq(jose_alg_check_key(c->alg, k), MC_OK);
    ck_assert_int_eq(
        jose_alg_check_key(c->alg == JOSE_ALG_RS256 ? JOSE_ALG_ES256 : JOSE_ALG_RS256, k),
        MC_ERR_MISMATCH);
    ck_assert_int_eq(jose_alg_check_key(JOSE_ALG_HS256, k), MC_ERR_MISMATCH);

    /* JWK export/import round trip gives the same public key. */
    cJSON *jwk = NULL;
    ck_assert_int_eq(jwk_to_json(k, &jwk), MC_OK);
    ck_assert_ptr_null(cJSON_GetObjectItem(jwk, "d"));
    ck_assert_int_eq(jwk_from_json(jwk, &pub), MC_OK);
    ck_assert(jwk_equal(k, pub));
    ck_assert(!jwk_equal(k2, pub));

    /* jws_sign -> print -> jws_parse -> jws_verify, with ACME-like header members. */
    cJSON *hdr = cJSON_CreateObject();
    cJSON_AddStringToObject(hdr, "nonce", "n0nce");
    cJSON_AddStringToObject(hdr, "url", "https://127.0.0.1/acme/new-acct");
    cJSON_AddItemToObject(hdr, "jwk", jwk);
    cJSON_AddStringToObject(hdr, "alg", "none"); /* replaced by the real alg */
    const char *payload = "{\"termsOfServiceAgreed\":true}";
    cJSON *out = NULL;
    ck_assert_int_eq(jws_sign(k, c->alg, hdr, (const uint8_t *)payload, strlen(payload), &out),
                     MC_OK);
    char *text = cJSON_PrintUnformatted(out);
    struct jws *j = NULL;
    ck_assert_int_eq(parse_text(text, &j), MC_OK);
    ck_assert_int_eq(j->alg, c->alg);
    ck_assert_str_eq(cJSON_GetObjectItem(j->protected, "alg")->valuestring, jose_alg_name(c->alg));
    ck_assert_str_eq(cJSON_GetObjectItem(j->protected, "nonce")->valuestring, "n0nce");
    ck_assert_str_eq((const char *)j->payload, payload);
    ck_assert_int_eq(jws_verify(j, pub), MC_OK);
    ck_assert_int_eq(jws_verify(j, k), MC_OK);
    ck_assert_int_eq(jws_verify(j, k2), MC_ERR_VERIFY);
    /* A public key is never an HMAC key. */
    ck_assert_int_eq(jws_verify_hmac(j, (const uint8_t *)"k", 1), MC_ERR_MISMATCH);
    /* The key from the protected header verifies it too. */
    EVP_PKEY *hk = NULL;
    ck_assert_int_eq(jwk_from_json(cJSON_GetObjectItem(j->protected, "jwk"), &hk), MC_OK);
    ck_assert_int_eq(jws_verify(j, hk), MC_OK);
    EVP_PKEY_free(hk);
    jws_free(j);
    cJSON_free(text);
    cJSON_Delete(out);

    /* POST-as-GET: empty payload. */
    ck_assert_int_eq(jws_sign(k, c->alg, hdr, NULL, 0, &out), MC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(out, "payload")->valuestring, "");
    text = cJSON_PrintUnformatted(out);
    ck_assert_int_eq(parse_text(text, &j), MC_OK);
    ck_assert_uint_eq(j->payload_len, 0);
    ck_assert_ptr_nonnull(j->payload);
    ck_assert_str_eq((const char *)j->payload, "");
    ck_assert_int_eq(jws_verify(j, pub), MC_OK);
    jws_free(j);
    cJSON_free(text);
    cJSON_Delete(out);

    /* An alg that does not fit the key is refused at signing. */
    ck_assert_int_eq(
        jws_sign(k, c->alg == JOSE_ALG_ES256 ? JOSE_ALG_ES384 : JOSE_ALG_ES256, hdr, NULL, 0, &out),
        MC_ERR_MISMATCH);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(jws_sign(k, JOSE_ALG_HS256, hdr, NULL, 0, &out), MC_ERR_MISMATCH);

    cJSON_Delete(hdr);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k);
}
END_TEST

/* jose_sign/jose_verify convert between JWS r||s and DER by hand: check both directions
 * against OpenSSL's own ECDSA_SIG encoding and EVP_DigestSign/Verify, on every curve, until
 * both a signature with a leading zero byte in r or s (the DER integer is shorter) and one
 * with a high bit (the DER integer needs a 0x00 pad) were seen. */
static const struct rt_case ec_cases[] = {
    {KEY_EC_P256, JOSE_ALG_ES256}, {KEY_EC_P384, JOSE_ALG_ES384}, {KEY_EC_P521, JOSE_ALG_ES512}};

START_TEST(test_ecdsa_der_interop)
{
    const struct rt_case *c = &ec_cases[_i];
    const EVP_MD *md = c->alg == JOSE_ALG_ES256   ? EVP_sha256()
                       : c->alg == JOSE_ALG_ES384 ? EVP_sha384()
                                                  : EVP_sha512();
    size_t clen = c->alg == JOSE_ALG_ES256 ? 32 : c->alg == JOSE_ALG_ES384 ? 48 : 66;
    EVP_PKEY *k = NULL;
    bool seen_zero = false, seen_high = false;
    const uint8_t msg[] = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UifQ";
    int i;

    ck_assert_int_eq(key_generate(c->type, &k), MC_OK);
    for (i = 0; i < 4000 && !(seen_zero && seen_high); i++) {
        uint8_t *raw = NULL, *der = NULL, der2[200], raw2[132];
        size_t rawlen = 0, der2len = sizeof(der2);
        const unsigned char *p;
        ECDSA_SIG *sig = ECDSA_SIG_new();
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        int derlen;

        /* Ours signs, OpenSSL verifies. */
        ck_assert_int_eq(jose_sign(k, c->alg, msg, sizeof(msg) - 1, &raw, &rawlen), MC_OK);
        ck_assert_uint_eq(rawlen, 2 * clen);
        if (raw[0] == 0 || raw[clen] == 0)
            seen_zero = true;
        for (size_t h = 0; h < 2; h++) { /* the first nonzero byte of r, then of s */
            const uint8_t *v = raw + h * clen;
            size_t z = 0;
            while (z + 1 < clen && v[z] == 0)
                z++;
            if ((v[z] & 0x80) != 0)
                seen_high = true;
        }
        ck_assert_int_eq(ECDSA_SIG_set0(sig, BN_bin2bn(raw, (int)clen, NULL),
                                        BN_bin2bn(raw + clen, (int)clen, NULL)),
                         1);
        derlen = i2d_ECDSA_SIG(sig, &der);
        ck_assert_int_gt(derlen, 0);
        ck_assert_int_eq(EVP_DigestVerifyInit(m, NULL, md, NULL, k), 1);
        ck_assert_int_eq(EVP_DigestVerify(m, der, (size_t)derlen, msg, sizeof(msg) - 1), 1);
        OPENSSL_free(der);
        ECDSA_SIG_free(sig);
        free(raw);

        /* OpenSSL signs, ours verifies; one flipped bit fails. */
        EVP_MD_CTX_reset(m);
        ck_assert_int_eq(EVP_DigestSignInit(m, NULL, md, NULL, k), 1);
        ck_assert_int_eq(EVP_DigestSign(m, der2, &der2len, msg, sizeof(msg) - 1), 1);
        p = der2;
        sig = d2i_ECDSA_SIG(NULL, &p, (long)der2len);
        ck_assert_ptr_nonnull(sig);
        ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw2, (int)clen), (int)clen);
        ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw2 + clen, (int)clen), (int)clen);
        if (raw2[0] == 0 || raw2[clen] == 0)
            seen_zero = true;
        ck_assert_int_eq(jose_verify(k, c->alg, msg, sizeof(msg) - 1, raw2, 2 * clen), MC_OK);
        raw2[clen + 3] ^= 0x01;
        ck_assert_int_eq(jose_verify(k, c->alg, msg, sizeof(msg) - 1, raw2, 2 * clen),
                         MC_ERR_VERIFY);
        /* The length is fixed by the curve (RFC 7518 section 3.4). */
        ck_assert_int_eq(jose_verify(k, c->alg, msg, sizeof(msg) - 1, raw2, 2 * clen - 1),
                         MC_ERR_VERIFY);
        ECDSA_SIG_free(sig);
        EVP_MD_CTX_free(m);
    }
    ck_assert_msg(seen_zero && seen_high, "no leading-zero or high-bit signature in %d tries", i);
    /* All-zero r and s: refused as a bad signature, not an error or a crash. */
    {
        uint8_t zero[132];
        memset(zero, 0, sizeof(zero));
        ck_assert_int_eq(jose_verify(k, c->alg, msg, sizeof(msg) - 1, zero, 2 * clen),
                         MC_ERR_VERIFY);
    }
    EVP_PKEY_free(k);
}
END_TEST

/* jose keeps a signing and a verifying context per thread for the last EC key it used:
 * threads that share two keys and switch between them on every call must still get a
 * verifying signature from the right key only, and the contexts are freed when each
 * thread ends (ASan's leak check sees it). */
struct sv_job {
    EVP_PKEY *keys[2];
    int bad;
};

static void *sign_verify_many(void *arg)
{
    struct sv_job *j = arg;
    const uint8_t msg[] = "eyJub25jZSI6Im4ifQ.e30";

    for (int i = 0; i < 200; i++) {
        EVP_PKEY *k = j->keys[i % 2], *other = j->keys[(i + 1) % 2];
        uint8_t *sig = NULL;
        size_t siglen = 0;

        if (jose_sign(k, JOSE_ALG_ES256, msg, sizeof(msg) - 1, &sig, &siglen) != MC_OK) {
            j->bad++;
            continue;
        }
        if (jose_verify(k, JOSE_ALG_ES256, msg, sizeof(msg) - 1, sig, siglen) != MC_OK ||
            jose_verify(other, JOSE_ALG_ES256, msg, sizeof(msg) - 1, sig, siglen) != MC_ERR_VERIFY)
            j->bad++;
        free(sig);
    }
    return NULL;
}

START_TEST(test_ec_context_cache_threads)
{
    EVP_PKEY *a = NULL, *b = NULL;
    pthread_t th[4];
    struct sv_job jobs[4];

    ck_assert_int_eq(key_generate(KEY_EC_P256, &a), MC_OK);
    ck_assert_int_eq(key_generate(KEY_EC_P256, &b), MC_OK);
    for (size_t i = 0; i < 4; i++) {
        jobs[i].keys[0] = i % 2 == 0 ? a : b;
        jobs[i].keys[1] = i % 2 == 0 ? b : a;
        jobs[i].bad = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, sign_verify_many, &jobs[i]), 0);
    }
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(jobs[i].bad, 0);
    }
    /* The threads' caches went with the threads: these are the last references. */
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}
END_TEST

START_TEST(test_hmac_jws)
{
    static const enum jose_alg algs[3] = {JOSE_ALG_HS256, JOSE_ALG_HS384, JOSE_ALG_HS512};
    static const size_t lens[3] = {32, 48, 64};
    const uint8_t mac_key[32] = {7,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
    uint8_t wrong[32];
    memcpy(wrong, mac_key, sizeof(wrong));
    wrong[31] ^= 1;
    EVP_PKEY *ec = NULL;
    ck_assert_int_eq(key_generate(KEY_EC_P256, &ec), MC_OK);
    cJSON *inner_payload = NULL;
    ck_assert_int_eq(jwk_to_json(ec, &inner_payload), MC_OK);
    char *payload = cJSON_PrintUnformatted(inner_payload);

    for (int i = 0; i < 3; i++) {
        /* RFC 8555 section 7.3.4: the EAB inner JWS. */
        cJSON *hdr = cJSON_CreateObject();
        cJSON_AddStringToObject(hdr, "kid", "eab-kid-1");
        cJSON_AddStringToObject(hdr, "url", "https://127.0.0.1/acme/new-acct");
        cJSON *out = NULL;
        ck_assert_int_eq(jws_sign_hmac(algs[i], mac_key, sizeof(mac_key), hdr,
                                       (const uint8_t *)payload, strlen(payload), &out),
                         MC_OK);
        char *text = cJSON_PrintUnformatted(out);
        struct jws *j = NULL;
        ck_assert_int_eq(parse_text(text, &j), MC_OK);
        ck_assert_int_eq(j->alg, algs[i]);
        ck_assert_uint_eq(j->signature_len, lens[i]);
        ck_assert_int_eq(jws_verify_hmac(j, mac_key, sizeof(mac_key)), MC_OK);
        ck_assert_int_eq(jws_verify_hmac(j, wrong, sizeof(wrong)), MC_ERR_VERIFY);
        ck_assert_int_eq(jws_verify_hmac(j, mac_key, 31), MC_ERR_VERIFY);
        /* HS* with jws_verify and a public key: never. */
        ck_assert_int_eq(jws_verify(j, ec), MC_ERR_MISMATCH);
        /* A truncated MAC does not verify (no truncated-HMAC acceptance). */
        j->signature_len--;
        ck_assert_int_eq(jws_verify_hmac(j, mac_key, sizeof(mac_key)), MC_ERR_VERIFY);
        jws_free(j);
        cJSON_free(text);
        cJSON_Delete(out);
        cJSON_Delete(hdr);
    }
    cJSON *out = NULL;
    ck_assert_int_eq(jws_sign_hmac(JOSE_ALG_ES256, mac_key, 32, NULL, NULL, 0, &out),
                     MC_ERR_MISMATCH);
    ck_assert_ptr_null(out);

    /* jws_verify_hmac on an ES256 JWS is a MISMATCH. */
    ck_assert_int_eq(jws_sign(ec, JOSE_ALG_ES256, NULL, NULL, 0, &out), MC_OK);
    char *text = cJSON_PrintUnformatted(out);
    struct jws *j = NULL;
    ck_assert_int_eq(parse_text(text, &j), MC_OK);
    ck_assert_int_eq(jws_verify_hmac(j, mac_key, sizeof(mac_key)), MC_ERR_MISMATCH);
    jws_free(j);
    cJSON_free(text);
    cJSON_Delete(out);

    cJSON_free(payload);
    cJSON_Delete(inner_payload);
    EVP_PKEY_free(ec);
}
END_TEST

/* ---- malformed JWS ---- */

START_TEST(test_jws_parse_bad)
{
    struct jws *j = NULL;
    char *body;
    const char *p256 = "eyJhbGciOiJFUzI1NiJ9"; /* {"alg":"ES256"} */

    /* A well-formed baseline so the failures below are about one thing each. */
    body = flat(p256, A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(body, &j), MC_OK);
    jws_free(j);
    free(body);

    /* alg "none" and an unknown alg. */
    char *none = enc((const uint8_t *)"{\"alg\":\"none\"}", 14);
    body = flat(none, A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(body, &j), MC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(j);
    free(body);
    free(none);
    char *ps = enc((const uint8_t *)"{\"alg\":\"PS256\"}", 15);
    body = flat(ps, A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(body, &j), MC_ERR_UNSUPPORTED);
    free(body);
    free(ps);

    /* "crit" names an extension we do not implement. */
    const char *crit_hdr = "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}";
    char *crit = enc((const uint8_t *)crit_hdr, strlen(crit_hdr));
    body = flat(crit, A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(body, &j), MC_ERR_UNSUPPORTED);
    free(body);
    free(crit);

    /* Unprotected header member. */
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"protected\":\"%s\",\"header\":{\"kid\":\"x\"},\"payload\":\"%s\",\"signature\":"
             "\"%s\"}",
             p256, A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(buf, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    /* Any extra member. */
    snprintf(buf, sizeof(buf),
             "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\",\"extra\":\"x\"}", p256,
             A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(buf, &j), MC_ERR_INVALID);
    /* Duplicate member. */
    snprintf(buf, sizeof(buf),
             "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\",\"payload\":\"\"}",
             p256, A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(buf, &j), MC_ERR_INVALID);
    /* The general serialization. */
    snprintf(buf, sizeof(buf),
             "{\"payload\":\"%s\",\"signatures\":[{\"protected\":\"%s\",\"signature\":\"%s\"}]}",
             A_PAYLOAD_B64, p256, A3_SIG);
    ck_assert_int_eq(parse_text(buf, &j), MC_ERR_INVALID);
    /* The compact serialization. */
    snprintf(buf, sizeof(buf), "%s.%s.%s", p256, A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(buf, &j), MC_ERR_INVALID);
    /* Missing signature, empty signature, empty protected, non-string member. */
    snprintf(buf, sizeof(buf), "{\"protected\":\"%s\",\"payload\":\"%s\"}", p256, A_PAYLOAD_B64);
    ck_assert_int_eq(parse_text(buf, &j), MC_ERR_INVALID);
    body = flat(p256, A_PAYLOAD_B64, "");
    ck_assert_int_eq(parse_text(body, &j), MC_ERR_INVALID);
    free(body);
    body = flat("", A_PAYLOAD_B64, A3_SIG);
    ck_assert_int_eq(parse_text(body, &j), MC_ERR_INVALID);
    free(body);
    snprintf(buf, sizeof(buf), "{\"protected\":\"%s\",\"payload\":5,\"signature\":\"%s\"}", p256,
             A3_SIG);
    ck_assert_int_eq(parse_text(buf, &j), MC_ERR_INVALID);
    /* Not an object at all. */
    ck_assert_int_eq(parse_text("[]", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_text("", &j), MC_ERR_INVALID);

    /* Non-base64url characters in each member: '+', '/', '=' padding, space. */
    static const char *const bad_b64[] = {"eyJhbGciOiJFUzI1NiJ9=", "eyJhbGciOiJFUzI1NiJ+",
                                          "eyJhbGci/iJFUzI1NiJ9", "eyJhbGciOiJF UzI1NiJ9"};
    for (size_t i = 0; i < sizeof(bad_b64) / sizeof(bad_b64[0]); i++) {
        body = flat(bad_b64[i], A_PAYLOAD_B64, A3_SIG);
        ck_assert_int_eq(parse_text(body, &j), MC_ERR_INVALID);
        free(body);
        body = flat(p256, A_PAYLOAD_B64, bad_b64[i]);
        ck_assert_int_eq(parse_text(body, &j), MC_ERR_INVALID);
        free(body);
        body = flat(p256, bad_b64[i], A3_SIG);
        ck_assert_int_eq(parse_text(body, &j), MC_ERR_INVALID);
        free(body);
    }

    /* Protected header that is not an object, or has no alg, or a non-string alg. */
    static const char *const bad_hdr[] = {"[\"ES256\"]", "{}", "{\"alg\":256}",
                                          "{\"alg\":", "\"ES256\""};
    for (size_t i = 0; i < sizeof(bad_hdr) / sizeof(bad_hdr[0]); i++) {
        char *h = enc((const uint8_t *)bad_hdr[i], strlen(bad_hdr[i]));
        body = flat(h, A_PAYLOAD_B64, A3_SIG);
        ck_assert_msg(parse_text(body, &j) == MC_ERR_INVALID, "header %s", bad_hdr[i]);
        free(body);
        free(h);
    }

    /* Over the cap. */
    size_t big = JWS_MAX_LEN + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    ck_assert_int_eq(jws_parse(huge, big, &j), MC_ERR_TOO_BIG);
    free(huge);
}
END_TEST

/* ---- malformed JWK ---- */

START_TEST(test_jwk_bad)
{
    EVP_PKEY *k = NULL;
    char buf[4096];

    /* RSA 1024: well-formed but too small. */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    ck_assert_ptr_nonnull(small);
    BIGNUM *bn = NULL;
    ck_assert_int_eq(EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
    uint8_t nbuf[1100];
    int nlen = BN_bn2bin(bn, nbuf);
    char *n1024 = enc(nbuf, (size_t)nlen);
    snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", n1024);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(k);
    /* A 1024-bit key is not signed with either. */
    enum jose_alg a;
    ck_assert_int_eq(jose_alg_for_key(small, &a), MC_ERR_UNSUPPORTED);
    free(n1024);
    BN_free(bn);
    EVP_PKEY_free(small);

    /* RSA n with a leading zero octet (RFC 7518 section 6.3.1.1). */
    size_t n_len = 0;
    uint8_t *n = dec(A2_N, &n_len);
    uint8_t padded[300] = {0};
    memcpy(padded + 1, n, n_len);
    char *npad = enc(padded, n_len + 1);
    snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", npad);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    free(npad);
    free(n);
    /* Bad exponents: even, 1, leading zero. */
    static const char *const bad_e[] = {"AQAA", "AQ", "AAEAAQ", ""};
    for (size_t i = 0; i < sizeof(bad_e) / sizeof(bad_e[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", A2_N, bad_e[i]);
        ck_assert_msg(import_text(buf, &k) == MC_ERR_INVALID, "e=%s", bad_e[i]);
    }
    /* Missing or non-string members. */
    snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\"}", A2_N);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    ck_assert_int_eq(import_text("{\"kty\":\"RSA\",\"n\":5,\"e\":\"AQAB\"}", &k), MC_ERR_INVALID);
    ck_assert_int_eq(import_text("{\"n\":\"AQAB\",\"e\":\"AQAB\"}", &k), MC_ERR_INVALID);
    ck_assert_int_eq(import_text("[1]", &k), MC_ERR_INVALID);
    ck_assert_int_eq(jwk_from_json(NULL, &k), MC_ERR_INVALID);

    /* EC: point off the curve (y changed), wrong coordinate lengths, missing y. */
    size_t ylen = 0;
    uint8_t *y = dec(A3_Y, &ylen);
    y[31] ^= 1;
    char *ybad = enc(y, ylen);
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", A3_X,
             ybad);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    ck_assert_ptr_null(k);
    free(ybad);
    free(y);
    size_t xlen = 0;
    uint8_t *x = dec(A3_X, &xlen);
    char *xshort = enc(x + 1, xlen - 1);
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
             xshort, A3_Y);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    free(xshort);
    uint8_t xl[33] = {0};
    memcpy(xl + 1, x, 32);
    char *xlong = enc(xl, 33);
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
             xlong, A3_Y);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    free(xlong);
    free(x);
    /* The right coordinates named as another curve. */
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}", A3_X,
             A3_Y);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", A3_X);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"%s\",\"y\":\"%s\"}", A3_X,
             A3_Y);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_UNSUPPORTED);
    snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"%s\",\"y\":\"%s\"}",
             A3_X, A3_Y);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_UNSUPPORTED);

    /* Private members: a JWK sent to a server must be public. */
    snprintf(buf, sizeof(buf),
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}", A3_X,
             A3_Y, A3_D);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"p\":\"AQAB\"}",
             A2_N);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);
    snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"d\":\"%s\"}",
             ED_X, ED_D);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_INVALID);

    /* Symmetric keys: "k" is secret material; an oct key without it is still no
     * signature key. */
    ck_assert_int_eq(
        import_text("{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ\"}", &k),
        MC_ERR_INVALID);
    ck_assert_int_eq(import_text("{\"kty\":\"oct\"}", &k), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(import_text("{\"kty\":\"rsa\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", &k),
                     MC_ERR_UNSUPPORTED);

    /* OKP: other curves, wrong x length, non-base64url x. */
    snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"%s\"}", ED_X);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_UNSUPPORTED);
    snprintf(buf, sizeof(buf), "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"%s\"}", ED_X);
    ck_assert_int_eq(import_text(buf, &k), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(import_text("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                 "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUQ\"}",
                                 &k),
                     MC_ERR_INVALID);
    ck_assert_int_eq(import_text("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                 "\"x\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                                 &k),
                     MC_ERR_INVALID);
    ck_assert_ptr_null(k);
}
END_TEST

Suite *jose_suite(void)
{
    Suite *s = suite_create("jose");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_rfc7515_a2_rs256);
    tcase_add_test(tc, test_rfc7515_a3_es256);
    tcase_add_test(tc, test_rfc7638_thumbprint);
    tcase_add_test(tc, test_rfc8037_ed25519);
    tcase_add_loop_test(tc, test_rfc4231_hmac, 0,
                        (int)(sizeof(hmac_cases) / sizeof(hmac_cases[0])));
    tcase_add_test(tc, test_hmac_bad_inputs);
    tcase_add_test(tc, test_alg_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_roundtrip, 0, (int)(sizeof(rt_cases) / sizeof(rt_cases[0])));
    tcase_add_test(tc, test_hmac_jws);
    tcase_add_test(tc, test_ec_context_cache_threads);
    tcase_add_loop_test(tc, test_ecdsa_der_interop, 0,
                        (int)(sizeof(ec_cases) / sizeof(ec_cases[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_test(tc, test_jws_parse_bad);
    tcase_add_test(tc, test_jwk_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jose_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
