/* mockca/acme/request.c: the signed-request chokepoint (RFC 8555 sections 6.2 to 6.5) and
 * the two inner JWSs, External Account Binding (section 7.3.4) and keyChange (section
 * 7.3.5). The numbered checks in request.h run in that order; each refusal names its type
 * and status once, here.
 *
 * Where Pebble (wfe/wfe.go) answers differently, we follow request.h and say so:
 *   - Pebble checks the signature before the nonce and sends badNonce for a missing
 *     nonce; we redeem the nonce first (check 5) and call a missing one malformed (check
 *     3: RFC 8555 section 6.2 makes it a required member of the protected header).
 *   - Pebble sends malformed for a url mismatch; RFC 8555 section 6.4 says unauthorized.
 *   - Pebble sends malformed for a kid without the account prefix; we send
 *     accountDoesNotExist, as for any kid that names no account.
 *   - Pebble sends badPublicKey for an EAB alg that is not HS* and for an EAB payload key
 *     that differs from the account key; we send malformed, as request.h says.
 *   - Pebble sends malformed for a keyChange account or oldKey mismatch; we send
 *     unauthorized. Pebble does not refuse a nonce in the inner keyChange JWS; RFC 8555
 *     section 7.3.5 says the inner JWS MUST omit it, so we do. */
#include "mockca/acme/request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/b64url.h"
#include "common/json.h"
#include "mockca/cconf.h"

#define ACME_JOSE_CONTENT_TYPE "application/jose+json"

static void error_clear(struct acme_error *err)
{
    err->type = ACME_P_NONE;
    err->status = 0;
    err->detail[0] = '\0';
}

void acme_signed_free(struct acme_signed *s)
{
    if (s == NULL)
        return;
    jws_free(s->jws);
    EVP_PKEY_free(s->key);
    cJSON_Delete(s->payload);
    memset(s, 0, sizeof(*s));
}

/* Check 1. RFC 8555 section 6.2 names the media type application/jose+json. We compare it
 * the way HTTP defines media types (RFC 9110 section 8.3.1): type and subtype are
 * case-insensitive, whitespace around them is allowed, and parameters (";charset=utf-8")
 * do not change the type, so we ignore them. Pebble compares the whole header byte for
 * byte; a client that sends "application/jose+json; charset=utf-8" is still sending the
 * right type, and a mock CA that refuses it would fail a correct client. */
static bool content_type_ok(const char *ct)
{
    static const char want[] = ACME_JOSE_CONTENT_TYPE;
    size_t n;

    if (ct == NULL)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == sizeof(want) - 1 && strncasecmp(ct, want, n) == 0;
}

/* The shape check 3 asks of a protected header: nonce and url strings, and exactly one of
 * jwk (an object) and kid (a string). ACME_P_NONE or malformed. */
static enum acme_problem header_shape(const cJSON *prot, struct acme_error *err)
{
    const cJSON *jwk = cJSON_GetObjectItemCaseSensitive(prot, "jwk");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(prot, "kid");
    const char *s = NULL;

    if (json_get_string(prot, "nonce", &s) != MC_OK)
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "JWS protected header: \"nonce\" must be a string");
    if (json_get_string(prot, "url", &s) != MC_OK)
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "JWS protected header: \"url\" must be a string");
    if (jwk != NULL && kid != NULL)
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "JWS protected header: \"jwk\" and \"kid\" are mutually exclusive");
    if (jwk == NULL && kid == NULL)
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "JWS protected header: one of \"jwk\" and \"kid\" is required");
    if (jwk != NULL && !cJSON_IsObject(jwk))
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "JWS protected header: \"jwk\" must be an object");
    if (kid != NULL && !cJSON_IsString(kid))
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "JWS protected header: \"kid\" must be a string");
    return ACME_P_NONE;
}

/* jws_parse answers MC_ERR_UNSUPPORTED for an unknown alg (or "none") and for "crit"
 * without handing back the header. Check 3 comes before check 4, so a header that is
 * also misshapen must still be malformed: decode it again here and tell the cases apart.
 * Every step already succeeded inside jws_parse, so only allocation can fail anew. */
