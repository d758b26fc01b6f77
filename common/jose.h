/* jose.h: JWK (RFC 7517/7518, RFC 8037 for Ed25519), thumbprints (RFC 7638), and JWS in
 * the flattened JSON serialization (RFC 7515 section 7.2.2) as ACME uses it (RFC 8555
 * section 6.2). Signing and verification for RS256, ES256, ES384, ES512 (signatures are
 * raw r||s of fixed length, RFC 7518 section 3.4), EdDSA (Ed25519), and HS256/384/512 for
 * External Account Binding (RFC 8555 section 7.3.4). */
#ifndef MC_JOSE_H
#define MC_JOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "common/err.h"

#define JWS_MAX_LEN (256 * 1024)

enum jose_alg {
    JOSE_ALG_RS256 = 1,
    JOSE_ALG_ES256,
    JOSE_ALG_ES384,
    JOSE_ALG_ES512,
    JOSE_ALG_EDDSA,
    JOSE_ALG_HS256,
    JOSE_ALG_HS384,
    JOSE_ALG_HS512,
};

const char *jose_alg_name(enum jose_alg alg); /* "RS256", ..., "EdDSA", "HS256" */
/* Exact, case-sensitive names. MC_ERR_UNSUPPORTED for "none" and any other name. */
MC_MUST_CHECK enum mc_err jose_alg_parse(const char *name, enum jose_alg *out);
bool jose_alg_is_hmac(enum jose_alg alg);
/* The one alg that fits key: RSA -> RS256, P-256 -> ES256, P-384 -> ES384,
 * P-521 -> ES512, Ed25519 -> EdDSA. MC_ERR_UNSUPPORTED for other keys. */
MC_MUST_CHECK enum mc_err jose_alg_for_key(EVP_PKEY *key, enum jose_alg *out);
/* MC_OK if alg is the right one for key, MC_ERR_MISMATCH if not (an HS* alg never fits
 * a public key). */
MC_MUST_CHECK enum mc_err jose_alg_check_key(enum jose_alg alg, EVP_PKEY *key);

/* Imports a public JWK. Accepts kty RSA (n, e; 2048 to 8192 bits), EC (crv P-256, P-384,
 * P-521; x and y of the exact coordinate length, point on the curve) and OKP (crv Ed25519,
 * x of 32 bytes). Private members ("d" etc.) are MC_ERR_INVALID: a JWK sent to a server
 * must be public. MC_ERR_UNSUPPORTED for other kty/crv or RSA sizes outside the range. */
MC_MUST_CHECK enum mc_err jwk_from_json(const cJSON *jwk, EVP_PKEY **out);
/* Exports the public part of key as a new JWK object with only the required members
 * (RFC 7638 section 3.2 set), caller frees. */
MC_MUST_CHECK enum mc_err jwk_to_json(EVP_PKEY *key, cJSON **out);
/* RFC 7638 SHA-256 thumbprint of key's public JWK, base64url, new string in *out. */
MC_MUST_CHECK enum mc_err jwk_thumbprint(EVP_PKEY *key, char **out);
/* True if both are the same public key. */
bool jwk_equal(EVP_PKEY *a, EVP_PKEY *b);

/* Raw signing over in[0..n) with key and alg (checked against the key). *sig is new
 * (caller frees), in the JWS form: r||s padded to the curve's length for ECDSA. */
MC_MUST_CHECK enum mc_err jose_sign(EVP_PKEY *key, enum jose_alg alg, const uint8_t *in, size_t n,
                                    uint8_t **sig, size_t *siglen);
/* MC_OK when sig is valid; MC_ERR_VERIFY when it is not, including an ECDSA signature
 * of the wrong length; MC_ERR_MISMATCH when alg does not fit key. */
MC_MUST_CHECK enum mc_err jose_verify(EVP_PKEY *key, enum jose_alg alg, const uint8_t *in,
                                      size_t n, const uint8_t *sig, size_t siglen);
/* HMAC with the SHA-2 of alg (HS256/384/512 only, else MC_ERR_UNSUPPORTED) into out
 * (at least 64 bytes); length in *outlen. */
MC_MUST_CHECK enum mc_err jose_hmac(enum jose_alg alg, const uint8_t *key, size_t keylen,
                                    const uint8_t *in, size_t n, uint8_t *out, size_t *outlen);

/* A parsed flattened JWS. */
struct jws {
    char *protected_b64;  /* as received, for the signing input */
    char *payload_b64;    /* as received; "" for POST-as-GET */
    cJSON *protected;     /* the decoded protected header (an object) */
    uint8_t *payload;     /* decoded payload, NUL-terminated, payload_len bytes */
    size_t payload_len;
    uint8_t *signature;
    size_t signature_len;
    enum jose_alg alg;    /* from the protected header */
};

/* Parses body[0..len) as a flattened JWS: a JSON object with exactly the members
 * "protected", "payload" and "signature", each a string in strict base64url ("payload"
 * may be empty). MC_ERR_INVALID for the general serialization, the compact serialization,
 * an unprotected "header" member, any other member, a protected header that is not a JSON
 * object or lacks "alg", or an empty signature; MC_ERR_UNSUPPORTED for an alg outside the
 * enum (including "none"); MC_ERR_TOO_BIG above JWS_MAX_LEN. *out is new (jws_free). */
MC_MUST_CHECK enum mc_err jws_parse(const char *body, size_t len, struct jws **out);
void jws_free(struct jws *j); /* NULL ok */

/* Verifies a parsed JWS with a public key: MC_ERR_MISMATCH if its alg does not fit key
 * (HS* never does), MC_ERR_VERIFY if the signature is wrong. */
MC_MUST_CHECK enum mc_err jws_verify(const struct jws *j, EVP_PKEY *key);
/* Verifies an HS256/384/512 JWS with a MAC key (constant-time compare). MC_ERR_MISMATCH if
 * the alg is not HS*, MC_ERR_VERIFY if the MAC is wrong. */
MC_MUST_CHECK enum mc_err jws_verify_hmac(const struct jws *j, const uint8_t *key, size_t keylen);

/* Signs payload[0..n) (n 0 and payload NULL give the POST-as-GET "" payload) with key.
 * header holds the other protected members (nonce, url, and kid or jwk); "alg" is added
 * from alg, which must fit key. *out is the flattened JWS as a new JSON object. */
MC_MUST_CHECK enum mc_err jws_sign(EVP_PKEY *key, enum jose_alg alg, const cJSON *header,
                                   const uint8_t *payload, size_t n, cJSON **out);
/* The same with an HMAC key and an HS* alg (the inner JWS of External Account Binding). */
MC_MUST_CHECK enum mc_err jws_sign_hmac(enum jose_alg alg, const uint8_t *key, size_t keylen,
                                        const cJSON *header, const uint8_t *payload, size_t n,
                                        cJSON **out);

#endif
