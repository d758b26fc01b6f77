/* Unit tests of mockca/acme/request.c: every numbered check of request.h refuses with its
 * exact problem type and status, and the same request made one step better gets past that
 * check (so no refusal is a refusal for some other reason); the happy paths hand back the
 * right key, account and payload; External Account Binding (RFC 8555 section 7.3.4) and
 * keyChange (section 7.3.5) each refuse what the header lists. Requests are real JWSs made
 * with jws_sign / jws_sign_hmac, or by hand where a header must be one jws_sign cannot
 * make (alg "none", an unknown alg); nonces and accounts live in a fake store. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "common/b64url.h"
#include "common/jose.h"
#include "common/keys.h"
#include "mockca/acme/request.h"

#define PREFIX "https://127.0.0.1:14000/my-account/"
#define URL "https://127.0.0.1:14000/order-plz"
#define JOSE "application/jose+json"

/* Keys made once in main (key generation is slow; forked tests inherit them). */
static EVP_PKEY *k_ec256, *k_ec384, *k_rsa, *k_ed, *k_ec256b, *k_rsa1024;

/* ---- the fake nonce and account stores ---- */

#define NONCE_MAX 64
struct fake {
    char nonce[NONCE_MAX][32];
    bool spent[NONCE_MAX];
    int n;
    int lookups; /* find_account calls */
};
static struct fake g;

static void setup(void)
{
    memset(&g, 0, sizeof(g));
}

/* A fresh nonce the fake will redeem once. */
static const char *new_nonce(void)
{
    ck_assert_int_lt(g.n, NONCE_MAX);
    snprintf(g.nonce[g.n], sizeof(g.nonce[g.n]), "nonce-%d", g.n);
    return g.nonce[g.n++];
}

static bool fake_redeem(void *ctx, const char *nonce)
{
    struct fake *f = ctx;
    for (int i = 0; i < f->n; i++) {
        if (strcmp(f->nonce[i], nonce) == 0) {
            if (f->spent[i])
                return false;
            f->spent[i] = true;
            return true;
        }
    }
    return false;
}

static bool nonce_spent(const char *nonce)
{
    for (int i = 0; i < g.n; i++)
        if (strcmp(g.nonce[i], nonce) == 0)
            return g.spent[i];
    return false;
}

/* Accounts: "1" P-256 valid, "2" RSA deactivated, "3" Ed25519 valid, "4" P-384 valid. */
static bool fake_find(void *ctx, const char *id, struct acme_account_view *out)
{
    EVP_PKEY *k = NULL;
    bool valid = true;
    struct fake *f = ctx;
    f->lookups++;
    if (strcmp(id, "1") == 0)
        k = k_ec256;
    else if (strcmp(id, "2") == 0) {
        k = k_rsa;
        valid = false;
    } else if (strcmp(id, "3") == 0)
        k = k_ed;
    else if (strcmp(id, "4") == 0)
        k = k_ec384;
    if (k == NULL)
        return false;
    ck_assert_int_eq(EVP_PKEY_up_ref(k), 1);
    out->key = k;
    out->valid = valid;
    return true;
}

static struct acme_check_config cfg(void)
{
    struct acme_check_config c = {
        .account_url_prefix = PREFIX,
        .redeem_nonce = fake_redeem,
        .find_account = fake_find,
        .ctx = &g,
    };
    return c;
}

/* ---- request builders ---- */

static cJSON *jwk_of(EVP_PKEY *k)
{
    cJSON *j = NULL;
    ck_assert_int_eq(jwk_to_json(k, &j), MC_OK);
    return j;
}

/* A JWK for an RSA key of any size; jwk_to_json refuses sizes under 2048. */
static cJSON *rsa_jwk_any(EVP_PKEY *k)
{
    BIGNUM *n = NULL, *e = NULL;
    uint8_t buf[1024];
    char *s = NULL;
    cJSON *j = cJSON_CreateObject();

    ck_assert_int_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    ck_assert_int_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    int len = BN_bn2bin(e, buf);
    ck_assert_int_eq(b64url_encode(buf, (size_t)len, &s), MC_OK);
    cJSON_AddStringToObject(j, "e", s);
    free(s);
    cJSON_AddStringToObject(j, "kty", "RSA");
    len = BN_bn2bin(n, buf);
    ck_assert_int_eq(b64url_encode(buf, (size_t)len, &s), MC_OK);
    cJSON_AddStringToObject(j, "n", s);
    free(s);
    BN_free(n);
    BN_free(e);
    return j;
}