static enum acme_problem unsupported_header(const char *body, size_t len, size_t cap,
                                            struct acme_error *err)
{
    cJSON *root = NULL, *prot = NULL;
    uint8_t *hdr = NULL;
    size_t hdrlen = 0;
    const char *b64 = NULL, *alg = NULL;
    enum acme_problem p;

    if (json_parse(body, len, cap, JSON_DEFAULT_MAX_DEPTH, &root) != MC_OK ||
        json_get_string(root, "protected", &b64) != MC_OK ||
        b64url_decode(b64, strlen(b64), &hdr, &hdrlen) != MC_OK ||
        json_parse((const char *)hdr, hdrlen, cap, JSON_DEFAULT_MAX_DEPTH, &prot) != MC_OK ||
        !cJSON_IsObject(prot)) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "cannot re-read the JWS header");
        goto out;
    }
    /* RFC 7515 section 4.1.11: we understand no extension, so "crit" is a bad request. */
    if (cJSON_GetObjectItemCaseSensitive(prot, "crit") != NULL) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "JWS protected header: \"crit\" names no extension we implement");
        goto out;
    }
    p = header_shape(prot, err);
    if (p != ACME_P_NONE)
        goto out;
    if (json_get_string(prot, "alg", &alg) != MC_OK)
        alg = "";
    p = acme_error_set(err, ACME_P_BAD_SIGNATURE_ALGORITHM, 0, "JWS alg \"%.32s\" is not supported",
                       alg);
out:
    cJSON_Delete(prot);
    free(hdr);
    cJSON_Delete(root);
    return p;
}

/* Check 8 for kid: kid must be prefix followed by an id that is not empty, holds no '/'
 * and fits ACME_ACCOUNT_ID_MAX. True with the id copied into id. */
static bool kid_account_id(const char *prefix, const char *kid, char id[ACME_ACCOUNT_ID_MAX])
{
    size_t plen = prefix != NULL ? strlen(prefix) : 0;
    size_t n;

    if (strncmp(kid, prefix != NULL ? prefix : "", plen) != 0)
        return false;
    kid += plen;
    n = strlen(kid);
    if (n == 0 || n >= ACME_ACCOUNT_ID_MAX || strchr(kid, '/') != NULL)
        return false;
    memcpy(id, kid, n + 1);
    return true;
}

enum acme_problem acme_check_request(const struct acme_check_config *cfg,
                                     const struct acme_check_input *in, struct acme_signed *out,
                                     struct acme_error *err)
{
    struct jws *jws = NULL;
    EVP_PKEY *key = NULL;
    cJSON *payload = NULL;
    struct acme_account_view view = {0};
    char id[ACME_ACCOUNT_ID_MAX] = "";
    const char *nonce = NULL, *url = NULL, *kid = NULL;
    const cJSON *jwk = NULL;
    size_t cap;
    unsigned algs;
    enum acme_problem p;
    enum mc_err e;

