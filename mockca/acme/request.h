/* request.h: the one chokepoint every signed ACME request goes through (RFC 8555 sections
 * 6.2 to 6.5), plus the two inner JWSs: External Account Binding (section 7.3.4) and the
 * key change request (section 7.3.5). Pure checks: the nonce store and the account store
 * are reached through callbacks, so a test can drive every refusal alone.
 *
 * Checks, in this order (the first failure answers):
 *   1. Content-Type is application/jose+json            415 malformed
 *   2. body within max_body                              413 malformed
 *   3. a flattened JWS: only protected, payload, signature; protected a JSON object with
 *      alg, nonce, url, and exactly one of jwk and kid   400 malformed
 *   4. alg known, not "none", not HS*, in cfg->algs      400 badSignatureAlgorithm
 *   5. nonce redeemable (consumed even if a later check fails)   400 badNonce
 *   6. url equals the URL the request was sent to       403 unauthorized
 *   7. jwk where the endpoint takes only jwk (newAccount), kid where it takes only kid
 *                                                        400 malformed
 *   8. jwk: imports as a supported public key            400 badPublicKey
 *      kid: prefix + an existing account id              400 accountDoesNotExist
 *           that account is valid (not deactivated)      403 unauthorized
 *   9. alg fits the key                                  400 badSignatureAlgorithm
 *  10. signature verifies                                400 malformed
 *  11. payload: "" for POST-as-GET endpoints; a JSON object for the others
 *                                                        400 malformed
 * A badSignatureAlgorithm problem must also list the algorithms the server takes
 * (section 6.2): the caller adds "algorithms" from cfg->algs when it writes the document. */
#ifndef MOCKCA_ACME_REQUEST_H
#define MOCKCA_ACME_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "common/jose.h"
#include "mockca/acme/problem.h"

struct cconf;

#define ACME_ACCOUNT_ID_MAX 64
#define ACME_DEFAULT_MAX_BODY (64 * 1024)

/* The account-key algorithms taken when acme_check_config.algs is 0. */
#define ACME_DEFAULT_ALGS                                                                          \
    ((1u << JOSE_ALG_RS256) | (1u << JOSE_ALG_ES256) | (1u << JOSE_ALG_ES384) |                    \
     (1u << JOSE_ALG_ES512) | (1u << JOSE_ALG_EDDSA))

enum acme_auth { ACME_AUTH_KID = 0, ACME_AUTH_JWK, ACME_AUTH_EITHER };
enum acme_payload { ACME_PAYLOAD_OBJECT = 0, ACME_PAYLOAD_EMPTY, ACME_PAYLOAD_ANY };

/* What the check needs of an account. */
struct acme_account_view {
    EVP_PKEY *key; /* a new reference; the check frees it */
    bool valid;    /* status "valid" (not deactivated or revoked) */
};

struct acme_check_config {
    const char *account_url_prefix; /* kid must be this prefix followed by an account id */
    unsigned algs;   /* allowed: bit (1u << JOSE_ALG_x) per alg; 0: ACME_DEFAULT_ALGS */
    size_t max_body; /* 0: ACME_DEFAULT_MAX_BODY */
    /* Consumes nonce; true if it was valid. */
    bool (*redeem_nonce)(void *ctx, const char *nonce);
    /* Looks up the account with id; true and *out filled if it exists. */
    bool (*find_account)(void *ctx, const char *id, struct acme_account_view *out);
    void *ctx;
    /* Optional: the client-conformance grader (mockca/cconf.h) that each check reports
     * to, and that may refuse a poll that comes before Retry-After (strict mode only:
     * 429 rateLimited after check 11). NULL: nothing is graded. */
    struct cconf *grader;
};

/* One request as it arrived. */
struct acme_check_input {
    const char *url;          /* the URL the client addressed: scheme://host:port/path */
    const char *content_type; /* the header, or NULL */
    const uint8_t *body;
    size_t body_len;
    enum acme_auth auth;      /* what the endpoint takes */
    enum acme_payload payload;
};

/* A request that passed. */
struct acme_signed {
    struct jws *jws;
    EVP_PKEY *key;       /* the key it verified with (new reference) */
    bool by_kid;
    char account_id[ACME_ACCOUNT_ID_MAX]; /* with kid */
    cJSON *payload;      /* the payload object; NULL for POST-as-GET */
};
void acme_signed_free(struct acme_signed *s); /* frees the members; NULL ok */

/* Runs the checks above. ACME_P_NONE with *out filled, or the problem with *err filled
 * (and *out empty). */
enum acme_problem acme_check_request(const struct acme_check_config *cfg,
                                     const struct acme_check_input *in, struct acme_signed *out,
                                     struct acme_error *err);

/* The externalAccountBinding member of a newAccount payload (section 7.3.4): a flattened
 * JWS with alg HS256/HS384/HS512, protected {alg, kid, url} and no nonce, url equal to
 * outer_url, payload the account's JWK (compared as keys with account_key), MAC valid
 * with the key find_mac_key returns for kid (malloc'd, the check frees it). On success
 * ACME_P_NONE and the kid copied into kid_out; malformed for structure, unauthorized for
 * an unknown kid or a wrong MAC. */
enum acme_problem acme_check_eab(const cJSON *eab, const char *outer_url, EVP_PKEY *account_key,
                                 bool (*find_mac_key)(void *ctx, const char *kid, uint8_t **key,
                                                      size_t *keylen),
                                 void *ctx, char *kid_out, size_t kid_n, struct acme_error *err);

/* The inner JWS of a keyChange request (section 7.3.5), the outer one having passed
 * acme_check_request by kid; inner is the outer payload (a flattened JWS object): signed with the new key carried in its jwk, no nonce, url
 * equal to outer_url, payload {"account": the outer kid, "oldKey": the account's current
 * key as a JWK}. On success ACME_P_NONE and *new_key (new reference). malformed for
 * structure or a bad inner signature, badPublicKey for an unsupported new key,
 * unauthorized when account or oldKey do not match. The caller still refuses a new key
 * that another account holds (409, with that account's URL in Location). */
enum acme_problem acme_check_keychange(const cJSON *inner, const char *outer_url,
                                       const char *outer_kid, EVP_PKEY *old_key,
                                       EVP_PKEY **new_key, struct acme_error *err);

#endif