static char *print(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Protected-header members other than alg; kid NULL means jwk of key. */
static cJSON *hdr(const char *nonce, const char *url, const char *kid, EVP_PKEY *jwk_key)
{
    cJSON *h = cJSON_CreateObject();
    if (nonce != NULL)
        cJSON_AddStringToObject(h, "nonce", nonce);
    if (url != NULL)
        cJSON_AddStringToObject(h, "url", url);
    if (kid != NULL)
        cJSON_AddStringToObject(h, "kid", kid);
    if (jwk_key != NULL)
        cJSON_AddItemToObject(h, "jwk", jwk_of(jwk_key));
    return h;
}

/* jws_sign with the alg that fits key; takes h; returns the body text (free()). */
static char *sign_h(EVP_PKEY *key, cJSON *h, const char *payload)
{
    enum jose_alg alg;
    cJSON *j = NULL;
    ck_assert_int_eq(jose_alg_for_key(key, &alg), MC_OK);
    ck_assert_int_eq(jws_sign(key, alg, h, (const uint8_t *)payload, strlen(payload), &j), MC_OK);
    cJSON_Delete(h);
    char *s = print(j);
    cJSON_Delete(j);
    return s;
}

/* A request by kid for account id, signed with key. */
static char *by_kid(EVP_PKEY *key, const char *id, const char *nonce, const char *url,
                    const char *payload)
{
    char kid[128];
    snprintf(kid, sizeof(kid), PREFIX "%s", id);
    return sign_h(key, hdr(nonce, url, kid, NULL), payload);
}

/* A request with the jwk of key. */
static char *by_jwk(EVP_PKEY *key, const char *nonce, const char *url, const char *payload)
{
    return sign_h(key, hdr(nonce, url, NULL, key), payload);
}

/* By hand: the protected header prot (taken, printed as is, alg included) over payload,
 * signed with signer/alg, or with a dummy signature when signer is NULL. */
static char *raw_jws(cJSON *prot, const char *payload, EVP_PKEY *signer, enum jose_alg alg)
{
    char *pt = print(prot), *pb = NULL, *yb = NULL, *sb = NULL, *in = NULL;
    uint8_t *sig = NULL;
    size_t siglen = 0;
    cJSON *j = cJSON_CreateObject();

    cJSON_Delete(prot);
    ck_assert_int_eq(b64url_encode((const uint8_t *)pt, strlen(pt), &pb), MC_OK);
    ck_assert_int_eq(b64url_encode((const uint8_t *)payload, strlen(payload), &yb), MC_OK);
    size_t n = strlen(pb) + 1 + strlen(yb);
    in = malloc(n + 1);
    snprintf(in, n + 1, "%s.%s", pb, yb);
    if (signer != NULL) {
        ck_assert_int_eq(jose_sign(signer, alg, (const uint8_t *)in, n, &sig, &siglen), MC_OK);
        ck_assert_int_eq(b64url_encode(sig, siglen, &sb), MC_OK);
    } else {
        sb = strdup("c2lnbmF0dXJl");
    }
    cJSON_AddStringToObject(j, "protected", pb);
    cJSON_AddStringToObject(j, "payload", yb);
    cJSON_AddStringToObject(j, "signature", sb);
    char *out = print(j);
    cJSON_Delete(j);
    free(pt);
    free(pb);
    free(yb);
    free(sb);
    free(in);
    free(sig);
    return out;
}

/* A header with a given alg name. */
static cJSON *hdr_alg(const char *alg, const char *nonce, const char *url, const char *kid,
                      EVP_PKEY *jwk_key)
{
    cJSON *h = hdr(nonce, url, kid, jwk_key);
    cJSON_AddStringToObject(h, "alg", alg);
    return h;
}

/* ---- running the check ---- */

static struct acme_check_input input(const char *body, enum acme_auth auth, enum acme_payload pl)
{
    struct acme_check_input in = {
        .url = URL,
        .content_type = JOSE,
        .body = (const uint8_t *)body,
        .body_len = strlen(body),
        .auth = auth,
        .payload = pl,
    };
    return in;
}

static enum acme_problem run_in(const struct acme_check_config *c,
                                const struct acme_check_input *in, struct acme_error *err)
{
    struct acme_signed s;
    enum acme_problem p = acme_check_request(c, in, &s, err);
    if (p == ACME_P_NONE) {
        ck_assert_ptr_nonnull(s.jws);
        ck_assert_ptr_nonnull(s.key);
        ck_assert_int_eq(err->type, ACME_P_NONE);
    } else {
        /* *out stays empty on refusal */
        ck_assert_ptr_null(s.jws);
        ck_assert_ptr_null(s.key);
        ck_assert_ptr_null(s.payload);
        ck_assert_int_eq(err->type, p);
    }
    acme_signed_free(&s);
    return p;
}

/* Runs body with defaults; frees body. */
static enum acme_problem run(char *body, enum acme_auth auth, enum acme_payload pl,
                             struct acme_error *err)
{
    struct acme_check_config c = cfg();
    struct acme_check_input in = input(body, auth, pl);
    enum acme_problem p = run_in(&c, &in, err);
    free(body);
    return p;
}

#define ASSERT_PROBLEM(expr, ptype, pstatus)                                                       \
    do {                                                                                           \
        struct acme_error e_;                                                                      \
        enum acme_problem p_ = (expr);                                                             \
        ck_assert_msg(p_ == (ptype), "got %s (%s), want %s", acme_problem_name(p_), e_.detail,     \
                      acme_problem_name(ptype));                                                   \
        ck_assert_int_eq(e_.status, (pstatus));                                                    \
    } while (0)
/* expr must use the name e_ for its error out param. */
#define ASSERT_OK(expr)                                                                            \
    do {                                                                                           \
        struct acme_error e_;                                                                      \
        enum acme_problem p_ = (expr);                                                             \
        ck_assert_msg(p_ == ACME_P_NONE, "refused: %s: %s", acme_problem_name(p_), e_.detail);     \
    } while (0)

/* ---- check 1: Content-Type ---- */

START_TEST(test_content_type)
{
    struct acme_check_config c = cfg();
    char *body = by_kid(k_ec256, "1", new_nonce(), URL, "{}");
    struct acme_check_input in = input(body, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT);
    static const char *const bad[] = {NULL,
                                      "",
                                      "application/json",
                                      "text/plain",
                                      "application/jose",
                                      "application/jose+jsonx",
                                      "application/jose+json-x; q=1"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in.content_type = bad[i];
        ASSERT_PROBLEM(run_in(&c, &in, &e_), ACME_P_MALFORMED, 415);
    }
    /* Refused before the nonce: the same request with the right type then passes. Media
     * types ignore case and parameters (RFC 9110 section 8.3.1), see request.c. */
    in.content_type = " Application/JOSE+JSON ; charset=utf-8";
    ASSERT_OK(run_in(&c, &in, &e_));
    free(body);
    body = by_kid(k_ec256, "1", new_nonce(), URL, "{}");
    in = input(body, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT);
    ASSERT_OK(run_in(&c, &in, &e_));
    free(body);
}
END_TEST

/* ---- check 2: body cap ---- */

START_TEST(test_body_cap)
{
    struct acme_check_config c = cfg();
    char *body = by_kid(k_ec256, "1", new_nonce(), URL, "{\"a\":\"bbbbbbbbbbbbbbbbbbbb\"}");
    struct acme_check_input in = input(body, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT);

    c.max_body = in.body_len - 1;
    ASSERT_PROBLEM(run_in(&c, &in, &e_), ACME_P_MALFORMED, 413);
    c.max_body = in.body_len;
    ASSERT_OK(run_in(&c, &in, &e_));
    free(body);

    /* The default cap is ACME_DEFAULT_MAX_BODY. */
    c.max_body = 0;
    size_t big = ACME_DEFAULT_MAX_BODY + 1;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    in = input(huge, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT);
    ASSERT_PROBLEM(run_in(&c, &in, &e_), ACME_P_MALFORMED, 413);
    free(huge);
}
END_TEST

/* ---- check 3: JWS structure ---- */

START_TEST(test_structure)
{
    const char *nonce = new_nonce();
    char *good = by_kid(k_ec256, "1", nonce, URL, "{}");
    cJSON *j = cJSON_Parse(good);
    const char *prot = cJSON_GetObjectItem(j, "protected")->valuestring;
    const char *pay = cJSON_GetObjectItem(j, "payload")->valuestring;
    const char *sig = cJSON_GetObjectItem(j, "signature")->valuestring;
    char buf[4096];

    /* general serialization */
    snprintf(buf, sizeof(buf),
             "{\"payload\":\"%s\",\"signatures\":[{\"protected\":\"%s\","
             "\"signature\":\"%s\"}]}",
             pay, prot, sig);
    ASSERT_PROBLEM(run(strdup(buf), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_), ACME_P_MALFORMED,
                   400);
    /* compact serialization */
    snprintf(buf, sizeof(buf), "%s.%s.%s", prot, pay, sig);
    ASSERT_PROBLEM(run(strdup(buf), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_), ACME_P_MALFORMED,
                   400);
    /* unprotected header */
    snprintf(buf, sizeof(buf),
             "{\"protected\":\"%s\",\"header\":{\"kid\":\"x\"},\"payload\":"
             "\"%s\",\"signature\":\"%s\"}",
             prot, pay, sig);
    ASSERT_PROBLEM(run(strdup(buf), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_), ACME_P_MALFORMED,
                   400);
    /* extra member */
    snprintf(buf, sizeof(buf),
             "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\","
             "\"extra\":\"1\"}",
             prot, pay, sig);
    ASSERT_PROBLEM(run(strdup(buf), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_), ACME_P_MALFORMED,
                   400);
    /* not JSON at all, and an empty body */
    ASSERT_PROBLEM(run(strdup("hello"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_), ACME_P_MALFORMED,
                   400);
    ASSERT_PROBLEM(run(strdup(""), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_), ACME_P_MALFORMED, 400);
    cJSON_Delete(j);

    /* both jwk and kid; neither; no nonce; a number as nonce; no url */
    ASSERT_PROBLEM(run(sign_h(k_ec256, hdr(nonce, URL, PREFIX "1", k_ec256), "{}"),
                       ACME_AUTH_EITHER, ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_MALFORMED, 400);
    ASSERT_PROBLEM(run(sign_h(k_ec256, hdr(nonce, URL, NULL, NULL), "{}"), ACME_AUTH_EITHER,
                       ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_MALFORMED, 400);
    ASSERT_PROBLEM(run(sign_h(k_ec256, hdr(NULL, URL, PREFIX "1", NULL), "{}"), ACME_AUTH_KID,
                       ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_MALFORMED, 400);
    cJSON *h = hdr(NULL, URL, PREFIX "1", NULL);
    cJSON_AddNumberToObject(h, "nonce", 5);
    ASSERT_PROBLEM(run(sign_h(k_ec256, h, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_MALFORMED, 400);
    ASSERT_PROBLEM(run(sign_h(k_ec256, hdr(nonce, NULL, PREFIX "1", NULL), "{}"), ACME_AUTH_KID,
                       ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_MALFORMED, 400);
    /* check 3 comes before check 4: an unknown alg in a header without a nonce is
     * malformed, and "crit" is malformed whatever the alg */
    ASSERT_PROBLEM(run(raw_jws(hdr_alg("XY999", NULL, URL, PREFIX "1", NULL), "{}", NULL, 0),
                       ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_MALFORMED, 400);
    h = hdr_alg("ES256", nonce, URL, PREFIX "1", NULL);
    cJSON_AddItemToObject(h, "crit", cJSON_CreateStringArray((const char *[]){"exp"}, 1));
    ASSERT_PROBLEM(
        run(raw_jws(h, "{}", k_ec256, JOSE_ALG_ES256), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_MALFORMED, 400);

    /* None of these spent the nonce: the well-formed request passes with it. */
    ck_assert(!nonce_spent(nonce));
    ASSERT_OK(run(good, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_));
}
END_TEST

/* ---- check 4: alg ---- */

START_TEST(test_alg)
{
    const char *nonce = new_nonce();

    ASSERT_PROBLEM(run(raw_jws(hdr_alg("none", nonce, URL, PREFIX "1", NULL), "{}", NULL, 0),
                       ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_BAD_SIGNATURE_ALGORITHM, 400);
    ASSERT_PROBLEM(run(raw_jws(hdr_alg("XY999", nonce, URL, PREFIX "1", NULL), "{}", NULL, 0),
                       ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_BAD_SIGNATURE_ALGORITHM, 400);
    ASSERT_PROBLEM(run(raw_jws(hdr_alg("es256", nonce, URL, PREFIX "1", NULL), "{}", NULL, 0),
                       ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_BAD_SIGNATURE_ALGORITHM, 400);
    /* HS256 with a real MAC: never allowed on an ACME request */
    static const uint8_t mac[32] = {1, 2, 3};
    cJSON *h = hdr(nonce, URL, PREFIX "1", NULL), *j = NULL;
    ck_assert_int_eq(
        jws_sign_hmac(JOSE_ALG_HS256, mac, sizeof(mac), h, (const uint8_t *)"{}", 2, &j), MC_OK);
    cJSON_Delete(h);
    ASSERT_PROBLEM(run(print(j), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_BAD_SIGNATURE_ALGORITHM, 400);
    cJSON_Delete(j);
    /* even when cfg->algs names HS256 */
    struct acme_check_config c = cfg();
    c.algs = 1u << JOSE_ALG_HS256 | 1u << JOSE_ALG_ES256;
    h = hdr(nonce, URL, PREFIX "1", NULL);
    ck_assert_int_eq(
        jws_sign_hmac(JOSE_ALG_HS256, mac, sizeof(mac), h, (const uint8_t *)"{}", 2, &j), MC_OK);
    cJSON_Delete(h);
    char *body = print(j);
    cJSON_Delete(j);
    struct acme_check_input in = input(body, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT);
    ASSERT_PROBLEM(run_in(&c, &in, &e_), ACME_P_BAD_SIGNATURE_ALGORITHM, 400);
    free(body);
    /* a real alg left out of cfg->algs: ES384 with only ES256 allowed */
    c.algs = 1u << JOSE_ALG_ES256;
    body = by_kid(k_ec384, "4", nonce, URL, "{}");
    in = input(body, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT);
    ASSERT_PROBLEM(run_in(&c, &in, &e_), ACME_P_BAD_SIGNATURE_ALGORITHM, 400);
    ck_assert(!nonce_spent(nonce)); /* check 4 comes before the nonce is spent */
    /* one step better: allow it */
    c.algs = 1u << JOSE_ALG_ES256 | 1u << JOSE_ALG_ES384;
    ASSERT_OK(run_in(&c, &in, &e_));
    free(body);
}
END_TEST

/* ---- check 5: nonce ---- */

START_TEST(test_nonce)
{
    ASSERT_PROBLEM(run(by_kid(k_ec256, "1", "never-issued", URL, "{}"), ACME_AUTH_KID,
                       ACME_PAYLOAD_OBJECT, &e_),
                   ACME_P_BAD_NONCE, 400);
    ASSERT_PROBLEM(
        run(by_kid(k_ec256, "1", "", URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_NONCE, 400);
    /* reused */
    const char *n1 = new_nonce();
    ASSERT_OK(run(by_kid(k_ec256, "1", n1, URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_));
    ASSERT_PROBLEM(
        run(by_kid(k_ec256, "1", n1, URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_NONCE, 400);
    /* A request that fails a later check still spent its nonce (section 6.5): a url
     * mismatch, then a bad signature, each followed by the good request with that nonce. */
    const char *n2 = new_nonce();
    ASSERT_PROBLEM(
        run(by_kid(k_ec256, "1", n2, URL "/x", "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_UNAUTHORIZED, 403);
    ck_assert(nonce_spent(n2));
    ASSERT_PROBLEM(
        run(by_kid(k_ec256, "1", n2, URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_NONCE, 400);
    const char *n3 = new_nonce();
    ASSERT_PROBLEM(
        run(by_kid(k_ec256b, "1", n3, URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_MALFORMED, 400);
    ASSERT_PROBLEM(
        run(by_kid(k_ec256, "1", n3, URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_NONCE, 400);
}
END_TEST

/* ---- check 6: url ---- */

START_TEST(test_url)
{
    static const char *const bad[] = {URL "/", "https://127.0.0.1:14000/ORDER-PLZ",
                                      "http://127.0.0.1:14000/order-plz",
                                      "https://localhost:14000/order-plz", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_PROBLEM(run(by_kid(k_ec256, "1", new_nonce(), bad[i], "{}"), ACME_AUTH_KID,
                           ACME_PAYLOAD_OBJECT, &e_),
                       ACME_P_UNAUTHORIZED, 403);
    ASSERT_OK(
        run(by_kid(k_ec256, "1", new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_));
}
END_TEST

/* ---- check 7: jwk vs kid per endpoint ---- */

START_TEST(test_auth_kind)
{
    ASSERT_PROBLEM(
        run(by_jwk(k_ec256, new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_MALFORMED, 400);
    ASSERT_PROBLEM(
        run(by_kid(k_ec256, "1", new_nonce(), URL, "{}"), ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_MALFORMED, 400);
    ASSERT_OK(
        run(by_jwk(k_ec256, new_nonce(), URL, "{}"), ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &e_));
    ASSERT_OK(
        run(by_kid(k_ec256, "1", new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_));
}
END_TEST

/* ---- check 8: the key ---- */

START_TEST(test_jwk_key)
{
    /* RSA 1024 in jwk (signed with a 2048 key: check 8 refuses before the signature) */
    cJSON *h = hdr_alg("RS256", new_nonce(), URL, NULL, NULL);
    cJSON_AddItemToObject(h, "jwk", rsa_jwk_any(k_rsa1024));
    ASSERT_PROBLEM(
        run(raw_jws(h, "{}", k_rsa, JOSE_ALG_RS256), ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_PUBLIC_KEY, 400);
    /* a private JWK, and an unknown kty */
    h = hdr_alg("ES256", new_nonce(), URL, NULL, k_ec256);
    cJSON_AddStringToObject(cJSON_GetObjectItem(h, "jwk"), "d", "AAAA");
    ASSERT_PROBLEM(
        run(raw_jws(h, "{}", k_ec256, JOSE_ALG_ES256), ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_PUBLIC_KEY, 400);
    h = hdr_alg("ES256", new_nonce(), URL, NULL, NULL);
    cJSON_AddItemToObject(h, "jwk", cJSON_Parse("{\"kty\":\"oct\",\"x\":\"AA\"}"));
    ASSERT_PROBLEM(
        run(raw_jws(h, "{}", k_ec256, JOSE_ALG_ES256), ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_PUBLIC_KEY, 400);
    /* one step better: the RSA 2048 jwk */
    h = hdr_alg("RS256", new_nonce(), URL, NULL, NULL);
    cJSON_AddItemToObject(h, "jwk", rsa_jwk_any(k_rsa));
    ASSERT_OK(
        run(raw_jws(h, "{}", k_rsa, JOSE_ALG_RS256), ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &e_));
}
END_TEST

START_TEST(test_kid_account)
{
    static const char *const bad_kids[] = {
        "https://127.0.0.1:14000/account/1",  /* wrong prefix */
        "https://127.0.0.1:14000/my-account", /* prefix without the slash */
        PREFIX,                               /* no id */
        PREFIX "99",                          /* unknown id */
        PREFIX "1/",                          /* id with a slash */
        PREFIX "1/orders",
        "1", /* the bare id */
        PREFIX "1111111111111111111111111111111111111111111111111111111111111111111111",
    };
    for (size_t i = 0; i < sizeof(bad_kids) / sizeof(bad_kids[0]); i++)
        ASSERT_PROBLEM(run(sign_h(k_ec256, hdr(new_nonce(), URL, bad_kids[i], NULL), "{}"),
                           ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
                       ACME_P_ACCOUNT_DOES_NOT_EXIST, 400);
    /* Only PREFIX "99" is shaped like an account URL: every other kid is refused before
     * the account store is asked, so a store that takes "1/orders" as "1" is never
     * reached. */
    ck_assert_int_eq(g.lookups, 1);
    /* deactivated account, signed with its own key */
    ASSERT_PROBLEM(
        run(by_kid(k_rsa, "2", new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_UNAUTHORIZED, 403);
    /* one step better: a valid account */
    ASSERT_OK(
        run(by_kid(k_ec256, "1", new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_));
}
END_TEST

/* ---- check 9: alg fits the key ---- */

START_TEST(test_alg_key_fit)
{
    /* ES256 with an RSA jwk (the signature is a real ES256 one by a P-256 key) */
    cJSON *h = hdr_alg("ES256", new_nonce(), URL, NULL, k_rsa);
    ASSERT_PROBLEM(
        run(raw_jws(h, "{}", k_ec256, JOSE_ALG_ES256), ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_SIGNATURE_ALGORITHM, 400);
    /* ES256 on account 4, whose key is P-384 */
    h = hdr_alg("ES256", new_nonce(), URL, PREFIX "4", NULL);
    ASSERT_PROBLEM(
        run(raw_jws(h, "{}", k_ec256, JOSE_ALG_ES256), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_BAD_SIGNATURE_ALGORITHM, 400);
    /* one step better: RS256 with the RSA jwk, ES384 on account 4 */
    h = hdr_alg("RS256", new_nonce(), URL, NULL, k_rsa);
    ASSERT_OK(
        run(raw_jws(h, "{}", k_rsa, JOSE_ALG_RS256), ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &e_));
    h = hdr_alg("ES384", new_nonce(), URL, PREFIX "4", NULL);
    ASSERT_OK(
        run(raw_jws(h, "{}", k_ec384, JOSE_ALG_ES384), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_));
}
END_TEST

/* ---- check 10: signature ---- */

START_TEST(test_signature)
{
    char buf[4096];
    /* Each refused request spends its own nonce (check 5 comes first), so the tampered
     * ones are copies of their own requests and good stays unspent for the end. */
    char *good = by_kid(k_ec256, "1", new_nonce(), URL, "{\"a\":1}");
    char *src = by_kid(k_ec256, "1", new_nonce(), URL, "{\"a\":1}");
    cJSON *j = cJSON_Parse(src);
    char *other = NULL;

    free(src);

    /* payload swapped for another one: the signature no longer covers it */
    ck_assert_int_eq(b64url_encode((const uint8_t *)"{\"a\":2}", 7, &other), MC_OK);
    cJSON_ReplaceItemInObject(j, "payload", cJSON_CreateString(other));
    ASSERT_PROBLEM(run(print(j), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_), ACME_P_MALFORMED, 400);
    free(other);
    cJSON_Delete(j);
    /* signed by a key other than the account's */
    ASSERT_PROBLEM(
        run(by_kid(k_ec256b, "1", new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_),
        ACME_P_MALFORMED, 400);
    /* a signature of the wrong length (another request: this one spends its nonce) */
    char *other_req = by_kid(k_ec256, "1", new_nonce(), URL, "{\"a\":1}");
    j = cJSON_Parse(other_req);
    free(other_req);
    snprintf(buf, sizeof(buf), "%s", cJSON_GetObjectItem(j, "signature")->valuestring);
    buf[strlen(buf) - 4] = '\0';
    cJSON_ReplaceItemInObject(j, "signature", cJSON_CreateString(buf));
    struct acme_check_config c = cfg();
    char *body = print(j);
    cJSON_Delete(j);
    struct acme_check_input in = input(body, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT);
    ASSERT_PROBLEM(run_in(&c, &in, &e_), ACME_P_MALFORMED, 400);
    free(body);
    /* one step better: untouched */
    ASSERT_OK(run(good, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_));
}
END_TEST

/* ---- check 11: payload ---- */

START_TEST(test_payload)
{
    /* POST-as-GET with a payload */
    ASSERT_PROBLEM(
        run(by_kid(k_ec256, "1", new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_EMPTY, &e_),
        ACME_P_MALFORMED, 400);
    ASSERT_OK(
        run(by_kid(k_ec256, "1", new_nonce(), URL, ""), ACME_AUTH_KID, ACME_PAYLOAD_EMPTY, &e_));
    /* object endpoints: "", an array, a string, bad JSON, trailing bytes, too deep */
    static const char *const bad[] = {"",
                                      "[]",
                                      "[{}]",
                                      "\"x\"",
                                      "{",
                                      "{} x",
                                      "{\"a\":1,\"a\":2}",
                                      "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_PROBLEM(run(by_kid(k_ec256, "1", new_nonce(), URL, bad[i]), ACME_AUTH_KID,
                           ACME_PAYLOAD_OBJECT, &e_),
                       ACME_P_MALFORMED, 400);
    ASSERT_OK(
        run(by_kid(k_ec256, "1", new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &e_));
    /* ANY: either "" or an object, never an array */
    ASSERT_OK(
        run(by_kid(k_ec256, "1", new_nonce(), URL, ""), ACME_AUTH_KID, ACME_PAYLOAD_ANY, &e_));
    ASSERT_OK(
        run(by_kid(k_ec256, "1", new_nonce(), URL, "{}"), ACME_AUTH_KID, ACME_PAYLOAD_ANY, &e_));
    ASSERT_PROBLEM(
        run(by_kid(k_ec256, "1", new_nonce(), URL, "[]"), ACME_AUTH_KID, ACME_PAYLOAD_ANY, &e_),
        ACME_P_MALFORMED, 400);
}
END_TEST

/* ---- happy paths ---- */

START_TEST(test_happy_kid)
{
    struct acme_check_config c = cfg();
    struct acme_error err;
    struct acme_signed s;
    char *body = by_kid(k_ec256, "1", new_nonce(), URL, "{\"identifiers\":[{\"type\":\"dns\"}]}");
    struct acme_check_input in = input(body, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT);

    ck_assert_int_eq(acme_check_request(&c, &in, &s, &err), ACME_P_NONE);
    ck_assert(s.by_kid);
    ck_assert_str_eq(s.account_id, "1");
    ck_assert(jwk_equal(s.key, k_ec256));
    ck_assert(!jwk_equal(s.key, k_ec256b));
    ck_assert_ptr_nonnull(s.payload);
    ck_assert(cJSON_IsArray(cJSON_GetObjectItem(s.payload, "identifiers")));
    ck_assert_int_eq(s.jws->alg, JOSE_ALG_ES256);
    acme_signed_free(&s);
    acme_signed_free(NULL);
    free(body);

    /* Ed25519 account, POST-as-GET */
    body = by_kid(k_ed, "3", new_nonce(), URL, "");
    in = input(body, ACME_AUTH_KID, ACME_PAYLOAD_EMPTY);
    ck_assert_int_eq(acme_check_request(&c, &in, &s, &err), ACME_P_NONE);
    ck_assert_str_eq(s.account_id, "3");
    ck_assert(jwk_equal(s.key, k_ed));
    ck_assert_ptr_null(s.payload);
    acme_signed_free(&s);
    free(body);
}
END_TEST

START_TEST(test_happy_jwk)
{
    struct acme_check_config c = cfg();
    struct acme_error err;
    struct acme_signed s;
    EVP_PKEY *keys[] = {k_ec256, k_ec384, k_rsa, k_ed};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *body = by_jwk(keys[i], new_nonce(), URL, "{\"termsOfServiceAgreed\":true}");
        struct acme_check_input in = input(body, ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT);
        ck_assert_int_eq(acme_check_request(&c, &in, &s, &err), ACME_P_NONE);
        ck_assert(!s.by_kid);
        ck_assert_str_eq(s.account_id, "");
        ck_assert(jwk_equal(s.key, keys[i]));
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(s.payload, "termsOfServiceAgreed")));
        acme_signed_free(&s);
        free(body);
    }
}
END_TEST

START_TEST(test_happy_either)
{
    struct acme_check_config c = cfg();
    struct acme_error err;
    struct acme_signed s;

    char *body = by_jwk(k_rsa, new_nonce(), URL, "{\"certificate\":\"x\"}");
    struct acme_check_input in = input(body, ACME_AUTH_EITHER, ACME_PAYLOAD_OBJECT);
    ck_assert_int_eq(acme_check_request(&c, &in, &s, &err), ACME_P_NONE);
    ck_assert(!s.by_kid);
    ck_assert(jwk_equal(s.key, k_rsa));
    ck_assert_str_eq(cJSON_GetObjectItem(s.payload, "certificate")->valuestring, "x");
    acme_signed_free(&s);
    free(body);

    body = by_kid(k_ec384, "4", new_nonce(), URL, "{\"certificate\":\"y\"}");
    in = input(body, ACME_AUTH_EITHER, ACME_PAYLOAD_OBJECT);
    ck_assert_int_eq(acme_check_request(&c, &in, &s, &err), ACME_P_NONE);
    ck_assert(s.by_kid);
    ck_assert_str_eq(s.account_id, "4");
    ck_assert(jwk_equal(s.key, k_ec384));
    ck_assert_str_eq(cJSON_GetObjectItem(s.payload, "certificate")->valuestring, "y");
    acme_signed_free(&s);
    free(body);
}
END_TEST

/* ---- External Account Binding ---- */

#define NEWACCT "https://127.0.0.1:14000/sign-me-up"
static const uint8_t eab_key[32] = {0x5e, 0xc7, 0x2e, 0x7a, 9, 8, 7, 6, 5, 4, 3, 2, 1};

static bool fake_mac(void *ctx, const char *kid, uint8_t **key, size_t *keylen)
{
    (void)ctx;
    if (strcmp(kid, "kid-1") != 0)
        return false;
    *key = malloc(sizeof(eab_key));
    ck_assert_ptr_nonnull(*key);
    memcpy(*key, eab_key, sizeof(eab_key));
    *keylen = sizeof(eab_key);
    return true;
}

/* The EAB object: alg over mac (or RS256 with k_rsa when alg is RS256), payload the JWK of
 * payload_key. */
static cJSON *eab(enum jose_alg alg, const uint8_t *mac, size_t maclen, const char *kid,
                  const char *url, const char *nonce, EVP_PKEY *payload_key)
{
    cJSON *h = cJSON_CreateObject(), *j = NULL, *jwk = jwk_of(payload_key);
    char *p = print(jwk);
    cJSON_AddStringToObject(h, "kid", kid);
    cJSON_AddStringToObject(h, "url", url);
    if (nonce != NULL)
        cJSON_AddStringToObject(h, "nonce", nonce);
    if (alg == JOSE_ALG_RS256)
        ck_assert_int_eq(jws_sign(k_rsa, alg, h, (const uint8_t *)p, strlen(p), &j), MC_OK);
    else
        ck_assert_int_eq(jws_sign_hmac(alg, mac, maclen, h, (const uint8_t *)p, strlen(p), &j),
                         MC_OK);
    cJSON_Delete(h);
    cJSON_Delete(jwk);
    free(p);
    return j;
}

#define EAB_CHECK(obj, key)                                                                        \
    acme_check_eab((obj), NEWACCT, (key), fake_mac, NULL, kid, sizeof(kid), &e_)

START_TEST(test_eab_valid)
{
    static const enum jose_alg algs[] = {JOSE_ALG_HS256, JOSE_ALG_HS384, JOSE_ALG_HS512};
    char kid[64];

    for (size_t i = 0; i < 3; i++) {
        cJSON *o = eab(algs[i], eab_key, sizeof(eab_key), "kid-1", NEWACCT, NULL, k_ec256);
        memset(kid, 'z', sizeof(kid));
        ASSERT_OK(EAB_CHECK(o, k_ec256));
        ck_assert_str_eq(kid, "kid-1");
        cJSON_Delete(o);
    }
    /* The payload is compared as a key: the same JWK with its members in another order
     * and an extra harmless member is the same key. */
    cJSON *jwk = jwk_of(k_ed), *re = cJSON_CreateObject(), *h = cJSON_CreateObject(), *o = NULL;
    cJSON_AddStringToObject(re, "x", cJSON_GetObjectItem(jwk, "x")->valuestring);
    cJSON_AddStringToObject(re, "use", "sig");
    cJSON_AddStringToObject(re, "kty", "OKP");
    cJSON_AddStringToObject(re, "crv", "Ed25519");
    char *p = print(re);
    cJSON_AddStringToObject(h, "kid", "kid-1");
    cJSON_AddStringToObject(h, "url", NEWACCT);
    ck_assert_int_eq(jws_sign_hmac(JOSE_ALG_HS256, eab_key, sizeof(eab_key), h, (const uint8_t *)p,
                                   strlen(p), &o),
                     MC_OK);
    ASSERT_OK(EAB_CHECK(o, k_ed));
    ck_assert_str_eq(kid, "kid-1");
    /* and a kid_out too small for the kid is refused, not truncated */
    ASSERT_PROBLEM(acme_check_eab(o, NEWACCT, k_ed, fake_mac, NULL, kid, 5, &e_), ACME_P_MALFORMED,
                   400);
    cJSON_Delete(o);
    cJSON_Delete(h);
    cJSON_Delete(re);
    cJSON_Delete(jwk);
    free(p);
}
END_TEST

START_TEST(test_eab_refused)
{
    char kid[64];
    static const uint8_t wrong[32] = {0x5e, 0xc7, 0x2e, 0x7b};
    cJSON *o;

    /* wrong MAC key, unknown kid: unauthorized */
    o = eab(JOSE_ALG_HS256, wrong, sizeof(wrong), "kid-1", NEWACCT, NULL, k_ec256);
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_UNAUTHORIZED, 403);
    cJSON_Delete(o);
    o = eab(JOSE_ALG_HS256, eab_key, sizeof(eab_key), "kid-2", NEWACCT, NULL, k_ec256);
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_UNAUTHORIZED, 403);
    cJSON_Delete(o);
    /* nonce present, url mismatch, payload another key, alg RS256: malformed */
    o = eab(JOSE_ALG_HS256, eab_key, sizeof(eab_key), "kid-1", NEWACCT, "nonce", k_ec256);
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    o = eab(JOSE_ALG_HS256, eab_key, sizeof(eab_key), "kid-1", NEWACCT "/", NULL, k_ec256);
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    o = eab(JOSE_ALG_HS256, eab_key, sizeof(eab_key), "kid-1", NEWACCT, NULL, k_ec256b);
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    o = eab(JOSE_ALG_RS256, NULL, 0, "kid-1", NEWACCT, NULL, k_ec256);
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    /* not an object, an empty kid, a payload that is not a JWK */
    o = cJSON_CreateString("x");
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    o = eab(JOSE_ALG_HS256, eab_key, sizeof(eab_key), "", NEWACCT, NULL, k_ec256);
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "kid", "kid-1");
    cJSON_AddStringToObject(h, "url", NEWACCT);
    ck_assert_int_eq(
        jws_sign_hmac(JOSE_ALG_HS256, eab_key, sizeof(eab_key), h, (const uint8_t *)"[]", 2, &o),
        MC_OK);
    cJSON_Delete(h);
    ASSERT_PROBLEM(EAB_CHECK(o, k_ec256), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    /* one step better: all of it right */
    o = eab(JOSE_ALG_HS256, eab_key, sizeof(eab_key), "kid-1", NEWACCT, NULL, k_ec256);
    ASSERT_OK(EAB_CHECK(o, k_ec256));
    cJSON_Delete(o);
}
END_TEST

/* ---- keyChange ---- */

#define KEYCHANGE "https://127.0.0.1:14000/rollover-account-key"
#define OLD_KID PREFIX "1"

/* The inner JWS: signed by signer with the jwk of new_key (unless kid_instead), payload
 * {"account": account, "oldKey": jwk(old)}. */
static cJSON *inner(EVP_PKEY *signer, EVP_PKEY *new_key, const char *url, const char *nonce,
                    bool kid_instead, const char *account, EVP_PKEY *old)
{
    cJSON *h = hdr(nonce, url, kid_instead ? OLD_KID : NULL, kid_instead ? NULL : new_key);
    cJSON *pl = cJSON_CreateObject(), *j = NULL;
    enum jose_alg alg;
    cJSON_AddStringToObject(pl, "account", account);
    cJSON_AddItemToObject(pl, "oldKey", jwk_of(old));
    char *p = print(pl);
    ck_assert_int_eq(jose_alg_for_key(signer, &alg), MC_OK);
    ck_assert_int_eq(jws_sign(signer, alg, h, (const uint8_t *)p, strlen(p), &j), MC_OK);
    cJSON_Delete(h);
    cJSON_Delete(pl);
    free(p);
    return j;
}

START_TEST(test_keychange_valid)
{
    EVP_PKEY *nk = NULL;
    struct acme_error err;
    EVP_PKEY *news[] = {k_ec384, k_rsa, k_ed, k_ec256b};

    for (size_t i = 0; i < sizeof(news) / sizeof(news[0]); i++) {
        cJSON *o = inner(news[i], news[i], KEYCHANGE, NULL, false, OLD_KID, k_ec256);
        ck_assert_int_eq(acme_check_keychange(o, KEYCHANGE, OLD_KID, k_ec256, &nk, &err),
                         ACME_P_NONE);
        ck_assert_ptr_nonnull(nk);
        ck_assert(jwk_equal(nk, news[i]));
        ck_assert(!jwk_equal(nk, k_ec256));
        EVP_PKEY_free(nk);
        nk = NULL;
        cJSON_Delete(o);
    }
}
END_TEST

START_TEST(test_keychange_refused)
{
    EVP_PKEY *nk = NULL;
    cJSON *o;
#define KC(obj) acme_check_keychange((obj), KEYCHANGE, OLD_KID, k_ec256, &nk, &e_)

    /* inner with kid instead of jwk */
    o = inner(k_ec384, k_ec384, KEYCHANGE, NULL, true, OLD_KID, k_ec256);
    ASSERT_PROBLEM(KC(o), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    /* inner with kid next to its jwk: kid is refused as such, not only for a lack of jwk */
    cJSON *kpl = cJSON_CreateObject();
    cJSON_AddStringToObject(kpl, "account", OLD_KID);
    cJSON_AddItemToObject(kpl, "oldKey", jwk_of(k_ec256));
    char *kp = print(kpl);
    char *kb = sign_h(k_ec384, hdr(NULL, KEYCHANGE, OLD_KID, k_ec384), kp);
    o = cJSON_Parse(kb);
    free(kb);
    free(kp);
    cJSON_Delete(kpl);
    ASSERT_PROBLEM(KC(o), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    /* inner with a nonce */
    o = inner(k_ec384, k_ec384, KEYCHANGE, "nonce-x", false, OLD_KID, k_ec256);
    ASSERT_PROBLEM(KC(o), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    /* url mismatch */
    o = inner(k_ec384, k_ec384, KEYCHANGE "/", NULL, false, OLD_KID, k_ec256);
    ASSERT_PROBLEM(KC(o), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    /* account mismatch */
    o = inner(k_ec384, k_ec384, KEYCHANGE, NULL, false, PREFIX "4", k_ec256);
    ASSERT_PROBLEM(KC(o), ACME_P_UNAUTHORIZED, 403);
    cJSON_Delete(o);
    /* oldKey mismatch */
    o = inner(k_ec384, k_ec384, KEYCHANGE, NULL, false, OLD_KID, k_ec256b);
    ASSERT_PROBLEM(KC(o), ACME_P_UNAUTHORIZED, 403);
    cJSON_Delete(o);
    /* bad inner signature: jwk says P-384 key A, signed by another key of the same kind */
    EVP_PKEY *other = NULL;
    ck_assert_int_eq(key_generate(KEY_EC_P384, &other), MC_OK);
    o = inner(other, k_ec384, KEYCHANGE, NULL, false, OLD_KID, k_ec256);
    ASSERT_PROBLEM(KC(o), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    EVP_PKEY_free(other);
    /* signed by the old key (alg does not fit the new jwk) */
    o = inner(k_ec256, k_rsa, KEYCHANGE, NULL, false, OLD_KID, k_ec256);
    ASSERT_PROBLEM(KC(o), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    /* unsupported new key: RSA 1024 */
    cJSON *h = hdr_alg("RS256", NULL, KEYCHANGE, NULL, NULL);
    cJSON_AddItemToObject(h, "jwk", rsa_jwk_any(k_rsa1024));
    char *body = raw_jws(h, "{}", k_rsa, JOSE_ALG_RS256);
    o = cJSON_Parse(body);
    free(body);
    ASSERT_PROBLEM(KC(o), ACME_P_BAD_PUBLIC_KEY, 400);
    cJSON_Delete(o);
    /* not a JWS; a payload without oldKey */
    o = cJSON_CreateArray();
    ASSERT_PROBLEM(KC(o), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    body = sign_h(k_ec384, hdr(NULL, KEYCHANGE, NULL, k_ec384), "{\"account\":\"" OLD_KID "\"}");
    o = cJSON_Parse(body);
    free(body);
    ASSERT_PROBLEM(KC(o), ACME_P_MALFORMED, 400);
    cJSON_Delete(o);
    ck_assert_ptr_null(nk);
    /* one step better: all of it right */
    o = inner(k_ec384, k_ec384, KEYCHANGE, NULL, false, OLD_KID, k_ec256);
    ASSERT_OK(KC(o));
    ck_assert(jwk_equal(nk, k_ec384));
    EVP_PKEY_free(nk);
    cJSON_Delete(o);
#undef KC
}
END_TEST

static Suite *request_suite(void)
{
    Suite *s = suite_create("acme_request");
    TCase *tc = tcase_create("checks");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_content_type);
    tcase_add_test(tc, test_body_cap);
    tcase_add_test(tc, test_structure);
    tcase_add_test(tc, test_alg);
    tcase_add_test(tc, test_nonce);
    tcase_add_test(tc, test_url);
    tcase_add_test(tc, test_auth_kind);
    tcase_add_test(tc, test_jwk_key);
    tcase_add_test(tc, test_kid_account);
    tcase_add_test(tc, test_alg_key_fit);
    tcase_add_test(tc, test_signature);
    tcase_add_test(tc, test_payload);
    suite_add_tcase(s, tc);

    tc = tcase_create("happy");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_happy_kid);
    tcase_add_test(tc, test_happy_jwk);
    tcase_add_test(tc, test_happy_either);
    suite_add_tcase(s, tc);

    tc = tcase_create("eab");
    tcase_add_test(tc, test_eab_valid);
    tcase_add_test(tc, test_eab_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("keychange");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_keychange_valid);
    tcase_add_test(tc, test_keychange_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (key_generate(KEY_EC_P256, &k_ec256) != MC_OK ||
        key_generate(KEY_EC_P384, &k_ec384) != MC_OK ||
        key_generate(KEY_RSA2048, &k_rsa) != MC_OK || key_generate(KEY_ED25519, &k_ed) != MC_OK ||
        key_generate(KEY_EC_P256, &k_ec256b) != MC_OK) {
        fprintf(stderr, "key generation failed\n");
        return EXIT_FAILURE;
    }
    /* Under the 2048-bit floor, so key_generate will not make it. */
    k_rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    if (k_rsa1024 == NULL) {
        fprintf(stderr, "RSA 1024 generation failed\n");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(request_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    EVP_PKEY_free(k_ec256);
    EVP_PKEY_free(k_ec384);
    EVP_PKEY_free(k_rsa);
    EVP_PKEY_free(k_ed);
    EVP_PKEY_free(k_ec256b);
    EVP_PKEY_free(k_rsa1024);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