    error_clear(err);
    memset(out, 0, sizeof(*out));
    if (cfg == NULL || in == NULL || cfg->redeem_nonce == NULL || cfg->find_account == NULL)
        return acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "request check misconfigured");
    cap = cfg->max_body != 0 ? cfg->max_body : ACME_DEFAULT_MAX_BODY;
    algs = cfg->algs != 0 ? cfg->algs : ACME_DEFAULT_ALGS;

    /* 1. Section 6.2: 415 for any other media type. Each check below also reports to the
     * client-conformance grader (cconf.h), which is a no-op when cfg->grader is NULL. */
    cconf_grade(cfg->grader, CCONF_CONTENT_TYPE, content_type_ok(in->content_type),
                "Content-Type \"%.64s\" is not application/jose+json",
                in->content_type != NULL ? in->content_type : "(none)");
    if (!content_type_ok(in->content_type))
        return acme_error_set(err, ACME_P_MALFORMED, 415,
                              "Content-Type must be \"" ACME_JOSE_CONTENT_TYPE "\", not \"%.64s\"",
                              in->content_type != NULL ? in->content_type : "");

    /* 2. The body cap: 413 before a byte of it is parsed. */
    if (in->body_len > cap)
        return acme_error_set(err, ACME_P_MALFORMED, 413, "body of %zu bytes is over the %zu cap",
                              in->body_len, cap);

    /* 3. A flattened JWS with a well-formed protected header (section 6.2). */
    e = jws_parse(in->body != NULL ? (const char *)in->body : "", in->body_len, &jws);
    if (e == MC_ERR_UNSUPPORTED)
        return unsupported_header(in->body != NULL ? (const char *)in->body : "", in->body_len, cap,
                                  err);
    if (e == MC_ERR_NOMEM)
        return acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
    if (e == MC_ERR_TOO_BIG)
        return acme_error_set(err, ACME_P_MALFORMED, 413, "JWS over its cap");
    if (e != MC_OK)
        return acme_error_set(err, ACME_P_MALFORMED, 0,
                              "body is not a flattened JWS with only protected, payload and "
                              "signature (section 6.2)");
    p = header_shape(jws->protected, err);
    if (p != ACME_P_NONE)
        goto out;
    /* header_shape vouched for the types; these cannot fail now. */
    if (json_get_string(jws->protected, "nonce", &nonce) != MC_OK ||
        json_get_string(jws->protected, "url", &url) != MC_OK) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "header changed under us");
        goto out;
    }
    jwk = cJSON_GetObjectItemCaseSensitive(jws->protected, "jwk");
    if (jwk == NULL && json_get_string(jws->protected, "kid", &kid) != MC_OK) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "header changed under us");
        goto out;
    }
    cconf_signer(cfg->grader, kid, jws->payload_len > 0);

    /* 4. Section 6.2: no "none", no MAC algorithm, only what the server offers. */
    cconf_grade(cfg->grader, CCONF_JWS_ALG, !jose_alg_is_hmac(jws->alg),
                "JWS alg %s is a MAC; MACs belong only inside externalAccountBinding",
                jose_alg_name(jws->alg));
    if (jose_alg_is_hmac(jws->alg) || (algs & (1u << jws->alg)) == 0) {
        p = acme_error_set(err, ACME_P_BAD_SIGNATURE_ALGORITHM, 0, "JWS alg %s is not accepted",
                           jose_alg_name(jws->alg));
        goto out;
    }

    /* 5. Section 6.5: the nonce is spent here, whatever happens after, so that a request
     * that fails a later check cannot be replayed with the same nonce. */
    if (!cfg->redeem_nonce(cfg->ctx, nonce)) {
        cconf_nonce(cfg->grader, nonce, false);
        p = acme_error_set(err, ACME_P_BAD_NONCE, 0, "JWS has an invalid anti-replay nonce");
        goto out;
    }
    cconf_nonce(cfg->grader, nonce, true);

    /* 6. Section 6.4: the url the client signed must be the one it sent to; exact string
     * equality, as the section asks, so no normalization that could make two differ. */
    cconf_grade(cfg->grader, CCONF_URL, in->url != NULL && strcmp(url, in->url) == 0,
                "JWS url \"%.200s\" is not the request URL \"%.200s\"", url,
                in->url != NULL ? in->url : "");
    if (in->url == NULL || strcmp(url, in->url) != 0) {
        p = acme_error_set(err, ACME_P_UNAUTHORIZED, 0, "JWS url \"%.200s\" is not the request URL",
                           url);
        goto out;
    }

    /* 7. Section 6.2: newAccount (and revokeCert by certificate key) take jwk; every
     * other endpoint takes kid. */
    if (in->auth == ACME_AUTH_KID)
        cconf_grade(cfg->grader, CCONF_JWS_KID, jwk == NULL,
                    "signed with jwk where the account's kid is required");
    if (in->auth == ACME_AUTH_JWK)
        cconf_grade(cfg->grader, CCONF_JWS_JWK, kid == NULL,
                    "signed with kid \"%.200s\" where jwk is required", kid != NULL ? kid : "");
    if (jwk != NULL && in->auth == ACME_AUTH_KID) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "this endpoint takes \"kid\", not \"jwk\"");
        goto out;
    }
    if (kid != NULL && in->auth == ACME_AUTH_JWK) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "this endpoint takes \"jwk\", not \"kid\"");
        goto out;
    }

    /* 8. The key: imported from jwk, or the account's key through kid (section 6.2). */
    if (jwk != NULL) {
        e = jwk_from_json(jwk, &key);
        if (e == MC_ERR_NOMEM) {
            p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
            goto out;
        }
        if (e != MC_OK) {
            p = acme_error_set(err, ACME_P_BAD_PUBLIC_KEY, 0, "JWK is not a supported key: %s",
                               mc_strerror(e));
            goto out;
        }
    } else {
        if (!kid_account_id(cfg->account_url_prefix, kid, id) ||
            !cfg->find_account(cfg->ctx, id, &view)) {
            p = acme_error_set(err, ACME_P_ACCOUNT_DOES_NOT_EXIST, 0, "no account \"%.200s\"", kid);
            goto out;
        }
        key = view.key;
        view.key = NULL;
        if (key == NULL) {
            p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "account has no key");
            goto out;
        }
        /* Section 7.3.6: a deactivated account's requests are refused. */
        cconf_grade(cfg->grader, CCONF_ACCT_DEACTIVATED, view.valid,
                    "request signed by account %s, which is no longer valid (deactivated)", id);
        if (!view.valid) {
            p = acme_error_set(err, ACME_P_UNAUTHORIZED, 0, "account %s is not valid", id);
            goto out;
        }
    }

    /* 9. The alg must be the one that fits the key (ES256 with P-256 and so on). */
    if (jose_alg_check_key(jws->alg, key) != MC_OK) {
        p = acme_error_set(err, ACME_P_BAD_SIGNATURE_ALGORITHM, 0,
                           "JWS alg %s does not fit the key", jose_alg_name(jws->alg));
        goto out;
    }

    /* 10. The signature. */
    e = jws_verify(jws, key);
    if (e == MC_ERR_NOMEM) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (e != MC_OK) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "JWS signature does not verify");
        goto out;
    }

    /* 11. Section 6.3: POST-as-GET has the empty payload; every other POST a JSON object.
     * ACME_PAYLOAD_ANY takes either. */
    if (in->payload == ACME_PAYLOAD_EMPTY)
        cconf_grade(cfg->grader, CCONF_PAG_EMPTY, jws->payload_len == 0,
                    "POST-as-GET with a %zu-byte payload instead of \"\"", jws->payload_len);
    if (jws->payload_len == 0 && in->payload != ACME_PAYLOAD_OBJECT) {
        payload = NULL;
    } else if (in->payload == ACME_PAYLOAD_EMPTY) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "POST-as-GET requests must have an empty payload");
        goto out;
    } else {
        e = json_parse((const char *)jws->payload, jws->payload_len, cap, JSON_DEFAULT_MAX_DEPTH,
                       &payload);
        if (e == MC_ERR_NOMEM) {
            p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
            goto out;
        }
        if (e != MC_OK || !cJSON_IsObject(payload)) {
            p = acme_error_set(err, ACME_P_MALFORMED, 0, "JWS payload must be a JSON object");
            goto out;
        }
    }

    /* Polling (the grader's check, RFC 8555 section 7.5.1): a verified POST-as-GET of an
     * account that the last answer for this URL asked to wait. Only strict mode refuses. */
    if (kid != NULL && jws->payload_len == 0) {
        p = cconf_poll(cfg->grader, kid, in->url, err);
        if (p != ACME_P_NONE)
            goto out;
    }

    out->jws = jws;
    out->key = key;
    out->by_kid = kid != NULL;
    memcpy(out->account_id, id, sizeof(out->account_id));
    out->payload = payload;
    jws = NULL;
    key = NULL;
    payload = NULL;
    p = ACME_P_NONE;
out:
    EVP_PKEY_free(view.key);
    cJSON_Delete(payload);
    EVP_PKEY_free(key);
    jws_free(jws);
    return p;
}

/* Parses an inner JWS given as a cJSON object (the EAB member, the keyChange payload) by
 * printing it and handing the text to jws_parse: the signing input comes from the
 * base64url strings, which printing leaves as they were. what names it in details. */
static enum acme_problem inner_parse(const cJSON *obj, const char *what, struct jws **out,
                                     struct acme_error *err)
{
    char *text = NULL;
    enum acme_problem p = ACME_P_NONE;
    enum mc_err e;

    *out = NULL;
    if (!cJSON_IsObject(obj))
        return acme_error_set(err, ACME_P_MALFORMED, 0, "%s must be a flattened JWS object", what);
    e = json_print(obj, &text);
    if (e != MC_OK)
        return acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
    e = jws_parse(text, strlen(text), out);
    if (e == MC_ERR_NOMEM)
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
    else if (e == MC_ERR_UNSUPPORTED)
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "%s: unsupported alg or \"crit\"", what);
    else if (e != MC_OK)
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "%s is not a flattened JWS with only protected, payload and "
                           "signature",
                           what);
    free(text);
    return p;
}

enum acme_problem acme_check_eab(const cJSON *eab, const char *outer_url, EVP_PKEY *account_key,
                                 bool (*find_mac_key)(void *ctx, const char *kid, uint8_t **key,
                                                      size_t *keylen),
                                 void *ctx, char *kid_out, size_t kid_n, struct acme_error *err)
{
    struct jws *jws = NULL;
    uint8_t *mac = NULL;
    size_t maclen = 0;
    cJSON *payload = NULL;
    EVP_PKEY *pkey = NULL;
    const char *kid = NULL, *url = NULL;
    enum acme_problem p;
    enum mc_err e;

    error_clear(err);
    if (outer_url == NULL || account_key == NULL || find_mac_key == NULL || kid_out == NULL ||
        kid_n == 0)
        return acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "EAB check misconfigured");
    kid_out[0] = '\0';

    /* Section 7.3.4 step 1: a well-formed JWS. */
    p = inner_parse(eab, "externalAccountBinding", &jws, err);
    if (p != ACME_P_NONE)
        goto out;
    /* Step 2: the protected header. */
    if (!jose_alg_is_hmac(jws->alg)) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "externalAccountBinding alg must be HS256, HS384 or HS512, not %s",
                           jose_alg_name(jws->alg));
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(jws->protected, "nonce") != NULL) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "externalAccountBinding must not carry a nonce");
        goto out;
    }
    if (json_get_string(jws->protected, "kid", &kid) != MC_OK || kid[0] == '\0') {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "externalAccountBinding needs a \"kid\" string");
        goto out;
    }
    if (json_get_string(jws->protected, "url", &url) != MC_OK || strcmp(url, outer_url) != 0) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "externalAccountBinding url must equal the outer JWS url");
        goto out;
    }
    if (strlen(kid) >= kid_n) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "externalAccountBinding kid too long");
        goto out;
    }
    /* Steps 3 and 4: the MAC key for kid, and the MAC. */
    if (!find_mac_key(ctx, kid, &mac, &maclen) || mac == NULL) {
        p = acme_error_set(err, ACME_P_UNAUTHORIZED, 0,
                           "externalAccountBinding kid \"%.64s\" is not known", kid);
        goto out;
    }
    e = jws_verify_hmac(jws, mac, maclen);
    if (e == MC_ERR_NOMEM) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (e != MC_OK) {
        p = acme_error_set(err, ACME_P_UNAUTHORIZED, 0,
                           "externalAccountBinding MAC does not verify");
        goto out;
    }
    /* Step 5: the payload is the account key, compared as keys (members may be ordered
     * or spelled differently, the key is the same). */
    e = json_parse((const char *)jws->payload, jws->payload_len, JSON_DEFAULT_MAX_LEN,
                   JSON_DEFAULT_MAX_DEPTH, &payload);
    if (e == MC_OK)
        e = jwk_from_json(payload, &pkey);
    if (e == MC_ERR_NOMEM) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (e != MC_OK) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "externalAccountBinding payload is not a public JWK");
        goto out;
    }
    if (!jwk_equal(pkey, account_key)) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "externalAccountBinding payload is not the account key");
        goto out;
    }
    memcpy(kid_out, kid, strlen(kid) + 1);
    p = ACME_P_NONE;
out:
    if (mac != NULL)
        OPENSSL_cleanse(mac, maclen);
    free(mac);
    EVP_PKEY_free(pkey);
    cJSON_Delete(payload);
    jws_free(jws);
    return p;
}

enum acme_problem acme_check_keychange(const cJSON *inner, const char *outer_url,
                                       const char *outer_kid, EVP_PKEY *old_key, EVP_PKEY **new_key,
                                       struct acme_error *err)
{
    struct jws *jws = NULL;
    EVP_PKEY *key = NULL, *oldkey = NULL;
    cJSON *payload = NULL;
    const cJSON *jwk = NULL, *old_jwk = NULL;
    const char *url = NULL, *account = NULL;
    enum acme_problem p;
    enum mc_err e;

    error_clear(err);
    if (new_key == NULL)
        return acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "keyChange check misconfigured");
    *new_key = NULL;
    if (outer_url == NULL || outer_kid == NULL || old_key == NULL)
        return acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "keyChange check misconfigured");

    p = inner_parse(inner, "keyChange inner JWS", &jws, err);
    if (p != ACME_P_NONE)
        goto out;
    /* Section 7.3.5: the inner JWS carries the new key as jwk, omits the nonce and has
     * the outer url. */
    if (cJSON_GetObjectItemCaseSensitive(jws->protected, "kid") != NULL) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "keyChange inner JWS must use jwk, not kid");
        goto out;
    }
    jwk = cJSON_GetObjectItemCaseSensitive(jws->protected, "jwk");
    if (!cJSON_IsObject(jwk)) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "keyChange inner JWS needs a jwk object");
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(jws->protected, "nonce") != NULL) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "keyChange inner JWS must omit the nonce");
        goto out;
    }
    if (json_get_string(jws->protected, "url", &url) != MC_OK || strcmp(url, outer_url) != 0) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "keyChange inner url must equal the outer url");
        goto out;
    }
    if (jose_alg_is_hmac(jws->alg)) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "keyChange inner alg %s is a MAC",
                           jose_alg_name(jws->alg));
        goto out;
    }
    e = jwk_from_json(jwk, &key);
    if (e == MC_ERR_NOMEM) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (e != MC_OK) {
        p = acme_error_set(err, ACME_P_BAD_PUBLIC_KEY, 0, "new key is not supported: %s",
                           mc_strerror(e));
        goto out;
    }
    /* jws_verify also refuses an alg that does not fit the new key. */
    e = jws_verify(jws, key);
    if (e == MC_ERR_NOMEM) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (e != MC_OK) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "keyChange inner signature does not verify with its jwk");
        goto out;
    }
    /* The key-change object: {"account": the outer kid, "oldKey": the current key}. */
    e = json_parse((const char *)jws->payload, jws->payload_len, JSON_DEFAULT_MAX_LEN,
                   JSON_DEFAULT_MAX_DEPTH, &payload);
    if (e == MC_ERR_NOMEM) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (e != MC_OK || !cJSON_IsObject(payload) ||
        json_get_string(payload, "account", &account) != MC_OK ||
        json_get_object(payload, "oldKey", &old_jwk) != MC_OK) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0,
                           "keyChange inner payload must be {\"account\": string, "
                           "\"oldKey\": JWK}");
        goto out;
    }
    if (strcmp(account, outer_kid) != 0) {
        p = acme_error_set(err, ACME_P_UNAUTHORIZED, 0,
                           "keyChange account is not the account that signed the request");
        goto out;
    }
    e = jwk_from_json(old_jwk, &oldkey);
    if (e == MC_ERR_NOMEM) {
        p = acme_error_set(err, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (e != MC_OK) {
        p = acme_error_set(err, ACME_P_MALFORMED, 0, "keyChange oldKey is not a public JWK");
        goto out;
    }
    if (!jwk_equal(oldkey, old_key)) {
        p = acme_error_set(err, ACME_P_UNAUTHORIZED, 0,
                           "keyChange oldKey is not the account's current key");
        goto out;
    }
    *new_key = key;
    key = NULL;
    p = ACME_P_NONE;
out:
    EVP_PKEY_free(oldkey);
    EVP_PKEY_free(key);
    cJSON_Delete(payload);
    jws_free(jws);
    return p;
}
